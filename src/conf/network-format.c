/* VdNetworkDef -> <network> XML, in the shape of libvirt's net-dumpxml of
 * an active network (tests/networkxml2xmlout in libvirt): two-space
 * indent, single quotes, an <ip> without DHCP written as an open and a
 * close tag, <forward mode='nat'> with its port range. */
#include "conf/network-def.h"

#include <sys/socket.h>

#include "conf/network-private.h"

static void
attr(GString *out, const char *name, const char *value)
{
    g_autofree char *esc = NULL;

    if (!value)
        return;
    esc = g_markup_escape_text(value, -1);
    g_string_append_printf(out, " %s='%s'", name, esc);
}

static void
attr_uint(GString *out, const char *name, guint64 value)
{
    g_string_append_printf(out, " %s='%" G_GUINT64_FORMAT "'", name, value);
}

static void
indent(GString *out, int n)
{
    g_string_append_printf(out, "%*s", n, "");
}

static void
format_lease(GString *out, int ind, guint64 seconds, guint unit)
{
    if (seconds == 0)
        return;
    indent(out, ind);
    g_string_append(out, "<lease");
    if (seconds == G_MAXUINT64) {
        attr_uint(out, "expiry", 0);
    } else {
        if (unit != 1 && unit != 60 && unit != 3600)
            unit = 60;
        attr_uint(out, "expiry", seconds / unit);
        attr(out, "unit", unit == 1 ? "seconds" : unit == 60 ? "minutes" : "hours");
    }
    g_string_append(out, "/>\n");
}

/* Closes a <range> or <host> of <dhcp> whose attributes are written:
 * empty, or holding its <lease>. */
static void
end_dhcp_element(GString *out, const char *name, guint64 lease_seconds, guint lease_unit)
{
    if (!lease_seconds) {
        g_string_append(out, "/>\n");
        return;
    }
    g_string_append(out, ">\n");
    format_lease(out, 8, lease_seconds, lease_unit);
    g_string_append_printf(out, "      </%s>\n", name);
}

static void
format_forward(GString *out, const VdNetworkDef *def)
{
    if (def->forward == VD_NET_FORWARD_NONE)
        return;
    g_string_append(out, "  <forward");
    attr(out, "dev", def->forward_dev);
    attr(out, "mode", vd_net_forward_mode_to_string(def->forward));
    if (def->forward != VD_NET_FORWARD_NAT && !def->forward_dev) {
        g_string_append(out, "/>\n");
        return;
    }
    g_string_append(out, ">\n");
    if (def->forward == VD_NET_FORWARD_NAT) {
        g_string_append(out, "    <nat>\n");
        if (def->nat_addr_start) {
            g_string_append(out, "      <address");
            attr(out, "start", def->nat_addr_start);
            attr(out, "end", def->nat_addr_end);
            g_string_append(out, "/>\n");
        }
        /* The range masquerade uses (libvirt's default shown as an active
         * network shows it). */
        g_string_append(out, "      <port");
        attr_uint(out, "start", def->nat_port_start ? def->nat_port_start : 1024);
        attr_uint(out, "end", def->nat_port_start ? def->nat_port_end : 65535);
        g_string_append(out, "/>\n    </nat>\n");
    }
    if (def->forward_dev) {
        g_string_append(out, "    <interface");
        attr(out, "dev", def->forward_dev);
        g_string_append(out, "/>\n");
    }
    g_string_append(out, "  </forward>\n");
}

