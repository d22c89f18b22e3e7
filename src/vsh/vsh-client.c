/* HTTP client of vsh: a VdRemote (remote/remote.h) whatever the
 * transport (the local socket, an ssh tunnel, TLS), so every request goes
 * to vd_remote_url(). Requests are synchronous; the CLI has nothing else
 * to do while it waits. Connection failures are reported by remote/ with
 * virsh's wording ("Failed to connect socket to 'PATH': ERRNO") or the
 * transport's own reason (ssh's last words, the TLS check that failed).
 */
#include "vsh-client.h"

#include <string.h>

#include "remote/remote.h"
#include "util/vd-error.h"

struct _VshClient {
    char *uri;
    VdRemote *remote;
};

gboolean
vsh_uri_socket_path(const char *uri, char **path, GError **error)
{
    g_autoptr(VdRemoteUri) parsed = vd_remote_uri_parse(uri, error);

    if (!parsed)
        return FALSE;
    if (parsed->transport != VD_REMOTE_UNIX) {
        g_set_error(error, VD_ERROR, VD_ERROR_CONNECT,
                    "'%s' is not a local socket URI (unix:///PATH/TO/virtd.sock)", uri);
        return FALSE;
    }
    *path = g_strdup(parsed->socket_path);
    return TRUE;
}

VshClient *
vsh_client_new(const char *uri, GError **error)
{
    g_autoptr(VdRemoteUri) parsed = vd_remote_uri_parse(uri, error);
    VdRemote *remote;
    VshClient *client;

    /* An ssh:// URI logs in here (bounded), so a wrong key or a missing
     * socket is reported before the first command's request. */
    if (!parsed || !(remote = vd_remote_open(parsed, NULL, error)))
        return NULL;
    client = g_new0(VshClient, 1);
    client->uri = g_strdup(uri);
    client->remote = remote;
    return client;
}

void
vsh_client_free(VshClient *client)
{
    if (!client)
        return;
    vd_remote_free(client->remote);
    g_free(client->uri);
    g_free(client);
}

const char *
vsh_client_uri(const VshClient *client)
{
    return client->uri;
}

const char *
vsh_client_socket_path(const VshClient *client)
{
    return vd_remote_local_socket(client->remote);
}

SoupSession *
vsh_client_session(const VshClient *client)
{
    return vd_remote_session(client->remote);
}

VdRemote *
vsh_client_remote(const VshClient *client)
{
    return client->remote;
}

char *
vsh_client_url(const VshClient *client, const char *path)
{
    return vd_remote_url(client->remote, path);
}

void
vsh_client_set_transport_error(const VshClient *client, const GError *cause, GError **error)
{
    vd_remote_set_transport_error(client->remote, cause, error);
}

/* The API's error body, {"error": {"code": ..., "message": ...}}. */
static void
set_api_error(SoupMessage *msg, GBytes *body, GError **error)
{
    guint status = soup_message_get_status(msg);
    g_autoptr(JsonParser) parser = json_parser_new();
    gsize len = 0;
    const char *data = body ? g_bytes_get_data(body, &len) : NULL;
    JsonNode *root;

    if (data && len > 0 && json_parser_load_from_data(parser, data, (gssize)len, NULL) &&
        (root = json_parser_get_root(parser)) && JSON_NODE_HOLDS_OBJECT(root)) {
        JsonObject *obj = json_node_get_object(root);
        JsonNode *err = json_object_get_member(obj, "error");

        if (err && JSON_NODE_HOLDS_OBJECT(err)) {
            JsonObject *e = json_node_get_object(err);
            const char *code = vsh_json_string(e, "code", NULL);
            const char *message = vsh_json_string(e, "message", NULL);

            g_set_error_literal(error, VD_ERROR, vd_error_code_from_string(code),
                                message ? message
                                : code  ? code
                                        : "unknown error");
            return;
        }
    }
    g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "unexpected answer from virtd: HTTP %u %s",
                status,
                soup_message_get_reason_phrase(msg) ? soup_message_get_reason_phrase(msg) : "");
}

void
vsh_client_set_api_error(SoupMessage *msg, GBytes *body, GError **error)
{
    set_api_error(msg, body, error);
}

GBytes *
vsh_client_send(VshClient *client, const char *method, const char *path, const char *content_type,
                GBytes *body, char **content_type_out, GError **error)
{
    g_autofree char *url = vsh_client_url(client, path);
    g_autoptr(SoupMessage) msg = soup_message_new(method, url);
    g_autoptr(GError) local = NULL;
    g_autoptr(GBytes) answer = NULL;
    guint status;

    if (!msg) {
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "invalid API path '%s'", path);
        return NULL;
    }
    soup_message_headers_append(soup_message_get_request_headers(msg), "Accept",
                                "application/json, application/xml");
    if (body)
        soup_message_set_request_body_from_bytes(msg, content_type, body);

    answer = soup_session_send_and_read(vsh_client_session(client), msg, NULL, &local);
    if (!answer) {
        vsh_client_set_transport_error(client, local, error);
        return NULL;
    }
    status = soup_message_get_status(msg);
    if (status < 200 || status >= 300) {
        set_api_error(msg, answer, error);
        return NULL;
    }
    if (content_type_out) {
        const char *ct =
            soup_message_headers_get_content_type(soup_message_get_response_headers(msg), NULL);
        *content_type_out = g_strdup(ct);
    }
    return g_steal_pointer(&answer);
}

