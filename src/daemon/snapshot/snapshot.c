/* Snapshot metadata and the create flow: see snapshot.h. Revert and
 * delete are in snapshot-tree.c, the store in snapshot-store.c, qemu-img
 * in snapshot-offline.c. */
#include "daemon/snapshot/snapshot.h"

#include <errno.h>
#include <glib/gstdio.h>

#include "blockjob/snapshot-external.h"
#include "daemon/domain/domain-process.h"
#include "daemon/domain/start-phase.h"
#include "daemon/snapshot/snapshot-live.h"
#include "daemon/snapshot/snapshot-offline.h"
#include "daemon/snapshot/snapshot-priv.h"
#include "daemon/storage/storage.h"
#include "util/vd-error.h"

/* ---- shared helpers ---- */

void
vd_snapshot_job_begin(VdDomainObj *dom, const char *operation)
{
    dom->job = VD_JOB_SNAPSHOT;
    vd_domain_async_job_begin(dom, operation, VD_ASYNC_JOB_DAEMON, NULL, FALSE);
}

void
vd_snapshot_job_end(VdDomainObj *dom, gboolean ok)
{
    if (dom->job == VD_JOB_SNAPSHOT)
        dom->job = VD_JOB_NONE;
    if (vd_domain_async_job_current(dom))
        vd_domain_async_job_end(dom, ok);
}

static gboolean
disk_image(VdDaemon *d, const VdDiskDef *disk, char **path, GError **error)
{
    if (disk->type == VD_DISK_TYPE_VOLUME)
        return vd_storage_resolve_volume(d, disk->source_pool, disk->source_volume, path, NULL,
                                         error);
    if (!disk->source_file)
        return vd_set_error(error, VD_ERROR_INVALID_ARG, "disk '%s' has no image",
                            disk->target_dev);
    *path = g_strdup(disk->source_file);
    return TRUE;
}

static GPtrArray *
images_of(VdDaemon *d, const VdDomainDef *dom_def, const VdSnapshotDef *snap, GError **error)
{
    g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < snap->disks->len; i++) {
        const VdSnapshotDiskDef *sd = snap->disks->pdata[i];
        if (sd->snapshot != VD_SNAPSHOT_LOC_INTERNAL)
            continue;
        for (guint j = 0; j < dom_def->disks->len; j++) {
            const VdDiskDef *disk = dom_def->disks->pdata[j];
            char *path = NULL;
            if (g_strcmp0(disk->target_dev, sd->name) != 0)
                continue;
            if (!disk_image(d, disk, &path, error))
                return NULL;
            g_ptr_array_add(images, path);
        }
    }
    return g_steal_pointer(&images);
}

GPtrArray *
vd_snapshot_internal_images(VdDaemon *d, const VdSnapshotDef *snap, GError **error)
{
    if (!snap->domain_xml) {
        vd_set_error(error, VD_ERROR_INVALID_ARG,
                     "snapshot '%s' has no domain definition recorded: its disks are unknown",
                     snap->name);
        return NULL;
    }
    g_autoptr(VdDomainDef) def =
        vd_domain_def_new_from_stored_xml(snap->domain_xml, -1, error);
    return def ? images_of(d, def, snap, error) : NULL;
}

gboolean
vd_snapshot_images_free(VdDaemon *d, VdDomainObj *dom, GPtrArray *images, GError **error)
{
    g_autoptr(GPtrArray) all = vd_domain_list_all(d->domains);
    for (guint i = 0; i < all->len; i++) {
        VdDomainObj *other = all->pdata[i];
        if (other == dom || !vd_state_is_active(other->state) || !other->live)
            continue;
        for (guint j = 0; j < other->live->disks->len; j++) {
            const VdDiskDef *disk = other->live->disks->pdata[j];
            for (guint k = 0; disk->source_file && k < images->len; k++)
                if (g_str_equal(disk->source_file, images->pdata[k]))
                    return vd_set_error(error, VD_ERROR_INVALID_STATE,
                                        "Requested operation is not valid: disk image '%s' is in "
                                        "use by running domain '%s': shut it down first",
                                        disk->source_file, other->name);
        }
    }
    return TRUE;
}

/* ---- metadata views ---- */

guint
vd_snapshot_count(VdDaemon *d, VdDomainObj *dom)
{
    return g_hash_table_size(vd_snapshot_store_get(d, dom)->by_name);
}

