#include "host-probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/vd-error.h"
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

/* ---- what the host gives guests beyond QEMU ---- */

static char *
under(const char *root, const char *path)
{
    return g_build_filename(root ? root : "/", path, NULL);
}

static gboolean
usable(const char *root, const char *dev)
{
    g_autofree char *path = under(root, dev);
    return access(path, R_OK | W_OK) == 0;
}

static gboolean
dir_has_entries(const char *root, const char *dir, const char *prefix)
{
    g_autofree char *path = under(root, dir);
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d)))
        if (!prefix || g_str_has_prefix(name, prefix))
            return TRUE;
    return FALSE;
}

/* A kernel module parameter that says yes ("Y", "1"). */
static gboolean
param_on(const char *root, const char *path)
{
    g_autofree char *file = under(root, path);
    g_autofree char *text = NULL;

    if (!g_file_get_contents(file, &text, NULL, NULL))
        return FALSE;
    g_strstrip(text);
    return g_str_equal(text, "Y") || g_str_equal(text, "1");
}

/* The files of /sys/class/dmi/id under libvirt's <sysinfo> names. The
 * serials and UUID are root's only (and the UUID is never the guest's). */
static const struct {
    const char *file;
    const char *name;
} dmi_files[] = {
    {"bios_vendor", "bios.vendor"},
    {"bios_version", "bios.version"},
    {"bios_date", "bios.date"},
    {"bios_release", "bios.release"},
    {"sys_vendor", "system.manufacturer"},
    {"product_name", "system.product"},
    {"product_version", "system.version"},
    {"product_serial", "system.serial"},
    {"product_sku", "system.sku"},
    {"product_family", "system.family"},
    {"board_vendor", "baseBoard.manufacturer"},
    {"board_name", "baseBoard.product"},
    {"board_version", "baseBoard.version"},
    {"board_serial", "baseBoard.serial"},
    {"board_asset_tag", "baseBoard.asset"},
    {"chassis_vendor", "chassis.manufacturer"},
    {"chassis_version", "chassis.version"},
    {"chassis_serial", "chassis.serial"},
    {"chassis_asset_tag", "chassis.asset"},
};

static GStrv
read_dmi(const char *root)
{
    g_autofree char *dir = under(root, "sys/class/dmi/id");
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    guint n = 0;

    if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
        return NULL;
    for (guint i = 0; i < G_N_ELEMENTS(dmi_files); i++) {
        g_autofree char *path = g_build_filename(dir, dmi_files[i].file, NULL);
        g_autofree char *text = NULL;
        if (!g_file_get_contents(path, &text, NULL, NULL))
            continue;
        g_strstrip(text);
        if (!*text || !g_utf8_validate(text, -1, NULL))
            continue;
        g_strv_builder_add(b, dmi_files[i].name);
        g_strv_builder_add(b, text);
        n++;
    }
    return n ? g_strv_builder_end(b) : NULL;
}

static guint64
free_hugepages(const char *root, const char *rel)
{
    g_autofree char *path = under(root, rel);
    g_autofree char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    return g_ascii_strtoull(text, NULL, 10);
}

VdHostInfo *
vd_host_info_probe(const char *root)
{
    VdHostInfo *info = g_new0(VdHostInfo, 1);

    info->facts.vhost_vsock = usable(root, "dev/vhost-vsock");
    info->facts.render_node = dir_has_entries(root, "dev/dri", "renderD");
    info->facts.vfio =
        usable(root, "dev/vfio/vfio") && dir_has_entries(root, "sys/kernel/iommu_groups", NULL);
    info->facts.sev =
        usable(root, "dev/sev") && param_on(root, "sys/module/kvm_amd/parameters/sev");
    info->facts.tdx = param_on(root, "sys/module/kvm_intel/parameters/tdx");
    if (!root || g_str_equal(root, "/"))
        info->swtpm = g_find_program_in_path("swtpm");
    info->facts.swtpm = info->swtpm;
    info->smbios = read_dmi(root);
    info->facts.hugepages_free_2m_kib =
        free_hugepages(root, "sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages") * 2048;
    info->facts.hugepages_free_1g_kib =
        free_hugepages(root, "sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages") * 1024 *
        1024;
    info->facts.smbios_host = (const char *const *)info->smbios;
    return info;
}

void
vd_host_info_free(VdHostInfo *info)
{
    if (!info)
        return;
    g_free(info->swtpm);
    g_strfreev(info->smbios);
    g_free(info);
}

int
vd_host_vsock_open(const char *root, guint cid, guint *out_cid, GError **error)
{
    g_autofree char *path = under(root, "dev/vhost-vsock");
    int fd = open(path, O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        int e = errno;
        g_set_error(error, VD_ERROR, e == ENOENT ? VD_ERROR_UNSUPPORTED : VD_ERROR_OPERATION_FAILED,
                    "<vsock> needs %s: %s%s", path, g_strerror(e),
                    e == ENOENT ? ": load the vhost_vsock module (modprobe vhost_vsock)" : "");
        return -1;
    }
    /* CIDs are 32-bit; 0-2 are reserved, U32_MAX is "any". */
    for (guint64 c = cid ? cid : 3; c < G_MAXUINT32; c++) {
        guint64 arg = c;
        if (ioctl(fd, VHOST_VSOCK_SET_GUEST_CID, &arg) == 0) {
            *out_cid = (guint)c;
            return fd;
        }
        if (errno != EADDRINUSE || cid) {
            int e = errno;
            g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "<vsock><cid address='%" G_GUINT64_FORMAT "'>: %s%s", c,
                        e == EADDRINUSE ? "another guest uses this context id" : g_strerror(e),
                        e == EADDRINUSE ? ": choose another address, or <cid auto='yes'>" : "");
            close(fd);
            return -1;
        }
    }
    close(fd);
    g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "<vsock>: no free context id");
    return -1;
}
