/* The argv builder's part for the domain's SMBIOS/sysinfo, watchdogs, vsock, controllers, and what
 * this host cannot give (hostdev, launchSecurity, GL) (issue 10). See conf/domain-platform.h for
 * the model; controllers are built before the devices that sit on them (qemu-command-controller.c).
 *
 * What the host lacks is refused here, from VdHostFacts, before QEMU
 * runs: the message names the missing piece and the fix, where QEMU would
 * only say "Could not open '/dev/vhost-vsock'". */
#include "conf/domain-cpu-ext.h"
#include "conf/domain-platform.h"
#include "qemu/qemu-command-priv.h"

#include "conf/domain-memory.h"
#include <string.h>

#include "util/vd-error.h"
#include "util/vd-names.h"

static const VdHostFacts no_host_facts = {0};

static const VdHostFacts *
host_facts(VdQemuCmd *cmd)
{
    return cmd->paths->host ? cmd->paths->host : &no_host_facts;
}

/* ---- what the host cannot give ---- */

static gboolean
check_launch_security(VdQemuCmd *cmd, GError **error)
{
    const char *type = cmd->def->platform->launch_security;
    const VdHostFacts *host = host_facts(cmd);

    if (!type)
        return TRUE;
    if (g_str_equal(type, "sev") || g_str_equal(type, "sev-snp")) {
        if (!host->sev)
            return vd_set_unsupported(
                error,
                "<launchSecurity type='%s'> needs AMD SEV on the host: this host "
                "has none (no /dev/sev, or kvm_amd loaded without sev=1); remove "
                "<launchSecurity> to run the guest unencrypted",
                type);
    } else if (g_str_equal(type, "tdx")) {
        if (!host->tdx)
            return vd_set_unsupported(
                error, "<launchSecurity type='tdx'> needs Intel TDX on the host: this "
                       "host has none (kvm_intel without tdx=1); remove "
                       "<launchSecurity> to run the guest unencrypted");
    } else if (g_str_equal(type, "s390-pv")) {
        return vd_set_unsupported(
            error, "<launchSecurity type='s390-pv'> needs an s390x host with Protected "
                   "Virtualization: virtd runs x86_64 guests");
    } else {
        return vd_set_unsupported(
            error,
            "<launchSecurity type='%s'> is unknown: libvirt knows sev, sev-snp, "
            "tdx and s390-pv",
            type);
    }
    if (!cmd->kvm)
        return vd_set_unsupported(
            error, "<launchSecurity type='%s'> needs KVM: use <domain type='kvm'>", type);
    return vd_set_unsupported(
        error,
        "<launchSecurity type='%s'> is not supported by virtd yet, although this "
        "host has it; remove <launchSecurity> to run the guest unencrypted",
        type);
}

static gboolean
check_hostdevs(VdQemuCmd *cmd, GError **error)
{
    const GPtrArray *hostdevs = cmd->def->platform->hostdevs;
    const VdHostFacts *host = host_facts(cmd);

    for (guint i = 0; i < hostdevs->len; i++) {
        const VdHostdevDef *h = g_ptr_array_index(hostdevs, i);
        const char *type = h->type ? h->type : "";
        if (g_strcmp0(h->mode, "capabilities") == 0)
            return vd_set_unsupported(error,
                                      "<hostdev mode='capabilities' type='%s'> gives a container "
                                      "host devices: QEMU guests take mode='subsystem' only",
                                      type);
        if (g_str_equal(type, "usb"))
            /* QEMU's usb-host needs no VFIO, but the daemon would have to
             * find the device and open its /dev/bus/usb node for QEMU. */
            return vd_set_unsupported(error,
                                      "<hostdev type='usb'> (USB passthrough) is not supported by "
                                      "virtd yet: remove it, or share the device over the network "
                                      "(usbip)");
        if (g_str_equal(type, "scsi") || g_str_equal(type, "scsi_host"))
            return vd_set_unsupported(
                error,
                "<hostdev type='%s'> (SCSI passthrough) is not supported by virtd "
                "yet: give the LUN as a <disk type='block' device='lun'>",
                type);
        if (!host->vfio)
            return vd_set_unsupported(
                error,
                "<hostdev type='%s'> needs VFIO: this host has no /dev/vfio/vfio "
                "with IOMMU groups (enable the IOMMU with intel_iommu=on or "
                "amd_iommu=on and load vfio-pci), so its devices cannot be "
                "given to a guest",
                type);
        return vd_set_unsupported(
            error,
            "<hostdev type='%s'> (VFIO passthrough) is not supported by virtd "
            "yet, although this host has VFIO",
            type);
    }
    return TRUE;
}

