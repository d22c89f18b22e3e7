/* Migration with copied storage: the QMP commands (golden files
 * tests/data/migration-storage/, one .json each) and the reading of the
 * mirrors in query-block-jobs (qemu/qemu-migration-storage.h). */
#include "golden.h"
#include "qemu-test-util.h"
#include "qemu/qemu-migration-storage.h"

static void
check_command(const char *name, const char *cmd, JsonObject *args)
{
    tqmp_golden_check("migration-storage", name, cmd, args);
}

static void
test_destination(void)
{
    check_command("getfd", "getfd", vd_qemu_getfd("migrate-nbd"));
    check_command("nbd-server-start-fd", "nbd-server-start",
                  vd_qemu_nbd_server_start_fd("migrate-nbd"));
    check_command("nbd-server-start-inet", "nbd-server-start",
                  vd_qemu_nbd_server_start_inet("10.13.0.2", 49153));
    check_command("nbd-server-start-inet6", "nbd-server-start",
                  vd_qemu_nbd_server_start_inet("fd00::2", 0));
    check_command("export-add", "block-export-add", vd_qemu_nbd_export_add("vda", "vda-format"));
    g_autofree char *id = vd_qemu_nbd_export_id("vdb");
    g_assert_cmpstr(id, ==, "migrate-vdb");
}

static void
test_source(void)
{
    check_command("nbd-client-add", "blockdev-add",
                  vd_qemu_nbd_client_add("vda", "10.13.0.2", 49153, "vda"));
    check_command("mirror-full", "blockdev-mirror",
                  vd_qemu_migration_mirror("vda", "vda-format", TRUE));
    /* --copy-storage-inc of a disk with an external snapshot on top. */
    check_command("mirror-top", "blockdev-mirror",
                  vd_qemu_migration_mirror("vdb", "vdb-ov1a2b-format", FALSE));
    check_command("mirror-cancel", "block-job-cancel",
                  vd_qemu_migration_mirror_cancel("vda", FALSE));
    check_command("mirror-cancel-force", "block-job-cancel",
                  vd_qemu_migration_mirror_cancel("vda", TRUE));
    check_command("mirror-dismiss", "job-dismiss", vd_qemu_migration_mirror_dismiss("vda"));
    check_command("nbd-client-del", "blockdev-del", vd_qemu_blockdev_del("migrate-vda-nbd"));
    g_autofree char *node = vd_qemu_nbd_client_node("vdc");
    g_assert_cmpstr(node, ==, "migrate-vdc-nbd");
}

static void
test_jobs_parse(void)
{
    g_autoptr(JsonNode) jobs = tjson_parse(
        "[{\"device\": \"commit-vda\", \"type\": \"commit\", \"len\": 1, \"offset\": 0,"
        "  \"status\": \"ready\", \"ready\": true},"
        " {\"device\": \"migrate-vda\", \"type\": \"mirror\", \"len\": 67108864,"
        "  \"offset\": 1048576, \"ready\": false, \"status\": \"running\"},"
        " {\"device\": \"migrate-vdb\", \"type\": \"mirror\", \"len\": 4096,"
        "  \"offset\": 4096, \"ready\": true, \"status\": \"ready\"},"
        " {\"device\": \"migrate-vdc\", \"type\": \"mirror\", \"len\": 4096, \"offset\": 512,"
        "  \"ready\": false, \"status\": \"concluded\", \"error\": \"No space left on device\"},"
        " {\"device\": \"migrate-vdd\", \"type\": \"mirror\", \"len\": 4096, \"offset\": 4096,"
        "  \"ready\": false, \"status\": \"concluded\"},"
        " {\"device\": \"migrate-vde\", \"type\": \"mirror\", \"len\": 4096, \"offset\": 4096,"
        "  \"ready\": false, \"status\": \"pending\"}]");
    VdMirrorInfo info = {0};

    vd_qemu_migration_mirror_find(jobs, "vda", &info);
    g_assert_cmpint(info.state, ==, VD_MIRROR_RUNNING);
    g_assert_cmpuint(info.offset, ==, 1048576);
    g_assert_cmpuint(info.len, ==, 67108864);
    g_assert_null(info.error);
    vd_qemu_migration_mirror_find(jobs, "vdb", &info);
    g_assert_cmpint(info.state, ==, VD_MIRROR_READY);
    vd_qemu_migration_mirror_find(jobs, "vdc", &info);
    g_assert_cmpint(info.state, ==, VD_MIRROR_CONCLUDED);
    g_assert_cmpstr(info.error, ==, "No space left on device");
    vd_qemu_migration_mirror_find(jobs, "vdd", &info);
    g_assert_cmpint(info.state, ==, VD_MIRROR_CONCLUDED);
    g_assert_null(info.error);
    vd_qemu_migration_mirror_find(jobs, "vde", &info);
    g_assert_cmpint(info.state, ==, VD_MIRROR_RUNNING);
    /* Another tool's job of the same disk is not ours. */
    vd_qemu_migration_mirror_find(jobs, "vdf", &info);
    g_assert_cmpint(info.state, ==, VD_MIRROR_ABSENT);
    g_autoptr(JsonNode) none = tjson_parse("{}");
    vd_qemu_migration_mirror_find(none, "vda", &info);
    g_assert_cmpint(info.state, ==, VD_MIRROR_ABSENT);
    vd_mirror_info_clear(&info);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/migration-storage/destination", test_destination);
    g_test_add_func("/migration-storage/source", test_source);
    g_test_add_func("/migration-storage/jobs-parse", test_jobs_parse);
    return g_test_run();
}
