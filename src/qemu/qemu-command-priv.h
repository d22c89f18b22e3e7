/* Shared by the argv builder's files (qemu-command*.c), nothing else.
 *
 * The builder is split by device class so that no file grows past what
 * one can read in a sitting; they share one context and a few helpers
 * that are the only places where arguments are appended. */
#pragma once

#include <json-glib/json-glib.h>

#include "qemu/qemu-command.h"
#include "qemu/qemu-run-fds.h"

typedef struct {
    const VdDomainDef *def;
    const VdQemuCaps *caps;
    const VdQemuRunPaths *paths;
    GPtrArray *argv;

    const char *machine;   /* resolved: the domain's or QEMU's default */
    gboolean pc;           /* i440fx family: built-in PIIX IDE */
    gboolean q35;          /* q35 family: built-in AHCI with id "ide" */
    gboolean kvm;          /* accel=kvm (else tcg) */
    GHashTable *bootindex; /* VdDiskDef* / VdNetDef* -> bootindex */

    /* Controllers added on first use. */
    gboolean have_usb;
    gboolean have_ahci;
    gboolean have_scsi;
    gboolean have_virtio_serial;
    gboolean usb_none;     /* <controller type='usb' model='none'>: no USB bus */
    guint32 nvme_ctrls;    /* bit C: NVMe controller "nvme<C>" added */
    /* q35's pcie-root-ports ("pci.<index>"), in argv order, and how many
     * PCIe devices took one (vd_qemu_cmd_place_pcie). */
    int root_ports[256];
    guint n_root_ports, used_root_ports;

    GPtrArray *notes;      /* char*: adjustments (vd_qemu_cmd_note); may be NULL */
    /* Hot-plug (qemu-hotplug-disk.c): when set, vd_qemu_cmd_opt_json
     * appends {"opt": ..., "value": obj} here instead of to argv, and
     * places no device: the same objects become QMP arguments. */
    JsonArray *collect;
    /* What QEMU is given as descriptors (qemu-run-fds.h), in number order. */
    GPtrArray *fd_requests;
} VdQemuCmd;

/* Records an adjustment the builder made, with its reason, e.g. a Hyper-V
 * enlightenment TCG cannot give (see vd_qemu_build_argv_notes). */
