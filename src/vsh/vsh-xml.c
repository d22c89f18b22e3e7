/* SKELETON: vsh xml, virt-xml (helper: xml). */
#include "vsh.h"

const VshCmdDef vsh_xml_commands[] = {
    {NULL},
};
