/* util/vd-cgroup*.c: the layout read from mountinfo and /proc/self/cgroup
 * (hybrid, v2-only, a controller missing), and the v1 and v2 writers run
 * against a fake tree in a temporary directory: which file gets which
 * value, the scale conversions, controllers enabled level by level on
 * v2, a hierarchy shared by two controllers made once, removal. The real
 * kernel's side is tests/integration/test_cgroup.py. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "util/vd-cgroup.h"
#include "util/vd-error.h"

/* This host's own layout (Debian 12 in a container, hybrid). */
static const char *hybrid_mountinfo =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
static const char *hybrid_self = "9:name=systemd:/\n8:pids:/\n7:blkio:/\n"
                                 "4:memory:/process_api/abc\n2:cpu,cpuacct:/\n0::/\n";

static const char *v2_mountinfo =
    "25 20 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
static const char *v2_self = "0::/system.slice/virtd.service\n";

static char *
read_file(const char *dir, const char *file)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_strdup("(missing)");
    return text;
}

static void
put_file(const char *dir, const char *file, const char *text)
{
    g_mkdir_with_parents(dir, 0755);
    g_autofree char *path = g_build_filename(dir, file, NULL);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void
test_layout_hybrid(void)
{
    g_autoptr(VdCgroupLayout) l = vd_cgroup_layout_parse(hybrid_mountinfo, hybrid_self, "/P");
    g_assert_false(l->v2[VD_CGROUP_CPU]);
    g_assert_cmpstr(l->base[VD_CGROUP_CPU], ==, "/P/sys/fs/cgroup/cpu,cpuacct");
    g_assert_cmpstr(l->base[VD_CGROUP_MEMORY], ==, "/P/sys/fs/cgroup/memory/process_api/abc");
    g_assert_cmpstr(l->base[VD_CGROUP_IO], ==, "/P/sys/fs/cgroup/blkio");
    g_assert_cmpstr(l->base[VD_CGROUP_PIDS], ==, "/P/sys/fs/cgroup/pids");
    for (int c = 0; c < VD_CGROUP_N; c++)
        g_assert_false(l->v2[c]);
}

static void
test_layout_v2_missing(void)
{
    g_autofree char *tmp = g_dir_make_tmp("vd-cgroup-XXXXXX", NULL);
    g_autofree char *own = g_build_filename(tmp, "sys/fs/cgroup/system.slice/virtd.service", NULL);
    put_file(own, "cgroup.controllers", "cpuset cpu memory pids\n");
    g_autoptr(VdCgroupLayout) l = vd_cgroup_layout_parse(v2_mountinfo, v2_self, tmp);
    g_assert_true(l->v2[VD_CGROUP_CPU]);
    g_assert_cmpstr(l->base[VD_CGROUP_MEMORY], ==, own);
    g_assert_null(l->base[VD_CGROUP_IO]);
    g_assert_nonnull(strstr(l->why[VD_CGROUP_IO], "does not offer it"));
    g_assert_nonnull(strstr(l->why[VD_CGROUP_IO], "cpuset cpu memory pids"));

    /* No cgroup file system at all. */
    g_autoptr(VdCgroupLayout) none = vd_cgroup_layout_parse("", "", tmp);
    g_assert_null(none->base[VD_CGROUP_MEMORY]);
    g_assert_nonnull(strstr(none->why[VD_CGROUP_MEMORY], "no cgroup v2 tree is mounted"));
    g_autoptr(VdCgroup) cg = vd_cgroup_new(none, "virtd.slice/x.scope");
    VdCgroupLimits limits = {.mem_max = 1 << 30};
    g_autoptr(GError) error = NULL;
    g_assert_false(vd_cgroup_apply(cg, &limits, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, "memory cgroup controller is not available"));
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmp);
    g_assert_cmpint(system(rm), ==, 0);
}

/* A daemon in a delegated v2 unit moves itself into the leaf
 * "supervisor", so that the unit's cgroup can hand controllers down; on
 * v1 there is nothing to do. */
static void
test_v2_supervisor_leaf(void)
{
    g_autofree char *tmp = g_dir_make_tmp("vd-cgroup-XXXXXX", NULL);
    g_autofree char *own = g_build_filename(tmp, "sys/fs/cgroup/system.slice/virtd.service", NULL);
    put_file(own, "cgroup.controllers", "cpuset cpu io memory pids\n");
    g_autoptr(VdCgroupLayout) l = vd_cgroup_layout_parse(v2_mountinfo, v2_self, tmp);
    g_autoptr(GError) error = NULL;
    g_assert_true(vd_cgroup_layout_leave_v2_base(l, 4242, &error));
    g_assert_no_error(error);
    g_autofree char *leaf = g_build_filename(own, VD_CGROUP_SUPERVISOR, NULL);
    g_autofree char *procs = read_file(leaf, "cgroup.procs");
    g_assert_cmpstr(procs, ==, "4242\n");

    g_autofree char *hybrid_tmp = g_dir_make_tmp("vd-cgroup-XXXXXX", NULL);
    g_autoptr(VdCgroupLayout) h = vd_cgroup_layout_parse(hybrid_mountinfo, hybrid_self, hybrid_tmp);
    g_assert_true(vd_cgroup_layout_leave_v2_base(h, 4242, &error));
    g_autofree char *none =
        g_build_filename(hybrid_tmp, "sys/fs/cgroup/unified", VD_CGROUP_SUPERVISOR, NULL);
    g_assert_false(g_file_test(none, G_FILE_TEST_EXISTS));
    g_autofree char *rm = g_strdup_printf("rm -rf '%s' '%s'", tmp, hybrid_tmp);
    g_assert_cmpint(system(rm), ==, 0);
}

