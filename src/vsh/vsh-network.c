/* Virtual network commands: net-define, net-create, net-start,
 * net-destroy, net-undefine, net-autostart, net-list, net-info,
 * net-dumpxml, net-edit, net-uuid, net-name (net-update and
 * net-dhcp-leases are in vsh-network-hosts.c).
 *
 * Output as virsh prints it (libvirt tools/virsh-network.c): messages name
 * the network without quotes ("Network default started"), net-list and
 * net-dhcp-leases are vshTables, net-info is "%-15s %s" lines. The
 * network's notes (what its last start decided: a moved subnet, a host
 * firewall chain) are ours, printed by net-info, and by net-start and
 * net-create as warnings.
 */
#include "vsh-network.h"

#include <string.h>

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh-edit.h"
#include "vsh-format.h"
#include "vsh-object.h"
#include "vsh-storage.h"

/* The "notes" of the network in @answer as warnings: a start that moved
 * the subnet or found a firewall dropping forwarded traffic says so. */
static void
warn_notes(JsonNode *answer)
{
    JsonArray *notes = vsh_json_array(vsh_json_member(answer, "network"), "notes");

    for (guint i = 0; notes && i < json_array_get_length(notes); i++) {
        const char *note = json_array_get_string_element(notes, i);

        if (note)
            vsh_warn("%s", note);
    }
}

static void
after_action(JsonNode *answer, const char *action)
{
    if (g_str_equal(action, "start"))
        warn_notes(answer);
}

static const VshObjectKind network_kind = {
    .collection = "networks",
    .member = "network",
    .noun = "Network",
    .option = "network",
    .after_action = after_action,
};

char *
vsh_network_path(const char *net, const char *suffix)
{
    return vsh_object_path(network_kind.collection, net, suffix);
}

JsonNode *
vsh_network_call(VshCtl *ctl, const char *method, const char *net, const char *suffix,
                 JsonNode *body, GError **error)
{
    return vsh_object_call(ctl, method, network_kind.collection, net, suffix, body, error);
}

const char *
vsh_network_name(JsonNode *answer, const char *fallback)
{
    return vsh_object_name(&network_kind, answer, fallback);
}

static gboolean
cmd_net_define(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *file = vsh_cmd_get_string(cmd, "file");
    g_autoptr(JsonNode) answer = vsh_post_xml_file(ctl, "/v1/networks", file, error);

    if (!answer)
        return FALSE;
    vsh_print_warnings(answer);
    vsh_print_extra(ctl, "Network %s defined from %s\n", vsh_network_name(answer, "?"), file);
    return TRUE;
}

static gboolean
cmd_net_create(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *file = vsh_cmd_get_string(cmd, "file");
    g_autoptr(JsonNode) answer = vsh_post_xml_file(ctl, "/v1/networks?start=1", file, error);

    if (!answer)
        return FALSE;
    vsh_print_warnings(answer);
    warn_notes(answer);
    vsh_print_extra(ctl, "Network %s created from %s\n", vsh_network_name(answer, "?"), file);
    return TRUE;
}

static gboolean
cmd_net_start(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    return vsh_object_action(ctl, cmd, &network_kind, "start", "started", error);
}

static gboolean
cmd_net_destroy(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    return vsh_object_action(ctl, cmd, &network_kind, "destroy", "destroyed", error);
}

static gboolean
cmd_net_undefine(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    return vsh_object_undefine(ctl, cmd, &network_kind, error);
}

static gboolean
cmd_net_autostart(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    return vsh_object_autostart(ctl, cmd, &network_kind, error);
}

static int
compare_by_name(gconstpointer a, gconstpointer b)
{
    JsonObject *na = *(JsonObject *const *)a;
    JsonObject *nb = *(JsonObject *const *)b;

    return g_ascii_strcasecmp(vsh_json_string(na, "name", ""), vsh_json_string(nb, "name", ""));
}

static gboolean
list_keeps(const VshNetListFormat *f, JsonObject *n)
{
    gboolean persistent = vsh_json_bool(n, "persistent", TRUE);
    gboolean autostart = vsh_json_bool(n, "autostart", FALSE);

    /* Flags of one kind widen, kinds narrow (libvirt's list filters). */
    if ((f->persistent || f->transient) &&
        !((f->persistent && persistent) || (f->transient && !persistent)))
        return FALSE;
    if ((f->autostart || f->no_autostart) &&
        !((f->autostart && autostart) || (f->no_autostart && !autostart)))
        return FALSE;
    return TRUE;
}

