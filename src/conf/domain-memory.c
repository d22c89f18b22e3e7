/* SKELETON (helper: memdev). See domain-memory.h. */
#include "conf/domain-memory.h"

#include "conf/domain-private.h"

VdMemoryExtDef *
vd_memory_ext_def_new(void)
{
    return g_new0(VdMemoryExtDef, 1);
}

void
vd_memory_ext_def_free(VdMemoryExtDef *x)
{
    g_free(x);
}

VdMemoryExtDef *
vd_memory_ext_def_copy(const VdMemoryExtDef *x)
{
    VdMemoryExtDef *c = vd_memory_ext_def_new();
    *c = *x;
    return c;
}

gboolean
vd_domain_memory_parse(VdDomainDef *def, const xmlNode *root, GError **error)
{
    return TRUE;
}

void
vd_domain_memory_format(const VdDomainDef *def, xmlNode *root, VdDomainFormatFlags flags)
{
}
