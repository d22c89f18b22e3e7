/* The QEMU command line of a domain: the machine-wide options.
 *
 * Why typed JSON and validation here: the command line is built from what
 * a client wrote, and a comma in a name or a path must not become a new
 * option. -device, -blockdev, -netdev and -object are JSON built with
 * json-glib; the options QEMU 7.2 only parses as key=value get their
 * user-supplied values escaped (',' doubled), or are built only from
 * values checked against a fixed character set or against QEMU's own
 * capabilities. Plain options (-kernel, -initrd, -append, -bios, -pidfile)
 * take their argument verbatim.
 *
 * Why deterministic: the same definition always yields the same argv, so
 * tests compare it with reviewed golden files. Device classes live in
 * qemu-command-{disk,chardev,device}.c.
 */
#include "qemu/qemu-command.h"

#include <string.h>
#include <sys/un.h>

#include "conf/domain-cpu-ext.h"
#include "conf/domain-firmware.h"
#include "qemu/qemu-command-priv.h"
#include "util/vd-error.h"
#include "util/vd-names.h"

/* ---- helpers shared by the builder's files ------------------------------- */

void
vd_qemu_cmd_arg(VdQemuCmd *cmd, const char *arg)
{
    g_ptr_array_add(cmd->argv, g_strdup(arg));
}

void
vd_qemu_cmd_opt(VdQemuCmd *cmd, const char *opt, const char *value)
{
    vd_qemu_cmd_arg(cmd, opt);
    vd_qemu_cmd_arg(cmd, value);
}

void
vd_qemu_cmd_opt_json(VdQemuCmd *cmd, const char *opt, JsonObject *obj)
{
    if (cmd->collect) {
        JsonObject *item = json_object_new();
        json_object_set_string_member(item, "opt", opt);
        json_object_set_object_member(item, "value", obj);
        json_array_add_object_element(cmd->collect, item);
        return;
    }
    if (g_str_equal(opt, "-device"))
        vd_qemu_cmd_place_pcie(cmd, obj);
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), obj);
    json_object_unref(obj);
    vd_qemu_cmd_arg(cmd, opt);
    g_ptr_array_add(cmd->argv, json_to_string(node, FALSE));
}

void
vd_qemu_cmd_pin_pci(VdQemuCmd *cmd, JsonObject *dev, guint bus, guint slot)
{
    if (!cmd->paths || !cmd->paths->pci_addresses)
        return;
    g_autofree char *name = bus        ? g_strdup_printf("pci.%u", bus)
                            : cmd->q35 ? g_strdup("pcie.0")
                                       : g_strdup("pci.0");
    g_autofree char *addr = g_strdup_printf("0x%x", slot);
    json_object_set_string_member(dev, "bus", name);
    json_object_set_string_member(dev, "addr", addr);
}

char *
vd_qemu_escape_opt(const char *value)
{
    GString *s = g_string_sized_new(strlen(value) + 8);
    for (const char *p = value; *p; p++) {
        if (*p == ',')
            g_string_append_c(s, ',');
        g_string_append_c(s, *p);
    }
    return g_string_free(s, FALSE);
}

gboolean
vd_qemu_cmd_need_device(VdQemuCmd *cmd, const char *driver, const char *what, GError **error)
{
    if (vd_qemu_caps_has_device(cmd->caps, driver))
        return TRUE;
    g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                "%s needs QEMU device '%s', which QEMU %u.%u (%s) does not have", what, driver,
                cmd->caps->version_major, cmd->caps->version_minor,
                cmd->caps->binary ? cmd->caps->binary : "?");
    return FALSE;
}

gboolean
vd_qemu_check_utf8(const char *value, const char *what, GError **error)
{
    if (!g_utf8_validate(value, -1, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "%s is not valid UTF-8", what);
        return FALSE;
    }
    return TRUE;
}

gboolean
vd_qemu_check_path(const char *path, const char *what, GError **error)
{
    if (!path || !*path) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "%s: no path given", what);
        return FALSE;
    }
    if (!vd_qemu_check_utf8(path, what, error))
        return FALSE;
    if (!g_path_is_absolute(path)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "%s: '%s' is not an absolute path", what,
                    path);
        return FALSE;
    }
    return TRUE;
}

