#include "domain-state.h"

#include "util/vd-error.h"

static const char *const state_names[VD_STATE_LAST] = {
    [VD_STATE_NOSTATE] = "no state",    [VD_STATE_RUNNING] = "running",
    [VD_STATE_BLOCKED] = "idle",        [VD_STATE_PAUSED] = "paused",
    [VD_STATE_SHUTDOWN] = "in shutdown", [VD_STATE_SHUTOFF] = "shut off",
    [VD_STATE_CRASHED] = "crashed",     [VD_STATE_PMSUSPENDED] = "pmsuspended",
};

static const char *const reason_names[VD_REASON_LAST] = {
    [VD_REASON_UNKNOWN] = "unknown",
    [VD_REASON_BOOTED] = "booted",
    [VD_REASON_UNPAUSED] = "unpaused",
    [VD_REASON_USER] = "user",
    [VD_REASON_STARTING_UP] = "starting up",
    [VD_REASON_SHUTTING_DOWN] = "shutting down",
    [VD_REASON_IOERROR] = "I/O error",
    [VD_REASON_SHUTDOWN] = "shutdown",
    [VD_REASON_DESTROYED] = "destroyed",
    [VD_REASON_CRASHED] = "crashed",
    [VD_REASON_FAILED] = "failed",
    [VD_REASON_DAEMON] = "daemon",
    [VD_REASON_PANICKED] = "panicked",
    [VD_REASON_WATCHDOG] = "watchdog",
    [VD_REASON_RESTORED] = "restored",
    [VD_REASON_FROM_SNAPSHOT] = "from snapshot",
    [VD_REASON_SAVED] = "saved",
    [VD_REASON_SNAPSHOT] = "snapshot",
    [VD_REASON_MIGRATING] = "migrating",
    [VD_REASON_MIGRATED] = "migrated",
    [VD_REASON_POSTCOPY] = "post-copy",
    [VD_REASON_POSTCOPY_FAILED] = "post-copy failed",
    [VD_REASON_MIGRATION_CANCELED] = "migration canceled",
};

const char *
vd_state_to_string(VdState state)
{
    return (guint)state < VD_STATE_LAST ? state_names[state] : "no state";
}

const char *
vd_state_reason_to_string(VdStateReason reason)
{
    return (guint)reason < VD_REASON_LAST ? reason_names[reason] : "unknown";
}

gboolean
vd_state_is_active(VdState state)
{
    switch (state) {
    case VD_STATE_SHUTOFF:
    case VD_STATE_NOSTATE:
        return FALSE;
    case VD_STATE_RUNNING:
    case VD_STATE_BLOCKED:
    case VD_STATE_PAUSED:
    case VD_STATE_SHUTDOWN:
    case VD_STATE_CRASHED:
    case VD_STATE_PMSUSPENDED:
    case VD_STATE_LAST:
        return TRUE;
    }
    return FALSE;
}

/* Rows: operations; columns: states. 1 = allowed. */
static const guint8 allowed[VD_OP_LAST][VD_STATE_LAST] = {
    /*                        nost run blk pau shd off cra pms */
    [VD_OP_START] = {1, 0, 0, 0, 0, 1, 0, 0},
    [VD_OP_SHUTDOWN] = {0, 1, 1, 1, 0, 0, 0, 1},
    [VD_OP_DESTROY] = {0, 1, 1, 1, 1, 0, 1, 1},
    [VD_OP_REBOOT] = {0, 1, 1, 0, 0, 0, 0, 0},
    [VD_OP_RESET] = {0, 1, 1, 1, 1, 0, 1, 0},
    [VD_OP_SUSPEND] = {0, 1, 1, 0, 0, 0, 0, 0},
    [VD_OP_RESUME] = {0, 0, 0, 1, 0, 0, 0, 0},
    [VD_OP_CONSOLE] = {0, 1, 1, 1, 1, 0, 1, 1},
    [VD_OP_UNDEFINE] = {1, 1, 1, 1, 1, 1, 1, 1},
    [VD_OP_UNDEFINE_STORAGE] = {1, 0, 0, 0, 0, 1, 0, 0},
    [VD_OP_DEFINE] = {1, 1, 1, 1, 1, 1, 1, 1},
    [VD_OP_SAVE] = {0, 1, 1, 1, 0, 0, 0, 0},
    [VD_OP_SNAPSHOT] = {1, 1, 1, 1, 1, 1, 1, 1},
    [VD_OP_CLONE] = {1, 1, 1, 1, 1, 1, 1, 1},
    [VD_OP_RENAME] = {1, 0, 0, 0, 0, 1, 0, 0},
    [VD_OP_BLOCKJOB] = {0, 1, 1, 1, 1, 0, 1, 1},
    /* shut off: --offline only, which the migration checks itself */
    [VD_OP_MIGRATE] = {0, 1, 1, 1, 0, 1, 0, 0},
};

