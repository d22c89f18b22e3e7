/* Phases of a start and what a restart needs to undo one. See start-phase.h. */
#include "daemon/domain/start-phase.h"

#include <signal.h>

static const char *const phase_names[VD_START_PHASE_LAST] = {
    [VD_START_PHASE_NONE] = "none",
    [VD_START_PHASE_SPAWNING] = "spawning",
    [VD_START_PHASE_CONNECTING] = "connecting",
    [VD_START_PHASE_SETTING_UP] = "setting-up",
    [VD_START_PHASE_RESUMING] = "resuming",
};

const char *
vd_start_phase_to_string(VdStartPhase phase)
{
    return (guint)phase < VD_START_PHASE_LAST ? phase_names[phase] : "none";
}

VdStartPhase
vd_start_phase_from_string(const char *s)
{
    for (guint i = 0; s && i < VD_START_PHASE_LAST; i++)
        if (g_str_equal(phase_names[i], s))
            return (VdStartPhase)i;
    return VD_START_PHASE_NONE;
}

void
vd_start_crash_point(const char *point)
{
    const char *at = g_getenv("VIRTD_TEST_CRASH_AT");
    if (G_LIKELY(!at) || !g_str_equal(at, point))
        return;
    g_warning("VIRTD_TEST_CRASH_AT=%s: the daemon kills itself here (tests only)", point);
    raise(SIGKILL);
}
