/* The life of a domain's QEMU process. See domain-process.h.
 *
 * This file owns what happens to a running QEMU: its end (QMP closed, the
 * process gone, the domain cleaned up), QMP commands and events with the
 * lifecycle actions, and the operations other than start. The start is in
 * domain-start.c, the spawn in qemu-spawn.c, the reconnect after a daemon
 * restart in domain-reconnect.c; the helpers they share are declared in
 * domain-process-priv.h. */
#include "domain-process-priv.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "daemon/domain/console.h"
#include "daemon/domain/domain-cgroup.h"
#include "daemon/domain/domain-files.h"
#include "daemon/domain/domain-net.h"
#include "daemon/domain/qemu-access.h"
#include "daemon/domain/swtpm.h"
#include "daemon/events/events.h"
#include "daemon/hotplug/hotplug.h"
#include "daemon/stats/usage.h"
#include "util/vd-error.h"

#define KILL_GRACE_MS 5000
#define EXIT_POLL_MS 10

/* ---- small helpers ---------------------------------------------------- */

gboolean
vd_proc_pid_alive(pid_t pid)
{
    if (pid <= 0 || kill(pid, 0) < 0)
        return FALSE;
    /* A zombie is dead for our purposes (its reaper may be slow). */
    g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *stat = NULL;
    if (!g_file_get_contents(stat_path, &stat, NULL, NULL))
        return FALSE;
    const char *p = strrchr(stat, ')');
    return !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
}

/* Run-time socket paths must fit sockaddr_un (paths.h). */
char *
vd_proc_socket_path(VdDaemon *d, VdDomainObj *dom, const char *suffix)
{
    return vd_paths_domain_socket(d->paths, dom->name, dom->uuid, suffix);
}

char *
vd_proc_socket_path_found(VdDaemon *d, VdDomainObj *dom, const char *suffix)
{
    return vd_paths_domain_socket_found(d->paths, dom->name, dom->uuid, suffix);
}

void
vd_proc_save_status(VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    if (vd_state_is_active(dom->state) &&
        !vd_domain_status_save(vd_proc_daemon_of(dom)->domains, dom, &error))
        g_warning("domain '%s': cannot save status: %s", dom->name, error->message);
}

void
vd_proc_set_state(VdDomainObj *dom, VdState state, VdStateReason reason)
{
    vd_domain_obj_set_state(dom, state, reason);
    vd_proc_save_status(dom);
}

/* Recorded before the phase begins, so that a daemon killed during it
 * knows at its restart what it left behind (start-phase.h). */
void
vd_proc_set_start_phase(VdDomainObj *dom, VdStartPhase phase)
{
    dom->start_phase = phase;
    vd_proc_save_status(dom);
    vd_start_crash_point(vd_start_phase_to_string(phase));
}

/* The last lines QEMU wrote for this start, for error messages. */
char *
vd_proc_log_tail(VdDaemon *d, VdDomainObj *dom)
{
    g_autofree char *path = vd_paths_domain_log(d->paths, dom->name);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_strdup("(no QEMU log)");
    const char *start = g_strrstr(text, ": starting up\n");
    start = start ? strchr(start, '\n') + 1 : text;
    g_auto(GStrv) lines = g_strsplit(start, "\n", -1);
    GString *out = g_string_new(NULL);
    for (char **l = lines; *l; l++) {
        /* Skip the argv dump we wrote ourselves, and its descriptor lines
         * ("fd N: ...", vd_spawn_write_log_fds). */
        int fd_line = 0;
        if (!**l || g_str_has_prefix(*l, "  ") ||
            (sscanf(*l, "fd %*d: %n", &fd_line) == 0 && fd_line > 0))
            continue;
        if (out->len)
            g_string_append(out, "; ");
        g_string_append(out, *l);
    }
    if (!out->len)
        g_string_append(out, "QEMU exited without an error message");
    return g_string_free(out, FALSE);
}

