/* The API of a domain's interfaces (docs/api.md "Domain interfaces"):
 * list, addresses, link state, counters, attach and detach. The
 * operations themselves are in daemon/domain/domain-net*.c. */
#include "daemon/api/api-agent.h"
#include "daemon/api/api-internal.h"

#include "daemon/domain/domain-net.h"
#include "daemon/network/network.h"
#include "util/vd-error.h"

static void
add_str(JsonBuilder *b, const char *k, const char *v)
{
    json_builder_set_member_name(b, k);
    json_builder_add_string_value(b, v ? v : "-");
}

/* GET /v1/domains/{dom}/interfaces[?inactive=1] */
static void
handle_list(VdApiRequest *req, VdDomainObj *dom)
{
    gboolean inactive = vd_api_query_bool(req, "inactive");
    const VdDomainDef *def = inactive ? vd_domain_obj_def(dom) : vd_domain_obj_current_def(dom);
    gboolean live = !inactive && dom->live != NULL;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "interfaces");
    json_builder_begin_array(b);
    for (guint i = 0; i < def->interfaces->len; i++) {
        const VdNetDef *net = g_ptr_array_index(def->interfaces, i);
        json_builder_begin_object(b);
        add_str(b, "interface", live ? net->target_dev : NULL);
        add_str(b, "type", vd_net_type_to_string(net->type));
        add_str(b, "source", net->source);
        add_str(b, "model", net->model);
        add_str(b, "mac", net->mac);
        add_str(b, "link", vd_net_def_link_up(net) ? "up" : "down");
        add_str(b, "alias", live ? net->alias : NULL);
        if (net->mtu)
            vd_api_add_int(b, "mtu", net->mtu);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

/* ---- addresses ------------------------------------------------------- */

typedef struct {
    char *ip;
    guint prefix;
    gboolean ipv6;
} Addr;

static void
addr_free(Addr *a)
{
    g_free(a->ip);
    g_free(a);
}

/* The leases of @net's network that carry its MAC, with the network's
 * prefix. */
static GPtrArray *
lease_addrs(VdDaemon *d, const VdNetDef *net)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)addr_free);
    if (net->type != VD_NET_NETWORK || !d->networks || !net->mac)
        return out;
    VdNetwork *nw = vd_networks_lookup(d->networks, net->source, NULL);
    if (!nw)
        return out;
    const VdNetworkDef *ndef = nw->live ? nw->live : nw->def;
    const VdNetIpDef *ip4 = vd_network_def_ipv4(ndef);
    g_autoptr(GPtrArray) leases = vd_networks_leases(d->networks, nw);
    for (guint i = 0; leases && i < leases->len; i++) {
        const VdDnsmasqLease *l = g_ptr_array_index(leases, i);
        if (!l->mac || g_ascii_strcasecmp(l->mac, net->mac) != 0)
            continue;
        Addr *a = g_new0(Addr, 1);
        a->ip = g_strdup(l->ip);
        a->ipv6 = l->ipv6;
        a->prefix = !l->ipv6 && ip4 ? ip4->prefix : (l->ipv6 ? 64 : 0);
        g_ptr_array_add(out, a);
    }
    return out;
}

static GPtrArray *
arp_addrs(GPtrArray *neigh, const VdNetDef *net)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)addr_free);
    for (guint i = 0; neigh && net->mac && i < neigh->len; i++) {
        const VdNeigh *n = g_ptr_array_index(neigh, i);
        if (!n->mac || g_ascii_strcasecmp(n->mac, net->mac) != 0)
            continue;
        Addr *a = g_new0(Addr, 1);
        a->ip = g_strdup(n->ip);
        g_ptr_array_add(out, a);
    }
    return out;
}

