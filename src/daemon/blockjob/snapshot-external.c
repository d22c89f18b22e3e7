/* External disk-only snapshots: see snapshot-external.h.
 *
 * Steps: the checks (qcow2 overlays only, each disk known), the overlays
 * made in a worker (reserved with O_EXCL, then qemu-img create -f qcow2
 * -F FMT -b BASE: an existing file is refused, never overwritten); shut
 * off, that is all. Running: query-block for each disk's root node,
 * blockdev-add of each overlay (file + qcow2 node, "backing": null), then
 * one "transaction" of blockdev-snapshot actions: QEMU switches all disks
 * or none. Then the definitions name the overlays with the old images as
 * <backingStore>. A failure anywhere removes the nodes and files made. */
#include "daemon/blockjob/snapshot-external.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/blockjob/blockjob-priv.h"
#include "daemon/storage/storage.h"
#include "qemu/qemu-fdset-paths.h"
#include "util/vd-error.h"

typedef struct {
    char *target;
    char *overlay;
    char *base;            /* the disk's current image */
    char *base_fmt;        /* "qcow2", "raw" */
    GPtrArray *chain;      /* below the base: the disk's current <backingStore> paths */
    GPtrArray *chain_fmts; /* their formats (probed in the worker, or QEMU's) */
    char *root;            /* running: its root node */
    gint64 fdset;          /* running: the fd set QEMU holds the overlay in, -1: none yet */
    gboolean made, added;
} Item;

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom;
    GPtrArray *items; /* Item* */
    gboolean running;
    gboolean reuse; /* --reuse-external: the overlays exist, made by the user */
    char *tag;
    guint pending;
    GError *error;
    VdSnapshotDoneFunc done;
    gpointer data;
} Ext;

static void
item_free(gpointer p)
{
    Item *it = p;
    g_free(it->target);
    g_free(it->overlay);
    g_free(it->base);
    g_free(it->base_fmt);
    if (it->chain)
        g_ptr_array_unref(it->chain);
    if (it->chain_fmts)
        g_ptr_array_unref(it->chain_fmts);
    g_free(it->root);
    g_free(it);
}

static void
ext_finish(Ext *x, GError *error)
{
    x->done(x->dom, error, x->data);
    if (error)
        g_error_free(error);
    g_ptr_array_unref(x->items);
    vd_domain_obj_unref(x->dom);
    g_free(x->tag);
    g_free(x);
}

/* Undo: the nodes added (QEMU), then the files made. */
static void
ext_fail(Ext *x, GError *error)
{
    for (guint i = 0; i < x->items->len; i++) {
        Item *it = g_ptr_array_index(x->items, i);
        if (it->added && x->dom->qmp) {
            g_autofree char *f = vd_qemu_overlay_node(it->target, x->tag, FALSE);
            g_autofree char *s = vd_qemu_overlay_node(it->target, x->tag, TRUE);
            vd_blockjob_del_nodes(x->dom, f, s);
        }
        if (it->fdset >= 0 && x->dom->qmp)
            vd_qemu_fdset_forget(x->dom->qmp, it->overlay);
        if (it->made)
            g_unlink(it->overlay);
    }
    ext_finish(x, error);
}

