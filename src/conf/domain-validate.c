/* Step 3 of conf/: checks across fields, and what start must refuse.
 *
 * Four questions with four answers:
 *  - vd_domain_def_validate(): is this a correct definition? (define
 *    refuses it otherwise; libvirt would too)
 *  - vd_domain_def_check_startable(): can virtd run it as written? A
 *    correct definition may use things virtd does not implement yet; it
 *    is stored, and start says what to remove.
 *  - vd_domain_def_validate_input(): rules added after definitions may
 *    have been stored (names, titles): for new input only, so that a
 *    stored domain keeps loading;
 *  - vd_domain_def_warnings(): what define tells the user it keeps but
 *    ignores (the list from domain-unsupported.c).
 * Messages name the element, the value and the fix.
 */
#include "conf/domain-media.h"
#include "conf/domain-memory.h"
#include "conf/domain-restune.h"
#include "conf/domain-firmware.h"
#include "conf/domain-platform.h"
#include "conf/domain-private.h"

#include "conf/domain-cpu-ext.h"

#include <string.h>

#include "conf/domain-tpm.h"
#include "util/vd-error.h"
#include "util/vd-names.h"

/* A QEMU device id: a letter first, then letters, digits, '-', '_', '.'. */
static gboolean
alias_is_valid(const char *alias)
{
    if (!g_ascii_isalpha(alias[0]))
        return FALSE;
    for (const char *p = alias; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
            return FALSE;
    }
    return strlen(alias) <= 64;
}

static gboolean
validate_general(const VdDomainDef *def, GError **error)
{
    char canon[37];

    if (!def->name)
        return vd_set_error(error, VD_ERROR_XML, "missing <name>: every domain needs a name");
    if (!vd_name_validate(def->name, "domain name", error))
        return FALSE;
    if (def->uuid[0] && (!vd_uuid_parse(def->uuid, canon) || strcmp(canon, def->uuid) != 0))
        return vd_set_error(error, VD_ERROR_XML,
                            "invalid uuid '%s': expected the canonical form such as "
                            "4dea22b3-1d52-d8f3-2516-782e98ab3fa0",
                            def->uuid);
    if (def->memory_kib == 0)
        return vd_set_error(error, VD_ERROR_XML,
                            "missing <memory>: give the guest's memory, e.g. "
                            "<memory unit='MiB'>1024</memory>");
    if (def->memory_kib > VD_MAX_MEMORY_KIB)
        return vd_set_error(error, VD_ERROR_XML,
                            "<memory> %" G_GUINT64_FORMAT
                            " KiB is more than QEMU can take (%" G_GUINT64_FORMAT
                            " KiB): give the guest's memory, e.g. <memory unit='GiB'>4</memory>",
                            def->memory_kib, VD_MAX_MEMORY_KIB);
    if (def->current_memory_kib > def->memory_kib)
        return vd_set_error(error, VD_ERROR_XML,
                            "currentMemory %" G_GUINT64_FORMAT
                            " KiB is larger than memory %" G_GUINT64_FORMAT
                            " KiB: raise <memory> or lower <currentMemory>",
                            def->current_memory_kib, def->memory_kib);
    if (def->vcpus == 0)
        return vd_set_error(error, VD_ERROR_XML, "<vcpu> must be between 1 and %d", VD_MAX_VCPUS);
    if (def->vcpus > VD_MAX_VCPUS)
        return vd_set_error(error, VD_ERROR_XML, "<vcpu> %u is more than the maximum of %d vCPUs",
                            def->vcpus, VD_MAX_VCPUS);
    if (def->vcpus_current == 0)
        return vd_set_error(error, VD_ERROR_XML, "<vcpu current=> must be at least 1");
    if (def->vcpus_current > def->vcpus)
        return vd_set_error(error, VD_ERROR_XML,
                            "vcpu current %u is larger than vcpu %u: raise <vcpu> or lower its "
                            "current= attribute",
                            def->vcpus_current, def->vcpus);
    if (def->os.type && !g_str_equal(def->os.type, "hvm")) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "unsupported os type '%s' in <os><type>: QEMU guests use <type>hvm</type>",
                    def->os.type);
        return FALSE;
    }
    if (def->cpu.sockets) {
        guint64 n =
            (guint64)def->cpu.sockets * MAX(def->cpu.dies, 1) * def->cpu.cores * def->cpu.threads;
        if (n != def->vcpus)
            return vd_set_error(
                error, VD_ERROR_XML,
                "<cpu><topology> sockets=%u dies=%u cores=%u threads=%u gives %" G_GUINT64_FORMAT
                " vCPUs but <vcpu> is %u: make them match",
                def->cpu.sockets, MAX(def->cpu.dies, 1), def->cpu.cores, def->cpu.threads, n,
                def->vcpus);
    }
    return TRUE;
}

