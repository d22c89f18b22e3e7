/* The commands on a network's DHCP hosts and leases: net-update (static
 * hosts and DNS names, live and/or in the definition) and
 * net-dhcp-leases (virsh's lease table). */
#include "vsh-network.h"

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh-format.h"
#include "vsh-object.h"
#include "vsh-storage.h"

/* virsh's net-update commands and sections; the daemon refuses by name
 * the sections it does not update. */
static const char *const update_commands[] = {"add",    "add-last", "add-first",
                                              "delete", "modify",   NULL};
static const char *const update_sections[] = {"bridge",
                                              "domain",
                                              "ip",
                                              "ip-dhcp-host",
                                              "ip-dhcp-range",
                                              "forward",
                                              "forward-interface",
                                              "forward-pf",
                                              "portgroup",
                                              "dns-host",
                                              "dns-txt",
                                              "dns-srv",
                                              NULL};

static gboolean
cmd_net_update(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *net = vsh_cmd_get_string(cmd, "network");
    const char *command = vsh_cmd_get_string(cmd, "command");
    const char *section = vsh_cmd_get_string(cmd, "section");
    const char *xml_arg = vsh_cmd_get_string(cmd, "xml");
    const char *index = vsh_cmd_get_string(cmd, "parent-index");
    gboolean live = vsh_cmd_has(cmd, "live");
    gboolean config = vsh_cmd_has(cmd, "config");
    g_autofree char *xml = NULL;
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) body = NULL;
    g_autoptr(JsonNode) answer = NULL;
    gint64 parent = -1;

    if (vsh_cmd_has(cmd, "current") && (live || config)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --current and --%s are mutually exclusive", live ? "live" : "config");
        return FALSE;
    }
    if (!g_strv_contains(update_commands, command)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "unrecognized command name '%s'",
                    command);
        return FALSE;
    }
    if (!g_strv_contains(update_sections, section)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "unrecognized section name '%s'",
                    section);
        return FALSE;
    }
    if (index && !g_ascii_string_to_signed(index, 10, -1, G_MAXINT32, &parent, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Numeric value '%s' for <parent-index> option is malformed or out of range",
                    index);
        return FALSE;
    }
    /* An XML element itself, or the name of a file holding it (virsh). */
    if (xml_arg[0] == '<') {
        xml = g_strdup(xml_arg);
    } else {
        g_autoptr(GBytes) data = vsh_read_small_file(xml_arg, error);

        if (!data)
            return FALSE;
        xml = vsh_bytes_to_string(data);
    }

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "command");
    json_builder_add_string_value(b, command);
    json_builder_set_member_name(b, "section");
    json_builder_add_string_value(b, section);
    json_builder_set_member_name(b, "xml");
    json_builder_add_string_value(b, xml);
    json_builder_set_member_name(b, "parent_index");
    json_builder_add_int_value(b, parent);
    json_builder_set_member_name(b, "live");
    json_builder_add_boolean_value(b, live);
    json_builder_set_member_name(b, "config");
    json_builder_add_boolean_value(b, config);
    json_builder_end_object(b);
    body = json_builder_get_root(b);
    if (!(answer = vsh_network_call(ctl, "POST", net, "/update", body, error)))
        return FALSE;

    /* virsh's words, without a newline: the runner's blank line ends it. */
    const char *name = vsh_network_name(answer, net);
    if (config && live)
        vsh_print_extra(ctl, "Updated network %s persistent config and live state", name);
    else if (config)
        vsh_print_extra(ctl, "Updated network %s persistent config", name);
    else if (live || vsh_json_bool(vsh_json_member(answer, "network"), "active", FALSE))
        vsh_print_extra(ctl, "Updated network %s live state", name);
    else
        vsh_print_extra(ctl, "Updated network %s persistent config", name);
    return TRUE;
}

static int
compare_by_mac(gconstpointer a, gconstpointer b)
{
    JsonObject *la = *(JsonObject *const *)a;
    JsonObject *lb = *(JsonObject *const *)b;

    return g_ascii_strcasecmp(vsh_json_string(la, "mac", ""), vsh_json_string(lb, "mac", ""));
}

