/* A domain's QEMU found again after a daemon restart, QMP's ready
 * callback (for a start or a reconnect), and autostart.
 *
 * Apart from domain-process.c because it runs at daemon start, over status
 * files a previous daemon left, including starts it did not finish
 * (docs/architecture.md, "Daemon restart"); what it shares with the rest
 * is in domain-process-priv.h. */
#include "domain-process-priv.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "daemon/domain/console.h"
#include "daemon/domain/domain-cgroup.h"
#include "daemon/domain/domain-files.h"
#include "daemon/blockjob/blockjob.h"
#include "daemon/save/save.h"
#include "daemon/snapshot/snapshot.h"
#include "daemon/domain/swtpm.h"
#include "util/vd-error.h"

/* How long a QEMU that outlived the daemon has to greet it again before it
 * is taken for hung. Generous, as libvirt's 30 s: under heavy load a
 * healthy QEMU can take seconds, and the verdict ends a running guest. */
#define QMP_RECONNECT_TIMEOUT_MS 30000

/* The "socket:[INODE]" names of the unix sockets bound at @path, from
 * /proc/net/unix ("Num RefCount Protocol Flags Type St Inode Path"; the
 * path is the rest of the line and may hold blanks). */
static GHashTable *
sockets_bound_at(const char *path)
{
    GHashTable *names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autofree char *table = NULL;
    if (!g_file_get_contents("/proc/net/unix", &table, NULL, NULL))
        return names;
    g_auto(GStrv) lines = g_strsplit(table, "\n", -1);
    for (guint i = 1; lines[i]; i++) {
        unsigned long inode;
        int used = 0;
        if (sscanf(lines[i], "%*s %*s %*s %*s %*s %*s %lu %n", &inode, &used) == 1 && used > 0 &&
            g_str_equal(lines[i] + used, path))
            g_hash_table_add(names, g_strdup_printf("socket:[%lu]", inode));
    }
    return names;
}

/* Whether @pid is the QEMU we started: it holds the QMP socket bound at
 * @qmp_path (which the daemon made and passed it, or which a QEMU from
 * before that change made itself). A pid reused since, after a reboot,
 * holds no such socket. */
static gboolean
pid_is_ours(pid_t pid, const char *qmp_path)
{
    g_autoptr(GHashTable) wanted = sockets_bound_at(qmp_path);
    if (g_hash_table_size(wanted) == 0)
        return FALSE;
    g_autofree char *fd_dir = g_strdup_printf("/proc/%d/fd", (int)pid);
    g_autoptr(GDir) dir = g_dir_open(fd_dir, 0, NULL);
    const char *entry;
    while (dir && (entry = g_dir_read_name(dir))) {
        g_autofree char *link = g_build_filename(fd_dir, entry, NULL);
        g_autofree char *target = g_file_read_link(link, NULL);
        if (target && g_hash_table_contains(wanted, target))
            return TRUE;
    }
    return FALSE;
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
        vd_proc_set_state(dom, VD_STATE_RUNNING, VD_REASON_BOOTED);
        return;
    }
    g_warning("domain '%s': the daemon stopped in the middle of its start (phase %s, QEMU %s); "
              "killing QEMU (pid %d): the start failed",
              dom->name, vd_start_phase_to_string(phase), status, (int)dom->pid);
    dom->stop_reason = VD_REASON_FAILED;
    kill(dom->pid, SIGKILL);
    vd_proc_wait_for_exit(dom);
}

static void
reconnect_status_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdDomainObj *dom = data;
    dom->reconnecting = FALSE;
    vd_save_reconnected(dom->daemon, dom, error ? NULL : result); /* an interrupted save */
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
        } else if (g_str_equal(status, "watchdog")) {
            if (dom->state != VD_STATE_PAUSED)
                vd_domain_obj_set_state(dom, VD_STATE_PAUSED, VD_REASON_WATCHDOG);
        } else if (g_str_equal(status, "guest-panicked")) {
            vd_domain_obj_set_state(dom, VD_STATE_CRASHED, VD_REASON_PANICKED);
        } else if (g_str_equal(status, "shutdown")) {
            /* It powered off while we were away: finish the job. */
            vd_proc_apply_lifecycle(dom, vd_domain_obj_current_def(dom)->on_poweroff,
                                    VD_REASON_SHUTDOWN, VD_STATE_SHUTDOWN, VD_REASON_USER);
        }
        vd_proc_save_status(dom);
        vd_blockjob_reconnected(dom->daemon, dom);
        vd_snapshot_settle(dom->daemon, dom);
    }
    vd_domain_obj_unref(dom);
}

/* How long a starting QEMU that closed its monitor before the greeting
 * has to be gone before it is taken for one that lives and will not
 * answer. The daemon makes the QMP socket, so connecting always succeeds:
 * a QEMU that fails to start closes the connection as it exits, and the
 * kernel may tell the daemon so a moment before the process is a zombie. */
#define MONITOR_LOST_GRACE_MS 2000

typedef struct {
    VdDomainObj *dom;
    gint64 started_at; /* the start it was for (dom->started_at) */
    char *message;
} MonitorLost;

static void
start_monitor_failed(VdDomainObj *dom, const char *message)
{
    g_autofree char *tail = vd_proc_log_tail(vd_proc_daemon_of(dom), dom);
    vd_proc_start_fail(dom->start_op,
                       g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                   "operation failed: QEMU did not answer on its monitor (%s): %s",
                                   message, tail));
}

