/* The definitions follow the chain QEMU has: after a block job ends (or is
 * found ended), query-block is the truth, and the live and persistent
 * definitions are rewritten from it; see blockjob-priv.h. */
#include "daemon/blockjob/blockjob-priv.h"
#include "qemu/qemu-fdset-paths.h"

#include "util/vd-error.h"

VdDiskDef *
vd_blockjob_disk(const VdDomainDef *def, const char *target)
{
    for (guint i = 0; def && def->disks && i < def->disks->len; i++) {
        VdDiskDef *disk = g_ptr_array_index(def->disks, i);
        if (g_strcmp0(disk->target_dev, target) == 0 || g_strcmp0(disk->source_file, target) == 0)
            return disk;
    }
    return NULL;
}

GError *
vd_blockjob_no_disk(const char *target)
{
    return g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                       "invalid argument: disk '%s' not found in domain (give a target such as "
                       "'vda' as 'vsh domblklist' lists them)",
                       target);
}

typedef struct {
    const char *target, *old_source;
    const char *const *paths, *const *formats;
    gboolean quiet; /* a re-read: leave a plain disk element of the user's as it is */
} ChainEdit;

static void
apply_chain(VdDiskDef *disk, const ChainEdit *e)
{
    g_free(disk->source_file);
    disk->source_file = g_strdup(e->paths[0]);
    if (disk->type != VD_DISK_TYPE_BLOCK)
        disk->type = VD_DISK_TYPE_FILE;
    disk->format =
        g_strcmp0(e->formats[0], "qcow2") == 0 ? VD_DISK_FORMAT_QCOW2 : VD_DISK_FORMAT_RAW;
    vd_disk_def_set_backing_chain(disk, e->paths + 1, e->formats + 1);
}

static gboolean
edit_chain(VdDomainDef *def, gpointer data, GError **error)
{
    ChainEdit *e = data;
    VdDiskDef *disk = vd_blockjob_disk(def, e->target);
    (void)error;
    /* A persistent definition whose disk was changed meanwhile (edit,
     * detach --config) keeps what the user gave it. */
    if (!disk || (e->old_source && g_strcmp0(disk->source_file, e->old_source) != 0))
        return TRUE;
    if (e->quiet && g_strcmp0(disk->source_file, e->paths[0]) == 0) {
        /* Same source: only a chain the definition already states is kept
         * true; a daemon restart does not add <backingStore> to a user's
         * definition that never had one (QEMU reads it from the header). */
        g_autoptr(GPtrArray) had = vd_disk_def_backing_paths(disk);
        if (had->len == 0)
            return TRUE;
    }
    apply_chain(disk, e);
    return TRUE;
}

static gboolean
record_chain(VdDaemon *d, VdDomainObj *dom, const char *target, const char *old_source,
             const char *const *paths, const char *const *formats, gboolean live, gboolean quiet,
             GError **error)
{
    ChainEdit e = {target, old_source, paths, formats, quiet};
    if (live && dom->live) {
        VdDiskDef *disk = vd_blockjob_disk(dom->live, target);
        if (disk)
            apply_chain(disk, &e);
        vd_hotplug_live_record(d, dom, "the disk's new backing chain");
    }
    if (dom->persistent && vd_domain_obj_def(dom))
        return vd_domain_config_edit(d, dom, edit_chain, &e, error);
    return TRUE;
}

gboolean
vd_blockjob_record_chain(VdDaemon *d, VdDomainObj *dom, const char *target, const char *old_source,
                         const char *const *paths, const char *const *formats, gboolean live,
                         GError **error)
{
    return record_chain(d, dom, target, old_source, paths, formats, live, FALSE, error);
}

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom;
    char *target;
    GPtrArray *chain;
    VdBlockJobSyncDone done;
    gpointer data;
} Sync;

static void
sync_finish(Sync *s, const GError *error)
{
    if (s->done)
        s->done(s->dom, error, s->data);
    if (s->chain)
        g_ptr_array_unref(s->chain);
    vd_domain_obj_unref(s->dom);
    g_free(s->target);
    g_free(s);
}