gboolean
vd_qemu_check_socket_path(const char *path, const char *what, GError **error)
{
    if (!vd_qemu_check_path(path, what, error))
        return FALSE;
    gsize max = sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1;
    if (strlen(path) > max) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "%s: socket path '%s' is too long (%zu bytes, at most %zu)", what, path,
                    strlen(path), max);
        return FALSE;
    }
    return TRUE;
}

guint
vd_qemu_cmd_bootindex(VdQemuCmd *cmd, gconstpointer dev)
{
    return GPOINTER_TO_UINT(g_hash_table_lookup(cmd->bootindex, dev));
}

gboolean
vd_qemu_cmd_need_usb(VdQemuCmd *cmd, const char *what, GError **error)
{
    if (cmd->have_usb)
        return TRUE;
    if (cmd->usb_none) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "%s needs a USB bus, and <controller type='usb' model='none'> says the "
                    "machine has none: remove that controller or give a USB model",
                    what);
        return FALSE;
    }
    /* xHCI where QEMU has it: UHCI makes TCG guests poll the bus. */
    const char *driver =
        vd_qemu_caps_has_device(cmd->caps, "qemu-xhci") ? "qemu-xhci" : "piix3-usb-uhci";
    if (!vd_qemu_cmd_need_device(cmd, driver, what, error))
        return FALSE;
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "driver", driver);
    json_object_set_string_member(o, "id", "usb");
    vd_qemu_cmd_opt_json(cmd, "-device", o);
    cmd->have_usb = TRUE;
    return TRUE;
}

/* ---- names the daemon shares with the builder ---------------------------- */

char *
vd_qemu_pty_socket_path(const VdQemuRunPaths *paths, const char *alias)
{
    if (!paths->console_socket_path)
        return NULL;
    if (g_str_equal(alias, "serial0"))
        return g_strdup(paths->console_socket_path);
    /* '-', not '.': names may contain dots, and "NAME.console.channel2"
     * would be channel 2 of a domain named "NAME.console" too. */
    return g_strdup_printf("%s-%s", paths->console_socket_path, alias);
}

char *
vd_qemu_disk_device_id(const VdDiskDef *disk)
{
    return g_strdup_printf("disk-%s", disk->target_dev);
}

char *
vd_qemu_disk_node_name(const VdDiskDef *disk)
{
    return g_strdup_printf("%s-format", disk->target_dev);
}

char *
vd_qemu_disk_layer_node(const char *target, guint layer, gboolean storage)
{
    const char *kind = storage ? "storage" : "format";
    if (layer == 0)
        return g_strdup_printf("%s-%s", target, kind);
    return g_strdup_printf("%s-b%u-%s", target, layer, kind);
}

/* ---- machine-wide options ------------------------------------------------- */

static gboolean
is_versioned_machine(const char *name)
{
    /* pc-i440fx-7.2, pc-q35-7.2, pc-1.0 ... */
    const char *dash = strrchr(name, '-');
    return dash && g_ascii_isdigit(dash[1]) && strchr(dash, '.');
}

static gboolean
build_machine(VdQemuCmd *cmd, GError **error)
{
    const VdDomainDef *def = cmd->def;
    const char *machine = def->os.machine ? def->os.machine : cmd->caps->default_machine;

    if (!machine) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "no machine type given and QEMU %u.%u has no default one",
                    cmd->caps->version_major, cmd->caps->version_minor);
        return FALSE;
    }
    if (!vd_qemu_caps_has_machine(cmd->caps, machine)) {
        /* Versioned types are too many to list; name the families. */
        g_autoptr(GString) list = g_string_new(NULL);
        for (guint i = 0; i < cmd->caps->machines->len; i++) {
            const char *m = g_ptr_array_index(cmd->caps->machines, i);
            if (is_versioned_machine(m) || g_str_equal(m, "none") || g_str_has_prefix(m, "x-"))
                continue;
            g_string_append_printf(list, "%s%s", list->len ? ", " : "", m);
        }
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "machine type '%s' is not supported by QEMU %u.%u (supported: %s, and "
                    "their versioned forms such as pc-q35-%u.%u)",
                    machine, cmd->caps->version_major, cmd->caps->version_minor, list->str,
                    cmd->caps->version_major, cmd->caps->version_minor);
        return FALSE;
    }
    cmd->machine = machine;
    cmd->q35 = g_str_equal(machine, "q35") || g_str_has_prefix(machine, "pc-q35-");
    cmd->pc = !cmd->q35 && (g_str_equal(machine, "pc") || g_str_has_prefix(machine, "pc-"));
    return TRUE;
}

