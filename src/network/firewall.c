/* nftables rulesets of virtual networks: pure text generation.
 *
 * The rules follow libvirt's nftables backend (network_nftables.c), in one
 * inet table per network instead of libvirt's shared ip/ip6 tables, so
 * that a network's rules come and go as one table:
 *  - chain forward (hook forward): guest-to-guest on the bridge accepted;
 *    for nat, replies into the subnet (established/related) and the
 *    subnet going out; for route (and the IPv6 subnet of a nat network,
 *    which libvirt routes rather than masquerades), the subnet both ways;
 *    everything else from or to the bridge rejected;
 *  - chain input (hook input): DHCP and DNS from the bridge accepted, so
 *    that dnsmasq answers even under a restrictive input policy of ours;
 *  - chain postrouting (nat hook, nat mode, IPv4 only): multicast
 *    224.0.0.0/24 and broadcast left alone, then TCP/UDP masqueraded into
 *    ports 1024-65535 (so that a guest's source port never collides with a
 *    privileged one of the host), then everything else masqueraded; SNAT
 *    to <nat><address> instead when given.
 * An accept here does not bypass other tables (each base chain on a hook
 * is evaluated): that is what vd_firewall_check_host() is for. */
#include "network/firewall.h"

#include <arpa/inet.h>
#include <string.h>

static gboolean
ifname_ok(const char *name)
{
    /* Interface names are quoted in the script; the parser already refuses
     * spaces, '/' and ':' in bridge names, and a quote or backslash must
     * never reach nft either. */
    if (!name || !*name || strlen(name) > 15)
        return FALSE;
    for (const char *p = name; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-_.@+", *p))
            return FALSE;
    }
    return TRUE;
}

/* For a name nft cannot match (a '"' cannot be quoted, a '*' is a
 * wildcard): NULL would mean "no rules", so fail closed instead, with a
 * script that nft refuses at its first word and whose text, echoed in
 * nft's error, says why. */
static char *
refusing_script(const char *what, const char *name)
{
    g_autofree char *safe = g_strdup(name ? name : "");

    g_strcanon(safe, G_CSET_A_2_Z G_CSET_a_2_z G_CSET_DIGITS "-_.", '?');
    return g_strdup_printf("virtd-refuses: %s name '%s' has characters nftables rules cannot "
                           "match; use letters, digits, '-', '_' and '.'\n",
                           what, safe);
}

char *
vd_firewall_table_name(const char *instance, const char *bridge)
{
    g_autofree char *b = g_strdup(bridge);

    for (char *p = b; *p; p++) {
        if (*p == '-' || *p == '.' || !(g_ascii_isalnum(*p) || *p == '_'))
            *p = '_';
    }
    return g_strdup_printf("vd_%s_%s", instance, b);
}

char *
vd_firewall_instance(const char *root)
{
    g_autofree char *sum =
        g_compute_checksum_for_string(G_CHECKSUM_SHA256, root ? root : "system", -1);

    return g_strndup(sum, 8);
}

/* "192.168.122.0/24" for the host address 192.168.122.1 with prefix 24
 * (IPv6 the same way); NULL when the address does not parse. */
static char *
subnet_of(const VdNetIpDef *ip)
{
    guint8 buf[16];
    char text[INET6_ADDRSTRLEN];
    guint len = ip->family == AF_INET6 ? 16 : 4;

    if (!ip->address || inet_pton(ip->family, ip->address, buf) != 1 || ip->prefix > len * 8)
        return NULL;
    for (guint i = 0; i < len; i++) {
        guint bits = ip->prefix > i * 8 ? ip->prefix - i * 8 : 0;
        if (bits < 8)
            buf[i] &= (guint8)(0xff << (8 - bits));
    }
    inet_ntop(ip->family, buf, text, sizeof(text));
    return g_strdup_printf("%s/%u", text, ip->prefix);
}

/* Not vd_network_def_ipv4(): ruleset generation must not depend on more
 * of conf/ than the model's fields. */
static gboolean
has_ipv4(const VdNetworkDef *def)
{
    for (guint i = 0; def->ips && i < def->ips->len; i++) {
        if (((const VdNetIpDef *)g_ptr_array_index(def->ips, i))->family == AF_INET)
            return TRUE;
    }
    return FALSE;
}

static gboolean
ip_has_dhcp(const VdNetIpDef *ip)
{
    return (ip->ranges && ip->ranges->len > 0) || (ip->hosts && ip->hosts->len > 0);
}

/* ' oifname "DEV"', or "" when @dev is NULL. */
static char *
match_if(const char *key, const char *dev)
{
    return dev ? g_strdup_printf(" %s \"%s\"", key, dev) : g_strdup("");
}

