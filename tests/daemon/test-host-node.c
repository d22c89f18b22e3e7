/* The host's figures (daemon/host-node.c) and host-validate's checks
 * (daemon/host-validate.c) over fake roots: topologies that multiply out
 * and one that does not, /proc/stat's sums, a NUMA cell's meminfo, the
 * sysinfo XML with characters to escape, and the cgroup, device and IOMMU
 * checks of a unified and a hybrid host. */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/host-node.h"
#include "daemon/host-validate.h"
#include "util/vd-error.h"

static void
put(const char *root, const char *rel, const char *text)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    g_autofree char *dir = g_path_get_dirname(path);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void
rmtree(const char *path)
{
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *child = g_build_filename(path, name, NULL);
        if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
            rmtree(child);
        else
            g_unlink(child);
    }
    g_rmdir(path);
}

static void
put_cpu(const char *root, guint cpu, guint pkg, guint core)
{
    g_autofree char *p =
        g_strdup_printf("sys/devices/system/cpu/cpu%u/topology/physical_package_id", cpu);
    g_autofree char *c = g_strdup_printf("sys/devices/system/cpu/cpu%u/topology/core_id", cpu);
    g_autofree char *pv = g_strdup_printf("%u\n", pkg);
    g_autofree char *cv = g_strdup_printf("%u\n", core);
    put(root, p, pv);
    put(root, c, cv);
}

static gint64
member(JsonNode *node, const char *name)
{
    return json_object_get_int_member(json_node_get_object(node), name);
}

static void
test_node_info(void)
{
    g_autofree char *root = g_dir_make_tmp("vtplt-node-XXXXXX", NULL);
    /* 2 sockets x 2 cores x 2 threads, one NUMA node; CPU 8 offline */
    put(root, "sys/devices/system/cpu/online", "0-7\n");
    put(root, "sys/devices/system/node/online", "0\n");
    for (guint cpu = 0; cpu < 9; cpu++)
        put_cpu(root, cpu, cpu / 4, (cpu / 2) % 2);
    put(root, "proc/cpuinfo", "processor\t: 0\ncpu MHz\t\t: 2995.123\n\n");
    put(root, "proc/meminfo", "MemTotal:        8130880 kB\nMemFree:  1000 kB\n");
    g_autoptr(JsonNode) info = vd_host_node_info(root);
    g_assert_cmpint(member(info, "cpus"), ==, 8);
    g_assert_cmpint(member(info, "mhz"), ==, 2995);
    g_assert_cmpint(member(info, "sockets"), ==, 2);
    g_assert_cmpint(member(info, "cores"), ==, 2);
    g_assert_cmpint(member(info, "threads"), ==, 2);
    g_assert_cmpint(member(info, "nodes"), ==, 1);
    g_assert_cmpint(member(info, "memory_kib"), ==, 8130880);

    /* 3 CPUs, two on one core: does not multiply out, reported flat */
    put(root, "sys/devices/system/cpu/online", "0-2\n");
    put_cpu(root, 0, 0, 0);
    put_cpu(root, 1, 0, 0);
    put_cpu(root, 2, 0, 1);
    g_autoptr(JsonNode) flat = vd_host_node_info(root);
    g_assert_cmpint(member(flat, "cpus"), ==, 3);
    g_assert_cmpint(member(flat, "sockets"), ==, 1);
    g_assert_cmpint(member(flat, "cores"), ==, 3);
    g_assert_cmpint(member(flat, "threads"), ==, 1);
    rmtree(root);
}

