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
 * TLS connections (api-tls.h) count against the same limits; api-tls.c
 * bounds the handshake with the same idle timeout, then the request gets
 * its own deadline here.
 *
 * Keep-alive: libsoup 3.2 keeps a connection alive only for servers it
 * listens for itself, and even then never notices a client closing an
 * idle one (the descriptor and the connection's objects stay for good).
 * So a UNIX connection carries one request (vsh makes one per process).
 * A TLS one (--listen tls://, --web) is worth keeping: a browser loading
 * a page would pay one handshake per request. Once an answer is written
 * in full, the stream is taken back from libsoup
 * (soup_server_message_steal_connection) and handed to it again as a new
 * connection, which reads the next request or sees the client go. Between
 * requests the idle timeout applies. Pipelined requests (sent before the
 * answer) are not served: browsers do not pipeline. */
#include "daemon/api/api-conn.h"

#include "daemon/api/api-tls.h"

#include <errno.h>
#include <gio/gunixsocketaddress.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

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
    GCancellable *handshake; /* while a TLS client has not proven who it is */
    GSocketAddress *remote;  /* to hand to libsoup (it carries CONN_KEY); UNIX: NULL once handed */
    GIOStream *io;           /* TLS: the stream handed to libsoup, not ref'd (libsoup's) */
    gboolean body_read;      /* the current request's body is in */
    VdApiIdentity id;
} VdApiConn;

/* A listening socket: the UNIX one, or a --listen tls:// one. */
typedef struct {
    VdApiListener *l;
    GSocket *socket;
    GSource *accept_source; /* NULL while not accepting */
    VdApiTls *tls;          /* NULL: the UNIX socket */
    gboolean web;           /* a --web socket (tls set, no client certificate) */
    char *name;             /* for the log */
} VdApiPort;

struct _VdApiListener {
    SoupServer *server;
    GPtrArray *ports; /* of VdApiPort, the UNIX socket's first */
    GSocketAddress *local;
    guint retry_id; /* after a failed accept */
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
    g_clear_object(&c->handshake);
    g_free(c->id.dn);
    g_free(c->id.address);
    g_free(c->id.user);
    g_free(c->id.auth);
    g_free(c->id.groups);
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
    for (guint i = 0; i < l->ports->len; i++) {
        VdApiPort *p = g_ptr_array_index(l->ports, i);
        if (p->accept_source) {
            g_source_destroy(p->accept_source);
            g_clear_pointer(&p->accept_source, g_source_unref);
        }
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
accept_failed(VdApiListener *l, VdApiPort *p, const GError *error)
{
    struct rlimit rl = {0};

    stop_accepting(l);
    if (l->failed_accepts++ == 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        g_warning("cannot accept connections on %s: %s (%u API connections open, "
                  "descriptor limit %llu); retrying until descriptors free up",
                  p->name, error->message, g_hash_table_size(l->conns),
                  (unsigned long long)rl.rlim_cur);
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

    /* The address refs the VdApiConn: the cycle ends with the stream. */
    g_clear_object(&c->remote);
    c->io = NULL;
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

/* Hands @stream to libsoup: from now on it reads requests. */
static void
hand_to_soup(VdApiConn *c, GIOStream *stream)
{
    VdApiListener *l = c->l;
    soup_server_accept_iostream(l->server, stream, l->local, c->remote, NULL);
}

static void
on_tls_done(GIOStream *tls, const char *dn, gpointer data)
{
    VdApiConn *c = data;

    g_clear_object(&c->handshake);
    if (!tls || !c->l) {
        /* Refused (logged and being closed), or the daemon is stopping:
         * no HTTP at all. */
        if (tls)
            g_socket_close(c->socket, NULL);
    } else {
        c->id.dn = g_strdup(dn);
        /* The request gets its own idle timeout, as on the UNIX socket. */
        c->deadline = deadline_from_now(c->l);
        c->io = tls;
        hand_to_soup(c, tls);
    }
    if (!c->io)
        g_clear_object(&c->remote);
    conn_unref(c);
}

/* Who is at the other end of the UNIX socket @fd: the kernel's word
 * (SO_PEERCRED: uid, gid, pid at connect; SO_PEERGROUPS: the
 * supplementary groups, Linux 4.13), so that deciding the client's access
 * (daemon/access/access.h) needs no look-up in the group database. */
static void
peer_credentials(int fd, VdApiIdentity *id)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof(cred)) {
        id->uid = cred.uid;
        id->gid = cred.gid;
        id->pid = cred.pid;
    }
    guint32 some[32];
    len = sizeof(some);
    guint32 *groups = some;
    int rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len);
    if (rc < 0 && errno == ERANGE && len > sizeof(some)) {
        groups = g_malloc(len); /* a member of more than 32 groups */
        rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len);
    }
    if (rc == 0) {
        id->ngroups = len / sizeof(guint32);
        id->groups = groups == some ? g_memdup2(some, len) : groups;
    } else if (groups != some) {
        g_free(groups);
    }
}

static void
serve(VdApiPort *p, GSocket *client)
{
    VdApiListener *l = p->l;
    GSocketConnection *stream = g_socket_connection_factory_create_connection(client);
    VdApiConn *c = g_new0(VdApiConn, 1);

    c->refs = 1; /* the set's */
    c->l = l;
    c->socket = client;
    c->stream = G_OBJECT(stream);
    c->deadline = deadline_from_now(l);
    c->id.uid = -1;
    c->id.pid = -1;
    c->id.gid = -1;
    if (p->tls) {
        /* An answer goes out as several TLS records (headers, body): with
         * Nagle's algorithm the second waits for the client's delayed ACK,
         * ~40 ms a request. Nothing here gains from coalescing. */
        g_socket_set_option(client, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
        /* The real address, for the log and for libsoup. */
        c->id.transport = p->web ? VD_API_TRANSPORT_WEB : VD_API_TRANSPORT_TLS;
        c->remote = g_socket_get_remote_address(client, NULL);
        if (c->remote) {
            g_autofree char *ip = g_inet_address_to_string(
                g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(c->remote)));
            guint16 port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(c->remote));
            c->id.address = strchr(ip, ':') ? g_strdup_printf("[%s]:%u", ip, port)
                                            : g_strdup_printf("%s:%u", ip, port);
        } else {
            c->id.address = g_strdup("unknown address");
        }
    } else {
        c->id.transport = VD_API_TRANSPORT_UNIX;
        peer_credentials(g_socket_get_fd(client), &c->id);
    }
    if (!c->remote)
        c->remote = g_unix_socket_address_new_with_type("", 0, G_UNIX_SOCKET_ADDRESS_ANONYMOUS);
    g_hash_table_add(l->conns, c);
    /* The address object lives as long as libsoup's connection, and
     * keeps a ref on the VdApiConn. */
    g_object_set_data_full(G_OBJECT(c->remote), CONN_KEY, conn_ref(c), conn_unref);
    g_object_weak_ref(G_OBJECT(stream), on_stream_finalized, conn_ref(c));
    l->served++;
    if (!l->sweep_id)
        l->sweep_id = g_timeout_add_seconds(1, on_sweep, l);
    g_clear_handle_id(&l->trim_id, g_source_remove);
    if (p->tls) {
        /* The handshake's deadlines are api-tls.c's (a client waiting
         * for its turn is not idle); the request's start after it. */
        c->deadline = 0;
        c->handshake = g_cancellable_new();
        vd_api_tls_handshake(p->tls, G_IO_STREAM(stream), c->id.address, l->idle_timeout,
                             c->handshake, on_tls_done, conn_ref(c));
    } else {
        hand_to_soup(c, G_IO_STREAM(stream));
        g_clear_object(&c->remote);
    }
    g_object_unref(stream);
}

