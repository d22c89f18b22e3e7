/* Parsing of the domain's SPICE options, sound cards, <audio> backends and USB redirection (issue
 * 10): see domain-media.h. */
#include "conf/domain-media.h"

#include "conf/domain-private.h"
#include "util/vd-error.h"

static void
spice_free(VdSpiceDef *s)
{
    if (!s)
        return;
    g_free(s->default_mode);
    g_free(s->image_compression);
    g_free(s->jpeg_compression);
    g_free(s->zlib_compression);
    g_free(s->streaming_mode);
    g_free(s->mouse_mode);
    g_free(s);
}

static VdSpiceDef *
spice_copy(const VdSpiceDef *src)
{
    if (!src)
        return NULL;
    VdSpiceDef *s = g_memdup2(src, sizeof(*src));
    s->default_mode = g_strdup(src->default_mode);
    s->image_compression = g_strdup(src->image_compression);
    s->jpeg_compression = g_strdup(src->jpeg_compression);
    s->zlib_compression = g_strdup(src->zlib_compression);
    s->streaming_mode = g_strdup(src->streaming_mode);
    s->mouse_mode = g_strdup(src->mouse_mode);
    return s;
}

static void
sound_free(gpointer p)
{
    VdSoundDef *s = p;
    g_free(s->model);
    g_free(s->codec);
    g_free(s);
}

static gpointer
sound_copy(gconstpointer p, gpointer unused)
{
    const VdSoundDef *src = p;
    VdSoundDef *s = g_memdup2(src, sizeof(*src));
    (void)unused;
    s->model = g_strdup(src->model);
    s->codec = g_strdup(src->codec);
    return s;
}

static void
audio_free(gpointer p)
{
    VdAudioDef *a = p;
    g_free(a->type);
    g_free(a);
}

static gpointer
audio_copy(gconstpointer p, gpointer unused)
{
    const VdAudioDef *src = p;
    VdAudioDef *a = g_memdup2(src, sizeof(*src));
    (void)unused;
    a->type = g_strdup(src->type);
    return a;
}

static void
redirdev_free(gpointer p)
{
    VdRedirdevDef *r = p;
    g_free(r->bus);
    g_free(r->type);
    g_free(r);
}

static gpointer
redirdev_copy(gconstpointer p, gpointer unused)
{
    const VdRedirdevDef *src = p;
    VdRedirdevDef *r = g_new0(VdRedirdevDef, 1);
    (void)unused;
    r->bus = g_strdup(src->bus);
    r->type = g_strdup(src->type);
    return r;
}

VdMediaDef *
vd_media_def_new(void)
{
    VdMediaDef *x = g_new0(VdMediaDef, 1);
    x->sounds = g_ptr_array_new_with_free_func(sound_free);
    x->audios = g_ptr_array_new_with_free_func(audio_free);
    x->redirdevs = g_ptr_array_new_with_free_func(redirdev_free);
    return x;
}

void
vd_media_def_free(VdMediaDef *x)
{
    if (!x)
        return;
    spice_free(x->spice);
    g_clear_pointer(&x->sounds, g_ptr_array_unref);
    g_clear_pointer(&x->audios, g_ptr_array_unref);
    g_clear_pointer(&x->redirdevs, g_ptr_array_unref);
    g_free(x);
}

VdMediaDef *
vd_media_def_copy(const VdMediaDef *x)
{
    VdMediaDef *c = g_new0(VdMediaDef, 1);
    c->spice = spice_copy(x->spice);
    c->sounds = g_ptr_array_copy(x->sounds, sound_copy, NULL);
    g_ptr_array_set_free_func(c->sounds, sound_free);
    c->audios = g_ptr_array_copy(x->audios, audio_copy, NULL);
    g_ptr_array_set_free_func(c->audios, audio_free);
    c->redirdevs = g_ptr_array_copy(x->redirdevs, redirdev_copy, NULL);
    g_ptr_array_set_free_func(c->redirdevs, redirdev_free);
    return c;
}

/* ---- parse ------------------------------------------------------------ */

/* Attribute @attr of @node into *@out when it is one of @choices (libvirt's
 * list for it); absent leaves *@out NULL. */
static gboolean
prop_choice(const xmlNode *node, const char *attr, const char *where, const char *const *choices,
            char **out, GError **error)
{
    g_autofree char *v = node ? vd_xml_prop(node, attr) : NULL;

    if (!v)
        return TRUE;
    if (!g_strv_contains(choices, v)) {
        g_autofree char *shown = g_strescape(v, NULL);
        g_autofree char *list = g_strjoinv(", ", (char **)choices);
        g_set_error(error, VD_ERROR, VD_ERROR_XML, "unknown value '%s' in %s: expected %s", shown,
                    where, list);
        return FALSE;
    }
    g_free(*out);
    *out = g_steal_pointer(&v);
    return TRUE;
}

