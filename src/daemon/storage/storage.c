/* The registry of storage pools and their files (storage.h). */
#include "daemon/storage/storage.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "daemon/events/tasks.h"
#include "daemon/path-policy.h"
#include "util/vd-error.h"
#include "util/vd-file.h"
#include "util/vd-names.h"

/* libvirt's default mode of a dir pool's directory: others may reach the
 * images by path (QEMU as another user) but not list them. */
#define POOL_DEFAULT_MODE 0711

struct _VdStorage {
    const VdPaths *paths; /* the daemon's: outlives the registry */
    char *config_dir;     /* config_dir/storage */
    char *autostart_dir;  /* config_dir/storage/autostart */
    char *run_dir;        /* run_dir/storage */
    char *default_target; /* state_dir/images */
    GHashTable *pools;    /* name -> VdStoragePool* */
    GHashTable *busy;     /* volume path -> VdStorageOp* (one ref) */
};

static void
pool_free(VdStoragePool *pool)
{
    if (!pool)
        return;
    vd_storage_pool_def_free(pool->def);
    g_free(pool);
}

VdStorage *
vd_storage_new(const VdPaths *paths)
{
    VdStorage *s = g_new0(VdStorage, 1);

    s->paths = paths;
    s->config_dir = g_build_filename(paths->config_dir, "storage", NULL);
    s->autostart_dir = g_build_filename(s->config_dir, "autostart", NULL);
    s->run_dir = g_build_filename(paths->run_dir, "storage", NULL);
    s->default_target = g_build_filename(paths->state_dir, "images", NULL);
    s->pools = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)pool_free);
    s->busy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                    (GDestroyNotify)vd_storage_op_unref);
    return s;
}

void
vd_storage_free(VdStorage *s)
{
    if (!s)
        return;
    g_hash_table_unref(s->pools);
    g_hash_table_unref(s->busy);
    g_free(s->config_dir);
    g_free(s->autostart_dir);
    g_free(s->run_dir);
    g_free(s->default_target);
    g_free(s);
}

static char *
config_file(VdStorage *s, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(s->config_dir, file, NULL);
}

static char *
autostart_link(VdStorage *s, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(s->autostart_dir, file, NULL);
}

static char *
run_file(VdStorage *s, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(s->run_dir, file, NULL);
}

/* "@what 'ARG': strerror" as an operation-failed error. */
static gboolean
set_errno_error(GError **error, int err, const char *what, const char *arg)
{
    g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "%s '%s': %s", what, arg,
                g_strerror(err));
    return FALSE;
}

/* ---- lookups ---- */

VdStoragePool *
vd_storage_lookup(VdStorage *s, const char *key, GError **error)
{
    GHashTableIter it;
    gpointer v;
    char uuid[37];

    /* virsh's order (virshCommandOptPoolBy): a UUID, then a name, so that
     * a pool named like another's UUID cannot shadow it. */
    if (vd_key_as_uuid(key, uuid)) {
        g_hash_table_iter_init(&it, s->pools);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
            if (g_str_equal(((VdStoragePool *)v)->def->uuid, uuid))
                return v;
        }
    }
    VdStoragePool *pool = key ? g_hash_table_lookup(s->pools, key) : NULL;
    if (pool)
        return pool;
    g_set_error(error, VD_ERROR, VD_ERROR_NO_POOL,
                "Storage pool not found: no storage pool with matching name '%s'",
                key ? key : "");
    return NULL;
}

static int
compare_pools(gconstpointer a, gconstpointer b)
{
    const VdStoragePool *pa = *(VdStoragePool *const *)a;
    const VdStoragePool *pb = *(VdStoragePool *const *)b;
    return strcmp(pa->def->name, pb->def->name);
}

GPtrArray *
vd_storage_list(VdStorage *s)
{
    GPtrArray *all = g_ptr_array_new();
    GHashTableIter it;
    gpointer v;

    g_hash_table_iter_init(&it, s->pools);
    while (g_hash_table_iter_next(&it, NULL, &v))
        g_ptr_array_add(all, v);
    g_ptr_array_sort(all, compare_pools);
    return all;
}

