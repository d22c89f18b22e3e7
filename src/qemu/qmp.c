/* QMP transport: one unix socket per QEMU, driven by the GLib main loop.
 *
 * Why this shape: the daemon talks to many QEMU processes from one loop
 * and must never block on any of them, so everything is asynchronous:
 * connecting (QEMU creates its socket a little after it starts, hence the
 * retries), reading (QMP is one JSON document per line, gathered in a
 * buffer of bounded size) and writing (one write in flight, the rest
 * queued).
 *
 * QEMU runs what its guest controls, so a compromised QEMU is as hostile
 * as any client: a line longer than QMP_MAX_LINE or nested deeper than
 * VD_QMP_MAX_DEPTH (json-glib's parser recurses, so a deep document would
 * overflow the daemon's stack) ends the connection with an error instead
 * of being buffered or parsed.
 *
 * Lifetime: callers may free the client from inside any callback, and QEMU
 * may vanish at any moment. Each outstanding asynchronous operation holds a
 * reference, vd_qmp_free() only marks the client dead, closes the socket
 * and drops the caller's reference; whatever completes afterwards sees the
 * mark and returns without touching callbacks. Dispatch loops re-check the
 * mark after every callback they make.
 */
#include "qemu/qmp.h"

#include "util/vd-error.h"
#include "qemu/qmp-message.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RETRY_INTERVAL_MS 20
#define READ_CHUNK (64 * 1024)
/* The largest reply the daemon asks for is a few hundred bytes; the
 * largest QMP has (query-qmp-schema, qom-list-types) is a few hundred KiB.
 * Well above both, far below what could hurt the host. */
#define QMP_MAX_LINE (8 * 1024 * 1024)

typedef enum {
    QMP_CONNECTING,  /* socket not connected yet, retrying */
    QMP_GREETING,    /* connected, waiting for {"QMP": ...} */
    QMP_NEGOTIATING, /* qmp_capabilities sent */
    QMP_READY,
    QMP_CLOSED,
} QmpState;

typedef struct {
    guint64 id;
    gboolean internal; /* our own qmp_capabilities: may go out before READY */
    GBytes *line;      /* the command, newline-terminated */
    VdQmpReplyFunc reply;
    gpointer user_data;
    int fd;            /* sent with the line (SCM_RIGHTS) and closed; -1: none */
} Pending;

struct _VdQmp {
    int refs;
    gboolean freed;
    gboolean ready_reported;
    QmpState state;

    char *path;
    guint timeout_ms;
    gint64 deadline; /* monotonic µs by which the handshake must be done */
    VdQmpReadyFunc ready;
    VdQmpEventFunc event;
    VdQmpClosedFunc closed;
    gpointer user_data;

    GCancellable *cancellable;
    GSocketClient *client;
    GSocketConnection *conn;
    GInputStream *in;
    guint8 *read_chunk;  /* READ_CHUNK bytes, one read in flight */
    GByteArray *line;    /* what came after the last newline */
    gsize line_scanned;  /* bytes of it known to hold no newline */
    GOutputStream *out;
    GError *last_connect_error;
    GError *close_error; /* why the connection is gone */

    guint retry_id;
    guint timeout_id;
    guint fail_id;

    guint64 next_id;
    GQueue unsent; /* Pending*, not written yet */
    GQueue sent;   /* Pending*, written, waiting for a reply, in order */
    gboolean writing;
    GBytes *writing_line;
};

static void qmp_start_connect(VdQmp *qmp);
static void qmp_start_read(VdQmp *qmp);
static void qmp_flush(VdQmp *qmp);

static VdQmp *
qmp_ref(VdQmp *qmp)
{
    qmp->refs++;
    return qmp;
}

static void
pending_free(Pending *p)
{
    if (p->fd >= 0)
        close(p->fd);
    g_bytes_unref(p->line);
    g_free(p);
}

static void
qmp_unref(VdQmp *qmp)
{
    if (--qmp->refs > 0)
        return;
    /* Dead by now: vd_qmp_free() failed and emptied both queues. */
    g_queue_clear_full(&qmp->unsent, (GDestroyNotify)pending_free);
    g_queue_clear_full(&qmp->sent, (GDestroyNotify)pending_free);
    g_clear_pointer(&qmp->writing_line, g_bytes_unref);
    g_clear_object(&qmp->in);
    g_free(qmp->read_chunk);
    g_clear_pointer(&qmp->line, g_byte_array_unref);
    g_clear_object(&qmp->out);
    g_clear_object(&qmp->conn);
    g_clear_object(&qmp->client);
    g_clear_object(&qmp->cancellable);
    g_clear_error(&qmp->last_connect_error);
    g_clear_error(&qmp->close_error);
    g_free(qmp->path);
    g_free(qmp);
}