static void
unlink_run_files(VdDaemon *d, VdDomainObj *dom)
{
    static const char *const suffixes[] = {"qmp", "console", "pid", "agent"};
    for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *p = vd_proc_socket_path_found(d, dom, suffixes[i]);
        g_unlink(p);
    }
    vd_qemu_access_restore(d->paths, dom->name);
    vd_domain_status_remove(d->domains, dom);
}
typedef struct {
    VdQmp *qmp;
    VdDomainObj *dom; /* its callbacks' user_data: kept alive until the free */
} QmpGone;

static gboolean
free_qmp_idle(gpointer data)
{
    QmpGone *g = data;
    vd_qmp_free(g->qmp);
    vd_domain_obj_unref(g->dom);
    g_free(g);
    return G_SOURCE_REMOVE;
}

/* QMP is freed from an idle callback, never inside one of its own
 * callbacks' callers; until then its callbacks may still run with @dom. */
static void
drop_qmp_later(VdDomainObj *dom)
{
    if (!dom->qmp)
        return;
    QmpGone *g = g_new0(QmpGone, 1);
    g->qmp = g_steal_pointer(&dom->qmp);
    g->dom = vd_domain_obj_ref(dom);
    g_idle_add(free_qmp_idle, g);
}

void
vd_proc_start_op_free(StartOp *op)
{
    vd_domain_obj_unref(op->dom);
    g_free(op);
}

/* Ends the start (@error NULL: it succeeded) and answers its caller. */
void
vd_proc_start_op_finish(StartOp *op, const GError *error)
{
    VdDomainObj *dom = op->dom;
    if (dom->start_op == op)
        dom->start_op = NULL;
    op->finished = TRUE;
    if (op->restore && !op->loading) {
        VdStartRestore *restore = g_steal_pointer(&op->restore);
        restore->finish(restore, dom, error);
    }
    op->done(dom, error, op->user_data);
    if (!op->in_flight)
        vd_proc_start_op_free(op);
}

static gboolean kill_timeout(gpointer data);

/* The timers hold a reference: they may outlive the registry's. */
static void
arm_kill_timer(VdDomainObj *dom)
{
    if (!dom->kill_timer)
        dom->kill_timer =
            g_timeout_add_full(G_PRIORITY_DEFAULT, KILL_GRACE_MS, kill_timeout,
                               vd_domain_obj_ref(dom), (GDestroyNotify)vd_domain_obj_unref);
}

static void
clear_timers(VdDomainObj *dom)
{
    guint poll = dom->exit_poll, kill_timer = dom->kill_timer;
    dom->exit_poll = dom->kill_timer = 0;
    if (poll)
        g_source_remove(poll);
    if (kill_timer)
        g_source_remove(kill_timer);
}

/* ---- the end of a QEMU ------------------------------------------------ */

