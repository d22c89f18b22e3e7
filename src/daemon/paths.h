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
 *   run_dir/domains/NAME.pid              QEMU's pid file
 *   log_dir/NAME.log                      QEMU's stdout/stderr, appended per start
 *   log_dir/NAME.console.log              everything the guest printed on its serial console
 *   cache_dir/                            QEMU capabilities, KVM probe result
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
    char *log_dir;
    char *cache_dir;
    char *state_dir;
    char *socket_path;
} VdPaths;

VdPaths *vd_paths_new(const char *root);
void vd_paths_free(VdPaths *paths);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdPaths, vd_paths_free)

/* Creates every directory; the run and config ones are private (0700). */
gboolean vd_paths_ensure(const VdPaths *paths, GError **error);

char *vd_paths_domain_config(const VdPaths *paths, const char *name);
char *vd_paths_domain_autostart(const VdPaths *paths, const char *name);
/* @suffix: "xml", "qmp", "console", "pid" */
char *vd_paths_domain_run(const VdPaths *paths, const char *name, const char *suffix);
char *vd_paths_domain_log(const VdPaths *paths, const char *name);
char *vd_paths_domain_console_log(const VdPaths *paths, const char *name);
