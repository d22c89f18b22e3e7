/* snapshot-create-as, snapshot-create, snapshot-current, snapshot-edit,
 * snapshot-revert, snapshot-delete (virsh's shapes); the listing commands
 * (snapshot-list, -info, -dumpxml, -parent) are in vsh-snapshot-list.c. */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh-object.h"
#include "vsh-snapshot.h"
#include "vsh.h"

char *
vsh_snapshot_path(const char *snap, const char *suffix)
{
    g_autofree char *esc = g_uri_escape_string(snap, NULL, TRUE);
    return g_strdup_printf("/snapshots/%s%s", esc, suffix ? suffix : "");
}

JsonNode *
vsh_snapshot_all(VshCtl *ctl, const char *dom, GError **error)
{
    return vsh_domain_call(ctl, "GET", dom, "/snapshots", NULL, error);
}

/* The snapshot a command names: its argument, or the current one with
 * --current (virsh's "--current" and a name are exclusive). */
char *
vsh_snapshot_pick(VshCtl *ctl, const VshCmd *cmd, const char *dom, GError **error)
{
    const char *name = vsh_cmd_get_string(cmd, "snapshotname");
    gboolean current = vsh_cmd_has(cmd, "current");
    if (name && current) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --current and --snapshotname are mutually exclusive");
        return NULL;
    }
    if (name)
        return g_strdup(name);
    if (!current) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--snapshotname or --current is required");
        return NULL;
    }
    g_autoptr(JsonNode) all = vsh_snapshot_all(ctl, dom, error);
    if (!all)
        return NULL;
    const char *cur = vsh_json_string(vsh_json_root(all), "current", NULL);
    if (!cur) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "domain '%s' has no current snapshot",
                    dom);
        return NULL;
    }
    return g_strdup(cur);
}

/* "?NAME=1", or "&NAME=1" when @path has a query already. */
static void
add_query_flag(GString *path, const char *name)
{
    g_string_append_printf(path, "%c%s=1", strchr(path->str, '?') ? '&' : '?', name);
}

static gboolean
send_create(VshCtl *ctl, const VshCmd *cmd, const char *dom, const char *xml, const char *file,
            GError **error)
{
    static const struct {
        const char *opt, *q;
    } flags[] = {
        {"disk-only", "disk_only"},
        {"no-metadata", "no_metadata"},
        {"halt", "halt"},
        {"reuse-external", "reuse_external"},
        {"quiesce", "quiesce"},
        {"redefine", "redefine"},
        {"current", "current"},
    };
    g_autoptr(GString) suffix = g_string_new("/snapshots");
    for (guint i = 0; i < G_N_ELEMENTS(flags); i++)
        if (vsh_cmd_has(cmd, flags[i].opt))
            add_query_flag(suffix, flags[i].q);
    VshClient *client = vsh_ctl_client(ctl, error);
    if (!client)
        return FALSE;
    g_autofree char *path = vsh_domain_path(dom, suffix->str);
    g_autoptr(GBytes) body = g_bytes_new(xml, strlen(xml));
    g_autoptr(JsonNode) answer =
        vsh_client_send_for_json(client, "POST", path, "application/xml", body, error);
    if (!answer)
        return FALSE;
    const char *name = vsh_json_string(vsh_json_root(answer), "name", "?");
    if (vsh_cmd_has(cmd, "redefine"))
        vsh_print_extra(ctl, "Domain snapshot %s defined\n", name);
    else if (file)
        vsh_print_extra(ctl, "Domain snapshot %s created from '%s'\n", name, file);
    else
        vsh_print_extra(ctl, "Domain snapshot %s created\n", name);
    return TRUE;
}

/* --diskspec vda,snapshot=external,file=/p,driver=qcow2 as a <disk> */
static gboolean
append_diskspec(GString *xml, const char *spec, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(spec, ",", -1);
    const char *snapshot = NULL, *file = NULL, *driver = NULL;
    g_autofree char *name = NULL;
    if (!parts[0] || !*parts[0])
        goto bad;
    for (char **p = parts + 1; *p; p++) {
        if (g_str_has_prefix(*p, "snapshot="))
            snapshot = *p + 9;
        else if (g_str_has_prefix(*p, "file="))
            file = *p + 5;
        else if (g_str_has_prefix(*p, "driver="))
            driver = *p + 7;
        else if (g_str_has_prefix(*p, "stype="))
            continue;
        else
            goto bad;
    }
    name = g_markup_escape_text(parts[0], -1);
    g_string_append_printf(xml, "    <disk name='%s'", name);
    if (snapshot)
        g_string_append_printf(xml, " snapshot='%s'", snapshot);
    if (!file && !driver) {
        g_string_append(xml, "/>\n");
        return TRUE;
    }
    g_string_append(xml, ">\n");
    if (file) {
        g_autofree char *f = g_markup_escape_text(file, -1);
        g_string_append_printf(xml, "      <source file='%s'/>\n", f);
    }
    if (driver)
        g_string_append_printf(xml, "      <driver type='%s'/>\n", driver);
    g_string_append(xml, "    </disk>\n");
    return TRUE;
bad:
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "unable to parse diskspec: %s", spec);
    return FALSE;
}