gboolean
vd_snapshot_undefine_check(VdDaemon *d, VdDomainObj *dom, gboolean metadata_too, GError **error)
{
    guint n;
    if (vd_state_is_active(dom->state) || metadata_too || !(n = vd_snapshot_count(d, dom)))
        return TRUE;
    return vd_set_error(error, VD_ERROR_INVALID_STATE,
                        "Requested operation is not valid: cannot delete inactive domain with %u "
                        "snapshots: add --snapshots-metadata to drop their metadata (the "
                        "images keep their internal snapshots), or delete them first with "
                        "snapshot-delete",
                        n);
}

gboolean
vd_snapshot_remove_all_metadata(VdDaemon *d, VdDomainObj *dom, GError **error)
{
    VdSnapshotStore *store = vd_snapshot_store_get(d, dom);
    g_autoptr(GPtrArray) all = vd_snapshot_store_list(store);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

    if (vd_state_is_active(dom->state))
        return TRUE; /* as libvirt: a running domain keeps them until it stops */
    for (guint i = 0; i < all->len; i++)
        g_ptr_array_add(names, g_strdup(((VdSnapshotDef *)all->pdata[i])->name));
    for (guint i = 0; i < names->len; i++)
        if (!vd_snapshot_store_remove(store, names->pdata[i], error))
            return FALSE;
    if (!vd_snapshot_store_set_current(store, NULL, error))
        return FALSE;
    if (g_rmdir(store->dir) < 0 && errno != ENOENT)
        g_warning("cannot remove '%s': %s", store->dir, g_strerror(errno));
    return TRUE;
}

gboolean
vd_snapshot_rename_domain(VdDaemon *d, const char *old_name, const char *new_name, GError **error)
{
    g_autofree char *from = vd_paths_domain_snapshot_dir(d->paths, old_name);
    g_autofree char *to = vd_paths_domain_snapshot_dir(d->paths, new_name);
    if (!g_file_test(from, G_FILE_TEST_IS_DIR))
        return TRUE;
    if (g_rename(from, to) < 0) {
        int err = errno;
        return vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                            "cannot move snapshot metadata '%s' to '%s': %s", from, to,
                            g_strerror(err));
    }
    return TRUE;
}

GPtrArray *
vd_snapshot_list(VdDaemon *d, VdDomainObj *dom)
{
    return vd_snapshot_store_list(vd_snapshot_store_get(d, dom));
}

const VdSnapshotDef *
vd_snapshot_lookup(VdDaemon *d, VdDomainObj *dom, const char *name, GError **error)
{
    return vd_snapshot_store_lookup(vd_snapshot_store_get(d, dom), name, error);
}

const char *
vd_snapshot_current(VdDaemon *d, VdDomainObj *dom)
{
    return vd_snapshot_store_get(d, dom)->current;
}

gboolean
vd_snapshot_set_current(VdDaemon *d, VdDomainObj *dom, const char *name, GError **error)
{
    VdSnapshotStore *store = vd_snapshot_store_get(d, dom);
    if (!vd_snapshot_store_lookup(store, name, error))
        return FALSE;
    return vd_snapshot_store_set_current(store, name, error);
}

GPtrArray *
vd_snapshot_children(VdDaemon *d, VdDomainObj *dom, const char *name)
{
    return vd_snapshot_store_children(vd_snapshot_store_get(d, dom), name);
}

GPtrArray *
vd_snapshot_descendants(VdDaemon *d, VdDomainObj *dom, const char *name)
{
    return vd_snapshot_store_descendants(vd_snapshot_store_get(d, dom), name);
}

gboolean
vd_snapshot_edit(VdDaemon *d, VdDomainObj *dom, const char *name, const char *xml, GError **error)
{
    VdSnapshotStore *store = vd_snapshot_store_get(d, dom);
    VdSnapshotDef *old = vd_snapshot_store_lookup(store, name, error);
    if (!old)
        return FALSE;
    g_autoptr(VdSnapshotDef) in = vd_snapshot_def_parse(xml, FALSE, error);
    if (!in)
        return FALSE;
    if (in->name && !g_str_equal(in->name, name))
        return vd_set_error(error, VD_ERROR_INVALID_ARG,
                            "snapshot-edit cannot rename snapshot '%s' to '%s': change <name> "
                            "back",
                            name, in->name);
    VdSnapshotDef *def = vd_snapshot_def_copy(old);
    g_free(def->description);
    def->description = g_steal_pointer(&in->description);
    return vd_snapshot_store_put(store, def, error);
}