gboolean
vd_storage_check_active(VdStoragePool *pool, GError **error)
{
    if (pool->active)
        return TRUE;
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                "Requested operation is not valid: storage pool '%s' is not active: "
                "start it with pool-start",
                pool->def->name);
    return FALSE;
}

void
vd_storage_pool_refresh_stats(VdStoragePool *pool)
{
    struct statvfs st;

    pool->def->capacity = pool->def->allocation = pool->def->available = 0;
    if (!pool->active || statvfs(pool->def->target_path, &st) < 0)
        return;
    /* As libvirt: capacity of the file system, what is used of it, and
     * what an unprivileged writer can still get. */
    pool->def->capacity = (guint64)st.f_frsize * st.f_blocks;
    pool->def->available = (guint64)st.f_frsize * st.f_bavail;
    pool->def->allocation = (guint64)st.f_frsize * (st.f_blocks - st.f_bfree);
}

/* ---- define / undefine ---- */

static gboolean
save_config(VdStorage *s, const VdStoragePoolDef *def, GError **error)
{
    g_autoptr(VdStoragePoolDef) copy = vd_storage_pool_def_new();
    g_autofree char *path = config_file(s, def->name);

    /* The definition only: live figures belong to pool-dumpxml. */
    copy->name = def->name;
    memcpy(copy->uuid, def->uuid, sizeof(copy->uuid));
    copy->target_path = def->target_path;
    copy->perms = def->perms;
    g_autofree char *xml = vd_storage_pool_def_format(copy);
    copy->name = copy->target_path = copy->perms.label = NULL;
    return vd_dir_ensure(s->autostart_dir, 0700, error) &&
           vd_file_write_atomic(path, xml, -1, 0600, error);
}

VdStoragePool *
vd_storage_define(VdStorage *s, VdStoragePoolDef *def_in, GError **error)
{
    g_autoptr(VdStoragePoolDef) def = def_in;
    VdStoragePool *same = g_hash_table_lookup(s->pools, def->name);
    GHashTableIter it;
    gpointer v;

    if (!vd_path_policy_check_pool_target(s->paths, def->name, def->target_path, error))
        return NULL;
    g_hash_table_iter_init(&it, s->pools);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        VdStoragePool *p = v;
        if (p == same)
            continue;
        if (g_str_equal(p->def->uuid, def->uuid)) {
            g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                        "pool '%s' already exists with uuid %s", p->def->name, def->uuid);
            return NULL;
        }
        if (g_str_equal(p->def->target_path, def->target_path)) {
            g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                        "Storage source conflict with pool: '%s' already uses target path '%s'",
                        p->def->name, def->target_path);
            return NULL;
        }
    }
    if (same && !g_str_equal(same->def->uuid, def->uuid)) {
        g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                    "pool '%s' already exists with uuid %s: undefine it first, or keep its uuid "
                    "to redefine it",
                    def->name, same->def->uuid);
        return NULL;
    }
    if (same && same->active && !g_str_equal(same->def->target_path, def->target_path)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: cannot change the target path of active "
                    "pool '%s': run pool-destroy first",
                    def->name);
        return NULL;
    }
    if (!save_config(s, def, error))
        return NULL;
    if (same) {
        vd_storage_pool_def_free(same->def);
        same->def = g_steal_pointer(&def);
        return same;
    }
    VdStoragePool *pool = g_new0(VdStoragePool, 1);
    pool->def = g_steal_pointer(&def);
    g_hash_table_insert(s->pools, pool->def->name, pool);
    return pool;
}

static gboolean
check_idle(VdStoragePool *pool, const char *op, GError **error)
{
    if (pool->jobs == 0)
        return TRUE;
    g_set_error(error, VD_ERROR, VD_ERROR_BUSY,
                "cannot %s pool '%s': %u volume operation(s) still running on it; retry when "
                "they finish",
                op, pool->def->name, pool->jobs);
    return FALSE;
}

