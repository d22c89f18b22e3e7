/* Snapshot metadata of one domain: see snapshot-store.h. */
#include "daemon/snapshot/snapshot-store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "util/vd-error.h"
#include "util/vd-file.h"

#define CURRENT_FILE "current"
#define PENDING_SUFFIX ".pending"

void
vd_snapshot_store_free(VdSnapshotStore *store)
{
    if (!store)
        return;
    g_hash_table_unref(store->by_name);
    g_hash_table_unref(store->pending);
    g_free(store->dir);
    g_free(store->current);
    g_free(store);
}

static VdSnapshotDef *
load_file(const char *dir, const char *entry, const char *domain)
{
    g_autofree char *path = g_build_filename(dir, entry, NULL);
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    VdSnapshotDef *def = NULL;
    if (g_file_get_contents(path, &text, NULL, &error))
        def = vd_snapshot_def_parse(text, TRUE, &error);
    if (!def || !def->name) {
        g_warning("domain '%s': skipping snapshot metadata '%s': %s", domain, path,
                  error ? error->message : "no <name>");
        vd_snapshot_def_free(def);
        return NULL;
    }
    return def;
}

static char *pending_of(VdSnapshotStore *store, const char *name);

static void
load(VdSnapshotStore *store, const char *domain)
{
    g_autoptr(GDir) dir = g_dir_open(store->dir, 0, NULL);
    const char *entry;

    if (!dir)
        return;
    vd_file_remove_stale_temps(store->dir);
    while ((entry = g_dir_read_name(dir))) {
        gboolean pending = g_str_has_suffix(entry, PENDING_SUFFIX);
        if ((!g_str_has_suffix(entry, ".xml") && !pending) || entry[0] == '.')
            continue;
        VdSnapshotDef *def = load_file(store->dir, entry, domain);
        if (def)
            g_hash_table_replace(pending ? store->pending : store->by_name, def->name, def);
    }
    /* Killed after the metadata was written, before the pending record
     * went: the snapshot is complete. */
    GHashTableIter pit;
    gpointer pname;
    g_hash_table_iter_init(&pit, store->pending);
    while (g_hash_table_iter_next(&pit, &pname, NULL)) {
        if (!g_hash_table_contains(store->by_name, pname))
            continue;
        g_autofree char *ppath = pending_of(store, pname);
        (void)g_unlink(ppath);
        g_hash_table_iter_remove(&pit);
    }
    g_autofree char *cur_path = g_build_filename(store->dir, CURRENT_FILE, NULL);
    g_autofree char *cur = NULL;
    if (g_file_get_contents(cur_path, &cur, NULL, NULL)) {
        g_strstrip(cur);
        if (*cur && g_hash_table_contains(store->by_name, cur))
            store->current = g_steal_pointer(&cur);
    }
    /* A parent whose file is gone (a daemon killed inside a delete that
     * re-parents): its children become roots rather than orphans. */
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, store->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        VdSnapshotDef *def = value;
        if (def->parent && !g_hash_table_contains(store->by_name, def->parent))
            g_clear_pointer(&def->parent, g_free);
    }
}

VdSnapshotStore *
vd_snapshot_store_get(VdDaemon *d, VdDomainObj *dom)
{
    if (dom->snapshots)
        return dom->snapshots;
    VdSnapshotStore *store = g_new0(VdSnapshotStore, 1);
    store->dir = vd_paths_domain_snapshot_dir(d->paths, dom->name);
    /* remove trailing slash for tidy paths */
    if (g_str_has_suffix(store->dir, "/") && strlen(store->dir) > 1)
        store->dir[strlen(store->dir) - 1] = '\0';
    store->by_name = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                           (GDestroyNotify)vd_snapshot_def_free);
    store->pending = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                           (GDestroyNotify)vd_snapshot_def_free);
    load(store, dom->name);
    dom->snapshots = store;
    return store;
}

VdSnapshotDef *
vd_snapshot_store_lookup(VdSnapshotStore *store, const char *name, GError **error)
{
    VdSnapshotDef *def = name ? g_hash_table_lookup(store->by_name, name) : NULL;
    if (!def)
        vd_set_error(error, VD_ERROR_NOT_FOUND,
                     "Domain snapshot not found: no domain snapshot with matching name '%s': "
                     "snapshot-list shows the snapshots",
                     name ? name : "");
    return def;
}

static char *
file_of(VdSnapshotStore *store, const char *name)
{
    g_autofree char *base = g_strdup_printf("%s.xml", name);
    return g_build_filename(store->dir, base, NULL);
}

gboolean
vd_snapshot_store_put(VdSnapshotStore *store, VdSnapshotDef *def, GError **error)
{
    g_autofree char *xml = vd_snapshot_def_format(def);
    g_autofree char *path = file_of(store, def->name);

    if (!vd_dir_ensure(store->dir, 0700, error) ||
        !vd_file_write_atomic(path, xml, -1, 0600, error)) {
        vd_snapshot_def_free(def);
        return FALSE;
    }
    g_hash_table_replace(store->by_name, def->name, def);
    return TRUE;
}

static char *
pending_of(VdSnapshotStore *store, const char *name)
{
    g_autofree char *base = g_strdup_printf("%s" PENDING_SUFFIX, name);
    return g_build_filename(store->dir, base, NULL);
}