/* A yes/no (on/off) attribute as -1 (absent), 0 or 1. */
static gboolean
prop_tristate(const xmlNode *node, const char *attr, const char *where, gboolean on_off, int *out,
              GError **error)
{
    gboolean v = FALSE, present = FALSE;

    *out = -1;
    if (!node)
        return TRUE;
    if (!vd_xml_prop_bool(node, attr, where, on_off, &v, &present, error))
        return FALSE;
    if (present)
        *out = v ? 1 : 0;
    return TRUE;
}

static gboolean
parse_spice(VdMediaDef *m, const xmlNode *g, GError **error)
{
    static const char *const modes[] = {"any", "secure", "insecure", NULL};
    static const char *const image[] = {"auto_glz", "auto_lz", "quic", "glz", "lz", "off", NULL};
    static const char *const wan[] = {"auto", "never", "always", NULL};
    static const char *const streaming[] = {"filter", "all", "off", NULL};
    static const char *const mouse[] = {"server", "client", NULL};
    g_autoptr(GError) local = NULL;
    VdSpiceDef *s = g_new0(VdSpiceDef, 1);
    gboolean ok;
    const xmlNode *gl;

    m->spice = s;
    s->tls_port = -1;
    if (!vd_xml_prop_int(g, "tlsPort", "<graphics tlsPort=>", -1, 65535, &s->tls_port, NULL,
                         error) ||
        !prop_choice(g, "defaultMode", "<graphics defaultMode=>", modes, &s->default_mode, error))
        return FALSE;
    for (const xmlNode *c = vd_xml_child(g, "channel"); c; c = vd_xml_next(c, "channel")) {
        g_autofree char *mode = NULL;
        if (!prop_choice(c, "mode", "<graphics><channel mode=>", modes, &mode, error))
            return FALSE;
        s->secure_channel |= g_strcmp0(mode, "secure") == 0;
    }
    ok =
        prop_choice(vd_xml_child(g, "image"), "compression", "<graphics><image compression=>",
                    image, &s->image_compression, error) &&
        prop_choice(vd_xml_child(g, "jpeg"), "compression", "<graphics><jpeg compression=>", wan,
                    &s->jpeg_compression, error) &&
        prop_choice(vd_xml_child(g, "zlib"), "compression", "<graphics><zlib compression=>", wan,
                    &s->zlib_compression, error) &&
        prop_tristate(vd_xml_child(g, "playback"), "compression",
                      "<graphics><playback compression=>", TRUE, &s->playback_compression, error) &&
        prop_choice(vd_xml_child(g, "streaming"), "mode", "<graphics><streaming mode=>", streaming,
                    &s->streaming_mode, error) &&
        prop_tristate(vd_xml_child(g, "clipboard"), "copypaste", "<graphics><clipboard copypaste=>",
                      FALSE, &s->copypaste, error) &&
        prop_choice(vd_xml_child(g, "mouse"), "mode", "<graphics><mouse mode=>", mouse,
                    &s->mouse_mode, error) &&
        prop_tristate(vd_xml_child(g, "filetransfer"), "enable", "<graphics><filetransfer enable=>",
                      FALSE, &s->filetransfer, error);
    if (!ok)
        return FALSE;
    if ((gl = vd_xml_child(g, "gl")) &&
        !vd_xml_prop_bool(gl, "enable", "<graphics><gl enable=>", FALSE, &s->gl, NULL, error))
        return FALSE;
    return TRUE;
}

static gboolean
parse_sound(VdMediaDef *m, const xmlNode *node, GError **error)
{
    /* libvirt's models; which of them QEMU here runs is decided at start. */
    static const char *const models[] = {"sb16", "es1370", "pcspk", "ac97",   "ich6",
                                         "ich7", "ich9",   "usb",   "virtio", NULL};
    static const char *const codecs[] = {"duplex", "micro", "output", NULL};
    g_autofree char *model = vd_xml_prop(node, "model");
    const xmlNode *n;

    if (!model) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "missing model= in <sound>: use <sound model='ich9'/>");
        return FALSE;
    }
    VdSoundDef *s = g_new0(VdSoundDef, 1);
    g_ptr_array_add(m->sounds, s);
    if (!prop_choice(node, "model", "<sound model=>", models, &s->model, error) ||
        !prop_choice(vd_xml_child(node, "codec"), "type", "<sound><codec type=>", codecs, &s->codec,
                     error))
        return FALSE;
    if ((n = vd_xml_child(node, "audio")) &&
        !vd_xml_prop_uint(n, "id", "<sound><audio id=>", G_MAXINT, &s->audio_id, NULL, error))
        return FALSE;
    return TRUE;
}

