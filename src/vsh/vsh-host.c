/* Host and hypervisor commands: version, uri, hostname, capabilities.
 *
 * "capabilities" is not virsh's capabilities XML: virtd's host facts are
 * few and the one that matters (whether KVM really runs guest kernels at
 * speed, see docs/api.md GET /v1/host) reads better as text.
 */
#include <string.h>

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh-format.h"
#include "vsh.h"

/* Width the machine type list is wrapped to. */
#define MACHINES_WIDTH 80

static JsonObject *
member_object(JsonObject *obj, const char *member)
{
    JsonNode *node = obj ? json_object_get_member(obj, member) : NULL;

    return node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

static JsonNode *
get_host_path(VshCtl *ctl, const char *path, GError **error)
{
    VshClient *client = vsh_ctl_client(ctl, error);

    return client ? vsh_client_call(client, "GET", path, NULL, error) : NULL;
}

static gboolean
cmd_version(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    /* ?wait=1: QEMU's version even in the daemon's first second */
    g_autoptr(JsonNode) answer = get_host_path(ctl, "/v1/version?wait=1", error);
    JsonObject *v;
    const char *daemon;
    const char *qemu;

    if (!answer)
        return FALSE;
    v = json_node_get_object(answer);
    daemon = vsh_json_string(v, "daemon", "unknown");
    qemu = vsh_json_string(v, "qemu", NULL);

    vsh_print(ctl, "Compiled against library: virtd %s\n", VD_VERSION);
    vsh_print(ctl, "Using library: virtd %s\n", VD_VERSION);
    vsh_print(ctl, "Using API: QEMU %s\n", daemon);
    if (qemu)
        vsh_print(ctl, "Running hypervisor: QEMU %s\n", qemu);
    if (vsh_cmd_has(cmd, "daemon"))
        vsh_print(ctl, "Running against daemon: %s\n", daemon);
    return TRUE;
}

static gboolean
cmd_uri(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    /* As virsh: the URI of the connection, after alias expansion. */
    VshClient *client = vsh_ctl_client(ctl, error);

    if (!client)
        return FALSE;
    vsh_print(ctl, "%s\n", vsh_client_uri(client));
    return TRUE;
}

static gboolean
cmd_hostname(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    g_autoptr(JsonNode) answer = get_host_path(ctl, "/v1/host", error);

    if (!answer)
        return FALSE;
    vsh_print(ctl, "%s\n", vsh_json_string(json_node_get_object(answer), "hostname", ""));
    return TRUE;
}

/* A machine type as the daemon lists it: a string, or an object with a
 * "name" (and maybe an "alias"). */
static char *
machine_text(JsonNode *node)
{
    JsonObject *m;
    const char *alias;

    if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING)
        return g_strdup(json_node_get_string(node));
    if (!JSON_NODE_HOLDS_OBJECT(node))
        return NULL;
    m = json_node_get_object(node);
    alias = vsh_json_string(m, "alias", NULL);
    if (alias)
        return g_strdup_printf("%s (alias %s)", vsh_json_string(m, "name", "?"), alias);
    return g_strdup(vsh_json_string(m, "name", NULL));
}

static gboolean
cmd_capabilities(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    g_autoptr(JsonNode) answer = get_host_path(ctl, "/v1/host", error);
    g_autoptr(GString) out = g_string_new(NULL);
    JsonObject *host;
    JsonObject *kvm;
    JsonObject *qemu;
    JsonNode *machines;

    if (!answer)
        return FALSE;
    host = json_node_get_object(answer);
    kvm = member_object(host, "kvm");
    qemu = member_object(host, "qemu");

    vsh_format_field(out, "Hostname:", vsh_json_string(host, "hostname", "unknown"));
    vsh_format_field(out, "KVM:", vsh_json_string(kvm, "status", "unknown"));
    if (kvm && json_object_has_member(kvm, "iterations_per_sec")) {
        JsonNode *ips = json_object_get_member(kvm, "iterations_per_sec");

        if (JSON_NODE_HOLDS_VALUE(ips) && (json_node_get_value_type(ips) == G_TYPE_DOUBLE ||
                                           json_node_get_value_type(ips) == G_TYPE_INT64)) {
            g_autofree char *speed =
                g_strdup_printf("%.0f ring-0 iterations/s", json_node_get_double(ips));

            vsh_format_field(out, "KVM speed:", speed);
        }
    }
    if (vsh_json_string(kvm, "detail", NULL))
        vsh_format_field(out, "KVM detail:", vsh_json_string(kvm, "detail", NULL));
    vsh_format_field(out, "QEMU version:", vsh_json_string(qemu, "version", "unknown"));

    if (vsh_json_string(qemu, "binary", NULL))
        vsh_format_field(out, "QEMU binary:", vsh_json_string(qemu, "binary", NULL));

    machines = qemu ? json_object_get_member(qemu, "machines") : NULL;
    if (machines && JSON_NODE_HOLDS_ARRAY(machines)) {
        JsonArray *list = json_node_get_array(machines);
        g_autoptr(GString) line = g_string_new(NULL);
        const char *key = "Machine types:";

        /* Comma-separated, wrapped to 80 columns under the value column. */
        for (guint i = 0; i < json_array_get_length(list); i++) {
            g_autofree char *text = machine_text(json_array_get_element(list, i));

            if (!text)
                continue;
            if (line->len > 0 && 16 + line->len + 2 + strlen(text) > MACHINES_WIDTH) {
                g_string_append_c(line, ',');
                vsh_format_field(out, key, line->str);
                key = "";
                g_string_truncate(line, 0);
            }
            if (line->len > 0)
                g_string_append(line, ", ");
            g_string_append(line, text);
        }
        if (line->len > 0)
            vsh_format_field(out, key, line->str);
    }
    vsh_print(ctl, "%s", out->str);
    return TRUE;
}

static const VshOptDef opts_version[] = {
    {"daemon", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "report daemon version too"},
    {NULL},
};

const VshCmdDef vsh_host_commands[] = {
    {"capabilities", "host", NULL, cmd_capabilities, "capabilities",
     "Host facts: hostname, whether KVM is usable at speed, QEMU version and machine types."},
    {"hostname", "host", NULL, cmd_hostname, "print the hypervisor hostname", NULL},
    {"uri", "host", NULL, cmd_uri, "print the hypervisor canonical URI", NULL},
    {"version", "host", opts_version, cmd_version, "show version",
     "Display the system version information."},
    {NULL},
};
