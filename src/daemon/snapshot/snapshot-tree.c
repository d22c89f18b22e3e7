/* Revert to a snapshot and delete snapshots (the tree's re-parenting):
 * see snapshot.h. */
#include "daemon/domain/domain-process.h"
#include "daemon/domain/start-phase.h"
#include "daemon/snapshot/snapshot-live.h"
#include "daemon/snapshot/snapshot-offline.h"
#include "daemon/snapshot/snapshot-priv.h"
#include "util/vd-error.h"

/* ---- revert ---- */

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom;
    VdSnapshotDef *snap; /* a copy */
    VdDomainDef *restore; /* the recorded definition, for a persistent domain */
    guint flags;
    VdSnapshotDoneFunc done;
    gpointer user_data;
} RevertOp;

static void
revert_finish(RevertOp *op, const GError *error)
{
    op->done(op->dom, error, op->user_data);
    vd_snapshot_def_free(op->snap);
    vd_domain_def_free(op->restore);
    vd_domain_obj_unref(op->dom);
    g_free(op);
}

static void
revert_started(VdDomainObj *dom, const GError *error, gpointer data)
{
    RevertOp *op = data;
    if (!error && vd_state_is_active(dom->state)) {
        g_autoptr(GError) e = NULL;
        vd_domain_obj_set_state(dom, dom->state, VD_REASON_FROM_SNAPSHOT);
        /* so that a daemon restart still says "(from snapshot)" */
        if (!vd_domain_status_save(op->d->domains, dom, &e))
            g_warning("domain '%s': %s", dom->name, e->message);
    }
    revert_finish(op, error);
}

static gboolean
make_current(RevertOp *op, GError **error)
{
    VdSnapshotStore *store = vd_snapshot_store_get(op->d, op->dom);
    return vd_snapshot_store_set_current(store, op->snap->name, error);
}

static void
revert_applied(VdDomainObj *dom, const GError *error, gpointer data)
{
    RevertOp *op = data;
    g_autoptr(GError) local = NULL;

    VdSnapshotStore *store = vd_snapshot_store_get(op->d, dom);
    vd_snapshot_job_end(dom, error == NULL);
    if (error) {
        vd_snapshot_store_clear_intent(store, "revert");
        revert_finish(op, error);
        return;
    }
    vd_start_crash_point("snapshot-revert-applied");
    /* the definition as it was when the snapshot was taken */
    if (op->restore && dom->persistent) {
        if (!vd_domain_list_define(op->d->domains, op->restore, &local)) {
            g_prefix_error(&local, "the disks were reverted to snapshot '%s' but the "
                                   "definition was not: ", op->snap->name);
            revert_finish(op, local);
            return;
        }
        op->restore = NULL; /* the registry's now */
    }
    if (!make_current(op, &local)) {
        revert_finish(op, local);
        return;
    }
    vd_snapshot_store_clear_intent(store, "revert");
    vd_domain_obj_set_state(dom, VD_STATE_SHUTOFF, VD_REASON_FROM_SNAPSHOT);
    if (op->flags & (VD_SNAPSHOT_REVERT_RUNNING | VD_SNAPSHOT_REVERT_PAUSED)) {
        vd_domain_start(op->d, dom, (op->flags & VD_SNAPSHOT_REVERT_PAUSED) != 0, revert_started,
                        op);
        return;
    }
    revert_finish(op, NULL);
}

static void
revert_offline(RevertOp *op)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) images = vd_snapshot_internal_images(op->d, op->snap, &error);
    if (images && !vd_snapshot_images_free(op->d, op->dom, images, &error))
        g_clear_pointer(&images, g_ptr_array_unref);
    /* parsed before the disks change, so that a definition that no longer
     * parses fails the revert with nothing done; it keeps the domain's
     * name and UUID (a renamed domain stays itself) */
    if (images && op->snap->domain_xml && op->dom->persistent) {
        op->restore = vd_domain_def_new_from_stored_xml(op->snap->domain_xml, -1, &error);
        if (op->restore) {
            g_free(op->restore->name);
            op->restore->name = g_strdup(op->dom->name);
            g_strlcpy(op->restore->uuid, op->dom->uuid, sizeof(op->restore->uuid));
        } else {
            g_prefix_error(&error, "snapshot '%s': its domain definition: ", op->snap->name);
            g_clear_pointer(&images, g_ptr_array_unref);
        }
    }
    /* The images and the definition change in two steps: a daemon killed
     * between them completes the revert at its restart. */
    if (images && !vd_snapshot_store_set_intent(vd_snapshot_store_get(op->d, op->dom), "revert",
                                                op->snap->name, &error))
        g_clear_pointer(&images, g_ptr_array_unref);
    if (!images) {
        revert_finish(op, error);
        return;
    }
    vd_snapshot_job_begin(op->dom, "Snapshot revert");
    vd_snapshot_offline_run(op->dom, VD_SNAPSHOT_IMG_APPLY, op->snap->name, images, revert_applied,
                            op);
}

