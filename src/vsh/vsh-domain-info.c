/* Domain monitoring commands: list, dominfo, domstate, domid, domname,
 * domuuid, dumpxml, domblklist, domiflist.
 *
 * Output shapes are virsh's (libvirt tools/virsh-domain-monitor.c), since
 * scripts parse them: tables through vsh-format's vshTable clone, dominfo
 * keys padded to 16 columns, "-" for the id of an inactive domain.
 */
#include "vsh-domain-info.h"

#include <stdio.h>

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh-format.h"
#include "vsh.h"

static char *
id_string(JsonObject *dom)
{
    gint64 id = vsh_json_int(dom, "id", -1);

    return id >= 0 ? g_strdup_printf("%" G_GINT64_FORMAT, id) : g_strdup("-");
}

static JsonObject *
element_object(JsonArray *array, guint i)
{
    JsonNode *node = json_array_get_element(array, i);

    return node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

char *
vsh_render_domain_list(JsonArray *domains, const VshListFormat *format, gboolean header)
{
    guint n = domains ? json_array_get_length(domains) : 0;

    if (format->style == VSH_LIST_TABLE) {
        g_autoptr(VshTable) table = format->title
                                        ? vsh_table_new("Id", "Name", "State", "Title", NULL)
                                        : vsh_table_new("Id", "Name", "State", NULL);

        for (guint i = 0; i < n; i++) {
            JsonObject *d = element_object(domains, i);
            g_autofree char *id = NULL;
            const char *cells[4];

            if (!d)
                continue;
            id = id_string(d);
            cells[0] = id;
            cells[1] = vsh_json_string(d, "name", "");
            cells[2] = vsh_json_string(d, "state", "no state");
            cells[3] = vsh_json_string(d, "title", "");
            vsh_table_add_row(table, cells);
        }
        return vsh_table_render(table, header);
    }

    GString *out = g_string_new(NULL);

    for (guint i = 0; i < n; i++) {
        JsonObject *d = element_object(domains, i);
        const char *sep = "";

        if (!d)
            continue;
        if (format->uuid) {
            g_string_append(out, vsh_json_string(d, "uuid", ""));
            sep = " ";
        }
        if (format->id) {
            g_autofree char *id = id_string(d);

            /* Alone, --id lists running domains only (virsh). */
            if (vsh_json_int(d, "id", -1) < 0 && !format->uuid && !format->name)
                continue;
            g_string_append_printf(out, "%s%s", sep, id);
            sep = " ";
        }
        if (format->name)
            g_string_append_printf(out, "%s%s", sep, vsh_json_string(d, "name", ""));
        g_string_append_c(out, '\n');
    }
    return g_string_free(out, FALSE);
}

static gboolean
list_keeps(const VshCmd *cmd, JsonObject *d)
{
    const char *state = vsh_json_string(d, "state", "");
    gboolean running = vsh_cmd_has(cmd, "state-running");
    gboolean paused = vsh_cmd_has(cmd, "state-paused");
    gboolean shutoff = vsh_cmd_has(cmd, "state-shutoff");
    gboolean other = vsh_cmd_has(cmd, "state-other");
    gboolean persistent = vsh_json_bool(d, "persistent", TRUE);
    gboolean autostart = vsh_json_bool(d, "autostart", FALSE);

    /* Flags of one kind widen (OR), kinds narrow (AND), as in libvirt. */
    if (running || paused || shutoff || other) {
        gboolean is_running = g_str_equal(state, "running");
        gboolean is_paused = g_str_equal(state, "paused");
        gboolean is_shutoff = g_str_equal(state, "shut off");

        if (!((running && is_running) || (paused && is_paused) || (shutoff && is_shutoff) ||
              (other && !is_running && !is_paused && !is_shutoff)))
            return FALSE;
    }
    if (vsh_cmd_has(cmd, "persistent") || vsh_cmd_has(cmd, "transient")) {
        if (!((vsh_cmd_has(cmd, "persistent") && persistent) ||
              (vsh_cmd_has(cmd, "transient") && !persistent)))
            return FALSE;
    }
    if (vsh_cmd_has(cmd, "autostart") || vsh_cmd_has(cmd, "no-autostart")) {
        if (!((vsh_cmd_has(cmd, "autostart") && autostart) ||
              (vsh_cmd_has(cmd, "no-autostart") && !autostart)))
            return FALSE;
    }
    return TRUE;
}

static gboolean
cmd_list(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    static const char *const exclusive[] = {"name", "uuid", "id"};
    VshListFormat format = {
        .title = vsh_cmd_has(cmd, "title"),
        .name = vsh_cmd_has(cmd, "name"),
        .uuid = vsh_cmd_has(cmd, "uuid"),
        .id = vsh_cmd_has(cmd, "id"),
    };
    const char *query = "";
    g_autoptr(JsonNode) answer = NULL;
    g_autoptr(JsonArray) kept = json_array_new();
    g_autofree char *text = NULL;
    JsonNode *domains;
    VshClient *client;

    for (gsize i = 0; i < G_N_ELEMENTS(exclusive); i++) {
        if (vsh_cmd_has(cmd, "table") && vsh_cmd_has(cmd, exclusive[i])) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "Options --table and --%s are mutually exclusive", exclusive[i]);
            return FALSE;
        }
    }
    format.style = format.name || format.uuid || format.id ? VSH_LIST_PLAIN : VSH_LIST_TABLE;

    if (vsh_cmd_has(cmd, "all"))
        query = "?all=1";
    else if (vsh_cmd_has(cmd, "inactive") || vsh_cmd_has(cmd, "state-shutoff"))
        query = "?inactive=1";

    if (!(client = vsh_ctl_client(ctl, error)))
        return FALSE;
    g_autofree char *path = g_strconcat("/v1/domains", query, NULL);
    if (!(answer = vsh_client_call(client, "GET", path, NULL, error)))
        return FALSE;
    domains = json_object_get_member(json_node_get_object(answer), "domains");
    if (domains && JSON_NODE_HOLDS_ARRAY(domains)) {
        JsonArray *all = json_node_get_array(domains);

        for (guint i = 0; i < json_array_get_length(all); i++) {
            JsonObject *d = element_object(all, i);

            if (d && list_keeps(cmd, d))
                json_array_add_element(kept, json_node_copy(json_array_get_element(all, i)));
        }
    }
    if (!vsh_list_managed_save(ctl, cmd, &kept, error)) /* vsh-domain-save.c */
        return FALSE;
    text = vsh_render_domain_list(kept, &format, !ctl->quiet);
    vsh_print(ctl, "%s", text);
    return TRUE;
}

