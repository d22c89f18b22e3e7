/* Serial ports, consoles and channels: a -chardev back end and a -device.
 *
 * Why sockets instead of ptys: QEMU is started detached so that it
 * outlives a daemon restart, and a pty's master side would die with
 * whoever opened it. So a <serial type='pty'> becomes a unix socket QEMU
 * listens on, which the daemon (re)connects to and relays to API clients
 * with pty semantics; serial0 also logs everything the guest printed.
 *
 * -chardev only takes key=value in QEMU 7.2, so every path is escaped
 * (',' doubled) and everything else in it is a fixed word or a generated
 * id. Sockets QEMU listens on and files it writes are descriptors the
 * daemon opened (qemu-run-fds.h): QEMU creates nothing on the host.
 */
#include <string.h>

#include "qemu/qemu-command-priv.h"
#include "util/vd-error.h"

static const char *
chr_type_name(VdChrType type)
{
    switch (type) {
    case VD_CHR_PTY:
        return "pty";
    case VD_CHR_FILE:
        return "file";
    case VD_CHR_UNIX:
        return "unix";
    case VD_CHR_NULL:
        return "null";
    case VD_CHR_STDIO:
        return "stdio";
    case VD_CHR_TCP:
        return "tcp";
    case VD_CHR_UDP:
        return "udp";
    case VD_CHR_SPICEVMC:
        return "spicevmc";
    case VD_CHR_LAST:
        break;
    }
    return "?";
}

/* A socket QEMU listens on is made by the daemon and given to QEMU
 * (qemu-run-fds.h); one it connects to (<source mode='connect'>) is
 * someone else's, and QEMU connects by path. */
static char *
socket_chardev(VdQemuCmd *cmd, const char *id, const char *path, gboolean server)
{
    if (server)
        return vd_qemu_cmd_listen_chardev(cmd, id, path);
    g_autofree char *esc = vd_qemu_escape_opt(path);
    return g_strdup_printf("socket,id=%s,path=%s,server=off", id, esc);
}

/* The back end of @chr as chardev @id. @pty_path is where a pty-type
 * device listens; @logfile (serial0 only) records the guest's output. */
static gboolean
add_chardev(VdQemuCmd *cmd, const VdChrDef *chr, const char *id, const char *pty_path,
            const char *logfile, const char *what, GError **error)
{
    g_autofree char *spec = NULL;

    switch (chr->type) {
    case VD_CHR_PTY:
        if (!pty_path) {
            g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL,
                        "%s: the daemon gave no console socket path", what);
            return FALSE;
        }
        if (!vd_qemu_check_socket_path(pty_path, what, error))
            return FALSE;
        spec = socket_chardev(cmd, id, pty_path, TRUE);
        if (logfile) {
            if (!vd_qemu_check_path(logfile, what, error))
                return FALSE;
            g_autofree char *log = vd_qemu_cmd_fdset_path(cmd, VD_QEMU_FD_APPEND, logfile);
            g_autofree char *with_log = g_strdup_printf("%s,logfile=%s,logappend=on", spec, log);
            g_free(spec);
            spec = g_steal_pointer(&with_log);
        }
        break;
    case VD_CHR_FILE: {
        if (!vd_qemu_check_path(chr->path, what, error))
            return FALSE;
        /* The daemon opens it (and empties it unless appending), as QEMU
         * would have: QEMU writes into the descriptor. */
        g_autofree char *file = vd_qemu_cmd_fdset_path(
            cmd, chr->log_append ? VD_QEMU_FD_APPEND : VD_QEMU_FD_TRUNCATE, chr->path);
        spec = g_strdup_printf("file,id=%s,path=%s%s", id, file,
                               chr->log_append ? ",append=on" : "");
        break;
    }
    case VD_CHR_UNIX:
        if (!vd_qemu_check_socket_path(chr->path, what, error))
            return FALSE;
        spec = socket_chardev(cmd, id, chr->path, chr->unix_listen);
        break;
    case VD_CHR_NULL:
        spec = g_strdup_printf("null,id=%s", id);
        break;
    case VD_CHR_SPICEVMC:
        /* The SPICE agent's port (conf/ allows it on channels only). */
        spec = g_strdup_printf("spicevmc,id=%s,name=vdagent", id);
        break;
    case VD_CHR_STDIO:
    case VD_CHR_TCP:
    case VD_CHR_UDP:
    case VD_CHR_LAST:
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED, "%s: type '%s' is not supported", what,
                    chr_type_name(chr->type));
        return FALSE;
    }
    vd_qemu_cmd_opt(cmd, "-chardev", spec);
    return TRUE;
}

