/* Storage pool commands: pool-define-as, pool-define, pool-build,
 * pool-start, pool-destroy, pool-undefine, pool-autostart, pool-list,
 * pool-info, pool-refresh, pool-dumpxml. Messages as virsh prints them. */
#include <string.h>
#include <sys/stat.h>

#include "util/vd-error.h"
#include "util/vd-units.h"
#include "vsh-format.h"
#include "vsh-object.h"
#include "vsh-storage.h"

/* virsh's VSH_MAX_XML_FILE. */
#define MAX_XML_FILE (10 * 1024 * 1024)

static const VshObjectKind pool_kind = {
    .collection = "pools",
    .member = "pool",
    .noun = "Pool",
    .option = "pool",
};

char *
vsh_pool_path(const char *pool, const char *suffix)
{
    return vsh_object_path(pool_kind.collection, pool, suffix);
}

JsonNode *
vsh_pool_call(VshCtl *ctl, const char *method, const char *pool, const char *suffix,
              JsonNode *body, GError **error)
{
    return vsh_object_call(ctl, method, pool_kind.collection, pool, suffix, body, error);
}

JsonObject *
vsh_json_member(JsonNode *answer, const char *member)
{
    JsonNode *node;

    if (!answer || !JSON_NODE_HOLDS_OBJECT(answer))
        return NULL;
    node = json_object_get_member(json_node_get_object(answer), member);
    return node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

GBytes *
vsh_read_small_file(const char *file, GError **error)
{
    char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;
    struct stat st;

    if (stat(file, &st) == 0 && st.st_size > MAX_XML_FILE) {
        g_set_error(error, VD_ERROR, VD_ERROR_TOO_LARGE, "file '%s' is larger than %d bytes",
                    file, MAX_XML_FILE);
        return NULL;
    }
    if (!g_file_get_contents(file, &data, &len, &local)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "Failed to open file '%s': %s", file,
                    local->message);
        return NULL;
    }
    return g_bytes_new_take(data, len);
}

static const char *
pool_name(JsonNode *answer, const char *fallback)
{
    return vsh_object_name(&pool_kind, answer, fallback);
}

/* POST /v1/pools with @xml. */
static JsonNode *
define_xml(VshCtl *ctl, GBytes *xml, GError **error)
{
    VshClient *client = vsh_ctl_client(ctl, error);

    if (!client)
        return NULL;
    return vsh_client_send_for_json(client, "POST", "/v1/pools", "application/xml", xml, error);
}

static gboolean
cmd_pool_define_as(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *name = vsh_cmd_get_string(cmd, "name");
    const char *type = vsh_cmd_get_string(cmd, "type");
    const char *target = vsh_cmd_get_string(cmd, "target");
    g_autoptr(GString) xml = g_string_new(NULL);

    /* The daemon names an unsupported type; vsh only assembles the XML. */
    g_autofree char *head = g_markup_printf_escaped("<pool type='%s'>\n  <name>%s</name>\n", type,
                                                    name);
    g_string_append(xml, head);
    if (target) {
        g_autofree char *t = g_markup_printf_escaped("  <target>\n    <path>%s</path>\n", target);
        g_string_append(xml, t);
        if (vsh_cmd_has(cmd, "mode") || vsh_cmd_has(cmd, "owner") || vsh_cmd_has(cmd, "group")) {
            g_string_append(xml, "    <permissions>\n");
            const char *keys[] = {"mode", "owner", "group"};
            for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
                const char *v = vsh_cmd_get_string(cmd, keys[i]);
                if (v) {
                    g_autofree char *e = g_markup_printf_escaped("      <%s>%s</%s>\n", keys[i], v,
                                                                 keys[i]);
                    g_string_append(xml, e);
                }
            }
            g_string_append(xml, "    </permissions>\n");
        }
        g_string_append(xml, "  </target>\n");
    }
    g_string_append(xml, "</pool>\n");
    if (vsh_cmd_has(cmd, "print-xml")) {
        vsh_print(ctl, "%s", xml->str);
        return TRUE;
    }
    g_autoptr(GBytes) body = g_bytes_new(xml->str, xml->len);
    g_autoptr(JsonNode) answer = define_xml(ctl, body, error);
    if (!answer)
        return FALSE;
    vsh_print_extra(ctl, "Pool %s defined\n", pool_name(answer, name));
    return TRUE;
}

