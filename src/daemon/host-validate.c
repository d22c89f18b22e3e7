#include "host-validate.h"

#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "network/firewall.h"
#include "util/vd-units.h"

/* Free space below which a pool fails (a new guest disk will not fit) or
 * is warned about (a fraction of its file system). */
#define POOL_FAIL_BYTES (1ULL << 30)
#define POOL_WARN_FRACTION 0.10

/* What a guest of type 'kvm' gets told when KVM cannot run it. */
#define KVM_FIX                                                                                    \
    "use <domain type='qemu'> (TCG emulation; 'vsh edit NAME' changes a defined one): "            \
    "virtd refuses to start <domain type='kvm'> on this host"

static const char *const result_names[] = {"PASS", "WARN", "FAIL"};

const char *
vd_check_result_to_string(VdCheckResult result)
{
    return result_names[result];
}

void
vd_host_validate_input_free(VdHostValidateInput *in)
{
    if (!in)
        return;
    g_free(in->root);
    g_free(in->kvm_detail);
    g_free(in->qemu_binary);
    g_free(in->qemu_version);
    g_free(in->qemu_error);
    g_clear_pointer(&in->machines, g_ptr_array_unref);
    g_free(in->default_machine);
    g_clear_pointer(&in->pools, g_ptr_array_unref);
    g_free(in);
}

typedef struct {
    JsonBuilder *b;
    guint counts[3];
    const char *root;
} Checks;

/* One line: @detail and @fix may be NULL (and are freed). */
static void
add(Checks *c, const char *group, const char *check, VdCheckResult result, char *detail, char *fix)
{
    g_autofree char *d = detail;
    g_autofree char *f = fix;

    c->counts[result]++;
    json_builder_begin_object(c->b);
    json_builder_set_member_name(c->b, "group");
    json_builder_add_string_value(c->b, group);
    json_builder_set_member_name(c->b, "check");
    json_builder_add_string_value(c->b, check);
    json_builder_set_member_name(c->b, "result");
    json_builder_add_string_value(c->b, vd_check_result_to_string(result));
    if (d) {
        json_builder_set_member_name(c->b, "detail");
        json_builder_add_string_value(c->b, d);
    }
    if (f) {
        json_builder_set_member_name(c->b, "fix");
        json_builder_add_string_value(c->b, f);
    }
    json_builder_end_object(c->b);
}

static char *
host_path(const Checks *c, const char *path)
{
    return g_build_filename(c->root, path, NULL);
}

static char *
read_host_file(const Checks *c, const char *path)
{
    g_autofree char *full = host_path(c, path);
    char *text = NULL;

    return g_file_get_contents(full, &text, NULL, NULL) ? text : NULL;
}

static gboolean
host_exists(const Checks *c, const char *path)
{
    g_autofree char *full = host_path(c, path);

    return g_file_test(full, G_FILE_TEST_EXISTS);
}

/* A word of /proc/cpuinfo's "flags" lines. */
static gboolean
cpu_has_flag(const char *cpuinfo, const char *flag)
{
    g_auto(GStrv) lines = g_strsplit(cpuinfo ? cpuinfo : "", "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        if (!g_str_has_prefix(lines[i], "flags"))
            continue;
        const char *colon = strchr(lines[i], ':');
        g_auto(GStrv) words = g_strsplit_set(colon ? colon + 1 : "", " \t", -1);
        if (g_strv_contains((const char *const *)words, flag))
            return TRUE;
    }
    return FALSE;
}

