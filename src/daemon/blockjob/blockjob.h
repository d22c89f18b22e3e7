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

void vd_blockjob_qmp_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data);
void vd_blockjob_stopped(VdDomainObj *dom);
void vd_blockjob_obj_free(VdDomainObj *dom);
