/* The API server: socket, routing, request/response plumbing. Handlers
 * for domains live in api-domains.c. Every error leaves here in the one
 * shape of docs/api.md, with its status from util/vd-error.c. */
#include "api.h"

#include <errno.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/access/access.h"
#include "daemon/access/audit.h"
#include "daemon/api/api-conn.h"
#include "daemon/api/api-internal.h"
#include "daemon/api/api-parse.h"
#include "daemon/api/api-storage.h"
#include "daemon/api/api-websocket.h"
#include "daemon/events/tasks.h"
#include "daemon/host-ready.h"
#include "daemon/web/web-tokens.h"
#include "qemu/kvm-probe.h"
#include "util/vd-error.h"

static void
request_free(VdApiRequest *req)
{
    /* One request per UNIX connection. libsoup 3.2 (Debian 12) never
     * notices that a client closed an idle keep-alive connection, so each
     * one would stay open in the daemon for good: an fd and ~2 KiB per
     * vsh run. vsh makes one request per process anyway. TLS connections
     * are kept alive by api-conn.c itself. */
    if (!vd_api_conn_keeps_alive(req->msg))
        soup_message_headers_replace(soup_server_message_get_response_headers(req->msg),
                                     "Connection", "close");
    if (req->paused)
        soup_server_message_unpause(req->msg);
    g_object_unref(req->msg);
    if (req->query)
        g_hash_table_unref(req->query);
    g_strfreev(req->segments);
    g_free(req);
}

void
vd_api_request_release(VdApiRequest *req)
{
    request_free(req);
}

void
vd_api_pause(VdApiRequest *req)
{
    if (!req->paused) {
        /* A status must be set before returning from the handler, or
         * libsoup takes the request for a failed WebSocket handshake (the
         * WebSocket handler shares the path); the real one replaces it. */
        soup_server_message_set_status(req->msg, SOUP_STATUS_ACCEPTED, NULL);
        soup_server_message_pause(req->msg);
        req->paused = TRUE;
    }
}

void
vd_api_reply_text(VdApiRequest *req, guint status, const char *content_type, const char *text)
{
    soup_server_message_set_status(req->msg, status, NULL);
    soup_server_message_set_response(req->msg, content_type, SOUP_MEMORY_COPY, text, strlen(text));
    request_free(req);
}

void
vd_api_reply_bytes(VdApiRequest *req, guint status, const char *content_type, char *data,
                   gsize len)
{
    soup_server_message_set_status(req->msg, status, NULL);
    soup_server_message_set_response(req->msg, content_type, SOUP_MEMORY_TAKE, data, len);
    request_free(req);
}

/* Every JSON the API emits passes here. json-glib copies strings into its
 * output as they are, so a client's invalid UTF-8 (a URL of %FF%FE, a
 * file name in a pool) echoed into a message would make the answer
 * invalid JSON; bytes >= 0x80 occur only inside strings, so replacing
 * invalid sequences with U+FFFD keeps the document what it was. */
static char *
json_text(JsonNode *node, gsize *len)
{
    char *text = json_to_string(node, FALSE);
    *len = strlen(text);
    if (!g_utf8_validate_len(text, *len, NULL)) {
        char *valid = g_utf8_make_valid(text, (gssize)*len);
        g_free(text);
        text = valid;
        *len = strlen(text);
    }
    return text;
}

void
vd_api_reply_json(VdApiRequest *req, guint status, JsonNode *node)
{
    gsize len = 0;
    char *text = json_text(node, &len);
    json_node_unref(node);
    soup_server_message_set_status(req->msg, status, NULL);
    soup_server_message_set_response(req->msg, "application/json", SOUP_MEMORY_TAKE, text, len);
    request_free(req);
}

char *
vd_api_error_json(const GError *error, guint *status, gsize *len)
{
    VdErrorCode code = error->domain == VD_ERROR ? (VdErrorCode)error->code : VD_ERROR_INTERNAL;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "error");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "code");
    json_builder_add_string_value(b, vd_error_code_to_string(code));
    json_builder_set_member_name(b, "message");
    json_builder_add_string_value(b, error->message);
    json_builder_end_object(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    *status = vd_error_code_http_status(code);
    return json_text(root, len);
}

