/* conf/network-*: <network> XML golden files, refusals and net-update.
 *
 * Every NAME.xml in tests/data/network (VD_NETWORK_DATA_DIR) must parse;
 * NAME.out.xml holds its format. The output must parse back to the same
 * text, and a deep copy must format the same. VD_REGENERATE=1 rewrites
 * the .out.xml files instead of comparing (review the diff).
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "conf/network-def.h"
#include "golden.h"
#include "util/vd-error.h"

static const char *data_dir;

static void
test_golden(gconstpointer data)
{
    const char *name = data;
    g_autofree char *out_path = test_golden_path(data_dir, name, ".out.xml");
    g_autofree char *xml = test_golden_read(data_dir, name, ".xml");
    g_autoptr(GError) err = NULL;

    g_autoptr(VdNetworkDef) def = vd_network_def_parse(xml, &err);
    g_assert_no_error(err);
    g_autofree char *out = vd_network_def_format(def);
    test_golden_check(out_path, out);

    g_autoptr(VdNetworkDef) again = vd_network_def_parse(out, &err);
    g_assert_no_error(err);
    g_autofree char *out2 = vd_network_def_format(again);
    g_assert_cmpstr(out2, ==, out);

    g_autoptr(VdNetworkDef) copy = vd_network_def_copy(def);
    g_autofree char *out3 = vd_network_def_format(copy);
    g_assert_cmpstr(out3, ==, out);
}

#define NET(body) "<network><name>n</name>" body "</network>"
#define IP4(body) "<ip address='10.0.0.1' netmask='255.255.255.0'>" body "</ip>"

static void
test_bad(void)
{
    const struct {
        const char *xml;
        VdErrorCode code;
        const char *needle;
    } cases[] = {
        /* VD_ERROR_XML */
        {"", VD_ERROR_XML, "empty"},
        {"<network><name>x", VD_ERROR_XML, "malformed"},
        {"<pool/>", VD_ERROR_XML, "<network>"},
        {"<network/>", VD_ERROR_XML, "<name>"},
        {NET("<uuid>zz</uuid>"), VD_ERROR_XML, "'zz'"},
        {NET("<ip address='10.0.0.300'/>"), VD_ERROR_XML, "'10.0.0.300'"},
        {NET("<ip family='ipv6' address='10.0.0.1'/>"), VD_ERROR_XML, "IPv6"},
        {NET("<ip family='ipx' address='10.0.0.1'/>"), VD_ERROR_XML, "'ipx'"},
        {NET("<ip address='10.0.0.1' prefix='33'/>"), VD_ERROR_XML, "'33'"},
        {NET("<ip address='10.0.0.1' netmask='255.0.255.0'/>"), VD_ERROR_XML, "contiguous"},
        {NET("<ip address='10.0.0.1' netmask='255.0.0.0' prefix='8'/>"), VD_ERROR_XML, "both"},
        {NET("<ip address='10.0.0.1' prefix='0'/>"), VD_ERROR_XML, "prefix 0"},
        {NET("<ip/>"), VD_ERROR_XML, "address="},
        {NET("<forward mode='foo'/>"), VD_ERROR_XML, "'foo'"},
        {NET("<forward mode='route'><nat/></forward>"), VD_ERROR_XML, "mode='nat'"},
        {NET("<mac address='52:54:00:zz:00:01'/>"), VD_ERROR_XML, "'52:54:00:zz:00:01'"},
        {NET("<mtu size='20'/>"), VD_ERROR_XML, "68"},
        {NET("<bridge name='br0' stp='maybe'/>"), VD_ERROR_XML, "'maybe'"},
        {NET(IP4("<dhcp><range start='10.0.0.2' end='10.0.0.9'><lease expiry='1' "
                 "unit='days'/></range></dhcp>")),
         VD_ERROR_XML, "'days'"},
        {NET(IP4("<dhcp><host name='a'/></dhcp>")), VD_ERROR_XML, "ip="},
        {NET(IP4("<dhcp><host ip='10.0.0.5'/></dhcp>")), VD_ERROR_XML, "mac="},
        {NET(IP4("<dhcp><host id='0:1' ip='10.0.0.5'/></dhcp>")), VD_ERROR_XML, "id="},
        {NET("<dns><host ip='10.0.0.5'/></dns>"), VD_ERROR_XML, "<hostname>"},
        {NET("<dns><forwarder/></dns>"), VD_ERROR_XML, "addr="},
        {NET("<name>m</name>"), VD_ERROR_XML, "two <name>"},
        /* VD_ERROR_INVALID_ARG */
        {"<network><name>a/b</name></network>", VD_ERROR_INVALID_ARG, "'/'"},
        {"<network><name></name></network>", VD_ERROR_INVALID_ARG, "empty"},
        {"<network><name>a&#x7f;b</name></network>", VD_ERROR_INVALID_ARG, "control"},
        {NET("<bridge name='virbr-much-too-long'/>"), VD_ERROR_INVALID_ARG, "15 bytes"},
        {NET("<bridge name='br/0'/>"), VD_ERROR_INVALID_ARG, "'br/0'"},
        {NET("<bridge name='br:0'/>"), VD_ERROR_INVALID_ARG, "'br:0'"},
        {NET("<bridge name='br 0'/>"), VD_ERROR_INVALID_ARG, "'br 0'"},
        {NET("<bridge name='br%d'/>"), VD_ERROR_INVALID_ARG, "'br%d'"},
        {NET("<bridge name='br\"x'/>"), VD_ERROR_INVALID_ARG, "does not allow"},
        {NET("<mac address='01:54:00:00:00:01'/>"), VD_ERROR_INVALID_ARG, "multicast"},
        {NET(IP4("<dhcp><range start='10.0.1.2' end='10.0.1.9'/></dhcp>")), VD_ERROR_INVALID_ARG,
         "outside the network's subnet 10.0.0.0/24"},
        {NET(IP4("<dhcp><range start='10.0.0.9' end='10.0.0.2'/></dhcp>")), VD_ERROR_INVALID_ARG,
         "after its end"},
        {NET(IP4("<dhcp><range start='10.0.0.1' end='10.0.0.9'/></dhcp>")), VD_ERROR_INVALID_ARG,
         "host's own address 10.0.0.1"},
        {NET(IP4("<dhcp><range start='10.0.0.200' end='10.0.0.255'/></dhcp>")),
         VD_ERROR_INVALID_ARG, "broadcast"},
        {NET(IP4("<dhcp><host mac='52:54:00:00:00:01' ip='10.0.5.5'/></dhcp>")),
         VD_ERROR_INVALID_ARG, "'10.0.5.5' is outside"},
        {NET(IP4("<dhcp><host mac='52:54:00:00:00:01' ip='10.0.0.5'/>"
                 "<host mac='52:54:00:00:00:01' ip='10.0.0.6'/></dhcp>")),
         VD_ERROR_INVALID_ARG, "duplicate MAC '52:54:00:00:00:01'"},
        {NET(IP4("<dhcp><host mac='52:54:00:00:00:01' ip='10.0.0.5'/>"
                 "<host mac='52:54:00:00:00:02' ip='10.0.0.5'/></dhcp>")),
         VD_ERROR_INVALID_ARG, "duplicate IP '10.0.0.5'"},
        {NET(IP4("<dhcp><host mac='52:54:00:00:00:01' name='vm' ip='10.0.0.5'/>"
                 "<host mac='52:54:00:00:00:02' name='VM' ip='10.0.0.6'/></dhcp>")),
         VD_ERROR_INVALID_ARG, "duplicate name 'VM'"},
        {NET(IP4("<dhcp><host mac='52:54:00:00:00:01' name='a,b' ip='10.0.0.5'/></dhcp>")),
         VD_ERROR_INVALID_ARG, "not a valid DNS name"},
        {NET("<domain name='ex ample'/>"), VD_ERROR_INVALID_ARG, "not a valid DNS name"},
        {NET("<forward mode='bridge'/><bridge name='br0'/>" IP4("")), VD_ERROR_INVALID_ARG, "<ip>"},
        {NET("<forward mode='bridge'/><bridge name='br0'/><dns/>"), VD_ERROR_INVALID_ARG, "<dns>"},
        {NET("<forward mode='bridge'/><bridge name='br0'/><domain name='x'/>"),
         VD_ERROR_INVALID_ARG, "<domain>"},
        {NET("<forward mode='bridge'/>"), VD_ERROR_INVALID_ARG, "<bridge name="},
        {NET(IP4("") "<ip address='10.1.0.1' prefix='24'/>"), VD_ERROR_INVALID_ARG,
         "one IPv4 subnet"},
        {NET("<ip family='ipv6' address='fd00::1' prefix='64'><dhcp><range start='fd00::10' "
             "end='fd00::20'/></dhcp></ip><ip family='ipv6' address='fd01::1' prefix='64'><dhcp>"
             "<range start='fd01::10' end='fd01::20'/></dhcp></ip>"),
         VD_ERROR_INVALID_ARG, "DHCPv6"},
        {NET("<dns enable='no'><host ip='10.0.0.3'><hostname>a</hostname></host></dns>"),
         VD_ERROR_INVALID_ARG, "enable='no'"},
        {NET("<forward mode='nat'><nat><port start='2000' end='1000'/></nat></forward>"),
         VD_ERROR_INVALID_ARG, "range of ports"},
        /* VD_ERROR_UNSUPPORTED, by name */
        {NET("<portgroup name='pg'/>"), VD_ERROR_UNSUPPORTED, "<network><portgroup>"},
        {NET("<virtualport type='openvswitch'/>"), VD_ERROR_UNSUPPORTED, "<virtualport>"},
        {NET("<vlan><tag id='42'/></vlan>"), VD_ERROR_UNSUPPORTED, "<vlan>"},
        {NET("<bandwidth><inbound average='1000'/></bandwidth>"), VD_ERROR_UNSUPPORTED,
         "<bandwidth>"},
        {NET("<forward mode='passthrough'/>"), VD_ERROR_UNSUPPORTED, "'passthrough'"},
        {NET("<forward mode='private'/>"), VD_ERROR_UNSUPPORTED, "'private'"},
        {NET("<forward mode='vepa'/>"), VD_ERROR_UNSUPPORTED, "'vepa'"},
        {NET("<forward mode='hostdev'/>"), VD_ERROR_UNSUPPORTED, "'hostdev'"},
        {NET("<forward mode='nat'><interface dev='eth0'/><interface dev='eth1'/></forward>"),
         VD_ERROR_UNSUPPORTED, "<forward><interface>"},
        {NET("<forward mode='nat'><pf dev='eth0'/></forward>"), VD_ERROR_UNSUPPORTED,
         "<forward><pf>"},
        {NET("<route address='10.1.0.0' prefix='24' gateway='10.0.0.2'/>"), VD_ERROR_UNSUPPORTED,
         "<route>"},
        {NET("<dns><srv service='name' protocol='tcp'/></dns>"), VD_ERROR_UNSUPPORTED,
         "<dns><srv>"},
        {NET("<dns><txt name='example' value='x'/></dns>"), VD_ERROR_UNSUPPORTED, "<dns><txt>"},
        {NET(IP4("<tftp root='/srv/tftp'/>")), VD_ERROR_UNSUPPORTED, "<ip><tftp>"},
        {NET(IP4("<dhcp><bootp file='pxelinux.0'/></dhcp>")), VD_ERROR_UNSUPPORTED,
         "<dhcp><bootp>"},
        {NET("<ip address='10.0.0.1' prefix='24' localPtr='yes'/>"), VD_ERROR_UNSUPPORTED,
         "'localPtr'"},
        {NET("<bridge name='br0' macTableManager='libvirt'/>"), VD_ERROR_UNSUPPORTED,
         "'macTableManager'"},
        {"<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'>"
         "<name>n</name><dnsmasq:options/></network>",
         VD_ERROR_UNSUPPORTED, "<dnsmasq:options>"},
        {NET("<forward mode='bridge' dev='eth0'/><bridge name='br0'/>"), VD_ERROR_UNSUPPORTED,
         "macvtap"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VdNetworkDef) def = vd_network_def_parse(cases[i].xml, &error);
        if (def || !error)
            g_error("case %u (%s) was accepted", i, cases[i].xml);
        if (error->domain != VD_ERROR || error->code != (int)cases[i].code)
            g_error("case %u (%s): code %s, expected %s: %s", i, cases[i].xml,
                    vd_error_code_to_string(error->code), vd_error_code_to_string(cases[i].code),
                    error->message);
        if (!strstr(error->message, cases[i].needle))
            g_error("case %u: '%s' not in '%s'", i, cases[i].needle, error->message);
    }
}

