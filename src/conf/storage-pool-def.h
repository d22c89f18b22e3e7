/* Storage pools: libvirt's <pool> XML for the one type virtd manages,
 * 'dir' (a directory of image files). Parse and format only, no I/O:
 * the daemon (daemon/storage*.c) owns the files and the directory. */
#pragma once

#include <glib.h>

typedef struct {
    gboolean set;   /* <permissions> present */
    guint mode;     /* octal in XML; G_MAXUINT: not given */
    gint64 owner;   /* -1: not given */
    gint64 group;   /* -1: not given */
    char *label;
} VdStoragePerms;

typedef struct {
    char *name;
    char uuid[37];
    char *target_path;  /* absolute, no trailing '/' */
    VdStoragePerms perms;
    /* Only formatted (the live file system figures); never parsed. */
    guint64 capacity;
    guint64 allocation;
    guint64 available;
} VdStoragePoolDef;

VdStoragePoolDef *vd_storage_pool_def_new(void);
void vd_storage_pool_def_free(VdStoragePoolDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdStoragePoolDef, vd_storage_pool_def_free)

/* Parses <pool type='dir'>. Another type fails with VD_ERROR_UNSUPPORTED
 * naming it; a missing or bad name, UUID or target path with VD_ERROR_XML
 * (VD_ERROR_INVALID_ARG for a bad name). A missing UUID is generated. */
VdStoragePoolDef *vd_storage_pool_def_parse(const char *xml, GError **error);

/* libvirt's layout: two-space indent, single-quoted attributes. */
char *vd_storage_pool_def_format(const VdStoragePoolDef *def);

/* A new 'dir' pool @name at @target (for pool-define-as and the default
 * pool); fails like parse on a bad name or a relative target. */
VdStoragePoolDef *vd_storage_pool_def_new_dir(const char *name, const char *target,
                                              GError **error);

/* Shared by the pool and volume formatters (storage-xml.c). */
void vd_storage_perms_clear(VdStoragePerms *perms);
void vd_storage_perms_format(GString *out, const VdStoragePerms *perms, int indent);
