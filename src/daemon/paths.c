#include "paths.h"

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
    g_free(p->log_dir);
    g_free(p->cache_dir);
    g_free(p->state_dir);
    g_free(p->socket_path);
    g_free(p);
}

gboolean
vd_paths_ensure(const VdPaths *p, GError **error)
{
    if (p->root && !vd_dir_ensure(p->root, 0755, error))
        return FALSE;
    return vd_dir_ensure(p->domains_dir, 0700, error) &&
           vd_dir_ensure(p->autostart_dir, 0700, error) &&
           vd_dir_ensure(p->run_domains_dir, 0700, error) &&
           vd_dir_ensure(p->log_dir, 0700, error) && vd_dir_ensure(p->cache_dir, 0755, error) &&
           vd_dir_ensure(p->state_dir, 0755, error);
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

char *
vd_paths_domain_log(const VdPaths *p, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".log", NULL);
    return g_build_filename(p->log_dir, file, NULL);
}

char *
vd_paths_domain_console_log(const VdPaths *p, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".console.log", NULL);
    return g_build_filename(p->log_dir, file, NULL);
}
