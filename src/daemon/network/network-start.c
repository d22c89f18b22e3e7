/* Starting and stopping virtual networks (network.h): the checks before
 * anything changes, then bridge, addresses, firewall and dnsmasq, each
 * undone when a later step fails; destroy; net-update; the take-over of
 * active networks after a daemon restart; the taps of running guests. */
#include "daemon/network/network-priv.h"

#include <arpa/inet.h>
#include <string.h>

#include "daemon/domain/domain-state.h"
#include "daemon/domain/start-phase.h"
#include "daemon/events/events.h"
#include "network/firewall.h"
#include "network/net-link.h"
#include "util/vd-error.h"
#include "util/vd-file.h"

/* ---- subnets ---- */

static guint32
prefix_mask(guint prefix)
{
    return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1);
}

static char *
ipv4_string(guint32 addr)
{
    struct in_addr in = {.s_addr = htonl(addr)};
    char buf[INET_ADDRSTRLEN];
    return g_strdup(inet_ntop(AF_INET, &in, buf, sizeof(buf)));
}

/* The first host route over @subnet/@prefix that means the subnet is in
 * use: not one via @ignore_dev, nor a blackhole, unreachable or prohibit
 * route (an administrator's fallback, see vd_networks_host_route). */
static gboolean
route_overlap(guint32 subnet, guint prefix, const char *ignore_dev, char **dev, char **route)
{
    g_autofree char *s = ipv4_string(subnet);
    g_autoptr(GPtrArray) routes = vd_route_list_overlaps(s, prefix);

    for (guint i = 0; routes && i < routes->len; i++) {
        VdRouteOverlap *o = g_ptr_array_index(routes, i);
        if (g_strcmp0(o->dev, "blackhole") == 0 || g_strcmp0(o->dev, "unreachable") == 0 ||
            g_strcmp0(o->dev, "prohibit") == 0 ||
            (ignore_dev && g_strcmp0(o->dev, ignore_dev) == 0))
            continue;
        *dev = g_strdup(o->dev);
        *route = g_strdup(o->route);
        return TRUE;
    }
    return FALSE;
}

gboolean
vd_networks_host_route(const VdNetIpDef *ip, const char *ignore_dev, char **dev, char **route)
{
    if (!ip || ip->family != AF_INET)
        return FALSE;
    return route_overlap(ip->addr4 & prefix_mask(ip->prefix), ip->prefix, ignore_dev, dev, route);
}

/* Does @subnet/@prefix overlap the IPv4 subnet of any network but @skip? */
static gboolean
network_overlap(VdNetworks *nets, guint32 subnet, guint prefix, VdNetwork *skip)
{
    g_autoptr(GPtrArray) all = vd_networks_list(nets);

    for (guint i = 0; i < all->len; i++) {
        VdNetwork *n = g_ptr_array_index(all, i);
        const VdNetworkDef *defs[] = {n->def, n->live};
        if (n == skip)
            continue;
        for (guint j = 0; j < G_N_ELEMENTS(defs); j++) {
            const VdNetIpDef *ip = defs[j] ? vd_network_def_ipv4(defs[j]) : NULL;
            if (!ip)
                continue;
            guint32 mask = prefix_mask(MIN(prefix, ip->prefix));
            if ((ip->addr4 & mask) == (subnet & mask))
                return TRUE;
        }
    }
    return FALSE;
}

char *
vd_networks_free_subnet(VdNetworks *nets, const char *address, guint prefix, VdNetwork *skip)
{
    struct in_addr in;

    if (prefix < 8 || prefix > 30 || inet_pton(AF_INET, address, &in) != 1)
        return NULL;
    guint32 size = 1u << (32 - prefix);
    guint32 subnet = ntohl(in.s_addr) & prefix_mask(prefix);
    for (guint i = 0; i < 256; i++) {
        if (subnet > G_MAXUINT32 - size)
            return NULL;
        subnet += size;
        g_autofree char *dev = NULL;
        g_autofree char *route = NULL;
        if (network_overlap(nets, subnet, prefix, skip) ||
            route_overlap(subnet, prefix, NULL, &dev, &route))
            continue;
        g_autofree char *s = ipv4_string(subnet);
        return g_strdup_printf("%s/%u", s, prefix);
    }
    return NULL;
}

