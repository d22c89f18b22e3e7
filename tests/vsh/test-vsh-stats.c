/* domstats and domblkstat rendered from canned answers shaped like
 * docs/api.md's, compared byte for byte with virsh's layouts
 * (tools/virsh-domain-monitor.c: "Domain: 'NAME'", "  key=value", an
 * empty line; domblkstat's "vda rd_req N" and --human's labels padded to
 * 31). */
#include <string.h>

#include "test-json.h"
#include "vsh/vsh-domain-stats.h"

static void
test_domstats(void)
{
    g_autoptr(JsonNode) answer = test_json_parse(
        "{\"domains\": ["
        "{\"name\": \"vm1\", \"stats\": {\"state.state\": 1, \"state.reason\": 1,"
        " \"net.count\": 1, \"net.0.name\": \"vnet0\", \"net.0.rx.bytes\": 4096}},"
        "{\"name\": \"vm2\", \"stats\": {\"state.state\": 5, \"state.reason\": 0}}]}");
    g_autofree char *text = vsh_render_domstats(answer);

    g_assert_cmpstr(text, ==,
                    "Domain: 'vm1'\n"
                    "  state.state=1\n"
                    "  state.reason=1\n"
                    "  net.count=1\n"
                    "  net.0.name=vnet0\n"
                    "  net.0.rx.bytes=4096\n"
                    "\n"
                    "Domain: 'vm2'\n"
                    "  state.state=5\n"
                    "  state.reason=0\n"
                    "\n");
    g_autoptr(JsonNode) none = test_json_parse("{\"domains\": []}");
    g_autofree char *empty = vsh_render_domstats(none);
    g_assert_cmpstr(empty, ==, "");
}

static void
test_domusage(void)
{
    g_autoptr(JsonNode) answer = test_json_parse(
        "{\"range\": \"hour\", \"interval_s\": 10, \"points\": ["
        "{\"t\": 1764553800, \"cpu_pct\": null, \"mem_kib\": 204800, \"balloon_kib\": 262144,"
        " \"disk_rd_bps\": null, \"disk_wr_bps\": null, \"net_rx_bps\": null,"
        " \"net_tx_bps\": null},"
        "{\"t\": 1764553810, \"cpu_pct\": 12.34, \"mem_kib\": 205312, \"balloon_kib\": 262144,"
        " \"disk_rd_bps\": 0, \"disk_wr_bps\": 1048576, \"net_rx_bps\": 1536,"
        " \"net_tx_bps\": 512}]}");
    g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
    g_autofree char *text = vsh_render_domusage(answer, utc);

    g_assert_cmpstr(text, ==,
                    " Time                  CPU %   Memory MiB   Disk rd KiB/s   Disk wr KiB/s"
                    "   Net rx KiB/s   Net tx KiB/s\n"
                    "--------------------------------------------------------------------------"
                    "-------------------------------\n"
                    " 2025-12-01 01:50:00   -       200.0        -               -"
                    "               -              -\n"
                    " 2025-12-01 01:50:10   12.3    200.5        0.0             1024.0"
                    "          1.5            0.5\n");
}

static const char *const disk_json =
    "{\"device\": \"vda\", \"rd_req\": 8753, \"rd_bytes\": 245834240, \"wr_req\": 1530,"
    " \"wr_bytes\": 21704704, \"flush_operations\": 593, \"rd_total_times\": 4328549108,"
    " \"wr_total_times\": 8432917543, \"flush_total_times\": 1209853622}";

static void
test_domblkstat(void)
{
    g_autoptr(JsonNode) answer = test_json_parse(disk_json);
    g_autofree char *text = vsh_render_domblkstat(json_node_get_object(answer), "vda", FALSE);

    g_assert_cmpstr(text, ==,
                    "vda rd_req 8753\n"
                    "vda rd_bytes 245834240\n"
                    "vda wr_req 1530\n"
                    "vda wr_bytes 21704704\n"
                    "vda flush_operations 593\n"
                    "vda rd_total_times 4328549108\n"
                    "vda wr_total_times 8432917543\n"
                    "vda flush_total_times 1209853622\n");
}

static void
test_domblkstat_human(void)
{
    g_autoptr(JsonNode) answer = test_json_parse(disk_json);
    g_autofree char *text = vsh_render_domblkstat(json_node_get_object(answer), "vda", TRUE);

    g_assert_cmpstr(text, ==,
                    "Device: vda\n"
                    " number of read operations:      8753\n"
                    " number of bytes read:           245834240\n"
                    " number of write operations:     1530\n"
                    " number of bytes written:        21704704\n"
                    " number of flush operations:     593\n"
                    " total duration of reads (ns):   4328549108\n"
                    " total duration of writes (ns):  8432917543\n"
                    " total duration of flushes (ns): 1209853622\n");
}

static void
test_domblkstat_sum(void)
{
    g_autoptr(JsonNode) answer = test_json_parse(
        "{\"block.count\": 3, \"block.0.name\": \"vda\", \"block.0.rd.reqs\": 10,"
        " \"block.0.rd.bytes\": 100, \"block.0.wr.reqs\": 1, \"block.0.wr.bytes\": 5,"
        " \"block.0.fl.reqs\": 0, \"block.0.rd.times\": 7, \"block.0.wr.times\": 8,"
        " \"block.0.fl.times\": 9,"
        " \"block.1.name\": \"hdc\","
        " \"block.2.name\": \"vdb\", \"block.2.rd.reqs\": 5, \"block.2.rd.bytes\": 50,"
        " \"block.2.wr.reqs\": 2, \"block.2.wr.bytes\": 6, \"block.2.fl.reqs\": 1,"
        " \"block.2.rd.times\": 1, \"block.2.wr.times\": 1, \"block.2.fl.times\": 1}");
    g_autoptr(JsonObject) sum = vsh_domblkstat_sum(json_node_get_object(answer));
    g_autofree char *text = vsh_render_domblkstat(sum, "", FALSE);

    /* libvirt's device "" : the lines start with a space */
    g_assert_cmpstr(text, ==,
                    " rd_req 15\n rd_bytes 150\n wr_req 3\n wr_bytes 11\n"
                    " flush_operations 1\n rd_total_times 8\n wr_total_times 9\n"
                    " flush_total_times 10\n");
    g_autoptr(JsonNode) none = test_json_parse("{\"block.count\": 1, \"block.0.name\": \"hdc\"}");
    g_assert_null(vsh_domblkstat_sum(json_node_get_object(none)));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vsh/stats/domstats", test_domstats);
    g_test_add_func("/vsh/stats/domusage", test_domusage);
    g_test_add_func("/vsh/stats/domblkstat", test_domblkstat);
    g_test_add_func("/vsh/stats/domblkstat-human", test_domblkstat_human);
    g_test_add_func("/vsh/stats/domblkstat-sum", test_domblkstat_sum);
    return g_test_run();
}
