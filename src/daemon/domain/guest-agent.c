/* The guest agent client: one connection per call, driven by the main
 * loop (see guest-agent.h).
 *
 * Why a connection per call: QEMU's socket accepts one client at a time
 * and keeps no state between connections, and the agent in the guest may
 * be restarted, killed mid-reply or not started yet. A fresh connection
 * plus guest-sync-delimited gives a clean stream every time: the daemon
 * sends 0xFF (the agent's parser treats the invalid byte as a reset, so
 * half a command left by an earlier client is dropped), then
 * guest-sync-delimited with a random id; the agent answers 0xFF followed
 * by {"return": id}. Everything before a 0xFF is stale (replies to calls
 * that timed out, an error about our 0xFF) and is skipped, and a line
 * after a 0xFF that carries another id is stale too.
 *
 * The guest controls the agent, so its replies are as hostile as any
 * client: a line longer than VD_GUEST_AGENT_MAX_REPLY ends the call, and
 * every line goes through the JSON guard (util/vd-json-guard.h) before
 * json-glib's recursive parser sees it.
 *
 * Lifetime: each asynchronous operation holds a reference on the call;
 * the first of reply, error and timeout completes it, and whatever
 * finishes afterwards sees call->done and only drops its reference.
 */
#include "daemon/domain/guest-agent.h"

#include <string.h>

#include "qemu/qemu-command.h"
#include "util/vd-error.h"
#include "util/vd-json-guard.h"

#define READ_CHUNK (16 * 1024)
/* Agent replies nest three or four levels. */
#define AGENT_MAX_DEPTH 32

typedef enum {
    PHASE_CONNECTING,
    PHASE_SYNCING,  /* sync sent: skipping up to 0xFF and our {"return": id} */
    PHASE_REPLYING, /* command sent: one reply line */
} Phase;

typedef struct {
    int refs;
    gboolean done;
    Phase phase;
    char *path;
    char *what; /* "guest agent of domain 'x'" */
    char *command;
    GBytes *command_line; /* the command, newline-terminated */
    GBytes *sync_line;    /* 0xFF + guest-sync-delimited, newline-terminated */
    gint64 sync_id;
    gboolean after_sentinel;
    guint timeout_s;
    guint timeout_id;
    GTask *task;
    GCancellable *cancellable;
    GSocketClient *client;
    GSocketConnection *conn;
    guint8 *chunk;
    GByteArray *buf;
} AgentCall;

static AgentCall *
call_ref(AgentCall *c)
{
    c->refs++;
    return c;
}

static void
call_unref(AgentCall *c)
{
    if (--c->refs > 0)
        return;
    g_free(c->path);
    g_free(c->what);
    g_free(c->command);
    g_clear_pointer(&c->command_line, g_bytes_unref);
    g_clear_pointer(&c->sync_line, g_bytes_unref);
    g_clear_object(&c->task);
    g_clear_object(&c->cancellable);
    g_clear_object(&c->client);
    g_clear_object(&c->conn);
    g_free(c->chunk);
    if (c->buf)
        g_byte_array_unref(c->buf);
    g_free(c);
}

/* Completes the call once: with @result (transfer full) or @error
 * (taken). */
static void
call_complete(AgentCall *c, JsonNode *result, GError *error)
{
    if (c->done) {
        if (result)
            json_node_unref(result);
        g_clear_error(&error);
        return;
    }
    c->done = TRUE;
    g_clear_handle_id(&c->timeout_id, g_source_remove);
    g_cancellable_cancel(c->cancellable);
    if (c->conn)
        g_socket_close(g_socket_connection_get_socket(c->conn), NULL);
    GTask *task = g_steal_pointer(&c->task);
    if (error)
        g_task_return_error(task, error);
    else
        g_task_return_pointer(task, result, (GDestroyNotify)json_node_unref);
    g_object_unref(task);
}

