/* The guest agent client (daemon/domain/guest-agent.c) against a fake
 * agent: a thread serving a UNIX socket the way QEMU's chardev does (one
 * client at a time) and speaking the agent's protocol, well or badly. */
#include <errno.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/domain/guest-agent.h"
#include "util/vd-error.h"

typedef enum {
    FAKE_NORMAL, /* garbage before the sync's reply, the reply split across writes */
    FAKE_STALE,  /* stale sentinels and a stale sync reply before ours */
    FAKE_BIG,    /* a reply line over the limit */
    FAKE_SILENT, /* reads, never answers */
    FAKE_CLOSE,  /* closes after the sync */
    FAKE_ERROR,  /* the agent's own error */
    FAKE_DEEP,   /* JSON nested deeper than the guard allows */
} FakeMode;

typedef struct {
    int listen_fd;
    char *path;
    FakeMode mode;
    guint accepts;
    const char *reply; /* the command's reply line (FAKE_NORMAL, FAKE_STALE) */
    GThread *thread;
    /* what the fake saw */
    gboolean sync_began_with_ff;
    gboolean overlap;    /* a second client connected while one was served */
    gboolean premature;  /* the command came before the sync's real reply */
    GPtrArray *commands; /* lines received after the sync */
} Fake;

static void
write_all(int fd, const char *data, gsize len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the client gave up: expected in some cases */
        data += n;
        len -= (gsize)n;
    }
}

static void
write_str(int fd, const char *s)
{
    write_all(fd, s, strlen(s));
}

/* One line, or NULL on EOF / 5 s of silence. */
static GString *
read_line(int fd)
{
    GString *s = g_string_new(NULL);
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0)
            break;
        char ch;
        if (read(fd, &ch, 1) != 1)
            break;
        g_string_append_c(s, ch);
        if (ch == '\n')
            return s;
    }
    g_string_free(s, TRUE);
    return NULL;
}

static void
serve(Fake *f, int fd)
{
    g_autoptr(GString) sync = read_line(fd);
    g_assert_nonnull(sync);
    f->sync_began_with_ff = sync->len > 0 && (guchar)sync->str[0] == 0xFF;
    const char *idp = strstr(sync->str, "\"id\": ");
    g_assert_nonnull(idp);
    g_assert_nonnull(strstr(sync->str, "guest-sync-delimited"));
    gint64 id = g_ascii_strtoll(idp + 6, NULL, 10);
    g_assert_cmpint(id, >, 0);

    /* QEMU's socket takes one client at a time: is another knocking? */
    struct pollfd lp = {.fd = f->listen_fd, .events = POLLIN};
    if (poll(&lp, 1, 200) > 0)
        f->overlap = TRUE;

    if (f->mode == FAKE_CLOSE)
        return;
    if (f->mode == FAKE_SILENT) {
        g_autoptr(GString) rest = read_line(fd); /* until the client gives up */
        return;
    }
    /* What an agent may have left in the channel: replies to calls that
     * timed out, half a document, an error about the 0xFF. */
    write_str(fd, "{\"return\": 77}\n{\"error\": {\"class\": \"GenericError\"}}\n{\"ret");
    if (f->mode == FAKE_STALE)
        write_str(fd, "\xff{\"return\": 12345}\n\xff{\"retu\xff  {\"return\": [1]}\n");
    /* A client that took stale data for the sync's reply would send its
     * command now, before the real reply. */
    struct pollfd cp = {.fd = fd, .events = POLLIN};
    if (poll(&cp, 1, 150) > 0)
        f->premature = TRUE;
    g_autofree char *ours = g_strdup_printf("\xff{\"return\": %" G_GINT64_FORMAT "}\n", id);
    write_str(fd, ours);

    GString *cmd = read_line(fd);
    g_assert_nonnull(cmd);
    g_ptr_array_add(f->commands, g_string_free(cmd, FALSE));
    switch (f->mode) {
    case FAKE_NORMAL:
    case FAKE_STALE: {
        gsize half = strlen(f->reply) / 2;
        write_all(fd, "\n", 1); /* an empty line first: skipped */
        write_all(fd, f->reply, half);
        g_usleep(100 * 1000);
        write_str(fd, f->reply + half);
        break;
    }
    case FAKE_BIG: {
        g_autofree char *block = g_malloc(64 * 1024);
        memset(block, ' ', 64 * 1024);
        write_str(fd, "{\"return\": \"");
        for (int i = 0; i < 40; i++) /* 2.5 MiB, no newline */
            write_all(fd, block, 64 * 1024);
        break;
    }
    case FAKE_ERROR:
        write_str(fd, "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
                      "guest-frob has not been found\"}}\n");
        break;
    case FAKE_DEEP: {
        g_autoptr(GString) deep = g_string_new("{\"return\": ");
        for (int i = 0; i < 200; i++)
            g_string_append_c(deep, '[');
        for (int i = 0; i < 200; i++)
            g_string_append_c(deep, ']');
        g_string_append(deep, "}\n");
        write_str(fd, deep->str);
        break;
    }
    default:
        break;
    }
    /* Wait for the client to close, as QEMU would stay connected. */
    g_autoptr(GString) rest = read_line(fd);
}

