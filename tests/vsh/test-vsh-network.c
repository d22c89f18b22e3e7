/* Tests of the network commands' pure parts: net-list, net-info,
 * net-dhcp-leases and domifaddr rendered from canned JSON shaped like
 * docs/api.md's answers, compared byte for byte with virsh's layouts; the
 * <interface> attach-interface sends; and the --live/--config/--current/
 * --persistent rules. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test-json.h"
#include "util/vd-error.h"
#include "vsh/vsh-args.h"
#include "vsh/vsh-client.h"
#include "vsh/vsh-network.h"

/* The example of docs/shared virsh-reference: one active network. */
static void
test_net_list_virsh(void)
{
    g_autoptr(JsonNode) answer = test_json_parse(
        "{\"networks\": [{\"name\": \"default\", \"uuid\": \"u1\", \"active\": true,"
        " \"autostart\": true, \"persistent\": true, \"bridge\": \"virbr0\", \"forward\": \"nat\","
        " \"ips\": [\"192.168.122.1/24\"], \"dhcp\": true, \"notes\": []}]}");
    VshNetListFormat fmt = {0};
    g_autofree char *text = vsh_render_net_list(answer, &fmt, TRUE);

    g_assert_cmpstr(text, ==,
                    " Name      State    Autostart   Persistent\n"
                    "--------------------------------------------\n"
                    " default   active   yes         yes\n");
}

static const char *const three_json =
    "{\"networks\": ["
    "{\"name\": \"iso\", \"uuid\": \"22222222-2222-2222-2222-222222222222\", \"active\": true,"
    " \"autostart\": false, \"persistent\": false},"
    "{\"name\": \"Lab\", \"uuid\": \"33333333-3333-3333-3333-333333333333\", \"active\": false,"
    " \"autostart\": false, \"persistent\": true},"
    "{\"name\": \"default\", \"uuid\": \"11111111-1111-1111-1111-111111111111\", \"active\": true,"
    " \"autostart\": true, \"persistent\": true}]}";

static void
test_net_list_forms(void)
{
    g_autoptr(JsonNode) answer = test_json_parse(three_json);
    VshNetListFormat table = {0};
    VshNetListFormat names = {.name = TRUE};
    VshNetListFormat uuids = {.uuid = TRUE};
    VshNetListFormat transient = {.transient = TRUE};
    VshNetListFormat autostart = {.autostart = TRUE, .name = TRUE};
    VshNetListFormat both = {.autostart = TRUE, .no_autostart = TRUE, .name = TRUE};
    g_autofree char *t1 = vsh_render_net_list(answer, &table, TRUE);
    g_autofree char *t2 = vsh_render_net_list(answer, &table, FALSE);
    g_autofree char *t3 = vsh_render_net_list(answer, &names, TRUE);
    g_autofree char *t4 = vsh_render_net_list(answer, &uuids, TRUE);
    g_autofree char *t5 = vsh_render_net_list(answer, &transient, TRUE);
    g_autofree char *t6 = vsh_render_net_list(answer, &autostart, TRUE);
    g_autofree char *t7 = vsh_render_net_list(answer, &both, TRUE);

    /* Sorted by name ignoring case, as virsh. */
    g_assert_cmpstr(t1, ==,
                    " Name      State      Autostart   Persistent\n"
                    "----------------------------------------------\n"
                    " default   active     yes         yes\n"
                    " iso       active     no          no\n"
                    " Lab       inactive   no          yes\n");
    g_assert_cmpstr(t2, ==,
                    " default   active     yes   yes\n"
                    " iso       active     no    no\n"
                    " Lab       inactive   no    yes\n");
    g_assert_cmpstr(t3, ==, "default\niso\nLab\n");
    g_assert_cmpstr(t4, ==,
                    "11111111-1111-1111-1111-111111111111\n"
                    "22222222-2222-2222-2222-222222222222\n"
                    "33333333-3333-3333-3333-333333333333\n");
    g_assert_cmpstr(t5, ==,
                    " Name   State    Autostart   Persistent\n"
                    "-----------------------------------------\n"
                    " iso    active   no          no\n");
    g_assert_cmpstr(t6, ==, "default\n");
    g_assert_cmpstr(t7, ==, "default\niso\nLab\n");
}

