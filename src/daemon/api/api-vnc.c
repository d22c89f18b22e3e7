/* The graphical console in a browser: GET /v1/domains/NAME/vnc, a
 * WebSocket (subprotocol "binary", as noVNC asks) that carries the RFB
 * stream of the domain's own VNC server.
 *
 * Why this shape: the daemon makes a socket pair, hands one end to QEMU
 * (QMP getfd with SCM_RIGHTS, then add_client protocol=vnc) and relays
 * between the other end and the WebSocket. No TCP port has to be
 * reachable, by the browser or by the daemon: the proxy works for a VNC
 * bound to 127.0.0.1 of the host, whatever address the page was loaded
 * from, and nothing in the page names a host:port that could be the
 * wrong one. QEMU treats the connection as any VNC client (skipauth is
 * false): a <graphics passwd=> is asked for by the RFB handshake, which
 * noVNC answers; the daemon only relays bytes. The VNC server is shared:
 * several browsers may watch the same screen at once.
 *
 * There is no fallback to QEMU's TCP listen address: the daemon always
 * holds the QMP socket of a running domain, and passing a descriptor over
 * it cannot fail where connecting to the address would work.
 *
 * Bounds, each way. QEMU -> browser: the daemon reads the next chunk
 * from QEMU only once libsoup took the previous one and the browser's
 * socket takes more; while it does not, QEMU's own socket fills and
 * QEMU's VNC server holds back its updates (it sends one per request of
 * the client anyway). Browser -> QEMU: what the browser sent and QEMU has
 * not read yet is bounded (VNC_INPUT_MAX; beyond it the session is
 * closed), and ws-guard.h reads nothing from a browser that does not read
 * its own socket. A browser whose socket took nothing for
 * VNC_STUCK_TICKS * VNC_STUCK_TICK_S while there was something for it is
 * closed. Either side ending ends both: the browser's close closes the
 * socket pair (QEMU drops the client), QEMU's end (the domain stopped,
 * or QEMU refused the client) closes the WebSocket. */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/api/api-conn.h"
#include "daemon/api/api-internal.h"
#include "daemon/api/api-websocket.h"
#include "util/vd-error.h"

#define VNC_CHUNK (64 * 1024)
#define VNC_INPUT_MAX (1024 * 1024)
#define VNC_STUCK_TICK_S 5
#define VNC_STUCK_TICKS 6

typedef struct {
    int refs;
    char *domain_name;
    SoupWebsocketConnection *ws; /* NULL once the session ended */
    gulong message_handler, closed_handler;
    GSocketConnection *conn; /* the daemon's end of the pair; QEMU has the other */
    GCancellable *cancel;
    guint8 *chunk;    /* read from QEMU ... */
    gsize chunk_len;  /* ... and not handed to libsoup yet */
    GSource *ws_wait; /* while the browser's socket is full */
    gboolean moved;   /* its socket took something since the last tick */
    int stuck_ticks;
    guint stuck_timer;
    GQueue write_queue; /* GBytes* from the browser, not written to QEMU yet */
    gsize write_queued;
    gboolean writing;
} VncProxy;

static const char *const vnc_protocols[] = {"binary", NULL};
static guint vnc_fd_counter;

static VncProxy *
proxy_ref(VncProxy *p)
{
    p->refs++;
    return p;
}

static void
proxy_unref(VncProxy *p)
{
    if (--p->refs > 0)
        return;
    g_queue_clear_full(&p->write_queue, (GDestroyNotify)g_bytes_unref);
    g_clear_object(&p->conn);
    g_clear_object(&p->cancel);
    g_free(p->chunk);
    g_free(p->domain_name);
    g_free(p);
}

static gboolean
proxy_open(VncProxy *p)
{
    return p->ws && soup_websocket_connection_get_state(p->ws) == SOUP_WEBSOCKET_STATE_OPEN;
}

static void
closed_unref(SoupWebsocketConnection *ws, gpointer data)
{
    g_object_unref(ws);
}

/* Ends the relay: stops every I/O and closes the socket pair (QEMU sees
 * the client go). The WebSocket is closed with @code and @reason when it
 * is still open; NULL @reason: it is closed already. */
static void
proxy_end(VncProxy *p, gushort code, const char *reason)
{
    if (!p->ws)
        return;
    if (reason && code != SOUP_WEBSOCKET_CLOSE_NORMAL)
        g_message("domain '%s': VNC session closed: %s", p->domain_name, reason);
    SoupWebsocketConnection *ws = g_steal_pointer(&p->ws);
    g_signal_handler_disconnect(ws, p->message_handler);
    g_signal_handler_disconnect(ws, p->closed_handler);
    if (reason && soup_websocket_connection_get_state(ws) == SOUP_WEBSOCKET_STATE_OPEN) {
        /* Kept until the close handshake is done (libsoup gives the
         * browser 5 s), so that the reason reaches it. */
        g_signal_connect(ws, "closed", G_CALLBACK(closed_unref), NULL);
        soup_websocket_connection_close(ws, code, reason);
    } else {
        g_object_unref(ws);
    }
    g_cancellable_cancel(p->cancel);
    if (p->ws_wait) {
        g_source_destroy(p->ws_wait);
        g_clear_pointer(&p->ws_wait, g_source_unref);
    }
    g_clear_handle_id(&p->stuck_timer, g_source_remove);
    if (p->conn)
        g_socket_close(g_socket_connection_get_socket(p->conn), NULL);
    proxy_unref(p); /* the session's own reference */
}

