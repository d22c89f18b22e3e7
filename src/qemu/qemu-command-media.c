/* The argv builder's part for the domain's SPICE options, sound cards, <audio> backends and USB
 * redirection (issue 10). See conf/domain-media.h for the model.
 *
 * What the guest sees is what libvirt gives it: the same devices
 * (ich9-intel-hda + hda-duplex, usb-redir on the USB bus, the SPICE agent
 * port on virtio-serial) and -spice with libvirt's option names. -spice
 * and -chardev only take key=value in QEMU 7.2: every value in them is a
 * fixed word from conf/'s checked lists, a number or a validated address. */
#include "conf/domain-media.h"
#include "qemu/qemu-command-priv.h"
#include "util/vd-error.h"

/* ---- -spice ----------------------------------------------------------------- */

gboolean
vd_qemu_build_spice(VdQemuCmd *cmd, const VdGraphicsDef *g, GError **error)
{
    const VdSpiceDef *s = cmd->def->media->spice;
    const VdHostFacts *host = cmd->paths->host;
    g_autofree char *addr = NULL;

    if (!s) {
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL,
                    "<graphics type='spice'> was not parsed into the media family");
        return FALSE;
    }
    /* SPICE takes the address as written (no brackets for IPv6). */
    addr = vd_qemu_listen_host(g->listen, FALSE, "SPICE", error);
    if (!addr)
        return FALSE;
    if (g->port <= 0 || g->port > 65535) {
        /* QEMU's SPICE has no port range to pick from (VNC's to=): the
         * daemon picks a free port and writes it into the live
         * definition before building the command line. */
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL,
                    "SPICE port %d: the daemon must pick the port of an autoport SPICE display "
                    "before the command line is built",
                    g->port);
        return FALSE;
    }
    if (s->gl && !(host && host->render_node)) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "unsupported configuration: SPICE OpenGL (<graphics type='spice'><gl "
                    "enable='yes'>) needs a GPU render node (/dev/dri/renderD*), which this host "
                    "does not have: remove <gl> or set <gl enable='no'/>");
        return FALSE;
    }
    if (!vd_qemu_caps_has_device(cmd->caps, "qxl")) {
        /* The caps list devices only: qxl is built exactly when SPICE is. */
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "unsupported configuration: this QEMU has no SPICE support (no qxl device): "
                    "install a QEMU built with SPICE or use <graphics type='vnc'>");
        return FALSE;
    }

    g_autoptr(GString) o = g_string_new(NULL);
    g_string_append_printf(o, "port=%d,addr=%s", g->port, addr);
    /* No password: anyone may connect, as libvirt. With one, QEMU refuses
     * every client until set_password (after start, before cont). */
    if (!g->passwd)
        g_string_append(o, ",disable-ticketing=on");
    if (s->image_compression)
        g_string_append_printf(o, ",image-compression=%s", s->image_compression);
    if (s->jpeg_compression)
        g_string_append_printf(o, ",jpeg-wan-compression=%s", s->jpeg_compression);
    if (s->zlib_compression)
        g_string_append_printf(o, ",zlib-glz-wan-compression=%s", s->zlib_compression);
    if (s->playback_compression >= 0)
        g_string_append_printf(o, ",playback-compression=%s",
                               s->playback_compression ? "on" : "off");
    if (s->streaming_mode)
        g_string_append_printf(o, ",streaming-video=%s", s->streaming_mode);
    if (s->mouse_mode)
        g_string_append_printf(o, ",agent-mouse=%s",
                               g_str_equal(s->mouse_mode, "client") ? "on" : "off");
    if (s->copypaste == 0)
        g_string_append(o, ",disable-copy-paste=on");
    if (s->filetransfer == 0)
        g_string_append(o, ",disable-agent-file-xfer=on");
    if (s->gl)
        g_string_append(o, ",gl=on");
    g_string_append(o, ",seamless-migration=on");
    vd_qemu_cmd_opt(cmd, "-spice", o->str);
    return TRUE;
}

/* ---- audio back ends and sound cards ---------------------------------------- */

static const char *
sound_driver(const char *model, gboolean *hda, gboolean *usb)
{
    static const struct {
        const char *model, *driver;
        gboolean hda, usb;
    } table[] = {
        {"ich6", "intel-hda", TRUE, FALSE}, {"ich9", "ich9-intel-hda", TRUE, FALSE},
        {"ac97", "AC97", FALSE, FALSE},     {"es1370", "ES1370", FALSE, FALSE},
        {"sb16", "sb16", FALSE, FALSE},     {"usb", "usb-audio", FALSE, TRUE},
    };
    for (guint i = 0; i < G_N_ELEMENTS(table); i++) {
        if (g_str_equal(table[i].model, model)) {
            *hda = table[i].hda;
            *usb = table[i].usb;
            return table[i].driver;
        }
    }
    return NULL;
}