/* ---- create ---- */

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom;
    VdSnapshotDef *def;
    guint flags;
    VdSnapshotCreatedFunc done;
    gpointer user_data;
} CreateOp;

static void
create_finish(CreateOp *op, const GError *error)
{
    op->done(op->dom, error ? NULL : op->def->name, error, op->user_data);
    vd_snapshot_def_free(op->def);
    vd_domain_obj_unref(op->dom);
    g_free(op);
}

static void
halted(VdDomainObj *dom, const GError *error, gpointer data)
{
    (void)dom;
    if (error)
        g_warning("domain '%s': --halt after the snapshot: %s", dom->name, error->message);
    create_finish(data, NULL);
}

static void
taken(VdDomainObj *dom, const GError *error, gpointer data)
{
    CreateOp *op = data;
    g_autoptr(GError) local = NULL;
    VdSnapshotStore *store = vd_snapshot_store_get(op->d, dom);

    vd_snapshot_job_end(dom, error == NULL);
    if (error) {
        vd_snapshot_store_drop_pending(store, op->def->name);
        create_finish(op, error);
        return;
    }
    if (!(op->flags & VD_SNAPSHOT_CREATE_NO_METADATA)) {
        if (!vd_snapshot_store_put(store, vd_snapshot_def_copy(op->def), &local) ||
            !vd_snapshot_store_set_current(store, op->def->name, &local)) {
            g_prefix_error(&local, "snapshot '%s' was taken but its metadata was not saved: ",
                           op->def->name);
            create_finish(op, local);
            return;
        }
        /* after the metadata: a daemon killed between the two finds both,
         * and the snapshot complete */
        vd_snapshot_store_drop_pending(store, op->def->name);
    }
    if ((op->flags & VD_SNAPSHOT_CREATE_HALT) && vd_state_is_active(dom->state)) {
        vd_domain_destroy(op->d, dom, halted, op);
        return;
    }
    create_finish(op, NULL);
}

static gboolean
uses_pflash(const VdDomainDef *def)
{
    return g_strcmp0(def->os.loader_type, "pflash") == 0 || g_strcmp0(def->os.firmware, "efi") == 0;
}

