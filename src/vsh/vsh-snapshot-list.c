/* snapshot-list, snapshot-info, snapshot-dumpxml, snapshot-parent: virsh's
 * shapes (the table, --tree as vshTreePrint draws it, the info fields). */
#include <string.h>

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh-format.h"
#include "vsh-object.h"
#include "vsh-snapshot.h"

typedef struct {
    GPtrArray *items; /* JsonObject* (borrowed from the answer) */
} SnapList;

static const char *
s_name(JsonObject *o)
{
    return vsh_json_string(o, "name", "");
}

static const char *
s_parent(JsonObject *o)
{
    return vsh_json_string(o, "parent", NULL);
}

static JsonObject *
find(GPtrArray *all, const char *name)
{
    for (guint i = 0; name && i < all->len; i++)
        if (g_str_equal(s_name(all->pdata[i]), name))
            return all->pdata[i];
    return NULL;
}

static gboolean
is_descendant(GPtrArray *all, JsonObject *o, const char *ancestor)
{
    for (const char *p = s_parent(o); p; p = s_parent(find(all, p) ? find(all, p) : NULL)) {
        if (g_str_equal(p, ancestor))
            return TRUE;
        if (!find(all, p))
            break;
    }
    return FALSE;
}

/* virsh's state and location filters: within a group (--active,
 * --inactive, --disk-only; --internal, --external) any may match; no
 * flag of a group lets all through. Every snapshot listed has metadata. */
static gboolean
passes_filters(const VshCmd *cmd, JsonObject *o)
{
    const char *state = vsh_json_string(o, "state", "");
    const char *loc = vsh_json_string(o, "location", "internal");
    gboolean active = vsh_cmd_has(cmd, "active"), inactive = vsh_cmd_has(cmd, "inactive");
    gboolean disk_only = vsh_cmd_has(cmd, "disk-only");
    gboolean internal = vsh_cmd_has(cmd, "internal"), external = vsh_cmd_has(cmd, "external");

    if (vsh_cmd_has(cmd, "no-metadata") && !vsh_cmd_has(cmd, "metadata"))
        return FALSE;
    if (active || inactive || disk_only) {
        gboolean is_disk = g_str_equal(state, "disk-snapshot");
        gboolean is_off = g_str_equal(state, "shutoff");
        if (!((disk_only && is_disk) || (inactive && is_off) || (active && !is_disk && !is_off)))
            return FALSE;
    }
    if ((internal || external) && !((internal && g_str_equal(loc, "internal")) ||
                                    (external && g_str_equal(loc, "external"))))
        return FALSE;
    return TRUE;
}

/* --roots, --leaves, --no-leaves and the filters. */
static gboolean
wanted(const VshCmd *cmd, JsonObject *o)
{
    JsonArray *kids = vsh_json_array(o, "children");
    gboolean leaf = !kids || json_array_get_length(kids) == 0;

    if (vsh_cmd_has(cmd, "roots") && s_parent(o))
        return FALSE;
    if ((vsh_cmd_has(cmd, "leaves") && !leaf) || (vsh_cmd_has(cmd, "no-leaves") && leaf))
        return FALSE;
    return passes_filters(cmd, o);
}

static gint
by_name(gconstpointer a, gconstpointer b)
{
    return g_ascii_strcasecmp(s_name(*(JsonObject *const *)a), s_name(*(JsonObject *const *)b));
}

/* vshTreePrint: a node, "  |" before its children, the children with "+- ",
 * a blank (indented) line after the last leaf of a list. */
static void
tree_print(GString *out, GPtrArray *list, guint id, gint lastdev, gboolean root, GString *indent)
{
    const char *dev = s_name(list->pdata[id]);
    gint nextlast = -1;

    g_string_append_printf(out, "%s%s%s\n", indent->str, root ? "" : "+- ", dev);
    if (!root)
        g_string_append(indent, (gint)id == lastdev ? "  " : "| ");
    for (guint i = 0; i < list->len; i++)
        if (g_strcmp0(s_parent(list->pdata[i]), dev) == 0)
            nextlast = (gint)i;
    if (nextlast != -1)
        g_string_append_printf(out, "%s  |\n", indent->str);
    g_string_append(indent, "  ");
    for (guint i = 0; i < list->len; i++)
        if (g_strcmp0(s_parent(list->pdata[i]), dev) == 0)
            tree_print(out, list, i, nextlast, FALSE, indent);
    g_string_truncate(indent, indent->len - 2);
    if (nextlast == -1 && (gint)id == lastdev)
        g_string_append_printf(out, "%s\n", indent->str);
    if (!root)
        g_string_truncate(indent, indent->len - 2);
}

static void
topo_add(GPtrArray *all, const char *parent, GPtrArray *out)
{
    for (guint i = 0; i < all->len; i++) {
        JsonObject *o = all->pdata[i];
        if (g_strcmp0(s_parent(o), parent) == 0) {
            g_ptr_array_add(out, o);
            topo_add(all, s_name(o), out);
        }
    }
}