JsonNode *
vsh_client_send_for_json(VshClient *client, const char *method, const char *path,
                         const char *content_type, GBytes *body, GError **error)
{
    g_autoptr(GBytes) answer = NULL;
    g_autoptr(JsonParser) parser = NULL;
    g_autoptr(GError) local = NULL;
    gsize len = 0;
    const char *data;
    JsonNode *root;

    answer = vsh_client_send(client, method, path, content_type, body, NULL, error);
    if (!answer)
        return NULL;

    data = g_bytes_get_data(answer, &len);
    parser = json_parser_new();
    if (!json_parser_load_from_data(parser, data ? data : "", (gssize)len, &local) ||
        !(root = json_parser_get_root(parser)) || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "unexpected answer from virtd to %s %s: %s",
                    method, path, local ? local->message : "not a JSON object");
        return NULL;
    }
    return json_node_copy(root);
}

JsonNode *
vsh_client_call(VshClient *client, const char *method, const char *path, JsonNode *body,
                GError **error)
{
    g_autoptr(GBytes) request = NULL;

    if (body) {
        char *text = json_to_string(body, FALSE);

        request = g_bytes_new_take(text, strlen(text));
    }
    return vsh_client_send_for_json(client, method, path, "application/json", request, error);
}

/* virsh reports an unknown domain as "failed to get domain 'x'", naming
 * what the user typed; scripts grep for it. */
static void
propagate_domain_error(GError *local, const char *dom, GError **error)
{
    if (g_error_matches(local, VD_ERROR, VD_ERROR_NO_DOMAIN))
        g_set_error(error, VD_ERROR, VD_ERROR_NO_DOMAIN, "failed to get domain '%s'", dom);
    else
        g_propagate_error(error, g_error_copy(local));
}

char *
vsh_domain_path(const char *dom, const char *suffix)
{
    g_autofree char *escaped = g_uri_escape_string(dom, NULL, FALSE);

    return g_strconcat("/v1/domains/", escaped, suffix, NULL);
}

JsonNode *
vsh_domain_call(VshCtl *ctl, const char *method, const char *dom, const char *suffix,
                JsonNode *body, GError **error)
{
    g_autofree char *path = vsh_domain_path(dom, suffix);
    g_autoptr(GError) local = NULL;
    VshClient *client = vsh_ctl_client(ctl, error);
    JsonNode *answer;

    if (!client)
        return NULL;
    answer = vsh_client_call(client, method, path, body, &local);
    if (!answer)
        propagate_domain_error(local, dom, error);
    return answer;
}

GBytes *
vsh_domain_get_bytes(VshCtl *ctl, const char *dom, const char *suffix, GError **error)
{
    g_autofree char *path = vsh_domain_path(dom, suffix);
    g_autoptr(GError) local = NULL;
    VshClient *client = vsh_ctl_client(ctl, error);
    GBytes *answer;

    if (!client)
        return NULL;
    answer = vsh_client_send(client, "GET", path, NULL, NULL, NULL, &local);
    if (!answer)
        propagate_domain_error(local, dom, error);
    return answer;
}

JsonObject *
vsh_json_domain(JsonNode *answer)
{
    JsonObject *root;
    JsonNode *dom;

    if (!answer || !JSON_NODE_HOLDS_OBJECT(answer))
        return NULL;
    root = json_node_get_object(answer);
    dom = json_object_get_member(root, "domain");
    if (dom && JSON_NODE_HOLDS_OBJECT(dom))
        return json_node_get_object(dom);
    if (json_object_has_member(root, "name"))
        return root;
    return NULL;
}

const char *
vsh_json_string(JsonObject *obj, const char *member, const char *fallback)
{
    JsonNode *node = obj ? json_object_get_member(obj, member) : NULL;

    if (!node || !JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING)
        return fallback;
    return json_node_get_string(node);
}

gint64
vsh_json_int(JsonObject *obj, const char *member, gint64 fallback)
{
    JsonNode *node = obj ? json_object_get_member(obj, member) : NULL;

    if (!node || !JSON_NODE_HOLDS_VALUE(node))
        return fallback;
    switch (json_node_get_value_type(node)) {
    case G_TYPE_INT64:
        return json_node_get_int(node);
    case G_TYPE_DOUBLE:
        return (gint64)json_node_get_double(node);
    default:
        return fallback;
    }
}

gboolean
vsh_json_bool(JsonObject *obj, const char *member, gboolean fallback)
{
    JsonNode *node = obj ? json_object_get_member(obj, member) : NULL;

    if (!node || !JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_BOOLEAN)
        return fallback;
    return json_node_get_boolean(node);
}

JsonObject *
vsh_json_root(JsonNode *answer)
{
    return answer && JSON_NODE_HOLDS_OBJECT(answer) ? json_node_get_object(answer) : NULL;
}

JsonArray *
vsh_json_array(JsonObject *obj, const char *member)
{
    JsonNode *node = obj ? json_object_get_member(obj, member) : NULL;

    return node && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
}

JsonObject *
vsh_json_array_object(JsonArray *array, guint i)
{
    JsonNode *node = json_array_get_element(array, i);

    return node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

void
vsh_print_warnings(JsonNode *answer)
{
    JsonNode *warnings;
    JsonArray *array;

    if (!answer || !JSON_NODE_HOLDS_OBJECT(answer))
        return;
    warnings = json_object_get_member(json_node_get_object(answer), "warnings");
    if (!warnings || !JSON_NODE_HOLDS_ARRAY(warnings))
        return;
    array = json_node_get_array(warnings);
    for (guint i = 0; i < json_array_get_length(array); i++) {
        JsonNode *w = json_array_get_element(array, i);

        if (JSON_NODE_HOLDS_VALUE(w) && json_node_get_value_type(w) == G_TYPE_STRING)
            vsh_warn("%s", json_node_get_string(w));
    }
}
