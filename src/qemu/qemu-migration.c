/* QEMU's migration commands and query-migrate (qemu-migration.h). */
#include "qemu/qemu-migration.h"

#include <string.h>

static void
add_cap(JsonArray *caps, const char *name, gboolean on)
{
    JsonObject *c = json_object_new();
    json_object_set_string_member(c, "capability", name);
    json_object_set_boolean_member(c, "state", on);
    json_array_add_object_element(caps, c);
}

JsonObject *
vd_qemu_migration_caps_args(gboolean postcopy, gboolean auto_converge, gboolean incoming)
{
    JsonArray *caps = json_array_new();
    add_cap(caps, "events", TRUE);
    add_cap(caps, "postcopy-ram", postcopy);
    if (!incoming)
        add_cap(caps, "auto-converge", auto_converge);
    /* The destination activates its disks at our "cont", not when the
     * stream completes (libvirt does the same): by then finish has stopped
     * the NBD server, whose writable exports would otherwise hold the
     * disks while the guest's devices take them ("Permission conflict on
     * node"), leaving the guest with disks it cannot write. */
    if (incoming)
        add_cap(caps, "late-block-activate", TRUE);
    JsonObject *args = json_object_new();
    json_object_set_array_member(args, "capabilities", caps);
    return args;
}

static gint64
bandwidth_bytes(guint64 mib)
{
    /* 0 and anything past what QEMU takes (an int64 of bytes/s) mean
     * unlimited. */
    if (mib == 0 || mib > (guint64)G_MAXINT64 / (1024 * 1024))
        return G_MAXINT64;
    return (gint64)(mib * 1024 * 1024);
}

JsonObject *
vd_qemu_migration_params_args(guint64 downtime_ms, guint64 bandwidth_mib)
{
    JsonObject *args = json_object_new();
    json_object_set_int_member(args, "downtime-limit",
                               downtime_ms ? (gint64)downtime_ms
                                           : VD_QEMU_MIGRATION_DEFAULT_DOWNTIME_MS);
    json_object_set_int_member(args, "max-bandwidth", bandwidth_bytes(bandwidth_mib));
    return args;
}

JsonObject *
vd_qemu_migration_speed_args(guint64 bandwidth_mib)
{
    JsonObject *args = json_object_new();
    json_object_set_int_member(args, "max-bandwidth", bandwidth_bytes(bandwidth_mib));
    return args;
}

JsonObject *
vd_qemu_migration_downtime_args(guint64 downtime_ms)
{
    JsonObject *args = json_object_new();
    json_object_set_int_member(args, "downtime-limit", (gint64)downtime_ms);
    return args;
}

JsonObject *
vd_qemu_migrate_args(const char *uri)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "uri", uri);
    return args;
}

JsonObject *
vd_qemu_migration_tls_object_args(const char *id, const char *dir, gboolean server)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "qom-type", "tls-creds-x509");
    json_object_set_string_member(args, "id", id);
    json_object_set_string_member(args, "dir", dir);
    json_object_set_string_member(args, "endpoint", server ? "server" : "client");
    /* Mutual: the destination checks the source's certificate too. */
    json_object_set_boolean_member(args, "verify-peer", TRUE);
    return args;
}

JsonObject *
vd_qemu_migration_tls_params_args(const char *id, const char *hostname)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "tls-creds", id ? id : "");
    if (hostname || !id)
        json_object_set_string_member(args, "tls-hostname", hostname ? hostname : "");
    return args;
}

