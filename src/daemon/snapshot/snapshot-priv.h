/* What snapshot.c and snapshot-tree.c share (private to snapshot/). */
#pragma once

#include "daemon/snapshot/snapshot-store.h"

/* The image paths of @snap's internal disks, from the definition it
 * recorded (<domain>); volumes resolved through the storage layer. */
GPtrArray *vd_snapshot_internal_images(VdDaemon *d, const VdSnapshotDef *snap, GError **error);
/* Refuses when another running domain uses one of @images (qemu-img on
 * an image QEMU writes would corrupt it; QEMU's lock says so less clearly). */
gboolean vd_snapshot_images_free(VdDaemon *d, VdDomainObj *dom, GPtrArray *images,
                                 GError **error);
/* dom->job and domjobinfo's record for one snapshot operation. */
void vd_snapshot_job_begin(VdDomainObj *dom, const char *operation);
void vd_snapshot_job_end(VdDomainObj *dom, gboolean ok);
