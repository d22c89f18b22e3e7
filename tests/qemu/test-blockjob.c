/* Block jobs' and external snapshots' QMP commands (golden files
 * tests/data/blockjob/, one .json each) and the reading of query-block-jobs and
 * query-block (qemu/qemu-blockjob.h). */
#include <string.h>

#include "golden.h"
#include "qemu-test-util.h"
#include "qemu/qemu-blockjob.h"
#include "qemu/qemu-fdset-paths.h"

/* The command as QMP gets it, against tests/data/blockjob/@name.json. */
static void
check_command(const char *name, const char *cmd, JsonObject *args)
{
    tqmp_golden_check("blockjob", name, cmd, args);
}

static void
test_commands(void)
{
    /* blockcommit --active (--pivot later): no top, QEMU mirrors the active layer. */
    check_command("commit-active", "block-commit",
                  vd_qemu_block_commit("vda", "vda-ov1a2b-format", NULL, NULL, 0, TRUE));
    /* blockcommit --top MID --base BASE --bandwidth 1 (MiB/s as bytes/s). */
    /* The images by node, the base's path for the header above the top. */
    VdChainImage mid = {.path = "/i/mid.qcow2", .format = "qcow2", .node = "vdb-b1-format"};
    VdChainImage base = {.path = "/i/base.qcow2", .format = "qcow2", .node = "vdb-b2-format"};
    check_command("commit-top-base", "block-commit",
                  vd_qemu_block_commit("vdb", "vdb-format", &mid, &base, 1048576, FALSE));
    /* A node not found (none): the file names, as QEMU opened them. */
    VdChainImage mid_path = {.path = "/i/mid.qcow2", .format = "qcow2"};
    VdChainImage base_path = {.path = "/i/base.qcow2", .format = "qcow2"};
    check_command("commit-top-base-paths", "block-commit",
                  vd_qemu_block_commit("vdb", "vdb-format", &mid_path, &base_path, 0, FALSE));
    check_command("stream", "block-stream", vd_qemu_block_stream("vdc", "vdc-format", NULL, 0));
    VdChainImage vdc_base = {.path = "/i/base.qcow2", .format = "qcow2", .node = "vdc-b1-format"};
    check_command("stream-base", "block-stream",
                  vd_qemu_block_stream("vdc", "vdc-format", &vdc_base, 2097152));
    check_command("cancel", "block-job-cancel", vd_qemu_block_job_cancel("pull-vdc"));
    check_command("complete", "block-job-complete",
                  vd_qemu_block_job_complete("active-commit-vda"));
    check_command("set-speed", "block-job-set-speed",
                  vd_qemu_block_job_set_speed("pull-vdc", 1048576));
    check_command("overlay-storage", "blockdev-add",
                  vd_qemu_overlay_storage("vda", "1a2b", "/i/web.snap1"));
    check_command("overlay-storage-fdset", "blockdev-add",
                  vd_qemu_overlay_storage_fdset("vda", "1a2b", 12));
    check_command("overlay-format", "blockdev-add", vd_qemu_overlay_format("vda", "1a2b"));
    const char *targets[] = {"vda", "vdb", NULL};
    const char *roots[] = {"vda-format", "vdb-ov99-format", NULL};
    check_command("snapshot-transaction", "transaction",
                  vd_qemu_snapshot_transaction(targets, roots, "1a2b"));
}

static void
test_jobs_parse(void)
{
    g_autoptr(JsonNode) jobs = tjson_parse(
        "[{\"device\": \"other-job\", \"type\": \"stream\", \"len\": 1, \"offset\": 0},"
        " {\"device\": \"active-commit-vda\", \"type\": \"commit\", \"len\": 16777216,"
        "  \"offset\": 16777216, \"speed\": 0, \"ready\": true, \"status\": \"ready\"},"
        " {\"device\": \"pull-vdc\", \"type\": \"stream\", \"len\": 33554432,"
        "  \"offset\": 1048576, \"speed\": 1048576, \"ready\": false, \"status\": \"running\"},"
        " {\"device\": \"commit-vdd\", \"type\": \"commit\", \"len\": 10, \"offset\": 5}]");
    g_autoptr(VdBlockJobInfo) a = vd_qemu_blockjob_find(jobs, "vda");
    g_assert_nonnull(a);
    g_assert_cmpint(a->type, ==, VD_BLOCKJOB_ACTIVE_COMMIT);
    g_assert_true(a->ready);
    g_assert_cmpstr(vd_blockjob_type_label(a->type), ==, "Active Block Commit");
    g_autoptr(VdBlockJobInfo) c = vd_qemu_blockjob_find(jobs, "vdc");
    g_assert_nonnull(c);
    g_assert_cmpint(c->type, ==, VD_BLOCKJOB_PULL);
    g_assert_cmpuint(c->cur, ==, 1048576);
    g_assert_cmpuint(c->end, ==, 33554432);
    g_assert_cmpuint(c->speed, ==, 1048576);
    g_assert_cmpstr(vd_blockjob_type_raw(c->type), ==, "pull");
    g_autoptr(VdBlockJobInfo) dd = vd_qemu_blockjob_find(jobs, "vdd");
    g_assert_nonnull(dd);
    g_assert_cmpint(dd->type, ==, VD_BLOCKJOB_COMMIT);
    /* A job virtd did not start names no disk of ours. */
    g_assert_null(vd_qemu_blockjob_find(jobs, "vdb"));
    g_autoptr(JsonNode) none = tjson_parse("[]");
    g_assert_null(vd_qemu_blockjob_find(none, "vda"));
}

