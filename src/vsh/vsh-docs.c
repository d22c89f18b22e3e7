#include "vsh-docs.h"

#include "util/vd-roff.h"
#include "vsh-help.h"

static const char man_head[] =
    ".SH SYNOPSIS\n"
    ".B vsh\n"
    "[\\fIOPTION\\fR]... [\\fICOMMAND_STRING\\fR]\n"
    ".br\n"
    ".B vsh\n"
    "[\\fIOPTION\\fR]... \\fICOMMAND\\fR [\\fIARG\\fR]...\n"
    ".SH DESCRIPTION\n"
    ".B vsh\n"
    "is the command line of\n"
    ".BR virtd (8),\n"
    "with virsh's commands and output shapes. Without a command it starts an\n"
    "interactive shell (with completion); one argument is a command string that\n"
    "may hold several commands separated by ';'; otherwise the arguments are one\n"
    "command and its options. Options of a command are given as\n"
    "\\fB\\-\\-name\\fR \\fIvalue\\fR or \\fB\\-\\-name=\\fR\\fIvalue\\fR; those shown in\n"
    "angle brackets may also be given in order, without their names.\n"
    "`vsh help COMMAND' prints what this page says about a command.\n"
    ".SH OPTIONS\n"
    ".TP\n\\fB\\-c\\fR, \\fB\\-\\-connect\\fR=\\fIURI\\fR\n"
    "the daemon to talk to: unix:///PATH, ssh://[USER@]HOST[/PATH], tls://HOST[:PORT], "
    "or an alias of vsh.conf (default: $VSH_DEFAULT_URI, else uri_default in vsh.conf, "
    "else " VSH_DEFAULT_URI ")\n"
    ".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nprint the commands and exit\n"
    ".TP\n\\fB\\-q\\fR, \\fB\\-\\-quiet\\fR\nno headers and informational messages\n"
    ".TP\n\\fB\\-t\\fR, \\fB\\-\\-timing\\fR\nprint how long each command took\n"
    ".TP\n\\fB\\-v\\fR, \\fB\\-\\-version\\fR[=short]\nprint the version\n"
    ".TP\n\\fB\\-V\\fR, \\fB\\-\\-version\\fR=long\nprint the long version\n"
    ".SH COMMANDS\n";

static const char man_tail[] =
    ".SH ENVIRONMENT\n"
    ".TP\n.B VSH_DEFAULT_URI\nthe connection URI when \\-c is not given\n"
    ".TP\n.B VSH_CONFIG\nthe configuration file to read instead of the ones below\n"
    ".TP\n.BR VISUAL \", \" EDITOR\nthe editor of the edit commands\n"
    ".TP\n.B VSH_IMAGE_CACHE\nwhere image build keeps its package cache\n"
    ".SH FILES\n"
    ".TP\n.I ~/.config/vsh/vsh.conf\nthe user's configuration (uri_default, aliases)\n"
    ".TP\n.I /etc/virtd/vsh.conf\nthe system's, read when the user has none\n"
    ".TP\n.I /run/virtd/virtd.sock\nthe local daemon's socket\n"
    ".SH EXIT STATUS\n"
    "0 when the (last) command succeeded; otherwise a status that tells the kind of\n"
    "error (docs/api.md lists them).\n"
    ".SH SEE ALSO\n"
    ".BR virtd (8),\n"
    ".BR virsh (1)\n";

static void
render_man_command(GString *out, const VshCmdDef *def)
{
    g_string_append(out, ".PP\n.B ");
    vd_roff_append(out, def->name);
    g_string_append_c(out, '\n');
    for (const VshOptDef *o = def->opts; o && o->name; o++) {
        g_autofree char *w = vsh_help_synopsis_word(o);
        vd_roff_append(out, w);
        g_string_append_c(out, o[1].name ? ' ' : '\n');
    }
    g_string_append(out, ".RS\n");
    vd_roff_append(out, def->help);
    g_string_append(out, ".\n");
    if (def->desc && *def->desc) {
        g_autofree char *desc = g_strdup(def->desc);
        g_string_append(out, ".PP\n");
        /* The help's own layout (indented continuation lines) is not the page's. */
        g_strdelimit(desc, "\n", ' ');
        vd_roff_append(out, g_strstrip(desc));
        g_string_append_c(out, '\n');
    }
    for (const VshOptDef *o = def->opts; o && o->name; o++) {
        g_autofree char *w = vsh_help_options_word(o);
        g_string_append(out, ".TP\n");
        vd_roff_append(out, w);
        g_string_append_c(out, '\n');
        vd_roff_append(out, o->help ? o->help : "");
        g_string_append_c(out, '\n');
    }
    g_string_append(out, ".RE\n");
}

