/* QEMU's migration commands (golden files tests/data/migration/)
 * and the reading of query-migrate (qemu/qemu-migration.h). */
#include "golden.h"
#include "qemu-test-util.h"
#include "qemu/qemu-migration.h"

static void
test_commands(void)
{
    tqmp_golden_check("migration", "caps-source", "migrate-set-capabilities",
                      vd_qemu_migration_caps_args(FALSE, TRUE, FALSE));
    tqmp_golden_check("migration", "caps-postcopy-incoming", "migrate-set-capabilities",
                      vd_qemu_migration_caps_args(TRUE, TRUE, TRUE));
    /* Defaults: QEMU's 300 ms, no bandwidth limit. */
    tqmp_golden_check("migration", "params-default", "migrate-set-parameters",
                      vd_qemu_migration_params_args(0, 0));
    tqmp_golden_check("migration", "params-set", "migrate-set-parameters",
                      vd_qemu_migration_params_args(50, 1));
    tqmp_golden_check("migration", "speed", "migrate-set-parameters",
                      vd_qemu_migration_speed_args(100));
    tqmp_golden_check("migration", "downtime", "migrate-set-parameters",
                      vd_qemu_migration_downtime_args(500));
    tqmp_golden_check("migration", "migrate", "migrate",
                      vd_qemu_migrate_args("tcp:192.0.2.7:40123"));
    tqmp_golden_check("migration", "incoming", "migrate-incoming",
                      vd_qemu_migrate_incoming_args("0.0.0.0"));
    tqmp_golden_check("migration", "incoming-v6", "migrate-incoming",
                      vd_qemu_migrate_incoming_args("fd00::2"));
    /* --tls: the credentials object of each end, the parameters. */
    tqmp_golden_check("migration", "tls-object-server", "object-add",
                      vd_qemu_migration_tls_object_args(VD_QEMU_MIGRATION_TLS_ID,
                                                        "/run/virtd/migration-tls-x", TRUE));
    tqmp_golden_check("migration", "tls-object-client", "object-add",
                      vd_qemu_migration_tls_object_args(VD_QEMU_MIGRATION_TLS_ID,
                                                        "/run/virtd/migration-tls-x", FALSE));
    tqmp_golden_check("migration", "tls-params-source", "migrate-set-parameters",
                      vd_qemu_migration_tls_params_args(VD_QEMU_MIGRATION_TLS_ID, "10.0.0.3"));
    tqmp_golden_check("migration", "tls-params-dest", "migrate-set-parameters",
                      vd_qemu_migration_tls_params_args(VD_QEMU_MIGRATION_TLS_ID, NULL));
    tqmp_golden_check("migration", "tls-params-off", "migrate-set-parameters",
                      vd_qemu_migration_tls_params_args(NULL, NULL));
    /* A bandwidth past what QEMU takes is unlimited, never negative. */
    JsonObject *huge = vd_qemu_migration_speed_args(G_MAXUINT64);
    g_assert_cmpint(json_object_get_int_member(huge, "max-bandwidth"), ==, G_MAXINT64);
    json_object_unref(huge);
    g_autofree char *uri = vd_qemu_migration_tcp_uri("[fd00::2]", 5);
    g_assert_cmpstr(uri, ==, "tcp:[fd00::2]:5");
}

static void
test_listen_port(void)
{
    /* QEMU 7.2's destination after migrate-incoming tcp:0.0.0.0:0. */
    g_autoptr(JsonNode) q = tjson_parse(
        "{\"status\": \"setup\", \"socket-address\": [{\"port\": \"41237\", \"ipv6\": false, "
        "\"host\": \"0.0.0.0\", \"type\": \"inet\"}]}");
    g_assert_cmpuint(vd_qemu_migration_listen_port(q), ==, 41237);
    g_autoptr(JsonNode) none = tjson_parse("{\"status\": \"setup\"}");
    g_assert_cmpuint(vd_qemu_migration_listen_port(none), ==, 0);
    g_autoptr(JsonNode) unix_only = tjson_parse(
        "{\"socket-address\": [{\"type\": \"unix\", \"path\": \"/x\"}]}");
    g_assert_cmpuint(vd_qemu_migration_listen_port(unix_only), ==, 0);
}

static void
test_info_parse(void)
{
    /* A source in its second pass, then completed. */
    g_autoptr(JsonNode) active = tjson_parse(
        "{\"expected-downtime\": 42, \"status\": \"active\", \"setup-time\": 3, "
        "\"total-time\": 1500, \"ram\": {\"total\": 269156352, \"postcopy-requests\": 0, "
        "\"dirty-sync-count\": 2, \"multifd-bytes\": 0, \"pages-per-second\": 30000, "
        "\"downtime-bytes\": 0, \"page-size\": 4096, \"remaining\": 1048576, "
        "\"postcopy-bytes\": 0, \"mbps\": 800.5, \"transferred\": 104857600, "
        "\"dirty-sync-missed-zero-copy\": 0, \"precopy-bytes\": 104857600, "
        "\"duplicate\": 40000, \"dirty-pages-rate\": 120, \"skipped\": 0, "
        "\"normal-bytes\": 102400000, \"normal\": 25000}}");
    VdQemuMigrationInfo info;
    vd_qemu_migration_info_parse(active, &info);
    g_assert_cmpstr(info.status, ==, "active");
    g_assert_true(info.has_ram);
    g_assert_cmpuint(info.ram_total, ==, 269156352);
    g_assert_cmpuint(info.ram_remaining, ==, 1048576);
    g_assert_cmpuint(info.ram_transferred, ==, 104857600);
    g_assert_cmpuint(info.ram_iteration, ==, 2);
    g_assert_cmpuint(info.ram_dirty_rate, ==, 120);
    g_assert_cmpuint(info.expected_downtime_ms, ==, 42);
    g_assert_cmpuint(info.ram_bps, ==, 100062500);
    g_assert_cmpuint(info.downtime_ms, ==, 0);
    g_assert_false(vd_qemu_migration_status_final(info.status));
    vd_qemu_migration_info_clear(&info);

    g_autoptr(JsonNode) failed =
        tjson_parse("{\"status\": \"failed\", \"error-desc\": \"Unable to write to socket\"}");
    vd_qemu_migration_info_parse(failed, &info);
    g_assert_true(vd_qemu_migration_status_final(info.status));
    g_assert_cmpstr(info.error_desc, ==, "Unable to write to socket");
    g_assert_false(info.has_ram);
    vd_qemu_migration_info_clear(&info);

    g_autoptr(JsonNode) done = tjson_parse(
        "{\"status\": \"completed\", \"downtime\": 17, \"total-time\": 2100, "
        "\"ram\": {\"total\": 10, \"remaining\": 0, \"transferred\": 10, \"mbps\": 0}}");
    vd_qemu_migration_info_parse(done, &info);
    g_assert_cmpuint(info.downtime_ms, ==, 17);
    g_assert_cmpuint(info.total_time_ms, ==, 2100);
    vd_qemu_migration_info_clear(&info);

    vd_qemu_migration_info_parse(NULL, &info);
    g_assert_cmpstr(info.status, ==, "");
    vd_qemu_migration_info_clear(&info);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu/migration/commands", test_commands);
    g_test_add_func("/qemu/migration/listen-port", test_listen_port);
    g_test_add_func("/qemu/migration/info-parse", test_info_parse);
    return g_test_run();
}
