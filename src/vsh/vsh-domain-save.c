/* save, restore, managedsave, managedsave-remove, save-image-dumpxml,
 * domjobinfo, domjobabort (virsh's shapes). --verbose asks the domain's
 * job (GET /v1/domains/D/job) every 250 ms while the request runs and
 * draws virsh's "Save: [ 42 %]" on stderr. */
#include <stdio.h>
#include <string.h>

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh-progress.h"
#include "vsh.h"

typedef struct {
    const char *label;
    int last_pct;
} Wait;

static void
draw(Wait *w, int pct, gboolean final)
{
    if (pct == w->last_pct && !final)
        return;
    w->last_pct = pct;
    fprintf(stderr, "\r%s: [%3d %%]%s", w->label, pct, final ? "\n" : "");
    fflush(stderr);
}

static void
on_job(JsonNode *answer, gpointer data)
{
    Wait *w = data;
    if (!JSON_NODE_HOLDS_OBJECT(answer))
        return;
    JsonObject *job = json_node_get_object(answer);
    gint64 total = vsh_json_int(job, "data_total", 0);
    gint64 remaining = vsh_json_int(job, "data_remaining", 0);
    if (total <= 0)
        return;
    /* As virsh: the percentage of the data done, never 100 before the end. */
    int pct = (int)(100.0 - (double)remaining * 100.0 / (double)total);
    draw(w, MIN(pct, 99), FALSE);
}

static void
on_end(guint status, gpointer data)
{
    Wait *w = data;
    if (status >= 200 && status < 300)
        draw(w, 100, TRUE);
    else
        fprintf(stderr, "\n");
}

/* POST @path with @body; with @label, virsh's progress of @dom's job. */
static JsonNode *
post_with_progress(VshCtl *ctl, const char *path, JsonNode *body, const char *label,
                   const char *dom, GError **error)
{
    VshClient *client = vsh_ctl_client(ctl, error);
    if (!client)
        return NULL;
    if (!label || !dom)
        return vsh_client_call(client, "POST", path, body, error);

    Wait w = {label, -1};
    g_autofree char *job_path = vsh_domain_path(dom, "/job");
    draw(&w, 0, FALSE);
    return vsh_client_post_polling(client, path, body, job_path, on_job, on_end, &w, error);
}

static gboolean
check_running_paused(const VshCmd *cmd, GError **error)
{
    if (vsh_cmd_has(cmd, "running") && vsh_cmd_has(cmd, "paused")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --running and --paused are mutually exclusive");
        return FALSE;
    }
    return TRUE;
}

static void
add_flags(JsonBuilder *b, const VshCmd *cmd)
{
    json_builder_set_member_name(b, "running");
    json_builder_add_boolean_value(b, vsh_cmd_has(cmd, "running"));
    json_builder_set_member_name(b, "paused");
    json_builder_add_boolean_value(b, vsh_cmd_has(cmd, "paused"));
}

/* A file named on the command line is the client's: relative to its
 * directory, sent absolute. */
static char *
abs_file(const char *file)
{
    return g_canonicalize_filename(file, NULL);
}

static char *
read_text_file(const char *file, GError **error)
{
    char *text = NULL;
    g_autoptr(GError) e = NULL;
    if (!g_file_get_contents(file, &text, NULL, &e)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "Failed to read file '%s' to %s: %s",
                    file, "XML", e->message);
        return NULL;
    }
    return text;
}

static gboolean
cmd_save(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    const char *file = vsh_cmd_get_string(cmd, "file");
    g_autofree char *path = abs_file(file);
    if (!check_running_paused(cmd, error))
        return FALSE;
    if (vsh_cmd_has(cmd, "xml")) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "Operation not supported: save --xml: save first, then change the image's "
                    "XML at restore with 'restore FILE --xml XML'");
        return FALSE;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, path);
    add_flags(b, cmd);
    json_builder_end_object(b);
    g_autoptr(JsonNode) body = json_builder_get_root(b);
    g_autofree char *url = vsh_domain_path(dom, "/save");
    g_autoptr(JsonNode) answer =
        post_with_progress(ctl, url, body, vsh_cmd_has(cmd, "verbose") ? "Save" : NULL, dom, error);
    if (!answer)
        return FALSE;
    vsh_print_extra(ctl, "\nDomain '%s' saved to %s\n",
                    vsh_json_string(vsh_json_domain(answer), "name", dom), file);
    return TRUE;
}