void
vsh_docs_render_man(GString *out)
{
    guint n;
    const VshCmdDef *const *all = vsh_commands_all(&n);

    vd_roff_header(out, "vsh", "1", "User Commands", "the command line of virtd");
    g_string_append(out, man_head);
    for (const VshGroup *g = vsh_groups; g->keyword; g++) {
        g_string_append(out, ".SS \"");
        vd_roff_append(out, g->name);
        g_string_append_printf(out, " (help keyword '%s')\"\n", g->keyword);
        for (guint i = 0; i < n; i++)
            if (g_str_equal(all[i]->group, g->keyword))
                render_man_command(out, all[i]);
    }
    g_string_append(out, man_tail);
}

static const char bash_main[] =
    "_vsh() {\n"
    "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
    "    local i=1 uri= cmd= cmd_at=0 _vsh_opts _vsh_file_opts\n"
    "    COMPREPLY=()\n"
    "    # vsh's own options come before the command.\n"
    "    while [ $i -lt $COMP_CWORD ]; do\n"
    "        case ${COMP_WORDS[i]} in\n"
    "        -c|--connect) uri=${COMP_WORDS[i+1]}; i=$((i+2)); continue ;;\n"
    "        --connect=*) uri=${COMP_WORDS[i]#--connect=} ;;\n"
    "        -c?*) uri=${COMP_WORDS[i]#-c} ;;\n"
    "        -*) ;;\n"
    "        *) cmd=${COMP_WORDS[i]}; cmd_at=$i; break ;;\n"
    "        esac\n"
    "        i=$((i+1))\n"
    "    done\n"
    "    if [ -z \"$cmd\" ]; then\n"
    "        case $prev in -c|--connect) return 0 ;; esac\n"
    "        if [[ $cur == -* ]]; then\n"
    "            COMPREPLY=($(compgen -W \"$_vsh_global_opts\" -- \"$cur\"))\n"
    "        else\n"
    "            COMPREPLY=($(compgen -W \"$_vsh_commands\" -- \"$cur\"))\n"
    "        fi\n"
    "        return 0\n"
    "    fi\n"
    "    _vsh_command_options \"$cmd\"\n"
    "    if [[ $cur == -* ]]; then\n"
    "        COMPREPLY=($(compgen -W \"$_vsh_opts\" -- \"$cur\"))\n"
    "        return 0\n"
    "    fi\n"
    "    case \" $_vsh_file_opts \" in\n"
    "    *\" $prev \"*) COMPREPLY=($(compgen -f -- \"$cur\")); return 0 ;;\n"
    "    esac\n"
    "    # Domain, pool, network and command names: vsh asks the daemon, as\n"
    "    # its interactive shell does (nothing when it cannot be reached).\n"
    "    local IFS=$'\\n'\n"
    "    COMPREPLY=($(vsh ${uri:+-c \"$uri\"} -q complete -- \\\n"
    "        \"${COMP_WORDS[@]:cmd_at:COMP_CWORD-cmd_at+1}\" 2>/dev/null))\n"
    "    return 0\n"
    "}\n"
    "# -o default: file names when nothing else fits (define FILE, ...).\n"
    "complete -o default -F _vsh vsh\n";

/* The option names of @def, those whose value is a file in @files. */
static void
option_words(const VshCmdDef *def, GString *opts, GString *files)
{
    for (const VshOptDef *o = def->opts; o && o->name; o++) {
        GString *into[] = {opts, o->completer == VSH_COMPLETE_FILE ? files : NULL};
        for (guint k = 0; k < G_N_ELEMENTS(into); k++) {
            if (!into[k])
                continue;
            if (into[k]->len)
                g_string_append_c(into[k], ' ');
            g_string_append_printf(into[k], "--%s", o->name);
        }
    }
}

void
vsh_docs_render_bash(GString *out)
{
    guint n;
    const VshCmdDef *const *all = vsh_commands_all(&n);

    g_string_append(out, "# bash completion for vsh(1). Generated from vsh's command table by\n"
                         "# vsh-gen-docs at build time: do not edit.\n\n"
                         "_vsh_global_opts='-c --connect -h --help -q --quiet -t --timing "
                         "-v -V --version'\n"
                         "_vsh_commands='");
    for (guint i = 0; i < n; i++)
        g_string_append_printf(out, "%s%s", i ? " " : "", all[i]->name);
    g_string_append(out, "'\n\n"
                         "# The options of command $1 (_vsh_opts), and those of them whose\n"
                         "# value is a file name (_vsh_file_opts).\n"
                         "_vsh_command_options() {\n"
                         "    case $1 in\n");
    for (guint i = 0; i < n; i++) {
        g_autoptr(GString) opts = g_string_new(NULL);
        g_autoptr(GString) files = g_string_new(NULL);
        option_words(all[i], opts, files);
        g_string_append_printf(out, "    %s) _vsh_opts='%s'; _vsh_file_opts='%s' ;;\n",
                               all[i]->name, opts->str, files->str);
    }
    g_string_append(out, "    *) _vsh_opts=; _vsh_file_opts= ;;\n"
                         "    esac\n"
                         "}\n\n");
    g_string_append(out, bash_main);
}
