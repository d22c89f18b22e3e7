/* The string tables declared in domain-enums.h.
 *
 * Each table is indexed by the enum value and sized by its _LAST member,
 * so adding a value without a spelling fails the G_STATIC_ASSERT below
 * instead of yielding NULL at run time.
 */
#include "conf/domain-enums.h"

#include <string.h>

static const char *
enum_to_string(const char *const *table, guint n, int value)
{
    if (value < 0 || (guint)value >= n)
        return NULL;
    return table[value];
}

static int
enum_from_string(const char *const *table, guint n, const char *str)
{
    if (!str)
        return -1;
    for (guint i = 0; i < n; i++) {
        if (table[i] && strcmp(table[i], str) == 0)
            return (int)i;
    }
    return -1;
}

static char *
enum_list(const char *const *table, guint n)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < n; i++) {
        if (!table[i])
            continue;
        if (s->len)
            g_string_append(s, ", ");
        g_string_append(s, table[i]);
    }
    return g_string_free(s, FALSE);
}

#define VD_ENUM_IMPL(snake, Type, last, ...)                                                       \
    static const char *const snake##_table[] = {__VA_ARGS__};                                      \
    G_STATIC_ASSERT(G_N_ELEMENTS(snake##_table) == last);                                          \
    const char *vd_##snake##_to_string(Type value)                                                 \
    {                                                                                              \
        return enum_to_string(snake##_table, last, (int)value);                                    \
    }                                                                                              \
    int vd_##snake##_from_string(const char *str)                                                  \
    {                                                                                              \
        return enum_from_string(snake##_table, last, str);                                         \
    }                                                                                              \
    char *vd_##snake##_list(void)                                                                  \
    {                                                                                              \
        return enum_list(snake##_table, last);                                                     \
    }

VD_ENUM_IMPL(virt_type, VdVirtType, VD_VIRT_LAST, "qemu", "kvm")
VD_ENUM_IMPL(lifecycle_action, VdLifecycleAction, VD_LIFECYCLE_LAST, "destroy", "restart",
             "rename-restart", "preserve", "coredump-destroy", "coredump-restart")
VD_ENUM_IMPL(cpu_mode, VdCpuMode, VD_CPU_MODE_LAST, "custom", "host-model", "host-passthrough",
             "maximum")
VD_ENUM_IMPL(boot_dev, VdBootDev, VD_BOOT_LAST, "hd", "cdrom", "network", "fd")
VD_ENUM_IMPL(disk_type, VdDiskType, VD_DISK_TYPE_LAST, "file", "block", "volume", "network", "dir")
VD_ENUM_IMPL(disk_device, VdDiskDevice, VD_DISK_DEVICE_LAST, "disk", "cdrom", "floppy", "lun")
VD_ENUM_IMPL(disk_bus, VdDiskBus, VD_DISK_BUS_LAST, "virtio", "sata", "scsi", "ide", "usb", "fdc",
             "nvme")
VD_ENUM_IMPL(disk_format, VdDiskFormat, VD_DISK_FORMAT_LAST, NULL, "raw", "qcow2")
VD_ENUM_IMPL(chr_type, VdChrType, VD_CHR_LAST, "pty", "file", "unix", "null", "stdio", "tcp", "udp",
             "spicevmc")
VD_ENUM_IMPL(net_type, VdNetType, VD_NET_LAST, "user", "network", "bridge", "direct", "ethernet")
VD_ENUM_IMPL(graphics_type, VdGraphicsType, VD_GRAPHICS_LAST, "vnc", "spice", "sdl", "egl-headless")
VD_ENUM_IMPL(video_model, VdVideoModel, VD_VIDEO_LAST, "vga", "cirrus", "virtio", "qxl", "bochs",
             "ramfb", "none")
VD_ENUM_IMPL(input_type, VdInputType, VD_INPUT_LAST, "mouse", "keyboard", "tablet")
VD_ENUM_IMPL(input_bus, VdInputBus, VD_INPUT_BUS_LAST, "ps2", "usb", "virtio")