static gboolean
need_virtio_serial(VdQemuCmd *cmd, const char *what, GError **error)
{
    return vd_qemu_cmd_add_controller(cmd, &cmd->have_virtio_serial, "virtio-serial-pci",
                                      "virtio-serial0", what, error);
}

/* Serial @n (serial0 is the console the daemon relays and logs). */
static gboolean
build_serial(VdQemuCmd *cmd, const VdChrDef *chr, guint n, guint32 *isa_used, GError **error)
{
    g_autofree char *what = g_strdup_printf("serial port %u", n);
    g_autofree char *alias = g_strdup_printf("serial%u", n);
    g_autofree char *chardev = g_strdup_printf("charserial%u", n);
    const char *target = chr->target_type ? chr->target_type : "isa-serial";
    const char *driver;
    int isa_index = -1;

    if (g_str_equal(target, "isa-serial")) {
        driver = "isa-serial";
        isa_index = chr->target_port >= 0 ? chr->target_port : (int)n;
        if (isa_index > 3) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "%s: an ISA serial port number must be 0 to 3, not %d", what, isa_index);
            return FALSE;
        }
        if (*isa_used & (1u << isa_index)) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "%s: ISA serial port %d is used twice", what, isa_index);
            return FALSE;
        }
        *isa_used |= 1u << isa_index;
    } else if (g_str_equal(target, "pci-serial")) {
        driver = "pci-serial";
    } else if (g_str_equal(target, "usb-serial")) {
        driver = "usb-serial";
    } else {
        g_autofree char *shown = g_strescape(target, NULL);
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "%s: target type '%s' is not supported (use isa-serial, pci-serial or "
                    "usb-serial)",
                    what, shown);
        return FALSE;
    }
    if (!vd_qemu_cmd_need_device(cmd, driver, what, error))
        return FALSE;
    if (g_str_equal(driver, "usb-serial") && !vd_qemu_cmd_need_usb(cmd, what, error))
        return FALSE;

    g_autofree char *pty = vd_qemu_pty_socket_path(cmd->paths, alias);
    if (!add_chardev(cmd, chr, chardev, pty, n == 0 ? cmd->paths->console_log_path : NULL, what,
                     error))
        return FALSE;

    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "driver", driver);
    json_object_set_string_member(o, "chardev", chardev);
    json_object_set_string_member(o, "id", alias);
    if (isa_index >= 0)
        json_object_set_int_member(o, "index", isa_index);
    vd_qemu_cmd_opt_json(cmd, "-device", o);
    return TRUE;
}

static gboolean
build_console(VdQemuCmd *cmd, const VdChrDef *chr, guint n, guint32 *isa_used, GError **error)
{
    const VdDomainDef *def = cmd->def;
    const char *target = chr->target_type ? chr->target_type : "serial";
    g_autofree char *what = g_strdup_printf("console %u", n);

    if (g_str_equal(target, "serial")) {
        /* libvirt's <console> mirrors a <serial>: nothing of its own. */
        if (def->serials && def->serials->len > 0)
            return TRUE;
        if (n == 0)
            return build_serial(cmd, chr, 0, isa_used, error);
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "%s: a serial console needs a matching <serial>", what);
        return FALSE;
    }
    if (!g_str_equal(target, "virtio")) {
        g_autofree char *shown = g_strescape(target, NULL);
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "%s: target type '%s' is not supported (use serial or virtio)", what, shown);
        return FALSE;
    }
    if (!need_virtio_serial(cmd, what, error) ||
        !vd_qemu_cmd_need_device(cmd, "virtconsole", what, error))
        return FALSE;
    g_autofree char *alias = g_strdup_printf("console%u", n);
    g_autofree char *chardev = g_strdup_printf("charconsole%u", n);
    g_autofree char *pty = vd_qemu_pty_socket_path(cmd->paths, alias);
    if (!add_chardev(cmd, chr, chardev, pty, NULL, what, error))
        return FALSE;
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "driver", "virtconsole");
    json_object_set_string_member(o, "chardev", chardev);
    json_object_set_string_member(o, "id", alias);
    vd_qemu_cmd_opt_json(cmd, "-device", o);
    return TRUE;
}

