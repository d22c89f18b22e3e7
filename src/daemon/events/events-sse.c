/* GET /v1/events: the event bus (events.h) as server-sent events.
 *
 * One "data: {JSON}\n\n" per event, a ": keepalive" comment every
 * KEEPALIVE_S seconds (so that proxies and clients see a live connection,
 * and a gone client is noticed by a failed write). Filters: ?domain=NAME
 * (name or UUID), ?network=NAME, ?kind=K[,K...].
 *
 * A client that does not read never blocks the daemon nor grows it: the
 * frames libsoup has not yet written are counted, and past MAX_PENDING the
 * client is dropped (its connection cut) rather than queued for. */
#include "daemon/events/events.h"

#include "daemon/api/api-conn.h"
#include "daemon/api/api-internal.h"
#include "util/vd-error.h"

#define KEEPALIVE_S 15
/* Frames appended and not written: about 100 KiB of lifecycle events. */
#define MAX_PENDING 256

typedef struct {
    SoupServerMessage *msg; /* ref'd */
    char *domain;
    char *network;
    char **kinds; /* NULL: all */
    guint sub;
    guint keepalive;
    guint pending;
    gboolean dropped;
} SseClient;

static void
client_stop(SseClient *c)
{
    if (c->sub)
        vd_events_unsubscribe(c->sub);
    c->sub = 0;
    g_clear_handle_id(&c->keepalive, g_source_remove);
}

static void
client_free(SseClient *c)
{
    client_stop(c);
    g_signal_handlers_disconnect_by_data(c->msg, c);
    g_object_unref(c->msg);
    g_free(c->domain);
    g_free(c->network);
    g_strfreev(c->kinds);
    g_free(c);
}

static void
client_send(SseClient *c, GBytes *frame)
{
    if (c->dropped)
        return;
    if (c->pending >= MAX_PENDING) {
        g_warning("event stream: a client has not read its last %u events; dropping it",
                  c->pending);
        c->dropped = TRUE;
        client_stop(c);
        /* The connection is cut: libsoup's write fails and the message
         * finishes, freeing what it held. */
        vd_api_conn_abort(c->msg);
        soup_message_body_complete(soup_server_message_get_response_body(c->msg));
        soup_server_message_unpause(c->msg);
        return;
    }
    soup_message_body_append_bytes(soup_server_message_get_response_body(c->msg), frame);
    c->pending++;
    soup_server_message_unpause(c->msg);
}

static gboolean
wants(SseClient *c, const VdEvent *ev)
{
    if (c->domain && !ev->domain)
        return FALSE;
    if (c->network && !ev->network)
        return FALSE;
    if (c->domain && !g_str_equal(c->domain, ev->domain)) {
        /* by UUID: the frame holds it, quoted */
        g_autofree char *quoted = g_strdup_printf("\"uuid\":\"%s\"", c->domain);
        gsize len;
        const char *data = g_bytes_get_data(ev->sse, &len);
        if (!g_strstr_len(data, (gssize)len, quoted))
            return FALSE;
    }
    if (c->network && !g_str_equal(c->network, ev->network))
        return FALSE;
    if (c->kinds && !g_strv_contains((const char *const *)c->kinds, ev->kind))
        return FALSE;
    return TRUE;
}

static void
on_event(const VdEvent *ev, gpointer data)
{
    SseClient *c = data;
    if (wants(c, ev))
        client_send(c, ev->sse);
}

static gboolean
on_keepalive(gpointer data)
{
    SseClient *c = data;
    static const char ka[] = ": keepalive\n\n";
    g_autoptr(GBytes) frame = g_bytes_new_static(ka, sizeof ka - 1);
    client_send(c, frame);
    return c->dropped ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static void
on_wrote_chunk(SoupServerMessage *msg, gpointer data)
{
    SseClient *c = data;
    if (c->pending > 0)
        c->pending--;
}

static void
on_finished(SoupServerMessage *msg, gpointer data)
{
    client_free(data);
}

static const char *
query(VdApiRequest *req, const char *name)
{
    const char *v = req->query ? g_hash_table_lookup(req->query, name) : NULL;
    return v && *v ? v : NULL;
}

void
vd_api_events(VdApiRequest *req, const char *method)
{
    if (!g_str_equal(method, "GET")) {
        vd_api_reply_not_allowed(req, method);
        return;
    }
    SseClient *c = g_new0(SseClient, 1);
    c->msg = g_object_ref(req->msg);
    c->domain = g_strdup(query(req, "domain"));
    c->network = g_strdup(query(req, "network"));
    if (query(req, "kind"))
        c->kinds = g_strsplit(query(req, "kind"), ",", -1);

    SoupMessageHeaders *h = soup_server_message_get_response_headers(req->msg);
    soup_message_headers_set_encoding(h, SOUP_ENCODING_CHUNKED);
    soup_message_headers_set_content_type(h, "text/event-stream", NULL);
    soup_message_headers_replace(h, "Cache-Control", "no-cache");
    soup_message_body_set_accumulate(soup_server_message_get_response_body(req->msg), FALSE);
    /* An event stream may stay quiet for long; the keepalives are for the
     * client, the daemon's idle timeout must not cut it. */
    vd_api_conn_exempt(req->msg);
    soup_server_message_set_status(req->msg, 200, NULL);
    g_signal_connect(req->msg, "wrote-chunk", G_CALLBACK(on_wrote_chunk), c);
    g_signal_connect(req->msg, "finished", G_CALLBACK(on_finished), c);
    c->sub = vd_events_subscribe(on_event, c);
    c->keepalive = g_timeout_add_seconds(KEEPALIVE_S, on_keepalive, c);
    /* The headers go out at once, with a first comment: the client knows
     * from it that it is subscribed (events from now on reach it). */
    static const char hello[] = ": subscribed\n\n";
    g_autoptr(GBytes) frame = g_bytes_new_static(hello, sizeof hello - 1);
    soup_message_body_append_bytes(soup_server_message_get_response_body(req->msg), frame);
    c->pending++;
    vd_api_request_release(req);
}
