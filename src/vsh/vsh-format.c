/* Table and field rendering for vsh output.
 *
 * Scripts parse virsh's tables with awk and `tail -n +3`, so the layout is
 * copied exactly from libvirt's vshTable: a leading space per cell, column
 * gap of three, a single dash line. Widths are computed on UTF-8 with
 * GLib's character tables rather than the C locale's wcwidth, so output
 * does not depend on the caller's LANG.
 */
#include "vsh-format.h"

#include <stdarg.h>
#include <string.h>

struct _VshTable {
    guint ncols;
    GPtrArray *rows; /* of GStrv; row 0 is the header */
};

VshTable *
vsh_table_new(const char *header, ...)
{
    VshTable *table = g_new0(VshTable, 1);
    GPtrArray *cells = g_ptr_array_new();
    va_list ap;

    va_start(ap, header);
    for (const char *h = header; h; h = va_arg(ap, const char *))
        g_ptr_array_add(cells, g_strdup(h));
    va_end(ap);
    table->ncols = cells->len;
    g_ptr_array_add(cells, NULL);
    table->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    g_ptr_array_add(table->rows, g_ptr_array_free(cells, FALSE));
    return table;
}

void
vsh_table_add_row(VshTable *table, const char *const *cells)
{
    GStrv row = g_new0(char *, table->ncols + 1);

    for (guint i = 0; i < table->ncols; i++)
        row[i] = g_strdup(cells[i] ? cells[i] : "");
    g_ptr_array_add(table->rows, row);
}

void
vsh_table_free(VshTable *table)
{
    if (!table)
        return;
    g_ptr_array_unref(table->rows);
    g_free(table);
}

static void
append_hex(GString *out, guchar byte, gsize *width)
{
    g_string_append_printf(out, "\\x%02x", byte);
    *width += 4;
}

char *
vsh_safe_encode(const char *s, gsize *width_out)
{
    GString *out = g_string_new(NULL);
    const char *p = s ? s : "";
    const char *end = p + strlen(p);
    gsize width = 0;

    while (p < end) {
        gunichar c;
        const char *next;

        /* A literal "\x" is escaped so that escaped output stays
         * unambiguous. */
        if ((p[0] == '\\' && p[1] == 'x') || g_ascii_iscntrl(*p)) {
            append_hex(out, (guchar)*p, &width);
            p++;
            continue;
        }
        c = g_utf8_get_char_validated(p, end - p);
        if (c == (gunichar)-1 || c == (gunichar)-2) {
            append_hex(out, (guchar)*p, &width);
            p++;
            continue;
        }
        next = g_utf8_next_char(p);
        if (!g_unichar_isprint(c)) {
            for (const char *q = p; q < next; q++)
                append_hex(out, (guchar)*q, &width);
        } else {
            g_string_append_len(out, p, next - p);
            if (g_unichar_iswide(c))
                width += 2;
            else if (!g_unichar_iszerowidth(c))
                width += 1;
        }
        p = next;
    }
    if (width_out)
        *width_out = width;
    return g_string_free(out, FALSE);
}

char *
vsh_table_render(const VshTable *table, gboolean header)
{
    guint ncols = table->ncols;
    guint nrows = table->rows->len;
    g_autofree gsize *maxw = g_new0(gsize, ncols);
    g_autofree gsize *widths = g_new0(gsize, (gsize)ncols * nrows);
    g_autoptr(GPtrArray) enc = g_ptr_array_new_with_free_func(g_free);
    GString *out = g_string_new(NULL);

    /* virsh sizes columns on the header only when it prints it. */
    for (guint r = 0; r < nrows; r++) {
        GStrv row = g_ptr_array_index(table->rows, r);

        for (guint c = 0; c < ncols; c++) {
            gsize w;

            g_ptr_array_add(enc, vsh_safe_encode(row[c], &w));
            widths[r * ncols + c] = w;
            if ((header || r > 0) && w > maxw[c])
                maxw[c] = w;
        }
    }

    for (guint r = header ? 0 : 1; r < nrows; r++) {
        for (guint c = 0; c < ncols; c++) {
            g_string_append_c(out, ' ');
            g_string_append(out, g_ptr_array_index(enc, r * ncols + c));
            if (c + 1 < ncols) {
                for (gsize k = widths[r * ncols + c]; k < maxw[c] + 2; k++)
                    g_string_append_c(out, ' ');
            }
        }
        g_string_append_c(out, '\n');

        if (r == 0) {
            for (guint c = 0; c < ncols; c++) {
                for (gsize k = 0; k < maxw[c] + 3; k++)
                    g_string_append_c(out, '-');
            }
            g_string_append_c(out, '\n');
        }
    }
    return g_string_free(out, FALSE);
}

void
vsh_format_field(GString *out, const char *key, const char *value)
{
    g_string_append_printf(out, "%-15s %s\n", key, value ? value : "");
}
