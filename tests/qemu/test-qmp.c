/* The QMP client against a real qemu-system-x86_64 (-machine none, so it
 * starts in milliseconds), plus the ways a connection fails: QEMU killed
 * mid-command, freed from inside callbacks, no socket, not a QMP socket.
 * Every QEMU is killed in teardown and, should the test abort, by
 * PR_SET_PDEATHSIG. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "qemu-test-util.h"
#include "qemu/qmp-message.h"
#include "util/vd-error.h"

typedef struct {
    char *dir;
    char *sock;
    char *log;
    GSubprocess *qemu;
    VdQmp *qmp;

    gboolean ready;
    GError *ready_error;
    guint ready_calls;
    guint closed_calls;
    gboolean closed;
    GPtrArray *events; /* char* */
    gboolean free_on_event;
} Fixture;

static void
spawn_qemu(Fixture *f)
{
    g_autofree char *qmp_arg = g_strdup_printf("unix:%s,server=on,wait=off", f->sock);
    const char *argv[] = {
        tcaps_real()->binary, "-machine", "none", "-display", "none", "-nodefaults",
        "-no-user-config",    "-S",       "-qmp", qmp_arg,    NULL};
    g_autoptr(GError) error = NULL;
    f->qemu = tqemu_spawn(argv, f->log, &error);
    g_assert_no_error(error);
}

static void
setup(Fixture *f, gconstpointer data)
{
    f->dir = tmkdtemp();
    f->sock = g_build_filename(f->dir, "qmp.sock", NULL);
    f->log = g_build_filename(f->dir, "qemu.log", NULL);
    f->events = g_ptr_array_new_with_free_func(g_free);
}

static void
teardown(Fixture *f, gconstpointer data)
{
    vd_qmp_free(f->qmp);
    tqemu_kill(f->qemu);
    g_clear_error(&f->ready_error);
    g_ptr_array_unref(f->events);
    trmtree(f->dir);
    g_free(f->dir);
    g_free(f->sock);
    g_free(f->log);
}

static void
on_ready(VdQmp *qmp, const GError *error, gpointer data)
{
    Fixture *f = data;
    g_assert_true(qmp == f->qmp);
    f->ready_calls++;
    f->ready = TRUE;
    if (error)
        f->ready_error = g_error_copy(error);
}

static void
on_event(VdQmp *qmp, const char *event, JsonObject *data_obj, gpointer data)
{
    Fixture *f = data;
    g_ptr_array_add(f->events, g_strdup(event));
    if (f->free_on_event) {
        vd_qmp_free(f->qmp);
        f->qmp = NULL;
    }
}

static void
on_closed(VdQmp *qmp, gpointer data)
{
    Fixture *f = data;
    f->closed_calls++;
    f->closed = TRUE;
}

static void
connect_ready(Fixture *f)
{
    f->qmp = vd_qmp_connect(f->sock, 10000, on_ready, on_event, on_closed, f);
    g_assert_true(tloop_wait(&f->ready, 15000));
    g_assert_no_error(f->ready_error);
    g_assert_true(vd_qmp_is_connected(f->qmp));
}

static gboolean
has_event(Fixture *f, const char *name)
{
    for (guint i = 0; i < f->events->len; i++) {
        if (g_str_equal(f->events->pdata[i], name))
            return TRUE;
    }
    return FALSE;
}

/* Record of one reply. */
typedef struct {
    gboolean done;
    gboolean in_call; /* set while vd_qmp_command runs: replies must not come then */
    gboolean sync_reply;
    JsonNode *result;
    GError *error;
    guint order;
} Reply;

static guint reply_counter;

static void
on_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Reply *r = data;
    g_assert_false(r->done);
    r->done = TRUE;
    r->sync_reply = r->in_call;
    r->order = reply_counter++;
    if (result)
        r->result = json_node_copy(result);
    if (error)
        r->error = g_error_copy(error);
}

static void
reply_clear(Reply *r)
{
    g_clear_pointer(&r->result, json_node_unref);
    g_clear_error(&r->error);
    r->done = FALSE;
}

