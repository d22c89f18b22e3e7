/* The WebSocket upgrades (the serial console, the VNC proxy), done by the
 * daemon rather than by libsoup's websocket handler, so that the
 * connection runs over ws-guard.h's stream and offers no extensions
 * (permessage-deflate would let a client send a small frame that inflates
 * to a large one). */
#pragma once

#include <libsoup/soup.h>

#include "daemon/api/api-internal.h"
#include "daemon/daemon.h"

/* Takes over @ws for the domain @name (with its own reference: the
 * caller drops its own when this returns). */
typedef void (*VdApiWsAttach)(VdDaemon *d, const char *name, gboolean force,
                              SoupWebsocketConnection *ws);

/* Answers @msg (a WebSocket request that vd_api_console_precheck()
 * accepted) with 101, or with libsoup's 400 when the handshake is
 * invalid; once the 101 is written, attaches the connection as the
 * console session of the domain @name (vd_api_console_attach()). */
void vd_api_websocket_upgrade(VdDaemon *d, SoupServerMessage *msg, const char *name,
                              gboolean force);

/* The same for any WebSocket: @protocols (NULL-terminated, may be NULL)
 * are the subprotocols the daemon accepts (one the client offers is
 * chosen; a client offering none is accepted too); once the 101 is
 * written, @attach gets the connection. */
void vd_api_websocket_upgrade_full(VdDaemon *d, SoupServerMessage *msg, const char *name,
                                   gboolean force, const char *const *protocols,
                                   VdApiWsAttach attach);

/* Refuses a WebSocket request with @error, in the API's error JSON and,
 * for clients that read no body, in the header X-Virtd-Error; frees @req. */
void vd_api_websocket_refuse(VdApiRequest *req, const GError *error);