static void
test_memory_and_cpu_stats(void)
{
    g_autofree char *root = g_dir_make_tmp("vtplt-node-XXXXXX", NULL);
    g_autoptr(GError) error = NULL;
    guint64 tick = 1000000000ULL / (guint64)sysconf(_SC_CLK_TCK);

    put(root, "proc/meminfo",
        "MemTotal:  100 kB\nMemFree:  40 kB\nMemAvailable: 60 kB\nBuffers:  5 kB\nCached:  "
        "20 kB\nSwapCached: 1 kB\n");
    put(root, "sys/devices/system/node/online", "0-1\n");
    put(root, "sys/devices/system/node/node1/meminfo",
        "Node 1 MemTotal:  50 kB\nNode 1 MemFree:   10 kB\n");
    put(root, "proc/stat",
        "cpu  10 1 20 300 4 2 3 0 0 0\ncpu0 5 1 10 150 4 2 3 0 0 0\ncpu1 5 0 10 150 0 0 0 0 0 "
        "0\nintr 1\n");
    g_autoptr(JsonNode) mem = vd_host_node_memory_stats(root, -1, &error);
    g_assert_no_error(error);
    g_assert_cmpint(member(mem, "total"), ==, 100);
    g_assert_cmpint(member(mem, "free"), ==, 40);
    g_assert_cmpint(member(mem, "buffers"), ==, 5);
    g_assert_cmpint(member(mem, "cached"), ==, 20); /* not SwapCached */
    g_autoptr(JsonNode) cell = vd_host_node_memory_stats(root, 1, &error);
    g_assert_no_error(error);
    g_assert_cmpint(member(cell, "total"), ==, 50);
    g_assert_cmpint(member(cell, "free"), ==, 10);
    g_assert_false(json_object_has_member(json_node_get_object(cell), "buffers"));
    g_assert_null(vd_host_node_memory_stats(root, 7, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_assert_nonnull(strstr(error->message, "no NUMA cell 7 on this host (cells: 0-1)"));
    g_clear_error(&error);

    g_autoptr(JsonNode) all = vd_host_node_cpu_stats(root, -1, &error);
    g_assert_no_error(error);
    g_assert_cmpint(member(all, "user"), ==, 11 * tick);   /* user + nice */
    g_assert_cmpint(member(all, "kernel"), ==, 25 * tick); /* system + irq + softirq */
    g_assert_cmpint(member(all, "idle"), ==, 300 * tick);
    g_assert_cmpint(member(all, "iowait"), ==, 4 * tick);
    g_autoptr(JsonNode) one = vd_host_node_cpu_stats(root, 1, &error);
    g_assert_cmpint(member(one, "kernel"), ==, 10 * tick);
    g_assert_null(vd_host_node_cpu_stats(root, 2, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    rmtree(root);
}

static void
test_sysinfo(void)
{
    g_autofree char *root = g_dir_make_tmp("vtplt-node-XXXXXX", NULL);
    const char *smbios[] = {"bios.vendor", "SeaBIOS",       "system.manufacturer",
                            "A&B <Corp>",  "chassis.asset", "x'y",
                            NULL};
    put(root, "proc/cpuinfo",
        "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\nmodel "
        "name\t: Xeon\nstepping\t: 7\ncpu MHz\t\t: 2000.000\nphysical id\t: 0\n\n"
        "processor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: Xeon\nphysical id\t: 0\n\n");
    g_autofree char *xml = vd_host_sysinfo_xml(root, smbios);
    g_assert_cmpstr(xml, ==,
                    "<sysinfo type='smbios'>\n"
                    "  <bios>\n"
                    "    <entry name='vendor'>SeaBIOS</entry>\n"
                    "  </bios>\n"
                    "  <system>\n"
                    "    <entry name='manufacturer'>A&amp;B &lt;Corp&gt;</entry>\n"
                    "  </system>\n"
                    "  <chassis>\n"
                    "    <entry name='asset'>x&apos;y</entry>\n"
                    "  </chassis>\n"
                    "  <processor>\n"
                    "    <entry name='socket_destination'>CPU 0</entry>\n"
                    "    <entry name='manufacturer'>GenuineIntel</entry>\n"
                    "    <entry name='signature'>Family 6, Model 85, Stepping 7</entry>\n"
                    "    <entry name='version'>Xeon</entry>\n"
                    "    <entry name='max_speed'>2000 MHz</entry>\n"
                    "  </processor>\n"
                    "</sysinfo>\n");
    rmtree(root);
}

/* The result of check @check in a vd_host_validate_run answer. */
static const char *
result_of(JsonNode *answer, const char *check, const char **detail, const char **fix)
{
    JsonArray *checks = json_object_get_array_member(json_node_get_object(answer), "checks");
    for (guint i = 0; i < json_array_get_length(checks); i++) {
        JsonObject *c = json_array_get_object_element(checks, i);
        if (!g_str_equal(json_object_get_string_member(c, "check"), check))
            continue;
        if (detail)
            *detail = json_object_get_string_member_with_default(c, "detail", NULL);
        if (fix)
            *fix = json_object_get_string_member_with_default(c, "fix", NULL);
        return json_object_get_string_member(c, "result");
    }
    g_error("no check '%s'", check);
}

static VdHostValidateInput *
input(const char *root, VdKvmStatus kvm)
{
    VdHostValidateInput *in = g_new0(VdHostValidateInput, 1);
    in->root = g_strdup(root);
    in->kvm_status = kvm;
    in->kvm_detail = g_strdup("KVM runs guest kernel code emulated, 1000 times too slow.");
    in->kvm_rate = 12345;
    in->qemu_binary = g_strdup("/usr/bin/qemu-system-x86_64");
    in->qemu_version = g_strdup("7.2.19");
    in->machines = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(in->machines, g_strdup("pc"));
    g_ptr_array_add(in->machines, g_strdup("q35"));
    in->default_machine = g_strdup("pc");
    in->tcg = TRUE;
    in->pools = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(in->pools, g_strdup("default"));
    g_ptr_array_add(in->pools, g_strdup(root));
    return in;
}

static void
test_validate_unified_host(void)
{
    g_autofree char *root = g_dir_make_tmp("vtplt-validate-XXXXXX", NULL);
    const char *detail = NULL, *fix = NULL;

    put(root, "proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu vme svm lm\n\n");
    put(root, "dev/kvm", "");
    put(root, "dev/net/tun", "");
    put(root, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
    put(root, "sys/firmware/acpi/tables/IVRS", "");
    put(root, "sys/kernel/iommu_groups/3/type", "DMA\n");
    g_autoptr(VdHostValidateInput) in = input(root, VD_KVM_USABLE);
    g_autoptr(JsonNode) a = vd_host_validate_run(in);
    g_assert_cmpstr(result_of(a, "for hardware virtualization", &detail, NULL), ==, "PASS");
    g_assert_cmpstr(detail, ==, "CPU flag svm");
    g_assert_cmpstr(result_of(a, "if device /dev/kvm exists", NULL, NULL), ==, "PASS");
    g_assert_cmpstr(result_of(a, "if KVM runs guest kernel code at hardware speed", &detail, NULL),
                    ==, "PASS");
    g_assert_cmpstr(detail, ==, "12345 ring-0 iterations/s");
    g_assert_cmpstr(result_of(a, "if device /dev/vhost-net exists", NULL, &fix), ==, "WARN");
    g_assert_nonnull(strstr(fix, "modprobe vhost_net"));
    g_assert_cmpstr(result_of(a, "if device /dev/net/tun exists", NULL, NULL), ==, "PASS");
    g_assert_cmpstr(result_of(a, "for the cgroup layout", NULL, NULL), ==, "PASS");
    g_assert_cmpstr(result_of(a, "for cgroup 'io' controller support", NULL, NULL), ==, "PASS");
    g_assert_cmpstr(result_of(a, "for device assignment IOMMU support", &detail, NULL), ==, "PASS");
    g_assert_cmpstr(detail, ==, "ACPI IVRS table");
    g_assert_cmpstr(result_of(a, "if IOMMU is enabled by kernel", NULL, NULL), ==, "PASS");
    g_assert_cmpstr(result_of(a, "for QEMU machine types pc and q35", NULL, NULL), ==, "PASS");
    g_assert_cmpstr(result_of(a, "for br_netfilter", &detail, NULL), ==, "PASS");
    g_assert_cmpstr(detail, ==, "not loaded");
    rmtree(root);
}

static void
test_validate_hybrid_host(void)
{
    g_autofree char *root = g_dir_make_tmp("vtplt-validate-XXXXXX", NULL);
    const char *detail = NULL, *fix = NULL;

    put(root, "proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu vme lm\n\n");
    put(root, "proc/cgroups",
        "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t3\t1\t1\ncpu\t1\t2\t1\n"
        "cpuacct\t2\t1\t1\nblkio\t7\t2\t1\nmemory\t4\t46\t1\ndevices\t5\t1\t1\npids\t8\t2\t0\n");
    put(root, "proc/self/mounts",
        "cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n"
        "cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0\n"
        "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n"
        "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n");
    put(root, "proc/sys/net/bridge/bridge-nf-call-iptables", "1\n");
    g_autoptr(VdHostValidateInput) in = input(root, VD_KVM_SLOW);
    g_ptr_array_remove_index(in->machines, 1); /* no q35 */
    g_autoptr(JsonNode) a = vd_host_validate_run(in);
    g_assert_cmpstr(result_of(a, "for hardware virtualization", NULL, &fix), ==, "FAIL");
    g_assert_nonnull(strstr(fix, "<domain type='qemu'>"));
    g_assert_cmpstr(result_of(a, "if device /dev/kvm exists", NULL, NULL), ==, "FAIL");
    g_assert_cmpstr(result_of(a, "if KVM runs guest kernel code at hardware speed", &detail, &fix),
                    ==, "FAIL");
    g_assert_cmpstr(detail, ==,
                    "KVM slow: KVM runs guest kernel code emulated, 1000 times too slow.");
    g_assert_true(g_str_has_prefix(fix, "use <domain type='qemu'>"));
    g_assert_cmpstr(result_of(a, "if device /dev/net/tun exists", NULL, &fix), ==, "FAIL");
    g_assert_cmpstr(fix, ==, "modprobe tun");
    g_assert_cmpstr(result_of(a, "for the cgroup layout", &detail, NULL), ==, "WARN");
    g_assert_true(g_str_has_prefix(detail, "hybrid: "));
    g_assert_cmpstr(result_of(a, "for cgroup 'memory' controller support", NULL, NULL), ==, "PASS");
    g_assert_cmpstr(result_of(a, "for cgroup 'devices' controller support", &detail, NULL), ==,
                    "WARN");
    g_assert_cmpstr(detail, ==, "enabled in the kernel, but not mounted");
    g_assert_cmpstr(result_of(a, "for cgroup 'pids' controller support", &detail, NULL), ==,
                    "WARN");
    g_assert_cmpstr(detail, ==, "not enabled in the kernel (/proc/cgroups)");
    g_assert_cmpstr(result_of(a, "for device assignment IOMMU support", NULL, NULL), ==, "WARN");
    g_assert_cmpstr(result_of(a, "if IOMMU is enabled by kernel", NULL, &fix), ==, "WARN");
    g_assert_nonnull(strstr(fix, "intel_iommu=on"));
    g_assert_cmpstr(result_of(a, "for QEMU machine types pc and q35", &detail, NULL), ==, "WARN");
    g_assert_nonnull(strstr(detail, "lacks q35"));
    g_assert_cmpstr(result_of(a, "for br_netfilter", NULL, NULL), ==, "WARN");
    JsonObject *o = json_node_get_object(a);
    g_assert_cmpint(json_object_get_int_member(o, "fail"), >=, 4);
    g_assert_cmpint(json_object_get_int_member(o, "pass") + json_object_get_int_member(o, "warn") +
                        json_object_get_int_member(o, "fail"),
                    ==, json_array_get_length(json_object_get_array_member(o, "checks")));
    rmtree(root);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/host-node/info", test_node_info);
    g_test_add_func("/host-node/memory-and-cpu-stats", test_memory_and_cpu_stats);
    g_test_add_func("/host-node/sysinfo", test_sysinfo);
    g_test_add_func("/host-validate/unified", test_validate_unified_host);
    g_test_add_func("/host-validate/hybrid", test_validate_hybrid_host);
    return g_test_run();
}