static void
check_kvm(Checks *c, const VdHostValidateInput *in)
{
    g_autofree char *cpuinfo = read_host_file(c, "proc/cpuinfo");
    const char *flag = cpu_has_flag(cpuinfo, "vmx")   ? "vmx"
                       : cpu_has_flag(cpuinfo, "svm") ? "svm"
                                                      : NULL;

    if (flag)
        add(c, "QEMU", "for hardware virtualization", VD_CHECK_PASS,
            g_strdup_printf("CPU flag %s", flag), NULL);
    else
        add(c, "QEMU", "for hardware virtualization", VD_CHECK_FAIL,
            g_strdup("no vmx or svm flag in /proc/cpuinfo: only emulated CPUs are available, "
                     "performance will be significantly limited"),
            g_strdup("enable VT-x or AMD-V in the firmware setup (in a VM: nested "
                     "virtualization on the outer hypervisor); until then " KVM_FIX));

    if (!host_exists(c, "dev/kvm")) {
        add(c, "QEMU", "if device /dev/kvm exists", VD_CHECK_FAIL,
            g_strdup("no /dev/kvm: the kvm module is not loaded, or this is a container "
                     "without the device"),
            g_strdup("modprobe kvm_intel (or kvm_amd); in a container, pass /dev/kvm in; "
                     "until then " KVM_FIX));
    } else {
        add(c, "QEMU", "if device /dev/kvm exists", VD_CHECK_PASS, NULL, NULL);
        g_autofree char *kvm = host_path(c, "dev/kvm");
        if (access(kvm, R_OK | W_OK) == 0)
            add(c, "QEMU", "if device /dev/kvm is accessible", VD_CHECK_PASS, NULL, NULL);
        else
            add(c, "QEMU", "if device /dev/kvm is accessible", VD_CHECK_FAIL,
                g_strdup_printf("cannot open /dev/kvm for reading and writing: %s",
                                g_strerror(errno)),
                g_strdup("give the daemon's user read-write access (group kvm, mode 0660)"));
    }

    /* The real test: does KVM run guest kernel code at hardware speed?
     * A /dev/kvm that exists and opens proves nothing (kvm-probe.h). */
    const char *check = "if KVM runs guest kernel code at hardware speed";
    switch (in->kvm_status) {
    case VD_KVM_USABLE:
        add(c, "QEMU", check, VD_CHECK_PASS,
            g_strdup_printf("%.0f ring-0 iterations/s", in->kvm_rate), NULL);
        break;
    case VD_KVM_ABSENT:
    case VD_KVM_NO_ACCESS:
    case VD_KVM_SLOW:
    case VD_KVM_BROKEN:
        add(c, "QEMU", check, VD_CHECK_FAIL,
            g_strdup_printf("KVM %s: %s", vd_kvm_status_to_string(in->kvm_status),
                            in->kvm_detail && *in->kvm_detail ? in->kvm_detail : "no detail"),
            g_strdup(KVM_FIX));
        break;
    }
}

static void
check_devices(Checks *c)
{
    if (host_exists(c, "dev/vhost-net"))
        add(c, "QEMU", "if device /dev/vhost-net exists", VD_CHECK_PASS, NULL, NULL);
    else
        add(c, "QEMU", "if device /dev/vhost-net exists", VD_CHECK_WARN,
            g_strdup("virtio network packets are moved by QEMU's own thread instead of the "
                     "kernel's vhost, which is slower"),
            g_strdup("modprobe vhost_net (and add vhost_net to /etc/modules)"));
    if (host_exists(c, "dev/net/tun"))
        add(c, "QEMU", "if device /dev/net/tun exists", VD_CHECK_PASS, NULL, NULL);
    else
        add(c, "QEMU", "if device /dev/net/tun exists", VD_CHECK_FAIL,
            g_strdup("guests cannot have network interfaces on a virtual network or bridge"),
            g_strdup("modprobe tun"));
}

/* ---- cgroups ---------------------------------------------------------- */

/* The controllers of /proc/cgroups whose "enabled" column is 1 (v1
 * names), and of the cgroup2 root's cgroup.controllers (v2 names). */
