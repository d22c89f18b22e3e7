/* Internal interfaces between the files of conf/.
 *
 * Not installed for other layers: the daemon and the QEMU layer use
 * domain-def.h only. The XML helpers exist so that parse and format
 * spell element lookups, attribute reads and canonical element order the
 * same way in every file.
 */
#pragma once

#include <libxml/tree.h>

#include "conf/domain-def.h"

/* What a definition may ask for. */
#define VD_MAX_VCPUS 255
/* QEMU takes sizes in bytes as signed 64-bit integers (QMP "balloon",
 * -m): anything larger would wrap around. */
#define VD_MAX_MEMORY_KIB ((guint64)G_MAXINT64 / 1024)

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

/* ---- domain-xml.c: reading ---- */

/* Initialises libxml2 once per process; parse and format call it. */
void vd_xml_init(void);

/* Element in no namespace called @name (xmlns-prefixed elements such as
 * <qemu:commandline> never match a libvirt name). */
gboolean vd_xml_is(const xmlNode *node, const char *name);
/* First child element called @name, or NULL. */
xmlNode *vd_xml_child(const xmlNode *parent, const char *name);
/* Next sibling element called @name after @node, or NULL. */
xmlNode *vd_xml_next(const xmlNode *node, const char *name);
/* Attribute in no namespace, g_strdup'ed, or NULL. */
char *vd_xml_prop(const xmlNode *node, const char *name);
/* Text content (all descendant text), g_strdup'ed; NULL for a NULL node. */
char *vd_xml_text(const xmlNode *node);

/* Typed readers. @where names the place for messages, e.g.
 * "<vcpu current=>". Absent attributes leave @out alone and return TRUE
 * with *@present FALSE (@present may be NULL). Wrong shapes fail with
 * VD_ERROR_XML quoting the value. */
gboolean vd_xml_parse_uint(const char *str, const char *where, guint64 max, guint64 *out,
                           GError **error);
gboolean vd_xml_parse_int(const char *str, const char *where, gint64 min, gint64 max, gint64 *out,
                          GError **error);
gboolean vd_xml_prop_uint(const xmlNode *node, const char *name, const char *where, guint max,
                          guint *out, gboolean *present, GError **error);
gboolean vd_xml_prop_int(const xmlNode *node, const char *name, const char *where, int min, int max,
                         int *out, gboolean *present, GError **error);
/* yes/no (or on/off when @on_off). */
gboolean vd_xml_prop_bool(const xmlNode *node, const char *name, const char *where, gboolean on_off,
                          gboolean *out, gboolean *present, GError **error);

/* An enum attribute. @libvirt_only lists values libvirt knows but virtd
 * does not model (NULL-terminated, may be NULL): those fail with
 * VD_ERROR_UNSUPPORTED, other unknown values with VD_ERROR_XML. */
typedef int (*VdEnumFromString)(const char *str);
typedef char *(*VdEnumList)(void);
gboolean vd_xml_prop_enum(const xmlNode *node, const char *name, const char *what,
                          const char *where, VdEnumFromString from_string, VdEnumList list,
                          const char *const *libvirt_only, int *out, gboolean *present,
                          GError **error);

/* @value (NULL: absent, fine) must be one of @allowed (NULL-terminated);
 * otherwise VD_ERROR_XML naming @where and the allowed values. */
gboolean vd_xml_check_choice(const char *value, const char *const *allowed, const char *where,
                             GError **error);

/* ---- domain-xml.c: writing ---- */

/* Sets (NULL: removes) an attribute in no namespace. */
void vd_xml_set_prop(xmlNode *node, const char *name, const char *value);
void vd_xml_set_prop_int(xmlNode *node, const char *name, gint64 value);
/* Replaces the content of @node with one text node (no entity parsing). */
void vd_xml_set_text(xmlNode *node, const char *text);
/* Inserts @child into @parent at the position @order (NULL-terminated
 * canonical sibling order, libvirt's) gives it: after the last sibling
 * that comes before it. Names not in @order go after everything. */