gboolean
vd_snapshot_store_put_pending(VdSnapshotStore *store, const VdSnapshotDef *def, GError **error)
{
    g_autofree char *xml = vd_snapshot_def_format(def);
    g_autofree char *path = pending_of(store, def->name);

    if (!vd_dir_ensure(store->dir, 0700, error) ||
        !vd_file_write_atomic(path, xml, -1, 0600, error))
        return FALSE;
    VdSnapshotDef *copy = vd_snapshot_def_copy(def);
    g_hash_table_replace(store->pending, copy->name, copy);
    return TRUE;
}

void
vd_snapshot_store_drop_pending(VdSnapshotStore *store, const char *name)
{
    g_autofree char *path = pending_of(store, name);
    if (g_unlink(path) < 0 && errno != ENOENT)
        g_warning("cannot remove '%s': %s", path, g_strerror(errno));
    g_hash_table_remove(store->pending, name);
}

static char *
intent_of(VdSnapshotStore *store, const char *kind)
{
    g_autofree char *base = g_strdup_printf("%s.intent", kind);
    return g_build_filename(store->dir, base, NULL);
}

gboolean
vd_snapshot_store_set_intent(VdSnapshotStore *store, const char *kind, const char *name,
                             GError **error)
{
    g_autofree char *path = intent_of(store, kind);
    g_autofree char *text = g_strdup_printf("%s\n", name);
    return vd_dir_ensure(store->dir, 0700, error) &&
           vd_file_write_atomic(path, text, -1, 0600, error);
}

void
vd_snapshot_store_clear_intent(VdSnapshotStore *store, const char *kind)
{
    g_autofree char *path = intent_of(store, kind);
    if (g_unlink(path) < 0 && errno != ENOENT)
        g_warning("cannot remove '%s': %s", path, g_strerror(errno));
}

char *
vd_snapshot_store_get_intent(VdSnapshotStore *store, const char *kind)
{
    g_autofree char *path = intent_of(store, kind);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    g_strstrip(text);
    return *text ? g_steal_pointer(&text) : NULL;
}

void
vd_snapshot_store_discard_dir(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *entry;

    if (!d)
        return;
    while ((entry = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, entry, NULL);
        if (g_unlink(path) < 0 && errno != ENOENT)
            g_warning("cannot remove '%s': %s", path, g_strerror(errno));
    }
    if (g_rmdir(dir) < 0 && errno != ENOENT)
        g_warning("cannot remove '%s': %s", dir, g_strerror(errno));
}

gboolean
vd_snapshot_store_remove(VdSnapshotStore *store, const char *name, GError **error)
{
    g_autofree char *path = file_of(store, name);
    if (g_unlink(path) < 0 && errno != ENOENT) {
        int err = errno;
        return vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                            "cannot remove snapshot metadata '%s': %s", path, g_strerror(err));
    }
    if (g_strcmp0(store->current, name) == 0 && !vd_snapshot_store_set_current(store, NULL, error))
        return FALSE;
    g_hash_table_remove(store->by_name, name);
    return TRUE;
}

gboolean
vd_snapshot_store_set_current(VdSnapshotStore *store, const char *name, GError **error)
{
    g_autofree char *path = g_build_filename(store->dir, CURRENT_FILE, NULL);
    if (name) {
        g_autofree char *text = g_strdup_printf("%s\n", name);
        if (!vd_dir_ensure(store->dir, 0700, error) ||
            !vd_file_write_atomic(path, text, -1, 0600, error))
            return FALSE;
    } else if (g_unlink(path) < 0 && errno != ENOENT) {
        int err = errno;
        return vd_set_error(error, VD_ERROR_OPERATION_FAILED, "cannot remove '%s': %s", path,
                            g_strerror(err));
    }
    g_free(store->current);
    store->current = g_strdup(name);
    return TRUE;
}

static gint
by_age(gconstpointer a, gconstpointer b)
{
    const VdSnapshotDef *x = *(VdSnapshotDef *const *)a, *y = *(VdSnapshotDef *const *)b;
    if (x->creation_time != y->creation_time)
        return x->creation_time < y->creation_time ? -1 : 1;
    return g_strcmp0(x->name, y->name);
}

GPtrArray *
vd_snapshot_store_list(VdSnapshotStore *store)
{
    GPtrArray *all = g_ptr_array_new();
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, store->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_ptr_array_add(all, value);
    g_ptr_array_sort(all, by_age);
    return all;
}

GPtrArray *
vd_snapshot_store_children(VdSnapshotStore *store, const char *name)
{
    g_autoptr(GPtrArray) all = vd_snapshot_store_list(store);
    GPtrArray *out = g_ptr_array_new();
    for (guint i = 0; i < all->len; i++) {
        VdSnapshotDef *def = all->pdata[i];
        if (g_strcmp0(def->parent, name) == 0)
            g_ptr_array_add(out, def);
    }
    return out;
}

static void
add_descendants(VdSnapshotStore *store, const char *name, GPtrArray *out)
{
    g_autoptr(GPtrArray) kids = vd_snapshot_store_children(store, name);
    for (guint i = 0; i < kids->len; i++) {
        VdSnapshotDef *k = kids->pdata[i];
        g_ptr_array_add(out, k);
        add_descendants(store, k->name, out);
    }
}

GPtrArray *
vd_snapshot_store_descendants(VdSnapshotStore *store, const char *name)
{
    GPtrArray *out = g_ptr_array_new();
    add_descendants(store, name, out);
    return out;
}
