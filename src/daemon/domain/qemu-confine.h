/* Confinement of QEMU (issue 15): the unprivileged user it runs as, the
 * capabilities and privileges it loses in the forked child before exec,
 * and the seccomp sandbox on its command line. docs/security.md.
 *
 * The daemon chooses the user once at start (vd_confine_init, from
 * --qemu-user; "root" keeps the old behaviour); the spawn's child calls
 * vd_confine_child() just before exec. What QEMU must still open by path
 * is made reachable for that user by qemu-access.h. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

/* The user QEMU runs as when the daemon is root and none is given. */
#define VD_QEMU_USER_DEFAULT "virtd-qemu"

/* QEMU's seccomp sandbox: no obsolete system calls, no set*uid, no
 * fork/exec, no changes of scheduling, affinity or memory policy (the
 * daemon pins vCPUs itself, from outside). */
#define VD_QEMU_SANDBOX "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"

/* Chooses the user QEMU runs as: @user (NULL: VD_QEMU_USER_DEFAULT when
 * the daemon runs as root, else nobody else: QEMU runs as the daemon's
 * own user). "root" disables the change of user (QEMU keeps the daemon's
 * credentials, as before issue 15) but not the sandbox. The default user
 * is created (useradd --system) if missing; a user named otherwise must
 * exist. Fails, naming the user and the fix, when it cannot. */
gboolean vd_confine_init(const char *user, GError **error);

/* Whether QEMU changes to another user (FALSE for "root" or a daemon
 * that is not root). */
gboolean vd_confine_active(void);
/* The uid and gid QEMU runs as (the daemon's own when not active). */
uid_t vd_confine_uid(void);
gid_t vd_confine_gid(void);
/* The user's name ("root" when not active). */
const char *vd_confine_user(void);
/* Whether QEMU's process may use @st as @rwx asks (4 read, 2 write, 1
 * search/execute; ORed), by the owner, group and other bits (no ACLs). */
struct stat;
gboolean vd_confine_may(const struct stat *st, unsigned rwx);

/* In the forked child, just before exec, async-signal-safe only: drops
 * to the chosen user (groups, gid, uid), clears the bounding, ambient,
 * inheritable, permitted and effective capability sets and sets
 * PR_SET_NO_NEW_PRIVS. Returns 0, or the errno of the step that failed
 * (the child must then not exec). Does nothing but NO_NEW_PRIVS when not
 * active. */
int vd_confine_child(void);

/* Creates the default user if it is missing (useradd --system, no home,
 * no shell): what vd_confine_init does on a first start, and what the
 * install step runs (scripts/virtd-qemu-user.sh does the same in shell). */
gboolean vd_confine_ensure_user(const char *user, GError **error);
