/* blockcommit, blockpull, blockjob. (Skeleton.) */
#include "vsh.h"

const VshCmdDef vsh_domain_blockjob_commands[] = {
    {NULL},
};
