/* PUT /v1/migrations/ID/disks/TARGET: the destination's end of an offline
 * --copy-storage-all (docs/migration-storage.md). The source streams the
 * disk's file as data extents (migration-storage-priv.h: a 16-byte
 * header, offset and length, then the bytes; holes are not sent; the last
 * header has length 0 and the file's size; decoded by
 * migration-storage-stream.c). The file is written to a
 * temporary name beside the disk's place (.NAME.vdmigrate-tmp), checked
 * (the stream ended with its size, which matches X-Virtd-Disk-Size, and
 * the image's virtual size is the offer's), fsynced and renamed into
 * place: a disk is there whole or not at all.
 *
 * As volume uploads (api-storage-data.c), the body is taken chunk by chunk
 * from the early handler, and a writer thread writes it, pausing the
 * reading when it falls behind: an image of many GiB never sits in
 * memory. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api-internal.h"
#include "daemon/api/api-conn.h"
#include "daemon/migration/migration-storage-priv.h"
#include "daemon/path-policy.h"
#include "util/vd-error.h"

#define HIGH_WATER (8 * 1024 * 1024)
#define LOW_WATER (2 * 1024 * 1024)

typedef struct {
    gint refs;
    SoupServerMessage *msg; /* not ref'd: the state is the message's data */
    char *target;
    char *path;       /* the disk's place */
    char *tmp;        /* where it is written */
    guint64 capacity; /* the offer's virtual size */
    gint64 announced; /* X-Virtd-Disk-Size, or -1 */
    int fd;
    GAsyncQueue *queue; /* GBytes*; an empty one ends the writer */
    gint64 queued;      /* main loop's count */
    gboolean read_paused;
    gboolean body_done, writer_done, finished;
    VdApiRequest *req;
    VdDiskStreamParser parser; /* the writer's */
    GError *error;             /* the writer's first failure */
} Receive;

static Receive *
rx_ref(Receive *rx)
{
    g_atomic_int_inc(&rx->refs);
    return rx;
}

static void
rx_unref(Receive *rx)
{
    if (!g_atomic_int_dec_and_test(&rx->refs))
        return;
    if (rx->fd >= 0)
        close(rx->fd);
    g_async_queue_unref(rx->queue);
    g_clear_error(&rx->error);
    g_free(rx->target);
    g_free(rx->path);
    g_free(rx->tmp);
    g_free(rx);
}

