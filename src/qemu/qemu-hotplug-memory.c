/* QMP arguments and -object/-device properties of memory devices: see
 * qemu-hotplug-memory.h. */
#include "qemu/qemu-hotplug-memory.h"

#include "conf/domain-cpu-ext.h"

char *
vd_qemu_memdev_backend_id(const VdMemoryDeviceDef *m)
{
    return g_strconcat("mem", m->alias, NULL);
}

JsonObject *
vd_qemu_memdev_backend(const VdMemoryDeviceDef *m)
{
    g_autofree char *id = vd_qemu_memdev_backend_id(m);
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "qom-type", "memory-backend-ram");
    json_object_set_string_member(o, "id", id);
    json_object_set_int_member(o, "size", (gint64)(m->size_kib * 1024));
    return o;
}

JsonObject *
vd_qemu_memdev_device(const VdDomainDef *def, const VdMemoryDeviceDef *m, const char *bus)
{
    g_autofree char *memdev = vd_qemu_memdev_backend_id(m);
    gboolean vmem = m->model == VD_MEMDEV_VIRTIO_MEM;
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "driver", vmem ? "virtio-mem-pci" : "pc-dimm");
    if (m->node >= 0)
        json_object_set_int_member(o, "node", m->node);
    else if (def->cpu_ext && def->cpu_ext->numa_cells->len)
        json_object_set_int_member(o, "node", 0);
    if (vmem) {
        json_object_set_int_member(o, "block-size", (gint64)(m->block_kib * 1024));
        json_object_set_int_member(o, "requested-size", (gint64)(m->requested_kib * 1024));
    }
    json_object_set_string_member(o, "memdev", memdev);
    json_object_set_string_member(o, "id", m->alias);
    if (bus)
        json_object_set_string_member(o, "bus", bus);
    return o;
}

static JsonObject *
id_args(const char *id)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "id", id);
    return o;
}

JsonObject *
vd_qemu_memdev_device_del(const VdMemoryDeviceDef *m)
{
    return id_args(m->alias);
}

JsonObject *
vd_qemu_memdev_object_del(const VdMemoryDeviceDef *m)
{
    g_autofree char *id = vd_qemu_memdev_backend_id(m);
    return id_args(id);
}

JsonObject *
vd_qemu_memdev_set_requested(const VdMemoryDeviceDef *m, guint64 requested_kib)
{
    JsonObject *o = json_object_new();

    /* A device id given at creation is a path QOM resolves (it is the
     * only "id" under /machine/peripheral). */
    json_object_set_string_member(o, "path", m->alias);
    json_object_set_string_member(o, "property", "requested-size");
    json_object_set_int_member(o, "value", (gint64)(requested_kib * 1024));
    return o;
}

gboolean
vd_qemu_memdev_parse_info(JsonObject *entry, const char **id, guint64 *size_kib)
{
    JsonObject *data = json_object_get_object_member(entry, "data");
    if (!data || !json_object_has_member(data, "id"))
        return FALSE;
    *id = json_object_get_string_member_with_default(data, "id", NULL);
    if (!*id)
        return FALSE;
    *size_kib = (guint64)json_object_get_int_member_with_default(data, "size", 0) / 1024;
    return TRUE;
}

char *
vd_qemu_json_to_string(JsonObject *obj)
{
    g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
    json_node_set_object(node, obj);
    return json_to_string(node, FALSE);
}
