/* Networks built by hand for the network/ tests, without the XML
 * parser (conf/network-def.c), whose own tests are elsewhere. */
#pragma once

#include <arpa/inet.h>
#include <glib.h>

#include "conf/network-def.h"

static inline void
ip_free(VdNetIpDef *ip)
{
    g_free(ip->address);
    g_ptr_array_unref(ip->ranges);
    g_ptr_array_unref(ip->hosts);
    g_free(ip);
}

static inline VdNetIpDef *
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

static inline VdNetworkDef *
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

static inline void
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

/* libvirt's 'default': NAT on virbr0, 192.168.122.1/24 with DHCP. */
static inline TestNet *
test_net_nat_default(void)
{
    TestNet *d = net_new("default", VD_NET_FORWARD_NAT, "virbr0");
    add_ip(d, AF_INET, "192.168.122.1", 24, TRUE);
    return d;
}

/* A routed network on virbr3, 192.168.150.1/24 with DHCP. */
static inline TestNet *
test_net_routed(void)
{
    TestNet *d = net_new("routed", VD_NET_FORWARD_ROUTE, "virbr3");
    add_ip(d, AF_INET, "192.168.150.1", 24, TRUE);
    return d;
}
