/* SKELETON: setmem, setmaxmem, dommemstat (helper: balloon). */
#include "vsh.h"

const VshCmdDef vsh_domain_memory_commands[] = {
    {NULL},
};