static void call_fail(AgentCall *c, int code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void
call_fail(AgentCall *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    call_complete(c, NULL, g_error_new_literal(VD_ERROR, code, msg));
}

static gboolean
call_timeout(gpointer data)
{
    AgentCall *c = data;
    c->timeout_id = 0;
    call_fail(c, VD_ERROR_TIMEOUT,
              "%s did not answer in %u s: is qemu-guest-agent running in the guest?", c->what,
              c->timeout_s);
    return G_SOURCE_REMOVE;
}

static GBytes *
command_line(const char *command, JsonObject *args)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "execute");
    json_builder_add_string_value(b, command);
    if (args) {
        json_builder_set_member_name(b, "arguments");
        JsonNode *n = json_node_new(JSON_NODE_OBJECT);
        json_node_set_object(n, args);
        json_builder_add_value(b, n);
    }
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    char *line = g_strconcat(text, "\n", NULL);
    return g_bytes_new_take(line, strlen(line));
}

static void start_read(AgentCall *c);

static void
written(GObject *source, GAsyncResult *res, gpointer data)
{
    AgentCall *c = data;
    g_autoptr(GError) error = NULL;
    gboolean ok = g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, &error);
    if (!c->done && !ok)
        call_fail(c, VD_ERROR_OPERATION_FAILED, "cannot write to the %s: %s", c->what,
                  error->message);
    call_unref(c);
}

static void
send_bytes(AgentCall *c, GBytes *bytes)
{
    gsize len;
    const void *data = g_bytes_get_data(bytes, &len);
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(c->conn));
    g_output_stream_write_all_async(out, data, len, G_PRIORITY_DEFAULT, c->cancellable, written,
                                    call_ref(c));
}

/* One line (without its newline), guarded then parsed; NULL + error
 * when it is not a JSON object. */
static JsonObject *
parse_line(AgentCall *c, const char *line, gsize len, GError **error)
{
    g_autoptr(GError) bad = NULL;
    if (!vd_json_guard_check(line, len, AGENT_MAX_DEPTH, &bad)) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "the %s sent JSON that is refused: %s", c->what, bad->message);
        return NULL;
    }
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    if (!json_parser_load_from_data(parser, line, (gssize)len, &bad)) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "the %s sent a reply that is not JSON: %s", c->what, bad->message);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "the %s sent a reply that is not a JSON object", c->what);
        return NULL;
    }
    return json_object_ref(json_node_get_object(root));
}

static gboolean
is_our_sync(AgentCall *c, const char *line, gsize len)
{
    g_autoptr(GError) ignored = NULL;
    g_autoptr(JsonObject) o = parse_line(c, line, len, &ignored);
    if (!o)
        return FALSE;
    JsonNode *r = json_object_get_member(o, "return");
    return r && JSON_NODE_HOLDS_VALUE(r) && json_node_get_value_type(r) == G_TYPE_INT64 &&
           json_node_get_int(r) == c->sync_id;
}

static void
handle_reply(AgentCall *c, const char *line, gsize len)
{
    GError *error = NULL;
    g_autoptr(JsonObject) o = parse_line(c, line, len, &error);
    if (!o) {
        call_complete(c, NULL, error);
        return;
    }
    JsonNode *r = json_object_get_member(o, "return");
    if (r) {
        call_complete(c, json_node_copy(r), NULL);
        return;
    }
    JsonNode *e = json_object_get_member(o, "error");
    const char *desc = NULL;
    JsonNode *dn = e && JSON_NODE_HOLDS_OBJECT(e)
                       ? json_object_get_member(json_node_get_object(e), "desc")
                       : NULL;
    if (dn && JSON_NODE_HOLDS_VALUE(dn) && json_node_get_value_type(dn) == G_TYPE_STRING)
        desc = json_node_get_string(dn);
    if (desc)
        call_fail(c, VD_ERROR_OPERATION_FAILED, "the %s refused '%s': %s", c->what, c->command,
                  desc);
    else
        call_fail(c, VD_ERROR_OPERATION_FAILED,
                  "the %s sent a reply with neither 'return' nor 'error'", c->what);
}