/* ---- checks before a start ---- */

static gboolean
check_start(VdNetworks *nets, VdNetwork *net, const VdNetworkDef *def, GError **error)
{
    g_autoptr(GPtrArray) all = vd_networks_list(nets);

    if (net->active) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: network '%s' is already active", def->name);
        return FALSE;
    }
    if (def->forward == VD_NET_FORWARD_BRIDGE) {
        if (!vd_link_is_bridge(def->bridge)) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "network '%s' (forward mode bridge) needs the host bridge '%s', which %s: "
                        "create it (e.g. ip link add %s type bridge) or name an existing one",
                        def->name, def->bridge,
                        vd_link_exists(def->bridge) ? "is not a bridge" : "does not exist",
                        def->bridge);
            return FALSE;
        }
        return TRUE;
    }
    if (def->forward_dev && !vd_link_exists(def->forward_dev)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "network '%s' forwards through host interface '%s', which does not exist: "
                    "fix <forward dev=> or leave it out",
                    def->name, def->forward_dev);
        return FALSE;
    }
    for (guint i = 0; i < all->len; i++) {
        VdNetwork *n = g_ptr_array_index(all, i);
        g_autofree char *what = NULL;
        if (n == net || !n->active)
            continue;
        if (g_strcmp0(n->live->bridge, def->bridge) == 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "bridge name '%s' is already used by active network '%s'", def->bridge,
                        n->def->name);
            return FALSE;
        }
        if (n->live->forward != VD_NET_FORWARD_BRIDGE &&
            vd_network_def_overlaps(def, n->live, &what)) {
            const VdNetIpDef *ip = vd_network_def_ipv4(def);
            g_autofree char *free_net =
                ip ? vd_networks_free_subnet(nets, ip->address, ip->prefix, net) : NULL;
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "the subnet of network '%s' overlaps active network '%s' (%s)%s%s",
                        def->name, n->def->name, what, free_net ? ": a free subnet is " : "",
                        free_net ? free_net : "");
            return FALSE;
        }
    }
    if (vd_link_exists(def->bridge)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "bridge name '%s' of network '%s' is already used by a host interface: "
                    "choose another <bridge name=> (net-edit)",
                    def->bridge, def->name);
        return FALSE;
    }
    const VdNetIpDef *ip = vd_network_def_ipv4(def);
    g_autofree char *dev = NULL;
    g_autofree char *route = NULL;
    if (vd_networks_host_route(ip, NULL, &dev, &route)) {
        g_autofree char *subnet = vd_net_ip_subnet_string(ip);
        g_autofree char *free_net = vd_networks_free_subnet(nets, ip->address, ip->prefix, net);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "subnet %s of network '%s' is already routed on the host via %s (%s)%s%s",
                    subnet, def->name, dev, route,
                    free_net ? ": choose a free subnet such as " : "", free_net ? free_net : "");
        return FALSE;
    }
    return TRUE;
}

/* ---- start / destroy ---- */

/* Removes what a start made of @net (everything, when @bridge_made) and
 * makes it inactive. Failures are logged: nothing else could be done
 * about them. The caller drops a transient network (forget_if_transient). */
