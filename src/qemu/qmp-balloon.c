/* The balloon's QMP commands and answers (qmp-balloon.h). */
#include "qemu/qmp-balloon.h"

JsonObject *
vd_qmp_balloon_args(guint64 kib)
{
    JsonObject *args = json_object_new();
    json_object_set_int_member(args, "value", (gint64)(kib * 1024));
    return args;
}

static JsonObject *
qom_args(const char *property)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "path", VD_QMP_BALLOON_PATH);
    json_object_set_string_member(args, "property", property);
    return args;
}

JsonObject *
vd_qmp_balloon_period_args(guint period)
{
    JsonObject *args = qom_args("guest-stats-polling-interval");
    json_object_set_int_member(args, "value", period);
    return args;
}

JsonObject *
vd_qmp_balloon_stats_args(void)
{
    return qom_args("guest-stats");
}

static void
add(GArray *out, const char *name, guint64 value)
{
    VdMemStat s = {name, value};
    g_array_append_val(out, s);
}

/* A member that is a number, as gint64; FALSE when absent or not one. */
static gboolean
get_int(JsonObject *o, const char *name, gint64 *out)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    if (!n || !JSON_NODE_HOLDS_VALUE(n))
        return FALSE;
    GType t = json_node_get_value_type(n);
    if (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE)
        return FALSE;
    if (t == G_TYPE_INT64) {
        *out = json_node_get_int(n);
        return TRUE;
    }
    /* A u64 beyond gint64 (QEMU's -1 as 2^64-1) may be read as a double. */
    double d = json_node_get_double(n);
    *out = d >= 0 && d < 9.0e18 ? (gint64)d : -1;
    return TRUE;
}

GArray *
vd_qmp_balloon_stats_parse(JsonNode *balloon, JsonNode *guest_stats, gint64 rss_kib)
{
    /* QEMU's names, virsh's, and whether the figure is in bytes (then
     * shown in KiB) or a count; libvirt's order. */
    static const struct {
        const char *qemu;
        const char *virsh;
        gboolean bytes;
    } guest[] = {
        {"stat-swap-in", "swap_in", TRUE},
        {"stat-swap-out", "swap_out", TRUE},
        {"stat-major-faults", "major_fault", FALSE},
        {"stat-minor-faults", "minor_fault", FALSE},
        {"stat-free-memory", "unused", TRUE},
        {"stat-total-memory", "available", TRUE},
        {"stat-available-memory", "usable", TRUE},
        {NULL, "last_update", FALSE},
        {"stat-disk-caches", "disk_caches", TRUE},
        {"stat-htlb-pgalloc", "hugetlb_pgalloc", FALSE},
        {"stat-htlb-pgfail", "hugetlb_pgfail", FALSE},
    };
    GArray *out = g_array_new(FALSE, FALSE, sizeof(VdMemStat));
    gint64 v;

    JsonObject *b =
        balloon && JSON_NODE_HOLDS_OBJECT(balloon) ? json_node_get_object(balloon) : NULL;
    if (get_int(b, "actual", &v) && v >= 0)
        add(out, "actual", (guint64)v / 1024);

    JsonObject *g = guest_stats && JSON_NODE_HOLDS_OBJECT(guest_stats)
                        ? json_node_get_object(guest_stats)
                        : NULL;
    JsonNode *sn = g ? json_object_get_member(g, "stats") : NULL;
    JsonObject *stats = sn && JSON_NODE_HOLDS_OBJECT(sn) ? json_node_get_object(sn) : NULL;
    gint64 last = 0;
    /* last-update 0: the guest has not reported yet (polling off, or no
     * driver), and QEMU's figures are only its placeholders. */
    if (stats && get_int(g, "last-update", &last) && last > 0) {
        for (guint i = 0; i < G_N_ELEMENTS(guest); i++) {
            if (!guest[i].qemu) {
                add(out, guest[i].virsh, (guint64)last);
                continue;
            }
            /* QEMU reports an unset figure as -1 (all bits set). */
            if (!get_int(stats, guest[i].qemu, &v) || v < 0)
                continue;
            add(out, guest[i].virsh, guest[i].bytes ? (guint64)v / 1024 : (guint64)v);
        }
    }
    if (rss_kib >= 0)
        add(out, "rss", (guint64)rss_kib);
    return out;
}
