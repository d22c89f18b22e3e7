/* API tokens for the web listener (web-tokens.h). */
#include "daemon/web/web-tokens.h"

#include <pwd.h>
#include <string.h>

#include "daemon/access/access.h"
#include "daemon/api/api-conn.h"
#include "daemon/api/api-internal.h"
#include "daemon/web/web-session.h"
#include "util/vd-error.h"
#include "util/vd-file.h"

#define TOKEN_PREFIX "vdt_"
#define TOKENS_MAX 1000

typedef struct {
    char *name;
    char *hash; /* SHA-256 hex of the token */
    gint64 created;
    char *user;
} Token;

struct _VdWebTokens {
    char *path;
    GPtrArray *tokens; /* of Token */
};

static void
token_free(gpointer data)
{
    Token *t = data;
    g_free(t->name);
    g_free(t->hash);
    g_free(t->user);
    g_free(t);
}

static gboolean
name_valid(const char *name)
{
    gsize n = name ? strlen(name) : 0;
    if (n == 0 || n > 64)
        return FALSE;
    for (const char *p = name; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
            return FALSE;
    return TRUE;
}

VdWebTokens *
vd_web_tokens_new(const char *path)
{
    VdWebTokens *t = g_new0(VdWebTokens, 1);
    t->path = g_strdup(path);
    t->tokens = g_ptr_array_new_with_free_func(token_free);
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    if (!g_file_get_contents(path, &text, NULL, &error)) {
        if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            g_warning("web: cannot read the API tokens '%s': %s (no token works until it is "
                      "readable)",
                      path, error->message);
        return t;
    }
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (!**l || **l == '#')
            continue;
        g_auto(GStrv) f = g_strsplit(*l, "\t", 4);
        if (g_strv_length(f) != 4 || !name_valid(f[0]) || strlen(f[1]) != 64) {
            g_warning("web: ignoring a malformed line of '%s'", path);
            continue;
        }
        Token *tok = g_new0(Token, 1);
        tok->name = g_strdup(f[0]);
        tok->hash = g_ascii_strdown(f[1], -1);
        tok->created = g_ascii_strtoll(f[2], NULL, 10);
        tok->user = g_strdup(f[3]);
        g_ptr_array_add(t->tokens, tok);
    }
    return t;
}

void
vd_web_tokens_free(VdWebTokens *t)
{
    if (!t)
        return;
    g_ptr_array_unref(t->tokens);
    g_free(t->path);
    g_free(t);
}

static gboolean
save(VdWebTokens *t, GError **error)
{
    GString *s = g_string_new("# virtd web API tokens: NAME, SHA-256 of the token, created, "
                              "by (vsh web-token)\n");
    for (guint i = 0; i < t->tokens->len; i++) {
        Token *tok = g_ptr_array_index(t->tokens, i);
        g_string_append_printf(s, "%s\t%s\t%" G_GINT64_FORMAT "\t%s\n", tok->name, tok->hash,
                               tok->created, tok->user);
    }
    g_autofree char *dir = g_path_get_dirname(t->path);
    gboolean ok = vd_dir_ensure(dir, 0700, error) &&
                  vd_file_write_atomic(t->path, s->str, (gssize)s->len, 0600, error);
    g_string_free(s, TRUE);
    return ok;
}

gboolean
vd_web_tokens_check(VdWebTokens *t, const char *token, const char **name, const char **user)
{
    if (!t || !token || !g_str_has_prefix(token, TOKEN_PREFIX))
        return FALSE;
    g_autofree char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, token, -1);
    for (guint i = 0; i < t->tokens->len; i++) {
        Token *tok = g_ptr_array_index(t->tokens, i);
        if (vd_web_secret_equal(tok->hash, hash)) {
            *name = tok->name;
            *user = tok->user;
            return TRUE;
        }
    }
    return FALSE;
}

static Token *
find(VdWebTokens *t, const char *name, guint *index)
{
    for (guint i = 0; i < t->tokens->len; i++) {
        Token *tok = g_ptr_array_index(t->tokens, i);
        if (g_str_equal(tok->name, name)) {
            if (index)
                *index = i;
            return tok;
        }
    }
    return NULL;
}

static void
add_token(JsonBuilder *b, Token *tok)
{
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, tok->name);
    json_builder_set_member_name(b, "created");
    json_builder_add_int_value(b, tok->created);
    json_builder_set_member_name(b, "user");
    json_builder_add_string_value(b, tok->user);
}