/* The machine option itself; pflash node names come from build_firmware. */
static void
emit_machine(VdQemuCmd *cmd, gboolean pflash0, gboolean pflash1)
{
    const VdDomainDef *def = cmd->def;
    /* The name comes from QEMU's own list, so it has no comma to escape. */
    g_autoptr(GString) m = g_string_new(cmd->machine);
    g_string_append_printf(m, ",accel=%s", cmd->kvm ? "kvm" : "tcg");
    if (cmd->pc || cmd->q35) {
        g_string_append(m, ",usb=off");
        if (def->features.vmport_off)
            g_string_append(m, ",vmport=off");
        /* libvirt semantics: ACPI only when <features><acpi/> says so. */
        if (!def->features.acpi)
            g_string_append(m, ",acpi=off");
    }
    g_string_append(m, ",dump-guest-core=off");
    if (vd_qemu_platform_memfd(def))
        g_string_append(m, ",memory-backend=" VD_QEMU_RAM_ID);
    if (pflash0)
        g_string_append(m, ",pflash0=pflash0-format");
    if (pflash1)
        g_string_append(m, ",pflash1=pflash1-format");
    /* Secure boot's flash is writable from SMM only, so it needs SMM
     * (libvirt refuses it without; QEMU would fail to boot it). */
    gboolean secure = pflash0 && def->fw->loader_secure == 1;
    if ((cmd->pc || cmd->q35) && (secure || def->fw->smm >= 0))
        g_string_append(m, secure || def->fw->smm == 1 ? ",smm=on" : ",smm=off");
    vd_qemu_cmd_opt(cmd, "-machine", m->str);
    if (secure)
        vd_qemu_cmd_opt(cmd, "-global", "driver=cfi.pflash01,property=secure,value=on");
}

static gboolean
build_accel(VdQemuCmd *cmd, GError **error)
{
    const char *accel = cmd->paths->accel;
    if (!accel)
        accel = cmd->def->virt_type == VD_VIRT_KVM ? "kvm" : "tcg";
    if (g_str_equal(accel, "kvm")) {
        cmd->kvm = TRUE;
        if (!cmd->caps->has_kvm_accel) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "QEMU %u.%u (%s) was built without KVM support: use <domain "
                        "type='qemu'>",
                        cmd->caps->version_major, cmd->caps->version_minor, cmd->caps->binary);
            return FALSE;
        }
    } else if (g_str_equal(accel, "tcg")) {
        if (!cmd->caps->has_tcg_accel) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "QEMU %u.%u (%s) was built without TCG: use <domain type='kvm'>",
                        cmd->caps->version_major, cmd->caps->version_minor, cmd->caps->binary);
            return FALSE;
        }
    } else {
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "unknown accelerator '%s'", accel);
        return FALSE;
    }
    return TRUE;
}

static gboolean
valid_cpu_model(const char *model)
{
    if (!*model || strlen(model) > 64)
        return FALSE;
    for (const char *p = model; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '.' && *p != '_' && *p != '-')
            return FALSE;
    }
    return TRUE;
}

