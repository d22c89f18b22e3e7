/* QMP arguments and answers of internal snapshots of a running domain: see
 * qemu-snapshot.h. */
#include "qemu/qemu-snapshot.h"

#include "qemu/qemu-command.h"
#include "util/vd-error.h"

static const VdSnapshotDiskDef *
snapshot_disk(const VdSnapshotDef *snap, const VdDiskDef *disk)
{
    for (guint i = 0; snap->disks && i < snap->disks->len; i++) {
        const VdSnapshotDiskDef *sd = g_ptr_array_index(snap->disks, i);
        if (!sd->name)
            continue;
        if (g_strcmp0(sd->name, disk->target_dev) == 0 ||
            (disk->source_file && g_strcmp0(sd->name, disk->source_file) == 0))
            return sd;
    }
    return NULL;
}

/* Disks the guest cannot write: their contents cannot disagree with a
 * memory brought back. */
static gboolean
disk_is_readonly(const VdDiskDef *disk)
{
    return disk->readonly || disk->device == VD_DISK_DEVICE_CDROM ||
           disk->device == VD_DISK_DEVICE_FLOPPY || !disk->source_file;
}

static gboolean
check_firmware(const char *name, const VdDomainDef *live, GError **error)
{
    /* libvirt refuses it too: QEMU would snapshot the flash only if it
     * were qcow2, and a memory brought back with other UEFI variables
     * (or a read-only code flash left out) is not the guest that was
     * saved. */
    if (g_strcmp0(live->os.loader_type, "pflash") == 0 ||
        (g_strcmp0(live->os.firmware, "efi") == 0 && !live->os.loader_type))
        return vd_set_unsupported(
            error,
            "internal snapshots of domain '%s' with its memory are not supported with pflash "
            "(UEFI) firmware: QEMU cannot keep the firmware's flash with them; take a disk-only "
            "snapshot (--disk-only), or shut the domain off and snapshot its disks",
            name);
    return TRUE;
}

GPtrArray *
vd_qemu_snapshot_nodes(const char *name, const VdDomainDef *live, const VdSnapshotDef *snap,
                       VdQemuSnapshotOp op, char **vmstate, GError **error)
{
    gboolean with_memory = op != VD_QEMU_SNAPSHOT_DELETE;
    g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func(g_free);

    if (vmstate)
        *vmstate = NULL;
    if (with_memory && !check_firmware(name, live, error))
        return NULL;
    for (guint i = 0; i < live->disks->len; i++) {
        const VdDiskDef *disk = g_ptr_array_index(live->disks, i);
        const VdSnapshotDiskDef *sd = snapshot_disk(snap, disk);
        gboolean internal = sd && sd->snapshot == VD_SNAPSHOT_LOC_INTERNAL;

        if (!with_memory) {
            /* Only the disks that have it: QEMU skips an image without
             * the snapshot, but a disk turned raw since would fail. */
            if (internal && disk->format != VD_DISK_FORMAT_RAW && !disk_is_readonly(disk))
                g_ptr_array_add(nodes, vd_qemu_disk_node_name(disk));
            continue;
        }
        if (disk_is_readonly(disk))
            continue;
        /* A format not recorded yet (a definition whose image was probed
         * at start only) is left to QEMU, which names the disk. */
        if (disk->format == VD_DISK_FORMAT_RAW) {
            vd_set_unsupported(
                error,
                "internal snapshot of domain '%s' with its memory needs every writable disk in "
                "qcow2: disk '%s' is raw; convert it with 'qemu-img convert -O qcow2', make it "
                "<readonly/>, or take an external snapshot with --disk-only",
                name, disk->target_dev);
            return NULL;
        }
        if (!internal) {
            vd_set_unsupported(
                error,
                "internal snapshot of domain '%s' with its memory must include every writable "
                "disk: disk '%s' is left out (snapshot='%s'), and reverting would bring back a "
                "memory that does not match it; include it (snapshot='internal'), or take a "
                "disk-only snapshot (--disk-only)",
                name, disk->target_dev,
                sd && sd->snapshot == VD_SNAPSHOT_LOC_EXTERNAL ? "external" : "no");
            return NULL;
        }
        g_ptr_array_add(nodes, vd_qemu_disk_node_name(disk));
    }
    if (with_memory && nodes->len == 0) {
        vd_set_unsupported(
            error,
            "internal snapshot of domain '%s' with its memory needs a writable qcow2 disk to hold "
            "the memory state, and the domain has none; add a qcow2 disk, or shut the domain "
            "off first",
            name);
        return NULL;
    }
    if (with_memory && vmstate)
        *vmstate = g_strdup(g_ptr_array_index(nodes, 0));
    return g_steal_pointer(&nodes);
}

