/* Shared by disk-live.c (attach, detach, events) and disk-live-media.c
 * (change-media, blockresize, domblkinfo, the SCSI controller). */
#pragma once

#include "daemon/domain/domain-files.h"
#include "daemon/hotplug/disk-live.h"
#include "daemon/hotplug/hotplug.h"
#include "qemu/qemu-fdset-paths.h"
#include "qemu/qemu-hotplug-disk.h"

/* The disk of @def with target @target, or -1. */
int vd_disk_live_find(const VdDomainDef *def, const char *target);
/* "operation failed: No disk found whose source path or target is @target" */
GError *vd_disk_live_not_found(const char *target);
/* Checks the image of *@disk in a worker (it must exist for @when START;
 * its header gives the format): *@disk moves into a new *@probe, which
 * must stay untouched until @callback; vd_disk_live_probed() then gives
 * the disk back and frees *@probe. */
void vd_disk_live_probe(VdDaemon *d, VdDomainObj *dom, VdDomainDef **probe, VdDiskDef **disk,
                        VdDomainFilesWhen when, GAsyncReadyCallback callback, gpointer user_data);
VdDiskDef *vd_disk_live_probed(VdDomainDef **probe);
/* Records in the live definition (and the status file) that QEMU now has
 * (@added) or no longer has the virtio-scsi controller "scsi0", so that
 * dumpxml shows it and a daemon restart keeps it. */
/* @bus: the root port it went into (NULL: the root bus); an added one's
 * slot is asked of QEMU and kept in the live XML. */
void vd_disk_live_record_scsi_controller(VdDaemon *d, VdDomainObj *dom, gboolean added,
                                         const char *bus);

/* A file disk added while running with no backing file (a hot-plugged
 * disk, new cdrom media): QEMU gets the image as descriptors the daemon
 * opened (read-only, and read-write unless the disk is read-only or a
 * cdrom), like a disk present at start (disk-chains.h): add-fd is sent
 * and TRUE returned, @done follows. FALSE: QEMU opens it by path (a
 * qcow2 image with a backing file: the one node pair of a hot-plug
 * leaves its chain to QEMU, which opens it from the header). */
gboolean vd_disk_live_add_fdset(VdDomainObj *dom, const VdDiskDef *disk, VdQemuFdsetAdded done,
                                gpointer data);

/* @chain (VdChainImage, each in_fdset, yours), or NULL with @error. */
typedef void (*VdDiskLiveChainAdded)(GPtrArray *chain, const GError *error, gpointer data);
/* A hot-plugged file disk: its image and qcow2 backing chain read and
 * checked as at start (disk-chains.h), each file opened by the daemon
 * and added to an fd set of its own, one after the other; then @done
 * (a failure removes the sets made). FALSE: not a file disk, or a chain
 * refused (QEMU opens it by path, and that way refuses it, naming why). */
gboolean vd_disk_live_add_chain(VdDaemon *d, VdDomainObj *dom, const VdDiskDef *disk,
                                VdDiskLiveChainAdded done, gpointer data);
/* remove-fd of the sets of @chain's images. */
void vd_disk_live_remove_fdsets(VdDomainObj *dom, GPtrArray *chain);
