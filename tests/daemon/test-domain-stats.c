/* The statistics collector's pure parts: /proc parsers, the libvirt
 * reason numbers, the qcow2 size, the query-blockstats and query-cpus-fast
 * readers, and a whole record built from a fake /proc and canned QMP
 * answers (tests/data/stats), compared key by key and in order with what
 * virsh domstats prints. */
#include <string.h>
#include <unistd.h>

#include "daemon/stats/domain-stats-priv.h"

static JsonNode *
parse(const char *text)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
    return json_node_copy(json_parser_get_root(p));
}

static JsonNode *
parse_file(const char *name)
{
    g_autofree char *path = g_build_filename(SRCDIR, "tests", "data", "stats", name, NULL);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return parse(text);
}

static void
test_proc_stat(void)
{
    guint64 ut = 0, st = 0;
    /* a command name with ") " in it must not shift the fields */
    const char *text = "4242 (qemu) x (y) S 1 4242 4242 0 -1 4194560 9013 0 0 0 "
                       "1234 567 0 0 20 0 5 0 100 0 0\n";
    g_assert_true(vd_stats_parse_proc_stat(text, &ut, &st));
    g_assert_cmpuint(ut, ==, 1234);
    g_assert_cmpuint(st, ==, 567);
    g_assert_false(vd_stats_parse_proc_stat("4242 (qemu) S 1 2", &ut, &st));
    g_assert_false(vd_stats_parse_proc_stat("garbage", &ut, &st));
    g_assert_false(vd_stats_parse_proc_stat(NULL, &ut, &st));
}

static void
test_status_schedstat(void)
{
    guint64 v = 0;
    g_assert_true(
        vd_stats_parse_status_rss("Name:\tqemu\nVmPeak:\t 9 kB\nVmRSS:\t  204800 kB\n", &v));
    g_assert_cmpuint(v, ==, 204800);
    g_assert_false(vd_stats_parse_status_rss("Name:\tkthread\n", &v));
    g_assert_true(vd_stats_parse_schedstat_wait("123456 7890 12\n", &v));
    g_assert_cmpuint(v, ==, 7890);
    g_assert_false(vd_stats_parse_schedstat_wait("x", &v));
}

static void
test_reason(void)
{
    g_assert_cmpint(vd_stats_reason_code(VD_STATE_RUNNING, VD_REASON_BOOTED), ==, 1);
    g_assert_cmpint(vd_stats_reason_code(VD_STATE_RUNNING, VD_REASON_UNPAUSED), ==, 5);
    g_assert_cmpint(vd_stats_reason_code(VD_STATE_PAUSED, VD_REASON_USER), ==, 1);
    g_assert_cmpint(vd_stats_reason_code(VD_STATE_PAUSED, VD_REASON_STARTING_UP), ==, 11);
    g_assert_cmpint(vd_stats_reason_code(VD_STATE_SHUTOFF, VD_REASON_DESTROYED), ==, 2);
    g_assert_cmpint(vd_stats_reason_code(VD_STATE_SHUTOFF, VD_REASON_UNKNOWN), ==, 0);
    g_assert_cmpint(vd_stats_reason_code(VD_STATE_CRASHED, VD_REASON_PANICKED), ==, 1);
}

static void
test_groups(void)
{
    guint g = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(vd_stats_groups_parse(NULL, &g, NULL));
    g_assert_cmpuint(g, ==, VD_STATS_ALL);
    g_assert_true(vd_stats_groups_parse("state,block", &g, NULL));
    g_assert_cmpuint(g, ==, VD_STATS_STATE | VD_STATS_BLOCK);
    g_assert_false(vd_stats_groups_parse("state,perf", &g, &error));
    g_assert_nonnull(strstr(error->message, "'perf'"));
}

static void
test_qcow2(void)
{
    guint8 h[32] = {'Q', 'F', 'I', 0xfb, 0, 0, 0, 3};
    guint64 cap = 0;
    h[24 + 4] = 0x40; /* 0x40000000: 1 GiB, big-endian at offset 24 */
    g_assert_true(vd_stats_qcow2_capacity(h, sizeof(h), &cap));
    g_assert_cmpuint(cap, ==, G_GUINT64_CONSTANT(1) << 30);
    g_assert_false(vd_stats_qcow2_capacity(h, 16, &cap));
    h[0] = 0;
    g_assert_false(vd_stats_qcow2_capacity(h, sizeof(h), &cap));
}

