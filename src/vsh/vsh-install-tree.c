/* Install trees: where the distributions keep the installer's kernel and
 * initrd, in a directory or inside an ISO, and --initrd-inject.
 *
 * virt-install knows these layouts from its per-distribution "urldetect"
 * classes; a table is enough here because we only need the two files. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/vd-error.h"
#include "vsh-install.h"

/* In order of preference; the first whose two files exist wins. */
const char *const vsh_install_tree_layouts[][2] = {
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

static char *
looked_list(const char *where)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; vsh_install_tree_layouts[i][0]; i++)
        g_string_append_printf(s, "\n  %s/%s + %s", where, vsh_install_tree_layouts[i][0],
                               vsh_install_tree_layouts[i][1]);
    return g_string_free(s, FALSE);
}

gboolean
vsh_install_tree_find_dir(const char *dir, char **kernel, char **initrd, GError **error)
{
    g_autofree char *looked = NULL;

    for (guint i = 0; vsh_install_tree_layouts[i][0]; i++) {
        g_autofree char *k = g_build_filename(dir, vsh_install_tree_layouts[i][0], NULL);
        g_autofree char *r = g_build_filename(dir, vsh_install_tree_layouts[i][1], NULL);

        if (g_file_test(k, G_FILE_TEST_IS_REGULAR) && g_file_test(r, G_FILE_TEST_IS_REGULAR)) {
            *kernel = g_steal_pointer(&k);
            *initrd = g_steal_pointer(&r);
            return TRUE;
        }
    }
    looked = looked_list(dir);
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                "Could not find an installable distribution at '%s': no kernel and initrd in "
                "any known layout. Looked for:%s",
                dir, looked);
    return FALSE;
}

/* ---- ISO images ---- */

/* An entry's path without "./" or "/" in front, as the table spells it.
 * Rock Ridge and Joliet names are what libarchive reports; plain ISO9660
 * names may be upper case, so matching ignores case. */
static const char *
entry_rel(struct archive_entry *e)
{
    const char *p = archive_entry_pathname(e);

    while (p && (g_str_has_prefix(p, "./") || *p == '/'))
        p += *p == '/' ? 1 : 2;
    return p ? p : "";
}

static struct archive *
iso_open(const char *iso, GError **error)
{
    struct archive *a = archive_read_new();

    archive_read_support_format_iso9660(a);
    if (archive_read_open_filename(a, iso, 64 * 1024) != ARCHIVE_OK) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "cannot read ISO image '%s': %s", iso,
                    archive_error_string(a) ? archive_error_string(a) : "unknown error");
        archive_read_free(a);
        return NULL;
    }
    return a;
}

/* First pass: which table paths does the ISO hold? @found[i] bit 0 for the
 * kernel, bit 1 for the initrd of layout i. */
static gboolean
iso_scan(const char *iso, guint *found, GError **error)
{
    struct archive *a = iso_open(iso, error);
    struct archive_entry *e;
    int r;

    if (!a)
        return FALSE;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *rel = entry_rel(e);

        for (guint i = 0; vsh_install_tree_layouts[i][0]; i++) {
            for (guint j = 0; j < 2; j++) {
                if (g_ascii_strcasecmp(rel, vsh_install_tree_layouts[i][j]) == 0)
                    found[i] |= 1u << j;
            }
        }
    }
    if (r != ARCHIVE_EOF) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "cannot read ISO image '%s': %s", iso,
                    archive_error_string(a) ? archive_error_string(a) : "unknown error");
        archive_read_free(a);
        return FALSE;
    }
    archive_read_free(a);
    return TRUE;
}

static gboolean
copy_entry(struct archive *a, const char *iso, const char *rel, const char *dest, GError **error)
{
    int fd = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int r;

    if (fd < 0) {
        int saved = errno;

        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "cannot create '%s': %s", dest,
                    g_strerror(saved));
        return FALSE;
    }
    r = archive_read_data_into_fd(a, fd);
    if (r != ARCHIVE_OK || fsync(fd) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "cannot copy '%s' out of '%s' into '%s': %s", rel, iso, dest,
                    r != ARCHIVE_OK ? archive_error_string(a) : g_strerror(errno));
        close(fd);
        return FALSE;
    }
    close(fd);
    return TRUE;
}

gboolean
vsh_install_tree_extract_iso(const char *iso, const char *stage_dir, char **kernel,
                             char **initrd, GError **error)
{
    guint n = 0;
    int layout = -1;
    g_autofree guint *found = NULL;
    g_autofree char *k = g_build_filename(stage_dir, "vmlinuz", NULL);
    g_autofree char *i = g_build_filename(stage_dir, "initrd", NULL);
    struct archive *a;
    struct archive_entry *e;
    guint copied = 0;

    while (vsh_install_tree_layouts[n][0])
        n++;
    found = g_new0(guint, n);
    if (!iso_scan(iso, found, error))
        return FALSE;
    for (guint l = 0; l < n && layout < 0; l++) {
        if (found[l] == 3)
            layout = (int)l;
    }
    if (layout < 0) {
        g_autofree char *looked = looked_list(iso);

        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Could not find an installable distribution in ISO '%s': no kernel and "
                    "initrd in any known layout. Looked for:%s",
                    iso, looked);
        return FALSE;
    }

    if (!(a = iso_open(iso, error)))
        return FALSE;
    while (copied != 3 && archive_read_next_header(a, &e) == ARCHIVE_OK) {
        const char *rel = entry_rel(e);

        for (guint j = 0; j < 2; j++) {
            if (!(copied & (1u << j)) &&
                g_ascii_strcasecmp(rel, vsh_install_tree_layouts[layout][j]) == 0) {
                if (!copy_entry(a, iso, rel, j == 0 ? k : i, error)) {
                    archive_read_free(a);
                    return FALSE;
                }
                copied |= 1u << j;
                break;
            }
        }
    }
    archive_read_free(a);
    if (copied != 3) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "ISO '%s' changed while it was read: '%s' or '%s' went missing", iso,
                    vsh_install_tree_layouts[layout][0], vsh_install_tree_layouts[layout][1]);
        return FALSE;
    }
    *kernel = g_steal_pointer(&k);
    *initrd = g_steal_pointer(&i);
    return TRUE;
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
vsh_install_initrd_inject(const char *initrd, const char *const *files, GError **error)
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
