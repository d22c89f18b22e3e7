/* net-update: add, delete and modify <dhcp><host> and <dns><host> in
 * place, with the checks of parse. Every check runs before the first
 * change, so a refused update leaves the definition as it was. */
#include "conf/network-def.h"

#include <string.h>
#include <sys/socket.h>

#include "conf/domain-private.h"
#include "conf/network-private.h"
#include "conf/storage-private.h"
#include "util/vd-error.h"

gboolean
vd_net_update_command_from_string(const char *s, VdNetUpdateCommand *out, GError **error)
{
    static const struct {
        const char *name;
        VdNetUpdateCommand cmd;
    } table[] = {
        {"add", VD_NET_UPDATE_ADD_LAST},        {"add-last", VD_NET_UPDATE_ADD_LAST},
        {"add-first", VD_NET_UPDATE_ADD_FIRST}, {"delete", VD_NET_UPDATE_DELETE},
        {"modify", VD_NET_UPDATE_MODIFY},
    };

    for (guint i = 0; s && i < G_N_ELEMENTS(table); i++) {
        if (g_str_equal(s, table[i].name)) {
            *out = table[i].cmd;
            return TRUE;
        }
    }
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                "unknown net-update command '%s': expected add, add-first, add-last, delete or "
                "modify",
                s ? s : "");
    return FALSE;
}

gboolean
vd_net_update_section_from_string(const char *s, VdNetUpdateSection *out, GError **error)
{
    static const char *const virsh_only[] = {
        "bridge",     "domain",    "ip",      "ip-dhcp-range", "forward", "forward-interface",
        "forward-pf", "portgroup", "dns-txt", "dns-srv",       NULL,
    };

    if (s && g_str_equal(s, "ip-dhcp-host")) {
        *out = VD_NET_SECTION_IP_DHCP_HOST;
        return TRUE;
    }
    if (s && g_str_equal(s, "dns-host")) {
        *out = VD_NET_SECTION_DNS_HOST;
        return TRUE;
    }
    if (s && g_strv_contains(virsh_only, s)) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "net-update of section '%s' is not supported by virtd: it updates "
                    "ip-dhcp-host and dns-host (use net-edit for the rest)",
                    s);
        return FALSE;
    }
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                "unknown net-update section '%s': expected ip-dhcp-host or dns-host", s ? s : "");
    return FALSE;
}

/* The <ip> a dhcp host goes to: @index, or the first with <dhcp> (of the
 * host's family when it gives an address). */
static VdNetIpDef *
pick_ip(VdNetworkDef *def, int index, const char *host_ip, GError **error)
{
    if (index >= 0) {
        if ((guint)index >= def->ips->len) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "parent index %d: network '%s' has %u <ip> element(s)", index, def->name,
                        def->ips->len);
            return NULL;
        }
        return g_ptr_array_index(def->ips, index);
    }
    VdNetAddr a = {0};
    gboolean have = host_ip && vd_net_addr_parse(host_ip, 0, &a);
    for (guint i = 0; i < def->ips->len; i++) {
        VdNetIpDef *ip = g_ptr_array_index(def->ips, i);
        if (ip->has_dhcp && (!have || a.family == ip->family))
            return ip;
    }
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                "network '%s' has no <ip>%s with <dhcp>: add a <dhcp> to its <ip> first", def->name,
                have ? (a.family == AF_INET6 ? " (IPv6)" : " (IPv4)") : "");
    return NULL;
}

/* libvirt's matching: by MAC, else by id (DHCPv6), else by name, else by IP. */
static int
find_dhcp_host(const VdNetIpDef *ip, const VdNetDhcpHost *h)
{
    for (guint i = 0; i < ip->hosts->len; i++) {
        const VdNetDhcpHost *o = g_ptr_array_index(ip->hosts, i);
        if (h->mac    ? g_strcmp0(h->mac, o->mac) == 0
            : h->id   ? g_strcmp0(h->id, o->id) == 0
            : h->name ? o->name && g_ascii_strcasecmp(h->name, o->name) == 0
                      : g_strcmp0(h->ip, o->ip) == 0)
            return (int)i;
    }
    return -1;
}

