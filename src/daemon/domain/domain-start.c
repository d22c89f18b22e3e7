/* Starting a domain: checks, the files it names, its kernel, the argv,
 * the spawn (qemu-spawn.c) and the QMP set-up steps up to "cont".
 *
 * Apart from domain-process.c because a start is the longest of the
 * operations, with its own state (PendingStart before QEMU exists, StartOp
 * after) and its own failures; what it shares with the rest is in
 * domain-process-priv.h. */
#include "domain-process-priv.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <glib-unix.h>
#include <unistd.h>

#include "conf/domain-platform.h"
#include "daemon/domain/console.h"
#include "daemon/domain/disk-prepare.h"
#include "daemon/domain/domain-cgroup.h"
#include "daemon/domain/domain-files.h"
#include "daemon/domain/domain-net.h"
#include "daemon/domain/domain-spice.h"
#include "daemon/domain/nvram.h"
#include "daemon/domain/disk-chains.h"
#include "daemon/domain/qemu-access.h"
#include "daemon/domain/qemu-confine.h"
#include "daemon/domain/qemu-spawn.h"
#include "daemon/domain/swtpm.h"
#include "daemon/hotplug/vcpu-live.h"
#include "conf/domain-firmware.h"
#include "daemon/host-probe.h"
#include "daemon/host-ready.h"
#include "qemu/qemu-command.h"
#include "qemu/qmp-balloon.h"
#include "qemu/qemu-run-fds.h"
#include "util/vd-error.h"

#define QMP_START_TIMEOUT_MS 30000
#define UNIX_PATH_MAX 107

/* ---- start ------------------------------------------------------------ */

/* The failed start is answered only once its QEMU has exited: QEMU's
 * image locks go with its process, and a client that retries at once (or
 * reads the image) would find them still taken. A killed process exits
 * within milliseconds; the wait is bounded (0.5 s) all the same. */
static void
kill_and_wait(pid_t pid)
{
    kill(pid, SIGKILL);
    for (int i = 0; i < 250 && vd_proc_pid_alive(pid); i++)
        g_usleep(2000);
}

void
vd_proc_start_fail(StartOp *op, GError *error)
{
    g_autoptr(VdDomainObj) dom = vd_domain_obj_ref(op->dom);
    dom->start_op = NULL;
    if (dom->pid > 0 && vd_proc_pid_alive(dom->pid))
        kill_and_wait(dom->pid);
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
        vd_proc_finish_exit(dom);
    vd_proc_start_op_finish(op, error);
    g_error_free(error);
}

static gboolean
check_can_start(VdDaemon *d, VdDomainObj *dom, GError **error)
{
    return vd_domain_def_check_startable(vd_domain_obj_def(dom), error) &&
           vd_domain_start_check_host(d, vd_domain_obj_def(dom), error);
}

gboolean
vd_domain_start_check_host(VdDaemon *d, const VdDomainDef *def, GError **error)
{
    vd_host_ready_wait(d); /* the start-up probes may still run (host-ready.h) */
    if (!d->caps) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: QEMU is not usable: %s",
                    d->caps_error ? d->caps_error->message : "capabilities unknown");
        return FALSE;
    }
    if (def->virt_type == VD_VIRT_KVM && d->kvm->status != VD_KVM_USABLE) {
        g_set_error(error, VD_ERROR, VD_ERROR_KVM_UNUSABLE,
                    "domain '%s' asks for <domain type='kvm'>, but KVM is not usable on this host "
                    "(%s): %s Change it to <domain type='qemu'> with 'vsh edit %s' to run it "
                    "with TCG emulation.",
                    def->name, vd_kvm_status_to_string(d->kvm->status), d->kvm->detail,
                    def->name);
        return FALSE;
    }
    return TRUE;
}

