/* The registry of virtual networks and its files (network.h): lookups,
 * define/undefine/autostart, the status files of active networks. The
 * load at daemon start (with the first start's 'default' network) is in
 * network-load.c, starting and stopping in network-start.c, dnsmasq in
 * network-dnsmasq.c. */
#include "daemon/network/network-priv.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/events/events.h"
#include "network/firewall.h"
#include "network/net-link.h"
#include "util/vd-error.h"
#include "util/vd-file.h"
#include "util/vd-names.h"

static void
network_free(VdNetwork *net)
{
    if (!net)
        return;
    vd_network_def_free(net->def);
    vd_network_def_free(net->live);
    g_free(net->fw_table);
    g_ptr_array_unref(net->notes);
    g_free(net);
}

VdNetwork *
vd_network_new(VdNetworkDef *def)
{
    VdNetwork *net = g_new0(VdNetwork, 1);
    net->def = def;
    net->notes = g_ptr_array_new_with_free_func(g_free);
    return net;
}

VdNetworks *
vd_networks_new(VdDaemon *d)
{
    VdNetworks *nets = g_new0(VdNetworks, 1);

    nets->d = d;
    nets->paths = d->paths;
    nets->instance = vd_firewall_instance(d->paths->root);
    /* Keys of their own: a redefinition or an update replaces net->def. */
    nets->nets =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)network_free);
    return nets;
}

void
vd_networks_free(VdNetworks *nets)
{
    if (!nets)
        return;
    g_hash_table_unref(nets->nets);
    g_free(nets->instance);
    g_free(nets);
}

/* ---- files ---- */

static char *
file_in(const char *dir, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(dir, file, NULL);
}

char *
vd_networks_config_path(VdNetworks *nets, const char *name)
{
    return file_in(nets->paths->networks_dir, name);
}

char *
vd_networks_autostart_path(VdNetworks *nets, const char *name)
{
    return file_in(nets->paths->networks_autostart_dir, name);
}

char *
vd_networks_status_path(VdNetworks *nets, const char *name)
{
    return file_in(nets->paths->run_networks_dir, name);
}

static gboolean
set_errno_error(GError **error, int err, const char *what, const char *arg)
{
    g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "%s '%s': %s", what, arg,
                g_strerror(err));
    return FALSE;
}

