/* conf/network-update.c: net-update of ip-dhcp-host and dns-host. Each
 * refusal is followed by a check that the definition did not change. */
#include <glib.h>
#include <string.h>

#include "conf/network-def.h"
#include "util/vd-error.h"

static const char base_xml[] =
    "<network>\n"
    "  <name>upd</name>\n"
    "  <uuid>81ff0d90-c91e-6742-64da-4a736edb9a9b</uuid>\n"
    "  <forward mode='nat'/>\n"
    "  <bridge name='virbr9'/>\n"
    "  <dns>\n"
    "    <host ip='192.168.50.3'><hostname>printer</hostname></host>\n"
    "  </dns>\n"
    "  <ip address='192.168.50.1' netmask='255.255.255.0'>\n"
    "    <dhcp>\n"
    "      <range start='192.168.50.100' end='192.168.50.200'/>\n"
    "      <host mac='52:54:00:00:00:01' name='one' ip='192.168.50.11'/>\n"
    "      <host mac='52:54:00:00:00:02' name='two' ip='192.168.50.12'/>\n"
    "    </dhcp>\n"
    "  </ip>\n"
    "  <ip family='ipv6' address='fd00:50::1' prefix='64'>\n"
    "    <dhcp>\n"
    "      <range start='fd00:50::100' end='fd00:50::1ff'/>\n"
    "    </dhcp>\n"
    "  </ip>\n"
    "</network>\n";

static VdNetworkDef *
base(void)
{
    g_autoptr(GError) err = NULL;
    VdNetworkDef *def = vd_network_def_parse(base_xml, &err);

    g_assert_no_error(err);
    return def;
}

static const VdNetDhcpHost *
host4(const VdNetworkDef *def, guint i)
{
    const VdNetIpDef *ip = vd_network_def_ipv4(def);
    g_assert_cmpuint(i, <, ip->hosts->len);
    return g_ptr_array_index(ip->hosts, i);
}

static void
update_ok(VdNetworkDef *def, const char *cmd, const char *section, int parent, const char *xml)
{
    g_autoptr(GError) err = NULL;
    VdNetUpdateCommand c;
    VdNetUpdateSection s;

    g_assert_true(vd_net_update_command_from_string(cmd, &c, &err));
    g_assert_true(vd_net_update_section_from_string(section, &s, &err));
    g_assert_true(vd_network_def_update(def, c, s, parent, xml, &err));
    g_assert_no_error(err);
}

static void
test_dhcp_host(void)
{
    g_autoptr(VdNetworkDef) def = base();

    update_ok(def, "add", "ip-dhcp-host", -1,
              "<host mac='52:54:00:00:00:03' name='three' ip='192.168.50.13'/>");
    g_assert_cmpstr(host4(def, 2)->name, ==, "three");
    update_ok(def, "add-first", "ip-dhcp-host", 0,
              "<host mac='52:54:00:00:00:AA' name='zero' ip='192.168.50.10'/>");
    g_assert_cmpstr(host4(def, 0)->mac, ==, "52:54:00:00:00:aa");
    g_assert_cmpuint(vd_network_def_ipv4(def)->hosts->len, ==, 4);

    /* modify: matched by MAC, everything else replaced. */
    update_ok(def, "modify", "ip-dhcp-host", -1,
              "<host mac='52:54:00:00:00:02' name='deux' ip='192.168.50.22'/>");
    g_assert_cmpstr(host4(def, 2)->name, ==, "deux");
    g_assert_cmpstr(host4(def, 2)->ip, ==, "192.168.50.22");

    /* delete: by MAC, or by name when no MAC is given. */
    update_ok(def, "delete", "ip-dhcp-host", -1, "<host mac='52:54:00:00:00:01'/>");
    update_ok(def, "delete", "ip-dhcp-host", -1, "<host name='three' ip='192.168.50.13'/>");
    g_assert_cmpuint(vd_network_def_ipv4(def)->hosts->len, ==, 2);
    g_autofree char *out = vd_network_def_format(def);
    g_assert_nonnull(strstr(out, "<host mac='52:54:00:00:00:aa' name='zero' ip='192.168.50.10'/>\n"
                                 "      <host mac='52:54:00:00:00:02' name='deux' "
                                 "ip='192.168.50.22'/>\n    </dhcp>"));

    /* A DHCPv6 host goes to the IPv6 <ip> by its address's family. */
    update_ok(def, "add", "ip-dhcp-host", -1,
              "<host id='0:3:0:1:0:16:3e:11:22:33' "
              "name='six' ip='fd00:50::20'/>");
    const VdNetIpDef *ip6 = g_ptr_array_index(def->ips, 1);
    g_assert_cmpuint(ip6->hosts->len, ==, 1);

    /* What an update leaves is a definition parse accepts as it is. */
    g_autoptr(GError) err = NULL;
    g_autofree char *final = vd_network_def_format(def);
    g_autoptr(VdNetworkDef) again = vd_network_def_parse(final, &err);
    g_assert_no_error(err);
    g_autofree char *final2 = vd_network_def_format(again);
    g_assert_cmpstr(final2, ==, final);
}

