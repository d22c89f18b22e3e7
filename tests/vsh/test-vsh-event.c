/* vsh event's lines from the stream's event objects (docs/events.md),
 * compared with virsh's (tools/virsh-domain-event.c, virsh-network.c). */
#include "test-json.h"
#include "vsh/vsh-event.h"

static char *
fmt(const char *json, const char *name, gboolean timestamp)
{
    g_autoptr(JsonNode) node = test_json_parse(json);
    return vsh_event_format(json_node_get_object(node), name, timestamp);
}

#define LIFECYCLE(ev, detail)                                                                      \
    "{\"seq\": 7, \"time\": \"2026-12-01T02:00:00.123Z\", \"kind\": \"lifecycle\","              \
    " \"domain\": \"vm1\", \"uuid\": \"0c7e55d4-3f1b-4a8e-9d1c-2b6f0a9e4d01\", \"event\": \"" ev  \
    "\", \"detail\": \"" detail "\"}"

static void
test_lifecycle(void)
{
    g_autofree char *a = fmt(LIFECYCLE("Started", "Booted"), NULL, FALSE);
    g_assert_cmpstr(a, ==, "event 'lifecycle' for domain 'vm1': Started Booted\n");
    g_autofree char *b = fmt(LIFECYCLE("Stopped", "Destroyed"), "lifecycle", TRUE);
    g_assert_cmpstr(b, ==, "2026-12-01 02:00:00.123+0000: event 'lifecycle' for domain 'vm1': "
                           "Stopped Destroyed\n");
    g_autofree char *c = fmt(LIFECYCLE("Shutdown", "Finished after guest request"), NULL, FALSE);
    g_assert_cmpstr(c, ==, "event 'lifecycle' for domain 'vm1': Shutdown Finished after guest "
                           "request\n");
    /* another --event: not printed */
    g_autofree char *d = fmt(LIFECYCLE("Started", "Booted"), "reboot", FALSE);
    g_assert_null(d);
}

static void
test_other_kinds(void)
{
    static const struct {
        const char *json;
        const char *name;
        const char *text;
    } cases[] = {
        {"{\"kind\": \"reboot\", \"domain\": \"vm1\"}", NULL, "event 'reboot' for domain 'vm1'\n"},
        {"{\"kind\": \"watchdog\", \"domain\": \"vm1\", \"detail\": \"inject-nmi\"}", "watchdog",
         "event 'watchdog' for domain 'vm1': inject-nmi\n"},
        {"{\"kind\": \"balloon-change\", \"domain\": \"vm1\", \"actual_kib\": 131072}", NULL,
         "event 'balloon-change' for domain 'vm1': 131072KiB\n"},
        {"{\"kind\": \"device-removed\", \"domain\": \"vm1\", \"alias\": \"virtio-disk1\"}", NULL,
         "event 'device-removed' for domain 'vm1': virtio-disk1\n"},
        {"{\"kind\": \"device-added\", \"domain\": \"vm1\", \"alias\": \"net1\"}", "device-added",
         "event 'device-added' for domain 'vm1': net1\n"},
        {"{\"kind\": \"io-error\", \"domain\": \"vm1\", \"path\": \"/i/a.qcow2\", \"alias\":"
         " \"virtio-disk0\", \"action\": \"pause\", \"reason\": \"No space left on device\"}",
         "io-error", "event 'io-error' for domain 'vm1': /i/a.qcow2 (virtio-disk0) pause\n"},
        {"{\"kind\": \"io-error\", \"domain\": \"vm1\", \"path\": \"/i/a.qcow2\", \"alias\":"
         " \"virtio-disk0\", \"action\": \"pause\", \"reason\": \"No space left on device\"}",
         "io-error-reason",
         "event 'io-error' for domain 'vm1': /i/a.qcow2 (virtio-disk0) pause due to No space "
         "left on device\n"},
        {"{\"kind\": \"job\", \"domain\": \"vm1\", \"event\": \"Completed\", \"detail\": \"Save\","
         " \"elapsed_ms\": 1234}",
         "job-completed",
         "event 'job-completed' for domain 'vm1':\n\ttype: 3\n\toperation: 2\n"
         "\ttime_elapsed: 1234\n"},
        {"{\"kind\": \"job\", \"domain\": \"vm1\", \"event\": \"Failed\", \"detail\":"
         " \"Outgoing migration\", \"elapsed_ms\": 5}",
         NULL, "event 'job-completed' for domain 'vm1':\n\ttype: 4\n\toperation: 5\n"
               "\ttime_elapsed: 5\n"},
        {"{\"kind\": \"block-job\", \"domain\": \"vm1\", \"event\": \"Active Block Commit\","
         " \"detail\": \"ready\", \"disk\": \"vda\", \"path\": \"/i/top.qcow2\"}",
         NULL, "event 'block-job' for domain 'vm1': Active Block Commit for /i/top.qcow2 ready\n"},
        {"{\"kind\": \"block-job\", \"domain\": \"vm1\", \"event\": \"Block Pull\","
         " \"detail\": \"completed\", \"disk\": \"vda\", \"path\": \"/i/top.qcow2\"}",
         "block-job-2", "event 'block-job-2' for domain 'vm1': Block Pull for vda completed\n"},
        /* virsh has no event for a job's start */
        {"{\"kind\": \"job\", \"domain\": \"vm1\", \"event\": \"Started\", \"detail\": \"Save\"}",
         NULL, NULL},
        {"{\"kind\": \"net-lifecycle\", \"network\": \"default\", \"event\": \"Started\"}",
         "lifecycle", "event 'lifecycle' for network default: Started\n"},
        /* a kind a later daemon may add: not printed */
        {"{\"kind\": \"agent-lifecycle\", \"domain\": \"vm1\"}", NULL, NULL},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text = fmt(cases[i].json, cases[i].name, FALSE);
        g_assert_cmpstr(text, ==, cases[i].text);
    }
}

static void
test_names(void)
{
    guint n = g_strv_length((char **)vsh_domain_event_names);
    g_assert_cmpuint(n, ==, 27);
    g_assert_cmpstr(vsh_domain_event_names[0], ==, "lifecycle");
    g_assert_cmpstr(vsh_domain_event_names[26], ==, "memory-device-size-change");
    g_assert_cmpstr(vsh_event_kind_of("job-completed"), ==, "job");
    g_assert_cmpstr(vsh_event_kind_of("io-error-reason"), ==, "io-error");
    g_assert_cmpstr(vsh_event_kind_of("watchdog"), ==, "watchdog");
    g_assert_null(vsh_event_kind_of("graphics"));
}

static void
test_timestamp(void)
{
    g_autofree char *a = vsh_event_timestamp("2026-12-01T23:59:59.007Z");
    g_assert_cmpstr(a, ==, "2026-12-01 23:59:59.007+0000");
    g_assert_null(vsh_event_timestamp("2026-12-01T23:59:59Z"));
    g_assert_null(vsh_event_timestamp(NULL));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vsh/event/lifecycle", test_lifecycle);
    g_test_add_func("/vsh/event/other-kinds", test_other_kinds);
    g_test_add_func("/vsh/event/names", test_names);
    g_test_add_func("/vsh/event/timestamp", test_timestamp);
    return g_test_run();
}