static gpointer
fake_run(gpointer data)
{
    Fake *f = data;
    for (guint i = 0; i < f->accepts; i++) {
        struct pollfd p = {.fd = f->listen_fd, .events = POLLIN};
        if (poll(&p, 1, 10000) <= 0)
            break;
        int fd = accept(f->listen_fd, NULL, NULL);
        if (fd < 0)
            break;
        serve(f, fd);
        close(fd);
    }
    return NULL;
}

static Fake *
fake_start(const char *dir, const char *name, FakeMode mode, guint accepts, const char *reply)
{
    Fake *f = g_new0(Fake, 1);
    f->path = g_build_filename(dir, name, NULL);
    f->mode = mode;
    f->accepts = accepts;
    f->reply = reply;
    f->commands = g_ptr_array_new_with_free_func(g_free);
    f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(f->listen_fd, >=, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_strlcpy(sa.sun_path, f->path, sizeof(sa.sun_path));
    g_assert_cmpint(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(listen(f->listen_fd, 4), ==, 0);
    f->thread = g_thread_new("fake-agent", fake_run, f);
    return f;
}

static void
fake_stop(Fake *f)
{
    g_thread_join(f->thread);
    close(f->listen_fd);
    g_unlink(f->path);
    g_free(f->path);
    g_ptr_array_unref(f->commands);
    g_free(f);
}

typedef struct {
    GMainLoop *loop;
    int pending;
    JsonNode *result[4];
    GError *error[4];
    int order[4]; /* completion order */
    int completed;
} Wait;

typedef struct {
    Wait *w;
    int index;
} Slot;

static void
call_done(GObject *source, GAsyncResult *res, gpointer data)
{
    Slot *s = data;
    Wait *w = s->w;
    w->result[s->index] = vd_guest_agent_call_finish(res, &w->error[s->index]);
    w->order[w->completed++] = s->index;
    if (--w->pending == 0)
        g_main_loop_quit(w->loop);
}

static char *
tmpdir(void)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("vd-agent-XXXXXX", &error);
    g_assert_no_error(error);
    return dir;
}

/* One call on a fake in @mode; returns the fake (stopped) for checks. */
static void
run_one(FakeMode mode, const char *reply, guint timeout_s, JsonNode **result, GError **error,
        gboolean *in_sync, char **command)
{
    g_autofree char *dir = tmpdir();
    Fake *f = fake_start(dir, "g.agent", mode, 1, reply);
    Wait w = {.loop = g_main_loop_new(NULL, FALSE), .pending = 1};
    Slot s = {&w, 0};
    JsonObject *args = json_object_new();
    json_object_set_int_member(args, "n", 1);
    vd_guest_agent_call_path(f->path, "guest agent of domain 'g'", "guest-frob", args, timeout_s,
                             call_done, &s);
    g_assert_cmpint(w.completed, ==, 0); /* never from inside the call */
    g_main_loop_run(w.loop);
    g_main_loop_unref(w.loop);
    if (in_sync)
        *in_sync = f->sync_began_with_ff && !f->premature;
    if (command)
        *command = f->commands->len ? g_strdup(g_ptr_array_index(f->commands, 0)) : NULL;
    fake_stop(f);
    g_rmdir(dir);
    *result = w.result[0];
    *error = w.error[0];
}

#define IFACES_REPLY                                                                               \
    "{\"return\": [{\"name\": \"lo\", \"hardware-address\": \"00:00:00:00:00:00\", "               \
    "\"ip-addresses\": [{\"ip-address-type\": \"ipv4\", \"ip-address\": \"127.0.0.1\", "           \
    "\"prefix\": 8}]}, {\"name\": \"enp1s0\", \"hardware-address\": \"52:54:00:AB:cd:01\", "       \
    "\"ip-addresses\": [{\"ip-address-type\": \"ipv4\", \"ip-address\": \"10.0.2.15\", "           \
    "\"prefix\": 24}, {\"ip-address-type\": \"ipv6\", \"ip-address\": "                            \
    "\"fe80::5054:ff:feab:cd01%2\", "                                                              \
    "\"prefix\": 64}]}]}\n"

static void
test_normal(gconstpointer data)
{
    FakeMode mode = GPOINTER_TO_INT(data);
    JsonNode *result = NULL;
    GError *error = NULL;
    gboolean ff = FALSE;
    g_autofree char *command = NULL;
    run_one(mode, IFACES_REPLY, 5, &result, &error, &ff, &command);
    g_assert_no_error(error);
    g_assert_true(ff);
    g_assert_nonnull(command);
    g_assert_nonnull(strstr(command, "\"execute\":\"guest-frob\""));
    g_assert_nonnull(strstr(command, "\"arguments\":{\"n\":1}"));
    g_assert_true(JSON_NODE_HOLDS_ARRAY(result));

    g_autoptr(JsonNode) ifaces = vd_guest_agent_interfaces_from_reply(result);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, ifaces);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    g_assert_cmpstr(text, ==,
                    "[{\"name\":\"enp1s0\",\"mac\":\"52:54:00:ab:cd:01\",\"addrs\":["
                    "{\"type\":\"ipv4\",\"addr\":\"10.0.2.15\",\"prefix\":24},"
                    "{\"type\":\"ipv6\",\"addr\":\"fe80::5054:ff:feab:cd01\",\"prefix\":64}]}]");
    json_node_unref(result);
}

