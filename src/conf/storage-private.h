/* Helpers shared by storage-pool-def.c and storage-vol-def.c. */
#pragma once

#include <libxml/tree.h>

#include "conf/storage-pool-def.h"

/* Parses @xml and checks that its root is <@root_name>. */
xmlDoc *vd_storage_xml_read(const char *xml, const char *root_name, xmlNode **root_out,
                            GError **error);
/* <permissions> under @parent, if any; @where names it in messages. */
gboolean vd_storage_perms_parse(xmlNode *parent, VdStoragePerms *perms, const char *where,
                                GError **error);
/* "<name>escaped text</name>" on its own line. */
void vd_storage_xml_element(GString *out, int indent, const char *name, const char *text);
/* "<name unit='bytes'>N</name>". */
void vd_storage_xml_bytes(GString *out, int indent, const char *name, guint64 value);
