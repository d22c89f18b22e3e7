/* The two domain XMLs of an install, as virt-install writes them: the
 * final one (what `vsh dumpxml` shows afterwards) and the install phase,
 * which differs only in <os> (cdrom first, or the installer's kernel),
 * the install media and on_reboot=destroy.
 *
 * vsh does not link conf/ (it talks only to the API), so the XML is
 * written here; every value goes through g_markup_printf_escaped, which
 * escapes quotes too, so a path or name cannot break out of its attribute. */
#include <string.h>

#include "vsh-install.h"

void
vsh_install_plan_clear(VshInstallPlan *plan)
{
    g_clear_pointer(&plan->name, g_free);
    g_clear_pointer(&plan->uuid, g_free);
    vsh_install_cpu_clear(&plan->cpu);
    g_clear_pointer(&plan->disks, g_ptr_array_unref);
    g_clear_pointer(&plan->nets, g_ptr_array_unref);
    vsh_install_graphics_clear(&plan->graphics);
    vsh_install_boot_clear(&plan->boot);
    g_clear_pointer(&plan->cdrom, g_free);
    g_clear_pointer(&plan->install_kernel, g_free);
    g_clear_pointer(&plan->install_initrd, g_free);
    g_clear_pointer(&plan->install_cmdline, g_free);
}

static void G_GNUC_PRINTF(3, 4) add(GString *s, int indent, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *line = NULL;

    va_start(ap, fmt);
    line = g_markup_vprintf_escaped(fmt, ap);
    va_end(ap);
    for (int i = 0; i < indent; i++)
        g_string_append(s, "  ");
    g_string_append(s, line);
    g_string_append_c(s, '\n');
}

typedef enum {
    PHASE_FINAL,
    PHASE_INSTALL,
} Phase;

static void
write_os(GString *s, const VshInstallPlan *p, Phase phase)
{
    const VshInstallBoot *boot = &p->boot;
    gboolean install = phase == PHASE_INSTALL;

    add(s, 1, "<os>");
    add(s, 2, "<type arch='x86_64' machine='pc'>hvm</type>");
    if (install && p->method == VSH_INSTALL_LOCATION) {
        add(s, 2, "<kernel>%s</kernel>", p->install_kernel);
        add(s, 2, "<initrd>%s</initrd>", p->install_initrd);
        if (p->install_cmdline)
            add(s, 2, "<cmdline>%s</cmdline>", p->install_cmdline);
    } else if (boot->kernel) {
        add(s, 2, "<kernel>%s</kernel>", boot->kernel);
        if (boot->initrd)
            add(s, 2, "<initrd>%s</initrd>", boot->initrd);
        if (boot->kernel_args)
            add(s, 2, "<cmdline>%s</cmdline>", boot->kernel_args);
    }
    if (install && p->method == VSH_INSTALL_CDROM) {
        add(s, 2, "<boot dev='cdrom'/>");
        add(s, 2, "<boot dev='hd'/>");
    } else if (boot->devs && boot->devs->len) {
        for (guint i = 0; i < boot->devs->len; i++)
            add(s, 2, "<boot dev='%s'/>", (const char *)g_ptr_array_index(boot->devs, i));
    } else if (!boot->kernel && !(install && p->method == VSH_INSTALL_LOCATION)) {
        add(s, 2, "<boot dev='hd'/>");
    }
    add(s, 1, "</os>");
}

static void
write_disk(GString *s, const VshInstallDisk *d, gboolean media, int indent)
{
    const char *bus = d->bus ? d->bus : d->cdrom ? "ide" : "virtio";
    const char *type = d->format ? d->format : d->cdrom ? "raw" : NULL;
    g_autoptr(GString) driver = g_string_new(NULL);

    add(s, indent, "<disk type='file' device='%s'>", d->cdrom ? "cdrom" : "disk");
    for (int i = 0; i < indent + 1; i++)
        g_string_append(driver, "  ");
    g_string_append(driver, "<driver name='qemu'");
    if (type) {
        g_autofree char *t = g_markup_printf_escaped(" type='%s'", type);

        g_string_append(driver, t);
    }
    if (d->cache) {
        g_autofree char *c = g_markup_printf_escaped(" cache='%s'", d->cache);

        g_string_append(driver, c);
    }
    g_string_append(driver, "/>\n");
    g_string_append(s, driver->str);
    if (media && d->path)
        add(s, indent + 1, "<source file='%s'/>", d->path);
    add(s, indent + 1, "<target dev='%s' bus='%s'/>", d->target, bus);
    if (d->cdrom || d->readonly)
        add(s, indent + 1, "<readonly/>");
    add(s, indent, "</disk>");
}

static void
write_interface(GString *s, const VshInstallNetwork *n, int indent)
{
    static const char *const types[] = {
        [VSH_NET_NETWORK] = "network", [VSH_NET_BRIDGE] = "bridge", [VSH_NET_DIRECT] = "direct",
        [VSH_NET_USER] = "user",       [VSH_NET_DEFAULT] = "user",
    };

    if (n->kind == VSH_NET_NONE)
        return;
    add(s, indent, "<interface type='%s'>", types[n->kind]);
    if (n->mac)
        add(s, indent + 1, "<mac address='%s'/>", n->mac);
    if (n->kind == VSH_NET_NETWORK)
        add(s, indent + 1, "<source network='%s'/>", n->source);
    else if (n->kind == VSH_NET_BRIDGE)
        add(s, indent + 1, "<source bridge='%s'/>", n->source);
    else if (n->kind == VSH_NET_DIRECT && n->source_mode)
        add(s, indent + 1, "<source dev='%s' mode='%s'/>", n->source, n->source_mode);
    else if (n->kind == VSH_NET_DIRECT)
        add(s, indent + 1, "<source dev='%s'/>", n->source);
    add(s, indent + 1, "<model type='%s'/>", n->model ? n->model : "virtio");
    add(s, indent, "</interface>");
}

