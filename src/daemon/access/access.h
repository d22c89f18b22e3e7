/* Who may do what through the API (issue 15; docs/access.md).
 *
 * A client of the UNIX socket is known by the kernel's word about it
 * (SO_PEERCRED, SO_PEERGROUPS: api-conn.h), never by what it says:
 *
 * - root (or the daemon's own user) may do anything, under the rules
 *   every client has (daemon/path-policy.h);
 * - a member of the read-write group (--rw-group, or the older
 *   --socket-group) may make changes, but may not make the daemon
 *   execute or read host files as root on its word: its definitions,
 *   devices, block job targets, snapshot files and save images must name
 *   files under the allowed directories (the storage pools' directories,
 *   the daemon's images directory, --allowed-path) and an installed QEMU
 *   (the daemon's own, --allowed-emulator); the raw QEMU monitor,
 *   secrets in dumpxml, snapshot redefinition and web API tokens are
 *   root's alone;
 * - a member of the read-only group (--ro-group) may list and read: GET
 *   requests (not the consoles) and POST /v1/domains/check;
 * - anyone else is refused at once.
 *
 * Every refusal is VD_ERROR_DENIED (403) and names the rule and the
 * option that changes it. The web console (daemon/web/) and TLS clients
 * (--listen) authenticate by their own means (a login, a certificate the
 * CA signed): their requests are not socket peers. TLS clients and the
 * web's root keep full access; a web user other than root has the
 * read-write group's rules. The audit log (audit.h) names the web user or
 * the certificate.
 */
#pragma once

#include <libsoup/soup.h>

#include "conf/domain-def.h"
#include "daemon/daemon.h"

typedef struct _VdAccess VdAccess;

/* The options --rw-group, --ro-group, --allowed-path,
 * --allowed-emulator, --audit-log and --audit-log-max, for main.c to add
 * to its own (they fill this module's variables). */
const GOptionEntry *vd_access_options(void);

/* The access rules from the parsed options, once @d's paths and
 * socket_group (--socket-group) are set; opens the audit log. NULL
 * with an error naming the option for an unknown group, a relative path
 * or an audit log that cannot be opened. */
VdAccess *vd_access_new(VdDaemon *d, GError **error);
void vd_access_free(VdAccess *access);

/* Gives the API socket at @path (bound, 0600) its group and mode: 0600
 * when only root may use it; 0666 with a group configured, because the
 * daemon then answers everyone with a 403 that names the rule (the
 * decision is the credentials', not the file mode's: libvirt's
 * polkit-checked socket does the same). */
gboolean vd_access_set_socket_mode(const VdAccess *access, const char *path, GError **error);

/* Whether the client of @msg may make this request at all: FALSE with a
 * 403 naming the rule for a socket peer that is neither root nor in a
 * group, and for a change by the read-only group. @path is after "/v1"
 * handling, as the API router sees it ("/v1/domains/x/start"). Cheap. */
gboolean vd_access_check_request(VdDaemon *d, SoupServerMessage *msg, const char *path,
                                 GError **error);

/* The rules for non-root read-write clients (all pass for the others).
 * Each refusal names the element, the path and the rule. Blocking only
 * on resolving the paths (realpath), as the pool target check is. */
gboolean vd_access_check_def(VdDaemon *d, SoupServerMessage *msg, const VdDomainDef *def,
                             GError **error);
gboolean vd_access_check_disk(VdDaemon *d, SoupServerMessage *msg, const VdDiskDef *disk,
                              GError **error);
/* One file @what ("snapshot file for 'vda'") at @path; NULL passes. */
gboolean vd_access_check_path(VdDaemon *d, SoupServerMessage *msg, const char *what,
                              const char *path, GError **error);
/* A pool's target: for a non-root client it must be under --allowed-path
 * or the daemon's images directory (a pool's directory becomes an
 * allowed one). */
gboolean vd_access_check_pool_target(VdDaemon *d, SoupServerMessage *msg, const char *pool,
                                     const char *target, GError **error);
/* Refuses to a non-root client what only root may do (@what names it:
 * "the raw QEMU monitor", "the definition with its secrets"). */
gboolean vd_access_require(VdDaemon *d, SoupServerMessage *msg, const char *what, GError **error);

/* The audit log of this daemon (audit.h), or NULL. */
struct _VdAudit *vd_access_audit(const VdAccess *access);
