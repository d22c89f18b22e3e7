/* The SSH tunnel of an ssh:// connection (remote.h): the user's own ssh
 * forwarding a private local UNIX socket to the remote daemon's socket.
 * Private to remote/. */
#pragma once

#include <gio/gio.h>

#include "remote/remote-uri.h"

/* How long vd_ssh_tunnel_wait waits for ssh to log in and forward. */
#define VD_SSH_TUNNEL_TIMEOUT_S 30

typedef struct _VdSshTunnel VdSshTunnel;

/* vd_remote_set_interactive()'s setting. */
extern gboolean vd_remote_interactive;

/* Spawns ssh for @uri (does not block: no waiting for the login). */
VdSshTunnel *vd_ssh_tunnel_spawn(const VdRemoteUri *uri, GError **error);
/* Blocks (bounded by VD_SSH_TUNNEL_TIMEOUT_S and @cancellable) until the
 * tunnel carries a request to the remote daemon: ssh logged in, forwards,
 * and the remote socket answers. Safe from a worker thread. */
gboolean vd_ssh_tunnel_wait(VdSshTunnel *tunnel, GCancellable *cancellable, GError **error);
/* The local end. */
const char *vd_ssh_tunnel_socket(const VdSshTunnel *tunnel);
/* Why requests through the tunnel fail, from ssh's own words (ssh exited,
 * or the remote socket refused the channel); FALSE if ssh said nothing
 * that explains it. */
gboolean vd_ssh_tunnel_explain(VdSshTunnel *tunnel, GError **error);
/* Kills and reaps ssh, removes the local socket and its directory. */
void vd_ssh_tunnel_free(VdSshTunnel *tunnel);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdSshTunnel, vd_ssh_tunnel_free)
