/* Request bodies: their size limit, enforced before they are held, and
 * the one place a body becomes text or JSON.
 *
 * libsoup reads a whole body before the normal handler runs, holding it
 * in memory, and goes on reading it even when an early handler has
 * already set an error status (only "Expect: 100-continue" stops it). So
 * a body over the limit is refused by taking the connection from libsoup
 * (soup_server_message_steal_connection), writing the error ourselves and
 * closing after a short lingering read: at the headers when Content-Length
 * says so, or at the chunk that passes the limit for a chunked body.
 * Volume data is streamed and never held (api-storage-data.c): it has no
 * limit. */
#include <string.h>

#include "daemon/api/api-conn.h"
#include "daemon/api/api-internal.h"
#include "util/vd-error.h"
#include "daemon/api/api-parse.h"

/* After the refusal, what the client still sends is read and dropped for
 * a while before closing ("lingering close", as Apache and nginx do): a
 * client that writes its whole body before reading (libsoup's, so vsh;
 * Python's http.client) would otherwise get a broken pipe instead of the
 * answer. Bounded, so a huge body is still cut early. */
#define LINGER_MAX_BYTES (16 * 1024 * 1024)
#define LINGER_MAX_SECONDS 5
#define LINGER_BUF (64 * 1024)

typedef struct {
    GIOStream *stream;
    GSocket *socket; /* to shut down the sending side; may be NULL */
    char *text;
    char *buf;
    gsize dropped;
    GCancellable *cancel;
    guint timeout_id;
} Refusal;

static void
refusal_free(Refusal *r)
{
    g_clear_handle_id(&r->timeout_id, g_source_remove);
    g_object_unref(r->cancel);
    g_clear_object(&r->socket);
    g_object_unref(r->stream);
    g_free(r->text);
    g_free(r->buf);
    g_free(r);
}

static void
on_refusal_closed(GObject *source, GAsyncResult *res, gpointer data)
{
    g_io_stream_close_finish(G_IO_STREAM(source), res, NULL);
    refusal_free(data);
}

static void
refusal_close(Refusal *r)
{
    g_clear_handle_id(&r->timeout_id, g_source_remove);
    g_io_stream_close_async(r->stream, G_PRIORITY_DEFAULT, NULL, on_refusal_closed, r);
}

static gboolean
on_linger_timeout(gpointer data)
{
    Refusal *r = data;
    r->timeout_id = 0;
    g_cancellable_cancel(r->cancel); /* on_dropped closes */
    return G_SOURCE_REMOVE;
}

static void
on_dropped(GObject *source, GAsyncResult *res, gpointer data)
{
    Refusal *r = data;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, NULL);

    if (n <= 0 || (r->dropped += (gsize)n) >= LINGER_MAX_BYTES) {
        refusal_close(r);
        return;
    }
    g_input_stream_read_async(G_INPUT_STREAM(source), r->buf, LINGER_BUF, G_PRIORITY_DEFAULT,
                              r->cancel, on_dropped, r);
}

static void
on_refusal_written(GObject *source, GAsyncResult *res, gpointer data)
{
    Refusal *r = data;
    /* A client that went away gets nothing: it is closed all the same. */
    if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, NULL) || !r->socket ||
        !g_socket_shutdown(r->socket, FALSE, TRUE, NULL)) {
        refusal_close(r);
        return;
    }
    r->buf = g_malloc(LINGER_BUF);
    r->timeout_id = g_timeout_add_seconds(LINGER_MAX_SECONDS, on_linger_timeout, r);
    g_input_stream_read_async(g_io_stream_get_input_stream(r->stream), r->buf, LINGER_BUF,
                              G_PRIORITY_DEFAULT, r->cancel, on_dropped, r);
}

void
vd_api_refuse_and_close(SoupServerMessage *msg, const GError *error)
{
    guint status = 0;
    gsize len = 0;
    g_autofree char *body = vd_api_error_json(error, &status, &len);
    GSocket *socket = vd_api_conn_get_socket(msg);
    GIOStream *stream;

    g_debug("API %s %s: %s", soup_server_message_get_method(msg),
            g_uri_get_path(soup_server_message_get_uri(msg)), error->message);
    /* libsoup's reading stops here; the message is its own to free. */
    stream = soup_server_message_steal_connection(msg);
    if (!stream) {
        g_clear_object(&socket);
        return;
    }
    Refusal *r = g_new0(Refusal, 1);
    r->stream = stream;
    r->socket = socket;
    r->cancel = g_cancellable_new();
    r->text = g_strdup_printf("HTTP/1.1 %u %s\r\n"
                              "Server: virtd/" VD_VERSION "\r\n"
                              "Content-Type: application/json\r\n"
                              "Content-Length: %zu\r\n"
                              "Connection: close\r\n"
                              "\r\n"
                              "%s",
                              status, soup_status_get_phrase(status), len, body);
    g_output_stream_write_all_async(g_io_stream_get_output_stream(stream), r->text, strlen(r->text),
                                    G_PRIORITY_DEFAULT, NULL, on_refusal_written, r);
}