/* " (unix uid 1000 pid 42)", " (tls 'C=..,CN=..' at 192.0.2.7:50114)":
 * who sent @msg (api-conn.h), for the log. */
static char *
describe_client(SoupServerMessage *msg)
{
    const VdApiIdentity *who = vd_api_conn_get_identity(msg);

    if (!who)
        return g_strdup("");
    if (who->transport == VD_API_TRANSPORT_WEB)
        return g_strdup_printf(" (web user '%s' by %s at %s)", who->user ? who->user : "",
                               who->auth ? who->auth : "nothing", who->address);
    if (who->transport == VD_API_TRANSPORT_TLS)
        return g_strdup_printf(" (tls '%s' at %s)", who->dn ? who->dn : "", who->address);
    return g_strdup_printf(" (unix uid %" G_GINT64_FORMAT " pid %" G_GINT64_FORMAT ")", who->uid,
                           who->pid);
}

void
vd_api_reply_error(VdApiRequest *req, const GError *error)
{
    guint status = 0;
    gsize len = 0;
    char *text = vd_api_error_json(error, &status, &len);

    g_autofree char *from = describe_client(req->msg);
    VdErrorCode code = error->domain == VD_ERROR ? (VdErrorCode)error->code : VD_ERROR_INTERNAL;
    vd_audit_set_error(req->msg, vd_error_code_to_string(code));

    g_debug("API %s %s%s: %s", soup_server_message_get_method(req->msg),
            g_uri_get_path(soup_server_message_get_uri(req->msg)), from, error->message);
    soup_server_message_set_status(req->msg, status, NULL);
    soup_server_message_set_response(req->msg, "application/json", SOUP_MEMORY_TAKE, text, len);
    request_free(req);
}

gboolean
vd_api_query_bool(VdApiRequest *req, const char *name)
{
    const char *v = req->query ? g_hash_table_lookup(req->query, name) : NULL;
    return v && (g_str_equal(v, "1") || g_ascii_strcasecmp(v, "true") == 0 ||
                 g_ascii_strcasecmp(v, "yes") == 0 || *v == 0);
}

void
vd_api_reply_not_allowed(VdApiRequest *req, const char *method)
{
    g_autoptr(GError) error =
        g_error_new(VD_ERROR, VD_ERROR_METHOD, "method %s is not allowed on '%s'", method,
                    g_uri_get_path(soup_server_message_get_uri(req->msg)));
    vd_api_reply_error(req, error);
}

void
vd_api_dispatch_collection(VdApiRequest *req, const char *method, void (*list)(VdApiRequest *req),
                           void (*define)(VdApiRequest *req))
{
    if (g_str_equal(method, "GET"))
        list(req);
    else if (g_str_equal(method, "POST"))
        define(req);
    else
        vd_api_reply_not_allowed(req, method);
}

gboolean
vd_api_check_found(VdApiRequest *req, gconstpointer found, const GError *error)
{
    if (found)
        return TRUE;
    vd_api_reply_error(req, error);
    return FALSE;
}

void
vd_api_add_warnings(JsonBuilder *b, GPtrArray *warnings)
{
    if (!warnings)
        return;
    json_builder_set_member_name(b, "warnings");
    json_builder_begin_array(b);
    for (guint i = 0; i < warnings->len; i++)
        json_builder_add_string_value(b, g_ptr_array_index(warnings, i));
    json_builder_end_array(b);
}

JsonBuilder *
vd_api_list_begin(const char *member)
{
    JsonBuilder *b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, member);
    json_builder_begin_array(b);
    return b;
}

gboolean
vd_api_list_wants(VdApiRequest *req, gboolean active)
{
    if (vd_api_query_bool(req, "inactive"))
        return !active;
    return active || vd_api_query_bool(req, "all");
}