/* GET /v1/domains/{dom}/interfaces/addresses?source=lease|agent|arp */
static void
handle_addresses(VdApiRequest *req, VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    const char *source = req->query ? g_hash_table_lookup(req->query, "source") : NULL;
    if (!source || !*source)
        source = "lease";
    if (g_str_equal(source, "agent")) {
        /* The guest's own view, answered later from the main loop. */
        vd_api_domain_addresses_agent(req, dom);
        return;
    }
    if (!g_str_equal(source, "lease") && !g_str_equal(source, "arp")) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: unknown address source '%s': use lease, agent or arp",
                    source);
    } else if (!vd_domain_obj_check(dom, VD_OP_CONSOLE, &error)) {
        /* domifaddr needs a running domain, as virsh's */
    }
    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    gboolean arp = g_str_equal(source, "arp");
    g_autoptr(GPtrArray) neigh = arp ? vd_neigh_list(NULL) : NULL;
    const VdDomainDef *def = dom->live;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "interfaces");
    json_builder_begin_array(b);
    for (guint i = 0; def && i < def->interfaces->len; i++) {
        const VdNetDef *net = g_ptr_array_index(def->interfaces, i);
        g_autoptr(GPtrArray) addrs = arp ? arp_addrs(neigh, net) : lease_addrs(req->d, net);
        if (!addrs->len)
            continue;
        json_builder_begin_object(b);
        add_str(b, "name", net->target_dev);
        add_str(b, "mac", net->mac);
        json_builder_set_member_name(b, "addrs");
        json_builder_begin_array(b);
        for (guint j = 0; j < addrs->len; j++) {
            const Addr *a = g_ptr_array_index(addrs, j);
            json_builder_begin_object(b);
            add_str(b, "type", a->ipv6 ? "ipv6" : "ipv4");
            add_str(b, "addr", a->ip);
            vd_api_add_int(b, "prefix", a->prefix);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

/* ---- link, stats ------------------------------------------------------ */

static void
handle_get_link(VdApiRequest *req, VdDomainObj *dom, const char *key)
{
    g_autoptr(GError) error = NULL;
    gboolean inactive = vd_api_query_bool(req, "inactive") || !dom->live;
    const VdDomainDef *def = inactive ? vd_domain_obj_def(dom) : dom->live;
    int i = vd_domain_net_find(def, key, &error);
    if (i < 0) {
        vd_api_reply_error(req, error);
        return;
    }
    const VdNetDef *net = g_ptr_array_index(def->interfaces, i);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_str(b, "state", vd_net_def_link_up(net) ? "up" : "down");
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

typedef struct {
    VdApiRequest *req;
    gboolean up;
} LinkReq;

static void
link_done(VdDomainObj *dom, const GError *error, gpointer data)
{
    LinkReq *lr = data;
    VdApiRequest *req = lr->req;
    gboolean up = lr->up;
    g_free(lr);
    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_str(b, "state", up ? "up" : "down");
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

static void
handle_put_link(VdApiRequest *req, VdDomainObj *dom, const char *key)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    const char *state = NULL;
    gboolean live = FALSE, config = FALSE;

    if (!error && body) {
        JsonNode *n = json_object_get_member(body, "state");
        if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
            state = json_node_get_string(n);
        live = json_object_get_boolean_member_with_default(body, "live", FALSE);
        config = json_object_get_boolean_member_with_default(body, "config", FALSE);
    }
    if (!error && (!state || (!g_str_equal(state, "up") && !g_str_equal(state, "down"))))
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: the body needs \"state\": \"up\" or \"down\"");
    if (!error)
        vd_domain_net_scope(dom, &live, &config, &error);
    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    LinkReq *lr = g_new0(LinkReq, 1);
    lr->req = req;
    lr->up = g_str_equal(state, "up");
    vd_api_pause(req);
    vd_domain_net_set_link(req->d, dom, key, lr->up, live, config, link_done, lr);
}

static void
handle_stats(VdApiRequest *req, VdDomainObj *dom, const char *key)
{
    g_autoptr(GError) error = NULL;
    VdLinkStats s;
    if (!vd_domain_net_stats(dom, key, &s, &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    vd_api_add_int(b, "rx_bytes", (gint64)s.rx_bytes);
    vd_api_add_int(b, "rx_packets", (gint64)s.rx_packets);
    vd_api_add_int(b, "rx_errs", (gint64)s.rx_errs);
    vd_api_add_int(b, "rx_drop", (gint64)s.rx_drop);
    vd_api_add_int(b, "tx_bytes", (gint64)s.tx_bytes);
    vd_api_add_int(b, "tx_packets", (gint64)s.tx_packets);
    vd_api_add_int(b, "tx_errs", (gint64)s.tx_errs);
    vd_api_add_int(b, "tx_drop", (gint64)s.tx_drop);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

/* ---- attach, detach ---------------------------------------------------- */

/* update-device with an <interface>: found by MAC in the definitions the
 * scope names; only its link state may change, and its model only in
 * the persistent definition (a running guest's NIC cannot change model:
 * detach it and attach a new one). */
static void
update_done(VdDomainObj *dom, const GError *error, gpointer data)
{
    vd_api_device_reply(data, dom, error, VD_DEVICE_UPDATE, NULL);
}

static gboolean
check_update(const VdDomainDef *def, const VdNetDef *want, gboolean live, GError **error)
{
    int i = vd_domain_net_find(def, want->mac, error);
    if (i < 0)
        return FALSE;
    const VdNetDef *have = g_ptr_array_index(def->interfaces, i);
    const char *want_model = want->model ? want->model : "rtl8139";
    const char *have_model = have->model ? have->model : "rtl8139";
    if (!g_str_equal(want_model, have_model)) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "Operation not supported: cannot change the model of interface %s from "
                    "'%s' to '%s'%s",
                    want->mac, have_model, want_model,
                    live ? " on a running guest: detach the interface and attach a new one, or "
                           "change it with --config for the next boot"
                         : ": give the model this way in 'vsh edit'");
        return FALSE;
    }
    if (have->type != want->type || g_strcmp0(have->source, want->source) != 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "Operation not supported: update-device changes only the link state of "
                    "interface %s: to connect it elsewhere, detach it and attach a new one",
                    want->mac);
        return FALSE;
    }
    return TRUE;
}

void
vd_api_net_update(VdApiRequest *req, VdDomainObj *dom, const char *xml, gboolean live,
                  gboolean config)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdNetDef) net = vd_net_def_new_from_xml(xml, -1, TRUE, &error);

    if (net && !vd_net_def_has_mac_element(net))
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: the <interface> to update needs its <mac address=...>");
    if (!error && live)
        check_update(dom->live, net, TRUE, &error);
    if (!error && config)
        check_update(vd_domain_obj_def(dom), net, FALSE, &error);
    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    vd_api_pause(req);
    vd_domain_net_set_link(req->d, dom, net->mac, vd_net_def_link_up(net), live, config,
                           update_done, req);
}