static void
record(Ext *x)
{
    g_autoptr(GError) error = NULL;
    for (guint i = 0; i < x->items->len; i++) {
        Item *it = g_ptr_array_index(x->items, i);
        g_autoptr(GPtrArray) paths = g_ptr_array_new();
        g_autoptr(GPtrArray) fmts = g_ptr_array_new();
        g_ptr_array_add(paths, it->overlay);
        g_ptr_array_add(fmts, (gpointer) "qcow2");
        g_ptr_array_add(paths, it->base);
        g_ptr_array_add(fmts, it->base_fmt);
        for (guint j = 0; j < it->chain->len; j++) {
            g_ptr_array_add(paths, it->chain->pdata[j]);
            g_ptr_array_add(fmts,
                            j < it->chain_fmts->len ? it->chain_fmts->pdata[j] : (gpointer) "raw");
        }
        g_ptr_array_add(paths, NULL);
        g_ptr_array_add(fmts, NULL);
        if (!vd_blockjob_record_chain(x->d, x->dom, it->target, it->base,
                                      (const char *const *)paths->pdata,
                                      (const char *const *)fmts->pdata, x->running, &error)) {
            /* QEMU writes into the overlays already: keep them, say so. */
            g_prefix_error(&error, "the overlays are in use but the persistent definition "
                                   "could not be updated: ");
            ext_finish(x, g_steal_pointer(&error));
            return;
        }
    }
    ext_finish(x, NULL);
}

static void
transaction_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Ext *x = data;
    (void)qmp, (void)result;
    if (error) {
        ext_fail(x, vd_hotplug_qmp_error(error));
        return;
    }
    record(x);
}

/* One of x->pending answers: TRUE when it was the last and all went
 * well; the last after a failure undoes everything (ext_fail). */
static gboolean
last_answer(Ext *x, const GError *error)
{
    if (error && !x->error)
        x->error = vd_hotplug_qmp_error(error);
    if (--x->pending > 0)
        return FALSE;
    if (x->error) {
        ext_fail(x, g_steal_pointer(&x->error));
        return FALSE;
    }
    return TRUE;
}

static void
added_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Ext *x = data;
    (void)qmp, (void)result;
    if (!last_answer(x, error))
        return;
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) targets = g_ptr_array_new();
    g_autoptr(GPtrArray) roots = g_ptr_array_new();
    for (guint i = 0; i < x->items->len; i++) {
        Item *it = g_ptr_array_index(x->items, i);
        g_ptr_array_add(targets, it->target);
        g_ptr_array_add(roots, it->root);
    }
    g_ptr_array_add(targets, NULL);
    g_ptr_array_add(roots, NULL);
    JsonObject *args = vd_qemu_snapshot_transaction((const char *const *)targets->pdata,
                                                    (const char *const *)roots->pdata, x->tag);
    if (!vd_hotplug_live_command(x->dom, "transaction", args, transaction_reply, x, &err))
        ext_fail(x, g_steal_pointer(&err));
}

static void
block_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Ext *x = data;
    g_autoptr(GError) err = NULL;
    (void)qmp;
    if (error) {
        ext_fail(x, vd_hotplug_qmp_error(error));
        return;
    }
    for (guint i = 0; i < x->items->len; i++) {
        Item *it = g_ptr_array_index(x->items, i);
        g_autoptr(GPtrArray) chain = vd_qemu_block_chain(result, it->target, &it->root);
        if (!chain || chain->len == 0 || !it->root || !*it->root) {
            ext_fail(x,
                     g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                 "operation failed: disk '%s' has no media in QEMU", it->target));
            return;
        }
        /* Running: the chain below the base as QEMU has it. */
        g_ptr_array_set_size(it->chain, 0);
        g_ptr_array_set_size(it->chain_fmts, 0);
        for (guint j = 1; j < chain->len; j++) {
            VdChainImage *ci = g_ptr_array_index(chain, j);
            g_ptr_array_add(it->chain, g_strdup(ci->path));
            g_ptr_array_add(it->chain_fmts, g_strdup(ci->format));
        }
    }
    if (!vd_hotplug_qmp_ready(x->dom, &err)) {
        ext_fail(x, g_steal_pointer(&err));
        return;
    }
    /* All sent at once: QMP answers in order, the format node's file
     * reference resolves to the storage node sent before it. */
    for (guint i = 0; i < x->items->len; i++) {
        Item *it = g_ptr_array_index(x->items, i);
        it->added = TRUE;
        x->pending += 2;
        vd_qmp_command(x->dom->qmp, "blockdev-add",
                       vd_qemu_overlay_storage_fdset(it->target, x->tag, it->fdset), added_reply,
                       x);
        vd_qmp_command(x->dom->qmp, "blockdev-add", vd_qemu_overlay_format(it->target, x->tag),
                       added_reply, x);
    }
}