static void
test_default(void)
{
    g_autoptr(VdNetworkDef) def = vd_network_def_new_default("virbr0", 122);
    g_autoptr(GError) err = NULL;
    g_autofree char *out = vd_network_def_format(def);

    g_assert_cmpuint(strlen(def->uuid), ==, 36);
    g_assert_null(def->mac);
    /* The same as libvirt's default.xml after a round trip. */
    g_autofree char *path = g_build_filename(data_dir, "default.xml", NULL);
    g_autofree char *xml = NULL;
    g_assert_true(g_file_get_contents(path, &xml, NULL, NULL));
    g_autoptr(VdNetworkDef) ref = vd_network_def_parse(xml, &err);
    g_assert_no_error(err);
    memcpy(ref->uuid, def->uuid, sizeof(ref->uuid));
    g_clear_pointer(&ref->mac, g_free);
    g_autofree char *ref_out = vd_network_def_format(ref);
    g_assert_cmpstr(out, ==, ref_out);
    g_assert_nonnull(strstr(out, "<range start='192.168.122.2' end='192.168.122.254'/>"));
    g_assert_true(vd_network_def_needs_dnsmasq(def));
    g_assert_cmpuint(vd_network_def_ipv4(def)->addr4, ==, 0xc0a87a01);

    g_autoptr(VdNetworkDef) other = vd_network_def_new_default("virbr1", 100);
    g_autofree char *other_out = vd_network_def_format(other);
    g_assert_nonnull(strstr(other_out, "<ip address='192.168.100.1' netmask='255.255.255.0'>"));
    g_assert_false(vd_network_def_overlaps(def, other, NULL));
}

