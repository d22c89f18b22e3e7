/* The web console's listener: virtd --web ADDR:PORT (docs/web.md).
 *
 * HTTPS only, on sockets of its own, accepted by the API's connection code
 * (api-conn.h: same limits and timeouts) and its TLS handshake (api-tls.c,
 * without client certificates). What it serves:
 *   /api/login, /api/logout, /api/session   PAM login and sessions (web.c)
 *   /api/v1/...                             the daemon's API (api.c's router,
 *                                           "/api" stripped) for a session or
 *                                           an API token (web-tokens.h)
 *   anything else, GET/HEAD                 static files (web-static.h)
 * Every answer carries the security headers (CSP and friends). */
#pragma once

#include "daemon/daemon.h"

typedef struct {
    char **listen;      /* --web ADDR:PORT, NULL-terminated */
    char *cert_file;    /* --web-cert, or NULL: self-signed in STATE_DIR/web */
    char *key_file;     /* --web-key */
    char *group;        /* --web-group, or NULL: root only */
    char *root;         /* --web-root, or NULL: the default */
    guint idle_timeout; /* --web-idle-timeout, seconds */
} VdWebConfig;

typedef struct _VdWeb VdWeb;

/* "ADDR:PORT" ("[::1]:9090", "0.0.0.0:9090"); an error says what --web takes. */
GSocketAddress *vd_web_parse_listen(const char *spec, GError **error);
/* At start, before the main loop: checks @cfg, loads or makes the
 * certificate, binds the sockets (a busy port fails the start). */
VdWeb *vd_web_new(VdDaemon *d, const VdWebConfig *cfg, GError **error);
/* Serves (after vd_api_start). */
void vd_web_start(VdWeb *w);
void vd_web_free(VdWeb *w);
