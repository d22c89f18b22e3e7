/* The state machine table and the error table, checked as data. */
#include <string.h>

#include "daemon/domain/domain-state.h"
#include "daemon/domain/start-phase.h"
#include "util/vd-error.h"

typedef struct {
    VdState state;
    VdOp op;
    gboolean allowed;
    const char *message;
} Case;

static const Case cases[] = {
    {VD_STATE_SHUTOFF, VD_OP_START, TRUE, NULL},
    {VD_STATE_RUNNING, VD_OP_START, FALSE, "Requested operation is not valid: domain is already running"},
    {VD_STATE_PAUSED, VD_OP_START, FALSE, "Requested operation is not valid: domain is already running"},
    {VD_STATE_SHUTOFF, VD_OP_SHUTDOWN, FALSE, "Requested operation is not valid: domain is not running"},
    {VD_STATE_RUNNING, VD_OP_SHUTDOWN, TRUE, NULL},
    {VD_STATE_SHUTDOWN, VD_OP_SHUTDOWN, FALSE, "Requested operation is not valid: domain is already shutting down"},
    {VD_STATE_SHUTOFF, VD_OP_DESTROY, FALSE, "Requested operation is not valid: domain is not running"},
    {VD_STATE_CRASHED, VD_OP_DESTROY, TRUE, NULL},
    {VD_STATE_PAUSED, VD_OP_DESTROY, TRUE, NULL},
    {VD_STATE_RUNNING, VD_OP_SUSPEND, TRUE, NULL},
    {VD_STATE_PAUSED, VD_OP_SUSPEND, FALSE, "Requested operation is not valid: domain is already paused"},
    {VD_STATE_SHUTOFF, VD_OP_SUSPEND, FALSE, "Requested operation is not valid: domain is not running"},
    {VD_STATE_PAUSED, VD_OP_RESUME, TRUE, NULL},
    {VD_STATE_RUNNING, VD_OP_RESUME, FALSE, "Requested operation is not valid: domain is not paused"},
    {VD_STATE_SHUTOFF, VD_OP_RESUME, FALSE, "Requested operation is not valid: domain is not running"},
    {VD_STATE_RUNNING, VD_OP_REBOOT, TRUE, NULL},
    {VD_STATE_PAUSED, VD_OP_REBOOT, FALSE, "Requested operation is not valid: domain is not running"},
    {VD_STATE_PAUSED, VD_OP_RESET, TRUE, NULL},
    {VD_STATE_SHUTOFF, VD_OP_RESET, FALSE, "Requested operation is not valid: domain is not running"},
    {VD_STATE_RUNNING, VD_OP_CONSOLE, TRUE, NULL},
    {VD_STATE_SHUTOFF, VD_OP_CONSOLE, FALSE, "Requested operation is not valid: domain is not running"},
};

static void
test_state_table(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        gboolean ok = vd_state_check_op(cases[i].state, cases[i].op, &error);
        g_test_message("case %u: %s op %d", i, vd_state_to_string(cases[i].state), cases[i].op);
        g_assert_cmpint(ok, ==, cases[i].allowed);
        if (!ok) {
            g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_STATE);
            g_assert_cmpstr(error->message, ==, cases[i].message);
        } else {
            g_assert_no_error(error);
        }
    }
}

/* The job table: what may happen while a start or a destroy is in flight. */
static const struct {
    VdJob job;
    VdState state;
    VdOp op;
    int expect; /* 0 allowed, else the error code */
} job_cases[] = {
    {VD_JOB_START, VD_STATE_SHUTOFF, VD_OP_START, VD_ERROR_BUSY},
    {VD_JOB_START, VD_STATE_PAUSED, VD_OP_START, VD_ERROR_BUSY},
    {VD_JOB_START, VD_STATE_PAUSED, VD_OP_RESUME, VD_ERROR_BUSY},
    {VD_JOB_START, VD_STATE_PAUSED, VD_OP_SHUTDOWN, VD_ERROR_BUSY},
    {VD_JOB_START, VD_STATE_PAUSED, VD_OP_CONSOLE, VD_ERROR_BUSY},
    {VD_JOB_START, VD_STATE_SHUTOFF, VD_OP_UNDEFINE_STORAGE, VD_ERROR_BUSY},
    /* destroy aborts a start, even before QEMU exists (state shut off) */
    {VD_JOB_START, VD_STATE_SHUTOFF, VD_OP_DESTROY, 0},
    {VD_JOB_START, VD_STATE_SHUTOFF, VD_OP_UNDEFINE, 0},
    {VD_JOB_START, VD_STATE_PAUSED, VD_OP_DEFINE, 0},
    {VD_JOB_DESTROY, VD_STATE_RUNNING, VD_OP_START, VD_ERROR_BUSY},
    {VD_JOB_DESTROY, VD_STATE_RUNNING, VD_OP_SUSPEND, VD_ERROR_BUSY},
    {VD_JOB_DESTROY, VD_STATE_RUNNING, VD_OP_DESTROY, 0},
    {VD_JOB_DESTROY, VD_STATE_RUNNING, VD_OP_UNDEFINE, 0},
    {VD_JOB_NONE, VD_STATE_RUNNING, VD_OP_UNDEFINE_STORAGE, VD_ERROR_INVALID_STATE},
    {VD_JOB_NONE, VD_STATE_SHUTOFF, VD_OP_UNDEFINE_STORAGE, 0},
    {VD_JOB_NONE, VD_STATE_SHUTOFF, VD_OP_DESTROY, VD_ERROR_INVALID_STATE},
    /* a console while QEMU takes a snapshot (paused by it meanwhile), as libvirt */
    {VD_JOB_SNAPSHOT, VD_STATE_PAUSED, VD_OP_CONSOLE, 0},
    {VD_JOB_SNAPSHOT, VD_STATE_RUNNING, VD_OP_CONSOLE, 0},
    {VD_JOB_SNAPSHOT, VD_STATE_SHUTOFF, VD_OP_CONSOLE, VD_ERROR_INVALID_STATE},
    {VD_JOB_SNAPSHOT, VD_STATE_RUNNING, VD_OP_SNAPSHOT, VD_ERROR_BUSY},
};