/* @len: the Content-Length, or -1 for a body whose size is not told. */
static GError *
too_large(goffset len)
{
    if (len < 0)
        return g_error_new(VD_ERROR, VD_ERROR_TOO_LARGE,
                           "request body is larger than the limit of %d bytes", VD_API_MAX_BODY);
    return g_error_new(VD_ERROR, VD_ERROR_TOO_LARGE,
                       "request body of %" G_GOFFSET_FORMAT
                       " bytes is larger than the limit of %d bytes",
                       len, VD_API_MAX_BODY);
}

/* What one message's body holds against the daemon's budget; given back
 * when the message (and so its body) is freed. */
typedef struct {
    VdDaemon *d;
    gsize bytes;
} BodyCharge;

static void
body_charge_free(gpointer data)
{
    BodyCharge *c = data;
    c->d->api_body_bytes -= c->bytes;
    g_free(c);
}

static void
on_body_chunk(SoupServerMessage *msg, GBytes *chunk, gpointer data)
{
    BodyCharge *c = data;
    SoupMessageBody *body = soup_server_message_get_request_body(msg);
    g_autoptr(GError) error = NULL;

    c->bytes += g_bytes_get_size(chunk);
    c->d->api_body_bytes += g_bytes_get_size(chunk);
    if (body->length > VD_API_MAX_BODY)
        error = too_large(-1);
    else if (c->d->api_body_bytes > VD_API_BODY_BUDGET)
        /* Each body may take 1 MiB, but thousands of clients sending
         * almost 1 MiB and never the last byte must not take gigabytes. */
        error = g_error_new(VD_ERROR, VD_ERROR_BUSY,
                            "the daemon is receiving %d MiB of request bodies already, its "
                            "limit: retry later",
                            VD_API_BODY_BUDGET >> 20);
    if (error) {
        g_signal_handlers_disconnect_by_func(msg, on_body_chunk, data);
        vd_api_refuse_and_close(msg, error);
    }
}

gboolean
vd_api_body_limit_early(VdDaemon *d, SoupServerMessage *msg)
{
    goffset len =
        soup_message_headers_get_content_length(soup_server_message_get_request_headers(msg));

    if (len > VD_API_MAX_BODY) {
        g_autoptr(GError) error = too_large(len);
        vd_api_refuse_and_close(msg, error);
        return FALSE;
    }
    /* Chunked (or lying): counted as it comes. */
    BodyCharge *c = g_new0(BodyCharge, 1);
    c->d = d;
    g_object_set_data_full(G_OBJECT(msg), "vd-body-charge", c, body_charge_free);
    g_signal_connect(msg, "got-chunk", G_CALLBACK(on_body_chunk), c);
    return TRUE;
}

/* The body as bytes. The limit was enforced while reading; checked again
 * in case a route ever skips the early handler. */
static const char *
body_data(VdApiRequest *req, GBytes **bytes, gsize *len, GError **error)
{
    SoupMessageBody *body = soup_server_message_get_request_body(req->msg);
    *bytes = soup_message_body_flatten(body);
    const char *data = g_bytes_get_data(*bytes, len);
    if (*len > VD_API_MAX_BODY) {
        g_propagate_error(error, too_large((goffset)*len));
        return NULL;
    }
    return data ? data : "";
}

char *
vd_api_body_text(VdApiRequest *req, GError **error)
{
    g_autoptr(GBytes) bytes = NULL;
    gsize len;
    const char *data = body_data(req, &bytes, &len, error);

    if (!data)
        return NULL;
    if (len == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "request body is empty: send the XML document");
        return NULL;
    }
    if (memchr(data, 0, len)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "request body contains a NUL byte");
        return NULL;
    }
    return g_strndup(data, len);
}

JsonObject *
vd_api_body_json(VdApiRequest *req, GError **error)
{
    g_autoptr(GBytes) bytes = NULL;
    gsize len;
    const char *data = body_data(req, &bytes, &len, error);

    return data ? vd_api_json_object_parse(data, len, error) : NULL;
}

gboolean
vd_api_body_bool(JsonObject *body, const char *name, gboolean *out, GError **error)
{
    JsonNode *node = body ? json_object_get_member(body, name) : NULL;

    if (!node)
        return TRUE;
    if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_BOOLEAN) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "\"%s\" must be true or false", name);
        return FALSE;
    }
    *out = json_node_get_boolean(node);
    return TRUE;
}

const char *
vd_api_body_string(JsonObject *body, const char *name)
{
    JsonNode *node = body ? json_object_get_member(body, name) : NULL;

    if (!node || !JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(node);
}

gboolean
vd_api_body_autostart(VdApiRequest *req, gboolean *on, GError **error)
{
    g_autoptr(JsonObject) body = vd_api_body_json(req, error);

    if (!body || !json_object_has_member(body, "autostart") ||
        !vd_api_body_bool(body, "autostart", on, NULL)) {
        if (error && !*error)
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "send {\"autostart\": true} or {\"autostart\": false}");
        return FALSE;
    }
    return TRUE;
}

void
vd_api_reply_domain(VdApiRequest *req, guint status, const VdDomainObj *dom)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "domain");
    vd_api_add_domain_summary(b, dom);
    json_builder_end_object(b);
    vd_api_reply_json(req, status, json_builder_get_root(b));
}
