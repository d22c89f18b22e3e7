/* Golden-file helpers shared by the conf/ and network/ tests (golden.h). */
#include "golden.h"

#include <glib/gstdio.h>
#include <string.h>

gboolean
test_golden_regenerate(void)
{
    return g_strcmp0(g_getenv("VD_REGENERATE"), "1") == 0;
}

char *
test_golden_path(const char *dir, const char *name, const char *suffix)
{
    g_autofree char *file = g_strconcat(name, suffix, NULL);

    return g_build_filename(dir, file, NULL);
}

char *
test_golden_read(const char *dir, const char *name, const char *suffix)
{
    g_autofree char *path = test_golden_path(dir, name, suffix);
    char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

void
test_golden_check(const char *path, const char *actual)
{
    g_autofree char *expected = NULL;

    if (test_golden_regenerate()) {
        if (actual)
            g_assert_true(g_file_set_contents(path, actual, -1, NULL));
        else
            g_unlink(path);
        return;
    }
    if (!g_file_get_contents(path, &expected, NULL, NULL))
        expected = NULL;
    if (!actual) {
        if (expected)
            g_test_message("%s exists but the case produces nothing for it", path);
        g_assert_null(expected);
        return;
    }
    if (!expected)
        g_test_message("missing %s (run with VD_REGENERATE=1 and review the diff)", path);
    g_assert_nonnull(expected);
    g_assert_cmpstr(actual, ==, expected);
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

GPtrArray *
test_golden_xml_names(const char *dir, GError **error)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, error);
    GPtrArray *names;
    const char *entry;

    if (!d)
        return NULL;
    names = g_ptr_array_new_with_free_func(g_free);
    while ((entry = g_dir_read_name(d))) {
        if (g_str_has_suffix(entry, ".xml") && !g_str_has_suffix(entry, ".out.xml"))
            g_ptr_array_add(names, g_strndup(entry, strlen(entry) - 4));
    }
    g_ptr_array_sort(names, compare_names);
    return names;
}

GPtrArray *
test_golden_inputs(const char *env, guint min, const char **dir)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) names = NULL;

    *dir = g_getenv(env);
    if (!*dir) {
        g_printerr("%s is not set (run through meson test)\n", env);
        return NULL;
    }
    if (!(names = test_golden_xml_names(*dir, &err))) {
        g_printerr("%s\n", err->message);
        return NULL;
    }
    if (names->len < min) {
        g_printerr("only %u XML files in %s\n", names->len, *dir);
        return NULL;
    }
    return g_steal_pointer(&names);
}

void
test_golden_add_each(const char *prefix, GPtrArray *names, GTestDataFunc func)
{
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        g_autofree char *path = g_strdup_printf("%s/%s", prefix, name);

        g_test_add_data_func(path, name, func);
    }
}