static gboolean
only_space(const guint8 *p, gsize len)
{
    for (gsize i = 0; i < len; i++)
        if (!g_ascii_isspace(p[i]))
            return FALSE;
    return TRUE;
}

/* What has arrived: the sync's stale prefix skipped, then our sync's
 * reply, then the command's reply. */
static void
handle_input(AgentCall *c)
{
    GByteArray *buf = c->buf;
    while (!c->done && c->phase == PHASE_SYNCING) {
        if (!c->after_sentinel) {
            guint8 *ff = memchr(buf->data, 0xFF, buf->len);
            if (!ff) {
                g_byte_array_set_size(buf, 0); /* stale, whatever it is */
                return;
            }
            g_byte_array_remove_range(buf, 0, (guint)(ff - buf->data) + 1);
            c->after_sentinel = TRUE;
        }
        guint8 *nl = memchr(buf->data, '\n', buf->len);
        guint8 *ff = memchr(buf->data, 0xFF, nl ? (gsize)(nl - buf->data) : buf->len);
        if (ff) {
            /* Another sentinel before the end of the line: the line was
             * stale, the sync's reply starts there. */
            g_byte_array_remove_range(buf, 0, (guint)(ff - buf->data) + 1);
            continue;
        }
        if (!nl) {
            if (buf->len > VD_GUEST_AGENT_MAX_REPLY)
                call_fail(c, VD_ERROR_TOO_LARGE, "the %s sent a line longer than %d MiB", c->what,
                          VD_GUEST_AGENT_MAX_REPLY / (1024 * 1024));
            return;
        }
        gsize len = (gsize)(nl - buf->data);
        gboolean ours = is_our_sync(c, (const char *)buf->data, len);
        g_byte_array_remove_range(buf, 0, (guint)len + 1);
        c->after_sentinel = FALSE;
        if (ours) {
            /* Nothing that came before our command can be its reply. */
            g_byte_array_set_size(buf, 0);
            c->phase = PHASE_REPLYING;
            send_bytes(c, c->command_line);
            return;
        }
    }
    while (!c->done && c->phase == PHASE_REPLYING) {
        guint8 *nl = memchr(buf->data, '\n', buf->len);
        if (!nl) {
            if (buf->len > VD_GUEST_AGENT_MAX_REPLY)
                call_fail(c, VD_ERROR_TOO_LARGE, "the %s sent a reply larger than %d MiB", c->what,
                          VD_GUEST_AGENT_MAX_REPLY / (1024 * 1024));
            return;
        }
        gsize len = (gsize)(nl - buf->data);
        if (only_space(buf->data, len)) {
            g_byte_array_remove_range(buf, 0, (guint)len + 1);
            continue;
        }
        handle_reply(c, (const char *)buf->data, len);
    }
}

static void
chunk_read(GObject *source, GAsyncResult *res, gpointer data)
{
    AgentCall *c = data;
    g_autoptr(GError) error = NULL;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, &error);
    if (c->done) {
        call_unref(c);
        return;
    }
    if (n < 0)
        call_fail(c, VD_ERROR_OPERATION_FAILED, "cannot read from the %s: %s", c->what,
                  error->message);
    else if (n == 0)
        call_fail(c, VD_ERROR_OPERATION_FAILED,
                  "the %s closed the connection before answering (did the domain stop?)", c->what);
    else {
        g_byte_array_append(c->buf, c->chunk, (guint)n);
        handle_input(c);
        if (!c->done)
            start_read(c);
    }
    call_unref(c);
}

static void
start_read(AgentCall *c)
{
    GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(c->conn));
    g_input_stream_read_async(in, c->chunk, READ_CHUNK, G_PRIORITY_DEFAULT, c->cancellable,
                              chunk_read, call_ref(c));
}