void
vd_api_list_reply(VdApiRequest *req, JsonBuilder *b)
{
    json_builder_end_array(b);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

static void
handle_version(VdApiRequest *req)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    /* The liveness check of clients and scripts: answered at once, with
     * "qemu" only once the capabilities probe is in; ?wait=1 waits for it
     * (vsh version; host-ready.h). */
    if (vd_api_query_bool(req, "wait"))
        vd_host_ready_wait_caps(req->d);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "daemon");
    json_builder_add_string_value(b, VD_VERSION);
    if (req->d->caps || req->d->caps_error) {
        json_builder_set_member_name(b, "qemu");
        json_builder_add_string_value(b, req->d->caps ? req->d->caps->version : "unknown");
    }
    json_builder_set_member_name(b, "qemu_binary");
    json_builder_add_string_value(b, req->d->qemu_binary);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

/* A "Key:   value" line's value from a /proc file's text, or NULL. */
static char *
proc_field(const char *text, const char *key)
{
    gsize klen = strlen(key);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, key, klen) != 0)
            continue;
        const char *v = l + klen;
        while (*v == ' ' || *v == '\t')
            v++;
        if (*v != ':')
            continue;
        v++;
        const char *end = strchr(v, '\n');
        g_autofree char *val = end ? g_strndup(v, end - v) : g_strdup(v);
        return g_strdup(g_strstrip(val));
    }
    return NULL;
}

/* The host's CPUs and memory (issue 14, the web console's Host page):
 * /proc files are made by the kernel as they are read, never block. */
static void
add_host_resources(JsonBuilder *b)
{
    g_autofree char *cpuinfo = NULL, *meminfo = NULL;
    g_file_get_contents("/proc/cpuinfo", &cpuinfo, NULL, NULL);
    g_file_get_contents("/proc/meminfo", &meminfo, NULL, NULL);
    g_autofree char *model = cpuinfo ? proc_field(cpuinfo, "model name") : NULL;
    json_builder_set_member_name(b, "cpu");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "count");
    json_builder_add_int_value(b, g_get_num_processors());
    json_builder_set_member_name(b, "model");
    json_builder_add_string_value(b, model ? model : "");
    json_builder_end_object(b);
    json_builder_set_member_name(b, "memory");
    json_builder_begin_object(b);
    const char *keys[][2] = {{"MemTotal", "total_kib"}, {"MemAvailable", "available_kib"}};
    for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
        g_autofree char *v = meminfo ? proc_field(meminfo, keys[i][0]) : NULL;
        json_builder_set_member_name(b, keys[i][1]);
        json_builder_add_int_value(b, v ? g_ascii_strtoll(v, NULL, 10) : 0);
    }
    json_builder_end_object(b);
}

static void
handle_host(VdApiRequest *req)
{
    VdDaemon *d = req->d;
    g_autoptr(JsonBuilder) b = json_builder_new();
    vd_host_ready_wait(d); /* the KVM verdict and QEMU's facts (host-ready.h) */
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "hostname");
    json_builder_add_string_value(b, g_get_host_name());
    add_host_resources(b);
    json_builder_set_member_name(b, "kvm");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, vd_kvm_status_to_string(d->kvm->status));
    json_builder_set_member_name(b, "iterations_per_sec");
    json_builder_add_double_value(b, d->kvm->iterations_per_sec);
    json_builder_set_member_name(b, "detail");
    json_builder_add_string_value(b, d->kvm->detail ? d->kvm->detail : "");
    json_builder_end_object(b);
    /* Where the 'default' pool lives (or would be recreated). */
    json_builder_set_member_name(b, "default_pool_target");
    g_autofree char *images = g_build_filename(d->paths->state_dir, "images", NULL);
    json_builder_add_string_value(b, images);
    json_builder_set_member_name(b, "qemu");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "binary");
    json_builder_add_string_value(b, d->qemu_binary);
    if (d->caps) {
        json_builder_set_member_name(b, "version");
        json_builder_add_string_value(b, d->caps->version);
        json_builder_set_member_name(b, "machines");
        json_builder_begin_array(b);
        for (guint i = 0; i < d->caps->machines->len; i++)
            json_builder_add_string_value(b, g_ptr_array_index(d->caps->machines, i));
        json_builder_end_array(b);
        json_builder_set_member_name(b, "tcg");
        json_builder_add_boolean_value(b, d->caps->has_tcg_accel);
    } else {
        json_builder_set_member_name(b, "error");
        json_builder_add_string_value(b, d->caps_error ? d->caps_error->message : "unknown");
    }
    json_builder_end_object(b);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

