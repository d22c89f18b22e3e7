/* Internal snapshots of a running domain: see snapshot-live.h. (Skeleton.) */
#include "daemon/snapshot/snapshot-live.h"

#include "util/vd-error.h"

static GError *
not_yet(const char *what)
{
    return g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED, "operation failed: %s is not implemented yet",
                       what);
}

void
vd_snapshot_live_create(VdDaemon *d, VdDomainObj *dom, const VdSnapshotDef *def,
                        VdSnapshotDoneFunc done, gpointer user_data)
{
    (void)d;
    (void)def;
    g_autoptr(GError) e = not_yet("a snapshot of a running domain");
    done(dom, e, user_data);
}

void
vd_snapshot_live_revert(VdDaemon *d, VdDomainObj *dom, const VdSnapshotDef *def, gboolean paused,
                        VdSnapshotDoneFunc done, gpointer user_data)
{
    (void)d;
    (void)def;
    (void)paused;
    g_autoptr(GError) e = not_yet("reverting to a running snapshot");
    done(dom, e, user_data);
}

void
vd_snapshot_live_delete(VdDaemon *d, VdDomainObj *dom, const VdSnapshotDef *def,
                        VdSnapshotDoneFunc done, gpointer user_data)
{
    (void)d;
    (void)def;
    g_autoptr(GError) e = not_yet("deleting a snapshot of a running domain");
    done(dom, e, user_data);
}

void
vd_snapshot_live_qmp_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data)
{
    (void)d;
    (void)dom;
    (void)event;
    (void)data;
}

void
vd_snapshot_live_stopped(VdDomainObj *dom)
{
    (void)dom;
}
