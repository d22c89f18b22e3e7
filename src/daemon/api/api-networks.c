/* API handlers for /v1/networks (docs/api.md, "Networks"). Every
 * operation is quick (netlink, one nft transaction, dnsmasq's start-up)
 * and answers at once. */
#include <arpa/inet.h>
#include <string.h>

#include "daemon/api/api-internal.h"
#include "daemon/network/network.h"
#include "util/vd-error.h"

/* The summary; @gone: the network left the registry with this request
 * (a transient one destroyed, an inactive one undefined). */
static void
add_network(JsonBuilder *b, VdNetwork *net, gboolean gone)
{
    const VdNetworkDef *def = net->active && !gone ? net->live : net->def;
    gboolean dhcp = FALSE;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, def->name);
    json_builder_set_member_name(b, "uuid");
    json_builder_add_string_value(b, def->uuid);
    json_builder_set_member_name(b, "active");
    json_builder_add_boolean_value(b, net->active && !gone);
    json_builder_set_member_name(b, "autostart");
    json_builder_add_boolean_value(b, net->autostart && !gone);
    json_builder_set_member_name(b, "persistent");
    json_builder_add_boolean_value(b, net->persistent && !gone);
    json_builder_set_member_name(b, "bridge");
    json_builder_add_string_value(b, def->bridge ? def->bridge : "");
    json_builder_set_member_name(b, "forward");
    json_builder_add_string_value(b, vd_net_forward_mode_to_string(def->forward));
    json_builder_set_member_name(b, "ips");
    json_builder_begin_array(b);
    for (guint i = 0; i < def->ips->len; i++) {
        const VdNetIpDef *ip = g_ptr_array_index(def->ips, i);
        g_autofree char *s = g_strdup_printf("%s/%u", ip->address, ip->prefix);
        json_builder_add_string_value(b, s);
        dhcp |= ip->ranges->len > 0 || ip->hosts->len > 0;
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "dhcp");
    json_builder_add_boolean_value(b, dhcp);
    json_builder_set_member_name(b, "notes");
    json_builder_begin_array(b);
    for (guint i = 0; net->active && !gone && i < net->notes->len; i++)
        json_builder_add_string_value(b, g_ptr_array_index(net->notes, i));
    json_builder_end_array(b);
    if (net->active && !gone && net->dnsmasq_pid > 0) {
        json_builder_set_member_name(b, "dnsmasq_pid");
        json_builder_add_int_value(b, net->dnsmasq_pid);
    }
    json_builder_end_object(b);
}

/* {"network": summary[, "warnings": [...]]} */
static JsonNode *
network_answer(VdNetwork *net, gboolean gone, GPtrArray *warnings)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "network");
    add_network(b, net, gone);
    vd_api_add_warnings(b, warnings);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

static void
handle_list(VdApiRequest *req)
{
    g_autoptr(GPtrArray) nets = vd_networks_list(req->d->networks);
    g_autoptr(JsonBuilder) b = vd_api_list_begin("networks");

    for (guint i = 0; i < nets->len; i++) {
        VdNetwork *net = g_ptr_array_index(nets, i);
        if (vd_api_list_wants(req, net->active))
            add_network(b, net, FALSE);
    }
    vd_api_list_reply(req, b);
}

/* The network XML of the request's body. */
static VdNetworkDef *
body_def(VdApiRequest *req, GError **error)
{
    g_autofree char *xml = vd_api_body_text(req, error);

    return xml ? vd_network_def_parse(xml, error) : NULL;
}

/* POST /v1/networks: define, or with ?start=1 create. */
static void
handle_define(VdApiRequest *req)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    VdNetworkDef *def = body_def(req, &error);
    VdNetwork *net = NULL;

    if (def && vd_api_query_bool(req, "start"))
        net = vd_networks_create(req->d->networks, def, warnings, &error);
    else if (def)
        net = vd_networks_define(req->d->networks, def, warnings, &error);
    if (!net) {
        vd_api_reply_error(req, error);
        return;
    }
    vd_api_reply_json(req, 201, network_answer(net, FALSE, warnings));
}

