/* Word splitting and option parsing for vsh command lines.
 *
 * The rules are virsh's (tools/vsh.c: vshCommandStringGetArg and
 * vshCommandParse) so that command lines people copy from tutorials and
 * scripts mean the same thing here; the messages are virsh's too.
 */
#include "vsh-args.h"

#include <string.h>

#include "util/vd-error.h"

static void
opt_value_free(gpointer data)
{
    VshOptValue *v = data;

    if (!v)
        return;
    g_free(v->value);
    g_free(v);
}

void
vsh_cmd_free(VshCmd *cmd)
{
    if (!cmd)
        return;
    if (cmd->opts)
        g_ptr_array_unref(cmd->opts);
    g_free(cmd);
}

static VshCmd *
cmd_new(const VshCmdDef *def)
{
    VshCmd *cmd = g_new0(VshCmd, 1);

    cmd->def = def;
    cmd->opts = g_ptr_array_new_with_free_func(opt_value_free);
    return cmd;
}

static void
cmd_add(VshCmd *cmd, const VshOptDef *def, const char *value)
{
    VshOptValue *v = g_new0(VshOptValue, 1);

    v->def = def;
    v->value = g_strdup(value);
    g_ptr_array_add(cmd->opts, v);
}

static const VshOptValue *
cmd_lookup(const VshCmd *cmd, const char *name)
{
    for (guint i = 0; i < cmd->opts->len; i++) {
        const VshOptValue *v = g_ptr_array_index(cmd->opts, i);

        if (g_str_equal(v->def->name, name))
            return v;
    }
    return NULL;
}

gboolean
vsh_cmd_has(const VshCmd *cmd, const char *name)
{
    return cmd_lookup(cmd, name) != NULL;
}

const char *
vsh_cmd_get_string(const VshCmd *cmd, const char *name)
{
    const VshOptValue *v = cmd_lookup(cmd, name);

    return v ? v->value : NULL;
}

const char **
vsh_cmd_get_argv(const VshCmd *cmd, const char *name)
{
    GPtrArray *out = g_ptr_array_new();

    for (guint i = 0; i < cmd->opts->len; i++) {
        const VshOptValue *v = g_ptr_array_index(cmd->opts, i);

        if (g_str_equal(v->def->name, name))
            g_ptr_array_add(out, v->value);
    }
    g_ptr_array_add(out, NULL);
    return (const char **)g_ptr_array_free(out, FALSE);
}

/* ---- splitting ---- */

typedef struct {
    GPtrArray *commands; /* of GStrv */
    GPtrArray *words;    /* of char*, the command being read */
    gboolean open;       /* the line ended inside the last word */
} Splitter;

static void
splitter_end_command(Splitter *s)
{
    if (s->words->len > 0) {
        g_ptr_array_add(s->words, NULL);
        g_ptr_array_add(s->commands, g_ptr_array_free(s->words, FALSE));
        s->words = g_ptr_array_new();
    }
}

/* The one tokenizer behind vsh_line_split (strict) and
 * vsh_line_split_last (lenient, for half-typed lines). */
static gboolean
split(const char *line, gboolean lenient, Splitter *s, GError **error)
{
    const char *p = line;

    s->open = FALSE;
    for (;;) {
        gboolean squote = FALSE;
        gboolean dquote = FALSE;
        GString *word;

        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        if (*p == ';' || *p == '\n') {
            splitter_end_command(s);
            p++;
            continue;
        }
        if (*p == '#') {
            while (*p && *p != '\n')
                p++;
            continue;
        }

        word = g_string_new(NULL);
        while (*p) {
            if (!squote && !dquote && (*p == ' ' || *p == '\t' || *p == ';' || *p == '\n'))
                break;
            if (!dquote && *p == '\'') {
                squote = !squote;
                p++;
                continue;
            }
            if (!squote && *p == '"') {
                dquote = !dquote;
                p++;
                continue;
            }
            if (!squote && *p == '\\') {
                p++;
                if (*p == '\0') {
                    if (lenient)
                        break;
                    g_string_free(word, TRUE);
                    g_set_error_literal(error, VD_ERROR, VD_ERROR_INVALID_ARG, "dangling \\");
                    return FALSE;
                }
            }
            g_string_append_c(word, *p);
            p++;
        }
        if ((squote || dquote) && !lenient) {
            g_string_free(word, TRUE);
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "missing %c", squote ? '\'' : '"');
            return FALSE;
        }
        g_ptr_array_add(s->words, g_string_free(word, FALSE));
        if (*p == '\0')
            s->open = TRUE;
    }
    return TRUE;
}

