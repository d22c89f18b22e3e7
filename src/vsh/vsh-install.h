/* vsh install: virt-install's job, split in pure parts that the unit tests
 * reach directly (tests/vsh/test-vsh-install.c) and the command that talks
 * to the daemon:
 *
 *   vsh-install-opts.c  the sub-option parsers (--disk, --memory, --vcpus,
 *                       --graphics, --boot, --cpu, --network, --osinfo)
 *   src/image/vd-install-tree.c (shared with the daemon)
 *                       finding the kernel and initrd of an install tree
 *                       (directory or ISO), staging them, --initrd-inject
 *   vsh-install-xml.c   the two domain XMLs: install phase and final
 *   vsh-install.c       the command: validate, allocate, define, start,
 *                       console, wait, reboot into the installed system
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "image/vd-install-tree.h"

/* ---- --disk ---- */

typedef struct {
    gboolean none;       /* --disk none: accepted, adds nothing */
    char *path;          /* path= or the bare "--disk /path" */
    char *pool;          /* pool= */
    char *vol;           /* vol=NAME (with pool=) or vol=POOL/NAME */
    gboolean has_size;   /* size= given */
    guint64 size_bytes;  /* size= is GiB as virt-install; may be fractional */
    char *format;        /* format=; NULL: qcow2 for new images, else probed */
    char *bus;           /* bus=virtio|sata|scsi|ide; NULL: default */
    gboolean cdrom;      /* device=cdrom */
    char *backing_store; /* backing_store=PATH, for a new qcow2 */
    gboolean readonly;   /* readonly=on */
    gboolean has_readonly; /* readonly= given (vsh xml --edit changes only what is given) */
    char *cache;         /* cache=none|writeback|...; NULL: QEMU's default */

    /* Filled while planning (vsh-install.c). */
    char *target;         /* vda, sda, hdc, ... */
    gboolean create;      /* this run makes the image */
    gboolean create_file; /* ... as a plain file (qemu-img), not a pool volume */
    char *create_name;    /* the volume's name in @pool when !create_file */
} VshInstallDisk;

void vsh_install_disk_free(VshInstallDisk *disk);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VshInstallDisk, vsh_install_disk_free)

/* Parses one --disk value: "none", "/path", "size=N", or comma-separated
 * keys (path, size, format, bus, device, pool, vol, backing_store,
 * readonly, cache). An unknown key or value fails naming it. */
VshInstallDisk *vsh_install_parse_disk(const char *spec, GError **error);
/* The same syntax for `vsh xml --edit --disk`: the keys that change an
 * existing disk (path, format, bus, device, readonly, cache); nothing is
 * required, and the keys that make a new image (size, pool, vol,
 * backing_store) are refused. */
VshInstallDisk *vsh_install_parse_disk_edit(const char *spec, GError **error);

/* ---- --memory, --vcpus, --cpu ---- */

/* "MiB[,maxmemory=MiB]" (also "memory=MiB"; --ram's value). */
gboolean vsh_install_parse_memory(const char *spec, guint64 *mib, guint64 *max_mib,
                                  GError **error);
/* "N[,maxvcpus=M]" (also "vcpus=N"); @max gets N when maxvcpus is absent. */
gboolean vsh_install_parse_vcpus(const char *spec, guint *vcpus, guint *max, GError **error);

typedef struct {
    char *mode;  /* "host-passthrough", "host-model" or "custom" */
    char *model; /* for "custom": QEMU's/libvirt's model name */
} VshInstallCpu;

gboolean vsh_install_parse_cpu(const char *spec, VshInstallCpu *cpu, GError **error);
void vsh_install_cpu_clear(VshInstallCpu *cpu);

/* ---- --graphics, --network ---- */

typedef struct {
    gboolean vnc;   /* FALSE: none */
    char *listen;   /* NULL: 127.0.0.1 (never all interfaces by default) */
    int port;       /* -1: autoport */
    char *password; /* NULL: none */
} VshInstallGraphics;

