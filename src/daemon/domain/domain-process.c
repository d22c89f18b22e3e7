/* The life of a domain's QEMU process. See domain-process.h. */
#include "domain-process.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <glib-unix.h>
#include <unistd.h>

#include "daemon/domain/console.h"
#include "daemon/domain/disk-prepare.h"
#include "daemon/domain/domain-files.h"
#include "qemu/qemu-command.h"
#include "util/vd-error.h"

#define QMP_START_TIMEOUT_MS 30000
#define QMP_RECONNECT_TIMEOUT_MS 5000
#define KILL_GRACE_MS 5000
#define EXIT_POLL_MS 10
#define UNIX_PATH_MAX 107

/* A start after QEMU was spawned: QMP set-up, one command at a time.
 * It may end (QEMU died, destroy) while a reply is still on its way; then
 * the reply only frees it. */
typedef struct {
    VdDomainObj *dom; /* a reference */
    gboolean paused;
    VdDomainWaitFunc done;
    gpointer user_data;
    int step;
    gboolean in_flight; /* a QMP reply will come back to this op */
    gboolean finished;  /* done() was called */
} StartOp;

static void qmp_ready(VdQmp *qmp, const GError *error, gpointer user_data);
static void qmp_event(VdQmp *qmp, const char *event, JsonObject *data, gpointer user_data);
static void qmp_closed(VdQmp *qmp, gpointer user_data);
static void start_continue(StartOp *op);

static VdDaemon *
daemon_of(VdDomainObj *dom)
{
    return dom->daemon;
}

/* ---- small helpers ---------------------------------------------------- */

static gboolean
pid_alive(pid_t pid)
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

/* Whether @pid is the QEMU we started: its argv mentions @needle (its QMP
 * socket path), which guards against pid reuse across reboots. */
static gboolean
pid_is_ours(pid_t pid, const char *needle)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
    g_autofree char *cmdline = NULL;
    gsize len;
    if (!g_file_get_contents(path, &cmdline, &len, NULL))
        return FALSE;
    for (gsize i = 0; i < len; i += strlen(cmdline + i) + 1)
        if (strstr(cmdline + i, needle))
            return TRUE;
    return FALSE;
}

/* Run-time socket paths must fit sockaddr_un (paths.h). */
static char *
socket_path(VdDaemon *d, VdDomainObj *dom, const char *suffix)
{
    return vd_paths_domain_socket(d->paths, dom->name, dom->uuid, suffix);
}

static void
save_status(VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    if (vd_state_is_active(dom->state) &&
        !vd_domain_status_save(daemon_of(dom)->domains, dom, &error))
        g_warning("domain '%s': cannot save status: %s", dom->name, error->message);
}

static void
set_state(VdDomainObj *dom, VdState state, VdStateReason reason)
{
    vd_domain_obj_set_state(dom, state, reason);
    save_status(dom);
}

/* Recorded before the phase begins, so that a daemon killed during it
 * knows at its restart what it left behind (start-phase.h). */
static void
set_start_phase(VdDomainObj *dom, VdStartPhase phase)
{
    dom->start_phase = phase;
    save_status(dom);
    vd_start_crash_point(vd_start_phase_to_string(phase));
}

/* The last lines QEMU wrote for this start, for error messages. */
static char *
log_tail(VdDaemon *d, VdDomainObj *dom)
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
        /* Skip the argv dump we wrote ourselves. */
        if (!**l || g_str_has_prefix(*l, "  "))
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
        g_autofree char *p = socket_path(d, dom, suffixes[i]);
        g_unlink(p);
    }
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

static void
start_op_free(StartOp *op)
{
    vd_domain_obj_unref(op->dom);
    g_free(op);
}

/* Ends the start (@error NULL: it succeeded) and answers its caller. */
static void
start_op_finish(StartOp *op, const GError *error)
{
    VdDomainObj *dom = op->dom;
    if (dom->start_op == op)
        dom->start_op = NULL;
    op->finished = TRUE;
    op->done(dom, error, op->user_data);
    if (!op->in_flight)
        start_op_free(op);
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

static void
finish_exit(VdDomainObj *dom)
{
    VdDaemon *d = daemon_of(dom);
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

    g_clear_pointer(&dom->live, vd_domain_def_free);
    dom->id = -1;
    dom->pid = 0;
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
            g_autofree char *tail = log_tail(d, dom);
            error = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                "operation failed: QEMU failed to start: %s", tail);
            vd_domain_obj_set_state(dom, VD_STATE_SHUTOFF, VD_REASON_FAILED);
        }
        start_op_finish(op, error);
    }
    vd_domain_obj_complete_waiters(dom, NULL);
    vd_domain_list_forget_if_gone(d->domains, dom);
}

static gboolean
exit_poll_tick(gpointer data)
{
    VdDomainObj *dom = data;
    if (pid_alive(dom->pid)) {
        /* QMP is gone but the process lingers: make sure it ends. */
        if (++dom->exit_polls == KILL_GRACE_MS / EXIT_POLL_MS)
            kill(dom->pid, SIGKILL);
        return G_SOURCE_CONTINUE;
    }
    dom->exit_poll = 0;
    finish_exit(dom);
    return G_SOURCE_REMOVE;
}

