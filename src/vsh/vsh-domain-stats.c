/* SKELETON: domstats, domblkstat (helper: stats). */
#include "vsh.h"

const VshCmdDef vsh_domain_stats_commands[] = {
    {NULL},
};
