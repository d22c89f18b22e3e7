/* Live changes of disks and cdrom media (issue 11): attach, detach,
 * change-media, blockresize, domblkinfo, and the virtio-scsi controller
 * SCSI disks need. The rules are hotplug.h's.
 *
 * Names on the QEMU side are those of a disk started with the domain
 * (qemu/qemu-hotplug-disk.h): device "disk-<target>", nodes
 * "<target>-format" and "<target>-storage"; so a disk attached live, kept
 * over a daemon restart, is detached like any other. */
#pragma once

#include "daemon/hotplug/hotplug.h"

/* A QMP event of a running domain (hotplug.c hands every one). */
void vd_disk_live_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data);
/* The domain's QEMU ended: fail what waits on the guest, drop run-time state. */
void vd_disk_live_stopped(VdDomainObj *dom);
/* The domain object is being freed. */
void vd_disk_live_obj_free(VdDomainObj *dom);

/* One <disk> element (attach-device, detach-device, update-device),
 * parsed as it would be inside a domain's <devices>, with the same
 * defaults (bus from the target name ...). VD_ERROR_XML when malformed. */
VdDiskDef *vd_disk_live_parse(const char *xml, GError **error);

/* @xml: the disk as attached (attach), or NULL. */
typedef void (*VdDiskLiveDone)(VdDomainObj *dom, const GError *error, const char *xml,
                               gpointer user_data);

/* attach-disk / attach-device: takes @disk. A disk without a format gets
 * it from its image header (read in a worker). Live: on a bus that can
 * hot-plug (virtio, scsi, usb), a virtio-scsi controller attached first
 * when a SCSI disk needs one, into a free root port on q35. */
void vd_disk_live_attach(VdDaemon *d, VdDomainObj *dom, VdDiskDef *disk, gboolean live,
                         gboolean config, VdDiskLiveDone done, gpointer user_data);
/* detach-disk / detach-device: the disk of @target. The disk a running
 * guest boots from is detached only with @boot_disk. Live: device_del,
 * DEVICE_DELETED awaited (10 s: else VD_ERROR_TIMEOUT, the disk stays),
 * then its nodes. */
void vd_disk_live_detach(VdDaemon *d, VdDomainObj *dom, const char *target, gboolean boot_disk,
                         gboolean live, gboolean config, VdDiskLiveDone done, gpointer user_data);

typedef enum {
    VD_MEDIA_INSERT,
    VD_MEDIA_EJECT,
    VD_MEDIA_UPDATE, /* eject what is there, insert @source (NULL: eject) */
} VdMediaOp;
/* change-media / update-device of a cdrom (or floppy) <disk>. */
void vd_disk_live_change_media(VdDaemon *d, VdDomainObj *dom, const char *target,
                               const char *source, VdMediaOp mop, gboolean force, gboolean live,
                               gboolean config, VdDiskLiveDone done, gpointer user_data);
/* blockresize: the format node of @target to @bytes; smaller than now is
 * refused unless @shrink. */
void vd_disk_live_resize(VdDaemon *d, VdDomainObj *dom, const char *target, guint64 bytes,
                         gboolean shrink, VdDiskLiveDone done, gpointer user_data);

typedef struct {
    guint64 capacity, allocation, physical;
} VdDiskBlockInfo;
typedef void (*VdDiskInfoDone)(VdDomainObj *dom, const GError *error, const VdDiskBlockInfo *info,
                               gpointer user_data);
/* domblkinfo: from QEMU when running, from the image file (in a worker)
 * when not. */
void vd_disk_live_info(VdDaemon *d, VdDomainObj *dom, const char *target, VdDiskInfoDone done,
                       gpointer user_data);

/* <controller type='scsi' model='virtio-scsi'> attach/detach (live only:
 * the argv builder adds it by itself for a SCSI disk at start). */
void vd_disk_live_controller(VdDaemon *d, VdDomainObj *dom, gboolean attach, VdDiskLiveDone done,
                             gpointer user_data);