static void
qmp_remove_sources(VdQmp *qmp)
{
    g_clear_handle_id(&qmp->retry_id, g_source_remove);
    g_clear_handle_id(&qmp->timeout_id, g_source_remove);
    g_clear_handle_id(&qmp->fail_id, g_source_remove);
}

/* Stops all I/O now. Closing the socket itself (not the stream, which
 * refuses while operations are pending) makes outstanding operations end
 * promptly; they find the client closed and return. */
static void
qmp_shutdown_io(VdQmp *qmp)
{
    g_cancellable_cancel(qmp->cancellable);
    if (qmp->conn)
        g_socket_close(g_socket_connection_get_socket(qmp->conn), NULL);
}

/* Calls the reply callback of every queued command with @error, oldest
 * first. Commands queued by those callbacks are failed too, unless the
 * client was freed meanwhile (then vd_qmp_free() fails them). */
static void
qmp_fail_pending(VdQmp *qmp, const GError *error)
{
    qmp_ref(qmp);
    for (;;) {
        Pending *p = g_queue_pop_head(&qmp->sent);
        if (!p)
            p = g_queue_pop_head(&qmp->unsent);
        if (!p)
            break;
        if (p->reply)
            p->reply(qmp, NULL, error, p->user_data);
        pending_free(p);
    }
    qmp_unref(qmp);
}

/* The connection is gone (EOF, I/O error, handshake failure or timeout).
 * Reports it once: to @ready if the handshake had not finished, else to
 * the pending commands and then @closed. */
static void
qmp_lost(VdQmp *qmp, GError *why)
{
    if (qmp->state == QMP_CLOSED || qmp->freed) {
        g_error_free(why);
        return;
    }
    qmp->state = QMP_CLOSED;
    qmp->close_error = why;
    qmp_remove_sources(qmp);
    qmp_shutdown_io(qmp);

    qmp_ref(qmp);
    if (!qmp->ready_reported) {
        qmp->ready_reported = TRUE;
        if (qmp->ready)
            qmp->ready(qmp, qmp->close_error, qmp->user_data);
        if (!qmp->freed)
            qmp_fail_pending(qmp, qmp->close_error);
    } else {
        qmp_fail_pending(qmp, qmp->close_error);
        if (!qmp->freed && qmp->closed)
            qmp->closed(qmp, qmp->user_data);
    }
    qmp_unref(qmp);
}

/* ---- connecting ------------------------------------------------------------ */

static gboolean
qmp_handshake_timeout(gpointer data)
{
    VdQmp *qmp = data;
    qmp->timeout_id = 0;
    if (qmp->state == QMP_CONNECTING && qmp->last_connect_error) {
        qmp_lost(qmp, g_error_new(VD_ERROR, VD_ERROR_TIMEOUT,
                                  "cannot connect to the QMP socket '%s' within %u ms: %s",
                                  qmp->path, qmp->timeout_ms, qmp->last_connect_error->message));
    } else {
        qmp_lost(qmp, g_error_new(VD_ERROR, VD_ERROR_TIMEOUT,
                                  "QEMU did not complete the QMP handshake on '%s' within %u ms",
                                  qmp->path, qmp->timeout_ms));
    }
    return G_SOURCE_REMOVE;
}

static gboolean
qmp_retry(gpointer data)
{
    VdQmp *qmp = data;
    qmp->retry_id = 0;
    qmp_start_connect(qmp);
    return G_SOURCE_REMOVE;
}

static void
qmp_connected(GObject *source, GAsyncResult *res, gpointer data)
{
    VdQmp *qmp = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocketConnection) conn =
        g_socket_client_connect_finish(G_SOCKET_CLIENT(source), res, &error);

    if (qmp->freed || qmp->state != QMP_CONNECTING) {
        qmp_unref(qmp);
        return;
    }
    if (!conn) {
        /* QEMU creates the socket a moment after it starts. */
        gboolean retry = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
                         g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
        if (retry && g_get_monotonic_time() + RETRY_INTERVAL_MS * 1000 < qmp->deadline) {
            g_clear_error(&qmp->last_connect_error);
            qmp->last_connect_error = g_steal_pointer(&error);
            qmp->retry_id = g_timeout_add(RETRY_INTERVAL_MS, qmp_retry, qmp);
        } else if (retry) {
            qmp_lost(qmp, g_error_new(VD_ERROR, VD_ERROR_TIMEOUT,
                                      "cannot connect to the QMP socket '%s' within %u ms: %s",
                                      qmp->path, qmp->timeout_ms, error->message));
        } else {
            qmp_lost(qmp, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                      "cannot connect to the QMP socket '%s': %s", qmp->path,
                                      error->message));
        }
        qmp_unref(qmp);
        return;
    }

    qmp->conn = g_steal_pointer(&conn);
    qmp->in = g_object_ref(g_io_stream_get_input_stream(G_IO_STREAM(qmp->conn)));
    qmp->read_chunk = g_malloc(READ_CHUNK);
    qmp->line = g_byte_array_new();
    qmp->out = g_object_ref(g_io_stream_get_output_stream(G_IO_STREAM(qmp->conn)));
    qmp->state = QMP_GREETING;
    qmp_start_read(qmp);
    qmp_unref(qmp);
}

