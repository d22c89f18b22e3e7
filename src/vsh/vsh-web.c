/* The web console's API tokens: web-token create NAME | list | revoke NAME
 * (docs/web.md). A token is shown once, at creation; the daemon keeps only
 * its hash. Scripts send it as `Authorization: Bearer TOKEN` to the --web
 * listener's /api/v1/... */
#include <string.h>

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh-format.h"
#include "vsh.h"

static gboolean
cmd_web_token(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *action = vsh_cmd_get_string(cmd, "action");
    const char *name = vsh_cmd_get_string(cmd, "name");
    VshClient *client = NULL;

    if (g_str_equal(action, "list")) {
        if (name)
            return vd_set_error(error, VD_ERROR_INVALID_ARG, "web-token list takes no name");
    } else if (g_str_equal(action, "create") || g_str_equal(action, "revoke")) {
        if (!name)
            return vd_set_error(error, VD_ERROR_INVALID_ARG, "web-token %s: give the token's NAME",
                                action);
    } else {
        return vd_set_error(error, VD_ERROR_INVALID_ARG,
                            "unknown web-token action '%s': give create NAME, list or revoke NAME",
                            action);
    }
    client = vsh_ctl_client(ctl, error);
    if (!client)
        return FALSE;
    if (g_str_equal(action, "create")) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, name);
        json_builder_end_object(b);
        g_autoptr(JsonNode) body = json_builder_get_root(b);
        g_autoptr(JsonNode) answer = vsh_client_call(client, "POST", "/v1/web-tokens", body, error);
        if (!answer)
            return FALSE;
        vsh_print(ctl, "%s\n", vsh_json_string(json_node_get_object(answer), "token", ""));
        return TRUE;
    }
    if (g_str_equal(action, "revoke")) {
        g_autofree char *esc = g_uri_escape_string(name, NULL, FALSE);
        g_autofree char *path = g_strdup_printf("/v1/web-tokens/%s", esc);
        g_autoptr(JsonNode) answer = vsh_client_call(client, "DELETE", path, NULL, error);
        if (!answer)
            return FALSE;
        vsh_print(ctl, "Web token %s revoked\n", name);
        return TRUE;
    }
    g_autoptr(JsonNode) answer = vsh_client_call(client, "GET", "/v1/web-tokens", NULL, error);
    if (!answer)
        return FALSE;
    JsonNode *list = json_object_get_member(json_node_get_object(answer), "tokens");
    JsonArray *arr = list && JSON_NODE_HOLDS_ARRAY(list) ? json_node_get_array(list) : NULL;
    g_autoptr(VshTable) table = vsh_table_new("Name", "Created", "By", NULL);
    for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
        JsonObject *t = vsh_json_array_object(arr, i);
        if (!t)
            continue;
        g_autoptr(GDateTime) dt =
            g_date_time_new_from_unix_utc(json_object_get_int_member_with_default(t, "created", 0));
        g_autofree char *when = dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M:%S UTC") : g_strdup("");
        const char *cells[] = {vsh_json_string(t, "name", ""), when, vsh_json_string(t, "user", ""),
                               NULL};
        vsh_table_add_row(table, cells);
    }
    g_autofree char *text = vsh_table_render(table, TRUE);
    vsh_print(ctl, "%s", text);
    return TRUE;
}

static const VshOptDef opts_web_token[] = {
    {"action", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "create, list or revoke"},
    {"name", VSH_OT_STRING, VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE, "the token's name"},
    {NULL},
};

const VshCmdDef vsh_web_commands[] = {
    {"web-token", "web", opts_web_token, cmd_web_token, "manage the web console's API tokens",
     "web-token create NAME prints a new token once (the daemon keeps only its hash); "
     "web-token list lists them; web-token revoke NAME ends one. Scripts send a token as "
     "'Authorization: Bearer TOKEN' to the --web listener's /api/v1/ (docs/web.md)."},
    {NULL},
};
