/* virt-clone in the daemon: a new domain from an existing one, its disks
 * copied (storage jobs, with progress in /v1/jobs), or made qcow2 overlays
 * of the original's (--linked), new UUID, MACs, names; and domrename.
 * The whole clone is one request (POST /v1/domains/NAME/clone): the new
 * domain is defined only when every disk is ready, and a failure removes
 * the disks it made. Owner: clone/clone.c, clone/clone-plan.c
 * (the pure part: names, MACs, what each disk becomes), clone/rename.c;
 * API api/api-domain-clone.c; vsh vsh/vsh-clone.c. */
#pragma once

#include "daemon/daemon.h"
#include "daemon/domain/domain-obj.h"

/* The domains whose disks are overlays on one of @dom's disk images
 * (linked clones, or any qcow2 whose backing file is one of them), as a
 * NULL-terminated array of names, NULL when none: undefine
 * --remove-all-storage refuses with them named. */
char **vd_clone_dependents(VdDaemon *d, VdDomainObj *dom);

#include "daemon/clone/clone-plan.h"

/* Fails naming the linked clones when removing @dom's storage would pull
 * their backing files away (undefine --remove-all-storage). */
gboolean vd_clone_check_removable(VdDaemon *d, VdDomainObj *dom, GError **error);

/* Fails naming the domains whose disks are overlays on @path (vol-delete
 * of a linked clone's base image). */
gboolean vd_clone_check_backing_unused(VdDaemon *d, const char *path, GError **error);

/* The end of a clone: @plan (borrowed) is what was planned (NULL when
 * the plan itself failed), @clone the defined domain (NULL for
 * --print-xml or on failure). */
typedef void (*VdCloneDone)(VdDaemon *d, const VdClonePlan *plan, VdDomainObj *clone,
                            const GError *error, gpointer data);

/* Clones @dom (or, when NULL, the definition @orig of --original-xml;
 * @orig is taken, NULL with @dom). Takes @opts. The plan and the copies
 * run in worker threads; @dom carries VD_JOB_CLONE meanwhile. @done is
 * called exactly once, in the main loop. */
void vd_clone_start(VdDaemon *d, VdDomainObj *dom, VdDomainDef *orig, VdCloneOptions *opts,
                    VdCloneDone done, gpointer data);

/* At daemon start, after the definitions are loaded: removes the images
 * of clones a killed daemon left unfinished (their journal, clone.c). */
void vd_clone_recover(VdDaemon *d);

/* domrename (rename.c): an inactive domain gets @new_name; its UUID,
 * snapshots and managed save stay with it. */
gboolean vd_clone_rename(VdDaemon *d, VdDomainObj *dom, const char *new_name, GError **error);