static gboolean
cmd_managedsave(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    if (!check_running_paused(cmd, error))
        return FALSE;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_flags(b, cmd);
    json_builder_end_object(b);
    g_autoptr(JsonNode) body = json_builder_get_root(b);
    g_autofree char *url = vsh_domain_path(dom, "/managedsave");
    g_autoptr(JsonNode) answer = post_with_progress(
        ctl, url, body, vsh_cmd_has(cmd, "verbose") ? "Managedsave" : NULL, dom, error);
    if (!answer)
        return FALSE;
    vsh_print_extra(ctl, "\nDomain '%s' state saved by virtd\n",
                    vsh_json_string(vsh_json_domain(answer), "name", dom));
    return TRUE;
}

static gboolean
cmd_managedsave_remove(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    g_autoptr(JsonNode) answer = vsh_domain_call(ctl, "DELETE", dom, "/managedsave", NULL, error);
    if (!answer)
        return FALSE;
    JsonObject *root = vsh_json_root(answer);
    const char *name = vsh_json_string(vsh_json_domain(answer), "name", dom);
    if (vsh_json_bool(root, "removed", FALSE))
        vsh_print(ctl, "Removed managedsave image for domain '%s'\n", name);
    else
        vsh_print(ctl, "Domain '%s' has no manage save image; removal skipped\n", name);
    return TRUE;
}

/* The XML in the save image at @path (save-image-dumpxml's answer);
 * passwords only with @security_info. */
static char *
image_xml_of(VshCtl *ctl, const char *path, gboolean security_info, GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, path);
    json_builder_set_member_name(b, "security_info");
    json_builder_add_boolean_value(b, security_info);
    json_builder_end_object(b);
    g_autoptr(JsonNode) body = json_builder_get_root(b);
    g_autofree char *text = json_to_string(body, FALSE);
    g_autoptr(GBytes) request = g_bytes_new(text, strlen(text));
    VshClient *client = vsh_ctl_client(ctl, error);
    if (!client)
        return NULL;
    g_autoptr(GBytes) answer = vsh_client_send(client, "POST", "/v1/save-images/xml",
                                               "application/json", request, NULL, error);
    if (!answer)
        return NULL;
    gsize len = 0;
    const char *xml = g_bytes_get_data(answer, &len);
    return g_strndup(xml ? xml : "", len);
}

/* The domain's <name> (its first: the domain's own comes before any
 * device's), or NULL. */
static char *
domain_name_in(const char *xml)
{
    g_autoptr(GRegex) re = g_regex_new("<name>\\s*([^<]+?)\\s*</name>", 0, 0, NULL);
    g_autoptr(GMatchInfo) m = NULL;
    if (!g_regex_match(re, xml, 0, &m))
        return NULL;
    return g_match_info_fetch(m, 1);
}

static gboolean
cmd_restore(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *file = vsh_cmd_get_string(cmd, "file");
    const char *xml_file = vsh_cmd_get_string(cmd, "xml");
    g_autofree char *path = abs_file(file);
    g_autofree char *xml = NULL;
    if (!check_running_paused(cmd, error))
        return FALSE;
    if (xml_file && !(xml = read_text_file(xml_file, error)))
        return FALSE;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, path);
    if (xml) {
        json_builder_set_member_name(b, "xml");
        json_builder_add_string_value(b, xml);
    }
    add_flags(b, cmd);
    json_builder_end_object(b);
    g_autoptr(JsonNode) body = json_builder_get_root(b);
    /* --verbose: the progress of the domain's restore job, the domain
     * named by the image's XML (or by --xml). */
    g_autofree char *dom = NULL;
    if (vsh_cmd_has(cmd, "verbose")) {
        g_autofree char *image_xml = xml ? NULL : image_xml_of(ctl, path, FALSE, error);
        if (!xml && !image_xml)
            return FALSE;
        dom = domain_name_in(xml ? xml : image_xml);
    }
    g_autoptr(JsonNode) answer = post_with_progress(ctl, "/v1/save-images/restore", body,
                                                    dom ? "Restore" : NULL, dom, error);
    if (!answer)
        return FALSE;
    if (vsh_cmd_has(cmd, "verbose") && !dom)
        fprintf(stderr, "Restore: [100 %%]\n");
    vsh_print_extra(ctl, "Domain restored from %s\n", file);
    return TRUE;
}

static gboolean
cmd_save_image_dumpxml(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *file = vsh_cmd_get_string(cmd, "file");
    g_autofree char *path = abs_file(file);
    g_autofree char *xml = image_xml_of(ctl, path, vsh_cmd_has(cmd, "security-info"), error);
    if (!xml)
        return FALSE;
    vsh_print(ctl, "%s", xml);
    return TRUE;
}

/* virsh's vshPrettyCapacity. */
static void
print_size(VshCtl *ctl, const char *label, gint64 v, const char *suffix)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double val = (double)v;
    guint u = 0;
    while (val >= 1024 && u + 1 < G_N_ELEMENTS(units)) {
        val /= 1024;
        u++;
    }
    vsh_print(ctl, "%-17s %-.3lf %s%s\n", label, val, units[u], suffix ? suffix : "");
}

