/* <disk> and <controller> devices (attach-device, detach-device,
 * update-device) and a domain's disk routes (docs/api.md, "Disks"):
 *
 *   POST /v1/domains/D/disks/T/media   {"action": "insert"|"eject"|"update",
 *                                       "source": PATH, "force": bool}
 *   POST /v1/domains/D/disks/T/resize  {"size": BYTES, "shrink": bool}
 *   GET  /v1/domains/D/disks/T/info    {"capacity", "allocation", "physical"}
 *
 * ?live=1 / ?config=1 give the scope (media); detach takes ?boot_disk=1
 * to detach the disk the running guest booted from. */
#include "api-internal.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "daemon/access/access.h"
#include "daemon/hotplug/disk-live.h"
#include "util/vd-error.h"

static void
device_done(VdDomainObj *dom, const GError *error, const char *xml, gpointer data)
{
    VdApiRequest *req = data;
    vd_api_device_reply(req, dom, error, VD_DEVICE_ATTACH, xml);
}

static void
changed_done(VdDomainObj *dom, const GError *error, const char *xml, gpointer data)
{
    VdApiRequest *req = data;
    vd_api_device_reply(req, dom, error, VD_DEVICE_DETACH, xml);
}

/* The target a detach names: <target dev=>, else an alias "disk-<target>"
 * (or "ua-..." matched as written). NULL + VD_ERROR_XML without either. */
static char *
detach_target(const char *xml, GError **error)
{
    xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "disk.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    char *target = NULL;
    for (xmlNode *n = root ? root->children : NULL; n && !target; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        xmlChar *v = NULL;
        if (g_str_equal((const char *)n->name, "target"))
            v = xmlGetProp(n, (const xmlChar *)"dev");
        else if (g_str_equal((const char *)n->name, "alias"))
            v = xmlGetProp(n, (const xmlChar *)"name");
        if (v && g_str_has_prefix((const char *)v, "disk-"))
            target = g_strdup((const char *)v + 5);
        else if (v && *v)
            target = g_strdup((const char *)v);
        xmlFree(v);
    }
    if (doc)
        xmlFreeDoc(doc);
    if (!target)
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "XML error: the <disk> to detach names no <target dev=...> (or <alias>)");
    return target;
}