static void
dispatch(VdApiRequest *req)
{
    const char *method = soup_server_message_get_method(req->msg);
    g_autoptr(GError) error = NULL;
    gboolean allowed;

    switch (vd_api_route_area((const char *const *)req->segments, req->nsegments, method,
                              &allowed)) {
    case VD_API_AREA_NONE:
        g_set_error(&error, VD_ERROR, VD_ERROR_NOT_FOUND, "no API resource '%s'",
                    g_uri_get_path(soup_server_message_get_uri(req->msg)));
        vd_api_reply_error(req, error);
        return;
    case VD_API_AREA_VERSION:
        if (allowed) {
            handle_version(req);
            return;
        }
        break;
    case VD_API_AREA_HOST:
        if (allowed) {
            handle_host(req);
            return;
        }
        break;
    case VD_API_AREA_HOST_ITEM:
    case VD_API_AREA_METRICS:
        /* issue 15: /v1/host/..., /v1/metrics (api-host.c, api-metrics.c) */
        if (!vd_api_host_dispatch(req, method) && !vd_api_metrics_dispatch(req, method)) {
            g_set_error(&error, VD_ERROR, VD_ERROR_NOT_FOUND, "no API resource '%s'",
                        g_uri_get_path(soup_server_message_get_uri(req->msg)));
            vd_api_reply_error(req, error);
        }
        return;
    case VD_API_AREA_JOBS:
        if (allowed) {
            vd_api_storage_jobs(req);
            return;
        }
        break;
    case VD_API_AREA_TASKS:
        if (allowed) {
            vd_api_reply_json(req, 200, vd_tasks_to_json(req->d)); /* issue 14: events/tasks.c */
            return;
        }
        break;
    case VD_API_AREA_TASK:
        vd_api_tasks_dispatch(req, method); /* issue 14: api-images.c */
        return;
    case VD_API_AREA_IMAGES:
        vd_api_images_dispatch(req, method); /* issue 14: api-images.c */
        return;
    case VD_API_AREA_USAGE:
        vd_api_usage_dispatch(req, method); /* issue 14: api-usage.c */
        return;
    case VD_API_AREA_EVENTS:
        vd_api_events(req, method);
        return;
    case VD_API_AREA_DOMAIN_STATS:
        vd_api_stats_dispatch(req, method);
        return;
    case VD_API_AREA_DOMAINS:
        vd_api_domains_dispatch(req, method);
        return;
    case VD_API_AREA_SAVE_IMAGES:
        vd_api_save_images_dispatch(req, method);
        return;
    case VD_API_AREA_MIGRATIONS:
        vd_api_migrations_dispatch(req, method);
        return;
    case VD_API_AREA_WEB_TOKENS:
        vd_web_tokens_dispatch(req, method);
        return;
    case VD_API_AREA_NETWORKS:
        vd_api_networks_dispatch(req, method);
        return;
    case VD_API_AREA_STORAGE:
        vd_api_storage_dispatch(req, method);
        return;
    }
    g_set_error(&error, VD_ERROR, VD_ERROR_METHOD, "method %s is not allowed on '%s'", method,
                g_uri_get_path(soup_server_message_get_uri(req->msg)));
    vd_api_reply_error(req, error);
}

static VdApiRequest *
request_new(VdDaemon *d, SoupServerMessage *msg, const char *path, GHashTable *query,
            GError **error)
{
    VdApiRequest *req = g_new0(VdApiRequest, 1);
    req->d = d;
    req->msg = g_object_ref(msg);
    req->query = query ? g_hash_table_ref(query) : NULL;
    if (!vd_api_path_split(path, &req->segments, &req->nsegments)) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "no API resource '%s'", path);
        req->segments = g_new0(char *, 1);
    }
    return req;
}

