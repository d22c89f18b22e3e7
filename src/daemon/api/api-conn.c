/* The API's connections (api-conn.h).
 *
 * Each accepted connection gets a VdApiConn, found from its messages
 * through the remote address object handed to libsoup (one per
 * connection). A connection has a deadline while the client is the one
 * to act: from accept until its request is read (headers and body, so a
 * client trickling one byte a minute is cut as surely as a silent one),
 * and from the first byte of the answer until the answer is taken. While
 * a handler works (between the two) there is none: the daemon is the slow
 * one then. Console sessions and volume data are exempt.
 *
 * One connection carries one request: libsoup keeps a connection alive
 * only for servers it listens for itself, so each is closed after its
 * answer, and pipelined requests after the first are dropped. */
#include "daemon/api/api-conn.h"

#include <errno.h>
#include <gio/gunixsocketaddress.h>
#include <malloc.h>
#include <sys/resource.h>

#define CONN_KEY "vd-api-conn"
#define RETRY_FIRST_MS 50
#define RETRY_MAX_MS 1000
/* Descriptors kept for guests (QMP, consoles, logs, disks) when the
 * connection limit comes from the descriptor limit, at most this many. */
#define FD_RESERVE_MAX 1024
#define MAX_CONNECTIONS_DEFAULT 4096

typedef struct {
    gint refs;
    VdApiListener *l; /* NULL once the connection is gone */
    GSocket *socket;  /* ref'd: shut down to cut the connection */
    GObject *stream;  /* not ref'd: libsoup's; weakly watched */
    gint64 deadline;  /* monotonic µs by which the client must act; 0: none */
    gboolean exempt;
} VdApiConn;

struct _VdApiListener {
    SoupServer *server;
    GSocket *socket; /* the listening socket */
    GSocketAddress *local;
    GSource *accept_source; /* NULL while not accepting */
    guint retry_id;         /* after a failed accept */
    guint retry_ms;
    guint failed_accepts; /* in the current run of failures */
    gboolean at_limit;    /* max_connections reached */
    guint sweep_id;
    guint trim_id;
    guint idle_timeout; /* seconds; 0: none */
    guint max_connections;
    guint served;      /* since the last malloc_trim */
    GHashTable *conns; /* set of VdApiConn, ref'd */
    gulong started_handler;
};

static void start_accepting(VdApiListener *l);

static VdApiConn *
conn_ref(VdApiConn *c)
{
    c->refs++;
    return c;
}

static void
conn_unref(gpointer data)
{
    VdApiConn *c = data;
    if (--c->refs > 0)
        return;
    g_object_unref(c->socket);
    g_free(c);
}

static gint64
deadline_from_now(VdApiListener *l)
{
    return l->idle_timeout ? g_get_monotonic_time() + (gint64)l->idle_timeout * G_USEC_PER_SEC : 0;
}

/* ---- accepting ---- */

static void
stop_accepting(VdApiListener *l)
{
    if (l->accept_source) {
        g_source_destroy(l->accept_source);
        g_clear_pointer(&l->accept_source, g_source_unref);
    }
}

static gboolean
on_retry(gpointer data)
{
    VdApiListener *l = data;
    l->retry_id = 0;
    start_accepting(l);
    return G_SOURCE_REMOVE;
}

/* accept() failed: out of descriptors (EMFILE, ENFILE) or memory. The
 * pending client stays in the backlog, so the socket stays readable:
 * accepting again at once would spin. Retry with a backoff, and at once
 * when one of our connections closes. Logged once per run of failures. */
static void
accept_failed(VdApiListener *l, const GError *error)
{
    struct rlimit rl = {0};

    stop_accepting(l);
    if (l->failed_accepts++ == 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        g_warning("cannot accept connections on the API socket: %s (%u API connections open, "
                  "descriptor limit %llu); retrying until descriptors free up",
                  error->message, g_hash_table_size(l->conns), (unsigned long long)rl.rlim_cur);
        l->retry_ms = RETRY_FIRST_MS;
    } else {
        l->retry_ms = MIN(l->retry_ms * 2, RETRY_MAX_MS);
    }
    l->retry_id = g_timeout_add(l->retry_ms, on_retry, l);
}

static void
on_stream_finalized(gpointer data, GObject *where_the_object_was)
{
    VdApiConn *c = data;
    VdApiListener *l = c->l;

    if (l) {
        c->l = NULL;
        g_hash_table_remove(l->conns, c);
        start_accepting(l);
    }
    conn_unref(c);
}

