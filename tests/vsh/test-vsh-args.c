/* Tests of vsh command-line splitting and option parsing (vsh-args.c),
 * against test tables and against the real command table, with virsh's
 * exact error messages. */
#include "util/vd-error.h"
#include "vsh/vsh-args.h"
#include "vsh/vsh-client.h"

static GPtrArray *
split_ok(const char *line)
{
    g_autoptr(GError) error = NULL;
    GPtrArray *cmds = vsh_line_split(line, &error);

    g_assert_no_error(error);
    g_assert_nonnull(cmds);
    return cmds;
}

static void
assert_words(GPtrArray *cmds, guint i, const char *const *expected)
{
    g_assert_cmpuint(i, <, cmds->len);
    g_assert_cmpstrv(g_ptr_array_index(cmds, i), expected);
}

static void
test_split_quoting(void)
{
    g_autoptr(GPtrArray) c1 = split_ok("start  web1\t--console");
    g_autoptr(GPtrArray) c2 = split_ok("define 'my file.xml'");
    g_autoptr(GPtrArray) c3 = split_ok("dominfo \"a \\\"b\\\" c\"");
    g_autoptr(GPtrArray) c4 = split_ok("dominfo a\\ b 'x\\y' ''");
    g_autoptr(GPtrArray) c5 = split_ok("dominfo 'it'\\''s fine'");

    assert_words(c1, 0, (const char *const[]){"start", "web1", "--console", NULL});
    assert_words(c2, 0, (const char *const[]){"define", "my file.xml", NULL});
    assert_words(c3, 0, (const char *const[]){"dominfo", "a \"b\" c", NULL});
    assert_words(c4, 0, (const char *const[]){"dominfo", "a b", "x\\y", "", NULL});
    assert_words(c5, 0, (const char *const[]){"dominfo", "it's fine", NULL});
}

static void
test_split_commands(void)
{
    g_autoptr(GPtrArray) cmds = split_ok("list; list --all ;; uri # comment; ignored\nversion");
    g_autoptr(GPtrArray) quoted = split_ok("echo 'a;b' \"c;d\"");
    g_autoptr(GPtrArray) empty = split_ok("  ;  # nothing\n");

    g_assert_cmpuint(cmds->len, ==, 4);
    assert_words(cmds, 0, (const char *const[]){"list", NULL});
    assert_words(cmds, 1, (const char *const[]){"list", "--all", NULL});
    assert_words(cmds, 2, (const char *const[]){"uri", NULL});
    assert_words(cmds, 3, (const char *const[]){"version", NULL});
    assert_words(quoted, 0, (const char *const[]){"echo", "a;b", "c;d", NULL});
    g_assert_cmpuint(empty->len, ==, 0);
}

static void
test_split_errors(void)
{
    static const struct {
        const char *line;
        const char *message;
    } cases[] = {
        {"start \"web1", "missing \""},
        {"start 'web1", "missing '"},
        {"start web1\\", "dangling \\"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) cmds = vsh_line_split(cases[i].line, &error);

        g_assert_null(cmds);
        g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
        g_assert_cmpstr(error->message, ==, cases[i].message);
    }
}

