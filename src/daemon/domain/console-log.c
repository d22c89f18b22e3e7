/* A domain's console log, kept bounded. See console-log.h. */
#include "console-log.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/vd-error.h"

#define COPY_CHUNK (64 * 1024)

static gboolean
io_error(GError **error, int err, const char *what, const char *path)
{
    g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "cannot %s console log '%s': %s", what,
                path, g_strerror(err));
    return FALSE;
}

static gboolean
write_all(int fd, const guint8 *p, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        p += n;
        len -= (gsize)n;
    }
    return TRUE;
}

/* Copies @from from @offset to its end (it may still grow meanwhile) to
 * @to, through a temporary file renamed over it. */
static gboolean
copy_from(int from, goffset offset, const char *to, GError **error)
{
    g_autofree char *tmp = g_strconcat(to, ".tmp", NULL);
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0)
        return io_error(error, errno, "create the rotated", tmp);
    g_autofree guint8 *buf = g_malloc(COPY_CHUNK);
    for (;;) {
        ssize_t n = pread(from, buf, COPY_CHUNK, offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (n > 0 && !write_all(out, buf, (gsize)n))) {
            int err = errno;
            close(out);
            g_unlink(tmp);
            return io_error(error, err, "copy", to);
        }
        if (n == 0)
            break;
        offset += n;
    }
    close(out);
    if (rename(tmp, to) < 0) {
        int err = errno;
        g_unlink(tmp);
        return io_error(error, err, "rename the rotated", to);
    }
    return TRUE;
}

gboolean
vd_console_log_rotate(const char *path, goffset max, GError **error)
{
    /* O_NOFOLLOW and the type check: the log is ours, whatever sits at
     * its name. */
    int fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? TRUE : io_error(error, errno, "open", path);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "console log '%s' is not a regular file", path);
        return FALSE;
    }
    if (st.st_size <= max) {
        close(fd);
        return TRUE;
    }
    g_autofree char *older = g_strconcat(path, ".2", NULL);
    g_autofree char *old = g_strconcat(path, ".1", NULL);
    if (rename(old, older) < 0 && errno != ENOENT) {
        close(fd);
        return io_error(error, errno, "rotate", old);
    }
    gboolean ok = copy_from(fd, st.st_size - max, old, error);
    if (ok && ftruncate(fd, 0) < 0)
        ok = io_error(error, errno, "truncate", path);
    close(fd);
    return ok;
}

/* Up to the last @n bytes of @path, appended to @out. */
static void
append_tail(const char *path, gsize n, GByteArray *out)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && n > 0) {
        goffset start = st.st_size > (goffset)n ? st.st_size - (goffset)n : 0;
        gsize want = (gsize)(st.st_size - start);
        guint old_len = out->len;
        g_byte_array_set_size(out, old_len + (guint)want);
        ssize_t got = pread(fd, out->data + old_len, want, start);
        g_byte_array_set_size(out, old_len + (guint)(got > 0 ? got : 0));
    }
    close(fd);
}

GBytes *
vd_console_log_tail(const char *path, gsize n)
{
    g_autoptr(GByteArray) current = g_byte_array_new();
    append_tail(path, n, current);
    if (current->len >= n)
        return g_byte_array_free_to_bytes(g_steal_pointer(&current));
    /* Just rotated: the rest comes from the end of the previous generation. */
    g_autofree char *old = g_strconcat(path, ".1", NULL);
    GByteArray *all = g_byte_array_new();
    append_tail(old, n - current->len, all);
    g_byte_array_append(all, current->data, current->len);
    return g_byte_array_free_to_bytes(all);
}