static gboolean
on_trim(gpointer data)
{
    VdApiListener *l = data;
    l->trim_id = 0;
    /* A burst of clients leaves glibc's heaps holding freed memory that
     * it only returns from the top; give it all back once things are
     * quiet (issue 8, docs/performance.md). */
    if (g_hash_table_size(l->conns) == 0) {
        malloc_trim(0);
        l->served = 0;
    }
    return G_SOURCE_REMOVE;
}

static gboolean
on_sweep(gpointer data)
{
    VdApiListener *l = data;
    gint64 now = g_get_monotonic_time();
    GHashTableIter it;
    gpointer key;

    g_hash_table_iter_init(&it, l->conns);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        VdApiConn *c = key;
        if (g_socket_is_closed(c->socket)) {
            /* libsoup closed it; its objects may outlive the descriptor. */
            c->l = NULL;
            g_hash_table_iter_remove(&it);
        } else if (c->deadline && !c->exempt && now > c->deadline) {
            /* Shut down, not closed: libsoup then sees the end of the
             * stream (or a failed write), finishes the message and
             * closes the descriptor itself. */
            g_debug("closing an API connection idle for %u s", l->idle_timeout);
            c->deadline = 0;
            g_socket_shutdown(c->socket, TRUE, TRUE, NULL);
        }
    }
    start_accepting(l);
    if (g_hash_table_size(l->conns) == 0) {
        if (l->served > 0 && !l->trim_id)
            l->trim_id = g_timeout_add_seconds(2, on_trim, l);
        l->sweep_id = 0;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static void
serve(VdApiListener *l, GSocket *client)
{
    GSocketConnection *stream = g_socket_connection_factory_create_connection(client);
    GSocketAddress *remote =
        g_unix_socket_address_new_with_type("", 0, G_UNIX_SOCKET_ADDRESS_ANONYMOUS);
    VdApiConn *c = g_new0(VdApiConn, 1);

    c->refs = 1; /* the set's */
    c->l = l;
    c->socket = client;
    c->stream = G_OBJECT(stream);
    c->deadline = deadline_from_now(l);
    g_hash_table_add(l->conns, c);
    g_object_set_data_full(G_OBJECT(remote), CONN_KEY, conn_ref(c), conn_unref);
    g_object_weak_ref(G_OBJECT(stream), on_stream_finalized, conn_ref(c));
    l->served++;
    if (!l->sweep_id)
        l->sweep_id = g_timeout_add_seconds(1, on_sweep, l);
    g_clear_handle_id(&l->trim_id, g_source_remove);
    soup_server_accept_iostream(l->server, G_IO_STREAM(stream), l->local, remote, NULL);
    g_object_unref(stream);
    g_object_unref(remote);
}

static gboolean
on_acceptable(GSocket *sock, GIOCondition cond, gpointer data)
{
    VdApiListener *l = data;

    /* A bounded batch, so a flood of clients cannot hold the loop. */
    for (guint i = 0; i < 64; i++) {
        g_autoptr(GError) error = NULL;
        GSocket *client;

        if (g_hash_table_size(l->conns) >= l->max_connections) {
            if (!l->at_limit)
                g_warning("%u API connections are open, the most this daemon serves at once "
                          "(--max-connections): new clients wait until one closes",
                          l->max_connections);
            l->at_limit = TRUE;
            stop_accepting(l);
            return G_SOURCE_REMOVE;
        }
        client = g_socket_accept(sock, NULL, &error);
        if (!client) {
            if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
                return G_SOURCE_CONTINUE;
            accept_failed(l, error);
            return G_SOURCE_REMOVE;
        }
        if (l->failed_accepts) {
            g_message("accepting API connections again (%u attempts failed)", l->failed_accepts);
            l->failed_accepts = 0;
        }
        serve(l, client);
    }
    return G_SOURCE_CONTINUE;
}

static void
start_accepting(VdApiListener *l)
{
    if (l->accept_source || g_hash_table_size(l->conns) >= l->max_connections)
        return;
    if (l->at_limit) {
        g_info("fewer than %u API connections open: accepting again", l->max_connections);
        l->at_limit = FALSE;
    }
    /* After a failure, a connection that just closed freed a descriptor:
     * try now rather than at the end of the backoff. */
    g_clear_handle_id(&l->retry_id, g_source_remove);
    l->accept_source = g_socket_create_source(l->socket, G_IO_IN, NULL);
    g_source_set_callback(l->accept_source, G_SOURCE_FUNC(on_acceptable), l, NULL);
    g_source_set_name(l->accept_source, "virtd API accept");
    g_source_attach(l->accept_source, NULL);
}

/* ---- per message ---- */

static VdApiConn *
conn_of(SoupServerMessage *msg)
{
    return g_object_get_data(G_OBJECT(msg), CONN_KEY);
}

static void
on_got_body(SoupServerMessage *msg, gpointer data)
{
    VdApiConn *c = data;
    c->deadline = 0; /* a handler works on it now */
}

static void
on_answering(SoupServerMessage *msg, gpointer data)
{
    VdApiConn *c = data;
    if (c->l && !c->exempt)
        c->deadline = deadline_from_now(c->l);
}

static void
on_request_started(SoupServer *server, SoupServerMessage *msg, gpointer data)
{
    GSocketAddress *remote = soup_server_message_get_remote_address(msg);
    VdApiConn *c = remote ? g_object_get_data(G_OBJECT(remote), CONN_KEY) : NULL;

    if (!c)
        return;
    g_object_set_data_full(G_OBJECT(msg), CONN_KEY, conn_ref(c), conn_unref);
    g_signal_connect(msg, "got-body", G_CALLBACK(on_got_body), c);
    g_signal_connect(msg, "wrote-informational", G_CALLBACK(on_answering), c);
    g_signal_connect(msg, "wrote-headers", G_CALLBACK(on_answering), c);
}

void
vd_api_conn_exempt(SoupServerMessage *msg)
{
    VdApiConn *c = conn_of(msg);
    if (c) {
        c->exempt = TRUE;
        c->deadline = 0;
    }
}

GSocket *
vd_api_conn_get_socket(SoupServerMessage *msg)
{
    VdApiConn *c = conn_of(msg);
    return c ? g_object_ref(c->socket) : NULL;
}

void
vd_api_conn_abort(SoupServerMessage *msg)
{
    VdApiConn *c = conn_of(msg);
    if (c)
        g_socket_shutdown(c->socket, TRUE, TRUE, NULL);
}

/* ---- the listener ---- */

static guint
default_max_connections(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return MAX_CONNECTIONS_DEFAULT;
    rlim_t reserve = MIN(rl.rlim_cur / 4, FD_RESERVE_MAX);
    return (guint)MAX(1, MIN(rl.rlim_cur - reserve, MAX_CONNECTIONS_DEFAULT));
}

VdApiListener *
vd_api_listener_new(SoupServer *server, GSocket *sock, guint idle_timeout, guint max_connections)
{
    VdApiListener *l = g_new0(VdApiListener, 1);

    l->server = g_object_ref(server);
    l->socket = g_object_ref(sock);
    /* libsoup 3.2 builds the URI of an HTTP/1.0 request without Host from
     * the local address, which it takes for an inet one (criticals, then
     * 400, on the UNIX socket's). The daemon never looks at it. */
    g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    l->local = g_inet_socket_address_new(loopback, 0);
    l->idle_timeout = idle_timeout;
    l->max_connections = max_connections ? max_connections : default_max_connections();
    l->conns = g_hash_table_new_full(NULL, NULL, conn_unref, NULL);
    g_socket_set_blocking(sock, FALSE);
    l->started_handler =
        g_signal_connect(server, "request-started", G_CALLBACK(on_request_started), l);
    g_info("API: at most %u connections at once, idle timeout %u s", l->max_connections,
           idle_timeout);
    start_accepting(l);
    return l;
}

void
vd_api_listener_free(VdApiListener *l)
{
    GHashTableIter it;
    gpointer key;

    if (!l)
        return;
    stop_accepting(l);
    g_clear_handle_id(&l->retry_id, g_source_remove);
    g_clear_handle_id(&l->sweep_id, g_source_remove);
    g_clear_handle_id(&l->trim_id, g_source_remove);
    g_signal_handler_disconnect(l->server, l->started_handler);
    g_hash_table_iter_init(&it, l->conns);
    while (g_hash_table_iter_next(&it, &key, NULL))
        ((VdApiConn *)key)->l = NULL;
    g_hash_table_unref(l->conns);
    g_object_unref(l->local);
    g_object_unref(l->socket);
    g_object_unref(l->server);
    g_free(l);
}
