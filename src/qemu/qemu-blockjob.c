/* Block jobs and external snapshots over QMP: see qemu-blockjob.h. */
#include "qemu/qemu-blockjob.h"

#include <string.h>

void
vd_blockjob_info_free(VdBlockJobInfo *info)
{
    if (!info)
        return;
    g_free(info->target);
    g_free(info->status);
    g_free(info);
}

void
vd_chain_image_free(gpointer p)
{
    VdChainImage *i = p;
    if (!i)
        return;
    g_free(i->path);
    g_free(i->format);
    g_free(i->node);
    g_free(i);
}

char *
vd_qemu_blockjob_id(VdBlockJobType type, const char *target)
{
    const char *kind = type == VD_BLOCKJOB_PULL            ? "pull"
                       : type == VD_BLOCKJOB_ACTIVE_COMMIT ? "active-commit"
                                                           : "commit";
    return g_strdup_printf("%s-%s", kind, target);
}

const char *
vd_blockjob_type_label(VdBlockJobType type)
{
    switch (type) {
    case VD_BLOCKJOB_PULL:
        return "Block Pull";
    case VD_BLOCKJOB_COMMIT:
        return "Block Commit";
    case VD_BLOCKJOB_ACTIVE_COMMIT:
        return "Active Block Commit";
    case VD_BLOCKJOB_UNKNOWN:
        break;
    }
    return "Unknown job";
}

const char *
vd_blockjob_type_raw(VdBlockJobType type)
{
    switch (type) {
    case VD_BLOCKJOB_PULL:
        return "pull";
    case VD_BLOCKJOB_COMMIT:
        return "commit";
    case VD_BLOCKJOB_ACTIVE_COMMIT:
        return "active-commit";
    case VD_BLOCKJOB_UNKNOWN:
        break;
    }
    return "unknown";
}

VdBlockJobInfo *
vd_qemu_blockjob_find(JsonNode *result, const char *target)
{
    JsonArray *jobs = result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    g_autofree char *pull = vd_qemu_blockjob_id(VD_BLOCKJOB_PULL, target);
    g_autofree char *commit = vd_qemu_blockjob_id(VD_BLOCKJOB_COMMIT, target);
    g_autofree char *active = vd_qemu_blockjob_id(VD_BLOCKJOB_ACTIVE_COMMIT, target);

    for (guint i = 0; jobs && i < json_array_get_length(jobs); i++) {
        JsonObject *j = json_array_get_object_element(jobs, i);
        const char *id = j ? json_object_get_string_member_with_default(j, "device", "") : "";
        const char *type = j ? json_object_get_string_member_with_default(j, "type", "") : "";
        if (!g_str_equal(id, pull) && !g_str_equal(id, commit) && !g_str_equal(id, active))
            continue;
        VdBlockJobInfo *info = g_new0(VdBlockJobInfo, 1);
        info->target = g_strdup(target);
        /* QEMU calls an active commit "commit" too (older ones "mirror"):
         * the job id says which it is. */
        if (g_str_equal(type, "stream"))
            info->type = VD_BLOCKJOB_PULL;
        else if (g_str_equal(id, active))
            info->type = VD_BLOCKJOB_ACTIVE_COMMIT;
        else if (g_str_equal(type, "commit"))
            info->type = VD_BLOCKJOB_COMMIT;
        else
            info->type = VD_BLOCKJOB_UNKNOWN;
        info->cur = (guint64)json_object_get_int_member_with_default(j, "offset", 0);
        info->end = (guint64)json_object_get_int_member_with_default(j, "len", 0);
        info->speed = (guint64)json_object_get_int_member_with_default(j, "speed", 0);
        info->ready = json_object_get_boolean_member_with_default(j, "ready", FALSE);
        info->status = g_strdup(json_object_get_string_member_with_default(j, "status", ""));
        return info;
    }
    return NULL;
}

/* Whether query-block's "qdev" names the device "disk-<target>": an id,
 * or a QOM path such as /machine/peripheral/disk-vda/virtio-backend. */