static void
revert_destroyed(VdDomainObj *dom, const GError *error, gpointer data)
{
    RevertOp *op = data;
    (void)dom;
    if (error) {
        revert_finish(op, error);
        return;
    }
    revert_offline(op);
}

static void
revert_live_done(VdDomainObj *dom, const GError *error, gpointer data)
{
    RevertOp *op = data;
    g_autoptr(GError) local = NULL;
    vd_snapshot_job_end(dom, error == NULL);
    if (!error && !make_current(op, &local))
        error = local;
    revert_finish(op, error);
}

/* Snapshot @name, or the current one when @name is NULL (revert and
 * delete accept --current). */
static VdSnapshotDef *
lookup_named_or_current(VdSnapshotStore *store, const char *name, GError **error)
{
    if (!name && !store->current) {
        vd_set_error(error, VD_ERROR_NOT_FOUND,
                     "Domain snapshot not found: the domain does not have a current snapshot: "
                     "name one (snapshot-list shows them)");
        return NULL;
    }
    return vd_snapshot_store_lookup(store, name ? name : store->current, error);
}

void
vd_snapshot_revert(VdDaemon *d, VdDomainObj *dom, const char *name, guint flags,
                   VdSnapshotDoneFunc done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    VdSnapshotStore *store;
    const VdSnapshotDef *snap;

    if (!vd_domain_obj_check(dom, VD_OP_SNAPSHOT, &error)) {
        done(dom, error, user_data);
        return;
    }
    store = vd_snapshot_store_get(d, dom);
    snap = lookup_named_or_current(store, name, &error);
    if (!snap) {
        done(dom, error, user_data);
        return;
    }
    if ((flags & VD_SNAPSHOT_REVERT_RUNNING) && (flags & VD_SNAPSHOT_REVERT_PAUSED)) {
        vd_set_error(&error, VD_ERROR_INVALID_ARG,
                     "Options --running and --paused are mutually exclusive: give one");
        done(dom, error, user_data);
        return;
    }
    if (g_strcmp0(snap->state, "disk-snapshot") == 0) {
        vd_set_unsupported(&error,
                           "unsupported configuration: revert to external snapshot not "
                           "supported yet: merge the overlay back with 'blockcommit %s DISK "
                           "--active --pivot' (running) or take a new snapshot to revert to",
                           dom->name);
        done(dom, error, user_data);
        return;
    }
    if (!snap->domain_xml && !(flags & VD_SNAPSHOT_REVERT_FORCE)) {
        vd_set_error(&error, VD_ERROR_INVALID_STATE,
                     "revert requires force: snapshot '%s' lacks domain definition: add --force",
                     snap->name);
        done(dom, error, user_data);
        return;
    }
    RevertOp *op = g_new0(RevertOp, 1);
    op->d = d;
    op->dom = vd_domain_obj_ref(dom);
    op->snap = vd_snapshot_def_copy(snap);
    op->flags = flags;
    op->done = done;
    op->user_data = user_data;

    if (snap->memory == VD_SNAPSHOT_LOC_INTERNAL) {
        gboolean paused = (flags & VD_SNAPSHOT_REVERT_PAUSED) ||
                          (g_strcmp0(snap->state, "paused") == 0 &&
                           !(flags & VD_SNAPSHOT_REVERT_RUNNING));
        vd_snapshot_job_begin(dom, "Snapshot revert");
        vd_snapshot_live_revert(d, dom, op->snap, paused, revert_live_done, op);
        return;
    }
    /* a shut-off snapshot: the domain stops first (as virsh, no --force needed) */
    if (vd_state_is_active(dom->state)) {
        vd_domain_destroy(d, dom, revert_destroyed, op);
        return;
    }
    revert_offline(op);
}

/* ---- delete ---- */

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom;
    GPtrArray *targets; /* VdSnapshotDef* copies, children before parents */
    guint next;
    guint flags;
    VdSnapshotDoneFunc done;
    gpointer user_data;
} DeleteOp;

static void delete_next(DeleteOp *op);

static void
delete_finish(DeleteOp *op, const GError *error)
{
    vd_snapshot_job_end(op->dom, error == NULL);
    op->done(op->dom, error, op->user_data);
    g_ptr_array_unref(op->targets);
    vd_domain_obj_unref(op->dom);
    g_free(op);
}

/* Drops @snap's metadata: its children move to its parent (files first,
 * so a daemon killed meanwhile finds a consistent tree), the current
 * snapshot moves to its parent too. */
static gboolean
drop_metadata(VdDaemon *d, VdDomainObj *dom, const VdSnapshotDef *snap, GError **error)
{
    VdSnapshotStore *store = vd_snapshot_store_get(d, dom);
    g_autoptr(GPtrArray) kids = vd_snapshot_store_children(store, snap->name);
    g_autofree char *parent = g_strdup(snap->parent);
    for (guint i = 0; i < kids->len; i++) {
        VdSnapshotDef *k = vd_snapshot_def_copy(kids->pdata[i]);
        g_free(k->parent);
        k->parent = g_strdup(parent);
        if (!vd_snapshot_store_put(store, k, error))
            return FALSE;
    }
    gboolean was_current = g_strcmp0(store->current, snap->name) == 0;
    if (!vd_snapshot_store_remove(store, snap->name, error))
        return FALSE;
    if (was_current && parent && !vd_snapshot_store_set_current(store, parent, error))
        return FALSE;
    return TRUE;
}