VdQemuRunPaths
vd_domain_run_paths(VdDaemon *d, const VdDomainDef *live, const char *qmp, const char *console,
                    const char *console_log)
{
    VdQemuRunPaths run = {
        .qmp_socket_path = qmp,
        .console_socket_path = console,
        .console_log_path = console_log,
        .guest_agent_dir = d->paths->run_qemu_dir,
        .start_paused = TRUE,
        .accel = live->virt_type == VD_VIRT_KVM ? "kvm" : "tcg",
        .bios = d->fast_firmware,
        /* The live definition has them too (the live XML shows them). */
        .loader_path = live->os.loader,
        .nvram_path = live->fw->loader_stateless ? NULL : live->os.nvram,
        .host = d->host ? &d->host->facts : NULL,
        .sandbox = VD_QEMU_SANDBOX,
    };
    return run;
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
        g_autofree char *tail = vd_proc_log_tail(vd_proc_daemon_of(dom), dom);
        g_autofree char *how = g_spawn_check_wait_status(status, NULL)
                                   ? g_strdup("exited")
                                   : WIFSIGNALED(status)
                                         ? g_strdup_printf("was killed by signal %d", WTERMSIG(status))
                                         : g_strdup_printf("exited with status %d", WEXITSTATUS(status));
        vd_proc_start_fail(dom->start_op,
                           g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                       "operation failed: QEMU %s while starting: %s", how, tail));
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
        VdDaemon *d = vd_proc_daemon_of(dom);
        const VdDomainDef *def = vd_domain_obj_current_def(dom);
        const char *binary = def->emulator ? def->emulator : d->qemu_binary;
        vd_proc_start_fail(dom->start_op, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                                      "operation failed: cannot execute '%s': %s",
                                                      binary, g_strerror(exec_errno)));
    }
    vd_domain_obj_unref(w->dom);
    g_free(w);
    return G_SOURCE_REMOVE;
}
typedef struct {
    VdDaemon *d;
    VdDomainObj *dom;
    VdDomainDef *live;
    gboolean paused;
    gboolean once_only;
    VdDomainWaitFunc done;
    gpointer user_data;
    char *tpm_socket;   /* the swtpm started for this start (swtpm.h), NULL: none */
    VdStartRestore *restore; /* vd_domain_start_restore; handed to the StartOp at launch */
} PendingStart;

static void launch(PendingStart *ps, const char *boot_kernel);
static void files_checked(GObject *source, GAsyncResult *res, gpointer data);
static void nvram_prepared(GObject *source, GAsyncResult *res, gpointer data);
static void resolve_kernel(PendingStart *ps);
static void swtpm_started(GObject *source, GAsyncResult *res, gpointer data);
static void start_swtpm(PendingStart *ps);

/* The start failed before QEMU existed (or a destroy aborted it). */
static void
pending_start_finish(PendingStart *ps, const GError *error)
{
    VdDomainObj *dom = ps->dom;
    /* No QEMU will connect to the swtpm started for it: --terminate
     * would never end it. */
    if (ps->tpm_socket)
        vd_swtpm_stop(ps->d, dom);
    dom->job = VD_JOB_NONE;
    if (dom->stop_reason == VD_REASON_DESTROYED)
        vd_domain_obj_set_state(dom, VD_STATE_SHUTOFF, VD_REASON_DESTROYED);
    dom->stop_reason = VD_REASON_UNKNOWN;
    if (ps->restore) {
        VdStartRestore *restore = g_steal_pointer(&ps->restore);
        restore->finish(restore, dom, error);
    }
    ps->done(dom, error, ps->user_data);
    vd_domain_obj_complete_waiters(dom, NULL);
    vd_domain_list_forget_if_gone(ps->d->domains, dom);
}

static void
pending_start_free(PendingStart *ps)
{
    vd_domain_def_free(ps->live);
    vd_domain_obj_unref(ps->dom);
    g_free(ps->tpm_socket);
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
    vd_domain_start_restore(d, dom, once, NULL, paused, done, user_data);
}

