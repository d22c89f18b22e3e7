/* Migration with copied storage over QMP: see qemu-migration-storage.h. */
#include "qemu/qemu-migration-storage.h"

static JsonObject *
one(const char *key, const char *value)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, key, value);
    return o;
}

JsonObject *
vd_qemu_getfd(const char *fdname)
{
    return one("fdname", fdname);
}

JsonObject *
vd_qemu_nbd_server_start_fd(const char *fdname)
{
    JsonObject *addr = json_object_new();
    json_object_set_string_member(addr, "type", "fd");
    json_object_set_object_member(addr, "data", one("str", fdname));
    JsonObject *o = json_object_new();
    json_object_set_object_member(o, "addr", addr);
    return o;
}

JsonObject *
vd_qemu_nbd_server_start_inet(const char *host, guint16 port)
{
    g_autofree char *p = g_strdup_printf("%u", port);
    JsonObject *data = one("host", host);
    json_object_set_string_member(data, "port", p);
    JsonObject *addr = json_object_new();
    json_object_set_string_member(addr, "type", "inet");
    json_object_set_object_member(addr, "data", data);
    JsonObject *o = json_object_new();
    json_object_set_object_member(o, "addr", addr);
    return o;
}

char *
vd_qemu_nbd_export_id(const char *target)
{
    return g_strdup_printf("migrate-%s", target);
}

JsonObject *
vd_qemu_nbd_export_add(const char *target, const char *node)
{
    g_autofree char *id = vd_qemu_nbd_export_id(target);
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "type", "nbd");
    json_object_set_string_member(o, "id", id);
    json_object_set_string_member(o, "node-name", node);
    json_object_set_string_member(o, "name", target);
    json_object_set_boolean_member(o, "writable", TRUE);
    return o;
}

char *
vd_qemu_nbd_client_node(const char *target)
{
    return g_strdup_printf("migrate-%s-nbd", target);
}

JsonObject *
vd_qemu_nbd_client_add(const char *target, const char *host, guint16 port, const char *export_name)
{
    g_autofree char *node = vd_qemu_nbd_client_node(target);
    g_autofree char *p = g_strdup_printf("%u", port);
    JsonObject *server = json_object_new();
    json_object_set_string_member(server, "type", "inet");
    json_object_set_string_member(server, "host", host);
    json_object_set_string_member(server, "port", p);
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "driver", "nbd");
    json_object_set_string_member(o, "node-name", node);
    json_object_set_object_member(o, "server", server);
    json_object_set_string_member(o, "export", export_name);
    return o;
}

JsonObject *
vd_qemu_blockdev_del(const char *node)
{
    return one("node-name", node);
}

char *
vd_qemu_migration_mirror_id(const char *target)
{
    return g_strdup_printf("migrate-%s", target);
}

JsonObject *
vd_qemu_migration_mirror(const char *target, const char *root_node, gboolean full)
{
    g_autofree char *id = vd_qemu_migration_mirror_id(target);
    g_autofree char *node = vd_qemu_nbd_client_node(target);
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "job-id", id);
    json_object_set_string_member(o, "device", root_node);
    json_object_set_string_member(o, "target", node);
    json_object_set_string_member(o, "sync", full ? "full" : "top");
    /* Once ready, every guest write reaches the destination before the
     * guest sees it done: the copy cannot fall behind while RAM moves. */
    json_object_set_string_member(o, "copy-mode", "write-blocking");
    json_object_set_boolean_member(o, "auto-dismiss", FALSE);
    return o;
}

JsonObject *
vd_qemu_migration_mirror_cancel(const char *target, gboolean force)
{
    g_autofree char *id = vd_qemu_migration_mirror_id(target);
    JsonObject *o = one("device", id);
    if (force)
        json_object_set_boolean_member(o, "force", TRUE);
    return o;
}

JsonObject *
vd_qemu_migration_mirror_dismiss(const char *target)
{
    g_autofree char *id = vd_qemu_migration_mirror_id(target);
    return one("id", id);
}

void
vd_mirror_info_clear(VdMirrorInfo *info)
{
    g_clear_pointer(&info->error, g_free);
    info->state = VD_MIRROR_ABSENT;
    info->offset = info->len = 0;
}

void
vd_qemu_migration_mirror_find(JsonNode *result, const char *target, VdMirrorInfo *info)
{
    g_autofree char *id = vd_qemu_migration_mirror_id(target);
    vd_mirror_info_clear(info);
    JsonArray *jobs = result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    for (guint i = 0; jobs && i < json_array_get_length(jobs); i++) {
        JsonNode *n = json_array_get_element(jobs, i);
        JsonObject *j = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
        if (!j || !g_str_equal(json_object_get_string_member_with_default(j, "device", ""), id))
            continue;
        const char *status = json_object_get_string_member_with_default(j, "status", "");
        info->offset = (guint64)json_object_get_int_member_with_default(j, "offset", 0);
        info->len = (guint64)json_object_get_int_member_with_default(j, "len", 0);
        if (g_str_equal(status, "concluded"))
            info->state = VD_MIRROR_CONCLUDED;
        else if (g_str_equal(status, "ready") || g_str_equal(status, "standby"))
            info->state = VD_MIRROR_READY;
        else /* created, running, paused, waiting, pending, aborting */
            info->state = VD_MIRROR_RUNNING;
        const char *err = json_object_get_string_member_with_default(j, "error", NULL);
        if (err)
            info->error = g_strdup(err);
        return;
    }
}
