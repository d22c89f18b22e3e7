/* The network model: life cycle, copies, addresses and subnets
 * (network-def.h). Parse, format and update are in their own files. */
#include "conf/network-def.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "conf/network-private.h"
#include "util/vd-error.h"
#include "util/vd-names.h"

static const char *const forward_names[VD_NET_FORWARD_LAST] = {
    [VD_NET_FORWARD_NONE] = "none",     [VD_NET_FORWARD_NAT] = "nat",
    [VD_NET_FORWARD_ROUTE] = "route",   [VD_NET_FORWARD_OPEN] = "open",
    [VD_NET_FORWARD_BRIDGE] = "bridge",
};

const char *
vd_net_forward_mode_to_string(VdNetForwardMode mode)
{
    if ((guint)mode >= VD_NET_FORWARD_LAST)
        return "none";
    return forward_names[mode];
}

/* ---- addresses ---- */

gboolean
vd_net_addr_parse(const char *text, int family, VdNetAddr *out)
{
    VdNetAddr a = {0};

    if (!text)
        return FALSE;
    if ((family == 0 || family == AF_INET) && inet_pton(AF_INET, text, a.b) == 1) {
        a.family = AF_INET;
    } else if ((family == 0 || family == AF_INET6) && inet_pton(AF_INET6, text, a.b) == 1) {
        a.family = AF_INET6;
    } else {
        return FALSE;
    }
    *out = a;
    return TRUE;
}

char *
vd_net_addr_to_string(const VdNetAddr *a)
{
    char buf[INET6_ADDRSTRLEN];

    if (!inet_ntop(a->family, a->b, buf, sizeof(buf)))
        return g_strdup("?");
    return g_strdup(buf);
}

char *
vd_net_addr_canon(const char *text, int family, const char *where, GError **error)
{
    VdNetAddr a;

    if (!text || !vd_net_addr_parse(text, family, &a)) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "invalid %s address '%s' in %s",
                    family == AF_INET6  ? "IPv6"
                    : family == AF_INET ? "IPv4"
                                        : "IP",
                    text ? text : "", where);
        return NULL;
    }
    return vd_net_addr_to_string(&a);
}

int
vd_net_addr_cmp(const VdNetAddr *a, const VdNetAddr *b)
{
    return memcmp(a->b, b->b, a->family == AF_INET ? 4 : 16);
}

VdNetAddr
vd_net_addr_mask(const VdNetAddr *a, guint prefix, gboolean ones)
{
    VdNetAddr r = *a;
    guint bits = a->family == AF_INET ? 32 : 128;

    for (guint i = prefix; i < bits; i++) {
        guint8 bit = (guint8)(0x80 >> (i % 8));
        if (ones)
            r.b[i / 8] |= bit;
        else
            r.b[i / 8] &= (guint8)~bit;
    }
    return r;
}

gboolean
vd_net_addr_in_subnet(const VdNetAddr *a, const VdNetAddr *net, guint prefix)
{
    if (a->family != net->family)
        return FALSE;
    VdNetAddr x = vd_net_addr_mask(a, prefix, FALSE);
    VdNetAddr y = vd_net_addr_mask(net, prefix, FALSE);
    return vd_net_addr_cmp(&x, &y) == 0;
}

guint64
vd_net_range_size(const VdNetAddr *start, const VdNetAddr *end)
{
    int n = start->family == AF_INET ? 4 : 16;
    guint64 s = 0, e = 0;

    /* Whatever lies above the low 64 bits makes the range huge. */
    for (int i = 0; i < n - 8; i++) {
        if (start->b[i] != end->b[i])
            return G_MAXUINT32;
    }
    for (int i = MAX(0, n - 8); i < n; i++) {
        s = (s << 8) | start->b[i];
        e = (e << 8) | end->b[i];
    }
    if (e < s)
        return 0;
    return MIN(e - s + 1, (guint64)G_MAXUINT32);
}

VdNetAddr
vd_net_ip_addr(const VdNetIpDef *ip)
{
    VdNetAddr a = {0};

    vd_net_addr_parse(ip->address, ip->family, &a);
    return a;
}

char *
vd_net_ip_subnet_string(const VdNetIpDef *ip)
{
    VdNetAddr a = vd_net_ip_addr(ip);
    VdNetAddr net = vd_net_addr_mask(&a, ip->prefix, FALSE);
    g_autofree char *s = vd_net_addr_to_string(&net);

    return g_strdup_printf("%s/%u", s, ip->prefix);
}

