/* SKELETON (helper: vcpu). See domain-cputune.h. */
#include "conf/domain-cputune.h"

#include "conf/domain-private.h"

VdCputuneDef *
vd_cputune_def_new(void)
{
    return g_new0(VdCputuneDef, 1);
}

void
vd_cputune_def_free(VdCputuneDef *x)
{
    g_free(x);
}

VdCputuneDef *
vd_cputune_def_copy(const VdCputuneDef *x)
{
    VdCputuneDef *c = vd_cputune_def_new();
    *c = *x;
    return c;
}

gboolean
vd_domain_cputune_parse(VdDomainDef *def, const xmlNode *root, GError **error)
{
    return TRUE;
}

void
vd_domain_cputune_format(const VdDomainDef *def, xmlNode *root)
{
}
