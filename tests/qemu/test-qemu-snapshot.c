/* The QMP side of internal snapshots of a running domain
 * (qemu-snapshot.c): the nodes that take part, the refusals, the job
 * arguments against golden files tests/data/snapshot-live/ (save, load, delete .json)
 * (VD_REGENERATE=1 rewrites them), and QEMU's answers read back. */
#include <string.h>

#include "../common/golden.h"
#include "qemu-test-util.h"
#include "qemu/qemu-hotplug-memory.h"
#include "qemu/qemu-snapshot.h"
#include "util/vd-error.h"

static void
check(const char *name, JsonObject *args)
{
    g_autofree char *json = vd_qemu_json_to_string(args);
    g_autofree char *text = g_strconcat(json, "\n", NULL);
    g_autofree char *path = test_golden_path(VD_TEST_DATA_DIR "/snapshot-live", name, ".json");
    json_object_unref(args);
    test_golden_check(path, text);
}

static void
snap_disk_free(gpointer p)
{
    VdSnapshotDiskDef *sd = p;
    g_free(sd->name);
    g_free(sd);
}

/* The snapshot as the core leaves it after align; its own arrays (the
 * model's free may or may not own the entries). */
typedef struct {
    VdSnapshotDef def;
} TSnap;

static TSnap *
tsnap_new(const char *name)
{
    TSnap *s = g_new0(TSnap, 1);
    s->def.name = g_strdup(name);
    s->def.memory = VD_SNAPSHOT_LOC_INTERNAL;
    s->def.disks = g_ptr_array_new_with_free_func(snap_disk_free);
    return s;
}

static void
tsnap_free(TSnap *s)
{
    g_ptr_array_unref(s->def.disks);
    g_free(s->def.name);
    g_free(s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TSnap, tsnap_free)

static void
tsnap_disk(TSnap *s, const char *name, VdSnapshotLocation loc)
{
    VdSnapshotDiskDef *sd = g_new0(VdSnapshotDiskDef, 1);
    sd->name = g_strdup(name);
    sd->snapshot = loc;
    g_ptr_array_add(s->def.disks, sd);
}

static char *
joined(GPtrArray *nodes)
{
    g_ptr_array_add(nodes, NULL);
    char *s = g_strjoinv(",", (char **)nodes->pdata);
    g_ptr_array_remove_index(nodes, nodes->len - 1);
    return s;
}

static void
test_nodes(void)
{
    g_autoptr(TDef) def = tdef_new("web1", "pc");
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vda", "/i/a.qcow2",
                  VD_DISK_FORMAT_QCOW2);
    tdef_add_disk(def, VD_DISK_DEVICE_CDROM, VD_DISK_BUS_SATA, "sda", "/i/x.iso",
                  VD_DISK_FORMAT_RAW);
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vdb", "/i/b.qcow2",
                  VD_DISK_FORMAT_QCOW2);
    g_autoptr(TSnap) s = tsnap_new("s1");
    tsnap_disk(s, "vda", VD_SNAPSHOT_LOC_INTERNAL);
    tsnap_disk(s, "sda", VD_SNAPSHOT_LOC_NO);
    tsnap_disk(s, "/i/b.qcow2", VD_SNAPSHOT_LOC_INTERNAL); /* named by its source */

    g_autoptr(GError) error = NULL;
    g_autofree char *vmstate = NULL;
    g_autoptr(GPtrArray) nodes =
        vd_qemu_snapshot_nodes("web1", def, &s->def, VD_QEMU_SNAPSHOT_SAVE, &vmstate, &error);
    g_assert_no_error(error);
    g_autofree char *list = joined(nodes);
    g_assert_cmpstr(list, ==, "vda-format,vdb-format");
    g_assert_cmpstr(vmstate, ==, "vda-format");

    check("save", vd_qemu_snapshot_job_args(VD_QEMU_SNAPSHOT_SAVE, "vd-snapshot-save-1", "s1",
                                            vmstate, nodes));
    check("load", vd_qemu_snapshot_job_args(VD_QEMU_SNAPSHOT_LOAD, "vd-snapshot-load-2", "s1",
                                            vmstate, nodes));
    g_assert_cmpstr(vd_qemu_snapshot_command(VD_QEMU_SNAPSHOT_LOAD), ==, "snapshot-load");

    /* Delete: vdb was detached since; only vda keeps the snapshot here. */
    g_ptr_array_remove_index(def->disks, 2);
    g_autofree char *none = NULL;
    g_autoptr(GPtrArray) del =
        vd_qemu_snapshot_nodes("web1", def, &s->def, VD_QEMU_SNAPSHOT_DELETE, &none, &error);
    g_assert_no_error(error);
    g_assert_null(none);
    check("delete", vd_qemu_snapshot_job_args(VD_QEMU_SNAPSHOT_DELETE, "vd-snapshot-delete-3", "s1",
                                              NULL, del));
}