static gboolean
parse_audio(VdMediaDef *m, const xmlNode *node, GError **error)
{
    static const char *const types[] = {"none", "alsa",       "coreaudio", "jack",
                                        "oss",  "pulseaudio", "sdl",       "spice",
                                        "file", "dbus",       "pipewire",  NULL};
    gboolean present = FALSE;
    VdAudioDef *a = g_new0(VdAudioDef, 1);

    g_ptr_array_add(m->audios, a);
    if (!vd_xml_prop_uint(node, "id", "<audio id=>", G_MAXINT, &a->id, &present, error) ||
        !prop_choice(node, "type", "<audio type=>", types, &a->type, error))
        return FALSE;
    if (!present || a->id == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<audio> needs an id= of 1 or more: use <audio id='1' type='none'/>");
        return FALSE;
    }
    if (!a->type) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "missing type= in <audio id='%u'>: use type='none' or 'spice'", a->id);
        return FALSE;
    }
    for (guint i = 0; i + 1 < m->audios->len; i++) {
        if (((VdAudioDef *)g_ptr_array_index(m->audios, i))->id == a->id) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML, "<audio id='%u'> is written twice", a->id);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
parse_redirdev(VdMediaDef *m, const xmlNode *node, GError **error)
{
    static const char *const buses[] = {"usb", NULL};
    static const char *const types[] = {"spicevmc", "tcp",   "unix", "pty", "file", "null",
                                        "udp",      "stdio", "vc",   "dev", "pipe", NULL};
    VdRedirdevDef *r = g_new0(VdRedirdevDef, 1);

    g_ptr_array_add(m->redirdevs, r);
    if (!prop_choice(node, "bus", "<redirdev bus=>", buses, &r->bus, error) ||
        !prop_choice(node, "type", "<redirdev type=>", types, &r->type, error))
        return FALSE;
    if (!r->type) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "missing type= in <redirdev>: use <redirdev bus='usb' type='spicevmc'/>");
        return FALSE;
    }
    if (!r->bus)
        r->bus = g_strdup("usb");
    return TRUE;
}

gboolean
vd_domain_media_parse(VdDomainDef *def, const xmlNode *root, GError **error)
{
    const xmlNode *devices = vd_xml_child(root, "devices");
    VdMediaDef *m = def->media;

    for (const xmlNode *n = devices ? devices->children : NULL; n; n = n->next) {
        gboolean ok = TRUE;

        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (vd_xml_is(n, "graphics") && !m->spice) {
            g_autofree char *type = vd_xml_prop(n, "type");
            if (g_strcmp0(type, "spice") == 0)
                ok = parse_spice(m, n, error);
        } else if (vd_xml_is(n, "sound")) {
            ok = parse_sound(m, n, error);
        } else if (vd_xml_is(n, "audio")) {
            ok = parse_audio(m, n, error);
        } else if (vd_xml_is(n, "redirdev")) {
            ok = parse_redirdev(m, n, error);
        }
        if (!ok)
            return FALSE;
    }
    for (guint i = 0; i < m->sounds->len; i++) {
        const VdSoundDef *s = g_ptr_array_index(m->sounds, i);
        if (s->audio_id && !vd_domain_sound_audio(def, s)) {
            g_set_error(error, VD_ERROR, VD_ERROR_XML,
                        "<sound model='%s'><audio id='%u'> names no <audio id='%u'> of the "
                        "domain",
                        s->model, s->audio_id, s->audio_id);
            return FALSE;
        }
    }
    return TRUE;
}

/* ---- lookups ------------------------------------------------------------ */

VdGraphicsDef *
vd_domain_spice_graphics(const VdDomainDef *def)
{
    for (guint i = 0; def->graphics && i < def->graphics->len; i++) {
        VdGraphicsDef *g = g_ptr_array_index(def->graphics, i);
        if (g->type == VD_GRAPHICS_SPICE)
            return g;
    }
    return NULL;
}

const VdAudioDef *
vd_domain_sound_audio(const VdDomainDef *def, const VdSoundDef *sound)
{
    GPtrArray *audios = def->media->audios;

    for (guint i = 0; i < audios->len; i++) {
        const VdAudioDef *a = g_ptr_array_index(audios, i);
        if (sound->audio_id == 0 || a->id == sound->audio_id)
            return a;
    }
    return NULL;
}

/* ---- what start runs ------------------------------------------------------ */