void
vd_network_add_note(VdNetwork *net, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_ptr_array_add(net->notes, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

/* <networkstatus dnsmasq-pid='N' [starting='yes'] table='T'> <note>..</note>*
 * <network/> */
gboolean
vd_networks_save_status(VdNetworks *nets, VdNetwork *net, GError **error)
{
    g_autofree char *path = vd_networks_status_path(nets, net->def->name);
    g_autofree char *live = vd_network_def_format(net->live);
    g_autoptr(GString) text = g_string_new(NULL);

    g_string_append_printf(text, "<networkstatus dnsmasq-pid='%d'%s", net->dnsmasq_pid,
                           net->starting ? " starting='yes'" : "");
    if (net->fw_table) {
        g_autofree char *t = g_markup_escape_text(net->fw_table, -1);
        g_string_append_printf(text, " table='%s'", t);
    }
    g_string_append(text, ">\n");
    for (guint i = 0; i < net->notes->len; i++) {
        g_autofree char *n = g_markup_escape_text(g_ptr_array_index(net->notes, i), -1);
        g_string_append_printf(text, "  <note>%s</note>\n", n);
    }
    g_string_append_printf(text, "%s</networkstatus>\n", live);
    return vd_file_replace(path, text->str, (gssize)text->len, 0600, error);
}

void
vd_networks_remove_status(VdNetworks *nets, VdNetwork *net)
{
    g_autofree char *path = vd_networks_status_path(nets, net->def->name);
    g_unlink(path);
}

/* ---- lookups ---- */

VdNetwork *
vd_networks_lookup(VdNetworks *nets, const char *key, GError **error)
{
    GHashTableIter it;
    gpointer v;
    char uuid[37];

    /* virsh's order: a UUID, then a name. */
    if (key && vd_key_as_uuid(key, uuid)) {
        g_hash_table_iter_init(&it, nets->nets);
        while (g_hash_table_iter_next(&it, NULL, &v))
            if (g_str_equal(((VdNetwork *)v)->def->uuid, uuid))
                return v;
    }
    VdNetwork *net = key ? g_hash_table_lookup(nets->nets, key) : NULL;
    if (net)
        return net;
    g_set_error(error, VD_ERROR, VD_ERROR_NO_NETWORK,
                "Network not found: no network with matching name '%s'", key ? key : "");
    return NULL;
}

static int
compare_networks(gconstpointer a, gconstpointer b)
{
    return strcmp((*(VdNetwork *const *)a)->def->name, (*(VdNetwork *const *)b)->def->name);
}

GPtrArray *
vd_networks_list(VdNetworks *nets)
{
    GPtrArray *all = g_ptr_array_new();
    GHashTableIter it;
    gpointer v;

    g_hash_table_iter_init(&it, nets->nets);
    while (g_hash_table_iter_next(&it, NULL, &v))
        g_ptr_array_add(all, v);
    g_ptr_array_sort(all, compare_networks);
    return all;
}

void
vd_networks_forget(VdNetworks *nets, VdNetwork *net)
{
    g_hash_table_remove(nets->nets, net->def->name);
}

/* ---- define ---- */

GPtrArray *
vd_networks_bridges_taken(VdNetworks *nets, VdNetwork *skip)
{
    GPtrArray *taken = g_ptr_array_new();
    g_autoptr(GPtrArray) all = vd_networks_list(nets);

    for (guint i = 0; i < all->len; i++) {
        VdNetwork *n = g_ptr_array_index(all, i);
        if (n == skip)
            continue;
        if (n->def->bridge)
            g_ptr_array_add(taken, n->def->bridge);
        if (n->live && n->live->bridge)
            g_ptr_array_add(taken, n->live->bridge);
    }
    return taken;
}

/* What define refuses: another network's bridge name or subnet, a bridge
 * name a host link already has (unless it is this network's own running
 * bridge). Host routes only warn here: net-start refuses them. */
static gboolean
check_define(VdNetworks *nets, VdNetworkDef *def, VdNetwork *same, GPtrArray *warnings,
             GError **error)
{
    g_autoptr(GPtrArray) all = vd_networks_list(nets);

    for (guint i = 0; i < all->len; i++) {
        VdNetwork *n = g_ptr_array_index(all, i);
        const VdNetworkDef *other = n->live ? n->live : n->def;
        g_autofree char *what = NULL;
        if (n == same)
            continue;
        if (def->bridge && def->forward != VD_NET_FORWARD_BRIDGE && other->bridge &&
            g_str_equal(def->bridge, other->bridge)) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "bridge name '%s' is already used by network '%s': choose another "
                        "<bridge name=>, or leave it out to get a free one",
                        def->bridge, n->def->name);
            return FALSE;
        }
        if (def->forward != VD_NET_FORWARD_BRIDGE && other->forward != VD_NET_FORWARD_BRIDGE &&
            vd_network_def_overlaps(def, other, &what)) {
            const VdNetIpDef *ip = vd_network_def_ipv4(def);
            g_autofree char *free_net =
                ip ? vd_networks_free_subnet(nets, ip->address, ip->prefix, NULL) : NULL;
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "the subnet of network '%s' overlaps network '%s' (%s)%s%s", def->name,
                        n->def->name, what, free_net ? ": a free subnet is " : "",
                        free_net ? free_net : "");
            return FALSE;
        }
    }
    gboolean own_bridge = same && same->live && g_strcmp0(same->live->bridge, def->bridge) == 0;
    if (def->bridge && def->forward != VD_NET_FORWARD_BRIDGE && !own_bridge &&
        vd_link_exists(def->bridge)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "bridge name '%s' is already used by a host interface: choose another "
                    "<bridge name=>, or leave it out to get a free one",
                    def->bridge);
        return FALSE;
    }
    const VdNetIpDef *ip = vd_network_def_ipv4(def);
    g_autofree char *dev = NULL;
    g_autofree char *route = NULL;
    if (ip && def->forward != VD_NET_FORWARD_BRIDGE && warnings &&
        vd_networks_host_route(ip, same && same->live ? same->live->bridge : NULL, &dev, &route)) {
        g_autofree char *subnet = vd_net_ip_subnet_string(ip);
        g_autofree char *free_net = vd_networks_free_subnet(nets, ip->address, ip->prefix, same);
        g_ptr_array_add(warnings,
                        g_strdup_printf("subnet %s is routed on the host via %s (%s): net-start "
                                        "will refuse it%s%s",
                                        subnet, dev, route, free_net ? "; a free subnet is " : "",
                                        free_net ? free_net : ""));
    }
    return TRUE;
}