GPtrArray *
vsh_line_split(const char *line, GError **error)
{
    Splitter s = {
        .commands = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev),
        .words = g_ptr_array_new(),
    };

    if (!split(line, FALSE, &s, error)) {
        g_ptr_array_set_free_func(s.words, g_free);
        g_ptr_array_unref(s.words);
        g_ptr_array_unref(s.commands);
        return NULL;
    }
    splitter_end_command(&s);
    g_ptr_array_unref(s.words);
    return s.commands;
}

GStrv
vsh_line_split_last(const char *line, char **partial)
{
    Splitter s = {
        .commands = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev),
        .words = g_ptr_array_new(),
    };
    gsize len = strlen(line);

    split(line, TRUE, &s, NULL);
    /* A ';' or newline at the very end starts a new, empty command. */
    if (len > 0 && (line[len - 1] == ';' || line[len - 1] == '\n'))
        s.open = FALSE;
    if (s.open && s.words->len > 0)
        *partial = g_ptr_array_steal_index(s.words, s.words->len - 1);
    else
        *partial = g_strdup("");
    g_ptr_array_add(s.words, NULL);
    g_ptr_array_unref(s.commands);
    return (GStrv)g_ptr_array_free(s.words, FALSE);
}

/* ---- parsing ---- */

int
vsh_opt_index(const VshCmdDef *def, const char *name)
{
    for (int i = 0; def->opts && def->opts[i].name; i++) {
        if (g_str_equal(def->opts[i].name, name))
            return i;
    }
    return -1;
}

static gboolean
is_positional(const VshOptDef *opt)
{
    return opt->type == VSH_OT_ARGV || (opt->flags & VSH_OPT_POSITIONAL);
}

static gboolean
check_value(const VshOptDef *opt, const char *value, GError **error)
{
    gint64 n;

    if (opt->type != VSH_OT_INT)
        return TRUE;
    if (!g_ascii_string_to_signed(value, 10, G_MININT64, G_MAXINT64, &n, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Numeric value '%s' for <%s> option is malformed or out of range", value,
                    opt->name);
        return FALSE;
    }
    return TRUE;
}

/* "help NAME", what "NAME ... --help" turns into. */
static VshCmd *
help_for(const VshCmdDef *def)
{
    const VshCmdDef *help = vsh_command_find("help");
    VshCmd *cmd;

    g_assert(help && help->opts && help->opts[0].name);
    cmd = cmd_new(help);
    cmd_add(cmd, &help->opts[0], def->name);
    return cmd;
}

