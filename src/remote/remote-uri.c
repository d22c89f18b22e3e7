/* Connection URIs (remote-uri.h): one parser for every transport, so vsh
 * -c, `vsh connect` and migrate's DESTURI refuse the same things with the
 * same words. Aliases and the default URI are in remote-config.c. */
#include "remote/remote-uri.h"

#include <string.h>

#include "util/vd-error.h"

#define VALID_FORMS                                                                                \
    "unix:///PATH/TO/virtd.sock, ssh://[USER@]HOST[:PORT][/PATH/TO/virtd.sock], "                  \
    "virtd+ssh://[USER@]HOST[:PORT]/system, tls://HOST[:PORT] or virtd+tls://HOST[:PORT]"

void
vd_remote_uri_free(VdRemoteUri *uri)
{
    if (!uri)
        return;
    g_free(uri->uri);
    g_free(uri->socket_path);
    g_free(uri->user);
    g_free(uri->host);
    g_free(uri->keyfile);
    g_free(uri->ssh_command);
    g_free(uri->pkipath);
    g_free(uri);
}

static gboolean refuse(GError **error, const char *uri, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean
refuse(GError **error, const char *uri, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *why = NULL;

    va_start(ap, fmt);
    why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, VD_ERROR, VD_ERROR_CONNECT, "unsupported connection URI '%s': %s", uri, why);
    return FALSE;
}

/* The query parameters each transport takes (libvirt's names). */
static const struct {
    const char *name;
    gboolean ssh;
    gboolean tls;
} params[] = {
    {"keyfile", TRUE, FALSE}, {"no_verify", TRUE, TRUE}, {"socket", TRUE, FALSE},
    {"command", TRUE, FALSE}, {"pkipath", FALSE, TRUE},
};

static gboolean
set_param(VdRemoteUri *out, const char *uri, const char *name, const char *value, GError **error)
{
    gboolean ssh = out->transport == VD_REMOTE_SSH;
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(params); i++)
        if (g_str_equal(params[i].name, name))
            break;
    if (i == G_N_ELEMENTS(params))
        return refuse(error, uri,
                      "unknown parameter '%s' (ssh:// takes keyfile=, no_verify=1, socket=, "
                      "command=; tls:// takes pkipath=, no_verify=1)",
                      name);
    if (out->transport == VD_REMOTE_UNIX || (ssh && !params[i].ssh) || (!ssh && !params[i].tls))
        return refuse(error, uri, "parameter '%s' does not apply to %s URIs (%s)", name,
                      out->transport == VD_REMOTE_UNIX ? "unix://"
                      : ssh                            ? "ssh://"
                                                       : "tls://",
                      out->transport == VD_REMOTE_UNIX ? "they take no parameters"
                      : ssh ? "they take keyfile=, no_verify=1, socket=, command="
                            : "they take pkipath=, no_verify=1");
    if (!*value)
        return refuse(error, uri, "parameter '%s' needs a value", name);
    if (g_str_equal(name, "no_verify")) {
        if (!g_str_equal(value, "0") && !g_str_equal(value, "1"))
            return refuse(error, uri, "no_verify must be 0 or 1, not '%s'", value);
        out->no_verify = g_str_equal(value, "1");
    } else if (g_str_equal(name, "socket")) {
        if (value[0] != '/')
            return refuse(error, uri, "socket= must be an absolute path, not '%s'", value);
        g_free(out->socket_path);
        out->socket_path = g_strdup(value);
    } else {
        char **slot = g_str_equal(name, "keyfile")   ? &out->keyfile
                      : g_str_equal(name, "command") ? &out->ssh_command
                                                     : &out->pkipath;
        g_free(*slot);
        *slot = g_strdup(value);
    }
    return TRUE;
}

/* The socket a ssh URI's path names: none, "/" or "/system" is the
 * default socket; "/session" has no meaning for virtd (one daemon per
 * root), refused with the fix. */
