/* The web console's listener (web.h). */
#include "daemon/web/web.h"

#include <grp.h>
#include <string.h>

#include "daemon/api/api-conn.h"
#include "daemon/api/api-internal.h"
#include "daemon/api/api-tls.h"
#include "daemon/api/api.h"
#include "daemon/web/web-cert.h"
#include "daemon/web/web-pam.h"
#include "daemon/web/web-session.h"
#include "daemon/web/web-static.h"
#include "daemon/web/web-tokens.h"
#include "util/vd-error.h"

#define PAM_SERVICE "virtd"
#define COOKIE "virtd_session"
/* Web clients get their own connection limit: browsers open a few each. */
#define WEB_MAX_CONNECTIONS 512
/* Logins being checked at once (each holds a worker thread); more: 429. */
#define LOGINS_AT_ONCE 4
/* A failed login is answered after this: PAM's own delay is off (it would
 * hold a worker thread), this one costs a timer. */
#define FAIL_DELAY_MS 1000
#define LISTEN_HINT                                                                                \
    "give ADDRESS:PORT with an IP address (127.0.0.1:9090, [::1]:9090, 0.0.0.0:9090)"

/* default-src 'self' and no framing. Inline styles are allowed: xterm.js
 * and noVNC set them from script; inline scripts are not. */
#define CSP                                                                                        \
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "           \
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "                 \
    "frame-ancestors 'none'"

struct _VdWeb {
    VdDaemon *d;
    SoupServer *server;
    VdApiListener *listener;
    VdApiTls *tls;
    GPtrArray *sockets; /* of GSocket */
    char **names;
    char *root;
    gint64 gid; /* --web-group's; -1: root only */
    VdWebSessions *sessions;
    VdWebLimiter *limiter;
    guint logins_running;
    gboolean stopping;
};

GSocketAddress *
vd_web_parse_listen(const char *spec, GError **error)
{
    g_autofree char *as_uri = g_strconcat("https://", spec, NULL);
    g_autoptr(GUri) uri = g_uri_parse(as_uri, G_URI_FLAGS_NONE, NULL);
    const char *host = uri ? g_uri_get_host(uri) : NULL;
    if (!uri || !host || !*host || g_uri_get_port(uri) <= 0 || g_uri_get_userinfo(uri) ||
        *g_uri_get_path(uri) || g_uri_get_query(uri) || g_uri_get_fragment(uri)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "invalid --web '%s': %s", spec,
                    LISTEN_HINT);
        return NULL;
    }
    g_autoptr(GInetAddress) addr = g_inet_address_new_from_string(host);
    if (!addr) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid --web '%s': '%s' is not an IP address (host names are not "
                    "resolved); %s",
                    spec, host, LISTEN_HINT);
        return NULL;
    }
    return g_inet_socket_address_new(addr, (guint16)g_uri_get_port(uri));
}

/* The build tree's front end for a daemon run from the build tree, else
 * the installed one. */
static char *
default_root(void)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    if (exe && g_str_has_prefix(exe, VD_BUILD_ROOT "/"))
        return g_build_filename(VD_BUILD_ROOT, "web", "dist", NULL);
    return g_strdup(VD_WEB_DATADIR);
}

/* ---- answers ---- */

static void
security_headers(SoupServerMessage *msg)
{
    SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
    soup_message_headers_replace(h, "Content-Security-Policy", CSP);
    soup_message_headers_replace(h, "X-Content-Type-Options", "nosniff");
    soup_message_headers_replace(h, "X-Frame-Options", "DENY");
    soup_message_headers_replace(h, "Referrer-Policy", "no-referrer");
    soup_message_headers_replace(h, "Cross-Origin-Opener-Policy", "same-origin");
}

static void
reply_json(SoupServerMessage *msg, guint status, JsonBuilder *b)
{
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    gsize len = 0;
    char *text = json_to_string(root, FALSE);
    len = strlen(text);
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
                                 "no-store");
    soup_server_message_set_status(msg, status, NULL);
    soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, text, len);
}