/* QEMU is going away (QMP closed, or we signalled it): finish once the
 * process is really gone, so that a destroyed domain's disks are free. */
static void
wait_for_exit(VdDomainObj *dom)
{
    if (dom->exit_poll)
        return;
    if (!pid_alive(dom->pid)) {
        finish_exit(dom);
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
    if (pid_alive(dom->pid)) {
        g_warning("domain '%s': QEMU ignored SIGTERM for %d ms, sending SIGKILL",
                  dom->name, KILL_GRACE_MS);
        kill(dom->pid, SIGKILL);
    }
    return G_SOURCE_REMOVE;
}

static void
qmp_closed(VdQmp *qmp, gpointer user_data)
{
    VdDomainObj *dom = user_data;
    g_debug("domain '%s': QMP connection closed", dom->name);
    wait_for_exit(dom);
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
        set_state(op->dom, op->ok_state, op->ok_reason);
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
        set_state(dom, VD_STATE_RUNNING, VD_REASON_BOOTED);
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

static void
apply_lifecycle(VdDomainObj *dom, VdLifecycleAction action, VdStateReason stop_reason,
                VdState preserve_state, VdStateReason preserve_reason)
{
    switch (action) {
    case VD_LIFECYCLE_DESTROY:
    case VD_LIFECYCLE_COREDUMP_DESTROY:
        set_state(dom, VD_STATE_SHUTDOWN, VD_REASON_USER);
        quit_qemu(dom, stop_reason);
        break;
    case VD_LIFECYCLE_RESTART:
    case VD_LIFECYCLE_RENAME_RESTART:
    case VD_LIFECYCLE_COREDUMP_RESTART:
        restart_in_place(dom);
        break;
    case VD_LIFECYCLE_PRESERVE:
    case VD_LIFECYCLE_LAST:
        set_state(dom, preserve_state, preserve_reason);
        break;
    }
}

static void
qmp_event(VdQmp *qmp, const char *event, JsonObject *data, gpointer user_data)
{
    VdDomainObj *dom = user_data;
    const VdDomainDef *def = vd_domain_obj_current_def(dom);

    g_debug("domain '%s': QMP event %s", dom->name, event);
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
            apply_lifecycle(dom, def->on_crash, VD_REASON_CRASHED, VD_STATE_CRASHED,
                            VD_REASON_PANICKED);
        } else if (g_str_equal(reason, "guest-reset")) {
            /* Only seen with -no-reboot, i.e. on_reboot='destroy'. */
            apply_lifecycle(dom, def->on_reboot, VD_REASON_SHUTDOWN, VD_STATE_SHUTDOWN,
                            VD_REASON_USER);
        } else if (dom->fake_reboot) {
            /* `reboot` is a power-off we turn into a reboot, which then
             * follows on_reboot like a guest's own (destroy ends an
             * install phase). */
            dom->fake_reboot = FALSE;
            apply_lifecycle(dom, def->on_reboot, VD_REASON_SHUTDOWN, VD_STATE_SHUTDOWN,
                            VD_REASON_USER);
        } else {
            apply_lifecycle(dom, def->on_poweroff, VD_REASON_SHUTDOWN, VD_STATE_SHUTDOWN,
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
            apply_lifecycle(dom, def->on_crash, VD_REASON_CRASHED, VD_STATE_CRASHED,
                            VD_REASON_PANICKED);
    } else if (g_str_equal(event, "STOP")) {
        if (dom->job == VD_JOB_START || dom->internal_transition ||
            dom->stop_reason != VD_REASON_UNKNOWN)
            return;
        if (dom->state == VD_STATE_RUNNING || dom->state == VD_STATE_BLOCKED)
            set_state(dom, VD_STATE_PAUSED, VD_REASON_USER);
    } else if (g_str_equal(event, "RESUME")) {
        if (dom->job == VD_JOB_START || dom->internal_transition ||
            dom->stop_reason != VD_REASON_UNKNOWN)
            return;
        if (dom->state == VD_STATE_PAUSED)
            set_state(dom, VD_STATE_RUNNING, VD_REASON_UNPAUSED);
    } else if (g_str_equal(event, "RESET")) {
        g_info("domain '%s': reset", dom->name);
    }
}

/* ---- start ------------------------------------------------------------ */

static void
start_fail(StartOp *op, GError *error)
{
    g_autoptr(VdDomainObj) dom = vd_domain_obj_ref(op->dom);
    dom->start_op = NULL;
    if (dom->pid > 0 && pid_alive(dom->pid))
        kill(dom->pid, SIGKILL);
    if (dom->stop_reason == VD_REASON_DESTROYED) {
        /* The failure is the destroy's doing (QMP closed under the set-up). */
        g_clear_error(&error);
        error = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                            "operation failed: domain '%s' was destroyed while it was starting",
                            dom->name);
    } else {
        dom->stop_reason = VD_REASON_FAILED;
    }
    if (vd_state_is_active(dom->state))
        finish_exit(dom);
    start_op_finish(op, error);
    g_error_free(error);
}

static gboolean
check_can_start(VdDaemon *d, VdDomainObj *dom, GError **error)
{
    if (!vd_domain_def_check_startable(vd_domain_obj_def(dom), error))
        return FALSE;
    if (!d->caps) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: QEMU is not usable: %s",
                    d->caps_error ? d->caps_error->message : "capabilities unknown");
        return FALSE;
    }
    if (vd_domain_obj_def(dom)->virt_type == VD_VIRT_KVM && d->kvm->status != VD_KVM_USABLE) {
        g_set_error(error, VD_ERROR, VD_ERROR_KVM_UNUSABLE,
                    "domain '%s' asks for <domain type='kvm'>, but KVM is not usable on this host "
                    "(%s): %s Change it to <domain type='qemu'> with 'vsh edit %s' to run it "
                    "with TCG emulation.",
                    dom->name, vd_kvm_status_to_string(d->kvm->status), d->kvm->detail,
                    dom->name);
        return FALSE;
    }
    return TRUE;
}

