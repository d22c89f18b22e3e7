/* snapshot-create-as, snapshot-create, snapshot-list, snapshot-info, snapshot-dumpxml, snapshot-current, snapshot-edit, snapshot-parent, snapshot-revert, snapshot-delete. (Skeleton.) */
#include "vsh.h"

const VshCmdDef vsh_snapshot_commands[] = {
    {NULL},
};