/* The -cpu model: NULL for QEMU's default (no -cpu at all). */
static gboolean
cpu_model(VdQemuCmd *cmd, const char **model, GError **error)
{
    const VdDomainDef *def = cmd->def;
    *model = NULL;
    if (!def->cpu.present)
        return TRUE;
    switch (def->cpu.mode) {
    case VD_CPU_MODE_HOST_PASSTHROUGH:
    case VD_CPU_MODE_HOST_MODEL:
        /* TCG has no host CPU to pass through (libvirt refuses
         * host-passthrough there); "max" is everything TCG can emulate,
         * the closest it gets. */
        *model = cmd->kvm ? "host" : "max";
        if (!cmd->kvm)
            vd_qemu_cmd_note(cmd,
                             "<cpu mode='%s'> runs as QEMU's 'max' CPU: TCG has no host CPU; "
                             "'max' has every feature TCG emulates",
                             vd_cpu_mode_to_string(def->cpu.mode));
        return TRUE;
    case VD_CPU_MODE_MAXIMUM:
        *model = "max";
        return TRUE;
    case VD_CPU_MODE_CUSTOM:
        if (!def->cpu.model)
            return TRUE;
        if (!valid_cpu_model(def->cpu.model)) {
            g_autofree char *shown = g_strescape(def->cpu.model, NULL);
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid CPU model '%s': use letters, digits, '.', '_' and '-'", shown);
            return FALSE;
        }
        *model = def->cpu.model;
        return TRUE;
    case VD_CPU_MODE_LAST:
        break;
    }
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "invalid CPU mode %d", def->cpu.mode);
    return FALSE;
}

static gboolean
build_cpu(VdQemuCmd *cmd, GError **error)
{
    const char *model;
    if (!cpu_model(cmd, &model, error))
        return FALSE;
    if (model && !vd_qemu_caps_check_cpu_model(cmd->caps, model, cmd->kvm, error))
        return FALSE;
    /* Properties without a model go on QEMU's default, qemu64, as libvirt does. */
    g_autoptr(GString) cpu = g_string_new(model ? model : "qemu64");
    if (!vd_qemu_cpu_ext_cpu_props(cmd, cpu, error))
        return FALSE;
    if (model || !g_str_equal(cpu->str, "qemu64"))
        vd_qemu_cmd_opt(cmd, "-cpu", cpu->str);
    return TRUE;
}

static gboolean
build_memory_and_smp(VdQemuCmd *cmd, GError **error)
{
    const VdDomainDef *def = cmd->def;
    if (def->memory_kib < 1024) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "memory of %" G_GUINT64_FORMAT " KiB is too small (at least 1 MiB)",
                    def->memory_kib);
        return FALSE;
    }
    /* -m, with the memory devices of <maxMemory> (qemu-command-memory.c). */
    if (!vd_qemu_build_memory(cmd, error))
        return FALSE;

    guint max = def->vcpus;
    guint current = def->vcpus_current ? def->vcpus_current : max;
    if (max == 0 || current > max) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid vCPU count: current %u, maximum %u", current, max);
        return FALSE;
    }
    guint sockets = def->cpu.sockets, dies = def->cpu.dies, cores = def->cpu.cores,
          threads = def->cpu.threads;
    if (sockets || cores || threads) {
        dies = dies ? dies : 1;
        sockets = sockets ? sockets : 1;
        cores = cores ? cores : 1;
        threads = threads ? threads : 1;
        if ((guint64)sockets * dies * cores * threads != max) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "CPU topology of %u sockets x %u dies x %u cores x %u threads does not "
                        "match the %u vCPUs of <vcpu>",
                        sockets, dies, cores, threads, max);
            return FALSE;
        }
    } else {
        sockets = max;
        dies = cores = threads = 1;
    }
    g_autoptr(GString) smp = g_string_new(NULL);
    g_string_append_printf(smp, "%u,maxcpus=%u,sockets=%u", current, max, sockets);
    if (dies > 1)
        g_string_append_printf(smp, ",dies=%u", dies);
    g_string_append_printf(smp, ",cores=%u,threads=%u", cores, threads);
    vd_qemu_cmd_opt(cmd, "-smp", smp->str);
    /* One RAM backend per NUMA cell; -m stays the total (the cells' sum). */
    return vd_qemu_cpu_ext_numa(cmd, error);
}

/* libvirt's rule: <boot order> on devices wins; else each <os><boot dev>
 * gives its index to the first device of that kind. */
