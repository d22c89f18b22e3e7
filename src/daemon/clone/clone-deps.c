/* Linked clones: which domains' disks are overlays on another domain's
 * images (clone.h). The backing file names come from the qcow2 headers
 * themselves (a few bytes each, read as vd_storage_probe_format reads
 * its magic, so the main loop may do it), following each chain, so an
 * overlay made by hand (qemu-img create -b) counts as well as --linked. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "daemon/clone/clone.h"
#include "daemon/storage/storage.h"
#include "util/vd-error.h"
#include "util/vd-qcow2.h"

#define MAX_CHAIN 16

static char *
disk_path(VdDaemon *d, const VdDiskDef *disk)
{
    if (disk->type == VD_DISK_TYPE_VOLUME && disk->source_pool && disk->source_volume) {
        char *path = NULL;
        return vd_storage_resolve_volume(d, disk->source_pool, disk->source_volume, &path, NULL,
                                         NULL)
                   ? path
                   : NULL;
    }
    return disk->type == VD_DISK_TYPE_FILE ? g_strdup(disk->source_file) : NULL;
}

static GHashTable *
image_set(VdDaemon *d, const VdDomainDef *def)
{
    GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; def && i < def->disks->len; i++) {
        VdDiskDef *disk = g_ptr_array_index(def->disks, i);
        char *p = disk_path(d, disk);
        if (p && disk->device == VD_DISK_DEVICE_DISK)
            g_hash_table_add(set, g_canonicalize_filename(p, "/"));
        g_free(p);
    }
    return set;
}

/* The domains other than @skip with a disk whose backing chain reaches
 * one of @images; NULL when none. */
static char **
backed_by(VdDaemon *d, GHashTable *images, VdDomainObj *skip)
{
    g_autoptr(GPtrArray) all = vd_domain_list_all(d->domains);
    g_autoptr(GPtrArray) names = g_ptr_array_new();

    if (g_hash_table_size(images) == 0)
        return NULL;
    for (guint i = 0; i < all->len; i++) {
        VdDomainObj *o = g_ptr_array_index(all, i);
        if (o == skip)
            continue;
        g_autoptr(GHashTable) theirs = image_set(d, vd_domain_obj_def(o));
        gboolean depends = FALSE;
        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init(&it, theirs);
        while (!depends && g_hash_table_iter_next(&it, &key, NULL)) {
            /* A shared image is the original's own disk, not an overlay. */
            if (g_hash_table_contains(images, key))
                continue;
            g_autofree char *cur = g_strdup(key);
            for (guint k = 0; k < MAX_CHAIN && cur && !depends; k++) {
                char *next = vd_qcow2_backing_file(cur);
                g_free(cur);
                cur = next ? g_canonicalize_filename(next, "/") : NULL;
                g_free(next);
                depends = cur && g_hash_table_contains(images, cur);
            }
        }
        if (depends)
            g_ptr_array_add(names, g_strdup(o->name));
    }
    if (names->len == 0)
        return NULL;
    g_ptr_array_add(names, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&names), FALSE);
}

char **
vd_clone_dependents(VdDaemon *d, VdDomainObj *dom)
{
    g_autoptr(GHashTable) mine = image_set(d, vd_domain_obj_def(dom));
    return backed_by(d, mine, dom);
}

gboolean
vd_clone_check_backing_unused(VdDaemon *d, const char *path, GError **error)
{
    g_autoptr(GHashTable) set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_add(set, g_canonicalize_filename(path, "/"));
    g_auto(GStrv) deps = backed_by(d, set, NULL);

    if (!deps)
        return TRUE;
    g_autofree char *list = g_strjoinv("', '", deps);
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                "Requested operation is not valid: '%s' is the backing file of the disks of "
                "domain(s) '%s' (linked clones): undefine them with their storage first",
                path, list);
    return FALSE;
}

gboolean
vd_clone_check_removable(VdDaemon *d, VdDomainObj *dom, GError **error)
{
    g_auto(GStrv) deps = vd_clone_dependents(d, dom);

    if (!deps)
        return TRUE;
    g_autofree char *list = g_strjoinv("', '", deps);
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                "Requested operation is not valid: the disk images of domain '%s' are the "
                "backing files of linked clone(s) '%s': undefine those first (vsh undefine NAME "
                "--remove-all-storage), or undefine '%s' without removing its storage",
                dom->name, list, dom->name);
    return FALSE;
}
