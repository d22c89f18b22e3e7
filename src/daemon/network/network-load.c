/* Loading the networks at daemon start (network.h): definitions, the
 * status files of active networks (taken over by network-start.c), the
 * first start's 'default' network, autostart, and the clean-up of
 * firewall tables nothing owns. */
#include "daemon/network/network-priv.h"

#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>

#include "network/firewall.h"
#include "network/net-link.h"
#include "util/vd-file.h"

#define DEFAULT_OCTET 122

/* Reads a status file into a network: a new transient one, or the
 * persistent one of the same name and UUID. NULL when unusable. */
static VdNetwork *
load_status(VdNetworks *nets, const char *path)
{
    g_autoptr(GError) error = NULL;
    xmlDoc *doc =
        xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlNode *netnode = NULL;
    g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);

    if (!root || !xmlStrEqual(root->name, BAD_CAST "networkstatus")) {
        g_warning("ignoring malformed network status file %s", path);
        if (doc)
            xmlFreeDoc(doc);
        return NULL;
    }
    for (xmlNode *c = root->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (xmlStrEqual(c->name, BAD_CAST "note")) {
            xmlChar *t = xmlNodeGetContent(c);
            g_ptr_array_add(notes, g_strdup((const char *)t));
            xmlFree(t);
        } else if (xmlStrEqual(c->name, BAD_CAST "network")) {
            netnode = c;
        }
    }
    VdNetworkDef *live = NULL;
    if (netnode) {
        xmlBuffer *buf = xmlBufferCreate();
        xmlNodeDump(buf, doc, netnode, 0, 0);
        live = vd_network_def_parse((const char *)xmlBufferContent(buf), &error);
        xmlBufferFree(buf);
    }
    g_autofree char *pid = (char *)xmlGetProp(root, BAD_CAST "dnsmasq-pid");
    g_autofree char *table = (char *)xmlGetProp(root, BAD_CAST "table");
    g_autofree char *starting = (char *)xmlGetProp(root, BAD_CAST "starting");
    xmlFreeDoc(doc);
    if (!live) {
        g_warning("ignoring network status file %s: %s", path,
                  error ? error->message : "no <network>");
        return NULL;
    }
    VdNetwork *net = g_hash_table_lookup(nets->nets, live->name);
    if (net && !g_str_equal(net->def->uuid, live->uuid)) {
        g_warning("ignoring network status file %s: its uuid differs from the definition's", path);
        vd_network_def_free(live);
        return NULL;
    }
    if (!net) {
        /* A transient network (net-create): its definition is the live one. */
        net = vd_network_new(vd_network_def_copy(live));
        g_hash_table_insert(nets->nets, g_strdup(net->def->name), net);
    }
    net->live = live;
    net->active = TRUE;
    net->dnsmasq_pid = pid ? atoi(pid) : 0;
    net->fw_table = g_strdup(table);
    net->starting = g_strcmp0(starting, "yes") == 0;
    g_ptr_array_extend_and_steal(net->notes, g_steal_pointer(&notes));
    return net;
}

/* ---- load, first start, autostart ---- */

/* The first start's 'default': virbr0 or the first free virbrN, and
 * 192.168.122.0/24 or, when the host routes it already (libvirt's own
 * virbr0, a LAN), the first free 192.168.N.0/24. */
static void
create_default(VdNetworks *nets)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) taken = vd_networks_bridges_taken(nets, NULL);
    g_autofree char *bridge = vd_link_free_name("virbr%u", taken);
    g_autofree char *dev = NULL;
    g_autofree char *route = NULL;
    g_autofree char *moved = NULL;
    guint octet = DEFAULT_OCTET;

    VdNetworkDef *probe = vd_network_def_new_default(bridge, DEFAULT_OCTET);
    const VdNetIpDef *ip = vd_network_def_ipv4(probe);
    if (vd_networks_host_route(ip, NULL, &dev, &route)) {
        g_autofree char *free_net = vd_networks_free_subnet(nets, ip->address, ip->prefix, NULL);
        guint a, b, c, d, p;
        if (free_net && sscanf(free_net, "%u.%u.%u.%u/%u", &a, &b, &c, &d, &p) == 5 && a == 192 &&
            b == 168) {
            octet = c;
            moved = g_strdup_printf("192.168.%u.0/24 is routed on the host via %s (%s): took %s",
                                    DEFAULT_OCTET, dev, route, free_net);
        }
    }
    vd_network_def_free(probe);
    VdNetworkDef *def = vd_network_def_new_default(bridge, octet);
    VdNetwork *net = vd_networks_define(nets, def, NULL, &error);
    if (!net || !vd_networks_set_autostart(nets, net, TRUE, &error)) {
        g_warning("cannot define the default network: %s", error->message);
        return;
    }
    if (moved)
        g_message("network 'default': %s", moved);
    if (!vd_networks_start(nets, net, NULL, &error)) {
        g_warning("cannot start the default network (bridge %s): %s", bridge, error->message);
        return;
    }
    if (moved) {
        vd_network_add_note(net, "%s", moved);
        vd_networks_save_status(nets, net, NULL);
    }
    g_info("defined and started network 'default' on bridge %s", net->live->bridge);
}

