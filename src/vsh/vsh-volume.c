/* Storage volume commands: vol-create-as, vol-create, vol-list, vol-info,
 * vol-path, vol-key, vol-name, vol-pool, vol-delete, vol-resize,
 * vol-clone, vol-dumpxml. vol-upload and vol-download are in
 * vsh-volume-data.c. Messages as virsh prints them. */
#include <string.h>
#include <unistd.h>

#include "util/vd-error.h"
#include "util/vd-units.h"
#include "vsh-format.h"
#include "vsh-storage.h"

char *
vsh_volume_path(const char *pool, const char *vol, const char *suffix)
{
    g_autofree char *p = g_uri_escape_string(pool, NULL, FALSE);
    g_autofree char *v = g_uri_escape_string(vol, NULL, FALSE);

    return g_strconcat("/v1/pools/", p, "/volumes/", v, suffix, NULL);
}

JsonNode *
vsh_volume_lookup(VshCtl *ctl, const VshCmd *cmd, char **pool_out, char **name_out,
                  GError **error)
{
    const char *vol = vsh_cmd_get_string(cmd, "vol");
    const char *pool = vsh_cmd_get_string(cmd, "pool");
    VshClient *client = vsh_ctl_client(ctl, error);
    g_autofree char *path = NULL;
    JsonNode *answer;

    if (!client)
        return NULL;
    if (pool) {
        path = vsh_volume_path(pool, vol, NULL);
    } else if (vol[0] == '/') {
        g_autofree char *esc = g_uri_escape_string(vol, NULL, FALSE);
        path = g_strconcat("/v1/volumes?path=", esc, NULL);
    } else {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "failed to get vol '%s': give --pool POOL, or the volume's absolute path", vol);
        return NULL;
    }
    answer = vsh_client_call(client, "GET", path, NULL, error);
    if (!answer)
        return NULL;
    JsonObject *v = vsh_json_member(answer, "volume");
    if (pool_out)
        *pool_out = g_strdup(vsh_json_string(v, "pool", pool));
    if (name_out)
        *name_out = g_strdup(vsh_json_string(v, "name", vol));
    return answer;
}

static gboolean
parse_size(const char *str, guint64 *out, GError **error)
{
    /* virsh scales vol-create-as and vol-resize sizes from bytes. */
    return vd_size_parse(str, "b", out, error);
}

static JsonNode *
post_volume(VshCtl *ctl, const char *pool, const char *content_type, GBytes *body, GError **error)
{
    VshClient *client = vsh_ctl_client(ctl, error);
    g_autofree char *path = vsh_pool_path(pool, "/volumes");

    if (!client)
        return NULL;
    return vsh_client_send_for_json(client, "POST", path, content_type, body, error);
}

static gboolean
cmd_vol_create_as(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *pool = vsh_cmd_get_string(cmd, "pool");
    const char *name = vsh_cmd_get_string(cmd, "name");
    const char *alloc_str = vsh_cmd_get_string(cmd, "allocation");
    const char *format = vsh_cmd_get_string(cmd, "format");
    const char *backing = vsh_cmd_get_string(cmd, "backing-vol");
    const char *backing_format = vsh_cmd_get_string(cmd, "backing-vol-format");
    guint64 capacity = 0;
    guint64 allocation = 0;

    if (!parse_size(vsh_cmd_get_string(cmd, "capacity"), &capacity, error) ||
        (alloc_str && !parse_size(alloc_str, &allocation, error)))
        return FALSE;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, name);
    json_builder_set_member_name(b, "capacity");
    json_builder_add_int_value(b, (gint64)capacity);
    if (alloc_str) {
        json_builder_set_member_name(b, "allocation");
        json_builder_add_int_value(b, (gint64)allocation);
    }
    const struct {
        const char *member, *value;
    } strs[] = {{"format", format}, {"backing_vol", backing}, {"backing_format", backing_format}};
    for (guint i = 0; i < G_N_ELEMENTS(strs); i++) {
        if (!strs[i].value)
            continue;
        json_builder_set_member_name(b, strs[i].member);
        json_builder_add_string_value(b, strs[i].value);
    }
    json_builder_end_object(b);
    g_autoptr(JsonNode) body = json_builder_get_root(b);
    g_autofree char *text = json_to_string(body, FALSE);
    g_autoptr(GBytes) bytes = g_bytes_new(text, strlen(text));
    g_autoptr(JsonNode) answer = post_volume(ctl, pool, "application/json", bytes, error);
    if (!answer)
        return FALSE;
    vsh_print_extra(ctl, "Vol %s created\n",
                    vsh_json_string(vsh_json_member(answer, "volume"), "name", name));
    return TRUE;
}