static void
test_net_info(void)
{
    g_autoptr(JsonNode) answer = test_json_parse(
        "{\"network\": {\"name\": \"default\", \"uuid\": \"11111111-1111-1111-1111-111111111111\","
        " \"active\": true, \"autostart\": true, \"persistent\": true, \"bridge\": \"virbr1\","
        " \"notes\": [\"192.168.122.0/24 is routed on the host via virbr0: took 192.168.123.0/24\","
        " \"forwarded traffic passes DOCKER-USER (rule added)\"]}}");
    g_autoptr(JsonNode) bare =
        test_json_parse("{\"network\": {\"name\": \"iso\", \"uuid\": \"u\", \"active\": false,"
                        " \"autostart\": false, \"persistent\": false}}");
    g_autofree char *text =
        vsh_render_net_info(json_object_get_object_member(json_node_get_object(answer), "network"));
    g_autofree char *text2 =
        vsh_render_net_info(json_object_get_object_member(json_node_get_object(bare), "network"));

    g_assert_cmpstr(text, ==,
                    "Name:           default\n"
                    "UUID:           11111111-1111-1111-1111-111111111111\n"
                    "Active:         yes\n"
                    "Persistent:     yes\n"
                    "Autostart:      yes\n"
                    "Bridge:         virbr1\n"
                    "Notes:          192.168.122.0/24 is routed on the host via virbr0: took "
                    "192.168.123.0/24\n"
                    "                forwarded traffic passes DOCKER-USER (rule added)\n");
    /* No bridge, no notes: no such lines (virsh prints Bridge only when
     * there is one). */
    g_assert_cmpstr(text2, ==,
                    "Name:           iso\n"
                    "UUID:           u\n"
                    "Active:         no\n"
                    "Persistent:     no\n"
                    "Autostart:      no\n");
}

static void
test_net_leases(void)
{
    /* 1718791262 is 2024-06-19 10:01:02 UTC; TZ is UTC in main(). */
    g_autoptr(JsonNode) answer = test_json_parse(
        "{\"leases\": ["
        "{\"expiry_time\": 1718791262, \"mac\": \"52:54:00:4c:ee:9c\", \"type\": \"ipv4\","
        " \"ip\": \"192.168.122.45\", \"prefix\": 24, \"hostname\": \"vm1\","
        " \"client_id\": \"01:52:54:00:4c:ee:9c\", \"interface\": \"virbr0\"},"
        "{\"expiry_time\": 1718791300, \"mac\": \"52:54:00:0A:00:01\", \"type\": \"ipv4\","
        " \"ip\": \"192.168.122.3\", \"prefix\": 24, \"interface\": \"virbr0\"}]}");
    g_autoptr(JsonNode) empty = test_json_parse("{\"leases\": []}");
    g_autofree char *text = vsh_render_net_leases(answer, TRUE);
    g_autofree char *none = vsh_render_net_leases(empty, TRUE);

    /* Sorted by MAC; unknown hostname and client id are '-'. */
    g_assert_cmpstr(text, ==,
                    " Expiry Time           MAC address         Protocol   IP address          "
                    "Hostname   Client ID or DUID\n"
                    "------------------------------------------------------------------------"
                    "-----------------------------------\n"
                    " 2024-06-19 10:01:40   52:54:00:0A:00:01   ipv4       192.168.122.3/24    "
                    "-          -\n"
                    " 2024-06-19 10:01:02   52:54:00:4c:ee:9c   ipv4       192.168.122.45/24   "
                    "vm1        01:52:54:00:4c:ee:9c\n");
    g_assert_cmpstr(none, ==,
                    " Expiry Time   MAC address   Protocol   IP address   Hostname   Client ID or "
                    "DUID\n"
                    "------------------------------------------------------------------------"
                    "-----------\n");
}

