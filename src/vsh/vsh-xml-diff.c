/* --print-diff: a unified diff of two texts, as Python's
 * difflib.unified_diff writes it (virt-xml's output), from a longest
 * common subsequence of their lines. Definitions are a few hundred lines,
 * so the quadratic table is small; no diffutils needed. */
#include <string.h>

#include "vsh-xml.h"

#define CONTEXT 3

typedef struct {
    char op;    /* ' ', '-', '+' */
    guint a, b; /* line index in old / new before this op */
    const char *line;
} Op;

/* "start,len" as difflib's _format_range_unified. */
static char *
range(guint start, guint len)
{
    if (len == 1)
        return g_strdup_printf("%u", start + 1);
    return g_strdup_printf("%u,%u", len ? start + 1 : start, len);
}

char *
vsh_xml_diff(const char *old_text, const char *new_text, const char *from, const char *to)
{
    g_auto(GStrv) a = g_strsplit(old_text, "\n", -1);
    g_auto(GStrv) b = g_strsplit(new_text, "\n", -1);
    guint n = g_strv_length(a), m = g_strv_length(b);
    g_autofree guint *lcs = NULL;
    g_autoptr(GArray) ops = g_array_new(FALSE, FALSE, sizeof(Op));
    GString *out = g_string_new(NULL);
    guint i, j;

    /* A final newline makes an empty last piece: not a line. */
    if (n && !*a[n - 1])
        n--;
    if (m && !*b[m - 1])
        m--;
    /* lcs[i][j]: the LCS length of a[i..] and b[j..]. */
    lcs = g_new0(guint, (gsize)(n + 1) * (m + 1));
#define L(x, y) lcs[(gsize)(x) * (m + 1) + (y)]
    for (i = n; i-- > 0;) {
        for (j = m; j-- > 0;)
            L(i, j) = g_str_equal(a[i], b[j]) ? L(i + 1, j + 1) + 1 : MAX(L(i + 1, j), L(i, j + 1));
    }
    for (i = 0, j = 0; i < n || j < m;) {
        Op op = {.a = i, .b = j};

        if (i < n && j < m && g_str_equal(a[i], b[j])) {
            op.op = ' ';
            op.line = a[i++];
            j++;
        } else if (i < n && (j == m || L(i + 1, j) >= L(i, j + 1))) {
            op.op = '-';
            op.line = a[i++];
        } else {
            op.op = '+';
            op.line = b[j++];
        }
        g_array_append_val(ops, op);
    }
#undef L
    /* Hunks: each change with CONTEXT lines around it, merged when the
     * unchanged run between two changes is at most 2*CONTEXT lines. */
    for (guint k = 0; k < ops->len;) {
        guint start, end, last;
        guint olen = 0, nlen = 0;
        g_autofree char *r1 = NULL;
        g_autofree char *r2 = NULL;

        while (k < ops->len && g_array_index(ops, Op, k).op == ' ')
            k++;
        if (k == ops->len)
            break;
        start = k > CONTEXT ? k - CONTEXT : 0;
        last = k;
        for (guint x = k; x < ops->len; x++) {
            if (g_array_index(ops, Op, x).op != ' ') {
                last = x;
            } else if (x - last > 2 * CONTEXT) {
                break;
            }
        }
        end = MIN(last + CONTEXT + 1, ops->len);
        for (guint x = start; x < end; x++) {
            char o = g_array_index(ops, Op, x).op;
            olen += o != '+';
            nlen += o != '-';
        }
        if (out->len == 0)
            g_string_append_printf(out, "--- %s\n+++ %s\n", from, to);
        r1 = range(g_array_index(ops, Op, start).a, olen);
        r2 = range(g_array_index(ops, Op, start).b, nlen);
        g_string_append_printf(out, "@@ -%s +%s @@\n", r1, r2);
        for (guint x = start; x < end; x++) {
            Op *op = &g_array_index(ops, Op, x);
            g_string_append_printf(out, "%c%s\n", op->op, op->line);
        }
        k = end;
    }
    return g_string_free(out, FALSE);
}