/* Worker: the overlays, each reserved with O_EXCL first. */
static void
create_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    Ext *x = data;
    (void)source, (void)cancellable;
    for (guint i = 0; i < x->items->len; i++) {
        Item *it = g_ptr_array_index(x->items, i);
        GError *error = NULL;
        for (guint j = 0; j < it->chain->len; j++)
            g_ptr_array_add(it->chain_fmts, vd_storage_probe_format(it->chain->pdata[j]));
        if (x->reuse) {
            /* The user's file, used as it is (and never removed). */
            g_autofree char *fmt = g_file_test(it->overlay, G_FILE_TEST_EXISTS)
                                       ? vd_storage_probe_format(it->overlay)
                                       : NULL;
            if (g_strcmp0(fmt, "qcow2") != 0) {
                g_task_return_new_error(
                    task, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: --reuse-external: the overlay of disk %s, %s, %s (make "
                    "it with 'qemu-img create -f qcow2 -F %s -b %s %s', or leave out "
                    "--reuse-external)",
                    it->target, it->overlay, fmt ? "is not a qcow2 image" : "does not exist",
                    it->base_fmt, it->base, it->overlay);
                return;
            }
            continue;
        }
        int fd = open(it->overlay, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            int e = errno;
            g_task_return_new_error(
                task, VD_ERROR, e == EEXIST ? VD_ERROR_EXISTS : VD_ERROR_OPERATION_FAILED,
                e == EEXIST ? "unsupported configuration: external snapshot file for disk %s "
                              "already exists and is not a block device: %s (remove it, or "
                              "name another file with --diskspec %s,file=PATH)"
                            : "operation failed: cannot create external snapshot file for disk "
                              "%s: %s: %s",
                it->target, e == EEXIST ? it->overlay : g_strerror(e),
                e == EEXIST ? it->target : it->overlay);
            return;
        }
        close(fd);
        it->made = TRUE;
        const char *args[] = {"create",     "-q", "-f",     "qcow2",     "-F",
                              it->base_fmt, "-b", it->base, it->overlay, NULL};
        if (!vd_storage_qemu_img(args, NULL, &error)) {
            g_prefix_error(&error, "cannot create the overlay of disk '%s': ", it->target);
            g_task_return_error(task, error);
            return;
        }
    }
    g_task_return_boolean(task, TRUE);
}

typedef struct {
    Ext *x;
    Item *it;
} Adding;

/* add-fd's answer for one overlay; the last one goes on. */
static void
overlay_added(VdQmp *qmp, gint64 set, const GError *error, gpointer data)
{
    g_autofree Adding *adding = data;
    Ext *x = adding->x;
    (void)qmp;
    adding->it->fdset = set;
    if (!last_answer(x, error))
        return;
    g_autoptr(GError) err = NULL;
    if (!vd_hotplug_live_query_block(x->dom, block_reply, x, &err))
        ext_fail(x, g_steal_pointer(&err));
}

static void
created(GObject *source, GAsyncResult *result, gpointer data)
{
    Ext *x = data;
    GError *error = NULL;
    (void)source;
    if (!g_task_propagate_boolean(G_TASK(result), &error)) {
        ext_fail(x, error);
        return;
    }
    if (!x->running) {
        record(x);
        return;
    }
    /* QEMU gets each overlay as descriptors the daemon opened (an fd
     * set, disk-chains.h), never by path; then the disks' root nodes. */
    if (!vd_hotplug_qmp_ready(x->dom, &error)) {
        ext_fail(x, error);
        return;
    }
    for (guint i = 0; i < x->items->len; i++) {
        Item *it = g_ptr_array_index(x->items, i);
        Adding *adding = g_new0(Adding, 1);
        adding->x = x;
        adding->it = it;
        if (!vd_qemu_fdset_add_image(x->dom->qmp, it->overlay, TRUE, overlay_added, adding,
                                     &error)) {
            g_free(adding);
            x->error = error;
            break;
        }
        x->pending++;
    }
    if (x->pending == 0)
        ext_fail(x, g_steal_pointer(&x->error));
}