static gboolean
check_boot_order(GHashTable *orders, guint order, GError **error)
{
    if (order == 0)
        return TRUE;
    if (g_hash_table_contains(orders, GUINT_TO_POINTER(order)))
        return vd_set_error(error, VD_ERROR_XML,
                            "boot order %u is used by more than one device: give each "
                            "<boot order=> a different number",
                            order);
    g_hash_table_add(orders, GUINT_TO_POINTER(order));
    return TRUE;
}

static gboolean
validate_boot(const VdDomainDef *def, GError **error)
{
    g_autoptr(GHashTable) orders = g_hash_table_new(g_direct_hash, g_direct_equal);

    for (guint i = 0; i < def->disks->len; i++) {
        const VdDiskDef *d = g_ptr_array_index(def->disks, i);
        if (!check_boot_order(orders, d->boot_order, error))
            return FALSE;
    }
    for (guint i = 0; i < def->interfaces->len; i++) {
        const VdNetDef *n = g_ptr_array_index(def->interfaces, i);
        if (!check_boot_order(orders, n->boot_order, error))
            return FALSE;
    }
    if (def->os.nboot > 0 && g_hash_table_size(orders) > 0)
        return vd_set_error(error, VD_ERROR_XML,
                            "per-device boot elements cannot be used together with os/boot "
                            "elements: remove <os><boot dev=> or the devices' <boot order=>");
    return TRUE;
}

static gboolean
validate_disks(const VdDomainDef *def, GError **error)
{
    g_autoptr(GHashTable) targets = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < def->disks->len; i++) {
        const VdDiskDef *d = g_ptr_array_index(def->disks, i);
        const char *bus = vd_disk_bus_to_string(d->bus);
        gboolean removable =
            d->device == VD_DISK_DEVICE_CDROM || d->device == VD_DISK_DEVICE_FLOPPY;

        if (!d->target_dev || !*d->target_dev)
            return vd_set_error(error, VD_ERROR_XML,
                                "missing <target dev=> in <disk>: name the disk as the guest "
                                "sees it, e.g. <target dev='vda' bus='virtio'/>");
        for (const char *p = d->target_dev; *p; p++) {
            if (!g_ascii_isalnum(*p))
                return vd_set_error(error, VD_ERROR_XML,
                                    "invalid disk target '%s' in <target dev=>: use letters and "
                                    "digits such as vda or sdb",
                                    d->target_dev);
        }
        if (g_hash_table_contains(targets, d->target_dev))
            return vd_set_error(error, VD_ERROR_XML,
                                "duplicate disk target '%s': each <disk> needs its own "
                                "<target dev=>",
                                d->target_dev);
        g_hash_table_add(targets, d->target_dev);
        if (!bus)
            return vd_set_error(error, VD_ERROR_XML,
                                "cannot tell which bus disk '%s' is on: add bus= to its <target> "
                                "(virtio, sata, scsi, ide, usb, fdc or nvme)",
                                d->target_dev);
        if (!removable && d->type != VD_DISK_TYPE_NETWORK && !d->source_file && !d->source_volume)
            return vd_set_error(error, VD_ERROR_XML,
                                "disk '%s' has no <source>: only a cdrom or floppy may be empty",
                                d->target_dev);
        if (d->type == VD_DISK_TYPE_VOLUME && removable == FALSE &&
            (!d->source_pool || !d->source_volume))
            return vd_set_error(error, VD_ERROR_XML,
                                "disk '%s' of type 'volume' needs <source pool= volume=>",
                                d->target_dev);
        if (d->device == VD_DISK_DEVICE_CDROM && d->bus == VD_DISK_BUS_VIRTIO)
            return vd_set_error(error, VD_ERROR_XML,
                                "cdrom '%s' cannot be on bus 'virtio' (virtio disks have no "
                                "removable media): use bus='sata', 'scsi' or 'ide'",
                                d->target_dev);
        if ((d->device == VD_DISK_DEVICE_FLOPPY) != (d->bus == VD_DISK_BUS_FDC))
            return vd_set_error(error, VD_ERROR_XML,
                                "disk '%s': a floppy must be on bus 'fdc' and bus 'fdc' only "
                                "takes floppies",
                                d->target_dev);
    }
    return TRUE;
}

