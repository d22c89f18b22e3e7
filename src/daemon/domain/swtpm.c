/* The swtpm of a domain: its state, its start before QEMU, its end. See
 * swtpm.h. */
#include "swtpm.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/domain-tpm.h"
#include "daemon/domain/qemu-confine.h"
#include "util/vd-error.h"
#include "util/vd-file.h"

#define UNIX_PATH_MAX 107
/* How long a start waits for the previous swtpm of the domain to end
 * (it was just told to), and for a new one's pid file. */
#define SWTPM_GONE_WAIT_MS 3000
#define SWTPM_PIDFILE_WAIT_MS 3000

char *
vd_swtpm_state_dir(const VdPaths *paths, const char *uuid)
{
    return g_build_filename(paths->state_dir, "swtpm", uuid, NULL);
}

/* NAME, or the UUID where the name cannot be used in swtpm's options
 * (they are split at ',' with no escape) or makes a socket path too long. */
static const char *
file_key(VdDaemon *d, VdDomainObj *dom)
{
    if (strchr(dom->name, ',') ||
        strlen(d->paths->run_domains_dir) + strlen(dom->name) + strlen("/.swtpm-pid") >
            UNIX_PATH_MAX)
        return dom->uuid;
    return dom->name;
}

static char *
run_file(VdDaemon *d, VdDomainObj *dom, const char *suffix)
{
    g_autofree char *base = g_strdup_printf("%s.%s", file_key(d, dom), suffix);
    return g_build_filename(d->paths->run_domains_dir, base, NULL);
}

static char *
log_file(VdDaemon *d, VdDomainObj *dom)
{
    g_autofree char *base = g_strdup_printf("%s.log", file_key(d, dom));
    return g_build_filename(d->paths->log_dir, "swtpm", base, NULL);
}

/* The pid in @pid_path if that process is alive and is the swtpm of
 * @socket (its command line names it): a pid file left by a swtpm that
 * died may name a process that has nothing to do with us. 0 otherwise. */
static pid_t
swtpm_pid(const char *pid_path, const char *socket)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(pid_path, &text, NULL, NULL))
        return 0;
    char *end = NULL;
    long pid = strtol(text, &end, 10);
    if (pid <= 1 || end == text || pid > G_MAXINT)
        return 0;
    g_autofree char *cmd_path = g_strdup_printf("/proc/%ld/cmdline", pid);
    g_autofree char *cmdline = NULL;
    gsize len = 0;
    if (!g_file_get_contents(cmd_path, &cmdline, &len, NULL) || len == 0)
        return 0;
    g_autofree char *needle = g_strdup_printf("path=%s", socket);
    gboolean swtpm = FALSE, ours = FALSE;
    for (gsize i = 0; i < len; i += strlen(cmdline + i) + 1) {
        const char *arg = cmdline + i;
        if (i == 0)
            swtpm = g_str_has_suffix(arg, "swtpm");
        /* --ctrl type=unixio,path=SOCKET,mode=0600 */
        const char *at = strstr(arg, needle);
        if (at && (at[strlen(needle)] == ',' || at[strlen(needle)] == 0))
            ours = TRUE;
    }
    /* A zombie is gone for our purposes. */
    g_autofree char *stat_path = g_strdup_printf("/proc/%ld/stat", pid);
    g_autofree char *stat = NULL;
    if (g_file_get_contents(stat_path, &stat, NULL, NULL)) {
        const char *p = strrchr(stat, ')');
        if (p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
            return 0;
    }
    return swtpm && ours ? (pid_t)pid : 0;
}

/* ---- start (worker thread) ---------------------------------------------- */

typedef struct {
    char *name;
    char *vmid;        /* NAME:UUID, as libvirt names the TPM to swtpm_setup */
    char *state_dir;   /* state_dir/swtpm/UUID/tpm2 */
    char *localca_dir; /* state_dir/swtpm-localca */
    char *socket;
    char *pid_path;
    char *log_path;
    char *pcr_banks;
    gboolean tpm2;
} StartJob;

static void
start_job_free(StartJob *j)
{
    g_free(j->name);
    g_free(j->vmid);
    g_free(j->state_dir);
    g_free(j->localca_dir);
    g_free(j->socket);
    g_free(j->pid_path);
    g_free(j->log_path);
    g_free(j->pcr_banks);
    g_free(j);
}

static gboolean
missing_program(const char *program, GError **error)
{
    g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                "unsupported configuration: <tpm><backend type='emulator'>: '%s' was not found: "
                "TPM emulation needs swtpm: apt-get install swtpm swtpm-tools",
                program);
    return FALSE;
}

