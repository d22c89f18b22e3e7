/* libvirt's domainsnapshot XML: see snapshot-def.h. (Skeleton: the snapshot
 * core fills this in.) */
#include "conf/snapshot-def.h"

#include "util/vd-error.h"

VdSnapshotDef *
vd_snapshot_def_new(void)
{
    VdSnapshotDef *def = g_new0(VdSnapshotDef, 1);
    def->disks = g_ptr_array_new();
    return def;
}

void
vd_snapshot_def_free(VdSnapshotDef *def)
{
    if (!def)
        return;
    g_ptr_array_unref(def->disks);
    g_free(def->name);
    g_free(def->description);
    g_free(def->state);
    g_free(def->parent);
    g_free(def->memory_file);
    g_free(def->domain_xml);
    g_free(def);
}