static void
assign_bootindex(VdQemuCmd *cmd)
{
    const VdDomainDef *def = cmd->def;
    gboolean per_device = FALSE;

    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        const VdDiskDef *d = g_ptr_array_index(def->disks, i);
        if (d->boot_order) {
            g_hash_table_insert(cmd->bootindex, (gpointer)d, GUINT_TO_POINTER(d->boot_order));
            per_device = TRUE;
        }
    }
    for (guint i = 0; def->interfaces && i < def->interfaces->len; i++) {
        const VdNetDef *n = g_ptr_array_index(def->interfaces, i);
        if (n->boot_order) {
            g_hash_table_insert(cmd->bootindex, (gpointer)n, GUINT_TO_POINTER(n->boot_order));
            per_device = TRUE;
        }
    }
    if (per_device)
        return;

    for (guint b = 0; b < def->os.nboot && b < VD_BOOT_LAST; b++) {
        gconstpointer found = NULL;
        VdBootDev dev = def->os.boot[b];
        if (dev == VD_BOOT_NETWORK) {
            if (def->interfaces && def->interfaces->len)
                found = g_ptr_array_index(def->interfaces, 0);
        } else {
            VdDiskDevice want = dev == VD_BOOT_CDROM ? VD_DISK_DEVICE_CDROM
                                : dev == VD_BOOT_FD  ? VD_DISK_DEVICE_FLOPPY
                                                     : VD_DISK_DEVICE_DISK;
            for (guint i = 0; def->disks && i < def->disks->len && !found; i++) {
                const VdDiskDef *d = g_ptr_array_index(def->disks, i);
                if (d->device == want)
                    found = d;
            }
        }
        if (found && !g_hash_table_contains(cmd->bootindex, found))
            g_hash_table_insert(cmd->bootindex, (gpointer)found, GUINT_TO_POINTER(b + 1));
    }
}

static void
build_boot(VdQemuCmd *cmd)
{
    assign_bootindex(cmd);
    if (g_hash_table_size(cmd->bootindex) > 0)
        vd_qemu_cmd_opt(cmd, "-boot", cmd->def->os.bootmenu ? "strict=on,menu=on" : "strict=on");
    else if (cmd->def->os.bootmenu)
        vd_qemu_cmd_opt(cmd, "-boot", "menu=on");
}

gboolean
vd_qemu_fast_firmware_ok(const VdDomainDef *def)
{
    if (!def->os.kernel || def->os.loader || def->os.firmware || def->os.bootmenu)
        return FALSE;
    if (def->os.machine && !g_str_equal(def->os.machine, "pc") &&
        !g_str_has_prefix(def->os.machine, "pc-i440fx-"))
        return FALSE;
    if (def->graphics->len > 0)
        return FALSE;
    for (guint i = 0; i < def->videos->len; i++) {
        const VdVideoDef *v = g_ptr_array_index(def->videos, i);
        if (v->model != VD_VIDEO_NONE)
            return FALSE;
    }
    for (guint i = 0; i < def->disks->len; i++)
        if (((const VdDiskDef *)g_ptr_array_index(def->disks, i))->boot_order)
            return FALSE;
    for (guint i = 0; i < def->interfaces->len; i++) {
        const VdNetDef *net = g_ptr_array_index(def->interfaces, i);
        if (net->boot_order)
            return FALSE;
        /* qboot hangs running the iPXE option ROM of an emulated NIC
         * (e1000, rtl8139 ...: seen with QEMU 7.2's qboot); virtio-net's
         * is skipped. */
        if (net->model && !g_str_equal(net->model, "virtio"))
            return FALSE;
    }
    return TRUE;
}