char *
vsh_render_dominfo(JsonObject *dom, JsonObject *info)
{
    GString *out = g_string_new(NULL);
    g_autofree char *id = id_string(dom);
    g_autofree char *vcpus = g_strdup_printf("%" G_GINT64_FORMAT, vsh_json_int(info, "vcpus", 0));
    g_autofree char *maxmem =
        g_strdup_printf("%" G_GINT64_FORMAT " KiB", vsh_json_int(info, "max_memory_kib", 0));
    g_autofree char *mem =
        g_strdup_printf("%" G_GINT64_FORMAT " KiB", vsh_json_int(info, "memory_kib", 0));

    vsh_format_field(out, "Id:", id);
    vsh_format_field(out, "Name:", vsh_json_string(dom, "name", ""));
    vsh_format_field(out, "UUID:", vsh_json_string(dom, "uuid", ""));
    vsh_format_field(out, "OS Type:", vsh_json_string(info, "os_type", "hvm"));
    vsh_format_field(out, "State:", vsh_json_string(dom, "state", "no state"));
    vsh_format_field(out, "CPU(s):", vcpus);
    if (vsh_json_int(dom, "id", -1) >= 0) {
        g_autofree char *cpu =
            g_strdup_printf("%.1fs", (double)vsh_json_int(info, "cpu_time_ns", 0) / 1000000000.0);

        vsh_format_field(out, "CPU time:", cpu);
    }
    vsh_format_field(out, "Max memory:", maxmem);
    vsh_format_field(out, "Used memory:", mem);
    vsh_format_field(out, "Persistent:", vsh_json_bool(dom, "persistent", TRUE) ? "yes" : "no");
    vsh_format_field(out,
                     "Autostart:", vsh_json_bool(dom, "autostart", FALSE) ? "enable" : "disable");
    vsh_format_field(
        out, "Managed save:", vsh_json_bool(info, "has_managed_save", FALSE) ? "yes" : "no");
    vsh_format_field(out, "Security model:", "none");
    vsh_format_field(out, "Security DOI:", "0");
    return g_string_free(out, FALSE);
}

