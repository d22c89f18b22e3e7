/* The compatibility corpus: real libvirt XML through conf/.
 *
 * /work/shared/compat/domain-xml (VD_COMPAT_DIR) holds what virt-install
 * writes. For each file: define (parse -> defaults -> validate) either
 * succeeds, and then every element and attribute of the input must come
 * back from format with the same value (defaults may add more), or fails
 * with a message that names an element of the file. A missing corpus is a
 * failure, not a skip: the promise is about these files. How many of them
 * start is reported, not asserted.
 */
#include <string.h>

#include <glib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "conf/domain-def.h"
#include "util/vd-error.h"

typedef struct {
    guint files, defined, refused, startable;
} Summary;

typedef struct {
    char *path;
    char *name;
    Summary *summary;
} Case;

static char *
qualified_name(const xmlNode *node)
{
    if (node->ns && node->ns->prefix)
        return g_strdup_printf("%s:%s", node->ns->prefix, node->name);
    return g_strdup((const char *)node->name);
}

/* Canonical paths such as /domain[1]/devices[1]/disk[2]/driver[1]/@cache
 * mapped to their values; an element's value is its trimmed text when it
 * has no child elements. */
static void
collect(const xmlNode *node, const char *path, GHashTable *out, GHashTable *names)
{
    g_autoptr(GHashTable) counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    gboolean has_children = FALSE;

    for (const xmlAttr *a = node->properties; a; a = a->next) {
        xmlChar *v = xmlNodeListGetString(node->doc, a->children, 1);
        g_autofree char *aname = a->ns && a->ns->prefix
                                     ? g_strdup_printf("%s:%s", a->ns->prefix, a->name)
                                     : g_strdup((const char *)a->name);
        g_hash_table_insert(out, g_strdup_printf("%s/@%s", path, aname),
                            g_strdup(v ? (const char *)v : ""));
        xmlFree(v);
    }
    for (const xmlNode *c = node->children; c; c = c->next) {
        char *qname;
        guint idx;
        g_autofree char *cpath = NULL;

        if (c->type != XML_ELEMENT_NODE)
            continue;
        has_children = TRUE;
        qname = qualified_name(c);
        if (names)
            g_hash_table_add(names, g_strdup((const char *)c->name));
        idx = GPOINTER_TO_UINT(g_hash_table_lookup(counts, qname)) + 1;
        cpath = g_strdup_printf("%s/%s[%u]", path, qname, idx);
        g_hash_table_insert(counts, qname, GUINT_TO_POINTER(idx));
        collect(c, cpath, out, names);
    }
    if (!has_children) {
        xmlChar *text = xmlNodeGetContent(node);
        g_hash_table_insert(out, g_strdup(path),
                            g_strstrip(g_strdup(text ? (const char *)text : "")));
        xmlFree(text);
    } else {
        g_hash_table_insert(out, g_strdup(path), g_strdup(""));
    }
}

static GHashTable *
paths_of(const char *xml, GHashTable *names)
{
    xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "compat.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
                                    XML_PARSE_NOWARNING);
    GHashTable *out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    xmlNode *root;
    g_autofree char *rpath = NULL;

    g_assert_nonnull(doc);
    root = xmlDocGetRootElement(doc);
    rpath = g_strdup_printf("/%s[1]", root->name);
    if (names)
        g_hash_table_add(names, g_strdup((const char *)root->name));
    collect(root, rpath, out, names);
    xmlFreeDoc(doc);
    return out;
}

/* "... <domain type=> ..." names element "domain" if the file has one. */
static gboolean
message_names_element(const char *message, GHashTable *names)
{
    for (const char *p = strchr(message, '<'); p; p = strchr(p + 1, '<')) {
        const char *s = p + 1;
        const char *e = s;
        g_autofree char *word = NULL;

        while (g_ascii_isalnum(*e) || *e == '_' || *e == '-' || *e == ':')
            e++;
        word = g_strndup(s, e - s);
        /* element paths in messages look like <domain/devices/hostdev>:
         * the last step counts. */
        if (*e == '/') {
            const char *end = strchr(e, '>');
            const char *last = end ? g_strrstr_len(s, end - s, "/") : NULL;
            if (last) {
                g_free(word);
                word = g_strndup(last + 1, end - last - 1);
            }
        }
        if (g_hash_table_contains(names, word))
            return TRUE;
    }
    return FALSE;
}

