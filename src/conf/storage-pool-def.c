/* <pool type='dir'>: parse and format (storage-pool-def.h). */
#include "conf/storage-pool-def.h"

#include <string.h>

#include <libxml/parser.h>

#include "conf/domain-private.h"
#include "conf/storage-private.h"
#include "util/vd-error.h"
#include "util/vd-names.h"

VdStoragePoolDef *
vd_storage_pool_def_new(void)
{
    VdStoragePoolDef *def = g_new0(VdStoragePoolDef, 1);

    vd_storage_perms_clear(&def->perms);
    return def;
}

void
vd_storage_pool_def_free(VdStoragePoolDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->target_path);
    g_free(def->perms.label);
    g_free(def);
}

void
vd_storage_perms_clear(VdStoragePerms *perms)
{
    g_clear_pointer(&perms->label, g_free);
    perms->set = FALSE;
    perms->mode = G_MAXUINT;
    perms->owner = -1;
    perms->group = -1;
}

xmlDoc *
vd_storage_xml_read(const char *xml, const char *root_name, xmlNode **root_out, GError **error)
{
    xmlDoc *doc;
    xmlNode *root;

    vd_xml_init();
    if (!xml || !*xml) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "empty <%s> XML document", root_name);
        return NULL;
    }
    /* As domain XML: no network, no entity expansion, no DOCTYPE. */
    xmlParserCtxt *ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot create an XML parser");
        return NULL;
    }
    doc = xmlCtxtReadMemory(ctxt, xml, (int)strlen(xml), "storage.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
                                XML_PARSE_NOWARNING);
    if (!doc || !ctxt->wellFormed) {
        g_autofree char *msg = g_strdup(ctxt->lastError.message ? ctxt->lastError.message
                                                                : "not well-formed");
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "malformed <%s> XML at line %d: %s",
                    root_name, ctxt->lastError.line, g_strchomp(msg));
        if (doc)
            xmlFreeDoc(doc);
        xmlFreeParserCtxt(ctxt);
        return NULL;
    }
    xmlFreeParserCtxt(ctxt);
    if (doc->intSubset || doc->extSubset) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<!DOCTYPE> is not allowed in <%s> XML: remove the DOCTYPE declaration",
                    root_name);
        xmlFreeDoc(doc);
        return NULL;
    }
    root = xmlDocGetRootElement(doc);
    if (!vd_xml_is(root, root_name)) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "expected a <%s> document, got <%s>",
                    root_name, root ? (const char *)root->name : "");
        xmlFreeDoc(doc);
        return NULL;
    }
    *root_out = root;
    return doc;
}

gboolean
vd_storage_perms_parse(xmlNode *parent, VdStoragePerms *perms, const char *where, GError **error)
{
    xmlNode *p = vd_xml_child(parent, "permissions");

    if (!p)
        return TRUE;
    perms->set = TRUE;
    g_autofree char *mode = g_strstrip(vd_xml_text(vd_xml_child(p, "mode")) ?: g_strdup(""));
    g_autofree char *owner = g_strstrip(vd_xml_text(vd_xml_child(p, "owner")) ?: g_strdup(""));
    g_autofree char *group = g_strstrip(vd_xml_text(vd_xml_child(p, "group")) ?: g_strdup(""));
    if (*mode) {
        char *end = NULL;
        guint64 m = g_ascii_strtoull(mode, &end, 8);
        if (*end || m > 07777) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "invalid %s <permissions><mode> '%s': expected octal such as 0755",
                        where, mode);
            return FALSE;
        }
        perms->mode = (guint)m;
    }
    const struct {
        const char *text, *what;
        gint64 *out;
    } ids[] = {{owner, "owner", &perms->owner}, {group, "group", &perms->group}};
    for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
        guint64 v;
        if (!*ids[i].text)
            continue;
        if (g_str_equal(ids[i].text, "-1"))
            continue;
        g_autofree char *w = g_strdup_printf("%s <permissions><%s>", where, ids[i].what);
        if (!vd_xml_parse_uint(ids[i].text, w, G_MAXUINT32 - 1, &v, error))
            return FALSE;
        *ids[i].out = (gint64)v;
    }
    perms->label = vd_xml_text(vd_xml_child(p, "label"));
    return TRUE;
}

static void
indent_to(GString *out, int indent)
{
    for (int i = 0; i < indent; i++)
        g_string_append_c(out, ' ');
}

void
vd_storage_xml_element(GString *out, int indent, const char *name, const char *text)
{
    g_autofree char *esc = g_markup_escape_text(text, -1);

    indent_to(out, indent);
    g_string_append_printf(out, "<%s>%s</%s>\n", name, esc, name);
}

void
vd_storage_xml_bytes(GString *out, int indent, const char *name, guint64 value)
{
    indent_to(out, indent);
    g_string_append_printf(out, "<%s unit='bytes'>%" G_GUINT64_FORMAT "</%s>\n", name, value,
                           name);
}

