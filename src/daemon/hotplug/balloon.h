/* Live changes of the balloon (helper: balloon). SKELETON: the hooks hotplug.c calls. */
#pragma once

#include "daemon/hotplug/hotplug.h"

/* A QMP event of a running domain (hotplug.c hands every one). */
void vd_balloon_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data);
/* The domain's QEMU ended: fail what waits on the guest, drop run-time state. */
void vd_balloon_stopped(VdDomainObj *dom);
/* The domain object is being freed. */
void vd_balloon_obj_free(VdDomainObj *dom);