static void
reply_error(SoupServerMessage *msg, VdErrorCode code, const char *message)
{
    g_autoptr(GError) error = g_error_new_literal(VD_ERROR, code, message);
    guint status = 0;
    gsize len = 0;
    char *text = vd_api_error_json(error, &status, &len);
    SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
    /* A WebSocket client gets no body: the reason in a header too. */
    g_autofree char *why = g_uri_escape_string(message, " ", FALSE);
    soup_message_headers_replace(h, "X-Virtd-Error", why);
    soup_message_headers_replace(h, "Cache-Control", "no-store");
    soup_server_message_set_status(msg, status, NULL);
    soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, text, len);
}

static const char *
client_host(SoupServerMessage *msg)
{
    const char *host = soup_server_message_get_remote_host(msg);
    return host ? host : "unknown";
}

static void
session_json(JsonBuilder *b, VdWebSession *ses)
{
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "user");
    json_builder_add_string_value(b, ses->user);
    json_builder_set_member_name(b, "csrf_token");
    json_builder_add_string_value(b, ses->csrf);
    json_builder_end_object(b);
}

/* ---- who is asking ---- */

static char *
cookie_value(SoupServerMessage *msg)
{
    const char *header =
        soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Cookie");
    if (!header)
        return NULL;
    GHashTable *pairs = soup_header_parse_semi_param_list(header);
    char *value = g_strdup(g_hash_table_lookup(pairs, COOKIE));
    soup_header_free_param_list(pairs);
    return value;
}

static VdWebSession *
session_of(VdWeb *w, SoupServerMessage *msg)
{
    g_autofree char *id = cookie_value(msg);
    return id ? vd_web_session_lookup(w->sessions, id) : NULL;
}

static gboolean
is_upgrade(SoupServerMessage *msg)
{
    const char *up =
        soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Upgrade");
    return up && g_ascii_strcasecmp(up, "websocket") == 0;
}

/* The page's own origin, https:// and the Host the browser used: a page
 * of another site cannot make its browser send another Host. */
static gboolean
same_origin(SoupServerMessage *msg)
{
    SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
    const char *origin = soup_message_headers_get_one(h, "Origin");
    const char *host = soup_message_headers_get_one(h, "Host");
    if (!origin || !host)
        return FALSE;
    g_autofree char *want = g_strconcat("https://", host, NULL);
    return g_ascii_strcasecmp(origin, want) == 0;
}

/* May @msg reach the API? TRUE, with the identity set for the handlers
 * and the audit log; else FALSE with @code and @why for the answer.
 * @quiet: from the early handler (the answer comes later: no log). */
