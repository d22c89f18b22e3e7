/* Live changes of disks and cdrom media (helper: disk). SKELETON. */
#include "daemon/hotplug/disk-live.h"

void
vd_disk_live_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data)
{
}

void
vd_disk_live_stopped(VdDomainObj *dom)
{
}

void
vd_disk_live_obj_free(VdDomainObj *dom)
{
}
