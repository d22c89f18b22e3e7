/* Test helpers: see conf-test-util.h. */
#include "conf-test-util.h"

VdDomainDef *
tconf_define(const char *xml)
{
    g_autoptr(GError) err = NULL;
    VdDomainDef *def = vd_domain_def_new_from_xml(xml, -1, &err);

    g_assert_no_error(err);
    g_assert_nonnull(def);
    return def;
}
