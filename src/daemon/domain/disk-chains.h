/* The disk images QEMU gets as descriptors instead of paths (issue 15).
 *
 * At start, every disk whose source is a regular file (type file or
 * volume, cdroms and read-only disks too) has its image and the files of
 * its qcow2 backing chain opened by the daemon, as root, and passed in
 * fd sets (qemu/qemu-run-fds.h); the argv builder names the chain node
 * by node (qemu-command-disk.c), so QEMU opens no path at all for them,
 * and no file of theirs is handed to QEMU's user (qemu-access.h).
 * Disks added while running get theirs over QMP (add-fd): hot-plugged
 * disks and new media (hotplug/disk-live-fds.c), external snapshot
 * overlays (blockjob/snapshot-external.c). docs/security.md. */
#pragma once

#include <glib.h>

#include "conf/domain-def.h"
#include "daemon/paths.h"

/* target_dev -> GPtrArray of VdChainImage (qemu/qemu-blockjob.h), top
 * first: the image with the format the definition gives, then each
 * backing file its qcow2 header names (checked as vd_qemu_access_grant
 * checks it: path-policy.h) with the format the header names, else the
 * one its first bytes show (what QEMU itself would probe). Refuses a
 * chain deeper than VD_QCOW2_MAX_CHAIN or a forbidden backing file,
 * naming it. For paths->disk_chains. */
GHashTable *vd_disk_chains_read(const VdPaths *p, const VdDomainDef *def, GError **error);
/* The chain of one disk, as above (a disk hot-plugged). */
GPtrArray *vd_disk_chain_read(const VdPaths *p, const VdDiskDef *disk, GError **error);
