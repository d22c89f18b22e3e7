/* The API over TLS (virtd --listen tls://ADDR:PORT, docs/remote-tls.md):
 * the listening sockets, and the handshake every TCP connection goes
 * through before libsoup sees it.
 *
 * Only clients with a certificate the CA of --tls-dir signed (valid now)
 * and whose subject DN matches --tls-allowed-dn (if given) get HTTP at
 * all; any other is closed after the handshake fails, and the daemon logs
 * its address, its DN if it sent a certificate, and why. Plain TCP is
 * never offered. api-conn.c accepts these sockets with the UNIX one's
 * limits (max connections, idle timeout, descriptor exhaustion). */
#pragma once

#include <gio/gio.h>

typedef struct _VdApiTls VdApiTls;

/* "tls://ADDR[:PORT]" (ADDR an IPv4 or IPv6 literal, [::] and 0.0.0.0 for
 * all; PORT 16514 by default) as a socket address; an error says what
 * --listen takes. */
GSocketAddress *vd_api_tls_parse_listen(const char *spec, GError **error);
/* A bound, listening TCP socket for @addr (@spec names it in errors). */
GSocket *vd_api_tls_listen(GSocketAddress *addr, const char *spec, GError **error);

/* The CA and server certificate of @dir; @allowed_dn: glob patterns a
 * client's DN must match one of (NULL or empty: any certificate the CA
 * signed). Fails with the file to make and how. */
VdApiTls *vd_api_tls_new(const char *dir, const char *const *allowed_dn, GError **error);
/* A server certificate alone, no client certificates asked for: the web
 * listener's (daemon/web/; its users log in over HTTP instead). @pem: the
 * certificate and its key, already checked (web-cert.c), loaded only at
 * the first connection: loading it is what brings GnuTLS into the daemon
 * (~3 MiB resident), and a web console nobody opens need not pay it. */
VdApiTls *vd_api_tls_new_server(const char *pem);
VdApiTls *vd_api_tls_ref(VdApiTls *t);
void vd_api_tls_unref(VdApiTls *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdApiTls, vd_api_tls_unref)

/* Called once the client of a handshake is known: @tls the connection to
 * serve and @dn its certificate's subject, or both NULL when the client
 * was refused (already logged; api-tls.c closes its connection). */
typedef void (*VdApiTlsDone)(GIOStream *tls, const char *dn, gpointer data);

/* Starts the server side of TLS on @base; @peer ("ADDR:PORT") names the
 * client in the log. The client has @timeout seconds (0: no limit) to send
 * its ClientHello, and as long to complete the handshake once its turn
 * comes (a few run at once). Cancelling @cancel (the listener's end)
 * refuses it. */
void vd_api_tls_handshake(VdApiTls *t, GIOStream *base, const char *peer, guint timeout,
                          GCancellable *cancel, VdApiTlsDone done, gpointer data);
