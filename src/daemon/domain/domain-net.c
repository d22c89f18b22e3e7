/* A domain's interfaces on the host: taps and macvtaps at start, their
 * removal at stop, lookups and counters. See domain-net.h; the live
 * operations over QMP are in domain-net-live.c. */
#include "daemon/domain/domain-net.h"
#include "daemon/hotplug/hotplug.h"

#include <string.h>
#include <unistd.h>

#include "daemon/domain/qemu-spawn.h"
#include "daemon/network/network.h"
#include "util/vd-error.h"

/* A name the daemon generates is chosen afresh at each start (libvirt
 * drops vnetN/macvtapN from inactive definitions); another is the user's. */
static const char *
user_target(const VdNetDef *net)
{
    const char *t = net->target_dev;
    if (!t || !*t || g_str_has_prefix(t, "vnet") || g_str_has_prefix(t, "macvtap"))
        return NULL;
    return t;
}

/* Where @net plugs in: its bridge and the MTU for its tap, after the
 * checks a start makes before it changes anything. */
static gboolean
resolve_port(VdDaemon *d, const VdNetDef *net, guint index, char **bridge, guint *mtu,
             GError **error)
{
    *mtu = net->mtu;
    switch (net->type) {
    case VD_NET_NETWORK: {
        VdNetworkPort port = {0};
        if (!d->networks) {
            g_set_error(error, VD_ERROR, VD_ERROR_NO_NETWORK,
                        "Network not found: no network with matching name '%s'", net->source);
            return FALSE;
        }
        if (!vd_networks_port(d->networks, net->source, &port, error))
            return FALSE;
        *bridge = g_steal_pointer(&port.bridge);
        if (!*mtu)
            *mtu = port.mtu;
        vd_network_port_clear(&port);
        return TRUE;
    }
    case VD_NET_BRIDGE:
        if (!vd_link_exists(net->source)) {
            g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "operation failed: interface %u: bridge '%s' does not exist on the "
                        "host: create it (ip link add %s type bridge) or use <interface "
                        "type='network'>",
                        index, net->source, net->source);
            return FALSE;
        }
        if (!vd_link_is_bridge(net->source)) {
            g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "operation failed: interface %u: '%s' is not a bridge: give a bridge "
                        "in <source bridge=>, or use <interface type='direct'> for a host NIC",
                        index, net->source);
            return FALSE;
        }
        *bridge = g_strdup(net->source);
        return TRUE;
    case VD_NET_DIRECT:
        if (!vd_link_exists(net->source)) {
            g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "operation failed: interface %u: host interface '%s' does not exist "
                        "(<source dev=> of a type='direct' interface)",
                        index, net->source);
            return FALSE;
        }
        *bridge = NULL;
        return TRUE;
    case VD_NET_USER:
    case VD_NET_ETHERNET:
    case VD_NET_LAST:
        break;
    }
    *bridge = NULL;
    return TRUE;
}

/* The host side's MAC: the guest's with the first byte fe (libvirt's),
 * so that the bridge never takes the guest's address as its own. */
static char *
host_mac(const char *mac)
{
    if (!mac || strlen(mac) != 17)
        return NULL;
    return g_strconcat("fe", mac + 2, NULL);
}

int
vd_domain_net_open(VdDaemon *d, VdNetDef *net, guint index, int *vhostfd, GError **error)
{
    g_autofree char *bridge = NULL;
    g_autofree char *name = NULL;
    guint mtu = 0;
    int fd;

    *vhostfd = -1;
    if (!resolve_port(d, net, index, &bridge, &mtu, error))
        return -1;
    if (net->type == VD_NET_DIRECT) {
        fd =
            vd_macvtap_create(user_target(net), net->source,
                              net->source_mode ? net->source_mode : "vepa", net->mac, &name, error);
    } else {
        g_autofree char *hmac = host_mac(net->mac);
        fd = vd_tap_create(user_target(net), hmac, bridge, mtu, &name, error);
    }
    if (fd < 0) {
        g_prefix_error(error, "interface %u: ", index);
        return -1;
    }
    g_free(net->target_dev);
    net->target_dev = g_steal_pointer(&name);
    if (!net->model || g_str_equal(net->model, "virtio"))
        *vhostfd = vd_vhost_net_open();
    return fd;
}