static void
handle_xml(VdApiRequest *req, VdNetwork *net)
{
    const VdNetworkDef *def =
        net->active && !vd_api_query_bool(req, "inactive") ? net->live : net->def;
    g_autofree char *xml = vd_network_def_format(def);
    vd_api_reply_text(req, 200, "application/xml", xml);
}

static void
handle_edit(VdApiRequest *req, VdNetwork *net)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    VdNetworkDef *def = body_def(req, &error);

    if (def)
        net = vd_networks_redefine(req->d->networks, net, def, warnings, &error);
    if (!def || !net) {
        vd_api_reply_error(req, error);
        return;
    }
    vd_api_reply_json(req, 200, network_answer(net, FALSE, warnings));
}

/* start, destroy, undefine: the network may leave the registry. */
static void
handle_action(VdApiRequest *req, VdNetwork *net, const char *action)
{
    VdNetworks *nets = req->d->networks;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *name = g_strdup(net->def->name);
    gboolean ok;
    gboolean is_delete = g_str_equal(action, "undefine");

    /* The answer as it will be if the network goes away. */
    g_autoptr(JsonNode) gone_answer = network_answer(net, TRUE, is_delete ? NULL : warnings);
    if (g_str_equal(action, "start"))
        ok = vd_networks_start(nets, net, warnings, &error);
    else if (g_str_equal(action, "destroy"))
        ok = vd_networks_destroy(nets, net, &error);
    else
        ok = vd_networks_undefine(nets, net, &error);
    if (!ok) {
        vd_api_reply_error(req, error);
        return;
    }
    net = vd_networks_lookup(nets, name, NULL);
    if (!net) {
        vd_api_reply_json(req, 200, g_steal_pointer(&gone_answer));
        return;
    }
    vd_api_reply_json(req, 200, network_answer(net, FALSE, is_delete ? NULL : warnings));
}

static gboolean
handle_autostart(VdApiRequest *req, VdNetwork *net, GError **error)
{
    gboolean on = FALSE;

    return vd_api_body_autostart(req, &on, error) &&
           vd_networks_set_autostart(req->d->networks, net, on, error);
}

static gboolean
handle_update(VdApiRequest *req, VdNetwork *net, GError **error)
{
    g_autoptr(JsonObject) body = vd_api_body_json(req, error);
    const char *command = vd_api_body_string(body, "command");
    const char *section = vd_api_body_string(body, "section");
    const char *xml = vd_api_body_string(body, "xml");
    gboolean live = FALSE, config = FALSE;
    gint64 parent = -1;
    VdNetUpdateCommand cmd;
    VdNetUpdateSection sec;

    if (!body || !command || !section || !xml) {
        if (error && !*error)
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "send {\"command\": \"add\", \"section\": \"ip-dhcp-host\", \"xml\": "
                        "\"<host .../>\"} (command, section and xml are strings)");
        return FALSE;
    }
    JsonNode *pnode = json_object_get_member(body, "parent_index");
    if (pnode) {
        if (!JSON_NODE_HOLDS_VALUE(pnode) || json_node_get_value_type(pnode) != G_TYPE_INT64 ||
            json_node_get_int(pnode) < -1 || json_node_get_int(pnode) > G_MAXINT) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "\"parent_index\" must be an integer, -1 for the first <ip> with DHCP");
            return FALSE;
        }
        parent = json_node_get_int(pnode);
    }
    return vd_api_body_bool(body, "live", &live, error) &&
           vd_api_body_bool(body, "config", &config, error) &&
           vd_net_update_command_from_string(command, &cmd, error) &&
           vd_net_update_section_from_string(section, &sec, error) &&
           vd_networks_update(req->d->networks, net, cmd, sec, (int)parent, xml, live, config,
                              error);
}

