/* A disk's <backingStore> chain (libvirt's shape), written when block jobs
 * and external snapshots change it (daemon/blockjob/). QEMU opens a
 * qcow2's backing files from the image header: the element is what the
 * definition says of the chain, kept as is by parse and format. */
#include "conf/domain-private.h"

#include <string.h>

static xmlNode *
backing_node(const char *path, const char *format)
{
    xmlNode *b = xmlNewNode(NULL, (const xmlChar *)"backingStore");
    xmlSetProp(b, (const xmlChar *)"type", (const xmlChar *)"file");
    xmlNode *f = xmlNewChild(b, NULL, (const xmlChar *)"format", NULL);
    xmlSetProp(f, (const xmlChar *)"type", (const xmlChar *)(format ? format : "raw"));
    xmlNode *s = xmlNewChild(b, NULL, (const xmlChar *)"source", NULL);
    xmlSetProp(s, (const xmlChar *)"file", (const xmlChar *)path);
    return b;
}

void
vd_disk_def_set_backing_chain(VdDiskDef *disk, const char *const *paths, const char *const *formats)
{
    if (!disk->xml)
        disk->xml = xmlNewNode(NULL, (const xmlChar *)"disk");
    vd_xml_remove_all(disk->xml, "backingStore");
    if (!paths || !paths[0])
        return;
    /* Right after <source> (libvirt's order), else first. */
    xmlNode *src = vd_xml_child(disk->xml, "source");
    xmlNode *outer = NULL, *last = NULL;
    for (guint i = 0; paths[i]; i++) {
        xmlNode *b = backing_node(paths[i], formats ? formats[i] : NULL);
        if (last)
            xmlAddChild(last, b);
        else
            outer = b;
        last = b;
    }
    /* libvirt ends a known chain with an empty <backingStore/>. */
    xmlAddChild(last, xmlNewNode(NULL, (const xmlChar *)"backingStore"));
    if (src)
        xmlAddNextSibling(src, outer);
    else if (disk->xml->children)
        xmlAddPrevSibling(disk->xml->children, outer);
    else
        xmlAddChild(disk->xml, outer);
}

GPtrArray *
vd_disk_def_backing_paths(const VdDiskDef *disk)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    const xmlNode *b = disk->xml ? vd_xml_child(disk->xml, "backingStore") : NULL;
    while (b) {
        xmlNode *s = vd_xml_child(b, "source");
        xmlChar *f = s ? xmlGetProp(s, (const xmlChar *)"file") : NULL;
        if (!f)
            break;
        g_ptr_array_add(out, g_strdup((const char *)f));
        xmlFree(f);
        b = vd_xml_child(b, "backingStore");
    }
    return out;
}
