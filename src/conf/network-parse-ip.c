/* <ip>, its <dhcp> ranges and hosts, and <dns><host>: parse and checks.
 * Shared with net-update (network-update.c), which parses single <host>s. */
#include "conf/network-private.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "conf/domain-private.h"
#include "util/vd-error.h"
#include "util/vd-names.h"

/* Host and domain names end up in dnsmasq's files, where ',' separates
 * fields and a newline starts a new option: letters, digits, '-', '_'
 * and '.' only (RFC 952/1123 and what dnsmasq accepts). */
gboolean
vd_net_dns_name_check(const char *name, const char *what, GError **error)
{
    if (!name || !*name) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "%s must not be empty", what);
        return FALSE;
    }
    if (strlen(name) > 253) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "%s '%.40s...' is too long: DNS names have at most 253 bytes", what, name);
        return FALSE;
    }
    for (const char *p = name; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.') {
            g_autofree char *esc = g_strescape(name, NULL);
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "%s '%s' is not a valid DNS name: use letters, digits, '-', '_' and '.'",
                        what, esc);
            return FALSE;
        }
    }
    if (name[0] == '.' || name[0] == '-') {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "%s '%s' must not start with '%c'", what,
                    name, name[0]);
        return FALSE;
    }
    return TRUE;
}

gboolean
vd_net_mac_parse(const char *text, const char *where, char **out, GError **error)
{
    gboolean multicast = FALSE;

    if (!vd_mac_is_valid(text, &multicast)) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "invalid MAC address '%s' in %s: expected six hex bytes such as "
                    "52:54:00:12:34:56",
                    text ? text : "", where);
        return FALSE;
    }
    if (multicast) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "MAC address '%s' in %s is a multicast address: use a unicast one such as "
                    "52:54:00:12:34:56",
                    text, where);
        return FALSE;
    }
    *out = g_ascii_strdown(text, -1);
    return TRUE;
}

/* <lease expiry='N' unit='seconds|minutes|hours'/>; libvirt's default unit is minutes. */
static gboolean
lease_parse(const xmlNode *parent, const char *where, guint64 *seconds, guint *unit_out,
            GError **error)
{
    const xmlNode *lease = vd_xml_child(parent, "lease");
    g_autofree char *w = g_strdup_printf("%s <lease expiry=>", where);
    g_autofree char *expiry = vd_xml_prop(lease, "expiry");
    g_autofree char *unit = vd_xml_prop(lease, "unit");
    guint64 n;
    guint u = 60;

    if (!lease)
        return TRUE;
    if (!expiry) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "%s <lease> needs expiry= (0 for an infinite lease)", where);
        return FALSE;
    }
    if (unit && g_str_equal(unit, "seconds")) {
        u = 1;
    } else if (unit && g_str_equal(unit, "hours")) {
        u = 3600;
    } else if (unit && !g_str_equal(unit, "minutes")) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "unknown %s <lease unit='%s'>: expected seconds, minutes or hours", where,
                    unit);
        return FALSE;
    }
    /* dnsmasq keeps lease times in 32 bits. */
    if (!vd_xml_parse_uint(expiry, w, (G_MAXUINT32 - 1) / u, &n, error))
        return FALSE;
    *seconds = n == 0 ? G_MAXUINT64 : n * u;
    *unit_out = u;
    return TRUE;
}

VdNetDhcpHost *
vd_net_dhcp_host_parse(const xmlNode *node, const VdNetIpDef *ip, GError **error)
{
    g_autoptr(VdNetDhcpHost) h = g_new0(VdNetDhcpHost, 1);
    g_autofree char *mac = vd_xml_prop(node, "mac");
    g_autofree char *id = vd_xml_prop(node, "id");
    g_autofree char *addr = vd_xml_prop(node, "ip");
    const char *where = ip->family == AF_INET6 ? "IPv6 <dhcp><host>" : "<dhcp><host>";

    h->name = vd_xml_prop(node, "name");
    if (mac && ip->family == AF_INET6) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "mac= in an IPv6 <dhcp><host>: DHCPv6 identifies clients by id= (DUID)");
        return NULL;
    }
    if (id && ip->family == AF_INET) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "id= in an IPv4 <dhcp><host>: identify IPv4 clients by mac=");
        return NULL;
    }
    if (mac && !vd_net_mac_parse(mac, where, &h->mac, error))
        return NULL;
    if (id) {
        for (const char *p = id; *p; p++) {
            if (!g_ascii_isxdigit(*p) && *p != ':') {
                g_set_error(error, VD_ERROR, VD_ERROR_XML,
                            "invalid DUID '%s' in %s id=: expected hex bytes separated by ':'", id,
                            where);
                return NULL;
            }
        }
        if (!*id) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML, "empty id= in %s", where);
            return NULL;
        }
        h->id = g_ascii_strdown(id, -1);
    }
    if (h->name && !vd_net_dns_name_check(h->name, "<dhcp><host> name", error))
        return NULL;
    if (!h->mac && !h->id && !h->name) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "%s needs %s or name=", where,
                    ip->family == AF_INET6 ? "id=" : "mac=");
        return NULL;
    }
    if (addr) {
        VdNetAddr a;
        VdNetAddr self = vd_net_ip_addr(ip);
        if (!(h->ip = vd_net_addr_canon(addr, ip->family, where, error)))
            return NULL;
        vd_net_addr_parse(h->ip, ip->family, &a);
        if (!vd_net_addr_in_subnet(&a, &self, ip->prefix)) {
            g_autofree char *net = vd_net_ip_subnet_string(ip);
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "%s ip '%s' is outside the network's subnet %s: give an address in it",
                        where, h->ip, net);
            return NULL;
        }
        if (vd_net_addr_cmp(&a, &self) == 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "%s ip '%s' is the host's own address on the bridge: pick another one",
                        where, h->ip);
            return NULL;
        }
    } else if (!h->mac && !h->id) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "%s with only name= needs ip=", where);
        return NULL;
    }
    if (!lease_parse(node, where, &h->lease_seconds, &h->lease_unit, error))
        return NULL;
    return g_steal_pointer(&h);
}