static gboolean
ssh_socket(VdRemoteUri *out, const char *uri, const char *path, GError **error)
{
    if (!*path || g_str_equal(path, "/") || g_str_equal(path, "/system")) {
        out->socket_path = g_strdup(VD_REMOTE_DEFAULT_SOCKET);
        return TRUE;
    }
    if (g_str_equal(path, "/session"))
        return refuse(error, uri,
                      "virtd has no session daemon; use /system for the host's daemon, or "
                      "ssh://HOST/PATH/TO/virtd.sock for a daemon with its own --root");
    if (out->transport == VD_REMOTE_SSH && g_str_has_prefix(out->uri, "virtd+ssh:"))
        return refuse(error, uri,
                      "virtd+ssh:// takes /system only; use ssh://HOST%s for another socket", path);
    out->socket_path = g_strdup(path);
    return TRUE;
}

/* ssh -L LOCAL:REMOTE splits at ':'. */
static gboolean
check_ssh_socket(VdRemoteUri *out, const char *uri, GError **error)
{
    if (strchr(out->socket_path, ':'))
        return refuse(error, uri,
                      "the remote socket path '%s' contains ':', which ssh cannot forward to; "
                      "use a path without ':'",
                      out->socket_path);
    return TRUE;
}

static gboolean
parse_query(VdRemoteUri *out, const char *uri, const char *query, GError **error)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    g_auto(GStrv) pairs = g_strsplit(query, "&", -1);

    for (guint i = 0; pairs[i]; i++) {
        g_autofree char *name = NULL;
        g_autofree char *value = NULL;
        char *eq = strchr(pairs[i], '=');

        if (!*pairs[i])
            continue;
        name = g_uri_unescape_segment(pairs[i], eq, NULL);
        value = eq ? g_uri_unescape_string(eq + 1, NULL) : g_strdup("");
        if (!name || !value)
            return refuse(error, uri, "bad percent-encoding in the query");
        if (g_hash_table_contains(seen, name))
            return refuse(error, uri, "parameter '%s' given twice", name);
        if (!set_param(out, uri, name, value, error))
            return FALSE;
        g_hash_table_add(seen, (char *)g_intern_string(name));
    }
    return TRUE;
}

