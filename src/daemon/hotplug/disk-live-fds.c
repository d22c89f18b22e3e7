/* Disks added while running, given to QEMU as descriptors: see
 * disk-live-priv.h (vd_disk_live_add_chain, vd_disk_live_add_fdset). */
#include "daemon/hotplug/disk-live-priv.h"

#include "daemon/domain/disk-chains.h"
#include "qemu/qemu-blockjob.h"
#include "util/vd-qcow2.h"

gboolean
vd_disk_live_add_fdset(VdDomainObj *dom, const VdDiskDef *disk, VdQemuFdsetAdded done,
                       gpointer data)
{
    g_autofree char *backing =
        disk->format == VD_DISK_FORMAT_QCOW2 ? vd_qcow2_backing_file(disk->source_file) : NULL;
    if (!disk->source_file || backing ||
        (disk->type != VD_DISK_TYPE_FILE && disk->type != VD_DISK_TYPE_VOLUME))
        return FALSE;
    gboolean writable = !disk->readonly && disk->device != VD_DISK_DEVICE_CDROM;
    g_autoptr(GError) error = NULL;
    if (!vd_qemu_fdset_add_image(dom->qmp, disk->source_file, writable, done, data, &error)) {
        /* QEMU would fail on it the same way; its own path names it. */
        g_message("disk '%s': %s; QEMU opens it by path", disk->target_dev, error->message);
        return FALSE;
    }
    return TRUE;
}

void
vd_disk_live_remove_fdsets(VdDomainObj *dom, GPtrArray *chain)
{
    for (guint i = 0; dom->qmp && chain && i < chain->len; i++) {
        const VdChainImage *img = g_ptr_array_index(chain, i);
        if (img->in_fdset)
            vd_qemu_fdset_remove(dom->qmp, img->fdset);
    }
}

typedef struct {
    VdDomainObj *dom; /* a reference */
    GPtrArray *chain;
    guint next;
    gboolean writable;
    VdDiskLiveChainAdded done;
    gpointer data;
} AddChain;

static void add_next(AddChain *ac);

static void
add_finish(AddChain *ac, const GError *error)
{
    if (error)
        vd_disk_live_remove_fdsets(ac->dom, ac->chain);
    ac->done(error ? NULL : g_steal_pointer(&ac->chain), error, ac->data);
    if (ac->chain)
        g_ptr_array_unref(ac->chain);
    vd_domain_obj_unref(ac->dom);
    g_free(ac);
}

static void
image_added(VdQmp *qmp, gint64 set, const GError *error, gpointer data)
{
    AddChain *ac = data;
    (void)qmp;
    if (error) {
        add_finish(ac, error);
        return;
    }
    VdChainImage *img = g_ptr_array_index(ac->chain, ac->next++);
    img->in_fdset = TRUE;
    img->fdset = set;
    add_next(ac);
}

/* One image at a time: each add-fd answer names the set the next
 * blockdev-add uses. */
static void
add_next(AddChain *ac)
{
    if (ac->next == ac->chain->len) {
        add_finish(ac, NULL);
        return;
    }
    const VdChainImage *img = g_ptr_array_index(ac->chain, ac->next);
    g_autoptr(GError) error = NULL;
    if (!vd_hotplug_qmp_ready(ac->dom, &error) ||
        !vd_qemu_fdset_add_image(ac->dom->qmp, img->path,
                                 ac->writable && !(ac->next > 0 && img->no_write), image_added, ac,
                                 &error))
        add_finish(ac, error);
}

gboolean
vd_disk_live_add_chain(VdDaemon *d, VdDomainObj *dom, const VdDiskDef *disk,
                       VdDiskLiveChainAdded done, gpointer data)
{
    if (!disk->source_file ||
        (disk->type != VD_DISK_TYPE_FILE && disk->type != VD_DISK_TYPE_VOLUME))
        return FALSE;
    g_autoptr(GError) error = NULL;
    GPtrArray *chain = vd_disk_chain_read(d->paths, disk, &error);
    if (!chain) {
        /* The path way checks the same and refuses the same way. */
        g_message("disk '%s': %s", disk->target_dev, error->message);
        return FALSE;
    }
    AddChain *ac = g_new0(AddChain, 1);
    ac->dom = vd_domain_obj_ref(dom);
    ac->chain = chain;
    ac->writable = !disk->readonly && disk->device != VD_DISK_DEVICE_CDROM;
    ac->done = done;
    ac->data = data;
    add_next(ac);
    return TRUE;
}
