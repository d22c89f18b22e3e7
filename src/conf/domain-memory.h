/* The domain model's memory hot-plug: <maxMemory slots=> and the
 * <memory model='dimm'|'virtio-mem'> devices (issue 11).
 * SKELETON (helper: memdev) — fill in the model, parse, format, copy.
 *
 * Unlike issue 10's families this one has format code: devices are added
 * and removed by hot-plug, so the typed list is the truth and format
 * writes it back into <devices> (and <maxMemory> into the domain). */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "conf/domain-def.h"

G_BEGIN_DECLS

struct _VdMemoryExtDef {
    int placeholder;
};

VdMemoryExtDef *vd_memory_ext_def_new(void);
void vd_memory_ext_def_free(VdMemoryExtDef *x);
VdMemoryExtDef *vd_memory_ext_def_copy(const VdMemoryExtDef *x);
/* Called by vd_domain_def_parse after the devices. */
gboolean vd_domain_memory_parse(VdDomainDef *def, const xmlNode *root, GError **error);
/* Called by vd_domain_def_to_doc after the devices are written. */
void vd_domain_memory_format(const VdDomainDef *def, xmlNode *root, VdDomainFormatFlags flags);

G_END_DECLS
