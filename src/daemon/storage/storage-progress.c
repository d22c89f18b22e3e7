/* qemu-img with -p, for worker threads: its progress lines are read as
 * they come so that GET /v1/jobs can say how far a clone is. */
#include <string.h>

#include "daemon/storage/storage.h"
#include "util/vd-error.h"

gboolean
vd_storage_progress_parse_line(const char *line, double *percent)
{
    g_autofree char *s = g_strstrip(g_strdup(line));
    char *end = NULL;
    double v;

    if (s[0] != '(')
        return FALSE;
    v = g_ascii_strtod(s + 1, &end);
    if (end == s + 1 || !g_str_equal(end, "/100%)") || v < 0.0 || v > 100.0)
        return FALSE;
    *percent = v;
    return TRUE;
}

gboolean
vd_storage_progress_feed(GString *pending, const char *chunk, gsize len, double *percent,
                         GString *other)
{
    gboolean found = FALSE;
    gsize start = 0;

    g_string_append_len(pending, chunk, (gssize)len);
    /* qemu-img ends progress lines with '\r' (it redraws one line) and its
     * messages with '\n': both end a line here. */
    for (gsize i = 0; i < pending->len; i++) {
        if (pending->str[i] != '\r' && pending->str[i] != '\n')
            continue;
        g_autofree char *line = g_strndup(pending->str + start, i - start);
        start = i + 1;
        if (vd_storage_progress_parse_line(line, percent)) {
            found = TRUE;
        } else if (other && *g_strstrip(line)) {
            if (other->len)
                g_string_append_c(other, '\n');
            g_string_append(other, line);
        }
    }
    g_string_erase(pending, 0, (gssize)start);
    return found;
}

gboolean
vd_storage_qemu_img_progress(const char *const *args, VdStorageProgressFunc cb, gpointer data,
                             GError **error)
{
    return vd_storage_qemu_img_progress_cancellable(args, cb, data, NULL, error);
}

static void
kill_qemu_img(GCancellable *cancel, gpointer proc)
{
    g_subprocess_force_exit(G_SUBPROCESS(proc));
}

gboolean
vd_storage_qemu_img_progress_cancellable(const char *const *args, VdStorageProgressFunc cb,
                                         gpointer data, GCancellable *cancel, GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) local = NULL;
    g_autoptr(GString) pending = g_string_new(NULL);
    g_autoptr(GString) messages = g_string_new(NULL);
    char buf[4096];
    double percent;

    g_ptr_array_add(argv, (gpointer)(g_getenv("VIRTD_QEMU_IMG") ? g_getenv("VIRTD_QEMU_IMG")
                                                                 : "qemu-img"));
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);
    /* One pipe for both streams: reading stdout to its end while stderr
     * fills up unread could block qemu-img forever. Messages are told
     * from progress lines by their form. */
    g_autoptr(GSubprocess) proc = g_subprocess_newv((const char *const *)argv->pdata,
                                                    G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                        G_SUBPROCESS_FLAGS_STDERR_MERGE,
                                                    &local);
    if (!proc) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "cannot run qemu-img: %s (install qemu-utils)", local->message);
        return FALSE;
    }
    GInputStream *out = g_subprocess_get_stdout_pipe(proc);
    /* Run at once if already cancelled. */
    gulong handler = cancel ? g_cancellable_connect(cancel, G_CALLBACK(kill_qemu_img), proc, NULL)
                            : 0;
    for (;;) {
        gssize n = g_input_stream_read(out, buf, sizeof(buf), NULL, &local);
        if (n < 0) {
            /* Cannot happen short of a bug; still wait for the child. */
            g_warning("reading qemu-img %s output: %s", args[0], local->message);
            g_clear_error(&local);
            break;
        }
        if (n == 0)
            break;
        if (vd_storage_progress_feed(pending, buf, (gsize)n, &percent, messages) && cb)
            cb(percent, data);
    }
    vd_storage_progress_feed(pending, "\n", 1, &percent, messages);
    gboolean waited = g_subprocess_wait(proc, NULL, &local);
    if (cancel)
        g_cancellable_disconnect(cancel, handler);
    if (cancel && g_cancellable_is_cancelled(cancel)) {
        g_clear_error(&local);
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "qemu-img %s cancelled: stopped from the task log", args[0]);
        return FALSE;
    }
    if (!waited) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "qemu-img %s failed: %s",
                    args[0], local->message);
        return FALSE;
    }
    if (!g_subprocess_get_successful(proc)) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "qemu-img %s failed: %s",
                    args[0], messages->len ? messages->str : "no message");
        return FALSE;
    }
    return TRUE;
}
