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

/* What the header of the image at @path says: QCOW2, RAW (anything
 * else), or NONE when it cannot be read. */
VdDiskFormat vd_disk_image_probe_format(const char *path);

/* At define: fills in the format of file disks that do not give one and
 * whose image exists, adding a line for each to @warnings (may be NULL). */
void vd_disks_record_formats(VdDomainDef *def, GPtrArray *warnings);

/* At start, on the definition QEMU will get: resolves volumes of storage
 * pools to their files, checks every file exists and is what the
 * definition says it is, fills in formats still unknown. */
gboolean vd_disks_prepare(VdDaemon *d, VdDomainDef *live, GError **error);