static gboolean
authorize(VdWeb *w, SoupServerMessage *msg, VdErrorCode *code, const char **why, gboolean quiet)
{
    SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
    const char *method = soup_server_message_get_method(msg);
    const char *authz = soup_message_headers_get_one(h, "Authorization");

    if (authz) {
        const char *name = NULL, *user = NULL;
        g_autofree char *token =
            g_ascii_strncasecmp(authz, "Bearer ", 7) == 0 ? g_strstrip(g_strdup(authz + 7)) : NULL;
        if (token && vd_web_tokens_check(w->d->web_tokens, token, &name, &user)) {
            g_autofree char *auth = g_strdup_printf("token %s", name);
            vd_api_conn_set_user(msg, user, auth);
            return TRUE;
        }
        if (!quiet)
            g_message("web: %s %s from %s: refused, an invalid API token", method,
                      g_uri_get_path(soup_server_message_get_uri(msg)), client_host(msg));
        *code = VD_ERROR_UNAUTHENTICATED;
        *why = "invalid API token (Authorization: Bearer): make one with `vsh web-token create`";
        return FALSE;
    }
    VdWebSession *ses = session_of(w, msg);
    if (!ses) {
        *code = VD_ERROR_UNAUTHENTICATED;
        *why = "not logged in, or the session ended: log in with POST /api/login";
        return FALSE;
    }
    if (is_upgrade(msg)) {
        if (!same_origin(msg)) {
            if (!quiet)
                g_message("web: WebSocket %s from %s refused: Origin '%s' is not this listener's",
                          g_uri_get_path(soup_server_message_get_uri(msg)), client_host(msg),
                          soup_message_headers_get_one(h, "Origin") ?: "(none)");
            *code = VD_ERROR_DENIED;
            *why = "cross-origin WebSocket refused: its Origin must be this listener's own "
                   "https://HOST:PORT";
            return FALSE;
        }
    } else if (!g_str_equal(method, "GET") && !g_str_equal(method, "HEAD")) {
        const char *csrf = soup_message_headers_get_one(h, "X-CSRF-Token");
        if (!vd_web_secret_equal(csrf, ses->csrf)) {
            if (!quiet)
                g_message("web: %s %s from %s (user '%s') refused: %s CSRF token", method,
                          g_uri_get_path(soup_server_message_get_uri(msg)), client_host(msg),
                          ses->user, csrf ? "a wrong" : "no");
            *code = VD_ERROR_DENIED;
            *why = "missing or wrong X-CSRF-Token header: send the csrf_token of the login "
                   "answer (or GET /api/session) with every change";
            return FALSE;
        }
    }
    vd_api_conn_set_user(msg, ses->user, "session");
    return TRUE;
}

/* ---- login ---- */

typedef struct {
    VdWeb *w;
    SoupServerMessage *msg;
    char *user;
    char *address;
    guint delay_id;
} Login;

static void
login_free(Login *l)
{
    g_object_unref(l->msg);
    g_free(l->user);
    g_free(l->address);
    g_free(l);
}

static gboolean
on_fail_delay(gpointer data)
{
    Login *l = data;
    reply_error(l->msg, VD_ERROR_UNAUTHENTICATED,
                "login failed: wrong user name or password, "
                "or the user may not use the web console");
    soup_server_message_unpause(l->msg);
    login_free(l);
    return G_SOURCE_REMOVE;
}

static void
set_cookie(SoupServerMessage *msg, const char *value, gboolean clear)
{
    g_autofree char *c = g_strdup_printf("%s=%s; Path=/; HttpOnly; Secure; SameSite=Strict%s",
                                         COOKIE, value, clear ? "; Max-Age=0" : "");
    soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie", c);
}

static void
on_pam_done(GObject *source, GAsyncResult *res, gpointer data)
{
    Login *l = data;
    VdWeb *w = l->w;
    g_autoptr(GError) error = NULL;
    g_autofree char *ukey = g_strconcat("user ", l->user, NULL);
    g_autofree char *akey = g_strconcat("address ", l->address, NULL);

    w->logins_running--;
    if (!vd_web_pam_check_finish(res, &error)) {
        guint lu = vd_web_limiter_fail(w->limiter, ukey);
        guint la = vd_web_limiter_fail(w->limiter, akey);
        g_message("web: login of '%s' from %s failed: %s%s", l->user, l->address, error->message,
                  lu || la ? " (further attempts refused for a while)" : "");
        l->delay_id = g_timeout_add(FAIL_DELAY_MS, on_fail_delay, l);
        return;
    }
    vd_web_limiter_clear(w->limiter, ukey);
    vd_web_limiter_clear(w->limiter, akey);
    VdWebSession *ses = vd_web_session_create(w->sessions, l->user);
    g_message("web: '%s' logged in from %s (%u sessions open)", l->user, l->address,
              vd_web_sessions_count(w->sessions));
    set_cookie(l->msg, ses->id, FALSE);
    g_autoptr(JsonBuilder) b = json_builder_new();
    session_json(b, ses);
    reply_json(l->msg, 200, b);
    soup_server_message_unpause(l->msg);
    login_free(l);
}