static void
deleted_one(VdDomainObj *dom, const GError *error, gpointer data)
{
    DeleteOp *op = data;
    g_autoptr(GError) local = NULL;
    const VdSnapshotDef *snap = op->targets->pdata[op->next];

    if (error) {
        vd_snapshot_store_clear_intent(vd_snapshot_store_get(op->d, dom), "delete");
        delete_finish(op, error);
        return;
    }
    vd_start_crash_point("snapshot-delete-images");
    if (!drop_metadata(op->d, dom, snap, &local)) {
        delete_finish(op, local);
        return;
    }
    vd_snapshot_store_clear_intent(vd_snapshot_store_get(op->d, dom), "delete");
    op->next++;
    delete_next(op);
}

static gboolean
has_internal(const VdSnapshotDef *snap)
{
    for (guint i = 0; i < snap->disks->len; i++)
        if (((VdSnapshotDiskDef *)snap->disks->pdata[i])->snapshot == VD_SNAPSHOT_LOC_INTERNAL)
            return TRUE;
    return FALSE;
}

static void
delete_next(DeleteOp *op)
{
    g_autoptr(GError) error = NULL;
    if (op->next >= op->targets->len) {
        delete_finish(op, NULL);
        return;
    }
    const VdSnapshotDef *snap = op->targets->pdata[op->next];
    if ((op->flags & VD_SNAPSHOT_DELETE_METADATA_ONLY) || !has_internal(snap)) {
        deleted_one(op->dom, NULL, op);
        return;
    }
    /* The images, then the metadata: a daemon killed between them
     * completes the delete at its restart. */
    if (!vd_snapshot_store_set_intent(vd_snapshot_store_get(op->d, op->dom), "delete", snap->name,
                                      &error)) {
        delete_finish(op, error);
        return;
    }
    if (vd_state_is_active(op->dom->state)) {
        vd_snapshot_live_delete(op->d, op->dom, snap, deleted_one, op);
        return;
    }
    g_autoptr(GPtrArray) images = vd_snapshot_internal_images(op->d, snap, &error);
    if (images && !vd_snapshot_images_free(op->d, op->dom, images, &error))
        g_clear_pointer(&images, g_ptr_array_unref);
    if (!images) {
        vd_snapshot_store_clear_intent(vd_snapshot_store_get(op->d, op->dom), "delete");
        delete_finish(op, error);
        return;
    }
    vd_snapshot_offline_run(op->dom, VD_SNAPSHOT_IMG_DELETE, snap->name, images, deleted_one, op);
}

void
vd_snapshot_delete(VdDaemon *d, VdDomainObj *dom, const char *name, guint flags,
                   VdSnapshotDoneFunc done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    VdSnapshotStore *store;
    VdSnapshotDef *snap;

    if (!vd_domain_obj_check(dom, VD_OP_SNAPSHOT, &error)) {
        done(dom, error, user_data);
        return;
    }
    store = vd_snapshot_store_get(d, dom);
    snap = lookup_named_or_current(store, name, &error);
    if (!snap) {
        done(dom, error, user_data);
        return;
    }
    g_autoptr(GPtrArray) subtree = NULL;
    GPtrArray *targets = g_ptr_array_new_with_free_func((GDestroyNotify)vd_snapshot_def_free);
    if (flags & (VD_SNAPSHOT_DELETE_CHILDREN | VD_SNAPSHOT_DELETE_CHILDREN_ONLY)) {
        subtree = vd_snapshot_store_descendants(store, snap->name);
        for (guint i = subtree->len; i > 0; i--)
            g_ptr_array_add(targets, vd_snapshot_def_copy(subtree->pdata[i - 1]));
    }
    if (!(flags & VD_SNAPSHOT_DELETE_CHILDREN_ONLY))
        g_ptr_array_add(targets, vd_snapshot_def_copy(snap));
    guint external = 0;
    for (guint i = 0; i < targets->len; i++)
        external += g_strcmp0(((VdSnapshotDef *)targets->pdata[i])->state, "disk-snapshot") == 0;
    if (external && !(flags & VD_SNAPSHOT_DELETE_METADATA_ONLY)) {
        g_ptr_array_unref(targets);
        vd_set_unsupported(&error,
                           "unsupported configuration: deletion of %u external disk snapshots "
                           "not supported yet: merge the overlays with blockcommit, then "
                           "delete with --metadata",
                           external);
        done(dom, error, user_data);
        return;
    }
    DeleteOp *op = g_new0(DeleteOp, 1);
    op->d = d;
    op->dom = vd_domain_obj_ref(dom);
    op->targets = targets;
    op->flags = flags;
    op->done = done;
    op->user_data = user_data;
    vd_snapshot_job_begin(dom, "Snapshot delete");
    delete_next(op);
}