VshCmd *
vsh_cmd_parse_def(const VshCmdDef *def, const char *const *args, GError **error)
{
    g_autoptr(VshCmd) cmd = cmd_new(def);
    guint nopts = 0;
    gboolean data_only = FALSE;
    gboolean want_help = FALSE;

    while (def->opts && def->opts[nopts].name)
        nopts++;
    g_autofree gboolean *seen = g_new0(gboolean, nopts + 1);

    for (guint i = 0; args && args[i]; i++) {
        const char *arg = args[i];
        const VshOptDef *opt;
        int idx;

        /* "-x": a one-letter option, for commands that have one (install's
         * -x, virt-install's short --extra-args). */
        gboolean short_opt = !data_only && arg[0] == '-' && g_ascii_isalpha(arg[1]) &&
                             arg[2] == '\0' && vsh_opt_index(def, arg + 1) >= 0;
        if (short_opt ||
            (!data_only && arg[0] == '-' && arg[1] == '-' && g_ascii_isalnum(arg[2]))) {
            const char *optname = short_opt ? arg + 1 : arg + 2;
            const char *eq = short_opt ? NULL : strchr(optname, '=');
            g_autofree char *name =
                eq ? g_strndup(optname, (gsize)(eq - optname)) : g_strdup(optname);
            const char *value;

            idx = vsh_opt_index(def, name);
            if (idx < 0 && g_str_equal(name, "help") && !eq) {
                want_help = TRUE;
                continue;
            }
            if (idx < 0) {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "command '%s' doesn't support option --%s", def->name, name);
                return NULL;
            }
            opt = &def->opts[idx];
            if (seen[idx] && opt->type != VSH_OT_ARGV && !(opt->flags & VSH_OPT_MULTI)) {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "option --%s already seen",
                            name);
                return NULL;
            }
            seen[idx] = TRUE;
            if (opt->type == VSH_OT_BOOL) {
                if (eq) {
                    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                                "invalid '=' after option --%s", name);
                    return NULL;
                }
                cmd_add(cmd, opt, NULL);
                continue;
            }
            if (eq) {
                value = eq + 1;
            } else if ((opt->flags & VSH_OPT_VALUE_OPTIONAL) &&
                       (!args[i + 1] || g_str_has_prefix(args[i + 1], "--"))) {
                value = "";
            } else if (args[i + 1]) {
                value = args[++i];
            } else {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "expected syntax: --%s <%s>",
                            name, opt->type == VSH_OT_INT ? "number" : "string");
                return NULL;
            }
            if (!check_value(opt, value, error))
                return NULL;
            cmd_add(cmd, opt, value);
            continue;
        }
        if (!data_only && g_str_equal(arg, "--")) {
            data_only = TRUE;
            continue;
        }

        /* Data: the first positional option not given yet takes it; an
         * ARGV option takes all that remain. */
        opt = NULL;
        for (guint j = 0; j < nopts; j++) {
            if (is_positional(&def->opts[j]) && (!seen[j] || def->opts[j].type == VSH_OT_ARGV)) {
                opt = &def->opts[j];
                seen[j] = TRUE;
                break;
            }
        }
        if (!opt) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "unexpected data '%s'", arg);
            return NULL;
        }
        if (!check_value(opt, arg, error))
            return NULL;
        cmd_add(cmd, opt, arg);
    }

    if (want_help)
        return help_for(def);

    for (guint j = 0; j < nopts; j++) {
        const VshOptDef *opt = &def->opts[j];

        if ((opt->flags & VSH_OPT_REQUIRED) && !seen[j]) {
            if (is_positional(opt))
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "command '%s' requires <%s> option", def->name, opt->name);
            else
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "command '%s' requires --%s option", def->name, opt->name);
            return NULL;
        }
    }
    return g_steal_pointer(&cmd);
}

VshCmd *
vsh_cmd_parse(const char *const *words, GError **error)
{
    const VshCmdDef *def;

    if (!words || !words[0]) {
        g_set_error_literal(error, VD_ERROR, VD_ERROR_INVALID_ARG, "no command given");
        return NULL;
    }
    def = vsh_command_find(words[0]);
    /* Two-word spellings of "GROUP-VERB" commands: "image build" is
     * "image-build", as people expect from tools with subcommands. */
    if (!def && words[1]) {
        g_autofree char *joined = g_strdup_printf("%s-%s", words[0], words[1]);

        if ((def = vsh_command_find(joined)))
            return vsh_cmd_parse_def(def, words + 2, error);
    }
    if (!def) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "unknown command: '%s'", words[0]);
        return NULL;
    }
    return vsh_cmd_parse_def(def, words + 1, error);
}
