/* The HTTP/JSON API on the daemon's UNIX socket (docs/api.md). */
#pragma once

#include "daemon/daemon.h"

/* Binds the socket (0600, or 0660 with d->socket_group) and serves. */
gboolean vd_api_start(VdDaemon *d, GError **error);
void vd_api_stop(VdDaemon *d);