static void
test_domifaddr(void)
{
    g_autoptr(JsonNode) answer =
        test_json_parse("{\"interfaces\": ["
                        "{\"name\": \"vnet0\", \"mac\": \"52:54:00:4c:ee:9c\", \"addrs\": ["
                        " {\"type\": \"ipv4\", \"addr\": \"192.168.122.45\", \"prefix\": 24},"
                        " {\"type\": \"ipv6\", \"addr\": \"fd00::45\", \"prefix\": 64}]},"
                        "{\"name\": \"vnet1\", \"mac\": \"52:54:00:00:00:01\", \"addrs\": []}]}");
    g_autofree char *text = vsh_render_domifaddr(answer, NULL, FALSE, TRUE);
    g_autofree char *full = vsh_render_domifaddr(answer, "vnet0", TRUE, FALSE);
    g_autofree char *one = vsh_render_domifaddr(answer, "vnet1", FALSE, FALSE);

    g_assert_cmpstr(text, ==,
                    " Name       MAC address          Protocol     Address\n"
                    "-------------------------------------------------------------------------"
                    "------\n"
                    " vnet0      52:54:00:4c:ee:9c    ipv4         192.168.122.45/24\n"
                    " -          -                    ipv6         fd00::45/64\n"
                    " vnet1      52:54:00:00:00:01    N/A          N/A\n");
    g_assert_cmpstr(full, ==,
                    " vnet0      52:54:00:4c:ee:9c    ipv4         192.168.122.45/24\n"
                    " vnet0      52:54:00:4c:ee:9c    ipv6         fd00::45/64\n");
    g_assert_cmpstr(one, ==, " vnet1      52:54:00:00:00:01    N/A          N/A\n");
}

