/* Help rendering. The shapes follow virsh's cmdHelp/vshCmddefHelp so that
 * people who know `virsh help start` find their way; everything is derived
 * from the option tables, so help cannot drift from what the parser
 * accepts. */
#include "vsh-help.h"

static void
render_group_commands(GString *out, const VshGroup *group)
{
    guint n;
    const VshCmdDef *const *all = vsh_commands_all(&n);

    g_string_append_printf(out, " %s (help keyword '%s'):\n", group->name, group->keyword);
    for (guint i = 0; i < n; i++) {
        if (g_str_equal(all[i]->group, group->keyword))
            g_string_append_printf(out, "    %-30s %s\n", all[i]->name, all[i]->help);
    }
}

void
vsh_help_render_group(GString *out, const VshGroup *group)
{
    render_group_commands(out, group);
}

void
vsh_help_render_all(GString *out)
{
    g_string_append(out, "Grouped commands:\n\n");
    for (const VshGroup *g = vsh_groups; g->keyword; g++) {
        render_group_commands(out, g);
        g_string_append_c(out, '\n');
    }
}

static const char *
value_word(const VshOptDef *opt)
{
    return opt->type == VSH_OT_INT ? "number" : "string";
}

char *
vsh_help_synopsis_word(const VshOptDef *opt)
{
    gboolean required = (opt->flags & VSH_OPT_REQUIRED) != 0;

    switch (opt->type) {
    case VSH_OT_BOOL:
        return g_strdup_printf("[--%s]", opt->name);
    case VSH_OT_ARGV:
        return required ? g_strdup_printf("<%s>...", opt->name)
                        : g_strdup_printf("[<%s>]...", opt->name);
    case VSH_OT_STRING:
    case VSH_OT_INT:
        if (opt->flags & VSH_OPT_POSITIONAL)
            return required ? g_strdup_printf("<%s>", opt->name)
                            : g_strdup_printf("[<%s>]", opt->name);
        if (opt->flags & VSH_OPT_VALUE_OPTIONAL)
            return g_strdup_printf("[--%s [<%s>]]", opt->name, value_word(opt));
        return required ? g_strdup_printf("--%s <%s>", opt->name, value_word(opt))
                        : g_strdup_printf("[--%s <%s>]", opt->name, value_word(opt));
    }
    g_return_val_if_reached(g_strdup(opt->name));
}

char *
vsh_help_options_word(const VshOptDef *opt)
{
    switch (opt->type) {
    case VSH_OT_BOOL:
        return g_strdup_printf("--%s", opt->name);
    case VSH_OT_ARGV:
        return g_strdup_printf("[--%s] <string>", opt->name);
    case VSH_OT_STRING:
    case VSH_OT_INT:
        if (opt->flags & VSH_OPT_POSITIONAL)
            return g_strdup_printf("[--%s] <%s>", opt->name, value_word(opt));
        if (opt->flags & VSH_OPT_VALUE_OPTIONAL)
            return g_strdup_printf("--%s [<%s>]", opt->name, value_word(opt));
        return g_strdup_printf("--%s <%s>", opt->name, value_word(opt));
    }
    g_return_val_if_reached(g_strdup(opt->name));
}

void
vsh_help_render_command(GString *out, const VshCmdDef *def)
{
    g_string_append_printf(out, "  NAME\n    %s - %s\n", def->name, def->help);

    g_string_append_printf(out, "\n  SYNOPSIS\n    %s", def->name);
    for (const VshOptDef *o = def->opts; o && o->name; o++) {
        g_autofree char *w = vsh_help_synopsis_word(o);

        g_string_append_printf(out, " %s", w);
    }
    g_string_append_c(out, '\n');

    if (def->desc && *def->desc)
        g_string_append_printf(out, "\n  DESCRIPTION\n    %s\n", def->desc);

    if (def->opts && def->opts->name) {
        g_string_append(out, "\n  OPTIONS\n");
        for (const VshOptDef *o = def->opts; o->name; o++) {
            g_autofree char *w = vsh_help_options_word(o);

            g_string_append_printf(out, "    %-15s  %s\n", w, o->help);
        }
    }
    g_string_append_c(out, '\n');
}

void
vsh_help_render_usage(GString *out, const char *progname)
{
    g_string_append_printf(out,
                           "\n"
                           "%s [options]... [<command_string>]\n"
                           "%s [options]... <command> [args...]\n"
                           "\n"
                           "  options:\n"
                           "    -c | --connect=URI      daemon connection URI or alias "
                           "(default: $VSH_DEFAULT_URI,\n"
                           "                            else uri_default in vsh.conf, else\n"
                           "                            " VSH_DEFAULT_URI ")\n"
                           "    -h | --help             this help\n"
                           "    -q | --quiet            quiet mode\n"
                           "    -t | --timing           print timing information\n"
                           "    -v                      short version\n"
                           "    -V                      long version\n"
                           "         --version[=TYPE]   version, TYPE is short or long "
                           "(default short)\n"
                           "  commands (non interactive mode):\n\n",
                           progname, progname);
    for (const VshGroup *g = vsh_groups; g->keyword; g++) {
        render_group_commands(out, g);
        g_string_append_c(out, '\n');
    }
    g_string_append(out, "  (specify help <group> for details about the commands in the group)\n"
                         "\n"
                         "  (specify help <command> for details about the command)\n"
                         "\n");
}