void
vd_proc_finish_exit(VdDomainObj *dom)
{
    VdDaemon *d = vd_proc_daemon_of(dom);
    if (!vd_state_is_active(dom->state))
        return;
    g_autoptr(VdDomainObj) keep = vd_domain_obj_ref(dom);

    VdStateReason reason = dom->stop_reason != VD_REASON_UNKNOWN ? dom->stop_reason
                                                                 : VD_REASON_CRASHED;
    if (reason == VD_REASON_CRASHED) {
        g_autofree char *log = vd_paths_domain_log(d->paths, dom->name);
        g_warning("domain '%s': QEMU (pid %d) exited unexpectedly; see %s", dom->name,
                  (int)dom->pid, log);
    }
    clear_timers(dom);
    drop_qmp_later(dom);
    vd_console_free(g_steal_pointer(&dom->console));
    unlink_run_files(d, dom);
    /* swtpm ends by itself when QEMU closes its connection (--terminate),
     * but not if QEMU never connected. */
    vd_swtpm_stop(d, dom);
    /* Taps went with QEMU; macvtaps are links of their own. */
    vd_hotplug_stopped(dom); /* fails live changes waiting on the guest */
    vd_domain_net_release(dom->live);
    vd_domain_cgroup_release(d, dom);

    g_clear_pointer(&dom->live, vd_domain_def_free);
    dom->id = -1;
    dom->pid = 0;
    /* A clone copies disks, not QEMU's state: its job outlives QEMU. The
     * others (start, destroy, save, snapshot) end with QEMU, and their
     * owners were told by the stopped hook above. */
    if (dom->job != VD_JOB_CLONE)
        dom->job = VD_JOB_NONE;
    dom->start_phase = VD_START_PHASE_NONE;
    dom->reconnecting = FALSE;
    dom->fake_reboot = FALSE;
    dom->internal_transition = 0;
    dom->stop_reason = VD_REASON_UNKNOWN;
    vd_domain_obj_set_state(dom, VD_STATE_SHUTOFF, reason);

    StartOp *op = g_steal_pointer(&dom->start_op);
    if (op) {
        g_autoptr(GError) error = NULL;
        if (reason == VD_REASON_DESTROYED) {
            error = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                "operation failed: domain '%s' was destroyed while it was starting",
                                dom->name);
        } else {
            g_autofree char *tail = vd_proc_log_tail(d, dom);
            error = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                "operation failed: QEMU failed to start: %s", tail);
            vd_domain_obj_set_state(dom, VD_STATE_SHUTOFF, VD_REASON_FAILED);
        }
        vd_proc_start_op_finish(op, error);
    }
    vd_domain_obj_complete_waiters(dom, NULL);
    vd_domain_list_forget_if_gone(d->domains, dom);
    /* Issue 14: a domain that left the registry (transient, or undefined
     * while it ran) takes its usage history along now, not at the next
     * sample's sweep. */
    if (vd_domain_list_find_name(d->domains, dom->name) != dom)
        vd_usage_forget(d, dom->name);
}

static gboolean
exit_poll_tick(gpointer data)
{
    VdDomainObj *dom = data;
    if (vd_proc_pid_alive(dom->pid)) {
        /* QMP is gone but the process lingers: make sure it ends. */
        if (++dom->exit_polls == KILL_GRACE_MS / EXIT_POLL_MS)
            kill(dom->pid, SIGKILL);
        return G_SOURCE_CONTINUE;
    }
    dom->exit_poll = 0;
    vd_proc_finish_exit(dom);
    return G_SOURCE_REMOVE;
}

/* QEMU is going away (QMP closed, or we signalled it): finish once the
 * process is really gone, so that a destroyed domain's disks are free. */
void
vd_proc_wait_for_exit(VdDomainObj *dom)
{
    if (dom->exit_poll)
        return;
    if (!vd_proc_pid_alive(dom->pid)) {
        vd_proc_finish_exit(dom);
        return;
    }
    dom->exit_polls = 0;
    dom->exit_poll =
        g_timeout_add_full(G_PRIORITY_DEFAULT, EXIT_POLL_MS, exit_poll_tick, vd_domain_obj_ref(dom),
                           (GDestroyNotify)vd_domain_obj_unref);
}

static gboolean
kill_timeout(gpointer data)
{
    VdDomainObj *dom = data;
    dom->kill_timer = 0;
    if (vd_proc_pid_alive(dom->pid)) {
        g_warning("domain '%s': QEMU ignored SIGTERM for %d ms, sending SIGKILL",
                  dom->name, KILL_GRACE_MS);
        kill(dom->pid, SIGKILL);
    }
    return G_SOURCE_REMOVE;
}

void
vd_proc_qmp_closed(VdQmp *qmp, gpointer user_data)
{
    VdDomainObj *dom = user_data;
    /* The monitor of a QEMU already ended (dropped, waiting for its idle
     * free) says nothing about the QEMU that may run now: waiting for
     * "its" exit would kill the new one after the grace period. */
    if (qmp != dom->qmp)
        return;
    g_debug("domain '%s': QMP connection closed", dom->name);
    vd_proc_wait_for_exit(dom);
}

/* ---- QMP helpers ------------------------------------------------------ */

