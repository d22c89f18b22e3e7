/* attach-device and detach-device --config for the device classes that
 * have no live path (sound, rng, watchdog, video ...): the element is
 * added to or removed from the definition's document, and the result is
 * parsed again as a whole, so it takes effect at the next start exactly
 * as if the user had written it with 'vsh edit' (and is refused exactly
 * as such a definition would be). See domain-def.h. */
#include "conf/domain-private.h"
#include "conf/xml-writer.h"
#include "util/vd-error.h"

#include <string.h>

/* The children of <devices> in libvirt's schema. */
static const char *const device_elements[] = {
    "disk",     "controller", "lease",      "filesystem", "interface", "smartcard", "serial",
    "parallel", "console",    "channel",    "input",      "tpm",       "graphics",  "sound",
    "audio",    "video",      "hostdev",    "redirdev",   "redirfilter", "hub",     "watchdog",
    "memballoon", "rng",      "panic",      "shmem",      "memory",    "iommu",     "vsock",
    "crypto",   "pstore",     NULL};

static xmlNode *
fragment_root(xmlDoc *doc, GError **error)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!root || !g_strv_contains(device_elements, (const char *)root->name)) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "XML error: <%s> is not a device: give one element that goes into "
                    "<devices>, such as <disk>, <interface> or <sound>",
                    root ? (const char *)root->name : "");
        return NULL;
    }
    return root;
}

/* Whether every attribute and child element of @want is in @have with the
 * same values (text included); an <alias> in @want matches on its own. */
static gboolean
node_covers(const xmlNode *have, const xmlNode *want)
{
    if (!xmlStrEqual(have->name, want->name))
        return FALSE;
    for (const xmlAttr *a = want->properties; a; a = a->next) {
        g_autofree char *w = vd_xml_prop(want, (const char *)a->name);
        g_autofree char *h = vd_xml_prop(have, (const char *)a->name);
        if (g_strcmp0(w, h) != 0)
            return FALSE;
    }
    for (const xmlNode *c = want->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE) {
            g_autofree char *w = vd_xml_text(want);
            g_autofree char *h = vd_xml_text(have);
            if (g_strcmp0(g_strstrip(w), h ? g_strstrip(h) : NULL) != 0)
                return FALSE;
            continue;
        }
        if (c->type != XML_ELEMENT_NODE)
            continue;
        gboolean found = FALSE;
        for (const xmlNode *hc = have->children; hc && !found; hc = hc->next)
            found = hc->type == XML_ELEMENT_NODE && node_covers(hc, c);
        if (!found)
            return FALSE;
    }
    return TRUE;
}

static gboolean
alias_matches(const xmlNode *have, const xmlNode *want)
{
    xmlNode *wa = vd_xml_child(want, "alias");
    xmlNode *ha = vd_xml_child(have, "alias");
    if (!wa || !ha)
        return FALSE;
    g_autofree char *w = vd_xml_prop(wa, "name");
    g_autofree char *h = vd_xml_prop(ha, "name");
    return w && g_strcmp0(w, h) == 0;
}

static VdDomainDef *
reparse(xmlDoc *doc, GError **error)
{
    g_autofree char *text = vd_xml_write_libvirt_style(doc);
    return vd_domain_def_new_from_stored_xml(text, -1, error);
}

VdDomainDef *
vd_domain_def_with_device(const VdDomainDef *def, const char *fragment, GError **error)
{
    g_autoptr(xmlDoc) frag = vd_xml_read_doc(fragment, -1, error);
    xmlNode *dev = frag ? fragment_root(frag, error) : NULL;
    if (!dev)
        return NULL;
    g_autoptr(xmlDoc) doc = vd_domain_def_to_doc(def, VD_DOMAIN_FORMAT_SECURE);
    xmlNode *devices = vd_xml_child(xmlDocGetRootElement(doc), "devices");
    if (!devices)
        devices = xmlNewChild(xmlDocGetRootElement(doc), NULL, (const xmlChar *)"devices", NULL);
    xmlNode *copy = xmlDocCopyNode(dev, doc, 1);
    /* After the last of its kind, as libvirt appends a device. */
    xmlNode *last = NULL;
    for (xmlNode *n = devices->children; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, dev->name))
            last = n;
    }
    if (last)
        xmlAddNextSibling(last, copy);
    else
        xmlAddChild(devices, copy);
    return reparse(doc, error);
}

VdDomainDef *
vd_domain_def_without_device(const VdDomainDef *def, const char *fragment, GError **error)
{
    g_autoptr(xmlDoc) frag = vd_xml_read_doc(fragment, -1, error);
    xmlNode *want = frag ? fragment_root(frag, error) : NULL;
    if (!want)
        return NULL;
    g_autoptr(xmlDoc) doc = vd_domain_def_to_doc(def, VD_DOMAIN_FORMAT_SECURE);
    xmlNode *devices = vd_xml_child(xmlDocGetRootElement(doc), "devices");
    xmlNode *found = NULL;
    guint matches = 0;
    for (xmlNode *n = devices ? devices->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || !xmlStrEqual(n->name, want->name))
            continue;
        if (alias_matches(n, want)) {
            found = n;
            matches = 1;
            break;
        }
        if (node_covers(n, want)) {
            found = found ? found : n;
            matches++;
        }
    }
    if (matches == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: domain '%s' has no <%s> device matching the XML given",
                    def->name, (const char *)want->name);
        return NULL;
    }
    if (matches > 1) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: %u <%s> devices of domain '%s' match the XML given: "
                    "add what tells them apart (a model, an address, an <alias name=...>)",
                    matches, (const char *)want->name, def->name);
        return NULL;
    }
    xmlUnlinkNode(found);
    xmlFreeNode(found);
    return reparse(doc, error);
}

/* The same, in place, on @def's own document: for elements the typed
 * model does not rebuild (format keeps them from the document), such as a
 * controller QEMU was given while the domain runs. */
gboolean
vd_domain_def_doc_add_device(VdDomainDef *def, const char *fragment, GError **error)
{
    g_autoptr(xmlDoc) frag = vd_xml_read_doc(fragment, -1, error);
    xmlNode *dev = frag ? fragment_root(frag, error) : NULL;
    xmlNode *root = def->doc ? xmlDocGetRootElement(def->doc) : NULL;
    if (!dev)
        return FALSE;
    if (!root) {
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "the definition has no document");
        return FALSE;
    }
    xmlNode *devices = vd_xml_child(root, "devices");
    if (!devices)
        devices = xmlNewChild(root, NULL, (const xmlChar *)"devices", NULL);
    xmlAddChild(devices, xmlDocCopyNode(dev, def->doc, 1));
    return TRUE;
}

gboolean
vd_domain_def_doc_remove_device(VdDomainDef *def, const char *fragment, GError **error)
{
    g_autoptr(xmlDoc) frag = vd_xml_read_doc(fragment, -1, error);
    xmlNode *want = frag ? fragment_root(frag, error) : NULL;
    xmlNode *root = def->doc ? xmlDocGetRootElement(def->doc) : NULL;
    xmlNode *devices = root ? vd_xml_child(root, "devices") : NULL;
    if (!want)
        return FALSE;
    for (xmlNode *n = devices ? devices->children : NULL; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && node_covers(n, want)) {
            xmlUnlinkNode(n);
            xmlFreeNode(n);
            return TRUE;
        }
    }
    g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                "operation failed: domain '%s' has no <%s> device matching the XML given",
                def->name, (const char *)want->name);
    return FALSE;
}