static gboolean
cmd_pool_define(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *file = vsh_cmd_get_string(cmd, "file");
    g_autoptr(JsonNode) answer = vsh_post_xml_file(ctl, "/v1/pools", file, error);

    if (!answer)
        return FALSE;
    vsh_print_extra(ctl, "Pool %s defined from %s\n", pool_name(answer, "?"), file);
    return TRUE;
}

/* A POST action on the pool, then virsh's "Pool NAME @done". */
static gboolean
pool_action(VshCtl *ctl, const VshCmd *cmd, const char *action, const char *done,
            GError **error)
{
    return vsh_object_action(ctl, cmd, &pool_kind, action, done, error);
}

static gboolean
cmd_pool_build(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    return pool_action(ctl, cmd, "build", "built", error);
}

static gboolean
cmd_pool_start(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *pool = vsh_cmd_get_string(cmd, "pool");

    /* --build: build first, as virsh's pool-start --build. */
    if (vsh_cmd_has(cmd, "build")) {
        g_autoptr(JsonNode) built = vsh_pool_call(ctl, "POST", pool, "/build", NULL, error);
        if (!built)
            return FALSE;
    }
    return pool_action(ctl, cmd, "start", "started", error);
}

static gboolean
cmd_pool_destroy(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    return pool_action(ctl, cmd, "destroy", "destroyed", error);
}

static gboolean
cmd_pool_refresh(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    return pool_action(ctl, cmd, "refresh", "refreshed", error);
}

static gboolean
cmd_pool_undefine(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    return vsh_object_undefine(ctl, cmd, &pool_kind, error);
}

static gboolean
cmd_pool_autostart(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    return vsh_object_autostart(ctl, cmd, &pool_kind, error);
}

static gboolean
cmd_pool_dumpxml(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    g_autofree char *path = vsh_pool_path(vsh_cmd_get_string(cmd, "pool"), "/xml");
    g_autofree char *xml = vsh_get_text(ctl, path, error);

    if (!xml)
        return FALSE;
    vsh_print(ctl, "%s", xml);
    return TRUE;
}

static char *
pretty(JsonObject *pool, const char *member)
{
    return vd_size_format_pretty((guint64)vsh_json_int(pool, member, 0));
}

/* Renders pool-list from GET /v1/pools (a pure function of the JSON). */
char *
vsh_render_pool_list(JsonNode *answer, gboolean details, gboolean header)
{
    JsonArray *pools = vsh_json_array(vsh_json_root(answer), "pools");
    g_autoptr(VshTable) table = details ? vsh_table_new("Name", "State", "Autostart", "Persistent",
                                                        "Capacity", "Allocation", "Available",
                                                        NULL)
                                        : vsh_table_new("Name", "State", "Autostart", NULL);

    for (guint i = 0; pools && i < json_array_get_length(pools); i++) {
        JsonObject *p = vsh_json_array_object(pools, i);
        gboolean running = g_strcmp0(vsh_json_string(p, "state", ""), "running") == 0;
        const char *autostart = vsh_json_bool(p, "autostart", FALSE) ? "yes" : "no";
        if (!details) {
            const char *cells[] = {vsh_json_string(p, "name", ""),
                                   running ? "active" : "inactive", autostart};
            vsh_table_add_row(table, cells);
            continue;
        }
        g_autofree char *cap = running ? pretty(p, "capacity") : g_strdup("-");
        g_autofree char *alloc = running ? pretty(p, "allocation") : g_strdup("-");
        g_autofree char *avail = running ? pretty(p, "available") : g_strdup("-");
        const char *cells[] = {vsh_json_string(p, "name", ""),
                               running ? "running" : "inactive",
                               autostart,
                               vsh_json_bool(p, "persistent", TRUE) ? "yes" : "no",
                               cap,
                               alloc,
                               avail};
        vsh_table_add_row(table, cells);
    }
    return vsh_table_render(table, header);
}

static gboolean
cmd_pool_list(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    VshClient *client = vsh_ctl_client(ctl, error);
    const char *query = vsh_cmd_has(cmd, "inactive") ? "?inactive=1"
                        : vsh_cmd_has(cmd, "all")    ? "?all=1"
                                                     : "";
    g_autofree char *path = g_strconcat("/v1/pools", query, NULL);
    g_autoptr(JsonNode) answer = client ? vsh_client_call(client, "GET", path, NULL, error) : NULL;

    if (!answer)
        return FALSE;
    g_autofree char *text = vsh_render_pool_list(answer, vsh_cmd_has(cmd, "details"), !ctl->quiet);
    vsh_print(ctl, "%s", text);
    return TRUE;
}

