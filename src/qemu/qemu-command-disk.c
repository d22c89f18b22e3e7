/* Disks: a -blockdev pair (protocol node + format node) and a -device.
 *
 * Why -blockdev and not -drive: -drive is a key=value string where a path
 * with a comma needs escaping in one place and not in another; -blockdev
 * and -device take JSON, so a path is just a JSON string. Node names and
 * device ids derive from the target ("vda-format", "disk-vda") so that the
 * daemon can address a disk over QMP later (media change, hot-unplug)
 * without remembering anything.
 *
 * Addresses come from the target name as libvirt derives them (hdc is IDE
 * bus 1 unit 0, sdb is SATA port 1 or SCSI target 1).
 */
#include <string.h>

#include "qemu/qemu-blockjob.h"
#include "qemu/qemu-command-priv.h"
#include "util/vd-error.h"

#define MAX_TARGET_LEN 20

static const char *
bus_name(VdDiskBus bus)
{
    switch (bus) {
    case VD_DISK_BUS_VIRTIO:
        return "virtio";
    case VD_DISK_BUS_SATA:
        return "sata";
    case VD_DISK_BUS_SCSI:
        return "scsi";
    case VD_DISK_BUS_IDE:
        return "ide";
    case VD_DISK_BUS_USB:
        return "usb";
    case VD_DISK_BUS_FDC:
        return "fdc";
    case VD_DISK_BUS_NVME:
        return "nvme";
    case VD_DISK_BUS_LAST:
        break;
    }
    return "?";
}

/* nvme<C>n<N> (N from 1) -> C * 256 + N. */
static gboolean
nvme_target_index(const char *target, guint *index)
{
    guint64 ctrl, ns;
    char *end;

    if (!g_str_has_prefix(target, "nvme") || !g_ascii_isdigit(target[4]))
        return FALSE;
    ctrl = g_ascii_strtoull(target + 4, &end, 10);
    if (*end != 'n' || !g_ascii_isdigit(end[1]) || ctrl > 255)
        return FALSE;
    ns = g_ascii_strtoull(end + 1, &end, 10);
    if (*end || ns < 1 || ns > 255)
        return FALSE;
    *index = (guint)(ctrl * 256 + ns);
    return TRUE;
}

/* hda -> 0, hdz -> 25, hdaa -> 26 (libvirt's virDiskNameToIndex). */
static gboolean
target_index(const char *target, guint *index)
{
    guint idx = 0;
    gsize len = strlen(target);
    if (g_str_has_prefix(target, "nvme"))
        return nvme_target_index(target, index);
    if (len < 3 || len > MAX_TARGET_LEN)
        return FALSE;
    for (gsize i = 0; i < 2; i++) {
        if (!g_ascii_islower(target[i]))
            return FALSE;
    }
    for (gsize i = 2; i < len; i++) {
        if (!g_ascii_islower(target[i]) || idx > 100000)
            return FALSE;
        idx = (i == 2 ? 0 : (idx + 1) * 26) + (guint)(target[i] - 'a');
    }
    *index = idx;
    return TRUE;
}

/* libvirt's cache modes as blockdev cache flags and the device's
 * write-cache property. */
static gboolean
cache_mode(const char *mode, gboolean *direct, gboolean *no_flush, gboolean *write_cache)
{
    *direct = *no_flush = FALSE;
    *write_cache = TRUE;
    if (g_str_equal(mode, "writeback") || g_str_equal(mode, "default"))
        return TRUE;
    if (g_str_equal(mode, "none")) {
        *direct = TRUE;
        return TRUE;
    }
    if (g_str_equal(mode, "writethrough")) {
        *write_cache = FALSE;
        return TRUE;
    }
    if (g_str_equal(mode, "directsync")) {
        *direct = TRUE;
        *write_cache = FALSE;
        return TRUE;
    }
    if (g_str_equal(mode, "unsafe")) {
        *no_flush = TRUE;
        return TRUE;
    }
    return FALSE;
}

static void
set_cache(JsonObject *node, gboolean direct, gboolean no_flush)
{
    JsonObject *c = json_object_new();
    json_object_set_boolean_member(c, "direct", direct);
    json_object_set_boolean_member(c, "no-flush", no_flush);
    json_object_set_object_member(node, "cache", c);
}