static void
refuse_locked(SoupServerMessage *msg, guint seconds, const char *user)
{
    g_autofree char *after = g_strdup_printf("%u", seconds);
    g_autofree char *why = g_strdup_printf(
        "too many failed logins for this user or from this address: retry in %u s", seconds);
    g_message("web: login of '%s' from %s refused: locked for %u s after failed attempts", user,
              client_host(msg), seconds);
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After",
                                 after);
    reply_error(msg, VD_ERROR_RATE_LIMITED, why);
}

static gboolean
user_name_valid(const char *user)
{
    gsize n = user ? strlen(user) : 0;
    if (n == 0 || n > 256 || user[0] == '-')
        return FALSE;
    for (const char *p = user; *p; p++)
        if ((guchar)*p < 0x21 || *p == ':' || *p == 0x7f)
            return FALSE;
    return TRUE;
}

static void
handle_login(VdWeb *w, SoupServerMessage *msg)
{
    g_autoptr(GBytes) body = soup_message_body_flatten(soup_server_message_get_request_body(msg));
    g_autoptr(JsonParser) parser = json_parser_new();
    gsize len = 0;
    const char *data = g_bytes_get_data(body, &len);
    JsonNode *root = NULL;
    const char *user = NULL, *password = NULL;

    /* Only JSON: an HTML form of another site cannot send that type
     * without the browser asking first (CORS), so it cannot log a
     * browser in to an account of its choosing. */
    const char *type =
        soup_message_headers_get_content_type(soup_server_message_get_request_headers(msg), NULL);
    if (!type || g_ascii_strcasecmp(type, "application/json") != 0) {
        reply_error(msg, VD_ERROR_INVALID_ARG,
                    "the login body is JSON: send Content-Type: application/json");
        return;
    }
    if (data && len && json_parser_load_from_data(parser, data, (gssize)len, NULL))
        root = json_parser_get_root(parser);
    if (root && JSON_NODE_HOLDS_OBJECT(root)) {
        JsonObject *o = json_node_get_object(root);
        JsonNode *u = json_object_get_member(o, "user");
        JsonNode *p = json_object_get_member(o, "password");
        if (u && JSON_NODE_HOLDS_VALUE(u) && json_node_get_value_type(u) == G_TYPE_STRING)
            user = json_node_get_string(u);
        if (p && JSON_NODE_HOLDS_VALUE(p) && json_node_get_value_type(p) == G_TYPE_STRING)
            password = json_node_get_string(p);
    }
    if (!user || !password) {
        reply_error(msg, VD_ERROR_INVALID_ARG,
                    "the login body is JSON {\"user\": NAME, \"password\": PASSWORD}");
        return;
    }
    if (!user_name_valid(user) || !*password || strlen(password) > 4096) {
        reply_error(msg, VD_ERROR_UNAUTHENTICATED,
                    "login failed: wrong user name or password, "
                    "or the user may not use the web console");
        return;
    }
    g_autofree char *ukey = g_strconcat("user ", user, NULL);
    g_autofree char *akey = g_strconcat("address ", client_host(msg), NULL);
    guint locked =
        MAX(vd_web_limiter_locked(w->limiter, ukey), vd_web_limiter_locked(w->limiter, akey));
    if (locked) {
        refuse_locked(msg, locked, user);
        return;
    }
    if (w->logins_running >= LOGINS_AT_ONCE) {
        soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After",
                                     "1");
        reply_error(msg, VD_ERROR_RATE_LIMITED, "too many logins being checked: retry in 1 s");
        return;
    }
    Login *l = g_new0(Login, 1);
    l->w = w;
    l->msg = g_object_ref(msg);
    l->user = g_strdup(user);
    l->address = g_strdup(client_host(msg));
    w->logins_running++;
    soup_server_message_set_status(msg, SOUP_STATUS_ACCEPTED, NULL);
    soup_server_message_pause(msg);
    vd_web_pam_check_async(PAM_SERVICE, user, password, w->gid, on_pam_done, l);
    /* The body held the password. */
    explicit_bzero((char *)data, len);
}

