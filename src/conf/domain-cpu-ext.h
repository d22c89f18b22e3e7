/* The domain model's CPU feature lists, Hyper-V enlightenments, clock timers, NUMA cells, power management (issue 10).
 *
 * One family of libvirt's domain XML that start acts on. conf/ reads it
 * from the parsed document into def->cpu_ext (vd_domain_cpu_ext_parse, called by
 * vd_domain_def_parse after the devices); format needs nothing, because
 * the user's elements stay in def->doc and come back from dumpxml as
 * written (domain-def.h, "Round trip"), unless code changes them, in
 * which case this file also writes them back. The argv builder's part is
 * qemu/qemu-command-cpu-ext.c.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "conf/domain-def.h"

G_BEGIN_DECLS

struct _VdCpuExtDef {
    GPtrArray *cpu_features; /* <cpu><feature policy= name=>: define the type here */
    GPtrArray *numa_cells;   /* <cpu><numa><cell>: memory given by cells */
    GPtrArray *timers;       /* <clock><timer name= present= tickpolicy=> */
    /* <features><hyperv>, <features><kvm>, <pm>, ...: add fields here. */
};

VdCpuExtDef *vd_cpu_ext_def_new(void);
void vd_cpu_ext_def_free(VdCpuExtDef *x);
VdCpuExtDef *vd_cpu_ext_def_copy(const VdCpuExtDef *x);

/* Reads this family's elements of <domain> @root into def->cpu_ext.
 * VD_ERROR_XML naming the element and value for malformed input. */
gboolean vd_domain_cpu_ext_parse(VdDomainDef *def, const xmlNode *root, GError **error);

G_END_DECLS
