/* The QMP arguments of a disk's live changes (qemu-hotplug-disk.h).
 *
 * The objects come from the argv builder itself: a VdQemuCmd with
 * "collect" set hands back each -blockdev and -device object instead of
 * appending it to an argv, so a hot-plugged disk gets exactly the nodes
 * and device a started one gets (QMP's blockdev-add and device_add take
 * the same JSON as -blockdev and -device). */
#include "qemu/qemu-hotplug-disk.h"

#include <string.h>

#include "qemu/qemu-command-priv.h"
#include "util/vd-error.h"

void
vd_qemu_hotplug_disk_clear(VdQemuHotplugDisk *out)
{
    g_clear_pointer(&out->storage, json_object_unref);
    g_clear_pointer(&out->format, json_object_unref);
    g_clear_pointer(&out->device, json_object_unref);
    g_clear_pointer(&out->backing, g_ptr_array_unref);
}

void
vd_qemu_hotplug_disk_use_fdset(VdQemuHotplugDisk *out, gint64 set)
{
    g_autofree char *file = g_strdup_printf("/dev/fdset/%" G_GINT64_FORMAT, set);
    json_object_set_string_member(out->storage, "filename", file);
    if (!json_object_get_boolean_member_with_default(out->storage, "read-only", FALSE))
        json_object_remove_member(out->storage, "auto-read-only");
}

gboolean
vd_qemu_hotplug_disk_build(const VdDomainDef *def, const VdQemuCaps *caps, const VdDiskDef *disk,
                           guint bootindex, const char *bus, VdQemuHotplugDisk *out, GError **error)
{
    return vd_qemu_hotplug_disk_build_chain(def, caps, disk, bootindex, bus, NULL, out, error);
}

gboolean
vd_qemu_hotplug_disk_build_chain(const VdDomainDef *def, const VdQemuCaps *caps,
                                 const VdDiskDef *disk, guint bootindex, const char *bus,
                                 GPtrArray *chain, VdQemuHotplugDisk *out, GError **error)
{
    const char *machine = def->os.machine ? def->os.machine : "pc";
    g_autoptr(JsonArray) collect = json_array_new();
    g_autoptr(GHashTable) boot = g_hash_table_new(NULL, NULL);
    g_autoptr(GHashTable) chains = g_hash_table_new(g_str_hash, g_str_equal);
    if (chain)
        g_hash_table_insert(chains, disk->target_dev, chain);
    VdQemuRunPaths paths = {.disk_chains = chains};
    VdQemuCmd cmd = {
        .def = def,
        .caps = caps,
        .paths = &paths,
        .machine = machine,
        .q35 = strstr(machine, "q35") != NULL,
        .bootindex = boot,
        /* The controllers exist: the caller checked or attached them. */
        .have_usb = TRUE,
        .have_ahci = TRUE,
        .have_scsi = TRUE,
        .collect = collect,
    };
    cmd.pc = !cmd.q35;
    memset(out, 0, sizeof(*out));
    if (bootindex)
        g_hash_table_insert(boot, (gpointer)disk, GUINT_TO_POINTER(bootindex));
    if (!vd_qemu_build_one_disk(&cmd, disk, error))
        return FALSE;
    /* The nodes in order (a chain's bottom first): the last two are the
     * image's own. */
    g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
    for (guint i = 0; i < json_array_get_length(collect); i++) {
        JsonObject *item = json_array_get_object_element(collect, i);
        const char *opt = json_object_get_string_member(item, "opt");
        JsonObject *value = json_object_ref(json_object_get_object_member(item, "value"));
        if (g_str_equal(opt, "-blockdev"))
            g_ptr_array_add(nodes, value);
        else if (g_str_equal(opt, "-device") && !out->device)
            out->device = value;
        else
            json_object_unref(value); /* a controller: not with a hot-plug */
    }
    if (nodes->len >= 2) {
        out->format = g_ptr_array_steal_index(nodes, nodes->len - 1);
        out->storage = g_ptr_array_steal_index(nodes, nodes->len - 1);
    }
    if (nodes->len > 0)
        out->backing = g_steal_pointer(&nodes);
    if (!out->device) {
        vd_qemu_hotplug_disk_clear(out);
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "disk '%s': no device was built",
                    disk->target_dev);
        return FALSE;
    }
    if (bus && !json_object_has_member(out->device, "bus"))
        json_object_set_string_member(out->device, "bus", bus);
    return TRUE;
}

static JsonObject *
args_with(const char *key, const char *value)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, key, value);
    return o;
}

JsonObject *
vd_qemu_hotplug_scsi_controller(const char *bus)
{
    JsonObject *o = args_with("driver", "virtio-scsi-pci");
    json_object_set_string_member(o, "id", "scsi0");
    if (bus)
        json_object_set_string_member(o, "bus", bus);
    return o;
}

JsonObject *
vd_qemu_hotplug_disk_device_del(const char *target)
{
    g_autofree char *id = g_strdup_printf("disk-%s", target);
    return args_with("id", id);
}

JsonObject *
vd_qemu_hotplug_disk_blockdev_del(const char *target, gboolean storage)
{
    g_autofree char *node = g_strdup_printf("%s-%s", target, storage ? "storage" : "format");
    return args_with("node-name", node);
}

JsonObject *
vd_qemu_hotplug_disk_resize(const char *target, guint64 bytes)
{
    g_autofree char *node = g_strdup_printf("%s-format", target);
    JsonObject *o = args_with("node-name", node);
    json_object_set_int_member(o, "size", (gint64)bytes);
    return o;
}

JsonObject *
vd_qemu_hotplug_media_tray(const char *target, gboolean force)
{
    JsonObject *o = vd_qemu_hotplug_media_id(target);
    if (force)
        json_object_set_boolean_member(o, "force", TRUE);
    return o;
}

JsonObject *
vd_qemu_hotplug_media_id(const char *target)
{
    g_autofree char *id = g_strdup_printf("disk-%s", target);
    return args_with("id", id);
}

JsonObject *
vd_qemu_hotplug_media_insert(const char *target)
{
    JsonObject *o = vd_qemu_hotplug_media_id(target);
    g_autofree char *node = g_strdup_printf("%s-format", target);
    json_object_set_string_member(o, "node-name", node);
    return o;
}
