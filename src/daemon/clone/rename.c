/* domrename (clone.h): the registry renames the definition and the files
 * named after the domain; snapshot metadata and a managed save image
 * follow through their subsystems' hooks. */
#include "daemon/clone/clone.h"
#include "daemon/save/save.h"
#include "daemon/snapshot/snapshot.h"
#include "daemon/stats/usage.h"
#include "util/vd-error.h"
#include "util/vd-names.h"

gboolean
vd_clone_rename(VdDaemon *d, VdDomainObj *dom, const char *new_name, GError **error)
{
    if (!vd_domain_obj_check(dom, VD_OP_RENAME, error))
        return FALSE;
    if (!dom->persistent) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: cannot rename a transient domain");
        return FALSE;
    }
    if (!vd_name_validate(new_name, "domain name", error) ||
        !vd_name_check_spacing(new_name, "domain name", error))
        return FALSE;
    if (g_str_equal(new_name, dom->name))
        return TRUE;
    g_autofree char *old_name = g_strdup(dom->name);
    if (!vd_domain_list_rename(d->domains, dom, new_name, error))
        return FALSE;
    g_autoptr(GError) local = NULL;
    /* The definition has its new name already: a hook that fails leaves
     * its files under the old name, reported in the log, not lost. */
    if (!vd_snapshot_rename_domain(d, old_name, new_name, &local)) {
        g_warning("domrename %s -> %s: snapshot metadata: %s", old_name, new_name,
                  local->message);
        g_clear_error(&local);
    }
    if (!vd_save_rename_managed(d, old_name, new_name, &local))
        g_warning("domrename %s -> %s: managed save: %s", old_name, new_name, local->message);
    vd_usage_rename(d, old_name, new_name); /* issue 14: its usage history */
    return TRUE;
}
