/* What virtd keeps but does not act on, and whether that blocks start.
 *
 * libvirt's domain XML is far larger than what virtd models. Nothing a
 * user wrote is dropped (format works on the parsed document), but define
 * must say what it will ignore and start must refuse what would make the
 * guest see a different machine than the XML describes. This file is the
 * one place that decides, element by element and attribute by attribute.
 *
 * The rule, per class:
 *
 *   TYPED   virtd reads it into VdDomainDef and writes it back. Its
 *           attributes and children are looked up in the table in turn.
 *   KEEP    kept verbatim and never reported: data for applications
 *           (<metadata>), settings that ask for nothing
 *           (<seclabel type='none'>) and libvirt's
 *           own defaults that its dumpxml always writes (<vcpu
 *           placement='static'>, <cpu match='exact'>, <link state='up'>).
 *   WARN    kept, reported by define, ignored by start, because the guest
 *           sees the same machine without it: host-side tuning and
 *           placement (cputune's emulator and iothread knobs, numatune, iothreads,
 *           vcpu cpuset), device addresses and aliases (QEMU assigns its
 *           own; guests find devices by type), security labels, lock
 *           failure policy, disk cache/discard tuning, controller details
 *           (chassis and port numbers, queues), display protocol options.
 *   REFUSE  kept and reported; start refuses the domain until it is
 *           removed: anything that adds a device virtd does not create
 *           (filesystem, smartcard ...) or changes the memory layout
 *           (nvdimm). Everything not in the table is REFUSE: an
 *           element virtd has never heard of may change anything.
 *
 * What only some hosts can give (hostdev, launchSecurity, GL, vsock) is
 * TYPED here, and refused at start by the argv builder from the host's
 * facts (qemu-command-platform.c), naming what the host lacks.
 *
 * Paths are the generic element path without indexes ("/domain/devices/
 * disk/driver/@cache"); '*' matches one step. Elements whose class depends
 * on a value (controller type, timer name ...) are reported with that
 * value ("/domain/devices/controller[@type='usb']") so that each kind
 * appears once.
 */
#include "conf/domain-private.h"

#include <string.h>

typedef enum {
    C_REFUSE, /* default: not in the table */
    C_TYPED,
    C_KEEP,
    C_WARN,
} Class;

/* For elements: may set *suffix (g_malloc'ed) to the discriminating value. */
typedef Class (*ElemClassify)(const xmlNode *node, char **suffix);
typedef Class (*AttrClassify)(const char *value);

typedef struct {
    const char *path;
    Class cls;
    ElemClassify elem;
    AttrClassify attr;
} Rule;

static Class
classify_controller(const xmlNode *node, char **suffix)
{
    /* The argv builder acts on these (qemu-command-platform.c): it builds
     * the models it knows and notes the ones QEMU makes by itself. */
    static const char *const bus[] = {"usb", "pci", "virtio-serial", "sata", "scsi",
                                      "ide", "fdc", "nvme",          NULL};
    g_autofree char *v = vd_xml_prop(node, "type");

    if (v && g_strv_contains(bus, v))
        return C_TYPED;
    if (v)
        *suffix = g_strdup_printf("[@type='%s']", v);
    return C_REFUSE;
}

static Class
classify_timer(const xmlNode *node, char **suffix)
{
    /* Every timer libvirt knows is typed (domain-cpu-ext.c); what QEMU
     * cannot give is refused by name in domain-cpu-ext-check.c. */
    (void)node;
    (void)suffix;
    return C_TYPED;
}

static Class
classify_seclabel(const xmlNode *node, char **suffix)
{
    g_autofree char *type = vd_xml_prop(node, "type");
    g_autofree char *model = vd_xml_prop(node, "model");

    if (g_strcmp0(type, "none") == 0 || g_strcmp0(model, "none") == 0)
        return C_KEEP;
    return C_WARN;
}

/* Firmware images and variable stores: QEMU's pflash takes raw ones
 * (qcow2 varstores are a libvirt 9.2 addition virtd does not make). */
static Class
attr_raw_format(const char *value)
{
    return g_str_equal(value, "raw") ? C_TYPED : C_REFUSE;
}

/* Attributes whose libvirt default value is written by libvirt itself in
 * every dumpxml: the default is silent, anything else is reported. */