typedef struct {
    VdDomainObj *dom;
    pid_t pid;
} ExecWatch;

/* Reaps a QEMU that is still our child when it exits (after a daemon
 * restart it is init's). A running guest's end is handled through QMP;
 * but a QEMU that dies while starting never opens its QMP socket, and
 * waiting for that would take the whole QMP timeout. */
static void
reap_child(GPid pid, gint status, gpointer data)
{
    ExecWatch *w = data;
    VdDomainObj *dom = w->dom;
    g_spawn_close_pid(pid);
    if (dom->pid == w->pid && dom->start_op && !(dom->qmp && vd_qmp_is_connected(dom->qmp))) {
        g_autofree char *tail = log_tail(daemon_of(dom), dom);
        g_autofree char *how = g_spawn_check_wait_status(status, NULL)
                                   ? g_strdup("exited")
                                   : WIFSIGNALED(status)
                                         ? g_strdup_printf("was killed by signal %d", WTERMSIG(status))
                                         : g_strdup_printf("exited with status %d", WEXITSTATUS(status));
        start_fail(dom->start_op, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                              "operation failed: QEMU %s while starting: %s",
                                              how, tail));
    }
    vd_domain_obj_unref(w->dom);
    g_free(w);
}

/* The exec-failure pipe: EOF means QEMU's exec succeeded; an errno means
 * it did not, and the start fails at once instead of waiting for a QMP
 * socket that will never appear. Watched from the main loop, so that a
 * busy host delaying the child never delays the daemon. */
static gboolean
exec_checked(gint fd, GIOCondition cond, gpointer data)
{
    ExecWatch *w = data;
    int exec_errno = 0;
    ssize_t n;
    while ((n = read(fd, &exec_errno, sizeof(exec_errno))) < 0 && errno == EINTR)
        ;
    close(fd);
    VdDomainObj *dom = w->dom;
    if (n > 0 && dom->pid == w->pid && dom->start_op) {
        VdDaemon *d = daemon_of(dom);
        const VdDomainDef *def = vd_domain_obj_current_def(dom);
        const char *binary = def->emulator ? def->emulator : d->qemu_binary;
        start_fail(dom->start_op, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                              "operation failed: cannot execute '%s': %s",
                                              binary, g_strerror(exec_errno)));
    }
    vd_domain_obj_unref(w->dom);
    g_free(w);
    return G_SOURCE_REMOVE;
}

/* Closes every descriptor from 3 up except @a and @b (a < b): the child
 * must not hold the daemon's sockets (a restarted daemon could not take
 * its listening socket back while a child not yet exec'd held it). */
static void
close_all_but(int a, int b)
{
    if (a > 3)
        close_range(3, a - 1, 0);
    if (b > a + 1)
        close_range(a + 1, b - 1, 0);
    close_range(b + 1, ~0U, 0);
}

/* fork + setsid + exec: QEMU gets its own session, so it survives the
 * daemon (a restarted daemon finds it again). Nothing here waits for the
 * child: under a storm of starts on a saturated host the child may run
 * late, and the main loop must not wait for it. Only async-signal-safe
 * calls between fork and exec (GLib threads exist). Returns the exec
 * pipe's read end in @errfd_out, for exec_checked(), and the go pipe's
 * write end in @gofd_out: the child execs QEMU only once a byte arrives
 * there (release_child()), i.e. once its pid is in the status file; if
 * the daemon dies first, the child sees EOF and exits, so no QEMU ever
 * runs that a restarted daemon cannot find. */
