/* The snapshot metadata of one domain (private to snapshot/): every
 * snapshot's VdSnapshotDef by name, the current one, their files in
 * state_dir/snapshots/DOMAIN/ (SNAP.xml, "current"), the tree through the
 * parent names. Main loop only; files are small and written atomically. */
#pragma once

#include "daemon/snapshot/snapshot.h"

typedef struct {
    char *dir;           /* state_dir/snapshots/DOMAIN */
    GHashTable *by_name; /* char* -> VdSnapshotDef* (owned) */
    char *current;       /* NULL: none */
    /* Snapshots begun but not known to be complete (SNAP.pending, the
     * metadata written before QEMU's job starts): not listed; a daemon
     * restart settles them (snapshot-recover.c). char* -> VdSnapshotDef*. */
    GHashTable *pending;
} VdSnapshotStore;

/* Removes a domain's whole metadata directory @dir (snapshots, pending
 * records, intents, current, temporary files): the domain is gone, and a
 * new domain of that name must not inherit its snapshots. */
void vd_snapshot_store_discard_dir(const char *dir);

/* @dom's store, loaded from its directory when first needed (files that
 * fail to parse are logged and skipped, never deleted). */
VdSnapshotStore *vd_snapshot_store_get(VdDaemon *d, VdDomainObj *dom);
void vd_snapshot_store_free(VdSnapshotStore *store);

VdSnapshotDef *vd_snapshot_store_lookup(VdSnapshotStore *store, const char *name, GError **error);
/* Writes @def's file, then keeps @def (taken) in memory. */
gboolean vd_snapshot_store_put(VdSnapshotStore *store, VdSnapshotDef *def, GError **error);
/* Removes @name's file and entry. */
gboolean vd_snapshot_store_remove(VdSnapshotStore *store, const char *name, GError **error);
/* Records @def (not taken) as pending: SNAP.pending, written atomically. */
gboolean vd_snapshot_store_put_pending(VdSnapshotStore *store, const VdSnapshotDef *def,
                                       GError **error);
/* Forgets pending @name (its file too). */
void vd_snapshot_store_drop_pending(VdSnapshotStore *store, const char *name);
/* An operation's intent (@kind "revert" or "delete"), written before
 * it changes the images, removed once its metadata is done: a daemon
 * killed in between completes it at its restart (snapshot-recover.c).
 * DIR/KIND.intent holds the snapshot's name. */
gboolean vd_snapshot_store_set_intent(VdSnapshotStore *store, const char *kind, const char *name,
                                      GError **error);
void vd_snapshot_store_clear_intent(VdSnapshotStore *store, const char *kind);
/* The name recorded for @kind, or NULL. */
char *vd_snapshot_store_get_intent(VdSnapshotStore *store, const char *kind);
/* Records @name (NULL: none) as the current snapshot. */
gboolean vd_snapshot_store_set_current(VdSnapshotStore *store, const char *name, GError **error);
/* All snapshots, oldest first (creation time, then name): borrowed. */
GPtrArray *vd_snapshot_store_list(VdSnapshotStore *store);
/* The children of @name (NULL: the roots), oldest first: borrowed. */
GPtrArray *vd_snapshot_store_children(VdSnapshotStore *store, const char *name);
/* Every descendant of @name, parents before children (depth first). */
GPtrArray *vd_snapshot_store_descendants(VdSnapshotStore *store, const char *name);