void
vd_domain_start_restore(VdDaemon *d, VdDomainObj *dom, VdDomainDef *once, VdStartRestore *restore,
                        gboolean paused, VdDomainWaitFunc done, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) once_def = once;
    dom->daemon = d;

    if (!vd_domain_obj_check(dom, VD_OP_START, &error) || !check_can_start(d, dom, &error)) {
        if (restore)
            restore->finish(restore, dom, error);
        done(dom, error, user_data);
        return;
    }
    gboolean once_only = once_def != NULL;
    g_autoptr(VdDomainDef) live =
        once_def ? g_steal_pointer(&once_def) : vd_domain_def_copy(vd_domain_obj_def(dom));
    if (!vd_disks_resolve_volumes(d, live, &error)) {
        if (restore)
            restore->finish(restore, dom, error);
        done(dom, error, user_data);
        return;
    }
    /* A boot: QEMU places the disks and NICs itself (a user's <address> is ignored),
     * so the live definition names no address but those hot-plugs record
     * (a restore keeps the saved guest's: the argv puts them there). */
    for (guint i = 0; !restore && i < live->disks->len; i++)
        vd_disk_def_clear_pci_address(g_ptr_array_index(live->disks, i));
    for (guint i = 0; !restore && i < live->interfaces->len; i++)
        vd_net_def_clear_pci_address(g_ptr_array_index(live->interfaces, i));
    PendingStart *ps = g_new0(PendingStart, 1);
    ps->restore = restore;
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
    g_clear_pointer(&dom->start_notes, g_ptr_array_unref);
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
    /* UEFI: the firmware selected, the variable store made from its
     * template, in a worker thread (nvram.h). */
    if (vd_domain_nvram_needed(ps->live)) {
        vd_domain_nvram_prepare_async(ps->d, g_steal_pointer(&ps->live), nvram_prepared, ps);
        return;
    }
    start_swtpm(ps);
}

static void
nvram_prepared(GObject *source, GAsyncResult *res, gpointer data)
{
    PendingStart *ps = data;
    g_autoptr(GError) error = NULL;

    ps->live = vd_domain_nvram_prepare_finish(res, &error);
    if (!ps->live) {
        pending_start_finish(ps, error);
        pending_start_free(ps);
        return;
    }
    start_swtpm(ps);
}

/* swtpm listens before QEMU connects to it; swtpm_setup may take a second
 * or more on the first start (a worker thread). */
static void
start_swtpm(PendingStart *ps)
{
    vd_swtpm_start_async(ps->d, ps->dom, ps->live, swtpm_started, ps);
}

static void
swtpm_started(GObject *source, GAsyncResult *res, gpointer data)
{
    PendingStart *ps = data;
    g_autoptr(GError) error = NULL;

    if (!vd_swtpm_start_finish(res, &ps->tpm_socket, &error)) {
        pending_start_finish(ps, error);
        pending_start_free(ps);
        return;
    }
    resolve_kernel(ps);
}

static void
resolve_kernel(PendingStart *ps)
{
    /* A bzImage boots from its cached vmlinux: resolving it may mean an
     * extraction, which runs in a worker thread. Not under UEFI: OVMF
     * boots the bzImage's EFI stub and cannot run a vmlinux. */
    gboolean uefi = g_strcmp0(ps->live->os.loader_type, "pflash") == 0 ||
                    g_strcmp0(ps->live->os.firmware, "efi") == 0;
    if (ps->live->os.kernel && ps->d->kernels && !uefi) {
        vd_kernel_cache_resolve_async(ps->d->kernels, ps->live->os.kernel, kernel_resolved, ps);
        return;
    }
    launch(ps, NULL);
}

/* run/qemu/NAME.pid, for administrators and their tools (QEMU's
 * -pidfile would need a directory QEMU may write). The daemon itself
 * keeps the pid in the status file. */
static void
write_pid_file(const char *path, pid_t pid)
{
    g_autofree char *text = g_strdup_printf("%d\n", (int)pid);
    g_autoptr(GError) error = NULL;
    if (!g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &error))
        g_warning("cannot write the pid file: %s", error->message);
}

