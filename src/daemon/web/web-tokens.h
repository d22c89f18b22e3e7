/* API tokens for scripts on the web listener: `Authorization: Bearer
 * TOKEN` instead of a session cookie (no CSRF token needed: a browser
 * never sends this header by itself).
 *
 * Kept in STATE_DIR/web/tokens (0600), one line per token: NAME, the
 * SHA-256 of the token (the token itself is shown once, at creation, and
 * never stored), the creation time, the user who created it. Managed over
 * the local API only (`vsh web-token create|list|revoke`, routes
 * /v1/web-tokens): a web session cannot mint lasting credentials. */
#pragma once

#include <glib.h>

typedef struct _VdWebTokens VdWebTokens;

/* Loads @path (missing: no tokens). Reads a small file: at start. */
VdWebTokens *vd_web_tokens_new(const char *path);
void vd_web_tokens_free(VdWebTokens *t);
/* The name and creator of the token @token, or FALSE. */
gboolean vd_web_tokens_check(VdWebTokens *t, const char *token, const char **name,
                             const char **user);

/* /v1/web-tokens (api.c routes it here): GET lists, POST {"name"} creates
 * (201 {"name","token",...}: the only time the token is shown),
 * DELETE /v1/web-tokens/NAME revokes; refused (403) from the web
 * listener. @req is a VdApiRequest (api-internal.h; void here so that
 * this header does not pull in the API's internals). */
void vd_web_tokens_dispatch(void *req, const char *method);