static gboolean
cmd_domjobinfo(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    gboolean completed = vsh_cmd_has(cmd, "completed");
    g_autoptr(JsonNode) answer =
        vsh_domain_call(ctl, "GET", dom, completed ? "/job?completed=1" : "/job", NULL, error);
    if (!answer)
        return FALSE;
    JsonObject *j = vsh_json_root(answer);
    const char *type = vsh_json_string(j, "type", "none");
    const char *shown = g_str_equal(type, "unbounded")   ? "Unbounded"
                        : g_str_equal(type, "completed") ? "Completed"
                        : g_str_equal(type, "failed")    ? "Failed"
                        : g_str_equal(type, "cancelled") ? "Cancelled"
                                                         : "None";
    vsh_print(ctl, "%-17s %-12s\n", "Job type:", shown);
    if (g_str_equal(shown, "None"))
        return TRUE;
    vsh_print(ctl, "%-17s %-12s\n", "Operation:", vsh_json_string(j, "operation", "Unknown"));
    vsh_print(ctl, "%-17s %-12" G_GINT64_FORMAT " ms\n",
              "Time elapsed:", vsh_json_int(j, "time_elapsed_ms", 0));
    if (json_object_has_member(j, "data_total")) {
        print_size(ctl, "Data processed:", vsh_json_int(j, "data_processed", 0), NULL);
        print_size(ctl, "Data remaining:", vsh_json_int(j, "data_remaining", 0), NULL);
        print_size(ctl, "Data total:", vsh_json_int(j, "data_total", 0), NULL);
    }
    if (json_object_has_member(j, "mem_total")) {
        print_size(ctl, "Memory processed:", vsh_json_int(j, "mem_processed", 0), NULL);
        print_size(ctl, "Memory remaining:", vsh_json_int(j, "mem_remaining", 0), NULL);
        print_size(ctl, "Memory total:", vsh_json_int(j, "mem_total", 0), NULL);
    }
    if (json_object_has_member(j, "mem_bps"))
        print_size(ctl, "Memory bandwidth:", vsh_json_int(j, "mem_bps", 0), "/s");
    if (json_object_has_member(j, "mem_dirty_rate"))
        vsh_print(ctl, "%-17s %-12" G_GINT64_FORMAT " pages/s\n",
                  "Dirty rate:", vsh_json_int(j, "mem_dirty_rate", 0));
    if (json_object_has_member(j, "mem_page_size"))
        vsh_print(ctl, "%-17s %-12" G_GINT64_FORMAT " bytes\n",
                  "Page size:", vsh_json_int(j, "mem_page_size", 0));
    if (json_object_has_member(j, "mem_iteration"))
        vsh_print(ctl, "%-17s %-12" G_GINT64_FORMAT "\n",
                  "Iteration:", vsh_json_int(j, "mem_iteration", 0));
    if (json_object_has_member(j, "mem_postcopy_requests"))
        vsh_print(ctl, "%-17s %-12" G_GINT64_FORMAT "\n",
                  "Postcopy requests:", vsh_json_int(j, "mem_postcopy_requests", 0));
    if (json_object_has_member(j, "mem_constant"))
        vsh_print(ctl, "%-17s %-12" G_GINT64_FORMAT "\n",
                  "Constant pages:", vsh_json_int(j, "mem_constant", 0));
    if (json_object_has_member(j, "mem_normal")) {
        vsh_print(ctl, "%-17s %-12" G_GINT64_FORMAT "\n",
                  "Normal pages:", vsh_json_int(j, "mem_normal", 0));
        print_size(ctl, "Normal data:", vsh_json_int(j, "mem_normal_bytes", 0), NULL);
    }
    if (json_object_has_member(j, "expected_downtime_ms"))
        vsh_print(ctl, "%-17s %-12" G_GINT64_FORMAT " ms\n",
                  "Expected downtime:", vsh_json_int(j, "expected_downtime_ms", 0));
    if (json_object_has_member(j, "downtime_ms"))
        vsh_print(ctl, "%-17s %-12" G_GINT64_FORMAT " ms\n",
                  "Total downtime:", vsh_json_int(j, "downtime_ms", 0));
    if (json_object_has_member(j, "setup_time_ms"))
        vsh_print(ctl, "%-17s %-12" G_GINT64_FORMAT " ms\n",
                  "Setup time:", vsh_json_int(j, "setup_time_ms", 0));
    return TRUE;
}

static gboolean
cmd_domjobabort(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    g_autoptr(JsonNode) answer = vsh_domain_call(ctl, "POST", dom, "/job/abort", NULL, error);
    return answer != NULL;
}

