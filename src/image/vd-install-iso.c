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
    if (!iso_scan(src, found, error))
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
