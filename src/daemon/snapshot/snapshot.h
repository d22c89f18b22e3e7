/* Domain snapshots: the metadata of every domain's snapshots (a tree per
 * domain, the current one), and the operations on them.
 *
 * Metadata: one file per snapshot, state_dir/snapshots/DOMAIN/SNAP.xml
 * (vd_paths_domain_snapshot_dir), written atomically, the daemon's own
 * <domainsnapshot> (conf/snapshot-def.h); the current snapshot's name in
 * state_dir/snapshots/DOMAIN/current (libvirt keeps them under
 * /var/lib/libvirt/qemu/snapshot/DOMAIN/). Loaded per domain when first
 * needed; survives daemon restarts.
 *
 * Who does what:
 *   snapshot/snapshot.c, snapshot-store.c   the store, create/revert/delete flows, offline
 *                                           internal snapshots (qemu-img snapshot in a
 *                                           worker), the tree (owner: snapshot core)
 *   snapshot/snapshot-live.c                internal snapshots of a running domain with
 *                                           its memory (QMP snapshot-save/-load/-delete
 *                                           jobs), revert to one (snapshot-live.h)
 *   blockjob/snapshot-external.c            external disk-only snapshots (overlays)
 *                                           (blockjob/snapshot-external.h)
 * The API routes are api/api-domain-snapshot.c, vsh's commands
 * vsh/vsh-snapshot*.c. */
#pragma once

#include "conf/snapshot-def.h"
#include "daemon/daemon.h"
#include "daemon/domain/domain-obj.h"

typedef void (*VdSnapshotDoneFunc)(VdDomainObj *dom, const GError *error, gpointer user_data);

/* How many snapshots @dom has (metadata), for undefine's refusal
 * ("cannot delete inactive domain with 1 snapshots" as virsh, plus the fix:
 * --snapshots-metadata). */
guint vd_snapshot_count(VdDaemon *d, VdDomainObj *dom);
/* undefine's refusal: an inactive @dom with snapshot metadata, unless
 * @metadata_too (--snapshots-metadata). */
gboolean vd_snapshot_undefine_check(VdDaemon *d, VdDomainObj *dom, gboolean metadata_too,
                                    GError **error);
/* Drops every snapshot's metadata of @dom (undefine --snapshots-metadata). */
gboolean vd_snapshot_remove_all_metadata(VdDaemon *d, VdDomainObj *dom, GError **error);
/* The metadata directory follows a renamed domain (domrename). */
gboolean vd_snapshot_rename_domain(VdDaemon *d, const char *old_name, const char *new_name,
                                   GError **error);

/* Hooks (hotplug.c calls them for every domain, as for the hot-plug
 * classes): QMP events, QEMU's end, the object freed. */
void vd_snapshot_qmp_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data);
void vd_snapshot_stopped(VdDomainObj *dom);
void vd_snapshot_obj_free(VdDomainObj *dom);
/* A domain left the registry (a transient one stopped, or an undefined
 * one that was not running): its snapshot metadata goes with it, as
 * libvirt's, so that a new domain of the same name starts with none. */
void vd_snapshot_domain_gone(const VdPaths *paths, const char *name);

/* A daemon killed while QEMU took a snapshot of a running domain left a
 * pending record (snapshot-recover.c): settles @dom's, one after the
 * other, once nothing else runs on it: kept when every image has the
 * snapshot (and QEMU's job concluded without error), else removed from the
 * images and forgotten. The reconnect calls it for a running domain once
 * its QEMU answers; vd_snapshot_settle_all() at start-up for the others. */
void vd_snapshot_settle(VdDaemon *d, VdDomainObj *dom);
void vd_snapshot_settle_all(VdDaemon *d);

/* ---- The flows (api/api-domain-snapshot.c calls them) ---- */

typedef enum {
    VD_SNAPSHOT_CREATE_DISK_ONLY = 1 << 0,   /* --disk-only: external overlays */
    VD_SNAPSHOT_CREATE_NO_METADATA = 1 << 1, /* --no-metadata: take it, record nothing */
    VD_SNAPSHOT_CREATE_HALT = 1 << 2,        /* --halt: destroy the domain afterwards */
    VD_SNAPSHOT_CREATE_REUSE_EXT = 1 << 3,   /* --reuse-external */
    VD_SNAPSHOT_CREATE_QUIESCE = 1 << 4,     /* --quiesce */
    VD_SNAPSHOT_CREATE_REDEFINE = 1 << 5,    /* --redefine: metadata only, from the XML */
    VD_SNAPSHOT_CREATE_CURRENT = 1 << 6,     /* with --redefine: make it current */
} VdSnapshotCreateFlags;

typedef enum {
    VD_SNAPSHOT_REVERT_RUNNING = 1 << 0,
    VD_SNAPSHOT_REVERT_PAUSED = 1 << 1,
    VD_SNAPSHOT_REVERT_FORCE = 1 << 2,
} VdSnapshotRevertFlags;

typedef enum {
    VD_SNAPSHOT_DELETE_CHILDREN = 1 << 0,
    VD_SNAPSHOT_DELETE_CHILDREN_ONLY = 1 << 1,
    VD_SNAPSHOT_DELETE_METADATA_ONLY = 1 << 2,
} VdSnapshotDeleteFlags;

/* Called once with the snapshot's name (NULL on error). */
typedef void (*VdSnapshotCreatedFunc)(VdDomainObj *dom, const char *name, const GError *error,
                                      gpointer user_data);

/* snapshot-create: @xml is a <domainsnapshot> (may be empty: every default). */
void vd_snapshot_create(VdDaemon *d, VdDomainObj *dom, const char *xml, guint flags,
                        VdSnapshotCreatedFunc done, gpointer user_data);
void vd_snapshot_revert(VdDaemon *d, VdDomainObj *dom, const char *name, guint flags,
                        VdSnapshotDoneFunc done, gpointer user_data);
void vd_snapshot_delete(VdDaemon *d, VdDomainObj *dom, const char *name, guint flags,
                        VdSnapshotDoneFunc done, gpointer user_data);

/* Read-only views (main loop; borrowed until the main loop runs again). */
GPtrArray *vd_snapshot_list(VdDaemon *d, VdDomainObj *dom);          /* oldest first */
const VdSnapshotDef *vd_snapshot_lookup(VdDaemon *d, VdDomainObj *dom, const char *name,
                                        GError **error);
const char *vd_snapshot_current(VdDaemon *d, VdDomainObj *dom);       /* NULL: none */
gboolean vd_snapshot_set_current(VdDaemon *d, VdDomainObj *dom, const char *name, GError **error);
GPtrArray *vd_snapshot_children(VdDaemon *d, VdDomainObj *dom, const char *name); /* borrowed defs */
GPtrArray *vd_snapshot_descendants(VdDaemon *d, VdDomainObj *dom, const char *name);
/* snapshot-edit: replaces the metadata of @name with @xml's name-less
 * fields (description); a new <name> renames it (libvirt's edit --rename). */
gboolean vd_snapshot_edit(VdDaemon *d, VdDomainObj *dom, const char *name, const char *xml,
                          GError **error);
