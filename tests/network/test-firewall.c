/* nftables rulesets: golden files (tests/data/network/NAME.nft, rewritten
 * with VD_REGENERATE=1), then, as root, in a private network namespace:
 * every ruleset is applied for real (nft's parser is the judge of the
 * syntax), listed, replaced and removed; the host checks see a Docker-like
 * 'ip filter' table and add and remove their DOCKER-USER rules. */
#include <arpa/inet.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "network/firewall.h"
#include "test-netns.h"
#include "util/vd-error.h"

static const char *data_dir;
static gboolean regenerate;
static char *no_netns; /* why run-time tests are skipped, or NULL */

/* ---- networks built by hand (no dependence on the XML parser) ---- */

static void
ip_free(VdNetIpDef *ip)
{
    g_free(ip->address);
    g_ptr_array_unref(ip->ranges);
    g_ptr_array_unref(ip->hosts);
    g_free(ip);
}

static VdNetIpDef *
add_ip(VdNetworkDef *def, int family, const char *address, guint prefix, gboolean dhcp)
{
    VdNetIpDef *ip = g_new0(VdNetIpDef, 1);

    ip->family = family;
    ip->address = g_strdup(address);
    ip->prefix = prefix;
    ip->ranges = g_ptr_array_new_with_free_func(g_free);
    ip->hosts = g_ptr_array_new_with_free_func(g_free);
    if (dhcp) {
        /* only the count matters to the firewall */
        g_ptr_array_add(ip->ranges, g_new0(VdNetDhcpRange, 1));
        ip->has_dhcp = TRUE;
    }
    g_ptr_array_add(def->ips, ip);
    return ip;
}

static VdNetworkDef *
net_new(const char *name, VdNetForwardMode mode, const char *bridge)
{
    VdNetworkDef *def = g_new0(VdNetworkDef, 1);

    def->name = g_strdup(name);
    def->forward = mode;
    def->bridge = g_strdup(bridge);
    def->stp = TRUE;
    def->ips = g_ptr_array_new_with_free_func((GDestroyNotify)ip_free);
    return def;
}

static void
net_free(VdNetworkDef *def)
{
    g_free(def->name);
    g_free(def->bridge);
    g_free(def->forward_dev);
    g_free(def->nat_addr_start);
    g_free(def->nat_addr_end);
    g_ptr_array_unref(def->ips);
    g_free(def);
}

typedef VdNetworkDef TestNet;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TestNet, net_free)

static TestNet *
case_nat_default(void)
{
    TestNet *d = net_new("default", VD_NET_FORWARD_NAT, "virbr0");
    add_ip(d, AF_INET, "192.168.122.1", 24, TRUE);
    return d;
}

static TestNet *
case_nat_address(void)
{
    TestNet *d = net_new("nataddr", VD_NET_FORWARD_NAT, "virbr1");
    add_ip(d, AF_INET, "192.168.130.1", 24, TRUE);
    d->nat_addr_start = g_strdup("10.20.30.40");
    d->nat_addr_end = g_strdup("10.20.30.44");
    d->nat_port_start = 20000;
    d->nat_port_end = 30000;
    return d;
}

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
case_route(void)
{
    TestNet *d = net_new("routed", VD_NET_FORWARD_ROUTE, "virbr3");
    add_ip(d, AF_INET, "192.168.150.1", 24, TRUE);
    return d;
}

static TestNet *
case_isolated(void)
{
    TestNet *d = net_new("isolated", VD_NET_FORWARD_NONE, "virbr4");
    add_ip(d, AF_INET, "192.168.152.1", 24, TRUE);
    return d;
}

static TestNet *
case_ipv6(void)
{
    TestNet *d = net_new("dual", VD_NET_FORWARD_NAT, "virbr5");
    add_ip(d, AF_INET, "192.168.160.1", 24, TRUE);
    /* the host's address, not the subnet's: the ruleset masks it */
    add_ip(d, AF_INET6, "2001:db8:ca2:2::1", 64, TRUE);
    return d;
}