static void
add_audiodev(VdQemuCmd *cmd, guint id, const char *driver)
{
    g_autofree char *name = g_strdup_printf("audio%u", id);
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "id", name);
    json_object_set_string_member(o, "driver", driver);
    vd_qemu_cmd_opt_json(cmd, "-audiodev", o);
}

static gboolean
build_sound(VdQemuCmd *cmd, const VdSoundDef *s, guint n, guint implicit_id, GError **error)
{
    const VdAudioDef *a = vd_domain_sound_audio(cmd->def, s);
    g_autofree char *audiodev = g_strdup_printf("audio%u", a ? a->id : implicit_id);
    g_autofree char *what = g_strdup_printf("sound device '%s'", s->model);
    g_autofree char *id = g_strdup_printf("sound%u", n);
    gboolean hda = FALSE, usb = FALSE;
    const char *driver = sound_driver(s->model, &hda, &usb);

    if (!driver) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED, "%s is not supported", what);
        return FALSE;
    }
    if (!vd_qemu_cmd_need_device(cmd, driver, what, error))
        return FALSE;
    if (usb && !vd_qemu_cmd_need_usb(cmd, what, error))
        return FALSE;
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "driver", driver);
    json_object_set_string_member(o, "id", id);
    if (!hda)
        json_object_set_string_member(o, "audiodev", audiodev);
    vd_qemu_cmd_opt_json(cmd, "-device", o);
    if (!hda)
        return TRUE;

    /* An HDA controller plays through its codec; libvirt's default is
     * the duplex one (line out and line in). */
    g_autofree char *codec = g_strdup_printf("hda-%s", s->codec ? s->codec : "duplex");
    g_autofree char *codec_id = g_strdup_printf("%s-codec0", id);
    g_autofree char *bus = g_strdup_printf("%s.0", id);
    if (!vd_qemu_cmd_need_device(cmd, codec, what, error))
        return FALSE;
    o = json_object_new();
    json_object_set_string_member(o, "driver", codec);
    json_object_set_string_member(o, "id", codec_id);
    json_object_set_string_member(o, "bus", bus);
    json_object_set_int_member(o, "cad", 0);
    json_object_set_string_member(o, "audiodev", audiodev);
    vd_qemu_cmd_opt_json(cmd, "-device", o);
    return TRUE;
}

static gboolean
build_audio(VdQemuCmd *cmd, GError **error)
{
    const VdMediaDef *m = cmd->def->media;
    guint implicit_id = 0;

    for (guint i = 0; i < m->audios->len; i++) {
        const VdAudioDef *a = g_ptr_array_index(m->audios, i);
        if (!g_str_equal(a->type, "none") && !g_str_equal(a->type, "spice")) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "unsupported configuration: <audio type='%s'> needs the host's sound "
                        "system: use type='none' or 'spice'",
                        a->type);
            return FALSE;
        }
        add_audiodev(cmd, a->id, a->type);
    }
    /* QEMU 7.2 wants an audiodev for every sound card; with none written,
     * libvirt's choice: SPICE's when there is a SPICE display, else none. */
    if (m->sounds->len > 0 && m->audios->len == 0) {
        implicit_id = 1;
        add_audiodev(cmd, implicit_id, vd_domain_spice_graphics(cmd->def) ? "spice" : "none");
    }
    for (guint i = 0; i < m->sounds->len; i++) {
        if (!build_sound(cmd, g_ptr_array_index(m->sounds, i), i, implicit_id, error))
            return FALSE;
    }
    return TRUE;
}

/* ---- USB redirection ---------------------------------------------------------- */

static gboolean
build_redirdevs(VdQemuCmd *cmd, GError **error)
{
    const VdMediaDef *m = cmd->def->media;

    for (guint i = 0; i < m->redirdevs->len; i++) {
        const VdRedirdevDef *r = g_ptr_array_index(m->redirdevs, i);
        g_autofree char *what = g_strdup_printf("redirdev %u", i);
        if (!g_str_equal(r->type, "spicevmc") || !vd_domain_spice_graphics(cmd->def)) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "unsupported configuration: %s: USB redirection needs type='spicevmc' "
                        "and <graphics type='spice'>",
                        what);
            return FALSE;
        }
        if (!vd_qemu_cmd_need_device(cmd, "usb-redir", what, error) ||
            !vd_qemu_cmd_need_usb(cmd, what, error))
            return FALSE;
        g_autofree char *chardev = g_strdup_printf("charredir%u", i);
        g_autofree char *spec = g_strdup_printf("spicevmc,id=%s,name=usbredir", chardev);
        vd_qemu_cmd_opt(cmd, "-chardev", spec);
        g_autofree char *id = g_strdup_printf("redir%u", i);
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "driver", "usb-redir");
        json_object_set_string_member(o, "chardev", chardev);
        json_object_set_string_member(o, "id", id);
        vd_qemu_cmd_opt_json(cmd, "-device", o);
    }
    return TRUE;
}

gboolean
vd_qemu_build_media(VdQemuCmd *cmd, GError **error)
{
    return build_audio(cmd, error) && build_redirdevs(cmd, error);
}