static gboolean
prepare(VdDaemon *d, VdDomainObj *dom, VdSnapshotDef *def, guint flags, GError **error)
{
    VdSnapshotStore *store = vd_snapshot_store_get(d, dom);
    gboolean disk_only = (flags & VD_SNAPSHOT_CREATE_DISK_ONLY) != 0;
    gboolean running = vd_state_is_active(dom->state);
    const VdDomainDef *dom_def = running ? dom->live : vd_domain_obj_def(dom);

    if (running && dom->state != VD_STATE_RUNNING && dom->state != VD_STATE_PAUSED)
        return vd_set_error(error, VD_ERROR_INVALID_STATE,
                            "Requested operation is not valid: domain '%s' is %s: a snapshot "
                            "needs a running, paused or shut off domain",
                            dom->name, vd_state_to_string(dom->state));
    if (!dom_def)
        return vd_set_error(error, VD_ERROR_INTERNAL, "domain '%s' has no definition",
                            dom->name);
    if (!def->name)
        def->name = g_strdup_printf("%" G_GINT64_FORMAT, g_get_real_time() / G_USEC_PER_SEC);
    if (g_hash_table_contains(store->by_name, def->name))
        return vd_set_error(error, VD_ERROR_EXISTS,
                            "operation failed: domain snapshot '%s' already exists: choose "
                            "another name, or delete the old one first (snapshot-delete %s %s)",
                            def->name, dom->name, def->name);
    if (g_hash_table_contains(store->pending, def->name))
        return vd_set_error(error, VD_ERROR_INVALID_STATE,
                            "Requested operation is not valid: snapshot '%s' of domain '%s' was "
                            "being taken when the daemon stopped and is still being settled: "
                            "try again in a moment",
                            def->name, dom->name);
    if (!vd_snapshot_def_align(def, dom_def, disk_only, running, error))
        return FALSE;
    gboolean internal = FALSE;
    for (guint i = 0; i < def->disks->len; i++)
        internal |= ((VdSnapshotDiskDef *)def->disks->pdata[i])->snapshot ==
                    VD_SNAPSHOT_LOC_INTERNAL;
    if (running && internal && def->memory != VD_SNAPSHOT_LOC_INTERNAL)
        return vd_set_error(error, VD_ERROR_INVALID_ARG,
                            "unsupported configuration: internal snapshot of a running VM must "
                            "include the memory state: leave out <memory snapshot='no'>, or "
                            "take a --disk-only snapshot");
    if (running && def->memory == VD_SNAPSHOT_LOC_INTERNAL && uses_pflash(dom_def))
        return vd_set_unsupported(error,
                                  "operation not supported: internal snapshots of a VM with "
                                  "pflash based firmware are not supported: take an external "
                                  "snapshot with --disk-only");
    if ((flags & VD_SNAPSHOT_CREATE_QUIESCE) && !disk_only)
        return vd_set_error(error, VD_ERROR_INVALID_ARG, "invalid argument: quiesce requires "
                                                         "disk-only: add --disk-only");
    if (flags & VD_SNAPSHOT_CREATE_QUIESCE)
        return vd_set_unsupported(error,
                                  "operation not supported: --quiesce needs the guest agent's "
                                  "file system freeze, which virtd does not do yet: leave it out "
                                  "(or run 'fsfreeze' in the guest around the snapshot)");
    if (flags & VD_SNAPSHOT_CREATE_REUSE_EXT && !disk_only)
        return vd_set_error(error, VD_ERROR_INVALID_ARG,
                            "invalid argument: --reuse-external needs --disk-only");
    def->state = g_strdup(disk_only ? "disk-snapshot"
                          : dom->state == VD_STATE_PAUSED ? "paused"
                          : running                       ? "running"
                                                          : "shutoff");
    def->creation_time = g_get_real_time() / G_USEC_PER_SEC;
    def->parent = g_strdup(store->current);
    def->domain_xml = vd_domain_def_format(dom_def, running ? VD_DOMAIN_FORMAT_LIVE
                                                            : VD_DOMAIN_FORMAT_INACTIVE);
    /* A running domain's persistent definition may differ from what QEMU
     * runs (setmaxmem --config, a device attached --config only...): the
     * revert brings it back too, as libvirt's <inactiveDomain>. */
    const VdDomainDef *persistent = running && dom->persistent ? vd_domain_obj_def(dom) : NULL;
    if (persistent) {
        g_autofree char *live_inactive = vd_domain_def_format(dom_def, VD_DOMAIN_FORMAT_INACTIVE);
        g_autofree char *config = vd_domain_def_format(persistent, VD_DOMAIN_FORMAT_INACTIVE);
        if (!g_str_equal(live_inactive, config))
            def->inactive_xml = g_steal_pointer(&config);
    }
    return TRUE;
}

/* snapshot-create --redefine: metadata only, from a snapshot's full XML
 * (snapshot-dumpxml's), e.g. after undefine --snapshots-metadata and a
 * new define. Nothing is done to the images. Returns the name. */
static char *
redefine(VdDaemon *d, VdDomainObj *dom, const char *xml, guint flags, GError **error)
{
    VdSnapshotStore *store = vd_snapshot_store_get(d, dom);
    g_autoptr(VdSnapshotDef) def = vd_snapshot_def_parse(xml, TRUE, error);

    if (!def)
        return NULL;
    if (!def->name) {
        vd_set_error(error, VD_ERROR_XML,
                     "XML error: a redefined snapshot needs its <name> (use snapshot-dumpxml's "
                     "output)");
        return NULL;
    }
    if (!def->state) {
        vd_set_error(error, VD_ERROR_XML,
                     "XML error: a redefined snapshot needs its <state> (use snapshot-dumpxml's "
                     "output)");
        return NULL;
    }
    for (const char *p = def->parent; p;) {
        const VdSnapshotDef *up = g_hash_table_lookup(store->by_name, p);
        if (g_str_equal(p, def->name)) {
            vd_set_error(error, VD_ERROR_INVALID_ARG,
                         "invalid argument: parent '%s' would make snapshot '%s' its own "
                         "ancestor: fix <parent>",
                         def->parent, def->name);
            return NULL;
        }
        if (!up) {
            vd_set_error(error, VD_ERROR_INVALID_ARG,
                         "invalid argument: parent snapshot '%s' for '%s' not found: redefine "
                         "the parent first",
                         p, def->name);
            return NULL;
        }
        p = up->parent;
    }
    if (def->domain_xml) {
        g_autoptr(VdDomainDef) rec = vd_domain_def_new_from_stored_xml(def->domain_xml, -1, error);
        if (!rec)
            return NULL;
        if (g_ascii_strcasecmp(rec->uuid, dom->uuid) != 0) {
            vd_set_error(error, VD_ERROR_INVALID_ARG,
                         "invalid argument: definition for snapshot %s must use uuid %s: "
                         "define the domain with that <uuid>, or fix the snapshot's <domain>",
                         def->name, dom->uuid);
            return NULL;
        }
    } else {
        const VdDomainDef *cur = vd_domain_obj_def(dom);
        def->domain_xml = cur ? vd_domain_def_format(cur, VD_DOMAIN_FORMAT_INACTIVE) : NULL;
    }
    if (!def->creation_time)
        def->creation_time = g_get_real_time() / G_USEC_PER_SEC;
    char *name = g_strdup(def->name);
    if (!vd_snapshot_store_put(store, g_steal_pointer(&def), error) ||
        ((flags & VD_SNAPSHOT_CREATE_CURRENT) &&
         !vd_snapshot_store_set_current(store, name, error))) {
        g_free(name);
        return NULL;
    }
    return name;
}

