/* attach-device, detach-device, update-device: one set of routes for
 * every device class; the element of the body picks the class's handler
 * (api-internal.h, "Issue 11").
 *
 *   POST /v1/domains/D/devices          attach
 *   POST /v1/domains/D/devices/detach   detach
 *   PUT  /v1/domains/D/devices          update
 *
 * ?live=1 and ?config=1 give the scope (neither: current), as virsh's
 * flags (hotplug.h). */
#include "api-internal.h"

#include <libxml/parser.h>
#include <string.h>

#include "daemon/events/events.h"
#include "daemon/hotplug/hotplug.h"
#include "util/vd-error.h"

static const struct {
    const char *element;
    VdApiDeviceHandler handler;
} classes[] = {
    {"interface", vd_api_net_device},
    {"disk", vd_api_disk_device},
    {"memory", vd_api_memdev_device},
    {"controller", vd_api_controller_device},
};

/* The name of the root element of @xml (NULL + VD_ERROR_XML when it is
 * not XML). The class handler parses it again, fully. */
static char *
root_element(const char *xml, GError **error)
{
    xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "device.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    char *name = root ? g_strdup((const char *)root->name) : NULL;
    if (doc)
        xmlFreeDoc(doc);
    if (!name)
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "XML error: the device is not well-formed XML: give one element such as "
                    "<disk>, <interface>, <memory> or <controller>");
    return name;
}

/* A device of a class with no live path (<sound>, <rng>, <watchdog> ...):
 * attach and detach change the persistent definition only (--config), as
 * if written with 'vsh edit'; a running guest keeps its devices. */
static void
other_device(VdApiRequest *req, VdDomainObj *dom, VdDeviceOp op, const char *element,
             const char *xml, gboolean live, gboolean config)
{
    g_autoptr(GError) error = NULL;
    static const char *const verbs[] = {"attached to", "detached from", "updated in"};

    if (op == VD_DEVICE_UPDATE || live) {
        g_set_error(&error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "Operation not supported: a <%s> device cannot be %s a running guest: virtd "
                    "changes <disk>, <interface>, <memory> and <controller> devices live; %s",
                    element, verbs[op],
                    op == VD_DEVICE_UPDATE
                        ? "change this one with 'vsh edit' (it takes effect at the next start)"
                        : "use --config to change the definition (it takes effect at the next "
                          "start)");
        vd_api_reply_error(req, error);
        return;
    }
    g_autoptr(VdDomainDef) changed = NULL;
    if (vd_domain_obj_check(dom, VD_OP_DEFINE, &error)) {
        const VdDomainDef *def = vd_domain_obj_def(dom);
        changed = op == VD_DEVICE_ATTACH ? vd_domain_def_with_device(def, xml, &error)
                                         : vd_domain_def_without_device(def, xml, &error);
    }
    if (changed && vd_domain_list_define(req->d->domains, changed, &error))
        changed = NULL; /* taken by the registry */
    vd_api_device_reply(req, dom, error, op, NULL);
}

static void
handle_device(VdApiRequest *req, VdDomainObj *dom, VdDeviceOp op)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vd_api_body_text(req, &error);
    g_autofree char *element = xml ? root_element(xml, &error) : NULL;
    gboolean live = vd_api_query_bool(req, "live");
    gboolean config = vd_api_query_bool(req, "config");

    if (!element || !vd_domain_affect(dom, &live, &config, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(classes); i++) {
        if (g_str_equal(element, classes[i].element)) {
            classes[i].handler(req, dom, op, xml, live, config);
            return;
        }
    }
    other_device(req, dom, op, element, xml, live, config);
}

gboolean
vd_api_affect_or_reply(VdApiRequest *req, VdDomainObj *dom, gboolean *live, gboolean *config,
                       GError **error)
{
    if (!*error)
        vd_domain_affect(dom, live, config, error);
    if (*error) {
        vd_api_reply_error(req, *error);
        return FALSE;
    }
    return TRUE;
}

void
vd_api_add_int(JsonBuilder *b, const char *k, gint64 v)
{
    json_builder_set_member_name(b, k);
    json_builder_add_int_value(b, v);
}

/* virsh's device-added event for a live attach: the device as attached
 * carries its alias (a config-only attach has none, and no event). */
static void
publish_added(VdDomainObj *dom, const char *device_xml)
{
    static GRegex *re;
    if (!re)
        re = g_regex_new("<alias\\s+name=['\"]([^'\"]+)['\"]", G_REGEX_OPTIMIZE, 0, NULL);
    g_autoptr(GMatchInfo) m = NULL;
    if (!g_regex_match(re, device_xml, 0, &m))
        return;
    g_autofree char *alias = g_match_info_fetch(m, 1);
    JsonObject *extra = json_object_new();
    json_object_set_string_member(extra, "alias", alias);
    vd_events_domain(dom->name, dom->uuid, "device-added", "", "", extra);
}

void
vd_api_device_reply(VdApiRequest *req, VdDomainObj *dom, const GError *error, VdDeviceOp op,
                    const char *device_xml)
{
    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    if (op == VD_DEVICE_ATTACH && device_xml && vd_state_is_active(dom->state))
        publish_added(dom, device_xml);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "domain");
    vd_api_add_domain_summary(b, dom);
    if (device_xml) {
        json_builder_set_member_name(b, "device");
        json_builder_add_string_value(b, device_xml);
    }
    json_builder_end_object(b);
    vd_api_reply_json(req, op == VD_DEVICE_ATTACH ? 201 : 200, json_builder_get_root(b));
}

gboolean
vd_api_domain_devices_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    gboolean post = g_str_equal(method, "POST"), put = g_str_equal(method, "PUT");

    if (req->nsegments < 3 || !g_str_equal(req->segments[2], "devices"))
        return FALSE;
    if (req->nsegments == 3 && post)
        handle_device(req, dom, VD_DEVICE_ATTACH);
    else if (req->nsegments == 3 && put)
        handle_device(req, dom, VD_DEVICE_UPDATE);
    else if (req->nsegments == 4 && post && g_str_equal(req->segments[3], "detach"))
        handle_device(req, dom, VD_DEVICE_DETACH);
    else
        return FALSE;
    return TRUE;
}
