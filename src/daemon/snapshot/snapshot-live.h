/* Internal snapshots of a running (or paused) domain, with its memory,
 * through QEMU's snapshot-save / snapshot-load / snapshot-delete jobs (QEMU
 * 6.0+: asynchronous, unlike HMP savevm, so the monitor keeps answering).
 * The vmstate goes into the first internal disk's image; every internal
 * disk gets the snapshot. Called by snapshot.c with dom->job already
 * VD_JOB_SNAPSHOT and the async job begun; each completes once.
 * Owner: snapshot/snapshot-live.c (QMP argument builders in
 * qemu/qemu-snapshot.c, golden files tests/data/snapshot-live/). */
#pragma once

#include "daemon/snapshot/snapshot.h"

/* Takes @def (aligned: memory INTERNAL, disks INTERNAL/NO) of the running
 * @dom: snapshot-save on QEMU's disk nodes, waiting for the job's end.
 * The guest is paused meanwhile by QEMU and runs on afterwards (as before). */
void vd_snapshot_live_create(VdDaemon *d, VdDomainObj *dom, const VdSnapshotDef *def,
                             VdSnapshotDoneFunc done, gpointer user_data);
/* Brings back the running guest of @def (taken with memory): checks
 * first what can be checked while the guest runs (the files, the snapshot
 * in each image, its memory state against the definition:
 * vd_snapshot_revert_check_async), and refuses with the guest untouched;
 * then stops QEMU if it runs, rewrites the persistent definition (of a persistent domain)
 * from @def's <inactiveDomain>, or its <domain> when it has none, then
 * starts @def's <domain> with snapshot-load before "cont"
 * (vd_domain_start_restore); @paused: leave it paused (snapshot-revert
 * --paused, or a snapshot taken paused without --running). */
void vd_snapshot_live_revert(VdDaemon *d, VdDomainObj *dom, const VdSnapshotDef *def,
                             gboolean paused, VdSnapshotDoneFunc done, gpointer user_data);
/* The revert's checks before the running guest goes, in a worker
 * (snapshot-revert-check.c): @domain is the snapshot's definition with
 * its files checked (formats and volumes resolved); borrowed until
 * @callback runs. */
void vd_snapshot_revert_check_async(VdDaemon *d, const VdDomainDef *domain,
                                    const VdSnapshotDef *snap, GAsyncReadyCallback callback,
                                    gpointer user_data);
gboolean vd_snapshot_revert_check_finish(GAsyncResult *result, GError **error);
/* Deletes internal snapshot @name from the disks of the running @dom
 * (snapshot-delete job). */
void vd_snapshot_live_delete(VdDaemon *d, VdDomainObj *dom, const VdSnapshotDef *def,
                             VdSnapshotDoneFunc done, gpointer user_data);

void vd_snapshot_live_qmp_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data);
void vd_snapshot_live_stopped(VdDomainObj *dom);