static gboolean
cmd_snapshot_create_as(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    const char *name = vsh_cmd_get_string(cmd, "name");
    const char *desc = vsh_cmd_get_string(cmd, "description");
    const char *memspec = vsh_cmd_get_string(cmd, "memspec");
    g_autofree const char **disks = vsh_cmd_get_argv(cmd, "diskspec");
    g_autoptr(GString) xml = g_string_new("<domainsnapshot>\n");

    if (name) {
        g_autofree char *e = g_markup_escape_text(name, -1);
        g_string_append_printf(xml, "  <name>%s</name>\n", e);
    }
    if (desc) {
        g_autofree char *e = g_markup_escape_text(desc, -1);
        g_string_append_printf(xml, "  <description>%s</description>\n", e);
    }
    if (memspec) {
        g_auto(GStrv) parts = g_strsplit(memspec, ",", -1);
        const char *snapshot = NULL, *file = NULL;
        for (char **p = parts; *p; p++) {
            if (g_str_has_prefix(*p, "snapshot="))
                snapshot = *p + 9;
            else if (g_str_has_prefix(*p, "file="))
                file = *p + 5;
            else if (p == parts)
                file = *p;
        }
        g_string_append(xml, "  <memory");
        if (snapshot)
            g_string_append_printf(xml, " snapshot='%s'", snapshot);
        if (file) {
            g_autofree char *f = g_markup_escape_text(file, -1);
            g_string_append_printf(xml, " file='%s'", f);
        }
        g_string_append(xml, "/>\n");
    }
    if (disks && disks[0]) {
        g_string_append(xml, "  <disks>\n");
        for (const char **d = disks; *d; d++)
            if (!append_diskspec(xml, *d, error))
                return FALSE;
        g_string_append(xml, "  </disks>\n");
    }
    g_string_append(xml, "</domainsnapshot>\n");
    if (vsh_cmd_has(cmd, "print-xml")) {
        vsh_print(ctl, "%s\n", xml->str);
        return TRUE;
    }
    return send_create(ctl, cmd, dom, xml->str, NULL, error);
}

static gboolean
cmd_snapshot_create(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    const char *file = vsh_cmd_get_string(cmd, "xmlfile");
    g_autofree char *xml = NULL;
    g_autoptr(GError) local = NULL;

    if (!file)
        xml = g_strdup("<domainsnapshot/>");
    else if (!g_file_get_contents(file, &xml, NULL, &local)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "Failed to open file '%s': %s", file,
                    local->message);
        return FALSE;
    }
    return send_create(ctl, cmd, dom, xml, file, error);
}

static gboolean
cmd_snapshot_current(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    const char *set = vsh_cmd_get_string(cmd, "snapshotname");

    if (set) {
        if (vsh_cmd_has(cmd, "name")) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "Options --name and --snapshotname are mutually exclusive");
            return FALSE;
        }
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, set);
        json_builder_end_object(b);
        g_autoptr(JsonNode) body = json_builder_get_root(b);
        g_autoptr(JsonNode) answer =
            vsh_domain_call(ctl, "PUT", dom, "/snapshot-current", body, error);
        if (!answer)
            return FALSE;
        vsh_print_extra(ctl, "Snapshot %s set as current", set);
        return TRUE;
    }
    g_autoptr(JsonNode) answer = vsh_domain_call(ctl, "GET", dom, "/snapshot-current", NULL, error);
    if (!answer)
        return FALSE;
    const char *cur = vsh_json_string(vsh_json_root(answer), "current", NULL);
    if (!cur) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "domain '%s' has no current snapshot",
                    dom);
        return FALSE;
    }
    if (vsh_cmd_has(cmd, "name")) {
        vsh_print(ctl, "%s", cur);
        return TRUE;
    }
    g_autofree char *suffix = vsh_snapshot_path(cur, "/xml");
    g_autoptr(GBytes) xml = vsh_domain_get_bytes(ctl, dom, suffix, error);
    if (!xml)
        return FALSE;
    g_autofree char *text = vsh_bytes_to_string(xml);
    vsh_print(ctl, "%s", text);
    return TRUE;
}

