/* Shared by disk-live.c (attach, detach, events) and disk-live-media.c
 * (change-media, blockresize, domblkinfo, the SCSI controller). */
#pragma once

#include "daemon/hotplug/disk-live.h"
#include "qemu/qemu-hotplug-disk.h"

/* The disk of @def with target @target, or -1. */
int vd_disk_live_find(const VdDomainDef *def, const char *target);
/* "operation failed: domain 'x' stopped meanwhile" unless the domain
 * still runs with QMP connected. */
gboolean vd_disk_live_qmp_ready(VdDomainObj *dom, GError **error);
/* QEMU's error as VD_ERROR_OPERATION_FAILED. */
GError *vd_disk_live_qmp_error(const GError *error);
/* {"@key": "@value"} */
JsonObject *vd_disk_live_args(const char *key, const char *value);
