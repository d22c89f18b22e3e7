/* Graphical consoles: vncdisplay, domdisplay, screenshot.
 *
 * Output as virsh prints it: vncdisplay "127.0.0.1:0" (":0" when VNC
 * listens on every address), domdisplay "vnc://127.0.0.1:0" or
 * "spice://127.0.0.1:5901" ("localhost" for every address), screenshot "Screenshot saved to F, with
 * type of image/png".
 */
#include <stdio.h>
#include <string.h>

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh.h"

static gboolean
listens_everywhere(const char *host)
{
    return g_str_equal(host, "0.0.0.0") || g_str_equal(host, "::") || g_str_equal(host, "");
}

/* The "vnc" member of GET .../display, or NULL with virsh's error. */
static JsonNode *
get_vnc(VshCtl *ctl, const VshCmd *cmd, JsonObject **vnc_out, const char *missing,
        GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    g_autoptr(JsonNode) answer = vsh_domain_call(ctl, "GET", dom, "/display", NULL, error);
    if (!answer)
        return NULL;
    JsonObject *obj = json_node_get_object(answer);
    JsonNode *vnc = json_object_get_member(obj, "vnc");
    if (!vnc || !JSON_NODE_HOLDS_OBJECT(vnc)) {
        g_set_error_literal(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, missing);
        return NULL;
    }
    *vnc_out = json_node_get_object(vnc);
    return g_steal_pointer(&answer);
}

static gboolean
cmd_vncdisplay(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    JsonObject *vnc;
    g_autoptr(JsonNode) answer =
        get_vnc(ctl, cmd, &vnc, "Failed to get VNC port. Is this domain using VNC?", error);
    if (!answer)
        return FALSE;
    const char *host = vsh_json_string(vnc, "host", "127.0.0.1");
    gint64 display = vsh_json_int(vnc, "display", 0);
    if (listens_everywhere(host))
        vsh_print(ctl, ":%" G_GINT64_FORMAT "\n", display);
    else
        vsh_print(ctl, "%s:%" G_GINT64_FORMAT "\n", host, display);
    return TRUE;
}

/* virsh's order: the first of vnc, spice the domain has (or --type). */
static gboolean
cmd_domdisplay(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    static const char *const schemes[] = {"vnc", "spice", NULL};
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    const char *type = vsh_cmd_get_string(cmd, "type");

    if (type && !g_strv_contains(schemes, type)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: no display of type '%s': use vnc or spice", type);
        return FALSE;
    }
    g_autoptr(JsonNode) answer = vsh_domain_call(ctl, "GET", dom, "/display", NULL, error);
    if (!answer)
        return FALSE;
    JsonObject *obj = json_node_get_object(answer);
    for (guint i = 0; schemes[i]; i++) {
        if (type && !g_str_equal(type, schemes[i]))
            continue;
        JsonNode *node = json_object_get_member(obj, schemes[i]);
        if (!node || !JSON_NODE_HOLDS_OBJECT(node))
            continue;
        JsonObject *disp = json_node_get_object(node);
        const char *host = vsh_json_string(disp, "host", "127.0.0.1");
        /* VNC's URI names the display, SPICE's the port. */
        gint64 n = g_str_equal(schemes[i], "vnc") ? vsh_json_int(disp, "display", 0)
                                                  : vsh_json_int(disp, "port", 0);
        if (listens_everywhere(host))
            host = "localhost";
        /* An IPv6 address needs brackets in a URI. */
        gboolean v6 = strchr(host, ':') != NULL;
        vsh_print(ctl, "%s://%s%s%s:%" G_GINT64_FORMAT "\n", schemes[i], v6 ? "[" : "", host,
                  v6 ? "]" : "", n);
        return TRUE;
    }
    g_set_error_literal(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "No graphical display found");
    return FALSE;
}

static gboolean
cmd_screenshot(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    const char *file = vsh_cmd_get_string(cmd, "file");
    g_autofree char *default_name = NULL;

    if (vsh_cmd_has(cmd, "screen") && g_strcmp0(vsh_cmd_get_string(cmd, "screen"), "0") != 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: this domain has one screen: use --screen 0");
        return FALSE;
    }
    g_autoptr(GBytes) png = vsh_domain_get_bytes(ctl, dom, "/screenshot", error);
    if (!png)
        return FALSE;
    if (!file) {
        /* virsh's default: DOMAIN-YYYY-MM-DD-HH:MM:SS.png in the current directory. */
        g_autoptr(GDateTime) now = g_date_time_new_now_local();
        g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%d-%H:%M:%S");
        default_name = g_strdup_printf("%s-%s.png", dom, stamp);
        file = default_name;
    }
    gsize len = 0;
    const char *data = g_bytes_get_data(png, &len);
    g_autoptr(GError) local = NULL;
    if (!g_file_set_contents(file, data, (gssize)len, &local)) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "cannot write '%s': %s", file,
                    local->message);
        return FALSE;
    }
    vsh_print(ctl, "\nScreenshot saved to %s, with type of image/png\n", file);
    return TRUE;
}

static const VshOptDef opts_domain[] = {
    VSH_OPT_DOMAIN,
    {NULL},
};

static const VshOptDef opts_domdisplay[] = {
    VSH_OPT_DOMAIN,
    {"type", VSH_OT_STRING, 0, VSH_COMPLETE_NONE,
     "select particular graphical display (vnc, spice)"},
    {"include-password", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "includes the password into the connection URI if available"},
    {NULL},
};

static const VshOptDef opts_screenshot[] = {
    VSH_OPT_DOMAIN,
    {"file", VSH_OT_STRING, VSH_OPT_POSITIONAL, VSH_COMPLETE_FILE,
     "where to store the screenshot (default DOMAIN-DATE.png)"},
    {"screen", VSH_OT_INT, 0, VSH_COMPLETE_NONE, "ID of a screen to take screenshot of"},
    {NULL},
};

const VshCmdDef vsh_display_commands[] = {
    {"domdisplay", "domain", opts_domdisplay, cmd_domdisplay, "domain display connection URI",
     "Output the URI which can be used to connect to the graphical display of the domain."},
    {"screenshot", "domain", opts_screenshot, cmd_screenshot,
     "take a screenshot of a current domain console and store it into a file",
     "Takes a PNG picture of the guest's screen (QMP screendump)."},
    {"vncdisplay", "domain", opts_domain, cmd_vncdisplay, "vnc display",
     "Output the IP address and port number for the VNC display."},
    {NULL},
};
