/* vsh(1) and the bash completion (vsh-docs.c) against the command table:
 * every command and every option of it is in both; the completion script
 * is valid bash and completes commands, options and file names. */
#include <string.h>

#include "util/vd-roff.h"
#include "vsh/vsh-docs.h"

static char *
roff(const char *text)
{
    GString *out = g_string_new(NULL);

    vd_roff_append(out, text);
    return g_string_free(out, FALSE);
}

static void
test_man_has_every_command(void)
{
    g_autoptr(GString) man = g_string_new(NULL);
    guint n;
    const VshCmdDef *const *all = vsh_commands_all(&n);

    vsh_docs_render_man(man);
    g_assert_true(g_str_has_prefix(man->str, ".TH VSH 1 "));
    g_assert_cmpuint(n, >, 100);
    for (guint i = 0; i < n; i++) {
        g_autofree char *name = roff(all[i]->name);
        g_autofree char *entry = g_strdup_printf("\n.PP\n.B %s\n", name);
        if (!strstr(man->str, entry))
            g_error("vsh(1) lacks the command %s", all[i]->name);
        /* Its options, in the entry (before the next command's). */
        const char *at = strstr(man->str, entry) + strlen(entry);
        const char *next = strstr(at, "\n.PP\n.B ");
        for (const VshOptDef *o = all[i]->opts; o && o->name; o++) {
            g_autofree char *opt = g_strdup_printf("--%s", o->name);
            g_autofree char *ropt = roff(opt);
            const char *found = strstr(at, ropt);
            if (!found || (next && found > next))
                g_error("vsh(1) lacks option %s of %s", opt, all[i]->name);
        }
    }
    for (const VshGroup *g = vsh_groups; g->keyword; g++) {
        g_autofree char *head =
            g_strdup_printf(".SS \"%s (help keyword '%s')\"\n", g->name, g->keyword);
        g_assert_nonnull(strstr(man->str, head));
    }
}

static void
test_bash_has_every_command(void)
{
    g_autoptr(GString) bash = g_string_new(NULL);
    guint n;
    const VshCmdDef *const *all = vsh_commands_all(&n);

    vsh_docs_render_bash(bash);
    const char *list = strstr(bash->str, "\n_vsh_commands='");
    g_assert_nonnull(list);
    g_autofree char *words = g_strndup(list + 16, strchr(list + 16, '\'') - (list + 16));
    g_auto(GStrv) names = g_strsplit(words, " ", -1);
    g_assert_cmpuint(g_strv_length(names), ==, n);
    for (guint i = 0; i < n; i++) {
        g_assert_cmpstr(names[i], ==, all[i]->name);
        g_autofree char *arm = g_strdup_printf("\n    %s) _vsh_opts='", all[i]->name);
        const char *at = strstr(bash->str, arm);
        if (!at)
            g_error("the completion lacks the options of %s", all[i]->name);
        g_autofree char *opts =
            g_strndup(at + strlen(arm), strchr(at + strlen(arm), '\'') - (at + strlen(arm)));
        g_auto(GStrv) given = g_strsplit(opts, " ", -1);
        for (const VshOptDef *o = all[i]->opts; o && o->name; o++) {
            g_autofree char *opt = g_strdup_printf("--%s", o->name);
            if (!g_strv_contains((const char *const *)given, opt))
                g_error("the completion lacks option %s of %s", opt, all[i]->name);
        }
    }
}

/* Runs the script in bash, completing the words of @line (the last one
 * being typed); returns COMPREPLY one per line. */
static char *
complete_in_bash(const char *script, const char *line)
{
    g_autofree char *cmd =
        g_strdup_printf("%s\nCOMP_WORDS=(%s); COMP_CWORD=$((${#COMP_WORDS[@]}-1))\n"
                        "vsh() { :; }\n" /* no daemon: the name lookups answer nothing */
                        "_vsh; printf '%%s\\n' \"${COMPREPLY[@]}\"\n",
                        script, line);
    const char *argv[] = {"bash", "-c", cmd, NULL};
    char *out = NULL;
    g_autofree char *err = NULL;
    int status = -1;

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               &err, &status, NULL));
    if (status != 0 || *err)
        g_error("bash: status %d: %s", status, err);
    return out;
}

static void
test_bash_completes(void)
{
    g_autoptr(GString) bash = g_string_new(NULL);

    vsh_docs_render_bash(bash);
    g_autofree char *cmds = complete_in_bash(bash->str, "vsh snapshot-cr");
    g_assert_cmpstr(cmds, ==, "snapshot-create\nsnapshot-create-as\n");
    g_autofree char *after_uri = complete_in_bash(bash->str, "vsh -c unix:///x.sock undefi");
    g_assert_cmpstr(after_uri, ==, "undefine\n");
    g_autofree char *opts = complete_in_bash(bash->str, "vsh start dom --pa");
    g_assert_cmpstr(opts, ==, "--paused\n");
    g_autofree char *global = complete_in_bash(bash->str, "vsh --ti");
    g_assert_cmpstr(global, ==, "--timing\n");
    /* define --file: a file name */
    g_autofree char *files = complete_in_bash(bash->str, "vsh define --file /et");
    g_assert_cmpstr(files, ==, "/etc\n");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vsh-docs/man-has-every-command", test_man_has_every_command);
    g_test_add_func("/vsh-docs/bash-has-every-command", test_bash_has_every_command);
    g_test_add_func("/vsh-docs/bash-completes", test_bash_completes);
    return g_test_run();
}
