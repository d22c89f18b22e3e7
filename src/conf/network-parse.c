/* <network> XML -> VdNetworkDef, with the checks network-def.h lists.
 * Unknown elements and attributes were refused by network-known.c
 * before any of this runs; <ip> and its DHCP are in network-parse-ip.c. */
#include "conf/network-def.h"

#include <string.h>
#include <sys/socket.h>

#include "conf/domain-private.h"
#include "conf/network-private.h"
#include "conf/storage-private.h"
#include "util/vd-error.h"
#include "util/vd-names.h"

/* Linux interface names: IFNAMSIZ - 1 bytes; '/' and ':' are refused by
 * the kernel or mean an alias; ',' and white space would split
 * dnsmasq's interface= and nftables' iifname. */
static gboolean
ifname_check(const char *name, const char *what, GError **error)
{
    if (!name || !*name) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "%s must not be empty", what);
        return FALSE;
    }
    if (strlen(name) > 15) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "%s '%s' is longer than 15 bytes, the kernel's limit: use a shorter name", what,
                    name);
        return FALSE;
    }
    for (const char *p = name; *p; p++) {
        if (*p == '/' || *p == ':' || *p == ',' || g_ascii_isspace(*p) || (guchar)*p < 0x20 ||
            (guchar)*p >= 0x7f) {
            g_autofree char *esc = g_strescape(name, NULL);
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "%s '%s' has a character interfaces cannot have ('/', ':', ',', spaces "
                        "or control characters): use letters, digits, '-' and '_'",
                        what, esc);
            return FALSE;
        }
    }
    if (g_str_equal(name, ".") || g_str_equal(name, "..")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "%s '%s' is not a valid name", what,
                    name);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_forward(VdNetworkDef *def, const xmlNode *fwd, GError **error)
{
    static const char *const unsupported[] = {"passthrough", "private", "vepa", "hostdev", NULL};
    g_autofree char *mode = vd_xml_prop(fwd, "mode");

    if (!mode || g_str_equal(mode, "nat")) {
        def->forward = VD_NET_FORWARD_NAT;
    } else if (g_str_equal(mode, "route")) {
        def->forward = VD_NET_FORWARD_ROUTE;
    } else if (g_str_equal(mode, "open")) {
        def->forward = VD_NET_FORWARD_OPEN;
    } else if (g_str_equal(mode, "bridge")) {
        def->forward = VD_NET_FORWARD_BRIDGE;
    } else if (g_strv_contains(unsupported, mode)) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "<forward mode='%s'> is not supported by virtd: use nat, route, open or "
                    "bridge (for macvtap, give the guest <interface type='direct'>)",
                    mode);
        return FALSE;
    } else {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "unknown <forward mode='%s'>: expected nat, route, open or bridge", mode);
        return FALSE;
    }
    def->forward_dev = vd_xml_prop(fwd, "dev");

    /* libvirt's own net-dumpxml repeats dev= as one <interface dev=>: read
     * that back; a list of devices is a pool for macvtap/hostdev modes. */
    const xmlNode *iface = vd_xml_child(fwd, "interface");
    if (iface) {
        g_autofree char *dev = vd_xml_prop(iface, "dev");
        if (vd_xml_next(iface, "interface") || !dev ||
            (def->forward_dev && !g_str_equal(dev, def->forward_dev))) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "<forward><interface> other than one matching <forward dev=> is not "
                        "supported by virtd (pools of host devices): give <forward dev='NIC'>");
            return FALSE;
        }
        if (!def->forward_dev)
            def->forward_dev = g_steal_pointer(&dev);
    }
    if (def->forward_dev) {
        if (def->forward == VD_NET_FORWARD_BRIDGE) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "<forward mode='bridge' dev='%s'> (macvtap) is not supported by virtd: "
                        "give <bridge name=> of an existing host bridge, or the guest "
                        "<interface type='direct'>",
                        def->forward_dev);
            return FALSE;
        }
        if (!ifname_check(def->forward_dev, "<forward dev=>", error))
            return FALSE;
    }

    const xmlNode *nat = vd_xml_child(fwd, "nat");
    if (!nat)
        return TRUE;
    if (def->forward != VD_NET_FORWARD_NAT) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<forward><nat> is only valid with mode='nat', not '%s'", mode);
        return FALSE;
    }
    const xmlNode *addr = vd_xml_child(nat, "address");
    if (addr) {
        g_autofree char *s = vd_xml_prop(addr, "start");
        g_autofree char *e = vd_xml_prop(addr, "end");
        VdNetAddr sa, ea;
        if (!s) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML, "<nat><address> needs start=");
            return FALSE;
        }
        if (!(def->nat_addr_start = vd_net_addr_canon(s, AF_INET, "<nat><address start=>", error)))
            return FALSE;
        if (!(def->nat_addr_end =
                  vd_net_addr_canon(e ? e : s, AF_INET, "<nat><address end=>", error)))
            return FALSE;
        vd_net_addr_parse(def->nat_addr_start, AF_INET, &sa);
        vd_net_addr_parse(def->nat_addr_end, AF_INET, &ea);
        if (vd_net_addr_cmp(&sa, &ea) > 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "<nat><address> start %s is after its end %s: swap them",
                        def->nat_addr_start, def->nat_addr_end);
            return FALSE;
        }
    }
    const xmlNode *port = vd_xml_child(nat, "port");
    if (port) {
        guint s = 1024, e = 65535;
        if (!vd_xml_prop_uint(port, "start", "<nat><port start=>", 65535, &s, NULL, error) ||
            !vd_xml_prop_uint(port, "end", "<nat><port end=>", 65535, &e, NULL, error))
            return FALSE;
        if (s == 0 || s > e) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "<nat><port start='%u' end='%u'> is not a range of ports: give "
                        "1 <= start <= end <= 65535",
                        s, e);
            return FALSE;
        }
        def->nat_port_start = s;
        def->nat_port_end = e;
    }
    return TRUE;
}