static void
tear_down(VdNetworks *nets, VdNetwork *net, gboolean bridge_made)
{
    VdNetworkDef *live = net->live;
    g_autoptr(GError) error = NULL;

    vd_network_dnsmasq_stop(nets, net);
    if (net->fw_table && !vd_firewall_remove(net->fw_table, &error)) {
        g_warning("network '%s': cannot remove firewall table %s: %s", live->name, net->fw_table,
                  error->message);
        g_clear_error(&error);
    }
    g_clear_pointer(&net->fw_table, g_free);
    if (!vd_firewall_host_hooks_remove(live, &error)) {
        g_warning("network '%s': cannot remove its host firewall hooks: %s", live->name,
                  error->message);
        g_clear_error(&error);
    }
    if (bridge_made && live->forward != VD_NET_FORWARD_BRIDGE &&
        !vd_link_delete(live->bridge, &error))
        g_warning("network '%s': cannot delete bridge %s: %s", live->name, live->bridge,
                  error->message);
    vd_networks_remove_status(nets, net);
    g_clear_pointer(&net->live, vd_network_def_free);
    net->active = FALSE;
    net->starting = FALSE;
}

/* An inactive transient network leaves the registry (frees @net). */
static void
forget_if_transient(VdNetworks *nets, VdNetwork *net)
{
    if (!net->persistent)
        vd_networks_forget(nets, net);
}

/* @made: the bridge exists now and is ours to delete on failure. */
static gboolean
make_bridge(VdNetwork *net, gboolean *made, GError **error)
{
    const VdNetworkDef *live = net->live;

    if (!vd_bridge_create(live->bridge, live->mac, live->stp, live->delay, live->mtu, error))
        return FALSE;
    *made = TRUE;
    for (guint i = 0; i < live->ips->len; i++) {
        const VdNetIpDef *ip = g_ptr_array_index(live->ips, i);
        if (!vd_link_add_address(live->bridge, ip->address, ip->prefix, error))
            return FALSE;
    }
    return vd_link_set_up(live->bridge, TRUE, error);
}

static gboolean
make_firewall(VdNetworks *nets, VdNetwork *net, GPtrArray *warnings, GError **error)
{
    const VdNetworkDef *live = net->live;
    g_autoptr(GError) check_error = NULL;
    gboolean routes = live->forward == VD_NET_FORWARD_NAT ||
                      live->forward == VD_NET_FORWARD_ROUTE || live->forward == VD_NET_FORWARD_OPEN;

    if (routes) {
        gboolean ipv6 = FALSE;
        for (guint i = 0; i < live->ips->len; i++)
            ipv6 |= ((VdNetIpDef *)g_ptr_array_index(live->ips, i))->family == AF_INET6;
        if (!vd_firewall_enable_forwarding(ipv6, error))
            return FALSE;
    }
    if (live->forward != VD_NET_FORWARD_BRIDGE) {
        g_autofree char *table = vd_firewall_table_name(nets->instance, live->bridge);
        g_autofree char *script = vd_firewall_ruleset(live, table);
        if (script) {
            /* Recorded before applying: a failed apply may still have
             * left it, and tear_down removes it either way. */
            net->fw_table = g_steal_pointer(&table);
            if (!vd_firewall_apply(script, error))
                return FALSE;
        }
    }
    g_autoptr(GPtrArray) found = vd_firewall_check_host(live, &check_error);
    if (!found) {
        vd_network_add_note(net, "cannot check the host's other firewalls: %s",
                            check_error->message);
        return TRUE;
    }
    for (guint i = 0; i < found->len; i++) {
        VdFirewallNote *note = g_ptr_array_index(found, i);
        vd_network_add_note(net, "%s", note->message);
        if (!note->fixed && warnings)
            g_ptr_array_add(warnings, g_strdup(note->message));
        if (note->fixed)
            g_info("network '%s': %s", live->name, note->message);
        else
            g_warning("network '%s': %s", live->name, note->message);
    }
    return TRUE;
}

