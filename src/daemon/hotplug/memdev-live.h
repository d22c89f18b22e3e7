/* Live changes of memory devices (issue 11): DIMM and virtio-mem
 * attach, DIMM detach, virtio-mem's requested size, over QMP. Follows
 * the rules of hotplug.h. One memory device operation per domain at a
 * time (a second one is busy): the total, the slots and the aliases are
 * checked against a definition nothing else is changing. */
#pragma once

#include "conf/domain-memory.h"
#include "daemon/hotplug/hotplug.h"

/* How long a DIMM detach waits for the guest to offline the memory and
 * QEMU to report DEVICE_DELETED. VIRTD_TEST_MEMDEV_DETACH_TIMEOUT (s)
 * overrides it for tests. */
#define VD_MEMDEV_DETACH_TIMEOUT_S 15

/* @device_xml: the device as attached (attach only, else NULL). */
typedef void (*VdMemdevDone)(VdDomainObj *dom, const GError *error, const char *device_xml,
                             gpointer user_data);

/* attach-device of a <memory> (@m taken). Live: object-add, device_add;
 * refused with the fix and nothing changed when the domain has no
 * <maxMemory>, no free slot, the total would pass maxMemory, the size is
 * not aligned. */
void vd_memdev_attach(VdDaemon *d, VdDomainObj *dom, VdMemoryDeviceDef *m, gboolean live,
                      gboolean config, VdMemdevDone done, gpointer user_data);
/* detach-device: @match by alias, else by model, size and node. Live:
 * device_del, DEVICE_DELETED (timeout: the device stays, error names
 * the guest), object-del. virtio-mem is shrunk, not unplugged. */
void vd_memdev_detach(VdDaemon *d, VdDomainObj *dom, const VdMemoryDeviceDef *match, gboolean live,
                      gboolean config, VdMemdevDone done, gpointer user_data);
/* update-memory-device: the requested size of the virtio-mem device
 * @alias (NULL: the only one; or the one on NUMA @node >= 0). Live:
 * qom-set requested-size; config: <requested>. */
void vd_memdev_set_requested(VdDaemon *d, VdDomainObj *dom, const char *alias, int node,
                             guint64 requested_kib, gboolean live, gboolean config,
                             VdMemdevDone done, gpointer user_data);

/* A QMP event of a running domain (hotplug.c hands every one):
 * DEVICE_DELETED of a memory device (a detach finishing, or a late one
 * after its timeout), MEMORY_DEVICE_SIZE_CHANGE (virtio-mem <current>). */
void vd_memdev_live_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data);
/* The domain's QEMU ended: fail what waits on the guest, drop run-time state. */
void vd_memdev_live_stopped(VdDomainObj *dom);
/* The domain object is being freed. */
void vd_memdev_live_obj_free(VdDomainObj *dom);