static void
expect_error(FakeMode mode, guint timeout_s, int code, const char *part)
{
    JsonNode *result = NULL;
    GError *error = NULL;
    gint64 t0 = g_get_monotonic_time();
    run_one(mode, NULL, timeout_s, &result, &error, NULL, NULL);
    g_assert_null(result);
    g_assert_error(error, VD_ERROR, code);
    if (!strstr(error->message, part))
        g_error("'%s' not in '%s'", part, error->message);
    /* Only the silent agent waits for the timeout. */
    if (mode != FAKE_SILENT)
        g_assert_cmpint(g_get_monotonic_time() - t0, <, 3 * G_USEC_PER_SEC);
    g_error_free(error);
}

static void
test_big(void)
{
    expect_error(FAKE_BIG, 5, VD_ERROR_TOO_LARGE, "larger than 1 MiB");
}

static void
test_silent(void)
{
    expect_error(FAKE_SILENT, 1, VD_ERROR_TIMEOUT,
                 "guest agent of domain 'g' did not answer in 1 s: is qemu-guest-agent running "
                 "in the guest?");
}

static void
test_closed(void)
{
    expect_error(FAKE_CLOSE, 5, VD_ERROR_OPERATION_FAILED, "closed the connection");
}

static void
test_agent_error(void)
{
    expect_error(FAKE_ERROR, 5, VD_ERROR_OPERATION_FAILED,
                 "refused 'guest-frob': The command guest-frob has not been found");
}

static void
test_deep(void)
{
    expect_error(FAKE_DEEP, 5, VD_ERROR_OPERATION_FAILED, "JSON that is refused");
}

