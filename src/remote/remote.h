/* A connection to a virtd API, local or remote, for vsh and for a daemon
 * talking to its migration peer: one SoupSession and the base URL its
 * requests go to. Everything above it (HTTP, JSON, WebSockets for the
 * console, streamed volume data) is the same whatever the transport:
 *
 *  - UNIX: the session's remote-connectable is the socket; URLs are
 *    http://localhost/v1/...
 *  - SSH: the user's own ssh forwards a private local UNIX socket to the
 *    remote daemon's socket (ssh -N -L LOCAL:REMOTE, OpenSSH's stream-local
 *    forwarding: no port opened on the remote host, ssh-agent and
 *    ~/.ssh/config apply); the session connects to the local end. The ssh
 *    process lives as long as the VdRemote.
 *  - TLS: https://HOST:PORT/v1/..., the server checked against the CA,
 *    the client certificate presented (remote-tls.h).
 *
 * The SoupSession is bound to the thread-default main context of the
 * thread that made it; use it there. */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "remote/remote-uri.h"

typedef struct _VdRemote VdRemote;

/* Opens @uri. @pki_dir: where TLS credentials are (NULL: remote-tls.h's
 * defaults for the calling user). Blocks for an SSH tunnel until it is
 * up (bounded); otherwise connects nothing until the first request. */
VdRemote *vd_remote_open(const VdRemoteUri *uri, const char *pki_dir, GError **error);
/* The same, without blocking the calling thread's main loop: the tunnel
 * is made in a worker, the session in the caller's context. */
void vd_remote_open_async(const VdRemoteUri *uri, const char *pki_dir, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data);
VdRemote *vd_remote_open_finish(GAsyncResult *result, GError **error);
void vd_remote_free(VdRemote *remote);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdRemote, vd_remote_free)

/* Whether ssh may ask for a password or passphrase when stdin is a
 * terminal (default TRUE: vsh). A daemon calls it with FALSE at start: its
 * ssh always runs with BatchMode=yes and stdin on /dev/null. */
void vd_remote_set_interactive(gboolean interactive);

const VdRemoteUri *vd_remote_uri(const VdRemote *remote);
SoupSession *vd_remote_session(const VdRemote *remote);
/* The URL of @path ("/v1/..."; path and query) on this connection. */
char *vd_remote_url(const VdRemote *remote, const char *path);
/* The local UNIX socket requests go through (UNIX: the daemon's; SSH: the
 * tunnel's), or NULL (TLS). */
const char *vd_remote_local_socket(const VdRemote *remote);
/* The error for a request that got no HTTP answer (VD_ERROR_CONNECT):
 * virsh's "Failed to connect socket to 'PATH': ERRNO" for a local socket
 * nobody listens on, the ssh's own last words, the TLS handshake's
 * reason (unknown CA, certificate refused), else @cause's message. */
void vd_remote_set_transport_error(const VdRemote *remote, const GError *cause, GError **error);