gboolean
vd_qemu_cmd_add_controller(VdQemuCmd *cmd, gboolean *have, const char *driver, const char *id,
                           const char *what, GError **error)
{
    if (*have)
        return TRUE;
    if (!vd_qemu_cmd_need_device(cmd, driver, what, error))
        return FALSE;
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "driver", driver);
    json_object_set_string_member(o, "id", id);
    vd_qemu_cmd_opt_json(cmd, "-device", o);
    *have = TRUE;
    return TRUE;
}

/* The emulated NVMe controller "nvme<C>" for namespace disks nvme<C>n<N>,
 * once; its serial (QEMU requires one) is the first namespace's <serial>,
 * else the controller's name. */
static gboolean
add_nvme_controller(VdQemuCmd *cmd, const VdDiskDef *disk, guint ctrl, const char *what,
                    GError **error)
{
    if (ctrl >= 32) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "%s: virtd emulates NVMe controllers nvme0 to nvme31", what);
        return FALSE;
    }
    if (cmd->nvme_ctrls & (1u << ctrl))
        return TRUE;
    if (!vd_qemu_cmd_need_device(cmd, "nvme", what, error))
        return FALSE;
    g_autofree char *id = g_strdup_printf("nvme%u", ctrl);
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "driver", "nvme");
    json_object_set_string_member(o, "id", id);
    json_object_set_string_member(o, "serial", disk->serial ? disk->serial : id);
    vd_qemu_cmd_opt_json(cmd, "-device", o);
    cmd->nvme_ctrls |= 1u << ctrl;
    return TRUE;
}

/* The -device for @disk without drive/id/bootindex, which the caller adds. */
static JsonObject *
disk_device(VdQemuCmd *cmd, const VdDiskDef *disk, guint index, const char *what, GError **error)
{
    gboolean cdrom = disk->device == VD_DISK_DEVICE_CDROM;
    const char *driver = NULL;
    g_autofree char *bus = NULL;
    int unit = -1;

    switch (disk->bus) {
    case VD_DISK_BUS_VIRTIO:
        if (cdrom) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "%s: a cdrom cannot be on bus 'virtio' (use 'sata', 'scsi' or 'ide')",
                        what);
            return NULL;
        }
        driver = "virtio-blk-pci";
        break;
    case VD_DISK_BUS_IDE:
        if (!cmd->pc) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "%s: machine '%s' has no IDE controller (use bus 'sata')", what,
                        cmd->machine);
            return NULL;
        }
        if (index > 3) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED, "%s: IDE has 4 units, hda to hdd",
                        what);
            return NULL;
        }
        driver = cdrom ? "ide-cd" : "ide-hd";
        bus = g_strdup_printf("ide.%u", index / 2);
        unit = (int)(index % 2);
        break;
    case VD_DISK_BUS_SATA:
        if (index > 5) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "%s: the SATA controller has 6 ports, sda to sdf", what);
            return NULL;
        }
        driver = cdrom ? "ide-cd" : "ide-hd";
        if (cmd->q35) {
            /* q35's built-in ICH9 AHCI controller has the id "ide". */
            bus = g_strdup_printf("ide.%u", index);
        } else {
            if (!vd_qemu_cmd_add_controller(cmd, &cmd->have_ahci, "ich9-ahci", "sata0", what,
                                            error))
                return NULL;
            bus = g_strdup_printf("sata0.%u", index);
        }
        break;
    case VD_DISK_BUS_SCSI:
        if (index > 255) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED, "%s: virtio-scsi has 256 targets",
                        what);
            return NULL;
        }
        driver = cdrom ? "scsi-cd" : "scsi-hd";
        if (!vd_qemu_cmd_add_controller(cmd, &cmd->have_scsi, "virtio-scsi-pci", "scsi0", what,
                                        error))
            return NULL;
        bus = g_strdup("scsi0.0");
        break;
    case VD_DISK_BUS_USB:
        if (cdrom) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "%s: a cdrom cannot be on bus 'usb' (use 'sata', 'scsi' or 'ide')", what);
            return NULL;
        }
        driver = "usb-storage";
        if (!vd_qemu_cmd_need_usb(cmd, what, error))
            return NULL;
        break;
    case VD_DISK_BUS_FDC:
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED, "%s: disk bus '%s' is not supported",
                    what, bus_name(disk->bus));
        return NULL;
    case VD_DISK_BUS_NVME:
        if (cdrom) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "%s: a cdrom cannot be on bus 'nvme' (use 'sata', 'scsi' or 'ide')", what);
            return NULL;
        }
        /* nvme<C>n<N>: namespace N of controller C, as a Linux guest names
         * it; index is C * 256 + N (target_index). */
        driver = "nvme-ns";
        if (!add_nvme_controller(cmd, disk, index / 256, what, error))
            return NULL;
        bus = g_strdup_printf("nvme%u", index / 256);
        break;
    case VD_DISK_BUS_LAST:
        /* "Not given": conf's defaults always decide it before a start. */
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL,
                    "%s has no bus: the definition's defaults were not applied", what);
        return NULL;
    }
    if (!vd_qemu_cmd_need_device(cmd, driver, what, error))
        return NULL;

    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "driver", driver);
    if (bus)
        json_object_set_string_member(o, "bus", bus);
    if (unit >= 0)
        json_object_set_int_member(o, "unit", unit);
    if (disk->bus == VD_DISK_BUS_NVME)
        json_object_set_int_member(o, "nsid", index % 256);
    if (disk->bus == VD_DISK_BUS_SCSI) {
        json_object_set_int_member(o, "channel", 0);
        json_object_set_int_member(o, "scsi-id", index);
        json_object_set_int_member(o, "lun", 0);
    }
    return o;
}

