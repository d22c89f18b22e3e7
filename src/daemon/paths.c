#include "paths.h"

#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "util/vd-file.h"

VdPaths *
vd_paths_new(const char *root)
{
    VdPaths *p = g_new0(VdPaths, 1);

    if (root) {
        p->root = g_canonicalize_filename(root, NULL);
        p->config_dir = g_build_filename(p->root, "etc", NULL);
        p->run_dir = g_build_filename(p->root, "run", NULL);
        p->log_dir = g_build_filename(p->root, "log", NULL);
        p->cache_dir = g_build_filename(p->root, "cache", NULL);
        p->state_dir = g_build_filename(p->root, "lib", NULL);
        p->socket_path = g_build_filename(p->root, "virtd.sock", NULL);
    } else {
        p->config_dir = g_strdup("/etc/virtd");
        p->run_dir = g_strdup("/run/virtd");
        p->log_dir = g_strdup("/var/log/virtd");
        p->cache_dir = g_strdup("/var/cache/virtd");
        p->state_dir = g_strdup("/var/lib/virtd");
        p->socket_path = g_strdup("/run/virtd/virtd.sock");
    }
    p->domains_dir = g_build_filename(p->config_dir, "domains", NULL);
    p->autostart_dir = g_build_filename(p->domains_dir, "autostart", NULL);
    p->run_domains_dir = g_build_filename(p->run_dir, "domains", NULL);
    p->run_qemu_dir = g_build_filename(p->run_dir, "qemu", NULL);
    p->console_log_dir = g_build_filename(p->log_dir, "console", NULL);
    p->networks_dir = g_build_filename(p->config_dir, "networks", NULL);
    p->networks_autostart_dir = g_build_filename(p->networks_dir, "autostart", NULL);
    p->run_networks_dir = g_build_filename(p->run_dir, "networks", NULL);
    p->dnsmasq_dir = g_build_filename(p->state_dir, "dnsmasq", NULL);
    p->dnsmasq_log_dir = g_build_filename(p->log_dir, "dnsmasq", NULL);
    p->nvram_dir = g_build_filename(p->state_dir, "nvram", NULL);
    return p;
}

void
vd_paths_free(VdPaths *p)
{
    if (!p)
        return;
    g_free(p->root);
    g_free(p->config_dir);
    g_free(p->domains_dir);
    g_free(p->autostart_dir);
    g_free(p->run_dir);
    g_free(p->run_domains_dir);
    g_free(p->run_qemu_dir);
    g_free(p->log_dir);
    g_free(p->console_log_dir);
    g_free(p->cache_dir);
    g_free(p->state_dir);
    g_free(p->networks_dir);
    g_free(p->networks_autostart_dir);
    g_free(p->run_networks_dir);
    g_free(p->dnsmasq_dir);
    g_free(p->dnsmasq_log_dir);
    g_free(p->nvram_dir);
    g_free(p->socket_path);
    g_free(p);
}

/* Temporary files of atomic writes that a kill left behind: nothing
 * reads them, and nobody else would ever remove them. */
static void
remove_stale_temps(const VdPaths *p)
{
    g_autofree char *storage = g_build_filename(p->config_dir, "storage", NULL);
    g_autofree char *run_storage = g_build_filename(p->run_dir, "storage", NULL);
    g_autofree char *kernels = g_build_filename(p->cache_dir, "kernels", NULL);
    const char *dirs[] = {p->domains_dir, p->run_domains_dir, storage, run_storage,
                          p->cache_dir, kernels, p->networks_dir, p->run_networks_dir,
                          p->dnsmasq_dir, p->nvram_dir};

    for (guint i = 0; i < G_N_ELEMENTS(dirs); i++) {
        guint n = vd_file_remove_stale_temps(dirs[i]);
        if (n > 0)
            g_info("removed %u temporary file(s) left in %s by an interrupted write", n,
                   dirs[i]);
    }
}

/* Whether @path begins with the header the daemon writes into a QEMU
 * log at every start ("2024-01-31 12:00:00 UTC: starting up"). */
static gboolean
is_qemu_log(const char *path)
{
    char head[64] = {0};
    FILE *f = fopen(path, "re");
    gsize n = f ? fread(head, 1, sizeof(head) - 1, f) : 0;

    if (f)
        fclose(f);
    return n >= 36 && g_ascii_isdigit(head[0]) && strncmp(head + 19, " UTC: starting up", 17) == 0;
}