/* The previous swtpm of this domain (told to end by a stop) must be gone
 * before a new one binds the same socket: an exiting swtpm removes its
 * socket and pid file, which would then be the new one's. */
static void
wait_old_gone(StartJob *j)
{
    pid_t old = swtpm_pid(j->pid_path, j->socket);
    for (guint waited = 0; old && waited < SWTPM_GONE_WAIT_MS; waited += 20) {
        if (waited == 0)
            kill(old, SIGTERM);
        g_usleep(20 * 1000);
        old = swtpm_pid(j->pid_path, j->socket);
    }
    if (old) {
        g_warning("domain '%s': swtpm (pid %d) ignored SIGTERM, sending SIGKILL", j->name,
                  (int)old);
        kill(old, SIGKILL);
        g_usleep(100 * 1000);
    }
    g_unlink(j->pid_path);
    g_unlink(j->socket);
}

/* swtpm_setup signs the TPM's certificates with a local CA; this one is
 * the daemon's own (created on first use), so that nothing is written to
 * the host's /var/lib/swtpm-localca. Returns the swtpm_setup config. */
static char *
ensure_localca(StartJob *j, gboolean *certs, GError **error)
{
    g_autofree char *ca_conf = g_build_filename(j->localca_dir, "swtpm-localca.conf", NULL);
    g_autofree char *setup_conf = g_build_filename(j->localca_dir, "swtpm_setup.conf", NULL);
    g_autofree char *ca = g_strdup_printf(
        "statedir = %s\nsigningkey = %s/signkey.pem\nissuercert = %s/issuercert.pem\n"
        "certserial = %s/certserial\n",
        j->localca_dir, j->localca_dir, j->localca_dir, j->localca_dir);
    g_autofree char *tool = g_find_program_in_path("swtpm_localca");
    /* Without swtpm_localca the TPM gets no EK and platform certificates
     * (start_certs FALSE); Debian's swtpm-tools has it. Its options file
     * holds the platform certificate's fields. */
    g_autofree char *setup = g_strdup_printf(
        "%s%s%s%s%s%sactive_pcr_banks = sha256\n", tool ? "create_certs_tool = " : "",
        tool ? tool : "", tool ? "\ncreate_certs_tool_config = " : "", tool ? ca_conf : "",
        tool ? "\n" : "",
        tool && g_file_test("/etc/swtpm-localca.options", G_FILE_TEST_EXISTS)
            ? "create_certs_tool_options = /etc/swtpm-localca.options\n"
            : "");
    *certs = tool != NULL;

    if (!vd_dir_ensure(j->localca_dir, 0700, error) ||
        !vd_file_replace(ca_conf, ca, -1, 0600, error) ||
        !vd_file_replace(setup_conf, setup, -1, 0600, error))
        return NULL;
    return g_steal_pointer(&setup_conf);
}

static void
child_setsid(gpointer data)
{
    setsid();
}

/* Runs @argv, its stdout and stderr appended to the log; FALSE with the
 * end of what it said. */
static gboolean
run_tool(StartJob *j, const char *const *argv, const char *what, gboolean new_session,
         GError **error)
{
    g_autofree char *err = NULL;
    int status = 0;
    g_autoptr(GError) spawn_error = NULL;
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    for (guint i = 0; argv[i]; i++)
        g_ptr_array_add(args, (gpointer)argv[i]);
    g_ptr_array_add(args, NULL);

    /* setsid: swtpm --daemon's child keeps the session, and must not be
     * in the daemon's (a signal to the daemon's group must not end it). */
    if (!g_spawn_sync(NULL, (char **)args->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                      new_session ? child_setsid : NULL, NULL, NULL, &err, &status, &spawn_error)) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: cannot run %s: %s", what, spawn_error->message);
        return FALSE;
    }
    if (err && *err) {
        FILE *f = fopen(j->log_path, "ae");
        if (f) {
            fputs(err, f);
            fclose(f);
        }
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_strstrip(err);
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: %s failed for domain '%s': %s (log: %s)", what, j->name,
                    err && *err ? err : "no message", j->log_path);
        return FALSE;
    }
    return TRUE;
}

