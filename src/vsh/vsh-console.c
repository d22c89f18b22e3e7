/* vsh console: a domain's serial console on the terminal.
 *
 * The API offers the console as a WebSocket of raw bytes
 * (GET /v1/domains/{dom}/console); this file relays stdin to it and it to
 * stdout in a GMainLoop. With a terminal on stdin, the terminal goes raw
 * (so the guest gets every key, Ctrl+C included) and Ctrl+] detaches, as in
 * virsh. Without one, vsh relays anyway (virsh refuses) and keeps printing
 * after stdin ends, until the daemon closes the session or a signal comes:
 * that is how scripts and tests watch a guest boot.
 */
#include "vsh-console.h"

#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "util/vd-error.h"
#include "vsh-client.h"

/* Ctrl+], telnet's and virsh's default escape. */
#define ESCAPE_CHAR 0x1d

/* How long a detach waits for the daemon to acknowledge the close. */
#define CLOSE_TIMEOUT_MS 2000

/* The terminal settings to restore. Static because the atexit() hook that
 * restores them on an unexpected exit() cannot take an argument. */
static struct termios saved_termios;
static gboolean termios_saved;

static void
tty_restore(void)
{
    if (termios_saved) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
        termios_saved = FALSE;
    }
}

static gboolean
tty_make_raw(void)
{
    static gboolean hooked;
    struct termios raw;

    if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
        return FALSE;
    raw = saved_termios;
    cfmakeraw(&raw);
    if (!hooked) {
        atexit(tty_restore);
        hooked = TRUE;
    }
    termios_saved = TRUE;
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) < 0) {
        termios_saved = FALSE;
        return FALSE;
    }
    return TRUE;
}

typedef struct {
    GMainLoop *loop;
    GAsyncResult *connect_result;
    SoupWebsocketConnection *ws;
    gboolean detached;       /* we ended the session (escape, signal, stdout gone) */
    gboolean closed_by_peer; /* the daemon ended it */
    guint stdin_watch;
    guint signal_watch[3];
    guint close_timeout;
} Console;

static void
on_connected(GObject *source, GAsyncResult *result, gpointer data)
{
    Console *c = data;

    c->connect_result = g_object_ref(result);
    g_main_loop_quit(c->loop);
}

static gboolean
write_all(int fd, const char *buf, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return FALSE;
        buf += n;
        len -= (gsize)n;
    }
    return TRUE;
}

static void
detach(Console *c)
{
    c->detached = TRUE;
    g_main_loop_quit(c->loop);
}

static void
on_message(SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer data)
{
    Console *c = data;
    gsize len = 0;
    const char *bytes = g_bytes_get_data(message, &len);

    if (len > 0 && !write_all(STDOUT_FILENO, bytes, len))
        detach(c);
}

static void
on_closed(SoupWebsocketConnection *ws, gpointer data)
{
    Console *c = data;

    if (!c->detached)
        c->closed_by_peer = TRUE;
    g_main_loop_quit(c->loop);
}