static gboolean
qdev_is(const char *qdev, const char *target)
{
    g_autofree char *id = g_strdup_printf("disk-%s", target);
    g_autofree char *mid = g_strdup_printf("/%s/", id);
    g_autofree char *end = g_strdup_printf("/%s", id);
    return g_str_equal(qdev, id) || strstr(qdev, mid) || g_str_has_suffix(qdev, end);
}

GPtrArray *
vd_qemu_block_chain(JsonNode *result, const char *target, char **root_node)
{
    JsonArray *devs = result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    for (guint i = 0; devs && i < json_array_get_length(devs); i++) {
        JsonObject *d = json_array_get_object_element(devs, i);
        if (!d || !qdev_is(json_object_get_string_member_with_default(d, "qdev", ""), target))
            continue;
        if (!json_object_has_member(d, "inserted"))
            return NULL;
        JsonObject *ins = json_object_get_object_member(d, "inserted");
        if (root_node)
            *root_node = g_strdup(json_object_get_string_member_with_default(ins, "node-name", ""));
        GPtrArray *chain = g_ptr_array_new_with_free_func(vd_chain_image_free);
        JsonObject *img = json_object_has_member(ins, "image")
                              ? json_object_get_object_member(ins, "image")
                              : NULL;
        while (img) {
            VdChainImage *ci = g_new0(VdChainImage, 1);
            ci->path = g_strdup(json_object_get_string_member_with_default(img, "filename", ""));
            ci->format = g_strdup(json_object_get_string_member_with_default(img, "format", "raw"));
            g_ptr_array_add(chain, ci);
            img = json_object_has_member(img, "backing-image")
                      ? json_object_get_object_member(img, "backing-image")
                      : NULL;
        }
        return chain;
    }
    return NULL;
}

static void
set_common(JsonObject *o, const char *job_id, const char *root_node, guint64 speed)
{
    json_object_set_string_member(o, "job-id", job_id);
    json_object_set_string_member(o, "device", root_node);
    if (speed)
        json_object_set_int_member(o, "speed", (gint64)speed);
}

static gboolean
is_protocol_driver(const char *drv)
{
    return g_str_equal(drv, "file") || g_str_equal(drv, "host_device") ||
           g_str_equal(drv, "host_cdrom");
}

void
vd_qemu_chain_find_nodes(GPtrArray *chain, JsonNode *result)
{
    JsonArray *nodes = result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    for (guint i = 0; i < chain->len; i++) {
        VdChainImage *img = g_ptr_array_index(chain, i);
        gint64 depth = (gint64)(chain->len - 1 - i);
        for (guint j = 0; nodes && j < json_array_get_length(nodes) && !img->node; j++) {
            JsonObject *n = json_array_get_object_element(nodes, j);
            if (!n ||
                is_protocol_driver(json_object_get_string_member_with_default(n, "drv", "")) ||
                g_strcmp0(json_object_get_string_member_with_default(n, "file", NULL), img->path) ||
                json_object_get_int_member_with_default(n, "backing_file_depth", -1) != depth)
                continue;
            img->node = g_strdup(json_object_get_string_member_with_default(n, "node-name", NULL));
        }
    }
}

/* @image as "<key>-node" when its node is known, else by file name. */
static void
set_image(JsonObject *o, const char *key, const VdChainImage *image)
{
    if (image->node && *image->node) {
        g_autofree char *node_key = g_strconcat(key, "-node", NULL);
        json_object_set_string_member(o, node_key, image->node);
    } else {
        json_object_set_string_member(o, key, image->path);
    }
}

