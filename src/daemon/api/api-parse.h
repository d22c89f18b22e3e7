/* The API's parsing of what a client sends, as pure functions (no daemon,
 * no connection), so it can be tested and fuzzed on its own
 * (fuzz/api-route.c, fuzz/api-json.c): a request's path to its route, and
 * a request body to JSON. api.c and api-body.c apply them to requests. */
#pragma once

#include <json-glib/json-glib.h>

/* Splits "/v1/domains/web%2C1/start" into its decoded segments after "/v1"
 * (empty ones dropped), NULL-terminated, their count in *@n_out. FALSE
 * (nothing set) for a path outside /v1 or with a bad %-escape. */
gboolean vd_api_path_split(const char *path, char ***segments_out, guint *n_out);

/* Which part of the API a request's first segments name (api.c's
 * dispatch() hands the request to it). */
typedef enum {
    VD_API_AREA_NONE,          /* no such resource: 404 */
    VD_API_AREA_VERSION,       /* GET /v1/version */
    VD_API_AREA_HOST,          /* GET /v1/host */
    VD_API_AREA_HOST_ITEM,     /* /v1/host/validate, node, ... */
    VD_API_AREA_METRICS,       /* GET /v1/metrics (Prometheus text) */
    VD_API_AREA_JOBS,          /* GET /v1/jobs */
    VD_API_AREA_TASKS,         /* GET /v1/tasks */
    VD_API_AREA_TASK,          /* /v1/tasks/ID... */
    VD_API_AREA_IMAGES,        /* /v1/images..., /v1/install-media... */
    VD_API_AREA_USAGE,         /* /v1/usage */
    VD_API_AREA_EVENTS,        /* /v1/events */
    VD_API_AREA_DOMAIN_STATS,  /* /v1/domain-stats */
    VD_API_AREA_DOMAINS,       /* /v1/domains... */
    VD_API_AREA_SAVE_IMAGES,   /* /v1/save-images... */
    VD_API_AREA_MIGRATIONS,    /* /v1/migrations... */
    VD_API_AREA_WEB_TOKENS,    /* /v1/web-tokens... */
    VD_API_AREA_NETWORKS,      /* /v1/networks... */
    VD_API_AREA_STORAGE,       /* /v1/pools..., /v1/volumes... */
} VdApiArea;

/* The area of @segments (@n of them). @method_allowed: FALSE when the
 * area takes only GET and @method is another (405); areas with routes of
 * their own check the method there (TRUE here). */
VdApiArea vd_api_route_area(const char *const *segments, guint n, const char *method,
                            gboolean *method_allowed);

/* @len bytes of a request body as a JSON object. An empty body gives NULL
 * and no error. Refused before parsing: nesting deeper than
 * VD_JSON_MAX_DEPTH, \u0000, invalid UTF-8 (util/vd-json-guard.h); then
 * text that is not JSON, JSON that is not an object, or a number too
 * large for a double (VD_ERROR_INVALID_ARG saying which). */
JsonObject *vd_api_json_object_parse(const char *data, gsize len, GError **error);
