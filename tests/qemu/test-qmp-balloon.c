/* The balloon's QMP commands (golden files tests/data/hotplug/balloon-
 * *.json) and the reading of query-balloon and guest-stats into
 * dommemstat's lines (qemu/qmp-balloon.h). */
#include <string.h>

#include "golden.h"
#include "qemu-test-util.h"
#include "qemu/qmp-balloon.h"

/* The command as QMP gets it, against tests/data/hotplug/@name.json. */
static void
check_command(const char *name, const char *cmd, JsonObject *args)
{
    tqmp_golden_check("hotplug", name, cmd, args);
}

static void
test_commands(void)
{
    /* setmem 1 GiB; the largest size QEMU takes. */
    check_command("balloon-setmem", "balloon", vd_qmp_balloon_args(1048576));
    JsonObject *max = vd_qmp_balloon_args((guint64)G_MAXINT64 / 1024);
    g_assert_cmpint(json_object_get_int_member(max, "value"), >, 0);
    json_object_unref(max);
    check_command("balloon-period", "qom-set", vd_qmp_balloon_period_args(10));
    check_command("balloon-stats", "qom-get", vd_qmp_balloon_stats_args());
}

static char *
render(GArray *stats)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < stats->len; i++) {
        const VdMemStat *m = &g_array_index(stats, VdMemStat, i);
        g_string_append_printf(s, "%s %" G_GUINT64_FORMAT "\n", m->name, m->value);
    }
    return g_string_free(s, FALSE);
}

static void
test_stats_parse(void)
{
    g_autoptr(JsonNode) balloon = tjson_parse("{\"actual\": 134217728}");
    /* QEMU 7.2's answer: sizes in bytes, -1 (as 2^64-1) for what the
     * guest did not report. */
    g_autoptr(JsonNode) guest = tjson_parse(
        "{\"last-update\": 1700000000, \"stats\": {\"stat-swap-in\": 4096, \"stat-swap-out\": 0,"
        " \"stat-major-faults\": 12, \"stat-minor-faults\": 3456, \"stat-free-memory\": 52428800,"
        " \"stat-total-memory\": 104857600, \"stat-available-memory\": 62914560,"
        " \"stat-disk-caches\": 1048576, \"stat-htlb-pgalloc\": 18446744073709551615,"
        " \"stat-htlb-pgfail\": -1}}");
    g_autoptr(GArray) all = vd_qmp_balloon_stats_parse(balloon, guest, 20480);
    g_autofree char *text = render(all);
    g_assert_cmpstr(text, ==,
                    "actual 131072\nswap_in 4\nswap_out 0\nmajor_fault 12\nminor_fault 3456\n"
                    "unused 51200\navailable 102400\nusable 61440\nlast_update 1700000000\n"
                    "disk_caches 1024\nrss 20480\n");

    /* No report from the guest yet (polling off): actual and rss only. */
    g_autoptr(JsonNode) none =
        tjson_parse("{\"last-update\": 0, \"stats\": {\"stat-swap-in\": -1}}");
    g_autoptr(GArray) some = vd_qmp_balloon_stats_parse(balloon, none, 1);
    g_autofree char *text2 = render(some);
    g_assert_cmpstr(text2, ==, "actual 131072\nrss 1\n");

    /* No balloon: rss alone; no process: nothing. */
    g_autoptr(GArray) rss = vd_qmp_balloon_stats_parse(NULL, NULL, 7);
    g_assert_cmpuint(rss->len, ==, 1);
    g_autoptr(GArray) empty = vd_qmp_balloon_stats_parse(NULL, NULL, -1);
    g_assert_cmpuint(empty->len, ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu/qmp-balloon/commands", test_commands);
    g_test_add_func("/qemu/qmp-balloon/stats-parse", test_stats_parse);
    return g_test_run();
}