static gboolean
cmd_vol_create(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *pool = vsh_cmd_get_string(cmd, "pool");
    const char *file = vsh_cmd_get_string(cmd, "file");
    g_autoptr(GBytes) xml = vsh_read_small_file(file, error);
    g_autoptr(JsonNode) answer = xml ? post_volume(ctl, pool, "application/xml", xml, error) : NULL;

    if (!answer)
        return FALSE;
    vsh_print_extra(ctl, "Vol %s created from %s\n",
                    vsh_json_string(vsh_json_member(answer, "volume"), "name", "?"), file);
    return TRUE;
}

/* vol-list from GET .../volumes (a pure function of the JSON). */
char *
vsh_render_vol_list(JsonNode *answer, gboolean details, gboolean header)
{
    JsonObject *root = answer && JSON_NODE_HOLDS_OBJECT(answer) ? json_node_get_object(answer)
                                                                 : NULL;
    JsonNode *vols = root ? json_object_get_member(root, "volumes") : NULL;
    g_autoptr(VshTable) table =
        details ? vsh_table_new("Name", "Path", "Type", "Capacity", "Allocation", NULL)
                : vsh_table_new("Name", "Path", NULL);

    for (guint i = 0; vols && JSON_NODE_HOLDS_ARRAY(vols) &&
                      i < json_array_get_length(json_node_get_array(vols));
         i++) {
        JsonNode *n = json_array_get_element(json_node_get_array(vols), i);
        JsonObject *v = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
        g_autofree char *cap = vd_size_format_pretty((guint64)vsh_json_int(v, "capacity", 0));
        g_autofree char *alloc = vd_size_format_pretty((guint64)vsh_json_int(v, "allocation", 0));
        const char *cells[] = {vsh_json_string(v, "name", ""), vsh_json_string(v, "path", ""),
                               vsh_json_string(v, "type", "file"), cap, alloc};
        vsh_table_add_row(table, cells);
    }
    return vsh_table_render(table, header);
}

static gboolean
cmd_vol_list(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *pool = vsh_cmd_get_string(cmd, "pool");
    g_autoptr(JsonNode) answer = vsh_pool_call(ctl, "GET", pool, "/volumes", NULL, error);

    if (!answer)
        return FALSE;
    g_autofree char *text = vsh_render_vol_list(answer, vsh_cmd_has(cmd, "details"), !ctl->quiet);
    vsh_print(ctl, "%s", text);
    return TRUE;
}

static gboolean
cmd_vol_info(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    g_autoptr(JsonNode) answer = vsh_volume_lookup(ctl, cmd, NULL, NULL, error);
    g_autoptr(GString) out = g_string_new(NULL);

    if (!answer)
        return FALSE;
    JsonObject *v = vsh_json_member(answer, "volume");
    g_autofree char *cap = vd_size_format_pretty((guint64)vsh_json_int(v, "capacity", 0));
    g_autofree char *alloc = vd_size_format_pretty((guint64)vsh_json_int(v, "allocation", 0));
    vsh_format_field(out, "Name:", vsh_json_string(v, "name", ""));
    vsh_format_field(out, "Type:", vsh_json_string(v, "type", "file"));
    vsh_format_field(out, "Capacity:", cap);
    vsh_format_field(out, "Allocation:", alloc);
    vsh_print(ctl, "%s", out->str);
    return TRUE;
}

/* vol-path, vol-key, vol-name, vol-pool: one member of the summary. */
static gboolean
print_member(VshCtl *ctl, const VshCmd *cmd, const char *member, GError **error)
{
    g_autoptr(JsonNode) answer = vsh_volume_lookup(ctl, cmd, NULL, NULL, error);

    if (!answer)
        return FALSE;
    vsh_print(ctl, "%s\n", vsh_json_string(vsh_json_member(answer, "volume"), member, ""));
    return TRUE;
}

static gboolean
cmd_vol_path(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    return print_member(ctl, cmd, "path", error);
}

static gboolean
cmd_vol_key(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    return print_member(ctl, cmd, "key", error);
}

static gboolean
cmd_vol_name(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    return print_member(ctl, cmd, "name", error);
}

static gboolean
cmd_vol_pool(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    return print_member(ctl, cmd, "pool", error);
}

