/* The audit log: one JSON line per change made through the API (every
 * request but GET and HEAD, refused ones too), written when its answer
 * is known (docs/access.md has the format):
 *
 *   {"time":"2026-12-01T08:00:00.123Z","transport":"unix","uid":4242,
 *    "user":"alice","pid":812,"method":"POST","path":"/v1/domains",
 *    "object":"web1","status":201,"error":null}
 *
 * (web requests give "user" and "auth", TLS ones "dn", both "address").
 *
 * Durability against cost: each line is one write(2) on an O_APPEND
 * descriptor, before the next request is read, so a crashed or killed
 * daemon loses no line (it is in the kernel's page cache); fdatasync
 * runs in a worker thread at most once a second while lines come, so a
 * host crash loses at most the last second and no request waits for the
 * disk (an fdatasync per line would cost each change a disk flush,
 * milliseconds on a real disk). Past the size limit the log is renamed
 * to .1 (.1 to .2; two older generations are kept) and a new one begun.
 */
#pragma once

#include <libsoup/soup.h>

typedef struct _VdAudit VdAudit;

/* The default for --audit-log-max. */
#define VD_AUDIT_MAX_DEFAULT (16 * 1024 * 1024)

/* Opens (creates, 0600) the log at @path for appending. */
VdAudit *vd_audit_open(const char *path, goffset max, GError **error);
/* Syncs and closes. */
void vd_audit_free(VdAudit *audit);

/* Records the request @msg on @path (the API's, "/v1/...") when its
 * answer is sent; GET and HEAD are not recorded. Who sent it is taken
 * now (api-conn.h's identity: a web user is set before this). */
void vd_audit_watch(VdAudit *audit, SoupServerMessage *msg, const char *path);
/* Records the request @msg on @path, refused with @error before it was
 * handled (its connection is closed: no answer is sent through libsoup). */
void vd_audit_refused(VdAudit *audit, SoupServerMessage *msg, const char *path,
                      const GError *error);
/* The error code of @msg's answer ("denied", vd_error_code_to_string),
 * for its audit line. */
void vd_audit_set_error(SoupServerMessage *msg, const char *code);