static gboolean
build_kernel(VdQemuCmd *cmd, GError **error)
{
    const VdDomainDef *def = cmd->def;
    /* -kernel, -initrd and -append are stored verbatim as machine
     * properties: no key=value parsing, so nothing to escape. */
    if (def->os.kernel) {
        if (!vd_qemu_check_path(def->os.kernel, "<kernel>", error))
            return FALSE;
        const char *boot = cmd->paths->boot_kernel ? cmd->paths->boot_kernel : def->os.kernel;
        vd_qemu_cmd_opt(cmd, "-kernel", boot);
    }
    if (def->os.initrd) {
        if (!vd_qemu_check_path(def->os.initrd, "<initrd>", error))
            return FALSE;
        /* Without a kernel QEMU refuses -initrd and -append; the guest
         * boots its own kernel from disk, so they mean nothing (a URL
         * install's final XML keeps its <cmdline>). */
        if (def->os.kernel)
            vd_qemu_cmd_opt(cmd, "-initrd", def->os.initrd);
        else
            vd_qemu_cmd_note(cmd,
                             "<initrd> ignored: there is no <kernel> to load it with (the guest "
                             "boots its own kernel)");
    }
    if (def->os.cmdline) {
        if (!vd_qemu_check_utf8(def->os.cmdline, "<cmdline>", error))
            return FALSE;
        if (def->os.kernel)
            vd_qemu_cmd_opt(cmd, "-append", def->os.cmdline);
        else
            vd_qemu_cmd_note(cmd,
                             "<cmdline> ignored: there is no <kernel> to pass it to (the guest "
                             "boots its own kernel)");
    }
    return TRUE;
}

/* -bios for ROM firmware; pflash block nodes for UEFI (their names go
 * into -machine, so this runs first). The loader is the one the daemon
 * selected from QEMU's firmware descriptors (paths->loader_path, also put
 * into the live definition) or the domain's own <loader>. */
static gboolean
build_firmware(VdQemuCmd *cmd, gboolean *pflash0, gboolean *pflash1, GError **error)
{
    const VdDomainDef *def = cmd->def;
    const char *loader = cmd->paths->loader_path ? cmd->paths->loader_path : def->os.loader;
    *pflash0 = *pflash1 = FALSE;
    if (!loader) {
        if (g_strcmp0(def->os.firmware, "efi") == 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "<os firmware='efi'>: no UEFI firmware was selected (the daemon selects "
                        "one from QEMU's firmware descriptors when it starts the domain); or "
                        "give <loader> and <nvram> explicitly");
            return FALSE;
        }
        /* firmware='bios' is QEMU's own SeaBIOS. */
        if (cmd->paths->bios && vd_qemu_fast_firmware_ok(def))
            vd_qemu_cmd_opt(cmd, "-bios", cmd->paths->bios);
        return TRUE;
    }
    return vd_qemu_build_loader(cmd, loader, pflash0, pflash1, error);
}

int
vd_qemu_cmd_request_fd(VdQemuCmd *cmd, VdQemuFdKind kind, const char *path)
{
    int number = cmd->paths->fd_base + (int)cmd->fd_requests->len;
    g_ptr_array_add(cmd->fd_requests, vd_qemu_fd_request_new(kind, path, number));
    return number;
}

int
vd_qemu_cmd_fdset_add(VdQemuCmd *cmd, VdQemuFdKind kind, const char *path, int set)
{
    int number = vd_qemu_cmd_request_fd(cmd, kind, path);
    g_autofree char *esc = vd_qemu_escape_opt(path);
    /* A new set's id is its first descriptor's number: unique, and
     * QEMU's own add-fd (hot-plug, screenshots) picks ids no set uses.
     * The opaque text shows the file in query-fdsets, and is how the
     * daemon reads "/dev/fdset/N" back as a path (qemu-fdset-paths.h). */
    if (set < 0)
        set = number;
    g_autofree char *spec = g_strdup_printf("fd=%d,set=%d,opaque=%s", number, set, esc);
    vd_qemu_cmd_opt(cmd, "-add-fd", spec);
    return set;
}

char *
vd_qemu_cmd_fdset_path(VdQemuCmd *cmd, VdQemuFdKind kind, const char *path)
{
    return g_strdup_printf("/dev/fdset/%d", vd_qemu_cmd_fdset_add(cmd, kind, path, -1));
}

char *
vd_qemu_cmd_listen_chardev(VdQemuCmd *cmd, const char *id, const char *path)
{
    int number = vd_qemu_cmd_request_fd(cmd, VD_QEMU_FD_LISTEN, path);
    return g_strdup_printf("socket,id=%s,fd=%d,server=on,wait=off", id, number);
}

/* QMP: a socket the daemon made and QEMU listens on. The daemon connects
 * to it by path, also after its own restart. */