/* GET /v1/domains/{dom}: the summary, and the "info" object if any. */
static JsonNode *
get_domain(VshCtl *ctl, const VshCmd *cmd, JsonObject **dom, JsonObject **info, GError **error)
{
    JsonNode *answer =
        vsh_domain_call(ctl, "GET", vsh_cmd_get_string(cmd, "domain"), NULL, NULL, error);
    JsonNode *i;

    if (!answer)
        return NULL;
    *dom = vsh_json_domain(answer);
    if (!*dom) {
        json_node_unref(answer);
        g_set_error_literal(error, VD_ERROR, VD_ERROR_INTERNAL,
                            "unexpected answer from virtd: no domain summary");
        return NULL;
    }
    i = json_object_get_member(json_node_get_object(answer), "info");
    if (info)
        *info = i && JSON_NODE_HOLDS_OBJECT(i) ? json_node_get_object(i) : NULL;
    return answer;
}

static gboolean
cmd_dominfo(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    JsonObject *dom;
    JsonObject *info;
    g_autoptr(JsonNode) answer = get_domain(ctl, cmd, &dom, &info, error);
    g_autofree char *text = NULL;

    if (!answer)
        return FALSE;
    text = vsh_render_dominfo(dom, info);
    vsh_print(ctl, "%s", text);
    return TRUE;
}

static gboolean
cmd_domstate(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    JsonObject *dom;
    g_autoptr(JsonNode) answer = get_domain(ctl, cmd, &dom, NULL, error);

    if (!answer)
        return FALSE;
    if (vsh_cmd_has(cmd, "reason"))
        vsh_print(ctl, "%s (%s)\n", vsh_json_string(dom, "state", "no state"),
                  vsh_json_string(dom, "reason", "unknown"));
    else
        vsh_print(ctl, "%s\n", vsh_json_string(dom, "state", "no state"));
    return TRUE;
}

static gboolean
cmd_domid(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    JsonObject *dom;
    g_autoptr(JsonNode) answer = get_domain(ctl, cmd, &dom, NULL, error);
    g_autofree char *id = NULL;

    if (!answer)
        return FALSE;
    id = id_string(dom);
    vsh_print(ctl, "%s\n", id);
    return TRUE;
}

/* domname and domuuid: one member of the summary. */
static gboolean
cmd_dom_member(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *member = g_str_equal(cmd->def->name, "domuuid") ? "uuid" : "name";
    JsonObject *dom;
    g_autoptr(JsonNode) answer = get_domain(ctl, cmd, &dom, NULL, error);

    if (!answer)
        return FALSE;
    vsh_print(ctl, "%s\n", vsh_json_string(dom, member, ""));
    return TRUE;
}

static gboolean
cmd_dumpxml(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    gboolean inactive = vsh_cmd_has(cmd, "inactive");
    gboolean secure = vsh_cmd_has(cmd, "security-info");
    g_autofree char *suffix =
        g_strdup_printf("/xml%s%s%s", inactive || secure ? "?" : "", inactive ? "inactive=1" : "",
                        secure ? (inactive ? "&secure=1" : "secure=1") : "");
    g_autoptr(GBytes) xml =
        vsh_domain_get_bytes(ctl, vsh_cmd_get_string(cmd, "domain"), suffix, error);
    gsize len = 0;
    const char *data;

    if (!xml)
        return FALSE;
    data = g_bytes_get_data(xml, &len);
    if (len > 0) {
        fwrite(data, 1, len, stdout);
        if (data[len - 1] != '\n')
            fputc('\n', stdout);
    }
    return TRUE;
}

/* GET /v1/domains/{dom}/SUFFIX and its array member @member. */
static JsonNode *
get_device_list(VshCtl *ctl, const VshCmd *cmd, const char *suffix, const char *member,
                JsonArray **array, GError **error)
{
    JsonNode *answer =
        vsh_domain_call(ctl, "GET", vsh_cmd_get_string(cmd, "domain"), suffix, NULL, error);
    JsonNode *node;

    if (!answer)
        return NULL;
    node = json_object_get_member(json_node_get_object(answer), member);
    *array = node && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
    return answer;
}

static gboolean
cmd_domblklist(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    gboolean details = vsh_cmd_has(cmd, "details");
    JsonArray *disks = NULL;
    g_autoptr(JsonNode) answer = get_device_list(ctl, cmd, "/disks", "disks", &disks, error);
    g_autoptr(VshTable) table = NULL;
    g_autofree char *text = NULL;

    if (!answer)
        return FALSE;
    table = details ? vsh_table_new("Type", "Device", "Target", "Source", NULL)
                    : vsh_table_new("Target", "Source", NULL);
    for (guint i = 0; disks && i < json_array_get_length(disks); i++) {
        JsonObject *d = element_object(disks, i);
        const char *full[4];

        if (!d)
            continue;
        full[0] = vsh_json_string(d, "type", "-");
        full[1] = vsh_json_string(d, "device", "-");
        full[2] = vsh_json_string(d, "target", "-");
        full[3] = vsh_json_string(d, "source", "-");
        /* Without --details: Target and Source only. */
        vsh_table_add_row(table, details ? full : full + 2);
    }
    text = vsh_table_render(table, !ctl->quiet);
    vsh_print(ctl, "%s", text);
    return TRUE;
}