static Class
attr_placement(const char *value)
{
    return g_str_equal(value, "static") ? C_KEEP : C_WARN;
}

static Class
attr_cpu_match(const char *value)
{
    return g_str_equal(value, "exact") ? C_KEEP : C_WARN;
}

static Class
attr_cpu_fallback(const char *value)
{
    return g_str_equal(value, "allow") ? C_KEEP : C_WARN;
}

static Class
attr_rng_backend(const char *value)
{
    return g_str_equal(value, "random") ? C_TYPED : C_REFUSE;
}

static Class
attr_driver_name(const char *value)
{
    return g_str_equal(value, "qemu") ? C_TYPED : C_REFUSE;
}

static Class
attr_listen_type(const char *value)
{
    return g_str_equal(value, "address") ? C_TYPED : C_WARN;
}

/* One rule per entry reads better as a table. */
/* clang-format off */
#define T(p) {p, C_TYPED, NULL, NULL}
#define K(p) {p, C_KEEP, NULL, NULL}
#define W(p) {p, C_WARN, NULL, NULL}
#define E(p, fn) {p, C_REFUSE, fn, NULL}
#define A(p, fn) {p, C_REFUSE, NULL, fn}

#define DEV "/domain/devices/"
#define CHR(d) \
    T(DEV d), T(DEV d "/@type"), T(DEV d "/@tty"), \
    T(DEV d "/source"), T(DEV d "/source/@path"), T(DEV d "/source/@mode"), \
    T(DEV d "/source/@append"), \
    /* tcp/udp: refused by type in check_startable, kept as written */ \
    T(DEV d "/source/@host"), T(DEV d "/source/@service"), \
    W(DEV d "/source/seclabel"), \
    T(DEV d "/target"), T(DEV d "/target/@type"), T(DEV d "/target/@port"), \
    T(DEV d "/target/@name"), W(DEV d "/target/@state"), W(DEV d "/target/model"), \
    W(DEV d "/log"), W(DEV d "/protocol")