static void
launch(PendingStart *ps, const char *boot_kernel)
{
    VdDaemon *d = ps->d;
    VdDomainObj *dom = ps->dom;
    g_autoptr(GError) error = NULL;
    g_autofree char *qmp_path = vd_proc_socket_path(d, dom, "qmp");
    g_autofree char *console_path = vd_proc_socket_path(d, dom, "console");
    g_autofree char *pid_path = vd_proc_socket_path(d, dom, "pid");
    g_autofree char *console_log = vd_paths_domain_console_log(d->paths, dom->name);
    g_autofree char *log_path = vd_paths_domain_log(d->paths, dom->name);
    g_autoptr(GPtrArray) argv = NULL;
    g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) fd_requests = g_ptr_array_new_with_free_func(vd_qemu_fd_request_free);
    g_autoptr(GHashTable) disk_chains = NULL;
    VdDomainNetFds nfds = {0};
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
    /* The disk images QEMU gets as descriptors, read (and their backing
     * files checked) before anything is set up. */
    disk_chains = vd_disk_chains_read(d->paths, ps->live, &error);
    if (!disk_chains)
        goto fail;

    /* Taps and macvtaps, after every check that can refuse the start
     * (networks active, bridges and host NICs present). */
    if (!vd_domain_spice_pick_ports(d, dom, ps->live, &error) ||
        !vd_domain_net_prepare(d, ps->live, &nfds, &error))
        goto fail;
    /* vsock: the daemon opens the device and sets the guest's CID, as for
     * taps; without the device the builder refuses, naming the module. */
    int vsock_fd = 0;
    guint vsock_cid = 0;
    if (ps->live->platform->vsocks->len == 1 && d->host && d->host->facts.vhost_vsock) {
        const VdVsockDef *v = g_ptr_array_index(ps->live->platform->vsocks, 0);
        int fd = vd_host_vsock_open(g_getenv("VIRTD_HOST_ROOT"), v->auto_cid ? 0 : v->cid,
                                    &vsock_cid, &error);
        if (fd < 0) {
            vd_domain_net_release(ps->live);
            goto fail;
        }
        vsock_fd = VD_SPAWN_FIRST_FD + (int)nfds.fds->len;
        g_array_append_val(nfds.fds, fd);
    }

    /* No -pidfile: QEMU writes nothing on the host; the daemon writes
     * the pid file itself once it has the pid. */
    VdQemuRunPaths run =
        vd_domain_run_paths(d, ps->live, qmp_path, console_path, console_log);
    run.boot_kernel = boot_kernel;
    run.net_fds = nfds.net_fds;
    run.vhost_fds = nfds.vhost_fds;
    run.n_net_fds = nfds.n;
    run.tpm_socket_path = ps->tpm_socket;
    run.vsock_fd = vsock_fd;
    run.vsock_cid = vsock_cid;
    run.incoming_defer = ps->restore && ps->restore->incoming;
    run.pci_addresses = ps->restore != NULL;
    run.fd_base = VD_SPAWN_FIRST_FD + (int)nfds.fds->len;
    run.fd_requests = fd_requests;
    run.disk_chains = disk_chains;
    argv = vd_qemu_build_argv_notes(ps->live, d->caps, &run, notes, &error);
    if (!argv) {
        vd_domain_net_release(ps->live);
        goto fail;
    }
    vd_spawn_write_log_header(log_path, argv);
    vd_spawn_write_log_fds(log_path, fd_requests);
    /* What the command line adjusts from what the definition says (e.g.
     * Hyper-V dropped under TCG): in the domain's log and the daemon's,
     * and in the start's answer as warnings (dom->start_notes). */
    vd_spawn_write_log_notes(log_path, notes);
    for (guint i = 0; i < notes->len; i++)
        g_message("domain '%s': %s", dom->name, (const char *)notes->pdata[i]);
    /* The cgroup and its limits, before anything runs in it. */
    if (!vd_domain_cgroup_prepare(d, dom, ps->live, notes, &error)) {
        vd_domain_net_release(ps->live);
        goto fail;
    }
    if (dom->start_notes)
        g_ptr_array_unref(dom->start_notes);
    dom->start_notes = g_steal_pointer(&notes);
    if (argv->len == 0 || g_ptr_array_index(argv, argv->len - 1) != NULL)
        g_ptr_array_add(argv, NULL);
    /* What QEMU opens by path, given to its user (qemu-access.h); then
     * the sockets it listens on, the files it writes and the disk images,
     * opened here and passed after the taps (qemu-run-fds.h). */
    if (!vd_qemu_access_grant_domain(d->paths, ps->live, run.nvram_path, disk_chains, &error) ||
        !vd_qemu_fd_requests_open(fd_requests, nfds.fds, &error)) {
        vd_qemu_access_restore(d->paths, dom->name);
        vd_domain_net_release(ps->live);
        goto fail;
    }

    int errfd, gofd;
    /* The status file says a start is under way before there is a child,
     * and QEMU is exec'd only once its pid is recorded (vd_spawn_detached):
     * whenever the daemon dies, its restart knows of every QEMU. */
    dom->id = vd_domain_list_next_id(d->domains);
    ps->live->id = dom->id;
    dom->live = g_steal_pointer(&ps->live);
    vd_domain_obj_set_state(dom, VD_STATE_PAUSED, VD_REASON_STARTING_UP);
    vd_proc_set_start_phase(dom, VD_START_PHASE_SPAWNING);
    if (!vd_spawn_detached(argv, log_path, (const int *)nfds.fds->data, nfds.fds->len, &pid,
                           &errfd, &gofd, &error))
        goto undo;
    /* The child holds the taps now; QEMU keeps them for its lifetime. */
    vd_domain_net_fds_clear(&nfds);
    vd_start_crash_point("spawned");
    dom->pid = pid;
    dom->started_at = g_get_monotonic_time();
    dom->start_phase = VD_START_PHASE_CONNECTING;
    /* Into its cgroup while the child still waits on the go pipe: QEMU
     * runs inside from its first instruction. */
    gboolean recorded = vd_domain_cgroup_attach(dom, pid, &error);
    if (recorded && !(recorded = vd_domain_status_save(d->domains, dom, &error)))
        g_prefix_error(&error, "operation failed: cannot record QEMU's pid: ");
    if (!recorded) {
        vd_spawn_release_child(gofd, FALSE);
        close(errfd);
        g_child_watch_add(pid, vd_spawn_reap_only, NULL);
        dom->pid = 0;
        goto undo;
    }
    vd_start_crash_point("connecting");
    vd_spawn_release_child(gofd, TRUE);
    write_pid_file(pid_path, pid);

    StartOp *op = g_new0(StartOp, 1);
    op->dom = vd_domain_obj_ref(dom);
    op->paused = ps->paused;
    op->done = ps->done;
    op->user_data = ps->user_data;
    op->restore = g_steal_pointer(&ps->restore);
    dom->start_op = op;
    dom->qmp = vd_qmp_connect(qmp_path, QMP_START_TIMEOUT_MS, vd_proc_qmp_ready, vd_proc_qmp_event,
                              vd_proc_qmp_closed, dom);
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
    vd_domain_cgroup_release(d, dom);
    vd_qemu_access_restore(d->paths, dom->name);
    ps->live = g_steal_pointer(&dom->live);
    vd_domain_net_release(ps->live);
    dom->id = -1;
    dom->start_phase = VD_START_PHASE_NONE;
    vd_domain_status_remove(d->domains, dom);
    vd_domain_obj_set_state(dom, VD_STATE_SHUTOFF, VD_REASON_FAILED);
