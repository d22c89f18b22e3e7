/* The installer's kernel and initrd inside an ISO image, read with
 * libarchive. Kept out of libvdimage (a library of its own, libvdinstalliso)
 * so that the daemon never maps libarchive nor parses an untrusted image in
 * its own address space: it runs virtd-install-media (virtd-install-media.c)
 * instead; vsh, a client, links this directly. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/vd-error.h"
#include "image/vd-install-tree.h"

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

/* Where the image's bytes are: a file, or memory (the fuzz target,
 * fuzz/install-iso.c). @iso names it in messages either way. */
typedef struct {
    const char *iso;
    const void *data; /* NULL: read the file @iso */
    gsize len;
} IsoSource;

static struct archive *
iso_open(const IsoSource *src, GError **error)
{
    const char *iso = src->iso;
    struct archive *a = archive_read_new();
    int r;

    archive_read_support_format_iso9660(a);
    if (src->data)
        r = archive_read_open_memory(a, src->data, src->len);
    else
        r = archive_read_open_filename(a, iso, 64 * 1024);
    if (r != ARCHIVE_OK) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "cannot read ISO image '%s': %s", iso,
                    archive_error_string(a) ? archive_error_string(a) : "unknown error");
        archive_read_free(a);
        return NULL;
    }
    return a;
}

/* libarchive (3.6) reads the root directory a volume descriptor names in
 * one piece, allocating the size the descriptor claims (up to 4 GiB)
 * before it looks whether the image holds that much: a 70 KiB image made
 * it ask for 4 GiB at once (fuzz/corpus/install-iso/oom-root-size). The
 * directories and files below the root it checks against the volume size
 * the descriptor claims. So both claims are checked here first against
 * the image's real length, which bounds what the reader can ask for. */
#define ISO_SECTOR 2048
#define ISO_FIRST_DESCRIPTOR 16
#define ISO_MAX_DESCRIPTORS 64

/* Up to ISO_SECTOR bytes of the image at @offset into @buf: how many there
 * are (fewer past its end), or -1 with errno set. */
static gssize
iso_read_sector(const IsoSource *src, int fd, guint64 offset, guint8 *buf)
{
    if (src->data) {
        gsize n = offset < src->len ? MIN(src->len - offset, ISO_SECTOR) : 0;

        if (n)
            memcpy(buf, (const guint8 *)src->data + offset, n);
        return (gssize)n;
    }
    return pread(fd, buf, ISO_SECTOR, (off_t)offset);
}

/* The little-endian half of a both-endian field (ISO 9660 7.3.3, 7.2.3);
 * @p need not be aligned. */
static guint64
iso_le(const guint8 *p, guint bytes)
{
    guint64 v = 0;

    for (guint i = bytes; i > 0; i--)
        v = v << 8 | p[i - 1];
    return v;
}

/* NULL if the primary or supplementary descriptor @d claims no more than
 * the @len bytes the image has, else what it claims, for the message. */
static char *
iso_descriptor_overclaims(const guint8 *d, guint64 len)
{
    guint64 blocks = iso_le(d + 80, 4);
    guint64 block_size = iso_le(d + 128, 2);
    guint64 root_at = iso_le(d + 156 + 2, 4);
    guint64 root_size = iso_le(d + 156 + 10, 4);

    if (blocks * block_size > len)
        return g_strdup_printf("its volume descriptor claims %" G_GUINT64_FORMAT " bytes",
                               blocks * block_size);
    /* libarchive places the root in 2048-byte blocks whatever the
     * descriptor's block size */
    if (root_size > len || root_at * ISO_SECTOR + root_size > len)
        return g_strdup_printf("its root directory claims %" G_GUINT64_FORMAT
                               " bytes at offset %" G_GUINT64_FORMAT,
                               root_size, root_at * ISO_SECTOR);
    return NULL;
}

/* Refuses an image whose volume descriptors claim more bytes than it has
 * (see above). An image without descriptors is left to libarchive, which
 * refuses it with its own message. */
static gboolean
iso_check_sizes(const IsoSource *src, GError **error)
{
    const char *iso = src->iso;
    int fd = -1;
    guint64 len = src->len;
    guint8 d[ISO_SECTOR];
    g_autofree char *bad = NULL;

    if (!src->data) {
        struct stat st;

        fd = open(iso, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0) {
            int saved = errno;

            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "cannot read ISO image '%s': %s",
                        iso, g_strerror(saved));
            if (fd >= 0)
                close(fd);
            return FALSE;
        }
        len = (guint64)st.st_size;
    }
    for (guint i = 0; i < ISO_MAX_DESCRIPTORS && !bad; i++) {
        guint64 at = (guint64)(ISO_FIRST_DESCRIPTOR + i) * ISO_SECTOR;

        if (iso_read_sector(src, fd, at, d) != ISO_SECTOR || memcmp(d + 1, "CD001", 5) != 0 ||
            d[0] == 255)
            break;
        if (d[0] == 1 || d[0] == 2)
            bad = iso_descriptor_overclaims(d, len);
    }
    if (fd >= 0)
        close(fd);
    if (bad) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "cannot read ISO image '%s': %s but the image has %" G_GUINT64_FORMAT
                    " bytes: it is truncated or corrupt",
                    iso, bad, len);
        return FALSE;
    }
    return TRUE;
}