/* A relative path would be resolved against the daemon's working
 * directory, which means nothing to the client that wrote it. */
static gboolean
check_absolute(const char *what, const char *path, GError **error)
{
    if (!path || g_path_is_absolute(path))
        return TRUE;
    g_autofree char *base = g_path_get_basename(path);
    return vd_set_error(error, VD_ERROR_XML,
                        "%s: path '%s' is relative: give an absolute path such as /path/to/%s (the "
                        "daemon does not know your working directory)",
                        what, path, base);
}

static gboolean
validate_paths(const VdDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const VdDiskDef *d = g_ptr_array_index(def->disks, i);
        g_autofree char *what = g_strdup_printf("disk '%s' <source>", d->target_dev);
        if ((d->type == VD_DISK_TYPE_FILE || d->type == VD_DISK_TYPE_BLOCK) &&
            !check_absolute(what, d->source_file, error))
            return FALSE;
    }
    return check_absolute("<kernel>", def->os.kernel, error) &&
           check_absolute("<initrd>", def->os.initrd, error) &&
           check_absolute("<loader>", def->os.loader, error) &&
           check_absolute("<nvram>", def->os.nvram, error) &&
           check_absolute("<nvram template=>", def->fw->nvram_template, error) &&
           check_absolute("<emulator>", def->emulator, error);
}

gboolean
vd_domain_validate_interfaces(const VdDomainDef *def, GError **error)
{
    g_autoptr(GHashTable) macs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (guint i = 0; i < def->interfaces->len; i++) {
        const VdNetDef *n = g_ptr_array_index(def->interfaces, i);
        const char *type = vd_net_type_to_string(n->type);
        gboolean multicast = FALSE;

        if (n->mac) {
            g_autofree char *lower = g_ascii_strdown(n->mac, -1);

            if (!vd_mac_is_valid(n->mac, &multicast))
                return vd_set_error(error, VD_ERROR_XML,
                                    "invalid MAC address '%s' in <interface><mac address=>: "
                                    "expected six hex pairs like 52:54:00:12:34:56",
                                    n->mac);
            if (multicast)
                return vd_set_error(error, VD_ERROR_XML,
                                    "MAC address '%s' in <interface><mac address=> is a "
                                    "multicast address: the first byte must be even",
                                    n->mac);
            if (g_hash_table_contains(macs, lower))
                return vd_set_error(error, VD_ERROR_XML,
                                    "duplicate MAC address '%s': each <interface> needs its own "
                                    "<mac address=>",
                                    n->mac);
            g_hash_table_add(macs, g_steal_pointer(&lower));
        }
        if ((n->type == VD_NET_NETWORK || n->type == VD_NET_BRIDGE || n->type == VD_NET_DIRECT) &&
            (!n->source || !*n->source))
            return vd_set_error(error, VD_ERROR_XML, "interface type '%s' needs <source %s=>", type,
                                n->type == VD_NET_NETWORK  ? "network"
                                : n->type == VD_NET_BRIDGE ? "bridge"
                                                           : "dev");
        if (n->target_dev && *n->target_dev && !vd_ifname_is_valid(n->target_dev))
            return vd_set_error(
                error, VD_ERROR_XML,
                "invalid <interface><target dev='%s'>: a host interface name has 1 to "
                "15 letters, digits, '-', '_' or '.'",
                n->target_dev);
        if (n->alias && !alias_is_valid(n->alias))
            return vd_set_error(
                error, VD_ERROR_XML,
                "invalid <interface><alias name='%s'>: use 'ua-' followed by letters, "
                "digits, '-', '_' or '.'",
                n->alias);
    }
    return TRUE;
}

