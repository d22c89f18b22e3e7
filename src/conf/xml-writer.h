/* Serializes an XML document the way libvirt does: two-space indentation,
 * attribute values in single quotes, no XML declaration. Administrators'
 * scripts grep `virsh dumpxml` for things like "type='vnc'"; libxml2's
 * own serializer would write "type=\"vnc\"". */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

char *vd_xml_write_libvirt_style(xmlDoc *doc);
