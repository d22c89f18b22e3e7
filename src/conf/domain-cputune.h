/* The domain model's <cputune>: <vcpupin vcpu= cpuset=> and
 * <emulatorpin cpuset=> (issue 11: vcpupin, emulatorpin).
 * SKELETON (helper: vcpu) — fill in the model, parse, format, copy.
 *
 * Typed and formatted (vcpupin --config changes it); the rest of
 * <cputune> (shares, period, quota ...) stays in the document as written
 * and is still reported as ignored (domain-unsupported.c). */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "conf/domain-def.h"

G_BEGIN_DECLS

struct _VdCputuneDef {
    int placeholder;
};

VdCputuneDef *vd_cputune_def_new(void);
void vd_cputune_def_free(VdCputuneDef *x);
VdCputuneDef *vd_cputune_def_copy(const VdCputuneDef *x);
/* Called by vd_domain_def_parse after the devices. */
gboolean vd_domain_cputune_parse(VdDomainDef *def, const xmlNode *root, GError **error);
/* Called by vd_domain_def_to_doc. */
void vd_domain_cputune_format(const VdDomainDef *def, xmlNode *root);

G_END_DECLS