static void
ignore_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    (void)qmp, (void)result, (void)error, (void)data;
}

void
vd_blockjob_del_nodes(VdDomainObj *dom, const char *format_node, const char *storage_node)
{
    vd_qmp_command(dom->qmp, "blockdev-del", vd_hotplug_args("node-name", format_node),
                   ignore_reply, NULL);
    vd_qmp_command(dom->qmp, "blockdev-del", vd_hotplug_args("node-name", storage_node),
                   ignore_reply, NULL);
}

/* The nodes virtd named for this disk ("vda-format", "vda-ov<tag>-format"
 * and their "-storage") whose image left the chain: QEMU keeps a node
 * added by blockdev-add (and its file open) until blockdev-del. One still
 * in use refuses, which is fine. */
static void
nodes_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Sync *s = data;
    (void)qmp;
    JsonArray *nodes =
        !error && result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    g_autofree char *prefix = g_strdup_printf("%s-", s->target);
    /* An external snapshot in flight has overlay nodes not yet in any
     * chain: they are its own to keep or remove. */
    if (s->dom->job == VD_JOB_SNAPSHOT)
        nodes = NULL;
    g_autoptr(GHashTable) gone = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) deleted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; nodes && s->dom->qmp && i < json_array_get_length(nodes); i++) {
        JsonObject *n = json_array_get_object_element(nodes, i);
        const char *name = json_object_get_string_member_with_default(n, "node-name", "");
        const char *file = json_object_get_string_member_with_default(n, "file", "");
        if (!g_str_has_prefix(name, prefix) || !g_str_has_suffix(name, "-format"))
            continue;
        gboolean used = FALSE;
        for (guint j = 0; j < s->chain->len && !used; j++)
            used = g_str_equal(((VdChainImage *)g_ptr_array_index(s->chain, j))->path, file);
        if (used)
            continue;
        g_autofree char *base = g_strndup(name, strlen(name) - strlen("-format"));
        g_autofree char *storage = g_strconcat(base, "-storage", NULL);
        vd_blockjob_del_nodes(s->dom, name, storage);
        g_hash_table_add(gone, (gpointer)file);
        g_hash_table_add(deleted, g_strdup(name));
        g_hash_table_add(deleted, g_steal_pointer(&storage));
    }
    /* A file QEMU holds as a descriptor (disk-chains.h) stays open while
     * its fd set has it: the set goes too, unless another node (another
     * disk's chain) still reads the file. */
    for (guint i = 0; nodes && s->dom->qmp && i < json_array_get_length(nodes); i++) {
        JsonObject *n = json_array_get_object_element(nodes, i);
        const char *name = json_object_get_string_member_with_default(n, "node-name", "");
        if (!g_hash_table_contains(deleted, name))
            g_hash_table_remove(gone, json_object_get_string_member_with_default(n, "file", ""));
    }
    GHashTableIter it;
    gpointer file;
    g_hash_table_iter_init(&it, gone);
    while (g_hash_table_iter_next(&it, &file, NULL))
        vd_qemu_fdset_forget(s->dom->qmp, file);
    sync_finish(s, NULL);
}