gboolean
vd_storage_undefine(VdStorage *s, VdStoragePool *pool, GError **error)
{
    if (pool->active) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: storage pool '%s' is still active: "
                    "run pool-destroy first",
                    pool->def->name);
        return FALSE;
    }
    if (!check_idle(pool, "undefine", error))
        return FALSE;
    g_autofree char *conf = config_file(s, pool->def->name);
    g_autofree char *link = autostart_link(s, pool->def->name);
    if (g_unlink(link) < 0 && errno != ENOENT)
        return set_errno_error(error, errno, "cannot remove autostart link", link);
    if (g_unlink(conf) < 0 && errno != ENOENT)
        return set_errno_error(error, errno, "cannot remove", conf);
    g_hash_table_remove(s->pools, pool->def->name);
    return TRUE;
}

/* ---- lifecycle ---- */

gboolean
vd_storage_build(VdStorage *s, VdStoragePool *pool, GError **error)
{
    const VdStoragePoolDef *def = pool->def;
    int mode = def->perms.mode != G_MAXUINT ? (int)def->perms.mode : POOL_DEFAULT_MODE;

    /* Again: a directory on the way may have become a symlink since. */
    if (!vd_path_policy_check_pool_target(s->paths, def->name, def->target_path, error))
        return FALSE;
    if (g_mkdir_with_parents(def->target_path, mode) < 0)
        return set_errno_error(error, errno, "cannot create pool directory",
                               def->target_path);
    /* An existing directory keeps its contents; its mode and owner become
     * the definition's, as libvirt's pool-build does. */
    if (chmod(def->target_path, (mode_t)mode) < 0)
        return set_errno_error(error, errno, "cannot set the mode of", def->target_path);
    if ((def->perms.owner >= 0 || def->perms.group >= 0) &&
        chown(def->target_path, (uid_t)def->perms.owner, (gid_t)def->perms.group) < 0)
        return set_errno_error(error, errno, "cannot set the owner of", def->target_path);
    return TRUE;
}

gboolean
vd_storage_start(VdStorage *s, VdStoragePool *pool, GError **error)
{
    const char *dir = pool->def->target_path;

    if (pool->active) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: storage pool '%s' is already active",
                    pool->def->name);
        return FALSE;
    }
    if (!vd_path_policy_check_pool_target(s->paths, pool->def->name, dir, error))
        return FALSE;
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "cannot start pool '%s': target directory '%s' does not exist: run "
                    "pool-build %s first",
                    pool->def->name, dir, pool->def->name);
        return FALSE;
    }
    g_autofree char *xml = vd_storage_pool_def_format(pool->def);
    g_autofree char *run = run_file(s, pool->def->name);
    if (!vd_dir_ensure(s->run_dir, 0700, error) || !vd_file_replace(run, xml, -1, 0600, error))
        return FALSE;
    pool->active = TRUE;
    return TRUE;
}

gboolean
vd_storage_destroy(VdStorage *s, VdStoragePool *pool, GError **error)
{
    if (!vd_storage_check_active(pool, error) || !check_idle(pool, "destroy", error))
        return FALSE;
    g_autofree char *run = run_file(s, pool->def->name);
    if (g_unlink(run) < 0 && errno != ENOENT)
        return set_errno_error(error, errno, "cannot remove", run);
    pool->active = FALSE;
    return TRUE;
}

gboolean
vd_storage_set_autostart(VdStorage *s, VdStoragePool *pool, gboolean on, GError **error)
{
    g_autofree char *link = autostart_link(s, pool->def->name);
    g_autofree char *target = g_strconcat("../", pool->def->name, ".xml", NULL);

    if (!vd_dir_ensure(s->autostart_dir, 0700, error))
        return FALSE;
    if (g_unlink(link) < 0 && errno != ENOENT)
        return set_errno_error(error, errno, "cannot remove autostart link", link);
    if (on && symlink(target, link) < 0)
        return set_errno_error(error, errno, "cannot create autostart link", link);
    pool->autostart = on;
    return TRUE;
}