/* QEMU's names of files it holds as descriptors read back as paths: a
 * set's opaque text, the image file inside a "json:" name; the chain and
 * its nodes from answers read back so. */
static void
test_fdset_names(void)
{
    g_autoptr(JsonNode) sets =
        tjson_parse("[{\"fdset-id\": 4, \"fds\": [{\"fd\": 4, \"opaque\": \"/i/top.qcow2\"},"
                    "                              {\"fd\": 5, \"opaque\": \"/i/top.qcow2\"}]},"
                    " {\"fdset-id\": 6, \"fds\": [{\"fd\": 6, \"opaque\": \"/i/a,b.raw\"}]},"
                    " {\"fdset-id\": 9, \"fds\": [{\"fd\": 9}]}]");
    g_autoptr(GHashTable) paths = vd_qemu_fdset_paths(sets);
    g_assert_cmpuint(g_hash_table_size(paths), ==, 2);
    g_autofree char *top = vd_qemu_fdset_real_name(paths, "/dev/fdset/4");
    g_assert_cmpstr(top, ==, "/i/top.qcow2");
    g_autofree char *json = vd_qemu_fdset_real_name(
        paths, "json:{\"backing\": {\"driver\": \"raw\", \"file\": {\"driver\": \"file\", "
               "\"filename\": \"/dev/fdset/6\"}}, \"driver\": \"qcow2\", \"file\": "
               "{\"driver\": \"file\", \"filename\": \"/dev/fdset/4\"}}");
    g_assert_cmpstr(json, ==, "/i/top.qcow2");
    /* A set without the daemon's opaque, and a path: left as they are. */
    g_assert_null(vd_qemu_fdset_real_name(paths, "/dev/fdset/9"));
    g_assert_null(vd_qemu_fdset_real_name(paths, "/i/top.qcow2"));

    g_autoptr(JsonNode) block = tjson_parse(
        "[{\"qdev\": \"disk-vda\", \"inserted\": {\"node-name\": \"vda-format\", \"image\": {"
        "  \"filename\": \"json:{\\\"driver\\\": \\\"qcow2\\\", \\\"file\\\": {\\\"driver\\\": "
        "\\\"file\\\", \\\"filename\\\": \\\"/dev/fdset/4\\\"}}\", \"format\": \"qcow2\","
        "  \"backing-image\": {\"filename\": \"/dev/fdset/6\", \"format\": \"raw\"}}}}]");
    vd_qemu_fdset_rewrite(block, paths);
    g_autoptr(GPtrArray) chain = vd_qemu_block_chain(block, "vda", NULL);
    g_assert_cmpuint(chain->len, ==, 2);
    g_assert_cmpstr(((VdChainImage *)g_ptr_array_index(chain, 0))->path, ==, "/i/top.qcow2");
    g_assert_cmpstr(((VdChainImage *)g_ptr_array_index(chain, 1))->path, ==, "/i/a,b.raw");

    /* Nodes: the format node of each image (not its file node, not a
     * node of the same file at another depth). */
    g_autoptr(JsonNode) nodes = tjson_parse(
        "[{\"node-name\": \"vda-storage\", \"drv\": \"file\", \"file\": \"/dev/fdset/4\","
        "  \"backing_file_depth\": 0},"
        " {\"node-name\": \"old\", \"drv\": \"raw\", \"file\": \"/dev/fdset/6\","
        "  \"backing_file_depth\": 1},"
        " {\"node-name\": \"vda-b1-format\", \"drv\": \"raw\", \"file\": \"/dev/fdset/6\","
        "  \"backing_file_depth\": 0},"
        " {\"node-name\": \"vda-format\", \"drv\": \"qcow2\", \"file\": \"/dev/fdset/4\","
        "  \"backing_file_depth\": 1}]");
    vd_qemu_fdset_rewrite(nodes, paths);
    vd_qemu_chain_find_nodes(chain, nodes);
    g_assert_cmpstr(((VdChainImage *)g_ptr_array_index(chain, 0))->node, ==, "vda-format");
    g_assert_cmpstr(((VdChainImage *)g_ptr_array_index(chain, 1))->node, ==, "vda-b1-format");
}