char *
vsh_install_xml_disk(const VshInstallDisk *disk)
{
    GString *s = g_string_new(NULL);

    write_disk(s, disk, TRUE, 0);
    return g_string_free(s, FALSE);
}

char *
vsh_install_xml_interface(const VshInstallNetwork *net)
{
    GString *s = g_string_new(NULL);

    write_interface(s, net, 0);
    return g_string_free(s, FALSE);
}

static char *
write_xml(const VshInstallPlan *p, Phase phase)
{
    GString *s = g_string_new(NULL);
    gboolean install = phase == PHASE_INSTALL;

    add(s, 0, "<domain type='%s'>", p->virt_type);
    add(s, 1, "<name>%s</name>", p->name);
    add(s, 1, "<uuid>%s</uuid>", p->uuid);
    add(s, 1, "<memory unit='MiB'>%" G_GUINT64_FORMAT "</memory>", p->max_memory_mib);
    add(s, 1, "<currentMemory unit='MiB'>%" G_GUINT64_FORMAT "</currentMemory>",
        p->memory_mib);
    if (p->max_vcpus != p->vcpus)
        add(s, 1, "<vcpu placement='static' current='%u'>%u</vcpu>", p->vcpus, p->max_vcpus);
    else
        add(s, 1, "<vcpu placement='static'>%u</vcpu>", p->vcpus);
    write_os(s, p, phase);
    add(s, 1, "<features>");
    add(s, 2, "<acpi/>");
    add(s, 2, "<apic/>");
    add(s, 1, "</features>");
    if (p->cpu.mode && g_str_equal(p->cpu.mode, "custom"))
        add(s, 1, "<cpu mode='custom' match='exact'><model fallback='allow'>%s</model></cpu>",
            p->cpu.model);
    else if (p->cpu.mode)
        add(s, 1, "<cpu mode='%s'/>", p->cpu.mode);
    add(s, 1, "<clock offset='utc'/>");
    add(s, 1, "<on_poweroff>destroy</on_poweroff>");
    /* The installer's final reboot must end the install phase, so that
     * the next start boots the final XML from disk. */
    add(s, 1, "<on_reboot>%s</on_reboot>", install ? "destroy" : "restart");
    add(s, 1, "<on_crash>destroy</on_crash>");
    add(s, 1, "<devices>");
    for (guint i = 0; p->disks && i < p->disks->len; i++) {
        const VshInstallDisk *d = g_ptr_array_index(p->disks, i);
        /* The install ISO is ejected after the install (virt-install keeps
         * the empty drive, so media can be inserted later). */
        gboolean media = !(d->cdrom && p->cdrom && g_strcmp0(d->path, p->cdrom) == 0 &&
                           phase == PHASE_FINAL);

        write_disk(s, d, media, 2);
    }
    for (guint i = 0; p->nets && i < p->nets->len; i++)
        write_interface(s, g_ptr_array_index(p->nets, i), 2);
    add(s, 2, "<serial type='pty'>");
    add(s, 3, "<target port='0'/>");
    add(s, 2, "</serial>");
    add(s, 2, "<console type='pty'>");
    add(s, 3, "<target type='serial' port='0'/>");
    add(s, 2, "</console>");
    /* The QEMU guest agent's channel, as virt-install adds for Linux
     * guests: shutdown, fs-freeze and address queries need it; a guest
     * without the agent just leaves it unused. */
    add(s, 2, "<channel type='unix'>");
    add(s, 3, "<source mode='bind'/>");
    add(s, 3, "<target type='virtio' name='org.qemu.guest_agent.0'/>");
    add(s, 2, "</channel>");
    if (p->graphics.vnc) {
        const char *listen = p->graphics.listen ? p->graphics.listen : "127.0.0.1";

        if (p->graphics.port >= 0 && p->graphics.password)
            add(s, 2, "<graphics type='vnc' port='%d' autoport='no' listen='%s' passwd='%s'/>",
                p->graphics.port, listen, p->graphics.password);
        else if (p->graphics.port >= 0)
            add(s, 2, "<graphics type='vnc' port='%d' autoport='no' listen='%s'/>",
                p->graphics.port, listen);
        else if (p->graphics.password)
            add(s, 2, "<graphics type='vnc' port='-1' autoport='yes' listen='%s' passwd='%s'/>",
                listen, p->graphics.password);
        else
            add(s, 2, "<graphics type='vnc' port='-1' autoport='yes' listen='%s'/>", listen);
        add(s, 2, "<video>");
        add(s, 3, "<model type='vga'/>");
        add(s, 2, "</video>");
    }
    add(s, 1, "</devices>");
    add(s, 0, "</domain>");
    return g_string_free(s, FALSE);
}

char *
vsh_install_xml_final(const VshInstallPlan *plan)
{
    return write_xml(plan, PHASE_FINAL);
}

char *
vsh_install_xml_install(const VshInstallPlan *plan)
{
    if (plan->method == VSH_INSTALL_IMPORT)
        return NULL;
    return write_xml(plan, PHASE_INSTALL);
}
