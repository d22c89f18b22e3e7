/* Disks between the definition and QEMU: image formats and pool volumes.
 *
 * QEMU would report most disk mistakes only cryptically, or not at all:
 * a qcow2 image attached as raw boots a guest that sees the qcow2
 * container as a tiny, corrupt disk. Formats are therefore read from
 * image headers once, when a domain is defined, and recorded in its
 * definition (a guest that later writes a qcow2 header into its raw disk
 * must not change how the host opens it); at start, what the definition
 * says is checked against what the file is.
 */
#pragma once

#include "conf/domain-def.h"
#include "daemon/daemon.h"

/* What the header of the image open at @fd says: QCOW2, RAW (anything
 * else), or NONE when it cannot be read. */
VdDiskFormat vd_disk_image_probe_format_fd(int fd);

/* At define, in a worker thread (daemon/domain-files.h), for a file disk
 * whose image exists and is open at @fd: fills in the format when the
 * definition gives none, adding a line to @warnings (may be NULL) when
 * it is not raw. */
void vd_disk_record_format(VdDiskDef *disk, int fd, GPtrArray *warnings);

/* At start, in a worker thread, on the image QEMU will get (open at
 * @fd): fills in a format still unknown, and refuses a definition that
 * says raw for a qcow2 image or qcow2 for anything else. */
gboolean vd_disk_check_format(VdDiskDef *disk, int fd, GError **error);

/* At start, in the main loop (it asks the storage registry): resolves
 * <source pool= volume=> disks of @live to their files (and formats,
 * when the definition gives none). The files are checked afterwards,
 * with the others, off the main loop (daemon/domain-files.h). */
gboolean vd_disks_resolve_volumes(VdDaemon *d, VdDomainDef *live, GError **error);
