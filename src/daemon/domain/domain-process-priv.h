/* Internal to domain-process.c and its siblings (domain-start.c,
 * domain-reconnect.c): the state and helpers they share. Not for other
 * parts of the daemon, which use domain-process.h.
 *
 * domain-process.c owns the helpers below (status file, states, the end
 * of a QEMU, QMP events); domain-start.c the start's steps and its
 * failure; domain-reconnect.c QMP's ready callback. */
#pragma once

#include "daemon/domain/domain-process.h"

/* A start after QEMU was spawned: QMP set-up, one command at a time.
 * It may end (QEMU died, destroy) while a reply is still on its way; then
 * the reply only frees it. */
typedef struct {
    VdDomainObj *dom; /* a reference */
    gboolean paused;
    VdDomainWaitFunc done;
    gpointer user_data;
    int step;
    int link_index;     /* the next interface whose link to set down */
    gboolean in_flight; /* a QMP reply will come back to this op */
    gboolean finished;  /* done() was called */
    VdStartRestore *restore; /* NULL: a boot; else loaded before "cont" (vd_domain_start_restore) */
    gboolean restored;       /* restore->load() succeeded */
    gboolean loading;        /* restore->load() has not answered yet: finish() waits for it */
} StartOp;

static inline VdDaemon *
vd_proc_daemon_of(VdDomainObj *dom)
{
    return dom->daemon;
}

/* domain-process.c */
gboolean vd_proc_pid_alive(pid_t pid);
char *vd_proc_socket_path(VdDaemon *d, VdDomainObj *dom, const char *suffix);
/* For a QEMU that runs already: its file where it is (paths.h). */
char *vd_proc_socket_path_found(VdDaemon *d, VdDomainObj *dom, const char *suffix);
void vd_proc_save_status(VdDomainObj *dom);
void vd_proc_set_state(VdDomainObj *dom, VdState state, VdStateReason reason);
void vd_proc_set_start_phase(VdDomainObj *dom, VdStartPhase phase);
char *vd_proc_log_tail(VdDaemon *d, VdDomainObj *dom);
void vd_proc_start_op_free(StartOp *op);
void vd_proc_start_op_finish(StartOp *op, const GError *error);
void vd_proc_finish_exit(VdDomainObj *dom);
void vd_proc_wait_for_exit(VdDomainObj *dom);
void vd_proc_apply_lifecycle(VdDomainObj *dom, VdLifecycleAction action, VdStateReason stop_reason,
                             VdState preserve_state, VdStateReason preserve_reason);
void vd_proc_qmp_event(VdQmp *qmp, const char *event, JsonObject *data, gpointer user_data);
void vd_proc_qmp_closed(VdQmp *qmp, gpointer user_data);

/* domain-start.c */
void vd_proc_start_fail(StartOp *op, GError *error);
void vd_proc_start_continue(StartOp *op);

/* domain-reconnect.c: QMP is up (or failed) for a start or a reconnect. */
void vd_proc_qmp_ready(VdQmp *qmp, const GError *error, gpointer user_data);
