/* nftables rulesets: golden files (tests/data/network/NAME.nft for each
 * network NAME.xml there, none for a network without rules, and
 * hand-NAME.nft for networks built here; rewritten with VD_REGENERATE=1),
 * then, as root, in a private network namespace:
 * every ruleset is applied for real (nft's parser is the judge of the
 * syntax), listed, replaced and removed. Host checks are in
 * test-firewall-host.c, packets in test-firewall-traffic.c. */
#include <arpa/inet.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "golden.h"
#include "network/firewall.h"
#include "test-netdef.h"
#include "test-netns.h"
#include "util/vd-error.h"

static const char *data_dir;

/* What the network XML files do not cover: a port range without an
 * address, and an IPv6-only routed network without DNS whose bridge name
 * needs its '-' and '.' replaced in the table name. */
static TestNet *
case_nat_port(void)
{
    TestNet *d = net_new("natport", VD_NET_FORWARD_NAT, "virbr2");
    add_ip(d, AF_INET, "192.168.131.1", 24, FALSE);
    d->nat_port_start = 500;
    d->nat_port_end = 1000;
    return d;
}

static TestNet *
case_route_ipv6_nodns(void)
{
    TestNet *d = net_new("route6", VD_NET_FORWARD_ROUTE, "vd-br.7");
    add_ip(d, AF_INET6, "fd00:1:2:3::1", 64, FALSE);
    d->dns.disabled = TRUE;
    return d;
}

typedef struct {
    const char *name;
    TestNet *(*make)(void);
} HandCase;

static const HandCase hand_cases[] = {
    {"hand-nat-port", case_nat_port},
    {"hand-route-ipv6-nodns", case_route_ipv6_nodns},
};

#define INSTANCE "0badcafe"

static GPtrArray *xml_names; /* NAME of each NAME.xml */

static char *
table_for(const VdNetworkDef *def)
{
    return vd_firewall_table_name(INSTANCE, def->bridge);
}

/* The network of NAME.xml as the daemon would run it: a network defined
 * without a bridge name gets one at define. */
static VdNetworkDef *
load_xml(const char *name)
{
    g_autofree char *xml = test_golden_read(data_dir, name, ".xml");
    g_autoptr(GError) err = NULL;
    VdNetworkDef *def;

    def = vd_network_def_parse(xml, &err);
    g_assert_no_error(err);
    if (!def->bridge)
        def->bridge = g_strdup("virbr0");
    return def;
}

/* @actual NULL: NAME.nft must not exist (a network without rules). */
static void
check_golden(const char *name, const char *actual)
{
    g_autofree char *path = test_golden_path(data_dir, name, ".nft");

    test_golden_check(path, actual);
}

static void
test_golden_xml(gconstpointer data)
{
    const char *name = data;
    g_autoptr(VdNetworkDef) def = load_xml(name);
    g_autofree char *table = table_for(def);
    g_autofree char *script = vd_firewall_ruleset(def, table);
    gboolean none = def->forward == VD_NET_FORWARD_OPEN || def->forward == VD_NET_FORWARD_BRIDGE;

    g_assert_true(none == (script == NULL));
    check_golden(name, script);
}

static void
test_golden_hand(gconstpointer data)
{
    const HandCase *c = data;
    g_autoptr(TestNet) def = c->make();
    g_autofree char *table = table_for(def);
    g_autofree char *script = vd_firewall_ruleset(def, table);

    g_assert_nonnull(script);
    check_golden(c->name, script);
}

static void
test_no_rules(void)
{
    g_autoptr(TestNet) open = net_new("open", VD_NET_FORWARD_OPEN, "virbr9");
    g_autoptr(TestNet) bridged = net_new("lan", VD_NET_FORWARD_BRIDGE, "br0");

    add_ip(open, AF_INET, "192.168.180.1", 24, TRUE);
    g_assert_null(vd_firewall_ruleset(open, "vd_0badcafe_virbr9"));
    g_assert_null(vd_firewall_ruleset(bridged, "vd_0badcafe_br0"));
}