static gboolean
monitor_lost_timeout(gpointer data)
{
    MonitorLost *m = data;
    /* Still the same start, and nobody reported it (reap_child() does
     * when QEMU exits): QEMU lives and does not answer. */
    if (m->dom->start_op && m->dom->started_at == m->started_at)
        start_monitor_failed(m->dom, m->message);
    vd_domain_obj_unref(m->dom);
    g_free(m->message);
    g_free(m);
    return G_SOURCE_REMOVE;
}

void
vd_proc_qmp_ready(VdQmp *qmp, const GError *error, gpointer user_data)
{
    VdDomainObj *dom = user_data;

    if (dom->start_op) {
        StartOp *op = dom->start_op;
        if (error) {
            /* A QEMU that died is reported by reap_child() (domain-start.c)
             * with its exit status and its last words, once it is really
             * gone; one that lives but never answered is ended here, after
             * the grace a dying one needs to be seen dead. */
            if (dom->pid > 0 && !vd_proc_pid_alive(dom->pid))
                return;
            if (dom->pid > 0) {
                MonitorLost *m = g_new0(MonitorLost, 1);
                m->dom = vd_domain_obj_ref(dom);
                m->started_at = dom->started_at;
                m->message = g_strdup(error->message);
                g_timeout_add(MONITOR_LOST_GRACE_MS, monitor_lost_timeout, m);
                return;
            }
            start_monitor_failed(dom, error->message);
            return;
        }
        vd_proc_set_start_phase(dom, VD_START_PHASE_SETTING_UP);
        vd_proc_start_continue(op);
        return;
    }
    if (dom->reconnecting) {
        if (error) {
            g_warning("domain '%s': cannot reconnect to QEMU (pid %d): %s; killing it",
                      dom->name, (int)dom->pid, error->message);
            if (dom->start_phase == VD_START_PHASE_NONE)
                dom->stop_reason = VD_REASON_DAEMON;
            kill(dom->pid, SIGKILL);
            vd_proc_wait_for_exit(dom);
            return;
        }
        VdDaemon *d = vd_proc_daemon_of(dom);
        g_autofree char *console_path = vd_proc_socket_path_found(d, dom, "console");
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
        g_autofree char *qmp_path = vd_proc_socket_path_found(d, dom, "qmp");
        gboolean unfinished = dom->start_phase != VD_START_PHASE_NONE;
        if (unfinished) {
            /* Until recover_start() decides, nothing may resume or touch it;
             * if QEMU ends first, the start failed. */
            dom->job = VD_JOB_START;
            dom->stop_reason = VD_REASON_FAILED;
        }
        if (!vd_proc_pid_alive(dom->pid) || !pid_is_ours(dom->pid, qmp_path)) {
            if (unfinished)
                g_warning("domain '%s': the daemon stopped in the middle of its start (phase %s) "
                          "and no QEMU of it runs now: the start failed",
                          dom->name, vd_start_phase_to_string(dom->start_phase));
            else
                g_warning("domain '%s': QEMU (pid %d) died while the daemon was not running",
                          dom->name, (int)dom->pid);
            if (!unfinished)
                dom->stop_reason = VD_REASON_CRASHED;
            vd_save_reconnect_dead(d, dom); /* an interrupted save: "shut off (saved)"? */
            if (!vd_state_is_active(dom->state))
                dom->state = VD_STATE_RUNNING; /* so that vd_proc_finish_exit cleans up */
            vd_proc_finish_exit(dom);
            continue;
        }
        if (!vd_state_is_active(dom->state))
            dom->state = VD_STATE_RUNNING;
        g_info("domain '%s': reconnecting to QEMU pid %d", dom->name, (int)dom->pid);
        vd_swtpm_reconnect(d, dom);
        vd_domain_cgroup_reconnect(d, dom);
        dom->reconnecting = TRUE;
        dom->qmp = vd_qmp_connect(qmp_path, QMP_RECONNECT_TIMEOUT_MS, vd_proc_qmp_ready,
                                  vd_proc_qmp_event, vd_proc_qmp_closed, dom);
    }
    /* A daemon killed while it started a swtpm, before the domain's status
     * file said so, left a swtpm no QEMU will connect to. */
    g_autoptr(GPtrArray) all = vd_domain_list_all(d->domains);
    for (guint i = 0; i < all->len; i++) {
        VdDomainObj *dom = g_ptr_array_index(all, i);
        if (!vd_state_is_active(dom->state))
            vd_swtpm_stop(d, dom);
    }
    /* Likewise a cgroup made for a start the kill interrupted. */
    vd_domain_cgroups_sweep(d);
}

static void
autostart_done(VdDomainObj *dom, const GError *error, gpointer data)
{
    gboolean restored = GPOINTER_TO_INT(data);
    if (error)
        g_warning("autostart of domain '%s'%s failed: %s", dom->name,
                  restored ? " from its managed save image" : "", error->message);
    else if (restored)
        g_message("domain '%s' autostarted: restored from its managed save image", dom->name);
    else
        g_info("domain '%s' autostarted", dom->name);
}

void
vd_domains_autostart(VdDaemon *d)
{
    g_autoptr(GPtrArray) all = vd_domain_list_all(d->domains);
    for (guint i = 0; i < all->len; i++) {
        VdDomainObj *dom = g_ptr_array_index(all, i);
        if (dom->persistent && dom->autostart && !vd_state_is_active(dom->state) &&
            !vd_save_start_managed(d, dom, FALSE, FALSE, autostart_done, GINT_TO_POINTER(TRUE)))
            vd_domain_start(d, dom, FALSE, autostart_done, NULL);
    }
}