/* pool-info's lines (a pure function of the pool summary). */
char *
vsh_render_pool_info(JsonObject *p)
{
    GString *out = g_string_new(NULL);
    gboolean running = g_strcmp0(vsh_json_string(p, "state", ""), "running") == 0;

    vsh_format_field(out, "Name:", vsh_json_string(p, "name", ""));
    vsh_format_field(out, "UUID:", vsh_json_string(p, "uuid", ""));
    vsh_format_field(out, "State:", running ? "running" : "inactive");
    vsh_format_field(out, "Persistent:", vsh_json_bool(p, "persistent", TRUE) ? "yes" : "no");
    vsh_format_field(out, "Autostart:", vsh_json_bool(p, "autostart", FALSE) ? "yes" : "no");
    if (running) {
        g_autofree char *cap = pretty(p, "capacity");
        g_autofree char *alloc = pretty(p, "allocation");
        g_autofree char *avail = pretty(p, "available");
        vsh_format_field(out, "Capacity:", cap);
        vsh_format_field(out, "Allocation:", alloc);
        vsh_format_field(out, "Available:", avail);
    }
    return g_string_free(out, FALSE);
}

static gboolean
cmd_pool_info(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *pool = vsh_cmd_get_string(cmd, "pool");
    g_autoptr(JsonNode) answer = vsh_pool_call(ctl, "GET", pool, NULL, NULL, error);

    if (!answer)
        return FALSE;
    g_autofree char *text = vsh_render_pool_info(vsh_json_member(answer, "pool"));
    vsh_print(ctl, "%s", text);
    return TRUE;
}

#define OPT_POOL                                                                                   \
    {                                                                                              \
        "pool", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_POOL,           \
            "pool name or uuid"                                                                    \
    }

static const VshOptDef opts_pool[] = {
    OPT_POOL,
    {NULL},
};

static const VshOptDef opts_pool_start[] = {
    OPT_POOL,
    {"build", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "build the pool as normal"},
    {NULL},
};

static const VshOptDef opts_pool_autostart[] = {
    OPT_POOL,
    {"disable", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "disable autostarting"},
    {NULL},
};

static const VshOptDef opts_pool_define_as[] = {
    {"name", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "name of the pool"},
    {"type", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "type of the pool (virtd: dir)"},
    {"target", VSH_OT_STRING, 0, VSH_COMPLETE_FILE, "target for underlying storage"},
    {"mode", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "permissions of the target directory (octal)"},
    {"owner", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "owner (uid) of the target directory"},
    {"group", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "group (gid) of the target directory"},
    {"print-xml", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "print XML document, but don't define the pool"},
    {NULL},
};

static const VshOptDef opts_pool_define[] = {
    {"file", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_FILE,
     "file containing an XML pool description"},
    {NULL},
};

static const VshOptDef opts_pool_list[] = {
    {"inactive", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list inactive pools"},
    {"all", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list inactive & active pools"},
    {"details", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "display extended details for pools"},
    {NULL},
};

const VshCmdDef vsh_pool_commands[] = {
    {"pool-autostart", "pool", opts_pool_autostart, cmd_pool_autostart, "autostart a pool",
     "Configure a pool to be automatically started at boot."},
    {"pool-build", "pool", opts_pool, cmd_pool_build, "build a pool",
     "Create the pool's target directory (mode 0711 unless the XML says otherwise)."},
    {"pool-define", "pool", opts_pool_define, cmd_pool_define,
     "define an inactive persistent storage pool from an XML file", NULL},
    {"pool-define-as", "pool", opts_pool_define_as, cmd_pool_define_as,
     "define a pool from a set of args", "Define a 'dir' pool: pool-define-as NAME dir --target PATH."},
    {"pool-destroy", "pool", opts_pool, cmd_pool_destroy, "destroy (stop) a pool",
     "Stop a pool; its directory and volumes stay."},
    {"pool-dumpxml", "pool", opts_pool, cmd_pool_dumpxml, "pool information in XML", NULL},
    {"pool-info", "pool", opts_pool, cmd_pool_info, "storage pool information", NULL},
    {"pool-list", "pool", opts_pool_list, cmd_pool_list, "list pools", NULL},
    {"pool-refresh", "pool", opts_pool, cmd_pool_refresh, "refresh a pool", NULL},
    {"pool-start", "pool", opts_pool_start, cmd_pool_start, "start a (previously defined) inactive pool",
     NULL},
    {"pool-undefine", "pool", opts_pool, cmd_pool_undefine, "undefine an inactive pool",
     "Remove the definition of an inactive pool; its directory and volumes stay."},
    {NULL},
};