typedef struct {
    VdDomainObj *dom;
    VdDomainWaitFunc done;
    gpointer user_data;
    VdState ok_state;          /* VD_STATE_LAST: leave the state alone */
    VdStateReason ok_reason;
} SimpleOp;

static void
simple_op_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    SimpleOp *op = data;
    if (!error && op->ok_state != VD_STATE_LAST && vd_state_is_active(op->dom->state))
        vd_proc_set_state(op->dom, op->ok_state, op->ok_reason);
    if (op->done)
        op->done(op->dom, error, op->user_data);
    vd_domain_obj_unref(op->dom);
    g_free(op);
}

static void
simple_op(VdDomainObj *dom, const char *command, JsonObject *args, VdState ok_state,
          VdStateReason ok_reason, VdDomainWaitFunc done, gpointer user_data)
{
    if (!dom->qmp || !vd_qmp_is_connected(dom->qmp)) {
        g_autoptr(GError) error = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                              "operation failed: QEMU monitor of domain '%s' is not connected",
                                              dom->name);
        if (args)
            json_object_unref(args);
        if (done)
            done(dom, error, user_data);
        return;
    }
    SimpleOp *op = g_new0(SimpleOp, 1);
    op->dom = vd_domain_obj_ref(dom);
    op->done = done;
    op->user_data = user_data;
    op->ok_state = ok_state;
    op->ok_reason = ok_reason;
    vd_qmp_command(dom->qmp, command, args, simple_op_reply, op);
}

static void
internal_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdDomainObj *dom = data;
    if (error)
        g_warning("domain '%s': %s", dom->name, error->message);
    vd_domain_obj_unref(dom);
}

static void
internal_cmd(VdDomainObj *dom, const char *command)
{
    if (dom->qmp)
        vd_qmp_command(dom->qmp, command, NULL, internal_reply, vd_domain_obj_ref(dom));
}

static void
restart_cont_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdDomainObj *dom = data;
    if (dom->internal_transition > 0)
        dom->internal_transition--;
    if (!error && vd_state_is_active(dom->state))
        vd_proc_set_state(dom, VD_STATE_RUNNING, VD_REASON_BOOTED);
    else if (error)
        g_warning("domain '%s': cannot resume after reset: %s", dom->name, error->message);
    vd_domain_obj_unref(dom);
}

/* The guest reboots in place: reset the machine and let it run. */
static void
restart_in_place(VdDomainObj *dom)
{
    if (!dom->qmp)
        return;
    dom->internal_transition++;
    internal_cmd(dom, "system_reset");
    vd_qmp_command(dom->qmp, "cont", NULL, restart_cont_reply, vd_domain_obj_ref(dom));
}

/* Ends QEMU for a lifecycle action: ask politely through QMP. */
static void
quit_qemu(VdDomainObj *dom, VdStateReason reason)
{
    dom->stop_reason = reason;
    internal_cmd(dom, "quit");
    arm_kill_timer(dom);
}

/* ---- events ----------------------------------------------------------- */

void
vd_proc_apply_lifecycle(VdDomainObj *dom, VdLifecycleAction action, VdStateReason stop_reason,
                        VdState preserve_state, VdStateReason preserve_reason)
{
    switch (action) {
    case VD_LIFECYCLE_DESTROY:
    case VD_LIFECYCLE_COREDUMP_DESTROY:
        vd_proc_set_state(dom, VD_STATE_SHUTDOWN, VD_REASON_USER);
        quit_qemu(dom, stop_reason);
        break;
    case VD_LIFECYCLE_RESTART:
    case VD_LIFECYCLE_RENAME_RESTART:
    case VD_LIFECYCLE_COREDUMP_RESTART:
        restart_in_place(dom);
        break;
    case VD_LIFECYCLE_PRESERVE:
    case VD_LIFECYCLE_LAST:
        vd_proc_set_state(dom, preserve_state, preserve_reason);
        break;
    }
}

