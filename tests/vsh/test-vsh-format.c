/* Tests of vsh's table and field rendering (vsh-format.c): the exact
 * bytes virsh's vshTable prints, and display widths of non-ASCII text. */
#include "vsh/vsh-format.h"

static void
add(VshTable *t, const char *a, const char *b, const char *c)
{
    const char *cells[] = {a, b, c};

    vsh_table_add_row(t, cells);
}

static void
test_two_rows_exact(void)
{
    g_autoptr(VshTable) t = vsh_table_new("Id", "Name", "State", NULL);
    g_autofree char *text = NULL;

    add(t, "1", "web1", "running");
    add(t, "-", "db", "shut off");
    text = vsh_table_render(t, TRUE);
    g_assert_cmpstr(text, ==,
                    " Id   Name   State\n"
                    "-----------------------\n"
                    " 1    web1   running\n"
                    " -    db     shut off\n");
}

static void
test_no_rows(void)
{
    g_autoptr(VshTable) t = vsh_table_new("Id", "Name", "State", NULL);
    g_autofree char *text = vsh_table_render(t, TRUE);
    g_autofree char *bare = vsh_table_render(t, FALSE);

    g_assert_cmpstr(text, ==,
                    " Id   Name   State\n"
                    "--------------------\n");
    g_assert_cmpstr(bare, ==, "");
}

static void
test_no_header(void)
{
    g_autoptr(VshTable) t = vsh_table_new("Identifier", "Name", NULL);
    const char *row[] = {"12", "a-long-name"};
    g_autofree char *text = NULL;

    vsh_table_add_row(t, row);
    /* Without the header, its width does not count (virsh -q). */
    text = vsh_table_render(t, FALSE);
    g_assert_cmpstr(text, ==, " 12   a-long-name\n");
}

static void
test_empty_and_null_cells(void)
{
    g_autoptr(VshTable) t = vsh_table_new("Id", "Name", "State", "Title", NULL);
    const char *row[] = {"1", "web1", "running", NULL};
    g_autofree char *text = NULL;

    vsh_table_add_row(t, row);
    text = vsh_table_render(t, TRUE);
    /* The last column is never padded: an empty title leaves one space. */
    g_assert_cmpstr(text, ==,
                    " Id   Name   State     Title\n"
                    "------------------------------\n"
                    " 1    web1   running   \n");
}

static void
test_unicode_widths(void)
{
    static const struct {
        const char *text;
        gsize width;
        const char *encoded;
    } cases[] = {
        {"", 0, ""},
        {"web1", 4, "web1"},
        {"db-\xc3\xbc", 4, "db-\xc3\xbc"},                           /* ü: one column */
        {"\xe4\xb8\xad\xe6\x96\x87", 4, "\xe4\xb8\xad\xe6\x96\x87"}, /* 中文: two each */
        {"e\xcc\x81", 1, "e\xcc\x81"},                               /* e + combining acute */
        {"a\tb", 6, "a\\x09b"},                                      /* controls are escaped */
        {"a\\xb", 7, "a\\x5cxb"},                                    /* so is a literal \x */
        {"bad\xff", 7, "bad\\xff"},                                  /* invalid UTF-8 */
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        gsize width = 99;
        g_autofree char *enc = vsh_safe_encode(cases[i].text, &width);

        g_assert_cmpstr(enc, ==, cases[i].encoded);
        g_assert_cmpuint(width, ==, cases[i].width);
    }
}

static void
test_unicode_table(void)
{
    g_autoptr(VshTable) t = vsh_table_new("Id", "Name", "State", NULL);
    g_autofree char *text = NULL;

    add(t, "1", "\xe4\xb8\xad\xe6\x96\x87-vm", "running"); /* 中文-vm: 7 columns */
    add(t, "-", "caf\xc3\xa9", "shut off");                /* café: 4 columns */
    text = vsh_table_render(t, TRUE);
    g_assert_cmpstr(text, ==,
                    " Id   Name      State\n"
                    "--------------------------\n"
                    " 1    \xe4\xb8\xad\xe6\x96\x87-vm   running\n"
                    " -    caf\xc3\xa9      shut off\n");
}

static void
test_fields(void)
{
    g_autoptr(GString) out = g_string_new(NULL);

    vsh_format_field(out, "Id:", "3");
    vsh_format_field(out, "Security model:", "none");
    vsh_format_field(out, "A longer key than 15:", "x");
    vsh_format_field(out, "Title:", NULL);
    g_assert_cmpstr(out->str, ==,
                    "Id:             3\n"
                    "Security model: none\n"
                    "A longer key than 15: x\n"
                    "Title:          \n");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vsh/format/two-rows-exact", test_two_rows_exact);
    g_test_add_func("/vsh/format/no-rows", test_no_rows);
    g_test_add_func("/vsh/format/no-header", test_no_header);
    g_test_add_func("/vsh/format/empty-and-null-cells", test_empty_and_null_cells);
    g_test_add_func("/vsh/format/unicode-widths", test_unicode_widths);
    g_test_add_func("/vsh/format/unicode-table", test_unicode_table);
    g_test_add_func("/vsh/format/fields", test_fields);
    return g_test_run();
}