static void
add_storage_node(VdQemuCmd *cmd, const char *protocol, const char *filename, const char *node,
                 gboolean readonly, gboolean auto_ro, gboolean have_cache, gboolean direct,
                 gboolean no_flush)
{
    JsonObject *f = json_object_new();
    json_object_set_string_member(f, "driver", protocol);
    json_object_set_string_member(f, "filename", filename);
    json_object_set_string_member(f, "node-name", node);
    if (auto_ro)
        json_object_set_boolean_member(f, "auto-read-only", TRUE);
    json_object_set_string_member(f, "discard", "unmap");
    if (readonly)
        json_object_set_boolean_member(f, "read-only", TRUE);
    if (have_cache)
        set_cache(f, direct, no_flush);
    vd_qemu_cmd_opt_json(cmd, "-blockdev", f);
}

static JsonObject *
format_node(const char *node, const char *format, const char *file_node, gboolean readonly,
            gboolean have_cache, gboolean direct, gboolean no_flush)
{
    JsonObject *fmt = json_object_new();
    json_object_set_string_member(fmt, "node-name", node);
    json_object_set_boolean_member(fmt, "read-only", readonly);
    json_object_set_string_member(fmt, "driver", format);
    json_object_set_string_member(fmt, "file", file_node);
    if (have_cache)
        set_cache(fmt, direct, no_flush);
    return fmt;
}

/* A disk whose images the daemon opened (paths->disk_chains): each image
 * in its own fd set, read-only and, for a writable disk, read-write too
 * (backing files as well: block commit reopens its base read-write); a
 * node pair per image, each qcow2 layer naming the next as its backing
 * ("backing": null at the bottom), so QEMU opens no file an image header
 * names. Backing layers' format nodes are read-only, as QEMU would open
 * them; the bottom comes first (a node must exist before one names it).
 *
 * No auto-read-only on a writable disk's files: with it QEMU opens a
 * file read-only first and switches to the read-write descriptor when a
 * writer comes, and back; each switch closes QEMU's copy of the old
 * descriptor, but the open file stays (the set holds it) with the image
 * locks QEMU had taken on it, which then refuse QEMU's own next change
 * ("Failed to get shared "write" lock"). Opened read-write once, the
 * file keeps one open file and QEMU moves its locks on it. */
