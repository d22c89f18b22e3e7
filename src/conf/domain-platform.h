/* The domain model's SMBIOS/sysinfo, watchdogs, vsock, controllers, and what this host cannot give (hostdev, launchSecurity, GL) (issue 10).
 *
 * One family of libvirt's domain XML that start acts on. conf/ reads it
 * from the parsed document into def->platform (vd_domain_platform_parse, called by
 * vd_domain_def_parse after the devices); format needs nothing, because
 * the user's elements stay in def->doc and come back from dumpxml as
 * written (domain-def.h, "Round trip"), unless code changes them, in
 * which case this file also writes them back. The argv builder's part is
 * qemu/qemu-command-platform.c.
 *
 * Parse checks shapes only (a watchdog model or action libvirt does not
 * know, a vsock cid that is not a number ...: VD_ERROR_XML). What this
 * host or QEMU cannot give (hostdev without VFIO, SEV, GL without a render
 * node, vsock without /dev/vhost-vsock) is refused by the argv builder
 * from VdHostFacts, so the reason names the host's missing piece.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "conf/domain-def.h"

G_BEGIN_DECLS

/* <os><smbios mode=> */
typedef enum {
    VD_SMBIOS_NONE,     /* absent: QEMU's own tables, plus <oemStrings> (as libvirt) */
    VD_SMBIOS_EMULATE,  /* QEMU's own tables */
    VD_SMBIOS_HOST,     /* the host's BIOS and system tables (VdHostFacts.smbios_host) */
    VD_SMBIOS_SYSINFO,  /* the <sysinfo type='smbios'> entries */
} VdSmbiosMode;

/* One <entry> of <sysinfo type='smbios'>. */
typedef struct {
    guint type;              /* SMBIOS structure: 0 <bios>, 1 <system>, 2 <baseBoard>,
                              * 3 <chassis>, 11 <oemStrings> */
    char *name;              /* <entry name=> (vendor, product ...); NULL for oemStrings */
    char *value;
} VdSysinfoEntry;

/* One <entry> of <sysinfo type='fwcfg'>: -fw_cfg name=,file= or string=. */
typedef struct {
    char *name;              /* opt/... */
    char *file;              /* file=, or NULL: value is the content */
    char *value;
} VdFwCfgEntry;

typedef struct {
    char *model;             /* i6300esb, ib700, itco, diag288 */
    char *action;            /* reset (libvirt's default when absent), shutdown, poweroff,
                              * pause, none, dump, inject-nmi */
} VdWatchdogDef;

typedef struct {
    char *model;             /* virtio, or NULL */
    gboolean auto_cid;       /* <cid auto='yes'> (also when no address is given) */
    guint cid;               /* <cid address=>, 0 when auto */
} VdVsockDef;

typedef struct {
    char *type;              /* usb, pci, virtio-serial, scsi, sata, ide, fdc */
    char *model;             /* qemu-xhci, pcie-root-port, virtio-scsi ...; NULL: default */
    int index;               /* <controller index=>, -1 when absent */
    int ports;               /* usb ports= / virtio-serial ports=, -1 when absent */
    int vectors;             /* virtio-serial vectors=, -1 when absent */
    int master_startport;    /* usb companion <master startport=>, -1 when absent */
    int pci_bus, pci_slot;   /* <address type='pci'> (a hot-plugged controller's, in a live
                              * definition), -1 when absent */
} VdControllerDef;

/* A <hostdev> (or <disk type='nvme'>): what it asks of the host. */
typedef struct {
    char *mode;              /* subsystem, capabilities */
    char *type;              /* pci, usb, scsi, mdev, scsi_host, nvme ... */
} VdHostdevDef;

/* <memoryBacking>: what changes how the guest's RAM is backed on the
 * host in a way start must honour or refuse. */
typedef struct {
    gboolean hugepages;      /* <hugepages> */
    guint64 hugepage_kib;    /* its <page size=> in KiB; 0: the host's default (2 MiB) */
    char *source;            /* <source type=>: anonymous, memfd, file; NULL: anonymous */
    char *access;            /* <access mode=>: shared, private; NULL: private */
} VdMemoryBackingDef;

struct _VdPlatformDef {
    GPtrArray *sysinfo;      /* VdSysinfoEntry*, from <sysinfo type='smbios'> */
    GPtrArray *fwcfg;        /* VdFwCfgEntry*, from <sysinfo type='fwcfg'> */
    VdSmbiosMode smbios_mode;
    char *smbios_mode_str;   /* as written (NULL when absent) */
    GPtrArray *watchdogs;    /* VdWatchdogDef* */
    GPtrArray *vsocks;       /* VdVsockDef* */
    GPtrArray *controllers;  /* VdControllerDef*, in document order */
    GPtrArray *hostdevs;     /* VdHostdevDef* */
    char *launch_security;   /* <launchSecurity type=>, NULL when absent */
    VdMemoryBackingDef mem;  /* <memoryBacking> (all zero when absent) */
    char *gl_what;           /* the first element asking for host GL ("<graphics><gl
                              * enable='yes'>" ...), NULL when none */
};

VdPlatformDef *vd_platform_def_new(void);
void vd_platform_def_free(VdPlatformDef *x);
VdPlatformDef *vd_platform_def_copy(const VdPlatformDef *x);

/* Reads this family's elements of <domain> @root into def->platform.
 * VD_ERROR_XML naming the element and value for malformed input. */
gboolean vd_domain_platform_parse(VdDomainDef *def, const xmlNode *root, GError **error);

/* Define's warnings for this family (appended to @out, char*): what start
 * will refuse whatever the host (hostdev: virtd does no passthrough yet)
 * or may refuse for what the host lacks (launchSecurity, GL, vsock);
 * start's refusal names the missing piece. */
void vd_platform_def_warnings(const VdDomainDef *def, GPtrArray *out);

/* libvirt's name of an SMBIOS structure type (0 -> "bios" ...). */
const char *vd_sysinfo_section_name(guint type);

G_END_DECLS
