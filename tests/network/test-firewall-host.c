/* The host checks of net-start, as root in a private network namespace:
 * Docker's 'ip filter' FORWARD policy drop and its DOCKER-USER chain
 * (made with iptables-nft when installed, as Docker makes them), another
 * table's drop policy, ufw, firewalld, br_netfilter's sysctl, and the
 * forwarding sysctls with the IPv6 router-advertisement refusal. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "network/firewall.h"
#include "test-netdef.h"
#include "test-netns.h"
#include "util/vd-error.h"

static TestNet *
case_isolated(void)
{
    TestNet *d = net_new("isolated", VD_NET_FORWARD_NONE, "virbr4");
    add_ip(d, AF_INET, "192.168.152.1", 24, TRUE);
    return d;
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
    const char *argv[] = {"nft", "list", "chain", family, table, chain, NULL};
    g_autofree char *out = NULL;
    int status = 0;

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               NULL, &status, NULL));
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    return g_steal_pointer(&out);
}

/* The host check of @def, which must find @expected notes (the first one
 * is logged). */
static GPtrArray *
check_host(const VdNetworkDef *def, guint expected)
{
    g_autoptr(GError) err = NULL;
    GPtrArray *notes = vd_firewall_check_host(def, &err);

    g_assert_no_error(err);
    g_assert_nonnull(notes);
    g_assert_cmpuint(notes->len, ==, expected);
    if (expected > 0)
        g_test_message("note: %s", ((VdFirewallNote *)g_ptr_array_index(notes, 0))->message);
    return notes;
}

static void
test_host_docker(void)
{
    g_autoptr(TestNet) def = NULL;
    g_autoptr(TestNet) iso = NULL;
    g_autoptr(GPtrArray) notes = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *chain = NULL;
    g_autofree char *iptables = NULL;
    VdFirewallNote *n;

    if (test_without_netns())
        return;
    def = test_net_nat_default();
    iso = case_isolated();
    /* what Docker leaves in the ruleset, made the way Docker makes it
     * when iptables-nft is there (so that the test also proves iptables
     * still reads the chain after virtd's rules went in) */
    iptables = g_find_program_in_path("iptables-nft");
    if (iptables) {
        const char *p[] = {iptables, "-P", "FORWARD", "DROP", NULL};
        const char *nc[] = {iptables, "-N", "DOCKER-USER", NULL};
        const char *r[] = {iptables, "-A", "DOCKER-USER", "-j", "RETURN", NULL};
        const char *j[] = {iptables, "-A", "FORWARD", "-j", "DOCKER-USER", NULL};
        test_run(p);
        test_run(nc);
        test_run(r);
        test_run(j);
    } else {
        g_assert_true(vd_firewall_apply(TEST_DOCKER_NFT, &err));
        g_assert_no_error(err);
    }

    notes = check_host(def, 1);
    n = g_ptr_array_index(notes, 0);
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
    if (iptables) {
        const char *argv[] = {iptables, "-S", "DOCKER-USER", NULL};
        g_autofree char *out = NULL;
        int status = 0;

        g_assert_true(
            g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, &out, NULL, &status, NULL));
        g_assert_true(g_spawn_check_wait_status(status, NULL));
        g_test_message("%s", out);
        g_assert_nonnull(strstr(out, "-A DOCKER-USER -i virbr0 -m comment --comment "
                                     "\"virtd bridge virbr0\" -j ACCEPT"));
        g_assert_nonnull(strstr(out, "-A DOCKER-USER -j RETURN"));
    }

    /* a second check (daemon restart) does not add them twice */
    g_clear_pointer(&notes, g_ptr_array_unref);
    notes = vd_firewall_check_host(def, &err);
    g_assert_no_error(err);
    chain = list_chain("ip", "filter", "DOCKER-USER");
    g_assert_cmpuint(count(chain, "virtd bridge virbr0"), ==, 2);
    g_clear_pointer(&chain, g_free);

    /* isolated networks forward nothing: no note, no rule */
    g_clear_pointer(&notes, g_ptr_array_unref);
    notes = check_host(iso, 0);
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

    if (test_without_netns())
        return;
    def = test_net_routed();
    notes = check_host(def, 0);
    g_clear_pointer(&notes, g_ptr_array_unref);

    g_assert_true(vd_firewall_apply("add table inet vdbhost\n"
                                    "add chain inet vdbhost vdbfwd { type filter hook forward "
                                    "priority 0; policy drop; }\n",
                                    &err));
    g_assert_no_error(err);
    notes = check_host(def, 1);
    g_assert_true(vd_firewall_apply("delete table inet vdbhost\n", NULL));
    n = g_ptr_array_index(notes, 0);
    g_assert_false(n->fixed);
    g_assert_nonnull(strstr(n->message, "vdbfwd chain (table inet vdbhost)"));
    g_assert_nonnull(strstr(n->message, "'routed'"));
    g_assert_nonnull(strstr(n->message, "nft insert rule inet vdbhost vdbfwd iifname \"virbr3\""));
}

