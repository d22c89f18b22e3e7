/* daemon/api/api-parse.c: a request's path to its segments and area, and
 * a body to a JSON object (the pure steps of api.c and api-body.c, also
 * fuzzed: fuzz/api-route.c, fuzz/api-json.c). */
#include <string.h>

#include "daemon/api/api-parse.h"
#include "util/vd-error.h"

static void
test_path_split(void)
{
    g_auto(GStrv) segs = NULL;
    guint n = 0;

    g_assert_true(vd_api_path_split("/v1/domains/web%2C1//start", &segs, &n));
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpstr(segs[1], ==, "web,1");
    g_assert_cmpstr(segs[2], ==, "start");
    g_assert_null(segs[3]);
    g_clear_pointer(&segs, g_strfreev);

    g_assert_true(vd_api_path_split("/v1", &segs, &n));
    g_assert_cmpuint(n, ==, 0);
    g_clear_pointer(&segs, g_strfreev);

    /* Outside /v1, or a %-escape that is not one (or a NUL). */
    g_assert_false(vd_api_path_split("/v10/domains", &segs, &n));
    g_assert_false(vd_api_path_split("/v1/domains/%zz", &segs, &n));
    g_assert_false(vd_api_path_split("/v1/domains/a%00b", &segs, &n));
    g_assert_null(segs);
}

static void
test_route_area(void)
{
    static const struct {
        const char *path;
        const char *method;
        VdApiArea area;
        gboolean allowed;
    } cases[] = {
        {"/v1/version", "GET", VD_API_AREA_VERSION, TRUE},
        {"/v1/version", "POST", VD_API_AREA_VERSION, FALSE},
        {"/v1/version/x", "GET", VD_API_AREA_NONE, TRUE},
        {"/v1/host/validate", "GET", VD_API_AREA_HOST_ITEM, TRUE},
        {"/v1/metrics", "GET", VD_API_AREA_METRICS, TRUE},
        {"/v1/metrics/x", "GET", VD_API_AREA_NONE, TRUE},
        {"/v1/tasks", "DELETE", VD_API_AREA_TASKS, FALSE},
        {"/v1/tasks/7", "DELETE", VD_API_AREA_TASK, TRUE},
        {"/v1/install-media", "POST", VD_API_AREA_IMAGES, TRUE},
        {"/v1/usage/x", "GET", VD_API_AREA_NONE, TRUE},
        {"/v1/domains/web1/start", "POST", VD_API_AREA_DOMAINS, TRUE},
        {"/v1/volumes/x", "GET", VD_API_AREA_STORAGE, TRUE},
        {"/v1/nothing", "GET", VD_API_AREA_NONE, TRUE},
        {"/v1", "GET", VD_API_AREA_NONE, TRUE},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(GStrv) segs = NULL;
        guint n;
        gboolean allowed;

        g_assert_true(vd_api_path_split(cases[i].path, &segs, &n));
        g_assert_cmpint(vd_api_route_area((const char *const *)segs, n, cases[i].method,
                                          &allowed),
                        ==, cases[i].area);
        g_assert_cmpint(allowed, ==, cases[i].allowed);
    }
}

static void
test_json_body(void)
{
    g_autoptr(GError) error = NULL;
    const char *ok = "{\"autostart\": true, \"n\": [1, 2.5e300]}";
    g_autoptr(JsonObject) o = vd_api_json_object_parse(ok, strlen(ok), &error);

    g_assert_no_error(error);
    g_assert_true(json_object_get_boolean_member(o, "autostart"));

    /* Empty: no body, no error. */
    g_assert_null(vd_api_json_object_parse("", 0, &error));
    g_assert_no_error(error);

    static const struct {
        const char *body;
        const char *message_part;
    } bad[] = {
        {"[1]", "must be a JSON object"},
        {"{", "is not JSON"},
        {"{\"a\": \"\\u0000\"}", "request body: "},
        /* json-glib reads it as an infinity (fuzz/api-json.c). */
        {"{\"speed\": 1e999}", "a number out of range in \"speed\""},
        {"{\"a\": [{\"b\": -2e400}]}", "a number out of range in \"b\""},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_clear_error(&error);
        g_assert_null(vd_api_json_object_parse(bad[i].body, strlen(bad[i].body), &error));
        g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
        if (!strstr(error->message, bad[i].message_part))
            g_error("'%s': '%s' not in '%s'", bad[i].body, bad[i].message_part, error->message);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/api/parse/path-split", test_path_split);
    g_test_add_func("/api/parse/route-area", test_route_area);
    g_test_add_func("/api/parse/json-body", test_json_body);
    return g_test_run();
}