static gboolean
build_monitor(VdQemuCmd *cmd, GError **error)
{
    const char *qmp = cmd->paths->qmp_socket_path;
    if (!vd_qemu_check_socket_path(qmp, "QMP socket", error))
        return FALSE;
    g_autofree char *chardev = vd_qemu_cmd_listen_chardev(cmd, "charmonitor", qmp);
    vd_qemu_cmd_opt(cmd, "-chardev", chardev);
    vd_qemu_cmd_opt(cmd, "-mon", "chardev=charmonitor,id=monitor,mode=control");
    return TRUE;
}

static gboolean
build_clock(VdQemuCmd *cmd, GError **error)
{
    const char *offset = cmd->def->clock.offset;
    const VdTimerDef *hpet = vd_cpu_ext_timer(cmd->def->cpu_ext, "hpet");
    g_autoptr(GString) rtc = g_string_new(NULL);

    if (!offset || g_str_equal(offset, "utc")) {
        g_string_append(rtc, "base=utc");
    } else if (g_str_equal(offset, "localtime")) {
        g_string_append(rtc, "base=localtime");
    } else if (!g_str_equal(offset, "variable") && !g_str_equal(offset, "timezone") &&
               !g_str_equal(offset, "absolute")) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "clock offset '%s' is not supported (use utc, localtime, variable, "
                    "timezone or absolute)",
                    offset);
        return FALSE;
    }
    /* variable/timezone/absolute: the base is a date (cpu-ext). */
    if (!vd_qemu_cpu_ext_rtc(cmd, rtc, error))
        return FALSE;
    vd_qemu_cmd_opt(cmd, "-rtc", rtc->str);
    /* QEMU merges a second -machine into the first; hpet is a pc/q35
     * machine property (-no-hpet is deprecated). */
    if (hpet && hpet->present == VD_TRISTATE_OFF && (cmd->pc || cmd->q35))
        vd_qemu_cmd_opt(cmd, "-machine", "hpet=off");
    return TRUE;
}

static gboolean
build_identity(VdQemuCmd *cmd, GError **error)
{
    const VdDomainDef *def = cmd->def;
    if (!vd_name_validate(def->name, "domain name", error))
        return FALSE;
    g_autofree char *esc = vd_qemu_escape_opt(def->name);
    g_autofree char *name = g_strdup_printf("guest=%s,debug-threads=on", esc);
    vd_qemu_cmd_opt(cmd, "-name", name);
    return TRUE;
}

static gboolean
build_uuid(VdQemuCmd *cmd, GError **error)
{
    char uuid[37];
    if (!cmd->def->uuid[0])
        return TRUE;
    if (!vd_uuid_parse(cmd->def->uuid, uuid)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "invalid UUID '%s'", cmd->def->uuid);
        return FALSE;
    }
    vd_qemu_cmd_opt(cmd, "-uuid", uuid);
    return TRUE;
}

