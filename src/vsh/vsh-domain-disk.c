/* A domain's disks: attach-disk, detach-disk, change-media, blockresize,
 * domblkinfo (attach-device and friends are in vsh-device.c).
 *
 * Output and messages as virsh's (tools/virsh-domain.c,
 * virsh-domain-monitor.c): "Disk attached successfully", "Successfully
 * ejected media.", "Block device 'vda' is resized", domblkinfo's
 * "Capacity:" lines. attach-disk writes the <disk> element here, as virsh
 * does, so --print-xml shows exactly what is sent; without --subdriver
 * the daemon reads the format from the image header (virsh would say raw
 * and the guest would see a qcow2 container). */
#include <string.h>

#include "util/vd-error.h"
#include "util/vd-units.h"
#include "vsh-client.h"
#include "vsh-device.h"
#include "vsh-format.h"

static const char *
opt(const VshCmd *cmd, const char *name)
{
    return vsh_cmd_get_string(cmd, name);
}

static void append(GString *s, const char *format, ...) G_GNUC_PRINTF(2, 3);
static void
append(GString *s, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    g_autofree char *e = g_markup_vprintf_escaped(format, ap);
    va_end(ap);
    g_string_append(s, e);
}

static char *
disk_xml(const VshCmd *cmd, GError **error)
{
    const char *type = opt(cmd, "type") ? opt(cmd, "type") : "disk";
    const char *stype = opt(cmd, "sourcetype") ? opt(cmd, "sourcetype") : "file";
    const char *mode = opt(cmd, "mode");
    const char *source = opt(cmd, "source");
    GString *s;

    if (!g_str_equal(type, "disk") && !g_str_equal(type, "cdrom")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Unknown source type: '%s' (--type is disk or cdrom; a format goes in "
                    "--subdriver)",
                    type);
        return NULL;
    }
    if (!g_str_equal(stype, "file") && !g_str_equal(stype, "block")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Unknown source type: '%s' (--sourcetype is file or block)", stype);
        return NULL;
    }
    if (mode && !g_str_equal(mode, "readonly") && !g_str_equal(mode, "shareable")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "No support for %s in command "
                    "'attach-disk'",
                    mode);
        return NULL;
    }
    s = g_string_new(NULL);
    append(s, "<disk type='%s' device='%s'>\n", stype, type);
    if (opt(cmd, "driver") || opt(cmd, "subdriver") || opt(cmd, "cache")) {
        append(s, "  <driver name='%s'", opt(cmd, "driver") ? opt(cmd, "driver") : "qemu");
        if (opt(cmd, "subdriver"))
            append(s, " type='%s'", opt(cmd, "subdriver"));
        if (opt(cmd, "cache"))
            append(s, " cache='%s'", opt(cmd, "cache"));
        g_string_append(s, "/>\n");
    }
    if (source && *source)
        append(s, "  <source %s='%s'/>\n", g_str_equal(stype, "block") ? "dev" : "file", source);
    append(s, "  <target dev='%s'", opt(cmd, "target"));
    if (opt(cmd, "targetbus"))
        append(s, " bus='%s'", opt(cmd, "targetbus"));
    g_string_append(s, "/>\n");
    if (mode)
        append(s, "  <%s/>\n", mode);
    if (opt(cmd, "serial"))
        append(s, "  <serial>%s</serial>\n", opt(cmd, "serial"));
    g_string_append(s, "</disk>\n");
    return g_string_free(s, FALSE);
}

static gboolean
cmd_attach_disk(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    g_autofree char *xml = disk_xml(cmd, error);
    if (!xml)
        return FALSE;
    if (vsh_cmd_has(cmd, "print-xml")) {
        vsh_print(ctl, "%s", xml);
        return TRUE;
    }
    return vsh_post_device(ctl, cmd, xml, VSH_DEVICE_ATTACH, "Disk attached successfully\n", error);
}

/* POST .../devices/detach with ?boot_disk=1 added when asked. */
static gboolean
cmd_detach_disk(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    g_autofree char *xml =
        g_markup_printf_escaped("<disk><target dev='%s'/></disk>\n", opt(cmd, "target"));

    if (vsh_cmd_has(cmd, "print-xml")) {
        vsh_print(ctl, "%s", xml);
        return TRUE;
    }
    return vsh_post_device_with(ctl, cmd, xml, VSH_DEVICE_DETACH,
                                vsh_cmd_has(cmd, "boot-disk") ? "boot_disk=1" : NULL,
                                "Disk detached successfully\n", error);
}