static void
handle_own(VdWeb *w, SoupServerMessage *msg, const char *what, const char *method)
{
    if (g_str_equal(what, "login")) {
        if (!g_str_equal(method, "POST"))
            reply_error(msg, VD_ERROR_METHOD, "log in with POST /api/login");
        else
            handle_login(w, msg);
        return;
    }
    VdWebSession *ses = session_of(w, msg);
    if (g_str_equal(what, "session")) {
        if (!g_str_equal(method, "GET") && !g_str_equal(method, "HEAD")) {
            reply_error(msg, VD_ERROR_METHOD, "GET /api/session");
        } else if (!ses) {
            reply_error(msg, VD_ERROR_UNAUTHENTICATED, "not logged in");
        } else {
            g_autoptr(JsonBuilder) b = json_builder_new();
            session_json(b, ses);
            reply_json(msg, 200, b);
        }
        return;
    }
    /* logout */
    if (!g_str_equal(method, "POST")) {
        reply_error(msg, VD_ERROR_METHOD, "log out with POST /api/logout");
    } else if (!ses) {
        reply_error(msg, VD_ERROR_UNAUTHENTICATED, "not logged in");
    } else if (!vd_web_secret_equal(
                   soup_message_headers_get_one(soup_server_message_get_request_headers(msg),
                                                "X-CSRF-Token"),
                   ses->csrf)) {
        reply_error(msg, VD_ERROR_DENIED, "missing or wrong X-CSRF-Token header");
    } else {
        g_message("web: '%s' logged out from %s", ses->user, client_host(msg));
        vd_web_session_remove(w->sessions, ses->id);
        set_cookie(msg, "", TRUE);
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_end_object(b);
        reply_json(msg, 200, b);
    }
}

/* ---- routing ---- */

static gboolean
is_api(const char *path)
{
    return g_str_has_prefix(path, "/api/v1/") || g_str_equal(path, "/api/v1");
}

static void
on_early(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer data)
{
    VdWeb *w = data;
    VdErrorCode code;
    const char *why;

    /* Uploads stream to their file as they arrive: only for a caller
     * allowed to make them; others get their answer once the (limited)
     * body is in. */
    if (is_api(path) && authorize(w, msg, &code, &why, TRUE)) {
        vd_api_handle_early(w->d, msg, path + 4);
        return;
    }
    vd_api_body_limit_early(w->d, msg);
}

static void
on_request(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
           gpointer data)
{
    VdWeb *w = data;
    const char *method = soup_server_message_get_method(msg);
    VdErrorCode code;
    const char *why;

    security_headers(msg);
    if (is_api(path)) {
        if (!authorize(w, msg, &code, &why, FALSE)) {
            reply_error(msg, code, why);
            return;
        }
        vd_api_handle(w->d, msg, path + 4, query);
        return;
    }
    if (g_str_equal(path, "/api/login") || g_str_equal(path, "/api/logout") ||
        g_str_equal(path, "/api/session")) {
        handle_own(w, msg, path + 5, method);
        return;
    }
    if (g_str_equal(path, "/api") || g_str_has_prefix(path, "/api/")) {
        g_autofree char *m =
            g_strdup_printf("no API resource '%s' (the API is under /api/v1/)", path);
        reply_error(msg, VD_ERROR_NOT_FOUND, m);
        return;
    }
    if (!g_str_equal(method, "GET") && !g_str_equal(method, "HEAD")) {
        reply_error(msg, VD_ERROR_METHOD, "static files take GET and HEAD only");
        return;
    }
    vd_web_static_serve(msg, w->root, path);
}

/* ---- the listener ---- */