static const Rule rules[] = {
    T("/domain"), T("/domain/@type"), T("/domain/@id"),
    T("/domain/name"), T("/domain/uuid"), T("/domain/title"), T("/domain/description"),
    K("/domain/metadata"),
    T("/domain/memory"), T("/domain/memory/@unit"), W("/domain/memory/@dumpCore"),
    T("/domain/currentMemory"), T("/domain/currentMemory/@unit"),
    /* Memory hot-plug (domain-memory.c, qemu-command-memory.c). */
    T("/domain/maxMemory"), T("/domain/maxMemory/@slots"), T("/domain/maxMemory/@unit"),
    T(DEV "memory"), T(DEV "memory/@model"), T(DEV "memory/target"),
    T(DEV "memory/target/size"), T(DEV "memory/target/size/@unit"),
    T(DEV "memory/target/node"), T(DEV "memory/target/block"),
    T(DEV "memory/target/block/@unit"), T(DEV "memory/target/requested"),
    T(DEV "memory/target/requested/@unit"), T(DEV "memory/target/current"),
    T(DEV "memory/target/current/@unit"), T(DEV "memory/alias"), T(DEV "memory/alias/@name"),
    /* Host-side backing and placement: the guest sees the same memory. */
    W(DEV "memory/@access"), W(DEV "memory/@discard"), W(DEV "memory/source"),
    T("/domain/vcpu"), T("/domain/vcpu/@current"), A("/domain/vcpu/@placement", attr_placement),
    W("/domain/vcpu/@cpuset"),
    W("/domain/iothreads"), W("/domain/iothreadids"), T("/domain/cputune"),
    T("/domain/cputune/vcpupin"), T("/domain/cputune/vcpupin/@vcpu"),
    T("/domain/cputune/vcpupin/@cpuset"), T("/domain/cputune/emulatorpin"),
    T("/domain/cputune/emulatorpin/@cpuset"),
    /* Issue 15: applied through the domain's cgroup (domain-restune.c,
     * daemon/domain/domain-cgroup.c). <memtune><min_guarantee> is absent,
     * so refused at start, as libvirt's QEMU driver refuses it. */
    T("/domain/cputune/shares"), T("/domain/cputune/period"), T("/domain/cputune/quota"),
    T("/domain/cputune/global_period"), T("/domain/cputune/global_quota"),
    T("/domain/memtune"), T("/domain/memtune/hard_limit"), T("/domain/memtune/hard_limit/@unit"),
    T("/domain/memtune/soft_limit"), T("/domain/memtune/soft_limit/@unit"),
    T("/domain/memtune/swap_hard_limit"), T("/domain/memtune/swap_hard_limit/@unit"),
    T("/domain/blkiotune"), T("/domain/blkiotune/weight"), T("/domain/blkiotune/device"),
    T("/domain/blkiotune/device/path"), T("/domain/blkiotune/device/weight"),
    T("/domain/blkiotune/device/read_bytes_sec"), T("/domain/blkiotune/device/write_bytes_sec"),
    T("/domain/blkiotune/device/read_iops_sec"), T("/domain/blkiotune/device/write_iops_sec"),
    /* emulator_*, iothread_*, iothreadpin, *sched, cachetune ... */
    W("/domain/cputune/*"),
    W("/domain/numatune"),
    W("/domain/resource"), W("/domain/perf"),

    T("/domain/os"), T("/domain/os/@firmware"),
    T("/domain/os/type"), T("/domain/os/type/@arch"), T("/domain/os/type/@machine"),
    T("/domain/os/boot"), T("/domain/os/boot/@dev"),
    T("/domain/os/bootmenu"), T("/domain/os/bootmenu/@enable"), W("/domain/os/bootmenu/@timeout"),
    T("/domain/os/kernel"), T("/domain/os/initrd"), T("/domain/os/cmdline"),
    T("/domain/os/loader"), T("/domain/os/loader/@readonly"), T("/domain/os/loader/@type"),
    T("/domain/os/loader/@secure"), T("/domain/os/loader/@stateless"),
    A("/domain/os/loader/@format", attr_raw_format),
    T("/domain/os/nvram"), T("/domain/os/nvram/@template"),
    A("/domain/os/nvram/@format", attr_raw_format),
    T("/domain/os/firmware"), T("/domain/os/firmware/feature"),
    T("/domain/os/firmware/feature/@enabled"), T("/domain/os/firmware/feature/@name"),
    T("/domain/os/smbios"), T("/domain/os/smbios/@mode"),

    T("/domain/features"), T("/domain/features/acpi"), T("/domain/features/apic"),
    T("/domain/features/pae"), T("/domain/features/vmport"), T("/domain/features/vmport/@state"),
    /* cpu-ext (domain-cpu-ext.c): unknown enlightenments are refused by name at start. */
    T("/domain/features/apic/@eoi"),
    T("/domain/features/hyperv"), T("/domain/features/hyperv/@mode"),
    T("/domain/features/hyperv/*"), T("/domain/features/hyperv/*/@state"),
    T("/domain/features/hyperv/spinlocks/@retries"), T("/domain/features/hyperv/vendor_id/@value"),
    T("/domain/features/hyperv/*/direct"), T("/domain/features/hyperv/*/direct/@state"),
    T("/domain/features/hyperv/tlbflush/extended"),
    T("/domain/features/hyperv/tlbflush/extended/@state"),
    T("/domain/features/kvm"), T("/domain/features/kvm/hidden"),
    T("/domain/features/kvm/hidden/@state"),
    T("/domain/features/pmu"), T("/domain/features/pmu/@state"),
    T("/domain/features/vmcoreinfo"), T("/domain/features/vmcoreinfo/@state"),
    T("/domain/features/ioapic"), T("/domain/features/ioapic/@driver"),
    T("/domain/features/smm"), T("/domain/features/smm/@state"),

    T("/domain/cpu"), T("/domain/cpu/@mode"), T("/domain/cpu/@check"),
    A("/domain/cpu/@match", attr_cpu_match), W("/domain/cpu/@migratable"),
    T("/domain/cpu/model"), A("/domain/cpu/model/@fallback", attr_cpu_fallback),
    T("/domain/cpu/topology"), T("/domain/cpu/topology/@sockets"),
    T("/domain/cpu/topology/@dies"), T("/domain/cpu/topology/@cores"),
    T("/domain/cpu/topology/@threads"),
    T("/domain/cpu/feature"), T("/domain/cpu/feature/@policy"), T("/domain/cpu/feature/@name"),
    T("/domain/cpu/numa"), T("/domain/cpu/numa/cell"), T("/domain/cpu/numa/cell/@id"),
    T("/domain/cpu/numa/cell/@cpus"), T("/domain/cpu/numa/cell/@memory"),
    T("/domain/cpu/numa/cell/@unit"), W("/domain/cpu/numa/cell/@memAccess"),
    W("/domain/cpu/numa/cell/@discard"),

    T("/domain/clock"), T("/domain/clock/@offset"), T("/domain/clock/@adjustment"),
    T("/domain/clock/@basis"), T("/domain/clock/@timezone"), T("/domain/clock/@start"),
    E("/domain/clock/timer", classify_timer), T("/domain/clock/timer/@name"),
    T("/domain/clock/timer/@present"), T("/domain/clock/timer/@tickpolicy"),
    T("/domain/clock/timer/@track"), T("/domain/clock/timer/@frequency"),
    W("/domain/clock/timer/@mode"), W("/domain/clock/timer/catchup"),

    T("/domain/on_poweroff"), T("/domain/on_reboot"), T("/domain/on_crash"),
    W("/domain/on_lockfailure"),
    T("/domain/pm"), T("/domain/pm/suspend-to-mem"), T("/domain/pm/suspend-to-mem/@enabled"),
    T("/domain/pm/suspend-to-disk"), T("/domain/pm/suspend-to-disk/@enabled"),
    E("/domain/seclabel", classify_seclabel),

    T("/domain/devices"), T(DEV "emulator"),
    T(DEV "interface/alias"), T(DEV "interface/alias/@name"),
    W(DEV "*/address"), W(DEV "*/alias"), W(DEV "lease"),
    E(DEV "controller", classify_controller),
    T(DEV "controller/@type"), T(DEV "controller/@index"), T(DEV "controller/@model"),
    T(DEV "controller/@ports"), T(DEV "controller/@vectors"),
    T(DEV "controller/master"), T(DEV "controller/master/@startport"),
    /* Chassis and port numbers, queues, the model's name: QEMU's own choice
     * is what the guest sees anyway. */
    W(DEV "controller/target"), W(DEV "controller/model"), W(DEV "controller/driver"),
    W(DEV "controller/@maxGrantFrames"), W(DEV "controller/@maxEventChannels"),
    W(DEV "controller/@serial"),

    /* Platform family (qemu-command-platform.c). */
    T("/domain/sysinfo"), T("/domain/sysinfo/@type"),
    T("/domain/sysinfo/bios"), T("/domain/sysinfo/system"), T("/domain/sysinfo/baseBoard"),
    T("/domain/sysinfo/chassis"), T("/domain/sysinfo/oemStrings"),
    T("/domain/sysinfo/*/entry"), T("/domain/sysinfo/*/entry/@name"),
    T("/domain/sysinfo/entry"), T("/domain/sysinfo/entry/@name"),
    T("/domain/sysinfo/entry/@file"),
    /* libvirt does not give these to QEMU either (host sysinfo only). */
    W("/domain/sysinfo/processor"), W("/domain/sysinfo/memory"),
    T(DEV "watchdog"), T(DEV "watchdog/@model"), T(DEV "watchdog/@action"),
    T(DEV "vsock"), T(DEV "vsock/@model"), T(DEV "vsock/cid"), T(DEV "vsock/cid/@auto"),
    T(DEV "vsock/cid/@address"), W(DEV "vsock/driver"),
    /* Refused at start with what the host lacks (VdHostFacts): the
     * details inside them do not change that answer. */
    T(DEV "hostdev"), T(DEV "hostdev/@mode"), T(DEV "hostdev/@type"),
    T(DEV "hostdev/@managed"), K(DEV "hostdev/*"),
    T("/domain/launchSecurity"), T("/domain/launchSecurity/@type"),
    K("/domain/launchSecurity/*"),
    T("/domain/memoryBacking"), T("/domain/memoryBacking/hugepages"),
    T("/domain/memoryBacking/hugepages/page"), T("/domain/memoryBacking/hugepages/page/@size"),
    T("/domain/memoryBacking/hugepages/page/@unit"),
    W("/domain/memoryBacking/hugepages/page/@nodeset"),
    T("/domain/memoryBacking/source"), T("/domain/memoryBacking/source/@type"),
    T("/domain/memoryBacking/access"), T("/domain/memoryBacking/access/@mode"),
    /* Host-side: KSM, mlock, freeing on shutdown, pre-allocation. */
    W("/domain/memoryBacking/nosharepages"), W("/domain/memoryBacking/locked"),
    W("/domain/memoryBacking/discard"), W("/domain/memoryBacking/allocation"),
    T(DEV "graphics/gl"), T(DEV "graphics/gl/@enable"), T(DEV "graphics/gl/@rendernode"),
    T(DEV "video/model/acceleration"), T(DEV "video/model/acceleration/@accel3d"),
    W(DEV "video/model/acceleration/@accel2d"), W(DEV "video/model/acceleration/@rendernode"),

    T(DEV "disk"), T(DEV "disk/@type"), T(DEV "disk/@device"), W(DEV "disk/@snapshot"),
    T(DEV "disk/driver"), A(DEV "disk/driver/@name", attr_driver_name),
    T(DEV "disk/driver/@type"), T(DEV "disk/driver/@cache"),
    W(DEV "disk/driver/@io"), W(DEV "disk/driver/@discard"), W(DEV "disk/driver/@detect_zeroes"),
    W(DEV "disk/driver/@error_policy"), W(DEV "disk/driver/@rerror_policy"),
    W(DEV "disk/driver/@iothread"), W(DEV "disk/driver/@copy_on_read"),
    T(DEV "disk/source"), T(DEV "disk/source/@file"), T(DEV "disk/source/@dev"),
    T(DEV "disk/source/@dir"), T(DEV "disk/source/@pool"), T(DEV "disk/source/@volume"),
    /* network disks: refused by type in check_startable, kept as written */
    T(DEV "disk/source/@protocol"), T(DEV "disk/source/@name"), T(DEV "disk/source/host"),
    T(DEV "disk/source/host/@name"), T(DEV "disk/source/host/@port"),
    W(DEV "disk/source/@startupPolicy"), W(DEV "disk/source/seclabel"),
    T(DEV "disk/target"), T(DEV "disk/target/@dev"), T(DEV "disk/target/@bus"),
    W(DEV "disk/target/@tray"),
    T(DEV "disk/boot"), T(DEV "disk/boot/@order"),
    T(DEV "disk/readonly"), T(DEV "disk/shareable"), T(DEV "disk/serial"),
    /* The chain as block jobs and external snapshots record it (QEMU reads
     * it from the image headers): libvirt's dumpxml always writes it. */
    W(DEV "disk/iotune"), K(DEV "disk/backingStore"),

    T(DEV "interface"), T(DEV "interface/@type"), W(DEV "interface/@trustGuestRxFilters"),
    T(DEV "interface/mac"), T(DEV "interface/mac/@address"),
    T(DEV "interface/source"), T(DEV "interface/source/@network"),
    T(DEV "interface/source/@bridge"), T(DEV "interface/source/@dev"),
    T(DEV "interface/source/@mode"), T(DEV "interface/source/@portgroup"),
    T(DEV "interface/model"), T(DEV "interface/model/@type"),
    T(DEV "interface/target"), T(DEV "interface/target/@dev"),
    W(DEV "interface/target/@managed"),
    T(DEV "interface/boot"), T(DEV "interface/boot/@order"),
    W(DEV "interface/bandwidth"), W(DEV "interface/filterref"), W(DEV "interface/virtualport"),
    W(DEV "interface/tune"), W(DEV "interface/script"), W(DEV "interface/backend"),
    T(DEV "interface/link"), T(DEV "interface/link/@state"),
    T(DEV "interface/mtu"), T(DEV "interface/mtu/@size"),

    CHR("serial"), CHR("console"), CHR("channel"),

    /* TPM (domain-tpm.c): what start cannot do (passthrough, encryption,
     * 1.2 on tpm-crb) is refused there with the reason. */
    T(DEV "tpm"), T(DEV "tpm/@model"), T(DEV "tpm/backend"), T(DEV "tpm/backend/@type"),
    T(DEV "tpm/backend/@version"), T(DEV "tpm/backend/@persistent_state"),
    T(DEV "tpm/backend/device"), T(DEV "tpm/backend/device/@path"),
    T(DEV "tpm/backend/source"), T(DEV "tpm/backend/source/@type"),
    T(DEV "tpm/backend/source/@mode"), T(DEV "tpm/backend/source/@path"),
    T(DEV "tpm/backend/encryption"), T(DEV "tpm/backend/encryption/@secret"),
    T(DEV "tpm/backend/active_pcr_banks"), T(DEV "tpm/backend/active_pcr_banks/*"),
    /* swtpm's log level: virtd logs what swtpm says at its default level. */
    W(DEV "tpm/backend/@debug"),

    T(DEV "graphics"), T(DEV "graphics/@type"), T(DEV "graphics/@port"),
    T(DEV "graphics/@autoport"), T(DEV "graphics/@listen"), T(DEV "graphics/@passwd"),
    T(DEV "graphics/@websocket"), W(DEV "graphics/@keymap"), W(DEV "graphics/@sharePolicy"),
    W(DEV "graphics/@passwdValidTo"), W(DEV "graphics/@connected"),
    /* SPICE (domain-media.c): a tlsPort or secure mode is refused at start */
    T(DEV "graphics/@tlsPort"), T(DEV "graphics/@defaultMode"),
    T(DEV "graphics/listen"), A(DEV "graphics/listen/@type", attr_listen_type),
    T(DEV "graphics/listen/@address"), W(DEV "graphics/listen/@network"),
    W(DEV "graphics/listen/@socket"),
    T(DEV "graphics/image"), T(DEV "graphics/image/@compression"),
    T(DEV "graphics/jpeg"), T(DEV "graphics/jpeg/@compression"),
    T(DEV "graphics/zlib"), T(DEV "graphics/zlib/@compression"),
    T(DEV "graphics/playback"), T(DEV "graphics/playback/@compression"),
    T(DEV "graphics/streaming"), T(DEV "graphics/streaming/@mode"),
    T(DEV "graphics/clipboard"), T(DEV "graphics/clipboard/@copypaste"),
    T(DEV "graphics/mouse"), T(DEV "graphics/mouse/@mode"),
    T(DEV "graphics/filetransfer"), T(DEV "graphics/filetransfer/@enable"),
    /* per-channel secure/insecure: secure is refused at start (no TLS) */
    T(DEV "graphics/channel"), T(DEV "graphics/channel/@name"), T(DEV "graphics/channel/@mode"),
    /* enable='yes' is refused at start without a render node (the builder) */
    T(DEV "graphics/gl"), T(DEV "graphics/gl/@enable"), W(DEV "graphics/gl/@rendernode"),

    /* domain-media.c: models and back ends start cannot run are refused
     * there with the reason */
    T(DEV "sound"), T(DEV "sound/@model"), T(DEV "sound/codec"), T(DEV "sound/codec/@type"),
    T(DEV "sound/audio"), T(DEV "sound/audio/@id"),
    T(DEV "audio"), T(DEV "audio/@id"), T(DEV "audio/@type"), W(DEV "audio/@timerPeriod"),
    W(DEV "audio/input"), W(DEV "audio/output"),
    T(DEV "redirdev"), T(DEV "redirdev/@bus"), T(DEV "redirdev/@type"),
    /* tcp and others: refused by type at start, kept as written */
    T(DEV "redirdev/source"), T(DEV "redirdev/source/@mode"), T(DEV "redirdev/source/@host"),
    T(DEV "redirdev/source/@service"), T(DEV "redirdev/source/@path"),
    W(DEV "redirdev/protocol"), W(DEV "redirdev/boot"),

    T(DEV "video"), T(DEV "video/model"), T(DEV "video/model/@type"),
    T(DEV "video/model/@vram"), T(DEV "video/model/@heads"), T(DEV "video/model/@primary"),
    T(DEV "video/model/@ram"), T(DEV "video/model/@vgamem"), T(DEV "video/model/@vram64"),

    T(DEV "input"), T(DEV "input/@type"), T(DEV "input/@bus"),

    T(DEV "memballoon"), T(DEV "memballoon/@model"), T(DEV "memballoon/stats"),
    T(DEV "memballoon/stats/@period"),

    T(DEV "rng"), T(DEV "rng/@model"), T(DEV "rng/backend"),
    A(DEV "rng/backend/@model", attr_rng_backend), W(DEV "rng/rate"),

    T(DEV "panic"), T(DEV "panic/@model"),
};