static char *
time_text(gint64 t)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(t);
    return dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M:%S %z") : g_strdup("-");
}

gboolean
vsh_cmd_snapshot_list(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    const char *from = vsh_cmd_get_string(cmd, "from");
    gboolean tree = vsh_cmd_has(cmd, "tree"), parent = vsh_cmd_has(cmd, "parent");
    gboolean roots = vsh_cmd_has(cmd, "roots"), leaves = vsh_cmd_has(cmd, "leaves");
    gboolean no_leaves = vsh_cmd_has(cmd, "no-leaves"), name_only = vsh_cmd_has(cmd, "name");
    gboolean descendants = vsh_cmd_has(cmd, "descendants"), current = vsh_cmd_has(cmd, "current");

    if (tree && (parent || roots || name_only)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --tree and --%s are mutually exclusive",
                    parent ? "parent" : roots ? "roots" : "name");
        return FALSE;
    }
    if (parent && roots) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --parent and --roots are mutually exclusive");
        return FALSE;
    }
    if (from && current) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --from and --current are mutually exclusive");
        return FALSE;
    }
    if (roots && (from || current)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --roots and --%s are mutually exclusive", from ? "from" : "current");
        return FALSE;
    }
    if (descendants && !from && !current) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--descendants requires either --from or --current");
        return FALSE;
    }
    if (leaves && no_leaves) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --leaves and --no-leaves are mutually exclusive");
        return FALSE;
    }
    g_autoptr(JsonNode) answer = vsh_snapshot_all(ctl, dom, error);
    if (!answer)
        return FALSE;
    JsonObject *root = vsh_json_root(answer);
    JsonArray *arr = vsh_json_array(root, "snapshots");
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    for (guint i = 0; arr && i < json_array_get_length(arr); i++)
        g_ptr_array_add(all, vsh_json_array_object(arr, i));

    if (current) {
        from = vsh_json_string(root, "current", NULL);
        if (!from) {
            g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "domain '%s' has no current snapshot",
                        dom);
            return FALSE;
        }
    }
    if (from && !find(all, from)) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "Domain snapshot not found: no domain snapshot with matching name '%s'", from);
        return FALSE;
    }
    /* the selection: --from (children, or descendants with --descendants
     * or --tree), then --roots, --leaves, --no-leaves */
    g_autoptr(GPtrArray) sel = g_ptr_array_new();
    for (guint i = 0; i < all->len; i++) {
        JsonObject *o = all->pdata[i];
        if (from && !(descendants || tree ? is_descendant(all, o, from)
                                          : g_strcmp0(s_parent(o), from) == 0))
            continue;
        if (wanted(cmd, o))
            g_ptr_array_add(sel, o);
    }
    if (vsh_cmd_has(cmd, "topological")) {
        g_autoptr(GPtrArray) topo = g_ptr_array_new();
        topo_add(all, NULL, topo);
        g_ptr_array_set_size(sel, 0);
        for (guint i = 0; i < topo->len; i++) {
            JsonObject *o = topo->pdata[i];
            if ((!from || is_descendant(all, o, from)) && wanted(cmd, o))
                g_ptr_array_add(sel, o);
        }
    } else {
        g_ptr_array_sort(sel, by_name);
    }

    g_autoptr(GString) out = g_string_new(NULL);
    if (tree) {
        g_autoptr(GString) indent = g_string_new(NULL);
        if (from) {
            /* as virsh: --from's snapshot is the one root of the tree */
            g_ptr_array_insert(sel, 0, find(all, from));
            tree_print(out, sel, 0, 0, TRUE, indent);
        }
        for (guint i = 0; !from && i < sel->len; i++)
            if (!s_parent(sel->pdata[i]))
                tree_print(out, sel, i, (gint)i, TRUE, indent);
        vsh_print(ctl, "%s", out->str);
        return TRUE;
    }
    if (name_only) {
        for (guint i = 0; i < sel->len; i++)
            g_string_append_printf(out, "%s\n", s_name(sel->pdata[i]));
        vsh_print(ctl, "%s", out->str);
        return TRUE;
    }
    g_autoptr(VshTable) table =
        parent ? vsh_table_new("Name", "Creation Time", "State", "Parent", NULL)
               : vsh_table_new("Name", "Creation Time", "State", NULL);
    for (guint i = 0; i < sel->len; i++) {
        JsonObject *o = sel->pdata[i];
        g_autofree char *t = time_text(vsh_json_int(o, "creation_time", 0));
        const char *row[] = {s_name(o), t, vsh_json_string(o, "state", ""), s_parent(o)};
        vsh_table_add_row(table, row);
    }
    g_autofree char *text = vsh_table_render(table, !ctl->quiet);
    vsh_print(ctl, "%s", text);
    return TRUE;
}