char *
vd_qemu_migration_tcp_uri(const char *host, guint port)
{
    gboolean v6 = strchr(host, ':') != NULL && host[0] != '[';
    return g_strdup_printf("tcp:%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

JsonObject *
vd_qemu_migrate_incoming_args(const char *host)
{
    g_autofree char *uri = vd_qemu_migration_tcp_uri(host, 0);
    return vd_qemu_migrate_args(uri);
}

guint
vd_qemu_migration_listen_port(JsonNode *query_migrate)
{
    JsonObject *o = query_migrate && JSON_NODE_HOLDS_OBJECT(query_migrate)
                        ? json_node_get_object(query_migrate)
                        : NULL;
    JsonNode *addrs = o ? json_object_get_member(o, "socket-address") : NULL;
    if (!addrs || !JSON_NODE_HOLDS_ARRAY(addrs))
        return 0;
    JsonArray *a = json_node_get_array(addrs);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonNode *n = json_array_get_element(a, i);
        JsonObject *sa = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
        if (!sa || g_strcmp0(json_object_get_string_member_with_default(sa, "type", ""), "inet"))
            continue;
        /* SocketAddress's port is a string ("service"). */
        JsonNode *p = json_object_get_member(sa, "port");
        gint64 port = 0;
        if (p && JSON_NODE_HOLDS_VALUE(p) && json_node_get_value_type(p) == G_TYPE_STRING)
            port = g_ascii_strtoll(json_node_get_string(p), NULL, 10);
        else if (p && JSON_NODE_HOLDS_VALUE(p) && json_node_get_value_type(p) == G_TYPE_INT64)
            port = json_node_get_int(p);
        if (port > 0 && port <= 65535)
            return (guint)port;
    }
    return 0;
}

static guint64
u64(JsonObject *o, const char *member)
{
    JsonNode *n = o ? json_object_get_member(o, member) : NULL;
    if (!n || !JSON_NODE_HOLDS_VALUE(n))
        return 0;
    if (json_node_get_value_type(n) == G_TYPE_DOUBLE) {
        double v = json_node_get_double(n);
        return v > 0 ? (guint64)v : 0;
    }
    if (json_node_get_value_type(n) != G_TYPE_INT64)
        return 0;
    gint64 v = json_node_get_int(n);
    return v > 0 ? (guint64)v : 0;
}

void
vd_qemu_migration_info_parse(JsonNode *query_migrate, VdQemuMigrationInfo *info)
{
    memset(info, 0, sizeof(*info));
    JsonObject *o = query_migrate && JSON_NODE_HOLDS_OBJECT(query_migrate)
                        ? json_node_get_object(query_migrate)
                        : NULL;
    info->status = g_strdup(o ? json_object_get_string_member_with_default(o, "status", "") : "");
    if (o && json_object_has_member(o, "error-desc"))
        info->error_desc = g_strdup(json_object_get_string_member_with_default(o, "error-desc", ""));
    info->total_time_ms = u64(o, "total-time");
    info->downtime_ms = u64(o, "downtime");
    info->expected_downtime_ms = u64(o, "expected-downtime");
    info->setup_time_ms = u64(o, "setup-time");
    JsonNode *rn = o ? json_object_get_member(o, "ram") : NULL;
    JsonObject *ram = rn && JSON_NODE_HOLDS_OBJECT(rn) ? json_node_get_object(rn) : NULL;
    if (!ram)
        return;
    info->has_ram = TRUE;
    info->ram_transferred = u64(ram, "transferred");
    info->ram_remaining = u64(ram, "remaining");
    info->ram_total = u64(ram, "total");
    info->ram_duplicate = u64(ram, "duplicate");
    info->ram_normal = u64(ram, "normal");
    info->ram_normal_bytes = u64(ram, "normal-bytes");
    info->ram_page_size = u64(ram, "page-size");
    JsonNode *mb = json_object_get_member(ram, "mbps");
    double mbps = mb && JSON_NODE_HOLDS_VALUE(mb) ? json_node_get_double(mb) : 0;
    info->ram_bps = mbps > 0 ? (guint64)(mbps * 1000000.0 / 8.0) : 0;
    info->ram_dirty_rate = u64(ram, "dirty-pages-rate");
    info->ram_iteration = u64(ram, "dirty-sync-count");
    info->postcopy_requests = u64(ram, "postcopy-requests");
}

void
vd_qemu_migration_info_clear(VdQemuMigrationInfo *info)
{
    g_clear_pointer(&info->status, g_free);
    g_clear_pointer(&info->error_desc, g_free);
}

gboolean
vd_qemu_migration_status_final(const char *status)
{
    return g_strcmp0(status, "completed") == 0 || g_strcmp0(status, "failed") == 0 ||
           g_strcmp0(status, "cancelled") == 0;
}
