/* clone (virt-clone), domrename. (Skeleton.) */
#include "vsh.h"

const VshCmdDef vsh_clone_commands[] = {
    {NULL},
};
