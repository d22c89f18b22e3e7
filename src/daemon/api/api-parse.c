/* The API's pure parsing; see api-parse.h. */
#include "daemon/api/api-parse.h"

#include <math.h>
#include <string.h>

#include "util/vd-error.h"
#include "util/vd-json-guard.h"

gboolean
vd_api_path_split(const char *path, char ***segments_out, guint *n_out)
{
    if (!g_str_has_prefix(path, "/v1/") && !g_str_equal(path, "/v1"))
        return FALSE;
    g_auto(GStrv) raw = g_strsplit(path + 3, "/", -1);
    GPtrArray *segs = g_ptr_array_new();
    for (char **s = raw; *s; s++) {
        if (!**s)
            continue;
        char *dec = g_uri_unescape_string(*s, NULL);
        if (!dec) {
            g_ptr_array_add(segs, NULL);
            g_strfreev((char **)g_ptr_array_free(segs, FALSE));
            return FALSE;
        }
        g_ptr_array_add(segs, dec);
    }
    *n_out = segs->len;
    g_ptr_array_add(segs, NULL);
    *segments_out = (char **)g_ptr_array_free(segs, FALSE);
    return TRUE;
}

/* The areas, by their first segment: @single, only /v1/NAME itself;
 * @get_only, GET alone (checked here); @nested, /v1/NAME/... */
static const struct {
    const char *name;
    VdApiArea single;
    gboolean get_only;
    VdApiArea nested;
} areas[] = {
    {"version", VD_API_AREA_VERSION, TRUE, VD_API_AREA_NONE},
    {"host", VD_API_AREA_HOST, TRUE, VD_API_AREA_HOST_ITEM},
    {"metrics", VD_API_AREA_METRICS, FALSE, VD_API_AREA_NONE},
    {"jobs", VD_API_AREA_JOBS, TRUE, VD_API_AREA_NONE},
    {"tasks", VD_API_AREA_TASKS, TRUE, VD_API_AREA_TASK},
    {"images", VD_API_AREA_IMAGES, FALSE, VD_API_AREA_IMAGES},
    {"install-media", VD_API_AREA_IMAGES, FALSE, VD_API_AREA_IMAGES},
    {"usage", VD_API_AREA_USAGE, FALSE, VD_API_AREA_NONE},
    {"events", VD_API_AREA_EVENTS, FALSE, VD_API_AREA_NONE},
    {"domain-stats", VD_API_AREA_DOMAIN_STATS, FALSE, VD_API_AREA_NONE},
    {"domains", VD_API_AREA_DOMAINS, FALSE, VD_API_AREA_DOMAINS},
    {"save-images", VD_API_AREA_SAVE_IMAGES, FALSE, VD_API_AREA_SAVE_IMAGES},
    {"migrations", VD_API_AREA_MIGRATIONS, FALSE, VD_API_AREA_MIGRATIONS},
    {"web-tokens", VD_API_AREA_WEB_TOKENS, FALSE, VD_API_AREA_WEB_TOKENS},
    {"networks", VD_API_AREA_NETWORKS, FALSE, VD_API_AREA_NETWORKS},
    {"pools", VD_API_AREA_STORAGE, FALSE, VD_API_AREA_STORAGE},
    {"volumes", VD_API_AREA_STORAGE, FALSE, VD_API_AREA_STORAGE},
};

VdApiArea
vd_api_route_area(const char *const *segments, guint n, const char *method,
                  gboolean *method_allowed)
{
    *method_allowed = TRUE;
    if (n == 0)
        return VD_API_AREA_NONE;
    for (gsize i = 0; i < G_N_ELEMENTS(areas); i++) {
        if (!g_str_equal(segments[0], areas[i].name))
            continue;
        if (n > 1)
            return areas[i].nested;
        *method_allowed = !areas[i].get_only || g_str_equal(method, "GET");
        return areas[i].single;
    }
    return VD_API_AREA_NONE;
}

/* json-glib reads a number too large for a double (1e999) as an infinity,
 * which no JSON text can hold: its generator writes "inf.0", so any answer
 * echoing it is broken, and a handler reading it as an integer converts
 * an infinity (undefined behaviour). FALSE + error naming the member. The
 * guard has bounded the depth. */
static gboolean
check_numbers(JsonNode *node, const char *member, GError **error)
{
    switch (JSON_NODE_TYPE(node)) {
    case JSON_NODE_OBJECT: {
        JsonObjectIter iter;
        const char *name;
        JsonNode *child;
        json_object_iter_init(&iter, json_node_get_object(node));
        while (json_object_iter_next(&iter, &name, &child))
            if (!check_numbers(child, name, error))
                return FALSE;
        return TRUE;
    }
    case JSON_NODE_ARRAY: {
        JsonArray *array = json_node_get_array(node);
        for (guint i = 0; i < json_array_get_length(array); i++)
            if (!check_numbers(json_array_get_element(array, i), member, error))
                return FALSE;
        return TRUE;
    }
    case JSON_NODE_VALUE:
        if (json_node_get_value_type(node) != G_TYPE_DOUBLE)
            return TRUE;
        if (!isfinite(json_node_get_double(node))) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "request body: a number out of range%s%s%s (larger than %g)",
                        member ? " in \"" : "", member ? member : "", member ? "\"" : "",
                        G_MAXDOUBLE);
            return FALSE;
        }
        /* json-glib writes a double as g_ascii_dtostr() does and adds ".0"
         * when there is no '.': "2e+06.0", not JSON. Such a number (no
         * fraction digits, an exponent) is refused with the way to write
         * it; no member of the API wants one. */
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        g_ascii_dtostr(buf, sizeof(buf), json_node_get_double(node));
        if (!strchr(buf, '.') && strpbrk(buf, "eE")) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "request body: the number %s%s%s%s has an exponent and no fraction "
                        "digits: write it as an integer, or with a '.'",
                        buf, member ? " in \"" : "", member ? member : "", member ? "\"" : "");
            return FALSE;
        }
        return TRUE;
    case JSON_NODE_NULL:
        return TRUE;
    }
    return TRUE;
}

JsonObject *
vd_api_json_object_parse(const char *data, gsize len, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) perr = NULL;

    if (!data || len == 0)
        return NULL;
    /* Before the parser recurses, and before a \u0000 becomes a NUL. */
    if (!vd_json_guard_check(data, len, VD_JSON_MAX_DEPTH, error)) {
        g_prefix_error(error, "request body: ");
        return NULL;
    }
    if (!json_parser_load_from_data(parser, data, (gssize)len, &perr)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "request body is not JSON: %s",
                    perr->message);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "request body must be a JSON object");
        return NULL;
    }
    if (!check_numbers(root, NULL, error))
        return NULL;
    return json_object_ref(json_node_get_object(root));
}
