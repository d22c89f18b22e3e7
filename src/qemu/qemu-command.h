/* Builds the QEMU command line for a domain.
 *
 * -device, -blockdev, -object and -netdev are built as typed JSON
 * (json-glib), so no value a user wrote can inject an option. The few
 * options QEMU 7.2 only takes in key=value form (-chardev, -vnc, -name,
 * -machine) get every user-supplied value escaped (',' doubled) or are
 * built only from validated values. The output is deterministic, so tests
 * compare it with golden files. */
#pragma once

#include <glib.h>

#include "conf/domain-def.h"
#include "qemu/qemu-caps.h"

/* What this host gives guests beyond the QEMU binary (issue 10). The
 * daemon probes it (daemon/host-probe.c) and the builder refuses, with
 * the reason and the fix, a definition that needs what is missing: never
 * a QEMU error. A NULL VdQemuRunPaths.host means "nothing is there". */
typedef struct {
    gboolean vhost_vsock;            /* /dev/vhost-vsock can be opened */
    gboolean render_node;            /* a /dev/dri/renderD* node (GL, virgl) */
    gboolean vfio;                   /* /dev/vfio/vfio and an IOMMU group (hostdev) */
    gboolean sev;                    /* AMD SEV (/dev/sev and kvm_amd sev=1) */
    gboolean tdx;                    /* Intel TDX */
    const char *swtpm;               /* swtpm binary, NULL when not installed */
    const char *firmware_dirs;       /* ':'-separated firmware descriptor dirs, NULL:
                                      * /etc/qemu/firmware:/usr/share/qemu/firmware */
    /* The host's own SMBIOS values for <os><smbios mode='host'>, from
     * /sys/class/dmi/id: NULL-terminated pairs of "section.name" (libvirt's
     * <sysinfo> names: "bios.vendor", "system.product" ...) and value.
     * NULL: not readable here (mode='host' is refused). */
    const char *const *smbios_host;
    /* Free huge pages (/sys/kernel/mm/hugepages), in KiB of memory, for
     * <memoryBacking><hugepages>: of 2 MiB pages and of 1 GiB pages. */
    guint64 hugepages_free_2m_kib;
    guint64 hugepages_free_1g_kib;
} VdHostFacts;

