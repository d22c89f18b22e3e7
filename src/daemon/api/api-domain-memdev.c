/* Memory devices (DIMM, virtio-mem): attach/detach/update-device with a
 * <memory> element, and the class's own routes:
 *
 *   GET /v1/domains/D/memory-devices[?config=1]     the devices and totals
 *   PUT /v1/domains/D/memory-devices[/ALIAS]        {"requested_kib": N,
 *       "alias"?: A, "node"?: N}: a virtio-mem device's requested size
 *       (vsh update-memory-device); ?live=1&config=1 the scope.
 *
 * The operations are in daemon/hotplug/memdev-live.c. */
#include "api-internal.h"

#include "conf/domain-memory.h"
#include "daemon/hotplug/memdev-live.h"
#include "util/vd-error.h"

static void
attached(VdDomainObj *dom, const GError *error, const char *device_xml, gpointer data)
{
    vd_api_device_reply(data, dom, error, VD_DEVICE_ATTACH, device_xml);
}

static void
detached(VdDomainObj *dom, const GError *error, const char *device_xml, gpointer data)
{
    (void)device_xml;
    vd_api_device_reply(data, dom, error, VD_DEVICE_DETACH, NULL);
}

static void
updated(VdDomainObj *dom, const GError *error, const char *device_xml, gpointer data)
{
    (void)device_xml;
    vd_api_device_reply(data, dom, error, VD_DEVICE_UPDATE, NULL);
}

/* update-device: only a virtio-mem device's <requested> changes (as
 * libvirt); anything else of a memory device is fixed once it exists. */
static gboolean
check_update(const VdDomainDef *def, const VdMemoryDeviceDef *want, char **alias, GError **error)
{
    int i = vd_domain_memory_find(def, want, error);
    if (i < 0)
        return FALSE;
    const VdMemoryDeviceDef *have = g_ptr_array_index(def->memory_ext->devices, i);
    if (have->model != VD_MEMDEV_VIRTIO_MEM || want->model != VD_MEMDEV_VIRTIO_MEM ||
        have->size_kib != want->size_kib || have->block_kib != want->block_kib ||
        (want->node >= 0 && have->node != want->node)) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "Operation not supported: update-device changes only the <requested> size "
                    "of a virtio-mem memory device; its model, size, block and node are fixed: "
                    "detach it and attach a new one");
        return FALSE;
    }
    if (!*alias)
        *alias = g_strdup(have->alias);
    return TRUE;
}

void
vd_api_memdev_device(VdApiRequest *req, VdDomainObj *dom, VdDeviceOp op, const char *xml,
                     gboolean live, gboolean config)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdMemoryDeviceDef) m = vd_memory_device_def_new_from_xml(xml, &error);

    if (!m) {
        vd_api_reply_error(req, error);
        return;
    }
    if (op == VD_DEVICE_UPDATE) {
        g_autofree char *alias = g_strdup(m->alias);
        if ((live && !check_update(dom->live, m, &alias, &error)) ||
            (config && !live && !check_update(vd_domain_obj_def(dom), m, &alias, &error))) {
            vd_api_reply_error(req, error);
            return;
        }
        vd_api_pause(req);
        vd_memdev_set_requested(req->d, dom, alias, m->node, m->requested_kib, live, config,
                                updated, req);
        return;
    }
    vd_api_pause(req);
    if (op == VD_DEVICE_DETACH)
        vd_memdev_detach(req->d, dom, m, live, config, detached, req);
    else
        vd_memdev_attach(req->d, dom, g_steal_pointer(&m), live, config, attached, req);
}

static void
handle_list(VdApiRequest *req, VdDomainObj *dom)
{
    gboolean config = vd_api_query_bool(req, "config") || !dom->live;
    const VdDomainDef *def = config ? vd_domain_obj_def(dom) : dom->live;
    const VdMemoryExtDef *x = def->memory_ext;
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "live");
    json_builder_add_boolean_value(b, !config);
    json_builder_set_member_name(b, "memory_kib");
    json_builder_add_int_value(b, (gint64)def->memory_kib);
    json_builder_set_member_name(b, "base_kib");
    json_builder_add_int_value(b, (gint64)(def->memory_kib - vd_domain_memory_devices_kib(def)));
    json_builder_set_member_name(b, "max_memory_kib");
    json_builder_add_int_value(b, (gint64)x->max_kib);
    json_builder_set_member_name(b, "slots");
    json_builder_add_int_value(b, x->slots);
    json_builder_set_member_name(b, "devices");
    json_builder_begin_array(b);
    for (guint i = 0; i < x->devices->len; i++) {
        const VdMemoryDeviceDef *m = g_ptr_array_index(x->devices, i);
        gboolean vmem = m->model == VD_MEMDEV_VIRTIO_MEM;
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "alias");
        json_builder_add_string_value(b, m->alias);
        json_builder_set_member_name(b, "model");
        json_builder_add_string_value(b, vd_memdev_model_to_string(m->model));
        json_builder_set_member_name(b, "size_kib");
        json_builder_add_int_value(b, (gint64)m->size_kib);
        if (m->node >= 0) {
            json_builder_set_member_name(b, "node");
            json_builder_add_int_value(b, m->node);
        }
        if (vmem) {
            json_builder_set_member_name(b, "block_kib");
            json_builder_add_int_value(b, (gint64)m->block_kib);
            json_builder_set_member_name(b, "requested_kib");
            json_builder_add_int_value(b, (gint64)m->requested_kib);
            if (!config) {
                json_builder_set_member_name(b, "current_kib");
                json_builder_add_int_value(b, (gint64)m->current_kib);
            }
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

static void
handle_put(VdApiRequest *req, VdDomainObj *dom, const char *alias)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    gboolean live = vd_api_query_bool(req, "live");
    gboolean config = vd_api_query_bool(req, "config");
    JsonNode *n = body ? json_object_get_member(body, "requested_kib") : NULL;
    gint64 node = -1;

    if (!error && (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
                   json_node_get_int(n) < 0))
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: the body needs \"requested_kib\": a size in KiB");
    if (!error && !alias)
        alias = vd_api_body_string(body, "alias");
    if (!error && body && json_object_has_member(body, "node")) {
        JsonNode *nn = json_object_get_member(body, "node");
        if (!JSON_NODE_HOLDS_VALUE(nn) || json_node_get_value_type(nn) != G_TYPE_INT64 ||
            (node = json_node_get_int(nn)) < 0 || node > 255)
            g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid argument: \"node\" must be a NUMA node number");
    }
    if (!vd_api_affect_or_reply(req, dom, &live, &config, &error))
        return;
    vd_api_pause(req);
    vd_memdev_set_requested(req->d, dom, alias, (int)node, (guint64)json_node_get_int(n), live,
                            config, updated, req);
}

gboolean
vd_api_domain_memdev_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    gboolean get = g_str_equal(method, "GET"), put = g_str_equal(method, "PUT");
    guint n = req->nsegments;

    if (n < 3 || !g_str_equal(req->segments[2], "memory-devices"))
        return FALSE;
    if (n == 3 && get)
        handle_list(req, dom);
    else if ((n == 3 || n == 4) && put)
        handle_put(req, dom, n == 4 ? req->segments[3] : NULL);
    else
        return FALSE;
    return TRUE;
}