static void
attached(VdDomainObj *dom, const GError *error, const char *device_xml, gpointer data)
{
    vd_api_device_reply(data, dom, error, VD_DEVICE_ATTACH, device_xml);
}

static void
detached(VdDomainObj *dom, const GError *error, gpointer data)
{
    vd_api_device_reply(data, dom, error, VD_DEVICE_DETACH, NULL);
}

void
vd_api_net_device(VdApiRequest *req, VdDomainObj *dom, VdDeviceOp op, const char *xml,
                  gboolean live, gboolean config)
{
    g_autoptr(GError) error = NULL;
    gboolean detach = op == VD_DEVICE_DETACH;

    if (op == VD_DEVICE_UPDATE) {
        vd_api_net_update(req, dom, xml, live, config);
        return;
    }
    g_autoptr(VdNetDef) net = vd_net_def_new_from_xml(xml, -1, detach, &error);
    if (net && !detach) {
        /* A MAC unique among all domains and this one's interfaces. */
        const VdDomainDef *def = live ? dom->live : vd_domain_obj_def(dom);
        g_autoptr(VdDomainDef) probe = vd_domain_def_copy(def);
        vd_domain_net_check_macs(req->d, probe, net, &error);
    }
    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    vd_api_pause(req);
    if (detach)
        vd_domain_net_detach(req->d, dom, net, live, config, detached, req);
    else
        vd_domain_net_attach(req->d, dom, g_steal_pointer(&net), live, config, attached, req);
}

gboolean
vd_api_domain_net_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method)
{
    g_autoptr(GError) error = NULL;
    gboolean get = g_str_equal(method, "GET");
    gboolean put = g_str_equal(method, "PUT");
    const char *what = req->segments[2];
    guint n = req->nsegments;

    if (!g_str_equal(what, "interfaces"))
        return FALSE;
    if (n == 3 && get) {
        handle_list(req, dom);
    } else if (n == 4 && get && g_str_equal(req->segments[3], "addresses")) {
        handle_addresses(req, dom);
    } else if (n == 5 && g_str_equal(req->segments[4], "link") && (get || put)) {
        if (get)
            handle_get_link(req, dom, req->segments[3]);
        else
            handle_put_link(req, dom, req->segments[3]);
    } else if (n == 5 && get && g_str_equal(req->segments[4], "stats")) {
        handle_stats(req, dom, req->segments[3]);
    } else {
        return FALSE;
    }
    return TRUE;
}