VdWeb *
vd_web_new(VdDaemon *d, const VdWebConfig *cfg, GError **error)
{
    g_autoptr(GPtrArray) hosts = g_ptr_array_new_with_free_func(g_free);
    gint64 gid = -1;

    if (cfg->group) {
        struct group *gr = getgrnam(cfg->group);
        if (!gr) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "unknown group '%s' for --web-group (`getent group` lists them)",
                        cfg->group);
            return NULL;
        }
        gid = gr->gr_gid;
    }
    if ((cfg->cert_file == NULL) != (cfg->key_file == NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "give --web-cert and --web-key together (or neither: a self-signed "
                    "certificate is made)");
        return NULL;
    }
    if (cfg->root && !g_file_test(cfg->root, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "--web-root '%s' is not a directory",
                    cfg->root);
        return NULL;
    }
    for (guint i = 0; cfg->listen[i]; i++) {
        g_autoptr(GSocketAddress) addr = vd_web_parse_listen(cfg->listen[i], error);
        if (!addr)
            return NULL;
        g_ptr_array_add(hosts, g_inet_address_to_string(
                                   g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(addr))));
    }
    g_ptr_array_add(hosts, NULL);
    g_autofree char *dir = g_build_filename(d->paths->state_dir, "web", NULL);
    g_autofree char *fingerprint = NULL;
    g_autofree char *pem = vd_web_cert_load(cfg->cert_file, cfg->key_file, dir,
                                            (const char *const *)hosts->pdata, &fingerprint, error);
    if (!pem)
        return NULL;

    VdWeb *w = g_new0(VdWeb, 1);
    w->d = d;
    w->gid = gid;
    w->sockets = g_ptr_array_new_with_free_func(g_object_unref);
    w->names = g_strdupv(cfg->listen);
    for (guint i = 0; cfg->listen[i]; i++) {
        g_autoptr(GSocketAddress) addr = vd_web_parse_listen(cfg->listen[i], NULL);
        g_autofree char *spec = g_strdup_printf("--web %s", cfg->listen[i]);
        GSocket *sock = vd_api_tls_listen(addr, spec, error);
        if (!sock) {
            explicit_bzero(pem, strlen(pem));
            vd_web_free(w);
            return NULL;
        }
        g_ptr_array_add(w->sockets, sock);
    }
    w->tls = vd_api_tls_new_server(pem);
    explicit_bzero(pem, strlen(pem));
    w->root = cfg->root ? g_canonicalize_filename(cfg->root, NULL) : default_root();
    w->sessions = vd_web_sessions_new(cfg->idle_timeout, VD_WEB_SESSION_LIFETIME);
    w->limiter = vd_web_limiter_new();
    g_info("web: certificate SHA-256 %s", fingerprint);
    g_info("web: static files from '%s'%s", w->root,
           g_file_test(w->root, G_FILE_TEST_IS_DIR) ? "" : " (missing: a built-in page says so)");
    return w;
}

void
vd_web_start(VdWeb *w)
{
    w->server = soup_server_new("server-header", "virtd/" VD_VERSION, "raw-paths", TRUE, NULL);
    soup_server_add_early_handler(w->server, "/", on_early, w, NULL);
    soup_server_add_handler(w->server, "/", on_request, w, NULL);
    w->listener = vd_api_listener_new_web(w->server, w->d->api_idle_timeout, WEB_MAX_CONNECTIONS);
    for (guint i = 0; i < w->sockets->len; i++) {
        g_autofree char *name = g_strdup_printf("https://%s", w->names[i]);
        vd_api_listener_add_web(w->listener, g_ptr_array_index(w->sockets, i), w->tls, name);
    }
}

void
vd_web_free(VdWeb *w)
{
    if (!w)
        return;
    g_clear_pointer(&w->listener, vd_api_listener_free);
    if (w->server) {
        soup_server_disconnect(w->server);
        g_clear_object(&w->server);
    }
    g_ptr_array_unref(w->sockets);
    g_strfreev(w->names);
    vd_api_tls_unref(w->tls);
    g_free(w->root);
    vd_web_sessions_free(w->sessions);
    vd_web_limiter_free(w->limiter);
    g_free(w);
}
