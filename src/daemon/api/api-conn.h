/* The API's connections: accepting them, bounding how many are open and
 * how long a client may take, and recovering when descriptors run out.
 *
 * The daemon accepts on its socket itself and hands each connection to
 * libsoup (soup_server_accept_iostream) instead of letting libsoup listen,
 * because libsoup 3.2's listener (Debian 12) drops its accept source for
 * good on the first failed accept (EMFILE: the API never answers again),
 * and leaks a GSocket for every connection it accepts. */
#pragma once

#include <libsoup/soup.h>

typedef struct _VdApiListener VdApiListener;
typedef struct _VdApiTls VdApiTls;

/* Who a request came from (issue 15 authorizes on it). */
typedef enum {
    VD_API_TRANSPORT_UNIX, /* the local socket */
    VD_API_TRANSPORT_TLS,  /* --listen tls://: a client certificate the CA signed */
    VD_API_TRANSPORT_WEB,  /* --web: HTTPS, a user logged in (daemon/web/) */
} VdApiTransport;

typedef struct {
    VdApiTransport transport;
    gint64 uid;    /* UNIX: the client process's uid (SO_PEERCRED); -1: unknown, or TLS */
    gint64 pid;    /* UNIX: its pid; -1: unknown, or TLS */
    gint64 gid;    /* UNIX: its primary gid (SO_PEERCRED); -1: unknown, or TLS */
    guint32 *groups; /* UNIX: its supplementary gids (SO_PEERGROUPS), no passwd look-up */
    guint ngroups;
    char *dn;      /* TLS: the client certificate's subject DN ("C=..,O=..,CN=..") */
    char *address; /* TLS, WEB: the client's "ADDR:PORT" ("[ADDR]:PORT" for IPv6) */
    char *user;    /* WEB: the host account the request runs for, once authenticated */
    char *auth;    /* WEB: how: "session" or "token NAME" */
} VdApiIdentity;

/* The default for --idle-timeout: how long a client may take to send a
 * request, or to take the answer, before its connection is closed. */
#define VD_API_IDLE_TIMEOUT_DEFAULT 60

/* Serves @server on the listening socket @sock (bound, listening). At
 * most @max_connections are open at once (0: from the descriptor limit);
 * the others wait in the socket's backlog. */
VdApiListener *vd_api_listener_new(SoupServer *server, GSocket *sock, guint idle_timeout,
                                   guint max_connections);
/* The same for a listener of --web sockets only (vd_api_listener_add_web). */
VdApiListener *vd_api_listener_new_web(SoupServer *server, guint idle_timeout,
                                       guint max_connections);
void vd_api_listener_free(VdApiListener *l);
/* Also serves TLS clients on @sock (bound, listening; api-tls.h), within
 * the same limits; @name ("tls://ADDR:PORT") is for the log. */
void vd_api_listener_add_tls(VdApiListener *l, GSocket *sock, VdApiTls *tls, const char *name);
/* Serves HTTPS on @sock with @tls (vd_api_tls_new_server): no client
 * certificate; the requests' identity is VD_API_TRANSPORT_WEB. */
void vd_api_listener_add_web(VdApiListener *l, GSocket *sock, VdApiTls *tls, const char *name);

/* Where the request @msg came from, valid as long as @msg; NULL for a
 * message not from the listener. */
const VdApiIdentity *vd_api_conn_get_identity(SoupServerMessage *msg);
const char *vd_api_transport_to_string(VdApiTransport transport);
/* The web user that @msg's connection authenticated as (@auth: "session",
 * "token NAME"): what the audit log names. */
void vd_api_conn_set_user(SoupServerMessage *msg, const char *user, const char *auth);

/* Whether @msg's connection may carry further requests (TLS ones do,
 * api-conn.c): else its answer says "Connection: close". */
gboolean vd_api_conn_keeps_alive(SoupServerMessage *msg);

/* The connection carrying @msg is exempt from the idle timeout from now
 * on: a console session, or volume data that may pause for long. */
void vd_api_conn_exempt(SoupServerMessage *msg);
/* The socket of the connection carrying @msg (ref'd), or NULL. */
GSocket *vd_api_conn_get_socket(SoupServerMessage *msg);
/* Cuts the connection carrying @msg at once (the answer cannot be
 * changed any more, e.g. a download whose file shrank). */
void vd_api_conn_abort(SoupServerMessage *msg);