char *
vd_qemu_channel_socket_path(const VdDomainDef *def, guint index, const VdQemuRunPaths *paths)
{
    if (!def->channels || index >= def->channels->len)
        return NULL;
    const VdChrDef *chr = g_ptr_array_index(def->channels, index);
    if (chr->type != VD_CHR_UNIX)
        return NULL;
    if (chr->path)
        return g_strdup(chr->path);
    if (!paths->guest_agent_dir || !chr->target_name)
        return NULL;
    /* One suffix without dots per file, so that no two domains' files
     * meet: a target name in the file name ("NAME.TARGET") would let a
     * channel named "qmp" take the place of the QMP socket, and a domain
     * named "a.b" collide with channel "b.TARGET" of domain "a". */
    g_autofree char *base = g_str_equal(chr->target_name, "org.qemu.guest_agent.0")
                                ? g_strdup_printf("%s.agent", def->name)
                                : g_strdup_printf("%s.channel%u", def->name, index);
    return g_build_filename(paths->guest_agent_dir, base, NULL);
}

static gboolean
build_channel(VdQemuCmd *cmd, const VdChrDef *chr, guint n, GError **error)
{
    g_autofree char *what = g_strdup_printf("channel %u", n);
    const char *target = chr->target_type ? chr->target_type : "virtio";
    if (!g_str_equal(target, "virtio")) {
        g_autofree char *shown = g_strescape(target, NULL);
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "%s: target type '%s' is not supported (use virtio)", what, shown);
        return FALSE;
    }
    if (chr->target_name && !vd_qemu_check_utf8(chr->target_name, what, error))
        return FALSE;
    if (!need_virtio_serial(cmd, what, error) ||
        !vd_qemu_cmd_need_device(cmd, "virtserialport", what, error))
        return FALSE;

    g_autofree char *alias = g_strdup_printf("channel%u", n);
    g_autofree char *chardev = g_strdup_printf("charchannel%u", n);
    if (chr->type == VD_CHR_UNIX && !chr->path) {
        /* No path written: QEMU listens in the daemon's agent directory. */
        g_autofree char *path = vd_qemu_channel_socket_path(cmd->def, n, cmd->paths);
        if (!path) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "%s has neither a source path nor a target name", what);
            return FALSE;
        }
        if (!vd_qemu_check_socket_path(path, what, error))
            return FALSE;
        g_autofree char *spec = socket_chardev(cmd, chardev, path, TRUE);
        vd_qemu_cmd_opt(cmd, "-chardev", spec);
    } else {
        g_autofree char *pty = vd_qemu_pty_socket_path(cmd->paths, alias);
        if (!add_chardev(cmd, chr, chardev, pty, NULL, what, error))
            return FALSE;
    }

    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "driver", "virtserialport");
    json_object_set_string_member(o, "chardev", chardev);
    json_object_set_string_member(o, "id", alias);
    if (chr->target_name)
        json_object_set_string_member(o, "name", chr->target_name);
    vd_qemu_cmd_opt_json(cmd, "-device", o);
    return TRUE;
}

gboolean
vd_qemu_build_chardevs(VdQemuCmd *cmd, GError **error)
{
    const VdDomainDef *def = cmd->def;
    guint32 isa_used = 0;

    for (guint i = 0; def->serials && i < def->serials->len; i++) {
        if (!build_serial(cmd, g_ptr_array_index(def->serials, i), i, &isa_used, error))
            return FALSE;
    }
    for (guint i = 0; def->consoles && i < def->consoles->len; i++) {
        if (!build_console(cmd, g_ptr_array_index(def->consoles, i), i, &isa_used, error))
            return FALSE;
    }
    for (guint i = 0; def->channels && i < def->channels->len; i++) {
        if (!build_channel(cmd, g_ptr_array_index(def->channels, i), i, error))
            return FALSE;
    }
    return TRUE;
}