static gboolean
spawn_detached(GPtrArray *argv, const char *log_path, pid_t *pid_out, int *errfd_out, int *gofd_out,
               GError **error)
{
    int logfd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int errpipe[2] = {-1, -1};
    int gopipe[2] = {-1, -1};
    gboolean ok = FALSE;

    if (logfd < 0 || nullfd < 0 || pipe2(errpipe, O_CLOEXEC) < 0 || pipe2(gopipe, O_CLOEXEC) < 0) {
        int saved = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot prepare QEMU: %s",
                    g_strerror(saved));
        goto out;
    }
    char **args = (char **)argv->pdata;
    pid_t child = fork();
    if (child < 0) {
        int saved = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot fork: %s", g_strerror(saved));
        goto out;
    }
    if (child == 0) {
        setsid();
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        for (int sig = 1; sig < NSIG; sig++)
            signal(sig, SIG_DFL);
        /* setsid() gives QEMU an autogroup of its own, which the
         * scheduler weighs like a whole login session: twenty busy guests
         * would leave an administrator's shell (and vsh) a twentieth of
         * the CPU. Nice 10 for each guest's group keeps the host
         * answering, and costs guests nothing when nobody else wants
         * the CPU. */
        int ag = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC);
        if (ag >= 0) {
            if (write(ag, "10", 2) < 0) {
                /* Best effort: autogroups may be off. */
            }
            close(ag);
        }
        dup2(nullfd, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        close_all_but(MIN(errpipe[1], gopipe[0]), MAX(errpipe[1], gopipe[0]));
        char go;
        ssize_t got;
        while ((got = read(gopipe[0], &go, 1)) < 0 && errno == EINTR)
            ;
        if (got != 1)
            _exit(0); /* the daemon died before recording this pid */
        close(gopipe[0]);
        execv(args[0], args);
        int e = errno;
        if (write(errpipe[1], &e, sizeof(e)) < 0)
            _exit(126);
        _exit(127);
    }
    *pid_out = child;
    *errfd_out = errpipe[0];
    errpipe[0] = -1;
    *gofd_out = gopipe[1];
    gopipe[1] = -1;
    ok = TRUE;
out:
    for (int i = 0; i < 2; i++) {
        if (errpipe[i] >= 0)
            close(errpipe[i]);
        if (gopipe[i] >= 0)
            close(gopipe[i]);
    }
    if (logfd >= 0)
        close(logfd);
    if (nullfd >= 0)
        close(nullfd);
    return ok;
}

static void
reap_only(GPid pid, gint status, gpointer data)
{
    g_spawn_close_pid(pid);
}

/* Lets the child of spawn_detached() exec QEMU (@go TRUE) or makes it
 * exit without (FALSE). */
static void
release_child(int gofd, gboolean go)
{
    if (go && write(gofd, "g", 1) != 1)
        g_warning("cannot release the QEMU child: %s", g_strerror(errno));
    close(gofd);
}

static void
write_log_header(VdDaemon *d, VdDomainObj *dom, GPtrArray *argv)
{
    g_autofree char *path = vd_paths_domain_log(d->paths, dom->name);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%d %H:%M:%S UTC");
    g_autofree char *args = vd_qemu_argv_to_string(argv);
    g_autoptr(GString) text = g_string_new(NULL);
    g_string_append_printf(text, "%s: starting up\n", stamp);
    g_auto(GStrv) lines = g_strsplit(args, "\n", -1);
    for (char **l = lines; *l; l++)
        if (**l)
            g_string_append_printf(text, "  %s\n", *l);
    FILE *f = fopen(path, "ae");
    if (f) {
        fputs(text->str, f);
        fclose(f);
    }
}

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom;
    VdDomainDef *live;
    gboolean paused;
    gboolean once_only;
    VdDomainWaitFunc done;
    gpointer user_data;
} PendingStart;

static void launch(PendingStart *ps, const char *boot_kernel);
static void files_checked(GObject *source, GAsyncResult *res, gpointer data);

/* The start failed before QEMU existed (or a destroy aborted it). */
static void
pending_start_finish(PendingStart *ps, const GError *error)
{
    VdDomainObj *dom = ps->dom;
    dom->job = VD_JOB_NONE;
    if (dom->stop_reason == VD_REASON_DESTROYED)
        vd_domain_obj_set_state(dom, VD_STATE_SHUTOFF, VD_REASON_DESTROYED);
    dom->stop_reason = VD_REASON_UNKNOWN;
    ps->done(dom, error, ps->user_data);
    vd_domain_obj_complete_waiters(dom, NULL);
    vd_domain_list_forget_if_gone(ps->d->domains, dom);
}

static void
pending_start_free(PendingStart *ps)
{
    vd_domain_def_free(ps->live);
    vd_domain_obj_unref(ps->dom);
    g_free(ps);
}

static void
kernel_resolved(GObject *source, GAsyncResult *res, gpointer data)
{
    PendingStart *ps = data;
    g_autoptr(GError) error = NULL;
    g_autofree char *vmlinux = vd_kernel_cache_resolve_finish(ps->d->kernels, res, &error);
    if (error) {
        pending_start_finish(ps, error);
        pending_start_free(ps);
        return;
    }
    launch(ps, vmlinux);
}

