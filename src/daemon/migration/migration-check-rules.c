/* The rules of the migration checks (migration-check-rules.h): pure, each
 * refusal names the thing and the fix. */
#include "migration-check-rules.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "conf/domain-enums.h"
#include "util/vd-error.h"
#include "util/vd-names.h"
#include "util/vd-units.h"

/* ---- Source ---- */

gboolean
vd_mig_rule_flags(const VdMigrateParams *p, GError **error)
{
    /* virsh refuses these before it connects; the API refuses them too, for
     * clients other than vsh. */
    if (p->offline && p->live)
        return vd_set_error(error, VD_ERROR_INVALID_ARG,
                            "Options --live and --offline are mutually exclusive");
    if (p->offline && p->timeout_s)
        return vd_set_error(error, VD_ERROR_INVALID_ARG,
                            "migrate: Unexpected timeout for offline migration");
    if (p->timeout_action != VD_MIGRATE_TIMEOUT_NONE && !p->timeout_s)
        return vd_set_error(error, VD_ERROR_INVALID_ARG,
                            "migrate: Unexpected --timeout-* option without --timeout");
    if (p->timeout_action == VD_MIGRATE_TIMEOUT_POSTCOPY && !p->postcopy)
        return vd_set_error(error, VD_ERROR_INVALID_ARG,
                            "Option --postcopy is required by option --timeout-postcopy");
    if (p->postcopy_after_precopy && !p->postcopy)
        return vd_set_error(error, VD_ERROR_INVALID_ARG,
                            "Option --postcopy is required by option --postcopy-after-precopy");
    if (p->persistent_xml && !p->persistent)
        return vd_set_error(error, VD_ERROR_INVALID_ARG,
                            "Option --persistent is required by option --persistent-xml");
    /* libvirt's own refusals (qemuMigrationSrcBeginPhase). */
    if (p->postcopy && (p->offline || p->suspend))
        return vd_set_error(error, VD_ERROR_INVALID_ARG,
                            "argument unsupported: post-copy migration is not supported with "
                            "non-live or paused migration: drop --postcopy, or --%s",
                            p->offline ? "offline" : "suspend");
    if (p->offline && !p->persistent)
        return vd_set_error(error, VD_ERROR_INVALID_STATE,
                            "Requested operation is not valid: offline migration must be "
                            "specified with the persistent flag set: add --persistent");
    /* libvirt cannot copy storage offline at all; virtd streams whole disks
     * (--copy-storage-all), but an incremental copy needs the destination to
     * have the backing chain, which an offline copy does not check. */
    if (p->offline && p->copy_storage == VD_MIGRATE_COPY_INC)
        return vd_set_error(error, VD_ERROR_INVALID_STATE,
                            "Requested operation is not valid: offline migration cannot copy "
                            "storage incrementally: use --copy-storage-all (the whole disks are "
                            "streamed), or copy the top images yourself");
    if (p->dname) {
        g_autoptr(GError) bad = NULL;
        if (!vd_name_validate(p->dname, "domain name (--dname)", &bad) ||
            !vd_name_check_spacing(p->dname, "domain name (--dname)", &bad)) {
            g_propagate_error(error, g_steal_pointer(&bad));
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
vd_mig_rule_state(const char *name, VdState state, gboolean persistent, const VdMigrateParams *p,
                  GError **error)
{
    gboolean active = state != VD_STATE_SHUTOFF;

    if (!active && !p->offline)
        return vd_set_error(error, VD_ERROR_INVALID_STATE,
                            "Requested operation is not valid: domain '%s' is not running: "
                            "start it, or move its definition with --offline --persistent",
                            name);
    if (p->offline && !persistent)
        return vd_set_error(error, VD_ERROR_INVALID_STATE,
                            "Requested operation is not valid: domain '%s' is transient: it has "
                            "no definition to migrate offline; migrate it live",
                            name);
    if (active && p->offline && p->copy_storage != VD_MIGRATE_COPY_NONE)
        return vd_set_error(error, VD_ERROR_INVALID_STATE,
                            "Requested operation is not valid: domain '%s' is running: an "
                            "offline migration copies its disks only when it is shut off (the "
                            "guest writes to them); shut it down first, or migrate it live "
                            "with --copy-storage-all",
                            name);
    return TRUE;
}

static gboolean abi_mismatch(GError **error, const char *what, const char *target,
                             const char *source) G_GNUC_WARN_UNUSED_RESULT;

static gboolean
abi_mismatch(GError **error, const char *what, const char *target, const char *source)
{
    return vd_set_error(error, VD_ERROR_UNSUPPORTED,
                        "unsupported configuration: Target %s %s does not match source %s: "
                        "--xml may change host-side details only (disk sources and cache, "
                        "networks and bridges, graphics), not what the guest sees",
                        what, target ? target : "(none)", source ? source : "(none)");
}

static gboolean
abi_count(GError **error, const char *what, guint target, guint source)
{
    if (target == source)
        return TRUE;
    g_autofree char *t = g_strdup_printf("%u", target);
    g_autofree char *s = g_strdup_printf("%u", source);
    return abi_mismatch(error, what, t, s);
}

static gboolean
abi_str(GError **error, const char *what, const char *target, const char *source)
{
    if (g_strcmp0(target, source) == 0)
        return TRUE;
    return abi_mismatch(error, what, target, source);
}

gboolean
vd_mig_rule_xml_abi(const VdDomainDef *cur, const VdDomainDef *xml, const char *dname,
                    GError **error)
{
    const char *want = dname ? dname : cur->name;

    if (!g_str_equal(xml->uuid, cur->uuid))
        return vd_set_error(
            error, VD_ERROR_INVALID_ARG,
            "unsupported configuration: Target domain uuid %s does not match "
            "source %s: --xml must describe the same domain (write <uuid>%s</uuid>)",
            xml->uuid, cur->uuid, cur->uuid);
    if (!g_str_equal(xml->name, want))
        return vd_set_error(error, VD_ERROR_INVALID_ARG,
                            "invalid argument: --xml names the domain '%s' but the migration "
                            "names it '%s': pass --dname %s, or write <name>%s</name>",
                            xml->name, want, xml->name, want);
    if (!abi_str(error, "domain virt type", vd_virt_type_to_string(xml->virt_type),
                 vd_virt_type_to_string(cur->virt_type)) ||
        !abi_str(error, "domain architecture", xml->os.arch, cur->os.arch) ||
        !abi_str(error, "domain machine type", xml->os.machine, cur->os.machine) ||
        !abi_count(error, "domain vCPUs max", xml->vcpus, cur->vcpus))
        return FALSE;
    if (xml->memory_kib != cur->memory_kib) {
        g_autofree char *t = g_strdup_printf("%" G_GUINT64_FORMAT " KiB", xml->memory_kib);
        g_autofree char *s = g_strdup_printf("%" G_GUINT64_FORMAT " KiB", cur->memory_kib);
        return abi_mismatch(error, "domain max memory", t, s);
    }
    if (!abi_str(error, "CPU mode", vd_cpu_mode_to_string(xml->cpu.mode),
                 vd_cpu_mode_to_string(cur->cpu.mode)) ||
        !abi_str(error, "CPU model", xml->cpu.model, cur->cpu.model))
        return FALSE;

    if (!abi_count(error, "domain disk count", xml->disks->len, cur->disks->len))
        return FALSE;
    for (guint i = 0; i < cur->disks->len; i++) {
        const VdDiskDef *s = g_ptr_array_index(cur->disks, i);
        const VdDiskDef *t = g_ptr_array_index(xml->disks, i);
        if (!abi_str(error, "disk device", t->target_dev, s->target_dev) ||
            !abi_str(error, "disk bus", vd_disk_bus_to_string(t->bus),
                     vd_disk_bus_to_string(s->bus)) ||
            !abi_str(error, "disk device type", vd_disk_device_to_string(t->device),
                     vd_disk_device_to_string(s->device)))
            return FALSE;
    }
    if (!abi_count(error, "domain net card count", xml->interfaces->len, cur->interfaces->len))
        return FALSE;
    for (guint i = 0; i < cur->interfaces->len; i++) {
        const VdNetDef *s = g_ptr_array_index(cur->interfaces, i);
        const VdNetDef *t = g_ptr_array_index(xml->interfaces, i);
        if (g_ascii_strcasecmp(t->mac ? t->mac : "", s->mac ? s->mac : "") != 0)
            return abi_mismatch(error, "network card mac", t->mac, s->mac);
        if (!abi_str(error, "network card model", t->model, s->model))
            return FALSE;
    }
    if (!abi_count(error, "domain video card count", xml->videos->len, cur->videos->len))
        return FALSE;
    for (guint i = 0; i < cur->videos->len; i++) {
        const VdVideoDef *s = g_ptr_array_index(cur->videos, i);
        const VdVideoDef *t = g_ptr_array_index(xml->videos, i);
        if (!abi_str(error, "video card model", vd_video_model_to_string(t->model),
                     vd_video_model_to_string(s->model)))
            return FALSE;
    }
    if (!abi_count(error, "domain serial port count", xml->serials->len, cur->serials->len) ||
        !abi_count(error, "domain console count", xml->consoles->len, cur->consoles->len) ||
        !abi_count(error, "domain channel count", xml->channels->len, cur->channels->len) ||
        !abi_count(error, "domain input device count", xml->inputs->len, cur->inputs->len) ||
        !abi_count(error, "domain RNG device count", xml->rngs->len, cur->rngs->len) ||
        !abi_count(error, "domain panic device count", xml->panics->len, cur->panics->len))
        return FALSE;
    for (guint i = 0; i < cur->inputs->len; i++) {
        const VdInputDef *s = g_ptr_array_index(cur->inputs, i);
        const VdInputDef *t = g_ptr_array_index(xml->inputs, i);
        if (!abi_str(error, "input device type", vd_input_type_to_string(t->type),
                     vd_input_type_to_string(s->type)) ||
            !abi_str(error, "input device bus", vd_input_bus_to_string(t->bus),
                     vd_input_bus_to_string(s->bus)))
            return FALSE;
    }
    const char *sb = cur->memballoon ? cur->memballoon->model : NULL;
    const char *tb = xml->memballoon ? xml->memballoon->model : NULL;
    return abi_str(error, "memory balloon model", tb, sb);
}

VdMigrationDisk *
vd_mig_disk_from_def(const VdDiskDef *disk, const char *path, VdMigrateCopy copy)
{
    VdMigrationDisk *m = g_new0(VdMigrationDisk, 1);

    m->target = g_strdup(disk->target_dev);
    m->path = g_strdup(path ? path : disk->source_file);
    m->format = disk->format == VD_DISK_FORMAT_NONE
                    ? NULL
                    : g_strdup(vd_disk_format_to_string(disk->format));
    m->readonly = disk->readonly || disk->shareable || disk->device == VD_DISK_DEVICE_CDROM ||
                  disk->device == VD_DISK_DEVICE_FLOPPY;
    /* Only files are copied: the destination creates a file for each; a
     * host block device (or a network disk) stays where it is and must be
     * there on the destination. */
    m->copy = copy != VD_MIGRATE_COPY_NONE && !m->readonly && m->path &&
              (disk->type == VD_DISK_TYPE_FILE || disk->type == VD_DISK_TYPE_VOLUME);
    m->cache = g_strdup(disk->cache);
    if (copy == VD_MIGRATE_COPY_INC && m->copy) {
        g_autoptr(GPtrArray) chain = vd_disk_def_backing_paths(disk);
        if (chain && chain->len)
            m->backing = g_strdup(g_ptr_array_index(chain, 0));
    }
    return m;
}

gboolean
vd_mig_rule_disk_cache(const char *dom_name, const VdMigrationDisk *disk, gboolean unsafe,
                       GError **error)
{
    if (unsafe || disk->copy || disk->readonly || !disk->path)
        return TRUE;
    if (disk->cache && (g_str_equal(disk->cache, "none") || g_str_equal(disk->cache, "directsync")))
        return TRUE;
    return vd_set_error(error, VD_ERROR_UNSUPPORTED,
                        "Unsafe migration: Migration may lead to data corruption if disks use "
                        "cache other than none or directsync (domain '%s', disk %s: cache '%s' "
                        "on %s): set <driver cache='none'/> on it, copy it with "
                        "--copy-storage-all, or pass --unsafe if the storage is coherent "
                        "between the hosts",
                        dom_name, disk->target, disk->cache ? disk->cache : "default (writeback)",
                        disk->path);
}

/* ---- Peer ---- */

gboolean
vd_mig_rule_peer(const char *mine, const char *theirs, const char *dest_uri, GError **error)
{
    if (!mine || !theirs || g_ascii_strcasecmp(mine, theirs) != 0)
        return TRUE;
    g_autofree char *who =
        dest_uri ? g_strdup_printf("'%s' is", dest_uri) : g_strdup("the destination is");
    return vd_set_error(error, VD_ERROR_INVALID_ARG,
                        "internal error: Attempt to migrate guest to the same host %s: %s this "
                        "very daemon (a migration to the same daemon): give the URI of the "
                        "other host's daemon; if it is another host, its state directory was "
                        "copied from this one (instance-uuid): remove that file there and "
                        "restart its daemon",
                        mine, who);
}

/* ---- Destination ---- */

gboolean
vd_mig_rule_name_uuid(const char *name, const char *uuid, const char *by_name_uuid,
                      const char *by_uuid_name, gboolean same_active, GError **error)
{
    if (by_name_uuid && g_ascii_strcasecmp(by_name_uuid, uuid) != 0)
        return vd_set_error(error, VD_ERROR_EXISTS,
                            "operation failed: domain '%s' already exists with uuid %s on the "
                            "destination: migrate under another name (--dname), or undefine "
                            "that domain there first",
                            name, by_name_uuid);
    if (by_uuid_name && !g_str_equal(by_uuid_name, name))
        return vd_set_error(error, VD_ERROR_EXISTS,
                            "operation failed: domain '%s' is already defined with uuid %s on the "
                            "destination (the migration names it '%s'): a domain keeps its UUID "
                            "when it migrates; undefine '%s' there first",
                            by_uuid_name, uuid, name, by_uuid_name);
    if ((by_name_uuid || by_uuid_name) && same_active)
        return vd_set_error(error, VD_ERROR_EXISTS,
                            "Requested operation is not valid: domain '%s' is already active on "
                            "the destination (uuid %s): it runs there already",
                            name, uuid);
    return TRUE;
}

/* The version a versioned machine type names ("pc-q35-9.0" -> "9.0"). */
static const char *
machine_version(const char *machine)
{
    const char *dash = strrchr(machine, '-');
    return dash && g_ascii_isdigit(dash[1]) && strchr(dash, '.') ? dash + 1 : NULL;
}

gboolean
vd_mig_rule_machine(const VdDomainDef *def, const VdQemuCaps *caps, GError **error)
{
    const char *machine = def->os.machine;

    if (!machine || vd_qemu_caps_has_machine(caps, machine))
        return TRUE;
    const char *version = machine_version(machine);
    g_autofree char *fix = version
                               ? g_strdup_printf("a destination whose QEMU is %s or newer", version)
                               : g_strdup("a destination whose QEMU has it");
    return vd_set_error(error, VD_ERROR_UNSUPPORTED,
                        "unsupported configuration: machine type '%s' of domain '%s' is not "
                        "supported by QEMU %u.%u on the destination: the guest cannot change "
                        "machine type while it runs; migrate to %s",
                        machine, def->name, caps->version_major, caps->version_minor, fix);
}

/* The driver of one "-device" argument: JSON ({"driver":...}) or the
 * key=value form ("driver,prop=..."). */
static char *
device_driver(const char *arg)
{
    if (arg[0] != '{')
        return g_strndup(arg, strcspn(arg, ","));
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, arg, -1, NULL))
        return NULL;
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return NULL;
    const char *driver =
        json_object_get_string_member_with_default(json_node_get_object(root), "driver", NULL);
    return g_strdup(driver);
}

gboolean
vd_mig_rule_devices(const char *dom_name, const GPtrArray *argv, const VdQemuCaps *caps,
                    GError **error)
{
    g_autoptr(GString) missing = g_string_new(NULL);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    /* A cache of an older format has no device list: trust it, as start. */
    if (!caps->devices || g_hash_table_size(caps->devices) == 0)
        return TRUE;
    for (guint i = 0; i + 1 < argv->len; i++) {
        const char *opt = g_ptr_array_index(argv, i);
        if (!opt || !g_str_equal(opt, "-device"))
            continue;
        char *driver = device_driver(g_ptr_array_index(argv, i + 1));
        if (!driver)
            continue;
        if (vd_qemu_caps_has_device(caps, driver) || g_hash_table_contains(seen, driver)) {
            g_free(driver);
            continue;
        }
        g_string_append_printf(missing, "%s'%s'", missing->len ? ", " : "", driver);
        g_hash_table_add(seen, driver);
    }
    if (!missing->len)
        return TRUE;
    return vd_set_error(error, VD_ERROR_UNSUPPORTED,
                        "unsupported configuration: domain '%s' uses QEMU device%s %s, which "
                        "QEMU %u.%u on the destination does not have: migrate to a host whose "
                        "QEMU has %s",
                        dom_name, g_hash_table_size(seen) > 1 ? "s" : "", missing->str,
                        caps->version_major, caps->version_minor,
                        g_hash_table_size(seen) > 1 ? "them" : "it");
}

gboolean
vd_mig_rule_cpu_model(const VdDomainDef *def, const VdQemuCaps *caps, GError **error)
{
    g_autoptr(GError) why = NULL;

    if (!def->cpu.present || def->cpu.mode != VD_CPU_MODE_CUSTOM || !def->cpu.model)
        return TRUE;
    if (vd_qemu_caps_check_cpu_model(caps, def->cpu.model, def->virt_type == VD_VIRT_KVM, &why))
        return TRUE;
    return vd_set_error(error, VD_ERROR_UNSUPPORTED,
                        "unsupported configuration: CPU model '%s' of domain '%s' is unknown to "
                        "QEMU %u.%u on the destination (%s): migrate to a host whose QEMU has it",
                        def->cpu.model, def->name, caps->version_major, caps->version_minor,
                        why->message);
}

char *
vd_host_cpu_describe(const VdHostCpu *cpu)
{
    return g_strdup_printf("%s %s (family %u model %u stepping %u)",
                           cpu->vendor ? cpu->vendor : "?", cpu->model_name ? cpu->model_name : "?",
                           cpu->family, cpu->model, cpu->stepping);
}

gboolean
vd_mig_rule_host_cpu(const VdDomainDef *def, const VdHostCpu *src, const VdHostCpu *here,
                     gboolean unsafe, GError **error)
{
    if (!def->cpu.present ||
        (def->cpu.mode != VD_CPU_MODE_HOST_PASSTHROUGH && def->cpu.mode != VD_CPU_MODE_HOST_MODEL))
        return TRUE;
    if (unsafe || !src || !here)
        return TRUE;

    g_autoptr(GHashTable) have = g_hash_table_new(g_str_hash, g_str_equal);
    for (char **f = here->flags; f && *f; f++)
        g_hash_table_add(have, *f);
    g_autoptr(GString) lacks = g_string_new(NULL);
    guint n_lacks = 0;
    for (char **f = src->flags; f && *f; f++) {
        if (g_hash_table_contains(have, *f))
            continue;
        if (n_lacks++ < 10)
            g_string_append_printf(lacks, "%s%s", lacks->len ? " " : "", *f);
    }
    if (n_lacks > 10)
        g_string_append_printf(lacks, " and %u more", n_lacks - 10);
    gboolean same = g_strcmp0(src->vendor, here->vendor) == 0 && src->family == here->family &&
                    src->model == here->model && src->stepping == here->stepping;
    if (same && !n_lacks)
        return TRUE;

    g_autofree char *s = vd_host_cpu_describe(src);
    g_autofree char *h = vd_host_cpu_describe(here);
    g_autofree char *lack_text =
        n_lacks ? g_strdup_printf("; this host lacks CPU flags %s", lacks->str) : g_strdup("");
    return vd_set_error(error, VD_ERROR_UNSUPPORTED,
                        "unsupported configuration: domain '%s' has <cpu mode='%s'>: the guest "
                        "sees the source host's CPU, %s, and this host's differs: %s%s. A "
                        "running guest may crash on another CPU: give it a CPU model both hosts "
                        "have (<cpu mode='custom'><model>...), or pass --unsafe if you know it "
                        "does not use what differs",
                        def->name, vd_cpu_mode_to_string(def->cpu.mode), s, h, lack_text);
}

gboolean
vd_mig_rule_network(const char *dom_name, guint index, const char *network, gboolean defined,
                    gboolean active, GError **error)
{
    if (!defined)
        return vd_set_error(error, VD_ERROR_NO_NETWORK,
                            "Network not found: no network with matching name '%s' on the "
                            "destination (domain '%s', interface %u): define and start it there "
                            "(net-define, net-start), or migrate with --xml naming a network the "
                            "destination has",
                            network, dom_name, index);
    if (!active)
        return vd_set_error(error, VD_ERROR_INVALID_STATE,
                            "Requested operation is not valid: network '%s' is not active on the "
                            "destination (domain '%s', interface %u): start it there with "
                            "net-start %s",
                            network, dom_name, index, network);
    return TRUE;
}

gboolean
vd_mig_rule_bridge(const char *dom_name, guint index, const char *bridge, gboolean exists,
                   gboolean is_bridge, GError **error)
{
    if (!exists)
        return vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                            "operation failed: bridge '%s' does not exist on the destination "
                            "(domain '%s', interface %u): create it there (ip link add %s type "
                            "bridge), or migrate with --xml naming a bridge the destination has",
                            bridge, dom_name, index, bridge);
    if (!is_bridge)
        return vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                            "operation failed: '%s' is not a bridge on the destination (domain "
                            "'%s', interface %u): make it one, or migrate with --xml naming a "
                            "bridge the destination has",
                            bridge, dom_name, index);
    return TRUE;
}

