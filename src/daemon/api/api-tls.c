/* The API over TLS (api-tls.h). */
#include "daemon/api/api-tls.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "remote/remote-tls.h"
#include "util/vd-error.h"

/* How many handshakes run at once; the others wait their turn (their idle
 * deadline still runs). glib-networking runs each handshake, blocking, in
 * a thread of GTask's pool, the one the daemon's own work (files, images,
 * volumes) shares: a hundred clients that stalled mid-handshake held a
 * define for 20 s, until their idle timeout. So they get a few threads,
 * never the pool; and a client gets none before its whole ClientHello is
 * in (a silent client, a port scanner or plain HTTP never takes one). */
#define HANDSHAKES_AT_ONCE 4
/* A ClientHello is one TLS record: header, then at most 2^14 bytes. */
#define TLS_RECORD_HEADER 5
#define TLS_RECORD_MAX (TLS_RECORD_HEADER + 16384)
#define TLS_CONTENT_HANDSHAKE 0x16
/* Peeking again for the rest of a ClientHello split across segments. */
#define HELLO_RETRY_MS 20

struct _VdApiTls {
    guint running;         /* handshakes in GIO's hands now (main thread only) */
    GQueue waiting;        /* of Handshake: ClientHello in, waiting for a turn */
    GTlsCertificate *cert; /* the server's, with its key; NULL until the first
                            * connection when made from @pem */
    char *pem;             /* certificate and key, wiped once loaded */
    GTlsDatabase *ca;
    char **allowed_dn; /* NULL: any certificate the CA signed */
    char *dir;
};

/* ---- --listen ---- */

#define LISTEN_HINT                                                                                \
    "give tls://ADDRESS[:PORT] with an IP address (tls://0.0.0.0, tls://[::] for all, "            \
    "tls://192.0.2.1:16514; port 16514 by default)"

GSocketAddress *
vd_api_tls_parse_listen(const char *spec, GError **error)
{
    g_autoptr(GUri) uri = NULL;
    g_autoptr(GInetAddress) addr = NULL;
    const char *scheme = NULL;

    uri = g_uri_parse(spec, G_URI_FLAGS_NONE, NULL);
    if (uri)
        scheme = g_uri_get_scheme(uri);
    if (uri && scheme && !g_str_equal(scheme, "tls")) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "invalid --listen '%s': only tls:// is offered (plain TCP would let anyone "
                    "on the network drive the daemon unauthenticated); %s, and the certificates "
                    "of docs/remote-tls.md",
                    spec, LISTEN_HINT);
        return NULL;
    }
    if (!uri || !g_uri_get_host(uri) || !*g_uri_get_host(uri) || g_uri_get_userinfo(uri) ||
        g_uri_get_query(uri) || g_uri_get_fragment(uri) ||
        (*g_uri_get_path(uri) && !g_str_equal(g_uri_get_path(uri), "/"))) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "invalid --listen '%s': %s", spec,
                    LISTEN_HINT);
        return NULL;
    }
    addr = g_inet_address_new_from_string(g_uri_get_host(uri));
    if (!addr) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid --listen '%s': '%s' is not an IP address (host names are not "
                    "resolved: the daemon must know at start what it listens on); %s",
                    spec, g_uri_get_host(uri), LISTEN_HINT);
        return NULL;
    }
    int port = g_uri_get_port(uri);
    if (port == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "invalid --listen '%s': port 0; %s",
                    spec, LISTEN_HINT);
        return NULL;
    }
    return g_inet_socket_address_new(addr, port < 0 ? VD_TLS_DEFAULT_PORT : (guint16)port);
}

GSocket *
vd_api_tls_listen(GSocketAddress *addr, const char *spec, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(GSocket) sock = g_socket_new(g_socket_address_get_family(addr), G_SOCKET_TYPE_STREAM,
                                           G_SOCKET_PROTOCOL_TCP, &local);

    if (sock) {
        g_socket_set_listen_backlog(sock, 512);
        if (g_socket_bind(sock, addr, TRUE, &local) && g_socket_listen(sock, &local))
            return g_steal_pointer(&sock);
    }
    g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                "cannot listen on '%s': %s (another process on that port? `ss -ltnp` shows it; "
                "an address of this host? `ip addr` lists them)",
                spec, local->message);
    return NULL;
}

/* ---- credentials ---- */

