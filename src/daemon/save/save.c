/* save / restore / managedsave: see save.h. (Skeleton.) */
#include "daemon/save/save.h"

#include <glib/gstdio.h>

gboolean
vd_save_has_managed(VdDaemon *d, VdDomainObj *dom)
{
    g_autofree char *path = vd_paths_domain_managed_save(d->paths, dom->name);
    return g_file_test(path, G_FILE_TEST_IS_REGULAR);
}

gboolean
vd_save_rename_managed(VdDaemon *d, const char *old_name, const char *new_name, GError **error)
{
    (void)d;
    (void)old_name;
    (void)new_name;
    (void)error;
    return TRUE;
}

void
vd_save_qmp_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data)
{
    (void)d;
    (void)dom;
    (void)event;
    (void)data;
}

void
vd_save_stopped(VdDomainObj *dom)
{
    (void)dom;
}

void
vd_save_obj_free(VdDomainObj *dom)
{
    (void)dom;
}