static void
connected(GObject *source, GAsyncResult *res, gpointer data)
{
    AgentCall *c = data;
    g_autoptr(GError) error = NULL;
    GSocketConnection *conn = g_socket_client_connect_finish(G_SOCKET_CLIENT(source), res, &error);
    if (c->done) {
        g_clear_object(&conn);
        call_unref(c);
        return;
    }
    if (!conn) {
        call_fail(c, VD_ERROR_OPERATION_FAILED, "cannot connect to the %s at '%s': %s", c->what,
                  c->path, error->message);
        call_unref(c);
        return;
    }
    c->conn = conn;
    c->chunk = g_malloc(READ_CHUNK);
    c->buf = g_byte_array_new();
    c->phase = PHASE_SYNCING;
    send_bytes(c, c->sync_line);
    start_read(c);
    call_unref(c);
}

void
vd_guest_agent_call_path(const char *path, const char *what, const char *command, JsonObject *args,
                         guint timeout_s, GAsyncReadyCallback cb, gpointer user_data)
{
    AgentCall *c = g_new0(AgentCall, 1);
    c->refs = 1;
    c->path = g_strdup(path);
    c->what = g_strdup(what);
    c->command = g_strdup(command);
    c->command_line = command_line(command, args);
    if (args)
        json_object_unref(args);
    /* Random, so that a stale reply of an earlier client's sync is never
     * taken for ours; positive and below 2^31 for any JSON reader. */
    c->sync_id = g_random_int_range(1, G_MAXINT32);
    g_autofree char *sync = g_strdup_printf(
        "\xff{\"execute\": \"guest-sync-delimited\", \"arguments\": {\"id\": %" G_GINT64_FORMAT
        "}}\n",
        c->sync_id);
    c->sync_line = g_bytes_new(sync, strlen(sync));
    c->timeout_s = timeout_s ? timeout_s : VD_GUEST_AGENT_TIMEOUT;
    c->task = g_task_new(NULL, NULL, cb, user_data);
    g_task_set_source_tag(c->task, vd_guest_agent_call_path);
    c->cancellable = g_cancellable_new();
    c->client = g_socket_client_new();
    g_socket_client_set_enable_proxy(c->client, FALSE);
    c->phase = PHASE_CONNECTING;
    c->timeout_id = g_timeout_add_seconds(c->timeout_s, call_timeout, c);

    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    g_socket_client_connect_async(c->client, G_SOCKET_CONNECTABLE(addr), c->cancellable, connected,
                                  c); /* the creator's reference */
}

/* ---- per domain: one call at a time -------------------------------------- */

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom;
    char *command;
    JsonObject *args;
    guint timeout_s;
    GTask *task;
} DomainCall;

/* dom->agent: the call in flight (head) and those waiting behind it. */
typedef struct {
    GQueue calls;
} AgentQueue;

static void
domain_call_free(DomainCall *dc)
{
    vd_domain_obj_unref(dc->dom);
    g_free(dc->command);
    if (dc->args)
        json_object_unref(dc->args);
    g_clear_object(&dc->task);
    g_free(dc);
}

static void domain_call_start(DomainCall *dc);

static void
domain_call_done(GObject *source, GAsyncResult *res, gpointer data)
{
    DomainCall *dc = data;
    GError *error = NULL;
    JsonNode *result = g_task_propagate_pointer(G_TASK(res), &error);
    AgentQueue *q = dc->dom->agent;

    g_assert(q && g_queue_peek_head(&q->calls) == dc);
    g_queue_pop_head(&q->calls);
    /* The next call starts before this one's caller hears back, so that a
     * caller queueing another call from its callback waits its turn. */
    if (g_queue_is_empty(&q->calls)) {
        g_free(q);
        dc->dom->agent = NULL;
    } else {
        domain_call_start(g_queue_peek_head(&q->calls));
    }
    if (error)
        g_task_return_error(dc->task, error);
    else
        g_task_return_pointer(dc->task, result, (GDestroyNotify)json_node_unref);
    domain_call_free(dc);
}