gboolean
vd_net_dhcp_host_check_dups(const VdNetIpDef *ip, const VdNetDhcpHost *host, int skip,
                            GError **error)
{
    for (guint i = 0; i < ip->hosts->len; i++) {
        const VdNetDhcpHost *o = g_ptr_array_index(ip->hosts, i);
        const char *what = NULL, *value = NULL;

        if ((int)i == skip)
            continue;
        if (host->mac && o->mac && g_str_equal(host->mac, o->mac))
            what = "MAC", value = host->mac;
        else if (host->id && o->id && g_str_equal(host->id, o->id))
            what = "id", value = host->id;
        else if (host->ip && o->ip && g_str_equal(host->ip, o->ip))
            what = "IP", value = host->ip;
        else if (host->name && o->name && g_ascii_strcasecmp(host->name, o->name) == 0)
            what = "name", value = host->name;
        if (what) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "duplicate %s '%s' among <dhcp><host>s: each host needs its own %s", what,
                        value, what);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
range_parse(const xmlNode *node, VdNetIpDef *ip, GError **error)
{
    g_autofree char *start = vd_xml_prop(node, "start");
    g_autofree char *end = vd_xml_prop(node, "end");
    g_autofree VdNetDhcpRange *r = g_new0(VdNetDhcpRange, 1);
    VdNetAddr s, e, self = vd_net_ip_addr(ip);
    g_autofree char *cs = NULL, *ce = NULL;

    if (!start || !end) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "<dhcp><range> needs start= and end=");
        return FALSE;
    }
    if (!(cs = vd_net_addr_canon(start, ip->family, "<dhcp><range start=>", error)) ||
        !(ce = vd_net_addr_canon(end, ip->family, "<dhcp><range end=>", error)))
        return FALSE;
    vd_net_addr_parse(cs, ip->family, &s);
    vd_net_addr_parse(ce, ip->family, &e);
    g_autofree char *net = vd_net_ip_subnet_string(ip);
    if (!vd_net_addr_in_subnet(&s, &self, ip->prefix) ||
        !vd_net_addr_in_subnet(&e, &self, ip->prefix)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "DHCP range %s - %s is outside the network's subnet %s: give addresses in it",
                    cs, ce, net);
        return FALSE;
    }
    if (vd_net_addr_cmp(&s, &e) > 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "DHCP range start %s is after its end %s: swap them", cs, ce);
        return FALSE;
    }
    if (vd_net_addr_cmp(&s, &self) <= 0 && vd_net_addr_cmp(&self, &e) <= 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "DHCP range %s - %s contains the host's own address %s: start the range "
                    "after it",
                    cs, ce, ip->address);
        return FALSE;
    }
    if (ip->family == AF_INET && ip->prefix < 31) {
        VdNetAddr first = vd_net_addr_mask(&self, ip->prefix, FALSE);
        VdNetAddr last = vd_net_addr_mask(&self, ip->prefix, TRUE);
        if (vd_net_addr_cmp(&s, &first) == 0 || vd_net_addr_cmp(&e, &last) == 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "DHCP range %s - %s includes the network or broadcast address of %s", cs,
                        ce, net);
            return FALSE;
        }
    }
    if (!lease_parse(node, "<dhcp><range>", &r->lease_seconds, &r->lease_unit, error))
        return FALSE;
    r->start = g_steal_pointer(&cs);
    r->end = g_steal_pointer(&ce);
    g_ptr_array_add(ip->ranges, g_steal_pointer(&r));
    return TRUE;
}