void
vd_snapshot_create(VdDaemon *d, VdDomainObj *dom, const char *xml, guint flags,
                   VdSnapshotCreatedFunc done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdSnapshotDef) def = NULL;

    if (!vd_domain_obj_check(dom, VD_OP_SNAPSHOT, &error)) {
        done(dom, NULL, error, user_data);
        return;
    }
    if (flags & VD_SNAPSHOT_CREATE_REDEFINE) {
        g_autofree char *name = redefine(d, dom, xml, flags, &error);
        done(dom, name, error, user_data);
        return;
    }
    def = xml && *xml ? vd_snapshot_def_parse(xml, FALSE, &error) : vd_snapshot_def_new();
    if (!def || !prepare(d, dom, def, flags, &error)) {
        done(dom, NULL, error, user_data);
        return;
    }
    CreateOp *op = g_new0(CreateOp, 1);
    op->d = d;
    op->dom = vd_domain_obj_ref(dom);
    op->def = g_steal_pointer(&def);
    op->flags = flags;
    op->done = done;
    op->user_data = user_data;

    if (flags & VD_SNAPSHOT_CREATE_DISK_ONLY) {
        vd_snapshot_job_begin(dom, "Snapshot");
        vd_snapshot_external_create_full(d, dom, op->def,
                                         (flags & VD_SNAPSHOT_CREATE_REUSE_EXT) != 0, taken, op);
        return;
    }
    if (vd_state_is_active(dom->state)) {
        /* QEMU's job goes on without us: a daemon killed meanwhile must
         * learn at its restart that the images may hold this snapshot
         * (snapshot-recover.c settles it). */
        if (!(flags & VD_SNAPSHOT_CREATE_NO_METADATA) &&
            !vd_snapshot_store_put_pending(vd_snapshot_store_get(d, dom), op->def, &error)) {
            create_finish(op, error);
            return;
        }
        vd_start_crash_point("snapshot-pending");
        vd_snapshot_job_begin(dom, "Snapshot");
        vd_snapshot_live_create(d, dom, op->def, taken, op);
        return;
    }
    g_autoptr(GPtrArray) images = images_of(d, vd_domain_obj_def(dom), op->def, &error);
    if (images && !vd_snapshot_images_free(d, dom, images, &error))
        g_clear_pointer(&images, g_ptr_array_unref);
    if (!images) {
        create_finish(op, error);
        return;
    }
    vd_snapshot_job_begin(dom, "Snapshot");
    vd_snapshot_offline_run(dom, VD_SNAPSHOT_IMG_CREATE, op->def->name, images, taken, op);
}

/* ---- hooks ---- */

void
vd_snapshot_qmp_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data)
{
    (void)d;
    (void)dom;
    (void)event;
    (void)data;
}

void
vd_snapshot_stopped(VdDomainObj *dom)
{
    (void)dom;
}

void
vd_snapshot_obj_free(VdDomainObj *dom)
{
    g_clear_pointer((VdSnapshotStore **)&dom->snapshots, vd_snapshot_store_free);
}

void
vd_snapshot_domain_gone(const VdPaths *paths, const char *name)
{
    g_autofree char *dir = vd_paths_domain_snapshot_dir(paths, name);
    vd_snapshot_store_discard_dir(dir);
}