gboolean
vd_mig_rule_disk_dest(const char *dom_name, const VdMigrationDisk *disk, const char *path,
                      VdMigrateCopy copy, const VdMigDestFile *here, GError **error)
{
    if (!path)
        return TRUE; /* an empty CD-ROM: nothing to find */
    if (!disk->copy) {
        if (here->exists)
            return TRUE;
        return vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                            "operation failed: disk %s of domain '%s': '%s' does not exist on the "
                            "destination: use --copy-storage-all, or shared storage (the same "
                            "path on both hosts)%s",
                            disk->target, dom_name, path,
                            disk->readonly ? "; a read-only disk is never copied: put the file "
                                             "there first"
                                           : "");
    }
    if (here->exists && disk->dev == here->dev && disk->ino == here->ino)
        return vd_set_error(error, VD_ERROR_INVALID_ARG,
                            "invalid argument: disk %s of domain '%s': '%s' on the destination "
                            "is the very file the source uses: shared storage: no copy needed; "
                            "migrate without --copy-storage-%s",
                            disk->target, dom_name, path,
                            copy == VD_MIGRATE_COPY_INC ? "inc" : "all");
    if (here->exists)
        return vd_set_error(error, VD_ERROR_EXISTS,
                            "operation failed: disk %s of domain '%s': '%s' already exists on the "
                            "destination and a copy never writes over a file: remove it there, "
                            "or give the disk another path with --xml",
                            disk->target, dom_name, path);
    if (!here->exists && !here->dir_exists) {
        g_autofree char *dir = g_path_get_dirname(path);
        return vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                            "operation failed: disk %s of domain '%s': directory '%s' does not "
                            "exist on the destination: create it there, or migrate with --xml "
                            "giving the disk another path",
                            disk->target, dom_name, dir);
    }
    if (copy == VD_MIGRATE_COPY_INC && disk->backing && !here->backing_exists)
        return vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                            "operation failed: disk %s of domain '%s': backing file '%s' does "
                            "not exist on the destination: --copy-storage-inc copies only the "
                            "top image; put the backing file there first, or use "
                            "--copy-storage-all",
                            disk->target, dom_name, disk->backing);
    return TRUE;
}