static void
send(VdQmp *qmp, const char *command, Reply *r)
{
    r->in_call = TRUE;
    vd_qmp_command(qmp, command, NULL, on_reply, r);
    r->in_call = FALSE;
}

/* ---- tests ------------------------------------------------------------------------ */

/* Connect before QEMU exists: the client retries until the socket appears. */
static void
test_connect_retry(Fixture *f, gconstpointer data)
{
    f->qmp = vd_qmp_connect(f->sock, 10000, on_ready, on_event, on_closed, f);
    g_assert_false(vd_qmp_is_connected(f->qmp));
    gboolean never = FALSE;
    tloop_wait(&never, 150);
    g_assert_false(f->ready);
    spawn_qemu(f);
    g_assert_true(tloop_wait(&f->ready, 15000));
    g_assert_no_error(f->ready_error);
    g_assert_cmpuint(f->ready_calls, ==, 1);

    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) status = tqmp_call(f->qmp, "query-status", NULL, &error);
    g_assert_no_error(error);
    JsonObject *o = json_node_get_object(status);
    g_assert_cmpstr(json_object_get_string_member(o, "status"), ==, "prelaunch");
    g_assert_false(json_object_get_boolean_member(o, "running"));
}

static void
test_events(Fixture *f, gconstpointer data)
{
    spawn_qemu(f);
    connect_ready(f);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) r1 = tqmp_call(f->qmp, "cont", NULL, &error);
    g_assert_no_error(error);
    gboolean never = FALSE;
    tloop_wait(&never, 50); /* events and replies share the stream; order is QEMU's */
    g_assert_true(has_event(f, "RESUME"));
    g_autoptr(JsonNode) r2 = tqmp_call(f->qmp, "stop", NULL, &error);
    g_assert_no_error(error);
    tloop_wait(&never, 50);
    g_assert_true(has_event(f, "STOP"));

    g_autoptr(JsonNode) status = tqmp_call(f->qmp, "query-status", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(status), "status"), ==,
                    "paused");
}

/* Replies far larger than any buffer, and arguments passed through. */
static void
test_huge_reply(Fixture *f, gconstpointer data)
{
    spawn_qemu(f);
    connect_ready(f);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) schema = tqmp_call(f->qmp, "query-qmp-schema", NULL, &error);
    g_assert_no_error(error);
    g_assert_true(JSON_NODE_HOLDS_ARRAY(schema));
    g_autofree char *text = json_to_string(schema, FALSE);
    g_test_message("query-qmp-schema: %zu bytes", strlen(text));
    g_assert_cmpuint(strlen(text), >, 100000);

    JsonObject *args = json_object_new(); /* passed on: the call takes it */
    json_object_set_string_member(args, "implements", "device");
    g_autoptr(JsonNode) types = tqmp_call(f->qmp, "qom-list-types", args, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(json_array_get_length(json_node_get_array(types)), >, 100);
}

static void
test_error_reply(Fixture *f, gconstpointer data)
{
    spawn_qemu(f);
    connect_ready(f);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) none = tqmp_call(f->qmp, "no-such-command", NULL, &error);
    g_assert_null(none);
    g_assert_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    g_assert_nonnull(strstr(error->message, "no-such-command"));
    g_clear_error(&error);

    /* A wrong argument is QMP's error too, and the connection goes on. */
    JsonObject *args = json_object_new(); /* passed on: the call takes it */
    json_object_set_int_member(args, "bogus", 1);
    g_autoptr(JsonNode) none2 = tqmp_call(f->qmp, "query-status", args, &error);
    g_assert_null(none2);
    g_assert_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    g_clear_error(&error);
    g_autoptr(JsonNode) ok = tqmp_call(f->qmp, "query-version", NULL, &error);
    g_assert_no_error(error);
    g_assert_true(vd_qmp_is_connected(f->qmp));
}

/* A descriptor passed with a command (SCM_RIGHTS) reaches QEMU: getfd
 * with one names it, closefd finds it; getfd without one is refused. */