static const char *const job_names[VD_JOB_LAST] = {
    [VD_JOB_NONE] = "none",
    [VD_JOB_START] = "start",
    [VD_JOB_DESTROY] = "destroy",
    [VD_JOB_SAVE] = "save",
    [VD_JOB_SNAPSHOT] = "snapshot",
    [VD_JOB_CLONE] = "clone",
    [VD_JOB_MIGRATION_OUT] = "migration out",
    [VD_JOB_MIGRATION_IN] = "migration in",
};

const char *
vd_job_to_string(VdJob job)
{
    return (guint)job < VD_JOB_LAST ? job_names[job] : "none";
}

/* What each job lets happen meanwhile. Rows: operations; columns: jobs.
 *  BUSY  refused with VD_ERROR_BUSY until the job ends;
 *  STATE allowed if the state allows it (the table above);
 *  JOIN  allowed whatever the state: it acts on the job itself (destroy
 *        during a start aborts the start; a second destroy waits for the
 *        first).
 * A start must not be joined by anything that would see or touch a
 * half-made QEMU (resume would run the guest before its set-up, a
 * second start would spawn a second QEMU, deleting its disks would pull
 * them from under it); undefine and define only change the definition
 * on disk, which the start has copied already, so they go ahead (an
 * undefined domain lives on as transient until it stops, as libvirt). */
enum { STATE, BUSY, JOIN };
/* clang-format off */
static const guint8 allowed_during[VD_OP_LAST][VD_JOB_LAST] = {
    /*                                none   start  destroy save   snapshot clone  mig-out mig-in */
    [VD_OP_START]            = {STATE, BUSY,  BUSY,  BUSY,  BUSY,  BUSY, BUSY,  BUSY},
    [VD_OP_SHUTDOWN]         = {STATE, BUSY,  BUSY,  BUSY,  BUSY,  STATE, BUSY,  BUSY},
    [VD_OP_DESTROY]          = {STATE, JOIN,  JOIN,  STATE, STATE, STATE, STATE, STATE},
    [VD_OP_REBOOT]           = {STATE, BUSY,  BUSY,  BUSY,  BUSY,  STATE, BUSY,  BUSY},
    [VD_OP_RESET]            = {STATE, BUSY,  BUSY,  BUSY,  BUSY,  STATE, BUSY,  BUSY},
    [VD_OP_SUSPEND]          = {STATE, BUSY,  BUSY,  BUSY,  BUSY,  STATE, STATE, BUSY},
    [VD_OP_RESUME]           = {STATE, BUSY,  BUSY,  BUSY,  BUSY,  BUSY, BUSY,  BUSY},
    [VD_OP_CONSOLE]          = {STATE, BUSY,  BUSY,  BUSY,  STATE, STATE, STATE, BUSY},
    [VD_OP_UNDEFINE]         = {STATE, STATE, STATE, BUSY,  BUSY,  STATE, BUSY,  BUSY},
    [VD_OP_UNDEFINE_STORAGE] = {STATE, BUSY,  BUSY,  BUSY,  BUSY,  BUSY, BUSY,  BUSY},
    [VD_OP_DEFINE]           = {STATE, STATE, STATE, BUSY,  BUSY,  STATE, BUSY,  BUSY},
    [VD_OP_SAVE]             = {STATE, BUSY,  BUSY,  BUSY,  BUSY,  BUSY, BUSY,  BUSY},
    [VD_OP_SNAPSHOT]         = {STATE, BUSY,  BUSY,  BUSY,  BUSY,  BUSY, BUSY,  BUSY},
    [VD_OP_CLONE]            = {STATE, BUSY,  BUSY,  BUSY,  BUSY,  BUSY, BUSY,  BUSY},
    [VD_OP_RENAME]           = {STATE, BUSY,  BUSY,  BUSY,  BUSY,  BUSY, BUSY,  BUSY},
    [VD_OP_BLOCKJOB]         = {STATE, BUSY,  BUSY,  BUSY,  BUSY,  STATE, BUSY,  BUSY},
    [VD_OP_MIGRATE]          = {STATE, BUSY,  BUSY,  BUSY,  BUSY,  BUSY,  BUSY,  BUSY},
};
/* clang-format on */

