/* Volume data streamed through the API (vol-upload, vol-download).
 *
 * Neither direction holds more than a few chunks in memory: an image of
 * many GiB passes through a daemon whose RSS stays small.
 *
 * Upload (PUT): the early handler checks the volume, turns off libsoup's
 * accumulation of the request body and takes each chunk as it arrives
 * (got-chunk). A writer thread per upload writes the chunks to the file,
 * so a slow disk never stalls the main loop; when more than
 * UPLOAD_HIGH_WATER bytes wait, reading from the client is paused until
 * the writer catches up. The normal handler runs once the body is read
 * and answers when the writer is done.
 *
 * Download (GET): the response body is not accumulated either; chunks are
 * read asynchronously (GIO's thread pool) and appended one or two ahead
 * of what libsoup has written (wrote-chunk).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <gio/gunixinputstream.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/api/api-conn.h"
#include "daemon/api/api-storage.h"
#include "daemon/path-policy.h"
#include "util/vd-error.h"
#include "util/vd-path.h"

#define UPLOAD_HIGH_WATER (8 * 1024 * 1024)
#define UPLOAD_LOW_WATER (2 * 1024 * 1024)
#define DOWNLOAD_CHUNK (256 * 1024)

/* ---- upload ---- */

typedef struct {
    gint refs;
    VdDaemon *d;
    SoupServerMessage *msg;   /* not ref'd: the state is the message's data */
    char *pool;
    char *vol;
    char *path;
    int fd;
    goffset offset;
    GAsyncQueue *queue;       /* GBytes*; an empty one ends the writer */
    gint64 queued;            /* bytes in the queue (main loop's count) */
    gboolean read_paused;
    gboolean body_done;       /* the normal handler ran */
    gboolean writer_done;
    gboolean finished;        /* the message is gone or answered */
    GError *error;            /* the writer's first failure */
    VdApiRequest *req;        /* set once the body is complete */
    VdStorageOp *op;          /* ref'd; progress when Content-Length is known */
    goffset total;            /* Content-Length, or -1 (chunked) */
    guint64 written;
} Upload;

static Upload *
upload_ref(Upload *up)
{
    g_atomic_int_inc(&up->refs);
    return up;
}

static void
upload_unref(Upload *up)
{
    if (!g_atomic_int_dec_and_test(&up->refs))
        return;
    if (up->fd >= 0)
        close(up->fd);
    g_async_queue_unref(up->queue);
    g_clear_error(&up->error);
    vd_storage_op_unref(up->op);
    g_free(up->pool);
    g_free(up->vol);
    g_free(up->path);
    g_free(up);
}

typedef struct {
    Upload *up;
    gsize written;
    gboolean end;
} WriterNews;

static void
on_upload_volume(GObject *source, GAsyncResult *res, gpointer data)
{
    Upload *up = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(VdStorageVolDef) vol = vd_storage_vol_finish(up->d, res, &error);

    if (vol)
        vd_api_reply_volume(up->req, 200, vol, up->pool);
    else
        vd_api_reply_error(up->req, error);
    upload_unref(up);
}

/* The upload is complete (writer done and body read): answer. */
static void
upload_answer(Upload *up)
{
    VdApiRequest *req = up->req;
    VdStoragePool *pool;

    if (up->error)
        vd_storage_op_set_failure(up->op, up->error->message);
    up->op->cancel = NULL;
    vd_storage_busy_release(up->d->storage, up->path);
    up->finished = TRUE;
    if (up->error) {
        vd_api_reply_error(req, up->error);
        return;
    }
    pool = vd_storage_lookup(up->d->storage, up->pool, &up->error);
    if (!pool) {
        vd_api_reply_error(req, up->error);
        return;
    }
    vd_storage_vol_get_async(up->d, pool, up->vol, on_upload_volume, upload_ref(up));
}