static void
check_cgroups(Checks *c)
{
    g_autofree char *v2_controllers = read_host_file(c, "sys/fs/cgroup/cgroup.controllers");
    g_autofree char *mounts = read_host_file(c, "proc/self/mounts");
    g_autofree char *proc_cgroups = read_host_file(c, "proc/cgroups");

    if (v2_controllers) {
        /* unified: cgroup2 at /sys/fs/cgroup */
        g_auto(GStrv) have = g_strsplit_set(g_strstrip(v2_controllers), " \n", -1);
        const char *wanted[] = {"cpu", "cpuset", "memory", "io", "pids"};
        add(c, "QEMU", "for the cgroup layout", VD_CHECK_PASS,
            g_strdup("unified (cgroup v2 at /sys/fs/cgroup)"), NULL);
        for (guint i = 0; i < G_N_ELEMENTS(wanted); i++) {
            g_autofree char *check =
                g_strdup_printf("for cgroup '%s' controller support", wanted[i]);
            if (g_strv_contains((const char *const *)have, wanted[i]))
                add(c, "QEMU", check, VD_CHECK_PASS, NULL, NULL);
            else
                add(c, "QEMU", check, VD_CHECK_WARN,
                    g_strdup_printf("cgroup v2 offers no '%s' controller: the guest limits "
                                    "that need it cannot be applied",
                                    wanted[i]),
                    g_strdup_printf("enable it in the kernel (cgroup_enable=%s) or free it "
                                    "from cgroup v1 (cgroup_no_v1=%s)",
                                    wanted[i], wanted[i]));
        }
        return;
    }

    /* v1 or hybrid: one mount per v1 controller, maybe cgroup2 beside */
    gboolean hybrid = mounts && strstr(mounts, " cgroup2 ") != NULL;
    add(c, "QEMU", "for the cgroup layout", VD_CHECK_WARN,
        g_strdup_printf("%s: the controllers are on cgroup v1%s", hybrid ? "hybrid" : "legacy",
                        hybrid ? ", cgroup2 is mounted without controllers" : ""),
        g_strdup("boot with systemd.unified_cgroup_hierarchy=1 for the unified cgroup v2 "
                 "layout, which per-guest limits (<cputune>, <memtune>, <blkiotune>) are "
                 "applied with"));
    const char *wanted[] = {"cpu", "cpuacct", "cpuset", "memory", "devices", "blkio", "pids"};
    g_auto(GStrv) lines = g_strsplit(proc_cgroups ? proc_cgroups : "", "\n", -1);
    for (guint i = 0; i < G_N_ELEMENTS(wanted); i++) {
        gboolean enabled = FALSE;
        for (guint l = 0; lines[l]; l++) {
            g_auto(GStrv) f = g_strsplit_set(lines[l], " \t", -1);
            if (g_strv_length(f) >= 4 && g_str_equal(f[0], wanted[i]) && g_str_equal(f[3], "1"))
                enabled = TRUE;
        }
        gboolean mounted = FALSE;
        g_auto(GStrv) mlines = g_strsplit(mounts ? mounts : "", "\n", -1);
        for (guint l = 0; mlines[l]; l++) {
            g_auto(GStrv) f = g_strsplit(mlines[l], " ", -1);
            if (g_strv_length(f) < 4 || !g_str_equal(f[2], "cgroup"))
                continue;
            g_auto(GStrv) opts = g_strsplit(f[3], ",", -1);
            if (g_strv_contains((const char *const *)opts, wanted[i]))
                mounted = TRUE;
        }
        g_autofree char *check = g_strdup_printf("for cgroup '%s' controller support", wanted[i]);
        if (enabled && mounted)
            add(c, "QEMU", check, VD_CHECK_PASS, NULL, NULL);
        else
            add(c, "QEMU", check, VD_CHECK_WARN,
                g_strdup(enabled ? "enabled in the kernel, but not mounted"
                                 : "not enabled in the kernel (/proc/cgroups)"),
                g_strdup_printf(enabled ? "mount it: mount -t cgroup -o %s cgroup "
                                          "/sys/fs/cgroup/%s"
                                        : "boot a kernel with the '%s' controller (%s)",
                                wanted[i], wanted[i]));
    }
}

/* ---- IOMMU -------------------------------------------------------------- */

static void
check_iommu(Checks *c)
{
    gboolean dmar = host_exists(c, "sys/firmware/acpi/tables/DMAR");
    gboolean ivrs = host_exists(c, "sys/firmware/acpi/tables/IVRS");
    g_autofree char *groups = host_path(c, "sys/kernel/iommu_groups");
    g_autoptr(GDir) dir = g_dir_open(groups, 0, NULL);
    gboolean enabled = dir && g_dir_read_name(dir) != NULL;

    if (dmar || ivrs)
        add(c, "QEMU", "for device assignment IOMMU support", VD_CHECK_PASS,
            g_strdup_printf("ACPI %s table", dmar ? "DMAR" : "IVRS"), NULL);
    else
        add(c, "QEMU", "for device assignment IOMMU support", VD_CHECK_WARN,
            g_strdup("no ACPI DMAR or IVRS table: the IOMMU is disabled in the firmware or the "
                     "platform has none; <hostdev> PCI assignment (VFIO) is not possible"),
            g_strdup("enable VT-d / AMD-Vi in the firmware setup"));
    if (enabled)
        add(c, "QEMU", "if IOMMU is enabled by kernel", VD_CHECK_PASS, NULL, NULL);
    else
        add(c, "QEMU", "if IOMMU is enabled by kernel", VD_CHECK_WARN,
            g_strdup("/sys/kernel/iommu_groups is empty: the kernel runs without an IOMMU"),
            g_strdup(ivrs ? "add amd_iommu=on iommu=pt to the kernel command line"
                          : "add intel_iommu=on iommu=pt to the kernel command line"));
}

