/* Removing a domain's storage with the domain (see undefine-storage.h).
 *
 * Everything is decided before the definition goes: a typo in --storage
 * or a running domain must change nothing. Deletion follows the undefine
 * and goes through the storage layer's own checks, so a volume that came
 * into use meanwhile is kept and reported, not pulled from under a guest.
 */
#include "daemon/domain/undefine-storage.h"

#include "daemon/domain/domain-process.h"
#include "daemon/storage/storage.h"
#include "util/vd-error.h"

void
vd_storage_removal_free(VdStorageRemoval *r)
{
    if (!r)
        return;
    g_free(r->target);
    g_free(r->path);
    g_free(r->reason);
    g_free(r);
}

/* The file a disk uses: its source file, or its pool volume's. */
static char *
disk_path(VdDaemon *d, const VdDiskDef *disk)
{
    if (disk->type == VD_DISK_TYPE_VOLUME && disk->source_pool && disk->source_volume) {
        g_autofree char *path = NULL;
        if (vd_storage_resolve_volume(d, disk->source_pool, disk->source_volume, &path, NULL,
                                      NULL))
            return g_steal_pointer(&path);
        return NULL;
    }
    return g_strdup(disk->source_file);
}

/* Another domain whose definition (persistent, or live while running)
 * uses @path; NULL if none. */
static const char *
other_user(VdDaemon *d, VdDomainObj *self, const char *path)
{
    g_autoptr(GPtrArray) all = vd_domain_list_all(d->domains);
    for (guint i = 0; i < all->len; i++) {
        VdDomainObj *o = g_ptr_array_index(all, i);
        if (o == self)
            continue;
        const VdDomainDef *defs[] = {vd_domain_obj_def(o), o->live};
        for (guint k = 0; k < G_N_ELEMENTS(defs); k++) {
            if (!defs[k])
                continue;
            for (guint j = 0; j < defs[k]->disks->len; j++) {
                g_autofree char *p = disk_path(d, g_ptr_array_index(defs[k]->disks, j));
                if (p && g_str_equal(p, path)) {
                    /* Names outlive the snapshot array: the registry keeps them. */
                    return o->name;
                }
            }
        }
    }
    return NULL;
}

static gboolean
named_match(const VdDiskDef *disk, const char *path, const char *name)
{
    return g_strcmp0(disk->target_dev, name) == 0 || g_strcmp0(path, name) == 0;
}

GPtrArray *
vd_storage_removal_plan(VdDaemon *d, VdDomainObj *dom, gboolean all, const char *const *named,
                        GError **error)
{
    /* Not while it runs, nor while a start or destroy is in flight: a
     * start's QEMU would open the disks being deleted. */
    if (!vd_domain_obj_check(dom, VD_OP_UNDEFINE_STORAGE, error))
        return NULL;
    const VdDomainDef *def = vd_domain_obj_def(dom);
    g_autoptr(GPtrArray) plan = g_ptr_array_new_with_free_func((GDestroyNotify)vd_storage_removal_free);
    for (const char *const *n = named; n && *n; n++) {
        gboolean found = FALSE;
        for (guint i = 0; i < def->disks->len && !found; i++) {
            const VdDiskDef *disk = g_ptr_array_index(def->disks, i);
            g_autofree char *path = disk_path(d, disk);
            found = named_match(disk, path, *n);
        }
        if (!found) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "Volume '%s' was not found in domain's definition: name a disk by its "
                        "target (vda) or source path (vsh domblklist %s)",
                        *n, dom->name);
            return NULL;
        }
    }
    for (guint i = 0; i < def->disks->len; i++) {
        const VdDiskDef *disk = g_ptr_array_index(def->disks, i);
        g_autofree char *path = disk_path(d, disk);
        gboolean wanted = all;
        for (const char *const *n = named; n && *n && !wanted; n++)
            wanted = named_match(disk, path, *n);
        if (!wanted || (!path && disk->type != VD_DISK_TYPE_VOLUME))
            continue;
        VdStorageRemoval *r = g_new0(VdStorageRemoval, 1);
        r->target = g_strdup(disk->target_dev ? disk->target_dev : "-");
        r->path = g_strdup(path ? path : "-");
        g_autofree char *pool = NULL;
        g_autofree char *vol = NULL;
        const char *user = path ? other_user(d, dom, path) : NULL;
        if (!path)
            r->reason = g_strdup_printf("volume '%s/%s' not found (pool inactive or volume gone)",
                                        disk->source_pool, disk->source_volume);
        else if (!vd_storage_find_volume_by_path(d, path, &pool, &vol))
            r->reason = g_strdup("not managed by a storage pool; remove it manually");
        else if (user)
            r->reason = g_strdup_printf("also used by domain '%s'", user);
        else if (all && !named && disk->device == VD_DISK_DEVICE_CDROM)
            r->reason = g_strdup("install media (read-only cdrom) is kept; name it with "
                                 "--storage to remove it");
        g_ptr_array_add(plan, r);
    }
    return g_steal_pointer(&plan);
}

/* One removal run: the plan's volumes deleted one after the other, each
 * by the storage layer's worker (unlinking a large image can take a
 * while, and the main loop must keep answering). */
typedef struct {
    VdDaemon *d;
    GPtrArray *plan;
    guint next;
    VdStorageRemovalDone done;
    gpointer user_data;
} RemovalRun;

static void removal_step(RemovalRun *run);

static void
removal_deleted(GObject *source, GAsyncResult *res, gpointer data)
{
    RemovalRun *run = data;
    VdStorageRemoval *r = g_ptr_array_index(run->plan, run->next - 1);
    g_autoptr(GError) error = NULL;
    g_autoptr(VdStorageVolDef) gone = vd_storage_vol_finish(run->d, res, &error);

    if (!gone)
        r->reason = g_strdup_printf("failed to remove: %s", error->message);
    removal_step(run);
}

static void
removal_step(RemovalRun *run)
{
    while (run->next < run->plan->len) {
        VdStorageRemoval *r = g_ptr_array_index(run->plan, run->next++);
        g_autofree char *pool_name = NULL;
        g_autofree char *vol = NULL;
        VdStoragePool *pool;

        if (r->reason)
            continue;
        if (!vd_storage_find_volume_by_path(run->d, r->path, &pool_name, &vol) ||
            !(pool = vd_storage_lookup(run->d->storage, pool_name, NULL))) {
            r->reason = g_strdup("failed to remove: no longer a pool volume");
            continue;
        }
        vd_storage_vol_delete_async(run->d, pool, vol, removal_deleted, run);
        return;
    }
    run->done(run->plan, run->user_data);
    g_ptr_array_unref(run->plan);
    g_free(run);
}

void
vd_storage_removal_run(VdDaemon *d, GPtrArray *plan, VdStorageRemovalDone done,
                       gpointer user_data)
{
    RemovalRun *run = g_new0(RemovalRun, 1);
    run->d = d;
    run->plan = g_ptr_array_ref(plan);
    run->done = done;
    run->user_data = user_data;
    removal_step(run);
}
