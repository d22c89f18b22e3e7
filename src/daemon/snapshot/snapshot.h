/* Domain snapshots: the metadata of every domain's snapshots (a tree per
 * domain, the current one), and the operations on them.
 *
 * Metadata: one file per snapshot, state_dir/snapshots/DOMAIN/SNAP.xml
 * (vd_paths_domain_snapshot_dir), written atomically, the daemon's own
 * <domainsnapshot> (conf/snapshot-def.h); the current snapshot's name in
 * state_dir/snapshots/DOMAIN/current (libvirt keeps them under
 * /var/lib/libvirt/qemu/snapshot/DOMAIN/). Loaded per domain when first
 * needed; survives daemon restarts.
 *
 * Who does what:
 *   snapshot/snapshot.c, snapshot-store.c   the store, create/revert/delete flows, offline
 *                                           internal snapshots (qemu-img snapshot in a
 *                                           worker), the tree (owner: snapshot core)
 *   snapshot/snapshot-live.c                internal snapshots of a running domain with
 *                                           its memory (QMP snapshot-save/-load/-delete
 *                                           jobs), revert to one (snapshot-live.h)
 *   blockjob/snapshot-external.c            external disk-only snapshots (overlays)
 *                                           (blockjob/snapshot-external.h)
 * The API routes are api/api-domain-snapshot.c, vsh's commands
 * vsh/vsh-snapshot*.c. */
#pragma once

#include "conf/snapshot-def.h"
#include "daemon/daemon.h"
#include "daemon/domain/domain-obj.h"

typedef void (*VdSnapshotDoneFunc)(VdDomainObj *dom, const GError *error, gpointer user_data);

/* How many snapshots @dom has (metadata), for undefine's refusal
 * ("cannot delete inactive domain with 1 snapshots" as virsh, plus the fix:
 * --snapshots-metadata). */
guint vd_snapshot_count(VdDaemon *d, VdDomainObj *dom);
/* Drops every snapshot's metadata of @dom (undefine --snapshots-metadata). */
gboolean vd_snapshot_remove_all_metadata(VdDaemon *d, VdDomainObj *dom, GError **error);
/* The metadata directory follows a renamed domain (domrename). */
gboolean vd_snapshot_rename_domain(VdDaemon *d, const char *old_name, const char *new_name,
                                   GError **error);

/* Hooks (hotplug.c calls them for every domain, as for the hot-plug
 * classes): QMP events, QEMU's end, the object freed. */
void vd_snapshot_qmp_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data);
void vd_snapshot_stopped(VdDomainObj *dom);
void vd_snapshot_obj_free(VdDomainObj *dom);