static gboolean
validate_chr(const VdChrDef *c, const char *kind, GError **error)
{
    const char *type = vd_chr_type_to_string(c->type);
    gboolean auto_path = g_str_equal(kind, "channel") && c->type == VD_CHR_UNIX;

    if ((c->type == VD_CHR_FILE || (c->type == VD_CHR_UNIX && !auto_path)) &&
        (!c->path || !*c->path))
        return vd_set_error(error, VD_ERROR_XML, "<%s type='%s'> needs <source path=>", kind, type);
    if (c->path && *c->path && c->type != VD_CHR_PTY && !g_path_is_absolute(c->path))
        return vd_set_error(error, VD_ERROR_XML, "<%s><source path='%s'> must be an absolute path",
                            kind, c->path);
    return TRUE;
}

static gboolean
validate_chrs(const VdDomainDef *def, GError **error)
{
    g_autoptr(GHashTable) ports = g_hash_table_new(g_direct_hash, g_direct_equal);

    for (guint i = 0; i < def->serials->len; i++) {
        const VdChrDef *c = g_ptr_array_index(def->serials, i);
        if (!validate_chr(c, "serial", error))
            return FALSE;
        if (c->target_port >= 0) {
            if (g_hash_table_contains(ports, GINT_TO_POINTER(c->target_port + 1)))
                return vd_set_error(error, VD_ERROR_XML,
                                    "two <serial> devices use target port %d: give each "
                                    "<target port=> a different number",
                                    c->target_port);
            g_hash_table_add(ports, GINT_TO_POINTER(c->target_port + 1));
        }
    }
    for (guint i = 0; i < def->consoles->len; i++) {
        if (!validate_chr(g_ptr_array_index(def->consoles, i), "console", error))
            return FALSE;
    }
    for (guint i = 0; i < def->channels->len; i++) {
        if (!validate_chr(g_ptr_array_index(def->channels, i), "channel", error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
validate_display(const VdDomainDef *def, GError **error)
{
    guint primaries = 0;

    for (guint i = 0; i < def->graphics->len; i++) {
        const VdGraphicsDef *g = g_ptr_array_index(def->graphics, i);
        if (!g->autoport && g->type == VD_GRAPHICS_VNC && (g->port < 5900 || g->port > 65535))
            return vd_set_error(error, VD_ERROR_XML,
                                "<graphics type='vnc' port='%d'> is out of range: use a port from "
                                "5900 to 65535, or autoport='yes'",
                                g->port);
        if (g->websocket < -1 || g->websocket == 0 || g->websocket > 65535)
            return vd_set_error(error, VD_ERROR_XML,
                                "<graphics websocket='%d'> is out of range: use 1 to 65535",
                                g->websocket);
    }
    for (guint i = 0; i < def->videos->len; i++) {
        const VdVideoDef *v = g_ptr_array_index(def->videos, i);
        if (v->primary)
            primaries++;
        if (v->model == VD_VIDEO_NONE && def->videos->len > 1)
            return vd_set_error(error, VD_ERROR_XML,
                                "<video><model type='none'> cannot be combined with other "
                                "<video> devices");
    }
    if (primaries > 1)
        return vd_set_error(error, VD_ERROR_XML,
                            "more than one <video> has primary='yes': only one can be primary");
    return TRUE;
}

static gboolean
validate_rngs(const VdDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->rngs->len; i++) {
        const VdRngDef *r = g_ptr_array_index(def->rngs, i);
        if (r->backend && !g_path_is_absolute(r->backend))
            return vd_set_error(error, VD_ERROR_XML,
                                "<rng><backend model='random'> '%s' must be an absolute path "
                                "such as /dev/urandom",
                                r->backend);
    }
    return TRUE;
}

/* Values define refuses in new input and start refuses in stored
 * definitions (which may predate these rules): what virtd cannot run. */
gboolean
vd_domain_check_interfaces_input(const GPtrArray *interfaces, GError **error)
{
    for (guint i = 0; i < interfaces->len; i++) {
        const VdNetDef *n = g_ptr_array_index(interfaces, i);

        if (!vd_net_model_supported(n->model)) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "unsupported configuration: <interface><model type='%s'> is not "
                        "a NIC QEMU emulates: use virtio, e1000, e1000e, rtl8139, pcnet, "
                        "ne2k_pci, vmxnet3, tulip or one of the i8255x models",
                        n->model);
            return FALSE;
        }
        if (n->type == VD_NET_DIRECT && !vd_net_direct_mode_supported(n->source_mode)) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "unsupported configuration: <interface type='direct'><source "
                        "mode='%s'> is not supported: use bridge, vepa, private or passthrough",
                        n->source_mode);
            return FALSE;
        }
        if (n->link_state && !g_str_equal(n->link_state, "up") &&
            !g_str_equal(n->link_state, "down"))
            return vd_set_error(error, VD_ERROR_XML,
                                "invalid <interface><link state='%s'>: use 'up' or 'down'",
                                n->link_state);
    }
    return TRUE;
}