static gboolean
cmd_change_media(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = opt(cmd, "domain");
    gboolean eject = vsh_cmd_has(cmd, "eject"), insert = vsh_cmd_has(cmd, "insert");
    gboolean update = vsh_cmd_has(cmd, "update");
    const char *source = opt(cmd, "source");
    VshAffect affect = {0};
    g_autofree char *query = NULL;

    if (eject + insert + update > 1) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Options --eject, --insert and --update are mutually exclusive");
        return FALSE;
    }
    if (!eject && !insert && !update)
        update = TRUE; /* virsh: --update when none is given */
    if (eject && source) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "source can only be used with "
                    "--insert or --update");
        return FALSE;
    }
    if (insert && !source) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "No disk source specified for inserting media");
        return FALSE;
    }
    if (!vsh_affect_from_cmd(cmd, FALSE, &affect, error) ||
        !(query = vsh_affect_query(ctl, dom, &affect, error)))
        return FALSE;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "action");
    json_builder_add_string_value(b, eject ? "eject" : insert ? "insert" : "update");
    if (source) {
        json_builder_set_member_name(b, "source");
        json_builder_add_string_value(b, source);
    }
    json_builder_set_member_name(b, "force");
    json_builder_add_boolean_value(b, vsh_cmd_has(cmd, "force"));
    json_builder_end_object(b);
    g_autoptr(JsonNode) body = json_builder_get_root(b);
    g_autofree char *target = g_uri_escape_string(opt(cmd, "path"), NULL, FALSE);
    g_autofree char *suffix = g_strdup_printf("/disks/%s/media%s", target, query);
    g_autoptr(JsonNode) answer = vsh_domain_call(ctl, "POST", dom, suffix, body, error);
    if (!answer)
        return FALSE;
    vsh_print_extra(ctl, "%s",
                    eject    ? "Successfully ejected media.\n"
                    : insert ? "Successfully inserted media.\n"
                             : "Successfully updated media.\n");
    return TRUE;
}

static gboolean
cmd_blockresize(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    guint64 bytes;
    /* virsh: a bare number is KiB. */
    if (!vd_size_parse(opt(cmd, "size"), "KiB", &bytes, error))
        return FALSE;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "size");
    json_builder_add_int_value(b, (gint64)bytes);
    json_builder_set_member_name(b, "shrink");
    json_builder_add_boolean_value(b, vsh_cmd_has(cmd, "shrink"));
    json_builder_end_object(b);
    g_autoptr(JsonNode) body = json_builder_get_root(b);
    g_autofree char *target = g_uri_escape_string(opt(cmd, "path"), NULL, FALSE);
    g_autofree char *suffix = g_strdup_printf("/disks/%s/resize", target);
    g_autoptr(JsonNode) answer =
        vsh_domain_call(ctl, "POST", opt(cmd, "domain"), suffix, body, error);
    if (!answer)
        return FALSE;
    vsh_print_extra(ctl, "Block device '%s' is resized\n", opt(cmd, "path"));
    return TRUE;
}

static char *
size_text(gint64 value, gboolean human)
{
    return human ? vd_size_format_pretty((guint64)value)
                 : g_strdup_printf("%" G_GINT64_FORMAT, value);
}

/* --all: every disk of the domain in virsh's table; "-" for a disk with
 * no media. */
static gboolean
domblkinfo_all(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    const char *dom = opt(cmd, "domain");
    gboolean human = vsh_cmd_has(cmd, "human");
    g_autoptr(JsonNode) list = vsh_domain_call(ctl, "GET", dom, "/disks", NULL, error);
    if (!list)
        return FALSE;
    JsonArray *disks = vsh_json_array(vsh_json_root(list), "disks");
    g_autoptr(VshTable) table = vsh_table_new("Target", "Capacity", "Allocation", "Physical", NULL);
    for (guint i = 0; disks && i < json_array_get_length(disks); i++) {
        JsonObject *disk = vsh_json_array_object(disks, i);
        const char *target = vsh_json_string(disk, "target", "");
        g_autofree char *esc = g_uri_escape_string(target, NULL, FALSE);
        g_autofree char *suffix = g_strdup_printf("/disks/%s/info", esc);
        g_autoptr(GError) local = NULL;
        g_autoptr(JsonNode) info = vsh_json_string(disk, "source", NULL)
                                       ? vsh_domain_call(ctl, "GET", dom, suffix, NULL, &local)
                                       : NULL;
        JsonObject *o = info ? vsh_json_root(info) : NULL;
        g_autofree char *c = o ? size_text(vsh_json_int(o, "capacity", 0), human) : g_strdup("-");
        g_autofree char *a = o ? size_text(vsh_json_int(o, "allocation", 0), human) : g_strdup("-");
        g_autofree char *p = o ? size_text(vsh_json_int(o, "physical", 0), human) : g_strdup("-");
        const char *row[] = {target, c, a, p};
        vsh_table_add_row(table, row);
    }
    g_autofree char *text = vsh_table_render(table, !ctl->quiet);
    vsh_print(ctl, "%s", text);
    return TRUE;
}

