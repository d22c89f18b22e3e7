/* The domain model's TPM devices and their swtpm emulator (issue 10).
 *
 * One family of libvirt's domain XML that start acts on. conf/ reads it
 * from the parsed document into def->tpm (vd_domain_tpm_parse, called by
 * vd_domain_def_parse after the devices); format needs nothing, because
 * the user's elements stay in def->doc and come back from dumpxml as
 * written (domain-def.h, "Round trip"), unless code changes them, in
 * which case this file also writes them back. The argv builder's part is
 * qemu/qemu-command-tpm.c; the daemon runs swtpm (daemon/domain/swtpm.c).
 *
 *   <tpm model='tpm-crb'>                       tpm-crb | tpm-tis (x86; default tpm-tis)
 *     <backend type='emulator' version='2.0'    emulator (swtpm) | external | passthrough
 *              persistent_state='yes'>
 *       <active_pcr_banks><sha256/></active_pcr_banks>
 *       <encryption secret='UUID'/>             refused: virtd has no secret store
 *       <source type='unix' mode='connect' path='/run/swtpm.sock'/>   (external)
 *       <device path='/dev/tpm0'/>              (passthrough: refused)
 *     </backend>
 *   </tpm>
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "conf/domain-def.h"

G_BEGIN_DECLS

typedef enum {
    VD_TPM_MODEL_DEFAULT, /* not written: tpm-tis (libvirt's default on x86) */
    VD_TPM_MODEL_TIS,
    VD_TPM_MODEL_CRB,
    VD_TPM_MODEL_SPAPR,       /* libvirt's, for ppc64: refused on x86 */
    VD_TPM_MODEL_SPAPR_PROXY, /* likewise */
    VD_TPM_MODEL_LAST
} VdTpmModel;

typedef enum {
    VD_TPM_BACKEND_EMULATOR,    /* swtpm, run by the daemon per domain */
    VD_TPM_BACKEND_EXTERNAL,    /* an swtpm someone else runs, at <source path> */
    VD_TPM_BACKEND_PASSTHROUGH, /* the host's own TPM: refused */
    VD_TPM_BACKEND_LAST
} VdTpmBackend;

typedef enum {
    VD_TPM_VERSION_2_0, /* the default (what virt-install writes) */
    VD_TPM_VERSION_1_2,
    VD_TPM_VERSION_LAST
} VdTpmVersion;

typedef struct {
    VdTpmModel model;
    VdTpmBackend backend;
    VdTpmVersion version;
    char *device_path;         /* passthrough: <device path=> */
    char *source_path;         /* external: <source type='unix' path=> */
    char *encryption_secret;   /* <encryption secret=>: refused at start */
    gboolean persistent_state; /* <backend persistent_state='yes'> (virtd always keeps it) */
    char *pcr_banks;           /* <active_pcr_banks> as "sha256,sha384"; NULL: not given */
} VdTpmDef;

struct _VdTpmExtDef {
    GPtrArray *tpms; /* VdTpmDef*: <tpm model=><backend type= version=> */
};

VdTpmExtDef *vd_tpm_def_new(void);
void vd_tpm_def_free(VdTpmExtDef *x);
VdTpmExtDef *vd_tpm_def_copy(const VdTpmExtDef *x);

const char *vd_tpm_model_to_string(VdTpmModel model);
const char *vd_tpm_backend_to_string(VdTpmBackend backend);
const char *vd_tpm_version_to_string(VdTpmVersion version);
/* The model QEMU gets: the written one, else libvirt's default for the version. */
VdTpmModel vd_tpm_def_model(const VdTpmDef *tpm);

/* Reads this family's elements of <domain> @root into def->tpm.
 * VD_ERROR_XML naming the element and value for malformed input. */
gboolean vd_domain_tpm_parse(VdDomainDef *def, const xmlNode *root, GError **error);

/* Whether start can give the guest these TPMs as written (called by
 * vd_domain_def_check_startable): one TPM at most, a model x86 has, TPM
 * 1.2 only on tpm-tis, no passthrough, no encryption. VD_ERROR_UNSUPPORTED
 * with the reason and the fix. */
gboolean vd_domain_tpm_check_startable(const VdDomainDef *def, GError **error);

/* The one TPM the daemon must run swtpm for (backend emulator), or NULL. */
const VdTpmDef *vd_domain_tpm_emulator(const VdDomainDef *def);

G_END_DECLS
