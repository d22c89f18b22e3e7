/* Golden files of the unit tests (tests/data/...): compare generated text
 * with the file beside its input, or rewrite the file instead when the
 * test runs with VD_REGENERATE=1 (then review the diff). */
#pragma once

#include <glib.h>

/* TRUE when VD_REGENERATE=1: golden files are written, not compared. */
gboolean test_golden_regenerate(void);

/* @dir/@name@suffix. */
char *test_golden_path(const char *dir, const char *name, const char *suffix);

/* The text of the input @dir/@name@suffix; the test fails without it. */
char *test_golden_read(const char *dir, const char *name, const char *suffix);

/* Compares @actual with the file @path, or writes it when regenerating.
 * @actual NULL: the file must not exist (deleted when regenerating). */
void test_golden_check(const char *path, const char *actual);

/* The inputs of a test: the NAME of each NAME.xml in the directory that
 * the environment variable @env names (meson sets it), which goes to
 * *@dir. NULL, after saying why, when @env is not set, the directory
 * cannot be read, or it holds fewer than @min inputs (files went
 * missing). */
GPtrArray *test_golden_inputs(const char *env, guint min, const char **dir);

/* Adds the test @prefix/NAME for each NAME of @names, run with NAME. */
void test_golden_add_each(const char *prefix, GPtrArray *names, GTestDataFunc func);

/* The NAME of each input NAME.xml in @dir (not the NAME.out.xml outputs),
 * sorted; NULL and the error when @dir cannot be read. */
GPtrArray *test_golden_xml_names(const char *dir, GError **error);
