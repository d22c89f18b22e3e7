/* vsh event and vsh net-event: wait for the daemon's events (GET
 * /v1/events, server-sent events) and print them as virsh does, one-shot
 * or --loop, until --timeout or an interrupt. */
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "util/vd-error.h"
#include "vsh/vsh-client.h"
#include "vsh/vsh-event.h"
#include "vsh/vsh-network.h"

typedef enum {
    WAIT_RUNNING,
    WAIT_DONE,
    WAIT_TIMEOUT,
    WAIT_INTERRUPT,
    WAIT_FAILED,
} WaitEnd;

typedef struct {
    VshCtl *ctl;
    GMainLoop *loop;
    GCancellable *cancel;
    SoupMessage *msg;
    GDataInputStream *in;
    const char *name;   /* --event NAME; NULL: all */
    gboolean all;       /* --all: io-error also as io-error-reason */
    gboolean loop_mode;
    gboolean timestamp;
    int count;
    WaitEnd end;
    GError *error;
} EventWait;

static void
finish(EventWait *w, WaitEnd end)
{
    if (w->end != WAIT_RUNNING)
        return;
    w->end = end;
    g_cancellable_cancel(w->cancel);
    g_main_loop_quit(w->loop);
}

static void
print_event(EventWait *w, JsonObject *ev, const char *name)
{
    if (!w->loop_mode && w->count)
        return;
    g_autofree char *text = vsh_event_format(ev, name, w->timestamp);
    if (!text)
        return;
    vsh_print(w->ctl, "%s", text);
    fflush(stdout);
    w->count++;
    if (!w->loop_mode)
        finish(w, WAIT_DONE);
}

static void
on_data(EventWait *w, const char *data)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, data, -1, NULL))
        return; /* not ours to judge: a later daemon may send more */
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return;
    JsonObject *ev = json_node_get_object(root);
    print_event(w, ev, w->name);
    /* virsh's --all registers io-error and io-error-reason, block-job and
     * block-job-2 apart: one event, two lines. */
    const char *kind = json_object_get_string_member_with_default(ev, "kind", "");
    if (w->all && g_strcmp0(kind, "io-error") == 0)
        print_event(w, ev, "io-error-reason");
    if (w->all && g_strcmp0(kind, "block-job") == 0)
        print_event(w, ev, "block-job-2");
}

static void read_next(EventWait *w);

static void
on_line(GObject *source, GAsyncResult *res, gpointer data)
{
    EventWait *w = data;
    g_autoptr(GError) error = NULL;
    gsize len;
    g_autofree char *line =
        g_data_input_stream_read_line_finish_utf8(G_DATA_INPUT_STREAM(source), res, &len, &error);

    if (w->end != WAIT_RUNNING)
        return;
    if (!line) {
        /* Not a connection failure ("failed to connect to the
         * hypervisor"): the stream was up and ended. */
        g_set_error(&w->error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "the daemon ended the event stream (%s): it stopped, or dropped this client "
                    "for not reading",
                    error ? error->message : "end of stream");
        finish(w, WAIT_FAILED);
        return;
    }
    /* One "data:" line per event (our daemon never splits one); comments
     * (":") are keepalives. */
    if (g_str_has_prefix(line, "data:")) {
        const char *json = line + 5;
        if (*json == ' ')
            json++;
        on_data(w, json);
    }
    if (w->end == WAIT_RUNNING)
        read_next(w);
}

static void
read_next(EventWait *w)
{
    g_data_input_stream_read_line_async(w->in, G_PRIORITY_DEFAULT, w->cancel, on_line, w);
}

static void
on_sent(GObject *source, GAsyncResult *res, gpointer data)
{
    EventWait *w = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GInputStream) in = soup_session_send_finish(SOUP_SESSION(source), res, &error);

    if (w->end != WAIT_RUNNING)
        return;
    if (!in) {
        VshClient *client = vsh_ctl_client(w->ctl, NULL);
        vsh_client_set_transport_error(client, error, &w->error);
        finish(w, WAIT_FAILED);
        return;
    }
    guint status = soup_message_get_status(w->msg);
    if (status < 200 || status >= 300) {
        g_autoptr(GOutputStream) mem = g_memory_output_stream_new_resizable();
        g_output_stream_splice(mem, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, NULL);
        g_autoptr(GBytes) body =
            g_memory_output_stream_steal_as_bytes(G_MEMORY_OUTPUT_STREAM(mem));
        vsh_client_set_api_error(w->msg, body, &w->error);
        finish(w, WAIT_FAILED);
        return;
    }
    w->in = g_data_input_stream_new(in);
    g_data_input_stream_set_newline_type(w->in, G_DATA_STREAM_NEWLINE_TYPE_LF);
    read_next(w);
}

