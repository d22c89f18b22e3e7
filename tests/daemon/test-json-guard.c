/* util/vd-json-guard: the lexical check that runs before json-glib. */
#include <string.h>

#include "util/vd-error.h"
#include "util/vd-json-guard.h"

static gboolean
check(const char *text, GError **error)
{
    return vd_json_guard_check(text, strlen(text), VD_JSON_MAX_DEPTH, error);
}

static void
assert_refused(const char *text, gsize len, const char *mention)
{
    g_autoptr(GError) error = NULL;
    g_assert_false(vd_json_guard_check(text, len, VD_JSON_MAX_DEPTH, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    if (!strstr(error->message, mention))
        g_error("message %s lacks %s", error->message, mention);
}

static void
test_accepts(void)
{
    const char *good[] = {
        "", "{}", "{\"autostart\": true}",
        /* an escaped backslash, then text */
        "{\"name\": \"caf\xc3\xa9 \\u00e9 \\\"[[[{{{\\\" \\\\u0000\"}",
        /* a surrogate pair */
        "{\"x\": \"\\ud83d\\ude00\"}", "{\"x\": \"\\u0001\\n\\t\"}",
        "[1, [2, [3]], {\"a\": {\"b\": []}}]", "{\"a\": \"]]]]]]}}}}}}\"}",
        "not json at all, the parser says so", /* only the parser judges syntax */
    };
    for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autoptr(GError) error = NULL;
        if (!check(good[i], &error))
            g_error("refused %s: %s", good[i], error->message);
    }
}

static void
test_depth(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) ok = g_string_new("{\"x\":");
    for (guint i = 1; i < VD_JSON_MAX_DEPTH; i++)
        g_string_append_c(ok, '[');
    for (guint i = 1; i < VD_JSON_MAX_DEPTH; i++)
        g_string_append_c(ok, ']');
    g_string_append_c(ok, '}');
    g_assert_true(check(ok->str, &error));

    /* One level more is refused, and so are 80,000 (issue 8). */
    g_autoptr(GString) deep = g_string_new("{\"x\":");
    for (guint i = 0; i < VD_JSON_MAX_DEPTH; i++)
        g_string_append_c(deep, '[');
    assert_refused(deep->str, deep->len, "more than 64 deep");
    g_autoptr(GString) huge = g_string_new("{\"x\":");
    for (guint i = 0; i < 80000; i++)
        g_string_append_c(huge, i % 2 ? '[' : '{');
    assert_refused(huge->str, huge->len, "deep");

    /* Brackets inside strings do not count; closing ones restore depth. */
    g_autoptr(GString) flat = g_string_new("[");
    for (guint i = 0; i < 1000; i++)
        g_string_append(flat, "[\"[[[[{{{{\"],");
    g_string_append(flat, "0]");
    g_assert_true(check(flat->str, &error));
}

static void
test_nul_and_surrogates(void)
{
    assert_refused("{\"name\": \"a\\u0000b\"}", 20, "\\u0000");
    assert_refused("{\"name\": \"\\\\\\u0000\"}", 20, "\\u0000"); /* \\ then \u0000 */
    assert_refused("{\"name\": \"a\"}\0", 15, "NUL byte");
    assert_refused("{\"name\": \"\xff\xfe\"}", 14, "UTF-8");
    assert_refused("{\"x\": \"\\udc00\"}", 15, "lone low surrogate");
    assert_refused("{\"x\": \"\\ud800\"}", 15, "high surrogate");
    assert_refused("{\"x\": \"\\ud800\\u0041\"}", 21, "high surrogate");
}

/* Malformed escapes are refused, not left to json-glib, which reads
 * "\ud8na" anyway and yields a string that is not UTF-8 (fuzz/api-json.c). */
static void
test_malformed_escapes(void)
{
    g_autoptr(GError) error = NULL;
    const char *all = "{\"x\": \"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9\"}";

    g_assert_true(check(all, &error));
    assert_refused("{\"x\": \"\\ud8na3d\"}", 17, "without four hex digits");
    assert_refused("{\"x\": \"\\u12\"}", 13, "without four hex digits");
    assert_refused("{\"x\": \"\\q\"}", 11, "invalid escape \\q");
    assert_refused("{\"x\": \"\\\x01\"}", 11, "invalid escape \\?");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/json-guard/accepts", test_accepts);
    g_test_add_func("/json-guard/depth", test_depth);
    g_test_add_func("/json-guard/nul-and-surrogates", test_nul_and_surrogates);
    g_test_add_func("/json-guard/malformed-escapes", test_malformed_escapes);
    return g_test_run();
}