fail:
    vd_domain_net_fds_clear(&nfds);
    pending_start_finish(ps, error);
    pending_start_free(ps);
}

static VdGraphicsDef *
first_graphics(const VdDomainDef *def, VdGraphicsType type)
{
    for (guint i = 0; i < def->graphics->len; i++) {
        VdGraphicsDef *g = g_ptr_array_index(def->graphics, i);
        if (g->type == type)
            return g;
    }
    return NULL;
}

static void
start_step_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    StartOp *op = data;
    VdDomainObj *dom = op->dom;
    op->in_flight = FALSE;
    if (op->finished) {
        /* QEMU died or was destroyed meanwhile: the start is answered. */
        vd_proc_start_op_free(op);
        return;
    }
    if (error) {
        vd_proc_start_fail(op, g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                           "operation failed: setting up domain '%s': %s",
                                           dom->name, error->message));
        return;
    }
    /* query-vnc tells which port autoport picked; query-spice confirms
     * the one the daemon gave. */
    if (op->step == 3 && result && JSON_NODE_HOLDS_OBJECT(result)) {
        JsonObject *vnc = json_node_get_object(result);
        const char *service = json_object_get_string_member_with_default(vnc, "service", NULL);
        VdGraphicsDef *g = first_graphics(dom->live, VD_GRAPHICS_VNC);
        if (g && service)
            g->port = atoi(service);
    }
    /* (set_link's replies come at step 4 too: they have no "port".) */
    if (op->step == 4 && result && JSON_NODE_HOLDS_OBJECT(result)) {
        JsonObject *spice = json_node_get_object(result);
        gint64 port = json_object_get_int_member_with_default(spice, "port", 0);
        VdGraphicsDef *g = first_graphics(dom->live, VD_GRAPHICS_SPICE);
        if (g && port > 0 && port <= 65535)
            g->port = (int)port;
    }
    vd_proc_start_continue(op);
}