/* ---- busy volumes ---- */

static void
op_clear(VdStorageOp *op)
{
    g_free(op->kind);
    g_free(op->pool);
    g_free(op->volume);
    g_free(op->path);
    g_free(op->failure);
    g_free(op->detail);
}

VdStorageOp *
vd_storage_op_ref(VdStorageOp *op)
{
    return g_atomic_rc_box_acquire(op);
}

void
vd_storage_op_unref(VdStorageOp *op)
{
    if (op)
        g_atomic_rc_box_release_full(op, (GDestroyNotify)op_clear);
}

void
vd_storage_op_set_progress(VdStorageOp *op, double percent)
{
    g_atomic_int_set(&op->progress, (gint)(CLAMP(percent, 0.0, 100.0) * 4.0 + 0.5));
}

void
vd_storage_op_set_failure(VdStorageOp *op, const char *message)
{
    g_free(op->failure);
    op->failure = g_strdup(message);
}

void
vd_storage_op_set_detail(VdStorageOp *op, const char *detail)
{
    g_free(op->detail);
    op->detail = g_strdup(detail);
}

double
vd_storage_op_get_progress(VdStorageOp *op)
{
    return g_atomic_int_get(&op->progress) / 4.0;
}

VdStorageOp *
vd_storage_busy_acquire(VdStorage *s, const char *pool, const char *path, const char *kind,
                        GError **error)
{
    VdStorageOp *running = g_hash_table_lookup(s->busy, path);

    if (running) {
        g_set_error(error, VD_ERROR, VD_ERROR_BUSY,
                    "volume '%s' is busy: a %s is running on it; retry when it finishes", path,
                    running->kind);
        return NULL;
    }
    VdStorageOp *op = g_atomic_rc_box_new0(VdStorageOp);
    op->kind = g_strdup(kind);
    op->pool = g_strdup(pool);
    op->volume = g_path_get_basename(path);
    op->path = g_strdup(path);
    op->started_at = g_get_real_time();
    g_hash_table_insert(s->busy, g_strdup(path), op);
    vd_tasks_volume_begin(op); /* issue 14: the task log */
    return op;
}

void
vd_storage_busy_release(VdStorage *s, const char *path)
{
    VdStorageOp *op = g_hash_table_lookup(s->busy, path);

    if (op)
        vd_tasks_volume_end(op);
    g_hash_table_remove(s->busy, path);
}

VdStorageOp *
vd_storage_busy_lookup(VdStorage *s, const char *path)
{
    return path ? g_hash_table_lookup(s->busy, path) : NULL;
}

static int
compare_ops(gconstpointer a, gconstpointer b)
{
    const VdStorageOp *x = *(VdStorageOp *const *)a;
    const VdStorageOp *y = *(VdStorageOp *const *)b;

    if (x->started_at != y->started_at)
        return x->started_at < y->started_at ? -1 : 1;
    return strcmp(x->path, y->path);
}

GPtrArray *
vd_storage_ops_list(VdStorage *s)
{
    GPtrArray *ops = g_ptr_array_new_with_free_func((GDestroyNotify)vd_storage_op_unref);
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, s->busy);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_ptr_array_add(ops, vd_storage_op_ref(value));
    g_ptr_array_sort(ops, compare_ops);
    return ops;
}

/* ---- load / first start / autostart ---- */

static void
create_default_pool(VdStorage *s)
{
    g_autoptr(GError) error = NULL;
    VdStoragePoolDef *def = vd_storage_pool_def_new_dir("default", s->default_target, &error);
    VdStoragePool *pool = def ? vd_storage_define(s, def, &error) : NULL;

    if (!pool || !vd_storage_build(s, pool, &error) || !vd_storage_start(s, pool, &error) ||
        !vd_storage_set_autostart(s, pool, TRUE, &error)) {
        g_warning("cannot set up the default storage pool at '%s': %s", s->default_target,
                  error->message);
        return;
    }
    g_info("defined storage pool 'default' at %s", s->default_target);
}