static gboolean
on_timeout(gpointer data)
{
    finish(data, WAIT_TIMEOUT);
    return G_SOURCE_REMOVE;
}

static gboolean
on_sigint(gpointer data)
{
    finish(data, WAIT_INTERRUPT);
    return G_SOURCE_CONTINUE;
}

/* --timeout N: seconds, virsh's checks. 0: none. */
static gboolean
parse_timeout(const VshCmd *cmd, guint *ms, GError **error)
{
    const char *v = vsh_cmd_get_string(cmd, "timeout");
    gint64 secs;
    *ms = 0;
    if (!v)
        return TRUE;
    if (!g_ascii_string_to_signed(v, 10, 1, G_MAXINT / 1000, &secs, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Numeric value '%s' for <timeout> option is malformed or out of range", v);
        return FALSE;
    }
    *ms = (guint)secs * 1000;
    return TRUE;
}

/* Subscribes to @query ("?kind=...&domain=..."), prints until done, then
 * "events received: N" as virsh. FALSE without an error when none came
 * (virsh's exit status 1). */
static gboolean
wait_events(VshCtl *ctl, const VshCmd *cmd, const char *query, const char *name, gboolean all,
            GError **error)
{
    guint timeout_ms;
    if (!parse_timeout(cmd, &timeout_ms, error))
        return FALSE;
    VshClient *client = vsh_ctl_client(ctl, error);
    if (!client)
        return FALSE;

    g_autofree char *path = g_strconcat("/v1/events", query, NULL);
    g_autofree char *url = vsh_client_url(client, path);
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    g_autoptr(GCancellable) cancel = g_cancellable_new();
    g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
    EventWait w = {
        .ctl = ctl,
        .loop = loop,
        .cancel = cancel,
        .msg = msg,
        .name = name,
        .all = all,
        .loop_mode = vsh_cmd_has(cmd, "loop"),
        .timestamp = vsh_cmd_has(cmd, "timestamp"),
    };
    soup_message_headers_replace(soup_message_get_request_headers(msg), "Accept",
                                 "text/event-stream");
    soup_session_send_async(vsh_client_session(client), msg, G_PRIORITY_DEFAULT, cancel, on_sent,
                            &w);
    guint timer = timeout_ms ? g_timeout_add(timeout_ms, on_timeout, &w) : 0;
    guint sig = g_unix_signal_add(SIGINT, on_sigint, &w);
    g_main_loop_run(loop);
    if (timer && w.end != WAIT_TIMEOUT)
        g_source_remove(timer);
    g_source_remove(sig);
    /* The cancelled callbacks run (and return) before w goes. */
    while (g_main_context_iteration(NULL, FALSE))
        ;
    gboolean streamed = w.in != NULL;
    g_clear_object(&w.in);

    switch (w.end) {
    case WAIT_FAILED:
        /* what came before the end was printed: say how much */
        if (streamed)
            vsh_print(ctl, "events received: %d\n", w.count);
        g_propagate_error(error, w.error);
        return FALSE;
    case WAIT_INTERRUPT:
        vsh_print(ctl, "event loop interrupted\n");
        break;
    case WAIT_TIMEOUT:
        vsh_print(ctl, "event loop timed out\n");
        break;
    default:
        break;
    }
    vsh_print(ctl, "events received: %d\n", w.count);
    return w.count > 0;
}

static gboolean
cmd_event(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *name = vsh_cmd_get_string(cmd, "event");
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    gboolean all = vsh_cmd_has(cmd, "all");
    gboolean list = vsh_cmd_has(cmd, "list");

    if (all && name) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --all and --event are mutually exclusive");
        return FALSE;
    }
    if (list && (all || name)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --list and --%s are mutually exclusive", all ? "all" : "event");
        return FALSE;
    }
    if (list) {
        for (guint i = 0; vsh_domain_event_names[i]; i++)
            vsh_print(ctl, "%s\n", vsh_domain_event_names[i]);
        return TRUE;
    }
    if (!name && !all) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "one of --list, --all, or --event <type> is required");
        return FALSE;
    }
    if (name && !g_strv_contains(vsh_domain_event_names, name)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "unknown event type %s", name);
        return FALSE;
    }
    GString *query = g_string_new("");
    g_autofree char *q = NULL;
    if (name) {
        /* A kind the daemon never sends: wait all the same (virsh
         * registers it and nothing comes), asking for nothing else. */
        const char *kind = vsh_event_kind_of(name);
        g_string_append_printf(query, "?kind=%s", kind ? kind : "none");
    } else {
        /* Domains' kinds only, not the networks'. */
        g_string_append(query, "?kind=lifecycle,reboot,watchdog,io-error,balloon-change,"
                               "device-added,device-removed,block-job,job");
    }
    if (dom) {
        g_autoptr(JsonNode) answer = vsh_domain_call(ctl, "GET", dom, NULL, NULL, error);
        if (!answer)
            return FALSE;
        const char *uuid = vsh_json_string(vsh_json_domain(answer), "uuid", dom);
        g_autofree char *esc = g_uri_escape_string(uuid, NULL, FALSE);
        g_string_append_printf(query, "&domain=%s", esc);
    }
    q = g_string_free(query, FALSE);
    return wait_events(ctl, cmd, q, name, all, error);
}