/* A disk whose image did not exist when the domain was defined had its
 * format read from the header just now: record it, as define would have,
 * so that later starts do not trust a header the guest may have written
 * since (a raw disk turned "qcow2" with a backing file of the host's). */
static void
record_probed_formats(VdDaemon *d, VdDomainObj *dom, const VdDomainDef *live)
{
    const VdDomainDef *def = vd_domain_obj_def(dom);
    g_autoptr(VdDomainDef) updated = NULL;
    g_autoptr(GError) error = NULL;

    for (guint i = 0; i < def->disks->len && i < live->disks->len; i++) {
        const VdDiskDef *was = g_ptr_array_index(def->disks, i);
        const VdDiskDef *now = g_ptr_array_index(live->disks, i);
        /* The same disk only: a define may have replaced the definition
         * since this start copied it. */
        if (was->type != VD_DISK_TYPE_FILE || was->format != VD_DISK_FORMAT_NONE ||
            now->format == VD_DISK_FORMAT_NONE || g_strcmp0(was->source_file, now->source_file))
            continue;
        if (!updated)
            updated = vd_domain_def_copy(def);
        ((VdDiskDef *)g_ptr_array_index(updated->disks, i))->format = now->format;
        g_info("domain '%s': disk '%s' is %s (image header at its first start), recorded",
               dom->name, now->target_dev ? now->target_dev : "?",
               vd_disk_format_to_string(now->format));
    }
    if (!updated)
        return;
    if (vd_domain_list_define(d->domains, updated, &error))
        updated = NULL; /* taken */
    else
        g_warning("domain '%s': cannot record disk formats: %s", dom->name, error->message);
}

void
vd_domain_start(VdDaemon *d, VdDomainObj *dom, gboolean paused, VdDomainWaitFunc done,
                gpointer user_data)
{
    vd_domain_start_with(d, dom, NULL, paused, done, user_data);
}

void
vd_domain_start_with(VdDaemon *d, VdDomainObj *dom, VdDomainDef *once, gboolean paused,
                     VdDomainWaitFunc done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) once_def = once;
    dom->daemon = d;

    if (!vd_domain_obj_check(dom, VD_OP_START, &error) || !check_can_start(d, dom, &error)) {
        done(dom, error, user_data);
        return;
    }
    gboolean once_only = once_def != NULL;
    g_autoptr(VdDomainDef) live =
        once_def ? g_steal_pointer(&once_def) : vd_domain_def_copy(vd_domain_obj_def(dom));
    if (!vd_disks_resolve_volumes(d, live, &error)) {
        done(dom, error, user_data);
        return;
    }
    PendingStart *ps = g_new0(PendingStart, 1);
    ps->d = d;
    ps->dom = vd_domain_obj_ref(dom);
    ps->live = g_steal_pointer(&live);
    ps->paused = paused;
    ps->once_only = once_only;
    ps->done = done;
    ps->user_data = user_data;
    /* From here until "cont" (or the failure), the job says what else may
     * happen to the domain (vd_domain_obj_check). */
    dom->job = VD_JOB_START;
    dom->stop_reason = VD_REASON_UNKNOWN;
    /* The files it names, checked where nothing can block the daemon. */
    vd_domain_files_check_async(d, ps->live, VD_DOMAIN_FILES_START, files_checked, ps);
}

static void
files_checked(GObject *source, GAsyncResult *res, gpointer data)
{
    PendingStart *ps = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) notes = vd_domain_files_check_finish(res, &error);

    if (!notes) {
        pending_start_finish(ps, error);
        pending_start_free(ps);
        return;
    }
    if (!ps->once_only && ps->dom->persistent)
        record_probed_formats(ps->d, ps->dom, ps->live);
    /* A bzImage boots from its cached vmlinux: resolving it may mean an
     * extraction, which runs in a worker thread. */
    if (ps->live->os.kernel && ps->d->kernels) {
        vd_kernel_cache_resolve_async(ps->d->kernels, ps->live->os.kernel, kernel_resolved, ps);
        return;
    }
    launch(ps, NULL);
}

