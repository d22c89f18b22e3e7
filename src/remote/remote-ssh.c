/* The SSH tunnel (remote-ssh.h). We run the user's own ssh rather than
 * linking an SSH library so ~/.ssh/config, ssh-agent, known_hosts,
 * ProxyJump and password prompts behave exactly as for `ssh HOST`. OpenSSH's
 * stream-local forwarding (-L LOCAL_SOCKET:REMOTE_SOCKET) needs nothing
 * on the remote host but sshd: no shell, no nc, no port.
 *
 * ssh's stderr goes to a file in the tunnel's private directory: it is
 * where its reasons ("Permission denied (publickey)", "connect failed:
 * No such file or directory") are read from, and nothing of ssh's gets
 * mixed into vsh's output. */
#include "remote/remote-ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "remote/remote.h"
#include "util/vd-error.h"

gboolean vd_remote_interactive = TRUE;

void
vd_remote_set_interactive(gboolean interactive)
{
    vd_remote_interactive = interactive;
}

struct _VdSshTunnel {
    VdRemoteUri *uri; /* host, port, socket_path for messages */
    char *dir;        /* private 0700 directory */
    char *local;      /* DIR/virtd.sock */
    char *log;        /* DIR/ssh.log: ssh's stderr */
    char *command;    /* the command line, for "run it by hand" */
    GPid pid;         /* 0 once reaped */
    int status;       /* wait status once reaped */
};

const char *
vd_ssh_tunnel_socket(const VdSshTunnel *tunnel)
{
    return tunnel->local;
}

static void
child_setup(gpointer data)
{
    pid_t parent = GPOINTER_TO_INT(data);

    /* Ctrl-C in vsh's shell must not take the tunnel down (ssh keeps an
     * ignored SIGINT ignored); vsh dying must (the parent's death). */
    signal(SIGINT, SIG_IGN);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(1);
}

static char *
make_dir(GError **error)
{
    g_autoptr(GError) local = NULL;
    char *dir = g_dir_make_tmp("virtd-ssh-XXXXXX", &local);

    /* sun_path holds 108 bytes; a long $TMPDIR would not fit. */
    if (dir && strlen(dir) + sizeof("/virtd.sock") > sizeof(((struct sockaddr_un *)0)->sun_path)) {
        g_rmdir(dir);
        g_clear_pointer(&dir, g_free);
    }
    if (!dir) {
        dir = g_strdup("/tmp/virtd-ssh-XXXXXX");
        if (!g_mkdtemp_full(dir, 0700)) {
            int err = errno;

            g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                        "cannot make a private directory for the ssh tunnel's socket: %s",
                        g_strerror(err));
            g_free(dir);
            return NULL;
        }
    }
    return dir;
}

VdSshTunnel *
vd_ssh_tunnel_spawn(const VdRemoteUri *uri, GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(VdSshTunnel) t = g_new0(VdSshTunnel, 1);
    g_autoptr(GError) local = NULL;
    gboolean tty = vd_remote_interactive && isatty(STDIN_FILENO);
    int log_fd;

    if (strchr(uri->socket_path, ':')) {
        g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                    "the remote socket path '%s' contains ':', which ssh -L cannot forward to; "
                    "use a path without ':'",
                    uri->socket_path);
        return NULL;
    }
    t->uri = g_new0(VdRemoteUri, 1);
    t->uri->host = g_strdup(uri->host);
    t->uri->port = uri->port;
    t->uri->uri = g_strdup(uri->uri);
    t->uri->socket_path = g_strdup(uri->socket_path);
    if (!(t->dir = make_dir(error)))
        return NULL;
    t->local = g_build_filename(t->dir, "virtd.sock", NULL);
    t->log = g_build_filename(t->dir, "ssh.log", NULL);

    g_ptr_array_add(argv, g_strdup(uri->ssh_command ? uri->ssh_command : "ssh"));
    if (uri->port) {
        g_ptr_array_add(argv, g_strdup("-p"));
        g_ptr_array_add(argv, g_strdup_printf("%u", uri->port));
    }
    if (uri->user) {
        g_ptr_array_add(argv, g_strdup("-l"));
        g_ptr_array_add(argv, g_strdup(uri->user));
    }
    if (uri->keyfile) {
        g_ptr_array_add(argv, g_strdup("-i"));
        g_ptr_array_add(argv, g_strdup(uri->keyfile));
    }
    if (uri->no_verify) {
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strdup("StrictHostKeyChecking=no"));
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strdup("UserKnownHostsFile=/dev/null"));
    }
    /* No terminal: no prompt could be answered; fail at once instead. */
    if (!tty) {
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strdup("BatchMode=yes"));
    }
    /* A ControlMaster of the user's config would take the forwarding
     * over and let our ssh exit: the tunnel must live and die with it. */
    g_ptr_array_add(argv, g_strdup("-o"));
    g_ptr_array_add(argv, g_strdup("ControlPath=none"));
    g_ptr_array_add(argv, g_strdup("-o"));
    g_ptr_array_add(argv, g_strdup("ExitOnForwardFailure=yes"));
    g_ptr_array_add(argv, g_strdup("-o"));
    g_ptr_array_add(argv, g_strdup("StreamLocalBindUnlink=yes"));
    g_ptr_array_add(argv, g_strdup("-N"));
    g_ptr_array_add(argv, g_strdup("-L"));
    g_ptr_array_add(argv, g_strdup_printf("%s:%s", t->local, uri->socket_path));
    /* "--": a host must never be read as an option. */
    g_ptr_array_add(argv, g_strdup("--"));
    g_ptr_array_add(argv, g_strdup(uri->host));
    g_ptr_array_add(argv, NULL);
    t->command = g_strjoinv(" ", (char **)argv->pdata);

    log_fd = open(t->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log_fd < 0) {
        int err = errno;

        g_set_error(error, VD_ERROR, VD_ERROR_CONNECT, "cannot create '%s': %s", t->log,
                    g_strerror(err));
        return NULL;
    }
    if (!g_spawn_async_with_pipes_and_fds(NULL, (const char *const *)argv->pdata, NULL,
                                          G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                                              G_SPAWN_STDOUT_TO_DEV_NULL |
                                              (tty ? G_SPAWN_CHILD_INHERITS_STDIN : 0),
                                          child_setup, GINT_TO_POINTER(getpid()), -1, -1, log_fd,
                                          NULL, NULL, 0, &t->pid, NULL, NULL, NULL, &local)) {
        close(log_fd);
        g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                    "cannot run '%s' for %s: %s (install openssh-client, or name the ssh "
                    "binary with ?command=)",
                    (char *)g_ptr_array_index(argv, 0), uri->uri, local->message);
        return NULL;
    }
    close(log_fd);
    return g_steal_pointer(&t);
}

