/* The domain model's memory hot-plug: <maxMemory slots=> and the
 * <memory model='dimm'|'virtio-mem'> devices (issue 11).
 *
 * Unlike issue 10's families this one has format code: devices are added
 * and removed by hot-plug, so the typed list is the truth and format
 * writes it back into <devices> (and <maxMemory> into the domain).
 *
 * Sizes as libvirt: <memory> (def->memory_kib) is the total, devices
 * included; the guest's base RAM (QEMU's -m size=) is the total minus the
 * devices' <size> (for virtio-mem its maximum). */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "conf/domain-def.h"

G_BEGIN_DECLS

typedef enum {
    VD_MEMDEV_DIMM,
    VD_MEMDEV_VIRTIO_MEM,
} VdMemdevModel;

/* QEMU's alignment of a memory device (x86: 2 MiB pages). */
#define VD_MEMDEV_ALIGN_KIB 2048
/* The memory block Linux onlines on x86: a DIMM smaller than a multiple
 * of it is partly or wholly unused by the guest. */
#define VD_MEMDEV_LINUX_BLOCK_KIB (128 * 1024)

typedef struct {
    VdMemdevModel model;
    guint64 size_kib;      /* <target><size>: a DIMM's size, virtio-mem's maximum */
    int node;              /* <target><node>; -1 absent */
    guint64 block_kib;     /* virtio-mem <block> */
    guint64 requested_kib; /* virtio-mem <requested> */
    guint64 current_kib;   /* virtio-mem <current> (live only; 0 unknown) */
    char *alias;           /* "dimm0", "virtiomem0"; user aliases "ua-..." */
    xmlNode *xml;          /* the element it was parsed from (kept children) */
} VdMemoryDeviceDef;

struct _VdMemoryExtDef {
    guint64 max_kib;    /* <maxMemory>; 0: absent */
    guint slots;        /* <maxMemory slots=> */
    GPtrArray *devices; /* VdMemoryDeviceDef*, in document order */
};

VdMemoryExtDef *vd_memory_ext_def_new(void);
void vd_memory_ext_def_free(VdMemoryExtDef *x);
VdMemoryExtDef *vd_memory_ext_def_copy(const VdMemoryExtDef *x);

VdMemoryDeviceDef *vd_memory_device_def_new(void);
void vd_memory_device_def_free(VdMemoryDeviceDef *m);
VdMemoryDeviceDef *vd_memory_device_def_copy(const VdMemoryDeviceDef *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdMemoryDeviceDef, vd_memory_device_def_free)

const char *vd_memdev_model_to_string(VdMemdevModel m);

/* Called by vd_domain_def_parse after the devices. */
gboolean vd_domain_memory_parse(VdDomainDef *def, const xmlNode *root, GError **error);
/* Called by vd_domain_def_to_doc after the devices are written. */
void vd_domain_memory_format(const VdDomainDef *def, xmlNode *root, VdDomainFormatFlags flags);
/* Cross-field checks (called by vd_domain_def_validate): sizes aligned,
 * devices only with <maxMemory>, DIMMs <= slots, total <= maxMemory,
 * virtio-mem block a power of two, requested <= size ... */
gboolean vd_domain_memory_validate(const VdDomainDef *def, GError **error);

/* A virtio-mem requested size: a multiple of the block, within the size. */
gboolean vd_memory_device_check_requested(const VdMemoryDeviceDef *m, guint64 kib, GError **error);

/* The sum of the devices' sizes; the base RAM is memory_kib minus it. */
guint64 vd_domain_memory_devices_kib(const VdDomainDef *def);
/* Gives every device without an alias the first free "dimmN" /
 * "virtiomemN" (deterministic: the same definition gets the same ones). */
void vd_domain_memory_assign_aliases(VdDomainDef *def);
/* The first "dimmN"/"virtiomemN" not used in @def. */
char *vd_domain_memory_free_alias(const VdDomainDef *def, VdMemdevModel model);
/* Index of the device with @alias, or -1. */
int vd_domain_memory_find_alias(const VdDomainDef *def, const char *alias);
/* Index of the device matching @m (by alias when @m has one, else by
 * model, size and node), or -1 and VD_ERROR_NOT_FOUND-like error. */
int vd_domain_memory_find(const VdDomainDef *def, const VdMemoryDeviceDef *m, GError **error);
/* Checks @m alone against @def (attach): maxMemory present, a free slot,
 * the total within maxMemory, alignment. Each message names the fix. */
gboolean vd_domain_memory_check_attach(const VdDomainDef *def, const VdMemoryDeviceDef *m,
                                       gboolean live, GError **error);
/* Adds @m (taken) to @def and grows <memory> (and <currentMemory> for a
 * DIMM) by its size; removes device @i, shrinking them back. */
void vd_domain_memory_add(VdDomainDef *def, VdMemoryDeviceDef *m);
void vd_domain_memory_remove(VdDomainDef *def, guint i);

/* One <memory> element alone (attach-device, detach-device,
 * update-device), parsed and checked on its own. */
VdMemoryDeviceDef *vd_memory_device_def_new_from_xml(const char *xml, GError **error);
/* The device's element as dumpxml writes it. */
char *vd_memory_device_def_format(const VdMemoryDeviceDef *m, VdDomainFormatFlags flags);

G_END_DECLS