gboolean
vd_mig_rule_space(const char *dir, const char *targets, guint64 needed, guint64 available,
                  GError **error)
{
    if (needed <= available)
        return TRUE;
    g_autofree char *need = vd_size_format_pretty(needed);
    g_autofree char *have = vd_size_format_pretty(available);
    return vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                        "operation failed: not enough free space in '%s' on the destination for "
                        "the copied disks (%s): %s needed, %s free: free some space there, or "
                        "migrate with --xml putting the disks elsewhere",
                        dir, targets, need, have);
}

/* ---- The host CPU ---- */

static int
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

VdHostCpu *
vd_host_cpu_parse(const char *text, GError **error)
{
    VdHostCpu *cpu = g_new0(VdHostCpu, 1);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    const char *flags = NULL;
    gboolean any = FALSE;
    g_autofree char *flags_copy = NULL;

    for (char **l = lines; *l; l++) {
        if (g_strstrip(*l)[0] == '\0') {
            if (any)
                break; /* the first processor only */
            continue;
        }
        char *colon = strchr(*l, ':');
        if (!colon)
            continue;
        *colon = '\0';
        g_autofree char *key = g_strstrip(g_strdup(*l));
        const char *value = g_strstrip(colon + 1);
        guint64 n = g_ascii_strtoull(value, NULL, 0);
        if (g_str_equal(key, "vendor_id") || g_str_equal(key, "CPU implementer")) {
            g_free(cpu->vendor);
            cpu->vendor = g_strdup(value);
            any = TRUE;
        } else if (g_str_equal(key, "model name")) {
            g_free(cpu->model_name);
            cpu->model_name = g_strdup(value);
            any = TRUE;
        } else if (g_str_equal(key, "cpu family") || g_str_equal(key, "CPU architecture")) {
            cpu->family = (guint)n;
        } else if (g_str_equal(key, "model") || g_str_equal(key, "CPU part")) {
            cpu->model = (guint)n;
        } else if (g_str_equal(key, "stepping") || g_str_equal(key, "CPU revision")) {
            cpu->stepping = (guint)n;
        } else if (g_str_equal(key, "flags") || g_str_equal(key, "Features")) {
            g_free(flags_copy);
            flags = flags_copy = g_strdup(value);
            any = TRUE;
        }
    }
    if (!cpu->vendor && !flags) {
        vd_host_cpu_free(cpu);
        vd_set_error(error, VD_ERROR_INTERNAL,
                     "cannot read this host's CPU: no vendor_id or flags in the CPU information");
        return NULL;
    }
    g_autoptr(GPtrArray) list = g_ptr_array_new();
    g_auto(GStrv) words = flags ? g_strsplit_set(flags, " \t", -1) : g_new0(char *, 1);
    for (char **w = words; *w; w++) {
        if (**w)
            g_ptr_array_add(list, g_strdup(*w));
    }
    g_ptr_array_sort(list, cmp_str);
    g_ptr_array_add(list, NULL);
    cpu->flags = (char **)g_ptr_array_free(g_steal_pointer(&list), FALSE);
    return cpu;
}

VdHostCpu *
vd_host_cpu_read(GError **error)
{
    /* The tests of the CPU check give a daemon another host's CPU. */
    const char *path = g_getenv("VIRTD_TEST_CPUINFO");
    g_autofree char *text = NULL;
    g_autoptr(GError) why = NULL;

    if (!path || !*path)
        path = "/proc/cpuinfo";
    if (!g_file_get_contents(path, &text, NULL, &why)) {
        vd_set_error(error, VD_ERROR_INTERNAL, "cannot read this host's CPU from %s: %s", path,
                     why->message);
        return NULL;
    }
    return vd_host_cpu_parse(text, error);
}