VdApiTls *
vd_api_tls_new(const char *dir, const char *const *allowed_dn, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(GTlsDatabase) ca = vd_tls_load_ca(dir, &local);
    g_autoptr(GTlsCertificate) cert = ca ? vd_tls_load_cert(dir, TRUE, &local) : NULL;
    if (!cert) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "%s (make the CA and server certificate as docs/remote-tls.md says, or give "
                    "--tls-dir the directory that has them)",
                    local->message);
        return NULL;
    }
    /* The daemon's own certificate must be one its clients can check:
     * refusing every client later for a wrong file here is worse. */
    GTlsCertificateFlags flags =
        g_tls_database_verify_chain(ca, cert, G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, NULL,
                                    NULL, G_TLS_DATABASE_VERIFY_NONE, NULL, NULL);
    flags &= ~G_TLS_CERTIFICATE_BAD_IDENTITY;
    if (flags) {
        g_autofree char *why = vd_tls_cert_flags_to_string(flags);
        g_autofree char *dn = vd_tls_cert_dn(cert);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "the server certificate '%s/servercert.pem' (%s) is %s for the CA "
                    "'%s/cacert.pem': clients would refuse it; make it again "
                    "(docs/remote-tls.md)",
                    dir, dn ? dn : "no subject", why, dir);
        return NULL;
    }
    VdApiTls *t = g_atomic_rc_box_new0(VdApiTls);
    t->cert = g_steal_pointer(&cert);
    t->ca = g_steal_pointer(&ca);
    t->allowed_dn = allowed_dn && allowed_dn[0] ? g_strdupv((char **)allowed_dn) : NULL;
    t->dir = g_strdup(dir);
    g_queue_init(&t->waiting);
    return t;
}

VdApiTls *
vd_api_tls_new_server(const char *pem)
{
    VdApiTls *t = g_atomic_rc_box_new0(VdApiTls);
    t->pem = g_strdup(pem);
    g_queue_init(&t->waiting);
    return t;
}

VdApiTls *
vd_api_tls_ref(VdApiTls *t)
{
    return g_atomic_rc_box_acquire(t);
}

static void
wipe_pem(VdApiTls *t)
{
    if (t->pem) {
        explicit_bzero(t->pem, strlen(t->pem));
        g_clear_pointer(&t->pem, g_free);
    }
}

/* The certificate of a listener made from PEM, at its first connection
 * (main thread). web-cert.c loaded the same text in a child process at
 * start, so a failure here is not expected; each connection says it. */
static gboolean
ensure_cert(VdApiTls *t, GError **error)
{
    if (t->cert)
        return TRUE;
    t->cert = g_tls_certificate_new_from_pem(t->pem, -1, error);
    if (!t->cert)
        return FALSE;
    wipe_pem(t);
    return TRUE;
}

static void
tls_clear(gpointer data)
{
    VdApiTls *t = data;
    /* Each handshake holds a ref: none is waiting or running now. */
    g_clear_object(&t->cert);
    wipe_pem(t);
    g_clear_object(&t->ca);
    g_strfreev(t->allowed_dn);
    g_free(t->dir);
}

void
vd_api_tls_unref(VdApiTls *t)
{
    if (t)
        g_atomic_rc_box_release_full(t, tls_clear);
}

/* ---- the handshake ---- */

static void close_refused(GIOStream *stream, GSocket *socket);

typedef enum {
    STAGE_HELLO,   /* waiting for the client's ClientHello */
    STAGE_WAITING, /* in t->waiting */
    STAGE_RUNNING, /* GIO's */
} Stage;

typedef struct {
    VdApiTls *t;
    GIOStream *base; /* a GSocketConnection */
    GSocket *socket; /* base's */
    GIOStream *tls;
    char *peer;
    guint timeout;
    GCancellable *cancel;
    VdApiTlsDone done;
    gpointer data;
    Stage stage;
    GSource *hello_source;  /* STAGE_HELLO: the socket readable */
    guint hello_retry_id;   /* STAGE_HELLO: part of it came */
    GSource *cancel_source; /* before STAGE_RUNNING: h->cancel (the listener's end) */
    guint deadline_id;      /* STAGE_HELLO, STAGE_RUNNING: the client's --idle-timeout */
    /* What accept-certificate saw: a certificate the CA check refused. */
    GTlsCertificateFlags errors;
    gboolean dn_refused; /* a good certificate whose DN is not allowed */
    char *refused_dn;
} Handshake;

