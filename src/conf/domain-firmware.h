/* The domain model's UEFI: firmware auto-selection features, secure boot, nvram templates, SMM (issue 10).
 *
 * One family of libvirt's domain XML that start acts on. conf/ reads it
 * from the parsed document into def->firmware (vd_domain_firmware_parse, called by
 * vd_domain_def_parse after the devices); format needs nothing, because
 * the user's elements stay in def->doc and come back from dumpxml as
 * written (domain-def.h, "Round trip"), unless code changes them, in
 * which case this file also writes them back. The argv builder's part is
 * qemu/qemu-command-firmware.c.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "conf/domain-def.h"

G_BEGIN_DECLS

struct _VdFirmwareDef {
    gboolean loader_secure;  /* <loader secure='yes'> */
    char *nvram_template;    /* <nvram template=> */
    GPtrArray *features;     /* <os><firmware><feature enabled= name=>: define the type here */
    int smm;                 /* <features><smm state=>: -1 absent, 0 off, 1 on */
};

VdFirmwareDef *vd_firmware_def_new(void);
void vd_firmware_def_free(VdFirmwareDef *x);
VdFirmwareDef *vd_firmware_def_copy(const VdFirmwareDef *x);

/* Reads this family's elements of <domain> @root into def->firmware.
 * VD_ERROR_XML naming the element and value for malformed input. */
gboolean vd_domain_firmware_parse(VdDomainDef *def, const xmlNode *root, GError **error);

G_END_DECLS