static gboolean
build_all(VdQemuCmd *cmd, GError **error)
{
    const VdDomainDef *def = cmd->def;
    const char *emulator = def->emulator ? def->emulator : cmd->caps->binary;
    gboolean pflash0, pflash1;

    if (!vd_qemu_check_path(emulator, "<emulator>", error))
        return FALSE;
    vd_qemu_cmd_arg(cmd, emulator);
    if (!build_identity(cmd, error))
        return FALSE;
    vd_qemu_cmd_arg(cmd, "-S");
    if (!build_accel(cmd, error) || !build_machine(cmd, error) ||
        !build_firmware(cmd, &pflash0, &pflash1, error))
        return FALSE;
    emit_machine(cmd, pflash0, pflash1);
    if (!build_cpu(cmd, error) || !build_memory_and_smp(cmd, error) || !build_uuid(cmd, error))
        return FALSE;
    vd_qemu_cmd_arg(cmd, "-no-user-config");
    vd_qemu_cmd_arg(cmd, "-nodefaults");
    if (cmd->paths->sandbox)
        vd_qemu_cmd_opt(cmd, "-sandbox", cmd->paths->sandbox);
    if (!build_monitor(cmd, error) || !build_clock(cmd, error))
        return FALSE;
    /* The guest powering off must not end QEMU: the daemon decides (on
     * <on_poweroff>) and reads the final state first. */
    vd_qemu_cmd_arg(cmd, "-no-shutdown");
    if (def->on_reboot == VD_LIFECYCLE_DESTROY)
        vd_qemu_cmd_arg(cmd, "-no-reboot");
    /* A restore: the guest's state comes by migrate-incoming over a
     * descriptor the daemon passes (save/save.h). */
    if (cmd->paths->incoming_defer) {
        vd_qemu_cmd_arg(cmd, "-incoming");
        vd_qemu_cmd_arg(cmd, "defer");
    }
    build_boot(cmd);
    if (!build_kernel(cmd, error))
        return FALSE;
    if (cmd->paths->pid_path) {
        if (!vd_qemu_check_path(cmd->paths->pid_path, "pid file", error))
            return FALSE;
        vd_qemu_cmd_opt(cmd, "-pidfile", cmd->paths->pid_path);
    }
    vd_qemu_cmd_opt(cmd, "-msg", "timestamp=on");

    return vd_qemu_check_host_needs(cmd, error) && vd_qemu_build_controllers(cmd, error) &&
           vd_qemu_build_memory_late(cmd, error) && vd_qemu_build_disks(cmd, error) && vd_qemu_build_interfaces(cmd, error) &&
           vd_qemu_build_chardevs(cmd, error) && vd_qemu_build_graphics(cmd, error) &&
           vd_qemu_build_video(cmd, error) && vd_qemu_build_inputs(cmd, error) &&
           vd_qemu_build_misc_devices(cmd, error) && vd_qemu_build_media(cmd, error) &&
           vd_qemu_build_tpm(cmd, error) && vd_qemu_build_firmware(cmd, error) &&
           vd_qemu_build_cpu_ext(cmd, error) && vd_qemu_build_platform(cmd, error);
}

GPtrArray *
vd_qemu_build_argv(const VdDomainDef *def, const VdQemuCaps *caps, const VdQemuRunPaths *paths,
                   GError **error)
{
    return vd_qemu_build_argv_notes(def, caps, paths, NULL, error);
}

void
vd_qemu_cmd_note(VdQemuCmd *cmd, const char *format, ...)
{
    va_list ap;

    if (!cmd->notes)
        return;
    va_start(ap, format);
    g_ptr_array_add(cmd->notes, g_strdup_vprintf(format, ap));
    va_end(ap);
}

GPtrArray *
vd_qemu_build_argv_notes(const VdDomainDef *def, const VdQemuCaps *caps,
                         const VdQemuRunPaths *paths, GPtrArray *notes, GError **error)
{
    g_return_val_if_fail(def != NULL && caps != NULL && paths != NULL, NULL);

    VdQemuCmd cmd = {
        .def = def,
        .caps = caps,
        .paths = paths,
        .notes = notes,
        .argv = g_ptr_array_new_null_terminated(64, g_free, TRUE),
        .bootindex = g_hash_table_new(NULL, NULL),
        .fd_requests = g_ptr_array_new_with_free_func(vd_qemu_fd_request_free),
    };
    gboolean ok = build_all(&cmd, error);
    g_hash_table_unref(cmd.bootindex);
    if (ok && paths->fd_requests)
        g_ptr_array_extend_and_steal(paths->fd_requests, g_steal_pointer(&cmd.fd_requests));
    if (cmd.fd_requests)
        g_ptr_array_unref(cmd.fd_requests);
    if (!ok) {
        g_ptr_array_unref(cmd.argv);
        return NULL;
    }
    return cmd.argv;
}

char *
vd_qemu_argv_to_string(const GPtrArray *argv)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < argv->len; i++) {
        for (const char *p = g_ptr_array_index(argv, i); *p; p++) {
            guchar c = (guchar)*p;
            if (c == '\\')
                g_string_append(s, "\\\\");
            else if (c == '\n')
                g_string_append(s, "\\n");
            else if (c == '\t')
                g_string_append(s, "\\t");
            else if (c < 0x20 || c == 0x7f)
                g_string_append_printf(s, "\\x%02x", c);
            else
                g_string_append_c(s, (char)c);
        }
        g_string_append_c(s, '\n');
    }
    return g_string_free(s, FALSE);
}