static void
test_chain_parse(void)
{
    g_autoptr(JsonNode) block = tjson_parse(
        "[{\"device\": \"\", \"qdev\": \"/machine/peripheral/disk-vda/virtio-backend\","
        "  \"inserted\": {\"node-name\": \"vda-ov1a2b-format\", \"image\": {"
        "    \"filename\": \"/i/web.snap1\", \"format\": \"qcow2\", \"backing-image\": {"
        "      \"filename\": \"/i/web.qcow2\", \"format\": \"qcow2\", \"backing-image\": {"
        "        \"filename\": \"/i/base.raw\", \"format\": \"raw\"}}}}},"
        " {\"device\": \"\", \"qdev\": \"disk-sda\","
        "  \"inserted\": {\"node-name\": \"sda-format\", \"image\": {"
        "    \"filename\": \"/i/s.raw\", \"format\": \"raw\"}}},"
        " {\"device\": \"\", \"qdev\": \"/machine/peripheral/disk-vdaa/virtio-backend\","
        "  \"inserted\": {\"node-name\": \"vdaa-format\", \"image\": {"
        "    \"filename\": \"/i/aa.raw\", \"format\": \"raw\"}}},"
        " {\"device\": \"\", \"qdev\": \"disk-hdc\"}]");
    g_autofree char *root = NULL;
    g_autoptr(GPtrArray) chain = vd_qemu_block_chain(block, "vda", &root);
    g_assert_nonnull(chain);
    g_assert_cmpstr(root, ==, "vda-ov1a2b-format");
    g_assert_cmpuint(chain->len, ==, 3);
    VdChainImage *top = g_ptr_array_index(chain, 0), *bottom = g_ptr_array_index(chain, 2);
    g_assert_cmpstr(top->path, ==, "/i/web.snap1");
    g_assert_cmpstr(top->format, ==, "qcow2");
    g_assert_cmpstr(bottom->path, ==, "/i/base.raw");
    g_assert_cmpstr(bottom->format, ==, "raw");
    g_autofree char *sroot = NULL;
    g_autoptr(GPtrArray) s = vd_qemu_block_chain(block, "sda", &sroot);
    g_assert_nonnull(s);
    g_assert_cmpuint(s->len, ==, 1);
    g_assert_cmpstr(sroot, ==, "sda-format");
    /* vdaa is not vda's. */
    g_autoptr(GPtrArray) aa = vd_qemu_block_chain(block, "vdaa", NULL);
    g_assert_cmpstr(((VdChainImage *)g_ptr_array_index(aa, 0))->path, ==, "/i/aa.raw");
    /* An empty cdrom, a disk QEMU does not have. */
    g_assert_null(vd_qemu_block_chain(block, "hdc", NULL));
    g_assert_null(vd_qemu_block_chain(block, "vdz", NULL));
}

static void
test_ids(void)
{
    g_autofree char *a = vd_qemu_blockjob_id(VD_BLOCKJOB_ACTIVE_COMMIT, "vda");
    g_autofree char *c = vd_qemu_blockjob_id(VD_BLOCKJOB_COMMIT, "vda");
    g_autofree char *p = vd_qemu_blockjob_id(VD_BLOCKJOB_PULL, "sdb");
    g_autofree char *n = vd_qemu_overlay_node("vda", "ff00ff00ff", FALSE);
    g_assert_cmpstr(a, ==, "active-commit-vda");
    g_assert_cmpstr(c, ==, "commit-vda");
    g_assert_cmpstr(p, ==, "pull-sdb");
    /* QEMU's node names: at most 31 characters. */
    g_assert_cmpstr(n, ==, "vda-ovff00ff00ff-format");
    g_assert_cmpuint(strlen(n), <=, 31);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu/blockjob/fdset-names", test_fdset_names);
    g_test_add_func("/qemu/blockjob/commands", test_commands);
    g_test_add_func("/qemu/blockjob/jobs-parse", test_jobs_parse);
    g_test_add_func("/qemu/blockjob/chain-parse", test_chain_parse);
    g_test_add_func("/qemu/blockjob/ids", test_ids);
    return g_test_run();
}
