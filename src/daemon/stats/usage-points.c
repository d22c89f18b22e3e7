/* Points in and out of the usage sampler (usage.h): a sample's raw
 * counters from its domstats record, and points as the API gives them. */
#include "daemon/stats/usage-priv.h"

/* ---- the points as the API gives them ------------------------------------ */

static void
member_num(JsonBuilder *b, const char *name, gboolean known, double v, gboolean integer)
{
    json_builder_set_member_name(b, name);
    if (!known)
        json_builder_add_null_value(b);
    else if (integer)
        json_builder_add_int_value(b, (gint64)vd_usage_round(v));
    else
        json_builder_add_double_value(b, (double)vd_usage_round(v * 100.0) / 100.0);
}

void
vd_usage_point_members(JsonBuilder *b, const VdUsagePoint *p, guint interval_ms)
{
    json_builder_set_member_name(b, "t");
    if (interval_ms >= 1000)
        json_builder_add_int_value(b, p->t_ms / 1000);
    else
        json_builder_add_double_value(b, (double)p->t_ms / 1000.0);
    member_num(b, "cpu_pct", p->flags & VD_USAGE_HAS_CPU, p->cpu_pct, FALSE);
    member_num(b, "mem_kib", p->flags & VD_USAGE_HAS_MEM, (double)p->mem_kib, TRUE);
    member_num(b, "balloon_kib", p->flags & VD_USAGE_HAS_BALLOON, (double)p->balloon_kib, TRUE);
    member_num(b, "disk_rd_bps", p->flags & VD_USAGE_HAS_DISK, p->disk_rd_bps, TRUE);
    member_num(b, "disk_wr_bps", p->flags & VD_USAGE_HAS_DISK, p->disk_wr_bps, TRUE);
    member_num(b, "net_rx_bps", p->flags & VD_USAGE_HAS_NET, p->net_rx_bps, TRUE);
    member_num(b, "net_tx_bps", p->flags & VD_USAGE_HAS_NET, p->net_tx_bps, TRUE);
}

void
vd_usage_add_interval(JsonBuilder *b, guint interval_ms)
{
    json_builder_set_member_name(b, "interval_s");
    if (interval_ms % 1000 == 0)
        json_builder_add_int_value(b, interval_ms / 1000);
    else
        json_builder_add_double_value(b, interval_ms / 1000.0);
}

/* GET /v1/usage's answer: @latest (VdUsageSample*, by name) and, if @points,
 * each one's points (GArray* or NULL). */
JsonNode *
vd_usage_latest_json(GPtrArray *latest, GPtrArray *points, guint interval_ms)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    vd_usage_add_interval(b, interval_ms);
    json_builder_set_member_name(b, "domains");
    json_builder_begin_array(b);
    for (guint i = 0; i < latest->len; i++) {
        const VdUsageSample *s = g_ptr_array_index(latest, i);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, s->name);
        json_builder_set_member_name(b, "uuid");
        json_builder_add_string_value(b, s->uuid);
        vd_usage_point_members(b, &s->p, interval_ms);
        if (points) {
            GArray *a = g_ptr_array_index(points, i);
            json_builder_set_member_name(b, "points");
            json_builder_begin_array(b);
            for (guint k = 0; a && k < a->len; k++) {
                json_builder_begin_object(b);
                vd_usage_point_members(b, &g_array_index(a, VdUsagePoint, k), interval_ms);
                json_builder_end_object(b);
            }
            json_builder_end_array(b);
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

/* ---- samples ------------------------------------------------------------- */

static gboolean
member_u64(JsonObject *o, const char *key, guint64 *out)
{
    JsonNode *n = json_object_get_member(o, key);
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
        return FALSE;
    *out = (guint64)json_node_get_int(n);
    return TRUE;
}

static gboolean
member_fmt_u64(JsonObject *o, guint64 *out, const char *group, guint i, const char *field)
{
    g_autofree char *key = g_strdup_printf("%s.%u.%s", group, i, field);
    return member_u64(o, key, out);
}

void
vd_usage_sample_fill(VdUsagePoint *p, VdStatsRecord *rec)
{
    JsonObject *o = rec->stats;
    guint64 v, n, a, b;

    if (member_u64(o, "cpu.time", &p->cpu_ns))
        p->flags |= VD_USAGE_RAW_CPU;
    if (member_u64(o, "balloon.rss", &p->mem_kib))
        p->flags |= VD_USAGE_HAS_MEM;
    if (member_u64(o, "balloon.current", &p->balloon_kib))
        p->flags |= VD_USAGE_HAS_BALLOON;

    /* every interface counted, or no figure: a user-mode NIC has no tap */
    gboolean ok = member_u64(o, "net.count", &n);
    for (guint i = 0; ok && i < n; i++) {
        ok = member_fmt_u64(o, &a, "net", i, "rx.bytes") &&
             member_fmt_u64(o, &b, "net", i, "tx.bytes");
        p->rx_bytes += a;
        p->tx_bytes += b;
    }
    if (ok)
        p->flags |= VD_USAGE_RAW_NET;

    gboolean omitted = FALSE;
    for (guint i = 0; i < rec->omitted->len; i++)
        omitted |= g_str_equal(g_ptr_array_index(rec->omitted, i), "block");
    if (!omitted && member_u64(o, "block.count", &n)) {
        /* an empty cdrom has no figures: it counts as nothing */
        for (guint i = 0; i < n; i++) {
            if (member_fmt_u64(o, &v, "block", i, "rd.bytes"))
                p->rd_bytes += v;
            if (member_fmt_u64(o, &v, "block", i, "wr.bytes"))
                p->wr_bytes += v;
        }
        p->flags |= VD_USAGE_RAW_DISK;
    }
}