static gboolean
parse_dns(VdNetworkDef *def, const xmlNode *dns, GError **error)
{
    gboolean enable = TRUE;

    if (!vd_xml_prop_bool(dns, "enable", "<dns enable=>", FALSE, &enable, NULL, error) ||
        !vd_xml_prop_bool(dns, "forwardPlainNames", "<dns forwardPlainNames=>", FALSE,
                          &def->dns.forward_plain_names, NULL, error))
        return FALSE;
    def->dns.disabled = !enable;
    for (const xmlNode *f = vd_xml_child(dns, "forwarder"); f; f = vd_xml_next(f, "forwarder")) {
        g_autofree char *addr = vd_xml_prop(f, "addr");
        g_autofree char *domain = vd_xml_prop(f, "domain");
        VdNetDnsForwarder *fw;
        if (!addr && !domain) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML, "<dns><forwarder> needs addr= or domain=");
            return FALSE;
        }
        fw = g_new0(VdNetDnsForwarder, 1);
        g_ptr_array_add(def->dns.forwarders, fw);
        if (addr && !(fw->addr = vd_net_addr_canon(addr, 0, "<dns><forwarder addr=>", error)))
            return FALSE;
        if (domain && !vd_net_dns_name_check(domain, "<dns><forwarder> domain", error))
            return FALSE;
        fw->domain = g_steal_pointer(&domain);
    }
    for (const xmlNode *h = vd_xml_child(dns, "host"); h; h = vd_xml_next(h, "host")) {
        VdNetDnsHost *host = vd_net_dns_host_parse(h, error);
        if (!host)
            return FALSE;
        g_ptr_array_add(def->dns.hosts, host);
    }
    if (def->dns.disabled && (def->dns.forwarders->len || def->dns.hosts->len)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "<dns enable='no'> with forwarders or hosts: remove them or enable DNS");
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_bridge_mac_mtu_domain(VdNetworkDef *def, const xmlNode *root, GError **error)
{
    const xmlNode *bridge = vd_xml_child(root, "bridge");
    if (bridge) {
        def->bridge = vd_xml_prop(bridge, "name");
        if (def->bridge && !ifname_check(def->bridge, "bridge name", error))
            return FALSE;
        if (!vd_xml_prop_bool(bridge, "stp", "<bridge stp=>", TRUE, &def->stp, NULL, error) ||
            !vd_xml_prop_uint(bridge, "delay", "<bridge delay=>", 600, &def->delay, NULL, error))
            return FALSE;
    }
    const xmlNode *mac = vd_xml_child(root, "mac");
    if (mac) {
        g_autofree char *addr = vd_xml_prop(mac, "address");
        if (!vd_net_mac_parse(addr, "<mac address=>", &def->mac, error))
            return FALSE;
    }
    const xmlNode *mtu = vd_xml_child(root, "mtu");
    if (mtu) {
        gboolean present = FALSE;
        if (!vd_xml_prop_uint(mtu, "size", "<mtu size=>", 65535, &def->mtu, &present, error))
            return FALSE;
        if (!present || def->mtu < 68) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "<mtu> needs size= between 68 and 65535 bytes");
            return FALSE;
        }
    }
    const xmlNode *domain = vd_xml_child(root, "domain");
    if (domain) {
        def->domain_name = vd_xml_prop(domain, "name");
        if (!def->domain_name) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML, "<domain> needs name=");
            return FALSE;
        }
        if (!vd_net_dns_name_check(def->domain_name, "<domain name=>", error) ||
            !vd_xml_prop_bool(domain, "localOnly", "<domain localOnly=>", FALSE,
                              &def->domain_local_only, NULL, error))
            return FALSE;
    }
    return TRUE;
}