/* Where the per-domain run-time files live. The daemon fills this in. */
typedef struct {
    const char *qmp_socket_path;     /* QEMU listens here (server=on,wait=off) */
    const char *console_socket_path; /* unix socket QEMU listens on for serial0 (pty serials) */
    const char *console_log_path;    /* chardev logfile of serial0: everything the guest printed */
    const char *pid_path;            /* -pidfile; NULL: none (the daemon writes its own) */
    const char *guest_agent_dir;     /* where unix channels without a path go */
    gboolean start_paused;           /* always -S; the daemon sends "cont" */
    const char *accel;               /* "tcg" or "kvm" */
    const char *boot_kernel;         /* NULL: <kernel> as written; else the file QEMU
                                      * boots instead: the same kernel, uncompressed
                                      * (qemu/kernel-image.h) */
    /* Per interface (index in def->interfaces): the descriptor number
     * QEMU holds for its tap or macvtap, -1 for none (type user); and the
     * vhost-net descriptor, -1 for none. The daemon opens them and the
     * spawn hands them to QEMU at these numbers (daemon/domain/qemu-spawn.h):
     * QEMU never opens or creates a network device itself. */
    const int *net_fds;
    const int *vhost_fds;            /* may be NULL: no vhost-net */
    guint n_net_fds;
    const VdHostFacts *host;         /* NULL: nothing beyond QEMU (see above) */
    /* Issue 10 families' run-time files, filled by the daemon (NULL when
     * the domain has none): */
    const char *tpm_socket_path;     /* the swtpm control channel QEMU connects to
                                      * (-chardev socket, -tpmdev emulator) */
    const char *nvram_path;          /* the domain's own UEFI variable store, made
                                      * from the template before start; overrides
                                      * <nvram> when set */
    const char *loader_path;         /* UEFI code selected from the firmware
                                      * descriptors for <os firmware='efi'>; overrides
                                      * <loader> when set */
    int vsock_fd;                    /* <vsock>: the descriptor QEMU holds for
                                      * /dev/vhost-vsock (vhostfd=), its guest CID
                                      * already set by the daemon; 0: none (QEMU
                                      * opens the device itself) */
    guint vsock_cid;                 /* <vsock><cid auto='yes'>: the CID the daemon
                                      * reserved; 0: none */
    const char *bios;                /* NULL: QEMU's default firmware (SeaBIOS); else
                                      * -bios with this file, for domains where
                                      * vd_qemu_fast_firmware_ok() allows it */
    gboolean incoming_defer;         /* -incoming defer: the state comes by migrate-incoming
                                      * (restore, managed save; issue 12) */
    gboolean pci_addresses;          /* QEMU loads a running guest's state (revert,
                                      * restore, incoming migration): a disk with
                                      * <address type='pci'> (a hot-plugged one, as
                                      * its QEMU placed it) goes there */
    const char *sandbox;             /* -sandbox's value (QEMU's seccomp filter), NULL:
                                      * none; the daemon always gives one (issue 15) */
    /* Descriptors instead of paths (qemu-run-fds.h): the sockets QEMU
     * listens on and the files it writes get the numbers fd_base,
     * fd_base + 1, ... in the order of the requests the builder appends
     * to fd_requests (VdQemuFdRequest*; NULL: the caller only wants the
     * text, as the dry runs and goldens do). The daemon passes them to
     * QEMU at those numbers, after its taps (net_fds). */
    int fd_base;
    GPtrArray *fd_requests;
    /* Disk images as descriptors too: target_dev -> GPtrArray of
     * VdChainImage (qemu-blockjob.h), the disk's image and its backing
     * files top first, as the daemon read and checked them. Such a disk
     * gets a set per image and a node pair per image, the chain named
     * explicitly (vd_qemu_disk_layer_node); a disk not in it (NULL: none)
     * is opened by QEMU by path. */
    GHashTable *disk_chains;
    gint64 start_time;               /* seconds since 1970 the guest's RTC starts from
                                      * for <clock offset='variable|timezone'>; 0: now
                                      * (tests set it for deterministic argv) */
} VdQemuRunPaths;

/* Whether a domain may boot with qboot (a minimal firmware that only
 * loads the kernel given with -kernel, in a few milliseconds) instead of
 * SeaBIOS: direct kernel boot, no <loader>, no boot menu, on an i440fx
 * (pc) machine, and nothing that would need the BIOS later: no graphics
 * or video (qboot runs no VGA option ROM), no disk or NIC asked to boot.
 * The guest's kernel gets the same ACPI and SMBIOS tables from QEMU
 * either way. */
gboolean vd_qemu_fast_firmware_ok(const VdDomainDef *def);

/* argv[0] is the emulator (<emulator>, else caps->binary); the array is
 * NULL-terminated, so argv->pdata can go to g_subprocess_newv(). Fails
 * with VD_ERROR_UNSUPPORTED when the definition asks for something this
 * QEMU (caps) or virtd lacks, naming it, and VD_ERROR_INVALID_ARG for
 * malformed values (relative paths, bad MAC, bad VNC listen address ...).
 *
 * What the daemon must do around it:
 * - resolve disk formats first: VD_DISK_FORMAT_NONE is passed as raw;
 *   resolve type='volume' disks to source_file;
 * - for type network/bridge/direct interfaces, create the tap (macvtap)
 *   and pass its descriptor number in paths->net_fds (-netdev tap,fd=);
 *   set the MTU on the tap (the virtio device gets host_mtu);
 * - after start, before "cont": set_link false for <link state='down'>;
 * - after start, before "cont": set the VNC password with QMP set_password
 *   (argv only says password=on), read the VNC port with query-vnc when
 *   autoport (argv lets QEMU pick the first free of 5900-5999), apply
 *   <currentMemory> with balloon and the balloon stats period with qom-set
 *   guest-stats-polling-interval on /machine/peripheral/balloon0;
 * - SPICE: before building, write the port of an autoport SPICE display
 *   into its VdGraphicsDef.port (QEMU's SPICE cannot pick one; the builder
 *   fails with VD_ERROR_INTERNAL otherwise); after start, before "cont",
 *   set_password protocol=spice when it has a passwd (argv then leaves
 *   ticketing on) and query-spice;
 * - connect to the pty serials (vd_qemu_pty_socket_path) and unix channels
 *   (vd_qemu_channel_socket_path) QEMU listens on.
 *
 * Names on the QEMU side: disks are device "disk-<target>" with format
 * node "<target>-format"; interfaces "net<N>" (netdev "hostnet<N>");
 * (or the interface's <alias>, netdev "host<alias>"); serials "serial<N>" (chardev "charserial<N>"); consoles "console<N>";
 * channels "channel<N>" (a spicevmc one's chardev is "charchannel<N>",
 * name=vdagent); sound cards "sound<N>" (HDA codec "sound<N>-codec0"),
 * audio back ends "audio<id>"; USB redirections "redir<N>" (chardev
 * "charredir<N>"); videos "video<N>"; inputs "input<N>"; the balloon
 * "balloon0"; RNGs "rng<N>"; the USB controller "usb". N is the index in
 * the definition's list. */
