/* vol-clone with a progress line: the clone request is sent
 * asynchronously and, until its answer arrives, GET /v1/jobs is asked
 * every 250 ms (libsoup opens a second connection for it) how far the
 * daemon's qemu-img convert is. */
#include <string.h>

#include "util/vd-error.h"
#include "vsh-progress.h"
#include "vsh-storage.h"

#define POLL_INTERVAL_MS 250

typedef struct {
    VshClient *client;
    SoupSession *session;
    const char *pool;
    const char *new_name;
    VshProgress progress;
    GCancellable *poll_cancel;
    gboolean polling;         /* a GET /v1/jobs in flight */
    gboolean done;            /* the clone answered */
    GBytes *answer;
    GError *transport_error;
} CloneWait;

static SoupMessage *
message_new(const char *method, const char *path)
{
    g_autofree char *url = g_strconcat("http://localhost", path, NULL);
    SoupMessage *msg = soup_message_new(method, url);

    soup_message_headers_append(soup_message_get_request_headers(msg), "Accept",
                                "application/json");
    return msg;
}

/* The clone's progress in a /v1/jobs answer, or -1. */
static double
job_progress(GBytes *body, const char *pool, const char *name)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    gsize len = 0;
    const char *data = g_bytes_get_data(body, &len);

    if (!data || !json_parser_load_from_data(parser, data, (gssize)len, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
        return -1;
    JsonObject *root = json_node_get_object(json_parser_get_root(parser));
    JsonNode *member = json_object_get_member(root, "jobs");
    JsonArray *jobs = member && JSON_NODE_HOLDS_ARRAY(member) ? json_node_get_array(member) : NULL;
    for (guint i = 0; jobs && i < json_array_get_length(jobs); i++) {
        JsonObject *job = json_array_get_object_element(jobs, i);
        if (job && g_str_equal(vsh_json_string(job, "kind", ""), "clone") &&
            g_str_equal(vsh_json_string(job, "pool", ""), pool) &&
            g_str_equal(vsh_json_string(job, "volume", ""), name))
            return json_object_get_double_member_with_default(job, "progress", -1);
    }
    return -1;
}

static void
on_jobs(GObject *source, GAsyncResult *res, gpointer data)
{
    CloneWait *w = data;
    g_autoptr(GBytes) body = soup_session_send_and_read_finish(w->session, res, NULL);
    SoupMessage *msg = soup_session_get_async_result_message(w->session, res);

    w->polling = FALSE;
    /* A failed poll costs only the bar's accuracy: the clone's own
     * answer says whether it worked. */
    if (!body || w->done || soup_message_get_status(msg) != 200)
        return;
    double pct = job_progress(body, w->pool, w->new_name);
    if (pct < 0)
        return;
    w->progress.done = (guint64)((double)w->progress.total * pct / 100.0);
    vsh_progress_draw(&w->progress, FALSE);
}

static gboolean
on_poll_timer(gpointer data)
{
    CloneWait *w = data;

    if (!w->polling && !w->done) {
        g_autoptr(SoupMessage) msg = message_new("GET", "/v1/jobs");
        w->polling = TRUE;
        soup_session_send_and_read_async(w->session, msg, G_PRIORITY_DEFAULT, w->poll_cancel,
                                         on_jobs, w);
    }
    return G_SOURCE_CONTINUE;
}

static void
on_cloned(GObject *source, GAsyncResult *res, gpointer data)
{
    CloneWait *w = data;

    w->answer = soup_session_send_and_read_finish(w->session, res, &w->transport_error);
    w->done = TRUE;
}

JsonNode *
vsh_volume_clone_with_progress(VshCtl *ctl, const char *pool, const char *name,
                               const char *new_name, guint64 capacity, JsonNode *body,
                               GError **error)
{
    CloneWait w = {0};
    g_autofree char *path = vsh_volume_path(pool, name, "/clone");
    g_autofree char *text = json_to_string(body, FALSE);
    g_autoptr(GBytes) request = g_bytes_new(text, strlen(text));
    g_autoptr(SoupMessage) msg = message_new("POST", path);
    JsonNode *result = NULL;

    if (!(w.client = vsh_ctl_client(ctl, error)))
        return NULL;
    w.session = vsh_client_session(w.client);
    w.pool = pool;
    w.new_name = new_name;
    w.poll_cancel = g_cancellable_new();
    vsh_progress_init(&w.progress, "Cloning", capacity);
    soup_message_set_request_body_from_bytes(msg, "application/json", request);
    /* The session belongs to the default main context, which nothing else
     * runs while a command executes: iterate it here. */
    soup_session_send_and_read_async(w.session, msg, G_PRIORITY_DEFAULT, NULL, on_cloned, &w);
    vsh_progress_draw(&w.progress, FALSE); /* 0%: something happens at once */
    guint timer = g_timeout_add(POLL_INTERVAL_MS, on_poll_timer, &w);
    while (!w.done)
        g_main_context_iteration(NULL, TRUE);
    g_source_remove(timer);
    g_cancellable_cancel(w.poll_cancel);
    while (w.polling)
        g_main_context_iteration(NULL, TRUE);
    g_object_unref(w.poll_cancel);

    guint status = soup_message_get_status(msg);
    if (!w.answer) {
        vsh_progress_draw(&w.progress, TRUE);
        vsh_client_set_transport_error(w.client, w.transport_error, error);
    } else if (status < 200 || status >= 300) {
        vsh_progress_draw(&w.progress, TRUE);
        vsh_client_set_api_error(msg, w.answer, error);
    } else {
        g_autoptr(JsonParser) parser = json_parser_new();
        gsize len = 0;
        const char *data = g_bytes_get_data(w.answer, &len);
        w.progress.done = w.progress.total;
        vsh_progress_draw(&w.progress, TRUE);
        if (data && json_parser_load_from_data(parser, data, (gssize)len, NULL) &&
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