void
vd_proc_qmp_event(VdQmp *qmp, const char *event, JsonObject *data, gpointer user_data)
{
    VdDomainObj *dom = user_data;
    /* Events still buffered from a QEMU that has ended (its monitor is
     * dropped, freed from an idle callback): a destroy that saw the pid
     * gone first, then a start at once (snapshot revert, restore), would
     * otherwise take the old QEMU's SHUTDOWN for the new one's. */
    if (qmp != dom->qmp)
        return;
    const VdDomainDef *def = vd_domain_obj_current_def(dom);

    g_debug("domain '%s': QMP event %s", dom->name, event);
    /* Live changes first (device removal, balloon, memory devices): they
     * never end the domain. dom->daemon is set by every start and
     * reconnect before QMP is connected. */
    if (dom->daemon)
        vd_hotplug_qmp_event(dom->daemon, dom, event, data);
    /* What virsh's event command reports of them (events.h). */
    vd_events_domain_qmp(dom->name, dom->uuid, dom->live, event, data);
    if (g_str_equal(event, "SHUTDOWN")) {
        gboolean guest = data && json_object_get_boolean_member_with_default(data, "guest", FALSE);
        const char *reason =
            data ? json_object_get_string_member_with_default(data, "reason", "") : "";
        if (dom->stop_reason != VD_REASON_UNKNOWN)
            return; /* we are ending it already */
        if (!guest) {
            /* Someone outside the daemon asked QEMU to quit (a signal). */
            dom->stop_reason = VD_REASON_DESTROYED;
            return;
        }
        if (g_str_equal(reason, "guest-panic")) {
            vd_proc_apply_lifecycle(dom, def->on_crash, VD_REASON_CRASHED, VD_STATE_CRASHED,
                                    VD_REASON_PANICKED);
        } else if (g_str_equal(reason, "guest-reset")) {
            /* Only seen with -no-reboot, i.e. on_reboot='destroy'. */
            vd_proc_apply_lifecycle(dom, def->on_reboot, VD_REASON_SHUTDOWN, VD_STATE_SHUTDOWN,
                                    VD_REASON_USER);
        } else if (dom->fake_reboot) {
            /* `reboot` is a power-off we turn into a reboot, which then
             * follows on_reboot like a guest's own (destroy ends an
             * install phase). */
            dom->fake_reboot = FALSE;
            vd_proc_apply_lifecycle(dom, def->on_reboot, VD_REASON_SHUTDOWN, VD_STATE_SHUTDOWN,
                                    VD_REASON_USER);
        } else {
            vd_proc_apply_lifecycle(dom, def->on_poweroff, VD_REASON_SHUTDOWN, VD_STATE_SHUTDOWN,
                                    VD_REASON_USER);
        }
    } else if (g_str_equal(event, "GUEST_PANICKED")) {
        /* With action "poweroff" a SHUTDOWN (guest-panic) follows and is
         * handled above; act here only when none will come. */
        const char *action =
            data ? json_object_get_string_member_with_default(data, "action", "") : "";
        if (g_str_equal(action, "poweroff"))
            return;
        if (dom->stop_reason == VD_REASON_UNKNOWN && dom->state != VD_STATE_CRASHED)
            vd_proc_apply_lifecycle(dom, def->on_crash, VD_REASON_CRASHED, VD_STATE_CRASHED,
                                    VD_REASON_PANICKED);
    } else if (g_str_equal(event, "WATCHDOG")) {
        /* QEMU sends it before acting; with action "pause" the STOP that
         * follows finds the domain paused already, for this reason. */
        const char *action =
            data ? json_object_get_string_member_with_default(data, "action", "") : "";
        g_info("domain '%s': the guest's watchdog fired (action %s)", dom->name, action);
        if (g_str_equal(action, "pause") && dom->job != VD_JOB_START && !dom->internal_transition &&
            dom->stop_reason == VD_REASON_UNKNOWN &&
            (dom->state == VD_STATE_RUNNING || dom->state == VD_STATE_BLOCKED))
            vd_proc_set_state(dom, VD_STATE_PAUSED, VD_REASON_WATCHDOG);
    } else if (g_str_equal(event, "STOP")) {
        if (dom->job == VD_JOB_START || dom->internal_transition ||
            dom->stop_reason != VD_REASON_UNKNOWN)
            return;
        if (dom->state == VD_STATE_RUNNING || dom->state == VD_STATE_BLOCKED)
            vd_proc_set_state(dom, VD_STATE_PAUSED, VD_REASON_USER);
    } else if (g_str_equal(event, "RESUME")) {
        if (dom->job == VD_JOB_START || dom->internal_transition ||
            dom->stop_reason != VD_REASON_UNKNOWN)
            return;
        if (dom->state == VD_STATE_PAUSED)
            vd_proc_set_state(dom, VD_STATE_RUNNING, VD_REASON_UNPAUSED);
    } else if (g_str_equal(event, "RESET")) {
        g_info("domain '%s': reset", dom->name);
    }
}
/* ---- other operations ------------------------------------------------- */

