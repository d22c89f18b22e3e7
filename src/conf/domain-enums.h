/* String tables of the domain model's enums.
 *
 * One table per enum, shared by XML, JSON and the CLI so that a spelling
 * is written once. The spellings are libvirt's. _to_string() returns NULL
 * for out-of-range values (and for VD_DISK_FORMAT_NONE, which has no
 * spelling); _from_string() returns -1 for unknown or NULL strings.
 * vd_enum_list() joins a table for error messages ("virtio, sata, ...").
 */
#pragma once

#include <glib.h>

#include "conf/domain-def.h"

G_BEGIN_DECLS

#define VD_ENUM_DECL(snake, Type)                                                                  \
    const char *vd_##snake##_to_string(Type value);                                                \
    int vd_##snake##_from_string(const char *str);                                                 \
    char *vd_##snake##_list(void);

VD_ENUM_DECL(virt_type, VdVirtType)
VD_ENUM_DECL(lifecycle_action, VdLifecycleAction)
VD_ENUM_DECL(cpu_mode, VdCpuMode)
VD_ENUM_DECL(boot_dev, VdBootDev)
VD_ENUM_DECL(disk_type, VdDiskType)
VD_ENUM_DECL(disk_device, VdDiskDevice)
VD_ENUM_DECL(disk_bus, VdDiskBus)
VD_ENUM_DECL(disk_format, VdDiskFormat)
VD_ENUM_DECL(chr_type, VdChrType)
VD_ENUM_DECL(net_type, VdNetType)
VD_ENUM_DECL(graphics_type, VdGraphicsType)
VD_ENUM_DECL(video_model, VdVideoModel)
VD_ENUM_DECL(input_type, VdInputType)
VD_ENUM_DECL(input_bus, VdInputBus)

#undef VD_ENUM_DECL

G_END_DECLS