static void
test_no_socket(void)
{
    g_autofree char *dir = tmpdir();
    g_autofree char *path = g_build_filename(dir, "none.agent", NULL);
    Wait w = {.loop = g_main_loop_new(NULL, FALSE), .pending = 1};
    Slot s = {&w, 0};
    vd_guest_agent_call_path(path, "guest agent of domain 'g'", "guest-ping", NULL, 5, call_done,
                             &s);
    g_main_loop_run(w.loop);
    g_main_loop_unref(w.loop);
    g_assert_error(w.error[0], VD_ERROR, VD_ERROR_OPERATION_FAILED);
    g_assert_nonnull(strstr(w.error[0]->message, "cannot connect"));
    g_error_free(w.error[0]);
    g_rmdir(dir);
}

/* What the guest says is filtered before it reaches a terminal. */
static void
test_convert_hostile(void)
{
    const char *reply =
        "[{\"name\": \"e\\u001b[31mvil\", \"hardware-address\": \"zz:54:00:00:00:01\", "
        "\"ip-addresses\": [{\"ip-address-type\": \"ipv4\", \"ip-address\": \"10.0.0.300\", "
        "\"prefix\": 24}, {\"ip-address-type\": \"ipv4\", \"ip-address\": \"10.0.0.3\", "
        "\"prefix\": 33}, {\"ip-address-type\": \"ipv4\", \"ip-address\": \"::1\", \"prefix\": 8}, "
        "{\"ip-address-type\": \"ipx\", \"ip-address\": \"1\", \"prefix\": 8}, "
        "{\"ip-address-type\": \"ipv4\", \"ip-address\": \"10.0.0.4\", \"prefix\": \"8\"}, "
        "{\"ip-address-type\": \"ipv4\", \"ip-address\": \"10.0.0.5\", \"prefix\": 16}]}, "
        "{\"hardware-address\": \"52:54:00:00:00:02\"}, 7, {\"name\": {}}, "
        "{\"name\": \"tun0\", \"hardware-address\": [1], \"ip-addresses\": [{\"ip-address-type\": "
        "[], \"ip-address\": {}}, 3]}]";
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, reply, -1, NULL));
    g_autoptr(JsonNode) out = vd_guest_agent_interfaces_from_reply(json_parser_get_root(p));
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, out);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    g_assert_cmpstr(text, ==,
                    "[{\"name\":\"e?[31mvil\",\"mac\":null,\"addrs\":["
                    "{\"type\":\"ipv4\",\"addr\":\"10.0.0.5\",\"prefix\":16}]},"
                    "{\"name\":\"tun0\",\"mac\":null,\"addrs\":[]}]");
    g_autoptr(JsonNode) none = vd_guest_agent_interfaces_from_reply(NULL);
    g_assert_cmpint(json_array_get_length(json_node_get_array(none)), ==, 0);
}

/* ---- per domain ---------------------------------------------------------- */

#define AGENT_CHANNEL                                                                              \
    "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"

static VdDomainObj *
fake_domain(const char *devices, VdState state)
{
    g_autofree char *xml =
        g_strdup_printf("<domain type='kvm'><name>g</name><memory unit='MiB'>64</memory>"
                        "<os><type>hvm</type></os><devices>%s</devices></domain>",
                        devices);
    g_autoptr(GError) error = NULL;
    VdDomainObj *dom = g_new0(VdDomainObj, 1);
    dom->refcount = 1;
    dom->name = g_strdup("g");
    dom->live = vd_domain_def_parse(xml, -1, &error);
    g_assert_no_error(error);
    dom->state = state;
    dom->id = 1;
    return dom;
}

/* Three calls at once on one domain reach the agent one after the
 * other, in order, each on its own connection. */