/* netmask='255.255.255.0' -> 24; contiguous masks only. */
static gboolean
netmask_prefix(const char *mask, guint *prefix, GError **error)
{
    VdNetAddr m;
    guint n = 0;
    gboolean zeros = FALSE;

    if (!vd_net_addr_parse(mask, AF_INET, &m)) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "invalid <ip netmask='%s'>", mask);
        return FALSE;
    }
    for (guint i = 0; i < 32; i++) {
        gboolean bit = (m.b[i / 8] >> (7 - i % 8)) & 1;
        if (bit && zeros) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "<ip netmask='%s'> is not contiguous: use a mask such as 255.255.255.0",
                        mask);
            return FALSE;
        }
        if (bit)
            n++;
        else
            zeros = TRUE;
    }
    *prefix = n;
    return TRUE;
}

VdNetIpDef *
vd_net_ip_parse(const xmlNode *node, GError **error)
{
    g_autofree char *family = vd_xml_prop(node, "family");
    g_autofree char *address = vd_xml_prop(node, "address");
    g_autofree char *netmask = vd_xml_prop(node, "netmask");
    g_autofree char *prefix = vd_xml_prop(node, "prefix");
    int fam = 0;
    VdNetAddr a;

    if (family && g_str_equal(family, "ipv4")) {
        fam = AF_INET;
    } else if (family && g_str_equal(family, "ipv6")) {
        fam = AF_INET6;
    } else if (family) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "unknown <ip family='%s'>: expected ipv4 or ipv6", family);
        return NULL;
    }
    if (!address) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<ip> needs address=: the host's address on the network's bridge");
        return NULL;
    }
    if (!vd_net_addr_parse(address, fam, &a)) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "invalid %s address '%s' in <ip address=>",
                    fam == AF_INET6  ? "IPv6"
                    : fam == AF_INET ? "IPv4"
                                     : "IP",
                    address);
        return NULL;
    }
    g_autoptr(VdNetIpDef) ip = vd_net_ip_def_new(a.family);
    ip->address = vd_net_addr_to_string(&a);
    if (netmask && prefix) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<ip> has both netmask= and prefix=: give one of them");
        return NULL;
    }
    if (netmask) {
        if (ip->family != AF_INET) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "netmask= is for IPv4 only: give prefix= for %s", ip->address);
            return NULL;
        }
        if (!netmask_prefix(netmask, &ip->prefix, error))
            return NULL;
        ip->netmask_given = TRUE;
    } else if (prefix) {
        guint64 p;
        if (!vd_xml_parse_uint(prefix, "<ip prefix=>", ip->family == AF_INET ? 32 : 128, &p, error))
            return NULL;
        ip->prefix = (guint)p;
    } else if (ip->family == AF_INET6) {
        ip->prefix = 64;
    } else {
        /* libvirt's classful default. */
        ip->prefix = a.b[0] < 128 ? 8 : a.b[0] < 192 ? 16 : 24;
    }
    if (ip->prefix == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<ip> prefix 0 would take every address: give the subnet's prefix");
        return NULL;
    }
    if (ip->family == AF_INET)
        ip->addr4 =
            ((guint32)a.b[0] << 24) | ((guint32)a.b[1] << 16) | ((guint32)a.b[2] << 8) | a.b[3];

    const xmlNode *dhcp = vd_xml_child(node, "dhcp");
    if (!dhcp)
        return g_steal_pointer(&ip);
    if (vd_xml_next(dhcp, "dhcp")) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "<ip address='%s'> has two <dhcp>s",
                    ip->address);
        return NULL;
    }
    ip->has_dhcp = TRUE;
    for (const xmlNode *r = vd_xml_child(dhcp, "range"); r; r = vd_xml_next(r, "range")) {
        if (!range_parse(r, ip, error))
            return NULL;
    }
    for (const xmlNode *h = vd_xml_child(dhcp, "host"); h; h = vd_xml_next(h, "host")) {
        g_autoptr(VdNetDhcpHost) host = vd_net_dhcp_host_parse(h, ip, error);
        if (!host || !vd_net_dhcp_host_check_dups(ip, host, -1, error))
            return NULL;
        g_ptr_array_add(ip->hosts, g_steal_pointer(&host));
    }
    return g_steal_pointer(&ip);
}

VdNetDnsHost *
vd_net_dns_host_parse(const xmlNode *node, GError **error)
{
    g_autoptr(VdNetDnsHost) h = g_new0(VdNetDnsHost, 1);
    g_autofree char *ip = vd_xml_prop(node, "ip");

    h->hostnames = g_ptr_array_new_with_free_func(g_free);
    if (!ip) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "<dns><host> needs ip=");
        return NULL;
    }
    if (!(h->ip = vd_net_addr_canon(ip, 0, "<dns><host ip=>", error)))
        return NULL;
    for (const xmlNode *n = vd_xml_child(node, "hostname"); n; n = vd_xml_next(n, "hostname")) {
        g_autofree char *name = g_strstrip(vd_xml_text(n));
        if (!vd_net_dns_name_check(name, "<dns><host><hostname>", error))
            return NULL;
        g_ptr_array_add(h->hostnames, g_steal_pointer(&name));
    }
    if (h->hostnames->len == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<dns><host ip='%s'> needs at least one <hostname>", h->ip);
        return NULL;
    }
    return g_steal_pointer(&h);
}