/* snapshot-edit: the XML in $VISUAL/$EDITOR, then PUT back (virsh's
 * "Snapshot NAME edited." / "... XML configuration not changed."). */
static gboolean
edit_put(VshCtl *ctl, const char *dom, const char *snap, const char *xml, GError **error)
{
    VshClient *client = vsh_ctl_client(ctl, error);
    if (!client)
        return FALSE;
    g_autofree char *suffix = vsh_snapshot_path(snap, "/xml");
    g_autofree char *path = vsh_domain_path(dom, suffix);
    g_autoptr(GBytes) body = g_bytes_new(xml, strlen(xml));
    g_autoptr(GBytes) answer =
        vsh_client_send(client, "PUT", path, "application/xml", body, NULL, error);
    return answer != NULL;
}

static gboolean
cmd_snapshot_edit(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    g_autofree char *snap = vsh_snapshot_pick(ctl, cmd, dom, error);
    g_autoptr(GError) local = NULL;
    g_autofree char *tmp = NULL;
    g_autofree char *edited = NULL;
    int status = 0;

    if (!snap)
        return FALSE;
    g_autofree char *suffix = vsh_snapshot_path(snap, "/xml");
    g_autoptr(GBytes) bytes = vsh_domain_get_bytes(ctl, dom, suffix, error);
    if (!bytes)
        return FALSE;
    g_autofree char *orig = vsh_bytes_to_string(bytes);
    int fd = g_file_open_tmp("vshXXXXXX.xml", &tmp, &local);
    if (fd < 0 || !g_file_set_contents(tmp, orig, -1, &local)) {
        if (fd >= 0)
            close(fd);
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot write a temporary file: %s",
                    local->message);
        return FALSE;
    }
    close(fd);
    /* the editor may carry arguments ("emacs -nw"): the shell splits it,
     * the file name goes as "$1", never through the shell's parsing */
    const char *argv[] = {"sh", "-c", "${VISUAL:-${EDITOR:-vi}} \"$1\"", "sh", tmp, NULL};
    gboolean ran = g_spawn_sync(NULL, (char **)argv, NULL,
                                G_SPAWN_SEARCH_PATH | G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL,
                                NULL, NULL, &status, &local);
    gboolean ok = ran && g_spawn_check_wait_status(status, &local) &&
                  g_file_get_contents(tmp, &edited, NULL, &local);
    g_unlink(tmp);
    if (!ok) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "the editor failed: %s",
                    local ? local->message : "?");
        return FALSE;
    }
    if (g_str_equal(orig, edited)) {
        vsh_print_extra(ctl, "Snapshot %s XML configuration not changed.\n", snap);
        return TRUE;
    }
    if (!edit_put(ctl, dom, snap, edited, error)) {
        g_prefix_error(error, "Failed to update %s: ", snap);
        return FALSE;
    }
    vsh_print_extra(ctl, "Snapshot %s edited.\n", snap);
    return TRUE;
}

static gboolean
cmd_snapshot_revert(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    if (vsh_cmd_has(cmd, "running") && vsh_cmd_has(cmd, "paused")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --running and --paused are mutually exclusive");
        return FALSE;
    }
    g_autofree char *snap = vsh_snapshot_pick(ctl, cmd, dom, error);
    if (!snap)
        return FALSE;
    g_autoptr(GString) suffix = g_string_new(NULL);
    g_autofree char *base = vsh_snapshot_path(snap, "/revert");
    g_string_append(suffix, base);
    const char *opts[] = {"running", "paused", "force"};
    for (guint i = 0; i < G_N_ELEMENTS(opts); i++)
        if (vsh_cmd_has(cmd, opts[i]))
            add_query_flag(suffix, opts[i]);
    g_autoptr(JsonNode) answer = vsh_domain_call(ctl, "POST", dom, suffix->str, NULL, error);
    return answer != NULL; /* silent on success, as virsh */
}

static gboolean
cmd_snapshot_delete(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    gboolean children = vsh_cmd_has(cmd, "children");
    gboolean children_only = vsh_cmd_has(cmd, "children-only");
    if (children && children_only) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --children and --children-only are mutually exclusive");
        return FALSE;
    }
    g_autofree char *snap = vsh_snapshot_pick(ctl, cmd, dom, error);
    if (!snap)
        return FALSE;
    g_autoptr(GString) suffix = g_string_new(NULL);
    g_autofree char *base = vsh_snapshot_path(snap, NULL);
    g_string_append(suffix, base);
    if (children)
        add_query_flag(suffix, "children");
    if (children_only)
        add_query_flag(suffix, "children_only");
    if (vsh_cmd_has(cmd, "metadata"))
        add_query_flag(suffix, "metadata");
    g_autoptr(JsonNode) answer = vsh_domain_call(ctl, "DELETE", dom, suffix->str, NULL, error);
    if (!answer)
        return FALSE;
    if (children_only)
        vsh_print_extra(ctl, "Domain snapshot %s children deleted\n", snap);
    else
        vsh_print_extra(ctl, "Domain snapshot %s deleted\n", snap);
    return TRUE;
}

