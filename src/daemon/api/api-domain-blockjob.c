/* The API's block job routes (docs/api.md, "Block jobs"):
 *
 *   POST /v1/domains/D/disks/T/commit   {"base", "top", "active", "shallow", "bandwidth"}
 *   POST /v1/domains/D/disks/T/pull     {"base", "bandwidth"}
 *   GET  /v1/domains/D/blockjobs/T      the job's progress, or its result
 *   POST /v1/domains/D/blockjobs/T/abort {"pivot": bool}
 *   POST /v1/domains/D/blockjobs/T/speed {"bandwidth"}
 *
 * "bandwidth" is in bytes/s. A start answers once QEMU has accepted the
 * job; clients poll the GET for progress (as virsh polls
 * virDomainGetBlockJobInfo). */
#include "api-internal.h"

#include "daemon/blockjob/blockjob.h"
#include "util/vd-error.h"

static void
job_done(VdDomainObj *dom, const GError *error, JsonNode *answer, gpointer data)
{
    VdApiRequest *req = data;
    (void)dom;
    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    vd_api_reply_json(req, 200, json_node_copy(answer));
}

/* "bandwidth": a non-negative integer, absent: 0. */
static gboolean
body_bandwidth(JsonObject *body, guint64 *out, GError **error)
{
    *out = 0;
    if (!body || !json_object_has_member(body, "bandwidth"))
        return TRUE;
    JsonNode *n = json_object_get_member(body, "bandwidth");
    if (json_node_get_value_type(n) != G_TYPE_INT64 || json_node_get_int(n) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: \"bandwidth\" must be a non-negative integer (bytes/s)");
        return FALSE;
    }
    *out = (guint64)json_node_get_int(n);
    return TRUE;
}

static void
handle_start(VdApiRequest *req, VdDomainObj *dom, const char *target, gboolean commit)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    VdBlockJobParams p = {0};
    if (error || !vd_api_body_bool(body, "active", &p.active, &error) ||
        !vd_api_body_bool(body, "shallow", &p.shallow, &error) ||
        !body_bandwidth(body, &p.bandwidth, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    p.base = vd_api_body_string(body, "base");
    p.top = vd_api_body_string(body, "top");
    vd_api_pause(req);
    if (commit)
        vd_blockjob_commit(req->d, dom, target, &p, job_done, req);
    else
        vd_blockjob_pull(req->d, dom, target, &p, job_done, req);
}

static void
handle_abort(VdApiRequest *req, VdDomainObj *dom, const char *target)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    gboolean pivot = FALSE;
    if (error || !vd_api_body_bool(body, "pivot", &pivot, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    vd_api_pause(req);
    vd_blockjob_abort(req->d, dom, target, pivot, job_done, req);
}

static void
handle_speed(VdApiRequest *req, VdDomainObj *dom, const char *target)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    guint64 bw = 0;
    if (error || !body_bandwidth(body, &bw, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    vd_api_pause(req);
    vd_blockjob_set_speed(req->d, dom, target, bw, job_done, req);
}

gboolean
vd_api_domain_blockjob_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    gboolean get = g_str_equal(method, "GET"), post = g_str_equal(method, "POST");
    const char *kind = req->nsegments >= 4 ? req->segments[2] : "";

    if (req->nsegments == 5 && g_str_equal(kind, "disks") && post &&
        (g_str_equal(req->segments[4], "commit") || g_str_equal(req->segments[4], "pull"))) {
        handle_start(req, dom, req->segments[3], g_str_equal(req->segments[4], "commit"));
        return TRUE;
    }
    if (!g_str_equal(kind, "blockjobs"))
        return FALSE;
    const char *target = req->segments[3];
    if (req->nsegments == 4 && get) {
        vd_api_pause(req);
        vd_blockjob_info(req->d, dom, target, job_done, req);
    } else if (req->nsegments == 5 && post && g_str_equal(req->segments[4], "abort")) {
        handle_abort(req, dom, target);
    } else if (req->nsegments == 5 && post && g_str_equal(req->segments[4], "speed")) {
        handle_speed(req, dom, target);
    } else {
        return FALSE;
    }
    return TRUE;
}