/* Every kind of limit (the CPU quota and period are the tests' own). */
static VdCgroupLimits
all_limits(GArray *devices)
{
    VdCgroupDevice d = {
        .major = 8, .minor = 0, .weight = 300, .read_bps = 10485760, .write_iops = 200};
    g_array_append_val(devices, d);
    return (VdCgroupLimits){.cpu_shares = 2048,
                            .mem_max = 1024ULL << 20,
                            .mem_high = 768ULL << 20,
                            .mem_swap_max = 2048ULL << 20,
                            .io_weight = 800,
                            .io_devices = devices,
                            .pids_max = 4096};
}

static void
test_v2_writer(void)
{
    g_autofree char *tmp = g_dir_make_tmp("vd-cgroup-XXXXXX", NULL);
    g_autofree char *own = g_build_filename(tmp, "sys/fs/cgroup/system.slice/virtd.service", NULL);
    put_file(own, "cgroup.controllers", "cpuset cpu io memory pids\n");
    g_autoptr(VdCgroupLayout) l = vd_cgroup_layout_parse(v2_mountinfo, v2_self, tmp);
    g_autoptr(VdCgroup) cg = vd_cgroup_new(l, "virtd.slice/machine-virtd-web1.scope");
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) devs = g_array_new(FALSE, TRUE, sizeof(VdCgroupDevice));
    VdCgroupLimits limits = all_limits(devs);
    limits.cpu_quota = 150000;

    g_assert_true(vd_cgroup_create(cg, &error));
    g_assert_no_error(error);
    g_assert_true(vd_cgroup_apply(cg, &limits, &error));
    g_assert_no_error(error);
    g_assert_true(vd_cgroup_add_pid(cg, 4242, &error));

    const char *dir = vd_cgroup_dir(cg, VD_CGROUP_CPU);
    g_assert_cmpstr(dir, ==, vd_cgroup_dir(cg, VD_CGROUP_IO)); /* one v2 tree */
    g_autofree char *slice = g_build_filename(own, "virtd.slice", NULL);
    /* Each level hands every controller down before its child exists. */
    g_autofree char *sc_own = read_file(own, "cgroup.subtree_control");
    g_autofree char *sc_slice = read_file(slice, "cgroup.subtree_control");
    g_assert_cmpstr(sc_own, ==, "+cpu\n+memory\n+io\n+pids\n");
    g_assert_cmpstr(sc_slice, ==, "+cpu\n+memory\n+io\n+pids\n");
    struct {
        const char *file, *want;
    } expect[] = {
        {"cpu.weight", "200\n"},        /* 2048 * 100 / 1024 */
        {"cpu.max", "150000 100000\n"}, /* default period */
        {"memory.max", "1073741824\n"},
        {"memory.high", "805306368\n"},
        {"memory.swap.max", "1073741824\n"},    /* memory+swap 2 GiB - memory 1 GiB */
        {"io.weight", "default 160\n8:0 60\n"}, /* v1 scale / 5 */
        {"io.max", "8:0 rbps=10485760 wiops=200\n"},
        {"pids.max", "4096\n"},
        {"cgroup.procs", "4242\n"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(expect); i++) {
        g_autofree char *got = read_file(dir, expect[i].file);
        g_assert_cmpstr(got, ==, expect[i].want);
    }

    /* Unlimited and no quota. */
    g_autoptr(VdCgroup) cg2 = vd_cgroup_new(l, "virtd.slice/machine-virtd-web2.scope");
    VdCgroupLimits open = {.cpu_quota = -1,
                           .cpu_period = 20000,
                           .mem_max = G_MAXUINT64,
                           .mem_swap_max = G_MAXUINT64,
                           .pids_max = G_MAXUINT64};
    g_assert_true(vd_cgroup_create(cg2, NULL) && vd_cgroup_apply(cg2, &open, &error));
    const char *dir2 = vd_cgroup_dir(cg2, VD_CGROUP_MEMORY);
    g_autofree char *cpumax = read_file(dir2, "cpu.max");
    g_autofree char *memmax = read_file(dir2, "memory.max");
    g_autofree char *swapmax = read_file(dir2, "memory.swap.max");
    g_autofree char *pidsmax = read_file(dir2, "pids.max");
    g_assert_cmpstr(cpumax, ==, "max 20000\n");
    g_assert_cmpstr(memmax, ==, "max\n");
    g_assert_cmpstr(swapmax, ==, "max\n");
    g_assert_cmpstr(pidsmax, ==, "max\n");

    g_autoptr(GPtrArray) children = vd_cgroup_list_children(l, "virtd.slice");
    g_assert_cmpuint(children->len, ==, 2);

    g_assert_true(vd_cgroup_remove(cg, &error));
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(slice, G_FILE_TEST_IS_DIR)); /* the partition stays */
    g_assert_true(vd_cgroup_remove(cg, &error));           /* already gone: fine */
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmp);
    g_assert_cmpint(system(rm), ==, 0);
}

