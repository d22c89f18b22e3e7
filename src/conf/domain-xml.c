/* Small libxml2 helpers shared by parse and format.
 *
 * libxml2 hands out xmlChar* that must be released with xmlFree; these
 * helpers convert to g_malloc'ed strings at the boundary so the rest of
 * conf/ never mixes the two allocators, and they hold the one definition
 * of "an element virtd knows" (no namespace) and of canonical order.
 */
#include "conf/domain-private.h"

#include <errno.h>
#include <string.h>

#include <libxml/parser.h>

#include "util/vd-error.h"

void
vd_xml_init(void)
{
    /* libxml2 2.9 wants its first initialisation done once, before any
     * thread uses it; the daemon parses in worker threads. */
    static gsize done;

    if (g_once_init_enter(&done)) {
        xmlInitParser();
        g_once_init_leave(&done, 1);
    }
}

gboolean
vd_xml_is(const xmlNode *node, const char *name)
{
    return node && node->type == XML_ELEMENT_NODE && node->ns == NULL &&
           strcmp((const char *)node->name, name) == 0;
}

xmlNode *
vd_xml_next(const xmlNode *node, const char *name)
{
    for (xmlNode *n = node ? node->next : NULL; n; n = n->next) {
        if (vd_xml_is(n, name))
            return n;
    }
    return NULL;
}

xmlNode *
vd_xml_child(const xmlNode *parent, const char *name)
{
    for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next) {
        if (vd_xml_is(n, name))
            return n;
    }
    return NULL;
}

char *
vd_xml_prop(const xmlNode *node, const char *name)
{
    xmlChar *v;
    char *ret;

    if (!node)
        return NULL;
    v = xmlGetNoNsProp(node, (const xmlChar *)name);
    if (!v)
        return NULL;
    ret = g_strdup((const char *)v);
    xmlFree(v);
    return ret;
}

char *
vd_xml_text(const xmlNode *node)
{
    xmlChar *v;
    char *ret;

    if (!node)
        return NULL;
    v = xmlNodeGetContent(node);
    ret = g_strdup(v ? (const char *)v : "");
    xmlFree(v);
    return ret;
}

gboolean
vd_xml_parse_uint(const char *str, const char *where, guint64 max, guint64 *out, GError **error)
{
    g_autofree char *s = g_strstrip(g_strdup(str ? str : ""));
    char *end = NULL;
    guint64 v;

    if (!g_ascii_isdigit(s[0]))
        goto bad;
    errno = 0;
    v = g_ascii_strtoull(s, &end, 10);
    if (*end)
        goto bad;
    if (errno == ERANGE || v > max) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "value '%s' in %s is too large: the maximum is %" G_GUINT64_FORMAT, s, where,
                    max);
        return FALSE;
    }
    *out = v;
    return TRUE;

bad:
    g_set_error(error, VD_ERROR, VD_ERROR_XML, "invalid value '%s' in %s: expected a whole number",
                s, where);
    return FALSE;
}

gboolean
vd_xml_parse_int(const char *str, const char *where, gint64 min, gint64 max, gint64 *out,
                 GError **error)
{
    g_autofree char *s = g_strstrip(g_strdup(str ? str : ""));
    char *end = NULL;
    gint64 v;

    if (!(g_ascii_isdigit(s[0]) || (s[0] == '-' && g_ascii_isdigit(s[1]))))
        goto bad;
    errno = 0;
    v = g_ascii_strtoll(s, &end, 10);
    if (*end)
        goto bad;
    if (errno == ERANGE || v < min || v > max) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "value '%s' in %s is out of range: expected %" G_GINT64_FORMAT
                    " to %" G_GINT64_FORMAT,
                    s, where, min, max);
        return FALSE;
    }
    *out = v;
    return TRUE;

bad:
    g_set_error(error, VD_ERROR, VD_ERROR_XML, "invalid value '%s' in %s: expected a whole number",
                s, where);
    return FALSE;
}

