/* vsh domcheck (a domain XML's compatibility report, docs/domain-xml.md
 * "Checking a domain XML") and qemu-monitor-command (one QMP command, for
 * debugging).
 *
 * domcheck prints one line per finding, each starting with its group, so
 * that grep and cut take them apart:
 *
 *   runs      disk vda: virtio disk, qcow2 file /var/lib/images/a.qcow2
 *   adjusted  <hyperv> 'vapic' dropped: TCG has no Hyper-V enlightenments
 *   blocks    unsupported configuration: element <domain/devices/hostdev> ...
 *   result    blocked: 1 problem
 *
 * and exits 0 when the domain would start, 1 when something blocks it. */
#include <string.h>

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh-object.h"
#include "vsh.h"

static guint
print_group(VshCtl *ctl, JsonObject *report, const char *member)
{
    JsonArray *items = vsh_json_array(report, member);
    guint n = items ? json_array_get_length(items) : 0;

    for (guint i = 0; i < n; i++) {
        JsonNode *item = json_array_get_element(items, i);
        if (JSON_NODE_HOLDS_VALUE(item) && json_node_get_value_type(item) == G_TYPE_STRING)
            vsh_print(ctl, "%-9s %s\n", member, json_node_get_string(item));
    }
    return n;
}

static gboolean
print_report(VshCtl *ctl, JsonNode *answer)
{
    JsonObject *report = vsh_json_root(answer);

    print_group(ctl, report, "runs");
    print_group(ctl, report, "adjusted");
    guint blocks = print_group(ctl, report, "blocks");
    if (blocks)
        vsh_print(ctl, "%-9s blocked: %u problem%s\n", "result", blocks, blocks == 1 ? "" : "s");
    else
        vsh_print(ctl, "%-9s starts\n", "result");
    return blocks == 0;
}

gboolean
vsh_domcheck_file(VshCtl *ctl, const char *file, GError **error)
{
    g_autoptr(JsonNode) answer = vsh_domain_post_file(ctl, file, "/check", error);

    return answer && print_report(ctl, answer);
}

/* A file is checked as it is; anything else names a defined domain. */
static gboolean
cmd_domcheck(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *what = vsh_cmd_get_string(cmd, "source");
    g_autoptr(JsonNode) answer = NULL;

    if (g_file_test(what, G_FILE_TEST_EXISTS) || strchr(what, '/'))
        return vsh_domcheck_file(ctl, what, error);
    answer = vsh_domain_call(ctl, "GET", what, "/check", NULL, error);
    return answer && print_report(ctl, answer);
}

static gboolean
cmd_qemu_monitor_command(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    g_autofree const char **words = vsh_cmd_get_argv(cmd, "cmd");
    g_autofree char *line = g_strjoinv(" ", (char **)words);
    gboolean hmp = vsh_cmd_has(cmd, "hmp");
    g_autoptr(JsonNode) body = NULL;
    g_autoptr(JsonNode) answer = NULL;

    if (hmp) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "hmp");
        json_builder_add_string_value(b, line);
        json_builder_end_object(b);
        body = json_builder_get_root(b);
    } else {
        g_autoptr(GError) local = NULL;
        body = json_from_string(line, &local);
        if (!body || !JSON_NODE_HOLDS_OBJECT(body) ||
            !json_object_has_member(json_node_get_object(body), "execute")) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid argument: the command must be a QMP command in JSON, e.g. "
                        "'{\"execute\":\"query-status\"}'%s%s, or give --hmp for a human "
                        "monitor command",
                        local ? ": " : "", local ? local->message : "");
            return FALSE;
        }
    }
    answer = vsh_domain_call(ctl, "POST", dom, "/qemu-monitor", body, error);
    if (!answer)
        return FALSE;
    JsonNode *ret = json_object_get_member(vsh_json_root(answer), "return");
    if (hmp) {
        const char *text = ret && JSON_NODE_HOLDS_VALUE(ret) ? json_node_get_string(ret) : NULL;
        vsh_print(ctl, "%s", text ? text : "");
        if (text && *text && text[strlen(text) - 1] != '\n')
            vsh_print(ctl, "\n");
        return TRUE;
    }
    JsonNode *show = vsh_cmd_has(cmd, "return-value") ? ret : answer;
    g_autofree char *text = show ? json_to_string(show, vsh_cmd_has(cmd, "pretty")) : NULL;
    vsh_print(ctl, "%s\n", text ? text : "null");
    return TRUE;
}

static const VshOptDef opts_domcheck[] = {
    {"source", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_DOMAIN,
     "a domain XML file, or the name of a defined domain"},
    {NULL},
};

static const VshOptDef opts_qemu_monitor_command[] = {
    VSH_OPT_DOMAIN,
    {"hmp", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "command is in human monitor protocol"},
    {"pretty", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "pretty-print any qemu monitor protocol output"},
    {"return-value", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "extract the value of the 'return' key"},
    {"cmd", VSH_OT_ARGV, VSH_OPT_REQUIRED, VSH_COMPLETE_NONE, "command"},
    {NULL},
};

const VshCmdDef vsh_domain_check_commands[] = {
    {"domcheck", "domain", opts_domcheck, cmd_domcheck,
     "report whether a domain XML would start, without starting it",
     "List what runs as written, what is adjusted (with the reason) and what blocks a start. "
     "Each line starts with its group: runs, adjusted, blocks, result. Exit status 0 when the "
     "domain would start, 1 when something blocks it."},
    {"qemu-monitor-command", "domain", opts_qemu_monitor_command, cmd_qemu_monitor_command,
     "QEMU Monitor Command",
     "Pass one QMP command (or with --hmp a human monitor command) to a running domain's QEMU, "
     "for debugging. The daemon does not follow what it changes."},
    {NULL},
};