gboolean
vd_networks_start(VdNetworks *nets, VdNetwork *net, GPtrArray *warnings, GError **error)
{
    gboolean bridge_made = FALSE;

    if (!check_start(nets, net, net->def, error))
        return FALSE;
    net->live = vd_network_def_copy(net->def);
    net->active = TRUE;
    net->starting = TRUE;
    net->dnsmasq_pid = 0;
    g_ptr_array_set_size(net->notes, 0);
    /* First the status file, saying "starting": a daemon killed in the
     * middle finds it and undoes what was made. */
    if (!vd_networks_save_status(nets, net, error))
        goto fail;
    if (net->live->forward != VD_NET_FORWARD_BRIDGE && !make_bridge(net, &bridge_made, error))
        goto fail;
    if (!make_firewall(nets, net, warnings, error))
        goto fail;
    if (vd_network_def_needs_dnsmasq(net->live) && !vd_network_dnsmasq_start(nets, net, error))
        goto fail;
    /* tests/integration/test_networks.py: a kill before the status file
     * says the start is complete. */
    vd_start_crash_point("network-started");
    net->starting = FALSE;
    if (!vd_networks_save_status(nets, net, error))
        goto fail;
    vd_networks_reattach_taps(nets, net);
    vd_events_publish("net-lifecycle", NULL, net->def->name, net->def->uuid, "Started", "", NULL);
    g_info("network '%s' started (bridge %s, dnsmasq pid %d)", net->def->name, net->live->bridge,
           net->dnsmasq_pid);
    return TRUE;
fail:
    g_prefix_error(error, "cannot start network '%s': ", net->def->name);
    /* A bridge that check_start saw free but the create found taken is
     * not ours: only what this start made is deleted. */
    tear_down(nets, net, bridge_made);
    return FALSE;
}

gboolean
vd_networks_destroy(VdNetworks *nets, VdNetwork *net, GError **error)
{
    if (!net->active) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: network '%s' is not active", net->def->name);
        return FALSE;
    }
    g_info("network '%s': destroying (bridge %s)", net->def->name, net->live->bridge);
    tear_down(nets, net, TRUE);
    vd_events_publish("net-lifecycle", NULL, net->def->name, net->def->uuid, "Stopped", "", NULL);
    forget_if_transient(nets, net);
    return TRUE;
}

/* ---- net-update ---- */

gboolean
vd_networks_update(VdNetworks *nets, VdNetwork *net, VdNetUpdateCommand command,
                   VdNetUpdateSection section, int parent_index, const char *xml, gboolean live,
                   gboolean config, GError **error)
{
    if (!live && !config) {
        live = net->active;
        config = !net->active;
    }
    if (live && !net->active) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: network '%s' is not active: update its "
                    "configuration only (--config)",
                    net->def->name);
        return FALSE;
    }
    if (config && !net->persistent) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: network '%s' is transient: it has no "
                    "persistent configuration to update (use --live)",
                    net->def->name);
        return FALSE;
    }
    g_autoptr(VdNetworkDef) new_def = config ? vd_network_def_copy(net->def) : NULL;
    g_autoptr(VdNetworkDef) new_live = live ? vd_network_def_copy(net->live) : NULL;
    if ((new_def && !vd_network_def_update(new_def, command, section, parent_index, xml, error)) ||
        (new_live && !vd_network_def_update(new_live, command, section, parent_index, xml, error)))
        return FALSE;
    if (new_def) {
        g_autofree char *text = vd_network_def_format(new_def);
        g_autofree char *path = vd_networks_config_path(nets, net->def->name);
        if (!vd_file_write_atomic(path, text, -1, 0600, error))
            return FALSE;
        vd_network_def_free(net->def);
        net->def = g_steal_pointer(&new_def);
    }
    if (new_live) {
        VdNetworkDef *old = net->live;
        net->live = g_steal_pointer(&new_live);
        if (net->dnsmasq_pid > 0 && !vd_network_dnsmasq_reload(nets, net, error)) {
            vd_network_def_free(net->live);
            net->live = old;
            return FALSE;
        }
        vd_network_def_free(old);
        if (!vd_networks_save_status(nets, net, error))
            return FALSE;
    }
    return TRUE;
}