static void
test_v1_writer(void)
{
    g_autofree char *tmp = g_dir_make_tmp("vd-cgroup-XXXXXX", NULL);
    g_autoptr(VdCgroupLayout) l = vd_cgroup_layout_parse(hybrid_mountinfo, hybrid_self, tmp);
    for (int c = 0; c < VD_CGROUP_N; c++)
        g_mkdir_with_parents(l->base[c], 0755);
    g_autoptr(VdCgroup) cg = vd_cgroup_new(l, "virtd.slice/machine-virtd-web1.scope");
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) devs = g_array_new(FALSE, TRUE, sizeof(VdCgroupDevice));
    VdCgroupLimits limits = all_limits(devs);
    limits.cpu_period = 50000;
    limits.cpu_quota = -1;
    limits.pids_max = 100;
    g_assert_true(vd_cgroup_create(cg, &error));
    g_assert_true(vd_cgroup_apply(cg, &limits, &error));
    g_assert_no_error(error);
    g_assert_true(vd_cgroup_add_pid(cg, 4242, &error));
    g_autofree char *memdir =
        g_build_filename(l->base[VD_CGROUP_MEMORY], vd_cgroup_relpath(cg), NULL);
    g_assert_cmpstr(vd_cgroup_dir(cg, VD_CGROUP_MEMORY), ==, memdir);
    struct {
        VdCgroupController c;
        const char *file, *want;
    } expect[] = {
        {VD_CGROUP_CPU, "cpu.shares", "2048\n"},
        {VD_CGROUP_CPU, "cpu.cfs_period_us", "50000\n"},
        {VD_CGROUP_CPU, "cpu.cfs_quota_us", "-1\n"},
        {VD_CGROUP_CPU, "cgroup.procs", "4242\n"},
        {VD_CGROUP_MEMORY, "memory.limit_in_bytes", "1073741824\n"},
        {VD_CGROUP_MEMORY, "memory.soft_limit_in_bytes", "805306368\n"},
        {VD_CGROUP_MEMORY, "memory.memsw.limit_in_bytes", "2147483648\n"},
        {VD_CGROUP_MEMORY, "cgroup.procs", "4242\n"},
        {VD_CGROUP_IO, "blkio.weight", "800\n"},
        {VD_CGROUP_IO, "blkio.weight_device", "8:0 300\n"},
        {VD_CGROUP_IO, "blkio.throttle.read_bps_device", "8:0 10485760\n"},
        {VD_CGROUP_IO, "blkio.throttle.write_iops_device", "8:0 200\n"},
        {VD_CGROUP_IO, "blkio.throttle.write_bps_device", "(missing)"},
        {VD_CGROUP_PIDS, "pids.max", "100\n"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(expect); i++) {
        g_autofree char *got = read_file(vd_cgroup_dir(cg, expect[i].c), expect[i].file);
        g_assert_cmpstr(got, ==, expect[i].want);
    }
    /* v1 has no subtree_control. */
    g_autofree char *sc = read_file(l->base[VD_CGROUP_MEMORY], "cgroup.subtree_control");
    g_assert_cmpstr(sc, ==, "(missing)");
    g_assert_true(vd_cgroup_remove(cg, &error));
    for (int c = 0; c < VD_CGROUP_N; c++)
        g_assert_false(g_file_test(vd_cgroup_dir(cg, c), G_FILE_TEST_EXISTS));
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmp);
    g_assert_cmpint(system(rm), ==, 0);
}

static void
test_escape(void)
{
    struct {
        const char *in, *out;
    } cases[] = {
        {"web1", "web1"},       {"web-1", "web\\x2d1"},     {".hidden", "\\x2ehidden"},
        {"a.b_c:d", "a.b_c:d"}, {"a b/c", "a\\x20b\\x2fc"}, {"\xc3\xa9", "\\xc3\\xa9"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = vd_cgroup_escape(cases[i].in);
        g_assert_cmpstr(got, ==, cases[i].out);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cgroup/layout-hybrid", test_layout_hybrid);
    g_test_add_func("/cgroup/layout-v2-missing", test_layout_v2_missing);
    g_test_add_func("/cgroup/v2-writer", test_v2_writer);
    g_test_add_func("/cgroup/v2-supervisor-leaf", test_v2_supervisor_leaf);
    g_test_add_func("/cgroup/v1-writer", test_v1_writer);
    g_test_add_func("/cgroup/escape", test_escape);
    return g_test_run();
}