static gboolean
setup_state(StartJob *j, const char *swtpm_setup, GError **error)
{
    g_autofree char *permall =
        g_build_filename(j->state_dir, j->tpm2 ? "tpm2-00.permall" : "tpm-00.permall", NULL);
    gboolean exists = g_file_test(permall, G_FILE_TEST_EXISTS);

    if (exists && !j->pcr_banks)
        return TRUE;
    gboolean certs = FALSE;
    g_autofree char *config = ensure_localca(j, &certs, error);
    if (!config)
        return FALSE;
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer)swtpm_setup);
    if (j->tpm2)
        g_ptr_array_add(argv, "--tpm2");
    g_ptr_array_add(argv, "--tpm-state");
    g_ptr_array_add(argv, j->state_dir);
    g_ptr_array_add(argv, "--config");
    g_ptr_array_add(argv, config);
    g_ptr_array_add(argv, "--logfile");
    g_ptr_array_add(argv, j->log_path);
    if (exists) {
        /* As libvirt: <active_pcr_banks> is applied at every start. */
        g_ptr_array_add(argv, "--reconfigure");
    } else {
        g_ptr_array_add(argv, "--vmid");
        g_ptr_array_add(argv, j->vmid);
        g_ptr_array_add(argv, "--createek");
        if (certs) {
            g_ptr_array_add(argv, "--create-ek-cert");
            g_ptr_array_add(argv, "--create-platform-cert");
        }
        g_ptr_array_add(argv, "--lock-nvram");
        g_ptr_array_add(argv, "--not-overwrite");
    }
    if (j->pcr_banks) {
        g_ptr_array_add(argv, "--pcr-banks");
        g_ptr_array_add(argv, j->pcr_banks);
    }
    g_ptr_array_add(argv, NULL);
    if (!exists)
        g_info("domain '%s': creating its TPM state in %s", j->name, j->state_dir);
    return run_tool(j, (const char *const *)argv->pdata, "swtpm_setup", FALSE, error);
}

/* swtpm itself, on the state made by setup_state(). */
static gboolean
run_swtpm(StartJob *j, const char *swtpm, GError **error)
{
    g_autofree char *tpmstate = g_strdup_printf("dir=%s,mode=0600", j->state_dir);
    /* The socket is root's: the daemon connects and QEMU gets the
     * connected socket (qemu/qemu-run-fds.h). swtpm stays root, with its
     * state where QEMU cannot reach it. */
    g_autofree char *ctrl = g_strdup_printf("type=unixio,path=%s,mode=0600", j->socket);
    g_autofree char *log = g_strdup_printf("file=%s", j->log_path);
    g_autofree char *pid = g_strdup_printf("file=%s", j->pid_path);
    const char *argv[] = {swtpm,
                          "socket",
                          "--tpmstate",
                          tpmstate,
                          "--ctrl",
                          ctrl,
                          "--log",
                          log,
                          "--pid",
                          pid,
                          "--terminate",
                          "--daemon",
                          j->tpm2 ? "--tpm2" : NULL,
                          NULL};
    /* --daemon returns once the socket listens and the pid file is
     * written, so QEMU can connect at once. */
    if (!run_tool(j, argv, "swtpm", TRUE, error))
        return FALSE;
    pid_t p = 0;
    for (guint waited = 0;
         !(p = swtpm_pid(j->pid_path, j->socket)) && waited < SWTPM_PIDFILE_WAIT_MS; waited += 20)
        g_usleep(20 * 1000);
    if (!p) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: swtpm of domain '%s' did not stay up (log: %s)", j->name,
                    j->log_path);
        return FALSE;
    }
    g_info("domain '%s': swtpm runs (pid %d, state %s)", j->name, (int)p, j->state_dir);
    return TRUE;
}

/* @program from $@env (tests: VIRTD_SWTPM=/nonexistent plays a host
 * without swtpm), else from PATH; NULL when it is not there. */
static char *
find_program(const char *env, const char *program)
{
    const char *path = g_getenv(env);
    if (path && *path)
        return g_file_test(path, G_FILE_TEST_IS_EXECUTABLE) ? g_strdup(path) : NULL;
    return g_find_program_in_path(program);
}

static gboolean
start_job(StartJob *j, GError **error)
{
    g_autofree char *swtpm = find_program("VIRTD_SWTPM", "swtpm");
    g_autofree char *swtpm_setup = find_program("VIRTD_SWTPM_SETUP", "swtpm_setup");
    g_autofree char *log_dir = g_path_get_dirname(j->log_path);

    if (!swtpm)
        return missing_program("swtpm", error);
    if (!swtpm_setup)
        return missing_program("swtpm_setup", error);
    if (g_mkdir_with_parents(j->state_dir, 0700) < 0) {
        int e = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: cannot create the TPM state directory '%s': %s",
                    j->state_dir, g_strerror(e));
        return FALSE;
    }
    if (!vd_dir_ensure(log_dir, 0700, error))
        return FALSE;
    wait_old_gone(j);
    return setup_state(j, swtpm_setup, error) && run_swtpm(j, swtpm, error);
}

