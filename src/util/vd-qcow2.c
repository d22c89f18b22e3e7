/* A qcow2 header's backing file name (vd-qcow2.h). */
#include "util/vd-qcow2.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* @path opened with the first @size bytes of its qcow2 header in @h;
 * -1 for another format or an unreadable file. */
static int
open_header(const char *path, guint8 *h, gsize size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd >= 0 && (pread(fd, h, size, 0) != (ssize_t)size || memcmp(h, "QFI\xfb", 4) != 0)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static guint32
be32(const guint8 *b)
{
    return ((guint32)b[0] << 24) | ((guint32)b[1] << 16) | ((guint32)b[2] << 8) | b[3];
}

char *
vd_qcow2_backing_file(const char *path)
{
    /* QCowHeader: magic, version, backing_file_offset (be64), backing_file_size (be32) */
    guint8 h[20];
    int fd = open_header(path, h, sizeof(h));
    if (fd < 0)
        return NULL;
    char *out = NULL;
    guint64 off = ((guint64)be32(h + 8) << 32) | be32(h + 12);
    guint32 len = be32(h + 16);
    if (off && len > 0 && len < 1024) {
        g_autofree char *name = g_malloc0(len + 1);
        if (pread(fd, name, len, (off_t)off) == (ssize_t)len && *name && !strchr(name, ':')) {
            g_autofree char *dir = g_path_get_dirname(path);
            out = g_path_is_absolute(name) ? g_strdup(name) : g_build_filename(dir, name, NULL);
        }
    }
    close(fd);
    return out;
}

gboolean
vd_qcow2_is_qcow2(const char *path)
{
    guint8 magic[4];
    int fd = open_header(path, magic, sizeof(magic));
    if (fd >= 0)
        close(fd);
    return fd >= 0;
}

/* The header extensions follow the header (72 bytes in version 2, its
 * header_length in version 3): type (be32), length (be32), data padded
 * to 8 bytes; type 0 ends them. 0xE2792ACA is the backing format. */
char *
vd_qcow2_backing_format(const char *path)
{
    guint8 h[104];
    int fd = open_header(path, h, sizeof(h));
    if (fd < 0)
        return NULL;
    char *out = NULL;
    guint64 off = be32(h + 4) >= 3 ? be32(h + 100) : 72;
    for (int n = 0; n < 64 && !out; n++) {
        guint8 ext[8];
        if (pread(fd, ext, sizeof(ext), (off_t)off) != (ssize_t)sizeof(ext) || !be32(ext))
            break;
        guint32 len = be32(ext + 4);
        if (be32(ext) == 0xE2792ACAu && len > 0 && len < 64) {
            char name[64] = {0};
            if (pread(fd, name, len, (off_t)(off + 8)) == (ssize_t)len && !memchr(name, 0, len))
                out = g_strdup(name);
            break;
        }
        off += 8 + (((guint64)len + 7) & ~(guint64)7);
    }
    close(fd);
    return out;
}
