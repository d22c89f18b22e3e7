/* The domain model's SMBIOS/sysinfo, watchdogs, vsock, controllers, and what this host cannot give (hostdev, launchSecurity, GL) (issue 10).
 *
 * One family of libvirt's domain XML that start acts on. conf/ reads it
 * from the parsed document into def->platform (vd_domain_platform_parse, called by
 * vd_domain_def_parse after the devices); format needs nothing, because
 * the user's elements stay in def->doc and come back from dumpxml as
 * written (domain-def.h, "Round trip"), unless code changes them, in
 * which case this file also writes them back. The argv builder's part is
 * qemu/qemu-command-platform.c.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "conf/domain-def.h"

G_BEGIN_DECLS

struct _VdPlatformDef {
    GPtrArray *sysinfo;      /* <sysinfo type='smbios'> entries: define the type here */
    char *smbios_mode;       /* <os><smbios mode=> */
    GPtrArray *watchdogs;    /* <watchdog model= action=> */
    GPtrArray *vsocks;       /* <vsock model=><cid auto= address=> */
    GPtrArray *controllers;  /* <controller type= model= index=> */
};

VdPlatformDef *vd_platform_def_new(void);
void vd_platform_def_free(VdPlatformDef *x);
VdPlatformDef *vd_platform_def_copy(const VdPlatformDef *x);

/* Reads this family's elements of <domain> @root into def->platform.
 * VD_ERROR_XML naming the element and value for malformed input. */
gboolean vd_domain_platform_parse(VdDomainDef *def, const xmlNode *root, GError **error);

G_END_DECLS