gboolean
vd_xml_prop_uint(const xmlNode *node, const char *name, const char *where, guint max, guint *out,
                 gboolean *present, GError **error)
{
    g_autofree char *v = vd_xml_prop(node, name);
    guint64 n;

    if (present)
        *present = v != NULL;
    if (!v)
        return TRUE;
    if (!vd_xml_parse_uint(v, where, max, &n, error))
        return FALSE;
    *out = (guint)n;
    return TRUE;
}

gboolean
vd_xml_prop_int(const xmlNode *node, const char *name, const char *where, int min, int max,
                int *out, gboolean *present, GError **error)
{
    g_autofree char *v = vd_xml_prop(node, name);
    gint64 n;

    if (present)
        *present = v != NULL;
    if (!v)
        return TRUE;
    if (!vd_xml_parse_int(v, where, min, max, &n, error))
        return FALSE;
    *out = (int)n;
    return TRUE;
}

gboolean
vd_xml_prop_bool(const xmlNode *node, const char *name, const char *where, gboolean on_off,
                 gboolean *out, gboolean *present, GError **error)
{
    g_autofree char *v = vd_xml_prop(node, name);
    const char *yes = on_off ? "on" : "yes";
    const char *no = on_off ? "off" : "no";

    if (present)
        *present = v != NULL;
    if (!v)
        return TRUE;
    if (g_str_equal(v, yes)) {
        *out = TRUE;
    } else if (g_str_equal(v, no)) {
        *out = FALSE;
    } else {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "invalid value '%s' in %s: expected '%s' or '%s'", v, where, yes, no);
        return FALSE;
    }
    return TRUE;
}

gboolean
vd_xml_check_choice(const char *value, const char *const *allowed, const char *where,
                    GError **error)
{
    g_autofree char *list = NULL;

    if (!value || g_strv_contains(allowed, value))
        return TRUE;
    list = g_strjoinv(", ", (char **)allowed);
    g_set_error(error, VD_ERROR, VD_ERROR_XML, "unknown value '%s' in %s: expected one of %s",
                value, where, list);
    return FALSE;
}

gboolean
vd_xml_prop_enum(const xmlNode *node, const char *name, const char *what, const char *where,
                 VdEnumFromString from_string, VdEnumList list, const char *const *libvirt_only,
                 int *out, gboolean *present, GError **error)
{
    g_autofree char *v = vd_xml_prop(node, name);
    g_autofree char *known = NULL;
    int r;

    if (present)
        *present = v != NULL;
    if (!v)
        return TRUE;
    r = from_string(v);
    if (r >= 0) {
        *out = r;
        return TRUE;
    }
    known = list();
    if (libvirt_only && g_strv_contains(libvirt_only, v)) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "%s '%s' in %s is not supported by virtd: use one of %s", what, v, where,
                    known);
    } else {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "unknown %s '%s' in %s: expected one of %s",
                    what, v, where, known);
    }
    return FALSE;
}

void
vd_xml_set_prop(xmlNode *node, const char *name, const char *value)
{
    if (value)
        xmlSetProp(node, (const xmlChar *)name, (const xmlChar *)value);
    else
        xmlUnsetProp(node, (const xmlChar *)name);
}

void
vd_xml_set_prop_int(xmlNode *node, const char *name, gint64 value)
{
    g_autofree char *s = g_strdup_printf("%" G_GINT64_FORMAT, value);
    vd_xml_set_prop(node, name, s);
}

void
vd_xml_set_text(xmlNode *node, const char *text)
{
    xmlNode *n = node->children;

    while (n) {
        xmlNode *next = n->next;
        xmlUnlinkNode(n);
        xmlFreeNode(n);
        n = next;
    }
    if (text && *text)
        xmlAddChild(node, xmlNewDocText(node->doc, (const xmlChar *)text));
}