gboolean
vd_network_def_overlaps(const VdNetworkDef *a, const VdNetworkDef *b, char **what)
{
    for (guint i = 0; i < a->ips->len; i++) {
        const VdNetIpDef *x = g_ptr_array_index(a->ips, i);
        VdNetAddr xa = vd_net_ip_addr(x);
        for (guint j = 0; j < b->ips->len; j++) {
            const VdNetIpDef *y = g_ptr_array_index(b->ips, j);
            VdNetAddr ya = vd_net_ip_addr(y);
            if (x->family != y->family)
                continue;
            /* Two subnets overlap iff the larger one contains the other's network. */
            guint p = MIN(x->prefix, y->prefix);
            if (!vd_net_addr_in_subnet(&xa, &ya, p))
                continue;
            if (what) {
                g_autofree char *xs = vd_net_ip_subnet_string(x);
                g_autofree char *ys = vd_net_ip_subnet_string(y);
                *what = g_strdup_printf("%s overlaps %s", xs, ys);
            }
            return TRUE;
        }
    }
    return FALSE;
}

/* ---- life cycle ---- */

static void
forwarder_free(gpointer data)
{
    VdNetDnsForwarder *f = data;

    if (!f)
        return;
    g_free(f->addr);
    g_free(f->domain);
    g_free(f);
}

VdNetworkDef *
vd_network_def_new(void)
{
    VdNetworkDef *def = g_new0(VdNetworkDef, 1);

    def->stp = TRUE;
    def->dns.forwarders = g_ptr_array_new_with_free_func(forwarder_free);
    def->dns.hosts = g_ptr_array_new_with_free_func((GDestroyNotify)vd_net_dns_host_free);
    def->ips = g_ptr_array_new_with_free_func((GDestroyNotify)vd_net_ip_def_free);
    return def;
}

static void
range_free(VdNetDhcpRange *r)
{
    if (!r)
        return;
    g_free(r->start);
    g_free(r->end);
    g_free(r);
}

void
vd_net_dhcp_host_free(VdNetDhcpHost *h)
{
    if (!h)
        return;
    g_free(h->mac);
    g_free(h->id);
    g_free(h->name);
    g_free(h->ip);
    g_free(h);
}

VdNetDhcpHost *
vd_net_dhcp_host_copy(const VdNetDhcpHost *h)
{
    VdNetDhcpHost *c = g_new0(VdNetDhcpHost, 1);

    c->mac = g_strdup(h->mac);
    c->id = g_strdup(h->id);
    c->name = g_strdup(h->name);
    c->ip = g_strdup(h->ip);
    c->lease_seconds = h->lease_seconds;
    c->lease_unit = h->lease_unit;
    return c;
}

void
vd_net_dns_host_free(VdNetDnsHost *h)
{
    if (!h)
        return;
    g_free(h->ip);
    if (h->hostnames)
        g_ptr_array_unref(h->hostnames);
    g_free(h);
}

VdNetDnsHost *
vd_net_dns_host_copy(const VdNetDnsHost *h)
{
    VdNetDnsHost *c = g_new0(VdNetDnsHost, 1);

    c->ip = g_strdup(h->ip);
    c->hostnames = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < h->hostnames->len; i++)
        g_ptr_array_add(c->hostnames, g_strdup(g_ptr_array_index(h->hostnames, i)));
    return c;
}

VdNetIpDef *
vd_net_ip_def_new(int family)
{
    VdNetIpDef *ip = g_new0(VdNetIpDef, 1);

    ip->family = family;
    ip->ranges = g_ptr_array_new_with_free_func((GDestroyNotify)range_free);
    ip->hosts = g_ptr_array_new_with_free_func((GDestroyNotify)vd_net_dhcp_host_free);
    return ip;
}

void
vd_net_ip_def_free(VdNetIpDef *ip)
{
    if (!ip)
        return;
    g_free(ip->address);
    g_ptr_array_unref(ip->ranges);
    g_ptr_array_unref(ip->hosts);
    g_free(ip);
}

void
vd_network_def_free(VdNetworkDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->forward_dev);
    g_free(def->nat_addr_start);
    g_free(def->nat_addr_end);
    g_free(def->bridge);
    g_free(def->mac);
    g_free(def->domain_name);
    g_ptr_array_unref(def->dns.forwarders);
    g_ptr_array_unref(def->dns.hosts);
    g_ptr_array_unref(def->ips);
    g_free(def);
}