/* Who asks, as the token's creator: the local account, or the TLS DN. */
static char *
creator(VdApiRequest *req)
{
    const VdApiIdentity *who = vd_api_conn_get_identity(req->msg);
    if (who && who->transport == VD_API_TRANSPORT_UNIX && who->uid >= 0) {
        struct passwd *pw = getpwuid((uid_t)who->uid);
        return pw ? g_strdup(pw->pw_name) : g_strdup_printf("uid %" G_GINT64_FORMAT, who->uid);
    }
    if (who && who->transport == VD_API_TRANSPORT_TLS)
        return g_strdup_printf("tls %s", who->dn ? who->dn : "");
    return g_strdup("unknown");
}

void
vd_web_tokens_dispatch(void *data, const char *method)
{
    VdApiRequest *req = data;
    VdWebTokens *t = req->d->web_tokens;
    g_autoptr(GError) error = NULL;
    const VdApiIdentity *who = vd_api_conn_get_identity(req->msg);

    if (who && who->transport == VD_API_TRANSPORT_WEB) {
        g_set_error(&error, VD_ERROR, VD_ERROR_DENIED,
                    "API tokens are managed on the host (vsh web-token), not over the web: a "
                    "web session must not make lasting credentials");
        vd_api_reply_error(req, error);
        return;
    }
    /* A token carries its maker's name, and a token made by root has
     * root's access on the web console (access/access.h). */
    if (!g_str_equal(method, "GET") &&
        !vd_access_require(req->d, req->msg, "making or revoking web API tokens", &error)) {
        vd_api_reply_error(req, error);
        return;
    }
    if (req->nsegments == 1 && g_str_equal(method, "GET")) {
        JsonBuilder *b = vd_api_list_begin("tokens");
        for (guint i = 0; i < t->tokens->len; i++) {
            json_builder_begin_object(b);
            add_token(b, g_ptr_array_index(t->tokens, i));
            json_builder_end_object(b);
        }
        vd_api_list_reply(req, b);
        g_object_unref(b);
        return;
    }
    if (req->nsegments == 1 && g_str_equal(method, "POST")) {
        g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
        const char *name = vd_api_body_string(body, "name");
        if (!error && !name_valid(name))
            g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid token name '%s': 1 to 64 letters, digits, '.', '-' or '_'",
                        name ? name : "");
        else if (!error && find(t, name, NULL))
            g_set_error(&error, VD_ERROR, VD_ERROR_EXISTS,
                        "a web token named '%s' exists already: revoke it first", name);
        else if (!error && t->tokens->len >= TOKENS_MAX)
            g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_STATE,
                        "%u web tokens exist, the most kept: revoke some", TOKENS_MAX);
        if (error) {
            vd_api_reply_error(req, error);
            return;
        }
        g_autofree char *rnd = vd_web_random_hex(32);
        g_autofree char *secret = g_strconcat(TOKEN_PREFIX, rnd, NULL);
        Token *tok = g_new0(Token, 1);
        tok->name = g_strdup(name);
        tok->hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, secret, -1);
        tok->created = g_get_real_time() / G_USEC_PER_SEC;
        tok->user = creator(req);
        g_ptr_array_add(t->tokens, tok);
        if (!save(t, &error)) {
            g_ptr_array_remove(t->tokens, tok);
            vd_api_reply_error(req, error);
            return;
        }
        g_message("web: API token '%s' created by %s", tok->name, tok->user);
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        add_token(b, tok);
        json_builder_set_member_name(b, "token");
        json_builder_add_string_value(b, secret);
        json_builder_end_object(b);
        explicit_bzero(secret, strlen(secret));
        vd_api_reply_json(req, 201, json_builder_get_root(b));
        return;
    }
    if (req->nsegments == 2 && g_str_equal(method, "DELETE")) {
        guint index = 0;
        Token *tok = find(t, req->segments[1], &index);
        if (!tok) {
            g_set_error(&error, VD_ERROR, VD_ERROR_NOT_FOUND, "no web token named '%s'",
                        req->segments[1]);
            vd_api_reply_error(req, error);
            return;
        }
        Token *gone = g_ptr_array_steal_index(t->tokens, index);
        if (!save(t, &error)) {
            g_ptr_array_insert(t->tokens, (gint)index, gone);
            vd_api_reply_error(req, error);
            return;
        }
        g_message("web: API token '%s' revoked", gone->name);
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        add_token(b, gone);
        json_builder_end_object(b);
        token_free(gone);
        vd_api_reply_json(req, 200, json_builder_get_root(b));
        return;
    }
    if (req->nsegments > 2) {
        g_set_error(&error, VD_ERROR, VD_ERROR_NOT_FOUND, "no API resource '%s'",
                    g_uri_get_path(soup_server_message_get_uri(req->msg)));
        vd_api_reply_error(req, error);
        return;
    }
    vd_api_reply_not_allowed(req, method);
}
