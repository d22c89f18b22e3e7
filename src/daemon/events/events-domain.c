/* A domain's events: the lifecycle events of its state changes, in
 * libvirt's words (virsh event prints "Started Booted", "Stopped
 * Destroyed", ...), the QMP events virsh reports, and its long jobs. */
#include "daemon/events/events.h"

#include <string.h>

#include "qemu/qemu-command.h"

void
vd_events_domain(const char *name, const char *uuid, const char *kind, const char *event,
                 const char *detail, JsonObject *extra)
{
    vd_events_publish(kind, name, NULL, uuid, event, detail, extra);
}

/* Running after a pause (or a start): the detail of "Resumed". */
static const char *
resumed_detail(VdStateReason reason)
{
    switch (reason) {
    case VD_REASON_MIGRATED:
    case VD_REASON_MIGRATION_CANCELED:
        return "Migrated";
    case VD_REASON_FROM_SNAPSHOT:
        return "Snapshot";
    case VD_REASON_POSTCOPY:
        return "Post-copy";
    default:
        return "Unpaused";
    }
}

static const char *
started_detail(VdStateReason reason)
{
    switch (reason) {
    case VD_REASON_RESTORED:
        return "Restored";
    case VD_REASON_FROM_SNAPSHOT:
        return "Snapshot";
    case VD_REASON_MIGRATED:
    case VD_REASON_MIGRATING:
        return "Migrated";
    default:
        return "Booted";
    }
}

static const char *
suspended_detail(VdStateReason reason)
{
    switch (reason) {
    case VD_REASON_IOERROR:
        return "I/O Error";
    case VD_REASON_WATCHDOG:
        return "Watchdog";
    case VD_REASON_SNAPSHOT:
    case VD_REASON_FROM_SNAPSHOT:
        return "Snapshot";
    case VD_REASON_MIGRATING:
        return "Migrated";
    case VD_REASON_POSTCOPY:
        return "Post-copy";
    case VD_REASON_POSTCOPY_FAILED:
        return "Post-copy Error";
    default:
        return "Paused"; /* user, save, on_poweroff=preserve */
    }
}

static const char *
stopped_detail(VdStateReason reason)
{
    switch (reason) {
    case VD_REASON_DESTROYED:
        return "Destroyed";
    case VD_REASON_CRASHED:
        return "Crashed";
    case VD_REASON_MIGRATED:
        return "Migrated";
    case VD_REASON_SAVED:
        return "Saved";
    case VD_REASON_FAILED:
    case VD_REASON_DAEMON:
        return "Failed";
    case VD_REASON_FROM_SNAPSHOT:
        return "Snapshot";
    default:
        return "Shutdown";
    }
}

guint
vd_events_lifecycle_for(VdState old_state, VdStateReason old_reason, VdState state,
                        VdStateReason reason, const char *events[2], const char *details[2])
{
    /* A start is "started" when it completes: QEMU runs paused with -S
     * (paused, starting up) while the daemon sets it up, as libvirt's
     * start emits nothing before it is done. */
    gboolean was_active = vd_state_is_active(old_state) &&
                          !(old_state == VD_STATE_PAUSED && old_reason == VD_REASON_STARTING_UP);
    guint n = 0;

    if (old_state == state && (old_reason == reason || state != VD_STATE_PAUSED))
        return 0;
    switch (state) {
    case VD_STATE_RUNNING:
    case VD_STATE_BLOCKED:
        if (!was_active) {
            events[n] = "Started";
            details[n++] = started_detail(reason);
        } else if (old_state != VD_STATE_RUNNING && old_state != VD_STATE_BLOCKED) {
            events[n] = "Resumed";
            details[n++] = resumed_detail(reason);
        }
        break;
    case VD_STATE_PAUSED:
        if (reason == VD_REASON_STARTING_UP)
            break;
        if (!was_active) {
            /* start --paused, an incoming migration, a revert to a paused
             * snapshot: started, then (unless it is waiting for a
             * migration stream) suspended. */
            events[n] = "Started";
            details[n++] = started_detail(reason);
            if (reason == VD_REASON_MIGRATING)
                break;
            events[n] = "Suspended";
            details[n++] = suspended_detail(reason);
        } else if (old_state != VD_STATE_PAUSED) {
            events[n] = "Suspended";
            details[n++] = suspended_detail(reason);
        }
        break;
    case VD_STATE_SHUTDOWN:
        /* Only a guest's own power-off leads here (the QMP SHUTDOWN
         * event with "guest": true). */
        if (was_active) {
            events[n] = "Shutdown";
            details[n++] = "Finished after guest request";
        }
        break;
    case VD_STATE_CRASHED:
        events[n] = "Crashed";
        details[n++] = "Panicked";
        break;
    case VD_STATE_SHUTOFF:
        if (vd_state_is_active(old_state)) {
            events[n] = "Stopped";
            /* A start that never completed failed, whatever ended it. */
            details[n++] = was_active ? stopped_detail(reason) : "Failed";
        }
        break;
    case VD_STATE_PMSUSPENDED:
        events[n] = "PMSuspended";
        details[n++] = "Memory";
        break;
    default:
        break;
    }
    return n;
}

