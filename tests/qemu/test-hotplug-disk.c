/* The QMP arguments of a disk hot-plug (qemu/qemu-hotplug-disk.h),
 * compared with tests/data/hotplug/disk-*.json (VD_REGENERATE=1 rewrites
 * them). */
#include "qemu-test-util.h"

#include "golden.h"
#include "qemu/qemu-hotplug-disk.h"
#include "util/vd-error.h"

static void
add_member(JsonBuilder *b, const char *name, JsonObject *o)
{
    json_builder_set_member_name(b, name);
    if (!o) {
        json_builder_add_null_value(b);
        return;
    }
    JsonNode *n = json_node_init_object(json_node_alloc(), o);
    json_builder_add_value(b, n);
}

static void
check(const char *name, const char *machine, VdDiskDef *disk, guint bootindex, const char *bus)
{
    g_autoptr(TDef) def = tdef_new("hd", machine);
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    g_autoptr(GError) error = NULL;
    VdQemuHotplugDisk out;
    g_ptr_array_add(def->disks, disk);

    g_assert_true(vd_qemu_hotplug_disk_build(def, caps, disk, bootindex, bus, &out, &error));
    g_assert_no_error(error);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_member(b, "blockdev-add-storage", out.storage);
    add_member(b, "blockdev-add-format", out.format);
    add_member(b, "device_add", out.device);
    add_member(b, "device_del", vd_qemu_hotplug_disk_device_del(disk->target_dev));
    add_member(b, "blockdev-del-format",
               vd_qemu_hotplug_disk_blockdev_del(disk->target_dev, FALSE));
    add_member(b, "blockdev-del-storage",
               vd_qemu_hotplug_disk_blockdev_del(disk->target_dev, TRUE));
    add_member(b, "block_resize", vd_qemu_hotplug_disk_resize(disk->target_dev, 2147483648u));
    add_member(b, "blockdev-open-tray", vd_qemu_hotplug_media_tray(disk->target_dev, TRUE));
    add_member(b, "blockdev-remove-medium", vd_qemu_hotplug_media_id(disk->target_dev));
    add_member(b, "blockdev-insert-medium", vd_qemu_hotplug_media_insert(disk->target_dev));
    json_builder_end_object(b);
    out.storage = out.format = out.device = NULL; /* the builder holds them */

    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    g_autofree char *with_nl = g_strconcat(text, "\n", NULL);
    g_autofree char *path = test_golden_path(VD_TEST_DATA_DIR "/hotplug", name, ".json");
    test_golden_check(path, with_nl);
}

static VdDiskDef *
disk_new(VdDiskDevice device, VdDiskBus bus, const char *target, const char *path,
         VdDiskFormat format)
{
    VdDiskDef *disk = vd_disk_def_new();
    disk->device = device;
    disk->bus = bus;
    disk->target_dev = g_strdup(target);
    disk->source_file = g_strdup(path);
    disk->format = format;
    return disk;
}

static void
test_virtio_pc(void)
{
    check("disk-virtio-pc", "pc",
          disk_new(VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vdb", "/var/lib/hd/b.img",
                   VD_DISK_FORMAT_RAW),
          0, NULL);
}

/* The image in fd set 7: its protocol node names the set, without
 * auto-read-only when writable; a read-only disk keeps read-only. */
static void
test_fdset(void)
{
    g_autoptr(TDef) def = tdef_new("hd", "pc");
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    g_autoptr(GError) error = NULL;
    VdDiskDef *rw =
        disk_new(VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vdb", "/i/b.img", VD_DISK_FORMAT_RAW);
    VdDiskDef *ro =
        disk_new(VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vdc", "/i/c.img", VD_DISK_FORMAT_RAW);
    ro->readonly = TRUE;
    g_ptr_array_add(def->disks, rw);
    g_ptr_array_add(def->disks, ro);
    VdQemuHotplugDisk out;
    g_assert_true(vd_qemu_hotplug_disk_build(def, caps, rw, 0, NULL, &out, &error));
    vd_qemu_hotplug_disk_use_fdset(&out, 7);
    g_assert_cmpstr(json_object_get_string_member(out.storage, "filename"), ==, "/dev/fdset/7");
    g_assert_false(json_object_has_member(out.storage, "auto-read-only"));
    vd_qemu_hotplug_disk_clear(&out);
    g_assert_true(vd_qemu_hotplug_disk_build(def, caps, ro, 0, NULL, &out, &error));
    vd_qemu_hotplug_disk_use_fdset(&out, 8);
    g_assert_cmpstr(json_object_get_string_member(out.storage, "filename"), ==, "/dev/fdset/8");
    g_assert_true(json_object_get_boolean_member(out.storage, "read-only"));
    vd_qemu_hotplug_disk_clear(&out);
}

static void
test_virtio_q35(void)
{
    VdDiskDef *disk = disk_new(VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vdc",
                               "/var/lib/hd/c,with comma.qcow2", VD_DISK_FORMAT_QCOW2);
    disk->cache = g_strdup("none");
    disk->serial = g_strdup("HD-SERIAL");
    check("disk-virtio-q35", "q35", disk, 0, "pci.3");
}

static void
test_scsi(void)
{
    VdDiskDef *disk = disk_new(VD_DISK_DEVICE_DISK, VD_DISK_BUS_SCSI, "sdb", "/var/lib/hd/s.img",
                               VD_DISK_FORMAT_RAW);
    disk->readonly = TRUE;
    check("disk-scsi", "pc", disk, 0, NULL);
}

static void
test_usb(void)
{
    check("disk-usb", "q35",
          disk_new(VD_DISK_DEVICE_DISK, VD_DISK_BUS_USB, "sdc", "/var/lib/hd/u.img",
                   VD_DISK_FORMAT_RAW),
          0, NULL);
}

static void
test_cdrom_media(void)
{
    check("disk-cdrom-media", "pc",
          disk_new(VD_DISK_DEVICE_CDROM, VD_DISK_BUS_SATA, "sda", "/var/lib/hd/x.iso",
                   VD_DISK_FORMAT_RAW),
          0, NULL);
}

static void
test_boot(void)
{
    check("disk-bootindex", "pc",
          disk_new(VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vdd", "/var/lib/hd/d.img",
                   VD_DISK_FORMAT_RAW),
          2, NULL);
}

static void
test_refused(void)
{
    g_autoptr(TDef) def = tdef_new("hd", "pc");
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    g_autoptr(GError) error = NULL;
    VdQemuHotplugDisk out;
    VdDiskDef *disk = disk_new(VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vde", "relative.img",
                               VD_DISK_FORMAT_RAW);
    g_ptr_array_add(def->disks, disk);
    g_assert_false(vd_qemu_hotplug_disk_build(def, caps, disk, 0, NULL, &out, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_assert_null(out.device);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hotplug-disk/virtio-pc", test_virtio_pc);
    g_test_add_func("/hotplug-disk/virtio-q35", test_virtio_q35);
    g_test_add_func("/hotplug-disk/scsi", test_scsi);
    g_test_add_func("/hotplug-disk/usb", test_usb);
    g_test_add_func("/hotplug-disk/cdrom-media", test_cdrom_media);
    g_test_add_func("/hotplug-disk/bootindex", test_boot);
    g_test_add_func("/hotplug-disk/refused", test_refused);
    g_test_add_func("/hotplug-disk/fdset", test_fdset);
    return g_test_run();
}
