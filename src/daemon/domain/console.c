/* The serial console relay. See console.h. */
#include "console.h"

#include <gio/gunixsocketaddress.h>
#include <string.h>

#include "daemon/domain/console-log.h"
#include "util/vd-error.h"

#define RING_SIZE (16 * 1024)
#define READ_CHUNK (16 * 1024)

/* What a session may leave waiting in the daemon, each way, before it is
 * closed (docs/console.md). Output: the guest printed it and the client
 * has not taken it (libsoup would queue it without limit); the log keeps
 * all of it anyway. Input: the client typed it and the guest has not
 * read it (a paused guest, or one that never reads its serial port). */
#define SESSION_OUTPUT_MAX (1024 * 1024)
#define SESSION_INPUT_MAX (1024 * 1024)
/* A client whose socket took nothing for this long, while there was
 * something for it, is closed too: ws-guard.c no longer reads from such a
 * client (libsoup would queue a pong for each of its pings), so it would
 * otherwise hold the session and its connection for good. */
#define SESSION_STUCK_TICK_S 5
#define SESSION_STUCK_TICKS 3

struct _VdConsole {
    char *socket_path;
    char *domain_name;
    GCancellable *cancel;
    GSocketConnection *conn;
    guint8 read_buf[READ_CHUNK];
    guint retry_source;
    int retries;

    char *log_path;         /* QEMU's logfile of this port: complete, even while we were away */
    goffset log_max;        /* rotated beyond this (console-log.h) */
    gsize log_unchecked;    /* output received since the log's size was last checked */
    gboolean log_rotating;  /* a rotation runs in a worker */

    GQueue write_queue;     /* GBytes* waiting to go to QEMU */
    gsize write_queued;     /* their bytes */
    gboolean writing;

    SoupWebsocketConnection *session;
    gulong message_handler, closed_handler;
    GByteArray *session_out;  /* output waiting for the session's socket to take more */
    GSource *session_out_wait; /* while the socket is full */
    gboolean session_moved;   /* its socket took something since the last tick */
    guint stuck_timer;
    int stuck_ticks;          /* ticks in a row with a full socket that took nothing */
};

static void start_connect(VdConsole *c);

static void
session_stop_output(VdConsole *c)
{
    g_byte_array_set_size(c->session_out, 0);
    if (c->session_out_wait) {
        g_source_destroy(c->session_out_wait);
        g_clear_pointer(&c->session_out_wait, g_source_unref);
    }
}

static void
session_detach(VdConsole *c, gboolean close_it)
{
    session_stop_output(c);
    g_clear_handle_id(&c->stuck_timer, g_source_remove);
    if (!c->session)
        return;
    SoupWebsocketConnection *ws = g_steal_pointer(&c->session);
    g_signal_handler_disconnect(ws, c->message_handler);
    g_signal_handler_disconnect(ws, c->closed_handler);
    if (close_it && soup_websocket_connection_get_state(ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    g_object_unref(ws);
}

static gboolean
session_open(VdConsole *c)
{
    return c->session &&
           soup_websocket_connection_get_state(c->session) == SOUP_WEBSOCKET_STATE_OPEN;
}

/* Closes a session that broke a bound, with the reason in the close
 * frame. libsoup gives the client 5 s to answer, then closes the
 * connection and emits "closed", which detaches it. */
static void
session_drop(VdConsole *c, const char *reason)
{
    g_message("domain '%s': console session closed: %s", c->domain_name, reason);
    session_stop_output(c);
    g_clear_handle_id(&c->stuck_timer, g_source_remove);
    if (session_open(c))
        soup_websocket_connection_close(c->session, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, reason);
}

/* ---- output: QEMU -> session ------------------------------------------------ */

static void session_flush(VdConsole *c);

static GPollableOutputStream *
session_socket(VdConsole *c)
{
    GOutputStream *out =
        g_io_stream_get_output_stream(soup_websocket_connection_get_io_stream(c->session));
    if (!G_IS_POLLABLE_OUTPUT_STREAM(out) ||
        !g_pollable_output_stream_can_poll(G_POLLABLE_OUTPUT_STREAM(out)))
        return NULL;
    return G_POLLABLE_OUTPUT_STREAM(out);
}

static gboolean
session_writable(GObject *stream, gpointer data)
{
    VdConsole *c = data;
    g_clear_pointer(&c->session_out_wait, g_source_unref);
    c->session_moved = TRUE;
    session_flush(c);
    return G_SOURCE_REMOVE;
}

/* FALSE, and a wake-up set for when it changes, while the session's
 * socket is full. */
static gboolean
session_can_write(VdConsole *c)
{
    GPollableOutputStream *out = session_socket(c);
    if (!out || g_pollable_output_stream_is_writable(out))
        return TRUE;
    if (!c->session_out_wait) {
        c->session_out_wait = g_pollable_output_stream_create_source(out, NULL);
        g_source_set_callback(c->session_out_wait, G_SOURCE_FUNC(session_writable), c, NULL);
        g_source_attach(c->session_out_wait, NULL);
    }
    return FALSE;
}

/* Hands the waiting output to libsoup only while the session's socket
 * takes more: libsoup queues whatever it is given without limit, so
 * while the socket is full the output waits here, where it is bounded. */
static void
session_flush(VdConsole *c)
{
    if (c->session_out_wait || c->session_out->len == 0)
        return;
    if (!session_open(c)) {
        g_byte_array_set_size(c->session_out, 0);
        return;
    }
    if (!session_can_write(c))
        return;
    soup_websocket_connection_send_binary(c->session, c->session_out->data, c->session_out->len);
    g_byte_array_set_size(c->session_out, 0);
}

static gboolean
session_tick(gpointer data)
{
    VdConsole *c = data;
    if (!session_open(c) || session_can_write(c) || c->session_moved) {
        c->stuck_ticks = 0;
    } else if (++c->stuck_ticks >= SESSION_STUCK_TICKS) {
        c->stuck_timer = 0;
        session_drop(c, "console client stuck: it read nothing for 15 s");
        return G_SOURCE_REMOVE;
    }
    c->session_moved = FALSE;
    return G_SOURCE_CONTINUE;
}

static void
session_output(VdConsole *c, const guint8 *data, gsize len)
{
    if (!session_open(c))
        return;
    if (c->session_out->len + len > SESSION_OUTPUT_MAX) {
        session_drop(c, "console output backed up: the client took none of the last 1 MiB");
        return;
    }
    g_byte_array_append(c->session_out, data, (guint)len);
    session_flush(c);
}

/* ---- the log's bound ---------------------------------------------------------- */

typedef struct {
    char *path;
    goffset max;
} RotateJob;

static void
rotate_job_free(RotateJob *job)
{
    g_free(job->path);
    g_free(job);
}

static void
rotate_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    RotateJob *job = data;
    g_autoptr(GError) error = NULL;
    if (vd_console_log_rotate(job->path, job->max, &error))
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, g_steal_pointer(&error));
}

