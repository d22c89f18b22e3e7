/* libvirt-style XML output. See xml-writer.h. */
#include "conf/xml-writer.h"

static void
escape(GString *out, const char *s, gboolean attr)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': g_string_append(out, "&amp;"); break;
        case '<': g_string_append(out, "&lt;"); break;
        case '>': g_string_append(out, "&gt;"); break;
        case '\'': g_string_append(out, attr ? "&apos;" : "'"); break;
        case '"': g_string_append(out, attr ? "&quot;" : "\""); break;
        case '\n': g_string_append(out, attr ? "&#10;" : "\n"); break;
        case '\r': g_string_append(out, "&#13;"); break;
        case '\t': g_string_append(out, attr ? "&#9;" : "\t"); break;
        default: g_string_append_c(out, *s); break;
        }
    }
}

static void
qualified(GString *out, const xmlNs *ns, const xmlChar *name)
{
    if (ns && ns->prefix)
        g_string_append_printf(out, "%s:", (const char *)ns->prefix);
    g_string_append(out, (const char *)name);
}

static gboolean
only_text(const xmlNode *node)
{
    for (const xmlNode *c = node->children; c; c = c->next)
        if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE &&
            c->type != XML_ENTITY_REF_NODE)
            return FALSE;
    return TRUE;
}

static void
write_node(GString *out, const xmlNode *node, int depth)
{
    switch (node->type) {
    case XML_ELEMENT_NODE:
        break;
    case XML_COMMENT_NODE:
        g_string_append_printf(out, "%*s<!--%s-->\n", depth * 2, "", (const char *)node->content);
        return;
    case XML_TEXT_NODE:
    case XML_CDATA_SECTION_NODE: {
        /* Text between elements (rare in domain XML): keep it, on its own line. */
        g_autofree char *t = g_strstrip(g_strdup((const char *)node->content));
        if (*t) {
            g_string_append_printf(out, "%*s", depth * 2, "");
            escape(out, t, FALSE);
            g_string_append_c(out, '\n');
        }
        return;
    }
    default:
        return;
    }

    g_string_append_printf(out, "%*s<", depth * 2, "");
    qualified(out, node->ns, node->name);
    for (const xmlNs *ns = node->nsDef; ns; ns = ns->next) {
        g_string_append(out, ns->prefix ? " xmlns:" : " xmlns");
        if (ns->prefix)
            g_string_append(out, (const char *)ns->prefix);
        g_string_append(out, "='");
        escape(out, (const char *)ns->href, TRUE);
        g_string_append_c(out, '\'');
    }
    for (const xmlAttr *a = node->properties; a; a = a->next) {
        g_autofree xmlChar *value = xmlNodeListGetString(node->doc, a->children, 1);
        g_string_append_c(out, ' ');
        qualified(out, a->ns, a->name);
        g_string_append(out, "='");
        escape(out, (const char *)value, TRUE);
        g_string_append_c(out, '\'');
    }
    if (!node->children) {
        g_string_append(out, "/>\n");
        return;
    }
    if (only_text(node)) {
        g_autofree xmlChar *text = xmlNodeGetContent(node);
        g_string_append_c(out, '>');
        escape(out, (const char *)text, FALSE);
    } else {
        g_string_append(out, ">\n");
        for (const xmlNode *c = node->children; c; c = c->next)
            write_node(out, c, depth + 1);
        g_string_append_printf(out, "%*s", depth * 2, "");
    }
    g_string_append(out, "</");
    qualified(out, node->ns, node->name);
    g_string_append(out, ">\n");
}

char *
vd_xml_write_libvirt_style(xmlDoc *doc)
{
    GString *out = g_string_new(NULL);
    for (const xmlNode *n = doc->children; n; n = n->next)
        write_node(out, n, 0);
    return g_string_free(out, FALSE);
}