gboolean
vd_domain_def_validate_input(const VdDomainDef *def, gboolean new_name, GError **error)
{
    if (new_name && !vd_name_check_spacing(def->name, "domain name", error))
        return FALSE;
    /* One line per domain in `vsh list --title` (libvirt refuses it too). */
    if (def->title && strchr(def->title, '\n'))
        return vd_set_error(error, VD_ERROR_XML,
                            "<title> must be a single line: put longer text in <description>");
    return vd_domain_check_interfaces_input(def->interfaces, error);
}

gboolean
vd_domain_def_validate(const VdDomainDef *def, GError **error)
{
    return validate_general(def, error) && validate_boot(def, error) &&
           validate_disks(def, error) && validate_paths(def, error) &&
           vd_domain_validate_interfaces(def, error) &&
           validate_chrs(def, error) && validate_display(def, error) && validate_rngs(def, error) &&
           vd_domain_memory_validate(def, error) && vd_domain_restune_validate(def, error);
}

/* ---- check_startable ---- */

gboolean
vd_domain_refuse(GError **error, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return vd_set_unsupported(error, "unsupported configuration: %s", msg);
}

/* "/domain/os/loader/@secure" -> element "domain/os/loader", attribute
 * "secure"; "/domain/devices/hostdev" -> element "domain/devices/hostdev". */
static char *
describe_path(const char *path)
{
    const char *p = path[0] == '/' ? path + 1 : path;
    const char *at = strstr(p, "/@");

    if (at)
        return g_strdup_printf("attribute '%s' of <%.*s>", at + 2, (int)(at - p), p);
    return g_strdup_printf("element <%s>", p);
}

