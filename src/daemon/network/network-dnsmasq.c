/* One dnsmasq per network with DHCP or DNS (network-priv.h): its files
 * in state_dir/dnsmasq, the process, and the leases it writes.
 *
 * dnsmasq detaches itself (fork, setsid, fork) and outlives the daemon,
 * like QEMU: a restarted daemon finds it by the pid file and checks its
 * command line, which names the network's configuration file (a guard
 * against pid reuse). Its first process exits only once the detached one
 * has bound its sockets and read its files, with status 0 or dnsmasq's
 * own message on stderr, so a start knows at once whether it worked.
 * dnsmasq keeps the lease file itself (dhcp-leasefile=); the daemon
 * only reads it. */
#include "daemon/network/network-priv.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/vd-error.h"
#include "util/vd-file.h"

#define STOP_WAIT_MS 1000
/* How long a start waits for dnsmasq's first process (it exits once the
 * detached one has bound its sockets: milliseconds). The wait runs on the
 * main loop, so it is bounded: a dnsmasq that hangs fails the start
 * instead of freezing the daemon. */
#define START_WAIT_MS 5000

char *
vd_network_dnsmasq_path(VdNetworks *nets, const char *name, const char *suffix)
{
    g_autofree char *file = g_strconcat(name, ".", suffix, NULL);
    return g_build_filename(nets->paths->dnsmasq_dir, file, NULL);
}

static char *
log_path(VdNetworks *nets, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".log", NULL);
    return g_build_filename(nets->paths->dnsmasq_log_dir, file, NULL);
}

static char *
find_dnsmasq(void)
{
    const char *env = g_getenv("VIRTD_DNSMASQ");
    char *path = env && *env ? g_strdup(env) : g_find_program_in_path("dnsmasq");

    if (!path && g_file_test("/usr/sbin/dnsmasq", G_FILE_TEST_IS_EXECUTABLE))
        path = g_strdup("/usr/sbin/dnsmasq");
    return path;
}

/* Whether @pid runs with an argument that contains @needle: dnsmasq with
 * this network's configuration file. A zombie has no command line. */
static gboolean
pid_runs(int pid, const char *needle)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", pid);
    g_autofree char *cmdline = NULL;
    gsize len = 0;

    if (pid <= 0 || !g_file_get_contents(path, &cmdline, &len, NULL))
        return FALSE;
    for (gsize i = 0; i < len; i += strlen(cmdline + i) + 1)
        if (strstr(cmdline + i, needle))
            return TRUE;
    return FALSE;
}

static int
read_pid_file(const char *path)
{
    g_autofree char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    gint64 pid = g_ascii_strtoll(g_strstrip(text), NULL, 10);
    return pid > 0 && pid < G_MAXINT ? (int)pid : 0;
}

/* dnsmasq reads its host files again at every SIGHUP, after it has
 * dropped to user nobody: they must be reachable by others. A private
 * --root directory (0700, as the tests make) is not; then dnsmasq keeps
 * root rather than answer nothing. */
static gboolean
reachable_by_others(const char *dir)
{
    g_autofree char *d = g_strdup(dir);

    while (TRUE) {
        struct stat st;
        if (stat(d, &st) < 0 || !(st.st_mode & S_IXOTH))
            return FALSE;
        if (g_str_equal(d, "/"))
            return TRUE;
        char *parent = g_path_get_dirname(d);
        g_free(d);
        d = parent;
    }
}

static gboolean
write_host_files(VdNetworks *nets, const VdNetworkDef *def, GError **error)
{
    g_autofree char *hosts_path = vd_network_dnsmasq_path(nets, def->name, "hostsfile");
    g_autofree char *addn_path = vd_network_dnsmasq_path(nets, def->name, "addnhosts");
    g_autofree char *hosts = vd_dnsmasq_hosts_format(def);
    g_autofree char *addn = vd_dnsmasq_addn_hosts_format(def);

    return vd_file_replace(hosts_path, hosts, -1, 0644, error) &&
           vd_file_replace(addn_path, addn, -1, 0644, error);
}