const char *
vd_qemu_snapshot_command(VdQemuSnapshotOp op)
{
    switch (op) {
    case VD_QEMU_SNAPSHOT_SAVE:
        return "snapshot-save";
    case VD_QEMU_SNAPSHOT_LOAD:
        return "snapshot-load";
    case VD_QEMU_SNAPSHOT_DELETE:
        break;
    }
    return "snapshot-delete";
}

JsonObject *
vd_qemu_snapshot_job_args(VdQemuSnapshotOp op, const char *job_id, const char *tag,
                          const char *vmstate, GPtrArray *devices)
{
    JsonObject *o = json_object_new();
    JsonArray *list = json_array_new();

    json_object_set_string_member(o, "job-id", job_id);
    json_object_set_string_member(o, "tag", tag);
    if (op != VD_QEMU_SNAPSHOT_DELETE)
        json_object_set_string_member(o, "vmstate", vmstate);
    for (guint i = 0; devices && i < devices->len; i++)
        json_array_add_string_element(list, g_ptr_array_index(devices, i));
    json_object_set_array_member(o, "devices", list);
    return o;
}

gboolean
vd_qemu_job_find(JsonNode *result, const char *id, const char **status, const char **error_text)
{
    *status = NULL;
    *error_text = NULL;
    if (!result || !JSON_NODE_HOLDS_ARRAY(result))
        return FALSE;
    JsonArray *jobs = json_node_get_array(result);
    for (guint i = 0; i < json_array_get_length(jobs); i++) {
        JsonNode *n = json_array_get_element(jobs, i);
        if (!JSON_NODE_HOLDS_OBJECT(n))
            continue;
        JsonObject *job = json_node_get_object(n);
        if (g_strcmp0(json_object_get_string_member_with_default(job, "id", NULL), id) != 0)
            continue;
        *status = json_object_get_string_member_with_default(job, "status", NULL);
        *error_text = json_object_get_string_member_with_default(job, "error", NULL);
        return TRUE;
    }
    return FALSE;
}

char *
vd_qemu_migration_blockers(JsonNode *result)
{
    if (!result || !JSON_NODE_HOLDS_OBJECT(result))
        return NULL;
    JsonObject *info = json_node_get_object(result);
    if (!json_object_has_member(info, "blocked-reasons"))
        return NULL;
    JsonNode *n = json_object_get_member(info, "blocked-reasons");
    if (!JSON_NODE_HOLDS_ARRAY(n))
        return NULL;
    JsonArray *reasons = json_node_get_array(n);
    g_autoptr(GString) s = g_string_new(NULL);
    for (guint i = 0; i < json_array_get_length(reasons); i++) {
        JsonNode *r = json_array_get_element(reasons, i);
        if (!JSON_NODE_HOLDS_VALUE(r) || json_node_get_value_type(r) != G_TYPE_STRING)
            continue;
        if (s->len)
            g_string_append(s, "; ");
        g_string_append(s, json_node_get_string(r));
    }
    return s->len ? g_string_free(g_steal_pointer(&s), FALSE) : NULL;
}