/* TRUE once ssh has exited (reaped; its status kept). */
static gboolean
ssh_exited(VdSshTunnel *t)
{
    pid_t got;

    if (!t->pid)
        return TRUE;
    while ((got = waitpid(t->pid, &t->status, WNOHANG)) < 0 && errno == EINTR)
        ;
    if (got == 0)
        return FALSE;
    /* got < 0 (ECHILD: someone ignores SIGCHLD) counts as gone too. */
    if (got < 0)
        t->status = 255 << 8;
    t->pid = 0;
    return TRUE;
}

/* ssh's lines, minus the chatter that explains nothing. */
static GPtrArray *
log_lines(VdSshTunnel *t)
{
    g_autofree char *text = NULL;
    GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
    g_auto(GStrv) split = NULL;

    if (!g_file_get_contents(t->log, &text, NULL, NULL))
        return lines;
    split = g_strsplit(text, "\n", -1);
    for (guint i = 0; split[i]; i++) {
        char *line = g_strstrip(split[i]);

        if (!*line || g_str_has_prefix(line, "Warning: Permanently added"))
            continue;
        g_ptr_array_add(lines, g_strdup(line));
    }
    return lines;
}

static const char *
ssh_fix(const char *words)
{
    if (strstr(words, "Permission denied"))
        return "check the user and the key: ?keyfile=FILE, ssh-agent, and the remote user's "
               "~/.ssh/authorized_keys";
    if (strstr(words, "Connection refused"))
        return "is sshd running on the host, listening on that port?";
    if (strstr(words, "Host key verification failed") || strstr(words, "HOST IDENTIFICATION"))
        return "check the host's key and add it to ~/.ssh/known_hosts (run ssh HOST once), "
               "or add ?no_verify=1 to the URI";
    if (strstr(words, "Could not resolve hostname"))
        return "check the host name";
    if (strstr(words, "timed out") || strstr(words, "No route to host"))
        return "check the address, the port and the network in between";
    return NULL;
}

static void
set_exit_error(VdSshTunnel *t, GError **error)
{
    g_autoptr(GPtrArray) lines = log_lines(t);
    const char *last = lines->len ? g_ptr_array_index(lines, lines->len - 1) : NULL;
    const char *fix = last ? ssh_fix(last) : NULL;
    g_autofree char *how = NULL;

    if (WIFEXITED(t->status))
        how = g_strdup_printf("exited with status %d", WEXITSTATUS(t->status));
    else
        how = g_strdup_printf("was killed by signal %d", WTERMSIG(t->status));
    if (last && fix)
        g_set_error(error, VD_ERROR, VD_ERROR_CONNECT, "Cannot recv data: %s: %s", last, fix);
    else if (last)
        g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                    "Cannot recv data: %s (ssh %s; run `%s -v` by hand to see why)", last, how,
                    t->command);
    else
        g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                    "Cannot recv data: ssh to %s %s without a word (run `%s -v` by hand to "
                    "see why)",
                    t->uri->host, how, t->command);
}