/* restore->load() is over: "cont" next, or the start fails. */
static void
restore_loaded(VdDomainObj *dom, const GError *error, gpointer data)
{
    StartOp *op = data;
    op->in_flight = FALSE;
    op->loading = FALSE;
    if (op->finished) {
        /* The start ended under the load (QEMU died, destroy): finish()
         * waited for load() to answer. */
        if (op->restore) {
            VdStartRestore *restore = g_steal_pointer(&op->restore);
            g_autoptr(GError) ended = g_error_new(
                VD_ERROR, VD_ERROR_OPERATION_FAILED,
                "operation failed: domain '%s' stopped while its state was loaded", dom->name);
            restore->finish(restore, dom, error ? error : ended);
        }
        vd_proc_start_op_free(op);
        return;
    }
    if (error) {
        vd_proc_start_fail(op, g_error_copy(error));
        return;
    }
    op->restored = TRUE;
    vd_proc_start_continue(op);
}

static void
start_command(StartOp *op, const char *command, JsonObject *args)
{
    op->in_flight = TRUE;
    vd_qmp_command(op->dom->qmp, command, args, start_step_reply, op);
}

/* Set-up steps after QMP is up, one QMP command each. */
void
vd_proc_start_continue(StartOp *op)
{
    VdDomainObj *dom = op->dom;
    VdGraphicsDef *vnc = first_graphics(dom->live, VD_GRAPHICS_VNC);
    VdGraphicsDef *spice = first_graphics(dom->live, VD_GRAPHICS_SPICE);

    switch (op->step++) {
    case 0:
    case 1: {
        /* The passwords: argv only says that there is one. */
        VdGraphicsDef *g = op->step == 1 ? vnc : spice;
        if (g && g->passwd) {
            JsonObject *args = json_object_new();
            json_object_set_string_member(args, "protocol", g == vnc ? "vnc" : "spice");
            json_object_set_string_member(args, "password", g->passwd);
            start_command(op, "set_password", args);
            return;
        }
        vd_proc_start_continue(op);
        return;
    }
    case 2:
    case 3: {
        VdGraphicsDef *g = op->step == 3 ? vnc : spice;
        if (g) {
            start_command(op, g == vnc ? "query-vnc" : "query-spice", NULL);
            return;
        }
        vd_proc_start_continue(op);
        return;
    }
    case 4:
        /* <link state='down'>: QEMU has no option for it, so the link is
         * set down before the guest runs. One command per interface. */
        for (guint i = (guint)op->link_index; i < dom->live->interfaces->len; i++) {
            const VdNetDef *net = g_ptr_array_index(dom->live->interfaces, i);
            if (vd_net_def_link_up(net) || !net->alias)
                continue;
            op->link_index = (int)i + 1;
            op->step = 4;
            JsonObject *args = json_object_new();
            json_object_set_string_member(args, "name", net->alias);
            json_object_set_boolean_member(args, "up", FALSE);
            start_command(op, "set_link", args);
            return;
        }
        vd_proc_start_continue(op);
        return;
    case 5:
        /* The guest's memory statistics every <stats period=> seconds
         * (dommemstat); best effort, sent before the balloon's target. */
        if (dom->live->memballoon && g_strcmp0(dom->live->memballoon->model, "none") != 0 &&
            dom->live->memballoon->period)
            vd_qmp_command(dom->qmp, "qom-set",
                           vd_qmp_balloon_period_args(dom->live->memballoon->period), NULL, NULL);
        if (dom->live->memballoon && g_strcmp0(dom->live->memballoon->model, "none") != 0 &&
            dom->live->current_memory_kib < dom->live->memory_kib) {
            start_command(op, "balloon", vd_qmp_balloon_args(dom->live->current_memory_kib));
            return;
        }
        vd_proc_start_continue(op);
        return;
    case 6:
        /* A saved state (restore, managed save, snapshot revert) is
         * loaded into the paused QEMU now, before anything runs. The op
         * stays "in flight" so that a QEMU ending meanwhile only frees it
         * when load() answers. */
        if (op->restore && !op->restored) {
            op->in_flight = TRUE;
            op->loading = TRUE;
            op->step = 6;
            op->restore->load(op->restore, dom, restore_loaded, op);
            return;
        }
        /* <cputune> vcpupin/emulatorpin onto QEMU's threads (queued
         * before "cont"; a failure is logged, the guest runs). */
        vd_vcpu_live_started(vd_proc_daemon_of(dom), dom);
        if (!op->paused &&
            !(op->restore && op->restore->paused_reason != VD_REASON_UNKNOWN)) {
            vd_proc_set_start_phase(dom, VD_START_PHASE_RESUMING);
            start_command(op, "cont", NULL);
            return;
        }
        vd_proc_start_continue(op);
        return;
    default:
        break;
    }

    /* Done. */
    VdStateReason paused_reason = op->restore ? op->restore->paused_reason : VD_REASON_UNKNOWN;
    if (op->paused && paused_reason == VD_REASON_UNKNOWN)
        paused_reason = VD_REASON_USER;
    /* UNKNOWN here: no reason to stay paused, the guest runs. */
    if (paused_reason == VD_REASON_UNKNOWN)
        vd_start_crash_point("resumed");
    dom->start_op = NULL;
    dom->job = VD_JOB_NONE;
    dom->start_phase = VD_START_PHASE_NONE;
    if (paused_reason != VD_REASON_UNKNOWN)
        vd_domain_obj_set_state(dom, VD_STATE_PAUSED, paused_reason);
    else
        vd_domain_obj_set_state(dom, VD_STATE_RUNNING,
                                op->restore ? op->restore->running_reason : VD_REASON_BOOTED);
    VdDaemon *d = vd_proc_daemon_of(dom);
    g_autofree char *console_path = vd_proc_socket_path(d, dom, "console");
    g_autofree char *console_log = vd_paths_domain_console_log(d->paths, dom->name);
    if (g_file_test(console_path, G_FILE_TEST_EXISTS))
        dom->console = vd_console_new(console_path, console_log, d->console_log_max, dom->name);
    vd_proc_save_status(dom);
    vd_proc_start_op_finish(op, NULL);
}
