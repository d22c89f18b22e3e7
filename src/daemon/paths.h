/* Where a daemon instance keeps things.
 *
 * `virtd --root DIR` puts everything under DIR (a self-contained instance,
 * used by tests and the demo); without it the system paths are used.
 *
 *   config_dir/domains/NAME.xml           persistent definitions
 *   config_dir/domains/autostart/NAME.xml symlink: autostart (as libvirt)
 *   run_dir/domains/NAME.xml              status of a running domain (pid, state, live XML)
 *   run_dir/domains/NAME.qmp              QMP socket
 *   run_dir/domains/NAME.console          serial console socket (the daemon relays it)
 *   run_dir/domains/NAME.console-ALIAS    other pty-type serials, consoles, channels
 *   run_dir/domains/NAME.agent            guest agent channel; NAME.channelN other unix ones
 *   run_dir/domains/NAME.pid              QEMU's pid file
 *   log_dir/NAME.log                      QEMU's stdout/stderr, appended per start
 *   log_dir/console/NAME.log              everything the guest printed on its serial console
 *   cache_dir/                            QEMU capabilities, KVM probe result (0700)
 *   cache_dir/kernels/                    vmlinux extracted from bzImages (0700, files 0600)
 *   config_dir/networks/NAME.xml          persistent network definitions
 *   config_dir/networks/autostart/NAME.xml symlink: autostart
 *   run_dir/networks/NAME.xml             status of an active network (network/network.h)
 *   state_dir/dnsmasq/NAME.*              dnsmasq's configuration, host files, leases, pid
 *   log_dir/dnsmasq/NAME.log              dnsmasq's stderr (its start-up errors)
 *   log_dir/image-build/VOLUME.log        an image build's recipe messages (POST /v1/images/build)
 *   state_dir/snapshots/NAME/SNAP.xml     snapshot metadata; NAME/current: the current one
 *   state_dir/save/NAME.save              managed save image
 *   state_dir/swtpm/UUID/, swtpm-localca/ TPM state of a domain, swtpm's local CA;
 *   run_dir/domains/NAME.swtpm(-pid), log_dir/swtpm/NAME.log: its swtpm (domain/swtpm.h)
 *
 * Names may contain dots, so every per-name file has a suffix without a
 * dot, or lives in a directory of its own kind: "NAME.SUFFIX" then names
 * one domain's one file (domain "x.console" and domain "x" never share a
 * file). Everything a client names must stay out of these directories
 * (daemon/path-policy.h).
 *   socket_path                           the API socket
 */
#pragma once

#include <glib.h>

typedef struct {
    char *root;          /* NULL in system mode */
    char *config_dir;
    char *domains_dir;
    char *autostart_dir;
    char *run_dir;
    char *run_domains_dir;
    char *run_qemu_dir;          /* run/qemu: what QEMU itself creates (QMP, console and
                                  * channel sockets, pid files, screenshots); writable
                                  * by its group when it runs unprivileged */
    char *log_dir;
    char *console_log_dir;
    char *cache_dir;
    char *state_dir;
    char *networks_dir;          /* config_dir/networks: created by the network registry,
                                  * whose first start is told by its absence */
    char *networks_autostart_dir;
    char *run_networks_dir;
    char *dnsmasq_dir;           /* state_dir/dnsmasq */
    char *dnsmasq_log_dir;       /* log_dir/dnsmasq */
    char *nvram_dir;             /* state_dir/nvram: UEFI variable stores (daemon/domain/nvram.h) */
    char *socket_path;
} VdPaths;

VdPaths *vd_paths_new(const char *root);
void vd_paths_free(VdPaths *paths);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdPaths, vd_paths_free)

/* Creates every directory; the run, config, log and cache ones are
 * private (0700). At daemon start: also removes the temporary files of
 * atomic writes a kill left behind, and moves console logs from their
 * old place (log_dir/NAME.console.log) to console_log_dir. */
gboolean vd_paths_ensure(const VdPaths *paths, GError **error);

char *vd_paths_domain_config(const VdPaths *paths, const char *name);
char *vd_paths_domain_autostart(const VdPaths *paths, const char *name);
/* @suffix: "xml", "qmp", "console", "pid" */
char *vd_paths_domain_run(const VdPaths *paths, const char *name, const char *suffix);
/* A run-time socket (or the pid file) @suffix of domain @name, which
 * QEMU creates: run_qemu_dir/NAME.SUFFIX, or UUID.SUFFIX when that path is too long for a
 * UNIX socket address. A domain named like another's UUID could then
 * meet its files: start refuses that (daemon/domain-files.c). */
char *vd_paths_domain_socket(const VdPaths *paths, const char *name, const char *uuid,
                             const char *suffix);
/* The same file of a running QEMU, wherever it is: a QEMU started by a
 * daemon before issue 15 made its sockets in run_domains_dir, and outlives
 * an upgrade (KillMode=process); the new daemon must find it there. */
char *vd_paths_domain_socket_found(const VdPaths *paths, const char *name, const char *uuid,
                                   const char *suffix);
char *vd_paths_domain_log(const VdPaths *paths, const char *name);
char *vd_paths_domain_console_log(const VdPaths *paths, const char *name);
/* The UEFI variable store of a domain without <nvram>: nvram_dir/NAME_VARS.fd
 * (libvirt's name). */
char *vd_paths_domain_nvram(const VdPaths *paths, const char *name);
/* Issue 12. A domain's snapshot metadata: state_dir/snapshots/NAME/ (one
 * SNAP.xml per snapshot and "current"; daemon/snapshot/snapshot.h). */
char *vd_paths_domain_snapshot_dir(const VdPaths *paths, const char *name);
/* A domain's managed save image: state_dir/save/NAME.save (daemon/save/save.h). */
char *vd_paths_domain_managed_save(const VdPaths *paths, const char *name);