/* The remote end refused the channel to the socket: "channel 2: open
 * failed: connect failed: No such file or directory". */
static gboolean
set_channel_error(VdSshTunnel *t, GError **error)
{
    g_autoptr(GPtrArray) lines = log_lines(t);

    for (guint i = lines->len; i-- > 0;) {
        const char *line = g_ptr_array_index(lines, i);
        const char *why = strstr(line, "open failed: ");

        if (!why)
            continue;
        why += strlen("open failed: ");
        /* sshd keeps the errno to itself ("connect failed: open failed"). */
        if (g_str_has_prefix(why, "connect failed: ")) {
            g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                        "Failed to connect socket to '%s' on %s: sshd could not connect to it "
                        "(no such socket, or no virtd listening on it: is virtd running there? "
                        "check the path, or name it with ?socket=)",
                        t->uri->socket_path, t->uri->host);
        } else {
            g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                        "Failed to connect socket to '%s' on %s: sshd refused to forward to "
                        "it: %s (the remote sshd_config needs AllowStreamLocalForwarding yes)",
                        t->uri->socket_path, t->uri->host, why);
        }
        return TRUE;
    }
    return FALSE;
}

gboolean
vd_ssh_tunnel_explain(VdSshTunnel *tunnel, GError **error)
{
    if (ssh_exited(tunnel)) {
        set_exit_error(tunnel, error);
        return TRUE;
    }
    return set_channel_error(tunnel, error);
}

/* One request through the tunnel: 1 when the remote daemon answered, 0
 * when the local socket does not accept yet, -1 when the far end closed
 * without a word (the channel was refused). */
static int
probe(VdSshTunnel *t, gint64 deadline)
{
    static const char request[] = "GET /v1/version HTTP/1.0\r\nHost: localhost\r\n\r\n";
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    gint64 left = MAX(deadline - g_get_monotonic_time(), 100000);
    struct timeval tv = {.tv_sec = left / G_USEC_PER_SEC, .tv_usec = left % G_USEC_PER_SEC};
    char byte;
    ssize_t n;
    int fd;

    g_strlcpy(sa.sun_path, t->local, sizeof(sa.sun_path));
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return 0;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    n = send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL);
    if (n == (ssize_t)sizeof(request) - 1)
        while ((n = recv(fd, &byte, 1, 0)) < 0 && errno == EINTR)
            ;
    close(fd);
    return n > 0 ? 1 : -1;
}

gboolean
vd_ssh_tunnel_wait(VdSshTunnel *t, GCancellable *cancellable, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + VD_SSH_TUNNEL_TIMEOUT_S * G_USEC_PER_SEC;

    for (;;) {
        int got;

        if (g_cancellable_set_error_if_cancelled(cancellable, error))
            return FALSE;
        if (ssh_exited(t)) {
            set_exit_error(t, error);
            return FALSE;
        }
        got = probe(t, deadline);
        if (got > 0)
            return TRUE;
        if (got < 0) {
            /* ssh writes its reason just after closing; give it a moment. */
            for (int i = 0; i < 20; i++) {
                if (set_channel_error(t, error))
                    return FALSE;
                if (ssh_exited(t)) {
                    set_exit_error(t, error);
                    return FALSE;
                }
                g_usleep(25000);
            }
            g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                        "Failed to connect socket to '%s' on %s: the connection was closed "
                        "without an answer (is virtd running there?)",
                        t->uri->socket_path, t->uri->host);
            return FALSE;
        }
        if (g_get_monotonic_time() > deadline) {
            g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                        "ssh to %s did not set up the tunnel within %d s (waiting for a "
                        "password with no terminal? use a key or ssh-agent; or run `%s -v` "
                        "by hand)",
                        t->uri->host, VD_SSH_TUNNEL_TIMEOUT_S, t->command);
            return FALSE;
        }
        g_usleep(50000);
    }
}

void
vd_ssh_tunnel_free(VdSshTunnel *t)
{
    if (!t)
        return;
    if (t->pid && !ssh_exited(t)) {
        /* ssh ends within milliseconds of SIGTERM; the daemon's main loop
         * may be the caller, so do not wait long for it. */
        kill(t->pid, SIGTERM);
        for (int i = 0; i < 50 && !ssh_exited(t); i++)
            g_usleep(5000);
        if (t->pid) {
            kill(t->pid, SIGKILL);
            while (waitpid(t->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        }
    }
    if (t->local)
        unlink(t->local);
    if (t->log)
        unlink(t->log);
    if (t->dir)
        g_rmdir(t->dir);
    vd_remote_uri_free(t->uri);
    g_free(t->dir);
    g_free(t->local);
    g_free(t->log);
    g_free(t->command);
    g_free(t);
}