static VdNetworkDef *
parse_ok(const char *xml)
{
    g_autoptr(GError) err = NULL;
    VdNetworkDef *def = vd_network_def_parse(xml, &err);

    g_assert_no_error(err);
    return def;
}

static void
test_helpers(void)
{
    g_autoptr(VdNetworkDef) a = parse_ok(NET("<ip address='192.168.5.1' prefix='16'/>"));
    g_autoptr(VdNetworkDef) b = parse_ok(NET("<ip address='192.168.122.1' prefix='24'/>"));
    g_autoptr(VdNetworkDef) c = parse_ok(NET("<ip address='10.0.0.1' prefix='8'/>"
                                             "<ip family='ipv6' address='fd00::1'/>"));
    g_autoptr(VdNetworkDef) d = parse_ok(NET("<ip family='ipv6' address='fd00:0:0:0:1::9' "
                                             "prefix='80'/>"));
    g_autoptr(VdNetworkDef) br = parse_ok(NET("<forward mode='bridge'/><bridge name='br0'/>"));
    g_autoptr(VdNetworkDef) nodns =
        parse_ok(NET("<dns enable='no'/><ip address='10.0.0.1' prefix='24'/>"));
    g_autoptr(VdNetworkDef) none = parse_ok(NET(""));
    g_autofree char *what = NULL;
    g_autofree char *what6 = NULL;

    g_assert_true(vd_network_def_overlaps(a, b, &what));
    g_assert_cmpstr(what, ==, "192.168.0.0/16 overlaps 192.168.122.0/24");
    g_assert_false(vd_network_def_overlaps(a, c, NULL));
    g_assert_true(vd_network_def_overlaps(d, c, &what6));
    g_assert_cmpstr(what6, ==, "fd00::1:0:0:0/80 overlaps fd00::/64");
    g_autofree char *sub = vd_net_ip_subnet_string(g_ptr_array_index(c->ips, 1));
    g_assert_cmpstr(sub, ==, "fd00::/64");
    g_assert_null(vd_network_def_ipv4(d));
    g_assert_true(vd_network_def_needs_dnsmasq(a));
    g_assert_false(vd_network_def_needs_dnsmasq(br));
    g_assert_false(vd_network_def_needs_dnsmasq(nodns));
    g_assert_false(vd_network_def_needs_dnsmasq(none));
    g_assert_cmpstr(vd_net_forward_mode_to_string(br->forward), ==, "bridge");
    g_assert_cmpstr(vd_net_forward_mode_to_string(none->forward), ==, "none");
    g_assert_cmpstr(vd_net_forward_mode_to_string(VD_NET_FORWARD_NAT), ==, "nat");
    /* A missing UUID is generated, and two generated ones differ. */
    g_assert_cmpuint(strlen(a->uuid), ==, 36);
    g_assert_cmpstr(a->uuid, !=, b->uuid);
}

