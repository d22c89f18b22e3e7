/* Live changes of disks that keep the device: change-media, blockresize,
 * domblkinfo, and the virtio-scsi controller (disk-live.h). */
#include "daemon/hotplug/disk-live-priv.h"
#include "qemu/qemu-fdset-paths.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/domain/domain-files.h"
#include "daemon/domain/qemu-access.h"
#include "daemon/host-ready.h"
#include "daemon/hotplug/pci-slot.h"
#include "util/vd-error.h"

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom; /* a reference */
    char *target;
    VdDiskDef *disk; /* the new state of the disk (media) */
    VdDomainDef *probe;
    gboolean had_media, live, config, force, shrink;
    guint64 bytes;
    int step;
    VdQemuHotplugDisk qa;
    char *old_source; /* the media taken out (its fd set goes) */
    gint64 fdset;     /* the new media's fd set, -1: none */
    gboolean fdset_asked;
    VdDiskLiveDone done;
    VdDiskInfoDone info_done;
    gpointer user_data;
} MediaOp;

static void media_next(MediaOp *op);

static MediaOp *
mop_new(VdDaemon *d, VdDomainObj *dom, const char *target, gpointer user_data)
{
    MediaOp *op = g_new0(MediaOp, 1);
    op->d = d;
    op->dom = vd_domain_obj_ref(dom);
    op->target = g_strdup(target);
    op->user_data = user_data;
    op->fdset = -1;
    return op;
}

static void
mop_free(MediaOp *op)
{
    vd_qemu_hotplug_disk_clear(&op->qa);
    g_free(op->old_source);
    vd_disk_def_free(op->disk);
    vd_domain_def_free(op->probe);
    vd_domain_obj_unref(op->dom);
    g_free(op->target);
    g_free(op);
}

static void
mop_finish(MediaOp *op, const GError *error)
{
    op->done(op->dom, error, NULL, op->user_data);
    mop_free(op);
}

static void
mop_fail(MediaOp *op, GError *error)
{
    /* New media's descriptors no node took. */
    if (op->fdset >= 0 && op->step <= 7 && op->dom->qmp)
        vd_qemu_fdset_remove(op->dom->qmp, op->fdset);
    mop_finish(op, error);
    g_error_free(error);
}

/* ---- change-media ------------------------------------------------------ */

static gboolean
edit_media(VdDomainDef *def, gpointer data, GError **error)
{
    MediaOp *op = data;
    int i = vd_disk_live_find(def, op->target);
    if (i < 0) {
        g_propagate_error(error, vd_disk_live_not_found(op->target));
        return FALSE;
    }
    VdDiskDef *disk = g_ptr_array_index(def->disks, i);
    g_free(disk->source_file);
    disk->source_file = g_strdup(op->disk->source_file);
    if (disk->type != VD_DISK_TYPE_BLOCK)
        disk->type = VD_DISK_TYPE_FILE;
    disk->format = op->disk->format;
    return TRUE;
}

static void
media_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    MediaOp *op = data;
    (void)qmp;
    (void)result;
    if (!error) {
        media_next(op);
        return;
    }
    GError *err = vd_hotplug_qmp_error(error);
    if (strstr(error->message, "is not open") || strstr(error->message, "locked"))
        g_prefix_error(&err, "the guest keeps the tray of '%s' locked (use --force): ", op->target);
    mop_fail(op, err);
}

static void
media_files_checked(GObject *source, GAsyncResult *result, gpointer data)
{
    MediaOp *op = data;
    g_autoptr(GError) error = NULL;
    (void)source;
    g_autoptr(GPtrArray) notes = vd_domain_files_check_finish(result, &error);
    if (!notes) {
        mop_fail(op, g_steal_pointer(&error));
        return;
    }
    op->disk = vd_disk_live_probed(&op->probe);
    media_next(op);
}

static void
media_fdset_added(VdQmp *qmp, gint64 set, const GError *error, gpointer data)
{
    MediaOp *op = data;
    (void)qmp;
    if (error) {
        mop_fail(op, vd_hotplug_qmp_error(error));
        return;
    }
    op->fdset = set;
    media_next(op);
}

