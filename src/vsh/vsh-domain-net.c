/* A domain's network interfaces: domifaddr, domif-getlink, domif-setlink,
 * domifstat, attach-interface, detach-interface (attach-device and
 * friends are in vsh-device.c).
 *
 * Output as virsh prints it (tools/virsh-domain-monitor.c and
 * virsh-domain.c): domifaddr's fixed-width columns, "vnet0 up",
 * "vnet0 rx_bytes N" lines, "Interface attached successfully".
 * attach-interface writes the <interface> element here, as virsh does,
 * so --print-xml shows exactly what is sent.
 *
 * --live/--config/--current/--persistent follow virsh, except that no flag
 * at all means --current (the daemon's default): virsh's "legacy" call
 * is live-only, which fails on a shut-off domain for no good reason.
 */
#include <string.h>

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh-device.h"
#include "vsh-network.h"
#include "vsh-object.h"
#include "vsh-storage.h"

char *
vsh_build_interface_xml(const VshIfaceSpec *spec, GError **error)
{
    static const char *const types[] = {"network", "bridge", "direct", "user", NULL};
    GString *s;

    if (!spec->type || !g_strv_contains(types, spec->type)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "No support for %s in command 'attach-interface'",
                    spec->type ? spec->type : "(null)");
        return NULL;
    }
    if (!g_str_equal(spec->type, "user") && (!spec->source || !*spec->source)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "attach-interface: a %s interface needs a source (%s)", spec->type,
                    g_str_equal(spec->type, "network")  ? "the name of a virtual network"
                    : g_str_equal(spec->type, "bridge") ? "the name of a host bridge"
                                                        : "the name of a host interface");
        return NULL;
    }
    s = g_string_new(NULL);
    g_autofree char *head = g_markup_printf_escaped("<interface type='%s'>\n", spec->type);
    g_string_append(s, head);
    if (!g_str_equal(spec->type, "user")) {
        /* <source network=> and <source bridge=>, <source dev=> for direct. */
        const char *attr = g_str_equal(spec->type, "direct") ? "dev" : spec->type;
        g_autofree char *e = g_markup_printf_escaped("  <source %s='%s'/>\n", attr, spec->source);
        g_string_append(s, e);
    }
    if (spec->target) {
        g_autofree char *e = g_markup_printf_escaped("  <target dev='%s'/>\n", spec->target);
        g_string_append(s, e);
    }
    if (spec->mac) {
        g_autofree char *e = g_markup_printf_escaped("  <mac address='%s'/>\n", spec->mac);
        g_string_append(s, e);
    }
    if (spec->model) {
        g_autofree char *e = g_markup_printf_escaped("  <model type='%s'/>\n", spec->model);
        g_string_append(s, e);
    }
    g_string_append(s, "</interface>\n");
    return g_string_free(s, FALSE);
}

static gboolean
cmd_attach_interface(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    VshIfaceSpec spec = {
        .type = vsh_cmd_get_string(cmd, "type"),
        .source = vsh_cmd_get_string(cmd, "source"),
        .target = vsh_cmd_get_string(cmd, "target"),
        .mac = vsh_cmd_get_string(cmd, "mac"),
        .model = vsh_cmd_get_string(cmd, "model"),
    };
    VshAffect affect;
    g_autofree char *xml = NULL;

    /* Option clashes first, as virsh checks them before anything else. */
    if (!vsh_affect_from_cmd(cmd, TRUE, &affect, error) ||
        !(xml = vsh_build_interface_xml(&spec, error)))
        return FALSE;
    if (vsh_cmd_has(cmd, "print-xml")) {
        vsh_print(ctl, "%s", xml);
        return TRUE;
    }
    return vsh_post_device(ctl, cmd, xml, VSH_DEVICE_ATTACH, "Interface attached successfully\n", error);
}

static gboolean
cmd_detach_interface(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *type = vsh_cmd_get_string(cmd, "type");
    const char *mac = vsh_cmd_get_string(cmd, "mac");
    g_autofree char *head = g_markup_printf_escaped("<interface type='%s'>\n", type);
    g_autofree char *mac_line =
        mac ? g_markup_printf_escaped("  <mac address='%s'/>\n", mac) : g_strdup("");
    g_autofree char *xml = g_strconcat(head, mac_line, "</interface>\n", NULL);

    /* The daemon matches by type, then MAC, and names the candidates
     * when several match. */
    return vsh_post_device(ctl, cmd, xml, VSH_DEVICE_DETACH, "Interface detached successfully\n", error);
}