static void
rotate_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GError) error = NULL;
    if (g_cancellable_is_cancelled(g_task_get_cancellable(G_TASK(res))))
        return; /* the console is gone */
    VdConsole *c = data;
    c->log_rotating = FALSE;
    if (!g_task_propagate_boolean(G_TASK(res), &error))
        g_warning("domain '%s': %s", c->domain_name, error->message);
}

/* QEMU writes the log, the daemon reads the same bytes: every
 * VD_CONSOLE_LOG_CHECK_EVERY of them, a worker checks the log's size and
 * rotates it (file I/O stays off the main loop). */
static void
log_account(VdConsole *c, gsize len)
{
    c->log_unchecked += len;
    if (c->log_unchecked < VD_CONSOLE_LOG_CHECK_EVERY || c->log_rotating)
        return;
    c->log_unchecked = 0;
    c->log_rotating = TRUE;
    RotateJob *job = g_new0(RotateJob, 1);
    job->path = g_strdup(c->log_path);
    job->max = c->log_max;
    g_autoptr(GTask) task = g_task_new(NULL, c->cancel, rotate_done, c);
    g_task_set_task_data(task, job, (GDestroyNotify)rotate_job_free);
    g_task_set_check_cancellable(task, FALSE);
    g_task_run_in_thread(task, rotate_thread);
}

/* ---- input: session -> QEMU --------------------------------------------------- */

static void write_next(VdConsole *c);

static void
write_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GError) error = NULL;
    if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, &error)) {
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            return; /* console freed */
        g_debug("console write failed: %s", error->message);
    }
    VdConsole *c = data;
    GBytes *done = g_queue_pop_head(&c->write_queue);
    c->write_queued -= g_bytes_get_size(done);
    g_bytes_unref(done);
    c->writing = FALSE;
    write_next(c);
}

static void
write_next(VdConsole *c)
{
    if (c->writing || !c->conn || g_queue_is_empty(&c->write_queue))
        return;
    GBytes *b = g_queue_peek_head(&c->write_queue);
    gsize len;
    const void *p = g_bytes_get_data(b, &len);
    c->writing = TRUE;
    g_output_stream_write_all_async(g_io_stream_get_output_stream(G_IO_STREAM(c->conn)), p, len,
                                    G_PRIORITY_DEFAULT, c->cancel, write_done, c);
}

static void
on_ws_message(SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer data)
{
    VdConsole *c = data;
    gsize len = g_bytes_get_size(message);
    if (len == 0 || !session_open(c))
        return;
    if (c->write_queued + len > SESSION_INPUT_MAX) {
        session_drop(c, "console input backed up: the guest has not read the last 1 MiB typed");
        return;
    }
    g_queue_push_tail(&c->write_queue, g_bytes_ref(message));
    c->write_queued += len;
    write_next(c);
}