static void
media_next(MediaOp *op)
{
    g_autoptr(GError) error = NULL;
    VdQmp *qmp = op->dom->qmp;

    if (op->live && op->step > 0 && op->step < 9 && !vd_hotplug_qmp_ready(op->dom, &error)) {
        mop_fail(op, g_steal_pointer(&error));
        return;
    }
    switch (op->step++) {
    case 0:
        if (op->disk->source_file) {
            /* The new image: it must exist; its header gives the format. */
            vd_disk_live_probe(op->d, op->dom, &op->probe, &op->disk, VD_DOMAIN_FILES_START,
                               media_files_checked, op);
            return;
        }
        /* fall through */
    case 1:
        op->step = 2;
        if (!op->live) {
            op->step = 9;
            break;
        }
        vd_qmp_command(qmp, "blockdev-open-tray", vd_qemu_hotplug_media_tray(op->target, op->force),
                       media_reply, op);
        return;
    case 2:
        if (op->had_media) {
            vd_qmp_command(qmp, "blockdev-remove-medium", vd_qemu_hotplug_media_id(op->target),
                           media_reply, op);
            return;
        }
        op->step = 5;
        media_next(op);
        return;
    case 3:
        vd_qmp_command(qmp, "blockdev-del", vd_qemu_hotplug_disk_blockdev_del(op->target, FALSE),
                       media_reply, op);
        return;
    case 4:
        vd_qmp_command(qmp, "blockdev-del", vd_qemu_hotplug_disk_blockdev_del(op->target, TRUE),
                       media_reply, op);
        /* The old media's descriptors, if QEMU had them (disk-chains.h). */
        vd_qemu_fdset_forget(qmp, op->old_source);
        return;
    case 5:
        if (!op->disk->source_file) {
            op->step = 8;
            media_next(op);
            return;
        }
        if (!op->fdset_asked) {
            op->fdset_asked = TRUE;
            if (vd_disk_live_add_fdset(op->dom, op->disk, media_fdset_added, op)) {
                op->step = 5; /* back here once QEMU has the descriptors */
                return;
            }
        }
        /* Else QEMU opens the image by path, as its own user (qemu-access.h). */
        if ((op->fdset < 0 &&
             !vd_qemu_access_grant(op->d->paths, op->dom->name, op->disk->source_file,
                                   !op->disk->readonly, &error)) ||
            !vd_qemu_hotplug_disk_build(op->dom->live, op->d->caps, op->disk, 0, NULL, &op->qa,
                                        &error)) {
            mop_fail(op, g_steal_pointer(&error));
            return;
        }
        if (op->fdset >= 0)
            vd_qemu_hotplug_disk_use_fdset(&op->qa, op->fdset);
        vd_qmp_command(qmp, "blockdev-add", json_object_ref(op->qa.storage), media_reply, op);
        return;
    case 6:
        vd_qmp_command(qmp, "blockdev-add", json_object_ref(op->qa.format), media_reply, op);
        return;
    case 7:
        vd_qmp_command(qmp, "blockdev-insert-medium", vd_qemu_hotplug_media_insert(op->target),
                       media_reply, op);
        return;
    case 8:
        vd_qmp_command(qmp, "blockdev-close-tray", vd_qemu_hotplug_media_id(op->target),
                       media_reply, op);
        return;
    case 9: {
        int i = vd_disk_live_find(op->dom->live, op->target);
        if (i >= 0)
            edit_media(op->dom->live, op, NULL);
        vd_hotplug_live_record(op->d, op->dom, "the media change");
        break;
    }
    default:
        break;
    }
    if (op->config && !vd_domain_config_edit(op->d, op->dom, edit_media, op, &error) && op->live)
        g_prefix_error(&error, "media changed live, but not in the persistent definition: ");
    mop_finish(op, error);
}