/* "Dnsmasq version 2.89  Copyright ..." -> "Dnsmasq version 2.89" */
static char *
first_words(const char *text, guint n)
{
    g_auto(GStrv) words = g_strsplit_set(text, " \n", -1);
    g_autoptr(GString) out = g_string_new(NULL);

    for (guint i = 0, taken = 0; words[i] && taken < n; i++) {
        if (!*words[i])
            continue;
        g_string_append_printf(out, "%s%s", taken++ ? " " : "", words[i]);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

/* ---- networking --------------------------------------------------------- */

static void
check_network(Checks *c)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) tables = vd_firewall_list_tables("host-validate", &error);

    if (tables)
        add(c, "NET", "for nftables (NAT and filtering of virtual networks)", VD_CHECK_PASS, NULL,
            NULL);
    else
        add(c, "NET", "for nftables (NAT and filtering of virtual networks)", VD_CHECK_FAIL,
            g_strdup_printf("cannot list the nftables tables: %s", error->message),
            g_strdup("modprobe nf_tables; the daemon needs CAP_NET_ADMIN (run it as root)"));

    g_autofree char *nf = read_host_file(c, "proc/sys/net/bridge/bridge-nf-call-iptables");
    if (!nf)
        add(c, "NET", "for br_netfilter", VD_CHECK_PASS, g_strdup("not loaded"), NULL);
    else if (g_str_equal(g_strstrip(nf), "0"))
        add(c, "NET", "for br_netfilter", VD_CHECK_PASS,
            g_strdup("loaded, bridge-nf-call-iptables=0"), NULL);
    else
        add(c, "NET", "for br_netfilter", VD_CHECK_WARN,
            g_strdup("loaded with net.bridge.bridge-nf-call-iptables=1: frames of guests on a "
                     "bridge go through the host's iptables FORWARD chains, where Docker or a "
                     "firewall may drop them"),
            g_strdup("sysctl -w net.bridge.bridge-nf-call-iptables=0 "
                     "net.bridge.bridge-nf-call-ip6tables=0, or accept bridged frames in those "
                     "chains"));

    const char *env = g_getenv("VIRTD_DNSMASQ");
    g_autofree char *dnsmasq = env && *env ? g_strdup(env) : g_find_program_in_path("dnsmasq");
    g_autofree char *out = NULL;
    const char *argv[] = {dnsmasq, "--version", NULL};
    if (!dnsmasq)
        add(c, "NET", "for dnsmasq (DHCP and DNS of virtual networks)", VD_CHECK_FAIL,
            g_strdup("no dnsmasq in PATH: virtual networks with <dhcp> or DNS cannot start"),
            g_strdup("apt-get install dnsmasq-base"));
    else if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                           NULL, NULL, NULL) ||
             !out || !g_str_has_prefix(out, "Dnsmasq version"))
        add(c, "NET", "for dnsmasq (DHCP and DNS of virtual networks)", VD_CHECK_FAIL,
            g_strdup_printf("%s --version does not answer as dnsmasq", dnsmasq),
            g_strdup("apt-get install --reinstall dnsmasq-base"));
    else
        add(c, "NET", "for dnsmasq (DHCP and DNS of virtual networks)", VD_CHECK_PASS,
            first_words(out, 3), NULL);
}

/* ---- QEMU and pools ----------------------------------------------------- */