static void
test_interface_xml(void)
{
    g_autoptr(GError) error = NULL;
    VshIfaceSpec net = {.type = "network",
                        .source = "default",
                        .mac = "52:54:00:00:00:01",
                        .model = "virtio",
                        .target = "vnet7"};
    VshIfaceSpec bridge = {.type = "bridge", .source = "br0"};
    VshIfaceSpec direct = {.type = "direct", .source = "eth0", .model = "e1000"};
    VshIfaceSpec user = {.type = "user"};
    VshIfaceSpec quote = {.type = "network", .source = "a'<b>"};
    VshIfaceSpec unknown = {.type = "vhostuser", .source = "/s"};
    VshIfaceSpec nosource = {.type = "bridge"};
    g_autofree char *x1 = vsh_build_interface_xml(&net, &error);
    g_autofree char *x2 = vsh_build_interface_xml(&bridge, &error);
    g_autofree char *x3 = vsh_build_interface_xml(&direct, &error);
    g_autofree char *x4 = vsh_build_interface_xml(&user, &error);
    g_autofree char *x5 = vsh_build_interface_xml(&quote, &error);

    g_assert_no_error(error);
    /* virsh's order: source, target, mac, model. */
    g_assert_cmpstr(x1, ==,
                    "<interface type='network'>\n"
                    "  <source network='default'/>\n"
                    "  <target dev='vnet7'/>\n"
                    "  <mac address='52:54:00:00:00:01'/>\n"
                    "  <model type='virtio'/>\n"
                    "</interface>\n");
    g_assert_cmpstr(x2, ==, "<interface type='bridge'>\n  <source bridge='br0'/>\n</interface>\n");
    g_assert_cmpstr(x3, ==,
                    "<interface type='direct'>\n  <source dev='eth0'/>\n"
                    "  <model type='e1000'/>\n</interface>\n");
    g_assert_cmpstr(x4, ==, "<interface type='user'>\n</interface>\n");
    /* A value cannot break out of its attribute. */
    g_assert_cmpstr(x5, ==,
                    "<interface type='network'>\n  <source network='a&apos;&lt;b&gt;'/>\n"
                    "</interface>\n");

    g_assert_null(vsh_build_interface_xml(&unknown, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_assert_cmpstr(error->message, ==, "No support for vhostuser in command 'attach-interface'");
    g_clear_error(&error);
    g_assert_null(vsh_build_interface_xml(&nosource, &error));
    g_assert_nonnull(strstr(error->message, "needs a source"));
}

/* Parses "attach-interface ARGS..." against the real command table. */
static VshCmd *
parse_cmd(const char *const *words)
{
    g_autoptr(GError) error = NULL;
    VshCmd *cmd = vsh_cmd_parse(words, &error);

    g_assert_no_error(error);
    return cmd;
}

static void
test_affect(void)
{
    static const struct {
        const char *flags[3];
        gboolean ok, live, config, need_active;
        const char *message;
    } cases[] = {
        {{NULL}, TRUE, FALSE, FALSE, FALSE, NULL},
        {{"--live", NULL}, TRUE, TRUE, FALSE, FALSE, NULL},
        {{"--config", NULL}, TRUE, FALSE, TRUE, FALSE, NULL},
        {{"--live", "--config", NULL}, TRUE, TRUE, TRUE, FALSE, NULL},
        {{"--persistent", NULL}, TRUE, FALSE, TRUE, TRUE, NULL},
        {{"--current", NULL}, TRUE, FALSE, FALSE, FALSE, NULL},
        {{"--persistent", "--current", NULL},
         FALSE,
         FALSE,
         FALSE,
         FALSE,
         "Options --persistent and --current are mutually exclusive"},
        {{"--current", "--live", NULL},
         FALSE,
         FALSE,
         FALSE,
         FALSE,
         "Options --current and --live are mutually exclusive"},
        {{"--config", "--current", NULL},
         FALSE,
         FALSE,
         FALSE,
         FALSE,
         "Options --current and --config are mutually exclusive"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        const char *words[8] = {"attach-interface", "web1", "network", "default"};
        g_autoptr(VshCmd) cmd = NULL;
        g_autoptr(GError) error = NULL;
        VshAffect affect = {0};
        guint n = 4;

        for (guint k = 0; cases[i].flags[k]; k++)
            words[n++] = cases[i].flags[k];
        cmd = parse_cmd(words);
        g_assert_cmpint(vsh_affect_from_cmd(cmd, TRUE, &affect, &error), ==, cases[i].ok);
        if (!cases[i].ok) {
            g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
            g_assert_cmpstr(error->message, ==, cases[i].message);
            continue;
        }
        g_assert_cmpint(affect.live, ==, cases[i].live);
        g_assert_cmpint(affect.config, ==, cases[i].config);
        g_assert_cmpint(affect.need_active, ==, cases[i].need_active);
    }
}

/* The command table: positionals in virsh's order, and the options users
 * type. */
static void
test_parse(void)
{
    g_autoptr(VshCmd) update = parse_cmd((const char *const[]){
        "net-update", "default", "add", "ip-dhcp-host",
        "<host mac='52:54:00:00:00:01' ip='192.168.122.9'/>", "--live", "--config", NULL});
    g_autoptr(VshCmd) setlink =
        parse_cmd((const char *const[]){"domif-setlink", "web1", "vnet0", "down", NULL});
    g_autoptr(VshCmd) detach = parse_cmd((const char *const[]){
        "detach-interface", "web1", "bridge", "--mac", "52:54:00:00:00:02", "--persistent", NULL});
    g_autoptr(GError) error = NULL;

    g_assert_cmpstr(vsh_cmd_get_string(update, "command"), ==, "add");
    g_assert_cmpstr(vsh_cmd_get_string(update, "section"), ==, "ip-dhcp-host");
    g_assert_true(g_str_has_prefix(vsh_cmd_get_string(update, "xml"), "<host "));
    g_assert_true(vsh_cmd_has(update, "live") && vsh_cmd_has(update, "config"));
    g_assert_cmpstr(vsh_cmd_get_string(setlink, "state"), ==, "down");
    g_assert_cmpstr(vsh_cmd_get_string(detach, "mac"), ==, "52:54:00:00:00:02");

    g_assert_null(
        vsh_cmd_parse((const char *const[]){"net-update", "default", "add", NULL}, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_clear_error(&error);
    g_assert_null(
        vsh_cmd_parse((const char *const[]){"net-dhcp-leases", "default", "--mac", NULL}, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
}

int
main(int argc, char **argv)
{
    /* Lease expiry prints in local time: make it UTC for fixed output. */
    g_setenv("TZ", "UTC", TRUE);
    tzset();
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vsh/network/net-list-virsh", test_net_list_virsh);
    g_test_add_func("/vsh/network/net-list-forms", test_net_list_forms);
    g_test_add_func("/vsh/network/net-info", test_net_info);
    g_test_add_func("/vsh/network/net-leases", test_net_leases);
    g_test_add_func("/vsh/network/domifaddr", test_domifaddr);
    g_test_add_func("/vsh/network/interface-xml", test_interface_xml);
    g_test_add_func("/vsh/network/affect", test_affect);
    g_test_add_func("/vsh/network/parse", test_parse);
    return g_test_run();
}