/* libarchive's ISO 9660 reader follows a directory that lists itself for
 * ever, returning the same entries again and again while its memory grows
 * (fuzz/install-iso.c: a 70 KiB image kept the locator busy for minutes,
 * past 1.5 GiB). So the scan refuses an image that lists a path twice, or
 * more entries than any install medium has. */
#define ISO_MAX_ENTRIES 200000

/* First pass: which table paths does the ISO hold? @found[i] bit 0 for the
 * kernel, bit 1 for the initrd of layout i. */
static gboolean
iso_scan(const IsoSource *src, guint *found, GError **error)
{
    const char *iso = src->iso;
    struct archive *a = iso_open(src, error);
    struct archive_entry *e;
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    int r;

    if (!a)
        return FALSE;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *rel = entry_rel(e);

        g_autofree char *bad = NULL;

        if (!g_hash_table_add(seen, g_strdup(rel)))
            bad = g_strdup_printf("it lists '%s' twice (a directory that contains itself: "
                                  "the image is corrupt)",
                                  rel);
        else if (g_hash_table_size(seen) > ISO_MAX_ENTRIES)
            bad = g_strdup_printf("it lists more than %d files, more than any install medium "
                                  "has",
                                  ISO_MAX_ENTRIES);
        if (bad) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "cannot read ISO image '%s': %s",
                        iso, bad);
            archive_read_free(a);
            return FALSE;
        }

        for (guint i = 0; vd_install_tree_layouts[i][0]; i++) {
            for (guint j = 0; j < 2; j++) {
                if (g_ascii_strcasecmp(rel, vd_install_tree_layouts[i][j]) == 0)
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

static gboolean
extract_iso(const IsoSource *src, const char *stage_dir, char **kernel, char **initrd,
            GError **error)
{
    const char *iso = src->iso;
    guint n = 0;
    int layout = -1;
    g_autofree guint *found = NULL;
    g_autofree char *k = g_build_filename(stage_dir, "vmlinuz", NULL);
    g_autofree char *i = g_build_filename(stage_dir, "initrd", NULL);
    struct archive *a;
    struct archive_entry *e;
    guint copied = 0;

    while (vd_install_tree_layouts[n][0])
        n++;
    found = g_new0(guint, n);
    if (!iso_check_sizes(src, error) || !iso_scan(src, found, error))
        return FALSE;
    for (guint l = 0; l < n && layout < 0; l++) {
        if (found[l] == 3)
            layout = (int)l;
    }
    if (layout < 0) {
        g_autofree char *looked = vd_install_tree_looked_list(iso);

        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Could not find an installable distribution in ISO '%s': no kernel and "
                    "initrd in any known layout. Looked for:%s",
                    iso, looked);
        return FALSE;
    }

    if (!(a = iso_open(src, error)))
        return FALSE;
    while (copied != 3 && archive_read_next_header(a, &e) == ARCHIVE_OK) {
        const char *rel = entry_rel(e);

        for (guint j = 0; j < 2; j++) {
            if (!(copied & (1u << j)) &&
                g_ascii_strcasecmp(rel, vd_install_tree_layouts[layout][j]) == 0) {
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
                    vd_install_tree_layouts[layout][0], vd_install_tree_layouts[layout][1]);
        return FALSE;
    }
    *kernel = g_steal_pointer(&k);
    *initrd = g_steal_pointer(&i);
    return TRUE;
}

gboolean
vd_install_tree_extract_iso(const char *iso, const char *stage_dir, char **kernel,
                             char **initrd, GError **error)
{
    const IsoSource src = {.iso = iso};

    return extract_iso(&src, stage_dir, kernel, initrd, error);
}

gboolean
vd_install_tree_extract_iso_memory(const void *data, gsize len, const char *name,
                                    const char *stage_dir, char **kernel, char **initrd,
                                    GError **error)
{
    const IsoSource src = {.iso = name, .data = data ? data : "", .len = len};

    return extract_iso(&src, stage_dir, kernel, initrd, error);
}