static void
test_split_last(void)
{
    static const struct {
        const char *line;
        const char *words[4];
        const char *partial;
    } cases[] = {
        {"", {NULL}, ""},
        {"sta", {NULL}, "sta"},
        {"start ", {"start", NULL}, ""},
        {"start we", {"start", NULL}, "we"},
        {"list; start 'my d", {"start", NULL}, "my d"},
        {"start web1;", {NULL}, ""},
        {"start --console web1 --", {"start", "--console", "web1", NULL}, "--"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *partial = NULL;
        g_auto(GStrv) words = vsh_line_split_last(cases[i].line, &partial);

        g_assert_cmpstrv(words, cases[i].words);
        g_assert_cmpstr(partial, ==, cases[i].partial);
    }
}

/* A test command covering every option type. */
static gboolean
noop(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    return TRUE;
}

static const VshOptDef test_opts[] = {
    {"domain", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_DOMAIN, "dom"},
    {"count", VSH_OT_INT, VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE, "a number"},
    {"mode", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "a string"},
    {"level", VSH_OT_INT, 0, VSH_COMPLETE_NONE, "a number"},
    {"force", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "a flag"},
    {"rest", VSH_OT_ARGV, 0, VSH_COMPLETE_NONE, "the rest"},
    {NULL},
};

static const VshCmdDef test_def = {"frob", "vsh", test_opts, noop, "frob", NULL};

static VshCmd *
parse(const char *const *args, GError **error)
{
    return vsh_cmd_parse_def(&test_def, args, error);
}

static void
test_parse_forms(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VshCmd) a =
        parse((const char *const[]){"web1", "--mode=acpi", "--force", "7", NULL}, &error);
    g_autoptr(VshCmd) b = NULL;
    g_autoptr(VshCmd) c = NULL;
    g_autofree const char **rest = NULL;

    g_assert_no_error(error);
    g_assert_cmpstr(vsh_cmd_get_string(a, "domain"), ==, "web1");
    g_assert_cmpstr(vsh_cmd_get_string(a, "mode"), ==, "acpi");
    g_assert_cmpstr(vsh_cmd_get_string(a, "count"), ==, "7");
    g_assert_true(vsh_cmd_has(a, "force"));
    g_assert_false(vsh_cmd_has(a, "level"));
    g_assert_null(vsh_cmd_get_string(a, "level"));

    /* --opt value, a named positional, "--opt=" with '=' in the value. */
    b = parse((const char *const[]){"--mode", "x=y", "--domain", "web2", "--level=-3", NULL},
              &error);
    g_assert_no_error(error);
    g_assert_cmpstr(vsh_cmd_get_string(b, "domain"), ==, "web2");
    g_assert_cmpstr(vsh_cmd_get_string(b, "mode"), ==, "x=y");
    g_assert_cmpstr(vsh_cmd_get_string(b, "level"), ==, "-3");

    /* "--" makes everything after it data; ARGV takes what remains. */
    c = parse((const char *const[]){"--", "--web", "3", "a", "--force", NULL}, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(vsh_cmd_get_string(c, "domain"), ==, "--web");
    g_assert_false(vsh_cmd_has(c, "force"));
    rest = vsh_cmd_get_argv(c, "rest");
    g_assert_cmpstrv(rest, ((const char *const[]){"a", "--force", NULL}));
}

static void
test_parse_errors(void)
{
    static const struct {
        const char *args[5];
        const char *message;
    } cases[] = {
        {{"web1", "--foo", NULL}, "command 'frob' doesn't support option --foo"},
        {{"web1", "--foo=1", NULL}, "command 'frob' doesn't support option --foo"},
        {{"--force", NULL}, "command 'frob' requires <domain> option"},
        {{"web1", "--force=yes", NULL}, "invalid '=' after option --force"},
        {{"web1", "--force", "--force", NULL}, "option --force already seen"},
        {{"web1", "--mode", NULL}, "expected syntax: --mode <string>"},
        {{"web1", "--level", NULL}, "expected syntax: --level <number>"},
        {{"web1", "--level", "ten", NULL},
         "Numeric value 'ten' for <level> option is malformed or out of range"},
        {{"web1", "x", NULL}, "Numeric value 'x' for <count> option is malformed or out of range"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VshCmd) cmd = parse(cases[i].args, &error);

        g_assert_null(cmd);
        g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
        g_assert_cmpstr(error->message, ==, cases[i].message);
    }
}

static void
test_parse_real_table(void)
{
    static const struct {
        const char *words[6];
        const char *message; /* NULL: parses */
    } cases[] = {
        {{"start", "web1", "--console", "--paused", NULL}, NULL},
        {{"start", NULL}, "command 'start' requires <domain> option"},
        {{"start", "--foo", NULL}, "command 'start' doesn't support option --foo"},
        {{"start", "web1", "web2", NULL}, "unexpected data 'web2'"},
        {{"list", "--all", "--name", NULL}, NULL},
        {{"list", "web1", NULL}, "unexpected data 'web1'"},
        {{"dumpxml", "--domain=web1", "--inactive", NULL}, NULL},
        {{"frobnicate", NULL}, "unknown command: 'frobnicate'"},
        {{"help", NULL}, NULL},
        {{"complete", "--", "start", "--c", NULL}, NULL},
        /* One-letter options exist only where a command declares them. */
        {{"install", "--name", "a", "-x", "console=ttyS0", NULL}, NULL},
        {{"list", "-x", NULL}, "unexpected data '-x'"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VshCmd) cmd = vsh_cmd_parse(cases[i].words, &error);

        if (cases[i].message) {
            g_assert_null(cmd);
            g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
            g_assert_cmpstr(error->message, ==, cases[i].message);
            /* usage errors exit with invalid-argument's status */
            g_assert_cmpint(vd_error_code_exit_status(error->code), ==, 2);
        } else {
            g_assert_no_error(error);
            g_assert_nonnull(cmd);
        }
    }
}

static void
test_parse_help_option(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VshCmd) cmd = vsh_cmd_parse((const char *const[]){"start", "--help", NULL}, &error);
    g_autoptr(VshCmd) missing =
        vsh_cmd_parse((const char *const[]){"dominfo", "--help", NULL}, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(cmd->def->name, ==, "help");
    g_assert_cmpstr(vsh_cmd_get_string(cmd, "command"), ==, "start");
    /* --help wins over a missing required option. */
    g_assert_cmpstr(missing->def->name, ==, "help");
}

/* The table's own rules: what the parser and help rely on. */
static void
test_table_consistent(void)
{
    guint n;
    const VshCmdDef *const *all = vsh_commands_all(&n);

    g_assert_cmpuint(n, >, 20);
    for (guint i = 0; i < n; i++) {
        const VshCmdDef *def = all[i];
        gboolean optional_positional = FALSE;

        g_assert_nonnull(def->handler);
        g_assert_nonnull(def->help);
        g_assert_nonnull(vsh_group_find(def->group));
        g_assert_true(vsh_command_find(def->name) == def);
        if (i > 0)
            g_assert_cmpstr(all[i - 1]->name, <, def->name);
        for (const VshOptDef *o = def->opts; o && o->name; o++) {
            gboolean positional = o->type == VSH_OT_ARGV || (o->flags & VSH_OPT_POSITIONAL);

            g_assert_nonnull(o->help);
            g_assert_cmpint(vsh_opt_index(def, o->name), ==, o - def->opts);
            if (o->type == VSH_OT_BOOL)
                g_assert_false(o->flags & (VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL));
            if (o->type == VSH_OT_ARGV)
                g_assert_null(o[1].name);
            if (positional && !(o->flags & VSH_OPT_REQUIRED))
                optional_positional = TRUE;
            else if (positional)
                g_assert_false(optional_positional);
        }
    }
}

static void
test_uri(void)
{
    static const struct {
        const char *uri;
        const char *path; /* NULL: rejected */
    } cases[] = {
        {"unix:///run/virtd/virtd.sock", "/run/virtd/virtd.sock"},
        {"unix:///tmp/my%20dir/virtd.sock", "/tmp/my dir/virtd.sock"},
        {"unix:/tmp/v/virtd.sock", "/tmp/v/virtd.sock"},
        {"qemu:///system", NULL},
        {"unix://host/tmp/virtd.sock", NULL},
        {"unix:///", NULL},
        {"/tmp/virtd.sock", NULL},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        gboolean ok = vsh_uri_socket_path(cases[i].uri, &path, &error);

        if (cases[i].path) {
            g_assert_no_error(error);
            g_assert_true(ok);
            g_assert_cmpstr(path, ==, cases[i].path);
        } else {
            g_assert_false(ok);
            g_assert_error(error, VD_ERROR, VD_ERROR_CONNECT);
        }
    }
}

static void
test_domain_path(void)
{
    g_autofree char *plain = vsh_domain_path("web1", "/start");
    g_autofree char *odd = vsh_domain_path("a b/c?d", NULL);
    g_autofree char *utf8 = vsh_domain_path("db-ü", "/xml?inactive=1");

    g_assert_cmpstr(plain, ==, "/v1/domains/web1/start");
    g_assert_cmpstr(odd, ==, "/v1/domains/a%20b%2Fc%3Fd");
    g_assert_cmpstr(utf8, ==, "/v1/domains/db-%C3%BC/xml?inactive=1");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vsh/args/split-quoting", test_split_quoting);
    g_test_add_func("/vsh/args/split-commands", test_split_commands);
    g_test_add_func("/vsh/args/split-errors", test_split_errors);
    g_test_add_func("/vsh/args/split-last", test_split_last);
    g_test_add_func("/vsh/args/parse-forms", test_parse_forms);
    g_test_add_func("/vsh/args/parse-errors", test_parse_errors);
    g_test_add_func("/vsh/args/parse-real-table", test_parse_real_table);
    g_test_add_func("/vsh/args/parse-help-option", test_parse_help_option);
    g_test_add_func("/vsh/args/table-consistent", test_table_consistent);
    g_test_add_func("/vsh/args/uri", test_uri);
    g_test_add_func("/vsh/args/domain-path", test_domain_path);
    return g_test_run();
}
