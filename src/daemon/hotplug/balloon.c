/* Live changes of the balloon (helper: balloon). SKELETON. */
#include "daemon/hotplug/balloon.h"

void
vd_balloon_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data)
{
}

void
vd_balloon_stopped(VdDomainObj *dom)
{
}

void
vd_balloon_obj_free(VdDomainObj *dom)
{
}
