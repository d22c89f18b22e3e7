#include "vd-file.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "vd-error.h"

static gboolean
write_all(int fd, const char *data, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return FALSE;
        }
        data += n;
        len -= (gsize)n;
    }
    return TRUE;
}

static gboolean
write_replace(const char *path, const char *data, gssize len, int mode, gboolean durable,
              GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *tmp = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
    int saved;

    if (len < 0)
        len = (gssize)strlen(data);

    int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, mode);
    if (fd < 0) {
        saved = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot create '%s': %s", tmp,
                    g_strerror(saved));
        return FALSE;
    }
    if (!write_all(fd, data, (gsize)len) || fchmod(fd, (mode_t)mode) < 0 ||
        (durable && fsync(fd) < 0)) {
        saved = errno;
        close(fd);
        g_unlink(tmp);
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot write '%s': %s", path,
                    g_strerror(saved));
        return FALSE;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        saved = errno;
        g_unlink(tmp);
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot replace '%s': %s", path,
                    g_strerror(saved));
        return FALSE;
    }
    /* The rename itself must reach the disk too. */
    if (durable) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
    }
    return TRUE;
}

gboolean
vd_file_write_atomic(const char *path, const char *data, gssize len, int mode, GError **error)
{
    return write_replace(path, data, len, mode, TRUE, error);
}

gboolean
vd_file_replace(const char *path, const char *data, gssize len, int mode, GError **error)
{
    return write_replace(path, data, len, mode, FALSE, error);
}

gboolean
vd_dir_ensure(const char *path, int mode, GError **error)
{
    if (g_mkdir_with_parents(path, mode) < 0) {
        int saved = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot create directory '%s': %s", path,
                    g_strerror(saved));
        return FALSE;
    }
    return TRUE;
}

/* ".NAME.XXXXXX": what write_replace()'s g_mkstemp_full() makes. */
static gboolean
is_temp_name(const char *name)
{
    gsize len = strlen(name);

    if (name[0] != '.' || len < 1 + 1 + 1 + 6 || name[len - 7] != '.')
        return FALSE;
    for (gsize i = len - 6; i < len; i++) {
        if (!g_ascii_isalnum(name[i]))
            return FALSE;
    }
    return TRUE;
}

guint
vd_file_remove_stale_temps(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    guint removed = 0;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        if (is_temp_name(name) && g_file_test(path, G_FILE_TEST_IS_REGULAR) &&
            !g_file_test(path, G_FILE_TEST_IS_SYMLINK) && g_unlink(path) == 0)
            removed++;
    }
    return removed;
}