static void
format_dns(GString *out, const VdNetworkDef *def)
{
    const VdNetDnsDef *dns = &def->dns;

    if (!dns->disabled && !dns->forward_plain_names && !dns->forwarders->len && !dns->hosts->len)
        return;
    g_string_append(out, "  <dns");
    if (dns->disabled)
        attr(out, "enable", "no");
    if (dns->forward_plain_names)
        attr(out, "forwardPlainNames", "yes");
    if (!dns->forwarders->len && !dns->hosts->len) {
        g_string_append(out, "/>\n");
        return;
    }
    g_string_append(out, ">\n");
    for (guint i = 0; i < dns->forwarders->len; i++) {
        const VdNetDnsForwarder *f = g_ptr_array_index(dns->forwarders, i);
        g_string_append(out, "    <forwarder");
        attr(out, "domain", f->domain);
        attr(out, "addr", f->addr);
        g_string_append(out, "/>\n");
    }
    for (guint i = 0; i < dns->hosts->len; i++) {
        const VdNetDnsHost *h = g_ptr_array_index(dns->hosts, i);
        g_string_append(out, "    <host");
        attr(out, "ip", h->ip);
        g_string_append(out, ">\n");
        for (guint j = 0; j < h->hostnames->len; j++) {
            g_autofree char *esc = g_markup_escape_text(g_ptr_array_index(h->hostnames, j), -1);
            g_string_append_printf(out, "      <hostname>%s</hostname>\n", esc);
        }
        g_string_append(out, "    </host>\n");
    }
    g_string_append(out, "  </dns>\n");
}

static void
format_ip(GString *out, const VdNetIpDef *ip)
{
    g_string_append(out, "  <ip");
    if (ip->family == AF_INET6)
        attr(out, "family", "ipv6");
    attr(out, "address", ip->address);
    if (ip->family == AF_INET && ip->netmask_given) {
        g_autofree char *m = vd_net_ip_netmask_string(ip);
        attr(out, "netmask", m);
    } else {
        attr_uint(out, "prefix", ip->prefix);
    }
    g_string_append(out, ">\n");
    if (ip->has_dhcp) {
        if (!ip->ranges->len && !ip->hosts->len) {
            g_string_append(out, "    <dhcp/>\n");
        } else {
            g_string_append(out, "    <dhcp>\n");
            for (guint i = 0; i < ip->ranges->len; i++) {
                const VdNetDhcpRange *r = g_ptr_array_index(ip->ranges, i);
                g_string_append(out, "      <range");
                attr(out, "start", r->start);
                attr(out, "end", r->end);
                end_dhcp_element(out, "range", r->lease_seconds, r->lease_unit);
            }
            for (guint i = 0; i < ip->hosts->len; i++) {
                const VdNetDhcpHost *h = g_ptr_array_index(ip->hosts, i);
                g_string_append(out, "      <host");
                attr(out, "mac", h->mac);
                attr(out, "id", h->id);
                attr(out, "name", h->name);
                attr(out, "ip", h->ip);
                end_dhcp_element(out, "host", h->lease_seconds, h->lease_unit);
            }
            g_string_append(out, "    </dhcp>\n");
        }
    }
    g_string_append(out, "  </ip>\n");
}

char *
vd_network_def_format(const VdNetworkDef *def)
{
    GString *out = g_string_new("<network");
    g_autofree char *name = g_markup_escape_text(def->name ? def->name : "", -1);

    if (def->ipv6_guests)
        attr(out, "ipv6", "yes");
    g_string_append(out, ">\n");
    g_string_append_printf(out, "  <name>%s</name>\n", name);
    g_string_append_printf(out, "  <uuid>%s</uuid>\n", def->uuid);
    format_forward(out, def);
    g_string_append(out, "  <bridge");
    attr(out, "name", def->bridge);
    /* as libvirt: no stp or delay for a host bridge (forward mode='bridge') */
    if (def->forward != VD_NET_FORWARD_BRIDGE) {
        attr(out, "stp", def->stp ? "on" : "off");
        attr_uint(out, "delay", def->delay);
    }
    g_string_append(out, "/>\n");
    if (def->mtu)
        g_string_append_printf(out, "  <mtu size='%u'/>\n", def->mtu);
    if (def->mac) {
        g_string_append(out, "  <mac");
        attr(out, "address", def->mac);
        g_string_append(out, "/>\n");
    }
    if (def->domain_name) {
        g_string_append(out, "  <domain");
        attr(out, "name", def->domain_name);
        if (def->domain_local_only)
            attr(out, "localOnly", "yes");
        g_string_append(out, "/>\n");
    }
    format_dns(out, def);
    for (guint i = 0; i < def->ips->len; i++)
        format_ip(out, g_ptr_array_index(def->ips, i));
    g_string_append(out, "</network>\n");
    return g_string_free(out, FALSE);
}