static gboolean
startable_graphics(const VdDomainDef *def, GError **error)
{
    guint nvnc = 0, nspice = 0;

    for (guint i = 0; i < def->graphics->len; i++) {
        const VdGraphicsDef *g = g_ptr_array_index(def->graphics, i);
        if (g->type == VD_GRAPHICS_VNC) {
            nvnc++;
        } else if (g->type == VD_GRAPHICS_SPICE) {
            nspice++;
            if (!g->autoport && (g->port <= 0 || g->port > 65535))
                return vd_domain_refuse(
                    error,
                    "<graphics type='spice' port='%d'> is out of range: use a port "
                    "from 1 to 65535, or autoport='yes'",
                    g->port);
            if (g->websocket > 0)
                return vd_domain_refuse(error,
                                        "<graphics type='spice' websocket=> is not supported: "
                                        "QEMU serves WebSockets for VNC only; remove it");
        } else if (g->type == VD_GRAPHICS_EGL_HEADLESS) {
            /* The argv builder refuses it naming the render node the host
             * lacks (qemu-command-platform.c). */
        } else {
            return vd_domain_refuse(
                error,
                "graphics type '%s' is not supported yet: use <graphics type='vnc'> "
                "or <graphics type='spice'>",
                vd_graphics_type_to_string(g->type));
        }
    }
    if (nvnc > 1 || nspice > 1)
        return vd_domain_refuse(error,
                                "more than one <graphics type='%s'>: QEMU serves one of each type",
                                nvnc > 1 ? "vnc" : "spice");
    const VdSpiceDef *s = def->media->spice;
    if (s && s->tls_port > 0)
        return vd_domain_refuse(error, "TLS for SPICE is not supported yet: remove tlsPort or set "
                                       "defaultMode='insecure'");
    if (s && (g_strcmp0(s->default_mode, "secure") == 0 || s->secure_channel))
        return vd_domain_refuse(error, "TLS for SPICE is not supported yet: remove tlsPort or set "
                                       "defaultMode='insecure' (and no <channel mode='secure'>)");
    return TRUE;
}

static gboolean
startable_sound(const VdDomainDef *def, gboolean spice, GError **error)
{
    static const char *const models[] = {"ich6", "ich9", "ac97", "es1370", "sb16", "usb", NULL};
    const VdMediaDef *m = def->media;

    for (guint i = 0; i < m->sounds->len; i++) {
        const VdSoundDef *s = g_ptr_array_index(m->sounds, i);
        if (!g_strv_contains(models, s->model))
            return vd_domain_refuse(
                error,
                "<sound model='%s'> is not supported: QEMU 7.2 has no such sound "
                "card here; use ich9, ich6, ac97, es1370, sb16 or usb",
                s->model);
    }
    for (guint i = 0; i < m->audios->len; i++) {
        const VdAudioDef *a = g_ptr_array_index(m->audios, i);
        if (g_str_equal(a->type, "spice") && !spice)
            return vd_domain_refuse(
                error,
                "<audio id='%u' type='spice'> needs <graphics type='spice'>: add "
                "one or use type='none'",
                a->id);
        if (!g_str_equal(a->type, "none") && !g_str_equal(a->type, "spice"))
            return vd_domain_refuse(
                error,
                "<audio id='%u' type='%s'> needs the host's sound system, which "
                "virtd's QEMU cannot reach (it runs outside any user session): use "
                "type='none', or type='spice' to play sound in the SPICE client",
                a->id, a->type);
    }
    return TRUE;
}

gboolean
vd_domain_media_check_startable(const VdDomainDef *def, GError **error)
{
    gboolean spice = vd_domain_spice_graphics(def) != NULL;

    if (!startable_graphics(def, error) || !startable_sound(def, spice, error))
        return FALSE;
    for (guint i = 0; i < def->media->redirdevs->len; i++) {
        const VdRedirdevDef *r = g_ptr_array_index(def->media->redirdevs, i);
        if (!g_str_equal(r->type, "spicevmc"))
            return vd_domain_refuse(
                error,
                "<redirdev type='%s'> is not supported: USB redirection runs over "
                "SPICE only; use <redirdev bus='usb' type='spicevmc'/>",
                r->type);
        if (!spice)
            return vd_domain_refuse(error,
                                    "<redirdev type='spicevmc'> needs <graphics type='spice'>: "
                                    "add one or remove the redirdev");
    }
    for (guint i = 0; i < def->channels->len; i++) {
        const VdChrDef *c = g_ptr_array_index(def->channels, i);
        if (c->type != VD_CHR_SPICEVMC)
            continue;
        if (!spice)
            return vd_domain_refuse(error,
                                    "<channel type='spicevmc'> needs <graphics type='spice'>: "
                                    "add one or remove the channel");
        if (g_strcmp0(c->target_name, "com.redhat.spice.0") != 0)
            return vd_domain_refuse(error,
                                    "<channel type='spicevmc'> carries the SPICE agent only: use "
                                    "<target type='virtio' name='com.redhat.spice.0'/>");
    }
    return TRUE;
}