static gboolean
on_stdin(gint fd, GIOCondition condition, gpointer data)
{
    Console *c = data;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    const char *esc;
    gsize len;

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return G_SOURCE_CONTINUE;
    if (n <= 0) {
        /* End of input: keep showing the console until it closes. */
        c->stdin_watch = 0;
        return G_SOURCE_REMOVE;
    }
    esc = memchr(buf, ESCAPE_CHAR, (gsize)n);
    len = esc ? (gsize)(esc - buf) : (gsize)n;
    if (len > 0 && soup_websocket_connection_get_state(c->ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_send_binary(c->ws, buf, len);
    if (esc) {
        c->stdin_watch = 0;
        detach(c);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean
on_signal(gpointer data)
{
    detach(data);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_close_timeout(gpointer data)
{
    Console *c = data;

    c->close_timeout = 0;
    g_main_loop_quit(c->loop);
    return G_SOURCE_REMOVE;
}

/* Why the daemon refused the WebSocket. libsoup does not give us the
 * error body of a failed handshake, so the status decides, with a fresh
 * look at the domain to tell "busy" from "not running". */
static void
set_refusal_error(VshCtl *ctl, VshClient *client, SoupMessage *msg, const char *name,
                  const GError *cause, GError **error)
{
    guint status = soup_message_get_status(msg);
    g_autoptr(JsonNode) again = NULL;
    const char *state;

    switch (status) {
    case SOUP_STATUS_NONE:
        vsh_client_set_transport_error(client, cause, error);
        return;
    case SOUP_STATUS_NOT_FOUND:
        g_set_error(error, VD_ERROR, VD_ERROR_NO_DOMAIN, "failed to get domain '%s'", name);
        return;
    case SOUP_STATUS_FORBIDDEN:
        g_set_error(error, VD_ERROR, VD_ERROR_DENIED, "access denied: the console of domain '%s'",
                    name);
        return;
    case SOUP_STATUS_CONFLICT: {
        /* the daemon's reason (a snapshot or save in progress is not a
         * console session) */
        const char *why =
            soup_message_headers_get_one(soup_message_get_response_headers(msg), "X-Virtd-Error");
        g_autofree char *text = why ? g_uri_unescape_string(why, NULL) : NULL;
        if (!(again = vsh_domain_call(ctl, "GET", name, NULL, NULL, error)))
            return;
        state = vsh_json_string(vsh_json_domain(again), "state", "");
        if (g_str_equal(state, "shut off"))
            g_set_error_literal(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                                "The domain is not running");
        else if (text && *text)
            g_set_error_literal(error, VD_ERROR, VD_ERROR_BUSY, text);
        else
            g_set_error_literal(error, VD_ERROR, VD_ERROR_BUSY,
                                "operation failed: Active console session exists for this "
                                "domain");
        return;
    }
    default:
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: virtd refused the console (HTTP %u %s): %s", status,
                    soup_message_get_reason_phrase(msg) ? soup_message_get_reason_phrase(msg) : "",
                    cause ? cause->message : "no detail");
        return;
    }
}

static SoupWebsocketConnection *
console_connect(VshCtl *ctl, Console *c, const char *name, const char *key, gboolean force,
                GError **error)
{
    VshClient *client = vsh_ctl_client(ctl, error);
    g_autofree char *path = NULL;
    g_autofree char *url = NULL;
    g_autoptr(SoupMessage) msg = NULL;
    g_autoptr(GError) local = NULL;
    SoupWebsocketConnection *ws;

    if (!client)
        return NULL;
    path = vsh_domain_path(key ? key : name, force ? "/console?force=1" : "/console");
    url = vsh_client_url(client, path);
    msg = soup_message_new("GET", url);
    soup_session_websocket_connect_async(vsh_client_session(client), msg, NULL, NULL,
                                         G_PRIORITY_DEFAULT, NULL, on_connected, c);
    g_main_loop_run(c->loop);
    ws = soup_session_websocket_connect_finish(vsh_client_session(client), c->connect_result,
                                               &local);
    g_clear_object(&c->connect_result);
    if (!ws)
        set_refusal_error(ctl, client, msg, name, local, error);
    return ws;
}

gboolean
vsh_console_attach(VshCtl *ctl, const char *name, const char *key, gboolean force, GError **error)
{
    static const int signals[] = {SIGINT, SIGTERM, SIGHUP};
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    Console c = {.loop = loop};
    gboolean tty;

    c.ws = console_connect(ctl, &c, name, key, force, error);
    if (!c.ws)
        return FALSE;
    /* The daemon first replays up to 16 KiB of what the guest printed. */
    soup_websocket_connection_set_max_incoming_payload_size(c.ws, 0);
    g_signal_connect(c.ws, "message", G_CALLBACK(on_message), &c);
    g_signal_connect(c.ws, "closed", G_CALLBACK(on_closed), &c);

    vsh_print_extra(ctl, "Connected to domain '%s'\n", name);
    vsh_print_extra(ctl, "Escape character is ^] (Ctrl + ])\n");
    fflush(stdout);

    tty = isatty(STDIN_FILENO) && tty_make_raw();
    c.stdin_watch = g_unix_fd_add(STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, &c);
    for (gsize i = 0; i < G_N_ELEMENTS(signals); i++)
        c.signal_watch[i] = g_unix_signal_add(signals[i], on_signal, &c);

    if (soup_websocket_connection_get_state(c.ws) == SOUP_WEBSOCKET_STATE_OPEN)
        g_main_loop_run(loop);

    if (c.stdin_watch)
        g_source_remove(c.stdin_watch);
    for (gsize i = 0; i < G_N_ELEMENTS(signals); i++)
        g_source_remove(c.signal_watch[i]);
    if (tty)
        tty_restore();

    if (soup_websocket_connection_get_state(c.ws) != SOUP_WEBSOCKET_STATE_CLOSED) {
        c.close_timeout = g_timeout_add(CLOSE_TIMEOUT_MS, on_close_timeout, &c);
        /* CLOSING means a close is already under way; just wait for it. */
        if (soup_websocket_connection_get_state(c.ws) == SOUP_WEBSOCKET_STATE_OPEN)
            soup_websocket_connection_close(c.ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
        if (soup_websocket_connection_get_state(c.ws) != SOUP_WEBSOCKET_STATE_CLOSED)
            g_main_loop_run(loop);
        if (c.close_timeout)
            g_source_remove(c.close_timeout);
    }
    g_signal_handlers_disconnect_by_data(c.ws, &c);
    /* The daemon ends a session normally when the domain stops; with
     * 1008 when the session broke a bound, and says which. */
    gushort code = soup_websocket_connection_get_close_code(c.ws);
    g_autofree char *reason = g_strdup(soup_websocket_connection_get_close_data(c.ws));
    g_object_unref(c.ws);

    if (c.closed_by_peer)
        vsh_print(ctl, "\n");
    if (c.closed_by_peer && code == SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION && reason && *reason) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "console session closed by the daemon: %s", reason);
        return FALSE;
    }
    return TRUE;
}

static gboolean
cmd_console(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = vsh_cmd_get_string(cmd, "domain");
    g_autoptr(JsonNode) answer = vsh_domain_call(ctl, "GET", dom, NULL, NULL, error);
    JsonObject *summary;

    if (!answer)
        return FALSE;
    summary = vsh_json_domain(answer);
    if (g_str_equal(vsh_json_string(summary, "state", ""), "shut off")) {
        g_set_error_literal(error, VD_ERROR, VD_ERROR_INVALID_STATE, "The domain is not running");
        return FALSE;
    }
    return vsh_console_attach(ctl, vsh_json_string(summary, "name", dom),
                              vsh_json_string(summary, "uuid", NULL), vsh_cmd_has(cmd, "force"),
                              error);
}

static const VshOptDef opts_console[] = {
    VSH_OPT_DOMAIN,
    {"force", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "force console connection (disconnect already connected sessions)"},
    {NULL},
};

const VshCmdDef vsh_console_commands[] = {
    {"console", "domain", opts_console, cmd_console, "connect to the guest console",
     "Connect the virtual serial console for the guest. Ctrl+] detaches."},
    {NULL},
};