static gboolean
on_writer_news(gpointer data)
{
    WriterNews *news = data;
    Upload *up = news->up;

    up->queued -= (gint64)news->written;
    up->written += news->written;
    if (up->total > 0)
        vd_storage_op_set_progress(up->op, 100.0 * (double)up->written / (double)up->total);
    if (news->end)
        up->writer_done = TRUE;
    if (!up->finished) {
        if (up->read_paused && up->queued < UPLOAD_LOW_WATER) {
            up->read_paused = FALSE;
            soup_server_message_unpause(up->msg);
        }
        if (up->writer_done && up->body_done)
            upload_answer(up);
    }
    upload_unref(up);
    g_free(news);
    return G_SOURCE_REMOVE;
}

static gpointer
writer_thread(gpointer data)
{
    Upload *up = data;

    for (;;) {
        GBytes *chunk = g_async_queue_pop(up->queue);
        gsize len;
        const char *p = g_bytes_get_data(chunk, &len);
        gsize total = len;
        gboolean end = len == 0;

        /* After a failure the rest is drained, not written. */
        while (len > 0 && !up->error) {
            ssize_t n = pwrite(up->fd, p, len, up->offset);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                int err = errno;
                up->error = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                        "cannot write to volume '%s': %s", up->path,
                                        g_strerror(err));
                break;
            }
            p += n;
            len -= (gsize)n;
            up->offset += n;
        }
        g_bytes_unref(chunk);
        WriterNews *news = g_new0(WriterNews, 1);
        news->up = upload_ref(up);
        news->written = total;
        news->end = end;
        g_main_context_invoke(NULL, on_writer_news, news);
        if (end)
            break;
    }
    if (!up->error && fsync(up->fd) < 0) {
        int err = errno;
        up->error = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                "cannot write to volume '%s': %s", up->path, g_strerror(err));
    }
    upload_unref(up);
    return NULL;
}

static void
on_got_chunk(SoupServerMessage *msg, GBytes *chunk, gpointer data)
{
    Upload *up = data;
    gsize len = g_bytes_get_size(chunk);

    if (len == 0)
        return;
    up->queued += (gint64)len;
    g_async_queue_push(up->queue, g_bytes_ref(chunk));
    if (!up->read_paused && up->queued > UPLOAD_HIGH_WATER) {
        up->read_paused = TRUE;
        soup_server_message_pause(msg);
    }
}

/* The message is gone (answered, or the client went away mid-body). */
static void
upload_detach(gpointer data)
{
    Upload *up = data;

    if (!up->body_done) {
        /* The client went away: stop the writer, free the volume. */
        g_async_queue_push(up->queue, g_bytes_new(NULL, 0));
        vd_storage_op_set_failure(up->op, up->op->cancelled
                                              ? "cancelled: the upload's connection was closed; "
                                                "the volume holds what had arrived"
                                              : "the client went away before the end of the upload");
        up->op->cancel = NULL;
        vd_storage_busy_release(up->d->storage, up->path);
        up->finished = TRUE;
    }
    upload_unref(up);
}

/* POST /v1/tasks/ID/cancel (issue 14): while the body still arrives, the
 * connection is answered with the error and closed; upload_detach then
 * ends the task. Once the body is complete the answer is on its way. */
static void
upload_cancel(gpointer data)
{
    Upload *up = data;
    g_autoptr(GError) error = NULL;

    if (up->finished || up->body_done)
        return;
    error = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "upload to volume '%s' cancelled from the task log", up->vol);
    upload_ref(up);
    vd_api_refuse_and_close(up->msg, error);
    upload_unref(up);
}

static goffset
query_offset(GHashTable *query, const char *name, GError **error)
{
    const char *v = query ? g_hash_table_lookup(query, name) : NULL;
    char *end = NULL;
    guint64 n;

    if (!v)
        return 0;
    n = g_ascii_strtoull(v, &end, 10);
    if (!*v || *end || n > G_MAXINT64) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid %s '%s': expected a number of bytes", name, v);
        return -1;
    }
    return (goffset)n;
}