static void
start_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    StartJob *j = data;
    GError *error = NULL;

    if (start_job(j, &error))
        g_task_return_pointer(task, g_strdup(j->socket), g_free);
    else
        g_task_return_error(task, error);
}

void
vd_swtpm_start_async(VdDaemon *d, VdDomainObj *dom, const VdDomainDef *def,
                     GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, user_data);
    const VdTpmDef *tpm = vd_domain_tpm_emulator(def);

    if (!tpm) {
        g_task_return_pointer(task, NULL, NULL);
        return;
    }
    StartJob *j = g_new0(StartJob, 1);
    g_autofree char *uuid_dir = vd_swtpm_state_dir(d->paths, dom->uuid);
    j->tpm2 = tpm->version == VD_TPM_VERSION_2_0;
    j->name = g_strdup(dom->name);
    j->vmid = g_strdup_printf("%s:%s", dom->name, dom->uuid);
    j->state_dir = g_build_filename(uuid_dir, j->tpm2 ? "tpm2" : "tpm1.2", NULL);
    j->localca_dir = g_build_filename(d->paths->state_dir, "swtpm-localca", NULL);
    j->socket = run_file(d, dom, "swtpm");
    j->pid_path = run_file(d, dom, "swtpm-pid");
    j->log_path = log_file(d, dom);
    j->pcr_banks = g_strdup(tpm->pcr_banks);
    g_task_set_task_data(task, j, (GDestroyNotify)start_job_free);
    g_task_run_in_thread(task, start_thread);
}

gboolean
vd_swtpm_start_finish(GAsyncResult *result, char **socket_out, GError **error)
{
    GError *e = NULL;
    *socket_out = g_task_propagate_pointer(G_TASK(result), &e);
    if (e) {
        g_propagate_error(error, e);
        return FALSE;
    }
    return TRUE;
}

/* ---- stop, reconnect, undefine ------------------------------------------- */

void
vd_swtpm_stop(VdDaemon *d, VdDomainObj *dom)
{
    g_autofree char *socket = run_file(d, dom, "swtpm");
    g_autofree char *pid_path = run_file(d, dom, "swtpm-pid");
    pid_t pid = swtpm_pid(pid_path, socket);

    if (!pid)
        return;
    g_info("domain '%s': ending its swtpm (pid %d)", dom->name, (int)pid);
    kill(pid, SIGTERM);
}

pid_t
vd_swtpm_reconnect(VdDaemon *d, VdDomainObj *dom)
{
    g_autofree char *socket = run_file(d, dom, "swtpm");
    g_autofree char *pid_path = run_file(d, dom, "swtpm-pid");
    pid_t pid = swtpm_pid(pid_path, socket);
    const VdDomainDef *def = vd_domain_obj_current_def(dom);

    if (pid)
        g_info("domain '%s': its swtpm runs (pid %d)", dom->name, (int)pid);
    else if (def && vd_domain_tpm_emulator(def))
        g_warning("domain '%s': its swtpm is gone while QEMU runs: the guest's TPM does not "
                  "answer until the domain is restarted",
                  dom->name);
    return pid;
}

static gboolean
remove_tree(const char *path, GError **error)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    if (dir) {
        const char *name;
        while ((name = g_dir_read_name(dir))) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
                !g_file_test(child, G_FILE_TEST_IS_SYMLINK)) {
                if (!remove_tree(child, error))
                    return FALSE;
            } else if (g_unlink(child) < 0 && errno != ENOENT) {
                int e = errno;
                g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                            "operation failed: cannot remove '%s': %s", child, g_strerror(e));
                return FALSE;
            }
        }
    }
    if (g_rmdir(path) < 0 && errno != ENOENT) {
        int e = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: cannot remove '%s': %s", path, g_strerror(e));
        return FALSE;
    }
    return TRUE;
}

gboolean
vd_swtpm_can_remove_state(VdDomainObj *dom, GError **error)
{
    if (vd_state_is_active(dom->state) || dom->job != VD_JOB_NONE) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: domain '%s' is active: its swtpm holds the "
                    "TPM state; destroy it first, or undefine without --tpm (the state is kept)",
                    dom->name);
        return FALSE;
    }
    return TRUE;
}

gboolean
vd_swtpm_remove_state(VdDaemon *d, VdDomainObj *dom, GError **error)
{
    if (!vd_swtpm_can_remove_state(dom, error))
        return FALSE;
    g_autofree char *dir = vd_swtpm_state_dir(d->paths, dom->uuid);
    /* A few small files (swtpm's state, its lock): removed in place. */
    if (!remove_tree(dir, error))
        return FALSE;
    g_info("domain '%s': TPM state %s removed", dom->name, dir);
    return TRUE;
}
