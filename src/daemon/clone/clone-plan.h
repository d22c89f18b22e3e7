/* The pure part of a clone (virt-clone's rules): from the original's
 * definition and the options, the new definition and what becomes of
 * each disk. No I/O: what is taken (names, UUIDs, MACs, files) is asked
 * through a callback, so the plan is tested without a daemon
 * (tests/daemon/test-clone-plan.c). */
#pragma once

#include "conf/domain-def.h"

typedef struct {
    char *name;              /* --name; NULL: --auto-clone (ORIG-clone, -1, -2 ...) */
    char *uuid;              /* --uuid; NULL: a new one */
    GStrv macs;              /* --mac, in interface order; "RANDOM" = a new one */
    GStrv files;             /* --file, one per cloned disk in disk order */
    GStrv skip_copy;         /* --skip-copy TARGET ... */
    gboolean auto_clone;
    gboolean linked;         /* qcow2 overlays backed by the original's images */
    gboolean preserve_data;  /* nothing copied: the paths of --file (or the original's) */
    gboolean nonsparse;
    gboolean reflink;
    gboolean print_xml;      /* plan only */
} VdCloneOptions;

void vd_clone_options_free(VdCloneOptions *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdCloneOptions, vd_clone_options_free)

typedef enum {
    VD_CLONE_DISK_KEEP,      /* shared as is: cdrom, readonly, shareable, --skip-copy, empty */
    VD_CLONE_DISK_COPY,      /* a full copy (qemu-img convert, or a reflink copy) */
    VD_CLONE_DISK_LINK,      /* a new qcow2 overlay backed by the original's image */
    VD_CLONE_DISK_PRESERVE,  /* --preserve-data: the new path, not written */
} VdCloneDiskAction;

typedef struct {
    char *target;
    VdCloneDiskAction action;
    char *src_path;
    char *src_format;        /* "qcow2", "raw" ... */
    char *new_path;          /* COPY, LINK, PRESERVE */
    guint64 capacity;        /* the image's virtual size: filled in by clone.c, not the plan */
} VdCloneDisk;

typedef struct {
    VdDomainDef *def;        /* the clone's definition */
    GPtrArray *disks;        /* VdCloneDisk*, in disk order */
    char *nvram_src;         /* a <nvram> store to copy, or NULL */
    char *nvram_dst;
} VdClonePlan;

void vd_clone_plan_free(VdClonePlan *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdClonePlan, vd_clone_plan_free)

typedef enum {
    VD_CLONE_TAKEN_NAME,
    VD_CLONE_TAKEN_UUID,
    VD_CLONE_TAKEN_MAC,
    VD_CLONE_TAKEN_PATH,     /* a file that exists */
} VdCloneTaken;

typedef gboolean (*VdCloneTakenFunc)(VdCloneTaken what, const char *value, gpointer data);

/* @paths: the file of each disk of @orig (a pool volume resolved by the
 * caller; NULL when none), @formats their formats. @active/@paused: the
 * original's state. @rand: where new UUIDs and MACs come from (tests
 * pass a seeded one). Fails with virt-clone's words and the fix. */
VdClonePlan *vd_clone_plan_make(const VdDomainDef *orig, const char *const *paths,
                                const char *const *formats, gboolean active, gboolean paused,
                                const VdCloneOptions *opts, VdCloneTakenFunc taken,
                                gpointer data, GRand *rand, GError **error);

/* virt-clone's names: @base, then @base-1, @base-2 ... (before the
 * extension for a file, @ext with its dot or ""), the first not taken. */
char *vd_clone_unique_name(const char *dir, const char *base, const char *ext, VdCloneTaken what,
                           VdCloneTakenFunc taken, gpointer data);
