/* The state machine of a domain: virsh's states and reasons, and the table
 * of which operation each state allows. */
#pragma once

#include <glib.h>

typedef enum {
    VD_STATE_NOSTATE,
    VD_STATE_RUNNING,
    VD_STATE_BLOCKED,
    VD_STATE_PAUSED,
    VD_STATE_SHUTDOWN,      /* "in shutdown": the guest powered off, QEMU still there */
    VD_STATE_SHUTOFF,
    VD_STATE_CRASHED,
    VD_STATE_PMSUSPENDED,
    VD_STATE_LAST
} VdState;

/* Reasons, one namespace for all states (virsh prints them after the state). */
typedef enum {
    VD_REASON_UNKNOWN,
    VD_REASON_BOOTED,        /* running */
    VD_REASON_UNPAUSED,      /* running */
    VD_REASON_USER,          /* paused, in shutdown */
    VD_REASON_STARTING_UP,   /* paused: QEMU started with -S, not yet resumed */
    VD_REASON_SHUTTING_DOWN, /* paused: on_poweroff=preserve */
    VD_REASON_IOERROR,       /* paused */
    VD_REASON_SHUTDOWN,      /* shut off: the guest powered off */
    VD_REASON_DESTROYED,     /* shut off: destroy */
    VD_REASON_CRASHED,       /* shut off: QEMU died on its own */
    VD_REASON_FAILED,        /* shut off: start failed */
    VD_REASON_DAEMON,        /* shut off: found dead when the daemon started */
    VD_REASON_PANICKED,      /* crashed, paused */
    VD_REASON_WATCHDOG,      /* paused: the guest's watchdog fired (<watchdog action='pause'>) */
    /* Issue 12 */
    VD_REASON_RESTORED,      /* running: restored from a save (restore, managed save) */
    VD_REASON_FROM_SNAPSHOT, /* running, paused, shut off: reverted to a snapshot */
    VD_REASON_SAVED,         /* shut off: saved (save, managedsave); paused: being saved */
    VD_REASON_SNAPSHOT,      /* paused: a snapshot is being taken */
    /* Issue 13: migration (virsh's words) */
    VD_REASON_MIGRATING,          /* paused: source after the switch-over, or an incoming
                                   * domain on the destination until finish */
    VD_REASON_MIGRATED,           /* running: resumed on the destination; shut off: left
                                   * the source */
    VD_REASON_POSTCOPY,           /* running / paused: in post-copy (the destination runs
                                   * while pages still come from the source) */
    VD_REASON_POSTCOPY_FAILED,    /* paused: post-copy broke off; neither side has it all */
    VD_REASON_MIGRATION_CANCELED, /* running: the source resumed after a failed migration */
    VD_REASON_LAST
} VdStateReason;

const char *vd_state_to_string(VdState state);
const char *vd_state_reason_to_string(VdStateReason reason);

/* Operations the API offers on a domain. */
typedef enum {
    VD_OP_START,
    VD_OP_SHUTDOWN,
    VD_OP_DESTROY,
    VD_OP_REBOOT,
    VD_OP_RESET,
    VD_OP_SUSPEND,
    VD_OP_RESUME,
    VD_OP_CONSOLE,
    VD_OP_UNDEFINE,         /* the definition goes; a running domain stays, transient */
    VD_OP_UNDEFINE_STORAGE, /* undefine and delete its disks */
    VD_OP_DEFINE,           /* replace the persistent definition (define over, edit) */
    /* Issue 12 */
    VD_OP_SAVE,             /* save, managedsave: a running or paused QEMU's state to a file */
    VD_OP_SNAPSHOT,         /* snapshot create, revert, delete (each checks its own states) */
    VD_OP_CLONE,            /* clone this domain (virt-clone's rules are the clone's own) */
    VD_OP_RENAME,           /* domrename: inactive only */
    VD_OP_BLOCKJOB,         /* blockcommit, blockpull, blockjob: a running domain's disks */
    VD_OP_MIGRATE,          /* migrate (live: running or paused; --offline: any state) */
    VD_OP_LAST
} VdOp;

/* What a domain is in the middle of: operations that span main loop
 * iterations (libvirt's domain jobs). A domain has at most one. */
typedef enum {
    VD_JOB_NONE,
    VD_JOB_START,   /* from the start request to "cont" (or the start's failure) */
    VD_JOB_DESTROY, /* from the destroy request until QEMU is gone */
    /* Issue 12: the long operations; domjobinfo reports them through
     * dom->async_job (domain-job.h), which they set too. */
    VD_JOB_SAVE,     /* save / managedsave: QEMU's state streamed to a file */
    VD_JOB_SNAPSHOT, /* a snapshot being created, reverted to or deleted */
    VD_JOB_CLONE,    /* this domain's disks being copied for a clone */
    VD_JOB_MIGRATION_OUT, /* source: from begin to confirm (migration/migration-source.c) */
    VD_JOB_MIGRATION_IN,  /* destination: from prepare to finish or abort */
    VD_JOB_LAST
} VdJob;

const char *vd_job_to_string(VdJob job);

/* TRUE when @op is allowed in @state; else sets VD_ERROR_INVALID_STATE
 * with virsh's wording. The state half of vd_state_check(). */
gboolean vd_state_check_op(VdState state, VdOp op, GError **error);

/* The one rule for every operation on a domain: first the job in flight
 * (an operation it does not allow fails with VD_ERROR_BUSY, "domain 'web1'
 * is starting; try again when the start has finished"), then the state
 * (VD_ERROR_INVALID_STATE with virsh's wording, "Requested operation is
 * not valid: domain is not running"). @name is the domain's, for the
 * message. */
gboolean vd_state_check(const char *name, VdJob job, VdState state, VdOp op, GError **error);

/* Whether a QEMU process exists in this state. */
gboolean vd_state_is_active(VdState state);
