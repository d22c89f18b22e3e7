/* The API's save routes (daemon/save/):
 *
 *   POST   /v1/domains/D/save          {"file": F, "running"?, "paused"?,
 *                                        "max_bandwidth_mib"?}  vsh save
 *   POST   /v1/domains/D/managedsave   {"running"?, "paused"?}  vsh managedsave
 *   DELETE /v1/domains/D/managedsave   {"removed": bool}        managedsave-remove
 *   GET    /v1/domains/D/job[?completed=1]                      domjobinfo
 *   POST   /v1/domains/D/job/abort                              domjobabort
 *   POST   /v1/save-images/restore     {"file": F, "xml"?, "running"?, "paused"?}
 *   POST   /v1/save-images/xml         {"file": F, "security_info"?}: the XML
 *                                      in the image (save-image-dumpxml)
 *
 * Save and restore answer when they are over, with the domain's summary. */
#include "api-internal.h"

#include "conf/domain-def.h"
#include "daemon/access/access.h"
#include "daemon/save/save.h"
#include "util/vd-error.h"

static void
op_done(VdDomainObj *dom, const GError *error, gpointer data)
{
    VdApiRequest *req = data;
    if (error)
        vd_api_reply_error(req, error);
    else
        vd_api_reply_domain(req, 200, dom);
}

/* The flags every save/restore body may have. */
static gboolean
body_flags(JsonObject *body, gboolean *running, gboolean *paused, GError **error)
{
    *running = *paused = FALSE;
    return vd_api_body_bool(body, "running", running, error) &&
           vd_api_body_bool(body, "paused", paused, error);
}

/* A restore by a non-root client runs only a definition whose files it
 * could have named itself (access/access.h). */
static gboolean
restore_check(const VdDomainDef *def, gpointer data, GError **error)
{
    VdApiRequest *req = data;
    return vd_access_check_def(req->d, req->msg, def, error);
}

static void
handle_save(VdApiRequest *req, VdDomainObj *dom, gboolean managed)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    VdSaveOptions opts = {0};
    const char *file = body ? vd_api_body_string(body, "file") : NULL;

    if (error || !body_flags(body, &opts.running, &opts.paused, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    if (!managed && (!file || !*file)) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: the body needs \"file\": the path of the save image");
        vd_api_reply_error(req, error);
        return;
    }
    if (!managed && !vd_access_check_path(req->d, req->msg, "save image", file, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    JsonNode *bw = body ? json_object_get_member(body, "max_bandwidth_mib") : NULL;
    if (bw) {
        if (!JSON_NODE_HOLDS_VALUE(bw) || json_node_get_value_type(bw) != G_TYPE_INT64 ||
            json_node_get_int(bw) < 0) {
            g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid argument: \"max_bandwidth_mib\" must be a positive integer");
            vd_api_reply_error(req, error);
            return;
        }
        opts.max_bandwidth_mib = (guint64)json_node_get_int(bw);
    }
    vd_api_pause(req);
    vd_save_domain(req->d, dom, managed ? NULL : file, &opts, op_done, req);
}