static void
forward_rules(GString *s, const VdNetworkDef *def, const char *br)
{
    g_autofree char *to_dev = match_if("oifname", def->forward_dev);
    g_autofree char *from_dev =
        def->forward_dev ? g_strdup_printf("iifname \"%s\" ", def->forward_dev) : g_strdup("");

    g_string_append_printf(s, "\t\tiifname \"%s\" oifname \"%s\" counter accept\n", br, br);
    for (guint i = 0; def->ips && i < def->ips->len; i++) {
        const VdNetIpDef *ip = g_ptr_array_index(def->ips, i);
        g_autofree char *sub = subnet_of(ip);
        const char *fam = ip->family == AF_INET6 ? "ip6" : "ip";
        gboolean nat = def->forward == VD_NET_FORWARD_NAT && ip->family == AF_INET;

        if (!sub || def->forward == VD_NET_FORWARD_NONE)
            continue;
        g_string_append_printf(s, "\t\tiifname \"%s\"%s %s saddr %s counter accept\n", br, to_dev,
                               fam, sub);
        g_string_append_printf(s, "\t\t%soifname \"%s\" %s daddr %s%s counter accept\n", from_dev,
                               br, fam, sub, nat ? " ct state established,related" : "");
    }
    g_string_append_printf(s, "\t\tiifname \"%s\" counter reject\n", br);
    g_string_append_printf(s, "\t\toifname \"%s\" counter reject\n", br);
}

static void
input_rules(GString *s, const VdNetworkDef *def, const char *br)
{
    gboolean any = FALSE;

    for (guint i = 0; def->ips && i < def->ips->len; i++) {
        const VdNetIpDef *ip = g_ptr_array_index(def->ips, i);

        any = TRUE;
        if (ip_has_dhcp(ip))
            g_string_append_printf(s, "\t\tiifname \"%s\" udp dport %s counter accept\n", br,
                                   ip->family == AF_INET6 ? "547" : "67");
    }
    if (any && !def->dns.disabled)
        g_string_append_printf(s,
                               "\t\tiifname \"%s\" meta l4proto { tcp, udp } th dport 53 "
                               "counter accept\n",
                               br);
}

static void
nat_rules(GString *s, const VdNetworkDef *def)
{
    g_autofree char *to_dev = match_if("oifname", def->forward_dev);
    guint pstart = def->nat_port_start ? def->nat_port_start : 1024;
    guint pend = def->nat_port_start ? def->nat_port_end : 65535;
    g_autofree char *to = NULL;
    g_autofree char *to_ports = NULL;

    if (def->nat_addr_start) {
        g_autofree char *range =
            def->nat_addr_end && g_strcmp0(def->nat_addr_end, def->nat_addr_start) != 0
                ? g_strdup_printf("%s-%s", def->nat_addr_start, def->nat_addr_end)
                : g_strdup(def->nat_addr_start);
        to = g_strdup_printf("snat ip to %s", range);
        to_ports = g_strdup_printf("snat ip to %s:%u-%u", range, pstart, pend);
    } else {
        to = g_strdup("masquerade");
        to_ports = g_strdup_printf("masquerade to :%u-%u", pstart, pend);
    }
    for (guint i = 0; def->ips && i < def->ips->len; i++) {
        const VdNetIpDef *ip = g_ptr_array_index(def->ips, i);
        g_autofree char *sub = NULL;

        if (ip->family != AF_INET || !(sub = subnet_of(ip)))
            continue;
        g_string_append_printf(s, "\t\tip saddr %s ip daddr 224.0.0.0/24 counter return\n", sub);
        g_string_append_printf(s, "\t\tip saddr %s ip daddr 255.255.255.255 counter return\n", sub);
        g_string_append_printf(s,
                               "\t\tmeta l4proto { tcp, udp } ip saddr %s ip daddr != %s%s "
                               "counter %s\n",
                               sub, sub, to_dev, to_ports);
        g_string_append_printf(s, "\t\tip saddr %s ip daddr != %s%s counter %s\n", sub, sub, to_dev,
                               to);
    }
}

char *
vd_firewall_ruleset(const VdNetworkDef *def, const char *table)
{
    g_autoptr(GString) s = NULL;
    const char *br = def->bridge;

    switch (def->forward) {
    case VD_NET_FORWARD_OPEN:
    case VD_NET_FORWARD_BRIDGE:
    case VD_NET_FORWARD_LAST:
        return NULL;
    case VD_NET_FORWARD_NONE:
    case VD_NET_FORWARD_NAT:
    case VD_NET_FORWARD_ROUTE:
        break;
    }
    if (!ifname_ok(br))
        return refusing_script("bridge", br);
    if (def->forward_dev && !ifname_ok(def->forward_dev))
        return refusing_script("forward dev", def->forward_dev);

    s = g_string_new(NULL);
    /* add + delete + create: one transaction that replaces a stale table
     * (a daemon killed before its clean-up) or creates a fresh one */
    g_string_append_printf(s, "add table inet %s\n", table);
    g_string_append_printf(s, "delete table inet %s\n", table);
    g_string_append_printf(s, "table inet %s {\n", table);
    g_string_append(s, "\tchain forward {\n"
                       "\t\ttype filter hook forward priority filter; policy accept;\n");
    forward_rules(s, def, br);
    g_string_append(s, "\t}\n");
    g_string_append(s, "\tchain input {\n"
                       "\t\ttype filter hook input priority filter; policy accept;\n");
    input_rules(s, def, br);
    g_string_append(s, "\t}\n");
    if (def->forward == VD_NET_FORWARD_NAT && has_ipv4(def)) {
        g_string_append(s, "\tchain postrouting {\n"
                           "\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
        nat_rules(s, def);
        g_string_append(s, "\t}\n");
    }
    g_string_append(s, "}\n");
    return g_string_free(g_steal_pointer(&s), FALSE);
}
