/* SKELETON: update-memory-device (helper: memdev). */
#include "vsh.h"

const VshCmdDef vsh_domain_memdev_commands[] = {
    {NULL},
};
