/* SKELETON: attach-disk, detach-disk, change-media, blockresize, domblkinfo (helper: disk). */
#include "vsh.h"

const VshCmdDef vsh_domain_disk_commands[] = {
    {NULL},
};
