/* The pure parts of image building (see vd-image.h): argument checks,
 * finding the recipe, reading the recipe's progress lines. No daemon, no
 * child processes; unit tested in tests/vsh/test-vsh-image.c. */
#include "image/vd-image.h"

#include <stdlib.h>
#include <string.h>

#include "util/vd-error.h"

#ifndef VD_IMAGE_RECIPES_DIR
#error "VD_IMAGE_RECIPES_DIR must be defined by the build (src/vsh/meson.build)"
#endif

#define RECIPE_SUFFIX ".sh"

/* $VSH_IMAGE_RECIPES, else the installed directory, else (a vsh run from
 * its build tree, never installed) the source tree's src/image. */
const char *
vd_image_recipes_dir(void)
{
    const char *dir = g_getenv("VSH_IMAGE_RECIPES");

    if (dir && *dir)
        return dir;
#ifdef VD_IMAGE_RECIPES_SRC_DIR
    if (!g_file_test(VD_IMAGE_RECIPES_DIR, G_FILE_TEST_IS_DIR) &&
        g_file_test(VD_IMAGE_RECIPES_SRC_DIR, G_FILE_TEST_IS_DIR))
        return VD_IMAGE_RECIPES_SRC_DIR;
#endif
    return VD_IMAGE_RECIPES_DIR;
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The templates in @dir, sorted, joined with ", "; "none" when empty. */
static char *
list_templates(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *entry;

    while (d && (entry = g_dir_read_name(d))) {
        if (g_str_has_suffix(entry, RECIPE_SUFFIX))
            g_ptr_array_add(names, g_strndup(entry, strlen(entry) - strlen(RECIPE_SUFFIX)));
    }
    if (names->len == 0)
        return g_strdup("none");
    g_ptr_array_sort(names, compare_names);
    g_ptr_array_add(names, NULL);
    return g_strjoinv(", ", (char **)names->pdata);
}

static gboolean
is_template_name(const char *name)
{
    if (!g_ascii_isalnum(name[0]))
        return FALSE;
    for (const char *p = name; *p; p++) {
        if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) && *p != '-' && *p != '.')
            return FALSE;
    }
    return TRUE;
}

char *
vd_image_find_recipe(const char *dir, const char *template_name, GError **error)
{
    g_autofree char *file = g_strconcat(template_name, RECIPE_SUFFIX, NULL);
    g_autofree char *path = g_build_filename(dir, file, NULL);

    if (!is_template_name(template_name) || !g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        g_autofree char *known = list_templates(dir);

        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "unknown image template '%s': the templates are %s (recipes in %s; "
                    "VSH_IMAGE_RECIPES overrides the directory)",
                    template_name, known, dir);
        return NULL;
    }
    return g_steal_pointer(&path);
}

gboolean
vd_image_check_hostname(const char *hostname, GError **error)
{
    gsize len = strlen(hostname);
    g_auto(GStrv) labels = g_strsplit(hostname, ".", -1);

    if (len == 0 || len > 253)
        goto bad;
    for (guint i = 0; labels[i]; i++) {
        const char *l = labels[i];
        gsize n = strlen(l);

        if (n == 0 || n > 63 || l[0] == '-' || l[n - 1] == '-')
            goto bad;
        for (const char *p = l; *p; p++) {
            if (!g_ascii_isalnum(*p) && *p != '-')
                goto bad;
        }
    }
    return TRUE;

bad:
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                "invalid host name '%s': use letters, digits and '-' in labels of at most 63 "
                "characters separated by '.', e.g. 'web1' or 'web1.example.org'",
                hostname);
    return FALSE;
}

static gboolean
is_package_name(const char *name)
{
    if (strlen(name) < 2 || !(g_ascii_islower(name[0]) || g_ascii_isdigit(name[0])))
        return FALSE;
    for (const char *p = name; *p; p++) {
        if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) && !strchr("+-.", *p))
            return FALSE;
    }
    return TRUE;
}

gboolean
vd_image_check_packages(const char *packages, GError **error)
{
    g_auto(GStrv) names = g_strsplit(packages, ",", -1);

    if (!names[0]) {
        g_set_error_literal(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "--packages is empty: give package names separated by ','");
        return FALSE;
    }
    for (guint i = 0; names[i]; i++) {
        if (!is_package_name(names[i])) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid Debian package name '%s' in --packages: names are lower-case "
                        "letters, digits, '+', '-' and '.', separated by ',' without blanks",
                        names[i]);
            return FALSE;
        }
    }
    return TRUE;
}

