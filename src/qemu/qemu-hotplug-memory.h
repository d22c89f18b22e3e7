/* The QMP arguments of memory device hot-plug, and the -object/-device
 * properties of the same devices at start: pure functions (no I/O), so
 * that what QEMU gets is compared with golden files
 * (tests/data/hotplug/memory-*.json, tests/qemu/test-hotplug-memory.c)
 * and the command line and a hot-plug give QEMU the same device.
 *
 * Names as libvirt's: the backend of device "dimm0" is "memdimm0". */
#pragma once

#include <json-glib/json-glib.h>

#include "conf/domain-memory.h"

G_BEGIN_DECLS

/* "mem" + alias. */
char *vd_qemu_memdev_backend_id(const VdMemoryDeviceDef *m);
/* The memory-backend-ram object: {"qom-type", "id", "size"} (-object at
 * start; object-add's arguments as they are). */
JsonObject *vd_qemu_memdev_backend(const VdMemoryDeviceDef *m);
/* The pc-dimm / virtio-mem-pci device: {"driver", "node"?, "memdev",
 * "id", "block-size", "requested-size", "bus"?} (-device at start;
 * device_add's arguments). The NUMA node is given when the guest has
 * cells or the device names one; without cells QEMU makes node 0 itself
 * once memory hot-plug is on (pc and q35). @bus: NULL, or the root port
 * on q35. */
JsonObject *vd_qemu_memdev_device(const VdDomainDef *def, const VdMemoryDeviceDef *m,
                                  const char *bus);
/* device_del {"id": alias}. */
JsonObject *vd_qemu_memdev_device_del(const VdMemoryDeviceDef *m);
/* object-del {"id": "mem" + alias}. */
JsonObject *vd_qemu_memdev_object_del(const VdMemoryDeviceDef *m);
/* qom-set of a virtio-mem device's requested-size, in bytes:
 * {"path": alias, "property": "requested-size", "value": N}. */
JsonObject *vd_qemu_memdev_set_requested(const VdMemoryDeviceDef *m, guint64 requested_kib);
/* The device's <current> in KiB from one entry of query-memory-devices
 * (type "virtio-mem": data.size; "dimm": data.size) with its id in
 * *@id (borrowed from @entry); FALSE for an entry without an id. */
gboolean vd_qemu_memdev_parse_info(JsonObject *entry, const char **id, guint64 *size_kib);

/* Compact JSON of @obj (for golden files and logs). */
char *vd_qemu_json_to_string(JsonObject *obj);

G_END_DECLS