static void
test_unquotable_names(void)
{
    g_autoptr(TestNet) quote = net_new("q", VD_NET_FORWARD_NAT, "vir\"br0");
    g_autoptr(TestNet) star = net_new("s", VD_NET_FORWARD_ROUTE, "virbr0");
    g_autofree char *a = NULL, *b = NULL;

    add_ip(quote, AF_INET, "192.168.190.1", 24, TRUE);
    star->forward_dev = g_strdup("eth*");
    /* never NULL (no rules), but a script nft refuses */
    a = vd_firewall_ruleset(quote, "vd_0badcafe_vir_br0");
    b = vd_firewall_ruleset(star, "vd_0badcafe_virbr0");
    g_assert_nonnull(a);
    g_assert_nonnull(b);
    g_assert_true(g_str_has_prefix(a, "virtd-refuses: bridge name 'vir?br0'"));
    g_assert_true(g_str_has_prefix(b, "virtd-refuses: forward dev name 'eth?'"));
    if (!test_no_netns) {
        g_autoptr(GError) err = NULL;
        g_assert_false(vd_firewall_apply(a, &err));
        g_assert_error(err, VD_ERROR, VD_ERROR_OPERATION_FAILED);
        g_test_message("%s", err->message);
        g_assert_nonnull(strstr(err->message, "bridge name 'vir?br0' has characters"));
    }
}

static void
test_names(void)
{
    g_autofree char *a = vd_firewall_instance("/var/tmp/root-a");
    g_autofree char *b = vd_firewall_instance("/var/tmp/root-b");
    g_autofree char *sys = vd_firewall_instance(NULL);
    g_autofree char *a2 = vd_firewall_instance("/var/tmp/root-a");
    g_autofree char *t = vd_firewall_table_name("1a2b3c4d", "my-br.0");

    g_assert_cmpuint(strlen(a), ==, 8);
    g_assert_cmpstr(a, ==, a2);
    g_assert_cmpstr(a, !=, b);
    g_assert_cmpstr(a, !=, sys);
    for (const char *p = a; *p; p++)
        g_assert_true(g_ascii_isxdigit(*p) && !g_ascii_isupper(*p));
    g_assert_cmpstr(t, ==, "vd_1a2b3c4d_my_br_0");
}

/* ---- run-time, in the private namespace ---- */

static gboolean
table_listed(const char *table)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) tables = vd_firewall_list_tables(INSTANCE, &err);

    g_assert_no_error(err);
    g_assert_nonnull(tables);
    for (guint i = 0; i < tables->len; i++) {
        g_assert_true(g_str_has_prefix(g_ptr_array_index(tables, i), "vd_" INSTANCE "_"));
        if (g_strcmp0(g_ptr_array_index(tables, i), table) == 0)
            return TRUE;
    }
    return FALSE;
}

static void
apply_and_remove(const char *name, VdNetworkDef *def)
{
    g_autofree char *table = table_for(def);
    g_autofree char *script = vd_firewall_ruleset(def, table);
    g_autoptr(GError) err = NULL;

    if (!script)
        return;
    g_test_message("applying %s", name);
    g_assert_true(vd_firewall_apply(script, &err));
    g_assert_no_error(err);
    g_assert_true(table_listed(table));
    g_assert_true(vd_firewall_remove(table, &err));
    g_assert_no_error(err);
    g_assert_false(table_listed(table));
}

static void
test_apply_all(void)
{
    if (test_without_netns())
        return;
    for (guint i = 0; i < xml_names->len; i++) {
        g_autoptr(VdNetworkDef) def = load_xml(g_ptr_array_index(xml_names, i));
        apply_and_remove(g_ptr_array_index(xml_names, i), def);
    }
    for (guint i = 0; i < G_N_ELEMENTS(hand_cases); i++) {
        g_autoptr(TestNet) def = hand_cases[i].make();
        apply_and_remove(hand_cases[i].name, def);
    }
}

