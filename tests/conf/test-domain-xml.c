/* Golden-file tests of conf/: parse -> defaults -> validate -> format.
 *
 * Every NAME.xml in tests/data/domain (VD_TEST_DATA_DIR) is one test:
 *  - error-*.xml must fail; error-*.err holds "code: message".
 *  - other files must define; NAME.out.xml holds the formatted XML and,
 *    when there are warnings or start would refuse the domain, NAME.warn
 *    holds the warnings and the check_startable verdict.
 * Each OK case is also checked for stability: formatting, re-parsing and
 * formatting again, applying defaults twice and deep-copying give the
 * same text. VD_REGENERATE=1 rewrites the expected files instead of
 * comparing (see tests/data/domain/README.md).
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "conf/domain-def.h"
#include "golden.h"
#include "util/vd-error.h"

static const char *data_dir;

static char *
read_file(const char *path)
{
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    return text;
}

static char *
case_path(const char *name, const char *suffix)
{
    return test_golden_path(data_dir, name, suffix);
}

static char *
warnings_text(const VdDomainDef *def)
{
    g_autoptr(GPtrArray) warnings = vd_domain_def_warnings(def);
    g_autoptr(GError) err = NULL;
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < warnings->len; i++)
        g_string_append_printf(s, "warning: %s\n", (const char *)g_ptr_array_index(warnings, i));
    if (!vd_domain_def_check_startable(def, &err)) {
        g_assert_error(err, VD_ERROR, VD_ERROR_UNSUPPORTED);
        g_string_append_printf(s, "not startable: %s\n", err->message);
    }
    if (s->len == 0) {
        g_string_free(s, TRUE);
        return NULL;
    }
    return g_string_free(s, FALSE);
}

static void
test_ok_case(gconstpointer data)
{
    const char *name = data;
    g_autofree char *in_path = case_path(name, ".xml");
    g_autofree char *out_path = case_path(name, ".out.xml");
    g_autofree char *warn_path = case_path(name, ".warn");
    g_autofree char *xml = read_file(in_path);
    g_autoptr(GError) err = NULL;
    g_autoptr(VdDomainDef) def = NULL;
    g_autoptr(VdDomainDef) again = NULL;
    g_autoptr(VdDomainDef) copy = NULL;
    g_autofree char *out = NULL;
    g_autofree char *out2 = NULL;
    g_autofree char *warn = NULL;

    g_assert_nonnull(xml);
    def = vd_domain_def_parse(xml, -1, &err);
    g_assert_no_error(err);
    vd_domain_def_apply_defaults(def);
    g_assert_true(vd_domain_def_validate(def, &err));
    g_assert_no_error(err);
    out = vd_domain_def_format(def, VD_DOMAIN_FORMAT_INACTIVE);
    test_golden_check(out_path, out);
    warn = warnings_text(def);
    test_golden_check(warn_path, warn);

    /* Defaults are idempotent. */
    vd_domain_def_apply_defaults(def);
    out2 = vd_domain_def_format(def, VD_DOMAIN_FORMAT_INACTIVE);
    g_assert_cmpstr(out2, ==, out);
    g_clear_pointer(&out2, g_free);

    /* A copy formats the same. */
    copy = vd_domain_def_copy(def);
    out2 = vd_domain_def_format(copy, VD_DOMAIN_FORMAT_INACTIVE);
    g_assert_cmpstr(out2, ==, out);
    g_clear_pointer(&out2, g_free);

    /* What we write, we read back to the same thing. */
    again = vd_domain_def_new_from_xml(out, -1, &err);
    g_assert_no_error(err);
    out2 = vd_domain_def_format(again, VD_DOMAIN_FORMAT_INACTIVE);
    g_assert_cmpstr(out2, ==, out);
    g_assert_cmpuint(again->unsupported->len, ==, def->unsupported->len);
}

static void
test_error_case(gconstpointer data)
{
    const char *name = data;
    g_autofree char *in_path = case_path(name, ".xml");
    g_autofree char *err_path = case_path(name, ".err");
    g_autofree char *xml = read_file(in_path);
    g_autoptr(GError) err = NULL;
    g_autoptr(VdDomainDef) def = NULL;
    g_autofree char *actual = NULL;

    g_assert_nonnull(xml);
    def = vd_domain_def_new_from_xml(xml, -1, &err);
    g_assert_null(def);
    g_assert_nonnull(err);
    g_assert_true(err->domain == VD_ERROR);
    actual = g_strdup_printf("%s: %s\n", vd_error_code_to_string(err->code), err->message);
    test_golden_check(err_path, actual);
}

int
main(int argc, char **argv)
{
    g_autoptr(GPtrArray) names = NULL;
    guint n_ok = 0, n_err = 0;

    g_test_init(&argc, &argv, NULL);
    names = test_golden_inputs("VD_TEST_DATA_DIR", 0, &data_dir);
    if (!names)
        return 1;
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        g_autofree char *path = g_strdup_printf("/domain-xml/%s", name);

        if (g_str_has_prefix(name, "error-")) {
            g_test_add_data_func(path, name, test_error_case);
            n_err++;
        } else {
            g_test_add_data_func(path, name, test_ok_case);
            n_ok++;
        }
    }
    /* The brief asks for at least 15 of each; fewer means files went missing. */
    if (n_ok < 15 || n_err < 15) {
        g_printerr("only %u OK and %u error cases found in %s\n", n_ok, n_err, data_dir);
        return 1;
    }
    return g_test_run();
}
