/* Statistics (docs/api.md "Domain statistics"):
 *   GET /v1/domain-stats?names=a,b&groups=state,cpu-total,...&state=running,...
 *       &active=1&inactive=1&persistent=1&transient=1
 *       many domains in one answer (vsh domstats)
 *   GET /v1/domains/D/stats?groups=...             one domain
 *   GET /v1/domains/D/disks/TARGET/stats          one disk, virsh domblkstat's
 *                                                  figures
 * The figures are collected by daemon/stats/ (all domains' QMP queries at
 * once, /proc in a worker); these handlers pick the domains and shape the
 * answer. */
#include <string.h>

#include "api-internal.h"
#include "daemon/stats/domain-stats.h"
#include "util/vd-error.h"

typedef enum {
    ANSWER_MANY,
    ANSWER_ONE,
    ANSWER_DISK,
} AnswerKind;

typedef struct {
    VdApiRequest *req;
    AnswerKind kind;
    char *disk; /* ANSWER_DISK */
} StatsReq;

static void
add_strings(JsonBuilder *b, const char *member, GPtrArray *strings)
{
    json_builder_set_member_name(b, member);
    json_builder_begin_array(b);
    for (guint i = 0; strings && i < strings->len; i++)
        json_builder_add_string_value(b, g_ptr_array_index(strings, i));
    json_builder_end_array(b);
}

static void
add_record(JsonBuilder *b, VdStatsRecord *rec)
{
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, rec->name);
    json_builder_set_member_name(b, "stats");
    g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
    json_node_set_object(node, rec->stats);
    json_builder_add_value(b, g_steal_pointer(&node));
    if (rec->omitted->len)
        add_strings(b, "omitted", rec->omitted);
    json_builder_end_object(b);
}

/* virsh domblkstat's figures of disk @target from a block record; FALSE
 * + error when the disk is not there or its figures are missing. */
static gboolean
add_disk(JsonBuilder *b, VdStatsRecord *rec, const char *target, GError **error)
{
    static const char *const keys[][2] = {
        {"rd_req", "rd.reqs"},           {"rd_bytes", "rd.bytes"},
        {"wr_req", "wr.reqs"},           {"wr_bytes", "wr.bytes"},
        {"flush_operations", "fl.reqs"}, {"rd_total_times", "rd.times"},
        {"wr_total_times", "wr.times"},  {"flush_total_times", "fl.times"},
    };
    gint64 n = json_object_get_int_member_with_default(rec->stats, "block.count", 0);
    for (gint64 i = 0; i < n; i++) {
        g_autofree char *name_key = g_strdup_printf("block.%" G_GINT64_FORMAT ".name", i);
        const char *name = json_object_get_string_member_with_default(rec->stats, name_key, "");
        if (!g_str_equal(name, target))
            continue;
        if (rec->warnings->len) {
            g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT, "%s",
                        (const char *)g_ptr_array_index(rec->warnings, 0));
            return FALSE;
        }
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "device");
        json_builder_add_string_value(b, target);
        for (guint k = 0; k < G_N_ELEMENTS(keys); k++) {
            g_autofree char *key = g_strdup_printf("block.%" G_GINT64_FORMAT ".%s", i, keys[k][1]);
            if (!json_object_has_member(rec->stats, key))
                continue;
            json_builder_set_member_name(b, keys[k][0]);
            json_builder_add_int_value(b, json_object_get_int_member(rec->stats, key));
        }
        json_builder_end_object(b);
        return TRUE;
    }
    /* libvirt's words (qemuDomainBlocksStatsGather) */
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "invalid argument: invalid path: %s",
                target);
    return FALSE;
}

static void
collected(GPtrArray *records, gpointer data)
{
    StatsReq *sr = data;
    g_autoptr(GPtrArray) owned = records;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(GPtrArray) warnings = g_ptr_array_new();

    for (guint i = 0; i < records->len; i++) {
        VdStatsRecord *rec = g_ptr_array_index(records, i);
        for (guint k = 0; k < rec->warnings->len; k++)
            g_ptr_array_add(warnings, g_ptr_array_index(rec->warnings, k));
    }
    switch (sr->kind) {
    case ANSWER_MANY:
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "domains");
        json_builder_begin_array(b);
        for (guint i = 0; i < records->len; i++)
            add_record(b, g_ptr_array_index(records, i));
        json_builder_end_array(b);
        if (warnings->len)
            vd_api_add_warnings(b, warnings);
        json_builder_end_object(b);
        break;
    case ANSWER_ONE:
        add_record(b, g_ptr_array_index(records, 0));
        break;
    case ANSWER_DISK:
        add_disk(b, g_ptr_array_index(records, 0), sr->disk, &error);
        break;
    }
    if (error) {
        vd_api_reply_error(sr->req, error);
    } else {
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        if (sr->kind == ANSWER_ONE && warnings->len) {
            /* the record's object, plus the warnings */
            JsonObject *o = json_node_get_object(root);
            JsonArray *a = json_array_new();
            for (guint i = 0; i < warnings->len; i++)
                json_array_add_string_element(a, g_ptr_array_index(warnings, i));
            json_object_set_array_member(o, "warnings", a);
        }
        vd_api_reply_json(sr->req, 200, g_steal_pointer(&root));
    }
    g_free(sr->disk);
    g_free(sr);
}