/* @method on the volume's path + @suffix with @body. */
static JsonNode *
volume_call(VshCtl *ctl, const VshCmd *cmd, const char *method, const char *suffix,
            JsonNode *body, char **name_out, GError **error)
{
    g_autofree char *pool = NULL;
    g_autoptr(JsonNode) found = vsh_volume_lookup(ctl, cmd, &pool, name_out, error);

    if (!found)
        return NULL;
    g_autofree char *path = vsh_volume_path(pool, *name_out, suffix);
    return vsh_client_call(vsh_ctl_client(ctl, NULL), method, path, body, error);
}

static gboolean
cmd_vol_delete(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    g_autofree char *name = NULL;
    g_autoptr(JsonNode) answer = volume_call(ctl, cmd, "DELETE", NULL, NULL, &name, error);

    if (!answer)
        return FALSE;
    vsh_print_extra(ctl, "Vol %s deleted\n", name);
    return TRUE;
}

static gboolean
cmd_vol_resize(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *capacity_str = vsh_cmd_get_string(cmd, "capacity");
    gboolean delta = vsh_cmd_has(cmd, "delta");
    g_autofree char *name = NULL;
    guint64 capacity = 0;

    /* virsh accepts "-1G" with --shrink --delta: the sign means shrink. */
    const char *digits =
        capacity_str[0] == '-' || capacity_str[0] == '+' ? capacity_str + 1 : capacity_str;
    if (!parse_size(digits, &capacity, error))
        return FALSE;
    if (capacity_str[0] == '-' && !(delta && vsh_cmd_has(cmd, "shrink"))) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "negative size '%s' requires both --delta and --shrink", capacity_str);
        return FALSE;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "capacity");
    json_builder_add_int_value(b, (gint64)capacity);
    json_builder_set_member_name(b, "delta");
    json_builder_add_boolean_value(b, delta);
    json_builder_set_member_name(b, "shrink");
    json_builder_add_boolean_value(b, vsh_cmd_has(cmd, "shrink"));
    json_builder_end_object(b);
    g_autoptr(JsonNode) body = json_builder_get_root(b);
    g_autoptr(JsonNode) answer = volume_call(ctl, cmd, "POST", "/resize", body, &name, error);
    if (!answer)
        return FALSE;
    vsh_print_extra(ctl,
                    delta ? "Size of volume '%s' successfully changed by %s\n"
                          : "Size of volume '%s' successfully changed to %s\n",
                    name, capacity_str);
    return TRUE;
}

static gboolean
cmd_vol_clone(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *new_name = vsh_cmd_get_string(cmd, "newname");
    g_autofree char *name = NULL;
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, new_name);
    json_builder_end_object(b);
    g_autoptr(JsonNode) body = json_builder_get_root(b);
    g_autofree char *pool = NULL;
    g_autoptr(JsonNode) found = vsh_volume_lookup(ctl, cmd, &pool, &name, error);
    g_autoptr(JsonNode) answer = NULL;
    if (!found)
        return FALSE;
    if (isatty(STDERR_FILENO)) {
        /* Somebody watches: show how far the copy is. */
        guint64 capacity =
            (guint64)MAX(vsh_json_int(vsh_json_member(found, "volume"), "capacity", 0), 0);
        answer = vsh_volume_clone_with_progress(ctl, pool, name, new_name, capacity, body, error);
    } else {
        g_autofree char *path = vsh_volume_path(pool, name, "/clone");
        answer = vsh_client_call(vsh_ctl_client(ctl, NULL), "POST", path, body, error);
    }
    if (!answer)
        return FALSE;
    vsh_print_extra(ctl, "Vol %s cloned from %s\n",
                    vsh_json_string(vsh_json_member(answer, "volume"), "name", new_name), name);
    return TRUE;
}

static gboolean
cmd_vol_dumpxml(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    g_autofree char *pool = NULL;
    g_autofree char *name = NULL;
    g_autoptr(JsonNode) found = vsh_volume_lookup(ctl, cmd, &pool, &name, error);

    if (!found)
        return FALSE;
    g_autofree char *path = vsh_volume_path(pool, name, "/xml");
    g_autoptr(GBytes) xml =
        vsh_client_send(vsh_ctl_client(ctl, NULL), "GET", path, NULL, NULL, NULL, error);
    gsize len = 0;
    if (!xml)
        return FALSE;
    const char *data = g_bytes_get_data(xml, &len);
    vsh_print(ctl, "%.*s", (int)len, data ? data : "");
    return TRUE;
}

