#include "host-probe.h"

#include <stdlib.h>

#include "util/vd-file.h"

static char *
boot_id(void)
{
    char *id = NULL;
    if (!g_file_get_contents("/proc/sys/kernel/random/boot_id", &id, NULL, NULL))
        return g_strdup("unknown");
    return g_strstrip(id);
}

VdKvmProbe *
vd_host_kvm_probe(const VdPaths *paths)
{
    g_autofree char *cache = g_build_filename(paths->cache_dir, "kvm-probe", NULL);
    g_autofree char *id = boot_id();
    g_autofree char *text = NULL;
    const char *dev = g_getenv("VIRTD_KVM_DEVICE") ? g_getenv("VIRTD_KVM_DEVICE") : "/dev/kvm";

    /* Format: boot id, device, status number, rate, detail; one per line. */
    if (g_file_get_contents(cache, &text, NULL, NULL)) {
        g_auto(GStrv) lines = g_strsplit(text, "\n", 5);
        if (g_strv_length(lines) == 5 && g_str_equal(lines[0], id) && g_str_equal(lines[1], dev)) {
            VdKvmProbe *p = g_new0(VdKvmProbe, 1);
            p->status = (VdKvmStatus)atoi(lines[2]);
            p->iterations_per_sec = g_ascii_strtod(lines[3], NULL);
            p->detail = g_strdup(g_strstrip(lines[4]));
            return p;
        }
    }
    VdKvmProbe *p = vd_kvm_probe_run(dev);
    char rate[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_dtostr(rate, sizeof(rate), p->iterations_per_sec);
    g_autofree char *out =
        g_strdup_printf("%s\n%s\n%d\n%s\n%s\n", id, dev, (int)p->status, rate, p->detail ? p->detail : "");
    g_autoptr(GError) error = NULL;
    if (!vd_file_replace(cache, out, -1, 0644, &error))
        g_warning("cannot cache the KVM probe: %s", error->message);
    return p;
}