void
vd_domain_net_close_one(const VdNetDef *net)
{
    g_autoptr(GError) error = NULL;
    if (net->type == VD_NET_DIRECT && net->target_dev && !vd_link_delete(net->target_dev, &error))
        g_warning("cannot delete macvtap '%s': %s", net->target_dev, error->message);
}

gboolean
vd_domain_net_prepare(VdDaemon *d, VdDomainDef *live, VdDomainNetFds *out, GError **error)
{
    guint n = live->interfaces->len;
    g_autofree char **generated = g_new0(char *, n + 1);

    out->fds = g_array_new(FALSE, FALSE, sizeof(int));
    out->net_fds = g_new(int, MAX(n, 1));
    out->vhost_fds = g_new(int, MAX(n, 1));
    out->n = n;

    /* Everything checked before anything is created: a missing bridge
     * or inactive network refuses the start with nothing made. */
    for (guint i = 0; i < n; i++) {
        const VdNetDef *net = g_ptr_array_index(live->interfaces, i);
        g_autofree char *bridge = NULL;
        guint mtu;
        if (!resolve_port(d, net, i, &bridge, &mtu, error))
            goto fail;
    }
    for (guint i = 0; i < n; i++) {
        VdNetDef *net = g_ptr_array_index(live->interfaces, i);
        int vhostfd = -1;

        out->net_fds[i] = out->vhost_fds[i] = -1;
        if (!net->alias)
            net->alias = g_strdup_printf("net%u", i);
        if (net->type != VD_NET_NETWORK && net->type != VD_NET_BRIDGE && net->type != VD_NET_DIRECT)
            continue;
        int fd = vd_domain_net_open(d, net, i, &vhostfd, error);
        if (fd < 0) {
            /* The taps made so far vanish with their descriptors; the
             * macvtaps are links and go now. */
            for (guint j = 0; j < i; j++)
                vd_domain_net_close_one(g_ptr_array_index(live->interfaces, j));
            goto fail;
        }
        out->net_fds[i] = VD_SPAWN_FIRST_FD + (int)out->fds->len;
        g_array_append_val(out->fds, fd);
        if (vhostfd >= 0) {
            out->vhost_fds[i] = VD_SPAWN_FIRST_FD + (int)out->fds->len;
            g_array_append_val(out->fds, vhostfd);
        }
    }
    return TRUE;
fail:
    vd_domain_net_fds_clear(out);
    return FALSE;
}

void
vd_domain_net_check(VdDaemon *d, const VdDomainDef *def, GPtrArray *blocks)
{
    for (guint i = 0; i < def->interfaces->len; i++) {
        const VdNetDef *net = g_ptr_array_index(def->interfaces, i);
        g_autofree char *bridge = NULL;
        g_autoptr(GError) error = NULL;
        guint mtu;
        if (!resolve_port(d, net, i, &bridge, &mtu, &error))
            g_ptr_array_add(blocks, g_strdup(error->message));
    }
}

void
vd_domain_net_fds_clear(VdDomainNetFds *fds)
{
    for (guint i = 0; fds->fds && i < fds->fds->len; i++)
        close(g_array_index(fds->fds, int, i));
    g_clear_pointer(&fds->fds, g_array_unref);
    g_clear_pointer(&fds->net_fds, g_free);
    g_clear_pointer(&fds->vhost_fds, g_free);
    fds->n = 0;
}

void
vd_domain_net_release(const VdDomainDef *live)
{
    for (guint i = 0; live && i < live->interfaces->len; i++)
        vd_domain_net_close_one(g_ptr_array_index(live->interfaces, i));
}

int
vd_domain_net_find(const VdDomainDef *def, const char *key, GError **error)
{
    for (guint i = 0; i < def->interfaces->len; i++) {
        const VdNetDef *net = g_ptr_array_index(def->interfaces, i);
        if ((net->target_dev && g_str_equal(net->target_dev, key)) ||
            (net->mac && g_ascii_strcasecmp(net->mac, key) == 0))
            return (int)i;
    }
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                "invalid argument: no interface with matching name or MAC '%s' in domain '%s' "
                "(see vsh domiflist %s)",
                key, def->name, def->name);
    return -1;
}