static void
test_blockstats_find(void)
{
    g_autoptr(JsonNode) a = parse_file("query-blockstats.json");
    JsonObject *vda = vd_stats_blockstats_find(a, "disk-vda", NULL);
    g_assert_nonnull(vda);
    g_assert_cmpstr(json_object_get_string_member(vda, "node-name"), ==, "vda-format");
    g_assert_true(vd_stats_blockstats_find(a, NULL, "sda-format") ==
                  vd_stats_blockstats_find(a, "disk-sda", NULL));
    /* "disk-vd" is not a prefix match of "disk-vda" */
    g_assert_null(vd_stats_blockstats_find(a, "disk-vd", NULL));
    g_assert_null(vd_stats_blockstats_find(a, "disk-vdb", "vdb-format"));
}

static void
test_cpus_fast(void)
{
    g_autoptr(JsonNode) a = parse("[{\"cpu-index\": 1, \"thread-id\": 302, \"qom-path\": \"x\"},"
                                  " {\"cpu-index\": 0, \"thread-id\": 301}]");
    g_autoptr(GArray) t = g_array_new(FALSE, FALSE, sizeof(guint64));
    g_assert_true(vd_stats_parse_cpus_fast(a, t));
    g_assert_cmpuint(t->len, ==, 4);
    g_assert_cmpuint(g_array_index(t, guint64, 0), ==, 0);
    g_assert_cmpuint(g_array_index(t, guint64, 1), ==, 301);
    g_assert_cmpuint(g_array_index(t, guint64, 3), ==, 302);
    g_autoptr(JsonNode) bad = parse("[{\"cpu-index\": 0}]");
    g_assert_false(vd_stats_parse_cpus_fast(bad, t));
}