static void
test_file(gconstpointer data)
{
    const Case *c = data;
    g_autofree char *xml = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(VdDomainDef) def = NULL;
    g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) in = NULL;
    g_autoptr(GHashTable) out = NULL;
    g_autofree char *formatted = NULL;
    GHashTableIter it;
    gpointer key, value;
    guint checked = 0;

    g_assert_true(g_file_get_contents(c->path, &xml, NULL, NULL));
    in = paths_of(xml, names);
    c->summary->files++;

    def = vd_domain_def_new_from_xml(xml, -1, &err);
    if (!def) {
        g_assert_nonnull(err);
        g_test_message("refused %s: [%s] %s", c->name, vd_error_code_to_string(err->code),
                       err->message);
        if (!message_names_element(err->message, names))
            g_test_message("message does not name an element of %s", c->name);
        g_assert_true(message_names_element(err->message, names));
        c->summary->refused++;
        return;
    }

    formatted = vd_domain_def_format(def, VD_DOMAIN_FORMAT_SECURE);
    out = paths_of(formatted, NULL);
    g_hash_table_iter_init(&it, in);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        const char *got = g_hash_table_lookup(out, key);
        if (g_strcmp0(got, value) != 0) {
            g_test_message("%s: %s was '%s', format gave %s%s%s", c->name, (const char *)key,
                           (const char *)value, got ? "'" : "", got ? got : "nothing",
                           got ? "'" : "");
            g_test_message("%s", formatted);
        }
        g_assert_cmpstr(got, ==, value);
        checked++;
    }
    c->summary->defined++;
    g_clear_error(&err);
    if (vd_domain_def_check_startable(def, &err)) {
        c->summary->startable++;
        g_test_message("ok %s: %u paths kept, startable", c->name, checked);
    } else {
        g_test_message("ok %s: %u paths kept, not startable: %s", c->name, checked, err->message);
    }
}

static void
test_summary(gconstpointer data)
{
    const Summary *s = data;

    g_test_message("compat: %u files, %u define, %u refused, %u startable", s->files, s->defined,
                   s->refused, s->startable);
    g_assert_cmpuint(s->defined + s->refused, ==, s->files);
}

static void
test_missing(gconstpointer data)
{
    g_test_message("compat corpus not found: %s", (const char *)data);
    g_assert_not_reached();
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

static void
case_free(Case *c)
{
    g_free(c->path);
    g_free(c->name);
    g_free(c);
}

int
main(int argc, char **argv)
{
    const char *dir_path;
    g_autoptr(GDir) dir = NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func((GDestroyNotify)case_free);
    Summary summary = {0};
    const char *entry;
    int ret;

    g_test_init(&argc, &argv, NULL);
    dir_path = g_getenv("VD_COMPAT_DIR");
    if (!dir_path || !(dir = g_dir_open(dir_path, 0, NULL))) {
        g_test_add_data_func("/compat/corpus-present",
                             dir_path ? dir_path : "(VD_COMPAT_DIR unset)", test_missing);
        return g_test_run();
    }
    while ((entry = g_dir_read_name(dir))) {
        if (g_str_has_suffix(entry, ".xml"))
            g_ptr_array_add(names, g_strdup(entry));
    }
    g_ptr_array_sort(names, compare_names);
    if (names->len == 0) {
        g_test_add_data_func("/compat/corpus-present", dir_path, test_missing);
        return g_test_run();
    }
    for (guint i = 0; i < names->len; i++) {
        Case *c = g_new0(Case, 1);
        g_autofree char *test_path = NULL;

        c->name = g_strdup(g_ptr_array_index(names, i));
        c->path = g_build_filename(dir_path, c->name, NULL);
        c->summary = &summary;
        g_ptr_array_add(cases, c);
        test_path = g_strdup_printf("/compat/%s", c->name);
        g_test_add_data_func(test_path, c, test_file);
    }
    g_test_add_data_func("/compat-summary/counts", &summary, test_summary);
    ret = g_test_run();
    return ret;
}