static void
test_job_table(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(job_cases); i++) {
        g_autoptr(GError) error = NULL;
        gboolean ok =
            vd_state_check("r1", job_cases[i].job, job_cases[i].state, job_cases[i].op, &error);
        g_test_message("case %u: job %s state %s op %d", i, vd_job_to_string(job_cases[i].job),
                       vd_state_to_string(job_cases[i].state), job_cases[i].op);
        if (job_cases[i].expect == 0) {
            g_assert_no_error(error);
            g_assert_true(ok);
        } else {
            g_assert_false(ok);
            g_assert_error(error, VD_ERROR, job_cases[i].expect);
        }
    }
    g_autoptr(GError) error = NULL;
    vd_state_check("r1", VD_JOB_START, VD_STATE_PAUSED, VD_OP_RESUME, &error);
    g_assert_cmpstr(error->message, ==,
                    "domain 'r1' is starting; try again when the start has finished");
}

/* The status file's start-phase= values read back, and unknown ones are
 * no phase (a status file from an older daemon). */
static void
test_start_phases(void)
{
    for (int p = 0; p < VD_START_PHASE_LAST; p++)
        g_assert_cmpint(vd_start_phase_from_string(vd_start_phase_to_string((VdStartPhase)p)), ==,
                        p);
    g_assert_cmpint(vd_start_phase_from_string(NULL), ==, VD_START_PHASE_NONE);
    g_assert_cmpint(vd_start_phase_from_string("warp"), ==, VD_START_PHASE_NONE);
    g_assert_cmpstr(vd_start_phase_to_string(VD_START_PHASE_SETTING_UP), ==, "setting-up");
}

static void
test_state_strings(void)
{
    /* virsh's spellings: scripts parse them ("shut off" is two words). */
    g_assert_cmpstr(vd_state_to_string(VD_STATE_SHUTOFF), ==, "shut off");
    g_assert_cmpstr(vd_state_to_string(VD_STATE_SHUTDOWN), ==, "in shutdown");
    g_assert_cmpstr(vd_state_to_string(VD_STATE_BLOCKED), ==, "idle");
    g_assert_cmpstr(vd_state_reason_to_string(VD_REASON_DESTROYED), ==, "destroyed");
    g_assert_cmpstr(vd_state_reason_to_string(VD_REASON_CRASHED), ==, "crashed");
    for (int s = 0; s < VD_STATE_LAST; s++)
        g_assert_nonnull(vd_state_to_string((VdState)s));
    for (int r = 0; r < VD_REASON_LAST; r++)
        g_assert_nonnull(vd_state_reason_to_string((VdStateReason)r));
    g_assert_false(vd_state_is_active(VD_STATE_SHUTOFF));
    g_assert_true(vd_state_is_active(VD_STATE_CRASHED));
}

static void
test_error_table(void)
{
    /* Every code has a distinct wire name that maps back to it. */
    for (int c = 0; c < VD_ERROR_N_CODES; c++) {
        const char *name = vd_error_code_to_string((VdErrorCode)c);
        g_assert_nonnull(name);
        g_assert_cmpint(vd_error_code_from_string(name), ==, c);
        guint status = vd_error_code_http_status((VdErrorCode)c);
        g_assert_cmpuint(status, >=, 400);
        g_assert_cmpuint(status, <, 600);
        g_assert_cmpint(vd_error_code_exit_status((VdErrorCode)c), >=, 1);
    }
    g_assert_cmpuint(vd_error_code_http_status(VD_ERROR_NO_DOMAIN), ==, 404);
    g_assert_cmpuint(vd_error_code_http_status(VD_ERROR_TOO_LARGE), ==, 413);
    g_assert_cmpuint(vd_error_code_http_status(VD_ERROR_INVALID_STATE), ==, 409);
    g_assert_cmpint(vd_error_code_exit_status(VD_ERROR_NO_DOMAIN), ==, 4);
    g_assert_cmpint(vd_error_code_exit_status(VD_ERROR_INVALID_STATE), ==, 6);
    g_assert_cmpint(vd_error_code_from_string("no-such-code"), ==, VD_ERROR_INTERNAL);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/daemon/state/table", test_state_table);
    g_test_add_func("/daemon/state/jobs", test_job_table);
    g_test_add_func("/daemon/state/start-phases", test_start_phases);
    g_test_add_func("/daemon/state/strings", test_state_strings);
    g_test_add_func("/util/error/table", test_error_table);
    return g_test_run();
}
