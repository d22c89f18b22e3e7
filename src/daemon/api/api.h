/* The HTTP/JSON API on the daemon's UNIX socket (docs/api.md). */
#pragma once

#include <libsoup/soup.h>

#include "daemon/daemon.h"

/* Binds the socket (0600; its mode for the groups: vd_access_set_socket_mode) and serves. */
gboolean vd_api_start(VdDaemon *d, GError **error);
void vd_api_stop(VdDaemon *d);

/* The API's router, for the web listener (daemon/web/), which calls it with
 * "/api" stripped from @path ("/v1/..."), once the request is authorized:
 * the same handlers and errors as on the socket. vd_api_handle_early is
 * the early handler (request headers in, body not yet read). */
void vd_api_handle(VdDaemon *d, SoupServerMessage *msg, const char *path, GHashTable *query);
void vd_api_handle_early(VdDaemon *d, SoupServerMessage *msg, const char *path);