static void
test_host_others(void)
{
    g_autoptr(TestNet) def = NULL;
    g_autoptr(GPtrArray) notes = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *chain = NULL;
    VdFirewallNote *n;

    if (test_without_netns())
        return;
    def = test_net_routed();

    /* an IPv6 drop policy does not concern an IPv4-only network */
    g_assert_true(vd_firewall_apply("add table ip6 filter\n"
                                    "add chain ip6 filter FORWARD { type filter hook forward "
                                    "priority 0; policy drop; }\n"
                                    "add chain ip6 filter DOCKER-USER\n",
                                    &err));
    g_assert_no_error(err);
    notes = check_host(def, 0);
    chain = list_chain("ip6", "filter", "DOCKER-USER");
    g_assert_null(strstr(chain, "virbr3"));
    g_clear_pointer(&chain, g_free);
    g_clear_pointer(&notes, g_ptr_array_unref);
    g_assert_true(vd_firewall_apply("delete table ip6 filter\n", &err));

    /* Docker with its FORWARD still accepting: hooked all the same */
    g_assert_true(vd_firewall_apply("add table ip filter\n"
                                    "add chain ip filter FORWARD { type filter hook forward "
                                    "priority 0; policy accept; }\n"
                                    "add chain ip filter DOCKER-USER\n",
                                    &err));
    notes = check_host(def, 1);
    n = g_ptr_array_index(notes, 0);
    g_assert_true(n->fixed);
    g_assert_nonnull(strstr(n->message, "DOCKER-USER (table ip filter) exists"));
    chain = list_chain("ip", "filter", "DOCKER-USER");
    g_assert_cmpuint(count(chain, "virtd bridge virbr3"), ==, 2);
    g_clear_pointer(&notes, g_ptr_array_unref);
    g_assert_true(vd_firewall_host_hooks_remove(def, &err));
    g_assert_true(vd_firewall_apply("delete table ip filter\n", &err));

    /* ufw: its FORWARD policy drop, and the ufw way of allowing */
    g_assert_true(vd_firewall_apply("add table ip filter\n"
                                    "add chain ip filter FORWARD { type filter hook forward "
                                    "priority 0; policy drop; }\n"
                                    "add chain ip filter ufw-before-forward\n",
                                    &err));
    notes = check_host(def, 1);
    n = g_ptr_array_index(notes, 0);
    g_assert_false(n->fixed);
    g_assert_nonnull(strstr(n->message, "as ufw sets it"));
    g_assert_nonnull(strstr(n->message, "'ufw route allow in on virbr3'"));
    g_clear_pointer(&notes, g_ptr_array_unref);
    g_assert_true(vd_firewall_apply("delete table ip filter\n", &err));

    /* firewalld */
    g_assert_true(vd_firewall_apply("add table inet firewalld\n"
                                    "add chain inet firewalld filter_FORWARD { type filter hook "
                                    "forward priority 10; policy accept; }\n",
                                    &err));
    notes = check_host(def, 1);
    n = g_ptr_array_index(notes, 0);
    g_assert_nonnull(strstr(n->message, "firewall-cmd --zone=trusted --change-interface=virbr3"));
    g_assert_true(vd_firewall_apply("delete table inet firewalld\n", &err));
    g_assert_no_error(err);
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

    if (test_without_netns())
        return;
    def = net_new("lan", VD_NET_FORWARD_BRIDGE, "vdbbr0");
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        /* br_netfilter not loaded: bridged frames skip iptables, and the
         * check must say nothing. */
        notes = check_host(def, 0);
        return;
    }
    /* the namespace's own copy of the sysctl */
    write_proc(path, "0\n");
    notes = check_host(def, 0);
    g_clear_pointer(&notes, g_ptr_array_unref);

    write_proc(path, "1\n");
    notes = check_host(def, 1);
    n = g_ptr_array_index(notes, 0);
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

    if (test_without_netns())
        return;
    /* an IPv6 route learnt from router advertisements on an interface
     * whose accept_ra would stop honouring them */
    {
        const char *add[] = {"ip",   "link", "add",  "vdbdummy0", "type",
                             "veth", "peer", "name", "vdbdummy1", NULL};
        const char *up[] = {"ip", "link", "set", "vdbdummy0", "up", NULL};
        const char *up1[] = {"ip", "link", "set", "vdbdummy1", "up", NULL};
        const char *route[] = {"ip",  "-6",        "route", "add", "2001:db8:99::/64",
                               "dev", "vdbdummy0", "proto", "ra",  NULL};
        test_run(add);
        test_run(up);
        test_run(up1);
        test_run(route);
    }
    g_assert_false(vd_firewall_enable_forwarding(TRUE, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    g_assert_nonnull(strstr(err->message, "net.ipv6.conf.vdbdummy0.accept_ra=2"));
    g_clear_error(&err);
    v6 = test_read("/proc/sys/net/ipv6/conf/all/forwarding");
    g_assert_cmpstr(v6, ==, "0");
    g_clear_pointer(&v6, g_free);
    write_proc("/proc/sys/net/ipv6/conf/vdbdummy0/accept_ra", "2\n");
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
    test_netns_setup();

    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/firewall-host/docker", test_host_docker);
    g_test_add_func("/firewall-host/drop-policy", test_host_drop_policy);
    g_test_add_func("/firewall-host/others", test_host_others);
    g_test_add_func("/firewall-host/br-netfilter", test_host_br_netfilter);
    g_test_add_func("/firewall-host/forwarding", test_forwarding);
    return g_test_run();
}