static gboolean
cmd_domiflist(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    static const char *const members[] = {"interface", "type", "source", "model", "mac"};
    JsonArray *ifaces = NULL;
    g_autoptr(JsonNode) answer =
        get_device_list(ctl, cmd, vsh_cmd_has(cmd, "inactive") ? "/interfaces?inactive=1"
                                                               : "/interfaces",
                        "interfaces", &ifaces, error);
    g_autoptr(VshTable) table = NULL;
    g_autofree char *text = NULL;

    if (!answer)
        return FALSE;
    table = vsh_table_new("Interface", "Type", "Source", "Model", "MAC", NULL);
    for (guint i = 0; ifaces && i < json_array_get_length(ifaces); i++) {
        JsonObject *d = element_object(ifaces, i);
        const char *cells[G_N_ELEMENTS(members)];

        if (!d)
            continue;
        for (gsize k = 0; k < G_N_ELEMENTS(members); k++)
            cells[k] = vsh_json_string(d, members[k], "-");
        vsh_table_add_row(table, cells);
    }
    text = vsh_table_render(table, !ctl->quiet);
    vsh_print(ctl, "%s", text);
    return TRUE;
}

static const VshOptDef opts_domain[] = {
    VSH_OPT_DOMAIN,
    {NULL},
};

static const VshOptDef opts_list[] = {
    {"inactive", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list inactive domains"},
    {"all", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list inactive & active domains"},
    {"transient", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list transient domains"},
    {"persistent", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list persistent domains"},
    {"autostart", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list domains with autostart enabled"},
    {"no-autostart", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list domains with autostart disabled"},
    {"state-running", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list domains in running state"},
    {"state-paused", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list domains in paused state"},
    {"state-shutoff", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list domains in shutoff state"},
    {"state-other", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list domains in other states"},
    {"uuid", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list uuid's only"},
    {"name", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list domain names only"},
    {"id", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list domain IDs only"},
    {"table", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list table (default)"},
    {"title", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "show domain title"},
    {"managed-save", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "mark inactive domains with managed save state"},
    {"with-managed-save", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "list domains with managed save state"},
    {"without-managed-save", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "list domains without managed save"},
    {NULL},
};

static const VshOptDef opts_domstate[] = {
    VSH_OPT_DOMAIN,
    {"reason", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "also print reason for the state"},
    {NULL},
};

static const VshOptDef opts_dumpxml[] = {
    VSH_OPT_DOMAIN,
    {"inactive", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "show inactive defined XML"},
    {"security-info", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "include security sensitive information"},
    {NULL},
};

static const VshOptDef opts_domiflist[] = {
    VSH_OPT_DOMAIN,
    {"inactive", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "get inactive rather than running configuration"},
    {NULL},
};

static const VshOptDef opts_domblklist[] = {
    VSH_OPT_DOMAIN,
    {"details", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "additionally display the type and device"},
    {NULL},
};

const VshCmdDef vsh_domain_info_commands[] = {
    {"domblklist", "monitor", opts_domblklist, cmd_domblklist, "list all domain blocks",
     "Get the summary of block devices for a domain."},
    {"domid", "domain", opts_domain, cmd_domid, "convert a domain name or UUID to domain id", NULL},
    {"domiflist", "monitor", opts_domiflist, cmd_domiflist, "list all domain virtual interfaces",
     "Get the summary of virtual interfaces for a domain."},
    {"dominfo", "monitor", opts_domain, cmd_dominfo, "domain information",
     "Returns basic information about the domain."},
    {"domname", "domain", opts_domain, cmd_dom_member, "convert a domain id or UUID to domain name",
     NULL},
    {"domstate", "monitor", opts_domstate, cmd_domstate, "domain state",
     "Returns state about a domain."},
    {"domuuid", "domain", opts_domain, cmd_dom_member, "convert a domain name or id to domain UUID",
     NULL},
    {"dumpxml", "domain", opts_dumpxml, cmd_dumpxml, "domain information in XML",
     "Output the domain information as an XML dump to stdout."},
    {"list", "monitor", opts_list, cmd_list, "list domains", "Returns list of domains."},
    {NULL},
};