static TestNet *
case_forward_dev(void)
{
    TestNet *d = net_new("fwdev", VD_NET_FORWARD_NAT, "virbr6");
    add_ip(d, AF_INET, "192.168.170.1", 24, TRUE);
    d->forward_dev = g_strdup("eth0");
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
} Case;

static const Case cases[] = {
    { "nat-default", case_nat_default },   { "nat-address", case_nat_address },
    { "nat-port", case_nat_port },         { "route", case_route },
    { "isolated", case_isolated },         { "ipv6", case_ipv6 },
    { "forward-dev", case_forward_dev },   { "route-ipv6-nodns", case_route_ipv6_nodns },
};

#define INSTANCE "0badcafe"

static char *
table_for(const VdNetworkDef *def)
{
    return vd_firewall_table_name(INSTANCE, def->bridge);
}

static void
test_golden(gconstpointer data)
{
    const Case *c = data;
    g_autoptr(TestNet) def = c->make();
    g_autofree char *table = table_for(def);
    g_autofree char *script = vd_firewall_ruleset(def, table);
    g_autofree char *file = g_strconcat(c->name, ".nft", NULL);
    g_autofree char *path = g_build_filename(data_dir, file, NULL);
    g_autofree char *expected = NULL;

    g_assert_nonnull(script);
    if (regenerate) {
        g_assert_true(g_file_set_contents(path, script, -1, NULL));
        return;
    }
    if (!g_file_get_contents(path, &expected, NULL, NULL))
        g_test_message("missing %s (run with VD_REGENERATE=1 and review the diff)", path);
    g_assert_nonnull(expected);
    g_assert_cmpstr(script, ==, expected);
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
skip_without_netns(void)
{
    if (no_netns) {
        g_test_skip(no_netns);
        return TRUE;
    }
    return FALSE;
}

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
test_apply_all(void)
{
    if (skip_without_netns())
        return;
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(TestNet) def = cases[i].make();
        g_autofree char *table = table_for(def);
        g_autofree char *script = vd_firewall_ruleset(def, table);
        g_autoptr(GError) err = NULL;

        g_test_message("applying %s", cases[i].name);
        g_assert_true(vd_firewall_apply(script, &err));
        g_assert_no_error(err);
        g_assert_true(table_listed(table));
        g_assert_true(vd_firewall_remove(table, &err));
        g_assert_no_error(err);
        g_assert_false(table_listed(table));
    }
}

static void
test_apply_cycle(void)
{
    g_autoptr(TestNet) def = NULL;
    g_autoptr(TestNet) other = NULL;
    g_autofree char *table = NULL, *other_table = NULL, *script = NULL, *script2 = NULL;
    g_autoptr(GError) err = NULL;

    if (skip_without_netns())
        return;
    def = case_nat_default();
    other = case_route();
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

    if (skip_without_netns())
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

static guint
count(const char *haystack, const char *needle)
{
    guint n = 0;

    for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static char *
list_chain(const char *family, const char *table, const char *chain)
{
    const char *argv[] = { "nft", "list", "chain", family, table, chain, NULL };
    g_autofree char *out = NULL;
    int status = 0;

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               NULL, &status, NULL));
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    return g_steal_pointer(&out);
}