static void
test_getfd(Fixture *f, gconstpointer data)
{
    spawn_qemu(f);
    connect_ready(f);
    int p[2];
    g_assert_cmpint(pipe(p), ==, 0);
    close(p[1]);

    Reply r = {0};
    JsonObject *args = json_object_new(); /* passed on: the call takes it */
    json_object_set_string_member(args, "fdname", "t0");
    vd_qmp_command_with_fd(f->qmp, "getfd", args, p[0], on_reply, &r);
    g_assert_true(tloop_wait(&r.done, 10000));
    g_assert_no_error(r.error);
    reply_clear(&r);

    g_autoptr(GError) error = NULL;
    args = json_object_new();
    json_object_set_string_member(args, "fdname", "t0");
    g_autoptr(JsonNode) closed = tqmp_call(f->qmp, "closefd", args, &error);
    g_assert_no_error(error);

    args = json_object_new();
    json_object_set_string_member(args, "fdname", "t1");
    g_autoptr(JsonNode) none = tqmp_call(f->qmp, "getfd", args, &error);
    g_assert_null(none);
    g_assert_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    g_test_message("getfd without a descriptor: %s", error->message);
    g_assert_true(vd_qmp_is_connected(f->qmp));
}

/* Commands issued before the handshake wait for it and are answered in order. */
static void
test_queued_before_ready(Fixture *f, gconstpointer data)
{
    spawn_qemu(f);
    f->qmp = vd_qmp_connect(f->sock, 10000, on_ready, on_event, on_closed, f);
    Reply replies[20] = {{0}};
    reply_counter = 0;
    for (guint i = 0; i < G_N_ELEMENTS(replies); i++)
        send(f->qmp, i % 2 ? "query-status" : "query-version", &replies[i]);
    gboolean *last = &replies[G_N_ELEMENTS(replies) - 1].done;
    g_assert_true(tloop_wait(last, 15000));
    g_assert_true(f->ready);
    for (guint i = 0; i < G_N_ELEMENTS(replies); i++) {
        g_assert_true(replies[i].done);
        g_assert_no_error(replies[i].error);
        g_assert_false(replies[i].sync_reply);
        g_assert_cmpuint(replies[i].order, ==, i);
        JsonObject *o = json_node_get_object(replies[i].result);
        g_assert_true(json_object_has_member(o, i % 2 ? "status" : "qemu"));
        reply_clear(&replies[i]);
    }
}

/* quit: the reply, SHUTDOWN, then closed exactly once; later commands fail
 * asynchronously. */
static void
test_quit(Fixture *f, gconstpointer data)
{
    spawn_qemu(f);
    connect_ready(f);
    Reply quit = {0}, after = {0};
    send(f->qmp, "quit", &quit);
    g_assert_true(tloop_wait(&f->closed, 10000));
    g_assert_true(quit.done);
    g_assert_true(has_event(f, "SHUTDOWN"));
    g_assert_false(vd_qmp_is_connected(f->qmp));
    g_assert_true(tqemu_wait_exit(f->qemu, 5000));

    send(f->qmp, "query-status", &after);
    g_assert_false(after.done);
    g_assert_true(tloop_wait(&after.done, 5000));
    g_assert_false(after.sync_reply);
    g_assert_error(after.error, VD_ERROR, VD_ERROR_OPERATION_FAILED);

    gboolean never = FALSE;
    tloop_wait(&never, 100);
    g_assert_cmpuint(f->closed_calls, ==, 1);
    g_assert_cmpuint(f->ready_calls, ==, 1);
    reply_clear(&quit);
    reply_clear(&after);
}

