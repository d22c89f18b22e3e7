/* What every fuzz target shares at start-up (fuzz-common.h). */
#include "fuzz-common.h"

static void
log_handler(const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        FUZZ_FAIL("GLib %s: %s", level & G_LOG_LEVEL_ERROR ? "error" : "critical", message);
}

/* Called once by libFuzzer, or by replay-main.c. GLib's info and debug
 * output is dropped (millions of runs); criticals stay fatal: a
 * g_return_if_fail() tripped by input is a bug to report. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    g_log_set_default_handler(log_handler, NULL);
    return 0;
}

const char *
fuzz_scratch_dir(void)
{
    return g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : g_get_tmp_dir();
}
