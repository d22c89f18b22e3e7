/* The rules every live change shares (hotplug.h). */
#include "daemon/hotplug/hotplug.h"
#include "daemon/blockjob/blockjob.h"
#include "daemon/migration/migration.h"
#include "daemon/save/save.h"
#include "daemon/snapshot/snapshot-live.h"

#include "daemon/domain/domain-net.h"
#include "daemon/hotplug/balloon.h"
#include "daemon/hotplug/disk-live.h"
#include "daemon/hotplug/memdev-live.h"
#include "daemon/hotplug/vcpu-live.h"
#include "daemon/stats/domain-stats.h"
#include "qemu/qemu-fdset-paths.h"
#include "util/vd-error.h"

gboolean
vd_domain_affect(VdDomainObj *dom, gboolean *live, gboolean *config, GError **error)
{
    gboolean active = dom->live != NULL;
    if (!*live && !*config) {
        *live = active;
        *config = !active;
    }
    if (*live && !active) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: domain is not running");
        return FALSE;
    }
    if (*config && !dom->persistent) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: cannot change the persistent "
                    "configuration of a transient domain");
        return FALSE;
    }
    return TRUE;
}

static VdDomainDef *
edited_copy(VdDomainObj *dom, VdDomainConfigEdit edit, gpointer data, GError **error)
{
    g_autoptr(VdDomainDef) copy = vd_domain_def_copy(vd_domain_obj_def(dom));
    if (!edit(copy, data, error))
        return NULL;
    vd_domain_def_update_unsupported(copy);
    if (!vd_domain_def_validate(copy, error))
        return NULL;
    return g_steal_pointer(&copy);
}

gboolean
vd_domain_config_check(VdDomainObj *dom, VdDomainConfigEdit edit, gpointer data, GError **error)
{
    g_autoptr(VdDomainDef) copy = edited_copy(dom, edit, data, error);
    return copy != NULL;
}

gboolean
vd_domain_config_edit(VdDaemon *d, VdDomainObj *dom, VdDomainConfigEdit edit, gpointer data,
                      GError **error)
{
    g_autoptr(VdDomainDef) copy = edited_copy(dom, edit, data, error);
    if (!copy || !vd_domain_list_define(d->domains, copy, error))
        return FALSE;
    copy = NULL; /* taken by the registry */
    return TRUE;
}

gboolean
vd_domain_live_save(VdDaemon *d, VdDomainObj *dom, GError **error)
{
    return vd_domain_status_save(d->domains, dom, error);
}

void
vd_hotplug_live_record(VdDaemon *d, VdDomainObj *dom, const char *what)
{
    g_autoptr(GError) error = NULL;
    if (!vd_domain_live_save(d, dom, &error))
        g_warning("domain '%s': cannot record %s: %s", dom->name, what, error->message);
}

gboolean
vd_hotplug_qmp_ready(VdDomainObj *dom, GError **error)
{
    if (dom->qmp && vd_qmp_is_connected(dom->qmp) && dom->live)
        return TRUE;
    g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                "operation failed: domain '%s' stopped meanwhile", dom->name);
    return FALSE;
}

gboolean
vd_hotplug_live_command(VdDomainObj *dom, const char *name, JsonObject *args, VdQmpReplyFunc reply,
                        gpointer data, GError **error)
{
    if (!vd_hotplug_qmp_ready(dom, error)) {
        json_object_unref(args);
        return FALSE;
    }
    vd_qmp_command(dom->qmp, name, args, reply, data);
    return TRUE;
}

gboolean
vd_hotplug_live_query_block(VdDomainObj *dom, VdQmpReplyFunc reply, gpointer data, GError **error)
{
    if (!vd_hotplug_qmp_ready(dom, error))
        return FALSE;
    vd_qmp_command_real_paths(dom->qmp, "query-block", NULL, reply, data);
    return TRUE;
}

GError *
vd_hotplug_detach_stopped(VdDomainObj *dom)
{
    return g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                       "operation failed: domain '%s' stopped during the detach", dom->name);
}

GError *
vd_hotplug_qmp_error(const GError *error)
{
    return g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED, "operation failed: %s", error->message);
}

JsonObject *
vd_hotplug_args(const char *key, const char *value)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, key, value);
    return o;
}

void
vd_hotplug_qmp_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data)
{
    if (g_str_equal(event, "DEVICE_DELETED")) {
        const char *device =
            data ? json_object_get_string_member_with_default(data, "device", NULL) : NULL;
        if (device)
            vd_domain_net_device_deleted(dom, device);
    }
    vd_disk_live_event(d, dom, event, data);
    vd_vcpu_live_event(d, dom, event, data);
    vd_balloon_event(d, dom, event, data);
    vd_memdev_live_event(d, dom, event, data);
    /* Issue 12's subsystems, which wait on QEMU's jobs and migration. */
    vd_snapshot_qmp_event(d, dom, event, data);
    vd_snapshot_live_qmp_event(d, dom, event, data);
    vd_blockjob_qmp_event(d, dom, event, data);
    vd_save_qmp_event(d, dom, event, data);
    vd_migration_qmp_event(d, dom, event, data);
}

void
vd_hotplug_stopped(VdDomainObj *dom)
{
    vd_domain_net_stopped(dom);
    vd_disk_live_stopped(dom);
    vd_vcpu_live_stopped(dom);
    vd_balloon_stopped(dom);
    vd_memdev_live_stopped(dom);
    vd_domain_stats_obj_free(dom); /* the thread ids were this QEMU's */
    vd_snapshot_stopped(dom);
    vd_snapshot_live_stopped(dom);
    vd_blockjob_stopped(dom);
    vd_save_stopped(dom);
    vd_migration_stopped(dom);
}

void
vd_hotplug_obj_free(VdDomainObj *dom)
{
    vd_disk_live_obj_free(dom);
    vd_vcpu_live_obj_free(dom);
    vd_balloon_obj_free(dom);
    vd_memdev_live_obj_free(dom);
    vd_domain_stats_obj_free(dom);
    vd_snapshot_obj_free(dom);
    vd_blockjob_obj_free(dom);
    vd_save_obj_free(dom);
    vd_migration_obj_free(dom);
}