JsonObject *
vd_qemu_block_commit(const char *target, const char *root_node, const VdChainImage *top,
                     const VdChainImage *base, guint64 speed, gboolean active)
{
    g_autofree char *id =
        vd_qemu_blockjob_id(active ? VD_BLOCKJOB_ACTIVE_COMMIT : VD_BLOCKJOB_COMMIT, target);
    JsonObject *o = json_object_new();
    set_common(o, id, root_node, speed);
    /* An active commit names no top: QEMU then mirrors the active layer
     * and waits in the ready phase for block-job-complete (the pivot). */
    if (top && !active)
        set_image(o, "top", top);
    if (base)
        set_image(o, "base", base);
    if (base && !active)
        json_object_set_string_member(o, "backing-file", base->path);
    /* QEMU's defaults, said outright: the job finalizes and goes away by
     * itself; the daemon learns the result from BLOCK_JOB_COMPLETED or
     * _CANCELLED and nothing is left for a client to dismiss. */
    json_object_set_boolean_member(o, "auto-finalize", TRUE);
    json_object_set_boolean_member(o, "auto-dismiss", TRUE);
    return o;
}

JsonObject *
vd_qemu_block_stream(const char *target, const char *root_node, const VdChainImage *base,
                     guint64 speed)
{
    g_autofree char *id = vd_qemu_blockjob_id(VD_BLOCKJOB_PULL, target);
    JsonObject *o = json_object_new();
    set_common(o, id, root_node, speed);
    if (base) {
        set_image(o, "base", base);
        json_object_set_string_member(o, "backing-file", base->path);
    }
    json_object_set_boolean_member(o, "auto-finalize", TRUE);
    json_object_set_boolean_member(o, "auto-dismiss", TRUE);
    return o;
}

JsonObject *
vd_qemu_block_job_cancel(const char *job_id)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "device", job_id);
    return o;
}

JsonObject *
vd_qemu_block_job_complete(const char *job_id)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "device", job_id);
    return o;
}

JsonObject *
vd_qemu_block_job_set_speed(const char *job_id, guint64 speed)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "device", job_id);
    json_object_set_int_member(o, "speed", (gint64)speed);
    return o;
}

char *
vd_qemu_overlay_node(const char *target, const char *tag, gboolean storage)
{
    return g_strdup_printf("%s-ov%s-%s", target, tag, storage ? "storage" : "format");
}

JsonObject *
vd_qemu_overlay_storage(const char *target, const char *tag, const char *path)
{
    g_autofree char *node = vd_qemu_overlay_node(target, tag, TRUE);
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "driver", "file");
    json_object_set_string_member(o, "filename", path);
    json_object_set_string_member(o, "node-name", node);
    json_object_set_boolean_member(o, "auto-read-only", TRUE);
    json_object_set_string_member(o, "discard", "unmap");
    return o;
}

JsonObject *
vd_qemu_overlay_storage_fdset(const char *target, const char *tag, gint64 set)
{
    g_autofree char *file = g_strdup_printf("/dev/fdset/%" G_GINT64_FORMAT, set);
    JsonObject *o = vd_qemu_overlay_storage(target, tag, file);
    json_object_remove_member(o, "auto-read-only");
    return o;
}

JsonObject *
vd_qemu_overlay_format(const char *target, const char *tag)
{
    g_autofree char *node = vd_qemu_overlay_node(target, tag, FALSE);
    g_autofree char *file = vd_qemu_overlay_node(target, tag, TRUE);
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "node-name", node);
    json_object_set_string_member(o, "driver", "qcow2");
    json_object_set_string_member(o, "file", file);
    json_object_set_null_member(o, "backing");
    return o;
}

JsonObject *
vd_qemu_snapshot_transaction(const char *const *targets, const char *const *roots, const char *tag)
{
    JsonArray *actions = json_array_new();
    for (guint i = 0; targets[i]; i++) {
        g_autofree char *overlay = vd_qemu_overlay_node(targets[i], tag, FALSE);
        JsonObject *data = json_object_new();
        json_object_set_string_member(data, "node", roots[i]);
        json_object_set_string_member(data, "overlay", overlay);
        JsonObject *a = json_object_new();
        json_object_set_string_member(a, "type", "blockdev-snapshot");
        json_object_set_object_member(a, "data", data);
        json_array_add_object_element(actions, a);
    }
    JsonObject *o = json_object_new();
    json_object_set_array_member(o, "actions", actions);
    return o;
}