/* "/interfaces/IFACE" + @rest, @iface percent-encoded. */
static char *
iface_suffix(const VshCmd *cmd, const char *rest)
{
    g_autofree char *escaped =
        g_uri_escape_string(vsh_cmd_get_string(cmd, "interface"), NULL, FALSE);

    return g_strconcat("/interfaces/", escaped, rest, NULL);
}

static gboolean
cmd_domif_getlink(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *iface = vsh_cmd_get_string(cmd, "interface");
    g_autofree char *suffix =
        iface_suffix(cmd, vsh_cmd_has(cmd, "config") ? "/link?inactive=1" : "/link");
    g_autoptr(JsonNode) answer =
        vsh_domain_call(ctl, "GET", vsh_cmd_get_string(cmd, "domain"), suffix, NULL, error);
    JsonObject *root;

    if (!answer)
        return FALSE;
    root = vsh_json_root(answer);
    /* virsh prints no newline: the runner's blank line ends the line
     * (and -q, which drops that line, still gets one here). */
    vsh_print(ctl, "%s %s%s", iface, vsh_json_string(root, "state", "up"), ctl->quiet ? "\n" : "");
    return TRUE;
}

static gboolean
cmd_domif_setlink(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    const char *state = vsh_cmd_get_string(cmd, "state");
    gboolean config = vsh_cmd_has(cmd, "config");
    g_autofree char *suffix = iface_suffix(cmd, "/link");
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) body = NULL;
    g_autoptr(JsonNode) answer = NULL;

    if (!g_str_equal(state, "up") && !g_str_equal(state, "down")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "invalid link state '%s'", state);
        return FALSE;
    }
    /* virsh: the running guest, or the definition with --config or when
     * the domain is not running. */
    if (!config) {
        g_autoptr(JsonNode) summary = vsh_domain_call(ctl, "GET", dom, NULL, NULL, error);

        if (!summary)
            return FALSE;
        config = vsh_json_int(vsh_json_domain(summary), "id", -1) < 0;
    }
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "state");
    json_builder_add_string_value(b, state);
    json_builder_set_member_name(b, "live");
    json_builder_add_boolean_value(b, !config);
    json_builder_set_member_name(b, "config");
    json_builder_add_boolean_value(b, config);
    json_builder_end_object(b);
    body = json_builder_get_root(b);
    if (!(answer = vsh_domain_call(ctl, "PUT", dom, suffix, body, error)))
        return FALSE;
    vsh_print_extra(ctl, "Device updated successfully\n");
    return TRUE;
}

static gboolean
cmd_domifstat(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    static const char *const fields[] = {"rx_bytes", "rx_packets", "rx_errs", "rx_drop",
                                         "tx_bytes", "tx_packets", "tx_errs", "tx_drop"};
    const char *iface = vsh_cmd_get_string(cmd, "interface");
    g_autofree char *suffix = iface_suffix(cmd, "/stats");
    g_autoptr(JsonNode) answer =
        vsh_domain_call(ctl, "GET", vsh_cmd_get_string(cmd, "domain"), suffix, NULL, error);
    JsonObject *root;

    if (!answer)
        return FALSE;
    root = vsh_json_root(answer);
    for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
        gint64 v = vsh_json_int(root, fields[i], -1);

        /* virsh leaves out what the hypervisor does not count (-1). */
        if (v >= 0)
            vsh_print(ctl, "%s %s %" G_GINT64_FORMAT "\n", iface, fields[i], v);
    }
    return TRUE;
}

char *
vsh_render_domifaddr(JsonNode *answer, const char *iface, gboolean full, gboolean header)
{
    JsonArray *ifaces = vsh_json_array(vsh_json_root(answer), "interfaces");
    GString *out = g_string_new(NULL);

    /* Not a vshTable in virsh: fixed widths, 79 dashes. */
    if (header)
        g_string_append_printf(
            out, " %-10s %-20s %-8s     %s\n%s%s\n", "Name", "MAC address", "Protocol", "Address",
            "-------------------------------------------------", "------------------------------");
    for (guint i = 0; ifaces && i < json_array_get_length(ifaces); i++) {
        JsonObject *it = vsh_json_array_object(ifaces, i);
        const char *name = vsh_json_string(it, "name", "");
        const char *mac = vsh_json_string(it, "mac", NULL);
        JsonArray *addrs = vsh_json_array(it, "addrs");
        guint naddrs = addrs ? json_array_get_length(addrs) : 0;

        if (!it || (iface && !g_str_equal(iface, name)))
            continue;
        if (naddrs == 0) {
            g_string_append_printf(out, " %-10s %-17s    %-12s %s\n", name, mac ? mac : "N/A",
                                   "N/A", "N/A");
            continue;
        }
        for (guint j = 0; j < naddrs; j++) {
            JsonObject *addr = vsh_json_array_object(addrs, j);
            g_autofree char *text =
                g_strdup_printf("%-12s %s/%" G_GINT64_FORMAT, vsh_json_string(addr, "type", ""),
                                vsh_json_string(addr, "addr", ""), vsh_json_int(addr, "prefix", 0));

            /* Name and MAC once per interface, unless --full. */
            if (full || j == 0)
                g_string_append_printf(out, " %-10s %-17s    %s\n", name, mac ? mac : "", text);
            else
                g_string_append_printf(out, " %-10s %-17s    %s\n", "-", "-", text);
        }
    }
    return g_string_free(out, FALSE);
}

