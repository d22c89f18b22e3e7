/* Tests of virtd.conf (daemon/config-file.c): the key file turned into
 * option arguments for a table of every kind of option, the errors naming
 * file, line and key, the command line winning, the documents written from
 * the table (options-doc.c), sd_notify (sd-notify.c); and against the real
 * daemon (its path in argv[1]): its example file loads, a bad one stops it. */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/config-file.h"
#include "daemon/options-doc.h"
#include "daemon/sd-notify.h"

static const char *virtd_path;

static char *o_group, *o_file;
static int o_int;
static gboolean o_flag;
static char **o_list;

static const GOptionEntry entries[] = {
    {"socket-group", 'g', 0, G_OPTION_ARG_STRING, &o_group, "The group", "GROUP"},
    {"tls-dir", 0, 0, G_OPTION_ARG_FILENAME, &o_file, "A directory", "DIR"},
    {"idle-timeout", 0, 0, G_OPTION_ARG_INT, &o_int, "Seconds", "SECONDS"},
    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &o_flag, "Log more", NULL},
    {"listen", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &o_list, "Where", "ADDRESS"},
    {"secret", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &o_flag, "Hidden", NULL},
    {"config", 0, 0, G_OPTION_ARG_FILENAME, &o_file, "The file", "FILE"},
    {NULL}};

