/* Install trees: where the distributions keep the installer's kernel and
 * initrd in a directory, and --initrd-inject. Inside an ISO:
 * vd-install-iso.c (libarchive; the daemon runs it in virtd-install-media).
 *
 * virt-install knows these layouts from its per-distribution "urldetect"
 * classes; a table is enough here because we only need the two files. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/vd-error.h"
#include "image/vd-install-tree.h"

/* In order of preference; the first whose two files exist wins. */
const char *const vd_install_tree_layouts[][2] = {
    /* Debian netboot tree (also the root of debian-installer-*-netboot-*) */
    {"debian-installer/amd64/linux", "debian-installer/amd64/initrd.gz"},
    /* Debian mirror tree: dists/bookworm/main/installer-amd64/current/images */
    {"netboot/debian-installer/amd64/linux", "netboot/debian-installer/amd64/initrd.gz"},
    /* Debian ISO */
    {"install.amd/vmlinuz", "install.amd/initrd.gz"},
    /* Ubuntu live server ISO */
    {"casper/vmlinuz", "casper/initrd"},
    /* Fedora, CentOS (Stream), RHEL, Rocky, Alma: ISO and mirror tree */
    {"images/pxeboot/vmlinuz", "images/pxeboot/initrd.img"},
    /* Older Ubuntu alternate and CentOS ISOs */
    {"install/vmlinuz", "install/initrd.gz"},
    {"isolinux/vmlinuz", "isolinux/initrd.img"},
    /* A directory holding just the two (debian-installer/amd64 itself) */
    {"linux", "initrd.gz"},
    {NULL, NULL},
};

char *
vd_install_tree_looked_list(const char *where)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; vd_install_tree_layouts[i][0]; i++)
        g_string_append_printf(s, "\n  %s/%s + %s", where, vd_install_tree_layouts[i][0],
                               vd_install_tree_layouts[i][1]);
    return g_string_free(s, FALSE);
}

gboolean
vd_install_tree_find_dir(const char *dir, char **kernel, char **initrd, GError **error)
{
    g_autofree char *looked = NULL;

    for (guint i = 0; vd_install_tree_layouts[i][0]; i++) {
        g_autofree char *k = g_build_filename(dir, vd_install_tree_layouts[i][0], NULL);
        g_autofree char *r = g_build_filename(dir, vd_install_tree_layouts[i][1], NULL);

        if (g_file_test(k, G_FILE_TEST_IS_REGULAR) && g_file_test(r, G_FILE_TEST_IS_REGULAR)) {
            *kernel = g_steal_pointer(&k);
            *initrd = g_steal_pointer(&r);
            return TRUE;
        }
    }
    looked = vd_install_tree_looked_list(dir);
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                "Could not find an installable distribution at '%s': no kernel and initrd in "
                "any known layout. Looked for:%s",
                dir, looked);
    return FALSE;
}

/* ---- --initrd-inject ---- */

static void
cpio_pad(GByteArray *out)
{
    static const guint8 zeros[4] = {0};

    if (out->len % 4)
        g_byte_array_append(out, zeros, 4 - out->len % 4);
}

/* One newc ("070701") entry: 13 eight-digit hex fields, the name with its
 * NUL, then the data, each padded to 4 bytes. */
static void
cpio_entry(GByteArray *out, const char *name, guint mode, const guint8 *data, gsize len,
           guint ino)
{
    g_autofree char *hdr = g_strdup_printf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X"
                                           "%08X%08X",
                                           ino, mode, 0u, 0u, 1u, 0u, (guint)len, 0u, 0u, 0u, 0u,
                                           (guint)strlen(name) + 1, 0u);

    g_byte_array_append(out, (const guint8 *)hdr, (guint)strlen(hdr));
    g_byte_array_append(out, (const guint8 *)name, (guint)strlen(name) + 1);
    cpio_pad(out);
    if (len)
        g_byte_array_append(out, data, (guint)len);
    cpio_pad(out);
}

gboolean
vd_install_initrd_inject(const char *initrd, const char *const *files, GError **error)
{
    g_autoptr(GByteArray) cpio = g_byte_array_new();
    g_autoptr(GError) local = NULL;
    struct stat st;
    int fd;
    gsize pad;

    for (guint n = 0; files && files[n]; n++) {
        g_autofree char *data = NULL;
        g_autofree char *base = g_path_get_basename(files[n]);
        gsize len = 0;

        if (!g_file_get_contents(files[n], &data, &len, &local)) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "--initrd-inject: %s",
                        local->message);
            return FALSE;
        }
        cpio_entry(cpio, base, 0100644, (const guint8 *)data, len, 700 + n);
    }
    cpio_entry(cpio, "TRAILER!!!", 0, NULL, 0, 0);

    fd = open(initrd, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        int saved = errno;

        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "cannot append to '%s': %s",
                    initrd, g_strerror(saved));
        if (fd >= 0)
            close(fd);
        return FALSE;
    }
    /* The kernel looks for an uncompressed archive only at a 4-byte
     * boundary, skipping zeros between archives. */
    pad = (gsize)((4 - st.st_size % 4) % 4);
    if ((pad && write(fd, "\0\0\0", pad) != (ssize_t)pad) ||
        write(fd, cpio->data, cpio->len) != (ssize_t)cpio->len || fsync(fd) < 0) {
        int saved = errno;

        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "cannot append to '%s': %s",
                    initrd, g_strerror(saved));
        close(fd);
        return FALSE;
    }
    close(fd);
    return TRUE;
}