static void
test_domain_queue(void)
{
    g_autofree char *dir = tmpdir();
    VdPaths paths = {.run_qemu_dir = dir}; /* where QEMU makes the agent socket */
    VdDaemon d = {.paths = &paths};
    Fake *f = fake_start(dir, "g.agent", FAKE_NORMAL, 3, "{\"return\": {}}\n");
    VdDomainObj *dom = fake_domain(AGENT_CHANNEL, VD_STATE_RUNNING);
    Wait w = {.loop = g_main_loop_new(NULL, FALSE), .pending = 3};
    Slot s[3] = {{&w, 0}, {&w, 1}, {&w, 2}};
    const char *cmds[3] = {"guest-ping", "guest-info", "guest-get-time"};
    for (int i = 0; i < 3; i++)
        vd_guest_agent_call(&d, dom, cmds[i], NULL, 5, call_done, &s[i]);
    g_assert_nonnull(dom->agent);
    g_main_loop_run(w.loop);
    g_main_loop_unref(w.loop);
    g_assert_null(dom->agent); /* nothing left once all are done */
    g_assert_cmpint(dom->refcount, ==, 1);
    for (int i = 0; i < 3; i++) {
        g_assert_no_error(w.error[i]);
        g_assert_cmpint(w.order[i], ==, i);
        json_node_unref(w.result[i]);
    }
    g_assert_false(f->overlap);
    g_assert_cmpuint(f->commands->len, ==, 3);
    for (int i = 0; i < 3; i++) {
        g_autofree char *want = g_strdup_printf("\"execute\":\"%s\"", cmds[i]);
        g_assert_nonnull(strstr(g_ptr_array_index(f->commands, i), want));
    }
    fake_stop(f);
    vd_domain_obj_unref(dom);
    g_rmdir(dir);
}

static void
domain_error(const char *devices, VdState state, int code, const char *message)
{
    VdPaths paths = {.run_qemu_dir = (char *)"/nonexistent"};
    VdDaemon d = {.paths = &paths};
    VdDomainObj *dom = fake_domain(devices, state);
    Wait w = {.loop = g_main_loop_new(NULL, FALSE), .pending = 1};
    Slot s = {&w, 0};
    vd_guest_agent_call(&d, dom, "guest-ping", json_object_new(), 5, call_done, &s);
    g_assert_cmpint(w.completed, ==, 0);
    g_main_loop_run(w.loop);
    g_main_loop_unref(w.loop);
    g_assert_error(w.error[0], VD_ERROR, code);
    g_assert_cmpstr(w.error[0]->message, ==, message);
    g_error_free(w.error[0]);
    g_assert_null(dom->agent);
    vd_domain_obj_unref(dom);
}

static void
test_domain_refusals(void)
{
    domain_error("", VD_STATE_RUNNING, VD_ERROR_UNSUPPORTED,
                 "domain 'g' has no guest agent channel: add <channel type='unix'><target "
                 "type='virtio' name='org.qemu.guest_agent.0'/></channel>");
    /* Another channel is not the agent's. */
    domain_error("<channel type='unix'><target type='virtio' name='org.example.x'/></channel>",
                 VD_STATE_RUNNING, VD_ERROR_UNSUPPORTED,
                 "domain 'g' has no guest agent channel: add <channel type='unix'><target "
                 "type='virtio' name='org.qemu.guest_agent.0'/></channel>");
    domain_error(AGENT_CHANNEL, VD_STATE_SHUTOFF, VD_ERROR_INVALID_STATE,
                 "Requested operation is not valid: domain is not running");
    domain_error(AGENT_CHANNEL, VD_STATE_PAUSED, VD_ERROR_INVALID_STATE,
                 "Requested operation is not valid: domain 'g' is paused, its guest agent "
                 "cannot answer: resume it first");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/guest-agent/garbage-and-split-reply", GINT_TO_POINTER(FAKE_NORMAL),
                         test_normal);
    g_test_add_data_func("/guest-agent/stale-sentinels", GINT_TO_POINTER(FAKE_STALE), test_normal);
    g_test_add_func("/guest-agent/oversized-reply", test_big);
    g_test_add_func("/guest-agent/silent-agent-times-out", test_silent);
    g_test_add_func("/guest-agent/closed-connection", test_closed);
    g_test_add_func("/guest-agent/agent-error", test_agent_error);
    g_test_add_func("/guest-agent/deep-json-refused", test_deep);
    g_test_add_func("/guest-agent/no-socket", test_no_socket);
    g_test_add_func("/guest-agent/convert-hostile", test_convert_hostile);
    g_test_add_func("/guest-agent/domain-one-call-at-a-time", test_domain_queue);
    g_test_add_func("/guest-agent/domain-refusals", test_domain_refusals);
    return g_test_run();
}