static gboolean
cmd_domifaddr(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    static const char *const sources[] = {"lease", "agent", "arp", NULL};
    const char *source = vsh_cmd_get_string(cmd, "source");
    g_autofree char *suffix = NULL;
    g_autoptr(JsonNode) answer = NULL;
    g_autofree char *text = NULL;

    if (source && !g_strv_contains(sources, source)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "Unknown data source '%s'", source);
        return FALSE;
    }
    suffix = g_strconcat("/interfaces/addresses", source ? "?source=" : "", source, NULL);
    answer = vsh_domain_call(ctl, "GET", vsh_cmd_get_string(cmd, "domain"), suffix, NULL, error);
    if (!answer)
        return FALSE;
    text = vsh_render_domifaddr(answer, vsh_cmd_get_string(cmd, "interface"),
                                vsh_cmd_has(cmd, "full"), !ctl->quiet);
    vsh_print(ctl, "%s", text);
    return TRUE;
}

#define OPT_IFACE                                                                                  \
    {                                                                                              \
        "interface", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,      \
            "interface device (vnet0) or MAC address"                                              \
    }

static const VshOptDef opts_domifaddr[] = {
    VSH_OPT_DOMAIN,
    {"interface", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "network interface name"},
    {"full", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "always display names and MACs of interfaces"},
    {"source", VSH_OT_STRING, 0, VSH_COMPLETE_NONE,
     "address source: 'lease' (default), 'agent' or 'arp'"},
    {NULL},
};

static const VshOptDef opts_domif_getlink[] = {
    VSH_OPT_DOMAIN,
    OPT_IFACE,
    {"config", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "Get persistent interface state"},
    {NULL},
};

static const VshOptDef opts_domif_setlink[] = {
    VSH_OPT_DOMAIN,
    OPT_IFACE,
    {"state", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "new state of the device (up or down)"},
    {"config", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "affect next boot"},
    {NULL},
};

static const VshOptDef opts_domifstat[] = {
    VSH_OPT_DOMAIN,
    OPT_IFACE,
    {NULL},
};

static const VshOptDef opts_attach_interface[] = {
    VSH_OPT_DOMAIN,
    {"type", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "network interface type: network, bridge, direct or user"},
    {"source", VSH_OT_STRING, VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "source of network interface: a network, a host bridge or a host NIC (direct)"},
    {"target", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "target network name (host tap device)"},
    {"mac", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "MAC address (default: generated)"},
    {"model", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "model type: virtio, e1000, e1000e, rtl8139"},
    VSH_OPTS_AFFECT,
    {"print-xml", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "print XML document rather than attach the interface"},
    {NULL},
};

static const VshOptDef opts_detach_interface[] = {
    VSH_OPT_DOMAIN,
    {"type", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "network interface type"},
    {"mac", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "MAC address"},
    VSH_OPTS_AFFECT,
    {NULL},
};

const VshCmdDef vsh_domain_net_commands[] = {
    {"attach-interface", "domain", opts_attach_interface, cmd_attach_interface,
     "attach network interface", "Attach a new network interface to the domain."},
    {"detach-interface", "domain", opts_detach_interface, cmd_detach_interface,
     "detach network interface",
     "Detach a network interface from the domain; give --mac when it has several of the type."},
    {"domif-getlink", "monitor", opts_domif_getlink, cmd_domif_getlink,
     "get link state of a virtual interface", "Get link state of a domain's virtual interface."},
    {"domif-setlink", "domain", opts_domif_setlink, cmd_domif_setlink,
     "set link state of a virtual interface",
     "Set link state of a domain's virtual interface (the guest sees its cable unplugged)."},
    {"domifaddr", "monitor", opts_domifaddr, cmd_domifaddr,
     "Get network interfaces' addresses for a running domain",
     "Get network interfaces' addresses for a running domain: DHCP leases of virtd's networks "
     "(default), the guest agent's view, or the host's ARP table."},
    {"domifstat", "monitor", opts_domifstat, cmd_domifstat,
     "get network interface stats for a domain",
     "Get network interface stats for a running domain."},
    {NULL},
};