char *
vd_storage_partial_dir(const VdPaths *paths)
{
    return g_build_filename(paths->state_dir, "storage", "partial", NULL);
}

/* Volumes a killed daemon was making (storage-vol.c: partial_begin): their
 * files are partial, whatever their size says; removed with their record. */
static void
remove_partial_volumes(VdStorage *s)
{
    g_autofree char *dir_path = vd_storage_partial_dir(s->paths);
    g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
    const char *file;

    vd_file_remove_stale_temps(dir_path);
    while (dir && (file = g_dir_read_name(dir))) {
        g_autofree char *record = g_build_filename(dir_path, file, NULL);
        g_autofree char *path = NULL;
        struct stat st;
        if (file[0] == '.' || !g_file_get_contents(record, &path, NULL, NULL))
            continue;
        if (g_path_is_absolute(path) && lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            g_warning("volume '%s' was being made when the daemon stopped: its partial file is "
                      "removed",
                      path);
            g_unlink(path);
        }
        g_unlink(record);
    }
}

void
vd_storage_load(VdStorage *s)
{
    g_autoptr(GError) error = NULL;
    gboolean first = !g_file_test(s->config_dir, G_FILE_TEST_IS_DIR);

    if (!vd_dir_ensure(s->autostart_dir, 0700, &error) ||
        !vd_dir_ensure(s->run_dir, 0700, &error)) {
        g_warning("storage pools unavailable: %s", error->message);
        return;
    }
    remove_partial_volumes(s);
    if (first) {
        create_default_pool(s);
        return;
    }
    g_autoptr(GDir) dir = g_dir_open(s->config_dir, 0, &error);
    const char *file;
    while (dir && (file = g_dir_read_name(dir))) {
        if (!g_str_has_suffix(file, ".xml") || file[0] == '.')
            continue;
        g_autofree char *path = g_build_filename(s->config_dir, file, NULL);
        g_autofree char *xml = NULL;
        g_autoptr(GError) e = NULL;
        VdStoragePoolDef *def = NULL;
        if (!g_file_get_contents(path, &xml, NULL, &e) ||
            !(def = vd_storage_pool_def_parse(xml, &e))) {
            g_warning("skipping storage pool file '%s': %s", path, e->message);
            continue;
        }
        g_autofree char *expect = g_strconcat(def->name, ".xml", NULL);
        if (!g_str_equal(expect, file) || g_hash_table_contains(s->pools, def->name)) {
            g_warning("skipping storage pool file '%s': it defines pool '%s'", path, def->name);
            vd_storage_pool_def_free(def);
            continue;
        }
        VdStoragePool *pool = g_new0(VdStoragePool, 1);
        pool->def = def;
        g_autofree char *link = autostart_link(s, def->name);
        g_autofree char *run = run_file(s, def->name);
        pool->autostart = g_file_test(link, G_FILE_TEST_IS_SYMLINK);
        /* Active before the restart, and its directory still there. A
         * target that the policy refuses now (defined by an older virtd,
         * or a symlink swapped since) keeps its definition, inactive. */
        pool->active = g_file_test(run, G_FILE_TEST_EXISTS) &&
                       g_file_test(def->target_path, G_FILE_TEST_IS_DIR);
        if (!vd_path_policy_check_pool_target(s->paths, def->name, def->target_path, &e)) {
            g_warning("storage pool '%s' stays inactive: %s", def->name, e->message);
            pool->active = FALSE;
        }
        if (!pool->active)
            g_unlink(run);
        g_hash_table_insert(s->pools, def->name, pool);
    }
}

void
vd_storage_autostart(VdStorage *s)
{
    g_autoptr(GPtrArray) pools = vd_storage_list(s);

    for (guint i = 0; i < pools->len; i++) {
        VdStoragePool *pool = g_ptr_array_index(pools, i);
        g_autoptr(GError) error = NULL;
        if (!pool->autostart || pool->active)
            continue;
        if (!vd_storage_start(s, pool, &error))
            g_warning("cannot autostart storage pool '%s': %s", pool->def->name, error->message);
    }
}