static void
qmp_start_connect(VdQmp *qmp)
{
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(qmp->path);
    g_socket_client_connect_async(qmp->client, G_SOCKET_CONNECTABLE(addr), qmp->cancellable,
                                  qmp_connected, qmp_ref(qmp));
}

VdQmp *
vd_qmp_connect(const char *path, guint timeout_ms, VdQmpReadyFunc ready, VdQmpEventFunc event,
               VdQmpClosedFunc closed, gpointer user_data)
{
    VdQmp *qmp = g_new0(VdQmp, 1);
    qmp->refs = 1;
    qmp->state = QMP_CONNECTING;
    qmp->path = g_strdup(path);
    qmp->timeout_ms = timeout_ms;
    qmp->deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    qmp->ready = ready;
    qmp->event = event;
    qmp->closed = closed;
    qmp->user_data = user_data;
    qmp->cancellable = g_cancellable_new();
    qmp->client = g_socket_client_new();
    g_socket_client_set_enable_proxy(qmp->client, FALSE);
    g_queue_init(&qmp->unsent);
    g_queue_init(&qmp->sent);
    qmp->next_id = 1;
    qmp->timeout_id = g_timeout_add(timeout_ms, qmp_handshake_timeout, qmp);
    qmp_start_connect(qmp);
    return qmp;
}

/* ---- writing ------------------------------------------------------------- */

static void
qmp_written(GObject *source, GAsyncResult *res, gpointer data)
{
    VdQmp *qmp = data;
    g_autoptr(GError) error = NULL;
    g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, &error);
    qmp->writing = FALSE;
    g_clear_pointer(&qmp->writing_line, g_bytes_unref);

    if (!qmp->freed && qmp->state != QMP_CLOSED) {
        if (error)
            qmp_lost(qmp, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                      "cannot write to QEMU's monitor: %s", error->message));
        else
            qmp_flush(qmp);
    }
    qmp_unref(qmp);
}

static gssize
send_with_fd(VdQmp *qmp, const void *data, gsize len, int fd, GError **error)
{
    int sock = g_socket_get_fd(g_socket_connection_get_socket(qmp->conn));
    char control[CMSG_SPACE(sizeof(int))] = {0};
    struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control,
        .msg_controllen = sizeof(control),
    };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    gssize n;
    while ((n = sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    if (n < 0) {
        int saved = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "cannot pass a descriptor to QEMU's monitor: %s", g_strerror(saved));
    }
    return n;
}

static void
qmp_flush(VdQmp *qmp)
{
    if (qmp->writing || qmp->freed)
        return;
    Pending *p = g_queue_peek_head(&qmp->unsent);
    if (!p)
        return;
    if (!(qmp->state == QMP_READY || (qmp->state == QMP_NEGOTIATING && p->internal)))
        return;
    g_queue_pop_head(&qmp->unsent);
    g_queue_push_tail(&qmp->sent, p);
    qmp->writing = TRUE;
    /* The write keeps its own reference: the reply (and so the Pending)
     * may come before the write completes. */
    qmp->writing_line = g_bytes_ref(p->line);
    gsize len = 0;
    const void *data = g_bytes_get_data(qmp->writing_line, &len);
    if (p->fd >= 0) {
        /* The descriptor travels with the command's first bytes (QEMU
         * keeps what arrives with SCM_RIGHTS until a command takes it);
         * the rest of the line, if the socket took only part, follows
         * through the stream as usual. Nothing else is being written. */
        GError *why = NULL;
        gssize sent = send_with_fd(qmp, data, len, p->fd, &why);
        close(p->fd);
        p->fd = -1;
        if (sent < 0) {
            qmp->writing = FALSE;
            g_clear_pointer(&qmp->writing_line, g_bytes_unref);
            qmp_lost(qmp, why);
            return;
        }
        data = (const guint8 *)data + sent;
        len -= (gsize)sent;
    }
    g_output_stream_write_all_async(qmp->out, data, len, G_PRIORITY_DEFAULT, qmp->cancellable,
                                    qmp_written, qmp_ref(qmp));
}