static void
handle_managed_remove(VdApiRequest *req, VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    gboolean removed = FALSE;
    if (!vd_save_remove_managed(req->d, dom, &removed, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "removed");
    json_builder_add_boolean_value(b, removed);
    json_builder_set_member_name(b, "domain");
    vd_api_add_domain_summary(b, dom);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

static void
job_info_done(VdDomainObj *dom, JsonNode *info, const GError *error, gpointer data)
{
    VdApiRequest *req = data;
    (void)dom;
    if (error)
        vd_api_reply_error(req, error);
    else
        vd_api_reply_json(req, 200, json_node_copy(info));
}

gboolean
vd_api_domain_save_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    g_autoptr(GError) error = NULL;
    gboolean get = g_str_equal(method, "GET"), post = g_str_equal(method, "POST");
    gboolean del = g_str_equal(method, "DELETE");

    if (req->nsegments < 3)
        return FALSE;
    const char *what = req->segments[2];
    if (req->nsegments == 3 && g_str_equal(what, "save")) {
        if (!post)
            vd_api_reply_not_allowed(req, method);
        else
            handle_save(req, dom, FALSE);
        return TRUE;
    }
    if (req->nsegments == 3 && g_str_equal(what, "managedsave")) {
        if (post)
            handle_save(req, dom, TRUE);
        else if (del)
            handle_managed_remove(req, dom);
        else
            vd_api_reply_not_allowed(req, method);
        return TRUE;
    }
    if (req->nsegments == 3 && g_str_equal(what, "job")) {
        if (!get) {
            vd_api_reply_not_allowed(req, method);
            return TRUE;
        }
        vd_api_pause(req);
        vd_save_job_info(req->d, dom, vd_api_query_bool(req, "completed"), job_info_done, req);
        return TRUE;
    }
    if (req->nsegments == 4 && g_str_equal(what, "job") && g_str_equal(req->segments[3], "abort")) {
        if (!post)
            vd_api_reply_not_allowed(req, method);
        else if (!vd_save_job_abort(req->d, dom, &error))
            vd_api_reply_error(req, error);
        else
            vd_api_reply_domain(req, 200, dom);
        return TRUE;
    }
    return FALSE;
}

/* ---- /v1/save-images ---------------------------------------------------- */

typedef struct {
    VdApiRequest *req;
    gboolean security_info;
} XmlReq;

static void
xml_read(GObject *source, GAsyncResult *res, gpointer data)
{
    XmlReq *x = data;
    g_autoptr(GError) error = NULL;
    (void)source;
    g_autofree char *xml = vd_save_image_xml_finish(res, &error);
    g_autoptr(VdDomainDef) def = xml ? vd_domain_def_parse(xml, -1, &error) : NULL;
    if (!def) {
        vd_api_reply_error(x->req, error);
        g_free(x);
        return;
    }
    /* Passwords only with --security-info, as dumpxml. */
    g_autofree char *text =
        vd_domain_def_format(def, x->security_info ? VD_DOMAIN_FORMAT_SECURE : 0);
    vd_api_reply_text(x->req, 200, "application/xml", text);
    g_free(x);
}

void
vd_api_save_images_dispatch(VdApiRequest *req, const char *method)
{
    g_autoptr(GError) error = NULL;
    const char *what = req->nsegments == 2 ? req->segments[1] : "";

    if (!g_str_equal(what, "restore") && !g_str_equal(what, "xml")) {
        g_set_error(&error, VD_ERROR, VD_ERROR_NOT_FOUND, "no API resource '%s'",
                    g_uri_get_path(soup_server_message_get_uri(req->msg)));
        vd_api_reply_error(req, error);
        return;
    }
    if (!g_str_equal(method, "POST")) {
        vd_api_reply_not_allowed(req, method);
        return;
    }
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    const char *file = body ? vd_api_body_string(body, "file") : NULL;
    if (!error && (!file || !*file))
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: the body needs \"file\": the path of the save image");
    if (!error)
        vd_access_check_path(req->d, req->msg, "save image", file, &error);
    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    if (g_str_equal(what, "xml")) {
        XmlReq *x = g_new0(XmlReq, 1);
        x->req = req;
        if (!vd_api_body_bool(body, "security_info", &x->security_info, &error)) {
            g_free(x);
            vd_api_reply_error(req, error);
            return;
        }
        vd_api_pause(req);
        vd_save_image_xml_async(req->d, file, xml_read, x);
        return;
    }
    gboolean running, paused;
    if (!body_flags(body, &running, &paused, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    vd_api_pause(req);
    vd_save_restore(req->d, file, vd_api_body_string(body, "xml"), running, paused, restore_check,
                    op_done, req);
}