static void
write_file(const char *dir, const char *rel, const char *text)
{
    g_autofree char *path = g_build_filename(dir, rel, NULL);
    g_autofree char *parent = g_path_get_dirname(path);
    g_assert_cmpint(g_mkdir_with_parents(parent, 0700), ==, 0);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static gboolean
fake_link(const char *dev, guint64 out[8])
{
    if (!g_str_equal(dev, "vnet0"))
        return FALSE;
    for (guint i = 0; i < 8; i++)
        out[i] = 100 + i;
    return TRUE;
}

static VdStatsSnap *
fake_snap(const char *proc)
{
    VdStatsSnap *s = g_new0(VdStatsSnap, 1);
    s->name = g_strdup("vm1");
    s->state = VD_STATE_RUNNING;
    s->reason = VD_REASON_BOOTED;
    s->active = TRUE;
    s->pid = 4242;
    s->vcpus = 4;
    s->vcpus_current = 2;
    s->tids = g_array_new(FALSE, FALSE, sizeof(guint64));
    guint64 t[4] = {0, 4250, 1, 4251};
    g_array_append_vals(s->tids, t, 4);
    s->mem_max_kib = 262144;
    s->mem_cur_kib = 131072;
    s->ifaces = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(s->ifaces, g_strdup("vnet0"));
    g_ptr_array_add(s->ifaces, g_strdup("")); /* user-mode */
    s->disks = g_ptr_array_new();
    VdStatsDisk *d = g_new0(VdStatsDisk, 1);
    d->target = g_strdup("vda");
    d->path = g_strdup("/nonexistent/hs-vda.img");
    d->device_id = g_strdup("disk-vda");
    d->node_name = g_strdup("vda-format");
    g_ptr_array_add(s->disks, d);
    s->blockstats = parse_file("query-blockstats.json");
    s->proc_root = proc;
    s->link_stats = fake_link;
    return s;
}

static char *
record_text(const VdStatsRecord *rec)
{
    GString *out = g_string_new(NULL);
    g_autoptr(GList) keys = json_object_get_members(rec->stats);
    for (GList *k = keys; k; k = k->next) {
        JsonNode *v = json_object_get_member(rec->stats, k->data);
        if (json_node_get_value_type(v) == G_TYPE_STRING)
            g_string_append_printf(out, "%s=%s\n", (char *)k->data, json_node_get_string(v));
        else
            g_string_append_printf(out, "%s=%" G_GINT64_FORMAT "\n", (char *)k->data,
                                   json_node_get_int(v));
    }
    return g_string_free(out, FALSE);
}

static void
test_record(void)
{
    g_autofree char *proc = g_dir_make_tmp("hs-proc-XXXXXX", NULL);
    long hz = sysconf(_SC_CLK_TCK);
    g_assert_cmpint(hz, ==, 100);
    write_file(proc, "4242/stat", "4242 (qemu-system-x86) S 1 1 1 0 -1 0 0 0 0 0 300 200 0\n");
    write_file(proc, "4242/status", "Name:\tqemu\nVmRSS:\t 51200 kB\n");
    write_file(proc, "4242/task/4250/stat", "4250 (CPU 0/TCG) R 1 1 1 0 -1 0 0 0 0 0 10 5 0\n");
    write_file(proc, "4242/task/4250/schedstat", "150000000 777 9\n");
    write_file(proc, "4242/task/4251/stat", "4251 (CPU 1/TCG) S 1 1 1 0 -1 0 0 0 0 0 1 1 0\n");
    write_file(proc, "4242/task/4251/schedstat", "20000000 888 9\n");

    VdStatsSnap *s = fake_snap(proc);
    g_autoptr(VdStatsRecord) rec = vd_stats_build_record(s, VD_STATS_ALL);
    g_autofree char *text = record_text(rec);
    g_assert_cmpstr(text, ==,
                    "state.state=1\nstate.reason=1\n"
                    "cpu.time=5000000000\ncpu.user=3000000000\ncpu.system=2000000000\n"
                    "balloon.current=131072\nballoon.maximum=262144\nballoon.rss=51200\n"
                    "vcpu.current=2\nvcpu.maximum=4\n"
                    "vcpu.0.state=1\nvcpu.0.time=150000000\nvcpu.0.wait=777\n"
                    "vcpu.1.state=1\nvcpu.1.time=20000000\nvcpu.1.wait=888\n"
                    "net.count=2\nnet.0.name=vnet0\n"
                    "net.0.rx.bytes=100\nnet.0.rx.pkts=101\nnet.0.rx.errs=102\nnet.0.rx.drop=103\n"
                    "net.0.tx.bytes=104\nnet.0.tx.pkts=105\nnet.0.tx.errs=106\nnet.0.tx.drop=107\n"
                    "block.count=1\nblock.0.name=vda\nblock.0.path=/nonexistent/hs-vda.img\n"
                    "block.0.rd.reqs=41\nblock.0.rd.bytes=1081344\nblock.0.rd.times=7000000\n"
                    "block.0.wr.reqs=16\nblock.0.wr.bytes=1048576\nblock.0.wr.times=9000000\n"
                    "block.0.fl.reqs=2\nblock.0.fl.times=300000\n");
    g_assert_cmpuint(rec->omitted->len, ==, 0);

    /* QEMU did not answer: the block figures go, the names stay, and the
     * record says why */
    g_clear_pointer(&s->blockstats, json_node_unref);
    s->block_problem = g_strdup("QEMU did not answer query-blockstats within 3000 ms");
    g_autoptr(VdStatsRecord) late = vd_stats_build_record(s, VD_STATS_BLOCK);
    g_autofree char *late_text = record_text(late);
    g_assert_cmpstr(late_text, ==,
                    "block.count=1\nblock.0.name=vda\nblock.0.path=/nonexistent/hs-vda.img\n");
    g_assert_cmpstr(g_ptr_array_index(late->omitted, 0), ==, "block");
    g_assert_nonnull(strstr(g_ptr_array_index(late->warnings, 0), "domain 'vm1'"));

    /* shut off: the state and what the definition says */
    s->active = FALSE;
    s->state = VD_STATE_SHUTOFF;
    s->reason = VD_REASON_DESTROYED;
    g_autoptr(VdStatsRecord) off = vd_stats_build_record(s, VD_STATS_ALL);
    g_autofree char *off_text = record_text(off);
    g_assert_cmpstr(off_text, ==,
                    "state.state=5\nstate.reason=2\nballoon.current=131072\n"
                    "balloon.maximum=262144\nvcpu.current=2\nvcpu.maximum=4\n"
                    "block.count=1\nblock.0.name=vda\nblock.0.path=/nonexistent/hs-vda.img\n");

    for (guint i = 0; i < s->disks->len; i++) {
        VdStatsDisk *d = g_ptr_array_index(s->disks, i);
        g_free(d->target);
        g_free(d->path);
        g_free(d->device_id);
        g_free(d->node_name);
        g_free(d);
    }
    g_ptr_array_set_size(s->disks, 0);
    vd_stats_snap_free(s);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", proc);
    g_assert_cmpint(system(cmd), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/stats/proc-stat", test_proc_stat);
    g_test_add_func("/stats/status-schedstat", test_status_schedstat);
    g_test_add_func("/stats/reason", test_reason);
    g_test_add_func("/stats/groups", test_groups);
    g_test_add_func("/stats/qcow2", test_qcow2);
    g_test_add_func("/stats/blockstats-find", test_blockstats_find);
    g_test_add_func("/stats/cpus-fast", test_cpus_fast);
    g_test_add_func("/stats/record", test_record);
    return g_test_run();
}