static void
on_ws_closed(SoupWebsocketConnection *ws, gpointer data)
{
    session_detach(data, FALSE);
}

/* ---- the connection to QEMU --------------------------------------------------- */

static void read_more(VdConsole *c);

static void
read_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GError) error = NULL;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, &error);
    if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    VdConsole *c = data;
    if (n <= 0) {
        /* QEMU went away; the domain's own teardown frees us. */
        g_clear_object(&c->conn);
        session_detach(c, TRUE);
        return;
    }
    log_account(c, (gsize)n);
    session_output(c, c->read_buf, (gsize)n);
    read_more(c);
}

static void
read_more(VdConsole *c)
{
    g_input_stream_read_async(g_io_stream_get_input_stream(G_IO_STREAM(c->conn)), c->read_buf,
                              sizeof(c->read_buf), G_PRIORITY_DEFAULT, c->cancel, read_done, c);
}

static gboolean
retry_connect(gpointer data)
{
    VdConsole *c = data;
    c->retry_source = 0;
    start_connect(c);
    return G_SOURCE_REMOVE;
}

static void
connect_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GError) error = NULL;
    GSocketConnection *conn =
        g_socket_client_connect_finish(G_SOCKET_CLIENT(source), res, &error);
    if (!conn && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    VdConsole *c = data;
    if (!conn) {
        if (++c->retries < 250) {
            c->retry_source = g_timeout_add(20, retry_connect, c);
        } else {
            g_warning("domain '%s': cannot connect to the serial console %s: %s", c->domain_name,
                      c->socket_path, error->message);
        }
        return;
    }
    c->conn = conn;
    /* While no daemon was reading (a restart), QEMU kept writing the log:
     * check it at once. */
    log_account(c, VD_CONSOLE_LOG_CHECK_EVERY);
    read_more(c);
    write_next(c);
}

static void
start_connect(VdConsole *c)
{
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(c->socket_path);
    g_socket_client_connect_async(client, G_SOCKET_CONNECTABLE(addr), c->cancel, connect_done, c);
}

VdConsole *
vd_console_new(const char *socket_path, const char *log_path, goffset log_max,
               const char *domain_name)
{
    VdConsole *c = g_new0(VdConsole, 1);
    c->log_path = g_strdup(log_path);
    c->log_max = log_max > 0 ? log_max : VD_CONSOLE_LOG_MAX_DEFAULT;
    c->socket_path = g_strdup(socket_path);
    c->domain_name = g_strdup(domain_name);
    c->cancel = g_cancellable_new();
    c->session_out = g_byte_array_new();
    g_queue_init(&c->write_queue);
    start_connect(c);
    return c;
}

void
vd_console_free(VdConsole *c)
{
    if (!c)
        return;
    session_detach(c, TRUE);
    /* Also tells a rotation still running not to come back to @c. */
    g_cancellable_cancel(c->cancel);
    if (c->retry_source)
        g_source_remove(c->retry_source);
    if (c->conn)
        g_io_stream_close(G_IO_STREAM(c->conn), NULL, NULL);
    g_clear_object(&c->conn);
    g_queue_clear_full(&c->write_queue, (GDestroyNotify)g_bytes_unref);
    g_byte_array_unref(c->session_out);
    g_object_unref(c->cancel);
    g_free(c->socket_path);
    g_free(c->log_path);
    g_free(c->domain_name);
    g_free(c);
}

gboolean
vd_console_has_session(VdConsole *c)
{
    return c && session_open(c);
}

gboolean
vd_console_attach(VdConsole *c, SoupWebsocketConnection *ws, gboolean force, GError **error)
{
    if (vd_console_has_session(c)) {
        if (!force) {
            g_set_error(error, VD_ERROR, VD_ERROR_BUSY,
                        "operation failed: Active console session exists for this domain");
            return FALSE;
        }
        session_detach(c, TRUE);
    }
    session_detach(c, FALSE);
    c->session = g_object_ref(ws);
    c->message_handler = g_signal_connect(ws, "message", G_CALLBACK(on_ws_message), c);
    c->closed_handler = g_signal_connect(ws, "closed", G_CALLBACK(on_ws_closed), c);
    c->stuck_ticks = 0;
    c->stuck_timer = g_timeout_add_seconds(SESSION_STUCK_TICK_S, session_tick, c);
    /* The last RING_SIZE bytes the guest printed, from QEMU's own log of
     * the port: complete even for output from before this daemon ran. */
    g_autoptr(GBytes) recent = vd_console_log_tail(c->log_path, RING_SIZE);
    if (g_bytes_get_size(recent) > 0)
        session_output(c, g_bytes_get_data(recent, NULL), g_bytes_get_size(recent));
    return TRUE;
}