static void
test_dns_host(void)
{
    g_autoptr(VdNetworkDef) def = base();

    update_ok(def, "add-last", "dns-host", -1,
              "<host ip='192.168.50.4'><hostname>nas</hostname><hostname>files</hostname></host>");
    g_assert_cmpuint(def->dns.hosts->len, ==, 2);
    update_ok(def, "add-first", "dns-host", -1,
              "<host ip='fd00:50:0::5'><hostname>v6</hostname></host>");
    g_assert_cmpstr(((VdNetDnsHost *)g_ptr_array_index(def->dns.hosts, 0))->ip, ==, "fd00:50::5");
    update_ok(def, "modify", "dns-host", -1,
              "<host ip='192.168.50.3'><hostname>laser</hostname></host>");
    const VdNetDnsHost *h = g_ptr_array_index(def->dns.hosts, 1);
    g_assert_cmpstr(g_ptr_array_index(h->hostnames, 0), ==, "laser");
    update_ok(def, "delete", "dns-host", -1,
              "<host ip='192.168.50.3'><hostname>x</hostname></host>");
    g_assert_cmpuint(def->dns.hosts->len, ==, 2);
}

static void
test_refusals(void)
{
    const struct {
        VdNetUpdateCommand cmd;
        VdNetUpdateSection section;
        int parent;
        const char *xml;
        VdErrorCode code;
        const char *needle;
    } cases[] = {
        {VD_NET_UPDATE_ADD_LAST, VD_NET_SECTION_IP_DHCP_HOST, -1,
         "<host mac='52:54:00:00:00:01' name='dup' ip='192.168.50.40'/>", VD_ERROR_INVALID_ARG,
         "duplicate MAC '52:54:00:00:00:01'"},
        {VD_NET_UPDATE_ADD_LAST, VD_NET_SECTION_IP_DHCP_HOST, -1,
         "<host mac='52:54:00:00:00:09' name='new' ip='192.168.50.11'/>", VD_ERROR_INVALID_ARG,
         "duplicate IP '192.168.50.11'"},
        {VD_NET_UPDATE_ADD_FIRST, VD_NET_SECTION_IP_DHCP_HOST, -1,
         "<host mac='52:54:00:00:00:09' name='ONE' ip='192.168.50.41'/>", VD_ERROR_INVALID_ARG,
         "duplicate name 'ONE'"},
        {VD_NET_UPDATE_ADD_LAST, VD_NET_SECTION_IP_DHCP_HOST, 0,
         "<host mac='52:54:00:00:00:09' ip='192.168.51.5'/>", VD_ERROR_INVALID_ARG,
         "outside the network's subnet 192.168.50.0/24"},
        {VD_NET_UPDATE_ADD_LAST, VD_NET_SECTION_IP_DHCP_HOST, -1,
         "<host mac='52:54:00:00:00:09' ip='192.168.50.1'/>", VD_ERROR_INVALID_ARG,
         "host's own address"},
        {VD_NET_UPDATE_DELETE, VD_NET_SECTION_IP_DHCP_HOST, -1, "<host mac='52:54:00:00:00:77'/>",
         VD_ERROR_INVALID_ARG, "no <dhcp><host> with mac '52:54:00:00:00:77' to delete"},
        {VD_NET_UPDATE_MODIFY, VD_NET_SECTION_IP_DHCP_HOST, -1,
         "<host mac='52:54:00:00:00:77' ip='192.168.50.60'/>", VD_ERROR_INVALID_ARG, "to modify"},
        {VD_NET_UPDATE_MODIFY, VD_NET_SECTION_IP_DHCP_HOST, -1,
         "<host mac='52:54:00:00:00:01' name='one' ip='192.168.50.12'/>", VD_ERROR_INVALID_ARG,
         "duplicate IP '192.168.50.12'"},
        {VD_NET_UPDATE_ADD_LAST, VD_NET_SECTION_IP_DHCP_HOST, 7,
         "<host mac='52:54:00:00:00:09' ip='192.168.50.9'/>", VD_ERROR_INVALID_ARG,
         "parent index 7"},
        {VD_NET_UPDATE_ADD_LAST, VD_NET_SECTION_IP_DHCP_HOST, -1, "<host mac='52:54:00:00:00:09'",
         VD_ERROR_XML, "malformed"},
        {VD_NET_UPDATE_ADD_LAST, VD_NET_SECTION_IP_DHCP_HOST, -1,
         "<range start='192.168.50.2' end='192.168.50.9'/>", VD_ERROR_XML, "<host>"},
        {VD_NET_UPDATE_ADD_LAST, VD_NET_SECTION_IP_DHCP_HOST, -1,
         "<host mac='52:54:00:00:00:09' ip='192.168.50.9' foo='1'/>", VD_ERROR_UNSUPPORTED,
         "'foo'"},
        {VD_NET_UPDATE_ADD_LAST, VD_NET_SECTION_DNS_HOST, -1,
         "<host ip='192.168.50.3'><hostname>again</hostname></host>", VD_ERROR_INVALID_ARG,
         "already has a <dns><host> for ip '192.168.50.3'"},
        {VD_NET_UPDATE_DELETE, VD_NET_SECTION_DNS_HOST, -1,
         "<host ip='192.168.50.99'><hostname>x</hostname></host>", VD_ERROR_INVALID_ARG,
         "no <dns><host> with ip '192.168.50.99' to delete"},
        {VD_NET_UPDATE_ADD_LAST, VD_NET_SECTION_DNS_HOST, -1, "<host ip='192.168.50.9'/>",
         VD_ERROR_XML, "<hostname>"},
    };
    g_autoptr(VdNetworkDef) def = base();
    g_autofree char *before = vd_network_def_format(def);

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        if (vd_network_def_update(def, cases[i].cmd, cases[i].section, cases[i].parent,
                                  cases[i].xml, &err))
            g_error("case %u (%s) was accepted", i, cases[i].xml);
        if (err->code != (int)cases[i].code || !strstr(err->message, cases[i].needle))
            g_error("case %u: expected %s '%s', got %s: %s", i,
                    vd_error_code_to_string(cases[i].code), cases[i].needle,
                    vd_error_code_to_string(err->code), err->message);
        g_autofree char *after = vd_network_def_format(def);
        g_assert_cmpstr(after, ==, before);
    }
}

