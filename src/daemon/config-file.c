#include "config-file.h"

#include <stdio.h>
#include <string.h>

#include "daemon/options-doc.h"

#define GROUP "daemon"

/* Options the file cannot hold: which file to read, and the modes that
 * print something and exit. */
static const char *const not_in_file[] = {"config", "version", "help", NULL};

/* Where each key and group is in the file (GKeyFile does not say): line
 * numbers for messages. Keys of groups other than [daemon] are not
 * recorded: such a group is refused by itself. */
typedef struct {
    GHashTable *key_lines; /* key -> line (GINT_TO_POINTER) */
    char *bad_group;       /* the first group that is not [daemon] */
    int bad_group_line;
    int bad_line; /* the first line that is no group, key or comment */
} KeyLines;

static void
scan_lines(const char *text, KeyLines *kl)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    gboolean in_daemon = FALSE;

    for (int i = 0; lines[i]; i++) {
        char *line = g_strstrip(lines[i]);

        if (!*line || *line == '#')
            continue;
        if (*line == '[') {
            char *end = strchr(line, ']');
            g_autofree char *name = g_strndup(line + 1, end ? (gsize)(end - line - 1) : 0);

            in_daemon = g_str_equal(name, GROUP);
            if (!in_daemon && !kl->bad_group) {
                kl->bad_group = g_strdup(name);
                kl->bad_group_line = i + 1;
            }
            continue;
        }
        char *eq = strchr(line, '=');
        if (!eq && !kl->bad_line)
            kl->bad_line = i + 1;
        if (in_daemon && eq) {
            *eq = 0;
            char *key = g_strstrip(line);
            if (!g_hash_table_contains(kl->key_lines, key))
                g_hash_table_insert(kl->key_lines, g_strdup(key), GINT_TO_POINTER(i + 1));
        }
    }
}

static const GOptionEntry *
find_entry(const GOptionEntry *entries, const char *name)
{
    for (const GOptionEntry *e = entries; e->long_name; e++)
        if (g_str_equal(e->long_name, name))
            return e;
    return NULL;
}

/* Whether the command line gives option @e: --name, --name=V, -c, -cV. */
static gboolean
cmdline_has(char **cmdline, const GOptionEntry *e)
{
    g_autofree char *dashed = g_strconcat("--", e->long_name, NULL);
    g_autofree char *with_value = g_strconcat(dashed, "=", NULL);

    for (guint i = 1; cmdline && cmdline[i]; i++) {
        const char *a = cmdline[i];
        if (g_str_equal(a, "--"))
            break;
        if (g_str_equal(a, dashed) || g_str_has_prefix(a, with_value) ||
            (e->short_name && a[0] == '-' && a[1] == e->short_name))
            return TRUE;
    }
    return FALSE;
}

gboolean
vd_config_option_in_file(const GOptionEntry *e)
{
    return !(e->flags & G_OPTION_FLAG_HIDDEN) && !g_strv_contains(not_in_file, e->long_name);
}

gboolean
vd_config_option_takes_value(const GOptionEntry *e)
{
    return !(e->arg == G_OPTION_ARG_NONE ||
             (e->arg == G_OPTION_ARG_CALLBACK && (e->flags & G_OPTION_FLAG_NO_ARG)));
}

gboolean
vd_config_option_repeatable(const GOptionEntry *e)
{
    return e->arg == G_OPTION_ARG_STRING_ARRAY || e->arg == G_OPTION_ARG_FILENAME_ARRAY;
}

/* Checks a number here, where the file and line are known (GOption's own
 * message would name only the option). */
static gboolean
check_number(const GOptionEntry *e, const char *value, const char *where, GError **error)
{
    gboolean ok;

    if (e->arg == G_OPTION_ARG_DOUBLE) {
        char *end = NULL;
        g_ascii_strtod(value, &end);
        ok = *value && end && !*end;
    } else {
        gint64 min = e->arg == G_OPTION_ARG_INT ? G_MININT : G_MININT64;
        gint64 max = e->arg == G_OPTION_ARG_INT ? G_MAXINT : G_MAXINT64;
        ok = g_ascii_string_to_signed(value, 10, min, max, NULL, NULL);
    }
    if (!ok)
        g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                    "%s: '%s' takes a number, not '%s'", where, e->long_name, value);
    return ok;
}

/* The arguments of key @e->long_name, appended to @out. */
static gboolean
key_to_args(GKeyFile *kf, const GOptionEntry *e, char **cmdline, const char *where, GPtrArray *out,
            GError **error)
{
    g_autoptr(GError) local = NULL;

    if (!vd_config_option_takes_value(e)) {
        gboolean on = g_key_file_get_boolean(kf, GROUP, e->long_name, &local);
        if (local) {
            g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                        "%s: '%s' takes true or false", where, e->long_name);
            return FALSE;
        }
        if (on)
            g_ptr_array_add(out, g_strconcat("--", e->long_name, NULL));
        return TRUE;
    }
    if (vd_config_option_repeatable(e)) {
        g_auto(GStrv) values = g_key_file_get_string_list(kf, GROUP, e->long_name, NULL, &local);
        if (!values) {
            g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "%s: '%s': %s",
                        where, e->long_name, local->message);
            return FALSE;
        }
        /* The command line's list replaces the file's. */
        if (cmdline_has(cmdline, e))
            return TRUE;
        for (guint i = 0; values[i]; i++)
            g_ptr_array_add(out, g_strdup_printf("--%s=%s", e->long_name, values[i]));
        return TRUE;
    }
    g_autofree char *value = g_key_file_get_string(kf, GROUP, e->long_name, &local);
    if (!value) {
        g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "%s: '%s': %s", where,
                    e->long_name, local->message);
        return FALSE;
    }
    if ((e->arg == G_OPTION_ARG_INT || e->arg == G_OPTION_ARG_INT64 ||
         e->arg == G_OPTION_ARG_DOUBLE) &&
        !check_number(e, value, where, error))
        return FALSE;
    g_ptr_array_add(out, g_strdup_printf("--%s=%s", e->long_name, value));
    return TRUE;
}