static void
assert_refused(const VdDomainDef *def, const VdSnapshotDef *snap, const char *message)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *vmstate = NULL;
    GPtrArray *nodes =
        vd_qemu_snapshot_nodes("web1", def, snap, VD_QEMU_SNAPSHOT_SAVE, &vmstate, &error);
    g_assert_null(nodes);
    g_assert_null(vmstate);
    g_assert_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED);
    if (!strstr(error->message, message))
        g_error("'%s' not in '%s'", message, error->message);
}

static void
test_refusals(void)
{
    /* No disk at all: nowhere to put the memory. */
    g_autoptr(TDef) bare = tdef_new("web1", "pc");
    g_autoptr(TSnap) s = tsnap_new("s1");
    assert_refused(bare, &s->def, "needs a writable qcow2 disk to hold the memory state");

    /* Only a cdrom: the same. */
    tdef_add_disk(bare, VD_DISK_DEVICE_CDROM, VD_DISK_BUS_SATA, "sda", "/i/x.iso",
                  VD_DISK_FORMAT_RAW);
    assert_refused(bare, &s->def, "add a qcow2 disk");

    /* A writable raw disk beside a qcow2 one. */
    g_autoptr(TDef) raw = tdef_new("web1", "pc");
    tdef_add_disk(raw, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vda", "/i/a.qcow2",
                  VD_DISK_FORMAT_QCOW2);
    tdef_add_disk(raw, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vdb", "/i/b.img",
                  VD_DISK_FORMAT_RAW);
    g_autoptr(TSnap) s2 = tsnap_new("s1");
    tsnap_disk(s2, "vda", VD_SNAPSHOT_LOC_INTERNAL);
    tsnap_disk(s2, "vdb", VD_SNAPSHOT_LOC_NO);
    assert_refused(raw, &s2->def, "disk 'vdb' is raw; convert it with 'qemu-img convert -O qcow2'");
    /* ... which is fine once read-only. */
    ((VdDiskDef *)g_ptr_array_index(raw->disks, 1))->readonly = TRUE;
    g_autoptr(GError) error = NULL;
    g_autofree char *vmstate = NULL;
    g_autoptr(GPtrArray) ok =
        vd_qemu_snapshot_nodes("web1", raw, &s2->def, VD_QEMU_SNAPSHOT_SAVE, &vmstate, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(ok->len, ==, 1);

    /* A writable qcow2 disk left out. */
    ((VdDiskDef *)g_ptr_array_index(raw->disks, 1))->readonly = FALSE;
    ((VdDiskDef *)g_ptr_array_index(raw->disks, 1))->format = VD_DISK_FORMAT_QCOW2;
    assert_refused(raw, &s2->def, "disk 'vdb' is left out (snapshot='no')");

    /* UEFI in flash. */
    g_autoptr(TDef) efi = tdef_new("web1", "q35");
    tdef_add_disk(efi, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vda", "/i/a.qcow2",
                  VD_DISK_FORMAT_QCOW2);
    efi->os.loader = g_strdup("/usr/share/OVMF/OVMF_CODE_4M.fd");
    efi->os.loader_type = g_strdup("pflash");
    g_autoptr(TSnap) s3 = tsnap_new("s1");
    tsnap_disk(s3, "vda", VD_SNAPSHOT_LOC_INTERNAL);
    assert_refused(efi, &s3->def, "pflash (UEFI) firmware");
}

static JsonNode *
parse(const char *text)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
    return json_node_copy(json_parser_get_root(p));
}

static void
test_answers(void)
{
    /* What QEMU 7.2 answered (tests by hand, a job failed and one that
     * worked side by side). */
    g_autoptr(JsonNode) jobs = parse(
        "[{\"current-progress\": 1, \"status\": \"concluded\", \"total-progress\": 1, "
        "\"type\": \"snapshot-save\", \"id\": \"s2\", \"error\": \"Snapshot 'a' already exists "
        "in one or more devices\"}, {\"current-progress\": 1, \"status\": \"concluded\", "
        "\"total-progress\": 1, \"type\": \"snapshot-load\", \"id\": \"l1\"}]");
    const char *status = NULL, *err = NULL;
    g_assert_true(vd_qemu_job_find(jobs, "s2", &status, &err));
    g_assert_cmpstr(status, ==, "concluded");
    g_assert_cmpstr(err, ==, "Snapshot 'a' already exists in one or more devices");
    g_assert_true(vd_qemu_job_find(jobs, "l1", &status, &err));
    g_assert_null(err);
    g_assert_false(vd_qemu_job_find(jobs, "x", &status, &err));

    g_autoptr(JsonNode) free_to_go = parse("{}");
    g_assert_null(vd_qemu_migration_blockers(free_to_go));
    g_autoptr(JsonNode) blocked =
        parse("{\"blocked-reasons\": [\"Migration is disabled when using feature 'peer mode' in "
              "device 'ivshmem'\", \"second\"]}");
    g_autofree char *why = vd_qemu_migration_blockers(blocked);
    g_assert_cmpstr(why, ==,
                    "Migration is disabled when using feature 'peer mode' in device 'ivshmem'; "
                    "second");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu/snapshot/nodes", test_nodes);
    g_test_add_func("/qemu/snapshot/refusals", test_refusals);
    g_test_add_func("/qemu/snapshot/answers", test_answers);
    return g_test_run();
}