static guint
lease_prefix(VdNetwork *net, gboolean ipv6)
{
    for (guint i = 0; net->live && i < net->live->ips->len; i++) {
        const VdNetIpDef *ip = g_ptr_array_index(net->live->ips, i);
        if ((ip->family == AF_INET6) == ipv6)
            return ip->prefix;
    }
    return ipv6 ? 64 : 24;
}

static void
handle_leases(VdApiRequest *req, VdNetwork *net)
{
    const char *mac = req->query ? g_hash_table_lookup(req->query, "mac") : NULL;
    g_autoptr(GPtrArray) leases = vd_networks_leases(req->d->networks, net);
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "leases");
    json_builder_begin_array(b);
    for (guint i = 0; i < leases->len; i++) {
        VdDnsmasqLease *l = g_ptr_array_index(leases, i);
        if (mac && *mac && g_ascii_strcasecmp(mac, l->mac ? l->mac : "") != 0)
            continue;
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "expiry_time");
        json_builder_add_int_value(b, l->expiry);
        json_builder_set_member_name(b, "mac");
        json_builder_add_string_value(b, l->mac ? l->mac : "");
        json_builder_set_member_name(b, "type");
        json_builder_add_string_value(b, l->ipv6 ? "ipv6" : "ipv4");
        json_builder_set_member_name(b, "ip");
        json_builder_add_string_value(b, l->ip);
        json_builder_set_member_name(b, "prefix");
        json_builder_add_int_value(b, lease_prefix(net, l->ipv6));
        if (l->hostname) {
            json_builder_set_member_name(b, "hostname");
            json_builder_add_string_value(b, l->hostname);
        }
        if (l->client_id) {
            json_builder_set_member_name(b, "client_id");
            json_builder_add_string_value(b, l->client_id);
        }
        json_builder_set_member_name(b, "interface");
        json_builder_add_string_value(b, net->live ? net->live->bridge : net->def->bridge);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

void
vd_api_networks_dispatch(VdApiRequest *req, const char *method)
{
    g_autoptr(GError) error = NULL;
    guint n = req->nsegments;

    if (n == 1) {
        vd_api_dispatch_collection(req, method, handle_list, handle_define);
        return;
    }
    VdNetwork *net = vd_networks_lookup(req->d->networks, req->segments[1], &error);
    if (!vd_api_check_found(req, net, error))
        return;
    const char *op = n == 3 ? req->segments[2] : NULL;
    gboolean ok;
    if (n == 2 && g_str_equal(method, "GET")) {
        vd_api_reply_json(req, 200, network_answer(net, FALSE, NULL));
        return;
    } else if (n == 2 && g_str_equal(method, "DELETE")) {
        handle_action(req, net, "undefine");
        return;
    } else if (op && g_str_equal(op, "xml") && g_str_equal(method, "GET")) {
        handle_xml(req, net);
        return;
    } else if (op && g_str_equal(op, "xml") && g_str_equal(method, "PUT")) {
        handle_edit(req, net);
        return;
    } else if (op && g_str_equal(method, "POST") &&
               (g_str_equal(op, "start") || g_str_equal(op, "destroy"))) {
        handle_action(req, net, op);
        return;
    } else if (op && g_str_equal(op, "leases") && g_str_equal(method, "GET")) {
        handle_leases(req, net);
        return;
    } else if (op && g_str_equal(op, "autostart") && g_str_equal(method, "PUT")) {
        ok = handle_autostart(req, net, &error);
    } else if (op && g_str_equal(op, "update") && g_str_equal(method, "POST")) {
        ok = handle_update(req, net, &error);
    } else {
        vd_api_reply_not_allowed(req, method);
        return;
    }
    if (!ok)
        vd_api_reply_error(req, error);
    else
        vd_api_reply_json(req, 200, network_answer(net, FALSE, NULL));
}
