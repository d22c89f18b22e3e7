/* QEMU's file names read back as the daemon's paths: see
 * qemu-fdset-paths.h. */
#include "qemu/qemu-fdset-paths.h"

#include <string.h>

GHashTable *
vd_qemu_fdset_paths(JsonNode *result)
{
    GHashTable *paths = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    JsonArray *sets = result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    for (guint i = 0; sets && i < json_array_get_length(sets); i++) {
        JsonObject *set = json_array_get_object_element(sets, i);
        JsonArray *fds = set && json_object_has_member(set, "fds")
                             ? json_object_get_array_member(set, "fds")
                             : NULL;
        for (guint j = 0; fds && j < json_array_get_length(fds); j++) {
            JsonObject *fd = json_array_get_object_element(fds, j);
            const char *opaque =
                fd ? json_object_get_string_member_with_default(fd, "opaque", NULL) : NULL;
            /* Only a path: the daemon's own sets name their file so. */
            if (!opaque || opaque[0] != '/')
                continue;
            g_hash_table_insert(
                paths,
                g_strdup_printf("/dev/fdset/%" G_GINT64_FORMAT,
                                json_object_get_int_member_with_default(set, "fdset-id", -1)),
                g_strdup(opaque));
            break;
        }
    }
    return paths;
}

/* The innermost "filename" under "file" members of a json: name's
 * options, the image file of a format node (qcow2 > file). */
static const char *
json_image_filename(JsonObject *o)
{
    for (int depth = 0; o && depth < 8; depth++) {
        JsonNode *file = json_object_get_member(o, "file");
        if (!file)
            return json_object_get_string_member_with_default(o, "filename", NULL);
        if (JSON_NODE_HOLDS_VALUE(file) && json_node_get_value_type(file) == G_TYPE_STRING)
            return json_node_get_string(file);
        o = JSON_NODE_HOLDS_OBJECT(file) ? json_node_get_object(file) : NULL;
    }
    return NULL;
}

char *
vd_qemu_fdset_real_name(GHashTable *paths, const char *name)
{
    if (!name)
        return NULL;
    if (g_str_has_prefix(name, "/dev/fdset/")) {
        const char *path = g_hash_table_lookup(paths, name);
        return path ? g_strdup(path) : NULL;
    }
    if (!g_str_has_prefix(name, "json:"))
        return NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, name + strlen("json:"), -1, NULL))
        return NULL;
    JsonNode *root = json_parser_get_root(parser);
    const char *file = root && JSON_NODE_HOLDS_OBJECT(root)
                           ? json_image_filename(json_node_get_object(root))
                           : NULL;
    char *real = vd_qemu_fdset_real_name(paths, file);
    return real ? real : g_strdup(file);
}

void
vd_qemu_fdset_rewrite(JsonNode *node, GHashTable *paths)
{
    if (!node)
        return;
    if (JSON_NODE_HOLDS_ARRAY(node)) {
        JsonArray *a = json_node_get_array(node);
        for (guint i = 0; i < json_array_get_length(a); i++)
            vd_qemu_fdset_rewrite(json_array_get_element(a, i), paths);
    } else if (JSON_NODE_HOLDS_OBJECT(node)) {
        JsonObjectIter it;
        JsonNode *member;
        json_object_iter_init(&it, json_node_get_object(node));
        while (json_object_iter_next(&it, NULL, &member))
            vd_qemu_fdset_rewrite(member, paths);
    } else if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING) {
        g_autofree char *real = vd_qemu_fdset_real_name(paths, json_node_get_string(node));
        if (real)
            json_node_set_string(node, real);
    }
}

static void
ignore_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    (void)qmp, (void)result, (void)error, (void)data;
}

static void
forget_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    g_autofree char *path = data;
    if (error)
        return;
    g_autoptr(GHashTable) paths = vd_qemu_fdset_paths(result);
    GHashTableIter it;
    gpointer name, opaque;
    g_hash_table_iter_init(&it, paths);
    while (g_hash_table_iter_next(&it, &name, &opaque)) {
        if (!g_str_equal(opaque, path))
            continue;
        JsonObject *args = json_object_new();
        json_object_set_int_member(
            args, "fdset-id",
            g_ascii_strtoll((const char *)name + strlen("/dev/fdset/"), NULL, 10));
        vd_qmp_command(qmp, "remove-fd", args, ignore_reply, NULL);
    }
}

void
vd_qemu_fdset_forget(VdQmp *qmp, const char *path)
{
    vd_qmp_command(qmp, "query-fdsets", NULL, forget_reply, g_strdup(path));
}

typedef struct {
    GHashTable *paths;
    VdQmpReplyFunc reply;
    gpointer data;
} RealPaths;

static void
fdsets_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    RealPaths *rp = data;
    (void)qmp;
    /* An error leaves the names as they are: the command's own reply
     * reports a closed connection. */
    if (!error)
        rp->paths = vd_qemu_fdset_paths(result);
}

static void
command_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    RealPaths *rp = data;
    if (!error && rp->paths)
        vd_qemu_fdset_rewrite(result, rp->paths);
    rp->reply(qmp, result, error, rp->data);
    if (rp->paths)
        g_hash_table_unref(rp->paths);
    g_free(rp);
}

void
vd_qmp_command_real_paths(VdQmp *qmp, const char *command, JsonObject *arguments,
                          VdQmpReplyFunc reply, gpointer user_data)
{
    RealPaths *rp = g_new0(RealPaths, 1);
    rp->reply = reply;
    rp->data = user_data;
    vd_qmp_command(qmp, "query-fdsets", NULL, fdsets_reply, rp);
    vd_qmp_command(qmp, command, arguments, command_reply, rp);
}
