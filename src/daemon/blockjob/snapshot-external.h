/* External disk-only snapshots: each disk with snapshot='external' gets a
 * new qcow2 overlay whose backing file is its current image; the guest
 * writes into the overlay from then on, and the old image stays as it was.
 * Running: blockdev-add of each overlay, then one "transaction" of
 * blockdev-snapshot actions (all disks or none, libvirt's --atomic is
 * always true here); shut off: qemu-img create -b in a worker. Afterwards
 * the live definition and the persistent one name the overlays (with
 * <backingStore>), as libvirt's. Called by snapshot.c with dom->job
 * VD_JOB_SNAPSHOT. Owner: blockjob/snapshot-external.c. */
#pragma once

#include "daemon/snapshot/snapshot.h"

void vd_snapshot_external_create(VdDaemon *d, VdDomainObj *dom, const VdSnapshotDef *def,
                                 VdSnapshotDoneFunc done, gpointer user_data);
/* The same; with @reuse (--reuse-external) the overlays are files the user
 * made (qcow2, backed by the disk's image): used as they are, never created
 * nor removed. */
void vd_snapshot_external_create_full(VdDaemon *d, VdDomainObj *dom, const VdSnapshotDef *def,
                                      gboolean reuse, VdSnapshotDoneFunc done, gpointer user_data);