static int
order_rank(const char *const *order, const xmlNode *node)
{
    if (!order || node->type != XML_ELEMENT_NODE || node->ns)
        return -1;
    for (int i = 0; order[i]; i++) {
        if (strcmp(order[i], (const char *)node->name) == 0)
            return i;
    }
    return -1;
}

void
vd_xml_insert(xmlNode *parent, xmlNode *child, const char *const *order)
{
    int rank = order_rank(order, child);
    xmlNode *after = NULL;
    xmlNode *before = NULL;

    if (rank >= 0) {
        for (xmlNode *n = parent->children; n; n = n->next) {
            int r = order_rank(order, n);
            if (r < 0)
                continue;
            if (r <= rank)
                after = n;
            else if (!before)
                before = n;
        }
    }
    if (after)
        xmlAddNextSibling(after, child);
    else if (before)
        xmlAddPrevSibling(before, child);
    else
        xmlAddChild(parent, child);
}

xmlNode *
vd_xml_ensure(xmlNode *parent, const char *name, const char *const *order)
{
    xmlNode *n = vd_xml_child(parent, name);

    if (n)
        return n;
    n = xmlNewDocNode(parent->doc, NULL, (const xmlChar *)name, NULL);
    vd_xml_insert(parent, n, order);
    return n;
}

void
vd_xml_remove_all(xmlNode *parent, const char *name)
{
    xmlNode *n = parent->children;

    while (n) {
        xmlNode *next = n->next;
        if (vd_xml_is(n, name)) {
            xmlUnlinkNode(n);
            xmlFreeNode(n);
        }
        n = next;
    }
}

void
vd_xml_remove_later(xmlNode *parent, const char *name)
{
    gboolean first = TRUE;
    xmlNode *n = parent->children;

    while (n) {
        xmlNode *next = n->next;
        if (vd_xml_is(n, name)) {
            if (!first) {
                xmlUnlinkNode(n);
                xmlFreeNode(n);
            }
            first = FALSE;
        }
        n = next;
    }
}

void
vd_xml_set_child_text(xmlNode *parent, const char *name, const char *text, const char *const *order)
{
    if (!text) {
        vd_xml_remove_all(parent, name);
        return;
    }
    vd_xml_set_text(vd_xml_ensure(parent, name, order), text);
}

void
vd_xml_set_child_flag(xmlNode *parent, const char *name, gboolean on, const char *const *order)
{
    if (on)
        vd_xml_ensure(parent, name, order);
    else
        vd_xml_remove_all(parent, name);
}

void
vd_xml_order_props(xmlNode *node, const char *const *order)
{
    g_autoptr(GPtrArray) sorted = g_ptr_array_new();
    xmlAttr *a;

    for (guint i = 0; order[i]; i++) {
        for (a = node->properties; a; a = a->next) {
            if (!a->ns && strcmp((const char *)a->name, order[i]) == 0) {
                g_ptr_array_add(sorted, a);
                break;
            }
        }
    }
    for (a = node->properties; a; a = a->next) {
        if (!g_ptr_array_find(sorted, a, NULL))
            g_ptr_array_add(sorted, a);
    }
    for (guint i = 0; i < sorted->len; i++) {
        a = g_ptr_array_index(sorted, i);
        a->prev = i > 0 ? g_ptr_array_index(sorted, i - 1) : NULL;
        a->next = i + 1 < sorted->len ? g_ptr_array_index(sorted, i + 1) : NULL;
    }
    node->properties = sorted->len ? g_ptr_array_index(sorted, 0) : NULL;
}

gboolean
vd_xml_is_empty(const xmlNode *node)
{
    return node->properties == NULL && node->children == NULL;
}

void
vd_xml_prune(xmlNode *node)
{
    if (node && vd_xml_is_empty(node)) {
        xmlUnlinkNode(node);
        xmlFreeNode(node);
    }
}