/* libvirt's bridge MACs: 52:54:00 and three random bytes. */
static char *
random_mac(void)
{
    return g_strdup_printf("52:54:00:%02x:%02x:%02x", g_random_int_range(0, 256),
                           g_random_int_range(0, 256), g_random_int_range(0, 256));
}

/* Adds or replaces; @persist: write the config file. */
static VdNetwork *
define_common(VdNetworks *nets, VdNetworkDef *def_in, gboolean persist, GPtrArray *warnings,
              GError **error)
{
    g_autoptr(VdNetworkDef) def = def_in;
    VdNetwork *same = g_hash_table_lookup(nets->nets, def->name);
    GHashTableIter it;
    gpointer v;

    if (!vd_name_validate(def->name, "network name", error))
        return NULL;
    g_hash_table_iter_init(&it, nets->nets);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        VdNetwork *n = v;
        if (n != same && g_str_equal(n->def->uuid, def->uuid)) {
            g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                        "network '%s' already exists with uuid %s", n->def->name, def->uuid);
            return NULL;
        }
    }
    if (same && !g_str_equal(same->def->uuid, def->uuid)) {
        g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                    "network '%s' already exists with uuid %s: undefine it first, or keep its "
                    "uuid to redefine it",
                    def->name, same->def->uuid);
        return NULL;
    }
    if (same && !persist) {
        g_set_error(error, VD_ERROR, VD_ERROR_EXISTS, "network '%s' already exists", def->name);
        return NULL;
    }
    if (def->forward != VD_NET_FORWARD_BRIDGE) {
        if (!def->bridge && same && same->def->bridge)
            def->bridge = g_strdup(same->def->bridge);
        if (!def->bridge) {
            g_autoptr(GPtrArray) taken = vd_networks_bridges_taken(nets, same);
            def->bridge = vd_link_free_name("virbr%u", taken);
        }
        if (!def->mac)
            def->mac = same && same->def->mac ? g_strdup(same->def->mac) : random_mac();
    }
    if (!check_define(nets, def, same, warnings, error))
        return NULL;
    if (persist) {
        g_autofree char *xml = vd_network_def_format(def);
        g_autofree char *path = vd_networks_config_path(nets, def->name);
        if (!vd_dir_ensure(nets->paths->networks_autostart_dir, 0700, error) ||
            !vd_file_write_atomic(path, xml, -1, 0600, error))
            return NULL;
    }
    if (same) {
        if (same->active && warnings)
            g_ptr_array_add(warnings,
                            g_strdup_printf("network '%s' is active: it runs on with its current "
                                            "definition until net-destroy and net-start",
                                            def->name));
        vd_network_def_free(same->def);
        same->def = g_steal_pointer(&def);
        same->persistent = TRUE;
        vd_events_publish("net-lifecycle", NULL, same->def->name, same->def->uuid, "Defined",
                          "", NULL);
        return same;
    }
    VdNetwork *net = vd_network_new(g_steal_pointer(&def));
    net->persistent = persist;
    g_hash_table_insert(nets->nets, g_strdup(net->def->name), net);
    if (persist)
        vd_events_publish("net-lifecycle", NULL, net->def->name, net->def->uuid, "Defined", "",
                          NULL);
    return net;
}