static gboolean
startable_lifecycle(const char *name, VdLifecycleAction a, GError **error)
{
    switch (a) {
    case VD_LIFECYCLE_DESTROY:
    case VD_LIFECYCLE_RESTART:
        return TRUE;
    case VD_LIFECYCLE_PRESERVE:
        /* The daemon keeps QEMU for inspection after a power-off or a
         * panic; a reboot cannot be stopped half-way without -no-reboot
         * semantics, so on_reboot=preserve stays refused. */
        if (!g_str_equal(name, "on_reboot"))
            return TRUE;
        break;
    case VD_LIFECYCLE_RENAME_RESTART:
    case VD_LIFECYCLE_COREDUMP_DESTROY:
    case VD_LIFECYCLE_COREDUMP_RESTART:
    case VD_LIFECYCLE_LAST:
        break;
    }
    return vd_domain_refuse(error, "<%s>%s</%s> is not supported yet: use destroy or restart", name,
                            vd_lifecycle_action_to_string(a), name);
}

static gboolean
startable_chr(const VdChrDef *c, const char *kind, GError **error)
{
    switch (c->type) {
    case VD_CHR_PTY:
    case VD_CHR_FILE:
    case VD_CHR_UNIX:
    case VD_CHR_NULL:
        break;
    case VD_CHR_SPICEVMC:
        /* The SPICE agent's channel: vd_domain_media_check_startable. */
        if (g_str_equal(kind, "channel"))
            break;
        /* fall through */
    case VD_CHR_STDIO:
    case VD_CHR_TCP:
    case VD_CHR_UDP:
    case VD_CHR_LAST:
        return vd_domain_refuse(error, "<%s type='%s'> is not supported yet: use pty, file or unix",
                                kind, vd_chr_type_to_string(c->type));
    }
    if (g_str_equal(kind, "console") && c->target_type && !g_str_equal(c->target_type, "serial") &&
        !g_str_equal(c->target_type, "virtio"))
        return vd_domain_refuse(error,
                                "<console><target type='%s'> is not supported: use serial or "
                                "virtio",
                                c->target_type);
    if (g_str_equal(kind, "channel") && g_strcmp0(c->target_type, "virtio") != 0)
        return vd_domain_refuse(error,
                                "<channel><target type='%s'> is not supported yet: use virtio",
                                c->target_type ? c->target_type : "");
    return TRUE;
}

static gboolean
startable_devices(const VdDomainDef *def, GError **error)
{
    gboolean q35 = def->os.machine && strstr(def->os.machine, "q35");

    for (guint i = 0; i < def->disks->len; i++) {
        const VdDiskDef *d = g_ptr_array_index(def->disks, i);
        /* type='volume' is resolved to its file by the daemon, through the pool. */
        if (d->type == VD_DISK_TYPE_NETWORK || d->type == VD_DISK_TYPE_DIR)
            return vd_domain_refuse(error,
                                    "disk type '%s' (disk '%s') is not supported yet: use "
                                    "<disk type='file'> or <disk type='block'>",
                                    vd_disk_type_to_string(d->type), d->target_dev);
        if (d->device == VD_DISK_DEVICE_LUN)
            return vd_domain_refuse(error,
                                    "<disk device='lun'> (disk '%s') is not supported yet: use "
                                    "device='disk'",
                                    d->target_dev);
        if (d->bus == VD_DISK_BUS_USB)
            return vd_domain_refuse(error,
                                    "disk bus 'usb' (disk '%s') is not supported yet: use virtio, "
                                    "sata, scsi or ide",
                                    d->target_dev);
        if (d->bus == VD_DISK_BUS_IDE && q35)
            return vd_domain_refuse(error,
                                    "disk '%s' is on bus 'ide' but machine '%s' has no IDE "
                                    "controller: use bus='sata'",
                                    d->target_dev, def->os.machine);
    }
    for (guint i = 0; i < def->interfaces->len; i++) {
        const VdNetDef *n = g_ptr_array_index(def->interfaces, i);
        if (n->type == VD_NET_ETHERNET)
            return vd_domain_refuse(error,
                                    "interface type 'ethernet' is not supported yet: use "
                                    "<interface type='network'>, 'bridge', 'direct' or 'user'");
        if (n->portgroup)
            return vd_domain_refuse(
                error,
                "<interface><source portgroup='%s'> is not supported yet: remove "
                "the portgroup attribute",
                n->portgroup);
        if (!vd_domain_check_interfaces_input(def->interfaces, error))
            return FALSE;
    }
    if (!vd_domain_media_check_startable(def, error))
        return FALSE;
    for (guint i = 0; i < def->serials->len; i++) {
        if (!startable_chr(g_ptr_array_index(def->serials, i), "serial", error))
            return FALSE;
    }
    for (guint i = 0; i < def->consoles->len; i++) {
        if (!startable_chr(g_ptr_array_index(def->consoles, i), "console", error))
            return FALSE;
    }
    for (guint i = 0; i < def->channels->len; i++) {
        if (!startable_chr(g_ptr_array_index(def->channels, i), "channel", error))
            return FALSE;
    }
    return TRUE;
}