static void
stop_waiting(Handshake *h)
{
    if (h->hello_source) {
        g_source_destroy(h->hello_source);
        g_clear_pointer(&h->hello_source, g_source_unref);
    }
    g_clear_handle_id(&h->hello_retry_id, g_source_remove);
    g_clear_handle_id(&h->deadline_id, g_source_remove);
    if (h->cancel_source) {
        g_source_destroy(h->cancel_source);
        g_clear_pointer(&h->cancel_source, g_source_unref);
    }
    if (h->stage == STAGE_WAITING)
        g_queue_remove(&h->t->waiting, h);
}

static void
handshake_free(Handshake *h)
{
    stop_waiting(h);
    vd_api_tls_unref(h->t);
    if (h->tls)
        g_signal_handlers_disconnect_by_data(h->tls, h);
    g_clear_object(&h->tls);
    g_clear_object(&h->base);
    g_free(h->peer);
    g_clear_object(&h->cancel);
    g_free(h->refused_dn);
    g_free(h);
}

/* Called by GIO with the client's certificate and what the CA check found
 * (glib-networking calls it on the server side for every certificate,
 * good or not): remember why for the log, and refuse a DN not allowed
 * during the handshake, so that the client sees the handshake fail. Only
 * reads what never changes: it may run in GIO's handshake thread. */
static gboolean
on_accept_certificate(GTlsConnection *conn, GTlsCertificate *peer_cert, GTlsCertificateFlags errors,
                      gpointer data)
{
    Handshake *h = data;
    g_free(h->refused_dn);
    h->refused_dn = vd_tls_cert_dn(peer_cert);
    h->errors = errors;
    if (errors)
        return FALSE;
    h->dn_refused = !vd_tls_dn_allowed(h->refused_dn, (const char *const *)h->t->allowed_dn);
    return !h->dn_refused;
}

static void
refuse(Handshake *h, const char *dn, const char *why)
{
    g_message("TLS client %s refused (no HTTP served): %s%s%s%s", h->peer, why,
              dn ? " (certificate '" : "", dn ? dn : "", dn ? "')" : "");
    stop_waiting(h);
    close_refused(h->tls ? h->tls : h->base, h->socket);
    h->done(NULL, NULL, h->data);
    handshake_free(h);
}

static void
refuse_timed_out(Handshake *h)
{
    g_autofree char *why =
        g_strdup_printf("no TLS handshake completed within %u s (--idle-timeout)", h->timeout);
    refuse(h, NULL, why);
}

static void start_next(VdApiTls *t);

static void
on_handshake(GObject *source, GAsyncResult *res, gpointer data)
{
    Handshake *h = data;
    VdApiTls *t = vd_api_tls_ref(h->t);
    g_autoptr(GError) error = NULL;
    gboolean ok = g_tls_connection_handshake_finish(G_TLS_CONNECTION(source), res, &error);

    t->running--;
    if (!ok) {
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            refuse_timed_out(h);
        else if (h->dn_refused)
            refuse(h, h->refused_dn, "its DN matches no --tls-allowed-dn pattern");
        else if (h->errors) {
            g_autofree char *flags = vd_tls_cert_flags_to_string(h->errors);
            g_autofree char *why =
                g_strdup_printf("its certificate is %s (CA: %s/cacert.pem)", flags, t->dir);
            refuse(h, h->refused_dn, why);
        } else if (g_error_matches(error, G_TLS_ERROR, G_TLS_ERROR_CERTIFICATE_REQUIRED))
            refuse(h, NULL, "it sent no client certificate");
        else {
            g_autofree char *why = g_strdup_printf("TLS handshake failed: %s", error->message);
            refuse(h, h->refused_dn, why);
        }
    } else if (!t->ca) {
        /* The web listener: its users log in over HTTP (daemon/web/). */
        h->done(h->tls, NULL, h->data);
        handshake_free(h);
    } else {
        GTlsCertificate *cert = g_tls_connection_get_peer_certificate(G_TLS_CONNECTION(source));
        g_autofree char *dn = vd_tls_cert_dn(cert);
        if (!cert) {
            /* Cannot happen with authentication REQUIRED; never serve it. */
            refuse(h, NULL, "it sent no client certificate");
        } else if (!vd_tls_dn_allowed(dn, (const char *const *)t->allowed_dn)) {
            refuse(h, dn, "its DN matches no --tls-allowed-dn pattern");
        } else {
            g_debug("TLS client %s authenticated as '%s'", h->peer, dn ? dn : "");
            h->done(h->tls, dn, h->data);
            handshake_free(h);
        }
    }
    start_next(t);
    vd_api_tls_unref(t);
}

/* The client took longer than --idle-timeout: to send its ClientHello, or
 * to go through the handshake once its turn came (waiting for a turn is
 * not its doing: no deadline then). */