static void
add_chain_nodes(VdQemuCmd *cmd, const char *target, const GPtrArray *chain, gboolean readonly,
                gboolean have_cache, gboolean direct, gboolean no_flush)
{
    for (guint i = chain->len; i-- > 0;) {
        const VdChainImage *img = g_ptr_array_index(chain, i);
        /* A backing file its owner may not write: read-only (a commit
         * into it fails, as for QEMU as its own user). */
        gboolean ro_file = readonly || (i > 0 && img->no_write);
        gint64 set =
            img->in_fdset ? img->fdset : vd_qemu_cmd_fdset_add(cmd, VD_QEMU_FD_READ, img->path, -1);
        if (!img->in_fdset && !ro_file)
            vd_qemu_cmd_fdset_add(cmd, VD_QEMU_FD_READ_WRITE, img->path, (int)set);
        g_autofree char *file = g_strdup_printf("/dev/fdset/%" G_GINT64_FORMAT, set);
        g_autofree char *storage = vd_qemu_disk_layer_node(target, i, TRUE);
        g_autofree char *node = vd_qemu_disk_layer_node(target, i, FALSE);
        add_storage_node(cmd, "file", file, storage, ro_file, FALSE, have_cache, direct, no_flush);
        gboolean qcow2 = g_strcmp0(img->format, "qcow2") == 0;
        JsonObject *fmt = format_node(node, qcow2 ? "qcow2" : "raw", storage, i > 0 || readonly,
                                      have_cache, direct, no_flush);
        if (qcow2 && i + 1 < chain->len) {
            g_autofree char *next = vd_qemu_disk_layer_node(target, i + 1, FALSE);
            json_object_set_string_member(fmt, "backing", next);
        } else if (qcow2) {
            json_object_set_null_member(fmt, "backing");
        }
        vd_qemu_cmd_opt_json(cmd, "-blockdev", fmt);
    }
}

/* The protocol and format nodes of a disk with media. */
static gboolean
add_blockdevs(VdQemuCmd *cmd, const VdDiskDef *disk, const char *what, gboolean readonly,
              gboolean have_cache, gboolean direct, gboolean no_flush, GError **error)
{
    const char *protocol = NULL;
    switch (disk->type) {
    case VD_DISK_TYPE_FILE:
    case VD_DISK_TYPE_VOLUME: /* resolved to a file by the daemon (source_file) */
        protocol = "file";
        break;
    case VD_DISK_TYPE_BLOCK:
        protocol = disk->device == VD_DISK_DEVICE_CDROM ? "host_cdrom" : "host_device";
        break;
    case VD_DISK_TYPE_NETWORK:
    case VD_DISK_TYPE_DIR:
    case VD_DISK_TYPE_LAST:
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED, "%s: this disk type is not supported",
                    what);
        return FALSE;
    }
    if (!vd_qemu_check_path(disk->source_file, what, error))
        return FALSE;

    const char *format = "raw";
    switch (disk->format) {
    case VD_DISK_FORMAT_QCOW2:
        format = "qcow2";
        break;
    case VD_DISK_FORMAT_NONE: /* the daemon probes it before; raw is the safe reading */
    case VD_DISK_FORMAT_RAW:
    case VD_DISK_FORMAT_LAST:
        format = "raw";
        break;
    }

    const GPtrArray *chain = cmd->paths->disk_chains && g_str_equal(protocol, "file")
                                 ? g_hash_table_lookup(cmd->paths->disk_chains, disk->target_dev)
                                 : NULL;
    /* A hot-plug (collect) has no argv to pass descriptors on: its chain
     * is in the fd sets QEMU already holds. */
    if (chain && chain->len > 0 &&
        (!cmd->collect || ((const VdChainImage *)g_ptr_array_index(chain, 0))->in_fdset)) {
        add_chain_nodes(cmd, disk->target_dev, chain, readonly, have_cache, direct, no_flush);
        return TRUE;
    }
    g_autofree char *file_node = vd_qemu_disk_layer_node(disk->target_dev, 0, TRUE);
    g_autofree char *fmt_node = vd_qemu_disk_layer_node(disk->target_dev, 0, FALSE);
    add_storage_node(cmd, protocol, disk->source_file, file_node, readonly, TRUE, have_cache,
                     direct, no_flush);
    JsonObject *fmt =
        format_node(fmt_node, format, file_node, readonly, have_cache, direct, no_flush);
    vd_qemu_cmd_opt_json(cmd, "-blockdev", fmt);
    return TRUE;
}

