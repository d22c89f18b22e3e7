/* virt-clone in the daemon: see clone.h. (Skeleton.) */
#include "daemon/clone/clone.h"

char **
vd_clone_dependents(VdDaemon *d, VdDomainObj *dom)
{
    (void)d;
    (void)dom;
    return NULL;
}