/* Console logs were log_dir/NAME.console.log, which is also the QEMU log
 * of a domain named "NAME.console". They move to log_dir/console/NAME.log;
 * a file that is a QEMU log (it starts with the daemon's header) stays.
 * A running QEMU keeps appending to the moved file: rename keeps it. */
static void
move_console_logs(const VdPaths *p)
{
    g_autoptr(GDir) d = g_dir_open(p->log_dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        if (!g_str_has_suffix(name, ".console.log") || name[0] == '.')
            continue;
        g_autofree char *old = g_build_filename(p->log_dir, name, NULL);
        g_autofree char *domain = g_strndup(name, strlen(name) - strlen(".console.log"));
        g_autofree char *new = vd_paths_domain_console_log(p, domain);
        if (!*domain || !g_file_test(old, G_FILE_TEST_IS_REGULAR) ||
            g_file_test(new, G_FILE_TEST_EXISTS) || is_qemu_log(old))
            continue;
        if (rename(old, new) == 0)
            g_info("moved the console log of domain '%s' to %s", domain, new);
    }
}

gboolean
vd_paths_ensure(const VdPaths *p, GError **error)
{
    if (p->root && !vd_dir_ensure(p->root, 0755, error))
        return FALSE;
    if (!vd_dir_ensure(p->domains_dir, 0700, error) ||
        !vd_dir_ensure(p->autostart_dir, 0700, error) ||
        !vd_dir_ensure(p->run_domains_dir, 0700, error) ||
        !vd_dir_ensure(p->run_qemu_dir, 0700, error) ||
        !vd_dir_ensure(p->log_dir, 0700, error) ||
        !vd_dir_ensure(p->console_log_dir, 0700, error) ||
        !vd_dir_ensure(p->cache_dir, 0700, error) || !vd_dir_ensure(p->state_dir, 0755, error) ||
        !vd_dir_ensure(p->nvram_dir, 0700, error))
        return FALSE;
    remove_stale_temps(p);
    move_console_logs(p);
    return TRUE;
}

char *
vd_paths_domain_config(const VdPaths *p, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(p->domains_dir, file, NULL);
}

char *
vd_paths_domain_autostart(const VdPaths *p, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(p->autostart_dir, file, NULL);
}

char *
vd_paths_domain_run(const VdPaths *p, const char *name, const char *suffix)
{
    g_autofree char *file = g_strconcat(name, ".", suffix, NULL);
    return g_build_filename(p->run_domains_dir, file, NULL);
}

static char *
domain_socket_in(const char *dir, const char *name, const char *uuid, const char *suffix)
{
    struct sockaddr_un addr;
    g_autofree char *file = g_strconcat(name, ".", suffix, NULL);
    char *path = g_build_filename(dir, file, NULL);

    if (strlen(path) < sizeof(addr.sun_path))
        return path;
    g_free(path);
    g_free(g_steal_pointer(&file));
    file = g_strconcat(uuid, ".", suffix, NULL);
    return g_build_filename(dir, file, NULL);
}

char *
vd_paths_domain_socket(const VdPaths *p, const char *name, const char *uuid, const char *suffix)
{
    return domain_socket_in(p->run_qemu_dir, name, uuid, suffix);
}

char *
vd_paths_domain_socket_found(const VdPaths *p, const char *name, const char *uuid,
                             const char *suffix)
{
    char *path = domain_socket_in(p->run_qemu_dir, name, uuid, suffix);
    if (g_file_test(path, G_FILE_TEST_EXISTS))
        return path;
    g_autofree char *before = domain_socket_in(p->run_domains_dir, name, uuid, suffix);
    if (!g_file_test(before, G_FILE_TEST_EXISTS))
        return path;
    g_free(path);
    return g_steal_pointer(&before);
}

char *
vd_paths_domain_log(const VdPaths *p, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".log", NULL);
    return g_build_filename(p->log_dir, file, NULL);
}

char *
vd_paths_domain_console_log(const VdPaths *p, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".log", NULL);
    return g_build_filename(p->console_log_dir, file, NULL);
}

char *
vd_paths_domain_nvram(const VdPaths *p, const char *name)
{
    g_autofree char *file = g_strconcat(name, "_VARS.fd", NULL);
    return g_build_filename(p->nvram_dir, file, NULL);
}

char *
vd_paths_domain_snapshot_dir(const VdPaths *p, const char *name)
{
    return g_build_filename(p->state_dir, "snapshots", name, NULL);
}

char *
vd_paths_domain_managed_save(const VdPaths *p, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.save", name);
    return g_build_filename(p->state_dir, "save", file, NULL);
}