/* ---- QEMU -> browser -------------------------------------------------------- */

static void read_more(VncProxy *p);
static void flush_chunk(VncProxy *p);

static GPollableOutputStream *
ws_socket(VncProxy *p)
{
    GOutputStream *out =
        g_io_stream_get_output_stream(soup_websocket_connection_get_io_stream(p->ws));
    if (!G_IS_POLLABLE_OUTPUT_STREAM(out) ||
        !g_pollable_output_stream_can_poll(G_POLLABLE_OUTPUT_STREAM(out)))
        return NULL;
    return G_POLLABLE_OUTPUT_STREAM(out);
}

static gboolean
ws_writable(GObject *stream, gpointer data)
{
    VncProxy *p = data;
    g_clear_pointer(&p->ws_wait, g_source_unref);
    p->moved = TRUE;
    flush_chunk(p);
    return G_SOURCE_REMOVE;
}

/* Hands the chunk read from QEMU to libsoup once the browser's socket
 * takes more (libsoup would queue without limit), then reads the next. */
static void
flush_chunk(VncProxy *p)
{
    if (!proxy_open(p) || p->ws_wait)
        return;
    GPollableOutputStream *out = ws_socket(p);
    if (out && !g_pollable_output_stream_is_writable(out)) {
        p->ws_wait = g_pollable_output_stream_create_source(out, NULL);
        g_source_set_callback(p->ws_wait, G_SOURCE_FUNC(ws_writable), p, NULL);
        g_source_attach(p->ws_wait, NULL);
        return;
    }
    soup_websocket_connection_send_binary(p->ws, p->chunk, p->chunk_len);
    p->chunk_len = 0;
    read_more(p);
}

static void
read_done(GObject *source, GAsyncResult *res, gpointer data)
{
    VncProxy *p = data;
    g_autoptr(GError) error = NULL;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, &error);
    if (proxy_open(p)) {
        if (n > 0) {
            p->chunk_len = (gsize)n;
            flush_chunk(p);
        } else if (n == 0) {
            proxy_end(p, SOUP_WEBSOCKET_CLOSE_NORMAL, "the domain's VNC server ended the session");
        } else {
            g_autofree char *why =
                g_strdup_printf("cannot read from the domain's VNC server: %s", error->message);
            proxy_end(p, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR, why);
        }
    }
    proxy_unref(p);
}

static void
read_more(VncProxy *p)
{
    g_input_stream_read_async(g_io_stream_get_input_stream(G_IO_STREAM(p->conn)), p->chunk,
                              VNC_CHUNK, G_PRIORITY_DEFAULT, p->cancel, read_done, proxy_ref(p));
}

static gboolean
stuck_tick(gpointer data)
{
    VncProxy *p = data;
    GPollableOutputStream *out = proxy_open(p) ? ws_socket(p) : NULL;
    if (!out || g_pollable_output_stream_is_writable(out) || p->moved) {
        p->stuck_ticks = 0;
    } else if (++p->stuck_ticks >= VNC_STUCK_TICKS) {
        p->stuck_timer = 0;
        proxy_end(p, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                  "VNC client stuck: it read nothing for 30 s");
        return G_SOURCE_REMOVE;
    }
    p->moved = FALSE;
    return G_SOURCE_CONTINUE;
}

/* ---- browser -> QEMU -------------------------------------------------------- */

static void write_next(VncProxy *p);

static void
write_done(GObject *source, GAsyncResult *res, gpointer data)
{
    VncProxy *p = data;
    g_autoptr(GError) error = NULL;
    gboolean ok = g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, &error);
    p->writing = FALSE;
    GBytes *done = g_queue_pop_head(&p->write_queue);
    p->write_queued -= g_bytes_get_size(done);
    g_bytes_unref(done);
    if (!ok && proxy_open(p)) {
        g_autofree char *why =
            g_strdup_printf("cannot write to the domain's VNC server: %s", error->message);
        proxy_end(p, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR, why);
    } else {
        write_next(p);
    }
    proxy_unref(p);
}

static void
write_next(VncProxy *p)
{
    if (p->writing || !proxy_open(p) || g_queue_is_empty(&p->write_queue))
        return;
    gsize len;
    const void *data = g_bytes_get_data(g_queue_peek_head(&p->write_queue), &len);
    p->writing = TRUE;
    g_output_stream_write_all_async(g_io_stream_get_output_stream(G_IO_STREAM(p->conn)), data, len,
                                    G_PRIORITY_DEFAULT, p->cancel, write_done, proxy_ref(p));
}

