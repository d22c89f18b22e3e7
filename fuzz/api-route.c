/* The API's routing of a request (daemon/api/api-parse.c): the input is
 * "METHOD PATH", as a request line gives them. A path that splits must
 * split the same way again once its segments are %-encoded back, and
 * route to the same area. */
#include "fuzz-common.h"

#include "daemon/api/api-parse.h"

static char *
join_encoded(char **segments, guint n)
{
    GString *path = g_string_new("/v1");

    for (guint i = 0; i < n; i++) {
        g_autofree char *enc = g_uri_escape_string(segments[i], NULL, FALSE);
        g_string_append_printf(path, "/%s", enc);
    }
    return g_string_free(path, FALSE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = fuzz_strndup(data, size);
    char *space = strchr(text, ' ');
    const char *method = "GET";
    const char *path = text;

    if (space) {
        *space = '\0';
        method = text;
        path = space + 1;
    }
    g_auto(GStrv) segments = NULL;
    guint n = 0;
    if (!vd_api_path_split(path, &segments, &n))
        return 0;
    FUZZ_ASSERT(g_strv_length(segments) == n, "'%s': %u segments counted, %u there", path, n,
                g_strv_length(segments));
    gboolean allowed;
    VdApiArea area = vd_api_route_area((const char *const *)segments, n, method, &allowed);
    FUZZ_ASSERT(area != VD_API_AREA_NONE || allowed, "'%s': no area, yet a method check", path);

    g_autofree char *again_path = join_encoded(segments, n);
    g_auto(GStrv) again = NULL;
    guint n_again = 0;
    FUZZ_ASSERT(vd_api_path_split(again_path, &again, &n_again),
                "'%s': its segments re-encoded ('%s') do not split", path, again_path);
    FUZZ_ASSERT(n_again == n, "'%s' -> '%s': %u segments, then %u", path, again_path, n,
                n_again);
    for (guint i = 0; i < n; i++)
        FUZZ_ASSERT(g_str_equal(segments[i], again[i]), "'%s' -> '%s': segment %u differs",
                    path, again_path, i);
    gboolean allowed_again;
    FUZZ_ASSERT(vd_api_route_area((const char *const *)again, n_again, method, &allowed_again) ==
                        area &&
                    allowed_again == allowed,
                "'%s' -> '%s': routed elsewhere", path, again_path);
    return 0;
}