static Pending *
pending_new(VdQmp *qmp, const char *command, JsonObject *arguments, VdQmpReplyFunc reply,
            gpointer user_data)
{
    Pending *p = g_new0(Pending, 1);
    p->fd = -1;
    p->id = qmp->next_id++;
    p->reply = reply;
    p->user_data = user_data;

    g_autoptr(JsonObject) o = json_object_new();
    json_object_set_string_member(o, "execute", command);
    if (arguments)
        json_object_set_object_member(o, "arguments", arguments); /* ours now */
    json_object_set_int_member(o, "id", (gint64)p->id);
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), o);
    g_autofree char *text = json_to_string(node, FALSE);
    g_autofree char *line = g_strconcat(text, "\n", NULL);
    gsize len = strlen(line);
    p->line = g_bytes_new_take(g_steal_pointer(&line), len);
    return p;
}

/* ---- reading ------------------------------------------------------------- */

static void
qmp_capabilities_done(VdQmp *qmp, JsonNode *result, const GError *error, gpointer user_data)
{
    if (error || qmp->freed || qmp->state != QMP_NEGOTIATING) {
        if (error && !qmp->freed && qmp->state != QMP_CLOSED)
            qmp_lost(qmp,
                     g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                 "QEMU refused QMP capabilities negotiation: %s", error->message));
        return;
    }
    qmp->state = QMP_READY;
    g_clear_handle_id(&qmp->timeout_id, g_source_remove);
    qmp->ready_reported = TRUE;
    if (qmp->ready)
        qmp->ready(qmp, NULL, qmp->user_data);
    if (!qmp->freed && qmp->state == QMP_READY)
        qmp_flush(qmp);
}

static void
qmp_dispatch_reply(VdQmp *qmp, const VdQmpMessage *msg)
{
    if (!msg->has_id)
        return; /* QEMU's answer to something unparsable; nothing waits for it */
    Pending *p = NULL;
    for (GList *l = qmp->sent.head; l; l = l->next) {
        if (((Pending *)l->data)->id == msg->id) {
            p = l->data;
            g_queue_delete_link(&qmp->sent, l);
            break;
        }
    }
    if (!p)
        return;

    if (msg->failed) {
        g_autoptr(GError) error =
            g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED, "%s", msg->error_desc);
        if (p->reply)
            p->reply(qmp, NULL, error, p->user_data);
    } else if (p->reply) {
        p->reply(qmp, msg->result, NULL, p->user_data);
    }
    pending_free(p);
}

/* One line from QEMU, parsed (qmp-message.c). */
static void
qmp_handle_line(VdQmp *qmp, const VdQmpMessage *msg)
{
    if (qmp->state == QMP_GREETING) {
        if (!msg->root || !msg->greeting) {
            qmp_lost(qmp, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                      "'%s' is not a QMP socket: unexpected greeting", qmp->path));
            return;
        }
        qmp->state = QMP_NEGOTIATING;
        Pending *p = pending_new(qmp, "qmp_capabilities", NULL, qmp_capabilities_done, NULL);
        p->internal = TRUE;
        g_queue_push_head(&qmp->unsent, p);
        qmp_flush(qmp);
        return;
    }
    if (!msg->root)
        return;
    if (msg->event) {
        if (qmp->event)
            qmp->event(qmp, msg->event, msg->event_data, qmp->user_data);
        return;
    }
    if (msg->reply)
        qmp_dispatch_reply(qmp, msg);
}

/* Handles every complete line in qmp->line, then keeps the rest. Stops
 * when a callback closed or freed the client. */