static char *
write_conf(const char *text)
{
    g_autofree char *dir = g_dir_make_tmp("test-config-XXXXXX", NULL);
    char *path = g_build_filename(dir, "virtd.conf", NULL);

    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static void
remove_conf(const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_unlink(path);
    g_rmdir(dir);
}

/* The arguments of @text (NULL: an error, into @error) joined by spaces. */
static char *
args_of(const char *text, char **cmdline, GError **error)
{
    g_autofree char *path = write_conf(text);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    gboolean ok = vd_config_file_to_args(path, entries, cmdline, out, error);

    remove_conf(path);
    if (!ok)
        return NULL;
    g_ptr_array_add(out, NULL);
    return g_strjoinv(" ", (char **)out->pdata);
}

static void
test_every_kind(void)
{
    char *cmdline[] = {"virtd", NULL};
    g_autoptr(GError) error = NULL;
    g_autofree char *args = args_of("# a comment\n"
                                    "[daemon]\n"
                                    "socket-group = virtd\n"
                                    "tls-dir=/etc/pki/x y\n"
                                    "idle-timeout = 30\n"
                                    "verbose = true\n"
                                    "listen = tls://0.0.0.0;tls://[::]:16515\n",
                                    cmdline, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(args, ==,
                    "--socket-group=virtd --tls-dir=/etc/pki/x y --idle-timeout=30 --verbose "
                    "--listen=tls://0.0.0.0 --listen=tls://[::]:16515");

    g_autofree char *off = args_of("[daemon]\nverbose = false\n", cmdline, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(off, ==, "");
}

/* Each bad file: the message names the file's line and the key. */
static void
test_errors_name_the_line(void)
{
    char *cmdline[] = {"virtd", NULL};
    const struct {
        const char *text, *want1, *want2;
    } cases[] = {
        {"[daemon]\nsocket-group = x\n\nsocket-grup = y\n", ":4: unknown key 'socket-grup'",
         "long option names"},
        {"[daemon]\nverbose = true\n[network]\nx = 1\n", ":3: unknown group [network]", "[daemon]"},
        {"[daemon]\n\nidle-timeout = soon\n", ":3: 'idle-timeout' takes a number, not 'soon'",
         "idle-timeout"},
        {"[daemon]\nverbose = yes please\n", ":2: 'verbose' takes true or false", "verbose"},
        {"[daemon]\nconfig = /x\n", ":2: 'config' can only be given on the command line", "config"},
        {"[daemon]\nsecret = true\n", ":2: unknown key 'secret'", "secret"},
        {"[daemon]\nthis is not a key file line\n", "virtd.conf:2: ", "this is not"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *args = args_of(cases[i].text, cmdline, &error);

        g_assert_null(args);
        g_assert_nonnull(error);
        if (!strstr(error->message, cases[i].want1) || !strstr(error->message, cases[i].want2))
            g_error("case %u: '%s' lacks '%s' or '%s'", i, error->message, cases[i].want1,
                    cases[i].want2);
        g_assert_nonnull(strstr(error->message, "virtd.conf"));
    }
}

/* Through vd_config_file_prepare() and GOptionContext, as main() does:
 * the command line's value and list replace the file's. */
static void
test_command_line_wins(void)
{
    g_autofree char *path = write_conf("[daemon]\nsocket-group = fromfile\n"
                                       "idle-timeout = 7\nlisten = tls://1.1.1.1;tls://2.2.2.2\n");
    g_autofree char *config_arg = g_strconcat("--config=", path, NULL);
    char *argv_in[] = {"virtd", config_arg, "-g", "fromcli", "--listen", "tls://3.3.3.3", NULL};
    char **argv = argv_in;
    int argc = G_N_ELEMENTS(argv_in) - 1;
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;

    g_assert_cmpint(vd_config_file_prepare(entries, &argc, &argv), ==, -1);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_assert_true(g_option_context_parse(ctx, &argc, &argv, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(o_group, ==, "fromcli");
    g_assert_cmpint(o_int, ==, 7);
    g_assert_cmpuint(g_strv_length(o_list), ==, 1);
    g_assert_cmpstr(o_list[0], ==, "tls://3.3.3.3");
    g_clear_pointer(&o_group, g_free);
    g_clear_pointer(&o_list, g_strfreev);
    g_clear_pointer(&o_file, g_free);
    remove_conf(path);
}

/* Which file: --config; DIR/etc/virtd.conf for --root DIR when it exists;
 * none when the default is absent. */
static void
test_which_file(void)
{
    g_autofree char *root = g_dir_make_tmp("test-config-root-XXXXXX", NULL);
    g_autofree char *etc = g_build_filename(root, "etc", NULL);
    g_autofree char *conf = g_build_filename(etc, "virtd.conf", NULL);
    char *given[] = {"virtd", "--config", "/nonexistent/v.conf", NULL};
    char *rooted[] = {"virtd", "-r", root, NULL};
    gboolean explicit_path = FALSE;

    g_autofree char *a = vd_config_file_choose(given, &explicit_path);
    g_assert_cmpstr(a, ==, "/nonexistent/v.conf");
    g_assert_true(explicit_path);
    g_autofree char *none = vd_config_file_choose(rooted, &explicit_path);
    g_assert_null(none);
    g_assert_false(explicit_path);
    g_mkdir(etc, 0700);
    g_file_set_contents(conf, "[daemon]\n", -1, NULL);
    g_autofree char *found = vd_config_file_choose(rooted, &explicit_path);
    g_assert_cmpstr(found, ==, conf);

    int argc = 3;
    char **argv = given;
    g_assert_cmpint(vd_config_file_prepare(entries, &argc, &argv), ==, 2);
    g_unlink(conf);
    g_rmdir(etc);
    g_rmdir(root);
}

/* The example file names every option the file may hold and loads as it
 * is; the man page has every visible option. */
static void
test_documents(void)
{
    g_autoptr(GString) conf = g_string_new(NULL);
    g_autoptr(GString) man = g_string_new(NULL);
    char *cmdline[] = {"virtd", NULL};
    g_autoptr(GError) error = NULL;

    vd_options_doc_config(conf, entries);
    vd_options_doc_man(man, entries);
    g_assert_nonnull(strstr(conf->str, "\n#socket-group = GROUP\n"));
    g_assert_nonnull(strstr(conf->str, "\n#verbose = false\n"));
    g_assert_nonnull(strstr(conf->str, "# --listen ADDRESS (repeatable"));
    g_assert_null(strstr(conf->str, "secret"));
    g_assert_null(strstr(conf->str, "#config ="));
    g_autofree char *args = args_of(conf->str, cmdline, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(args, ==, "");

    g_assert_true(g_str_has_prefix(man->str, ".TH VIRTD 8 "));
    g_assert_nonnull(
        strstr(man->str, "\\fB\\-g\\fR, \\fB\\-\\-socket\\-group\\fR \\fIGROUP\\fR\n"));
    g_assert_nonnull(
        strstr(man->str, "\\fB\\-\\-listen\\fR \\fIADDRESS\\fR\nWhere (repeatable)\n"));
    g_assert_nonnull(strstr(man->str, "\\-\\-config"));
    g_assert_null(strstr(man->str, "secret"));
}

static void
test_sd_notify(void)
{
    g_autofree char *dir = g_dir_make_tmp("test-notify-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "notify", NULL);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    char buf[256] = {0};

    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_setenv("NOTIFY_SOCKET", path, TRUE);
    g_assert_true(vd_sd_notify("READY=1\nSTATUS=x", NULL));
    /* Taken out of the environment: QEMU does not inherit it. */
    g_assert_null(g_getenv("NOTIFY_SOCKET"));
    g_assert_cmpint(recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT), ==, 16);
    g_assert_cmpstr(buf, ==, "READY=1\nSTATUS=x");
    g_assert_true(vd_sd_notify("STOPPING=1", NULL));
    memset(buf, 0, sizeof(buf));
    g_assert_cmpint(recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT), ==, 10);
    close(fd);
    g_unlink(path);
    g_rmdir(dir);
}

static int
run_virtd(const char *config, char **err_out)
{
    const char *argv[] = {virtd_path, "--config", config, "--version", NULL};
    int status = -1;

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                               NULL, err_out, &status, NULL));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The real daemon: its own example loads; a misspelt key stops it. */
static void
test_real_daemon(void)
{
    const char *argv[] = {virtd_path, "--dump-config", NULL};
    g_autofree char *example = NULL;
    g_autofree char *err = NULL;
    g_autofree char *err2 = NULL;
    int status = -1;

    g_assert_true(
        g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, &example, NULL, &status, NULL));
    g_assert_cmpint(status, ==, 0);
    g_assert_nonnull(strstr(example, "\n#socket-group = GROUP\n"));
    g_assert_nonnull(strstr(example, "\n#web = ADDRESS:PORT\n"));
    g_autofree char *good = write_conf(example);
    g_assert_cmpint(run_virtd(good, &err), ==, 0);
    remove_conf(good);

    g_autofree char *bad = write_conf("[daemon]\nverbose = true\nsocket-grop = kvm\n");
    g_assert_cmpint(run_virtd(bad, &err2), ==, 2);
    g_assert_nonnull(strstr(err2, "virtd.conf:3: unknown key 'socket-grop'"));
    remove_conf(bad);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    virtd_path = argc > 1 ? argv[1] : NULL;
    g_test_add_func("/config-file/every-kind", test_every_kind);
    g_test_add_func("/config-file/errors-name-the-line", test_errors_name_the_line);
    g_test_add_func("/config-file/command-line-wins", test_command_line_wins);
    g_test_add_func("/config-file/which-file", test_which_file);
    g_test_add_func("/config-file/documents", test_documents);
    g_test_add_func("/config-file/sd-notify", test_sd_notify);
    if (virtd_path)
        g_test_add_func("/config-file/real-daemon", test_real_daemon);
    return g_test_run();
}
