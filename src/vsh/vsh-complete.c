/* Completion of vsh command lines.
 *
 * The line is split as the parser would split it; then the position of
 * the word being typed decides what fits there: a command name first, then
 * the value of a preceding "--opt", a "--opt=" value, an option name, or
 * the next positional option's value. Options already given are not
 * offered again.
 */
#include "vsh-complete.h"

#include <string.h>

#include "vsh-args.h"

static void
add_if_prefix(GPtrArray *out, const char *candidate, const char *prefix)
{
    if (g_str_has_prefix(candidate, prefix))
        g_ptr_array_add(out, g_strdup(candidate));
}

static void
complete_value(GPtrArray *out, const VshOptDef *opt, const char *prefix, const char *lead,
               VshNameLister lister, gpointer user_data, gboolean *want_files)
{
    switch (opt->completer) {
    case VSH_COMPLETE_NONE:
        return;
    case VSH_COMPLETE_FILE:
        *want_files = TRUE;
        return;
    case VSH_COMPLETE_COMMAND: {
        guint n;
        const VshCmdDef *const *all = vsh_commands_all(&n);

        for (guint i = 0; i < n; i++) {
            g_autofree char *word = g_strconcat(lead, all[i]->name, NULL);

            add_if_prefix(out, word, prefix);
        }
        return;
    }
    case VSH_COMPLETE_POOL:
    case VSH_COMPLETE_NETWORK:
    case VSH_COMPLETE_DOMAIN: {
        g_autoptr(GPtrArray) names = lister ? lister(opt->completer, user_data) : NULL;

        for (guint i = 0; names && i < names->len; i++) {
            g_autofree char *word = g_strconcat(lead, g_ptr_array_index(names, i), NULL);

            add_if_prefix(out, word, prefix);
        }
        return;
    }
    }
}

/* Which options @words (after the command name) already gave, and how
 * many positional slots they filled; *pending_value is set when the last
 * word is an option still waiting for its value. */
static void
scan_words(const VshCmdDef *def, char **words, gboolean *given, const VshOptDef **pending_value)
{
    gboolean data_only = FALSE;

    *pending_value = NULL;
    for (guint i = 0; words[i]; i++) {
        const char *w = words[i];
        int idx;

        *pending_value = NULL;
        if (!data_only && g_str_equal(w, "--")) {
            data_only = TRUE;
            continue;
        }
        if (!data_only && g_str_has_prefix(w, "--")) {
            const char *eq = strchr(w + 2, '=');
            g_autofree char *name = eq ? g_strndup(w + 2, (gsize)(eq - w - 2)) : g_strdup(w + 2);

            idx = vsh_opt_index(def, name);
            if (idx < 0)
                continue;
            given[idx] = TRUE;
            if (def->opts[idx].type != VSH_OT_BOOL && !eq) {
                if (words[i + 1])
                    i++;
                else
                    *pending_value = &def->opts[idx];
            }
            continue;
        }
        for (idx = 0; def->opts && def->opts[idx].name; idx++) {
            const VshOptDef *o = &def->opts[idx];

            if ((o->type == VSH_OT_ARGV || (o->flags & VSH_OPT_POSITIONAL)) &&
                (!given[idx] || o->type == VSH_OT_ARGV)) {
                given[idx] = TRUE;
                break;
            }
        }
    }
}

static int
compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *
vsh_complete_line(const char *line, VshNameLister lister, gpointer user_data,
                  gboolean *want_files)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *partial = NULL;
    g_auto(GStrv) words = vsh_line_split_last(line, &partial);
    const VshCmdDef *def;
    const VshOptDef *pending = NULL;
    g_autofree gboolean *given = NULL;
    guint nopts = 0;

    *want_files = FALSE;
    if (!words[0]) {
        guint n;
        const VshCmdDef *const *all = vsh_commands_all(&n);

        for (guint i = 0; i < n; i++)
            add_if_prefix(out, all[i]->name, partial);
        return out;
    }
    def = vsh_command_find(words[0]);
    if (!def)
        return out;
    while (def->opts && def->opts[nopts].name)
        nopts++;
    given = g_new0(gboolean, nopts + 1);
    scan_words(def, words + 1, given, &pending);

    if (pending) {
        complete_value(out, pending, partial, "", lister, user_data, want_files);
    } else if (g_str_has_prefix(partial, "--") && strchr(partial, '=')) {
        const char *eq = strchr(partial, '=');
        g_autofree char *name = g_strndup(partial + 2, (gsize)(eq - partial - 2));
        g_autofree char *lead = g_strndup(partial, (gsize)(eq - partial + 1));
        int idx = vsh_opt_index(def, name);

        if (idx >= 0 && def->opts[idx].type != VSH_OT_BOOL)
            complete_value(out, &def->opts[idx], partial, lead, lister, user_data, want_files);
    } else {
        /* The next positional slot's values, unless an option is being
         * typed; options when the word is empty or starts with '-'. */
        if (partial[0] != '-') {
            for (guint i = 0; i < nopts; i++) {
                const VshOptDef *o = &def->opts[i];

                if ((o->type == VSH_OT_ARGV || (o->flags & VSH_OPT_POSITIONAL)) &&
                    (!given[i] || o->type == VSH_OT_ARGV)) {
                    complete_value(out, o, partial, "", lister, user_data, want_files);
                    break;
                }
            }
        }
        /* A file name is next: leave an empty word to the file
         * completion rather than mixing in options. */
        if (partial[0] == '-' || (partial[0] == '\0' && !*want_files)) {
            for (guint i = 0; i < nopts; i++) {
                g_autofree char *word = NULL;

                if (given[i] && def->opts[i].type != VSH_OT_ARGV)
                    continue;
                word = g_strconcat("--", def->opts[i].name, NULL);
                add_if_prefix(out, word, partial);
            }
        }
    }
    g_ptr_array_sort(out, compare_strings);
    return out;
}