void vd_qemu_cmd_note(VdQemuCmd *cmd, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Appends one argument (copied). */
void vd_qemu_cmd_arg(VdQemuCmd *cmd, const char *arg);
/* Appends "-opt" and its value (copied). */
void vd_qemu_cmd_opt(VdQemuCmd *cmd, const char *opt, const char *value);
/* Appends "-opt" and @obj as compact JSON; takes ownership of @obj. A
 * PCIe device (-device) goes into the next free pcie-root-port on q35
 * (vd_qemu_cmd_place_pcie). */
void vd_qemu_cmd_opt_json(VdQemuCmd *cmd, const char *opt, JsonObject *obj);

/* When QEMU loads a saved guest (paths->pci_addresses): @dev goes to
 * the PCI slot the guest had it in, from its <address type='pci'> (@bus
 * 0: the root bus; else the root port "pci.<bus>"). Else nothing. */
void vd_qemu_cmd_pin_pci(VdQemuCmd *cmd, JsonObject *dev, guint bus, guint slot);

/* A descriptor QEMU gets for @path instead of opening it (qemu-run-fds.h):
 * its number. */
int vd_qemu_cmd_request_fd(VdQemuCmd *cmd, VdQemuFdKind kind, const char *path);
/* -add-fd of a descriptor for @path into fd set @set (-1: a new set);
 * returns the set's id. */
int vd_qemu_cmd_fdset_add(VdQemuCmd *cmd, VdQemuFdKind kind, const char *path, int set);
/* A file QEMU writes, given to it in an fd set (-add-fd): the path QEMU
 * opens it by ("/dev/fdset/N"). */
char *vd_qemu_cmd_fdset_path(VdQemuCmd *cmd, VdQemuFdKind kind, const char *path);
/* "socket,id=ID,fd=N,server=on,wait=off": a socket QEMU listens on, bound
 * at @path by the daemon. */
char *vd_qemu_cmd_listen_chardev(VdQemuCmd *cmd, const char *id, const char *path);

/* @value with ',' doubled: the only escaping QemuOpts/keyval know. */
char *vd_qemu_escape_opt(const char *value);

/* VD_ERROR_UNSUPPORTED naming @driver and @what ("disk 'vda'") when
 * QEMU lacks the device. */
gboolean vd_qemu_cmd_need_device(VdQemuCmd *cmd, const char *driver, const char *what,
                                 GError **error);

/* Strings that reach QEMU must be valid UTF-8 (JSON) and free of NUL. */
gboolean vd_qemu_check_utf8(const char *value, const char *what, GError **error);
/* An absolute, UTF-8 path; @what names it in the error. */
gboolean vd_qemu_check_path(const char *path, const char *what, GError **error);
/* A path that fits in sockaddr_un. */
gboolean vd_qemu_check_socket_path(const char *path, const char *what, GError **error);
/* The host of a VNC or SPICE listen address: "127.0.0.1" for NULL,
 * "localhost", or an IP literal in canonical form (IPv6 in brackets when
 * @bracket_ipv6, as VNC's host:port wants); anything else, which could
 * carry another option, is VD_ERROR_INVALID_ARG naming @what. */
char *vd_qemu_listen_host(const char *listen, gboolean bracket_ipv6, const char *what,
                          GError **error);

/* 0 when @dev has no boot index. */
guint vd_qemu_cmd_bootindex(VdQemuCmd *cmd, gconstpointer dev);

/* Adds the USB controller before the first USB device. */
gboolean vd_qemu_cmd_need_usb(VdQemuCmd *cmd, const char *what, GError **error);
/* A controller "-device @driver,id=@id" once: nothing if *@have, else
 * added (checked against the caps for @what) and *@have set. */
gboolean vd_qemu_cmd_add_controller(VdQemuCmd *cmd, gboolean *have, const char *driver,
                                    const char *id, const char *what, GError **error);

/* The device classes, in argv order. */
gboolean vd_qemu_build_disks(VdQemuCmd *cmd, GError **error);
/* One disk (its checks, controller, nodes, device), as vd_qemu_build_disks
 * builds each: used by the hot-plug builder with cmd->collect set. */
gboolean vd_qemu_build_one_disk(VdQemuCmd *cmd, const VdDiskDef *disk, GError **error);
gboolean vd_qemu_build_interfaces(VdQemuCmd *cmd, GError **error);
gboolean vd_qemu_build_chardevs(VdQemuCmd *cmd, GError **error);
gboolean vd_qemu_build_graphics(VdQemuCmd *cmd, GError **error);
gboolean vd_qemu_build_video(VdQemuCmd *cmd, GError **error);
gboolean vd_qemu_build_inputs(VdQemuCmd *cmd, GError **error);
gboolean vd_qemu_build_misc_devices(VdQemuCmd *cmd, GError **error);
/* Issue 10's families (qemu-command-<family>.c), after the devices above.
 * A family that must change what is built earlier (-machine, -cpu, -smp,
 * -m, firmware) does so in the function of qemu-command.c that builds it. */
gboolean vd_qemu_build_media(VdQemuCmd *cmd, GError **error);
/* -spice for @g (qemu-command-media.c), called by vd_qemu_build_graphics. */
gboolean vd_qemu_build_spice(VdQemuCmd *cmd, const VdGraphicsDef *g, GError **error);
gboolean vd_qemu_build_tpm(VdQemuCmd *cmd, GError **error);
gboolean vd_qemu_build_firmware(VdQemuCmd *cmd, GError **error);
/* The firmware's part of the machine options (qemu-command-firmware.c),
 * called by build_firmware before -machine: -bios for a ROM @loader, the
 * pflash nodes for UEFI code and variables (*pflash0, *pflash1 say which
 * -machine names), refusing secure boot where it cannot work. */
gboolean vd_qemu_build_loader(VdQemuCmd *cmd, const char *loader, gboolean *pflash0,
                              gboolean *pflash1, GError **error);
gboolean vd_qemu_build_cpu_ext(VdQemuCmd *cmd, GError **error);
/* cpu-ext's parts of the options built earlier: the ",name=on|off"
 * properties -cpu gets for <cpu><feature>, Hyper-V, <kvm>, <pmu>, <apic
 * eoi>, kvmclock and tsc timers (appended to @cpu); -rtc's base, driftfix
 * and clock (appended to @rtc, which holds "base=..." for utc/localtime or
 * is empty); the -object/-numa pair of each NUMA cell. Notes for what the
 * accelerator cannot give (qemu-command-cpu-ext.c). */
gboolean vd_qemu_cpu_ext_cpu_props(VdQemuCmd *cmd, GString *cpu, GError **error);
gboolean vd_qemu_cpu_ext_rtc(VdQemuCmd *cmd, GString *rtc, GError **error);
gboolean vd_qemu_cpu_ext_numa(VdQemuCmd *cmd, GError **error);
gboolean vd_qemu_build_platform(VdQemuCmd *cmd, GError **error);
/* -m and the <memory> devices (qemu-command-memory.c), from build_memory_and_smp. */
gboolean vd_qemu_build_memory(VdQemuCmd *cmd, GError **error);
/* After the controllers: the memory devices that go behind a root port
 * (a hot-plugged virtio-mem, for a QEMU loading the guest's state). */
gboolean vd_qemu_build_memory_late(VdQemuCmd *cmd, GError **error);
/* <controller>s (qemu-command-controller.c): before the first device, so
 * that devices find their buses and the slots given explicitly are free. */
gboolean vd_qemu_build_controllers(VdQemuCmd *cmd, GError **error);
/* As libvirt: on q35, a PCIe endpoint (virtio-*-pci, e1000e, nvme, xHCI
 * ...) without a bus goes into the next pcie-root-port the definition
 * has, one device per port, so that it can be unplugged; the ports left
 * take hot-plugged devices. Without free ports it stays on pcie.0. */
void vd_qemu_cmd_place_pcie(VdQemuCmd *cmd, JsonObject *dev);
/* What the definition needs of the host beyond QEMU (launchSecurity,
 * hostdev, GL: VdHostFacts), checked before anything is built so that
 * the refusal names the host's missing piece (qemu-command-platform.c). */
gboolean vd_qemu_check_host_needs(VdQemuCmd *cmd, GError **error);
/* Whether <memoryBacking> makes the machine's RAM the memfd object
 * VD_QEMU_RAM_ID (-machine memory-backend=), built by vd_qemu_build_platform. */
#define VD_QEMU_RAM_ID "pc.ram"
gboolean vd_qemu_platform_memfd(const VdDomainDef *def);
