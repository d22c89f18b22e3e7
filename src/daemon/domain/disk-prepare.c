/* Disks between the definition and QEMU (see disk-prepare.h). */
#include "daemon/domain/disk-prepare.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "conf/domain-enums.h"
#include "daemon/storage/storage.h"
#include "util/vd-error.h"

VdDiskFormat
vd_disk_image_probe_format_fd(int fd)
{
    guint8 magic[4] = {0};
    ssize_t n = pread(fd, magic, sizeof(magic), 0);

    if (n < 0)
        return VD_DISK_FORMAT_NONE;
    if (n == 4 && memcmp(magic, "QFI\xfb", 4) == 0)
        return VD_DISK_FORMAT_QCOW2;
    return VD_DISK_FORMAT_RAW;
}

static const char *
disk_name(const VdDiskDef *disk)
{
    return disk->target_dev ? disk->target_dev : "?";
}

void
vd_disk_record_format(VdDiskDef *disk, int fd, GPtrArray *warnings)
{
    VdDiskFormat found;

    if (disk->format != VD_DISK_FORMAT_NONE ||
        (found = vd_disk_image_probe_format_fd(fd)) == VD_DISK_FORMAT_NONE)
        return;
    disk->format = found;
    if (warnings && found != VD_DISK_FORMAT_RAW)
        g_ptr_array_add(warnings,
                        g_strdup_printf("disk '%s': no <driver type=...> given; '%s' is a %s "
                                        "image, recorded as <driver name='qemu' type='%s'/>",
                                        disk_name(disk), disk->source_file,
                                        vd_disk_format_to_string(found),
                                        vd_disk_format_to_string(found)));
}

gboolean
vd_disk_check_format(VdDiskDef *disk, int fd, GError **error)
{
    VdDiskFormat actual = vd_disk_image_probe_format_fd(fd);

    if (disk->format == VD_DISK_FORMAT_NONE) {
        disk->format = actual == VD_DISK_FORMAT_NONE ? VD_DISK_FORMAT_RAW : actual;
    } else if (disk->format == VD_DISK_FORMAT_RAW && actual == VD_DISK_FORMAT_QCOW2 &&
               disk->device != VD_DISK_DEVICE_CDROM) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "disk '%s': '%s' is a qcow2 image but the XML says <driver type='raw'>: "
                    "the guest would see the qcow2 container, not the disk; set "
                    "<driver name='qemu' type='qcow2'/>",
                    disk_name(disk), disk->source_file);
        return FALSE;
    } else if (disk->format == VD_DISK_FORMAT_QCOW2 && actual == VD_DISK_FORMAT_RAW) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "disk '%s': '%s' is not a qcow2 image but the XML says "
                    "<driver type='qcow2'>: set type='raw' or convert it with qemu-img",
                    disk_name(disk), disk->source_file);
        return FALSE;
    }
    return TRUE;
}

/* <source pool= volume=>: the pool gives the file and, when the XML
 * does not say, the format. */
static gboolean
resolve_volume(VdDaemon *d, VdDiskDef *disk, GError **error)
{
    g_autofree char *path = NULL;
    g_autofree char *format = NULL;

    if (!disk->source_pool || !disk->source_volume)
        return TRUE; /* an empty cdrom */
    if (!vd_storage_resolve_volume(d, disk->source_pool, disk->source_volume, &path, &format,
                                   error)) {
        g_prefix_error(error, "disk '%s': ", disk_name(disk));
        return FALSE;
    }
    if (disk->format == VD_DISK_FORMAT_NONE && format) {
        int f = vd_disk_format_from_string(format);
        if (f < 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "disk '%s': volume '%s/%s' is a %s image; virtd runs raw and qcow2 "
                        "images: convert it with qemu-img convert -O qcow2",
                        disk_name(disk), disk->source_pool, disk->source_volume, format);
            return FALSE;
        }
        disk->format = f;
    }
    g_free(disk->source_file);
    disk->source_file = g_steal_pointer(&path);
    return TRUE;
}

gboolean
vd_disks_resolve_volumes(VdDaemon *d, VdDomainDef *live, GError **error)
{
    for (guint i = 0; i < live->disks->len; i++) {
        VdDiskDef *disk = g_ptr_array_index(live->disks, i);
        if (disk->type == VD_DISK_TYPE_VOLUME && !resolve_volume(d, disk, error))
            return FALSE;
    }
    return TRUE;
}
