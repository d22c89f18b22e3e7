/* QEMU's file names read back as the daemon's paths: see
 * qemu-fdset-paths.h. */
#include "qemu/qemu-fdset-paths.h"

#include <string.h>
#include <unistd.h>

#include "qemu/qemu-run-fds.h"
#include "util/vd-error.h"

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

void
vd_qemu_fdset_remove(VdQmp *qmp, gint64 set)
{
    JsonObject *args = json_object_new();
    json_object_set_int_member(args, "fdset-id", set);
    vd_qmp_command(qmp, "remove-fd", args, ignore_reply, NULL);
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
        if (g_str_equal(opaque, path))
            vd_qemu_fdset_remove(
                qmp, g_ascii_strtoll((const char *)name + strlen("/dev/fdset/"), NULL, 10));
    }
}

void
vd_qemu_fdset_forget(VdQmp *qmp, const char *path)
{
    if (!path)
        return;
    vd_qmp_command(qmp, "query-fdsets", NULL, forget_reply, g_strdup(path));
}

typedef struct {
    char *path;
    int rw_fd;  /* sent into the set once QEMU named it; -1: none */
    gint64 set; /* the set QEMU named */
    VdQemuFdsetAdded done;
    gpointer data;
} AddImage;

static void
add_image_finish(VdQmp *qmp, AddImage *a, gint64 set, const GError *error)
{
    a->done(qmp, set, error, a->data);
    if (a->rw_fd >= 0)
        close(a->rw_fd);
    g_free(a->path);
    g_free(a);
}

static gint64
fdset_id(JsonNode *result)
{
    JsonObject *o = result && JSON_NODE_HOLDS_OBJECT(result) ? json_node_get_object(result) : NULL;
    return o ? json_object_get_int_member_with_default(o, "fdset-id", -1) : -1;
}

static void
rw_added(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    AddImage *a = data;
    (void)result;
    if (error) {
        /* The read-only half is in QEMU already: taken back. */
        vd_qemu_fdset_remove(qmp, a->set);
        add_image_finish(qmp, a, -1, error);
        return;
    }
    add_image_finish(qmp, a, a->set, NULL);
}

static void
ro_added(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    AddImage *a = data;
    gint64 set = error ? -1 : fdset_id(result);
    if (set < 0 || a->rw_fd < 0) {
        g_autoptr(GError) err = NULL;
        if (!error && set < 0)
            err = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                              "operation failed: QEMU's add-fd named no fd set for '%s'", a->path);
        add_image_finish(qmp, a, set, error ? error : err);
        return;
    }
    a->set = set;
    JsonObject *args = json_object_new();
    json_object_set_int_member(args, "fdset-id", set);
    json_object_set_string_member(args, "opaque", a->path);
    int fd = a->rw_fd;
    a->rw_fd = -1;
    vd_qmp_command_with_fd(qmp, "add-fd", args, fd, rw_added, a);
}

gboolean
vd_qemu_fdset_add_image(VdQmp *qmp, const char *path, gboolean writable, VdQemuFdsetAdded done,
                        gpointer data, GError **error)
{
    VdQemuFdRequest ro = {.kind = VD_QEMU_FD_READ, .path = (char *)path};
    VdQemuFdRequest rw = {.kind = VD_QEMU_FD_READ_WRITE, .path = (char *)path};
    int ro_fd = vd_qemu_fd_request_open(&ro, error);
    if (ro_fd < 0)
        return FALSE;
    int rw_fd = writable ? vd_qemu_fd_request_open(&rw, error) : -1;
    if (writable && rw_fd < 0) {
        close(ro_fd);
        return FALSE;
    }
    AddImage *a = g_new0(AddImage, 1);
    a->path = g_strdup(path);
    a->rw_fd = rw_fd;
    a->done = done;
    a->data = data;
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "opaque", path);
    vd_qmp_command_with_fd(qmp, "add-fd", args, ro_fd, ro_added, a);
    return TRUE;
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
