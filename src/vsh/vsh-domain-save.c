/* save, restore, managedsave, managedsave-remove, save-image-dumpxml, domjobinfo, domjobabort. (Skeleton.) */
#include "vsh.h"

const VshCmdDef vsh_domain_save_commands[] = {
    {NULL},
};