/* Checks between elements, once everything is read. */
static gboolean
check_def(const VdNetworkDef *def, gboolean has_dns, GError **error)
{
    guint n4 = 0, dhcp4 = 0, dhcp6 = 0;

    if (def->forward == VD_NET_FORWARD_BRIDGE) {
        const char *what = def->ips->len      ? "<ip>"
                           : has_dns          ? "<dns>"
                           : def->domain_name ? "<domain>"
                                              : NULL;
        if (what) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "<forward mode='bridge'> uses an existing host bridge, so it cannot "
                        "have %s: remove it (addresses, DHCP and DNS come from the host's LAN)",
                        what);
            return FALSE;
        }
        if (!def->bridge) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "<forward mode='bridge'> needs <bridge name='BRIDGE'/>: the existing "
                        "host bridge to join");
            return FALSE;
        }
    }
    for (guint i = 0; i < def->ips->len; i++) {
        const VdNetIpDef *ip = g_ptr_array_index(def->ips, i);
        gboolean dhcp = ip->ranges->len > 0 || ip->hosts->len > 0;
        if (ip->family == AF_INET) {
            n4++;
            dhcp4 += dhcp;
        } else {
            dhcp6 += dhcp;
        }
    }
    if (n4 > 1) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "the network has %u IPv4 <ip>s: virtd supports one IPv4 subnet per network",
                    n4);
        return FALSE;
    }
    if (dhcp6 > 1) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "two IPv6 <ip>s have <dhcp>: DHCPv6 can serve one of them only");
        return FALSE;
    }
    return TRUE;
}

VdNetworkDef *
vd_network_def_parse(const char *xml, GError **error)
{
    xmlNode *root = NULL;
    g_autoptr(xmlDoc) doc = vd_storage_xml_read(xml, "network", &root, error);
    g_autoptr(VdNetworkDef) def = NULL;

    if (!doc || !vd_net_xml_check_known(root, "network", error))
        return NULL;
    def = vd_network_def_new();

    const xmlNode *name_node = vd_xml_child(root, "name");
    if (!name_node) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "<network> needs a <name>");
        return NULL;
    }
    def->name = g_strstrip(vd_xml_text(name_node));
    if (!vd_name_validate(def->name, "network name", error))
        return NULL;
    g_autofree char *uuid = vd_xml_text(vd_xml_child(root, "uuid"));
    if (uuid) {
        g_strstrip(uuid);
        if (!vd_uuid_parse(uuid, def->uuid)) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "invalid network <uuid> '%s': expected 32 hex digits such as "
                        "81ff0d90-c91e-6742-64da-4a736edb9a9b",
                        uuid);
            return NULL;
        }
    } else {
        vd_uuid_generate(def->uuid);
    }
    if (!vd_xml_prop_bool(root, "ipv6", "<network ipv6=>", FALSE, &def->ipv6_guests, NULL, error))
        return NULL;

    static const char *const singles[] = {"name", "uuid",   "forward", "bridge", "mac",
                                          "mtu",  "domain", "dns",     NULL};
    for (guint i = 0; singles[i]; i++) {
        if (vd_xml_next(vd_xml_child(root, singles[i]), singles[i])) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML, "<network> has two <%s>s: keep one",
                        singles[i]);
            return NULL;
        }
    }
    const xmlNode *fwd = vd_xml_child(root, "forward");
    if (fwd && !parse_forward(def, fwd, error))
        return NULL;
    if (!parse_bridge_mac_mtu_domain(def, root, error))
        return NULL;
    const xmlNode *dns = vd_xml_child(root, "dns");
    if (dns && !parse_dns(def, dns, error))
        return NULL;
    for (const xmlNode *n = vd_xml_child(root, "ip"); n; n = vd_xml_next(n, "ip")) {
        VdNetIpDef *ip = vd_net_ip_parse(n, error);
        if (!ip)
            return NULL;
        g_ptr_array_add(def->ips, ip);
    }
    if (!check_def(def, dns != NULL, error))
        return NULL;
    return g_steal_pointer(&def);
}