static void
load_configs(VdNetworks *nets)
{
    const char *dirpath = nets->paths->networks_dir;
    g_autoptr(GDir) dir = g_dir_open(dirpath, 0, NULL);
    const char *file;

    while (dir && (file = g_dir_read_name(dir))) {
        if (!g_str_has_suffix(file, ".xml") || file[0] == '.')
            continue;
        g_autofree char *path = g_build_filename(dirpath, file, NULL);
        g_autofree char *xml = NULL;
        g_autoptr(GError) e = NULL;
        VdNetworkDef *def = NULL;
        if (!g_file_get_contents(path, &xml, NULL, &e) || !(def = vd_network_def_parse(xml, &e))) {
            g_warning("skipping network file '%s': %s", path, e->message);
            continue;
        }
        g_autofree char *expect = g_strconcat(def->name, ".xml", NULL);
        if (!g_str_equal(expect, file) || g_hash_table_contains(nets->nets, def->name)) {
            g_warning("skipping network file '%s': it defines network '%s'", path, def->name);
            vd_network_def_free(def);
            continue;
        }
        VdNetwork *net = vd_network_new(def);
        net->persistent = TRUE;
        g_autofree char *link = vd_networks_autostart_path(nets, def->name);
        net->autostart = g_file_test(link, G_FILE_TEST_IS_SYMLINK);
        g_hash_table_insert(nets->nets, g_strdup(def->name), net);
    }
}

/* Tables of this instance that no active network owns: left by a
 * network whose status file was lost, or by a kill in mid-start. */
static void
remove_stale_tables(VdNetworks *nets)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) tables = vd_firewall_list_tables(nets->instance, &error);
    g_autoptr(GPtrArray) all = vd_networks_list(nets);

    if (!tables) {
        g_warning("cannot list this daemon's firewall tables: %s", error->message);
        return;
    }
    for (guint i = 0; i < tables->len; i++) {
        const char *t = g_ptr_array_index(tables, i);
        gboolean used = FALSE;
        for (guint j = 0; j < all->len && !used; j++) {
            VdNetwork *n = g_ptr_array_index(all, j);
            used = n->active && g_strcmp0(n->fw_table, t) == 0;
        }
        g_autoptr(GError) e = NULL;
        if (used)
            continue;
        if (vd_firewall_remove(t, &e))
            g_info("removed firewall table %s: no active network owns it", t);
        else
            g_warning("cannot remove stale firewall table %s: %s", t, e->message);
    }
}

void
vd_networks_load(VdNetworks *nets)
{
    const VdPaths *p = nets->paths;
    g_autoptr(GError) error = NULL;
    gboolean first = !g_file_test(p->networks_dir, G_FILE_TEST_IS_DIR);

    if (!vd_dir_ensure(p->networks_autostart_dir, 0700, &error) ||
        !vd_dir_ensure(p->run_networks_dir, 0700, &error) ||
        !vd_dir_ensure(p->dnsmasq_dir, 0755, &error) ||
        !vd_dir_ensure(p->dnsmasq_log_dir, 0700, &error)) {
        g_warning("virtual networks unavailable: %s", error->message);
        return;
    }
    load_configs(nets);

    g_autoptr(GDir) dir = g_dir_open(p->run_networks_dir, 0, NULL);
    const char *file;
    g_autoptr(GPtrArray) found = g_ptr_array_new();
    while (dir && (file = g_dir_read_name(dir))) {
        if (!g_str_has_suffix(file, ".xml") || file[0] == '.')
            continue;
        g_autofree char *path = g_build_filename(p->run_networks_dir, file, NULL);
        VdNetwork *net = load_status(nets, path);
        if (net)
            g_ptr_array_add(found, net);
        else
            g_unlink(path);
    }
    for (guint i = 0; i < found->len; i++)
        vd_networks_take_over(nets, g_ptr_array_index(found, i));
    if (first && !nets->d->no_default_network)
        create_default(nets);
    /* A table of this instance outlives its network only with the
     * network's files (a definition, or the status file of a transient
     * one): with neither, there is nothing to clean, and a daemon without
     * networks never loads libnftables (network/nft-lib.h). */
    if (g_hash_table_size(nets->nets) > 0)
        remove_stale_tables(nets);
}

void
vd_networks_autostart(VdNetworks *nets)
{
    g_autoptr(GPtrArray) all = vd_networks_list(nets);

    for (guint i = 0; i < all->len; i++) {
        VdNetwork *net = g_ptr_array_index(all, i);
        g_autoptr(GError) error = NULL;
        if (!net->autostart || net->active)
            continue;
        if (vd_networks_start(nets, net, NULL, &error))
            g_info("network '%s' autostarted", net->def->name);
        else
            g_warning("cannot autostart network '%s': %s", net->def->name, error->message);
    }
}