/* ---- after a daemon restart ---- */

static gboolean
table_exists(VdNetworks *nets, const char *table)
{
    g_autoptr(GPtrArray) tables = vd_firewall_list_tables(nets->instance, NULL);

    for (guint i = 0; tables && i < tables->len; i++)
        if (g_str_equal(g_ptr_array_index(tables, i), table))
            return TRUE;
    return FALSE;
}

void
vd_networks_take_over(VdNetworks *nets, VdNetwork *net)
{
    VdNetworkDef *live = net->live;
    const char *name = live->name;
    g_autoptr(GError) error = NULL;
    gboolean changed = FALSE;

    if (net->starting) {
        g_warning("network '%s': the daemon stopped in the middle of its start: undoing it", name);
        tear_down(nets, net, TRUE);
        forget_if_transient(nets, net);
        return;
    }
    gboolean bridge_ok = live->forward == VD_NET_FORWARD_BRIDGE ? vd_link_is_bridge(live->bridge)
                                                                : vd_link_exists(live->bridge);
    if (!bridge_ok) {
        g_warning("network '%s': bridge %s is gone (was the host restarted?): the network is "
                  "inactive",
                  name, live->bridge);
        tear_down(nets, net, FALSE);
        forget_if_transient(nets, net);
        return;
    }
    if (vd_network_def_needs_dnsmasq(live)) {
        if (vd_network_dnsmasq_alive(nets, net)) {
            g_info("network '%s': dnsmasq (pid %d) still serves bridge %s", name, net->dnsmasq_pid,
                   live->bridge);
        } else {
            g_warning("network '%s': its dnsmasq (pid %d) is gone: starting it again", name,
                      net->dnsmasq_pid);
            net->dnsmasq_pid = 0;
            if (!vd_network_dnsmasq_start(nets, net, &error)) {
                g_warning("network '%s': %s", name, error->message);
                g_clear_error(&error);
            }
            changed = TRUE;
        }
    }
    if (net->fw_table && !table_exists(nets, net->fw_table)) {
        g_autofree char *script = vd_firewall_ruleset(live, net->fw_table);
        g_warning("network '%s': firewall table %s is gone: applying it again", name,
                  net->fw_table);
        if (script && !vd_firewall_apply(script, &error))
            g_warning("network '%s': %s", name, error->message);
    }
    if (changed && !vd_networks_save_status(nets, net, &error))
        g_warning("network '%s': %s", name, error->message);
    g_info("network '%s' is active (bridge %s), taken over as it was", name, live->bridge);
}

/* ---- taps of running guests ---- */

void
vd_networks_reattach_taps(VdNetworks *nets, VdNetwork *net)
{
    if (!nets->d->domains)
        return;
    g_autoptr(GPtrArray) doms = vd_domain_list_all(nets->d->domains);

    for (guint i = 0; i < doms->len; i++) {
        VdDomainObj *dom = g_ptr_array_index(doms, i);
        if (!vd_state_is_active(dom->state) || !dom->live)
            continue;
        for (guint j = 0; dom->live->interfaces && j < dom->live->interfaces->len; j++) {
            VdNetDef *iface = g_ptr_array_index(dom->live->interfaces, j);
            g_autoptr(GError) error = NULL;
            if (iface->type != VD_NET_NETWORK || !iface->target_dev ||
                g_strcmp0(iface->source, net->def->name) != 0)
                continue;
            if (vd_link_set_master(iface->target_dev, net->live->bridge, &error))
                g_info("network '%s': tap %s of domain '%s' plugged into %s again", net->def->name,
                       iface->target_dev, dom->name, net->live->bridge);
            else
                g_warning("network '%s': cannot plug tap %s of domain '%s' into %s: %s",
                          net->def->name, iface->target_dev, dom->name, net->live->bridge,
                          error->message);
        }
    }
}