static gboolean
check_job(const char *name, VdJob job, VdOp op, gboolean *join, GError **error)
{
    guint8 rule =
        (guint)job < VD_JOB_LAST && (guint)op < VD_OP_LAST ? allowed_during[op][job] : BUSY;
    *join = rule == JOIN;
    if (rule != BUSY)
        return TRUE;
    switch (job) {
    case VD_JOB_START:
        g_set_error(error, VD_ERROR, VD_ERROR_BUSY,
                    "domain '%s' is starting; try again when the start has finished", name);
        break;
    case VD_JOB_SAVE:
        g_set_error(error, VD_ERROR, VD_ERROR_BUSY,
                    "domain '%s' is being saved; try again when the save has finished, or "
                    "cancel it with 'domjobabort %s'",
                    name, name);
        break;
    case VD_JOB_SNAPSHOT:
        g_set_error(error, VD_ERROR, VD_ERROR_BUSY,
                    "domain '%s' has a snapshot operation in progress; try again when it has "
                    "finished",
                    name);
        break;
    case VD_JOB_CLONE:
        g_set_error(error, VD_ERROR, VD_ERROR_BUSY,
                    "domain '%s' is being cloned; try again when the clone has finished", name);
        break;
    case VD_JOB_MIGRATION_OUT:
        g_set_error(error, VD_ERROR, VD_ERROR_BUSY,
                    "domain '%s' is being migrated; try again when the migration has finished, "
                    "or cancel it with 'domjobabort %s'",
                    name, name);
        break;
    case VD_JOB_MIGRATION_IN:
        g_set_error(error, VD_ERROR, VD_ERROR_BUSY,
                    "domain '%s' is an incoming migration; try again when it has finished",
                    name);
        break;
    case VD_JOB_NONE:
    case VD_JOB_DESTROY:
    case VD_JOB_LAST:
        g_set_error(error, VD_ERROR, VD_ERROR_BUSY,
                    "domain '%s' is being destroyed; try again when it has stopped", name);
        break;
    }
    return FALSE;
}

gboolean
vd_state_check_op(VdState state, VdOp op, GError **error)
{
    if ((guint)state < VD_STATE_LAST && (guint)op < VD_OP_LAST && allowed[op][state])
        return TRUE;

    const char *why = "domain is not running";
    switch (op) {
    case VD_OP_START:
        why = "domain is already running";
        break;
    case VD_OP_RESUME:
        why = vd_state_is_active(state) ? "domain is not paused" : "domain is not running";
        break;
    case VD_OP_SUSPEND:
        why = state == VD_STATE_PAUSED ? "domain is already paused" : "domain is not running";
        break;
    case VD_OP_SHUTDOWN:
    case VD_OP_REBOOT:
        why = state == VD_STATE_SHUTDOWN ? "domain is already shutting down" : "domain is not running";
        break;
    case VD_OP_UNDEFINE_STORAGE:
        why = "domain is running and uses its disks; destroy or shut it down first, then "
              "undefine it with its storage";
        break;
    case VD_OP_RENAME:
        why = "cannot rename active domain";
        break;
    case VD_OP_SAVE:
    case VD_OP_SNAPSHOT:
    case VD_OP_CLONE:
    case VD_OP_BLOCKJOB:
    case VD_OP_MIGRATE:
    case VD_OP_DESTROY:
    case VD_OP_RESET:
    case VD_OP_CONSOLE:
    case VD_OP_UNDEFINE:
    case VD_OP_DEFINE:
    case VD_OP_LAST:
        why = "domain is not running";
        break;
    }
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE, "Requested operation is not valid: %s",
                why);
    return FALSE;
}

gboolean
vd_state_check(const char *name, VdJob job, VdState state, VdOp op, GError **error)
{
    gboolean join;
    if (!check_job(name, job, op, &join, error))
        return FALSE;
    return join || vd_state_check_op(state, op, error);
}