static gboolean
on_deadline(gpointer data)
{
    Handshake *h = data;
    h->deadline_id = 0;
    if (h->stage == STAGE_RUNNING)
        g_cancellable_cancel(h->cancel); /* on_handshake refuses */
    else
        refuse_timed_out(h);
    return G_SOURCE_REMOVE;
}

static void
start(Handshake *h)
{
    stop_waiting(h);
    h->stage = STAGE_RUNNING;
    h->t->running++;
    if (h->timeout)
        h->deadline_id = g_timeout_add_seconds(h->timeout, on_deadline, h);
    g_tls_connection_handshake_async(G_TLS_CONNECTION(h->tls), G_PRIORITY_DEFAULT, h->cancel,
                                     on_handshake, h);
}

static void
start_next(VdApiTls *t)
{
    while (t->running < HANDSHAKES_AT_ONCE && !g_queue_is_empty(&t->waiting)) {
        Handshake *h = g_queue_pop_head(&t->waiting);
        h->stage = STAGE_HELLO; /* off the queue: stop_waiting must not look there */
        start(h);
    }
}

/* The listener is going away (daemon stopping). */
static gboolean
on_cancelled(GCancellable *cancel, gpointer data)
{
    Handshake *h = data;
    g_clear_pointer(&h->cancel_source, g_source_unref); /* destroyed by returning REMOVE */
    refuse(h, NULL, "the daemon is stopping");
    return G_SOURCE_REMOVE;
}

static void watch_hello(Handshake *h);

static gboolean
on_hello_retry(gpointer data)
{
    Handshake *h = data;
    h->hello_retry_id = 0;
    watch_hello(h);
    return G_SOURCE_REMOVE;
}

/* The socket is readable: is the client's first TLS record all there?
 * Peeked, not read: GIO reads it again for the handshake. */
