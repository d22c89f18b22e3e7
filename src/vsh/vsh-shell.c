/* The interactive shell (`vsh` with no command, or `vsh shell`) and the
 * commands about vsh itself: help, quit, exit, connect, shell, complete.
 *
 * The shell is GNU readline with history in ~/.vsh_history and completion
 * from the command table; domain names are asked from the daemon only when
 * a domain is being completed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "util/vd-error.h"
#include "vsh-args.h"
#include "vsh-client.h"
#include "vsh-complete.h"
#include "vsh-help.h"
#include "vsh.h"

#define PROMPT "vsh # "
#define HISTORY_SIZE 500

/* readline's callbacks take no user data, so the shell's state is here;
 * there is only ever one shell in a process. */
static VshCtl *shell_ctl;
static GPtrArray *shell_matches;

/* Domain, pool or network names for completion; failures just mean no
 * candidates. */
static GPtrArray *
list_names(VshCompleter kind, gpointer user_data)
{
    const char *path = kind == VSH_COMPLETE_POOL      ? "/v1/pools?all=1"
                       : kind == VSH_COMPLETE_NETWORK ? "/v1/networks?all=1"
                                                      : "/v1/domains?all=1";
    const char *member = kind == VSH_COMPLETE_POOL      ? "pools"
                         : kind == VSH_COMPLETE_NETWORK ? "networks"
                                                        : "domains";
    VshCtl *ctl = user_data;
    VshClient *client = vsh_ctl_client(ctl, NULL);
    g_autoptr(JsonNode) answer = NULL;
    GPtrArray *names;
    JsonNode *domains;
    JsonArray *array;

    if (!client || !(answer = vsh_client_call(client, "GET", path, NULL, NULL)))
        return NULL;
    domains = json_object_get_member(json_node_get_object(answer), member);
    if (!domains || !JSON_NODE_HOLDS_ARRAY(domains))
        return NULL;
    array = json_node_get_array(domains);
    names = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < json_array_get_length(array); i++) {
        JsonNode *d = json_array_get_element(array, i);
        const char *name = JSON_NODE_HOLDS_OBJECT(d)
                               ? vsh_json_string(json_node_get_object(d), "name", NULL)
                               : NULL;

        if (name)
            g_ptr_array_add(names, g_strdup(name));
    }
    return names;
}

static char *
match_generator(const char *text, int state)
{
    static guint index;

    if (state == 0)
        index = 0;
    while (shell_matches && index < shell_matches->len) {
        const char *m = g_ptr_array_index(shell_matches, index++);

        /* readline frees what we return with free(). */
        if (g_str_has_prefix(m, text))
            return strdup(m);
    }
    return NULL;
}

static char **
shell_completion(const char *text, int start, int end)
{
    g_autofree char *line = g_strndup(rl_line_buffer, (gsize)end);
    gboolean want_files = FALSE;

    g_clear_pointer(&shell_matches, g_ptr_array_unref);
    shell_matches = vsh_complete_line(line, list_names, shell_ctl, &want_files);
    if (want_files && shell_matches->len == 0) {
        rl_attempted_completion_over = 0;
        return NULL;
    }
    rl_attempted_completion_over = 1;
    return rl_completion_matches(text, match_generator);
}

static char *
history_path(void)
{
    return g_build_filename(g_get_home_dir(), ".vsh_history", NULL);
}

int
vsh_shell_run(VshCtl *ctl)
{
    g_autofree char *history = history_path();
    char *line;

    shell_ctl = ctl;
    ctl->imode = TRUE;
    rl_readline_name = "vsh";
    rl_attempted_completion_function = shell_completion;
    rl_completer_word_break_characters = " \t\n;";
    rl_completer_quote_characters = "\"'";
    stifle_history(HISTORY_SIZE);
    read_history(history);

    vsh_print_extra(ctl, "Welcome to vsh, the virtd interactive terminal.\n\n"
                         "Type:  'help' for help with commands\n"
                         "       'quit' to quit\n\n");
    fflush(stdout);
    while (!ctl->quit && (line = readline(PROMPT)) != NULL) {
        if (*line) {
            add_history(line);
            vsh_run_line(ctl, line);
        }
        free(line);
    }
    if (!ctl->quit)
        fputc('\n', stdout); /* after the lone prompt at end of input */
    write_history(history);
    g_clear_pointer(&shell_matches, g_ptr_array_unref);
    shell_ctl = NULL;
    ctl->imode = FALSE;
    return 0;
}