void
vd_snapshot_external_create(VdDaemon *d, VdDomainObj *dom, const VdSnapshotDef *def,
                            VdSnapshotDoneFunc done, gpointer user_data)
{
    vd_snapshot_external_create_full(d, dom, def, FALSE, done, user_data);
}

void
vd_snapshot_external_create_full(VdDaemon *d, VdDomainObj *dom, const VdSnapshotDef *def,
                                 gboolean reuse, VdSnapshotDoneFunc done, gpointer user_data)
{
    Ext *x = g_new0(Ext, 1);
    x->d = d;
    x->dom = vd_domain_obj_ref(dom);
    x->items = g_ptr_array_new_with_free_func(item_free);
    x->running = dom->live && dom->qmp;
    x->reuse = reuse;
    x->done = done;
    x->data = user_data;
    /* Distinct node names for each snapshot of a running domain. */
    x->tag = g_strdup_printf("%" G_GINT64_MODIFIER "x", g_get_real_time() & 0xffffffffff);
    const VdDomainDef *ddef = x->running ? dom->live : vd_domain_obj_def(dom);

    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        const VdSnapshotDiskDef *sd = g_ptr_array_index(def->disks, i);
        if (sd->snapshot != VD_SNAPSHOT_LOC_EXTERNAL)
            continue;
        VdDiskDef *disk = vd_blockjob_disk(ddef, sd->name);
        if (!disk) {
            ext_fail(x, vd_blockjob_no_disk(sd->name));
            return;
        }
        if (sd->driver_type && !g_str_equal(sd->driver_type, "qcow2")) {
            ext_fail(x, g_error_new(VD_ERROR, VD_ERROR_UNSUPPORTED,
                                    "unsupported configuration: external snapshot format for "
                                    "disk %s is unsupported: %s (the overlay must be qcow2, a "
                                    "%s file cannot have a backing file: give driver=qcow2 or "
                                    "leave it out)",
                                    disk->target_dev, sd->driver_type, sd->driver_type));
            return;
        }
        if (!sd->source_file || !disk->source_file ||
            (disk->type != VD_DISK_TYPE_FILE && disk->type != VD_DISK_TYPE_BLOCK)) {
            ext_fail(x, g_error_new(VD_ERROR, VD_ERROR_UNSUPPORTED,
                                    "unsupported configuration: external snapshot of disk %s "
                                    "needs a file or block source and an overlay file name "
                                    "(--diskspec %s,file=PATH)",
                                    disk->target_dev, disk->target_dev));
            return;
        }
        Item *it = g_new0(Item, 1);
        it->target = g_strdup(disk->target_dev);
        it->fdset = -1;
        it->overlay = g_strdup(sd->source_file);
        it->base = g_strdup(disk->source_file);
        it->base_fmt = disk->format == VD_DISK_FORMAT_QCOW2 ? g_strdup("qcow2")
                       : disk->format == VD_DISK_FORMAT_RAW ? g_strdup("raw")
                                                            : vd_storage_probe_format(it->base);
        it->chain = vd_disk_def_backing_paths(disk);
        it->chain_fmts = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(x->items, it);
    }
    if (x->items->len == 0) {
        ext_fail(x, g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                                "invalid argument: no disk with snapshot='external' to snapshot"));
        return;
    }
    GTask *task = g_task_new(NULL, NULL, created, x);
    g_task_set_task_data(task, x, NULL);
    g_task_run_in_thread(task, create_thread);
    g_object_unref(task);
}