static void
launch(PendingStart *ps, const char *boot_kernel)
{
    VdDaemon *d = ps->d;
    VdDomainObj *dom = ps->dom;
    g_autoptr(GError) error = NULL;
    g_autofree char *qmp_path = socket_path(d, dom, "qmp");
    g_autofree char *console_path = socket_path(d, dom, "console");
    g_autofree char *pid_path = socket_path(d, dom, "pid");
    g_autofree char *console_log = vd_paths_domain_console_log(d->paths, dom->name);
    g_autofree char *log_path = vd_paths_domain_log(d->paths, dom->name);
    g_autoptr(GPtrArray) argv = NULL;
    pid_t pid;

    if (dom->stop_reason == VD_REASON_DESTROYED) {
        g_set_error(&error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: domain '%s' was destroyed while it was starting", dom->name);
        goto fail;
    }
    if (strlen(qmp_path) > UNIX_PATH_MAX || strlen(console_path) > UNIX_PATH_MAX) {
        g_set_error(&error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: the run directory '%s' is too deep for UNIX socket paths; "
                    "use a shorter --root",
                    d->paths->run_domains_dir);
        goto fail;
    }
    g_unlink(qmp_path);
    g_unlink(console_path);

    VdQemuRunPaths run = {
        .qmp_socket_path = qmp_path,
        .console_socket_path = console_path,
        .console_log_path = console_log,
        .pid_path = pid_path,
        .guest_agent_dir = d->paths->run_domains_dir,
        .start_paused = TRUE,
        .accel = ps->live->virt_type == VD_VIRT_KVM ? "kvm" : "tcg",
        .boot_kernel = boot_kernel,
        .bios = d->fast_firmware,
    };
    argv = vd_qemu_build_argv(ps->live, d->caps, &run, &error);
    if (!argv)
        goto fail;
    write_log_header(d, dom, argv);
    if (argv->len == 0 || g_ptr_array_index(argv, argv->len - 1) != NULL)
        g_ptr_array_add(argv, NULL);

    int errfd, gofd;
    /* The status file says a start is under way before there is a child,
     * and QEMU is exec'd only once its pid is recorded (spawn_detached):
     * whenever the daemon dies, its restart knows of every QEMU. */
    dom->id = vd_domain_list_next_id(d->domains);
    ps->live->id = dom->id;
    dom->live = g_steal_pointer(&ps->live);
    vd_domain_obj_set_state(dom, VD_STATE_PAUSED, VD_REASON_STARTING_UP);
    set_start_phase(dom, VD_START_PHASE_SPAWNING);
    if (!spawn_detached(argv, log_path, &pid, &errfd, &gofd, &error))
        goto undo;
    vd_start_crash_point("spawned");
    dom->pid = pid;
    dom->started_at = g_get_monotonic_time();
    dom->start_phase = VD_START_PHASE_CONNECTING;
    if (!vd_domain_status_save(d->domains, dom, &error)) {
        g_prefix_error(&error, "operation failed: cannot record QEMU's pid: ");
        release_child(gofd, FALSE);
        close(errfd);
        g_child_watch_add(pid, reap_only, NULL);
        dom->pid = 0;
        goto undo;
    }
    vd_start_crash_point("connecting");
    release_child(gofd, TRUE);

    StartOp *op = g_new0(StartOp, 1);
    op->dom = vd_domain_obj_ref(dom);
    op->paused = ps->paused;
    op->done = ps->done;
    op->user_data = ps->user_data;
    dom->start_op = op;
    dom->qmp = vd_qmp_connect(qmp_path, QMP_START_TIMEOUT_MS, qmp_ready, qmp_event, qmp_closed, dom);
    ExecWatch *w = g_new0(ExecWatch, 1);
    w->dom = vd_domain_obj_ref(dom);
    w->pid = pid;
    g_unix_fd_add(errfd, G_IO_IN | G_IO_HUP | G_IO_ERR, exec_checked, w);
    ExecWatch *r = g_new0(ExecWatch, 1);
    r->dom = vd_domain_obj_ref(dom);
    r->pid = pid;
    g_child_watch_add(pid, reap_child, r);
    pending_start_free(ps);
    return;

undo:
    ps->live = g_steal_pointer(&dom->live);
    dom->id = -1;
    dom->start_phase = VD_START_PHASE_NONE;
    vd_domain_status_remove(d->domains, dom);
    vd_domain_obj_set_state(dom, VD_STATE_SHUTOFF, VD_REASON_FAILED);
fail:
    pending_start_finish(ps, error);
    pending_start_free(ps);
}

static void
start_step_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    StartOp *op = data;
    VdDomainObj *dom = op->dom;
    op->in_flight = FALSE;
    if (op->finished) {
        /* QEMU died or was destroyed meanwhile: the start is answered. */
        start_op_free(op);
        return;
    }
    if (error) {
        start_fail(op, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                   "operation failed: setting up domain '%s': %s",
                                   dom->name, error->message));
        return;
    }
    /* query-vnc tells which port autoport picked. */
    if (op->step == 2 && result && JSON_NODE_HOLDS_OBJECT(result)) {
        JsonObject *vnc = json_node_get_object(result);
        const char *service = json_object_get_string_member_with_default(vnc, "service", NULL);
        VdGraphicsDef *g = dom->live->graphics->len ? g_ptr_array_index(dom->live->graphics, 0) : NULL;
        if (g && service)
            g->port = atoi(service);
    }
    start_continue(op);
}

static void
start_command(StartOp *op, const char *command, JsonObject *args)
{
    op->in_flight = TRUE;
    vd_qmp_command(op->dom->qmp, command, args, start_step_reply, op);
}

static VdGraphicsDef *
first_vnc(const VdDomainDef *def)
{
    for (guint i = 0; i < def->graphics->len; i++) {
        VdGraphicsDef *g = g_ptr_array_index(def->graphics, i);
        if (g->type == VD_GRAPHICS_VNC)
            return g;
    }
    return NULL;
}