static void route(VdApiRequest *req);

/* ---- requests on a domain the daemon is still reconnecting to ---------- */

/* After a restart the API answers at once, while the monitors of the
 * QEMUs that outlived the old daemon are still being connected again
 * (domain-reconnect.c). Until then such a domain is listed with the
 * state its status file gave, but has no monitor: anything that needs
 * one would fail as if QEMU had stopped, and its console looks absent.
 * So a request that names it waits until the reconnect has settled
 * (QEMU answered, or it is gone), as libvirt's API calls wait for the
 * reconnect's job. The reconnect ends on its own (its QMP time limit,
 * domain-reconnect.c); the limit here only guards against a QEMU that
 * greets and then never answers: past it, a retryable "busy". */
#define RECONNECT_POLL_MS 50
#define RECONNECT_WAIT_MAX_US (30 * G_USEC_PER_SEC)

typedef struct {
    VdApiRequest *req;
    gint64 deadline;
} ReconnectWait;

static VdDomainObj *
reconnecting_domain(VdApiRequest *req)
{
    if (req->nsegments < 2 || !g_str_equal(req->segments[0], "domains"))
        return NULL;
    VdDomainObj *dom = vd_domain_list_lookup(req->d->domains, req->segments[1], NULL);
    return dom && dom->reconnecting ? dom : NULL;
}

static gboolean
reconnect_wait_poll(gpointer data)
{
    ReconnectWait *w = data;
    VdDomainObj *dom = reconnecting_domain(w->req);
    if (dom && g_get_monotonic_time() < w->deadline)
        return G_SOURCE_CONTINUE;
    VdApiRequest *req = w->req;
    g_free(w);
    if (dom) {
        g_autoptr(GError) error =
            g_error_new(VD_ERROR, VD_ERROR_BUSY,
                        "domain '%s': the daemon is still reconnecting to its QEMU (pid %d) "
                        "after its restart; try again in a moment",
                        dom->name, (int)dom->pid);
        vd_api_reply_error(req, error);
    } else {
        route(req); /* as if it had come now; the domain may be gone */
    }
    return G_SOURCE_REMOVE;
}

static void
on_request(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
           gpointer data)
{
    vd_api_handle(data, msg, path, query);
}

void
vd_api_handle(VdDaemon *data, SoupServerMessage *msg, const char *path, GHashTable *query)
{
    g_autoptr(GError) error = NULL;
    VdApiRequest *req = request_new(data, msg, path, query, &error);

    data->api_requests++;
    vd_audit_watch(vd_access_audit(data->access), msg, path);
    if (!error)
        vd_access_check_request(data, msg, path, &error); /* refused early already, but cheap */
    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    if (reconnecting_domain(req)) {
        ReconnectWait *w = g_new0(ReconnectWait, 1);
        w->req = req;
        w->deadline = g_get_monotonic_time() + RECONNECT_WAIT_MAX_US;
        vd_api_pause(req);
        g_timeout_add(RECONNECT_POLL_MS, reconnect_wait_poll, w);
        return;
    }
    route(req);
}

/* A request whose path parsed: WebSocket upgrade or dispatch. */
static void
route(VdApiRequest *req)
{
    g_autoptr(GError) error = NULL;
    /* Still needed after request_free() below, also when the request
     * waited (then libsoup's handler call is long over). */
    g_autoptr(SoupServerMessage) msg = g_object_ref(req->msg);
    gpointer data = req->d;

    /* A WebSocket upgrade: check it here so refusals are plain HTTP
     * errors; then the daemon does the upgrade (api-websocket.h). */
    const char *upgrade = soup_message_headers_get_one(
        soup_server_message_get_request_headers(msg), "Upgrade");
    if (upgrade && g_ascii_strcasecmp(upgrade, "websocket") == 0) {
        /* The graphical console (api-vnc.c) answers for itself. */
        if (vd_api_vnc_upgrade(req))
            return;
        if (!vd_api_console_precheck(req, &error)) {
            vd_api_websocket_refuse(req, error);
            return;
        }
        g_autofree char *name = g_strdup(req->segments[1]);
        gboolean force = vd_api_query_bool(req, "force");
        request_free(req);
        /* A console session may stay quiet for hours. */
        vd_api_conn_exempt(msg);
        vd_api_websocket_upgrade(data, msg, name, force);
        return;
    }
    if (req->nsegments == 3 &&
        (g_str_equal(req->segments[2], "console") || g_str_equal(req->segments[2], "vnc"))) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "the %s is a WebSocket: connect with an Upgrade: websocket request",
                    req->segments[2][0] == 'c' ? "console" : "VNC console");
        vd_api_reply_error(req, error);
        return;
    }
    dispatch(req);
}

