/* Spawning a detached QEMU: fork + setsid + exec with a go pipe and an
 * exec-failure pipe, and the "starting up" header of its log.
 *
 * The process mechanics only, apart from domain-start.c (which decides
 * what to start and what a failure means): nothing here knows of domains,
 * so the async-signal-safe code between fork and exec can be read on its
 * own. See vd_spawn_detached() in qemu-spawn.c for the protocol. */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* The first descriptor number a child gets from @pass_fds: pass_fds[i]
 * becomes VD_SPAWN_FIRST_FD + i in QEMU (what the argv names). */
#define VD_SPAWN_FIRST_FD 3

/* fork + setsid + exec of @argv (NULL-terminated), output appended to
 * @log_path. QEMU holds stdin (/dev/null), stdout and stderr (the log),
 * and @pass_fds (@n_pass of them; taps, vhost-net) at
 * VD_SPAWN_FIRST_FD + i, and no other descriptor of the daemon. Returns the exec pipe's read end in @errfd_out (EOF: exec
 * succeeded; an errno: it failed) and the go pipe's write end in
 * @gofd_out: the child execs only once vd_spawn_release_child() lets it. */
gboolean vd_spawn_detached(GPtrArray *argv, const char *log_path, const int *pass_fds,
                           guint n_pass, pid_t *pid_out, int *errfd_out, int *gofd_out,
                           GError **error);
/* Lets the child exec QEMU (@go TRUE) or makes it exit without (FALSE);
 * closes @gofd. */
void vd_spawn_release_child(int gofd, gboolean go);
/* A GChildWatchFunc that only reaps. */
void vd_spawn_reap_only(GPid pid, gint status, gpointer data);
/* Appends "<time>: starting up" and the argv to the log at @log_path. */
void vd_spawn_write_log_header(const char *log_path, GPtrArray *argv);
/* Appends one "note: TEXT" line per adjustment of the command line
 * (vd_qemu_build_argv_notes) to the domain's log. */
void vd_spawn_write_log_notes(const char *log_path, GPtrArray *notes);
/* Appends one "fd N: ..." line per descriptor QEMU is given instead of a
 * path (qemu/qemu-run-fds.h), so that the log's argv can be read. */
void vd_spawn_write_log_fds(const char *log_path, GPtrArray *requests);