/* Set-up steps after QMP is up, one QMP command each. */
static void
start_continue(StartOp *op)
{
    VdDomainObj *dom = op->dom;
    VdGraphicsDef *vnc = first_vnc(dom->live);

    switch (op->step++) {
    case 0:
        if (vnc && vnc->passwd) {
            JsonObject *args = json_object_new();
            json_object_set_string_member(args, "protocol", "vnc");
            json_object_set_string_member(args, "password", vnc->passwd);
            start_command(op, "set_password", args);
            return;
        }
        start_continue(op);
        return;
    case 1:
        if (vnc) {
            start_command(op, "query-vnc", NULL);
            return;
        }
        op->step++;
        start_continue(op);
        return;
    case 2:
        start_continue(op);
        return;
    case 3:
        if (dom->live->memballoon && g_strcmp0(dom->live->memballoon->model, "none") != 0 &&
            dom->live->current_memory_kib < dom->live->memory_kib) {
            JsonObject *args = json_object_new();
            json_object_set_int_member(args, "value", (gint64)dom->live->current_memory_kib * 1024);
            start_command(op, "balloon", args);
            return;
        }
        start_continue(op);
        return;
    case 4:
        if (!op->paused) {
            set_start_phase(dom, VD_START_PHASE_RESUMING);
            start_command(op, "cont", NULL);
            return;
        }
        start_continue(op);
        return;
    default:
        break;
    }

    /* Done. */
    if (!op->paused)
        vd_start_crash_point("resumed");
    dom->start_op = NULL;
    dom->job = VD_JOB_NONE;
    dom->start_phase = VD_START_PHASE_NONE;
    if (op->paused)
        vd_domain_obj_set_state(dom, VD_STATE_PAUSED, VD_REASON_USER);
    else
        vd_domain_obj_set_state(dom, VD_STATE_RUNNING, VD_REASON_BOOTED);
    VdDaemon *d = daemon_of(dom);
    g_autofree char *console_path = socket_path(d, dom, "console");
    g_autofree char *console_log = vd_paths_domain_console_log(d->paths, dom->name);
    if (g_file_test(console_path, G_FILE_TEST_EXISTS))
        dom->console = vd_console_new(console_path, console_log, d->console_log_max, dom->name);
    save_status(dom);
    start_op_finish(op, NULL);
}

/* ---- reconnect -------------------------------------------------------- */

/* A start the previous daemon did not finish: QEMU running means "cont"
 * was answered, and cont is the last step, so the start is complete. Any
 * other state is a half-made QEMU (set-up steps may be missing): it is
 * killed and the start recorded as failed, as libvirt does ("wasn't fully
 * started yet, killing it"); the client that asked saw its request fail. */
static void
recover_start(VdDomainObj *dom, const char *status)
{
    VdStartPhase phase = dom->start_phase;
    dom->start_phase = VD_START_PHASE_NONE;
    dom->job = VD_JOB_NONE;
    if (g_str_equal(status, "running")) {
        g_info("domain '%s': its start had completed when the daemon stopped (phase %s, QEMU "
               "running)",
               dom->name, vd_start_phase_to_string(phase));
        dom->stop_reason = VD_REASON_UNKNOWN;
        set_state(dom, VD_STATE_RUNNING, VD_REASON_BOOTED);
        return;
    }
    g_warning("domain '%s': the daemon stopped in the middle of its start (phase %s, QEMU %s); "
              "killing QEMU (pid %d): the start failed",
              dom->name, vd_start_phase_to_string(phase), status, (int)dom->pid);
    dom->stop_reason = VD_REASON_FAILED;
    kill(dom->pid, SIGKILL);
    wait_for_exit(dom);
}

static void
reconnect_status_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdDomainObj *dom = data;
    dom->reconnecting = FALSE;
    if (dom->start_phase != VD_START_PHASE_NONE && vd_state_is_active(dom->state)) {
        const char *status = !error && result && JSON_NODE_HOLDS_OBJECT(result)
                                 ? json_object_get_string_member_with_default(
                                       json_node_get_object(result), "status", "unknown")
                                 : "not answering";
        recover_start(dom, status);
        vd_domain_obj_unref(dom);
        return;
    }
    if (!error && result && JSON_NODE_HOLDS_OBJECT(result) && vd_state_is_active(dom->state)) {
        const char *status =
            json_object_get_string_member_with_default(json_node_get_object(result), "status", "");
        if (g_str_equal(status, "running")) {
            if (dom->state != VD_STATE_RUNNING)
                vd_domain_obj_set_state(dom, VD_STATE_RUNNING, VD_REASON_UNPAUSED);
        } else if (g_str_equal(status, "paused") || g_str_equal(status, "prelaunch")) {
            if (dom->state != VD_STATE_PAUSED)
                vd_domain_obj_set_state(dom, VD_STATE_PAUSED, VD_REASON_USER);
        } else if (g_str_equal(status, "guest-panicked")) {
            vd_domain_obj_set_state(dom, VD_STATE_CRASHED, VD_REASON_PANICKED);
        } else if (g_str_equal(status, "shutdown")) {
            /* It powered off while we were away: finish the job. */
            apply_lifecycle(dom, vd_domain_obj_current_def(dom)->on_poweroff, VD_REASON_SHUTDOWN,
                            VD_STATE_SHUTDOWN, VD_REASON_USER);
        }
        save_status(dom);
    }
    vd_domain_obj_unref(dom);
}

