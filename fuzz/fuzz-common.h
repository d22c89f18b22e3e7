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

/* Where a target writes the files its parser reads: tmpfs when there is
 * one (rewritten for every input). */
const char *fuzz_scratch_dir(void);

/* The body of an XML target: @xml parsed with @parse into a @Type, @fixup
 * applied (what the daemon does before formatting; may do nothing),
 * formatted with @format, and the same again from that text: the two
 * texts must be equal. A refusal must say why. */
#define FUZZ_XML_FIXED_POINT(what, Type, xml, parse, fixup, format)                      \
    do {                                                                                 \
        g_autoptr(GError) fuzz_error = NULL;                                             \
        g_autoptr(Type) fuzz_def = parse((xml), &fuzz_error);                            \
        if (!fuzz_def) {                                                                 \
            FUZZ_ASSERT(fuzz_error && fuzz_error->message,                               \
                        "%s: refused without an error message", (what));                 \
            break;                                                                       \
        }                                                                                \
        fixup(fuzz_def);                                                                 \
        g_autofree char *fuzz_first = format(fuzz_def);                                  \
        g_autoptr(Type) fuzz_again = parse(fuzz_first, &fuzz_error);                     \
        FUZZ_ASSERT(fuzz_again, "%s: its own format is refused: %s\n%s", (what),         \
                    fuzz_error->message, fuzz_first);                                    \
        fixup(fuzz_again);                                                               \
        g_autofree char *fuzz_second = format(fuzz_again);                               \
        fuzz_check_fixed_point((what), fuzz_first, fuzz_second);                         \
    } while (0)

/* A @fixup for FUZZ_XML_FIXED_POINT that does nothing. */
#define FUZZ_NO_FIXUP(def) ((void)(def))
