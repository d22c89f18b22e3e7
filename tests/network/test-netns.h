/* The run-time network tests run in a network namespace of their own,
 * made by the test program before anything else: whatever they create
 * (bridges, taps, nft tables, sysctls) lives and dies with the process
 * and can never touch the host's networking. A private mount namespace
 * with its own sysfs shows the namespace's interfaces under
 * /sys/class/net. */
#pragma once

#include <errno.h>
#include <glib.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

/* NULL on success, else why the run-time tests cannot run. */
static inline char *
test_enter_private_netns(void)
{
    if (geteuid() != 0)
        return g_strdup("not root: run-time tests need a private network namespace");
    if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
        return g_strdup_printf("unshare(CLONE_NEWNET | CLONE_NEWNS): %s", g_strerror(errno));
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount("sysfs", "/sys", "sysfs", 0, NULL) < 0)
        return g_strdup_printf("cannot mount a private sysfs: %s", g_strerror(errno));
    return NULL;
}

/* What Docker leaves in the ruleset (its FORWARD policy drop and the
 * DOCKER-USER chain), as nft commands, for a namespace's host checks. */
#define TEST_DOCKER_NFT                                                                            \
    "add table ip filter\n"                                                                        \
    "add chain ip filter FORWARD { type filter hook forward priority 0; policy drop; }\n"          \
    "add chain ip filter DOCKER-USER\n"                                                            \
    "add rule ip filter DOCKER-USER counter return\n"                                              \
    "add rule ip filter FORWARD counter jump DOCKER-USER\n"

/* Why the run-time tests cannot run, or NULL (set by test_netns_setup). */
static char *test_no_netns;

/* Enters the private namespace: first thing in main(), before any thread
 * exists, as unshare acts on the calling thread only. */
static inline void
test_netns_setup(void)
{
    test_no_netns = test_enter_private_netns();
}

/* At the start of a run-time test: TRUE, and the test fails saying why,
 * when there is no private namespace to run in (not root): these tests
 * are part of the suite, never skipped. */
static inline gboolean
test_without_netns(void)
{
    if (test_no_netns) {
        g_test_fail_printf("needs a private network namespace (run as root): %s", test_no_netns);
        return TRUE;
    }
    return FALSE;
}

/* Runs @argv (setup only: what the code under test has no API for);
 * fails the test when it fails. */
static inline void
test_run(const char *const *argv)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *out = NULL, *errout = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &errout,
                      &status, &err))
        g_error("%s: %s", argv[0], err->message);
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("%s %s failed: %s", argv[0], argv[1] ? argv[1] : "", errout);
}

/* The text of a file ("" when missing), stripped. */
static inline char *
test_read(const char *path)
{
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_strdup("");
    return g_strstrip(text);
}
