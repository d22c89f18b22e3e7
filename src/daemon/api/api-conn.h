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

/* The default for --idle-timeout: how long a client may take to send a
 * request, or to take the answer, before its connection is closed. */
#define VD_API_IDLE_TIMEOUT_DEFAULT 60

/* Serves @server on the listening socket @sock (bound, listening). At
 * most @max_connections are open at once (0: from the descriptor limit);
 * the others wait in the socket's backlog. */
VdApiListener *vd_api_listener_new(SoupServer *server, GSocket *sock, guint idle_timeout,
                                   guint max_connections);
void vd_api_listener_free(VdApiListener *l);

/* The connection carrying @msg is exempt from the idle timeout from now
 * on: a console session, or volume data that may pause for long. */
void vd_api_conn_exempt(SoupServerMessage *msg);
/* The socket of the connection carrying @msg (ref'd), or NULL. */
GSocket *vd_api_conn_get_socket(SoupServerMessage *msg);
/* Cuts the connection carrying @msg at once (the answer cannot be
 * changed any more, e.g. a download whose file shrank). */
void vd_api_conn_abort(SoupServerMessage *msg);