/* /v1/pools/P/volumes/V/data -> P and V, or FALSE. */
static gboolean
data_path(const char *path, char **pool, char **vol)
{
    g_auto(GStrv) raw = g_strsplit(path, "/", -1);

    if (g_strv_length(raw) != 7 || raw[0][0] || !g_str_equal(raw[1], "v1") ||
        !g_str_equal(raw[2], "pools") || !g_str_equal(raw[4], "volumes") ||
        !g_str_equal(raw[6], "data"))
        return FALSE;
    *pool = g_uri_unescape_string(raw[3], NULL);
    *vol = g_uri_unescape_string(raw[5], NULL);
    return *pool && *vol;
}

/* Refused before the body is read: answered and closed at once. */
static void
early_error(SoupServerMessage *msg, const GError *error)
{
    vd_api_refuse_and_close(msg, error);
}

/* The file opened for a volume's data is checked where it really is: a
 * pool directory swapped for a symlink (into the daemon's definitions)
 * while the pool was active must not lead the data there. Closes @fd
 * when refusing. */
static gboolean
opened_outside_daemon_state(VdDaemon *d, const char *what, const char *path, int fd,
                            GError **error)
{
    g_autoptr(VdPathGuard) guard = vd_path_policy_guard(d->paths);

    if (vd_path_guard_check_fd(guard, what, path, fd, error))
        return TRUE;
    close(fd);
    return FALSE;
}

gboolean
vd_api_storage_data_early(VdDaemon *d, SoupServerMessage *msg, const char *path)
{
    g_autofree char *pool_name = NULL;
    g_autofree char *vol = NULL;
    g_autofree char *file = NULL;
    g_autoptr(GError) error = NULL;
    GUri *uri = soup_server_message_get_uri(msg);
    g_autoptr(GHashTable) query = NULL;
    VdStoragePool *pool;
    goffset offset;
    int fd;

    if (!g_str_equal(soup_server_message_get_method(msg), "PUT") ||
        !data_path(path, &pool_name, &vol))
        return FALSE;
    if (g_uri_get_query(uri))
        query = soup_form_decode(g_uri_get_query(uri));
    if ((offset = query_offset(query, "offset", &error)) < 0 ||
        !(pool = vd_storage_lookup(d->storage, pool_name, &error)) ||
        !(file = vd_storage_vol_existing_path(pool, vol, &error)) ||
        !vd_storage_vol_check_unused(d, pool, vol, file, &error)) {
        early_error(msg, error);
        return TRUE;
    }
    /* O_NOFOLLOW and a regular file only: a volume swapped for a symlink
     * (to /etc/passwd, or a FIFO) since it was looked up must not be
     * written through. */
    g_autofree char *what = g_strdup_printf("volume '%s'", vol);
    struct stat st;
    fd = vd_path_open_checked(what, file, VD_PATH_REGULAR | VD_PATH_NOFOLLOW | VD_PATH_WRITE,
                              &st, &error);
    if (fd < 0 || !opened_outside_daemon_state(d, what, file, fd, &error)) {
        early_error(msg, error);
        return TRUE;
    }
    /* A second name of the file elsewhere (a hard link) would be
     * written through this one. */
    if (st.st_nlink > 1) {
        close(fd);
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "volume '%s' has %ju hard links: uploading would change the file under its "
                    "other names too; copy it to a file of its own first",
                    vol, (uintmax_t)st.st_nlink);
        early_error(msg, error);
        return TRUE;
    }
    /* Writing from past the end would grow the volume by a hole of any
     * size (offset=1P): from its end, it may grow as the data says. */
    if (offset > st.st_size) {
        close(fd);
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "offset %" G_GOFFSET_FORMAT " is past the end of volume '%s' (%" G_GOFFSET_FORMAT
                    " bytes): upload at an offset up to its size, or vol-resize it first",
                    offset, vol, (goffset)st.st_size);
        early_error(msg, error);
        return TRUE;
    }
    VdStorageOp *op = vd_storage_busy_acquire(d->storage, pool_name, file, "upload", &error);
    if (!op) {
        close(fd);
        early_error(msg, error);
        return TRUE;
    }
    Upload *up = g_new0(Upload, 1);
    up->refs = 1;
    up->d = d;
    up->msg = msg;
    up->pool = g_steal_pointer(&pool_name);
    up->vol = g_steal_pointer(&vol);
    up->path = g_steal_pointer(&file);
    up->fd = fd;
    up->offset = offset;
    up->op = vd_storage_op_ref(op);
    up->total = soup_message_headers_get_content_length(soup_server_message_get_request_headers(msg));
    up->queue = g_async_queue_new_full((GDestroyNotify)g_bytes_unref);
    g_thread_unref(g_thread_new("vd-upload", writer_thread, upload_ref(up)));
    soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
    /* An upload may pause for long (a client reading from a slow source). */
    vd_api_conn_exempt(msg);
    g_signal_connect(msg, "got-chunk", G_CALLBACK(on_got_chunk), up);
    g_object_set_data_full(G_OBJECT(msg), "vd-upload", up, upload_detach);
    op->cancel = upload_cancel;
    op->cancel_data = up;
    return TRUE;
}