static gboolean
check_gl(VdQemuCmd *cmd, GError **error)
{
    const char *what = cmd->def->platform->gl_what;

    if (!what)
        return TRUE;
    if (!host_facts(cmd)->render_node)
        return vd_set_unsupported(
            error,
            "%s needs a render node (/dev/dri/renderD*) for OpenGL: this host has "
            "none (no GPU with a DRM driver); remove the GL acceleration to use "
            "a 2D display",
            what);
    return vd_set_unsupported(
        error,
        "%s (OpenGL acceleration) is not supported by virtd yet, although this "
        "host has a render node; remove it to use a 2D display",
        what);
}

/* ---- memory backing ---- */

gboolean
vd_qemu_platform_memfd(const VdDomainDef *def)
{
    const VdMemoryBackingDef *m = &def->platform->mem;
    return !m->hugepages &&
           (g_strcmp0(m->source, "memfd") == 0 || g_strcmp0(m->source, "file") == 0 ||
            g_strcmp0(m->access, "shared") == 0);
}

static gboolean
check_memory_backing(VdQemuCmd *cmd, GError **error)
{
    const VdMemoryBackingDef *m = &cmd->def->platform->mem;
    const VdHostFacts *host = host_facts(cmd);

    if (m->hugepages) {
        guint64 page = m->hugepage_kib ? m->hugepage_kib : 2048;
        guint64 need = cmd->def->memory_kib;
        guint64 free_kib = page == 2048          ? host->hugepages_free_2m_kib
                           : page == 1024 * 1024 ? host->hugepages_free_1g_kib
                                                 : 0;
        if (page != 2048 && page != 1024 * 1024)
            return vd_set_unsupported(error,
                                      "<memoryBacking><hugepages><page size='%" G_GUINT64_FORMAT
                                      "' unit='KiB'>: x86 huge pages are 2048 KiB or 1048576 KiB",
                                      page);
        if (free_kib < need)
            return vd_set_unsupported(
                error,
                "<memoryBacking><hugepages> needs %" G_GUINT64_FORMAT
                " MiB of free %" G_GUINT64_FORMAT
                " KiB huge pages: this host has %" G_GUINT64_FORMAT
                " MiB free (/sys/kernel/mm/hugepages/hugepages-%" G_GUINT64_FORMAT
                "kB/free_hugepages); reserve more (sysctl vm.nr_hugepages) or "
                "remove <hugepages>",
                need / 1024, page, free_kib / 1024, page);
        return vd_set_unsupported(
            error, "<memoryBacking><hugepages> is not supported by virtd yet, although "
                   "this host has the pages free; remove <hugepages>");
    }
    if (vd_qemu_platform_memfd(cmd->def) && cmd->def->cpu_ext->numa_cells &&
        cmd->def->cpu_ext->numa_cells->len > 0)
        return vd_set_unsupported(
            error, "<memoryBacking> with shared or memfd memory and NUMA cells is not "
                   "supported yet: remove <source>/<access> or the <numa> cells");
    return TRUE;
}