static void
test_words(void)
{
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    g_autoptr(GError) e3 = NULL;
    VdNetUpdateCommand c;
    VdNetUpdateSection s;

    g_assert_true(vd_net_update_command_from_string("add", &c, NULL));
    g_assert_cmpint(c, ==, VD_NET_UPDATE_ADD_LAST);
    g_assert_true(vd_net_update_command_from_string("add-first", &c, NULL));
    g_assert_cmpint(c, ==, VD_NET_UPDATE_ADD_FIRST);
    g_assert_false(vd_net_update_command_from_string("append", &c, &e1));
    g_assert_error(e1, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_assert_true(vd_net_update_section_from_string("dns-host", &s, NULL));
    g_assert_cmpint(s, ==, VD_NET_SECTION_DNS_HOST);
    g_assert_false(vd_net_update_section_from_string("ip-dhcp-range", &s, &e2));
    g_assert_error(e2, VD_ERROR, VD_ERROR_UNSUPPORTED);
    g_assert_nonnull(strstr(e2->message, "'ip-dhcp-range'"));
    g_assert_false(vd_net_update_section_from_string("nonsense", &s, &e3));
    g_assert_error(e3, VD_ERROR, VD_ERROR_INVALID_ARG);

    /* A bridge-mode network has no DHCP of ours to update. */
    g_autoptr(GError) e4 = NULL;
    g_autoptr(VdNetworkDef) br = vd_network_def_parse(
        "<network><name>b</name><forward mode='bridge'/><bridge name='br0'/></network>", NULL);
    g_assert_false(vd_network_def_update(br, VD_NET_UPDATE_ADD_LAST, VD_NET_SECTION_IP_DHCP_HOST,
                                         -1, "<host mac='52:54:00:00:00:01' ip='10.0.0.2'/>", &e4));
    g_assert_error(e4, VD_ERROR, VD_ERROR_INVALID_ARG);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/network-update/dhcp-host", test_dhcp_host);
    g_test_add_func("/network-update/dns-host", test_dns_host);
    g_test_add_func("/network-update/refusals", test_refusals);
    g_test_add_func("/network-update/words", test_words);
    return g_test_run();
}
