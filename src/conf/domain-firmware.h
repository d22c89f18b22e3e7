/* The domain model's UEFI: firmware auto-selection features, secure boot, nvram templates, SMM
 * (issue 10).
 *
 * One family of libvirt's domain XML that start acts on. conf/ reads it
 * from the parsed document into def->fw (vd_domain_firmware_parse, called
 * by vd_domain_def_parse after the devices). The loader and nvram paths
 * themselves stay in def->os (domain-def.h); this family adds what decides
 * which firmware runs and how:
 *
 *   <os firmware='efi'>
 *     <firmware><feature enabled='yes' name='secure-boot'/>
 *               <feature enabled='no' name='enrolled-keys'/></firmware>
 *     <loader readonly='yes' secure='yes' type='pflash' stateless='no'>PATH</loader>
 *     <nvram template='VARS'>PATH</nvram>
 *   </os>
 *   <features><smm state='on'/></features>
 *
 * Format writes these back (vd_domain_firmware_format) because the daemon
 * changes them in the live definition when it selects a firmware from
 * QEMU's descriptors (qemu/firmware-select.h), as libvirt shows the chosen
 * loader, template and nvram in the live XML. The argv builder's part is
 * qemu/qemu-command.c (build_firmware) and qemu/qemu-command-firmware.c.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "conf/domain-def.h"

G_BEGIN_DECLS

/* Tristates: -1 absent (no requirement), 0 no/off, 1 yes/on. */
struct _VdFirmwareDef {
    int secure_boot;           /* <firmware><feature name='secure-boot' enabled=> */
    int enrolled_keys;         /* <firmware><feature name='enrolled-keys' enabled=> */
    int loader_secure;         /* <loader secure=>: pflash writable only from SMM */
    gboolean loader_stateless; /* <loader stateless='yes'>: no nvram at all */
    char *nvram_template;      /* <nvram template=> */
    int smm;                   /* <features><smm state=> */
};

VdFirmwareDef *vd_firmware_def_new(void);
void vd_firmware_def_free(VdFirmwareDef *x);
VdFirmwareDef *vd_firmware_def_copy(const VdFirmwareDef *x);

/* Reads this family's elements of <domain> @root into def->fw.
 * VD_ERROR_XML naming the element and value for malformed input. */
gboolean vd_domain_firmware_parse(VdDomainDef *def, const xmlNode *root, GError **error);

/* Writes def->fw back into @root (after format_os and format_features):
 * loader/@secure, nvram/@template, features/smm. */
void vd_domain_firmware_format(const VdDomainDef *def, xmlNode *root);

/* Whether the domain asks for secure boot: the secure-boot or
 * enrolled-keys feature enabled, or <loader secure='yes'>. */
gboolean vd_firmware_wants_secure(const VdDomainDef *def);

/* Whether the domain runs UEFI from a read-only pflash loader that needs a
 * per-domain variable store (nvram): <os firmware='efi'>, or <loader
 * type='pflash' readonly='yes'>, and not stateless. */
gboolean vd_firmware_needs_nvram(const VdDomainDef *def);

G_END_DECLS
