/* Usage history (issue 14; docs/api.md "Usage history"):
 *   GET /v1/domains/D/usage?range=hour|day|week   one domain's points
 *   GET /v1/usage[?points=N]                      the latest point of every
 *                                                  running domain [and its last
 *                                                  N hour points: sparklines]
 * The daemon samples and keeps them (daemon/stats/usage.h); a domain's
 * points are read from its file in the sampler's worker. */
#include "api-internal.h"
#include "daemon/stats/usage.h"
#include "util/vd-error.h"

static void
read_done(JsonNode *answer, const GError *error, gpointer data)
{
    VdApiRequest *req = data;
    if (error)
        vd_api_reply_error(req, error);
    else
        vd_api_reply_json(req, 200, json_node_ref(answer));
}

gboolean
vd_api_domain_usage_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    if (req->nsegments != 3 || !g_str_equal(req->segments[2], "usage"))
        return FALSE;
    if (!g_str_equal(method, "GET") && !g_str_equal(method, "HEAD")) {
        vd_api_reply_not_allowed(req, method);
        return TRUE;
    }
    const char *range = req->query ? g_hash_table_lookup(req->query, "range") : NULL;
    VdUsageLevel level = VD_USAGE_HOUR;
    if (range && *range && !vd_usage_level_parse(range, &level)) {
        g_autoptr(GError) error = g_error_new(
            VD_ERROR, VD_ERROR_INVALID_ARG,
            "invalid argument: unknown usage range '%s' (known: hour, day, week)", range);
        vd_api_reply_error(req, error);
        return TRUE;
    }
    vd_api_pause(req);
    vd_usage_read(req->d, dom, level, read_done, req);
    return TRUE;
}

void
vd_api_usage_dispatch(VdApiRequest *req, const char *method)
{
    if (!g_str_equal(method, "GET") && !g_str_equal(method, "HEAD")) {
        vd_api_reply_not_allowed(req, method);
        return;
    }
    const char *points = req->query ? g_hash_table_lookup(req->query, "points") : NULL;
    guint64 n = 0;
    if (points && *points && !g_ascii_string_to_unsigned(points, 10, 0, 360, &n, NULL)) {
        g_autoptr(GError) error = g_error_new(
            VD_ERROR, VD_ERROR_INVALID_ARG,
            "invalid argument: points='%s': give a number of hour points from 0 to 360", points);
        vd_api_reply_error(req, error);
        return;
    }
    if (n > 0)
        vd_api_pause(req);
    vd_usage_latest(req->d, (guint)n, read_done, req);
}
