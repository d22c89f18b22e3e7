/* vsh's configuration file (remote-uri.h): libvirt.conf's syntax for the
 * two settings vsh reads from it,
 *
 *   uri_default = "URI"
 *   uri_aliases = [
 *     "hail=ssh://root@hail.example.org/system",   # comments anywhere
 *     "sleet=tls://sleet.example.org",
 *   ]
 *
 * Other keys are ignored (the file may be shared with other settings);
 * anything that is not `KEY = "STRING"` or `KEY = [ "STRING", ... ]` is
 * refused naming the file and line, as a typo in an alias must not send
 * vsh somewhere else. */
#include "remote/remote-uri.h"

#include <string.h>

#include "util/vd-error.h"

typedef struct {
    const char *path;
    const char *p;
    guint line;
    char *uri_default;
    GPtrArray *aliases; /* "NAME=URI" */
} Reader;

static void
skip_blanks(Reader *r)
{
    for (;;) {
        if (*r->p == '\n') {
            r->line++;
            r->p++;
        } else if (g_ascii_isspace(*r->p)) {
            r->p++;
        } else if (*r->p == '#') {
            while (*r->p && *r->p != '\n')
                r->p++;
        } else {
            return;
        }
    }
}

static gboolean
syntax(Reader *r, GError **error, const char *what)
{
    g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                "%s:%u: %s (expected KEY = \"STRING\" or KEY = [ \"STRING\", ... ], as in "
                "libvirt.conf)",
                r->path, r->line, what);
    return FALSE;
}

static char *
read_string(Reader *r, GError **error)
{
    GString *s = g_string_new(NULL);

    r->p++; /* the opening quote */
    while (*r->p && *r->p != '"' && *r->p != '\n') {
        if (*r->p == '\\' && r->p[1] && r->p[1] != '\n')
            r->p++;
        g_string_append_c(s, *r->p++);
    }
    if (*r->p != '"') {
        g_string_free(s, TRUE);
        syntax(r, error, "unterminated string");
        return NULL;
    }
    r->p++;
    return g_string_free(s, FALSE);
}

static gboolean
read_entry(Reader *r, GError **error)
{
    const char *start = r->p;
    g_autofree char *key = NULL;

    while (g_ascii_isalnum(*r->p) || *r->p == '_')
        r->p++;
    if (r->p == start)
        return syntax(r, error, "expected a setting name");
    key = g_strndup(start, r->p - start);
    skip_blanks(r);
    if (*r->p != '=')
        return syntax(r, error, "expected '=' after the setting name");
    r->p++;
    skip_blanks(r);
    if (*r->p == '"') {
        char *value = read_string(r, error);

        if (!value)
            return FALSE;
        if (g_str_equal(key, "uri_default")) {
            g_free(r->uri_default);
            r->uri_default = value;
        } else {
            g_free(value);
        }
        return TRUE;
    }
    if (*r->p != '[')
        return syntax(r, error, "expected a string or a list");
    r->p++;
    for (;;) {
        char *value;

        skip_blanks(r);
        if (*r->p == ']') {
            r->p++;
            return TRUE;
        }
        if (*r->p != '"')
            return syntax(r, error, "expected a string or ']' in the list");
        if (!(value = read_string(r, error)))
            return FALSE;
        if (g_str_equal(key, "uri_aliases"))
            g_ptr_array_add(r->aliases, value);
        else
            g_free(value);
        skip_blanks(r);
        if (*r->p == ',')
            r->p++;
        else if (*r->p != ']')
            return syntax(r, error, "expected ',' or ']' in the list");
    }
}

/* The settings of @path into @r; a missing file is an empty one. */
static gboolean
read_config(Reader *r, const char *path, GError **error)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) local = NULL;

    r->path = path;
    r->line = 1;
    r->aliases = g_ptr_array_new_with_free_func(g_free);
    if (!g_file_get_contents(path, &text, NULL, &local)) {
        if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return TRUE;
        g_set_error(error, VD_ERROR, VD_ERROR_CONNECT, "cannot read vsh configuration '%s': %s",
                    path, local->message);
        return FALSE;
    }
    r->p = text;
    for (;;) {
        skip_blanks(r);
        if (!*r->p)
            break;
        if (!read_entry(r, error))
            return FALSE;
    }
    r->p = NULL;
    return TRUE;
}