static void
test_host_docker(void)
{
    g_autoptr(TestNet) def = NULL;
    g_autoptr(TestNet) iso = NULL;
    g_autoptr(GPtrArray) notes = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *chain = NULL;
    VdFirewallNote *n;

    if (skip_without_netns())
        return;
    def = case_nat_default();
    iso = case_isolated();
    /* what Docker with iptables-nft leaves in the ruleset */
    g_assert_true(vd_firewall_apply("add table ip filter\n"
                                    "add chain ip filter FORWARD { type filter hook forward "
                                    "priority 0; policy drop; }\n"
                                    "add chain ip filter DOCKER-USER\n"
                                    "add rule ip filter DOCKER-USER counter return\n"
                                    "add rule ip filter FORWARD counter jump DOCKER-USER\n",
                                    &err));
    g_assert_no_error(err);

    notes = vd_firewall_check_host(def, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(notes->len, ==, 1);
    n = g_ptr_array_index(notes, 0);
    g_test_message("note: %s", n->message);
    g_assert_true(n->fixed);
    g_assert_nonnull(strstr(n->message, "FORWARD"));
    g_assert_nonnull(strstr(n->message, "table ip filter"));
    g_assert_nonnull(strstr(n->message, "DOCKER-USER"));
    g_assert_nonnull(strstr(n->message, "virbr0"));
    chain = list_chain("ip", "filter", "DOCKER-USER");
    g_assert_cmpuint(count(chain, "virtd bridge virbr0"), ==, 2);
    g_assert_nonnull(strstr(chain, "iifname \"virbr0\""));
    g_assert_nonnull(strstr(chain, "oifname \"virbr0\""));
    /* our accepts come before Docker's return */
    g_assert_true(strstr(chain, "virbr0") < strstr(chain, "return"));
    g_clear_pointer(&chain, g_free);

    /* a second check (daemon restart) does not add them twice */
    g_clear_pointer(&notes, g_ptr_array_unref);
    notes = vd_firewall_check_host(def, &err);
    g_assert_no_error(err);
    chain = list_chain("ip", "filter", "DOCKER-USER");
    g_assert_cmpuint(count(chain, "virtd bridge virbr0"), ==, 2);
    g_clear_pointer(&chain, g_free);

    /* isolated networks forward nothing: no note, no rule */
    g_clear_pointer(&notes, g_ptr_array_unref);
    notes = vd_firewall_check_host(iso, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(notes->len, ==, 0);
    chain = list_chain("ip", "filter", "DOCKER-USER");
    g_assert_null(strstr(chain, "virbr4"));
    g_clear_pointer(&chain, g_free);

    /* a rule of another bridge stays when ours goes */
    g_assert_true(vd_firewall_apply("insert rule ip filter DOCKER-USER iifname \"other0\" "
                                    "accept comment \"virtd bridge other0\"\n",
                                    &err));
    g_assert_true(vd_firewall_host_hooks_remove(def, &err));
    g_assert_no_error(err);
    chain = list_chain("ip", "filter", "DOCKER-USER");
    g_assert_cmpuint(count(chain, "virtd bridge virbr0"), ==, 0);
    g_assert_cmpuint(count(chain, "virtd bridge other0"), ==, 1);
    g_assert_nonnull(strstr(chain, "return"));
    /* removing again is no error */
    g_assert_true(vd_firewall_host_hooks_remove(def, &err));
    g_assert_no_error(err);
    g_assert_true(vd_firewall_apply("delete table ip filter\n", &err));
    /* and without any Docker chain at all, neither */
    g_assert_true(vd_firewall_host_hooks_remove(def, &err));
    g_assert_no_error(err);
}

static void
test_host_drop_policy(void)
{
    g_autoptr(TestNet) def = NULL;
    g_autoptr(GPtrArray) notes = NULL;
    g_autoptr(GError) err = NULL;
    VdFirewallNote *n;

    if (skip_without_netns())
        return;
    def = case_route();
    notes = vd_firewall_check_host(def, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(notes->len, ==, 0);
    g_clear_pointer(&notes, g_ptr_array_unref);

    g_assert_true(vd_firewall_apply("add table inet vdbhost\n"
                                    "add chain inet vdbhost vdbfwd { type filter hook forward "
                                    "priority 0; policy drop; }\n",
                                    &err));
    g_assert_no_error(err);
    notes = vd_firewall_check_host(def, &err);
    g_assert_true(vd_firewall_apply("delete table inet vdbhost\n", NULL));
    g_assert_no_error(err);
    g_assert_cmpuint(notes->len, ==, 1);
    n = g_ptr_array_index(notes, 0);
    g_test_message("note: %s", n->message);
    g_assert_false(n->fixed);
    g_assert_nonnull(strstr(n->message, "vdbfwd chain (table inet vdbhost)"));
    g_assert_nonnull(strstr(n->message, "'routed'"));
    g_assert_nonnull(strstr(n->message, "nft insert rule inet vdbhost vdbfwd iifname \"virbr3\""));
}

static void
write_proc(const char *path, const char *value)
{
    FILE *f = fopen(path, "w");

    g_assert_nonnull(f);
    g_assert_cmpint(fputs(value, f), >=, 0);
    g_assert_cmpint(fclose(f), ==, 0);
}

static void
test_host_br_netfilter(void)
{
    const char *path = "/proc/sys/net/bridge/bridge-nf-call-iptables";
    g_autoptr(TestNet) def = NULL;
    g_autoptr(GPtrArray) notes = NULL;
    g_autoptr(GError) err = NULL;
    VdFirewallNote *n;

    if (skip_without_netns())
        return;
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_test_skip("br_netfilter is not loaded");
        return;
    }
    def = net_new("lan", VD_NET_FORWARD_BRIDGE, "vdbbr0");
    /* the namespace's own copy of the sysctl */
    write_proc(path, "0\n");
    notes = vd_firewall_check_host(def, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(notes->len, ==, 0);
    g_clear_pointer(&notes, g_ptr_array_unref);

    write_proc(path, "1\n");
    notes = vd_firewall_check_host(def, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(notes->len, ==, 1);
    n = g_ptr_array_index(notes, 0);
    g_test_message("note: %s", n->message);
    g_assert_false(n->fixed);
    g_assert_nonnull(strstr(n->message, "net.bridge.bridge-nf-call-iptables=1"));
    g_assert_nonnull(strstr(n->message, "sysctl -w net.bridge.bridge-nf-call-iptables=0"));
    g_assert_nonnull(strstr(n->message, "vdbbr0"));
    write_proc(path, "0\n");
}

static void
test_forwarding(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *v4 = NULL, *v6 = NULL;

    if (skip_without_netns())
        return;
    g_assert_true(vd_firewall_enable_forwarding(TRUE, &err));
    g_assert_no_error(err);
    v4 = test_read("/proc/sys/net/ipv4/ip_forward");
    v6 = test_read("/proc/sys/net/ipv6/conf/all/forwarding");
    g_assert_cmpstr(v4, ==, "1");
    g_assert_cmpstr(v6, ==, "1");
}

int
main(int argc, char **argv)
{
    /* first, before any thread exists: unshare acts on the calling thread */
    no_netns = test_enter_private_netns();

    g_test_init(&argc, &argv, NULL);
    data_dir = g_getenv("VD_TEST_DATA_DIR");
    regenerate = g_strcmp0(g_getenv("VD_REGENERATE"), "1") == 0;
    if (!data_dir) {
        g_printerr("VD_TEST_DATA_DIR is not set (run through meson test)\n");
        return 1;
    }
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/firewall/golden/%s", cases[i].name);
        g_test_add_data_func(path, &cases[i], test_golden);
    }
    g_test_add_func("/firewall/no-rules", test_no_rules);
    g_test_add_func("/firewall/names", test_names);
    g_test_add_func("/firewall/netns/apply-all", test_apply_all);
    g_test_add_func("/firewall/netns/apply-cycle", test_apply_cycle);
    g_test_add_func("/firewall/netns/apply-error", test_apply_error);
    g_test_add_func("/firewall/netns/host-docker", test_host_docker);
    g_test_add_func("/firewall/netns/host-drop-policy", test_host_drop_policy);
    g_test_add_func("/firewall/netns/host-br-netfilter", test_host_br_netfilter);
    g_test_add_func("/firewall/netns/forwarding", test_forwarding);
    return g_test_run();
}