/* QEMU dies while a command is outstanding: the command fails, closed once. */
static void
test_killed_mid_command(Fixture *f, gconstpointer data)
{
    spawn_qemu(f);
    connect_ready(f);
    /* Frozen, QEMU cannot answer: the command is surely pending when it dies. */
    kill(atoi(g_subprocess_get_identifier(f->qemu)), SIGSTOP);
    Reply r1 = {0}, r2 = {0};
    send(f->qmp, "query-qmp-schema", &r1);
    send(f->qmp, "query-status", &r2);
    gboolean never = FALSE;
    tloop_wait(&never, 100);
    g_assert_false(r1.done);
    g_subprocess_force_exit(f->qemu);
    g_assert_true(tloop_wait(&f->closed, 10000));
    g_assert_true(r1.done && r2.done);
    g_assert_error(r1.error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    g_assert_error(r2.error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    g_assert_cmpuint(r1.order + 1, ==, r2.order);
    g_assert_cmpuint(f->closed_calls, ==, 1);
    reply_clear(&r1);
    reply_clear(&r2);
}

/* Freed from inside a reply callback with more commands queued: those
 * fail inside vd_qmp_free, closed is never called, nothing crashes. */
typedef struct {
    Fixture *f;
    Reply *others;
    guint n_others;
    gboolean others_done_at_free;
    gboolean done;
} FreeCtx;

static void
free_in_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    FreeCtx *c = data;
    vd_qmp_free(c->f->qmp);
    c->f->qmp = NULL;
    c->others_done_at_free = TRUE;
    for (guint i = 0; i < c->n_others; i++)
        c->others_done_at_free &= c->others[i].done;
    c->done = TRUE;
}

static void
test_free_in_callback(Fixture *f, gconstpointer data)
{
    spawn_qemu(f);
    connect_ready(f);
    Reply others[5] = {{0}};
    FreeCtx c = {f, others, G_N_ELEMENTS(others), FALSE, FALSE};
    vd_qmp_command(f->qmp, "query-version", NULL, free_in_reply, &c);
    for (guint i = 0; i < G_N_ELEMENTS(others); i++)
        send(f->qmp, "query-qmp-schema", &others[i]);
    g_assert_true(tloop_wait(&c.done, 10000));
    g_assert_true(c.others_done_at_free);
    for (guint i = 0; i < G_N_ELEMENTS(others); i++) {
        g_assert_error(others[i].error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
        reply_clear(&others[i]);
    }
    /* Let whatever was in flight complete against the dead client. */
    gboolean never = FALSE;
    tloop_wait(&never, 300);
    g_assert_cmpuint(f->closed_calls, ==, 0);
}

static void
test_free_in_event(Fixture *f, gconstpointer data)
{
    spawn_qemu(f);
    connect_ready(f);
    f->free_on_event = TRUE;
    Reply r = {0};
    send(f->qmp, "cont", &r);
    /* RESUME comes before cont's reply: freeing there fails the reply. */
    g_assert_true(tloop_wait(&r.done, 10000));
    g_assert_null(f->qmp);
    g_assert_error(r.error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    gboolean never = FALSE;
    tloop_wait(&never, 200);
    g_assert_cmpuint(f->events->len, ==, 1);
    g_assert_cmpuint(f->closed_calls, ==, 0);
    reply_clear(&r);
}

static void
free_in_ready(VdQmp *qmp, const GError *error, gpointer data)
{
    Fixture *f = data;
    f->ready_calls++;
    f->ready = TRUE;
    vd_qmp_free(f->qmp);
    f->qmp = NULL;
}

static void
test_free_in_ready(Fixture *f, gconstpointer data)
{
    spawn_qemu(f);
    f->qmp = vd_qmp_connect(f->sock, 10000, free_in_ready, on_event, on_closed, f);
    Reply r = {0};
    send(f->qmp, "query-status", &r);
    g_assert_true(tloop_wait(&f->ready, 10000));
    g_assert_true(r.done);
    g_assert_error(r.error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    gboolean never = FALSE;
    tloop_wait(&never, 200);
    g_assert_cmpuint(f->ready_calls, ==, 1);
    g_assert_cmpuint(f->closed_calls, ==, 0);
    reply_clear(&r);
}

/* Freed while still retrying the connection: no callback, ever. */
static void
test_free_while_connecting(Fixture *f, gconstpointer data)
{
    f->qmp = vd_qmp_connect(f->sock, 5000, on_ready, on_event, on_closed, f);
    Reply r = {0};
    send(f->qmp, "query-status", &r);
    gboolean never = FALSE;
    tloop_wait(&never, 100);
    vd_qmp_free(f->qmp);
    f->qmp = NULL;
    g_assert_true(r.done); /* failed by free */
    g_assert_error(r.error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    tloop_wait(&never, 200);
    g_assert_cmpuint(f->ready_calls, ==, 0);
    g_assert_cmpuint(f->closed_calls, ==, 0);
    reply_clear(&r);
    vd_qmp_free(NULL);
}

static void
test_connect_timeout(Fixture *f, gconstpointer data)
{
    gint64 t0 = g_get_monotonic_time();
    f->qmp = vd_qmp_connect(f->sock, 300, on_ready, on_event, on_closed, f);
    Reply r = {0};
    send(f->qmp, "query-status", &r);
    g_assert_true(tloop_wait(&f->ready, 5000));
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    g_assert_cmpfloat(secs, >=, 0.25);
    g_assert_cmpfloat(secs, <, 2.0);
    g_assert_error(f->ready_error, VD_ERROR, VD_ERROR_TIMEOUT);
    g_assert_nonnull(strstr(f->ready_error->message, f->sock));
    g_assert_true(r.done);
    g_assert_error(r.error, VD_ERROR, VD_ERROR_TIMEOUT);
    gboolean never = FALSE;
    tloop_wait(&never, 100);
    g_assert_cmpuint(f->ready_calls, ==, 1);
    g_assert_cmpuint(f->closed_calls, ==, 0);
    reply_clear(&r);
}

/* Stops @service. GIO's cancelled accept may still be on its way (from
 * the threaded service's worker, under load well after the main loop
 * ran dry): closing the listener first makes it fail with "Listener is
 * already closed" instead of "cancelled" and warn, and freeing the
 * service under it has crashed the test (about 1 run in 20 with four
 * copies at once). So the services stay alive, stopped, until the
 * program exits, and that one warning is not fatal (main()). */
static GPtrArray *stopped_services;

static void
service_stop(GSocketService *service)
{
    g_socket_service_stop(service);
    while (g_main_context_iteration(NULL, FALSE))
        ;
    if (!stopped_services)
        stopped_services = g_ptr_array_new_with_free_func(g_object_unref);
    g_ptr_array_add(stopped_services, g_object_ref(service));
}

static gboolean
fatal_unless_listener_closed(const char *domain, GLogLevelFlags level, const char *message,
                             gpointer data)
{
    return !(message && strstr(message, "Listener is already closed"));
}

static gboolean
say_hello(GSocketService *service, GSocketConnection *conn, GObject *source, gpointer data)
{
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    g_output_stream_write_all(out, "hello\n", 6, NULL, NULL, NULL);
    /* Keep it open: the client must decide on the greeting alone. */
    g_ptr_array_add(data, g_object_ref(conn));
    return TRUE;
}

static void
test_not_qmp(Fixture *f, gconstpointer data)
{
    g_autoptr(GSocketService) service = g_socket_service_new();
    g_autoptr(GPtrArray) conns = g_ptr_array_new_with_free_func(g_object_unref);
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(f->sock);
    g_autoptr(GError) error = NULL;
    g_assert_true(g_socket_listener_add_address(G_SOCKET_LISTENER(service), addr,
                                                G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                                                NULL, NULL, &error));
    g_signal_connect(service, "incoming", G_CALLBACK(say_hello), conns);
    g_socket_service_start(service);

    f->qmp = vd_qmp_connect(f->sock, 5000, on_ready, on_event, on_closed, f);
    g_assert_true(tloop_wait(&f->ready, 5000));
    g_assert_error(f->ready_error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    g_assert_nonnull(strstr(f->ready_error->message, "not a QMP socket"));
    g_assert_false(vd_qmp_is_connected(f->qmp));
    g_assert_cmpuint(f->closed_calls, ==, 0);
    service_stop(service);
}

/* After QEMU died and closed was reported, commands still fail cleanly. */
static void
test_dead_qemu(Fixture *f, gconstpointer data)
{
    spawn_qemu(f);
    connect_ready(f);
    g_subprocess_force_exit(f->qemu);
    g_assert_true(tloop_wait(&f->closed, 10000));
    Reply r = {0};
    send(f->qmp, "query-status", &r);
    g_assert_false(r.sync_reply);
    g_assert_true(tloop_wait(&r.done, 5000));
    g_assert_error(r.error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    g_assert_cmpuint(f->closed_calls, ==, 1);
    reply_clear(&r);
}

/* A fake QEMU that greets, accepts qmp_capabilities, then sends what the
 * test gives it: a compromised QEMU is as hostile as a client. */
typedef struct {
    GPtrArray *conns;
    GBytes *payload;     /* sent after the handshake */
    gsize repeat;        /* how many times */
    gint finished;       /* atomic: the handler's thread is done with this */
} Hostile;

static gboolean
hostile_incoming(GSocketService *service, GSocketConnection *conn, GObject *source,
                 gpointer data)
{
    Hostile *h = data;
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    static const char greeting[] = "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n";
    g_output_stream_write_all(out, greeting, strlen(greeting), NULL, NULL, NULL);
    /* This runs in a thread of its own: blocking writes are fine. The
     * client's qmp_capabilities is its command 1: answered blindly. */
    static const char ok[] = "{\"return\": {}, \"id\": 1}\r\n";
    g_output_stream_write_all(out, ok, strlen(ok), NULL, NULL, NULL);
    gsize len = 0;
    const void *p = g_bytes_get_data(h->payload, &len);
    for (gsize i = 0; i < h->repeat; i++) {
        if (!g_output_stream_write_all(out, p, len, NULL, NULL, NULL))
            break;
    }
    g_ptr_array_add(h->conns, g_object_ref(conn));
    g_atomic_int_set(&h->finished, 1);
    return TRUE;
}

static void
run_hostile(Fixture *f, GBytes *payload, gsize repeat, const char *expect)
{
    Hostile h = {g_ptr_array_new_with_free_func(g_object_unref), payload, repeat, 0};
    g_autoptr(GSocketService) service = g_threaded_socket_service_new(1);
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(f->sock);
    g_autoptr(GError) error = NULL;
    g_assert_true(g_socket_listener_add_address(G_SOCKET_LISTENER(service), addr,
                                                G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                                                NULL, NULL, &error));
    g_signal_connect(service, "run", G_CALLBACK(hostile_incoming), &h);
    g_socket_service_start(service);

    f->qmp = vd_qmp_connect(f->sock, 10000, on_ready, on_event, on_closed, f);
    g_assert_true(tloop_wait(&f->ready, 10000));
    g_assert_no_error(f->ready_error);
    Reply r = {0};
    send(f->qmp, "query-status", &r);
    g_assert_true(tloop_wait(&f->closed, 30000));
    g_assert_true(tloop_wait(&r.done, 5000));
    g_assert_error(r.error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    g_test_message("%s", r.error->message);
    g_assert_nonnull(strstr(r.error->message, expect));
    g_assert_false(vd_qmp_is_connected(f->qmp));
    reply_clear(&r);
    vd_qmp_free(g_steal_pointer(&f->qmp));
    /* The handler runs in the service's thread and uses @h until it has
     * seen the closed connection: @h lives on this stack. */
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (!g_atomic_int_get(&h.finished) && g_get_monotonic_time() < deadline)
        g_usleep(10000);
    g_assert_true(g_atomic_int_get(&h.finished));
    service_stop(G_SOCKET_SERVICE(service));
    g_ptr_array_unref(h.conns);
}

/* An endless line: the client gives up at its bound instead of buffering
 * all 64 MiB. */
static void
test_hostile_long_line(Fixture *f, gconstpointer data)
{
    g_autofree char *chunk = g_malloc(1024 * 1024);
    memset(chunk, ' ', 1024 * 1024);
    g_autoptr(GBytes) payload = g_bytes_new_take(g_steal_pointer(&chunk), 1024 * 1024);
    run_hostile(f, payload, 64, "line longer than");
}

/* 80,000 nested arrays would overflow the stack in json-glib's parser. */
static void
test_hostile_deep_json(Fixture *f, gconstpointer data)
{
    GString *s = g_string_new("{\"return\": ");
    for (int i = 0; i < 80000; i++)
        g_string_append_c(s, '[');
    for (int i = 0; i < 80000; i++)
        g_string_append_c(s, ']');
    g_string_append(s, ", \"id\": 2}\r\n");
    g_autoptr(GBytes) payload = g_string_free_to_bytes(s);
    run_hostile(f, payload, 1, "more than 64 deep");
}

/* The parse step alone (qmp-message.c), on lines QEMU could send. */
static void
test_message_parse(void)
{
    VdQmpMessage msg;
    g_autoptr(GError) error = NULL;
    const char *reply = "{\"return\": {\"status\": \"running\"}, \"id\": 7}";

    g_assert_true(vd_qmp_message_parse(reply, strlen(reply), &msg, &error));
    g_assert_true(msg.reply && msg.has_id && !msg.failed && !msg.event);
    g_assert_cmpuint(msg.id, ==, 7);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(msg.result));
    vd_qmp_message_clear(&msg);

    const char *event = "{\"event\": \"STOP\", \"data\": {\"x\": 1}}";
    g_assert_true(vd_qmp_message_parse(event, strlen(event), &msg, &error));
    g_assert_cmpstr(msg.event, ==, "STOP");
    g_assert_nonnull(msg.event_data);
    vd_qmp_message_clear(&msg);

    /* Members of the wrong type: json-glib's string accessor with a
     * default asserts (Json-CRITICAL) on an object or array; the parse
     * reads them by type instead (fatal criticals in this test). */
    const char *odd = "{\"event\": {}, \"error\": {\"desc\": [1]}, \"id\": 3}";
    g_assert_true(vd_qmp_message_parse(odd, strlen(odd), &msg, &error));
    g_assert_null(msg.event);
    g_assert_true(msg.reply && msg.failed);
    g_assert_cmpstr(msg.error_desc, ==, "unknown QMP error");
    vd_qmp_message_clear(&msg);

    /* Not an object: ignored, not an error. */
    g_assert_true(vd_qmp_message_parse("[1, 2]", 6, &msg, &error));
    g_assert_null(msg.root);
    vd_qmp_message_clear(&msg);

    /* Refused by the guard: the connection ends. */
    const char *nul = "{\"a\": \"\\u0000\"}";
    g_assert_false(vd_qmp_message_parse(nul, strlen(nul), &msg, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    vd_qmp_message_clear(&msg);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_log_set_fatal_handler(fatal_unless_listener_closed, NULL);
    tcaps_real();
    g_test_add_func("/qemu/qmp/message-parse", test_message_parse);
#define ADD(path, fn) g_test_add("/qemu/qmp/" path, Fixture, NULL, setup, fn, teardown)
    ADD("connect-retry", test_connect_retry);
    ADD("events", test_events);
    ADD("huge-reply", test_huge_reply);
    ADD("error-reply", test_error_reply);
    ADD("getfd", test_getfd);
    ADD("queued-before-ready", test_queued_before_ready);
    ADD("quit", test_quit);
    ADD("killed-mid-command", test_killed_mid_command);
    ADD("free-in-reply", test_free_in_callback);
    ADD("free-in-event", test_free_in_event);
    ADD("free-in-ready", test_free_in_ready);
    ADD("free-while-connecting", test_free_while_connecting);
    ADD("connect-timeout", test_connect_timeout);
    ADD("not-qmp", test_not_qmp);
    ADD("dead-qemu", test_dead_qemu);
    ADD("hostile-long-line", test_hostile_long_line);
    ADD("hostile-deep-json", test_hostile_deep_json);
    return g_test_run();
}
