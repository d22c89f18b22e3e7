/* The source daemon's calls to the destination daemon over remote/
 * (migration-flow.h): JSON requests with libsoup's asynchronous API, so
 * that the main loop never waits on the peer. */
#include "migration-flow.h"

#include "util/vd-error.h"

/* A peer that never answers (a cut link, a stopped daemon) must not hold
 * a migration forever: each call is given up after this long. Prepare is
 * the longest (the incoming QEMU's start), bounded by the start itself. */
#define PEER_TIMEOUT_S 120

typedef struct {
    VdRemote *remote; /* borrowed: the flow keeps it until every call is answered */
    SoupMessage *msg;
    GCancellable *cancel;
    guint timer;
    gboolean timed_out;
    VdMigrationPeerReply reply;
    gpointer user_data;
} PeerCall;

/* The API's error body, {"error": {"code", "message"}}, as a GError. */
static GError *
error_from_answer(const VdRemote *remote, guint status, GBytes *bytes)
{
    const char *uri = vd_remote_uri(remote)->uri;
    g_autoptr(JsonParser) parser = json_parser_new();
    gsize len = 0;
    const char *data = bytes ? g_bytes_get_data(bytes, &len) : NULL;
    if (data && len && json_parser_load_from_data(parser, data, (gssize)len, NULL)) {
        JsonNode *root = json_parser_get_root(parser);
        JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
        JsonNode *e = o ? json_object_get_member(o, "error") : NULL;
        if (e && JSON_NODE_HOLDS_OBJECT(e)) {
            JsonObject *eo = json_node_get_object(e);
            const char *code = json_object_get_string_member_with_default(eo, "code", "internal");
            const char *message = json_object_get_string_member_with_default(eo, "message", "");
            /* The destination's own words: they name the thing and the
             * fix already; only say where they come from. */
            return g_error_new(VD_ERROR, vd_error_code_from_string(code), "%s (destination %s)",
                               message, uri);
        }
    }
    return g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                       "operation failed: the destination %s answered HTTP %u", uri, status);
}

static void
deliver(PeerCall *call, GBytes *bytes, const GError *transport)
{
    if (!bytes && call->timed_out) {
        g_autoptr(GError) e =
            g_error_new(VD_ERROR, VD_ERROR_TIMEOUT,
                        "operation failed: the destination %s did not answer %s %s within %d s",
                        vd_remote_uri(call->remote)->uri, soup_message_get_method(call->msg),
                        g_uri_get_path(soup_message_get_uri(call->msg)), PEER_TIMEOUT_S);
        call->reply(NULL, e, FALSE, call->user_data);
        return;
    }
    if (!bytes) {
        g_autoptr(GError) e = NULL;
        vd_remote_set_transport_error(call->remote, transport, &e);
        call->reply(NULL, e, FALSE, call->user_data);
        return;
    }
    guint status = soup_message_get_status(call->msg);
    if (status < 200 || status >= 300) {
        g_autoptr(GError) e = error_from_answer(call->remote, status, bytes);
        call->reply(NULL, e, TRUE, call->user_data);
        return;
    }
    gsize len = 0;
    const char *text = g_bytes_get_data(bytes, &len);
    if (!len) {
        call->reply(NULL, NULL, TRUE, call->user_data);
        return;
    }
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;
    if (!json_parser_load_from_data(parser, text, (gssize)len, &error)) {
        g_autoptr(GError) e =
            g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "operation failed: the destination %s answered something not JSON: %s",
                        vd_remote_uri(call->remote)->uri, error->message);
        call->reply(NULL, e, TRUE, call->user_data);
        return;
    }
    call->reply(json_parser_get_root(parser), NULL, TRUE, call->user_data);
}

static void
sent(GObject *source, GAsyncResult *res, gpointer data)
{
    PeerCall *call = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) bytes = soup_session_send_and_read_finish(SOUP_SESSION(source), res, &error);
    g_clear_handle_id(&call->timer, g_source_remove);
    deliver(call, bytes, error);
    g_object_unref(call->msg);
    g_object_unref(call->cancel);
    g_free(call);
}

static gboolean
timed_out(gpointer data)
{
    PeerCall *call = data;
    call->timer = 0;
    call->timed_out = TRUE;
    g_cancellable_cancel(call->cancel);
    return G_SOURCE_REMOVE;
}

void
vd_migration_peer_call(VdRemote *remote, const char *method, const char *path, JsonNode *body,
                       VdMigrationPeerReply reply, gpointer user_data)
{
    g_autofree char *url = vd_remote_url(remote, path);
    PeerCall *call = g_new0(PeerCall, 1);
    call->remote = remote;
    call->reply = reply;
    call->user_data = user_data;
    call->msg = soup_message_new(method, url);
    if (body) {
        g_autoptr(JsonGenerator) gen = json_generator_new();
        json_generator_set_root(gen, body);
        gsize len = 0;
        char *text = json_generator_to_data(gen, &len);
        g_autoptr(GBytes) bytes = g_bytes_new_take(text, len);
        soup_message_set_request_body_from_bytes(call->msg, "application/json", bytes);
    }
    call->cancel = g_cancellable_new();
    call->timer = g_timeout_add_seconds(PEER_TIMEOUT_S, timed_out, call);
    soup_session_send_and_read_async(vd_remote_session(remote), call->msg, G_PRIORITY_DEFAULT,
                                     call->cancel, sent, call);
}
