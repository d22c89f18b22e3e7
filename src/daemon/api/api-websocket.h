/* The console's WebSocket upgrade, done by the daemon rather than by
 * libsoup's websocket handler, so that the connection runs over
 * ws-guard.h's stream and offers no extensions (permessage-deflate would
 * let a client send a small frame that inflates to a large one). */
#pragma once

#include <libsoup/soup.h>

#include "daemon/daemon.h"

/* Answers @msg (a WebSocket request that vd_api_console_precheck()
 * accepted) with 101, or with libsoup's 400 when the handshake is
 * invalid; once the 101 is written, attaches the connection as the
 * console session of the domain @name (vd_api_console_attach()). */
void vd_api_websocket_upgrade(VdDaemon *d, SoupServerMessage *msg, const char *name,
                              gboolean force);