static gboolean
on_hello_readable(GSocket *sock, GIOCondition cond, gpointer data)
{
    Handshake *h = data;
    static char buf[TLS_RECORD_MAX];
    gssize n = recv(g_socket_get_fd(sock), buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    int saved = errno;

    if (n < 0 && (saved == EAGAIN || saved == EINTR))
        return G_SOURCE_CONTINUE;
    g_clear_pointer(&h->hello_source, g_source_unref); /* destroyed by returning REMOVE */
    if (n == 0) {
        /* Gone before saying anything: a probe, not a refusal. */
        g_debug("TLS client %s closed the connection before a TLS handshake", h->peer);
        stop_waiting(h);
        g_socket_close(h->socket, NULL);
        h->done(NULL, NULL, h->data);
        handshake_free(h);
        return G_SOURCE_REMOVE;
    }
    if (n < 0) {
        g_autofree char *why = g_strdup_printf("connection failed: %s", g_strerror(saved));
        refuse(h, NULL, why);
        return G_SOURCE_REMOVE;
    }
    if ((guchar)buf[0] != TLS_CONTENT_HANDSHAKE) {
        refuse(h, NULL, "it does not speak TLS (plain HTTP on the TLS port?)");
        return G_SOURCE_REMOVE;
    }
    /* A record longer than TLS allows is GIO's to refuse: start then. */
    if (n < TLS_RECORD_HEADER ||
        n < MIN(TLS_RECORD_HEADER + (((guchar)buf[3] << 8) | (guchar)buf[4]), TLS_RECORD_MAX)) {
        /* The rest will come: the socket stays readable meanwhile, so
         * look again in a moment rather than spin. */
        h->hello_retry_id = g_timeout_add(HELLO_RETRY_MS, on_hello_retry, h);
        return G_SOURCE_REMOVE;
    }
    if (h->t->running < HANDSHAKES_AT_ONCE) {
        start(h);
    } else {
        g_clear_handle_id(&h->deadline_id, g_source_remove);
        h->stage = STAGE_WAITING;
        g_queue_push_tail(&h->t->waiting, h);
    }
    return G_SOURCE_REMOVE;
}

static void
watch_hello(Handshake *h)
{
    h->hello_source = g_socket_create_source(h->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
    g_source_set_callback(h->hello_source, G_SOURCE_FUNC(on_hello_readable), h, NULL);
    g_source_attach(h->hello_source, NULL);
}

void
vd_api_tls_handshake(VdApiTls *t, GIOStream *base, const char *peer, guint timeout,
                     GCancellable *cancel, VdApiTlsDone done, gpointer data)
{
    g_autoptr(GError) error = NULL;
    Handshake *h = g_new0(Handshake, 1);

    h->t = vd_api_tls_ref(t);
    h->base = g_object_ref(base);
    h->socket = g_socket_connection_get_socket(G_SOCKET_CONNECTION(base));
    h->peer = g_strdup(peer);
    h->timeout = timeout;
    h->cancel = cancel ? g_object_ref(cancel) : g_cancellable_new();
    h->done = done;
    h->data = data;
    h->stage = STAGE_HELLO;
    /* The database is given at construction: GIO's initable_init asks
     * for it, and an unset one is the system's trust store, which the TLS
     * backend then parses and keeps for good (~4 MiB of heap from the
     * first connection on) although no certificate is checked against it
     * (the web listener asks none; --listen tls:// checks against its CA). */
    if (!ensure_cert(t, &error)) {
        g_autofree char *why =
            g_strdup_printf("cannot load the server certificate: %s", error->message);
        refuse(h, NULL, why);
        return;
    }
    h->tls = G_IO_STREAM(g_initable_new(
        g_tls_backend_get_server_connection_type(g_tls_backend_get_default()), NULL, &error,
        "base-io-stream", base, "certificate", t->cert, "database", t->ca, NULL));
    if (!h->tls) {
        g_autofree char *why = g_strdup_printf("cannot start TLS: %s", error->message);
        refuse(h, NULL, why);
        return;
    }
    if (t->ca) {
        g_object_set(h->tls, "authentication-mode", G_TLS_AUTHENTICATION_REQUIRED, NULL);
        g_signal_connect(h->tls, "accept-certificate", G_CALLBACK(on_accept_certificate), h);
    }
    h->cancel_source = g_cancellable_source_new(h->cancel);
    g_source_set_callback(h->cancel_source, G_SOURCE_FUNC(on_cancelled), h, NULL);
    g_source_attach(h->cancel_source, NULL);
    if (timeout)
        h->deadline_id = g_timeout_add_seconds(timeout, on_deadline, h);
    watch_hello(h);
}

/* ---- closing a refused client ---- */

#define LINGER_MS 2000
#define LINGER_MAX_BYTES (64 * 1024)

typedef struct {
    GIOStream *stream; /* kept: disposing it would close the socket at once */
    GSocket *socket;
    GSource *in;
    guint timeout_id;
    gsize dropped;
} Linger;

static void
linger_end(Linger *lg)
{
    g_source_destroy(lg->in);
    g_source_unref(lg->in);
    g_clear_handle_id(&lg->timeout_id, g_source_remove);
    g_socket_close(lg->socket, NULL);
    g_object_unref(lg->socket);
    g_object_unref(lg->stream);
    g_free(lg);
}

static gboolean
on_linger_readable(GSocket *sock, GIOCondition cond, gpointer data)
{
    Linger *lg = data;
    char buf[4096];
    gssize n = g_socket_receive(sock, buf, sizeof buf, NULL, NULL);

    if (n > 0 && (lg->dropped += (gsize)n) < LINGER_MAX_BYTES)
        return G_SOURCE_CONTINUE;
    if (n < 0 && !g_socket_condition_check(sock, G_IO_HUP | G_IO_ERR) &&
        lg->dropped < LINGER_MAX_BYTES)
        return G_SOURCE_CONTINUE; /* would block */
    linger_end(lg);
    return G_SOURCE_REMOVE;
}

static gboolean
on_linger_timeout(gpointer data)
{
    Linger *lg = data;
    lg->timeout_id = 0;
    linger_end(lg);
    return G_SOURCE_REMOVE;
}

/* Closes the connection of a refused client so that it gets our TLS
 * alert rather than a reset (within LINGER_MS). */
static void
close_refused(GIOStream *stream, GSocket *socket)
{
    Linger *lg = g_new0(Linger, 1);

    /* Closing at once, with the client's next records unread, makes the
     * kernel answer with a reset, which overtakes the TLS alert already
     * sent: the client would see "connection reset" instead of the TLS
     * refusal. So: the end of our side now, what the client still sends
     * read and dropped, closed at its end (or after a bound). */
    g_socket_shutdown(socket, FALSE, TRUE, NULL);
    lg->socket = g_object_ref(socket);
    lg->stream = g_object_ref(stream);
    lg->in = g_socket_create_source(socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
    g_source_set_callback(lg->in, G_SOURCE_FUNC(on_linger_readable), lg, NULL);
    g_source_set_name(lg->in, "virtd TLS refusal");
    g_source_attach(lg->in, NULL);
    lg->timeout_id = g_timeout_add(LINGER_MS, on_linger_timeout, lg);
}
