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

#include "daemon/api/api-conn.h"
#include "daemon/api/api-internal.h"
#include "daemon/api/api-storage.h"
#include "daemon/api/api-websocket.h"
#include "qemu/kvm-probe.h"
#include "util/vd-error.h"

static void
request_free(VdApiRequest *req)
{
    /* One request per connection. libsoup 3.2 (Debian 12) never notices
     * that a client closed an idle keep-alive connection, so each one
     * would stay open in the daemon for good: an fd and ~2 KiB per vsh
     * run. vsh makes one request per process anyway. */
    soup_message_headers_replace(soup_server_message_get_response_headers(req->msg), "Connection",
                                 "close");
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

void
vd_api_reply_error(VdApiRequest *req, const GError *error)
{
    guint status = 0;
    gsize len = 0;
    char *text = vd_api_error_json(error, &status, &len);

    g_debug("API %s %s: %s", soup_server_message_get_method(req->msg),
            g_uri_get_path(soup_server_message_get_uri(req->msg)), error->message);
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
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "daemon");
    json_builder_add_string_value(b, VD_VERSION);
    json_builder_set_member_name(b, "qemu");
    json_builder_add_string_value(b, req->d->caps ? req->d->caps->version : "unknown");
    json_builder_set_member_name(b, "qemu_binary");
    json_builder_add_string_value(b, req->d->qemu_binary);
    json_builder_end_object(b);
    vd_api_reply_json(req, 200, json_builder_get_root(b));
}

static void
handle_host(VdApiRequest *req)
{
    VdDaemon *d = req->d;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "hostname");
    json_builder_add_string_value(b, g_get_host_name());
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

    if (req->nsegments == 1 && g_str_equal(req->segments[0], "version")) {
        if (g_str_equal(method, "GET")) {
            handle_version(req);
            return;
        }
    } else if (req->nsegments == 1 && g_str_equal(req->segments[0], "host")) {
        if (g_str_equal(method, "GET")) {
            handle_host(req);
            return;
        }
    } else if (req->nsegments == 1 && g_str_equal(req->segments[0], "jobs")) {
        if (g_str_equal(method, "GET")) {
            vd_api_storage_jobs(req);
            return;
        }
    } else if (req->nsegments == 1 && g_str_equal(req->segments[0], "domain-stats")) {
        vd_api_stats_dispatch(req, method);
        return;
    } else if (req->nsegments >= 1 && g_str_equal(req->segments[0], "domains")) {
        vd_api_domains_dispatch(req, method);
        return;
    } else if (req->nsegments >= 1 && g_str_equal(req->segments[0], "save-images")) {
        vd_api_save_images_dispatch(req, method);
        return;
    } else if (req->nsegments >= 1 && g_str_equal(req->segments[0], "networks")) {
        vd_api_networks_dispatch(req, method);
        return;
    } else if (req->nsegments >= 1 && (g_str_equal(req->segments[0], "pools") ||
                                       g_str_equal(req->segments[0], "volumes"))) {
        vd_api_storage_dispatch(req, method);
        return;
    } else {
        g_set_error(&error, VD_ERROR, VD_ERROR_NOT_FOUND, "no API resource '%s'",
                    g_uri_get_path(soup_server_message_get_uri(req->msg)));
        vd_api_reply_error(req, error);
        return;
    }
    g_set_error(&error, VD_ERROR, VD_ERROR_METHOD, "method %s is not allowed on '%s'", method,
                g_uri_get_path(soup_server_message_get_uri(req->msg)));
    vd_api_reply_error(req, error);
}

/* Splits "/v1/domains/web%2C1/start" into decoded segments after "/v1". */
static gboolean
parse_path(const char *path, char ***segments_out, guint *n_out)
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

static VdApiRequest *
request_new(VdDaemon *d, SoupServerMessage *msg, const char *path, GHashTable *query,
            GError **error)
{
    VdApiRequest *req = g_new0(VdApiRequest, 1);
    req->d = d;
    req->msg = g_object_ref(msg);
    req->query = query ? g_hash_table_ref(query) : NULL;
    if (!parse_path(path, &req->segments, &req->nsegments)) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "no API resource '%s'", path);
        req->segments = g_new0(char *, 1);
    }
    return req;
}

static void
on_request(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
           gpointer data)
{
    g_autoptr(GError) error = NULL;
    VdApiRequest *req = request_new(data, msg, path, query, &error);

    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    /* A WebSocket upgrade: check it here so refusals are plain HTTP
     * errors; then the daemon does the upgrade (api-websocket.h). */
    const char *upgrade = soup_message_headers_get_one(
        soup_server_message_get_request_headers(msg), "Upgrade");
    if (upgrade && g_ascii_strcasecmp(upgrade, "websocket") == 0) {
        if (!vd_api_console_precheck(req, &error)) {
            /* a WebSocket client gets no body: the reason in a header too */
            g_autofree char *why = g_uri_escape_string(error->message, " ", FALSE);
            soup_message_headers_replace(soup_server_message_get_response_headers(msg),
                                         "X-Virtd-Error", why);
            vd_api_reply_error(req, error);
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
    if (req->nsegments == 3 && g_str_equal(req->segments[2], "console")) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "the console is a WebSocket: connect with an Upgrade: websocket request");
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
    /* Volume data is streamed to its file, never held: no limit. */
    if (vd_api_storage_data_early(data, msg, path))
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
    if (d->socket_group >= 0) {
        if (chown(path, (uid_t)-1, (gid_t)d->socket_group) < 0 || chmod(path, 0660) < 0) {
            int saved = errno;
            g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot set group of '%s': %s", path,
                        g_strerror(saved));
            return FALSE;
        }
    }

    d->server = soup_server_new("server-header", "virtd/" VD_VERSION, "raw-paths", TRUE, NULL);
    soup_server_add_early_handler(d->server, "/", on_early, d, NULL);
    soup_server_add_handler(d->server, "/", on_request, d, NULL);
    /* Accepted here, not by soup_server_listen_socket (api-conn.h). */
    d->listener = vd_api_listener_new(d->server, sock, d->api_idle_timeout,
                                      d->api_max_connections);
    return TRUE;
}

void
vd_api_stop(VdDaemon *d)
{
    if (!d->server)
        return;
    g_clear_pointer(&d->listener, vd_api_listener_free);
    soup_server_disconnect(d->server);
    g_clear_object(&d->server);
    g_unlink(d->paths->socket_path);
}