void
vd_events_domain_state(const char *name, const char *uuid, VdState old_state,
                       VdStateReason old_reason, VdState state, VdStateReason reason)
{
    const char *events[2], *details[2];
    guint n = vd_events_lifecycle_for(old_state, old_reason, state, reason, events, details);
    for (guint i = 0; i < n; i++)
        vd_events_domain(name, uuid, "lifecycle", events[i], details[i], NULL);
}

static const char *
member(JsonObject *data, const char *name)
{
    return data ? json_object_get_string_member_with_default(data, name, NULL) : NULL;
}

/* The disk of a block node: its nodes are named after its target
 * ("vda-format", "vda-file", overlays "vda-..."; qemu-command.c). */
static const VdDiskDef *
disk_of_node(const VdDomainDef *def, const char *node)
{
    for (guint i = 0; def && def->disks && node && i < def->disks->len; i++) {
        const VdDiskDef *disk = g_ptr_array_index(def->disks, i);
        gsize n = disk->target_dev ? strlen(disk->target_dev) : 0;
        if (n && strncmp(node, disk->target_dev, n) == 0 && node[n] == '-')
            return disk;
    }
    return NULL;
}

void
vd_events_domain_qmp(const char *name, const char *uuid, const VdDomainDef *def,
                     const char *qmp_event, JsonObject *data)
{
    if (g_str_equal(qmp_event, "RESET")) {
        vd_events_domain(name, uuid, "reboot", "", "", NULL);
    } else if (g_str_equal(qmp_event, "WATCHDOG")) {
        /* QEMU's actions are virsh's words, "inject-nmi" included. */
        const char *action = member(data, "action");
        vd_events_domain(name, uuid, "watchdog", "", action ? action : "unknown", NULL);
    } else if (g_str_equal(qmp_event, "BALLOON_CHANGE") && data &&
               json_object_has_member(data, "actual")) {
        JsonObject *extra = json_object_new();
        json_object_set_int_member(extra, "actual_kib",
                                   json_object_get_int_member(data, "actual") / 1024);
        vd_events_domain(name, uuid, "balloon-change", "", "", extra);
    } else if (g_str_equal(qmp_event, "DEVICE_DELETED")) {
        /* A device with an id (the alias); the virtio backends QEMU also
         * reports, by path only, are not devices of the definition. */
        const char *alias = member(data, "device");
        if (!alias || !*alias)
            return;
        JsonObject *extra = json_object_new();
        json_object_set_string_member(extra, "alias", alias);
        vd_events_domain(name, uuid, "device-removed", "", "", extra);
    } else if (g_str_equal(qmp_event, "BLOCK_IO_ERROR")) {
        const char *device = member(data, "device");
        const char *node = member(data, "node-name");
        const char *action = member(data, "action");
        const char *reason = member(data, "reason");
        /* virsh's "PATH (ALIAS)": the disk's file and QEMU's id of it
         * (as device-removed names it); else what QEMU said. */
        const VdDiskDef *disk = disk_of_node(def, node);
        g_autofree char *alias = disk ? vd_qemu_disk_device_id(disk)
                                      : g_strdup(device && *device ? device : node ? node : "");
        JsonObject *extra = json_object_new();
        json_object_set_string_member(extra, "alias", alias);
        json_object_set_string_member(extra, "path", disk && disk->source_file ? disk->source_file
                                                     : node ? node : "");
        json_object_set_string_member(extra, "action",
                                      g_strcmp0(action, "stop") == 0 ? "pause"
                                      : action && g_str_equal(action, "ignore") ? "none"
                                      : "report");
        if (reason)
            json_object_set_string_member(extra, "reason", reason);
        vd_events_domain(name, uuid, "io-error", "", "", extra);
    }
}

void
vd_events_domain_job(const char *name, const char *uuid, const char *operation, gboolean begin,
                     gboolean succeeded, gint64 elapsed_ms)
{
    JsonObject *extra = NULL;
    if (!begin) {
        extra = json_object_new();
        json_object_set_int_member(extra, "elapsed_ms", elapsed_ms);
    }
    vd_events_domain(name, uuid, "job", begin ? "Started" : succeeded ? "Completed" : "Failed",
                     operation, extra);
}
