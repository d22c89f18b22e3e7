/* daemon/web/: the static path rule, the failed-login limiter, sessions
 * and the secrets they use. */
#include <string.h>

#include "daemon/web/web-session.h"
#include "daemon/web/web-static.h"

static void
test_static_paths(void)
{
    static const struct {
        const char *path;
        const char *rel; /* NULL: refused */
    } cases[] = {
        {"/", "index.html"},
        {"/index.html", "index.html"},
        {"/assets/app.js", "assets/app.js"},
        {"/assets/", "assets/index.html"},
        {"//assets//app.js", "assets/app.js"},
        {"/a%20b.css", "a b.css"},
        {"/../etc/passwd", NULL},
        {"/assets/../../x", NULL},
        {"/%2e%2e/x", NULL},
        {"/%2E%2E/x", NULL},
        {"/.%2e/x", NULL},
        {"/..%2fx", NULL},
        {"/%2e%2e%2fx", NULL},
        {"/a%2fb", NULL},
        {"/a%5cb", NULL},
        {"/a%00b", NULL},
        {"/.", NULL},
        {"/./index.html", NULL},
        {"/.git/config", NULL},
        {"/%ff%fe", NULL},
        {"relative", NULL},
        {"", NULL},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *rel = vd_web_static_relative_path(cases[i].path);
        g_assert_cmpstr(rel, ==, cases[i].rel);
    }
}

static void
test_limiter(void)
{
    VdWebLimiter *l = vd_web_limiter_new();
    for (guint i = 1; i < VD_WEB_FAIL_MAX; i++) {
        g_assert_cmpuint(vd_web_limiter_fail(l, "user a"), ==, 0);
        g_assert_cmpuint(vd_web_limiter_locked(l, "user a"), ==, 0);
    }
    guint lock = vd_web_limiter_fail(l, "user a");
    g_assert_cmpuint(lock, ==, 30);
    g_assert_cmpuint(vd_web_limiter_locked(l, "user a"), >, 25);
    /* backing off: each further failure doubles the lock */
    g_assert_cmpuint(vd_web_limiter_fail(l, "user a"), ==, 60);
    g_assert_cmpuint(vd_web_limiter_fail(l, "user a"), ==, 120);
    for (guint i = 0; i < 10; i++)
        lock = vd_web_limiter_fail(l, "user a");
    g_assert_cmpuint(lock, ==, 15 * 60);
    /* keys are separate; a success clears one */
    g_assert_cmpuint(vd_web_limiter_locked(l, "user b"), ==, 0);
    vd_web_limiter_clear(l, "user a");
    g_assert_cmpuint(vd_web_limiter_locked(l, "user a"), ==, 0);
    vd_web_limiter_free(l);
}

static void
test_secrets(void)
{
    g_autofree char *a = vd_web_random_hex(32);
    g_autofree char *b = vd_web_random_hex(32);
    g_assert_cmpuint(strlen(a), ==, 64);
    g_assert_cmpstr(a, !=, b);
    for (const char *p = a; *p; p++)
        g_assert_true(g_ascii_isxdigit(*p));
    g_assert_true(vd_web_secret_equal(a, a));
    g_assert_false(vd_web_secret_equal(a, b));
    g_assert_false(vd_web_secret_equal("abc", "abcd"));
    g_assert_false(vd_web_secret_equal("abcd", "abc"));
    g_assert_false(vd_web_secret_equal(NULL, "abc"));
    g_assert_false(vd_web_secret_equal("", "a"));
}

static void
test_sessions(void)
{
    VdWebSessions *s = vd_web_sessions_new(900, 3600);
    VdWebSession *one = vd_web_session_create(s, "alice");
    VdWebSession *two = vd_web_session_create(s, "alice");
    g_assert_cmpstr(one->id, !=, two->id);
    g_assert_cmpstr(one->csrf, !=, two->csrf);
    g_assert_cmpstr(one->id, !=, one->csrf);
    g_autofree char *id = g_strdup(one->id);
    g_assert_true(vd_web_session_lookup(s, id) == one);
    g_assert_null(vd_web_session_lookup(s, "nope"));
    g_assert_null(vd_web_session_lookup(s, NULL));
    vd_web_session_remove(s, id);
    g_assert_null(vd_web_session_lookup(s, id));
    g_assert_cmpuint(vd_web_sessions_count(s), ==, 1);
    /* bounded: the least recently used goes */
    for (guint i = 0; i < VD_WEB_SESSIONS_MAX + 5; i++)
        vd_web_session_create(s, "bob");
    g_assert_cmpuint(vd_web_sessions_count(s), ==, VD_WEB_SESSIONS_MAX);
    vd_web_sessions_free(s);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL);
    /* the session cap warns: expected here */
    g_log_set_fatal_mask(NULL, G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
    g_test_add_func("/web/static-paths", test_static_paths);
    g_test_add_func("/web/limiter", test_limiter);
    g_test_add_func("/web/secrets", test_secrets);
    g_test_add_func("/web/sessions", test_sessions);
    return g_test_run();
}