void
vd_disk_live_change_media(VdDaemon *d, VdDomainObj *dom, const char *target, const char *source,
                          VdMediaOp mop, gboolean force, gboolean live, gboolean config,
                          VdDiskLiveDone done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    MediaOp *op = mop_new(d, dom, target, user_data);
    op->done = done;
    op->live = live;
    op->config = config;
    op->force = force;

    if (live && !vd_domain_obj_check(dom, VD_OP_CONSOLE, &error)) {
        mop_finish(op, error);
        return;
    }
    vd_host_ready_wait_caps(d); /* a guest reconnected at start, its media changed at once */
    if (live && !d->caps) {
        mop_fail(op, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                 "operation failed: QEMU's capabilities are unknown"));
        return;
    }
    const VdDomainDef *def = live ? dom->live : vd_domain_obj_def(dom);
    int i = vd_disk_live_find(def, target);
    if (i < 0) {
        mop_fail(op, vd_disk_live_not_found(target));
        return;
    }
    op->disk = vd_disk_def_copy(g_ptr_array_index(def->disks, i));
    op->had_media = op->disk->source_file != NULL;
    op->old_source = g_strdup(op->disk->source_file);
    if (op->disk->device != VD_DISK_DEVICE_CDROM && op->disk->device != VD_DISK_DEVICE_FLOPPY) {
        mop_fail(op, g_error_new(VD_ERROR, VD_ERROR_UNSUPPORTED,
                                 "Operation not supported: disk '%s' is not a cdrom or floppy: "
                                 "its media cannot be changed (detach it and attach another)",
                                 target));
        return;
    }
    if (mop == VD_MEDIA_INSERT && op->had_media) {
        mop_fail(op, g_error_new(VD_ERROR, VD_ERROR_INVALID_STATE,
                                 "Requested operation is not valid: The disk device '%s' already "
                                 "has media: eject it first, or use --update",
                                 target));
        return;
    }
    if (mop == VD_MEDIA_EJECT && !op->had_media) {
        mop_fail(op, g_error_new(VD_ERROR, VD_ERROR_INVALID_STATE,
                                 "Requested operation is not valid: The disk device '%s' doesn't "
                                 "have media",
                                 target));
        return;
    }
    if (mop == VD_MEDIA_INSERT && !source) {
        mop_fail(op, g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                                 "invalid argument: No disk source specified for inserting "
                                 "media"));
        return;
    }
    if (mop == VD_MEDIA_EJECT)
        source = NULL;
    g_free(op->disk->source_file);
    op->disk->source_file = g_strdup(source);
    if (op->disk->type != VD_DISK_TYPE_BLOCK)
        op->disk->type = VD_DISK_TYPE_FILE;
    op->disk->format = VD_DISK_FORMAT_NONE; /* from the new image's header */
    if (config && !vd_domain_config_check(dom, edit_media, op, &error)) {
        mop_finish(op, error);
        return;
    }
    media_next(op);
}

/* ---- blockresize, domblkinfo ------------------------------------------- */

/* The "image" of node @name in query-named-block-nodes' @result. */
static JsonObject *
node_image(JsonNode *result, const char *name)
{
    JsonArray *nodes = result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    for (guint i = 0; nodes && i < json_array_get_length(nodes); i++) {
        JsonObject *n = json_array_get_object_element(nodes, i);
        if (g_strcmp0(json_object_get_string_member_with_default(n, "node-name", ""), name) == 0 &&
            json_object_has_member(n, "image"))
            return json_object_get_object_member(n, "image");
    }
    return NULL;
}

static gboolean
info_from_nodes(JsonNode *result, const char *target, VdDiskBlockInfo *info, GError **error)
{
    g_autofree char *fmt = g_strdup_printf("%s-format", target);
    g_autofree char *file = g_strdup_printf("%s-storage", target);
    JsonObject *fi = node_image(result, fmt), *si = node_image(result, file);
    if (!fi) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: disk '%s' has no media in QEMU", target);
        return FALSE;
    }
    info->capacity = (guint64)json_object_get_int_member_with_default(fi, "virtual-size", 0);
    info->allocation =
        (guint64)json_object_get_int_member_with_default(si ? si : fi, "actual-size", 0);
    info->physical = si ? (guint64)json_object_get_int_member_with_default(si, "virtual-size", 0)
                        : info->capacity;
    return TRUE;
}