static gboolean fail(Receive *rx, VdErrorCode code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean
fail(Receive *rx, VdErrorCode code, const char *fmt, ...)
{
    if (rx->error)
        return FALSE;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *m = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    rx->error = g_error_new(VD_ERROR, code, "disk '%s': %s", rx->target, m);
    return FALSE;
}

/* One chunk of the body through the parser (writer thread). */
static void
take(Receive *rx, const guint8 *p, gsize len)
{
    g_autoptr(GError) local = NULL;
    if (!vd_disk_stream_take(&rx->parser, p, len, rx->fd, &local))
        fail(rx, local->domain == VD_ERROR ? (VdErrorCode)local->code : VD_ERROR_OPERATION_FAILED,
             "%s ('%s' on the destination)", local->message, rx->tmp);
}

/* The stream is over: complete and in its place, or gone (writer thread). */
static void
settle(Receive *rx)
{
    if (!rx->error && !rx->parser.ended)
        fail(rx, VD_ERROR_INVALID_ARG, "the stream ended before the disk did");
    if (!rx->error && rx->announced >= 0 && (guint64)rx->announced != rx->parser.size)
        fail(rx, VD_ERROR_INVALID_ARG,
             "the stream brought %" G_GUINT64_FORMAT
             " bytes, the source announced %" G_GINT64_FORMAT,
             rx->parser.size, rx->announced);
    if (!rx->error && ftruncate(rx->fd, (off_t)rx->parser.size) < 0)
        fail(rx, VD_ERROR_OPERATION_FAILED, "cannot size '%s': %s", rx->tmp, g_strerror(errno));
    if (!rx->error && rx->capacity &&
        vd_disk_image_virtual_size(rx->fd, rx->parser.size) != rx->capacity)
        fail(rx, VD_ERROR_INVALID_ARG,
             "the copy's virtual size is %" G_GUINT64_FORMAT
             " bytes, the source's %" G_GUINT64_FORMAT,
             vd_disk_image_virtual_size(rx->fd, rx->parser.size), rx->capacity);
    if (!rx->error && fsync(rx->fd) < 0)
        fail(rx, VD_ERROR_OPERATION_FAILED, "cannot write '%s' on the destination: %s", rx->tmp,
             g_strerror(errno));
    if (!rx->error && rename(rx->tmp, rx->path) < 0)
        fail(rx, VD_ERROR_OPERATION_FAILED, "cannot rename '%s' to '%s': %s", rx->tmp, rx->path,
             g_strerror(errno));
    if (rx->error) {
        unlink(rx->tmp);
        return;
    }
    g_autofree char *dir = g_path_get_dirname(rx->path);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

typedef struct {
    Receive *rx;
    gsize len;
    gboolean end;
} News;

static void
answer(Receive *rx)
{
    rx->finished = TRUE;
    if (rx->error) {
        vd_api_reply_error(rx->req, rx->error);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "target");
    json_builder_add_string_value(b, rx->target);
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, rx->path);
    json_builder_set_member_name(b, "size");
    json_builder_add_int_value(b, (gint64)rx->parser.size);
    json_builder_set_member_name(b, "data");
    json_builder_add_int_value(b, (gint64)rx->parser.written);
    json_builder_end_object(b);
    vd_api_reply_json(rx->req, 200, json_builder_get_root(b));
}

static gboolean
on_news(gpointer data)
{
    News *news = data;
    Receive *rx = news->rx;
    rx->queued -= (gint64)news->len;
    if (news->end)
        rx->writer_done = TRUE;
    if (!rx->finished) {
        if (rx->read_paused && rx->queued < LOW_WATER) {
            rx->read_paused = FALSE;
            soup_server_message_unpause(rx->msg);
        }
        if (rx->writer_done && rx->body_done)
            answer(rx);
    }
    rx_unref(rx);
    g_free(news);
    return G_SOURCE_REMOVE;
}

static gpointer
writer(gpointer data)
{
    Receive *rx = data;
    for (;;) {
        GBytes *chunk = g_async_queue_pop(rx->queue);
        gsize len;
        const guint8 *p = g_bytes_get_data(chunk, &len);
        gboolean end = len == 0;
        if (!end && !rx->error)
            take(rx, p, len);
        g_bytes_unref(chunk);
        if (end) {
            /* A client gone mid-body pushes the end too: body_done is
             * only known to the main loop, so an unfinished stream is
             * caught by settle's checks (no last header). */
            settle(rx);
        }
        News *news = g_new0(News, 1);
        news->rx = rx_ref(rx);
        news->len = len;
        news->end = end;
        g_main_context_invoke(NULL, on_news, news);
        if (end)
            break;
    }
    rx_unref(rx);
    return NULL;
}

static void
on_chunk(SoupServerMessage *msg, GBytes *chunk, gpointer data)
{
    Receive *rx = data;
    gsize len = g_bytes_get_size(chunk);
    if (len == 0)
        return;
    rx->queued += (gint64)len;
    g_async_queue_push(rx->queue, g_bytes_ref(chunk));
    if (!rx->read_paused && rx->queued > HIGH_WATER) {
        rx->read_paused = TRUE;
        soup_server_message_pause(msg);
    }
}

static void
detach(gpointer data)
{
    Receive *rx = data;
    if (!rx->body_done) {
        /* The source went away mid-stream: the writer ends, the
         * temporary file goes (the stream had no last header). */
        g_async_queue_push(rx->queue, g_bytes_new(NULL, 0));
        rx->finished = TRUE;
    }
    rx_unref(rx);
}

/* /v1/migrations/ID/disks/TARGET -> ID and TARGET. */
static gboolean
disk_path(const char *path, char **id, char **target)
{
    g_auto(GStrv) raw = g_strsplit(path, "/", -1);
    if (g_strv_length(raw) != 6 || raw[0][0] || !g_str_equal(raw[1], "v1") ||
        !g_str_equal(raw[2], "migrations") || !g_str_equal(raw[4], "disks"))
        return FALSE;
    *id = g_uri_unescape_string(raw[3], NULL);
    *target = g_uri_unescape_string(raw[5], NULL);
    return *id && *target;
}

gboolean
vd_api_migration_disk_early(VdDaemon *d, SoupServerMessage *msg, const char *path)
{
    g_autofree char *id = NULL;
    g_autofree char *target = NULL;
    g_autoptr(GError) error = NULL;
    guint64 capacity = 0;

    if (!g_str_equal(soup_server_message_get_method(msg), "PUT") ||
        !disk_path(path, &id, &target)) {
        g_free(g_steal_pointer(&id));
        return FALSE;
    }
    g_autofree char *file = vd_migration_storage_upload_target(id, target, &capacity, &error);
    SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
    const char *type = soup_message_headers_get_content_type(h, NULL);
    if (file && (!type || !g_str_equal(type, VD_DISK_STREAM_TYPE)))
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "a disk stream is sent as %s (docs/migration-storage.md)", VD_DISK_STREAM_TYPE);
    if (error) {
        vd_api_refuse_and_close(msg, error);
        return TRUE;
    }
    g_autofree char *tmp = vd_migration_storage_temp_name(file);
    /* The temporary name is ours (prepare claimed the disk's place in
     * that directory); a leftover of an earlier attempt is replaced, a
     * symlink put there is not followed. */
    unlink(tmp);
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        g_set_error(&error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "disk '%s': cannot create '%s' on the destination: %s", target, tmp,
                    g_strerror(errno));
        vd_api_refuse_and_close(msg, error);
        return TRUE;
    }
    /* Where the file really is (a directory swapped for a symlink since
     * prepare checked it must not lead the bytes into the daemon's own
     * files). */
    g_autoptr(VdPathGuard) guard = vd_path_policy_guard(d->paths);
    g_autofree char *what = g_strdup_printf("disk '%s'", target);
    if (!vd_path_guard_check_fd(guard, what, tmp, fd, &error)) {
        close(fd);
        unlink(tmp);
        vd_api_refuse_and_close(msg, error);
        return TRUE;
    }
    Receive *rx = g_new0(Receive, 1);
    rx->refs = 1;
    rx->msg = msg;
    rx->target = g_steal_pointer(&target);
    rx->path = g_steal_pointer(&file);
    rx->tmp = g_steal_pointer(&tmp);
    rx->capacity = capacity;
    rx->fd = fd;
    const char *announced = soup_message_headers_get_one(h, "X-Virtd-Disk-Size");
    rx->announced = announced ? (gint64)g_ascii_strtoll(announced, NULL, 10) : -1;
    rx->queue = g_async_queue_new_full((GDestroyNotify)g_bytes_unref);
    g_thread_unref(g_thread_new("vd-migrate-disk", writer, rx_ref(rx)));
    soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
    vd_api_conn_exempt(msg);
    g_signal_connect(msg, "got-chunk", G_CALLBACK(on_chunk), rx);
    g_object_set_data_full(G_OBJECT(msg), "vd-migration-disk", rx, detach);
    return TRUE;
}

void
vd_api_migration_disk(VdApiRequest *req)
{
    Receive *rx = g_object_get_data(G_OBJECT(req->msg), "vd-migration-disk");
    g_autoptr(GError) error = NULL;
    if (!rx) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "PUT /v1/migrations/ID/disks/TARGET takes a disk stream of an offline "
                    "migration prepared here");
        vd_api_reply_error(req, error);
        return;
    }
    rx->body_done = TRUE;
    rx->req = req;
    g_async_queue_push(rx->queue, g_bytes_new(NULL, 0));
    vd_api_pause(req);
}
