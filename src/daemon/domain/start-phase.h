/* Where a start is, recorded in the status file before each phase, so
 * that a daemon killed in the middle of a start can tell, when it comes
 * back, what it left behind (docs/architecture.md, "Daemon restart").
 *
 * The phases, in order:
 *  spawning    the status file exists, the child may have been forked,
 *              but QEMU is never exec'd before its pid is recorded (the
 *              child exits if the daemon dies first: vd_spawn_detached());
 *  connecting  QEMU runs (pid known), paused (-S); QMP not up yet;
 *  setting-up  QMP up: VNC password, balloon ... (paused);
 *  resuming    set-up done, "cont" about to be sent.
 * A finished start records no phase.
 */
#pragma once

#include <glib.h>

typedef enum {
    VD_START_PHASE_NONE,
    VD_START_PHASE_SPAWNING,
    VD_START_PHASE_CONNECTING,
    VD_START_PHASE_SETTING_UP,
    VD_START_PHASE_RESUMING,
    VD_START_PHASE_LAST
} VdStartPhase;

const char *vd_start_phase_to_string(VdStartPhase phase);
/* VD_START_PHASE_NONE for NULL or an unknown string. */
VdStartPhase vd_start_phase_from_string(const char *s);

/* For tests only: when the environment variable VIRTD_TEST_CRASH_AT
 * names @point (a phase, or "spawned": just after the fork, before the
 * pid is recorded; "resumed": "cont" answered, before the state is
 * saved), the daemon kills itself with SIGKILL there, as kill -9 would. */
void vd_start_crash_point(const char *point);
