/* Spawning a detached QEMU. See qemu-spawn.h. */
#include "qemu-spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "daemon/domain/qemu-confine.h"
#include "qemu/qemu-command.h"
#include "qemu/qemu-run-fds.h"
#include "util/vd-error.h"

/* In the child, before exec (async-signal-safe calls only): puts
 * pass[i] at VD_SPAWN_FIRST_FD + i without close-on-exec, the exec pipe
 * and the go pipe right after them (close-on-exec), and closes every
 * other descriptor from 3 up: QEMU must hold the taps it was given and
 * none of the daemon's sockets (a restarted daemon could not take its
 * listening socket back while a child held it). Everything is first
 * copied above the final range, so that no dup2() overwrites a
 * descriptor still to be moved. */
static void
arrange_fds(const int *pass, guint n, int *errfd, int *gofd)
{
    int base = VD_SPAWN_FIRST_FD + (int)n + 2;
    int tmp[n + 2];

    for (guint i = 0; i < n; i++)
        tmp[i] = fcntl(pass[i], F_DUPFD_CLOEXEC, base);
    tmp[n] = fcntl(*errfd, F_DUPFD_CLOEXEC, base);
    tmp[n + 1] = fcntl(*gofd, F_DUPFD_CLOEXEC, base);
    for (guint i = 0; i < n; i++)
        dup2(tmp[i], VD_SPAWN_FIRST_FD + (int)i); /* dup2 clears close-on-exec */
    *errfd = VD_SPAWN_FIRST_FD + (int)n;
    *gofd = VD_SPAWN_FIRST_FD + (int)n + 1;
    dup3(tmp[n], *errfd, O_CLOEXEC);
    dup3(tmp[n + 1], *gofd, O_CLOEXEC);
    close_range(base, ~0U, 0);
}

/* fork + setsid + exec: QEMU gets its own session, so it survives the
 * daemon (a restarted daemon finds it again). Nothing here waits for the
 * child: under a storm of starts on a saturated host the child may run
 * late, and the main loop must not wait for it. Only async-signal-safe
 * calls between fork and exec (GLib threads exist). Returns the exec
 * pipe's read end in @errfd_out, for exec_checked(), and the go pipe's
 * write end in @gofd_out: the child execs QEMU only once a byte arrives
 * there (vd_spawn_release_child()), i.e. once its pid is in the status file; if
 * the daemon dies first, the child sees EOF and exits, so no QEMU ever
 * runs that a restarted daemon cannot find. */
gboolean
vd_spawn_detached(GPtrArray *argv, const char *log_path, const int *pass_fds, guint n_pass,
                  pid_t *pid_out, int *errfd_out, int *gofd_out, GError **error)
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
        int errw = errpipe[1], gor = gopipe[0];
        arrange_fds(pass_fds, n_pass, &errw, &gor);
        char go;
        ssize_t got;
        while ((got = read(gor, &go, 1)) < 0 && errno == EINTR)
            ;
        if (got != 1)
            _exit(0); /* the daemon died before recording this pid */
        close(gor);
        /* Last, so that whatever else the child sets up (as root) is done:
         * QEMU's user, no capabilities, no new privileges (qemu-confine.h). */
        int e = vd_confine_child();
        if (e == 0) {
            execv(args[0], args);
            e = errno;
        }
        if (write(errw, &e, sizeof(e)) < 0)
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

void
vd_spawn_reap_only(GPid pid, gint status, gpointer data)
{
    g_spawn_close_pid(pid);
}

/* Lets the child of vd_spawn_detached() exec QEMU (@go TRUE) or makes it
 * exit without (FALSE). */
void
vd_spawn_release_child(int gofd, gboolean go)
{
    if (go && write(gofd, "g", 1) != 1)
        g_warning("cannot release the QEMU child: %s", g_strerror(errno));
    close(gofd);
}

void
vd_spawn_write_log_header(const char *log_path, GPtrArray *argv)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%d %H:%M:%S UTC");
    g_autofree char *args = vd_qemu_argv_to_string(argv);
    g_autoptr(GString) text = g_string_new(NULL);
    g_string_append_printf(text, "%s: starting up\n", stamp);
    g_auto(GStrv) lines = g_strsplit(args, "\n", -1);
    for (char **l = lines; *l; l++)
        if (**l)
            g_string_append_printf(text, "  %s\n", *l);
    FILE *f = fopen(log_path, "ae");
    if (f) {
        fputs(text->str, f);
        fclose(f);
    }
}

void
vd_spawn_write_log_notes(const char *log_path, GPtrArray *notes)
{
    if (!notes || notes->len == 0)
        return;
    FILE *f = fopen(log_path, "ae");
    if (!f)
        return;
    for (guint i = 0; i < notes->len; i++)
        fprintf(f, "note: %s\n", (const char *)notes->pdata[i]);
    fclose(f);
}

void
vd_spawn_write_log_fds(const char *log_path, GPtrArray *requests)
{
    if (!requests || requests->len == 0)
        return;
    FILE *f = fopen(log_path, "ae");
    if (!f)
        return;
    for (guint i = 0; i < requests->len; i++) {
        const VdQemuFdRequest *r = requests->pdata[i];
        const char *what = r->kind == VD_QEMU_FD_LISTEN       ? "the socket QEMU listens on,"
                           : r->kind == VD_QEMU_FD_CONNECT    ? "a connection to the socket"
                           : r->kind == VD_QEMU_FD_READ       ? "the image (read-only)"
                           : r->kind == VD_QEMU_FD_READ_WRITE ? "the image (read-write)"
                                                              : "the file";
        fprintf(f, "fd %d: %s '%s'\n", r->number, what, r->path);
    }
    fclose(f);
}
