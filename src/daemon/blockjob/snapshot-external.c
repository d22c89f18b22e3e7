/* External disk-only snapshots: see snapshot-external.h. (Skeleton.) */
#include "daemon/blockjob/snapshot-external.h"

#include "util/vd-error.h"

void
vd_snapshot_external_create(VdDaemon *d, VdDomainObj *dom, const VdSnapshotDef *def,
                            VdSnapshotDoneFunc done, gpointer user_data)
{
    (void)d;
    (void)def;
    g_autoptr(GError) e = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                      "operation failed: external snapshots are not implemented yet");
    done(dom, e, user_data);
}