gboolean
vd_domain_def_check_startable(const VdDomainDef *def, GError **error)
{
    for (guint i = 0; def->unsupported && i < def->unsupported->len; i++) {
        const VdUnsupported *u = g_ptr_array_index(def->unsupported, i);
        if (u->guest_visible) {
            g_autofree char *what = describe_path(u->path);
            return vd_domain_refuse(error,
                                    "%s is not supported yet; remove it with 'vsh edit %s' to "
                                    "start this domain",
                                    what, def->name ? def->name : "");
        }
    }
    if (def->os.arch && !g_str_equal(def->os.arch, "x86_64"))
        return vd_domain_refuse(error,
                                "architecture '%s' in <os><type arch=> is not supported: virtd "
                                "runs x86_64 guests",
                                def->os.arch);
    if (!vd_cpu_ext_check_startable(def, error))
        return FALSE;
    if (!startable_lifecycle("on_poweroff", def->on_poweroff, error) ||
        !startable_lifecycle("on_reboot", def->on_reboot, error) ||
        !startable_lifecycle("on_crash", def->on_crash, error))
        return FALSE;
    if (!vd_domain_tpm_check_startable(def, error))
        return FALSE;
    return startable_devices(def, error);
}

GPtrArray *
vd_domain_def_warnings(const VdDomainDef *def)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    char uuid[37];
    int id;

    /* Allowed (libvirt allows them), but lookups read an argument as an
     * id first, then as a UUID, then as a name (virsh's order). */
    if (def->name && vd_key_as_id(def->name, &id))
        g_ptr_array_add(
            out, g_strdup_printf("domain name '%s' is a number: commands read a number as a "
                                 "domain id first, so while a domain with id %d runs, '%s' "
                                 "means that domain; reach this one by its UUID %s, or choose "
                                 "a name that is not a number",
                                 def->name, id, def->name, def->uuid));
    else if (def->name && vd_key_as_uuid(def->name, uuid))
        g_ptr_array_add(
            out, g_strdup_printf("domain name '%s' is a UUID: commands read it as a UUID first, "
                                 "so it means the domain whose UUID it is, if there is one; "
                                 "reach this one by its own UUID %s, or choose a name that is "
                                 "not a UUID",
                                 def->name, def->uuid));

    if (def->platform)
        vd_platform_def_warnings(def, out);
    for (guint i = 0; def->unsupported && i < def->unsupported->len; i++) {
        const VdUnsupported *u = g_ptr_array_index(def->unsupported, i);
        g_autofree char *what = describe_path(u->path);

        if (u->guest_visible)
            g_ptr_array_add(out, g_strdup_printf("%s is kept but not supported yet: the domain "
                                                 "cannot start until it is removed",
                                                 what));
        else
            g_ptr_array_add(out, g_strdup_printf("%s is kept but ignored: it does not change "
                                                 "what the guest sees",
                                                 what));
    }
    return out;
}