static void
block_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Sync *s = data;
    g_autoptr(GError) err = NULL;
    (void)qmp;
    if (error) {
        err = vd_hotplug_qmp_error(error);
        sync_finish(s, err);
        return;
    }
    s->chain = vd_qemu_block_chain(result, s->target, NULL);
    VdDiskDef *disk = vd_blockjob_disk(s->dom->live, s->target);
    if (!s->chain || s->chain->len == 0 || !disk) {
        sync_finish(s, NULL);
        return;
    }
    g_autoptr(GPtrArray) paths = g_ptr_array_new();
    g_autoptr(GPtrArray) formats = g_ptr_array_new();
    for (guint i = 0; i < s->chain->len; i++) {
        VdChainImage *ci = g_ptr_array_index(s->chain, i);
        g_ptr_array_add(paths, ci->path);
        g_ptr_array_add(formats, ci->format);
    }
    g_ptr_array_add(paths, NULL);
    g_ptr_array_add(formats, NULL);
    g_autoptr(GPtrArray) had = vd_disk_def_backing_paths(disk);
    gboolean same =
        g_strcmp0(disk->source_file, paths->pdata[0]) == 0 && had->len == s->chain->len - 1;
    for (guint i = 0; same && i < had->len; i++)
        same = g_str_equal(had->pdata[i], paths->pdata[i + 1]);
    if (!same) {
        g_autofree char *old = g_strdup(disk->source_file);
        if (!record_chain(s->d, s->dom, s->target, old, (const char *const *)paths->pdata,
                          (const char *const *)formats->pdata, TRUE, TRUE, &err))
            g_warning("domain '%s': cannot record the chain of '%s': %s", s->dom->name, s->target,
                      err->message);
    }
    if (!vd_hotplug_qmp_ready(s->dom, NULL)) {
        sync_finish(s, NULL);
        return;
    }
    vd_qmp_command_real_paths(s->dom->qmp, "query-named-block-nodes", NULL, nodes_reply, s);
}

void
vd_blockjob_sync(VdDaemon *d, VdDomainObj *dom, const char *target, VdBlockJobSyncDone done,
                 gpointer data)
{
    Sync *s = g_new0(Sync, 1);
    s->d = d;
    s->dom = vd_domain_obj_ref(dom);
    s->target = g_strdup(target);
    s->done = done;
    s->data = data;
    g_autoptr(GError) error = NULL;
    if (!vd_hotplug_qmp_ready(dom, &error)) {
        sync_finish(s, error);
        return;
    }
    vd_qmp_command_real_paths(dom->qmp, "query-block", NULL, block_reply, s);
}

/* "<target>-b<N>-format": a backing file's node named at start. */
static gboolean
is_backing_node(const char *name, const char *target)
{
    gsize n = strlen(target);
    if (strncmp(name, target, n) != 0 || !g_str_has_prefix(name + n, "-b") ||
        !g_ascii_isdigit(name[n + 2]))
        return FALSE;
    const char *end = name + n + 2;
    while (g_ascii_isdigit(*end))
        end++;
    return g_str_equal(end, "-format");
}

typedef struct {
    VdDomainObj *dom;
    char *target, *image;
} Drop;

static void
drop_nodes_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Drop *dr = data;
    JsonArray *nodes =
        !error && result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    for (guint i = 0; nodes && dr->dom->qmp && i < json_array_get_length(nodes); i++) {
        JsonObject *n = json_array_get_object_element(nodes, i);
        const char *name = json_object_get_string_member_with_default(n, "node-name", "");
        if (!is_backing_node(name, dr->target))
            continue;
        g_autofree char *base = g_strndup(name, strlen(name) - strlen("-format"));
        g_autofree char *storage = g_strconcat(base, "-storage", NULL);
        vd_blockjob_del_nodes(dr->dom, name, storage);
        vd_qemu_fdset_forget(qmp, json_object_get_string_member_with_default(n, "file", ""));
    }
    if (dr->dom->qmp)
        vd_qemu_fdset_forget(qmp, dr->image);
    vd_domain_obj_unref(dr->dom);
    g_free(dr->target);
    g_free(dr->image);
    g_free(dr);
}

void
vd_blockjob_drop_disk(VdDomainObj *dom, const char *target, const char *image)
{
    if (!dom->qmp)
        return;
    Drop *dr = g_new0(Drop, 1);
    dr->dom = vd_domain_obj_ref(dom);
    dr->target = g_strdup(target);
    dr->image = g_strdup(image);
    vd_qmp_command_real_paths(dom->qmp, "query-named-block-nodes", NULL, drop_nodes_reply, dr);
}
