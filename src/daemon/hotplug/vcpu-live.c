/* Live changes of vCPUs (helper: vcpu). SKELETON. */
#include "daemon/hotplug/vcpu-live.h"

void
vd_vcpu_live_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data)
{
}

void
vd_vcpu_live_stopped(VdDomainObj *dom)
{
}

void
vd_vcpu_live_obj_free(VdDomainObj *dom)
{
}