static void
resize_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    MediaOp *op = data;
    g_autoptr(GError) err = NULL;
    (void)qmp;
    if (error) {
        mop_fail(op, vd_hotplug_qmp_error(error));
        return;
    }
    if (op->step++ == 0) {
        VdDiskBlockInfo info;
        if (!info_from_nodes(result, op->target, &info, &err)) {
            mop_finish(op, err);
            return;
        }
        if (op->bytes < info.capacity && !op->shrink) {
            err = g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                              "invalid argument: disk '%s' would shrink from %" G_GUINT64_FORMAT
                              " to %" G_GUINT64_FORMAT " bytes, which may destroy the data "
                              "past the new end: give --shrink if that is what you want",
                              op->target, info.capacity, op->bytes);
            mop_finish(op, err);
            return;
        }
        if (!vd_hotplug_qmp_ready(op->dom, &err)) {
            mop_finish(op, err);
            return;
        }
        vd_qmp_command(op->dom->qmp, "block_resize",
                       vd_qemu_hotplug_disk_resize(op->target, op->bytes), resize_reply, op);
        return;
    }
    mop_finish(op, NULL);
}

void
vd_disk_live_resize(VdDaemon *d, VdDomainObj *dom, const char *target, guint64 bytes,
                    gboolean shrink, VdDiskLiveDone done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    MediaOp *op = mop_new(d, dom, target, user_data);
    op->done = done;
    op->bytes = bytes;
    op->shrink = shrink;
    if (!vd_domain_obj_check(dom, VD_OP_CONSOLE, &error) || !vd_hotplug_qmp_ready(dom, &error)) {
        mop_finish(op, error);
        return;
    }
    if (vd_disk_live_find(dom->live, target) < 0) {
        mop_fail(op, g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                                 "invalid argument: disk '%s' was not found in domain's "
                                 "definition",
                                 target));
        return;
    }
    /* Sizes are sector multiples for QEMU; virsh rounds up the same way. */
    op->bytes = (bytes + 511) / 512 * 512;
    JsonObject *args = json_object_new();
    json_object_set_boolean_member(args, "flat", TRUE);
    vd_qmp_command_real_paths(dom->qmp, "query-named-block-nodes", args, resize_reply, op);
}

static void
info_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    MediaOp *op = data;
    g_autoptr(GError) err = NULL;
    VdDiskBlockInfo info = {0};
    (void)qmp;
    if (error)
        err = vd_hotplug_qmp_error(error);
    else
        info_from_nodes(result, op->target, &info, &err);
    op->info_done(op->dom, err, err ? NULL : &info, op->user_data);
    mop_free(op);
}

/* In a worker: the image file's sizes (a qcow2's virtual size from its
 * header, big-endian at offset 24). */
static void
info_file_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    const char *path = data;
    VdDiskBlockInfo *info = g_new0(VdDiskBlockInfo, 1);
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        g_free(info);
        g_task_return_new_error(task, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                "operation failed: cannot read '%s': %s", path,
                                fd >= 0 ? "not a regular file or block device" : g_strerror(e));
        return;
    }
    info->physical = (guint64)st.st_size;
    info->allocation = (guint64)st.st_blocks * 512;
    info->capacity = info->physical;
    guint8 hdr[32];
    if (pread(fd, hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr) && memcmp(hdr, "QFI\xfb", 4) == 0) {
        guint64 size = 0;
        for (int i = 24; i < 32; i++)
            size = size << 8 | hdr[i];
        info->capacity = size;
    }
    close(fd);
    g_task_return_pointer(task, info, g_free);
}

