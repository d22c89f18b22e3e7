/* The API of a domain's memory sizes and balloon (docs/api.md "Domain
 * memory"): setmem, setmaxmem, dommemstat and its period. The operations
 * are in daemon/hotplug/balloon.c. */
#include "api-internal.h"

#include "daemon/hotplug/balloon.h"
#include "qemu/qmp-balloon.h"
#include "util/vd-error.h"

/* {"domain": summary, "memory": {"current_kib", "max_kib"}} of the
 * definition @inactive names (the current one otherwise). */
static void
reply_memory(VdApiRequest *req, VdDomainObj *dom, gboolean inactive)
{
    const VdDomainDef *def = inactive ? vd_domain_obj_def(dom) : vd_domain_obj_current_def(dom);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "domain");
    vd_api_add_domain_summary(b, dom);
    json_builder_set_member_name(b, "memory");
    json_builder_begin_object(b);
    vd_api_add_int(b, "current_kib", (gint64)def->current_memory_kib);
    vd_api_add_int(b, "max_kib", (gint64)def->memory_kib);
    if (def->memballoon) {
        json_builder_set_member_name(b, "balloon");
        json_builder_add_string_value(b,
                                      def->memballoon->model ? def->memballoon->model : "virtio");
        vd_api_add_int(b, "stats_period", def->memballoon->period);
    }
    json_builder_end_object(b);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

/* A positive integer member of the body; FALSE + error when absent
 * (*found FALSE) or not one. */
static gboolean
body_uint(JsonObject *body, const char *name, guint64 max, guint64 *out, gboolean *found,
          GError **error)
{
    JsonNode *n = body ? json_object_get_member(body, name) : NULL;
    *found = n != NULL;
    if (!n)
        return FALSE;
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
        json_node_get_int(n) < 0 || (guint64)json_node_get_int(n) > max)
        return vd_set_error(
            error, VD_ERROR_INVALID_ARG,
            "invalid argument: \"%s\" must be an integer from 0 to %" G_GUINT64_FORMAT, name, max);
    *out = (guint64)json_node_get_int(n);
    return TRUE;
}

typedef struct {
    VdApiRequest *req;
    gboolean inactive; /* answer with the persistent definition */
} MemReq;

static void
changed(VdDomainObj *dom, const GError *error, gpointer data)
{
    MemReq *mr = data;
    VdApiRequest *req = mr->req;
    gboolean inactive = mr->inactive;
    g_free(mr);
    if (error)
        vd_api_reply_error(req, error);
    else
        reply_memory(req, dom, inactive);
}

/* The largest memory QEMU takes, in KiB (a gint64 of bytes). */
#define MAX_KIB ((guint64)G_MAXINT64 / 1024)

/* PUT /v1/domains/D/memory?live=1&config=1 {"current_kib": N} (setmem)
 * or {"max_kib": N} (setmaxmem). */
static void
handle_put(VdApiRequest *req, VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    gboolean live = vd_api_query_bool(req, "live"), config = vd_api_query_bool(req, "config");
    guint64 current = 0, max = 0;
    gboolean has_current = FALSE, has_max = FALSE;

    if (!error && !body_uint(body, "current_kib", MAX_KIB, &current, &has_current, &error) &&
        !error && !body_uint(body, "max_kib", MAX_KIB, &max, &has_max, &error) && !error)
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: the body needs \"current_kib\" (setmem) or \"max_kib\" "
                    "(setmaxmem)");
    if (!error && has_current && body && json_object_has_member(body, "max_kib"))
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: give \"current_kib\" or \"max_kib\", not both");
    if (!vd_api_affect_or_reply(req, dom, &live, &config, &error))
        return;
    if (has_max) {
        if (!vd_balloon_setmaxmem(req->d, dom, max, live, config, &error))
            vd_api_reply_error(req, error);
        else
            reply_memory(req, dom, TRUE);
        return;
    }
    MemReq *mr = g_new0(MemReq, 1);
    mr->req = req;
    mr->inactive = !live;
    vd_api_pause(req);
    vd_balloon_setmem(req->d, dom, current, live, config, changed, mr);
}

/* PUT /v1/domains/D/memory/stats-period?live=1&config=1 {"period": N} */
static void
handle_put_period(VdApiRequest *req, VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    gboolean live = vd_api_query_bool(req, "live"), config = vd_api_query_bool(req, "config");
    guint64 period = 0;
    gboolean found = FALSE;

    if (!error && !body_uint(body, "period", G_MAXINT32, &period, &found, &error) && !error)
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: the body needs \"period\": seconds (0 stops the "
                    "statistics)");
    if (!vd_api_affect_or_reply(req, dom, &live, &config, &error))
        return;
    MemReq *mr = g_new0(MemReq, 1);
    mr->req = req;
    mr->inactive = !live;
    vd_api_pause(req);
    vd_balloon_set_period(req->d, dom, (guint)period, live, config, changed, mr);
}

static void
stats_done(VdDomainObj *dom, GArray *stats, const GError *error, gpointer data)
{
    VdApiRequest *req = data;
    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "stats");
    json_builder_begin_array(b);
    for (guint i = 0; i < stats->len; i++) {
        const VdMemStat *s = &g_array_index(stats, VdMemStat, i);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, s->name);
        vd_api_add_int(b, "value", (gint64)s->value);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

gboolean
vd_api_domain_memory_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    gboolean get = g_str_equal(method, "GET");
    gboolean put = g_str_equal(method, "PUT");
    guint n = req->nsegments;

    if (!g_str_equal(req->segments[2], "memory"))
        return FALSE;
    if (n == 3 && get) {
        reply_memory(req, dom, vd_api_query_bool(req, "inactive"));
    } else if (n == 3 && put) {
        handle_put(req, dom);
    } else if (n == 4 && get && g_str_equal(req->segments[3], "stats")) {
        vd_api_pause(req);
        vd_balloon_stats(dom, stats_done, req);
    } else if (n == 4 && put && g_str_equal(req->segments[3], "stats-period")) {
        handle_put_period(req, dom);
    } else if (n == 3 || (n == 4 && (g_str_equal(req->segments[3], "stats") ||
                                     g_str_equal(req->segments[3], "stats-period")))) {
        vd_api_reply_not_allowed(req, method);
    } else {
        return FALSE;
    }
    return TRUE;
}