char *
vd_image_read_password(const char *spec, GError **error)
{
    g_autofree char *contents = NULL;
    g_autoptr(GError) local = NULL;
    char *nl;

    if (!g_str_has_prefix(spec, "file:")) {
        if (!*spec) {
            g_set_error_literal(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                                "--root-password is empty: give a password or file:PATH");
            return NULL;
        }
        return g_strdup(spec);
    }
    if (!g_file_get_contents(spec + 5, &contents, NULL, &local)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "cannot read --root-password %s: %s",
                    spec, local->message);
        return NULL;
    }
    if ((nl = strchr(contents, '\n')))
        *nl = '\0';
    if (!*contents) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "the first line of '%s' (--root-password) is empty", spec + 5);
        return NULL;
    }
    return g_steal_pointer(&contents);
}

gboolean
vd_image_check_ssh_key(const char *path, GError **error)
{
    g_autofree char *contents = NULL;
    g_autoptr(GError) local = NULL;
    g_auto(GStrv) lines = NULL;
    guint keys = 0;

    if (!g_file_get_contents(path, &contents, NULL, &local)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "cannot read --ssh-key: %s",
                    local->message);
        return FALSE;
    }
    if (strstr(contents, "PRIVATE KEY")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "'%s' is a private key: give the public key (%s.pub)", path, path);
        return FALSE;
    }
    lines = g_strsplit(contents, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_strstrip(lines[i]);
        if (!*lines[i] || lines[i][0] == '#')
            continue;
        if (!strchr(lines[i], ' ')) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "'%s' line %u is not an ssh public key ('TYPE KEY [comment]', as in "
                        "~/.ssh/id_ed25519.pub)",
                        path, i + 1);
            return FALSE;
        }
        keys++;
    }
    if (keys == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "'%s' holds no ssh public key", path);
        return FALSE;
    }
    return TRUE;
}

void
vd_image_line_clear(VdImageLine *line)
{
    g_clear_pointer(&line->key, g_free);
    g_clear_pointer(&line->text, g_free);
    line->kind = VD_IMAGE_LINE_TEXT;
    line->step = line->steps = 0;
}

static gboolean
parse_step(const char *rest, VdImageLine *line)
{
    char *end;
    guint64 n;
    guint64 m;

    n = g_ascii_strtoull(rest, &end, 10);
    if (end == rest || *end != '/')
        return FALSE;
    rest = end + 1;
    m = g_ascii_strtoull(rest, &end, 10);
    if (end == rest || *end != ' ' || n == 0 || n > m || m > 1000)
        return FALSE;
    line->kind = VD_IMAGE_LINE_STEP;
    line->step = (guint)n;
    line->steps = (guint)m;
    line->text = g_strdup(end + 1);
    return TRUE;
}

void
vd_image_parse_line(const char *raw, VdImageLine *line)
{
    const char *sp;

    vd_image_line_clear(line);
    if (g_str_has_prefix(raw, "@@step ") && parse_step(raw + 7, line))
        return;
    if (g_str_has_prefix(raw, "@@warn ")) {
        line->kind = VD_IMAGE_LINE_WARN;
        line->text = g_strdup(raw + 7);
        return;
    }
    if (g_str_has_prefix(raw, "@@info ") && (sp = strchr(raw + 7, ' ')) && sp > raw + 7) {
        line->kind = VD_IMAGE_LINE_INFO;
        line->key = g_strndup(raw + 7, (gsize)(sp - raw - 7));
        line->text = g_strdup(sp + 1);
        return;
    }
    line->kind = VD_IMAGE_LINE_TEXT;
    line->text = g_strdup(raw);
}

char *
vd_image_format_duration(gint64 usec)
{
    gint64 s = (usec + 500000) / 1000000;

    if (s < 60)
        return g_strdup_printf("%" G_GINT64_FORMAT "s", s);
    return g_strdup_printf("%" G_GINT64_FORMAT "m%02" G_GINT64_FORMAT "s", s / 60, s % 60);
}