gboolean
vsh_list_managed_save(VshCtl *ctl, const VshCmd *cmd, JsonArray **kept, GError **error)
{
    gboolean mark = vsh_cmd_has(cmd, "managed-save");
    gboolean with = vsh_cmd_has(cmd, "with-managed-save");
    gboolean without = vsh_cmd_has(cmd, "without-managed-save");
    if (!mark && !with && !without)
        return TRUE;
    JsonArray *out = json_array_new();
    for (guint i = 0; i < json_array_get_length(*kept); i++) {
        JsonNode *node = json_array_get_element(*kept, i);
        JsonObject *d = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
        gboolean saved = FALSE;
        if (!d)
            continue;
        /* Only an inactive persistent domain can have one: one dominfo
         * request each, and only for those. */
        if (g_str_equal(vsh_json_string(d, "state", ""), "shut off") &&
            vsh_json_bool(d, "persistent", FALSE)) {
            g_autoptr(JsonNode) info =
                vsh_domain_call(ctl, "GET", vsh_json_string(d, "uuid", ""), NULL, NULL, error);
            if (!info) {
                json_array_unref(out);
                return FALSE;
            }
            JsonObject *root = vsh_json_root(info);
            JsonObject *i_obj = root && json_object_has_member(root, "info")
                                    ? json_object_get_object_member(root, "info")
                                    : NULL;
            saved = i_obj && vsh_json_bool(i_obj, "has_managed_save", FALSE);
        }
        if ((with || without) && !((with && saved) || (without && !saved)))
            continue;
        JsonNode *copy = json_node_copy(node);
        if (mark && saved)
            json_object_set_string_member(json_node_get_object(copy), "state", "saved");
        json_array_add_element(out, copy);
    }
    json_array_unref(*kept);
    *kept = out;
    return TRUE;
}

#define OPT_BYPASS                                                                                 \
    {                                                                                              \
        "bypass-cache", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "accepted: the page cache is used"      \
    }
#define OPT_RUNNING                                                                                \
    {                                                                                              \
        "running", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "set domain to be running on restore"        \
    }
#define OPT_PAUSED                                                                                 \
    {                                                                                              \
        "paused", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "set domain to be paused on restore"          \
    }
#define OPT_VERBOSE                                                                                \
    {                                                                                              \
        "verbose", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "display the progress"                       \
    }

static const VshOptDef opts_save[] = {
    VSH_OPT_DOMAIN,
    {"file", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_FILE,
     "where to save the data"},
    OPT_BYPASS,
    {"xml", VSH_OT_STRING, 0, VSH_COMPLETE_FILE, "not supported: change the XML at restore"},
    OPT_RUNNING,
    OPT_PAUSED,
    OPT_VERBOSE,
    {NULL},
};

static const VshOptDef opts_managedsave[] = {
    VSH_OPT_DOMAIN, OPT_BYPASS, OPT_RUNNING, OPT_PAUSED, OPT_VERBOSE, {NULL},
};

static const VshOptDef opts_domain[] = {
    VSH_OPT_DOMAIN,
    {NULL},
};

static const VshOptDef opts_restore[] = {
    {"file", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_FILE,
     "the state to restore"},
    OPT_BYPASS,
    {"xml", VSH_OT_STRING, 0, VSH_COMPLETE_FILE,
     "filename containing updated XML for the target (same name and UUID)"},
    OPT_RUNNING,
    OPT_PAUSED,
    OPT_VERBOSE,
    {NULL},
};

static const VshOptDef opts_dumpxml[] = {
    {"file", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_FILE,
     "saved state file to read"},
    {"security-info", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "include security sensitive information in XML dump"},
    {NULL},
};

static const VshOptDef opts_domjobinfo[] = {
    VSH_OPT_DOMAIN,
    {"completed", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "return statistics of a recently completed job"},
    {"keep-completed", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "accepted: completed statistics are kept until the next job"},
    {NULL},
};

const VshCmdDef vsh_domain_save_commands[] = {
    {"save", "domain", opts_save, cmd_save, "save a domain state to a file",
     "Save the RAM state of a running domain; the domain ends shut off (saved)."},
    {"restore", "domain", opts_restore, cmd_restore,
     "restore a domain from a saved state in a file", NULL},
    {"managedsave", "domain", opts_managedsave, cmd_managedsave, "managed save of a domain state",
     "Save the state of a running domain; the next start resumes it."},
    {"managedsave-remove", "domain", opts_domain, cmd_managedsave_remove,
     "Remove managed save of a domain", NULL},
    {"save-image-dumpxml", "domain", opts_dumpxml, cmd_save_image_dumpxml,
     "saved state domain information in XML", NULL},
    {"domjobinfo", "domain", opts_domjobinfo, cmd_domjobinfo, "domain job information", NULL},
    {"domjobabort", "domain", opts_domain, cmd_domjobabort, "abort active domain job", NULL},
    {NULL},
};