static gboolean
on_acceptable(GSocket *sock, GIOCondition cond, gpointer data)
{
    VdApiPort *p = data;
    VdApiListener *l = p->l;

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
            accept_failed(l, p, error);
            return G_SOURCE_REMOVE;
        }
        if (l->failed_accepts) {
            g_message("accepting API connections again (%u attempts failed)", l->failed_accepts);
            l->failed_accepts = 0;
        }
        serve(p, client);
    }
    return G_SOURCE_CONTINUE;
}

static void
start_accepting(VdApiListener *l)
{
    if (g_hash_table_size(l->conns) >= l->max_connections)
        return;
    if (l->at_limit) {
        g_info("fewer than %u API connections open: accepting again", l->max_connections);
        l->at_limit = FALSE;
    }
    /* After a failure, a connection that just closed freed a descriptor:
     * try now rather than at the end of the backoff. */
    g_clear_handle_id(&l->retry_id, g_source_remove);
    for (guint i = 0; i < l->ports->len; i++) {
        VdApiPort *p = g_ptr_array_index(l->ports, i);
        if (p->accept_source)
            continue;
        p->accept_source = g_socket_create_source(p->socket, G_IO_IN, NULL);
        g_source_set_callback(p->accept_source, G_SOURCE_FUNC(on_acceptable), p, NULL);
        g_source_set_name(p->accept_source, "virtd API accept");
        g_source_attach(p->accept_source, NULL);
    }
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
    c->body_read = TRUE;
}

static gboolean
keeps_alive(VdApiConn *c, SoupServerMessage *msg)
{
    SoupMessageHeaders *req = soup_server_message_get_request_headers(msg);
    SoupMessageHeaders *resp = soup_server_message_get_response_headers(msg);

    /* Only once the whole request was read: unread body bytes would be
     * taken for the next request. */
    return c->l && c->io && c->remote && !c->exempt && c->body_read &&
           soup_server_message_get_http_version(msg) == SOUP_HTTP_1_1 &&
           !soup_message_headers_header_contains(req, "Connection", "close") &&
           !soup_message_headers_header_contains(resp, "Connection", "close") &&
           soup_message_headers_get_encoding(resp) != SOUP_ENCODING_EOF;
}