static gboolean
parse_into(VdRemoteUri *out, const char *uri, GError **error)
{
    g_autoptr(GUri) parsed = NULL;
    g_autoptr(GError) local = NULL;
    const char *scheme;
    const char *host;
    const char *path;

    if (!strstr(uri, ":"))
        return refuse(error, uri, "expected %s", VALID_FORMS);
    parsed = g_uri_parse(uri, G_URI_FLAGS_HAS_PASSWORD | G_URI_FLAGS_ENCODED_QUERY, &local);
    if (!parsed && g_error_matches(local, G_URI_ERROR, G_URI_ERROR_BAD_PORT))
        return refuse(error, uri, "the port must be a number from 1 to 65535");
    if (!parsed)
        return refuse(error, uri, "%s; expected %s", local->message, VALID_FORMS);
    scheme = g_uri_get_scheme(parsed);
    host = g_uri_get_host(parsed);
    path = g_uri_get_path(parsed);
    if (g_str_equal(scheme, "unix"))
        out->transport = VD_REMOTE_UNIX;
    else if (g_str_equal(scheme, "ssh") || g_str_equal(scheme, "virtd+ssh"))
        out->transport = VD_REMOTE_SSH;
    else if (g_str_equal(scheme, "tls") || g_str_equal(scheme, "virtd+tls"))
        out->transport = VD_REMOTE_TLS;
    else if (g_str_has_prefix(scheme, "qemu+") || g_str_has_prefix(scheme, "virtd+"))
        return refuse(error, uri,
                      "unknown scheme '%s': virtd's transports are virtd+ssh:// (libvirt's "
                      "qemu+ssh://) and virtd+tls:// (qemu+tls://); expected %s",
                      scheme, VALID_FORMS);
    else if (g_str_equal(scheme, "qemu"))
        return refuse(error, uri,
                      "libvirt's qemu:// URIs name libvirtd; the local virtd is "
                      "unix://" VD_REMOTE_DEFAULT_SOCKET " (the default: omit -c)");
    else
        return refuse(error, uri, "unknown scheme '%s'; expected %s", scheme, VALID_FORMS);
    if (g_uri_get_fragment(parsed))
        return refuse(error, uri, "a fragment (#...) has no meaning; expected %s", VALID_FORMS);
    if (g_uri_get_password(parsed))
        return refuse(error, uri,
                      "passwords do not go in URIs; ssh asks for one on the terminal (or use "
                      "a key: ?keyfile=, ssh-agent)");

    if (out->transport == VD_REMOTE_UNIX) {
        if (host && *host)
            return refuse(error, uri,
                          "unix:// takes no host (unix:///PATH/TO/virtd.sock); for a remote "
                          "host use ssh://[USER@]HOST/PATH/TO/virtd.sock");
        if (g_uri_get_query(parsed))
            return refuse(error, uri, "unix:// URIs take no parameters");
        if (!path || path[0] != '/' || path[1] == '\0')
            return refuse(error, uri, "the socket path must be absolute");
        out->socket_path = g_strdup(path);
        return TRUE;
    }

    if (!host || !*host)
        return refuse(error, uri, "%s:// needs a host; expected %s", scheme, VALID_FORMS);
    out->host = g_strdup(host);
    if (g_uri_get_port(parsed) == 0)
        return refuse(error, uri, "port 0 is not a port");
    if (g_uri_get_port(parsed) > 0)
        out->port = (guint16)g_uri_get_port(parsed);
    if (out->transport == VD_REMOTE_SSH) {
        if (g_uri_get_user(parsed) && *g_uri_get_user(parsed))
            out->user = g_strdup(g_uri_get_user(parsed));
        out->ssh_command = g_strdup("ssh");
        if (!ssh_socket(out, uri, path ? path : "", error))
            return FALSE;
    } else {
        if (g_uri_get_user(parsed))
            return refuse(error, uri,
                          "tls:// takes no user: the client certificate says who you are");
        if (path && *path && !g_str_equal(path, "/") && !g_str_equal(path, "/system"))
            return refuse(error, uri,
                          "tls:// takes no path but /system (the daemon listening "
                          "on HOST:PORT is the one you get)");
        if (!out->port)
            out->port = VD_REMOTE_TLS_DEFAULT_PORT;
    }
    if (g_uri_get_query(parsed) && !parse_query(out, uri, g_uri_get_query(parsed), error))
        return FALSE;
    if (out->transport == VD_REMOTE_SSH && !check_ssh_socket(out, uri, error))
        return FALSE;
    return TRUE;
}

VdRemoteUri *
vd_remote_uri_parse(const char *uri, GError **error)
{
    g_autoptr(VdRemoteUri) out = g_new0(VdRemoteUri, 1);

    out->uri = g_strdup(uri);
    if (!parse_into(out, uri, error))
        return NULL;
    return g_steal_pointer(&out);
}

char *
vd_remote_uri_describe(const VdRemoteUri *uri)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "transport=%s\n",
                           uri->transport == VD_REMOTE_UNIX  ? "unix"
                           : uri->transport == VD_REMOTE_SSH ? "ssh"
                                                             : "tls");
    if (uri->socket_path)
        g_string_append_printf(s, "socket=%s\n", uri->socket_path);
    if (uri->user)
        g_string_append_printf(s, "user=%s\n", uri->user);
    if (uri->host)
        g_string_append_printf(s, "host=%s\n", uri->host);
    if (uri->port)
        g_string_append_printf(s, "port=%u\n", uri->port);
    if (uri->keyfile)
        g_string_append_printf(s, "keyfile=%s\n", uri->keyfile);
    if (uri->ssh_command)
        g_string_append_printf(s, "command=%s\n", uri->ssh_command);
    if (uri->no_verify)
        g_string_append(s, "no_verify=1\n");
    if (uri->pkipath)
        g_string_append_printf(s, "pkipath=%s\n", uri->pkipath);
    return g_string_free(s, FALSE);
}