static void
handle_update(VdApiRequest *req, VdDomainObj *dom, const char *xml, gboolean live, gboolean config)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDiskDef) disk = vd_disk_live_parse(xml, &error);
    if (!disk) {
        vd_api_reply_error(req, error);
        return;
    }
    if (disk->device != VD_DISK_DEVICE_CDROM && disk->device != VD_DISK_DEVICE_FLOPPY) {
        g_set_error(&error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "Operation not supported: disk '%s': update-device changes only the media "
                    "of a cdrom or floppy; to change a disk, detach it and attach the new one",
                    disk->target_dev);
        vd_api_reply_error(req, error);
        return;
    }
    if (!vd_access_check_disk(req->d, req->msg, disk, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    vd_api_pause(req);
    vd_disk_live_change_media(req->d, dom, disk->target_dev, disk->source_file, VD_MEDIA_UPDATE,
                              FALSE, live, config, changed_done, req);
}

void
vd_api_disk_device(VdApiRequest *req, VdDomainObj *dom, VdDeviceOp op, const char *xml,
                   gboolean live, gboolean config)
{
    g_autoptr(GError) error = NULL;

    if (op == VD_DEVICE_UPDATE) {
        handle_update(req, dom, xml, live, config);
        return;
    }
    if (op == VD_DEVICE_DETACH) {
        g_autofree char *target = detach_target(xml, &error);
        if (!target) {
            vd_api_reply_error(req, error);
            return;
        }
        vd_api_pause(req);
        vd_disk_live_detach(req->d, dom, target, vd_api_query_bool(req, "boot_disk"), live, config,
                            changed_done, req);
        return;
    }
    VdDiskDef *disk = vd_disk_live_parse(xml, &error);
    if (!disk || !vd_access_check_disk(req->d, req->msg, disk, &error)) {
        g_clear_pointer(&disk, vd_disk_def_free);
        vd_api_reply_error(req, error);
        return;
    }
    vd_api_pause(req);
    vd_disk_live_attach(req->d, dom, disk, live, config, device_done, req);
}

void
vd_api_controller_device(VdApiRequest *req, VdDomainObj *dom, VdDeviceOp op, const char *xml,
                         gboolean live, gboolean config)
{
    g_autoptr(GError) error = NULL;
    xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "controller.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlChar *type = root ? xmlGetProp(root, (const xmlChar *)"type") : NULL;
    xmlChar *model = root ? xmlGetProp(root, (const xmlChar *)"model") : NULL;
    gboolean scsi = type && g_str_equal((const char *)type, "scsi") &&
                    (!model || g_str_equal((const char *)model, "virtio-scsi"));
    xmlFree(type);
    xmlFree(model);
    if (doc)
        xmlFreeDoc(doc);
    if (!scsi || op == VD_DEVICE_UPDATE || config || !live) {
        g_set_error(&error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "Operation not supported: virtd hot-plugs only <controller type='scsi' "
                    "model='virtio-scsi'> and only --live (at start, the SCSI controller is "
                    "added for the SCSI disks of the definition); change other controllers with "
                    "'vsh edit'");
        vd_api_reply_error(req, error);
        return;
    }
    vd_api_pause(req);
    vd_disk_live_controller(req->d, dom, op == VD_DEVICE_ATTACH,
                            op == VD_DEVICE_ATTACH ? device_done : changed_done, req);
}

/* ---- /disks/T/... ------------------------------------------------------ */

static void
info_done(VdDomainObj *dom, const GError *error, const VdDiskBlockInfo *info, gpointer data)
{
    VdApiRequest *req = data;
    (void)dom;
    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "capacity");
    json_builder_add_int_value(b, (gint64)info->capacity);
    json_builder_set_member_name(b, "allocation");
    json_builder_add_int_value(b, (gint64)info->allocation);
    json_builder_set_member_name(b, "physical");
    json_builder_add_int_value(b, (gint64)info->physical);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

static void
handle_media(VdApiRequest *req, VdDomainObj *dom, const char *target)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    gboolean live = vd_api_query_bool(req, "live"), config = vd_api_query_bool(req, "config");
    gboolean force = FALSE;
    const char *action = vd_api_body_string(body, "action");
    const char *source = vd_api_body_string(body, "source");
    VdMediaOp mop;

    if (error || !vd_api_body_bool(body, "force", &force, &error) ||
        !vd_domain_affect(dom, &live, &config, &error) ||
        !vd_access_check_path(req->d, req->msg, "media", source, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    if (g_strcmp0(action, "insert") == 0)
        mop = VD_MEDIA_INSERT;
    else if (g_strcmp0(action, "eject") == 0)
        mop = VD_MEDIA_EJECT;
    else if (g_strcmp0(action, "update") == 0)
        mop = VD_MEDIA_UPDATE;
    else {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: \"action\" must be \"insert\", \"eject\" or \"update\"");
        vd_api_reply_error(req, error);
        return;
    }
    vd_api_pause(req);
    vd_disk_live_change_media(req->d, dom, target, source, mop, force, live, config, changed_done,
                              req);
}

static void
handle_resize(VdApiRequest *req, VdDomainObj *dom, const char *target)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    gboolean shrink = FALSE;

    if (!error && (!body || !json_object_has_member(body, "size") ||
                   json_node_get_value_type(json_object_get_member(body, "size")) != G_TYPE_INT64 ||
                   json_object_get_int_member(body, "size") <= 0))
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: give {\"size\": BYTES} with a positive size");
    if (error || !vd_api_body_bool(body, "shrink", &shrink, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    vd_api_pause(req);
    vd_disk_live_resize(req->d, dom, target, (guint64)json_object_get_int_member(body, "size"),
                        shrink, changed_done, req);
}

gboolean
vd_api_domain_disk_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    gboolean get = g_str_equal(method, "GET"), post = g_str_equal(method, "POST");

    if (req->nsegments != 5 || !g_str_equal(req->segments[2], "disks"))
        return FALSE;
    const char *target = req->segments[3], *what = req->segments[4];
    if (get && g_str_equal(what, "info")) {
        vd_api_pause(req);
        vd_disk_live_info(req->d, dom, target, info_done, req);
    } else if (post && g_str_equal(what, "media")) {
        handle_media(req, dom, target);
    } else if (post && g_str_equal(what, "resize")) {
        handle_resize(req, dom, target);
    } else {
        return FALSE;
    }
    return TRUE;
}
