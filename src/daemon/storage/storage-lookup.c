/* The storage registry as other daemon parts see it (storage.h, "the
 * internal API"): pool volumes by name for a domain's disks, by path for
 * undefine and GET /v1/volumes?path=. Main loop. */
#include <sys/stat.h>

#include "daemon/storage/storage.h"

gboolean
vd_storage_resolve_volume(VdDaemon *d, const char *pool_name, const char *volume,
                          char **path_out, char **format_out, GError **error)
{
    VdStoragePool *pool = vd_storage_lookup(d->storage, pool_name, error);
    g_autofree char *path = pool ? vd_storage_vol_existing_path(pool, volume, error) : NULL;

    if (!path)
        return FALSE;
    if (format_out)
        *format_out = vd_storage_probe_format(path);
    if (path_out)
        *path_out = g_steal_pointer(&path);
    return TRUE;
}

gboolean
vd_storage_find_volume_by_path(VdDaemon *d, const char *path, char **pool_out,
                               char **volume_out)
{
    g_autofree char *clean = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *base = NULL;
    g_autoptr(GPtrArray) pools = NULL;
    struct stat st;

    if (!path || path[0] != '/')
        return FALSE;
    clean = g_canonicalize_filename(path, "/");
    dir = g_path_get_dirname(clean);
    base = g_path_get_basename(clean);
    if (base[0] == '.')
        return FALSE;
    pools = vd_storage_list(d->storage);
    for (guint i = 0; i < pools->len; i++) {
        VdStoragePool *pool = g_ptr_array_index(pools, i);
        /* lstat() only inside a pool's directory: any other path a client
         * names could be on a hung file system, and this is the main loop. */
        if (pool->active && g_str_equal(pool->def->target_path, dir) &&
            lstat(clean, &st) == 0 && S_ISREG(st.st_mode)) {
            if (pool_out)
                *pool_out = g_strdup(pool->def->name);
            if (volume_out)
                *volume_out = g_steal_pointer(&base);
            return TRUE;
        }
    }
    return FALSE;
}
