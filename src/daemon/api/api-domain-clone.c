/* The API's clone routes (docs/api.md, "Cloning"):
 *
 *   POST /v1/domains/D/clone     {options}: virt-clone --original D
 *   POST /v1/domains/clone       {"original_xml": XML, options}: --original-xml
 *   POST /v1/domains/D/rename    {"name": NEW}: domrename
 *
 * The options are virt-clone's: "name", "auto_clone", "uuid", "macs",
 * "files", "skip_copy" (arrays of strings), "linked", "preserve_data",
 * "nonsparse", "reflink", "print_xml" (booleans). The clone itself is in
 * daemon/clone/. */
#include "api-internal.h"

#include "daemon/access/access.h"
#include "daemon/clone/clone.h"
#include "util/vd-error.h"

static const char *const action_names[] = {
    [VD_CLONE_DISK_KEEP] = "keep",
    [VD_CLONE_DISK_COPY] = "copy",
    [VD_CLONE_DISK_LINK] = "link",
    [VD_CLONE_DISK_PRESERVE] = "preserve",
};

/* Member @name: an array of strings (NULL when absent). */
static gboolean
body_strv(JsonObject *body, const char *name, GStrv *out, GError **error)
{
    JsonNode *node = body ? json_object_get_member(body, name) : NULL;

    if (!node || JSON_NODE_HOLDS_NULL(node))
        return TRUE;
    if (!JSON_NODE_HOLDS_ARRAY(node)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "'%s' must be an array of strings", name);
        return FALSE;
    }
    JsonArray *a = json_node_get_array(node);
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonNode *e = json_array_get_element(a, i);
        if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "'%s' must be an array of strings", name);
            return FALSE;
        }
        g_strv_builder_add(b, json_node_get_string(e));
    }
    *out = g_strv_builder_end(b);
    return TRUE;
}

static VdCloneOptions *
parse_options(JsonObject *body, GError **error)
{
    g_autoptr(VdCloneOptions) o = g_new0(VdCloneOptions, 1);

    o->name = g_strdup(vd_api_body_string(body, "name"));
    o->uuid = g_strdup(vd_api_body_string(body, "uuid"));
    if (!vd_api_body_bool(body, "auto_clone", &o->auto_clone, error) ||
        !vd_api_body_bool(body, "linked", &o->linked, error) ||
        !vd_api_body_bool(body, "preserve_data", &o->preserve_data, error) ||
        !vd_api_body_bool(body, "nonsparse", &o->nonsparse, error) ||
        !vd_api_body_bool(body, "reflink", &o->reflink, error) ||
        !vd_api_body_bool(body, "print_xml", &o->print_xml, error) ||
        !body_strv(body, "macs", &o->macs, error) || !body_strv(body, "files", &o->files, error) ||
        !body_strv(body, "skip_copy", &o->skip_copy, error))
        return NULL;
    return g_steal_pointer(&o);
}

static void
cloned(VdDaemon *d, const VdClonePlan *plan, VdDomainObj *clone, const GError *error,
       gpointer data)
{
    VdApiRequest *req = data;
    (void)d;

    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autofree char *xml = vd_domain_def_format(plan->def, VD_DOMAIN_FORMAT_INACTIVE);
    json_builder_begin_object(b);
    if (clone) {
        json_builder_set_member_name(b, "domain");
        vd_api_add_domain_summary(b, clone);
    }
    json_builder_set_member_name(b, "xml");
    json_builder_add_string_value(b, xml);
    json_builder_set_member_name(b, "disks");
    json_builder_begin_array(b);
    for (guint i = 0; i < plan->disks->len; i++) {
        VdCloneDisk *cd = g_ptr_array_index(plan->disks, i);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "target");
        json_builder_add_string_value(b, cd->target);
        json_builder_set_member_name(b, "action");
        json_builder_add_string_value(b, action_names[cd->action]);
        json_builder_set_member_name(b, "source");
        json_builder_add_string_value(b, cd->src_path);
        json_builder_set_member_name(b, "path");
        json_builder_add_string_value(b, cd->new_path);
        json_builder_set_member_name(b, "format");
        json_builder_add_string_value(b, cd->src_format);
        json_builder_set_member_name(b, "capacity");
        json_builder_add_int_value(b, (gint64)cd->capacity);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    if (plan->nvram_dst) {
        json_builder_set_member_name(b, "nvram");
        json_builder_add_string_value(b, plan->nvram_dst);
    }
    json_builder_end_object(b);
    vd_api_reply_json(req, clone ? 201 : 200, json_builder_get_root(b));
}

/* --original-xml: the domain in the body's "original_xml". */
static VdDomainDef *
original_xml(JsonObject *body, GError **error)
{
    const char *xml = vd_api_body_string(body, "original_xml");

    if (!xml) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "An original machine name is required, use '--original src_name' and try "
                    "again (or --original-xml FILE)");
        return NULL;
    }
    return vd_domain_def_new_from_xml(xml, -1, error);
}

/* A clone of @dom, or with @dom NULL of the body's "original_xml". */
static void
handle_clone(VdApiRequest *req, VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    VdDomainDef *orig = !error && !dom ? original_xml(body, &error) : NULL;
    VdCloneOptions *opts = error ? NULL : parse_options(body, &error);

    /* A non-root client copies only files it could name, to such places
     * (access/access.h); the new definition is the original's with them. */
    if (opts && orig && !vd_access_check_def(req->d, req->msg, orig, &error))
        g_clear_pointer(&opts, vd_clone_options_free);
    for (guint i = 0; opts && opts->files && opts->files[i]; i++)
        if (!vd_access_check_path(req->d, req->msg, "clone file", opts->files[i], &error))
            g_clear_pointer(&opts, vd_clone_options_free);
    if (!opts) {
        vd_domain_def_free(orig);
        vd_api_reply_error(req, error);
        return;
    }
    vd_api_pause(req);
    vd_clone_start(req->d, dom, orig, opts, cloned, req);
}

void
vd_api_domain_clone_xml(VdApiRequest *req)
{
    handle_clone(req, NULL);
}

static void
handle_rename(VdApiRequest *req, VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    const char *name = vd_api_body_string(body, "name");

    if (!error && !name)
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "domrename needs the new name: {\"name\": \"NEW\"}");
    if (error || !vd_clone_rename(req->d, dom, name, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    vd_api_reply_domain(req, 200, dom);
}

gboolean
vd_api_domain_clone_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    if (req->nsegments != 3 ||
        (!g_str_equal(req->segments[2], "clone") && !g_str_equal(req->segments[2], "rename")))
        return FALSE;
    if (!g_str_equal(method, "POST")) {
        vd_api_reply_not_allowed(req, method);
        return TRUE;
    }
    if (g_str_equal(req->segments[2], "rename")) {
        handle_rename(req, dom);
        return TRUE;
    }
    handle_clone(req, dom);
    return TRUE;
}