GPtrArray *vd_qemu_build_argv(const VdDomainDef *def, const VdQemuCaps *caps,
                              const VdQemuRunPaths *paths, GError **error);

/* The same, and what the builder adjusted on the way, one line per
 * adjustment with its reason, into @notes (char*, may be NULL), e.g.
 * "<hyperv> 'vapic', 'spinlocks' dropped: TCG has no Hyper-V
 * enlightenments (they only speed up Windows under KVM)". start logs
 * them and returns them to the client as warnings; vsh domcheck lists
 * them as "adjusted". */
GPtrArray *vd_qemu_build_argv_notes(const VdDomainDef *def, const VdQemuCaps *caps,
                                    const VdQemuRunPaths *paths, GPtrArray *notes,
                                    GError **error);

/* Quotes an argv for logs and golden files: one argument per line, with
 * backslashes, newlines, tabs and other control characters C-escaped so that
 * every argument stays on its line. */
char *vd_qemu_argv_to_string(const GPtrArray *argv);

/* The unix socket QEMU listens on for the pty-type character device
 * @alias ("serial0" is paths->console_socket_path itself; others are
 * "<console_socket_path>-<alias>", e.g. "-serial1", "-console0",
 * "-channel2"). NULL when paths has no console_socket_path. */
char *vd_qemu_pty_socket_path(const VdQemuRunPaths *paths, const char *alias);

/* The unix socket of channel @index of type unix: its <source path>, else
 * "<guest_agent_dir>/<name>.agent" for org.qemu.guest_agent.0 and
 * "<guest_agent_dir>/<name>.channel<index>" for others (suffixes without
 * dots: names may contain dots, and no two domains' files may meet).
 * NULL when the channel is not a unix one or has neither. */
char *vd_qemu_channel_socket_path(const VdDomainDef *def, guint index,
                                  const VdQemuRunPaths *paths);

/* The QEMU device id of interface @index (its alias, else "net<N>");
 * the netdev is "host" + that id. */
char *vd_qemu_net_device_id(const VdNetDef *net, guint index);
/* The QEMU device of an interface model (NULL: rtl8139, libvirt's
 * default); NULL for a model virtd does not run. */
const char *vd_qemu_net_model_driver(const char *model);

/* QMP names of a disk: the device id ("disk-vda") and the format node
 * ("vda-format"), e.g. for blockdev-change-medium or device_del. */
char *vd_qemu_disk_device_id(const VdDiskDef *disk);
char *vd_qemu_disk_node_name(const VdDiskDef *disk);
/* The nodes of image @layer of a disk's chain started with descriptors
 * (paths->disk_chains): layer 0 (the image) is "<target>-format" /
 * "<target>-storage", backing file N "<target>-b<N>-format" /
 * "<target>-b<N>-storage". Block jobs find a layer's node by its file
 * (vd_qemu_chain_nodes), as for overlays' "<target>-ov<tag>-...". */
char *vd_qemu_disk_layer_node(const char *target, guint layer, gboolean storage);
