/* <volume>: parse and format (storage-vol-def.h). */
#include "conf/storage-vol-def.h"

#include <string.h>

#include "conf/domain-private.h"
#include "conf/storage-private.h"
#include "util/vd-error.h"
#include "util/vd-units.h"

VdStorageVolDef *
vd_storage_vol_def_new(void)
{
    VdStorageVolDef *def = g_new0(VdStorageVolDef, 1);

    vd_storage_perms_clear(&def->perms);
    return def;
}

void
vd_storage_vol_def_free(VdStorageVolDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->key);
    g_free(def->path);
    g_free(def->format);
    g_free(def->backing_path);
    g_free(def->backing_format);
    g_free(def->perms.label);
    g_free(def);
}

gboolean
vd_storage_vol_name_validate(const char *name, GError **error)
{
    if (!name || !*name) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "volume name is empty");
        return FALSE;
    }
    if (strchr(name, '/')) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid volume name '%s': a volume is a file directly in its pool, "
                    "the name may not contain '/'",
                    name);
        return FALSE;
    }
    if (name[0] == '.') {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid volume name '%s': it may not start with '.'", name);
        return FALSE;
    }
    if (strlen(name) > 255 || !g_utf8_validate(name, -1, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid volume name '%s': use 1-255 bytes of UTF-8", name);
        return FALSE;
    }
    for (const char *p = name; *p; p++) {
        if ((guchar)*p < 0x20 || *p == 0x7f) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid volume name '%s': control characters are not allowed", name);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
vd_storage_vol_format_creatable(const char *format, GError **error)
{
    if (format && (g_str_equal(format, "raw") || g_str_equal(format, "qcow2")))
        return TRUE;
    g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                "volume format '%s' is not supported: use 'raw' or 'qcow2'",
                format ? format : "");
    return FALSE;
}

/* <capacity unit='G'>10</capacity> into bytes. */
static gboolean
parse_size(xmlNode *node, const char *what, guint64 *out, GError **error)
{
    g_autofree char *text = vd_xml_text(node);
    g_autofree char *unit = vd_xml_prop(node, "unit");
    g_autofree char *where = g_strdup_printf("<%s>", what);
    g_autoptr(GError) local = NULL;
    guint64 value;

    if (!vd_xml_parse_uint(g_strstrip(text), where, G_MAXUINT64, &value, error))
        return FALSE;
    if (!vd_units_to_bytes(value, unit, "bytes", out, &local)) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "volume <%s>: %s", what, local->message);
        return FALSE;
    }
    return TRUE;
}

VdStorageVolDef *
vd_storage_vol_def_parse(const char *xml, GError **error)
{
    xmlNode *root = NULL;
    g_autoptr(xmlDoc) doc = vd_storage_xml_read(xml, "volume", &root, error);
    g_autoptr(VdStorageVolDef) def = NULL;

    if (!doc)
        return NULL;
    g_autofree char *type = vd_xml_prop(root, "type");
    if (type && !g_str_equal(type, "file")) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "volume type '%s' is not supported: volumes of dir pools are files "
                    "(type='file')",
                    type);
        return NULL;
    }
    def = vd_storage_vol_def_new();
    def->name = vd_xml_text(vd_xml_child(root, "name"));
    if (!def->name) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "<volume> needs a <name>");
        return NULL;
    }
    g_strstrip(def->name);
    xmlNode *cap = vd_xml_child(root, "capacity");
    if (!cap) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "<volume> needs a <capacity>");
        return NULL;
    }
    if (!parse_size(cap, "capacity", &def->capacity, error))
        return NULL;
    xmlNode *alloc = vd_xml_child(root, "allocation");
    if (alloc) {
        if (!parse_size(alloc, "allocation", &def->allocation, error))
            return NULL;
        def->has_allocation = TRUE;
    }
    xmlNode *target = vd_xml_child(root, "target");
    def->format = vd_xml_prop(vd_xml_child(target, "format"), "type");
    if (!vd_storage_perms_parse(target, &def->perms, "volume target", error))
        return NULL;
    xmlNode *backing = vd_xml_child(root, "backingStore");
    if (backing) {
        def->backing_path = vd_xml_text(vd_xml_child(backing, "path"));
        if (def->backing_path)
            g_strstrip(def->backing_path);
        if (!def->backing_path || !*def->backing_path) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "<backingStore> needs a <path>: the backing volume's path");
            return NULL;
        }
        def->backing_format = vd_xml_prop(vd_xml_child(backing, "format"), "type");
    }
    return g_steal_pointer(&def);
}

char *
vd_storage_vol_def_format(const VdStorageVolDef *def)
{
    GString *out = g_string_new("<volume type='file'>\n");
    g_autofree char *fmt = g_markup_escape_text(def->format ? def->format : "raw", -1);

    vd_storage_xml_element(out, 2, "name", def->name);
    vd_storage_xml_element(out, 2, "key", def->key ? def->key : def->path);
    vd_storage_xml_bytes(out, 2, "capacity", def->capacity);
    vd_storage_xml_bytes(out, 2, "allocation", def->allocation);
    vd_storage_xml_bytes(out, 2, "physical", def->physical);
    g_string_append(out, "  <target>\n");
    vd_storage_xml_element(out, 4, "path", def->path);
    g_string_append_printf(out, "    <format type='%s'/>\n", fmt);
    vd_storage_perms_format(out, &def->perms, 4);
    g_string_append(out, "  </target>\n");
    if (def->backing_path) {
        g_string_append(out, "  <backingStore>\n");
        vd_storage_xml_element(out, 4, "path", def->backing_path);
        if (def->backing_format) {
            g_autofree char *bf = g_markup_escape_text(def->backing_format, -1);
            g_string_append_printf(out, "    <format type='%s'/>\n", bf);
        }
        g_string_append(out, "  </backingStore>\n");
    }
    g_string_append(out, "</volume>\n");
    return g_string_free(out, FALSE);
}
