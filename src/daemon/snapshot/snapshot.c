/* Snapshot metadata and flows: see snapshot.h. (Skeleton.) */
#include "daemon/snapshot/snapshot.h"

#include "util/vd-error.h"

guint
vd_snapshot_count(VdDaemon *d, VdDomainObj *dom)
{
    (void)d;
    (void)dom;
    return 0;
}

gboolean
vd_snapshot_remove_all_metadata(VdDaemon *d, VdDomainObj *dom, GError **error)
{
    (void)d;
    (void)dom;
    (void)error;
    return TRUE;
}

gboolean
vd_snapshot_rename_domain(VdDaemon *d, const char *old_name, const char *new_name, GError **error)
{
    (void)d;
    (void)old_name;
    (void)new_name;
    (void)error;
    return TRUE;
}

void
vd_snapshot_qmp_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data)
{
    (void)d;
    (void)dom;
    (void)event;
    (void)data;
}

void
vd_snapshot_stopped(VdDomainObj *dom)
{
    (void)dom;
}

void
vd_snapshot_obj_free(VdDomainObj *dom)
{
    (void)dom;
}
