/* virt-clone in the daemon: a new domain from an existing one, its disks
 * copied (storage jobs, with progress in /v1/jobs), or made qcow2 overlays
 * of the original's (--linked), new UUID, MACs, names; and domrename.
 * The whole clone is one request (POST /v1/domains/NAME/clone): the new
 * domain is defined only when every disk is ready, and a failure removes
 * the disks it made. Owner: clone/clone.c, clone/clone-plan.c
 * (the pure part: names, MACs, what each disk becomes), clone/rename.c;
 * API api/api-domain-clone.c; vsh vsh/vsh-clone.c. */
#pragma once

#include "daemon/daemon.h"
#include "daemon/domain/domain-obj.h"

/* The domains whose disks are overlays on one of @dom's disk images
 * (linked clones, or any qcow2 whose backing file is one of them), as a
 * NULL-terminated array of names, NULL when none: undefine
 * --remove-all-storage refuses with them named. */
char **vd_clone_dependents(VdDaemon *d, VdDomainObj *dom);
