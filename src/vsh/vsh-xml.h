/* vsh xml: virt-xml's job, in two halves:
 *
 *   vsh-xml-edit.c  pure: a domain's definition and one change (the values
 *                   parsed by vsh install's option parsers) → the new
 *                   definition and the device elements to send live;
 *                   and the unified diff of two XMLs (--print-diff)
 *   vsh-xml.c       the command: GET the definition, plan and allocate a
 *                   new disk as vsh install does, PUT the definition back,
 *                   apply the change to the running guest (--update)
 *
 * Both are unit tested on sample definitions (tests/vsh/test-vsh-xml.c).
 */
#pragma once

#include <glib.h>

#include "vsh-install.h"

typedef enum {
    VSH_XML_ADD,    /* --add-device */
    VSH_XML_EDIT,   /* --edit [SEL] */
    VSH_XML_REMOVE, /* --remove-device */
} VshXmlAction;

typedef enum {
    VSH_XML_DISK,    /* --disk */
    VSH_XML_NETWORK, /* --network */
    VSH_XML_VCPUS,   /* --vcpus N[,maxvcpus=M] */
    VSH_XML_MEMORY,  /* --memory MiB[,maxmemory=MiB] */
} VshXmlKind;

typedef struct {
    VshXmlAction action;
    VshXmlKind kind;
    /* Which devices --edit and --remove-device address, virt-xml's forms:
     * "" or "1" the first, "N" the Nth, "all", a bare word matching a
     * disk's target or source path or a NIC's MAC, or key=value with key
     * target, path, mac, network, bridge. */
    const char *selector;
    const VshInstallDisk *disk;         /* ADD (target set) and EDIT (keys given) */
    const VshInstallNetwork *net;       /* ADD (MAC set) and EDIT (kind NONE/DEFAULT: unchanged) */
    guint vcpus, max_vcpus;             /* VCPUS; max_vcpus 0: not given */
    guint64 memory_mib, max_memory_mib; /* MEMORY; max 0: not given */
} VshXmlChange;

typedef struct {
    char *xml;          /* the new definition (vsh_xml_normalize's layout) */
    GPtrArray *devices; /* of char*: each added, edited or removed device element */
    guint vcpus;        /* VCPUS: the count now in effect (current) */
    guint64 memory_kib; /* MEMORY: the current memory now in effect */
} VshXmlResult;

void vsh_xml_result_clear(VshXmlResult *res);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VshXmlResult, vsh_xml_result_clear)

/* The definition @xml reformatted (2-space indent, no XML declaration),
 * the layout vsh_xml_apply() writes, so a diff shows only the change. */
char *vsh_xml_normalize(const char *xml, GError **error);

/* The target a new disk on @bus (NULL: virtio, or ide for a cdrom) takes
 * in @xml: the first free vdX / sdX / hdX. */
char *vsh_xml_next_target(const char *xml, const char *bus, gboolean cdrom, GError **error);

/* Applies @change to @xml. Fails without a result when the selector
 * matches nothing ("No matching objects found for --disk vdb"), the
 * change does not fit the action, or @xml is not a domain. */
gboolean vsh_xml_apply(const char *xml, const VshXmlChange *change, VshXmlResult *out,
                       GError **error);

/* difflib.unified_diff's output for two texts, line by line, 3 lines of
 * context, "--- @from" / "+++ @to" headers; "" when they are equal. */
char *vsh_xml_diff(const char *old_text, const char *new_text, const char *from, const char *to);
