/* Shared by the fuzz targets (fuzz/README.md). Each target defines
 * LLVMFuzzerTestOneInput; it is linked either with libFuzzer (-Dfuzzing=true,
 * clang) or with replay-main.c, which feeds it every file of its committed
 * corpus (a unit test in every build). */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property of the parser under test does not hold: print what and stop
 * hard, so libFuzzer saves the input as a crash (and the replay test fails). */
#define FUZZ_FAIL(...)                                                                   \
    do {                                                                                 \
        fprintf(stderr, "fuzz: property violated: ");                                    \
        fprintf(stderr, __VA_ARGS__);                                                    \
        fputc('\n', stderr);                                                             \
        abort();                                                                         \
    } while (0)

#define FUZZ_ASSERT(cond, ...)                                                           \
    do {                                                                                 \
        if (!(cond))                                                                     \
            FUZZ_FAIL(__VA_ARGS__);                                                      \
    } while (0)

/* The input as a NUL-terminated string (up to its first NUL, as a C
 * caller would see it). */
static inline char *
fuzz_strndup(const uint8_t *data, size_t size)
{
    return g_strndup((const char *)data, size);
}

/* The formatted text of a definition must not change when it is parsed and
 * formatted again: both texts are printed before the abort. */
static inline void
fuzz_check_fixed_point(const char *what, const char *first, const char *second)
{
    if (g_strcmp0(first, second) != 0)
        FUZZ_FAIL("%s: parse -> format -> parse -> format is not a fixed point\n"
                  "---- first format ----\n%s\n---- second format ----\n%s",
                  what, first ? first : "(null)", second ? second : "(null)");
}

/* Quiet GLib's info/debug output (millions of runs), but keep criticals
 * fatal: a g_return_if_fail() tripped by input is a bug to report. */
static inline void
fuzz_log_handler(const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        FUZZ_FAIL("GLib %s: %s", level & G_LOG_LEVEL_ERROR ? "error" : "critical", message);
}

static inline void
fuzz_quiet_glib(void)
{
    g_log_set_default_handler(fuzz_log_handler, NULL);
}
