/* The domain model's TPM devices and their swtpm emulator (issue 10).
 *
 * One family of libvirt's domain XML that start acts on. conf/ reads it
 * from the parsed document into def->tpm (vd_domain_tpm_parse, called by
 * vd_domain_def_parse after the devices); format needs nothing, because
 * the user's elements stay in def->doc and come back from dumpxml as
 * written (domain-def.h, "Round trip"), unless code changes them, in
 * which case this file also writes them back. The argv builder's part is
 * qemu/qemu-command-tpm.c.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "conf/domain-def.h"

G_BEGIN_DECLS

struct _VdTpmExtDef {
    GPtrArray *tpms;         /* VdTpmDef*: <tpm model=><backend type= version=> */
};

VdTpmExtDef *vd_tpm_def_new(void);
void vd_tpm_def_free(VdTpmExtDef *x);
VdTpmExtDef *vd_tpm_def_copy(const VdTpmExtDef *x);

/* Reads this family's elements of <domain> @root into def->tpm.
 * VD_ERROR_XML naming the element and value for malformed input. */
gboolean vd_domain_tpm_parse(VdDomainDef *def, const xmlNode *root, GError **error);

G_END_DECLS