#undef T
#undef K
#undef W
#undef E
#undef A
/* clang-format on */

static gboolean
path_matches(const char *pattern, const char *path)
{
    while (*pattern && *path) {
        if (pattern[0] == '*' && (pattern[1] == '/' || pattern[1] == 0)) {
            const char *slash = strchr(path, '/');
            if (!slash)
                return pattern[1] == 0;
            path = slash;
            pattern++;
            continue;
        }
        if (*pattern != *path)
            return FALSE;
        pattern++;
        path++;
    }
    return *pattern == 0 && *path == 0;
}

static const Rule *
find_rule(const char *path)
{
    for (guint i = 0; i < G_N_ELEMENTS(rules); i++) {
        if (path_matches(rules[i].path, path))
            return &rules[i];
    }
    return NULL;
}

/* The name used in paths: prefix:name for namespaced elements and
 * attributes, {href}name for a default namespace, so that no foreign
 * element can pass for a libvirt one. */
static char *
qualified_name(const xmlNs *ns, const xmlChar *name)
{
    if (!ns)
        return g_strdup((const char *)name);
    if (ns->prefix)
        return g_strdup_printf("%s:%s", ns->prefix, name);
    return g_strdup_printf("{%s}%s", ns->href ? (const char *)ns->href : "", name);
}

