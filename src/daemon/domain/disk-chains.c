/* Disk images as descriptors: see disk-chains.h. */
#include "daemon/domain/disk-chains.h"

#include <sys/stat.h>

#include "daemon/path-policy.h"
#include "qemu/qemu-blockjob.h"
#include "util/vd-error.h"
#include "util/vd-qcow2.h"

static VdChainImage *
image_new(const char *path, const char *format)
{
    VdChainImage *img = g_new0(VdChainImage, 1);
    img->path = g_strdup(path);
    img->format = g_strdup(format);
    return img;
}

GPtrArray *
vd_disk_chain_read(const VdPaths *p, const VdDiskDef *disk, GError **error)
{
    g_autoptr(GPtrArray) chain = g_ptr_array_new_with_free_func(vd_chain_image_free);
    const char *top_format = disk->format == VD_DISK_FORMAT_QCOW2 ? "qcow2" : "raw";
    g_ptr_array_add(chain, image_new(disk->source_file, top_format));
    for (;;) {
        const VdChainImage *last = g_ptr_array_index(chain, chain->len - 1);
        /* Only a qcow2 header is the image's word: a raw image's first
         * bytes are the guest's. */
        if (!g_str_equal(last->format, "qcow2"))
            break;
        g_autofree char *backing = vd_qcow2_backing_file(last->path);
        if (!backing)
            break;
        if (chain->len >= VD_QCOW2_MAX_CHAIN) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid argument: disk '%s': the backing chain of '%s' is deeper than "
                        "%d images (or loops): flatten it (qemu-img convert) or fix its headers",
                        disk->target_dev, disk->source_file, VD_QCOW2_MAX_CHAIN);
            return NULL;
        }
        if (!vd_path_policy_check_backing(p, disk->source_file, backing, error))
            return NULL;
        g_autofree char *format = vd_qcow2_backing_format(last->path);
        if (!format)
            format = g_strdup(vd_qcow2_is_qcow2(backing) ? "qcow2" : "raw");
        VdChainImage *img = image_new(backing, format);
        struct stat st;
        img->no_write = stat(backing, &st) == 0 && !(st.st_mode & S_IWUSR);
        g_ptr_array_add(chain, img);
    }
    return g_steal_pointer(&chain);
}

GHashTable *
vd_disk_chains_read(const VdPaths *p, const VdDomainDef *def, GError **error)
{
    g_autoptr(GHashTable) chains =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        const VdDiskDef *disk = g_ptr_array_index(def->disks, i);
        if (!disk->source_file || !disk->target_dev ||
            (disk->type != VD_DISK_TYPE_FILE && disk->type != VD_DISK_TYPE_VOLUME))
            continue;
        GPtrArray *chain = vd_disk_chain_read(p, disk, error);
        if (!chain)
            return NULL;
        g_hash_table_replace(chains, g_strdup(disk->target_dev), chain);
    }
    return g_steal_pointer(&chains);
}