gboolean vsh_install_parse_graphics(const char *spec, VshInstallGraphics *g, GError **error);
void vsh_install_graphics_clear(VshInstallGraphics *g);

typedef enum {
    VSH_NET_DEFAULT, /* nothing said: the 'default' network if active, else user */
    VSH_NET_NETWORK, /* network=NAME */
    VSH_NET_BRIDGE,  /* bridge=BRIDGE */
    VSH_NET_DIRECT,  /* type=direct,source=NIC[,source.mode=MODE]: macvtap */
    VSH_NET_USER,    /* user: QEMU's user-mode networking */
    VSH_NET_NONE,    /* none: no NIC */
} VshInstallNetKind;

typedef struct {
    VshInstallNetKind kind;
    char *source;      /* network name, bridge or host NIC */
    char *source_mode; /* direct only; NULL: the daemon's default */
    char *model;       /* NULL: virtio (e1000 for an OS without virtio) */
    char *mac;         /* NULL: generated when planned */
} VshInstallNetwork;

/* Parses one --network value, virt-install's syntax: "network=NAME",
 * "bridge=BR", "type=direct,source=eth0[,source.mode=vepa]", "user",
 * "none", "default", each with ",model=" (or model.type=) and ",mac="
 * (or mac.address=). An unknown key or type, two kinds in one value, or a
 * kind without its source fails naming it. */
gboolean vsh_install_parse_network(const char *spec, VshInstallNetwork *net, GError **error);
void vsh_install_network_clear(VshInstallNetwork *net);
void vsh_install_network_free(VshInstallNetwork *net);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VshInstallNetwork, vsh_install_network_free)

/* What no --network (or "default") becomes, from the answer of
 * GET /v1/networks/default (NULL when there is no such network): that
 * network when it is active, else user-mode networking. @notice gets the
 * sentence saying which and why. */
void vsh_install_network_resolve_default(VshInstallNetwork *net, JsonNode *answer, char **notice);

/* ---- --boot ---- */

typedef struct {
    GPtrArray *devs;   /* "hd", "cdrom", "network" (libvirt's boot dev names), in order */
    char *kernel;      /* kernel= : direct kernel boot, every boot */
    char *initrd;      /* initrd= */
    char *kernel_args; /* kernel_args= */
} VshInstallBoot;

gboolean vsh_install_parse_boot(const char *spec, VshInstallBoot *boot, GError **error);
void vsh_install_boot_clear(VshInstallBoot *boot);

/* ---- --os-variant / --osinfo ---- */

typedef struct {
    const char *name;
    guint min_memory_mib; /* used when --memory is absent, as virt-install's recommended */
    guint min_vcpus;
    gboolean virtio;      /* virtio disk and network (every Linux here) */
} VshOsInfo;

/* The variant for --osinfo @spec ("debian12", "name=debian12",
 * "detect=on,require=off", ...). Never fails: an unknown or undetectable
 * value gives the "generic" entry and a warning in @warning. */
const VshOsInfo *vsh_install_osinfo_lookup(const char *spec, char **warning);

/* ---- install trees: src/image/vd-install-tree.h (shared with the daemon) ---- */

/* ---- the XMLs (vsh-install-xml.c) ---- */

typedef enum {
    VSH_INSTALL_IMPORT,   /* --import, or --boot alone: the final XML is all */
    VSH_INSTALL_CDROM,    /* --cdrom: the install phase boots the ISO first */
    VSH_INSTALL_LOCATION, /* --location: the install phase boots kernel+initrd */
} VshInstallMethod;