char *
vsh_render_net_list(JsonNode *answer, const VshNetListFormat *format, gboolean header)
{
    JsonArray *nets = vsh_json_array(vsh_json_root(answer), "networks");
    g_autoptr(GPtrArray) kept = g_ptr_array_new();
    g_autoptr(VshTable) table = NULL;
    GString *plain = NULL;

    for (guint i = 0; nets && i < json_array_get_length(nets); i++) {
        JsonObject *n = vsh_json_array_object(nets, i);

        if (n && list_keeps(format, n))
            g_ptr_array_add(kept, n);
    }
    g_ptr_array_sort(kept, compare_by_name);

    if (format->name || format->uuid) {
        plain = g_string_new(NULL);
        for (guint i = 0; i < kept->len; i++)
            g_string_append_printf(
                plain, "%s\n",
                vsh_json_string(g_ptr_array_index(kept, i), format->uuid ? "uuid" : "name", ""));
        return g_string_free(plain, FALSE);
    }
    table = vsh_table_new("Name", "State", "Autostart", "Persistent", NULL);
    for (guint i = 0; i < kept->len; i++) {
        JsonObject *n = g_ptr_array_index(kept, i);
        const char *cells[] = {
            vsh_json_string(n, "name", ""),
            vsh_json_bool(n, "active", FALSE) ? "active" : "inactive",
            vsh_json_bool(n, "autostart", FALSE) ? "yes" : "no",
            vsh_json_bool(n, "persistent", TRUE) ? "yes" : "no",
        };
        vsh_table_add_row(table, cells);
    }
    return vsh_table_render(table, header);
}

static gboolean
cmd_net_list(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    VshNetListFormat format = {
        .name = vsh_cmd_has(cmd, "name"),
        .uuid = vsh_cmd_has(cmd, "uuid"),
        .persistent = vsh_cmd_has(cmd, "persistent"),
        .transient = vsh_cmd_has(cmd, "transient"),
        .autostart = vsh_cmd_has(cmd, "autostart"),
        .no_autostart = vsh_cmd_has(cmd, "no-autostart"),
    };
    const char *query = vsh_cmd_has(cmd, "all")        ? "?all=1"
                        : vsh_cmd_has(cmd, "inactive") ? "?inactive=1"
                                                       : "";
    g_autofree char *path = g_strconcat("/v1/networks", query, NULL);
    g_autoptr(JsonNode) answer = NULL;
    g_autofree char *text = NULL;
    VshClient *client;

    if (vsh_cmd_has(cmd, "table") + format.name + format.uuid > 1) {
        g_set_error_literal(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "Only one argument from --table, --name and --uuid may be specified.");
        return FALSE;
    }
    if (!(client = vsh_ctl_client(ctl, error)) ||
        !(answer = vsh_client_call(client, "GET", path, NULL, error)))
        return FALSE;
    text = vsh_render_net_list(answer, &format, !ctl->quiet);
    vsh_print(ctl, "%s", text);
    return TRUE;
}

char *
vsh_render_net_info(JsonObject *n)
{
    GString *out = g_string_new(NULL);
    const char *bridge = vsh_json_string(n, "bridge", NULL);
    JsonArray *notes = vsh_json_array(n, "notes");

    vsh_format_field(out, "Name:", vsh_json_string(n, "name", ""));
    vsh_format_field(out, "UUID:", vsh_json_string(n, "uuid", ""));
    vsh_format_field(out, "Active:", vsh_json_bool(n, "active", FALSE) ? "yes" : "no");
    vsh_format_field(out, "Persistent:", vsh_json_bool(n, "persistent", TRUE) ? "yes" : "no");
    vsh_format_field(out, "Autostart:", vsh_json_bool(n, "autostart", FALSE) ? "yes" : "no");
    if (bridge && *bridge)
        vsh_format_field(out, "Bridge:", bridge);
    for (guint i = 0; notes && i < json_array_get_length(notes); i++) {
        const char *note = json_array_get_string_element(notes, i);

        if (note)
            vsh_format_field(out, i == 0 ? "Notes:" : "", note);
    }
    return g_string_free(out, FALSE);
}

/* GET /v1/networks/{net}: the answer, and its summary in @summary. */
static JsonNode *
get_network(VshCtl *ctl, const char *net, JsonObject **summary, GError **error)
{
    JsonNode *answer = vsh_network_call(ctl, "GET", net, NULL, NULL, error);

    if (!answer)
        return NULL;
    if (!(*summary = vsh_json_member(answer, "network"))) {
        json_node_unref(answer);
        g_set_error_literal(error, VD_ERROR, VD_ERROR_INTERNAL,
                            "unexpected answer from virtd: no network summary");
        return NULL;
    }
    return answer;
}

static gboolean
cmd_net_info(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    JsonObject *n;
    g_autoptr(JsonNode) answer = get_network(ctl, vsh_cmd_get_string(cmd, "network"), &n, error);
    g_autofree char *text = NULL;

    if (!answer)
        return FALSE;
    text = vsh_render_net_info(n);
    vsh_print(ctl, "%s", text);
    return TRUE;
}

/* net-uuid and net-name: one member of the summary. */
static gboolean
cmd_net_member(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *member = g_str_equal(cmd->def->name, "net-uuid") ? "uuid" : "name";
    JsonObject *n;
    g_autoptr(JsonNode) answer = get_network(ctl, vsh_cmd_get_string(cmd, "network"), &n, error);

    if (!answer)
        return FALSE;
    vsh_print(ctl, "%s\n", vsh_json_string(n, member, ""));
    return TRUE;
}

