#include "vd-roff.h"

void
vd_roff_append(GString *out, const char *text)
{
    gboolean line_start = out->len == 0 || out->str[out->len - 1] == '\n';

    for (const char *p = text; p && *p; p++) {
        if (line_start && (*p == '.' || *p == '\''))
            g_string_append(out, "\\&");
        line_start = *p == '\n';
        if (*p == '\\')
            g_string_append(out, "\\e");
        else if (*p == '-')
            g_string_append(out, "\\-");
        else
            g_string_append_c(out, *p);
    }
}

void
vd_roff_header(GString *out, const char *name, const char *section, const char *manual,
               const char *summary)
{
    g_autofree char *upper = g_ascii_strup(name, -1);

    /* No date: the page is the same for every build of one version. */
    g_string_append_printf(out, ".TH %s %s \"\" \"virtd %s\" \"%s\"\n", upper, section, VD_VERSION,
                           manual);
    g_string_append(out, ".SH NAME\n");
    vd_roff_append(out, name);
    g_string_append(out, " \\- ");
    vd_roff_append(out, summary);
    g_string_append_c(out, '\n');
}