void vd_xml_insert(xmlNode *parent, xmlNode *child, const char *const *order);
/* The first child called @name, created at its canonical place. */
xmlNode *vd_xml_ensure(xmlNode *parent, const char *name, const char *const *order);
/* Removes (and frees) every child element called @name. */
void vd_xml_remove_all(xmlNode *parent, const char *name);
/* Removes every child element named @name of @parent but the first: the
 * one a parser reads (vd_xml_child) is the only one kept. */
void vd_xml_remove_later(xmlNode *parent, const char *name);
/* A text child: set when @text is non-NULL, removed otherwise. */
void vd_xml_set_child_text(xmlNode *parent, const char *name, const char *text,
                           const char *const *order);
/* An empty marker child such as <readonly/>: present iff @on. */
void vd_xml_set_child_flag(xmlNode *parent, const char *name, gboolean on,
                           const char *const *order);
/* Puts the attributes named in @order (NULL-terminated) first, in that
 * order, so that attributes added by format read as libvirt writes them;
 * the others follow in their original order. */
void vd_xml_order_props(xmlNode *node, const char *const *order);
/* No attributes and no children. */
gboolean vd_xml_is_empty(const xmlNode *node);
/* Unlinks and frees @node if it is empty. */
void vd_xml_prune(xmlNode *node);

/* ---- domain-parse-devices.c ---- */
/* Parses @xml (len < 0: NUL-terminated) with the rules of domain XML: no
 * network, no entities, no DOCTYPE, size-limited; VD_ERROR_XML naming the
 * first error's line. */
xmlDoc *vd_xml_read_doc(const char *xml, gssize len, GError **error);
gboolean vd_domain_parse_devices(VdDomainDef *def, const xmlNode *devices, GError **error);

/* ---- domain-validate.c ---- */
/* The checks of <interface> elements (MACs, sources, modes). */
gboolean vd_domain_validate_interfaces(const VdDomainDef *def, GError **error);
/* Models, direct modes and link states virtd runs (VdNetDef*). */
gboolean vd_domain_check_interfaces_input(const GPtrArray *interfaces, GError **error);
/* Refuse to start: VD_ERROR_UNSUPPORTED, "unsupported configuration: " and
 * the formatted message; returns FALSE. */
gboolean vd_domain_refuse(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* ---- domain-unsupported.c ---- */
/* The VdUnsupported list of a document (see the table in that file). */
GPtrArray *vd_domain_unsupported_scan(const xmlNode *root);
void vd_unsupported_free(VdUnsupported *u);
VdUnsupported *vd_unsupported_copy(const VdUnsupported *u);

/* ---- domain-format.c / domain-format-devices.c ---- */
/* The document format serializes; also what update_unsupported scans. */
xmlDoc *vd_domain_def_to_doc(const VdDomainDef *def, VdDomainFormatFlags flags);
void vd_domain_format_devices(const VdDomainDef *def, xmlDoc *doc, xmlNode *devices,
                              VdDomainFormatFlags flags);
/* libvirt's canonical order of <domain>'s and <devices>' children
 * (NULL-terminated), for vd_xml_insert/vd_xml_ensure in every file. */
extern const char *const vd_domain_child_order[];
extern const char *const vd_devices_child_order[];

/* ---- domain-cputune.c ---- */
/* libvirt's CPU list grammar ("0-3,^2,8"), shared by <cputune>'s cpusets
 * and <numa><cell cpus=>: the CPUs below @limit, sorted. NULL on a syntax
 * error or an empty set (*@too_big FALSE), or when a CPU is @limit or more
 * (*@too_big TRUE, *@cpu the first such): the callers word the error. */
GArray *vd_cpulist_parse(const char *text, guint limit, gboolean *too_big, guint64 *cpu);

/* ---- domain-defaults.c ---- */
/* Default video vram for a model in KiB (libvirt's), 0 when not used. */
guint vd_video_default_vram(VdVideoModel model);

G_END_DECLS
