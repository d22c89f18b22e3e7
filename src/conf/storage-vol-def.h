/* Storage volumes: libvirt's <volume> XML for files in a 'dir' pool.
 * Parse (vol-create) and format (vol-dumpxml) only, no I/O. */
#pragma once

#include <glib.h>

#include "conf/storage-pool-def.h"

typedef struct {
    char *name;
    char *key;            /* = path, as libvirt's dir pools */
    char *path;           /* absolute; set by the daemon, not parsed */
    char *format;         /* "raw", "qcow2", ...; NULL: raw */
    guint64 capacity;
    guint64 allocation;
    guint64 physical;
    gboolean has_allocation;  /* <allocation> given on input */
    char *backing_path;   /* <backingStore><path>, NULL if none */
    char *backing_format;
    VdStoragePerms perms;
} VdStorageVolDef;

VdStorageVolDef *vd_storage_vol_def_new(void);
void vd_storage_vol_def_free(VdStorageVolDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdStorageVolDef, vd_storage_vol_def_free)

/* Parses <volume> (type 'file' or absent) with <name>, <capacity unit=>,
 * optional <allocation>, <target><format type=>, <backingStore>. Whether
 * the name and format are acceptable is the daemon's check
 * (vd_storage_vol_name_validate, vd_storage_vol_format_creatable). */
VdStorageVolDef *vd_storage_vol_def_parse(const char *xml, GError **error);

char *vd_storage_vol_def_format(const VdStorageVolDef *def);

/* A volume name: a plain file name in the pool directory. No '/', not
 * "." or "..", no leading '.' (hidden files are the daemon's own
 * temporaries), no control characters, 1-255 bytes. */
gboolean vd_storage_vol_name_validate(const char *name, GError **error);

/* "raw" and "qcow2", what qemu-img creates for virtd; other names fail
 * with VD_ERROR_UNSUPPORTED listing these. */
gboolean vd_storage_vol_format_creatable(const char *format, GError **error);