static char *
get_xml(VshCtl *ctl, const char *net, gboolean inactive, GError **error)
{
    g_autofree char *path = vsh_network_path(net, inactive ? "/xml?inactive=1" : "/xml");

    return vsh_get_text(ctl, path, error);
}

static gboolean
cmd_net_dumpxml(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    g_autofree char *xml =
        get_xml(ctl, vsh_cmd_get_string(cmd, "network"), vsh_cmd_has(cmd, "inactive"), error);

    if (!xml)
        return FALSE;
    vsh_print(ctl, "%s", xml);
    if (*xml && xml[strlen(xml) - 1] != '\n')
        vsh_print(ctl, "\n");
    return TRUE;
}

static char *
edit_get(VshCtl *ctl, const char *net, GError **error)
{
    return get_xml(ctl, net, TRUE, error);
}

static gboolean
edit_put(VshCtl *ctl, const char *net, const char *xml, char **name, GError **error)
{
    g_autofree char *path = vsh_network_path(net, "/xml");
    g_autoptr(GBytes) body = g_bytes_new(xml, strlen(xml));
    VshClient *client = vsh_ctl_client(ctl, error);
    g_autoptr(JsonNode) answer =
        client ? vsh_client_send_for_json(client, "PUT", path, "application/xml", body, error)
               : NULL;

    if (!answer)
        return FALSE;
    vsh_print_warnings(answer);
    *name = g_strdup(vsh_network_name(answer, NULL));
    return TRUE;
}

static const VshEditOps net_edit_ops = {
    .get_xml = edit_get,
    .put_xml = edit_put,
    .noun = "Network",
};

static gboolean
cmd_net_edit(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *net = vsh_cmd_get_string(cmd, "network");
    JsonObject *n;
    g_autoptr(JsonNode) answer = get_network(ctl, net, &n, error);

    if (!answer)
        return FALSE;
    /* By UUID from here on: the name is what the edit may not change,
     * and a UUID cannot be taken for another network's name. */
    return vsh_edit_xml(ctl, &net_edit_ops, vsh_json_string(n, "uuid", net),
                        vsh_json_string(n, "name", net), error);
}

#define OPT_NETWORK                                                                                \
    {                                                                                              \
        "network", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NETWORK,     \
            "network name or uuid"                                                                 \
    }

static const VshOptDef opts_network[] = {
    OPT_NETWORK,
    {NULL},
};

static const VshOptDef opts_net_file[] = {
    {"file", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_FILE,
     "file containing an XML network description"},
    {NULL},
};

static const VshOptDef opts_net_autostart[] = {
    OPT_NETWORK,
    {"disable", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "disable autostarting"},
    {NULL},
};

static const VshOptDef opts_net_dumpxml[] = {
    OPT_NETWORK,
    {"inactive", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "show inactive defined XML"},
    {NULL},
};

static const VshOptDef opts_net_list[] = {
    {"inactive", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list inactive networks"},
    {"all", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list inactive & active networks"},
    {"persistent", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list persistent networks"},
    {"transient", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list transient networks"},
    {"autostart", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list networks with autostart enabled"},
    {"no-autostart", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list networks with autostart disabled"},
    {"uuid", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list uuid's only"},
    {"name", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list network names only"},
    {"table", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list table (default)"},
    {NULL},
};

static const VshOptDef opts_net_name[] = {
    {"network", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "network uuid"},
    {NULL},
};

const VshCmdDef vsh_network_commands[] = {
    {"net-autostart", "network", opts_net_autostart, cmd_net_autostart, "autostart a network",
     "Configure a network to be automatically started when virtd starts."},
    {"net-create", "network", opts_net_file, cmd_net_create, "create a network from an XML file",
     "Create and start a transient network."},
    {"net-define", "network", opts_net_file, cmd_net_define,
     "define an inactive persistent virtual network or modify an existing persistent one from "
     "an XML file",
     "Define or modify a persistent virtual network."},
    {"net-destroy", "network", opts_network, cmd_net_destroy, "destroy (stop) a network",
     "Forcefully stop a given network: its bridge, dnsmasq and firewall rules go away."},
    {"net-dumpxml", "network", opts_net_dumpxml, cmd_net_dumpxml, "network information in XML",
     "Output the network information as an XML dump to stdout."},
    {"net-edit", "network", opts_network, cmd_net_edit, "edit XML configuration for a network",
     "Edit the XML configuration for a network; an active network uses it from its next start."},
    {"net-info", "network", opts_network, cmd_net_info, "network information",
     "Returns basic information about the network, and what its last start found."},
    {"net-list", "network", opts_net_list, cmd_net_list, "list networks",
     "Returns list of networks."},
    {"net-name", "network", opts_net_name, cmd_net_member, "convert a network UUID to network name",
     NULL},
    {"net-start", "network", opts_network, cmd_net_start,
     "start a (previously defined) inactive network", "Start a network."},
    {"net-undefine", "network", opts_network, cmd_net_undefine, "undefine a persistent network",
     "Undefine the configuration for a persistent network."},
    {"net-uuid", "network", opts_network, cmd_net_member, "convert a network name to network UUID",
     NULL},
    {NULL},
};
