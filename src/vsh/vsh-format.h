/* Output shapes shared by vsh commands: virsh's auto-sized tables
 * (tools/vsh-table.c) and its "Key:           value" lines. Pure
 * functions returning strings, tested byte for byte in tests/vsh. */
#pragma once

#include <glib.h>

typedef struct _VshTable VshTable;

/* A table with the given column headers (NULL-terminated). */
VshTable *vsh_table_new(const char *header, ...) G_GNUC_NULL_TERMINATED;
/* Appends a row; @cells must have as many entries as there are headers (a
 * NULL cell prints as empty). */
void vsh_table_add_row(VshTable *table, const char *const *cells);
void vsh_table_free(VshTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VshTable, vsh_table_free)

/* Renders like virsh: each cell preceded by one space, columns separated
 * by three spaces (padding + 2), no padding after the last column; with
 * @header, the header row and one line of dashes (sum of column widths + 3
 * per column) come first. Widths count terminal cells (wide characters 2,
 * combining marks 0); control characters print as \xNN. */
char *vsh_table_render(const VshTable *table, gboolean header);

/* @s with control and non-printable characters (and a literal "\x")
 * escaped as \xNN, as virsh prints table cells; @width (if not NULL) gets
 * the number of terminal columns it takes. */
char *vsh_safe_encode(const char *s, gsize *width);

/* Appends "KEY" padded to 15 columns, a space, VALUE and a newline:
 * virsh's "%-15s %s\n" of dominfo and friends. */
void vsh_format_field(GString *out, const char *key, const char *value);
