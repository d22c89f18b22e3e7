/* The <domain> and <inactiveDomain> text of a snapshot's metadata, out of
 * snapshot-def.c: found in the document's text, checked against the
 * element libxml read. */
#include "conf/snapshot-domain-text.h"

#include <string.h>

#include "conf/domain-private.h"

/* libxml's text of @node; @format: indented. */
static char *
node_dump(xmlNode *node, int format)
{
    xmlBuffer *buf = xmlBufferCreate();
    xmlNodeDump(buf, node->doc, node, 0, format);
    char *text = g_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    return text;
}

/* @text less its blanks, in place. */
static char *
without_blanks(char *text)
{
    char *out = text;

    for (const char *in = text; *in; in++) {
        if (!g_ascii_isspace(*in))
            *out++ = *in;
    }
    *out = '\0';
    return text;
}

/* Whether @text, a <domain> element, is libxml's text @want of the element
 * (less blanks, as is @want: domain_text takes the indent off each line,
 * text lines of mixed content too). */
static gboolean
is_element(const char *text, const char *want)
{
    g_autoptr(xmlDoc) doc = vd_xml_read_doc(text, -1, NULL);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;

    if (!root)
        return FALSE;
    g_autofree char *got = node_dump(root, 0);
    return g_str_equal(without_blanks(got), want);
}

/* The text from @start to @end (an element @elem in our layout), less
 * the indent of each line, as a <domain> element. */
static char *
unindented(const char *start, const char *end, const char *elem)
{
    g_autofree char *chunk = g_strndup(start, end - start);
    g_auto(GStrv) lines = g_strsplit(chunk, "\n", -1);
    GString *out = g_string_new(NULL);

    for (char **l = lines; *l; l++) {
        const char *line = g_str_has_prefix(*l, "  ") ? *l + 2 : *l;
        g_string_append_printf(out, "%s%s", l == lines ? "" : "\n", line);
    }
    if (!g_str_equal(elem, "domain")) {
        /* <inactiveDomain ...>...</inactiveDomain>: renamed <domain> */
        g_string_erase(out, 1, strlen(elem));
        g_string_insert(out, 1, "domain");
        g_string_truncate(out, out->len - strlen(elem) - 1);
        g_string_append(out, "domain>");
    }
    return g_string_free(out, FALSE);
}

/* The text of element @node (<domain> or <inactiveDomain>), as a <domain>
 * element. The daemon's own files hold it as vd_snapshot_def_format wrote
 * it (each line indented by two, the element's end followed by a newline):
 * that text is taken as it is, less the indent, so that a load and save
 * cycle changes nothing (quotes and layout included); otherwise libxml's
 * dump. The end tag need not start its line: text before it (an element
 * of mixed content) was indented by the format like any line, and must
 * lose that indent here, or each save would indent it once more
 * (fuzz/xml-snapshot.c). The start and end tags in our layout may also
 * occur elsewhere (in a comment, a nested element, the other domain's
 * text): each pair is tried, in order, until its text is the element as
 * libxml read it (fuzz/corpus/xml-snapshot/crash-domain-text-*). */
char *
vd_snapshot_domain_text(const char *xml, xmlNode *node)
{
    g_autofree char *elem = g_strdup((const char *)node->name);
    g_autofree char *open = g_strdup_printf("\n  <%s", elem);
    g_autofree char *close = g_strdup_printf("</%s>\n", elem);

    xmlNodeSetName(node, (const xmlChar *)"domain");
    g_autofree char *want = without_blanks(node_dump(node, 0));
    for (const char *start = strstr(xml, open); start; start = strstr(start + 1, open)) {
        if (start[strlen(open)] != ' ' && start[strlen(open)] != '>')
            continue;
        for (const char *end = strstr(start, close); end; end = strstr(end + 1, close)) {
            g_autofree char *text = unindented(start + 1, end + strlen(close) - 1, elem);

            if (is_element(text, want))
                return g_steal_pointer(&text);
        }
    }
    return node_dump(node, 1);
}