static gboolean
cmd_help(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *name = vsh_cmd_get_string(cmd, "command");
    g_autoptr(GString) out = g_string_new(NULL);
    const VshCmdDef *def;
    const VshGroup *group;

    if (!name)
        vsh_help_render_all(out);
    else if ((def = vsh_command_find(name)))
        vsh_help_render_command(out, def);
    else if ((group = vsh_group_find(name)))
        vsh_help_render_group(out, group);
    else {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "command or command group '%s' doesn't exist", name);
        return FALSE;
    }
    vsh_print(ctl, "%s", out->str);
    return TRUE;
}

static gboolean
cmd_quit(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    ctl->quit = TRUE;
    return TRUE;
}

static gboolean
cmd_connect(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *uri = vsh_cmd_get_string(cmd, "name");
    g_autoptr(VshClient) probe = NULL;
    g_autoptr(JsonNode) answer = NULL;

    g_autofree char *resolved = NULL;

    if (!uri)
        uri = ctl->uri;
    /* Check the new URI works before giving up the old one. */
    if (!(resolved = vd_remote_uri_resolve(uri, NULL, error)) ||
        !(probe = vsh_client_new(resolved, error)))
        return FALSE;
    if (!(answer = vsh_client_call(probe, "GET", "/v1/version", NULL, error)))
        return FALSE;
    vsh_ctl_set_uri(ctl, uri);
    ctl->client = g_steal_pointer(&probe);
    return TRUE;
}

static gboolean
cmd_shell(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    if (ctl->imode) {
        g_set_error_literal(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "already in the interactive shell");
        return FALSE;
    }
    vsh_shell_run(ctl);
    return TRUE;
}

/* Joins @args back into a line; every word but the last (the one being
 * completed) is quoted so the splitter gets the same words back. */
static char *
join_words(const char **args)
{
    GString *line = g_string_new(NULL);

    for (guint i = 0; args[i]; i++) {
        if (i > 0)
            g_string_append_c(line, ' ');
        if (!args[i + 1]) {
            g_string_append(line, args[i]);
        } else {
            g_autofree char *quoted = g_shell_quote(args[i]);

            g_string_append(line, quoted);
        }
    }
    return g_string_free(line, FALSE);
}

static gboolean
cmd_complete(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    g_autofree const char **args = vsh_cmd_get_argv(cmd, "string");
    g_autofree char *line = join_words(args);
    gboolean want_files = FALSE;
    g_autoptr(GPtrArray) matches = NULL;

    /* A last empty word means the cursor is after a blank. */
    if (args[0] && !*args[g_strv_length((char **)args) - 1]) {
        char *spaced = g_strconcat(line, " ", NULL);

        g_free(line);
        line = spaced;
    }
    matches = vsh_complete_line(line, list_names, ctl, &want_files);
    for (guint i = 0; i < matches->len; i++)
        vsh_print(ctl, "%s\n", (const char *)g_ptr_array_index(matches, i));
    return TRUE;
}

static const VshOptDef opts_help[] = {
    {"command", VSH_OT_STRING, VSH_OPT_POSITIONAL, VSH_COMPLETE_COMMAND,
     "Prints global help, command specific help, or help for a group of related commands"},
    {NULL},
};

static const VshOptDef opts_connect[] = {
    {"name", VSH_OT_STRING, VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "daemon connection URI or alias (unix:///PATH, ssh://[USER@]HOST[/PATH], tls://HOST)"},
    {NULL},
};

static const VshOptDef opts_complete[] = {
    {"string", VSH_OT_ARGV, 0, VSH_COMPLETE_NONE, "partial string to complete"},
    {NULL},
};

const VshCmdDef vsh_shell_commands[] = {
    {"complete", "vsh", opts_complete, cmd_complete, "print possible completions",
     "Print the completions of a partial command line, one per line (for shell "
     "completion scripts)."},
    {"connect", "vsh", opts_connect, cmd_connect, "(re)connect to the daemon",
     "Connect to the daemon at a URI, or reconnect to the current one."},
    {"exit", "vsh", NULL, cmd_quit, "quit this interactive terminal", NULL},
    {"help", "vsh", opts_help, cmd_help, "print help",
     "Prints global help, command specific help, or help for a\n    group of related commands"},
    {"quit", "vsh", NULL, cmd_quit, "quit this interactive terminal", NULL},
    {"shell", "vsh", NULL, cmd_shell, "start the interactive terminal",
     "Read commands from the terminal with line editing, history and completion."},
    {NULL},
};