char *
vsh_render_net_leases(JsonNode *answer, gboolean header)
{
    JsonArray *leases = vsh_json_array(vsh_json_root(answer), "leases");
    g_autoptr(GPtrArray) sorted = g_ptr_array_new();
    g_autoptr(VshTable) table = vsh_table_new("Expiry Time", "MAC address", "Protocol",
                                              "IP address", "Hostname", "Client ID or DUID", NULL);

    for (guint i = 0; leases && i < json_array_get_length(leases); i++) {
        JsonObject *l = vsh_json_array_object(leases, i);

        if (l)
            g_ptr_array_add(sorted, l);
    }
    g_ptr_array_sort(sorted, compare_by_mac);
    for (guint i = 0; i < sorted->len; i++) {
        JsonObject *l = g_ptr_array_index(sorted, i);
        g_autoptr(GDateTime) then =
            g_date_time_new_from_unix_local(vsh_json_int(l, "expiry_time", 0));
        g_autofree char *expiry = then ? g_date_time_format(then, "%Y-%m-%d %H:%M:%S") : NULL;
        const char *ip = vsh_json_string(l, "ip", NULL);
        g_autofree char *cidr =
            ip ? g_strdup_printf("%s/%" G_GINT64_FORMAT, ip, vsh_json_int(l, "prefix", 0)) : NULL;
        const char *cells[] = {
            expiry ? expiry : "-",
            vsh_json_string(l, "mac", "-"),
            vsh_json_string(l, "type", "-"),
            cidr ? cidr : "-",
            vsh_json_string(l, "hostname", "-"),
            vsh_json_string(l, "client_id", "-"),
        };
        vsh_table_add_row(table, cells);
    }
    return vsh_table_render(table, header);
}

static gboolean
cmd_net_dhcp_leases(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *mac = vsh_cmd_get_string(cmd, "mac");
    g_autofree char *escaped = mac ? g_uri_escape_string(mac, NULL, FALSE) : NULL;
    g_autofree char *suffix = g_strconcat("/leases", mac ? "?mac=" : "", escaped, NULL);
    g_autoptr(JsonNode) answer =
        vsh_network_call(ctl, "GET", vsh_cmd_get_string(cmd, "network"), suffix, NULL, error);
    g_autofree char *text = NULL;

    if (!answer)
        return FALSE;
    text = vsh_render_net_leases(answer, !ctl->quiet);
    vsh_print(ctl, "%s", text);
    return TRUE;
}

#define OPT_NETWORK                                                                                \
    {                                                                                              \
        "network", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NETWORK,     \
            "network name or uuid"                                                                 \
    }

static const VshOptDef opts_net_update[] = {
    OPT_NETWORK,
    {"command", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "type of update (add-first, add-last (add), delete, or modify)"},
    {"section", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "which section of network configuration to update (virtd: ip-dhcp-host, dns-host)"},
    {"xml", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_FILE,
     "name of file containing xml (or, if it starts with '<', the complete xml element itself) "
     "to add/modify, or to be matched for search"},
    {"parent-index", VSH_OT_INT, 0, VSH_COMPLETE_NONE, "which parent object to search through"},
    {"config", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "affect next network startup"},
    {"live", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "affect running network"},
    {"current", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "affect current state of network"},
    {NULL},
};

static const VshOptDef opts_net_dhcp_leases[] = {
    OPT_NETWORK,
    {"mac", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "MAC address"},
    {NULL},
};

const VshCmdDef vsh_network_host_commands[] = {
    {"net-dhcp-leases", "network", opts_net_dhcp_leases, cmd_net_dhcp_leases,
     "print lease info for a given network", "Print lease info for a given network."},
    {"net-update", "network", opts_net_update, cmd_net_update,
     "update parts of an existing network's configuration",
     "Add, delete or modify an ip-dhcp-host or dns-host entry, live and/or in the persistent "
     "configuration (--live, --config; neither: the network's current state)."},
    {NULL},
};