void
vd_domain_destroy(VdDaemon *d, VdDomainObj *dom, VdDomainWaitFunc done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    if (!vd_domain_obj_check(dom, VD_OP_DESTROY, &error)) {
        done(dom, error, user_data);
        return;
    }
    dom->daemon = d;
    dom->stop_reason = VD_REASON_DESTROYED;
    /* Completes when QEMU is gone and no start is in flight. */
    vd_domain_obj_wait_inactive(dom, done, user_data);
    if (dom->job == VD_JOB_START && !vd_state_is_active(dom->state))
        return; /* no QEMU yet: the start sees stop_reason and gives up (launch) */
    if (dom->job == VD_JOB_NONE)
        dom->job = VD_JOB_DESTROY;
    if (dom->pid > 0 && vd_proc_pid_alive(dom->pid)) {
        kill(dom->pid, SIGTERM);
        arm_kill_timer(dom);
    }
    vd_proc_wait_for_exit(dom);
}

void
vd_domain_shutdown(VdDaemon *d, VdDomainObj *dom, VdDomainWaitFunc done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    if (!vd_domain_obj_check(dom, VD_OP_SHUTDOWN, &error)) {
        done(dom, error, user_data);
        return;
    }
    dom->fake_reboot = FALSE;
    simple_op(dom, "system_powerdown", NULL, VD_STATE_LAST, 0, done, user_data);
}

void
vd_domain_reboot(VdDaemon *d, VdDomainObj *dom, VdDomainWaitFunc done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    if (!vd_domain_obj_check(dom, VD_OP_REBOOT, &error)) {
        done(dom, error, user_data);
        return;
    }
    dom->fake_reboot = TRUE;
    simple_op(dom, "system_powerdown", NULL, VD_STATE_LAST, 0, done, user_data);
}

void
vd_domain_reset(VdDaemon *d, VdDomainObj *dom, VdDomainWaitFunc done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    if (!vd_domain_obj_check(dom, VD_OP_RESET, &error)) {
        done(dom, error, user_data);
        return;
    }
    simple_op(dom, "system_reset", NULL, VD_STATE_LAST, 0, done, user_data);
}

void
vd_domain_suspend(VdDaemon *d, VdDomainObj *dom, VdDomainWaitFunc done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    if (!vd_domain_obj_check(dom, VD_OP_SUSPEND, &error)) {
        done(dom, error, user_data);
        return;
    }
    simple_op(dom, "stop", NULL, VD_STATE_PAUSED, VD_REASON_USER, done, user_data);
}

void
vd_domain_resume(VdDaemon *d, VdDomainObj *dom, VdDomainWaitFunc done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    if (!vd_domain_obj_check(dom, VD_OP_RESUME, &error)) {
        done(dom, error, user_data);
        return;
    }
    simple_op(dom, "cont", NULL, VD_STATE_RUNNING, VD_REASON_UNPAUSED, done, user_data);
}
