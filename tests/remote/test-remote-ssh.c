/* The ssh tunnel of remote/ without sshd: ?command= names fake-ssh.py,
 * which records the argv it got and plays ssh (a working tunnel, a refused
 * login, a refused remote socket, a login that never ends). Through
 * vd_remote_open_async, as the daemon uses it from its main loop: the
 * argv, a request through the tunnel, ssh's words in the errors,
 * cancellation, and after vd_remote_free no process and no file left. */
#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

#include "remote/remote.h"
#include "util/vd-error.h"

static const char *fake_ssh;
static char *tmpdir;

typedef struct {
    GMainLoop *loop;
    VdRemote *remote;
    GError *error;
} Wait;

static void
on_opened(GObject *source, GAsyncResult *result, gpointer data)
{
    Wait *w = data;

    w->remote = vd_remote_open_finish(result, &w->error);
    g_main_loop_quit(w->loop);
}

static gboolean
cancel_later(gpointer data)
{
    g_cancellable_cancel(data);
    return G_SOURCE_REMOVE;
}

/* Opens ssh://u@h:2222/srv/v.sock through the fake in @mode. */
static VdRemote *
open_fake(const char *mode, gboolean cancel, GError **error)
{
    g_autofree char *text =
        g_strdup_printf("ssh://u@h:2222/srv/v.sock?command=%s&keyfile=/k/id", fake_ssh);
    g_autoptr(VdRemoteUri) uri = vd_remote_uri_parse(text, NULL);
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    Wait w = {.loop = loop};

    g_assert_nonnull(uri);
    g_setenv("VD_FAKE_SSH_MODE", mode, TRUE);
    vd_remote_open_async(uri, NULL, cancellable, on_opened, &w);
    if (cancel)
        g_timeout_add(300, cancel_later, cancellable);
    g_main_loop_run(loop);
    if (w.error)
        g_propagate_error(error, w.error);
    return w.remote;
}

static JsonObject *
record(void)
{
    g_autofree char *path = g_build_filename(tmpdir, "..", "record.json", NULL);
    g_autoptr(JsonParser) parser = json_parser_new();

    g_assert_true(json_parser_load_from_file(parser, path, NULL));
    return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

/* Nothing of the tunnel left: no file in $TMPDIR, the fake reaped. */
static void
assert_nothing_left(void)
{
    g_autoptr(GDir) dir = g_dir_open(tmpdir, 0, NULL);
    g_autoptr(JsonObject) rec = record();
    pid_t pid = (pid_t)json_object_get_int_member(rec, "pid");

    g_assert_nonnull(dir);
    g_assert_null(g_dir_read_name(dir));
    g_assert_cmpint(kill(pid, 0), ==, -1);
    g_assert_cmpint(errno, ==, ESRCH);
}

static void
test_ok(void)
{
    g_autoptr(GError) error = NULL;
    VdRemote *remote = open_fake("ok", FALSE, &error);
    g_autoptr(JsonObject) rec = NULL;
    g_autoptr(GString) argv = g_string_new(NULL);
    g_autofree char *expect = NULL;
    g_autofree char *url = NULL;
    g_autoptr(SoupMessage) msg = NULL;
    g_autoptr(GBytes) body = NULL;
    const char *local;
    JsonArray *args;

    g_assert_no_error(error);
    g_assert_nonnull(remote);
    local = vd_remote_local_socket(remote);
    g_assert_true(g_str_has_prefix(local, tmpdir));
    g_assert_true(g_str_has_suffix(local, "/virtd.sock"));

    /* The argv ssh got (no terminal here: BatchMode). */
    rec = record();
    args = json_object_get_array_member(rec, "argv");
    for (guint i = 0; i < json_array_get_length(args); i++)
        g_string_append_printf(argv, "%s%s", i ? " " : "", json_array_get_string_element(args, i));
    expect = g_strdup_printf("-p 2222 -l u -i /k/id -o BatchMode=yes -o ControlPath=none "
                             "-o ExitOnForwardFailure=yes "
                             "-o StreamLocalBindUnlink=yes -N -L %s:/srv/v.sock -- h",
                             local);
    g_assert_cmpstr(argv->str, ==, expect);

    /* A request through the tunnel. */
    url = vd_remote_url(remote, "/v1/version");
    g_assert_cmpstr(url, ==, "http://localhost/v1/version");
    msg = soup_message_new("GET", url);
    body = soup_session_send_and_read(vd_remote_session(remote), msg, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(soup_message_get_status(msg), ==, 200);
    g_assert_nonnull(strstr(g_bytes_get_data(body, NULL), "\"/srv/v.sock\""));

    vd_remote_free(remote);
    assert_nothing_left();
}

static void
test_deny(void)
{
    g_autoptr(GError) error = NULL;
    VdRemote *remote = open_fake("deny", FALSE, &error);

    g_assert_null(remote);
    g_assert_error(error, VD_ERROR, VD_ERROR_CONNECT);
    g_assert_nonnull(strstr(error->message, "Permission denied (publickey)."));
    g_assert_nonnull(strstr(error->message, "?keyfile="));
    assert_nothing_left();
}

static void
test_refuse(void)
{
    g_autoptr(GError) error = NULL;
    VdRemote *remote = open_fake("refuse", FALSE, &error);

    g_assert_null(remote);
    g_assert_error(error, VD_ERROR, VD_ERROR_CONNECT);
    g_assert_true(
        g_str_has_prefix(error->message, "Failed to connect socket to '/srv/v.sock' on h"));
    assert_nothing_left();
}

static void
test_cancel(void)
{
    g_autoptr(GError) error = NULL;
    VdRemote *remote = open_fake("hang", TRUE, &error);

    g_assert_null(remote);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    assert_nothing_left();
}

int
main(int argc, char **argv)
{
    /* Not g_dir_make_tmp: g_get_tmp_dir() would cache $TMPDIR before we
     * set it. */
    g_autofree char *base = g_strdup("/tmp/test-remote-ssh-XXXXXX");
    g_autofree char *rec = NULL;
    int status;

    g_assert_nonnull(g_mkdtemp(base));
    rec = g_build_filename(base, "record.json", NULL);

    g_test_init(&argc, &argv, NULL);
    fake_ssh = g_getenv("VD_FAKE_SSH");
    g_assert_nonnull(fake_ssh);
    tmpdir = g_build_filename(base, "t", NULL);
    g_assert_cmpint(g_mkdir(tmpdir, 0700), ==, 0);
    g_setenv("TMPDIR", tmpdir, TRUE);
    g_setenv("VD_FAKE_SSH_RECORD", rec, TRUE);
    g_test_add_func("/remote/ssh/ok", test_ok);
    g_test_add_func("/remote/ssh/deny", test_deny);
    g_test_add_func("/remote/ssh/refuse", test_refuse);
    g_test_add_func("/remote/ssh/cancel", test_cancel);
    status = g_test_run();
    g_unlink(rec);
    g_rmdir(tmpdir);
    g_rmdir(base);
    g_free(tmpdir);
    return status;
}