/* The answer is written in full: take the stream back and hand it to
 * libsoup again for the next request (see the top of this file). */
static void
on_wrote_body(SoupServerMessage *msg, gpointer data)
{
    VdApiConn *c = data;

    if (!keeps_alive(c, msg))
        return;
    g_autoptr(GIOStream) io = g_object_ref(c->io);
    g_autoptr(GIOStream) stolen = soup_server_message_steal_connection(msg);
    if (!stolen)
        return;
    /* libsoup emits it only for the messages it finishes itself;
     * handlers free their state on it. */
    g_signal_emit_by_name(msg, "finished");
    conn_ref(c);
    hand_to_soup(c, io);
    conn_unref(c);
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
    /* A new request: nothing of the connection's previous one holds. */
    c->body_read = FALSE;
    c->exempt = FALSE;
    if (c->l && !c->handshake)
        c->deadline = deadline_from_now(c->l);
    g_clear_pointer(&c->id.user, g_free);
    g_clear_pointer(&c->id.auth, g_free);
    g_signal_connect(msg, "got-body", G_CALLBACK(on_got_body), c);
    g_signal_connect(msg, "wrote-body", G_CALLBACK(on_wrote_body), c);
    g_signal_connect(msg, "wrote-informational", G_CALLBACK(on_answering), c);
    g_signal_connect(msg, "wrote-headers", G_CALLBACK(on_answering), c);
}

gboolean
vd_api_conn_keeps_alive(SoupServerMessage *msg)
{
    VdApiConn *c = conn_of(msg);
    return c && c->io;
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

const VdApiIdentity *
vd_api_conn_get_identity(SoupServerMessage *msg)
{
    VdApiConn *c = conn_of(msg);
    return c ? &c->id : NULL;
}

const char *
vd_api_transport_to_string(VdApiTransport transport)
{
    return transport == VD_API_TRANSPORT_TLS   ? "tls"
           : transport == VD_API_TRANSPORT_WEB ? "web"
                                               : "unix";
}

void
vd_api_conn_set_user(SoupServerMessage *msg, const char *user, const char *auth)
{
    VdApiConn *c = conn_of(msg);
    if (!c)
        return;
    g_free(c->id.user);
    g_free(c->id.auth);
    c->id.user = g_strdup(user);
    c->id.auth = g_strdup(auth);
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

static void
port_free(gpointer data)
{
    VdApiPort *p = data;
    if (p->accept_source) {
        g_source_destroy(p->accept_source);
        g_source_unref(p->accept_source);
    }
    g_object_unref(p->socket);
    vd_api_tls_unref(p->tls);
    g_free(p->name);
    g_free(p);
}

static VdApiPort *
add_port(VdApiListener *l, GSocket *sock, VdApiTls *tls, const char *name)
{
    VdApiPort *p = g_new0(VdApiPort, 1);
    p->l = l;
    p->socket = g_object_ref(sock);
    p->tls = tls ? vd_api_tls_ref(tls) : NULL;
    p->name = g_strdup(name);
    g_socket_set_blocking(sock, FALSE);
    g_ptr_array_add(l->ports, p);
    return p;
}

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
    l->ports = g_ptr_array_new_with_free_func(port_free);
    if (sock)
        add_port(l, sock, NULL, "the API socket");
    /* libsoup 3.2 builds the URI of an HTTP/1.0 request without Host from
     * the local address, which it takes for an inet one (criticals, then
     * 400, on the UNIX socket's). The daemon never looks at it. */
    g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    l->local = g_inet_socket_address_new(loopback, 0);
    l->idle_timeout = idle_timeout;
    l->max_connections = max_connections ? max_connections : default_max_connections();
    l->conns = g_hash_table_new_full(NULL, NULL, conn_unref, NULL);
    l->started_handler =
        g_signal_connect(server, "request-started", G_CALLBACK(on_request_started), l);
    g_info("API: at most %u connections at once, idle timeout %u s", l->max_connections,
           idle_timeout);
    start_accepting(l);
    return l;
}

VdApiListener *
vd_api_listener_new_web(SoupServer *server, guint idle_timeout, guint max_connections)
{
    return vd_api_listener_new(server, NULL, idle_timeout, max_connections);
}

void
vd_api_listener_add_web(VdApiListener *l, GSocket *sock, VdApiTls *tls, const char *name)
{
    add_port(l, sock, tls, name)->web = TRUE;
    g_info("web: serving HTTPS on %s", name);
    start_accepting(l);
}

void
vd_api_listener_add_tls(VdApiListener *l, GSocket *sock, VdApiTls *tls, const char *name)
{
    add_port(l, sock, tls, name);
    g_info("API: serving TLS clients on %s", name);
    start_accepting(l);
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
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        VdApiConn *c = key;
        c->l = NULL;
        if (c->handshake) /* on_tls_done closes it */
            g_cancellable_cancel(c->handshake);
    }
    g_hash_table_unref(l->conns);
    g_object_unref(l->local);
    g_ptr_array_unref(l->ports);
    g_object_unref(l->server);
    g_free(l);
}
