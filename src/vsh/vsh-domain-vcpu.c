/* SKELETON: setvcpus, vcpucount, vcpuinfo, vcpupin, emulatorpin (helper: vcpu). */
#include "vsh.h"

const VshCmdDef vsh_domain_vcpu_commands[] = {
    {NULL},
};