static void
on_message(SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer data)
{
    VncProxy *p = data;
    gsize len = g_bytes_get_size(message);
    if (len == 0 || !proxy_open(p))
        return;
    if (p->write_queued + len > VNC_INPUT_MAX) {
        proxy_end(p, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                  "VNC input backed up: QEMU has not read the last 1 MiB sent");
        return;
    }
    g_queue_push_tail(&p->write_queue, g_bytes_ref(message));
    p->write_queued += len;
    write_next(p);
}

static void
on_closed(SoupWebsocketConnection *ws, gpointer data)
{
    proxy_end(data, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
}

/* ---- setting up ------------------------------------------------------------- */

static void
add_client_done(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VncProxy *p = data;
    if (error && proxy_open(p)) {
        g_autofree char *why =
            g_strdup_printf("QEMU refused the VNC connection: %s", error->message);
        proxy_end(p, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR, why);
    }
    proxy_unref(p);
}

static gboolean
has_vnc(const VdDomainDef *def)
{
    for (guint i = 0; def && i < def->graphics->len; i++) {
        const VdGraphicsDef *g = g_ptr_array_index(def->graphics, i);
        if (g->type == VD_GRAPHICS_VNC)
            return TRUE;
    }
    return FALSE;
}

/* What must hold before and after the 101: the domain has a VNC display
 * (asked first: starting a domain without one would not help), runs,
 * and has a monitor. */
static VdDomainObj *
vnc_domain(VdDaemon *d, const char *name, GError **error)
{
    VdDomainObj *dom = vd_domain_list_lookup(d->domains, name, error);
    if (!dom)
        return NULL;
    gboolean running = vd_state_is_active(dom->state) && dom->live;
    if (!has_vnc(running ? dom->live : vd_domain_obj_def(dom))) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "domain '%s' has no VNC display: add <graphics type='vnc'/> to its "
                    "definition and restart it",
                    dom->name);
        return NULL;
    }
    if (!running) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: domain '%s' is not running; start it "
                    "to see its graphical console",
                    dom->name);
        return NULL;
    }
    if (!dom->qmp || !vd_qmp_is_connected(dom->qmp)) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: QEMU monitor of domain '%s' is not connected", dom->name);
        return NULL;
    }
    return dom;
}

static void
vnc_attach(VdDaemon *d, const char *name, gboolean force, SoupWebsocketConnection *ws)
{
    g_autoptr(GError) error = NULL;
    VdDomainObj *dom = vnc_domain(d, name, &error);
    int fds[2] = {-1, -1};
    if (dom && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
        int saved = errno;
        g_set_error(&error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: cannot create a socket pair for VNC: %s", g_strerror(saved));
    }
    g_autoptr(GSocket) sock = error ? NULL : g_socket_new_from_fd(fds[0], &error);
    if (error) {
        if (fds[0] >= 0 && !sock)
            close(fds[0]);
        if (fds[1] >= 0)
            close(fds[1]);
        soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, error->message);
        return;
    }

    VncProxy *p = g_new0(VncProxy, 1);
    p->refs = 1; /* the session's, dropped by proxy_end() */
    p->domain_name = g_strdup(dom->name);
    p->ws = g_object_ref(ws);
    p->conn = g_socket_connection_factory_create_connection(sock);
    p->cancel = g_cancellable_new();
    p->chunk = g_malloc(VNC_CHUNK);
    g_queue_init(&p->write_queue);
    p->message_handler = g_signal_connect(ws, "message", G_CALLBACK(on_message), p);
    p->closed_handler = g_signal_connect(ws, "closed", G_CALLBACK(on_closed), p);
    p->stuck_timer = g_timeout_add_seconds(VNC_STUCK_TICK_S, stuck_tick, p);

    /* getfd's failure fails add_client too ("not found"), which reports it. */
    g_autofree char *fdname = g_strdup_printf("vnc-proxy-%u", ++vnc_fd_counter);
    JsonObject *getfd = json_object_new();
    json_object_set_string_member(getfd, "fdname", fdname);
    vd_qmp_command_with_fd(dom->qmp, "getfd", getfd, fds[1], NULL, NULL);
    JsonObject *add = json_object_new();
    json_object_set_string_member(add, "protocol", "vnc");
    json_object_set_string_member(add, "fdname", fdname);
    json_object_set_boolean_member(add, "skipauth", FALSE);
    vd_qmp_command(dom->qmp, "add_client", add, add_client_done, proxy_ref(p));
    read_more(p);
}

gboolean
vd_api_vnc_upgrade(VdApiRequest *req)
{
    if (req->nsegments != 3 || !g_str_equal(req->segments[0], "domains") ||
        !g_str_equal(req->segments[2], "vnc"))
        return FALSE;
    g_autoptr(GError) error = NULL;
    if (!vnc_domain(req->d, req->segments[1], &error)) {
        vd_api_websocket_refuse(req, error);
        return TRUE;
    }
    VdDaemon *d = req->d;
    SoupServerMessage *msg = g_object_ref(req->msg);
    g_autofree char *name = g_strdup(req->segments[1]);
    vd_api_request_release(req);
    /* A graphical console may stay quiet for long. */
    vd_api_conn_exempt(msg);
    vd_api_websocket_upgrade_full(d, msg, name, FALSE, vnc_protocols, vnc_attach);
    g_object_unref(msg);
    return TRUE;
}