/* Shared or memfd RAM: one memfd object as the machine's RAM (the
 * machine option names it, emit_machine in qemu-command.c); what a
 * vhost-user device or virtiofs needs from libvirt's <access
 * mode='shared'>. A 'file' source gets a memfd too: the guest sees the
 * same memory, and virtd keeps no memory backing directory. */
static void
build_memory_backing(VdQemuCmd *cmd)
{
    const VdMemoryBackingDef *m = &cmd->def->platform->mem;

    if (!vd_qemu_platform_memfd(cmd->def))
        return;
    if (g_strcmp0(m->source, "file") == 0)
        vd_qemu_cmd_note(cmd, "<memoryBacking><source type='file'> backed by memfd instead: "
                              "the guest sees the same memory");
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "qom-type", "memory-backend-memfd");
    json_object_set_string_member(o, "id", VD_QEMU_RAM_ID);
    json_object_set_int_member(o, "size", /* -m size=: without the memory devices */
                               (gint64)((cmd->def->memory_kib -
                                         vd_domain_memory_devices_kib(cmd->def)) * 1024));
    json_object_set_boolean_member(o, "share", g_strcmp0(m->access, "shared") == 0);
    vd_qemu_cmd_opt_json(cmd, "-object", o);
}

/* ---- SMBIOS and fw_cfg ---- */

static void
append_kv(GString *s, const char *key, const char *value)
{
    g_autofree char *esc = vd_qemu_escape_opt(value ? value : "");
    g_string_append_printf(s, ",%s=%s", key, esc);
}

/* One -smbios type=N for the entries of @type in @entries (VdSysinfoEntry*). */
static gboolean
emit_smbios_type(VdQemuCmd *cmd, const GPtrArray *entries, guint type, gboolean skip_uuid,
                 GError **error)
{
    g_autoptr(GString) s = g_string_new(NULL);
    guint n = 0;

    g_string_printf(s, "type=%u", type);
    for (guint i = 0; i < entries->len; i++) {
        const VdSysinfoEntry *e = g_ptr_array_index(entries, i);
        g_autofree char *what = NULL;
        if (e->type != type)
            continue;
        what = g_strdup_printf("<sysinfo><%s><entry>", vd_sysinfo_section_name(type));
        if (!vd_qemu_check_utf8(e->value ? e->value : "", what, error))
            return FALSE;
        if (type == 11) {
            append_kv(s, "value", e->value);
        } else if (g_str_equal(e->name, "uuid")) {
            char canon[37];
            if (skip_uuid)
                continue;
            /* One machine, one UUID: QEMU's -uuid is the domain's. */
            if (!vd_uuid_parse(e->value ? e->value : "", canon) ||
                g_ascii_strcasecmp(canon, cmd->def->uuid) != 0) {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "<sysinfo><system><entry name='uuid'> '%s' differs from the "
                            "domain's <uuid> %s: remove the entry or make them equal",
                            e->value ? e->value : "", cmd->def->uuid);
                return FALSE;
            }
            append_kv(s, "uuid", canon);
        } else {
            append_kv(s, e->name, e->value);
        }
        n++;
    }
    if (n > 0)
        vd_qemu_cmd_opt(cmd, "-smbios", s->str);
    return TRUE;
}

