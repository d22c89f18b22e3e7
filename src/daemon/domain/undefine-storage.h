/* `undefine --remove-all-storage` / `--storage vda,PATH`: which of a
 * domain's disks to delete with it, and deleting them. */
#pragma once

#include "daemon/daemon.h"

typedef struct {
    char *target;   /* vda, hdc ... */
    char *path;
    char *reason;   /* NULL: removed (or to remove); else why it was kept */
} VdStorageRemoval;

void vd_storage_removal_free(VdStorageRemoval *r);

/* Decides, before anything changes, what happens to each disk of @dom:
 * @all or the targets/paths in @named (NULL-terminated; each must name a
 * disk of the domain). A pool volume is removed unless another domain's
 * definition uses it too; files outside pools are kept (virsh: "not
 * managed"); with @all, read-only cdroms are kept (install media).
 * Fails with the reason when the domain runs or a name is unknown. */
GPtrArray *vd_storage_removal_plan(VdDaemon *d, VdDomainObj *dom, gboolean all,
                                   const char *const *named, GError **error);

typedef void (*VdStorageRemovalDone)(GPtrArray *plan, gpointer user_data);

/* Deletes the planned volumes off the main loop, one after the other; a
 * failure becomes that entry's reason. @done is called once, maybe before
 * this returns (nothing to delete). */
void vd_storage_removal_run(VdDaemon *d, GPtrArray *plan, VdStorageRemovalDone done,
                            gpointer user_data);
