/* The serial console relay. See console.h. */
#include "console.h"

#include <gio/gunixsocketaddress.h>
#include <string.h>

#include "util/vd-error.h"

#define RING_SIZE (16 * 1024)
#define READ_CHUNK 4096

struct _VdConsole {
    char *socket_path;
    char *domain_name;
    GCancellable *cancel;
    GSocketConnection *conn;
    guint8 read_buf[READ_CHUNK];
    guint retry_source;
    int retries;

    char *log_path;            /* QEMU's logfile of this port: complete, even while we were away */

    GQueue write_queue;        /* GBytes* waiting to go to QEMU */
    gboolean writing;

    SoupWebsocketConnection *session;
    gulong message_handler, closed_handler;
};

static void start_connect(VdConsole *c);

/* The last RING_SIZE bytes the guest printed, from QEMU's own log of the
 * port: complete even for output from before this daemon was running. */
static GBytes *
backlog(VdConsole *c)
{
    g_autoptr(GFile) file = g_file_new_for_path(c->log_path);
    g_autoptr(GFileInputStream) in = g_file_read(file, NULL, NULL);
    if (!in)
        return g_bytes_new(NULL, 0);
    if (!g_seekable_seek(G_SEEKABLE(in), -RING_SIZE, G_SEEK_END, NULL, NULL))
        g_seekable_seek(G_SEEKABLE(in), 0, G_SEEK_SET, NULL, NULL);
    return g_input_stream_read_bytes(G_INPUT_STREAM(in), RING_SIZE, NULL, NULL);
}

static void
session_detach(VdConsole *c, gboolean close_it)
{
    if (!c->session)
        return;
    SoupWebsocketConnection *ws = g_steal_pointer(&c->session);
    g_signal_handler_disconnect(ws, c->message_handler);
    g_signal_handler_disconnect(ws, c->closed_handler);
    if (close_it && soup_websocket_connection_get_state(ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    g_object_unref(ws);
}

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
    g_bytes_unref(g_queue_pop_head(&c->write_queue));
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
    if (g_bytes_get_size(message) == 0)
        return;
    g_queue_push_tail(&c->write_queue, g_bytes_ref(message));
    write_next(c);
}

static void
on_ws_closed(SoupWebsocketConnection *ws, gpointer data)
{
    session_detach(data, FALSE);
}

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
    if (c->session &&
        soup_websocket_connection_get_state(c->session) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_send_binary(c->session, c->read_buf, (gsize)n);
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
vd_console_new(const char *socket_path, const char *log_path, const char *domain_name)
{
    VdConsole *c = g_new0(VdConsole, 1);
    c->log_path = g_strdup(log_path);
    c->socket_path = g_strdup(socket_path);
    c->domain_name = g_strdup(domain_name);
    c->cancel = g_cancellable_new();
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
    g_cancellable_cancel(c->cancel);
    if (c->retry_source)
        g_source_remove(c->retry_source);
    if (c->conn)
        g_io_stream_close(G_IO_STREAM(c->conn), NULL, NULL);
    g_clear_object(&c->conn);
    g_queue_clear_full(&c->write_queue, (GDestroyNotify)g_bytes_unref);
    g_object_unref(c->cancel);
    g_free(c->socket_path);
    g_free(c->log_path);
    g_free(c->domain_name);
    g_free(c);
}

gboolean
vd_console_has_session(VdConsole *c)
{
    return c && c->session &&
           soup_websocket_connection_get_state(c->session) == SOUP_WEBSOCKET_STATE_OPEN;
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
    g_autoptr(GBytes) recent = backlog(c);
    if (recent && g_bytes_get_size(recent) > 0)
        soup_websocket_connection_send_message(ws, SOUP_WEBSOCKET_DATA_BINARY, recent);
    return TRUE;
}