#define OPT_VOL                                                                                    \
    {                                                                                              \
        "vol", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,            \
            "vol name, key or path"                                                                \
    }
#define OPT_VOL_POOL                                                                               \
    {                                                                                              \
        "pool", VSH_OT_STRING, 0, VSH_COMPLETE_POOL, "pool name or uuid"                           \
    }
#define OPT_POOL_REQ                                                                               \
    {                                                                                              \
        "pool", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_POOL,           \
            "pool name or uuid"                                                                    \
    }

static const VshOptDef opts_vol[] = {
    OPT_VOL,
    OPT_VOL_POOL,
    {NULL},
};

static const VshOptDef opts_vol_create_as[] = {
    OPT_POOL_REQ,
    {"name", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "name of the volume"},
    {"capacity", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "size of the vol, as scaled integer (default bytes)"},
    {"allocation", VSH_OT_STRING, 0, VSH_COMPLETE_NONE,
     "initial allocation size, as scaled integer (default bytes)"},
    {"format", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "file format type raw, qcow2"},
    {"backing-vol", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "the backing volume (name or path)"},
    {"backing-vol-format", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "format of backing volume"},
    {NULL},
};

static const VshOptDef opts_vol_create[] = {
    OPT_POOL_REQ,
    {"file", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_FILE,
     "file containing an XML vol description"},
    {NULL},
};

static const VshOptDef opts_vol_list[] = {
    OPT_POOL_REQ,
    {"details", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "display extended details for volumes"},
    {NULL},
};

static const VshOptDef opts_vol_resize[] = {
    OPT_VOL,
    {"capacity", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "new capacity for the vol, as scaled integer (default bytes)"},
    OPT_VOL_POOL,
    {"allocate", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "(accepted, not implemented)"},
    {"delta", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "use capacity as a delta to current size"},
    {"shrink", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "allow the resize to shrink the volume"},
    {NULL},
};

static const VshOptDef opts_vol_clone[] = {
    OPT_VOL,
    {"newname", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "clone name"},
    OPT_VOL_POOL,
    {NULL},
};

static const VshOptDef opts_vol_data[] = {
    OPT_VOL,
    {"file", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_FILE, "file"},
    OPT_VOL_POOL,
    {"offset", VSH_OT_INT, 0, VSH_COMPLETE_NONE, "volume offset to start at"},
    {"length", VSH_OT_INT, 0, VSH_COMPLETE_NONE, "amount of data to transfer"},
    {NULL},
};

const VshCmdDef vsh_volume_commands[] = {
    {"vol-clone", "volume", opts_vol_clone, cmd_vol_clone, "clone a volume.",
     "A full copy in the same format and pool (a backing chain is flattened)."},
    {"vol-create", "volume", opts_vol_create, cmd_vol_create, "create a vol from an XML file",
     NULL},
    {"vol-create-as", "volume", opts_vol_create_as, cmd_vol_create_as,
     "create a volume from a set of args",
     "Sizes take b, KiB/k, MiB/M, GiB/G, TiB/T (powers of 1024) or KB, MB, GB, TB."},
    {"vol-delete", "volume", opts_vol, cmd_vol_delete, "delete a vol",
     "Refused while a running domain uses the volume."},
    {"vol-download", "volume", opts_vol_data, vsh_cmd_vol_download,
     "download volume contents to a file", NULL},
    {"vol-dumpxml", "volume", opts_vol, cmd_vol_dumpxml, "vol information in XML", NULL},
    {"vol-info", "volume", opts_vol, cmd_vol_info, "storage vol information", NULL},
    {"vol-key", "volume", opts_vol, cmd_vol_key, "returns the volume key for a given volume name or path",
     NULL},
    {"vol-list", "volume", opts_vol_list, cmd_vol_list, "list vols", NULL},
    {"vol-name", "volume", opts_vol, cmd_vol_name, "returns the volume name for a given volume key or path",
     NULL},
    {"vol-path", "volume", opts_vol, cmd_vol_path, "returns the volume path for a given volume name or key",
     NULL},
    {"vol-pool", "volume", opts_vol, cmd_vol_pool, "returns the storage pool for a given volume key or path",
     NULL},
    {"vol-resize", "volume", opts_vol_resize, cmd_vol_resize, "resize a vol", NULL},
    {"vol-upload", "volume", opts_vol_data, vsh_cmd_vol_upload, "upload file contents to a volume",
     NULL},
    {NULL},
};