typedef struct {
    GPtrArray *list;
    GHashTable *seen; /* path -> VdUnsupported* in list */
} Scan;

static void
report(Scan *scan, const char *path, Class cls)
{
    VdUnsupported *u = g_hash_table_lookup(scan->seen, path);

    if (u) {
        u->guest_visible |= cls == C_REFUSE;
        return;
    }
    u = g_new0(VdUnsupported, 1);
    u->path = g_strdup(path);
    u->guest_visible = cls == C_REFUSE;
    g_ptr_array_add(scan->list, u);
    g_hash_table_insert(scan->seen, u->path, u);
}

static void
scan_element(Scan *scan, const xmlNode *node, const char *parent_path)
{
    g_autofree char *qname = qualified_name(node->ns, node->name);
    g_autofree char *path = g_strdup_printf("%s/%s", parent_path, qname);
    g_autofree char *suffix = NULL;
    const Rule *rule = find_rule(path);
    Class cls = rule ? rule->cls : C_REFUSE;

    if (rule && rule->elem)
        cls = rule->elem(node, &suffix);
    if (cls == C_KEEP)
        return;
    if (cls != C_TYPED) {
        g_autofree char *shown = g_strconcat(path, suffix, NULL);
        report(scan, shown, cls);
        return;
    }

    for (const xmlAttr *a = node->properties; a; a = a->next) {
        g_autofree char *aname = qualified_name(a->ns, a->name);
        g_autofree char *apath = g_strdup_printf("%s/@%s", path, aname);
        const Rule *ar = find_rule(apath);
        Class acls = ar ? ar->cls : C_REFUSE;

        if (ar && ar->attr) {
            g_autofree char *v = vd_xml_prop(node, (const char *)a->name);
            acls = ar->attr(v ? v : "");
        }
        if (acls == C_WARN || acls == C_REFUSE)
            report(scan, apath, acls);
    }
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            scan_element(scan, c, path);
    }
}

GPtrArray *
vd_domain_unsupported_scan(const xmlNode *root)
{
    Scan scan = {
        .list = g_ptr_array_new_with_free_func((GDestroyNotify)vd_unsupported_free),
        .seen = g_hash_table_new(g_str_hash, g_str_equal),
    };

    if (root)
        scan_element(&scan, root, "");
    g_hash_table_unref(scan.seen);
    return scan.list;
}

void
vd_unsupported_free(VdUnsupported *u)
{
    if (!u)
        return;
    g_free(u->path);
    g_free(u);
}

VdUnsupported *
vd_unsupported_copy(const VdUnsupported *src)
{
    VdUnsupported *u = g_new0(VdUnsupported, 1);
    u->path = g_strdup(src->path);
    u->guest_visible = src->guest_visible;
    return u;
}