VdNetwork *
vd_networks_define(VdNetworks *nets, VdNetworkDef *def, GPtrArray *warnings, GError **error)
{
    return define_common(nets, def, TRUE, warnings, error);
}

VdNetwork *
vd_networks_create(VdNetworks *nets, VdNetworkDef *def, GPtrArray *warnings, GError **error)
{
    VdNetwork *net = define_common(nets, def, FALSE, warnings, error);

    if (!net)
        return NULL;
    if (!vd_networks_start(nets, net, warnings, error)) {
        vd_networks_forget(nets, net);
        return NULL;
    }
    return net;
}

VdNetwork *
vd_networks_redefine(VdNetworks *nets, VdNetwork *net, VdNetworkDef *def, GPtrArray *warnings,
                     GError **error)
{
    if (!g_str_equal(def->name, net->def->name)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "the edited definition names network '%s', not '%s': net-edit cannot "
                    "rename; define a copy under the new name and undefine the old one",
                    def->name, net->def->name);
        vd_network_def_free(def);
        return NULL;
    }
    return define_common(nets, def, TRUE, warnings, error);
}

gboolean
vd_networks_undefine(VdNetworks *nets, VdNetwork *net, GError **error)
{
    if (!net->persistent) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: cannot undefine transient network '%s'",
                    net->def->name);
        return FALSE;
    }
    g_autofree char *conf = vd_networks_config_path(nets, net->def->name);
    g_autofree char *link = vd_networks_autostart_path(nets, net->def->name);
    if (g_unlink(link) < 0 && errno != ENOENT)
        return set_errno_error(error, errno, "cannot remove autostart link", link);
    if (g_unlink(conf) < 0 && errno != ENOENT)
        return set_errno_error(error, errno, "cannot remove", conf);
    net->autostart = FALSE;
    vd_events_publish("net-lifecycle", NULL, net->def->name, net->def->uuid, "Undefined", "",
                      NULL);
    if (net->active) {
        /* libvirt's rule: it runs on, transient, until destroyed. */
        net->persistent = FALSE;
        return TRUE;
    }
    vd_network_dnsmasq_forget(nets, net->def->name);
    vd_networks_forget(nets, net);
    return TRUE;
}

gboolean
vd_networks_set_autostart(VdNetworks *nets, VdNetwork *net, gboolean on, GError **error)
{
    g_autofree char *link = vd_networks_autostart_path(nets, net->def->name);
    g_autofree char *target = g_strconcat("../", net->def->name, ".xml", NULL);

    if (!net->persistent) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: cannot set autostart for transient "
                    "network '%s'",
                    net->def->name);
        return FALSE;
    }
    if (!vd_dir_ensure(nets->paths->networks_autostart_dir, 0700, error))
        return FALSE;
    if (g_unlink(link) < 0 && errno != ENOENT)
        return set_errno_error(error, errno, "cannot remove autostart link", link);
    if (on && symlink(target, link) < 0)
        return set_errno_error(error, errno, "cannot create autostart link", link);
    net->autostart = on;
    return TRUE;
}

/* ---- for domains ---- */

gboolean
vd_networks_port(VdNetworks *nets, const char *name, VdNetworkPort *out, GError **error)
{
    VdNetwork *net = nets ? g_hash_table_lookup(nets->nets, name) : NULL;

    if (!net) {
        g_set_error(error, VD_ERROR, VD_ERROR_NO_NETWORK,
                    "Network not found: no network with matching name '%s'", name);
        return FALSE;
    }
    if (!net->active) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: network '%s' is not active: start it "
                    "with net-start %s",
                    name, name);
        return FALSE;
    }
    out->bridge = g_strdup(net->live->bridge);
    out->mtu = net->live->mtu;
    out->forward = net->live->forward;
    return TRUE;
}

void
vd_network_port_clear(VdNetworkPort *port)
{
    g_clear_pointer(&port->bridge, g_free);
    port->mtu = 0;
}