static void
reader_clear(Reader *r)
{
    g_free(r->uri_default);
    if (r->aliases)
        g_ptr_array_unref(r->aliases);
}

char *
vd_remote_config_path(void)
{
    const char *env = g_getenv("VSH_CONFIG");
    g_autofree char *user = NULL;

    if (env && *env)
        return g_strdup(env);
    user = g_build_filename(g_get_user_config_dir(), "vsh", "vsh.conf", NULL);
    if (g_file_test(user, G_FILE_TEST_EXISTS))
        return g_steal_pointer(&user);
    return g_strdup(VD_REMOTE_SYSTEM_CONFIG);
}

/* libvirt's rule for alias names: letters, digits, '_', '-', '.'. */
static gboolean
is_alias_name(const char *s, gsize len)
{
    if (len == 0)
        return FALSE;
    for (gsize i = 0; i < len; i++)
        if (!g_ascii_isalnum(s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return FALSE;
    return TRUE;
}

char *
vd_remote_uri_expand(const char *name_or_uri, const char *config_path, GError **error)
{
    g_autofree char *path = config_path ? g_strdup(config_path) : vd_remote_config_path();
    Reader r = {0};
    g_autofree char *found = NULL;

    if (strchr(name_or_uri, ':'))
        return g_strdup(name_or_uri);
    if (!is_alias_name(name_or_uri, strlen(name_or_uri))) {
        g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                    "'%s' is neither a connection URI (unix:///PATH, ssh://HOST/..., "
                    "tls://HOST) nor an alias name (letters, digits, '_', '-', '.')",
                    name_or_uri);
        return NULL;
    }
    if (!read_config(&r, path, error)) {
        reader_clear(&r);
        return NULL;
    }
    for (guint i = 0; i < r.aliases->len; i++) {
        const char *entry = g_ptr_array_index(r.aliases, i);
        const char *eq = strchr(entry, '=');

        if (!eq || !is_alias_name(entry, eq - entry) || !eq[1]) {
            g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                        "%s: malformed uri_aliases entry '%s' (expected \"NAME=URI\", NAME "
                        "of letters, digits, '_', '-', '.')",
                        path, entry);
            reader_clear(&r);
            return NULL;
        }
        /* The first match wins, as in libvirt. */
        if (!found && (gsize)(eq - entry) == strlen(name_or_uri) &&
            strncmp(entry, name_or_uri, eq - entry) == 0)
            found = g_strdup(eq + 1);
    }
    reader_clear(&r);
    if (!found)
        g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                    "no connection URI alias '%s' in '%s' (add \"%s=URI\" to its uri_aliases, "
                    "or give a URI such as ssh://HOST/system)",
                    name_or_uri, path, name_or_uri);
    return g_steal_pointer(&found);
}

char *
vd_remote_uri_resolve(const char *given, const char *config_path, GError **error)
{
    g_autofree char *path = config_path ? g_strdup(config_path) : vd_remote_config_path();
    g_autofree char *chosen = NULL;
    const char *env = g_getenv("VSH_DEFAULT_URI");

    if (given && *given) {
        chosen = g_strdup(given);
    } else if (env && *env) {
        chosen = g_strdup(env);
    } else {
        Reader r = {0};

        if (!read_config(&r, path, error)) {
            reader_clear(&r);
            return NULL;
        }
        chosen = g_strdup(r.uri_default ? r.uri_default : "unix://" VD_REMOTE_DEFAULT_SOCKET);
        reader_clear(&r);
    }
    return vd_remote_uri_expand(chosen, path, error);
}

char *
vd_remote_uri_default(const char *config_path)
{
    g_autofree char *path = config_path ? g_strdup(config_path) : vd_remote_config_path();
    const char *env = g_getenv("VSH_DEFAULT_URI");
    Reader r = {0};
    char *out;

    if (env && *env)
        return g_strdup(env);
    if (read_config(&r, path, NULL) && r.uri_default && *r.uri_default)
        out = g_strdup(r.uri_default);
    else
        out = g_strdup("unix://" VD_REMOTE_DEFAULT_SOCKET);
    reader_clear(&r);
    return out;
}