static gboolean
build_smbios(VdQemuCmd *cmd, GError **error)
{
    const VdPlatformDef *p = cmd->def->platform;
    static const guint types[] = {0, 1, 2, 3, 11};

    switch (p->smbios_mode) {
    case VD_SMBIOS_NONE:
        if (p->sysinfo->len)
            vd_qemu_cmd_note(cmd, "<sysinfo type='smbios'> not given to the guest: "
                                  "<os><smbios mode='sysinfo'/> is absent (as with libvirt, "
                                  "the guest sees QEMU's own SMBIOS tables)");
        return TRUE;
    case VD_SMBIOS_EMULATE:
        return TRUE;
    case VD_SMBIOS_SYSINFO:
        for (guint i = 0; i < G_N_ELEMENTS(types); i++)
            if (!emit_smbios_type(cmd, p->sysinfo, types[i], FALSE, error))
                return FALSE;
        return TRUE;
    case VD_SMBIOS_HOST: {
        const char *const *pairs = host_facts(cmd)->smbios_host;
        if (!pairs)
            return vd_set_unsupported(
                error, "<os><smbios mode='host'> needs the host's SMBIOS tables, and "
                       "/sys/class/dmi/id cannot be read on this host: use "
                       "mode='sysinfo' with a <sysinfo> of your own, or mode='emulate'");
        g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; pairs[i] && pairs[i + 1]; i += 2) {
            const char *dot = strchr(pairs[i], '.');
            if (!dot)
                continue;
            VdSysinfoEntry *e = g_new0(VdSysinfoEntry, 1);
            for (guint t = 0; t < G_N_ELEMENTS(types); t++)
                if (strncmp(pairs[i], vd_sysinfo_section_name(types[t]), dot - pairs[i]) == 0 &&
                    vd_sysinfo_section_name(types[t])[dot - pairs[i]] == 0)
                    e->type = types[t];
            e->name = g_strdup(dot + 1);
            e->value = g_strdup(pairs[i + 1]);
            g_ptr_array_add(strings, e->name);
            g_ptr_array_add(strings, e->value);
            g_ptr_array_add(entries, e);
        }
        /* The host's UUID is the host's: the guest keeps its own. */
        for (guint i = 0; i < G_N_ELEMENTS(types); i++)
            if (!emit_smbios_type(cmd, entries, types[i], TRUE, error))
                return FALSE;
        return TRUE;
    }
    }
    return TRUE;
}

static gboolean
build_fwcfg(VdQemuCmd *cmd, GError **error)
{
    const GPtrArray *fwcfg = cmd->def->platform->fwcfg;

    for (guint i = 0; i < fwcfg->len; i++) {
        const VdFwCfgEntry *e = g_ptr_array_index(fwcfg, i);
        g_autofree char *name = vd_qemu_escape_opt(e->name);
        g_autofree char *spec = NULL;
        if (!vd_qemu_check_utf8(e->name, "<sysinfo type='fwcfg'><entry name=>", error))
            return FALSE;
        if (e->file) {
            if (!vd_qemu_check_path(e->file, "<sysinfo type='fwcfg'><entry file=>", error))
                return FALSE;
            g_autofree char *file = vd_qemu_escape_opt(e->file);
            spec = g_strdup_printf("name=%s,file=%s", name, file);
        } else {
            if (!vd_qemu_check_utf8(e->value ? e->value : "", "<sysinfo type='fwcfg'><entry>",
                                    error))
                return FALSE;
            g_autofree char *value = vd_qemu_escape_opt(e->value ? e->value : "");
            spec = g_strdup_printf("name=%s,string=%s", name, value);
        }
        vd_qemu_cmd_opt(cmd, "-fw_cfg", spec);
    }
    return TRUE;
}

/* ---- watchdog ---- */