static void
collect(VdApiRequest *req, GPtrArray *doms, guint groups, AnswerKind kind, const char *disk)
{
    StatsReq *sr = g_new0(StatsReq, 1);
    sr->req = req;
    sr->kind = kind;
    sr->disk = g_strdup(disk);
    vd_api_pause(req);
    vd_domain_stats_collect(req->d, doms, groups, collected, sr);
}

static gboolean
groups_from_query(VdApiRequest *req, guint *groups)
{
    g_autoptr(GError) error = NULL;
    const char *list = req->query ? g_hash_table_lookup(req->query, "groups") : NULL;
    if (vd_stats_groups_parse(list, groups, &error))
        return TRUE;
    vd_api_reply_error(req, error);
    return FALSE;
}

gboolean
vd_api_domain_stats_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    if (vd_api_domain_usage_dispatch(req, dom, method)) /* issue 14: .../usage */
        return TRUE;
    gboolean one = req->nsegments == 3 && g_str_equal(req->segments[2], "stats");
    gboolean disk = req->nsegments == 5 && g_str_equal(req->segments[2], "disks") &&
                    g_str_equal(req->segments[4], "stats");
    if (!one && !disk)
        return FALSE;
    if (!g_str_equal(method, "GET")) {
        vd_api_reply_not_allowed(req, method);
        return TRUE;
    }
    g_autoptr(GPtrArray) doms = g_ptr_array_new();
    g_ptr_array_add(doms, dom);
    if (disk) {
        if (!dom->live) {
            g_autoptr(GError) error =
                g_error_new(VD_ERROR, VD_ERROR_INVALID_STATE,
                            "Requested operation is not valid: domain is not running");
            vd_api_reply_error(req, error);
            return TRUE;
        }
        collect(req, doms, VD_STATS_BLOCK, ANSWER_DISK, req->segments[3]);
        return TRUE;
    }
    guint groups;
    if (groups_from_query(req, &groups))
        collect(req, doms, groups, ANSWER_ONE, NULL);
    return TRUE;
}

/* virsh's --list-* filters: within a kind any listed value matches, and
 * every kind given must match. */
static gboolean
wanted(VdApiRequest *req, VdDomainObj *dom, char **states)
{
    gboolean active = dom->live != NULL;
    gboolean a = vd_api_query_bool(req, "active"), ia = vd_api_query_bool(req, "inactive");
    gboolean p = vd_api_query_bool(req, "persistent"), t = vd_api_query_bool(req, "transient");
    if ((a || ia) && !((a && active) || (ia && !active)))
        return FALSE;
    if ((p || t) && !((p && dom->persistent) || (t && !dom->persistent)))
        return FALSE;
    if (!states)
        return TRUE;
    const char *kind = dom->state == VD_STATE_RUNNING   ? "running"
                       : dom->state == VD_STATE_PAUSED  ? "paused"
                       : dom->state == VD_STATE_SHUTOFF ? "shutoff"
                                                        : "other";
    return g_strv_contains((const char *const *)states, kind);
}

static gint
by_name(gconstpointer a, gconstpointer b)
{
    const VdDomainObj *x = *(VdDomainObj *const *)a, *y = *(VdDomainObj *const *)b;
    return strcmp(x->name, y->name);
}

void
vd_api_stats_dispatch(VdApiRequest *req, const char *method)
{
    if (!g_str_equal(method, "GET")) {
        vd_api_reply_not_allowed(req, method);
        return;
    }
    guint groups;
    if (!groups_from_query(req, &groups))
        return;
    const char *names = req->query ? g_hash_table_lookup(req->query, "names") : NULL;
    const char *state = req->query ? g_hash_table_lookup(req->query, "state") : NULL;
    g_auto(GStrv) states = state && *state ? g_strsplit(state, ",", -1) : NULL;
    for (guint i = 0; states && states[i]; i++) {
        static const char *const known[] = {"running", "paused", "shutoff", "other", NULL};
        if (!g_strv_contains(known, states[i])) {
            g_autoptr(GError) error =
                g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                            "invalid argument: unknown state filter '%s' (known: running, paused, "
                            "shutoff, other)",
                            states[i]);
            vd_api_reply_error(req, error);
            return;
        }
    }
    g_autoptr(GPtrArray) doms = g_ptr_array_new_with_free_func((GDestroyNotify)vd_domain_obj_unref);
    if (names && *names) {
        /* as virsh: in the order given, the first unknown one fails all */
        g_auto(GStrv) keys = g_strsplit(names, ",", -1);
        for (guint i = 0; keys[i]; i++) {
            g_autoptr(GError) error = NULL;
            if (!*keys[i])
                continue;
            VdDomainObj *dom = vd_domain_list_lookup(req->d->domains, keys[i], &error);
            if (!dom) {
                vd_api_reply_error(req, error);
                return;
            }
            if (wanted(req, dom, states))
                g_ptr_array_add(doms, vd_domain_obj_ref(dom));
        }
    } else {
        g_autoptr(GPtrArray) all = vd_domain_list_all(req->d->domains);
        g_ptr_array_sort(all, by_name);
        for (guint i = 0; i < all->len; i++) {
            VdDomainObj *dom = g_ptr_array_index(all, i);
            if (wanted(req, dom, states))
                g_ptr_array_add(doms, vd_domain_obj_ref(dom));
        }
    }
    collect(req, doms, groups, ANSWER_MANY, NULL);
}
