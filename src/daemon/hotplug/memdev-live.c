/* Live changes of memory devices (helper: memdev). SKELETON. */
#include "daemon/hotplug/memdev-live.h"

void
vd_memdev_live_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data)
{
}

void
vd_memdev_live_stopped(VdDomainObj *dom)
{
}

void
vd_memdev_live_obj_free(VdDomainObj *dom)
{
}
