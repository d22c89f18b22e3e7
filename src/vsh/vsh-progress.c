#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/vd-error.h"
#include "util/vd-units.h"
#include "vsh-progress.h"

#define POLL_INTERVAL_MS 250

void
vsh_progress_init(VshProgress *p, const char *verb, guint64 total)
{
    *p = (VshProgress){verb, total, 0, 0, isatty(STDERR_FILENO)};
}

void
vsh_progress_draw(VshProgress *p, gboolean final)
{
    gint64 now = g_get_monotonic_time();

    if (!p->tty || (!final && now - p->last_draw < 100000))
        return;
    p->last_draw = now;
    g_autofree char *done = vd_size_format_pretty(p->done);
    g_autofree char *total = vd_size_format_pretty(p->total);
    int pct = p->total ? (int)(p->done * 100 / p->total) : 100;
    int bar = pct / 4;
    /* \033[K: the line may be shorter than the last one drawn. */
    fprintf(stderr, "\r%s [%-25.*s] %3d%% %s of %s\033[K", p->verb, bar,
            "#########################", pct, done, total);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

typedef struct {
    SoupSession *session;
    const char *poll_path;
    VshPollFunc on_poll;
    gpointer data;
    GCancellable *poll_cancel;
    VshClient *client;
    gboolean polling; /* a GET in flight */
    gboolean done;    /* the POST answered */
    GBytes *answer;
    GError *transport_error;
} PollWait;

static SoupMessage *
message_new(VshClient *client, const char *method, const char *path)
{
    g_autofree char *url = vsh_client_url(client, path);
    SoupMessage *msg = soup_message_new(method, url);

    soup_message_headers_append(soup_message_get_request_headers(msg), "Accept",
                                "application/json");
    return msg;
}

static void
on_polled(GObject *source, GAsyncResult *res, gpointer data)
{
    PollWait *w = data;
    g_autoptr(GBytes) body = soup_session_send_and_read_finish(w->session, res, NULL);
    SoupMessage *msg = soup_session_get_async_result_message(w->session, res);
    g_autoptr(JsonParser) parser = json_parser_new();
    gsize len = 0;
    const char *text = body ? g_bytes_get_data(body, &len) : NULL;

    w->polling = FALSE;
    if (!text || w->done || soup_message_get_status(msg) != 200 ||
        !json_parser_load_from_data(parser, text, (gssize)len, NULL))
        return;
    w->on_poll(json_parser_get_root(parser), w->data);
}

static gboolean
on_poll_timer(gpointer data)
{
    PollWait *w = data;

    if (!w->polling && !w->done) {
        g_autoptr(SoupMessage) msg = message_new(w->client, "GET", w->poll_path);
        w->polling = TRUE;
        soup_session_send_and_read_async(w->session, msg, G_PRIORITY_DEFAULT, w->poll_cancel,
                                         on_polled, w);
    }
    return G_SOURCE_CONTINUE;
}

static void
on_answer(GObject *source, GAsyncResult *res, gpointer data)
{
    PollWait *w = data;

    w->answer = soup_session_send_and_read_finish(w->session, res, &w->transport_error);
    w->done = TRUE;
}

JsonNode *
vsh_client_post_polling(VshClient *client, const char *path, JsonNode *body, const char *poll_path,
                        VshPollFunc on_poll, VshPollEndFunc on_end, gpointer data, GError **error)
{
    PollWait w = {0};
    g_autofree char *text = json_to_string(body, FALSE);
    g_autoptr(GBytes) request = g_bytes_new(text, strlen(text));
    g_autoptr(SoupMessage) msg = message_new(client, "POST", path);
    JsonNode *result = NULL;

    w.session = vsh_client_session(client);
    w.client = client;
    w.poll_path = poll_path;
    w.on_poll = on_poll;
    w.data = data;
    w.poll_cancel = g_cancellable_new();
    soup_message_set_request_body_from_bytes(msg, "application/json", request);
    /* The session belongs to the default main context, which nothing else
     * runs while a command executes: iterate it here. */
    soup_session_send_and_read_async(w.session, msg, G_PRIORITY_DEFAULT, NULL, on_answer, &w);
    guint timer = g_timeout_add(POLL_INTERVAL_MS, on_poll_timer, &w);
    while (!w.done)
        g_main_context_iteration(NULL, TRUE);
    g_source_remove(timer);
    g_cancellable_cancel(w.poll_cancel);
    while (w.polling)
        g_main_context_iteration(NULL, TRUE);
    g_object_unref(w.poll_cancel);

    guint status = w.answer ? soup_message_get_status(msg) : 0;
    on_end(status, data);
    if (!w.answer) {
        vsh_client_set_transport_error(client, w.transport_error, error);
    } else if (status < 200 || status >= 300) {
        vsh_client_set_api_error(msg, w.answer, error);
    } else {
        g_autoptr(JsonParser) parser = json_parser_new();
        gsize len = 0;
        const char *answer = g_bytes_get_data(w.answer, &len);
        if (answer && json_parser_load_from_data(parser, answer, (gssize)len, NULL) &&
            JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
            result = json_node_copy(json_parser_get_root(parser));
        else
            g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL,
                        "unexpected answer from virtd to POST %s: not a JSON object", path);
    }
    g_clear_error(&w.transport_error);
    g_clear_pointer(&w.answer, g_bytes_unref);
    return result;
}