static gboolean
update_dhcp_host(VdNetworkDef *def, VdNetUpdateCommand command, int parent_index,
                 const xmlNode *node, GError **error)
{
    g_autofree char *host_ip = vd_xml_prop(node, "ip");
    VdNetIpDef *ip = pick_ip(def, parent_index, host_ip, error);
    g_autoptr(VdNetDhcpHost) h = NULL;
    int found;

    if (!ip || !(h = vd_net_dhcp_host_parse(node, ip, error)))
        return FALSE;
    found = find_dhcp_host(ip, h);
    switch (command) {
    case VD_NET_UPDATE_ADD_LAST:
    case VD_NET_UPDATE_ADD_FIRST:
        if (!vd_net_dhcp_host_check_dups(ip, h, -1, error))
            return FALSE;
        if (command == VD_NET_UPDATE_ADD_FIRST)
            g_ptr_array_insert(ip->hosts, 0, g_steal_pointer(&h));
        else
            g_ptr_array_add(ip->hosts, g_steal_pointer(&h));
        ip->has_dhcp = TRUE;
        return TRUE;
    case VD_NET_UPDATE_DELETE:
    case VD_NET_UPDATE_MODIFY:
        if (found < 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "network '%s' has no <dhcp><host> with %s '%s' to %s", def->name,
                        h->mac    ? "mac"
                        : h->id   ? "id"
                        : h->name ? "name"
                                  : "ip",
                        h->mac    ? h->mac
                        : h->id   ? h->id
                        : h->name ? h->name
                                  : h->ip,
                        command == VD_NET_UPDATE_DELETE ? "delete" : "modify");
            return FALSE;
        }
        if (command == VD_NET_UPDATE_DELETE) {
            g_ptr_array_remove_index(ip->hosts, (guint)found);
            return TRUE;
        }
        if (!vd_net_dhcp_host_check_dups(ip, h, found, error))
            return FALSE;
        vd_net_dhcp_host_free(g_ptr_array_index(ip->hosts, found));
        g_ptr_array_index(ip->hosts, found) = g_steal_pointer(&h);
        return TRUE;
    }
    g_assert_not_reached();
}

static gboolean
update_dns_host(VdNetworkDef *def, VdNetUpdateCommand command, const xmlNode *node, GError **error)
{
    g_autoptr(VdNetDnsHost) h = NULL;
    int found = -1;

    if (def->forward == VD_NET_FORWARD_BRIDGE || def->dns.disabled) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "network '%s' has no DNS service (%s): dns-host cannot be updated", def->name,
                    def->dns.disabled ? "<dns enable='no'>" : "<forward mode='bridge'>");
        return FALSE;
    }
    if (!(h = vd_net_dns_host_parse(node, error)))
        return FALSE;
    for (guint i = 0; i < def->dns.hosts->len; i++) {
        const VdNetDnsHost *o = g_ptr_array_index(def->dns.hosts, i);
        if (g_str_equal(o->ip, h->ip))
            found = (int)i;
    }
    switch (command) {
    case VD_NET_UPDATE_ADD_LAST:
    case VD_NET_UPDATE_ADD_FIRST:
        if (found >= 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "network '%s' already has a <dns><host> for ip '%s': use modify to "
                        "change its names",
                        def->name, h->ip);
            return FALSE;
        }
        if (command == VD_NET_UPDATE_ADD_FIRST)
            g_ptr_array_insert(def->dns.hosts, 0, g_steal_pointer(&h));
        else
            g_ptr_array_add(def->dns.hosts, g_steal_pointer(&h));
        return TRUE;
    case VD_NET_UPDATE_DELETE:
    case VD_NET_UPDATE_MODIFY:
        if (found < 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "network '%s' has no <dns><host> with ip '%s' to %s", def->name, h->ip,
                        command == VD_NET_UPDATE_DELETE ? "delete" : "modify");
            return FALSE;
        }
        if (command == VD_NET_UPDATE_DELETE) {
            g_ptr_array_remove_index(def->dns.hosts, (guint)found);
        } else {
            vd_net_dns_host_free(g_ptr_array_index(def->dns.hosts, found));
            g_ptr_array_index(def->dns.hosts, found) = g_steal_pointer(&h);
        }
        return TRUE;
    }
    g_assert_not_reached();
}

gboolean
vd_network_def_update(VdNetworkDef *def, VdNetUpdateCommand command, VdNetUpdateSection section,
                      int parent_index, const char *xml, GError **error)
{
    xmlNode *root = NULL;
    g_autoptr(xmlDoc) doc = vd_storage_xml_read(xml, "host", &root, error);

    if (!doc)
        return FALSE;
    switch (section) {
    case VD_NET_SECTION_IP_DHCP_HOST:
        if (def->forward == VD_NET_FORWARD_BRIDGE) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "network '%s' is <forward mode='bridge'>: its DHCP is not virtd's",
                        def->name);
            return FALSE;
        }
        if (!vd_net_xml_check_known(root, "network/ip/dhcp/host", error))
            return FALSE;
        return update_dhcp_host(def, command, parent_index, root, error);
    case VD_NET_SECTION_DNS_HOST:
        if (!vd_net_xml_check_known(root, "network/dns/host", error))
            return FALSE;
        return update_dns_host(def, command, root, error);
    }
    g_assert_not_reached();
}