static gboolean
cmd_domblkinfo(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    if (vsh_cmd_has(cmd, "all"))
        return domblkinfo_all(ctl, cmd, error);
    if (!opt(cmd, "device")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "command 'domblkinfo' requires <device> option");
        return FALSE;
    }
    g_autofree char *target = g_uri_escape_string(opt(cmd, "device"), NULL, FALSE);
    g_autofree char *suffix = g_strdup_printf("/disks/%s/info", target);
    g_autoptr(JsonNode) answer =
        vsh_domain_call(ctl, "GET", opt(cmd, "domain"), suffix, NULL, error);
    if (!answer)
        return FALSE;
    JsonObject *root = vsh_json_root(answer);
    gboolean human = vsh_cmd_has(cmd, "human");
    static const char *const labels[] = {"Capacity:", "Allocation:", "Physical:"};
    static const char *const members[] = {"capacity", "allocation", "physical"};
    for (guint i = 0; i < G_N_ELEMENTS(labels); i++) {
        g_autofree char *v = size_text(vsh_json_int(root, members[i], 0), human);
        vsh_print(ctl, "%-15s %s\n", labels[i], v);
    }
    return TRUE;
}

static const VshOptDef opts_attach_disk[] = {
    VSH_OPT_DOMAIN,
    {"source", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_FILE,
     "source of disk device or name of network disk"},
    {"target", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "target of disk device"},
    {"targetbus", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "target bus of disk device"},
    {"driver", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "driver of disk device"},
    {"subdriver", VSH_OT_STRING, 0, VSH_COMPLETE_NONE,
     "subdriver of disk device (the image header's format when absent)"},
    {"cache", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "cache mode of disk device"},
    {"type", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "target device type (disk, cdrom)"},
    {"mode", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "mode of device reading and writing"},
    {"sourcetype", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "type of source (block|file)"},
    {"serial", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "serial of disk device"},
    {"print-xml", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "print XML document rather than attach the disk"},
    VSH_OPTS_AFFECT,
    {NULL},
};

static const VshOptDef opts_detach_disk[] = {
    VSH_OPT_DOMAIN,
    {"target", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "target of disk device"},
    {"boot-disk", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "detach the disk the running guest booted from"},
    {"print-xml", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "print XML document rather than detach the disk"},
    VSH_OPTS_AFFECT,
    {NULL},
};

static const VshOptDef opts_change_media[] = {
    VSH_OPT_DOMAIN,
    {"path", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "Fully-qualified path or target of disk device"},
    {"source", VSH_OT_STRING, VSH_OPT_POSITIONAL, VSH_COMPLETE_FILE, "source of the media"},
    {"eject", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "Eject the media"},
    {"insert", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "Insert the media"},
    {"update", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "Update the media"},
    {"force", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "force media changing"},
    VSH_OPTS_AFFECT_NO_PERSISTENT,
    {NULL},
};

static const VshOptDef opts_blockresize[] = {
    VSH_OPT_DOMAIN,
    {"path", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "Fully-qualified path of block device"},
    {"size", VSH_OT_STRING, VSH_OPT_REQUIRED | VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE,
     "New size of the block device, as scaled integer (default KiB)"},
    {"shrink", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "allow a smaller size (the data past the new end may be lost)"},
    {NULL},
};

static const VshOptDef opts_domblkinfo[] = {
    VSH_OPT_DOMAIN,
    {"device", VSH_OT_STRING, VSH_OPT_POSITIONAL, VSH_COMPLETE_NONE, "block device"},
    {"human", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "Human readable output"},
    {"all", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "display all block devices info"},
    {NULL},
};

const VshCmdDef vsh_domain_disk_commands[] = {
    {"attach-disk", "domain", opts_attach_disk, cmd_attach_disk, "attach disk device",
     "Attach a new disk device; without --subdriver its format is read from the image."},
    {"detach-disk", "domain", opts_detach_disk, cmd_detach_disk, "detach disk device",
     "Detach a disk device; the disk a running guest booted from needs --boot-disk."},
    {"change-media", "domain", opts_change_media, cmd_change_media,
     "Change media of CD or floppy drive", "Change media of CD or floppy drive."},
    {"blockresize", "domain", opts_blockresize, cmd_blockresize, "Resize block device of domain.",
     "Resize block device of domain (grow; --shrink to shrink)."},
    {"domblkinfo", "monitor", opts_domblkinfo, cmd_domblkinfo,
     "domain block device size information", "Get block device size info for a domain."},
    {NULL},
};
