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
} VdSnapshotStore;

/* @dom's store, loaded from its directory when first needed (files that
 * fail to parse are logged and skipped, never deleted). */
VdSnapshotStore *vd_snapshot_store_get(VdDaemon *d, VdDomainObj *dom);
void vd_snapshot_store_free(VdSnapshotStore *store);

VdSnapshotDef *vd_snapshot_store_lookup(VdSnapshotStore *store, const char *name, GError **error);
/* Writes @def's file, then keeps @def (taken) in memory. */
gboolean vd_snapshot_store_put(VdSnapshotStore *store, VdSnapshotDef *def, GError **error);
/* Removes @name's file and entry. */
gboolean vd_snapshot_store_remove(VdSnapshotStore *store, const char *name, GError **error);
/* Records @name (NULL: none) as the current snapshot. */
gboolean vd_snapshot_store_set_current(VdSnapshotStore *store, const char *name, GError **error);
/* All snapshots, oldest first (creation time, then name): borrowed. */
GPtrArray *vd_snapshot_store_list(VdSnapshotStore *store);
/* The children of @name (NULL: the roots), oldest first: borrowed. */
GPtrArray *vd_snapshot_store_children(VdSnapshotStore *store, const char *name);
/* Every descendant of @name, parents before children (depth first). */
GPtrArray *vd_snapshot_store_descendants(VdSnapshotStore *store, const char *name);