static void
upload_body_done(VdApiRequest *req)
{
    Upload *up = g_object_get_data(G_OBJECT(req->msg), "vd-upload");
    g_autoptr(GError) error = NULL;

    if (!up) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INTERNAL, "upload state missing");
        vd_api_reply_error(req, error);
        return;
    }
    up->body_done = TRUE;
    up->req = req;
    /* The end marker: the writer answers through on_writer_news. */
    g_async_queue_push(up->queue, g_bytes_new(NULL, 0));
    vd_api_pause(req);
}

/* ---- download ---- */

typedef struct {
    VdDaemon *d;
    SoupServerMessage *msg;   /* ref'd */
    GInputStream *in;
    GCancellable *cancel;
    guint64 remaining;
    guint pending;            /* chunks appended, not yet written */
    gboolean reading;
    gboolean done;
    char *path;
    guint64 total;            /* bytes of the answer, for the job's progress */
    VdStorageOp *op;
} Download;

static void download_pump(Download *dl);

static void
download_free(Download *dl)
{
    g_cancellable_cancel(dl->cancel);
    g_signal_handlers_disconnect_by_data(dl->msg, dl);
    vd_storage_busy_release(dl->d->storage, dl->path);
    vd_storage_op_unref(dl->op);
    g_object_unref(dl->cancel);
    g_object_unref(dl->in);
    g_object_unref(dl->msg);
    g_free(dl->path);
    g_free(dl);
}

static void
on_read(GObject *source, GAsyncResult *res, gpointer data)
{
    Download *dl = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), res, &error);

    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return; /* the message is gone; dl was freed */
    dl->reading = FALSE;
    if (!bytes || g_bytes_get_size(bytes) == 0) {
        /* A read error or a file shrunk under us: the answer cannot be
         * changed any more, so the connection is cut and the client sees
         * a short body. */
        g_warning("download of '%s' ended early: %s", dl->path,
                  error ? error->message : "end of file");
        vd_api_conn_abort(dl->msg);
        soup_message_body_complete(soup_server_message_get_response_body(dl->msg));
        soup_server_message_unpause(dl->msg);
        return;
    }
    gsize len = MIN(g_bytes_get_size(bytes), dl->remaining);
    g_autoptr(GBytes) chunk = g_bytes_new_from_bytes(bytes, 0, len);
    soup_message_body_append_bytes(soup_server_message_get_response_body(dl->msg), chunk);
    dl->remaining -= len;
    vd_storage_op_set_progress(dl->op, 100.0 * (double)(dl->total - dl->remaining) /
                                           (double)dl->total);
    dl->pending++;
    if (dl->remaining == 0)
        soup_message_body_complete(soup_server_message_get_response_body(dl->msg));
    soup_server_message_unpause(dl->msg);
    download_pump(dl);
}