/* What dnsmasq wrote to the log from @offset on, as one line. */
static char *
log_since(const char *path, goffset offset)
{
    g_autofree char *text = NULL;
    gsize len = 0;

    if (!g_file_get_contents(path, &text, &len, NULL) || (gsize)offset >= len)
        return g_strdup("(no message)");
    g_autofree char *tail = g_strstrip(g_strdup(text + offset));
    g_strdelimit(tail, "\n", ' ');
    return g_steal_pointer(&tail);
}

gboolean
vd_network_dnsmasq_start(VdNetworks *nets, VdNetwork *net, GError **error)
{
    const char *name = net->live->name;
    g_autofree char *conf_path = vd_network_dnsmasq_path(nets, name, "conf");
    g_autofree char *pid_path = vd_network_dnsmasq_path(nets, name, "pid");
    g_autofree char *lease_path = vd_network_dnsmasq_path(nets, name, "leases");
    g_autofree char *hosts_path = vd_network_dnsmasq_path(nets, name, "hostsfile");
    g_autofree char *addn_path = vd_network_dnsmasq_path(nets, name, "addnhosts");
    g_autofree char *log = log_path(nets, name);
    g_autofree char *binary = find_dnsmasq();
    VdDnsmasqFiles files = {
        .pid_file = pid_path,
        .lease_file = lease_path,
        .hosts_file = hosts_path,
        .addn_hosts = addn_path,
        .forward_to_host = nets->d->dns_forward,
    };

    if (!binary) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "dnsmasq is not installed: install it (Debian: apt-get install dnsmasq-base)");
        return FALSE;
    }
    g_autofree char *conf = vd_dnsmasq_conf_format(net->live, &files);
    if (!vd_dir_ensure(nets->paths->dnsmasq_dir, 0755, error) ||
        !vd_dir_ensure(nets->paths->dnsmasq_log_dir, 0700, error) ||
        !write_host_files(nets, net->live, error) ||
        !vd_file_replace(conf_path, conf, -1, 0644, error))
        return FALSE;
    g_unlink(pid_path);

    int logfd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (logfd < 0) {
        int saved = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "cannot open '%s': %s", log,
                    g_strerror(saved));
        return FALSE;
    }
    goffset offset = lseek(logfd, 0, SEEK_END);
    g_autofree char *conf_arg = g_strconcat("--conf-file=", conf_path, NULL);
    gboolean as_root = !reachable_by_others(nets->paths->dnsmasq_dir);
    const char *argv[] = {binary, conf_arg, as_root ? "--user=root" : NULL, NULL};
    GPid pid = 0;
    gboolean spawned = g_spawn_async_with_fds(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                              NULL, NULL, &pid, -1, logfd, logfd, error);
    close(logfd);
    if (!spawned)
        return FALSE;
    /* The first process: it exits as soon as the detached one is ready
     * (or failed); a few milliseconds. */
    int status = 0;
    pid_t got = 0;
    for (int waited = 0; got == 0; waited++) {
        got = waitpid(pid, &status, WNOHANG);
        if (got < 0 && errno == EINTR)
            got = 0;
        if (got == 0 && waited >= START_WAIT_MS) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            g_spawn_close_pid(pid);
            g_autofree char *msg = log_since(log, offset);
            g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT,
                        "dnsmasq did not finish starting in %d s (killed)%s%s",
                        START_WAIT_MS / 1000, *msg ? ": " : "", msg);
            return FALSE;
        }
        if (got == 0)
            g_usleep(1000);
    }
    g_spawn_close_pid(pid);
    if (got < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        g_autofree char *msg = log_since(log, offset);
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "dnsmasq failed: %s", msg);
        return FALSE;
    }
    int daemon_pid = read_pid_file(pid_path);
    if (!pid_runs(daemon_pid, conf_path)) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "dnsmasq started but its pid file '%s' names no running dnsmasq", pid_path);
        return FALSE;
    }
    net->dnsmasq_pid = daemon_pid;
    if (as_root)
        g_info("network '%s': dnsmasq (pid %d) keeps running as root: %s is not reachable by "
               "other users, so user nobody could not read its host files",
               name, daemon_pid, nets->paths->dnsmasq_dir);
    return TRUE;
}

