/* Block jobs on a running domain's disks: blockcommit (merge an overlay
 * into its backing image; --active: the top one, then --pivot to it),
 * blockpull (copy the backing chain into the top image), blockjob (watch
 * --info, --abort, --pivot) with progress from QEMU's query-block-jobs and
 * its BLOCK_JOB_* events; the live and persistent definitions follow the
 * chain when a job completes or pivots. One job per disk (as QEMU and
 * libvirt). Owner: blockjob/blockjob.c (QMP argument builders in
 * qemu/qemu-blockjob.c), API api/api-domain-blockjob.c, vsh
 * vsh/vsh-domain-blockjob.c. */
#pragma once

#include "daemon/daemon.h"
#include "daemon/domain/domain-obj.h"

#include <json-glib/json-glib.h>

void vd_blockjob_qmp_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data);
void vd_blockjob_stopped(VdDomainObj *dom);
void vd_blockjob_obj_free(VdDomainObj *dom);
/* After a daemon restart re-attached a running domain: each disk's chain is
 * read back from QEMU, so a job that ended (or a pivot QEMU made) while the
 * daemon was down is in the definitions before the next start uses them. */
void vd_blockjob_reconnected(VdDaemon *d, VdDomainObj *dom);
/* A disk detached live, its own nodes deleted: the nodes of its backing
 * files ("<target>-b<N>-...", disk-chains.h) go too, and the fd sets of
 * @image (may be NULL) and of those files (remove-fd), so QEMU closes
 * them. */
void vd_blockjob_drop_disk(VdDomainObj *dom, const char *target, const char *image);

/* What blockcommit and blockpull ask for. */
typedef struct {
    const char *base;  /* a path in the chain; NULL: the bottom */
    const char *top;   /* commit: a path in the chain; NULL: the active layer */
    gboolean active;   /* commit: of the active layer (two phases, then pivot) */
    gboolean shallow;  /* commit: base = the backing file of top */
    guint64 bandwidth; /* bytes/s, 0: unlimited */
} VdBlockJobParams;

/* @answer: the API's JSON reply (borrowed), NULL on error. */
typedef void (*VdBlockJobDone)(VdDomainObj *dom, const GError *error, JsonNode *answer,
                               gpointer data);

/* Start the job once the checks pass (running, the disk exists, no job on
 * it, a backing chain to merge); @done when QEMU has accepted it. */
void vd_blockjob_commit(VdDaemon *d, VdDomainObj *dom, const char *target,
                        const VdBlockJobParams *p, VdBlockJobDone done, gpointer data);
void vd_blockjob_pull(VdDaemon *d, VdDomainObj *dom, const char *target, const VdBlockJobParams *p,
                      VdBlockJobDone done, gpointer data);
/* {"active": true, "type", "label", "cur", "end", "bandwidth", "status",
 * "ready"} from query-block-jobs, or {"active": false, "result":
 * "completed"|"cancelled"|"failed"|"none", "error"?} once none runs (the
 * definitions then re-read from QEMU's chain). */
void vd_blockjob_info(VdDaemon *d, VdDomainObj *dom, const char *target, VdBlockJobDone done,
                      gpointer data);
/* block-job-cancel, or with @pivot block-job-complete (an active commit in
 * its ready phase); @done once QEMU has accepted it. */
void vd_blockjob_abort(VdDaemon *d, VdDomainObj *dom, const char *target, gboolean pivot,
                       VdBlockJobDone done, gpointer data);
void vd_blockjob_set_speed(VdDaemon *d, VdDomainObj *dom, const char *target, guint64 bandwidth,
                           VdBlockJobDone done, gpointer data);