gboolean
vd_domain_net_stats(VdDomainObj *dom, const char *key, VdLinkStats *out, GError **error)
{
    if (!dom->live) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: domain is not running");
        return FALSE;
    }
    int i = vd_domain_net_find(dom->live, key, error);
    if (i < 0)
        return FALSE;
    const VdNetDef *net = g_ptr_array_index(dom->live->interfaces, i);
    if (!net->target_dev) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "unsupported configuration: interface '%s' (type '%s') has no host device "
                    "to count on",
                    key, vd_net_type_to_string(net->type));
        return FALSE;
    }
    VdLinkStats host;
    if (!vd_link_stats(net->target_dev, &host, error))
        return FALSE;
    *out = (VdLinkStats){
        .rx_bytes = host.tx_bytes,
        .rx_packets = host.tx_packets,
        .rx_errs = host.tx_errs,
        .rx_drop = host.tx_drop,
        .tx_bytes = host.rx_bytes,
        .tx_packets = host.rx_packets,
        .tx_errs = host.rx_errs,
        .tx_drop = host.rx_drop,
    };
    return TRUE;
}

gboolean
vd_domain_net_scope(VdDomainObj *dom, gboolean *live, gboolean *config, GError **error)
{
    return vd_domain_affect(dom, live, config, error);
}

/* The domain other than @self whose definition (persistent or live) has
 * an interface with @mac. Inactive definitions are kept as text: the
 * text is searched first and only a hit is parsed. */
static VdDomainObj *
mac_owner(GPtrArray *all, const VdDomainDef *self, const char *mac)
{
    for (guint i = 0; i < all->len; i++) {
        VdDomainObj *dom = g_ptr_array_index(all, i);
        if (g_str_equal(dom->name, self->name))
            continue;
        const VdDomainDef *defs[2] = {dom->live, NULL};
        if (dom->def || (dom->def_xml && strstr(dom->def_xml, mac)))
            defs[1] = vd_domain_obj_def(dom);
        for (guint k = 0; k < 2; k++) {
            for (guint j = 0; defs[k] && j < defs[k]->interfaces->len; j++) {
                const VdNetDef *n = g_ptr_array_index(defs[k]->interfaces, j);
                if (n->mac && g_ascii_strcasecmp(n->mac, mac) == 0)
                    return dom;
            }
        }
    }
    return NULL;
}

static gboolean
mac_in_def(const VdDomainDef *def, const VdNetDef *except, const char *mac)
{
    for (guint i = 0; i < def->interfaces->len; i++) {
        const VdNetDef *n = g_ptr_array_index(def->interfaces, i);
        if (n != except && n->mac && g_ascii_strcasecmp(n->mac, mac) == 0)
            return TRUE;
    }
    return FALSE;
}

gboolean
vd_domain_net_check_macs(VdDaemon *d, VdDomainDef *def, VdNetDef *extra, GError **error)
{
    if (!def->interfaces->len && !extra)
        return TRUE;
    g_autoptr(GPtrArray) all = vd_domain_list_all(d->domains);
    guint n = def->interfaces->len + (extra ? 1 : 0);
    for (guint i = 0; i < n; i++) {
        VdNetDef *net = i < def->interfaces->len ? g_ptr_array_index(def->interfaces, i) : extra;
        if (!net->mac)
            continue;
        for (guint tries = 0;; tries++) {
            VdDomainObj *owner = mac_owner(all, def, net->mac);
            gboolean clash = owner || (extra && mac_in_def(def, net, net->mac));
            if (!clash)
                break;
            if (vd_net_def_has_mac_element(net) || tries > 100) {
                if (owner)
                    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                                "invalid argument: MAC address '%s' is already used by domain "
                                "'%s': give another <mac address=>, or none to have one "
                                "generated",
                                net->mac, owner->name);
                else
                    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                                "invalid argument: domain '%s' already has an interface with "
                                "MAC address '%s'",
                                def->name, net->mac);
                return FALSE;
            }
            /* A generated one: generate again (52:54:00 + 24 random bits). */
            g_free(net->mac);
            net->mac = g_strdup_printf("52:54:00:%02x:%02x:%02x", g_random_int_range(0, 256),
                                       g_random_int_range(0, 256), g_random_int_range(0, 256));
            while (mac_in_def(def, net, net->mac)) {
                g_free(net->mac);
                net->mac = g_strdup_printf("52:54:00:%02x:%02x:%02x", g_random_int_range(0, 256),
                                           g_random_int_range(0, 256), g_random_int_range(0, 256));
            }
        }
    }
    return TRUE;
}