/* The snapshot --current or SNAPSHOTNAME names (*@snap) and its
 * description (GET .../snapshots/SNAP). */
static JsonNode *
get_picked(VshCtl *ctl, const VshCmd *cmd, const char *dom, char **snap, GError **error)
{
    if (!(*snap = vsh_snapshot_pick(ctl, cmd, dom, error)))
        return NULL;
    g_autofree char *suffix = vsh_snapshot_path(*snap, NULL);
    return vsh_domain_call(ctl, "GET", dom, suffix, NULL, error);
}

gboolean
vsh_cmd_snapshot_info(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    g_autofree char *snap = NULL;
    g_autoptr(JsonNode) answer = get_picked(ctl, cmd, dom, &snap, error);
    g_autoptr(JsonNode) summary = answer ? vsh_domain_call(ctl, "GET", dom, NULL, NULL, error) : NULL;
    if (!summary)
        return FALSE;
    JsonObject *o = vsh_json_root(answer);
    JsonArray *kids = vsh_json_array(o, "children");
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree char *nkids = g_strdup_printf("%u", kids ? json_array_get_length(kids) : 0);
    g_autofree char *ndesc = g_strdup_printf("%" G_GINT64_FORMAT, vsh_json_int(o, "descendants", 0));
    vsh_format_field(out, "Name:", s_name(o));
    vsh_format_field(out, "Domain:", vsh_json_string(vsh_json_domain(summary), "name", dom));
    vsh_format_field(out, "Current:", vsh_json_bool(o, "current", FALSE) ? "yes" : "no");
    vsh_format_field(out, "State:", vsh_json_string(o, "state", "?"));
    vsh_format_field(out, "Location:", vsh_json_string(o, "location", "internal"));
    vsh_format_field(out, "Parent:", s_parent(o) ? s_parent(o) : "-");
    vsh_format_field(out, "Children:", nkids);
    vsh_format_field(out, "Descendants:", ndesc);
    vsh_format_field(out, "Metadata:", "yes");
    vsh_print(ctl, "%s", out->str);
    return TRUE;
}

gboolean
vsh_cmd_snapshot_dumpxml(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    const char *snap = vsh_cmd_get_string(cmd, "snapshotname");
    g_autofree char *suffix = vsh_snapshot_path(snap, "/xml");
    g_autoptr(GBytes) xml = vsh_domain_get_bytes(ctl, dom, suffix, error);
    if (!xml)
        return FALSE;
    g_autofree char *text = vsh_bytes_to_string(xml);
    vsh_print(ctl, "%s", text);
    return TRUE;
}

gboolean
vsh_cmd_snapshot_parent(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    g_autofree char *snap = NULL;
    g_autoptr(JsonNode) answer = get_picked(ctl, cmd, dom, &snap, error);
    if (!answer)
        return FALSE;
    const char *p = s_parent(vsh_json_root(answer));
    if (!p) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "snapshot '%s' has no parent", snap);
        return FALSE;
    }
    vsh_print(ctl, "%s", p);
    return TRUE;
}

const VshOptDef vsh_snapshot_list_opts[] = {
    VSH_OPT_DOMAIN,
    {"parent", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "add a column showing parent snapshot"},
    {"roots", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list only snapshots without parents"},
    {"leaves", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list only snapshots without children"},
    {"no-leaves", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "list only snapshots that are not leaves (with children)"},
    {"metadata", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list only snapshots that have metadata"},
    {"no-metadata", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list only snapshots without metadata"},
    {"inactive", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "filter by snapshots taken while inactive"},
    {"active", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "filter by snapshots taken while active"},
    {"disk-only", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "filter by disk-only snapshots"},
    {"internal", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "filter by internal snapshots"},
    {"external", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "filter by external snapshots"},
    {"tree", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list snapshots in a tree"},
    {"from", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "limit list to children of given snapshot"},
    {"current", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "limit list to children of current snapshot"},
    {"descendants", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "with --from, list all descendants"},
    {"name", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list snapshot names only"},
    {"topological", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "sort list topologically rather than by name"},
    {NULL},
};

const VshOptDef vsh_snapshot_info_opts[] = {
    VSH_OPT_DOMAIN,
    {"snapshotname", VSH_OT_STRING, VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE, "snapshot name"},
    {"current", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "info on current snapshot"},
    {NULL},
};

const VshOptDef vsh_snapshot_dumpxml_opts[] = {
    VSH_OPT_DOMAIN,
    {"snapshotname", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "snapshot name"},
    {"security-info", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "include security sensitive information"},
    {"no-domain", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "exclude <domain> from XML (accepted)"},
    {NULL},
};

const VshOptDef vsh_snapshot_parent_opts[] = {
    VSH_OPT_DOMAIN,
    {"snapshotname", VSH_OT_STRING, VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE, "find parent of snapshot name"},
    {"current", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "find parent of current snapshot"},
    {NULL},
};