static void
test_apply_cycle(void)
{
    g_autoptr(TestNet) def = NULL;
    g_autoptr(TestNet) other = NULL;
    g_autofree char *table = NULL, *other_table = NULL, *script = NULL, *script2 = NULL;
    g_autoptr(GError) err = NULL;

    if (test_without_netns())
        return;
    def = test_net_nat_default();
    other = test_net_routed();
    table = table_for(def);
    other_table = table_for(other);
    script = vd_firewall_ruleset(def, table);
    script2 = vd_firewall_ruleset(other, other_table);

    g_assert_true(vd_firewall_apply(script, &err));
    g_assert_no_error(err);
    g_assert_true(vd_firewall_apply(script2, &err));
    g_assert_true(table_listed(table));
    /* a stale table of the same name (a daemon killed before clean-up) is
     * replaced, not doubled */
    g_assert_true(vd_firewall_apply(script, &err));
    g_assert_no_error(err);
    g_assert_true(table_listed(table));
    /* another instance's table is not ours */
    {
        g_autoptr(GPtrArray) mine = NULL;
        g_assert_true(vd_firewall_apply("add table inet vd_ffffffff_virbr0\n", &err));
        mine = vd_firewall_list_tables(INSTANCE, &err);
        g_assert_no_error(err);
        g_assert_cmpuint(mine->len, ==, 2);
        g_assert_true(vd_firewall_remove("vd_ffffffff_virbr0", &err));
    }
    g_assert_true(vd_firewall_remove(table, &err));
    g_assert_no_error(err);
    g_assert_false(table_listed(table));
    g_assert_true(table_listed(other_table));
    /* removing what is gone is no error */
    g_assert_true(vd_firewall_remove(table, &err));
    g_assert_no_error(err);
    g_assert_true(vd_firewall_remove(other_table, &err));
    g_assert_false(vd_firewall_remove("bad name;", &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID_ARG);
}

static void
test_apply_error(void)
{
    g_autoptr(GError) err = NULL;

    if (test_without_netns())
        return;
    g_assert_false(vd_firewall_apply("add table inet vd_0badcafe_x\n"
                                     "add chain inet vd_0badcafe_x c { type filter hook "
                                     "nowhere priority 0; }\n",
                                     &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    /* nft's own diagnostic reaches the message */
    g_assert_nonnull(strstr(err->message, "unknown chain hook"));
    /* one transaction: the table of the first line was not left behind */
    g_assert_false(table_listed("vd_0badcafe_x"));
}

int
main(int argc, char **argv)
{
    test_netns_setup();

    g_test_init(&argc, &argv, NULL);
    /* the network XML of tests/conf: at least default, nat-address,
     * routed, isolated, open and an IPv6 one */
    xml_names = test_golden_inputs("VD_NETWORK_DATA_DIR", 6, &data_dir);
    if (!xml_names)
        return 1;
    test_golden_add_each("/firewall/golden", xml_names, test_golden_xml);
    for (guint i = 0; i < G_N_ELEMENTS(hand_cases); i++) {
        g_autofree char *path = g_strdup_printf("/firewall/golden/%s", hand_cases[i].name);
        g_test_add_data_func(path, &hand_cases[i], test_golden_hand);
    }
    g_test_add_func("/firewall/no-rules", test_no_rules);
    g_test_add_func("/firewall/names", test_names);
    g_test_add_func("/firewall/unquotable-names", test_unquotable_names);
    g_test_add_func("/firewall/netns/apply-all", test_apply_all);
    g_test_add_func("/firewall/netns/apply-cycle", test_apply_cycle);
    g_test_add_func("/firewall/netns/apply-error", test_apply_error);
    return g_test_run();
}