/* Every prefix of a realistic document either parses or fails with a
 * VD_ERROR (run under the sanitizers, this is a small fuzzer). */
static void
test_truncated(void)
{
    static const char *const files[] = {"dhcp6.xml", "leasetime-various.xml", "dns-hosts.xml",
                                        "nat-address.xml"};

    for (guint f = 0; f < G_N_ELEMENTS(files); f++) {
        g_autofree char *path = g_build_filename(data_dir, files[f], NULL);
        g_autofree char *xml = NULL;
        gsize len = 0;
        guint ok = 0;

        g_assert_true(g_file_get_contents(path, &xml, &len, NULL));
        for (gsize n = 0; n <= len; n++) {
            g_autofree char *part = g_strndup(xml, n);
            g_autoptr(GError) err = NULL;
            g_autoptr(VdNetworkDef) def = vd_network_def_parse(part, &err);
            g_assert_true((def == NULL) == (err != NULL));
            if (err)
                g_assert_true(err->domain == VD_ERROR);
            ok += def != NULL;
        }
        /* Only the whole document (and its trailing newline cut) is complete. */
        g_assert_cmpuint(ok, ==, 2);
    }
}

int
main(int argc, char **argv)
{
    g_autoptr(GPtrArray) names = NULL;

    g_test_init(&argc, &argv, NULL);
    /* The brief asks for at least 10 inputs. */
    names = test_golden_inputs("VD_NETWORK_DATA_DIR", 10, &data_dir);
    if (!names)
        return 1;
    test_golden_add_each("/network-xml/golden", names, test_golden);
    g_test_add_func("/network-xml/bad", test_bad);
    g_test_add_func("/network-xml/default", test_default);
    g_test_add_func("/network-xml/helpers", test_helpers);
    g_test_add_func("/network-xml/truncated", test_truncated);
    return g_test_run();
}
