/* The QMP arguments of a disk's live changes: pure functions, no I/O
 * (tested with golden files, tests/data/hotplug/disk-*.json).
 *
 * The nodes and device are those the argv builder gives a disk started
 * with the domain (qemu-command-disk.c builds both: the same checks, the
 * same JSON): protocol node "<target>-storage", format node
 * "<target>-format", device "disk-<target>", so that a disk hot-plugged,
 * then kept over a daemon restart, is addressed like any other. */
#pragma once

#include <json-glib/json-glib.h>

#include "conf/domain-def.h"
#include "qemu/qemu-caps.h"

typedef struct {
    JsonObject *storage; /* blockdev-add of the protocol node; NULL: no media */
    JsonObject *format;  /* blockdev-add of the format node; NULL: no media */
    JsonObject *device;  /* device_add */
    GPtrArray *backing;  /* JsonObject*: blockdev-add of the backing files' nodes, bottom
                          * first, before @storage (a chain in fd sets); NULL: none */
} VdQemuHotplugDisk;

void vd_qemu_hotplug_disk_clear(VdQemuHotplugDisk *out);
/* @out's protocol node reads its file from fd set @set ("/dev/fdset/N",
 * no auto-read-only: qemu-command-disk.c says why). */
void vd_qemu_hotplug_disk_use_fdset(VdQemuHotplugDisk *out, gint64 set);
/* vd_qemu_hotplug_disk_build for a disk whose images QEMU holds in fd
 * sets (@chain: VdChainImage, top first, each in_fdset): the chain named
 * node by node as at start (qemu-command-disk.c), backing nodes in
 * @out->backing. */
gboolean vd_qemu_hotplug_disk_build_chain(const VdDomainDef *def, const VdQemuCaps *caps,
                                          const VdDiskDef *disk, guint bootindex,
                                          const char *bus, GPtrArray *chain,
                                          VdQemuHotplugDisk *out, GError **error);

/* The blockdev-add and device_add arguments that attach @disk to a running
 * domain of @def (its machine decides the buses). @bus: the root port the
 * device goes into (q35), or NULL. The controllers a disk needs (SCSI,
 * USB) must exist already: the builder adds none. */
gboolean vd_qemu_hotplug_disk_build(const VdDomainDef *def, const VdQemuCaps *caps,
                                    const VdDiskDef *disk, guint bootindex, const char *bus,
                                    VdQemuHotplugDisk *out, GError **error);

/* device_add of a virtio-scsi controller "scsi0" (the id the argv builder
 * gives it), into @bus when given. */
JsonObject *vd_qemu_hotplug_scsi_controller(const char *bus);

/* {"id": "disk-<target>"}: device_del. */
JsonObject *vd_qemu_hotplug_disk_device_del(const char *target);
/* {"node-name": "<target>-format"} or "-storage" (@storage): blockdev-del. */
JsonObject *vd_qemu_hotplug_disk_blockdev_del(const char *target, gboolean storage);
/* block_resize of the format node to @bytes. */
JsonObject *vd_qemu_hotplug_disk_resize(const char *target, guint64 bytes);

/* The media change of a cdrom, as libvirt does it with -blockdev:
 * blockdev-open-tray (forced or not), blockdev-remove-medium, then, to
 * insert, blockdev-add of the new nodes (built by
 * vd_qemu_hotplug_disk_build with @disk's new source) and
 * blockdev-insert-medium, and blockdev-close-tray. */
JsonObject *vd_qemu_hotplug_media_tray(const char *target, gboolean force);
JsonObject *vd_qemu_hotplug_media_id(const char *target); /* {"id": "disk-<target>"} */
JsonObject *vd_qemu_hotplug_media_insert(const char *target);