typedef struct {
    char *name;
    char *uuid;
    const char *virt_type; /* "kvm" or "qemu" */
    guint64 memory_mib, max_memory_mib;
    guint vcpus, max_vcpus;
    VshInstallCpu cpu;
    GPtrArray *disks; /* of VshInstallDisk*, with targets and paths set */
    GPtrArray *nets; /* of VshInstallNetwork*, none of VSH_NET_DEFAULT or _NONE */
    VshInstallGraphics graphics;
    VshInstallBoot boot;
    VshInstallMethod method;
    char *cdrom;          /* --cdrom ISO (is also disks' cdrom) */
    char *install_kernel; /* --location's staged kernel */
    char *install_initrd;
    char *install_cmdline; /* --extra-args */
} VshInstallPlan;

void vsh_install_plan_clear(VshInstallPlan *plan);

/* One <disk> / <interface> element as the XMLs above write it (unindented,
 * ending in a newline), for `vsh xml --add-device`. The disk's target must
 * be set. */
char *vsh_install_xml_disk(const VshInstallDisk *disk);
char *vsh_install_xml_interface(const VshInstallNetwork *net);

/* The XML of the installed system: boots from disk (--boot's order), the
 * install media ejected. */
char *vsh_install_xml_final(const VshInstallPlan *plan);
/* The XML of the install phase (same name, UUID and devices): boots the
 * cdrom first or the install kernel, and ends on the guest's reboot so the
 * next start is the final XML. NULL for VSH_INSTALL_IMPORT. */
char *vsh_install_xml_install(const VshInstallPlan *plan);

/* ---- one run of the command (vsh-install.c plans, vsh-install-run.c acts) ---- */

typedef enum {
    VSH_AUTOCONSOLE_NONE,      /* --noautoconsole, --autoconsole none */
    VSH_AUTOCONSOLE_TEXT,      /* the serial console (default with --graphics none) */
    VSH_AUTOCONSOLE_GRAPHICAL, /* default with VNC: virt-install runs virt-viewer; we print
                                * where the display is and wait */
} VshAutoconsole;

typedef struct _VshCtl VshCtl;

typedef struct {
    VshCtl *ctl;
    VshInstallPlan plan;
    const VshOsInfo *os;
    gboolean dry_run;
    gboolean print_xml;
    char *location;        /* --location as given */
    char *location_layout; /* for an ISO: the kernel's path inside it */
    gboolean location_iso;
    GStrv inject;          /* --initrd-inject files */
    VshAutoconsole autoconsole;
    gboolean has_wait;
    gint64 wait_min; /* -1: forever */
    gboolean noreboot;
    gboolean autostart;
    char *stage_dir; /* private copy of the installer's kernel and initrd */

    /* What this run created, undone when a later step fails. */
    gboolean created_pool_default;
    gboolean defined;
} VshInstall;

/* Parses every --network value (@specs, NULL-terminated, may be empty)
 * into plan.nets: no --network is the 'default' network when active, else
 * user (said on stdout); MACs are generated and models chosen here
 * (vsh-install-net.c). */
gboolean vsh_install_plan_networks(VshInstall *inst, const char *const *specs, GError **error);

/* Plans one parsed --disk (not "none") of @inst: an existing file, a new
 * file, an existing pool volume, or a new volume NAME[-N].FORMAT in
 * pool= (default: 'default', made when missing). Checks only, creates
 * nothing; vsh xml uses it with a plan holding the domain's name. */
gboolean vsh_install_plan_disk(VshInstall *inst, VshInstallDisk *disk, GError **error);
/* Creates the images and volumes planned (d->create), with virt-install's
 * "Allocating" line; then vsh_install_undo() removes them again on a later
 * failure, with @failed ("Domain installation failed") heading the list. */
gboolean vsh_install_allocate_disks(VshInstall *inst, GError **error);
void vsh_install_undo(VshInstall *inst, const char *failed);

/* Runs a fully validated plan: stages the installer, allocates the disks,
 * defines, starts, attaches or waits, restarts into the installed system.
 * Undoes what it created when a step fails before the guest runs. */
gboolean vsh_install_run(VshInstall *inst, GError **error);
/* Removes the staged kernel/initrd directory, if any. */
void vsh_install_unstage(VshInstall *inst);