static gboolean
build_watchdogs(VdQemuCmd *cmd, GError **error)
{
    const GPtrArray *watchdogs = cmd->def->platform->watchdogs;
    const char *action = NULL;

    for (guint i = 0; i < watchdogs->len; i++) {
        const VdWatchdogDef *w = g_ptr_array_index(watchdogs, i);
        const char *a = w->action ? w->action : "reset";
        g_autofree char *what = g_strdup_printf("<watchdog model='%s'>", w->model);

        if (g_str_equal(w->model, "itco")) {
            /* The TCO watchdog is part of q35's ICH9 LPC bridge; QEMU keeps
             * it from rebooting the machine unless told otherwise. */
            if (!cmd->q35)
                return vd_set_unsupported(
                    error,
                    "%s is the watchdog of q35's ICH9 chipset and machine '%s' "
                    "has none: use machine q35 or model 'i6300esb'",
                    what, cmd->machine);
            vd_qemu_cmd_opt(cmd, "-global", "ICH9-LPC.noreboot=off");
        } else if (g_str_equal(w->model, "diag288")) {
            return vd_set_unsupported(error, "%s is the s390x watchdog: use model 'i6300esb'",
                                      what);
        } else {
            const char *driver = w->model; /* i6300esb, ib700: QEMU's own names */
            if (!vd_qemu_cmd_need_device(cmd, driver, what, error))
                return FALSE;
            g_autofree char *id = g_strdup_printf("watchdog%u", i);
            JsonObject *o = json_object_new();
            json_object_set_string_member(o, "driver", driver);
            json_object_set_string_member(o, "id", id);
            vd_qemu_cmd_opt_json(cmd, "-device", o);
        }
        if (action && !g_str_equal(action, a))
            return vd_set_unsupported(
                error,
                "the watchdogs ask for different actions ('%s' and '%s'): QEMU "
                "has one action for all of them",
                action, a);
        action = a;
    }
    if (!action)
        return TRUE;
    /* QEMU's names, but for libvirt's 'dump', which dumps the guest's
     * memory and resumes it: virtd writes no dumps, so the guest stays
     * paused for inspection (vsh resume goes on). */
    const char *qemu_action = action;
    if (g_str_equal(action, "dump")) {
        qemu_action = "pause";
        vd_qemu_cmd_note(cmd, "<watchdog action='dump'> pauses the domain instead: virtd "
                              "writes no memory dumps (resume it with 'vsh resume')");
    }
    g_autofree char *spec = g_strdup_printf("watchdog=%s", qemu_action);
    vd_qemu_cmd_opt(cmd, "-action", spec);
    return TRUE;
}

/* ---- vsock ---- */

static gboolean
build_vsocks(VdQemuCmd *cmd, GError **error)
{
    const GPtrArray *vsocks = cmd->def->platform->vsocks;

    if (vsocks->len == 0)
        return TRUE;
    if (vsocks->len > 1)
        return vd_set_unsupported(error, "a domain has at most one <vsock>, this one has %u",
                                  vsocks->len);
    const VdVsockDef *v = g_ptr_array_index(vsocks, 0);
    if (!host_facts(cmd)->vhost_vsock)
        return vd_set_unsupported(error,
                                  "<vsock> needs /dev/vhost-vsock, which this host lacks: load "
                                  "the vhost_vsock module (modprobe vhost_vsock)");
    guint cid = v->auto_cid ? cmd->paths->vsock_cid : v->cid;
    if (cid < 3)
        return vd_set_unsupported(error,
                                  "<vsock><cid auto='yes'>: no guest CID was reserved for it");
    if (!vd_qemu_cmd_need_device(cmd, "vhost-vsock-pci", "<vsock>", error))
        return FALSE;
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "driver", "vhost-vsock-pci");
    json_object_set_string_member(o, "id", "vsock0");
    json_object_set_int_member(o, "guest-cid", cid);
    if (cmd->paths->vsock_fd > 0) {
        g_autofree char *fd = g_strdup_printf("%d", cmd->paths->vsock_fd);
        json_object_set_string_member(o, "vhostfd", fd);
    }
    vd_qemu_cmd_opt_json(cmd, "-device", o);
    return TRUE;
}

gboolean
vd_qemu_check_host_needs(VdQemuCmd *cmd, GError **error)
{
    return check_launch_security(cmd, error) && check_hostdevs(cmd, error) &&
           check_gl(cmd, error) && check_memory_backing(cmd, error);
}

gboolean
vd_qemu_build_platform(VdQemuCmd *cmd, GError **error)
{
    build_memory_backing(cmd);
    return build_smbios(cmd, error) && build_fwcfg(cmd, error) && build_watchdogs(cmd, error) &&
           build_vsocks(cmd, error);
}