void
vd_storage_perms_format(GString *out, const VdStoragePerms *perms, int indent)
{
    if (!perms->set)
        return;
    indent_to(out, indent);
    g_string_append(out, "<permissions>\n");
    if (perms->mode != G_MAXUINT) {
        g_autofree char *m = g_strdup_printf("%04o", perms->mode);
        vd_storage_xml_element(out, indent + 2, "mode", m);
    }
    if (perms->owner >= 0) {
        g_autofree char *o = g_strdup_printf("%" G_GINT64_FORMAT, perms->owner);
        vd_storage_xml_element(out, indent + 2, "owner", o);
    }
    if (perms->group >= 0) {
        g_autofree char *gr = g_strdup_printf("%" G_GINT64_FORMAT, perms->group);
        vd_storage_xml_element(out, indent + 2, "group", gr);
    }
    if (perms->label)
        vd_storage_xml_element(out, indent + 2, "label", perms->label);
    indent_to(out, indent);
    g_string_append(out, "</permissions>\n");
}

/* "/a/b/" -> "/a/b"; relative paths are refused (the daemon would resolve
 * them against its own working directory). */
static char *
target_path_clean(const char *path, GError **error)
{
    if (!path || !*path) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "a dir pool needs <target><path>: the directory holding its volumes");
        return NULL;
    }
    if (path[0] != '/') {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "pool target path '%s' is relative: give an absolute path", path);
        return NULL;
    }
    return g_canonicalize_filename(path, "/");
}

VdStoragePoolDef *
vd_storage_pool_def_new_dir(const char *name, const char *target, GError **error)
{
    g_autoptr(VdStoragePoolDef) def = vd_storage_pool_def_new();

    if (!vd_name_validate(name, "pool name", error))
        return NULL;
    if (!(def->target_path = target_path_clean(target, error)))
        return NULL;
    def->name = g_strdup(name);
    vd_uuid_generate(def->uuid);
    return g_steal_pointer(&def);
}

VdStoragePoolDef *
vd_storage_pool_def_parse(const char *xml, GError **error)
{
    xmlNode *root = NULL;
    g_autoptr(xmlDoc) doc = vd_storage_xml_read(xml, "pool", &root, error);
    g_autoptr(VdStoragePoolDef) def = NULL;

    if (!doc)
        return NULL;
    g_autofree char *type = vd_xml_prop(root, "type");
    if (!type) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<pool> needs a type attribute: virtd manages <pool type='dir'>");
        return NULL;
    }
    if (!g_str_equal(type, "dir")) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "storage pool type '%s' is not supported: virtd manages 'dir' pools only",
                    type);
        return NULL;
    }
    def = vd_storage_pool_def_new();
    g_autofree char *name = vd_xml_text(vd_xml_child(root, "name"));
    if (!name) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "<pool> needs a <name>");
        return NULL;
    }
    g_strstrip(name);
    if (!vd_name_validate(name, "pool name", error))
        return NULL;
    def->name = g_steal_pointer(&name);

    g_autofree char *uuid = vd_xml_text(vd_xml_child(root, "uuid"));
    if (uuid) {
        g_strstrip(uuid);
        if (!vd_uuid_parse(uuid, def->uuid)) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML, "invalid pool <uuid> '%s'", uuid);
            return NULL;
        }
    } else {
        vd_uuid_generate(def->uuid);
    }

    xmlNode *target = vd_xml_child(root, "target");
    g_autofree char *path = vd_xml_text(vd_xml_child(target, "path"));
    if (path)
        g_strstrip(path);
    if (!(def->target_path = target_path_clean(path, error)))
        return NULL;
    if (!vd_storage_perms_parse(target, &def->perms, "pool target", error))
        return NULL;
    return g_steal_pointer(&def);
}

char *
vd_storage_pool_def_format(const VdStoragePoolDef *def)
{
    GString *out = g_string_new("<pool type='dir'>\n");

    vd_storage_xml_element(out, 2, "name", def->name);
    vd_storage_xml_element(out, 2, "uuid", def->uuid);
    vd_storage_xml_bytes(out, 2, "capacity", def->capacity);
    vd_storage_xml_bytes(out, 2, "allocation", def->allocation);
    vd_storage_xml_bytes(out, 2, "available", def->available);
    /* libvirt writes an empty <source> for dir pools; scripts diff it. */
    g_string_append(out, "  <source>\n  </source>\n");
    g_string_append(out, "  <target>\n");
    vd_storage_xml_element(out, 4, "path", def->target_path);
    vd_storage_perms_format(out, &def->perms, 4);
    g_string_append(out, "  </target>\n</pool>\n");
    return g_string_free(out, FALSE);
}