static void
download_pump(Download *dl)
{
    if (dl->reading || dl->remaining == 0 || dl->pending >= 2)
        return;
    dl->reading = TRUE;
    g_input_stream_read_bytes_async(dl->in, MIN(DOWNLOAD_CHUNK, dl->remaining),
                                    G_PRIORITY_DEFAULT, dl->cancel, on_read, dl);
}

static void
on_wrote_chunk(SoupServerMessage *msg, gpointer data)
{
    Download *dl = data;

    if (dl->pending > 0)
        dl->pending--;
    download_pump(dl);
}

static void
on_download_finished(SoupServerMessage *msg, gpointer data)
{
    download_free(data);
}

static void
download_start(VdApiRequest *req, VdStoragePool *pool, const char *vol)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = vd_storage_vol_existing_path(pool, vol, &error);
    goffset offset = path ? query_offset(req->query, "offset", &error) : -1;
    goffset length = offset >= 0 ? query_offset(req->query, "length", &error) : -1;
    struct stat st;
    VdStorageOp *op = NULL;
    int fd;

    if (!path || offset < 0 || length < 0) {
        vd_api_reply_error(req, error);
        return;
    }
    /* Not through a symlink put in the volume's place (to /etc/shadow). */
    g_autofree char *what = g_strdup_printf("volume '%s'", vol);
    fd = vd_path_open_checked(what, path, VD_PATH_REGULAR | VD_PATH_NOFOLLOW, &st, &error);
    if (fd < 0 || !opened_outside_daemon_state(req->d, what, path, fd, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    if (offset > st.st_size) {
        close(fd);
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "offset %" G_GOFFSET_FORMAT " is past the end of volume '%s' (%" G_GOFFSET_FORMAT
                    " bytes)",
                    offset, vol, (goffset)st.st_size);
        vd_api_reply_error(req, error);
        return;
    }
    if (lseek(fd, offset, SEEK_SET) < 0 ||
        !(op = vd_storage_busy_acquire(req->d->storage, pool->def->name, path, "download",
                                       &error))) {
        close(fd);
        if (!error)
            g_set_error(&error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "cannot seek in '%s'", path);
        vd_api_reply_error(req, error);
        return;
    }
    guint64 avail = (guint64)(st.st_size - offset);
    Download *dl = g_new0(Download, 1);
    dl->d = req->d;
    dl->msg = g_object_ref(req->msg);
    dl->in = g_unix_input_stream_new(fd, TRUE);
    dl->cancel = g_cancellable_new();
    dl->remaining = length > 0 ? MIN(avail, (guint64)length) : avail;
    dl->total = dl->remaining;
    dl->op = vd_storage_op_ref(op);
    dl->path = g_steal_pointer(&path);

    SoupMessageHeaders *h = soup_server_message_get_response_headers(req->msg);
    soup_message_headers_set_encoding(h, SOUP_ENCODING_CONTENT_LENGTH);
    soup_message_headers_set_content_length(h, (goffset)dl->remaining);
    soup_message_headers_set_content_type(h, "application/octet-stream", NULL);
    soup_message_body_set_accumulate(soup_server_message_get_response_body(req->msg), FALSE);
    /* A download may pause for long (a client writing to a slow sink). */
    vd_api_conn_exempt(req->msg);
    soup_server_message_set_status(req->msg, 200, NULL);
    g_signal_connect(req->msg, "wrote-chunk", G_CALLBACK(on_wrote_chunk), dl);
    g_signal_connect(req->msg, "finished", G_CALLBACK(on_download_finished), dl);
    if (dl->remaining == 0)
        soup_message_body_complete(soup_server_message_get_response_body(req->msg));
    else
        soup_server_message_pause(req->msg);
    download_pump(dl);
    vd_api_request_release(req);
}

void
vd_api_storage_data(VdApiRequest *req, const char *method, VdStoragePool *pool, const char *vol)
{
    if (g_str_equal(method, "PUT"))
        upload_body_done(req);
    else
        download_start(req, pool, vol);
}