/* Runs when a request's headers are in, before its body is read. */
static void
on_early(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer data)
{
    vd_api_handle_early(data, msg, path);
}

void
vd_api_handle_early(VdDaemon *data, SoupServerMessage *msg, const char *path)
{
    g_autoptr(GError) error = NULL;
    /* Who may do what (access.h): refused before a byte of the body is
     * read, the connection closed. */
    if (!vd_access_check_request(data, msg, path, &error)) {
        vd_audit_refused(vd_access_audit(data->access), msg, path, error);
        vd_api_refuse_and_close(msg, error);
        return;
    }
    /* Volume data is streamed to its file, never held: no limit. */
    if (vd_api_storage_data_early(data, msg, path))
        return;
    /* So is a migration's disk stream (api-migration-disk.c). */
    if (vd_api_migration_disk_early(data, msg, path))
        return;
    vd_api_body_limit_early(data, msg);
}

gboolean
vd_api_start(VdDaemon *d, GError **error)
{
    const char *path = d->paths->socket_path;
    g_autoptr(GSocket) sock = NULL;
    g_autoptr(GSocketAddress) addr = NULL;

    /* A stale socket from a killed daemon: remove it, unless a daemon
     * still answers there. */
    if (g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_autoptr(GSocketClient) client = g_socket_client_new();
        g_autoptr(GSocketAddress) probe = g_unix_socket_address_new(path);
        g_autoptr(GSocketConnection) conn =
            g_socket_client_connect(client, G_SOCKET_CONNECTABLE(probe), NULL, NULL);
        if (conn) {
            g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                        "another virtd is already serving '%s'", path);
            return FALSE;
        }
        g_unlink(path);
    }
    sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, error);
    if (!sock)
        return FALSE;
    /* Room for bursts (a script starting twenty guests at once) while
     * the main loop is busy; GLib's default backlog is 10. */
    g_socket_set_listen_backlog(sock, 512);
    addr = g_unix_socket_address_new(path);
    mode_t old = umask(0177);
    gboolean bound = g_socket_bind(sock, addr, TRUE, error);
    umask(old);
    if (!bound || !g_socket_listen(sock, error))
        return FALSE;
    if (!vd_access_set_socket_mode(d->access, path, error))
        return FALSE;

    d->server = soup_server_new("server-header", "virtd/" VD_VERSION, "raw-paths", TRUE, NULL);
    soup_server_add_early_handler(d->server, "/", on_early, d, NULL);
    soup_server_add_handler(d->server, "/", on_request, d, NULL);
    /* Accepted here, not by soup_server_listen_socket (api-conn.h). */
    d->listener = vd_api_listener_new(d->server, sock, d->api_idle_timeout,
                                      d->api_max_connections);
    /* --listen tls://: bound at start (main.c), served from now on. */
    for (guint i = 0; d->listen_sockets && i < d->listen_sockets->len; i++)
        vd_api_listener_add_tls(d->listener, g_ptr_array_index(d->listen_sockets, i), d->api_tls,
                                d->listen[i]);
    return TRUE;
}

void
vd_api_stop(VdDaemon *d)
{
    vd_api_images_shutdown(); /* issue 14: image builds do not outlive the daemon */
    if (!d->server)
        return;
    g_clear_pointer(&d->listener, vd_api_listener_free);
    soup_server_disconnect(d->server);
    g_clear_object(&d->server);
    g_unlink(d->paths->socket_path);
}