gboolean
vd_config_file_to_args(const char *path, const GOptionEntry *entries, char **cmdline,
                       GPtrArray *out, GError **error)
{
    g_autofree char *text = NULL;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GHashTable) key_lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    KeyLines kl = {.key_lines = key_lines};
    g_autoptr(GError) local = NULL;

    if (!g_file_get_contents(path, &text, NULL, &local)) {
        g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_NOT_FOUND,
                    "cannot read the configuration file: %s", local->message);
        return FALSE;
    }
    scan_lines(text, &kl);
    g_autofree char *bad_group = kl.bad_group; /* freed on every return */
    if (!g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_NONE, &local)) {
        g_autofree char *where =
            kl.bad_line ? g_strdup_printf("%s:%d", path, kl.bad_line) : g_strdup(path);
        g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE, "%s: %s", where,
                    local->message);
        return FALSE;
    }
    if (kl.bad_group) {
        g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
                    "%s:%d: unknown group [%s]: every option goes in [" GROUP "]", path,
                    kl.bad_group_line, kl.bad_group);
        return FALSE;
    }
    g_auto(GStrv) keys = g_key_file_get_keys(kf, GROUP, NULL, NULL);
    for (guint i = 0; keys && keys[i]; i++) {
        int line = GPOINTER_TO_INT(g_hash_table_lookup(key_lines, keys[i]));
        g_autofree char *where = g_strdup_printf("%s:%d", path, line);
        const GOptionEntry *e = find_entry(entries, keys[i]);

        if (!e || (e->flags & G_OPTION_FLAG_HIDDEN)) {
            g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                        "%s: unknown key '%s': the keys are the long option names of "
                        "`virtd --help` (virtd(8)), without the dashes",
                        where, keys[i]);
            return FALSE;
        }
        if (g_strv_contains(not_in_file, keys[i])) {
            g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                        "%s: '%s' can only be given on the command line", where, keys[i]);
            return FALSE;
        }
        if (!key_to_args(kf, e, cmdline, where, out, error))
            return FALSE;
    }
    return TRUE;
}

/* The value of option --@name / -@short_name on the command line (the
 * last one given), or NULL. */
static const char *
cmdline_value(char **argv, const char *name, char short_name)
{
    g_autofree char *dashed = g_strconcat("--", name, NULL);
    gsize n = strlen(dashed);
    const char *value = NULL;

    for (guint i = 1; argv[i]; i++) {
        const char *a = argv[i];
        if (g_str_equal(a, "--"))
            break;
        if (g_str_has_prefix(a, dashed) && a[n] == '=')
            value = a + n + 1;
        else if ((g_str_equal(a, dashed) ||
                  (short_name && a[0] == '-' && a[1] == short_name && !a[2])) &&
                 argv[i + 1])
            value = argv[++i];
        else if (short_name && a[0] == '-' && a[1] == short_name && a[2])
            value = a + 2;
    }
    return value;
}

char *
vd_config_file_choose(char **argv, gboolean *explicit_out)
{
    const char *config = cmdline_value(argv, "config", 0);
    const char *root = cmdline_value(argv, "root", 'r');

    *explicit_out = config != NULL;
    if (config)
        return g_strdup(config);
    g_autofree char *path =
        root ? g_build_filename(root, "etc", "virtd.conf", NULL) : g_strdup(VD_CONFIG_FILE_DEFAULT);
    return g_file_test(path, G_FILE_TEST_EXISTS) ? g_steal_pointer(&path) : NULL;
}

int
vd_config_file_prepare(const GOptionEntry *entries, int *argc, char ***argv)
{
    /* Kept for the process's life: GOption's values point into the
     * strings, and it rearranges (and drops from) the argv it is given, so
     * that argv is a copy of the array that owns them. */
    static GPtrArray *args;
    static char **new_argv;
    g_autoptr(GError) error = NULL;
    gboolean explicit_path = FALSE;

    if (*argc == 2 &&
        (g_str_equal((*argv)[1], "--dump-man") || g_str_equal((*argv)[1], "--dump-config"))) {
        g_autoptr(GString) doc = g_string_new(NULL);
        if (g_str_equal((*argv)[1], "--dump-man"))
            vd_options_doc_man(doc, entries);
        else
            vd_options_doc_config(doc, entries);
        fputs(doc->str, stdout);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    g_autofree char *path = vd_config_file_choose(*argv, &explicit_path);
    if (!path)
        return -1;
    g_clear_pointer(&args, g_ptr_array_unref);
    g_clear_pointer(&new_argv, g_free);
    args = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(args, g_strdup((*argv)[0]));
    if (!vd_config_file_to_args(path, entries, *argv, args, &error)) {
        fprintf(stderr, "virtd: %s\n", error->message);
        return 2;
    }
    for (int i = 1; i < *argc; i++)
        g_ptr_array_add(args, g_strdup((*argv)[i]));
    new_argv = g_new0(char *, args->len + 1);
    memcpy(new_argv, args->pdata, args->len * sizeof(char *));
    *argc = (int)args->len;
    *argv = new_argv;
    return -1;
}