static gboolean
cmd_net_event(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *name = vsh_cmd_get_string(cmd, "event");
    const char *net = vsh_cmd_get_string(cmd, "network");

    if (vsh_cmd_has(cmd, "list")) {
        vsh_print(ctl, "lifecycle\n");
        return TRUE;
    }
    if (!name) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "either --list or --event <type> is required");
        return FALSE;
    }
    if (!g_str_equal(name, "lifecycle")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "unknown event type %s", name);
        return FALSE;
    }
    g_autofree char *query = NULL;
    if (net) {
        g_autoptr(JsonNode) answer = vsh_network_call(ctl, "GET", net, NULL, NULL, error);
        if (!answer)
            return FALSE;
        g_autofree char *esc = g_uri_escape_string(vsh_network_name(answer, net), NULL, FALSE);
        query = g_strdup_printf("?kind=net-lifecycle&network=%s", esc);
    } else {
        query = g_strdup("?kind=net-lifecycle");
    }
    return wait_events(ctl, cmd, query, "lifecycle", FALSE, error);
}

static const VshOptDef opts_event[] = {
    {"domain", VSH_OT_STRING, 0, VSH_COMPLETE_DOMAIN, "filter by domain name, id or uuid"},
    {"event", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "which event type to wait for"},
    {"all", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "wait for all events instead of just one type"},
    {"loop", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "loop until timeout or interrupt, rather than one-shot"},
    {"timeout", VSH_OT_INT, 0, VSH_COMPLETE_NONE, "timeout seconds"},
    {"list", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list valid event types"},
    {"timestamp", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "show timestamp for each printed event"},
    {NULL},
};

static const VshOptDef opts_net_event[] = {
    {"network", VSH_OT_STRING, 0, VSH_COMPLETE_NETWORK, "filter by network name or uuid"},
    {"event", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "which event type to wait for"},
    {"loop", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "loop until timeout or interrupt, rather than one-shot"},
    {"timeout", VSH_OT_INT, 0, VSH_COMPLETE_NONE, "timeout seconds"},
    {"list", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "list valid event types"},
    {"timestamp", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "show timestamp for each printed event"},
    {NULL},
};

const VshCmdDef vsh_event_commands[] = {
    {"event", "domain", opts_event, cmd_event, "Domain Events",
     "List event types, or wait for domain events to occur"},
    {"net-event", "network", opts_net_event, cmd_net_event, "Network Events",
     "List event types, or wait for network events to occur"},
    {NULL},
};