static void
check_qemu(Checks *c, const VdHostValidateInput *in)
{
    g_autofree char *check = g_strdup_printf(
        "for QEMU binary %s", in->qemu_binary ? in->qemu_binary : "qemu-system-x86_64");
    if (!in->qemu_version) {
        add(c, "QEMU", check, VD_CHECK_FAIL,
            g_strdup(in->qemu_error ? in->qemu_error : "not found"),
            g_strdup("apt-get install qemu-system-x86 (or set VIRTD_QEMU to a working binary)"));
        return;
    }
    add(c, "QEMU", check, VD_CHECK_PASS, g_strdup_printf("QEMU %s", in->qemu_version), NULL);
    add(c, "QEMU", "for QEMU's TCG accelerator (<domain type='qemu'>)",
        in->tcg ? VD_CHECK_PASS : VD_CHECK_FAIL,
        in->tcg ? NULL : g_strdup("this QEMU was built without TCG: guests need KVM"),
        in->tcg ? NULL : g_strdup("install Debian's qemu-system-x86, which has TCG"));

    g_autoptr(GString) list = g_string_new(NULL);
    gboolean pc = FALSE, q35 = FALSE;
    for (guint i = 0; i < in->machines->len; i++) {
        const char *m = g_ptr_array_index(in->machines, i);
        pc |= g_str_equal(m, "pc");
        q35 |= g_str_equal(m, "q35");
        if (i < 6)
            g_string_append_printf(list, "%s%s", i ? ", " : "", m);
    }
    if (in->machines->len > 6)
        g_string_append_printf(list, " and %u more", in->machines->len - 6);
    if (pc && q35)
        add(c, "QEMU", "for QEMU machine types pc and q35", VD_CHECK_PASS,
            g_strdup_printf("%u machine types: %s; default %s", in->machines->len, list->str,
                            in->default_machine ? in->default_machine : "none"),
            NULL);
    else
        add(c, "QEMU", "for QEMU machine types pc and q35", VD_CHECK_WARN,
            g_strdup_printf("%s lacks %s (it has: %s)", in->qemu_binary,
                            pc    ? "q35"
                            : q35 ? "pc"
                                  : "pc and q35",
                            list->str),
            g_strdup("name a machine type it has in <os><type machine='...'>"));
}

static void
check_pools(Checks *c, const VdHostValidateInput *in)
{
    for (guint i = 0; i + 1 < in->pools->len; i += 2) {
        const char *name = g_ptr_array_index(in->pools, i);
        const char *target = g_ptr_array_index(in->pools, i + 1);
        g_autofree char *check = g_strdup_printf("free space in pool '%s'", name);
        struct statvfs st;

        if (statvfs(target, &st) < 0) {
            add(c, "POOL", check, VD_CHECK_FAIL,
                g_strdup_printf("cannot read the file system of %s: %s", target, g_strerror(errno)),
                g_strdup_printf("vsh pool-build %s; vsh pool-start %s", name, name));
            continue;
        }
        guint64 avail = (guint64)st.f_bavail * st.f_frsize;
        guint64 size = (guint64)st.f_blocks * st.f_frsize;
        g_autofree char *free_text = vd_size_format_pretty(avail);
        g_autofree char *size_text = vd_size_format_pretty(size);
        char *detail = g_strdup_printf("%s free of %s in %s", free_text, size_text, target);
        if (avail < POOL_FAIL_BYTES)
            add(c, "POOL", check, VD_CHECK_FAIL, detail,
                g_strdup("free space there (vsh vol-delete of unused volumes) or put new disks "
                         "in a pool on another file system"));
        else if (size && avail < size * POOL_WARN_FRACTION)
            add(c, "POOL", check, VD_CHECK_WARN, detail,
                g_strdup("less than 10% is free: free space there before thin images fill it"));
        else
            add(c, "POOL", check, VD_CHECK_PASS, detail, NULL);
    }
}

JsonNode *
vd_host_validate_run(const VdHostValidateInput *in)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    Checks c = {.b = b, .root = in->root ? in->root : "/"};

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "checks");
    json_builder_begin_array(b);
    check_kvm(&c, in);
    check_devices(&c);
    check_cgroups(&c);
    check_iommu(&c);
    check_qemu(&c, in);
    check_network(&c);
    check_pools(&c, in);
    json_builder_end_array(b);
    for (guint r = VD_CHECK_PASS; r <= VD_CHECK_FAIL; r++) {
        g_autofree char *key = g_ascii_strdown(result_names[r], -1);
        json_builder_set_member_name(b, key);
        json_builder_add_int_value(b, c.counts[r]);
    }
    json_builder_end_object(b);
    return json_builder_get_root(b);
}
