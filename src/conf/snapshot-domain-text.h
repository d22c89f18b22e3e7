/* The <domain> and <inactiveDomain> elements of a snapshot's metadata
 * (conf/snapshot-def.c) as text, the daemon's own layout kept as it is. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

/* The text of element @node of the document @xml, as a <domain> element;
 * renames @node <domain>. */
char *vd_snapshot_domain_text(const char *xml, xmlNode *node);
