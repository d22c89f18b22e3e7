/* Block jobs: see blockjob.h. (Skeleton.) */
#include "daemon/blockjob/blockjob.h"

void
vd_blockjob_qmp_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data)
{
    (void)d;
    (void)dom;
    (void)event;
    (void)data;
}

void
vd_blockjob_stopped(VdDomainObj *dom)
{
    (void)dom;
}

void
vd_blockjob_obj_free(VdDomainObj *dom)
{
    (void)dom;
}