static void
info_file_done(GObject *source, GAsyncResult *result, gpointer data)
{
    MediaOp *op = data;
    g_autoptr(GError) error = NULL;
    (void)source;
    g_autofree VdDiskBlockInfo *info = g_task_propagate_pointer(G_TASK(result), &error);
    op->info_done(op->dom, error, info, op->user_data);
    mop_free(op);
}

void
vd_disk_live_info(VdDaemon *d, VdDomainObj *dom, const char *target, VdDiskInfoDone done,
                  gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    MediaOp *op = mop_new(d, dom, target, user_data);
    op->info_done = done;
    const VdDomainDef *def = dom->live ? dom->live : vd_domain_obj_def(dom);
    int i = vd_disk_live_find(def, target);
    const VdDiskDef *disk = i >= 0 ? g_ptr_array_index(def->disks, i) : NULL;
    if (!disk)
        error = g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                            "invalid argument: invalid path %s not assigned to domain", target);
    else if (!disk->source_file)
        error = g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                            "invalid argument: disk '%s' has no media", target);
    if (error) {
        done(dom, error, NULL, user_data);
        mop_free(op);
        return;
    }
    if (dom->live && dom->qmp && vd_qmp_is_connected(dom->qmp)) {
        JsonObject *args = json_object_new();
        json_object_set_boolean_member(args, "flat", TRUE);
        vd_qmp_command_real_paths(dom->qmp, "query-named-block-nodes", args, info_reply, op);
        return;
    }
    g_autoptr(GTask) task = g_task_new(NULL, NULL, info_file_done, op);
    g_task_set_task_data(task, g_strdup(disk->source_file), g_free);
    g_task_run_in_thread(task, info_file_thread);
}

/* ---- the SCSI controller ----------------------------------------------- */

typedef struct {
    MediaOp *op;
    gboolean attach;
    char *bus;
} CtrlOp;

static void
ctrl_free(CtrlOp *c, const GError *error)
{
    vd_pci_slot_release(c->op->dom, c->bus);
    g_free(c->bus);
    mop_finish(c->op, error);
    g_free(c);
}

static void
ctrl_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    CtrlOp *c = data;
    g_autoptr(GError) err = error ? vd_hotplug_qmp_error(error) : NULL;
    (void)qmp;
    (void)result;
    if (!err)
        vd_disk_live_record_scsi_controller(c->op->d, c->op->dom, c->attach, c->bus);
    ctrl_free(c, err);
}

static void
ctrl_slot(VdDomainObj *dom, const char *bus, const GError *error, gpointer data)
{
    CtrlOp *c = data;
    if (error) {
        ctrl_free(c, error);
        return;
    }
    c->bus = g_strdup(bus);
    vd_qmp_command(dom->qmp, "device_add", vd_qemu_hotplug_scsi_controller(bus), ctrl_reply, c);
}

void
vd_disk_live_controller(VdDaemon *d, VdDomainObj *dom, gboolean attach, VdDiskLiveDone done,
                        gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    CtrlOp *c = g_new0(CtrlOp, 1);
    c->op = mop_new(d, dom, "scsi0", user_data);
    c->op->done = done;
    c->attach = attach;
    if (!vd_domain_obj_check(dom, VD_OP_CONSOLE, &error) || !vd_hotplug_qmp_ready(dom, &error)) {
        ctrl_free(c, error);
        return;
    }
    for (guint i = 0; !attach && i < dom->live->disks->len; i++) {
        const VdDiskDef *disk = g_ptr_array_index(dom->live->disks, i);
        if (disk->bus == VD_DISK_BUS_SCSI) {
            error = g_error_new(VD_ERROR, VD_ERROR_INVALID_STATE,
                                "Requested operation is not valid: the SCSI controller still "
                                "has disk '%s' behind it: detach the SCSI disks first",
                                disk->target_dev);
            ctrl_free(c, error);
            return;
        }
    }
    if (attach)
        vd_pci_slot_find(d, dom, "the SCSI controller", ctrl_slot, c);
    else
        vd_qmp_command(dom->qmp, "device_del", vd_hotplug_args("id", "scsi0"), ctrl_reply, c);
}
