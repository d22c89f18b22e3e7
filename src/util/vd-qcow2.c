/* A qcow2 header's backing file name (vd-qcow2.h). */
#include "util/vd-qcow2.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

char *
vd_qcow2_backing_file(const char *path)
{
    guint8 h[20];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return NULL;
    char *out = NULL;
    /* QCowHeader: magic, version, backing_file_offset (be64), backing_file_size (be32) */
    if (pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) && memcmp(h, "QFI\xfb", 4) == 0) {
        guint64 off = 0;
        guint32 len =
            ((guint32)h[16] << 24) | ((guint32)h[17] << 16) | ((guint32)h[18] << 8) | h[19];
        for (int i = 8; i < 16; i++)
            off = (off << 8) | h[i];
        if (off && len > 0 && len < 1024) {
            g_autofree char *name = g_malloc0(len + 1);
            if (pread(fd, name, len, (off_t)off) == (ssize_t)len && *name &&
                !strchr(name, ':')) {
                g_autofree char *dir = g_path_get_dirname(path);
                out = g_path_is_absolute(name) ? g_strdup(name) : g_build_filename(dir, name, NULL);
            }
        }
    }
    close(fd);
    return out;
}