static void
qmp_ready(VdQmp *qmp, const GError *error, gpointer user_data)
{
    VdDomainObj *dom = user_data;

    if (dom->start_op) {
        StartOp *op = dom->start_op;
        if (error) {
            /* A QEMU that died is reported by reap_child() with its exit
             * status and its last words, once it is really gone; one that
             * lives but never answered is ended here. */
            if (dom->pid > 0 && !pid_alive(dom->pid))
                return;
            g_autofree char *tail = log_tail(daemon_of(dom), dom);
            start_fail(op, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                       "operation failed: QEMU did not answer on its monitor "
                                       "(%s): %s",
                                       error->message, tail));
            return;
        }
        set_start_phase(dom, VD_START_PHASE_SETTING_UP);
        start_continue(op);
        return;
    }
    if (dom->reconnecting) {
        if (error) {
            g_warning("domain '%s': cannot reconnect to QEMU (pid %d): %s; killing it",
                      dom->name, (int)dom->pid, error->message);
            if (dom->start_phase == VD_START_PHASE_NONE)
                dom->stop_reason = VD_REASON_DAEMON;
            kill(dom->pid, SIGKILL);
            wait_for_exit(dom);
            return;
        }
        VdDaemon *d = daemon_of(dom);
        g_autofree char *console_path = socket_path(d, dom, "console");
        g_autofree char *console_log = vd_paths_domain_console_log(d->paths, dom->name);
        if (g_file_test(console_path, G_FILE_TEST_EXISTS))
            dom->console = vd_console_new(console_path, console_log, d->console_log_max, dom->name);
        vd_qmp_command(qmp, "query-status", NULL, reconnect_status_reply, vd_domain_obj_ref(dom));
    }
}

void
vd_domains_reconnect_all(VdDaemon *d)
{
    g_autoptr(GPtrArray) found = vd_domain_list_load_status(d->domains);

    for (guint i = 0; i < found->len; i++) {
        VdDomainObj *dom = g_ptr_array_index(found, i);
        dom->daemon = d;
        g_autofree char *qmp_path = socket_path(d, dom, "qmp");
        gboolean unfinished = dom->start_phase != VD_START_PHASE_NONE;
        if (unfinished) {
            /* Until recover_start() decides, nothing may resume or touch it;
             * if QEMU ends first, the start failed. */
            dom->job = VD_JOB_START;
            dom->stop_reason = VD_REASON_FAILED;
        }
        if (!pid_alive(dom->pid) || !pid_is_ours(dom->pid, qmp_path)) {
            if (unfinished)
                g_warning("domain '%s': the daemon stopped in the middle of its start (phase %s) "
                          "and no QEMU of it runs now: the start failed",
                          dom->name, vd_start_phase_to_string(dom->start_phase));
            else
                g_warning("domain '%s': QEMU (pid %d) died while the daemon was not running",
                          dom->name, (int)dom->pid);
            if (!unfinished)
                dom->stop_reason = VD_REASON_CRASHED;
            if (!vd_state_is_active(dom->state))
                dom->state = VD_STATE_RUNNING; /* so that finish_exit cleans up */
            finish_exit(dom);
            continue;
        }
        if (!vd_state_is_active(dom->state))
            dom->state = VD_STATE_RUNNING;
        g_info("domain '%s': reconnecting to QEMU pid %d", dom->name, (int)dom->pid);
        dom->reconnecting = TRUE;
        dom->qmp =
            vd_qmp_connect(qmp_path, QMP_RECONNECT_TIMEOUT_MS, qmp_ready, qmp_event, qmp_closed, dom);
    }
}

static void
autostart_done(VdDomainObj *dom, const GError *error, gpointer data)
{
    if (error)
        g_warning("autostart of domain '%s' failed: %s", dom->name, error->message);
    else
        g_info("domain '%s' autostarted", dom->name);
}

void
vd_domains_autostart(VdDaemon *d)
{
    g_autoptr(GPtrArray) all = vd_domain_list_all(d->domains);
    for (guint i = 0; i < all->len; i++) {
        VdDomainObj *dom = g_ptr_array_index(all, i);
        if (dom->persistent && dom->autostart && !vd_state_is_active(dom->state))
            vd_domain_start(d, dom, FALSE, autostart_done, NULL);
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
    if (dom->pid > 0 && pid_alive(dom->pid)) {
        kill(dom->pid, SIGTERM);
        arm_kill_timer(dom);
    }
    wait_for_exit(dom);
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