static gboolean
build_disk(VdQemuCmd *cmd, const VdDiskDef *disk, GHashTable *targets, GError **error)
{
    guint index;
    if (!disk->target_dev || !target_index(disk->target_dev, &index)) {
        g_autofree char *shown = disk->target_dev ? g_strescape(disk->target_dev, NULL) : NULL;
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid disk target '%s': use a name such as vda, sdb or hdc",
                    shown ? shown : "");
        return FALSE;
    }
    g_autofree char *what = g_strdup_printf("disk '%s'", disk->target_dev);
    if (!g_hash_table_add(targets, disk->target_dev)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "two disks have the target '%s'",
                    disk->target_dev);
        return FALSE;
    }

    gboolean cdrom = disk->device == VD_DISK_DEVICE_CDROM;
    if (disk->device != VD_DISK_DEVICE_DISK && !cdrom) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED, "%s: device '%s' is not supported", what,
                    disk->device == VD_DISK_DEVICE_FLOPPY ? "floppy" : "lun");
        return FALSE;
    }
    gboolean readonly = disk->readonly || cdrom;
    if (readonly && !cdrom && (disk->bus == VD_DISK_BUS_IDE || disk->bus == VD_DISK_BUS_SATA)) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "%s: QEMU cannot make a read-only %s hard disk (use bus 'virtio' or 'scsi')",
                    what, bus_name(disk->bus));
        return FALSE;
    }
    if (!disk->source_file && disk->type == VD_DISK_TYPE_VOLUME) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "%s: storage volume '%s/%s' was not resolved to a path", what,
                    disk->source_pool ? disk->source_pool : "",
                    disk->source_volume ? disk->source_volume : "");
        return FALSE;
    }
    if (!disk->source_file && !cdrom) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "%s has no <source>", what);
        return FALSE;
    }
    if (disk->serial && !vd_qemu_check_utf8(disk->serial, what, error))
        return FALSE;

    gboolean direct = FALSE, no_flush = FALSE, write_cache = TRUE;
    gboolean have_cache = disk->cache != NULL;
    if (have_cache && !cache_mode(disk->cache, &direct, &no_flush, &write_cache)) {
        g_autofree char *shown = g_strescape(disk->cache, NULL);
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "%s: cache mode '%s' is not supported (use none, writeback, writethrough, "
                    "directsync or unsafe)",
                    what, shown);
        return FALSE;
    }

    /* The device first: it may need a controller, which must precede it,
     * and its checks should fail before any node is emitted. */
    g_autoptr(JsonObject) dev = disk_device(cmd, disk, index, what, error);
    if (!dev)
        return FALSE;
    if (disk->source_file &&
        !add_blockdevs(cmd, disk, what, readonly, have_cache, direct, no_flush, error))
        return FALSE;

    g_autofree char *id = vd_qemu_disk_device_id(disk);
    if (disk->source_file) {
        g_autofree char *node = vd_qemu_disk_node_name(disk);
        json_object_set_string_member(dev, "drive", node);
    }
    json_object_set_string_member(dev, "id", id);
    guint bootindex = vd_qemu_cmd_bootindex(cmd, disk);
    if (bootindex)
        json_object_set_int_member(dev, "bootindex", bootindex);
    /* An NVMe namespace has no serial: its controller carries it. */
    if (disk->serial && disk->bus != VD_DISK_BUS_NVME)
        json_object_set_string_member(dev, "serial", disk->serial);
    if (have_cache && disk->source_file)
        json_object_set_string_member(dev, "write-cache", write_cache ? "on" : "off");
    /* Where the saved guest had it: QEMU's own placement follows the
     * command line's order, which puts a hot-plugged disk before devices
     * that had taken the lower slots when it came (the state would then
     * not load: "Unknown savevm section"). */
    guint pci_bus, pci_slot;
    if (disk->bus == VD_DISK_BUS_VIRTIO && vd_disk_def_pci_address(disk, &pci_bus, &pci_slot))
        vd_qemu_cmd_pin_pci(cmd, dev, pci_bus, pci_slot);
    vd_qemu_cmd_opt_json(cmd, "-device", g_steal_pointer(&dev));
    return TRUE;
}

gboolean
vd_qemu_build_one_disk(VdQemuCmd *cmd, const VdDiskDef *disk, GError **error)
{
    g_autoptr(GHashTable) targets = g_hash_table_new(g_str_hash, g_str_equal);
    return build_disk(cmd, disk, targets, error);
}

gboolean
vd_qemu_build_disks(VdQemuCmd *cmd, GError **error)
{
    const VdDomainDef *def = cmd->def;
    g_autoptr(GHashTable) targets = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        if (!build_disk(cmd, g_ptr_array_index(def->disks, i), targets, error))
            return FALSE;
    }
    return TRUE;
}