gboolean
vd_network_dnsmasq_alive(VdNetworks *nets, VdNetwork *net)
{
    g_autofree char *conf_path = vd_network_dnsmasq_path(nets, net->def->name, "conf");
    return pid_runs(net->dnsmasq_pid, conf_path);
}

void
vd_network_dnsmasq_stop(VdNetworks *nets, VdNetwork *net)
{
    const char *name = net->def->name;
    g_autofree char *conf_path = vd_network_dnsmasq_path(nets, name, "conf");
    g_autofree char *pid_path = vd_network_dnsmasq_path(nets, name, "pid");
    const char *suffixes[] = {"conf", "hostsfile", "addnhosts", "pid"};
    /* A start killed before it recorded the pid: the pid file has it. */
    int pid = net->dnsmasq_pid > 0 ? net->dnsmasq_pid : read_pid_file(pid_path);

    if (pid_runs(pid, conf_path)) {
        kill(pid, SIGTERM);
        for (int waited = 0; pid_runs(pid, conf_path); waited += 10) {
            if (waited == STOP_WAIT_MS) {
                g_warning("network '%s': dnsmasq (pid %d) ignored SIGTERM: killing it", name, pid);
                kill(pid, SIGKILL);
            } else if (waited > 2 * STOP_WAIT_MS) {
                break;
            }
            g_usleep(10 * 1000);
        }
    }
    net->dnsmasq_pid = 0;
    for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *path = vd_network_dnsmasq_path(nets, name, suffixes[i]);
        g_unlink(path);
    }
}

gboolean
vd_network_dnsmasq_reload(VdNetworks *nets, VdNetwork *net, GError **error)
{
    if (!vd_network_dnsmasq_alive(nets, net)) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "the dnsmasq of network '%s' is not running: restart the network "
                    "(net-destroy, net-start)",
                    net->def->name);
        return FALSE;
    }
    if (!write_host_files(nets, net->live, error))
        return FALSE;
    /* dnsmasq reads dhcp-hostsfile and addn-hosts again on SIGHUP. */
    if (kill(net->dnsmasq_pid, SIGHUP) < 0) {
        int saved = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "cannot signal the dnsmasq of network '%s' (pid %d): %s", net->def->name,
                    net->dnsmasq_pid, g_strerror(saved));
        return FALSE;
    }
    return TRUE;
}

void
vd_network_dnsmasq_forget(VdNetworks *nets, const char *name)
{
    const char *suffixes[] = {"conf", "hostsfile", "addnhosts", "pid", "leases"};

    for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *path = vd_network_dnsmasq_path(nets, name, suffixes[i]);
        g_unlink(path);
    }
}

GPtrArray *
vd_networks_leases(VdNetworks *nets, VdNetwork *net)
{
    g_autofree char *path = vd_network_dnsmasq_path(nets, net->def->name, "leases");
    g_autofree char *text = NULL;
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;

    if (!net->active || !g_file_get_contents(path, &text, NULL, NULL))
        return g_ptr_array_new_with_free_func((GDestroyNotify)vd_dnsmasq_lease_free);
    GPtrArray *leases = vd_dnsmasq_leases_parse(text);
    for (guint i = leases->len; i-- > 0;) {
        VdDnsmasqLease *l = g_ptr_array_index(leases, i);
        if (l->expiry != 0 && l->expiry < now)
            g_ptr_array_remove_index(leases, i);
    }
    return leases;
}
