/* Internal snapshots of a shut-off domain's qcow2 images with qemu-img
 * snapshot -c/-a/-d in a GTask worker (private to snapshot/). */
#pragma once

#include "daemon/snapshot/snapshot.h"

typedef enum {
    VD_SNAPSHOT_IMG_CREATE,  /* -c; a failure on one image deletes it from those done */
    VD_SNAPSHOT_IMG_APPLY,   /* -a */
    VD_SNAPSHOT_IMG_DELETE,  /* -d; an image without the snapshot is not an error */
    VD_SNAPSHOT_IMG_HAS_ALL, /* -l -U (QEMU may hold them), read-only: an error unless every
                              * image has it: VD_ERROR_NOT_FOUND when none has it,
                              * VD_ERROR_INVALID_STATE when some have it */
} VdSnapshotImgOp;

/* Runs @op of @snap on every image in @images (char*, copied), then calls
 * @done in the main loop (a reference on @dom is held meanwhile). */
void vd_snapshot_offline_run(VdDomainObj *dom, VdSnapshotImgOp op, const char *snap,
                             GPtrArray *images, VdSnapshotDoneFunc done, gpointer user_data);
