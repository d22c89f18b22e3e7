/* Copied storage (--copy-storage-all, --copy-storage-inc; migration-priv.h
 * "Storage", docs/migration-storage.md). The parts:
 *   migration-storage-dest.c    destination: where the disks go, their
 *                               images, QEMU's NBD exports, the clean-up
 *   migration-storage-mirror.c  source: blockdev-mirror into the exports
 *   migration-storage-upload.c  source, offline: the disks' files streamed
 *                               through the destination's API (received by
 *                               api/api-migration-disk.c)
 *   migration-storage-stream.c  that stream's format: sparse extents
 * and here the progress domjobinfo reads. */
#include "migration-storage-priv.h"

typedef struct {
    guint64 total, processed;
} Progress;

static GHashTable *progress_by_dom; /* VdDomainObj* (not ref'd: cleared at the end) */

void
vd_migration_storage_progress_set(VdDomainObj *dom, guint64 total, guint64 processed)
{
    if (!progress_by_dom)
        progress_by_dom = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    Progress *p = g_hash_table_lookup(progress_by_dom, dom);
    if (!p) {
        p = g_new0(Progress, 1);
        g_hash_table_insert(progress_by_dom, dom, p);
    }
    p->total = total;
    p->processed = processed;
}

void
vd_migration_storage_progress_clear(VdDomainObj *dom)
{
    if (progress_by_dom)
        g_hash_table_remove(progress_by_dom, dom);
}

gboolean
vd_migration_storage_progress(VdDomainObj *dom, guint64 *total, guint64 *processed)
{
    Progress *p = progress_by_dom ? g_hash_table_lookup(progress_by_dom, dom) : NULL;
    if (!p)
        return FALSE;
    *total = p->total;
    *processed = p->processed;
    return TRUE;
}