static void
domain_call_start(DomainCall *dc)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    /* The domain may have stopped while the call waited. */
    if (!vd_state_is_active(dc->dom->state) || !dc->dom->live ||
        !(path = vd_guest_agent_socket_path(dc->d, dc->dom, &error))) {
        if (!error)
            g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_STATE,
                        "Requested operation is not valid: domain is not running");
        /* Answered through the transport's task type for one code path. */
        GTask *t = g_task_new(NULL, NULL, domain_call_done, dc);
        g_task_return_error(t, g_steal_pointer(&error));
        g_object_unref(t);
        return;
    }
    g_autofree char *what = g_strdup_printf("guest agent of domain '%s'", dc->dom->name);
    vd_guest_agent_call_path(path, what, dc->command, g_steal_pointer(&dc->args), dc->timeout_s,
                             domain_call_done, dc);
}

char *
vd_guest_agent_socket_path(VdDaemon *d, VdDomainObj *dom, GError **error)
{
    const VdDomainDef *def = dom->live ? dom->live : vd_domain_obj_current_def(dom);
    for (guint i = 0; def && def->channels && i < def->channels->len; i++) {
        const VdChrDef *chr = g_ptr_array_index(def->channels, i);
        if (!chr->target_name || !g_str_equal(chr->target_name, "org.qemu.guest_agent.0") ||
            chr->type != VD_CHR_UNIX)
            continue;
        if (chr->path && !chr->unix_listen) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "the guest agent channel of domain '%s' connects to '%s' as a client; "
                        "the daemon reaches agents only on sockets QEMU listens on: remove its "
                        "<source> (or use mode='bind')",
                        dom->name, chr->path);
            return NULL;
        }
        VdQemuRunPaths paths = {.guest_agent_dir = d->paths->run_qemu_dir};
        char *path = vd_qemu_channel_socket_path(def, i, &paths);
        if (path)
            return path;
    }
    g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                "domain '%s' has no guest agent channel: add <channel type='unix'><target "
                "type='virtio' name='org.qemu.guest_agent.0'/></channel>",
                dom->name);
    return NULL;
}

void
vd_guest_agent_call(VdDaemon *d, VdDomainObj *dom, const char *command, JsonObject *args,
                    guint timeout_s, GAsyncReadyCallback cb, gpointer user_data)
{
    g_autoptr(GTask) task = g_task_new(NULL, NULL, cb, user_data);
    g_task_set_source_tag(task, vd_guest_agent_call);
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    AgentQueue *q = dom->agent;

    if (!vd_state_is_active(dom->state) || !dom->live) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: domain is not running");
    } else if (dom->state == VD_STATE_PAUSED) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: domain '%s' is paused, its guest agent "
                    "cannot answer: resume it first",
                    dom->name);
    } else if (!(path = vd_guest_agent_socket_path(d, dom, &error))) {
        /* error set */
    } else if (q && g_queue_get_length(&q->calls) > VD_GUEST_AGENT_MAX_QUEUED) {
        g_set_error(&error, VD_ERROR, VD_ERROR_BUSY,
                    "guest agent of domain '%s' is busy: %u calls are waiting for it; try again "
                    "later",
                    dom->name, g_queue_get_length(&q->calls) - 1);
    }
    if (error) {
        if (args)
            json_object_unref(args);
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }

    DomainCall *dc = g_new0(DomainCall, 1);
    dc->d = d;
    dc->dom = vd_domain_obj_ref(dom);
    dc->command = g_strdup(command);
    dc->args = args;
    dc->timeout_s = timeout_s;
    dc->task = g_steal_pointer(&task);
    if (!q) {
        q = g_new0(AgentQueue, 1);
        g_queue_init(&q->calls);
        dom->agent = q;
    }
    g_queue_push_tail(&q->calls, dc);
    if (g_queue_get_length(&q->calls) == 1)
        domain_call_start(dc);
}

JsonNode *
vd_guest_agent_call_finish(GAsyncResult *result, GError **error)
{
    return g_task_propagate_pointer(G_TASK(result), error);
}