VdNetworkDef *
vd_network_def_copy(const VdNetworkDef *def)
{
    VdNetworkDef *c = vd_network_def_new();

    c->name = g_strdup(def->name);
    memcpy(c->uuid, def->uuid, sizeof(c->uuid));
    c->forward = def->forward;
    c->forward_dev = g_strdup(def->forward_dev);
    c->nat_addr_start = g_strdup(def->nat_addr_start);
    c->nat_addr_end = g_strdup(def->nat_addr_end);
    c->nat_port_start = def->nat_port_start;
    c->nat_port_end = def->nat_port_end;
    c->bridge = g_strdup(def->bridge);
    c->stp = def->stp;
    c->delay = def->delay;
    c->mac = g_strdup(def->mac);
    c->mtu = def->mtu;
    c->domain_name = g_strdup(def->domain_name);
    c->domain_local_only = def->domain_local_only;
    c->dns.disabled = def->dns.disabled;
    c->dns.forward_plain_names = def->dns.forward_plain_names;
    for (guint i = 0; i < def->dns.forwarders->len; i++) {
        const VdNetDnsForwarder *f = g_ptr_array_index(def->dns.forwarders, i);
        VdNetDnsForwarder *n = g_new0(VdNetDnsForwarder, 1);
        n->addr = g_strdup(f->addr);
        n->domain = g_strdup(f->domain);
        g_ptr_array_add(c->dns.forwarders, n);
    }
    for (guint i = 0; i < def->dns.hosts->len; i++)
        g_ptr_array_add(c->dns.hosts, vd_net_dns_host_copy(g_ptr_array_index(def->dns.hosts, i)));
    for (guint i = 0; i < def->ips->len; i++) {
        const VdNetIpDef *ip = g_ptr_array_index(def->ips, i);
        VdNetIpDef *n = vd_net_ip_def_new(ip->family);
        n->address = g_strdup(ip->address);
        n->prefix = ip->prefix;
        n->netmask_given = ip->netmask_given;
        n->addr4 = ip->addr4;
        n->has_dhcp = ip->has_dhcp;
        for (guint j = 0; j < ip->ranges->len; j++) {
            const VdNetDhcpRange *r = g_ptr_array_index(ip->ranges, j);
            VdNetDhcpRange *nr = g_new0(VdNetDhcpRange, 1);
            nr->start = g_strdup(r->start);
            nr->end = g_strdup(r->end);
            nr->lease_seconds = r->lease_seconds;
            nr->lease_unit = r->lease_unit;
            g_ptr_array_add(n->ranges, nr);
        }
        for (guint j = 0; j < ip->hosts->len; j++)
            g_ptr_array_add(n->hosts, vd_net_dhcp_host_copy(g_ptr_array_index(ip->hosts, j)));
        g_ptr_array_add(c->ips, n);
    }
    c->ipv6_guests = def->ipv6_guests;
    return c;
}

VdNetworkDef *
vd_network_def_new_default(const char *bridge, guint octet)
{
    VdNetworkDef *def = vd_network_def_new();
    VdNetIpDef *ip = vd_net_ip_def_new(AF_INET);
    VdNetDhcpRange *r = g_new0(VdNetDhcpRange, 1);

    def->name = g_strdup("default");
    vd_uuid_generate(def->uuid);
    def->forward = VD_NET_FORWARD_NAT;
    def->bridge = g_strdup(bridge);
    ip->address = g_strdup_printf("192.168.%u.1", octet & 0xff);
    ip->prefix = 24;
    ip->netmask_given = TRUE;
    ip->addr4 = (192u << 24) | (168u << 16) | ((octet & 0xff) << 8) | 1u;
    ip->has_dhcp = TRUE;
    r->start = g_strdup_printf("192.168.%u.2", octet & 0xff);
    r->end = g_strdup_printf("192.168.%u.254", octet & 0xff);
    g_ptr_array_add(ip->ranges, r);
    g_ptr_array_add(def->ips, ip);
    return def;
}

const VdNetIpDef *
vd_network_def_ipv4(const VdNetworkDef *def)
{
    for (guint i = 0; i < def->ips->len; i++) {
        const VdNetIpDef *ip = g_ptr_array_index(def->ips, i);
        if (ip->family == AF_INET)
            return ip;
    }
    return NULL;
}

gboolean
vd_network_def_needs_dnsmasq(const VdNetworkDef *def)
{
    if (def->forward == VD_NET_FORWARD_BRIDGE || def->ips->len == 0)
        return FALSE;
    if (!def->dns.disabled)
        return TRUE;
    for (guint i = 0; i < def->ips->len; i++) {
        const VdNetIpDef *ip = g_ptr_array_index(def->ips, i);
        if (ip->ranges->len > 0 || ip->hosts->len > 0)
            return TRUE;
    }
    return FALSE;
}

guint64
vd_net_dhcp_range_size(const VdNetDhcpRange *range)
{
    VdNetAddr s, e;

    if (!vd_net_addr_parse(range->start, 0, &s) || !vd_net_addr_parse(range->end, s.family, &e))
        return 0;
    return vd_net_range_size(&s, &e);
}

char *
vd_net_ip_netmask_string(const VdNetIpDef *ip)
{
    VdNetAddr a = vd_net_ip_addr(ip);
    VdNetAddr ones = vd_net_addr_mask(&a, 0, TRUE);
    VdNetAddr mask = vd_net_addr_mask(&ones, ip->prefix, FALSE);

    return vd_net_addr_to_string(&mask);
}