#define OPT_SNAP                                                                                   \
    {"snapshotname", VSH_OT_STRING, VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE, "snapshot name"},       \
    {                                                                                              \
        "current", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "the current snapshot"                       \
    }

static const VshOptDef opts_create_as[] = {
    VSH_OPT_DOMAIN,
    {"name", VSH_OT_STRING, VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE, "name of snapshot"},
    {"description", VSH_OT_STRING, VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "description of snapshot"},
    {"print-xml", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "print XML document rather than create"},
    {"no-metadata", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "take snapshot but create no metadata"},
    {"halt", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "halt domain after snapshot is created"},
    {"disk-only", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "capture disk state but not vm state"},
    {"reuse-external", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "reuse any existing external files"},
    {"quiesce", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "quiesce guest's file systems"},
    {"atomic", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "require atomic operation (always: virtd's snapshots are all or nothing)"},
    {"live", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "take a live snapshot (accepted)"},
    {"validate", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "validate the XML (always done)"},
    {"memspec", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "memory attributes: [file=]name[,snapshot=type]"},
    {"diskspec", VSH_OT_STRING, VSH_OPT_MULTI, VSH_COMPLETE_NONE,
     "disk attributes: disk[,snapshot=type][,driver=type][,file=name]"},
    {NULL},
};

static const VshOptDef opts_create[] = {
    VSH_OPT_DOMAIN,
    {"xmlfile", VSH_OT_STRING, VSH_OPT_POSITIONAL, VSH_COMPLETE_FILE,
     "domain snapshot XML"},
    {"redefine", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "redefine metadata for existing snapshot"},
    {"current", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "with redefine, set current snapshot"},
    {"no-metadata", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "take snapshot but create no metadata"},
    {"halt", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "halt domain after snapshot is created"},
    {"disk-only", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "capture disk state but not vm state"},
    {"reuse-external", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "reuse any existing external files"},
    {"quiesce", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "quiesce guest's file systems"},
    {"atomic", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "require atomic operation (always)"},
    {"live", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "take a live snapshot (accepted)"},
    {"validate", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "validate the XML (always done)"},
    {NULL},
};

static const VshOptDef opts_current[] = {
    VSH_OPT_DOMAIN,
    {"name", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list the name, rather than the full xml"},
    {"security-info", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "include security sensitive information"},
    {"snapshotname", VSH_OT_STRING, VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "name of existing snapshot to make current"},
    {NULL},
};

static const VshOptDef opts_edit[] = {
    VSH_OPT_DOMAIN,
    OPT_SNAP,
    {"rename", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "allow renaming an existing snapshot (refused)"},
    {"clone", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "allow cloning to new name (refused)"},
    {NULL},
};

static const VshOptDef opts_revert[] = {
    VSH_OPT_DOMAIN,
    OPT_SNAP,
    {"running", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "after reverting, change state to running"},
    {"paused", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "after reverting, change state to paused"},
    {"force", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "try harder on risky reverts"},
    {"reset-nvram", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "re-initialize NVRAM from its template (accepted)"},
    {NULL},
};

static const VshOptDef opts_delete[] = {
    VSH_OPT_DOMAIN,
    OPT_SNAP,
    {"children", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "delete snapshot and all children"},
    {"children-only", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "delete children but not snapshot"},
    {"metadata", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "delete only libvirt metadata, leaving snapshot contents behind"},
    {NULL},
};

const VshCmdDef vsh_snapshot_commands[] = {
    {"snapshot-create-as", "snapshot", opts_create_as, cmd_snapshot_create_as,
     "Create a snapshot from a set of args", NULL},
    {"snapshot-create", "snapshot", opts_create, cmd_snapshot_create,
     "Create a snapshot from XML", NULL},
    {"snapshot-current", "snapshot", opts_current, cmd_snapshot_current,
     "Get or set the current snapshot", NULL},
    {"snapshot-edit", "snapshot", opts_edit, cmd_snapshot_edit, "edit XML for a snapshot", NULL},
    {"snapshot-revert", "snapshot", opts_revert, cmd_snapshot_revert,
     "Revert a domain to a snapshot", NULL},
    {"snapshot-delete", "snapshot", opts_delete, cmd_snapshot_delete, "Delete a domain snapshot",
     NULL},
    VSH_SNAPSHOT_LIST_COMMANDS,
    {NULL},
};