static void
qmp_handle_lines(VdQmp *qmp)
{
    gsize start = 0;
    while (!qmp->freed && qmp->state != QMP_CLOSED) {
        const guint8 *p = qmp->line->data + start;
        /* A long line arrives in many chunks: scan each byte once. */
        gsize skip = start == 0 ? qmp->line_scanned : 0;
        const guint8 *nl = memchr(p + skip, '\n', qmp->line->len - start - skip);
        if (!nl) {
            qmp->line_scanned = qmp->line->len - start;
            break;
        }
        qmp->line_scanned = 0;
        gsize len = (gsize)(nl - p);
        /* The same lexical guard as the API's bodies (util/vd-json-guard.h):
         * depth before json-glib's recursive parser, no NUL in strings. */
        g_autoptr(GError) bad = NULL;
        VdQmpMessage msg;
        if (!vd_qmp_message_parse((const char *)p, len, &msg, &bad)) {
            vd_qmp_message_clear(&msg);
            qmp_lost(qmp, g_steal_pointer(&bad));
            return;
        }
        qmp_handle_line(qmp, &msg);
        vd_qmp_message_clear(&msg);
        start += len + 1;
    }
    if (qmp->freed || qmp->state == QMP_CLOSED)
        return;
    g_byte_array_remove_range(qmp->line, 0, (guint)start);
    if (qmp->line->len > QMP_MAX_LINE)
        qmp_lost(qmp, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                  "QEMU's monitor sent a line longer than %d MiB",
                                  QMP_MAX_LINE / (1024 * 1024)));
}

static void
qmp_chunk_read(GObject *source, GAsyncResult *res, gpointer data)
{
    VdQmp *qmp = data;
    g_autoptr(GError) error = NULL;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, &error);

    if (qmp->freed || qmp->state == QMP_CLOSED) {
        qmp_unref(qmp);
        return;
    }
    if (n <= 0) {
        if (error)
            qmp_lost(qmp, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                      "cannot read from QEMU's monitor: %s", error->message));
        else
            qmp_lost(qmp, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                      "QEMU closed its monitor connection"));
        qmp_unref(qmp);
        return;
    }
    g_byte_array_append(qmp->line, qmp->read_chunk, (guint)n);
    qmp_handle_lines(qmp);
    if (!qmp->freed && qmp->state != QMP_CLOSED)
        qmp_start_read(qmp);
    qmp_unref(qmp);
}

static void
qmp_start_read(VdQmp *qmp)
{
    g_input_stream_read_async(qmp->in, qmp->read_chunk, READ_CHUNK, G_PRIORITY_DEFAULT,
                              qmp->cancellable, qmp_chunk_read, qmp_ref(qmp));
}

/* ---- public ---------------------------------------------------------------- */

static gboolean
qmp_fail_idle(gpointer data)
{
    VdQmp *qmp = data;
    qmp->fail_id = 0;
    qmp_fail_pending(qmp, qmp->close_error);
    return G_SOURCE_REMOVE;
}

void
vd_qmp_command(VdQmp *qmp, const char *command, JsonObject *arguments, VdQmpReplyFunc reply,
               gpointer user_data)
{
    g_return_if_fail(qmp != NULL && command != NULL);

    if (qmp->freed) {
        if (arguments)
            json_object_unref(arguments);
        /* Only reachable from a reply callback run by vd_qmp_free(). */
        g_autoptr(GError) error =
            g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED, "the QMP connection was closed");
        if (reply)
            reply(qmp, NULL, error, user_data);
        return;
    }
    Pending *p = pending_new(qmp, command, arguments, reply, user_data);
    g_queue_push_tail(&qmp->unsent, p);
    if (qmp->state == QMP_CLOSED) {
        /* Failed from an idle callback, never from inside this call, so
         * callers need not be reentrant. */
        if (!qmp->fail_id)
            qmp->fail_id = g_idle_add(qmp_fail_idle, qmp);
        return;
    }
    qmp_flush(qmp);
}

void
vd_qmp_command_with_fd(VdQmp *qmp, const char *command, JsonObject *arguments, int fd,
                       VdQmpReplyFunc reply, gpointer user_data)
{
    g_return_if_fail(qmp != NULL && command != NULL && fd >= 0);

    if (qmp->freed || qmp->state == QMP_CLOSED) {
        close(fd);
        vd_qmp_command(qmp, command, arguments, reply, user_data);
        return;
    }
    Pending *p = pending_new(qmp, command, arguments, reply, user_data);
    p->fd = fd;
    g_queue_push_tail(&qmp->unsent, p);
    qmp_flush(qmp);
}

gboolean
vd_qmp_is_connected(VdQmp *qmp)
{
    return qmp && !qmp->freed && qmp->state == QMP_READY;
}

void
vd_qmp_free(VdQmp *qmp)
{
    if (!qmp || qmp->freed)
        return;
    qmp->freed = TRUE;
    qmp_remove_sources(qmp);
    qmp->state = QMP_CLOSED;
    qmp_shutdown_io(qmp);

    g_autoptr(GError) error =
        g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED, "the QMP connection was closed");
    /* freed is set, so replies queued from these callbacks fail at once. */
    qmp_fail_pending(qmp, error);
    qmp_unref(qmp);
}
