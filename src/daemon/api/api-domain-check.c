/* The compatibility report of a domain definition (docs/api.md, "Checking
 * a domain XML"): POST /v1/domains/check with the XML, or GET
 * /v1/domains/NAME/check for a defined domain. Both answer
 * {"runs": [...], "adjusted": [...], "blocks": [...]} with status 200
 * whether or not the domain would start: the report is the answer,
 * including define's refusal of a document that parses; one that does
 * not parse is an error as for define. */
#include "daemon/api/api-internal.h"
#include "daemon/domain/domain-check.h"
#include "daemon/domain/domain-net.h"
#include "util/vd-error.h"

static void
add_list(JsonBuilder *b, const char *member, GPtrArray *items)
{
    json_builder_set_member_name(b, member);
    json_builder_begin_array(b);
    for (guint i = 0; i < items->len; i++)
        json_builder_add_string_value(b, g_ptr_array_index(items, i));
    json_builder_end_array(b);
}

static void
reply_report(VdApiRequest *req, const VdDomainCheck *check)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    add_list(b, "runs", check->runs);
    add_list(b, "adjusted", check->adjusted);
    add_list(b, "blocks", check->blocks);
    json_builder_set_member_name(b, "starts");
    json_builder_add_boolean_value(b, check->blocks->len == 0);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

static void
checked(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(VdDomainCheck) check = vd_domain_check_finish(res);
    reply_report(data, check);
}

/* POST /v1/domains/check: the definition is parsed and validated as
 * define would (its errors are the answer), then checked; nothing is
 * stored. */
void
vd_api_domain_check_xml(VdApiRequest *req)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vd_api_body_text(req, &error);
    g_autoptr(VdDomainDef) def = xml ? vd_domain_def_new_from_stored_xml(xml, -1, &error) : NULL;

    if (!def) {
        vd_api_reply_error(req, error);
        return;
    }
    gboolean known = vd_domain_list_find_name(req->d->domains, def->name) != NULL;
    if (!vd_domain_def_validate_input(def, !known, &error) ||
        !vd_domain_net_check_macs(req->d, def, NULL, &error)) {
        /* A document that parses but that define refuses (a value virtd
         * does not take, a MAC in use) is a blocker like the others: the
         * user sees it among the rest of the report's findings. */
        g_autoptr(VdDomainCheck) check = g_new0(VdDomainCheck, 1);
        check->runs = g_ptr_array_new_with_free_func(g_free);
        check->adjusted = g_ptr_array_new_with_free_func(g_free);
        check->blocks = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(check->blocks, g_strdup_printf("define refuses it: %s", error->message));
        reply_report(req, check);
        return;
    }
    vd_api_pause(req);
    vd_domain_check_async(req->d, g_steal_pointer(&def), checked, req);
}

/* GET /v1/domains/NAME/check: the persistent (or transient) definition,
 * as the next start would take it. */
void
vd_api_domain_check(VdApiRequest *req, VdDomainObj *dom)
{
    vd_api_pause(req);
    vd_domain_check_async(req->d, vd_domain_def_copy(vd_domain_obj_def(dom)), checked, req);
}
