/* The media family (issue 10): SPICE options, sound, <audio>, redirdev,
 * spicevmc channels and qxl attributes, from XML into the model, copied,
 * classified and checked for start. */
#include <string.h>

#include <glib.h>

#include "conf-test-util.h"
#include "conf/domain-def.h"
#include "conf/domain-media.h"
#include "util/vd-error.h"

/* What virt-install writes for a desktop guest, with every SPICE option. */
static const char *const desktop_xml =
    "<domain type='qemu'><name>desk</name><memory>262144</memory>"
    "<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>"
    "<channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel>"
    "<graphics type='spice' port='-1' tlsPort='-1' autoport='yes' passwd='s3cret'>"
    "<listen type='address' address='127.0.0.1'/>"
    "<image compression='off'/><jpeg compression='never'/><zlib compression='always'/>"
    "<playback compression='off'/><streaming mode='filter'/><clipboard copypaste='no'/>"
    "<mouse mode='client'/><filetransfer enable='no'/><gl enable='no'/>"
    "</graphics>"
    "<sound model='ich9'><codec type='micro'/><audio id='2'/></sound>"
    "<sound model='ac97'/>"
    "<audio id='1' type='none'/><audio id='2' type='spice'/>"
    "<video><model type='qxl' ram='65536' vram='32768' vgamem='8192' heads='1' primary='yes'/>"
    "</video>"
    "<redirdev bus='usb' type='spicevmc'/><redirdev bus='usb' type='spicevmc'/>"
    "</devices></domain>";

static void
check_desktop(const VdDomainDef *def)
{
    const VdMediaDef *m = def->media;
    const VdSpiceDef *s = m->spice;

    g_assert_nonnull(s);
    g_assert_cmpint(s->tls_port, ==, -1);
    g_assert_cmpstr(s->image_compression, ==, "off");
    g_assert_cmpstr(s->jpeg_compression, ==, "never");
    g_assert_cmpstr(s->zlib_compression, ==, "always");
    g_assert_cmpint(s->playback_compression, ==, 0);
    g_assert_cmpstr(s->streaming_mode, ==, "filter");
    g_assert_cmpint(s->copypaste, ==, 0);
    g_assert_cmpstr(s->mouse_mode, ==, "client");
    g_assert_cmpint(s->filetransfer, ==, 0);
    g_assert_false(s->gl);

    VdGraphicsDef *g = vd_domain_spice_graphics(def);
    g_assert_nonnull(g);
    g_assert_true(g->autoport);
    g_assert_cmpstr(g->listen, ==, "127.0.0.1");
    g_assert_cmpstr(g->passwd, ==, "s3cret");

    g_assert_cmpuint(m->sounds->len, ==, 2);
    const VdSoundDef *ich9 = g_ptr_array_index(m->sounds, 0);
    const VdSoundDef *ac97 = g_ptr_array_index(m->sounds, 1);
    g_assert_cmpstr(ich9->model, ==, "ich9");
    g_assert_cmpstr(ich9->codec, ==, "micro");
    g_assert_cmpuint(ich9->audio_id, ==, 2);
    g_assert_cmpstr(vd_domain_sound_audio(def, ich9)->type, ==, "spice");
    /* No <audio> of its own: the first one. */
    g_assert_cmpstr(vd_domain_sound_audio(def, ac97)->type, ==, "none");
    g_assert_cmpuint(m->audios->len, ==, 2);
    g_assert_cmpuint(m->redirdevs->len, ==, 2);
    g_assert_cmpstr(((VdRedirdevDef *)g_ptr_array_index(m->redirdevs, 1))->type, ==, "spicevmc");

    const VdVideoDef *v = g_ptr_array_index(def->videos, 0);
    g_assert_cmpuint(v->ram_kib, ==, 65536);
    g_assert_cmpuint(v->vram_kib, ==, 32768);
    g_assert_cmpuint(v->vgamem_kib, ==, 8192);

    const VdChrDef *c = g_ptr_array_index(def->channels, 0);
    g_assert_cmpint(c->type, ==, VD_CHR_SPICEVMC);
}

static void
test_parse(void)
{
    g_autoptr(VdDomainDef) def = tconf_define(desktop_xml);
    g_autoptr(GError) err = NULL;

    check_desktop(def);
    /* Everything in it is acted on: nothing reported, and it may start. */
    for (guint i = 0; i < def->unsupported->len; i++) {
        const VdUnsupported *u = g_ptr_array_index(def->unsupported, i);
        g_test_message("reported: %s", u->path);
    }
    g_assert_cmpuint(def->unsupported->len, ==, 0);
    g_assert_true(vd_domain_def_check_startable(def, &err));
    g_assert_no_error(err);
}

static void
test_copy_is_deep(void)
{
    VdDomainDef *def = tconf_define(desktop_xml);
    g_autoptr(VdDomainDef) copy = vd_domain_def_copy(def);

    vd_domain_def_free(def);
    check_desktop(copy);
}

static void
test_defaults(void)
{
    g_autoptr(VdDomainDef) def = tconf_define(
        "<domain type='qemu'><name>q</name><memory>65536</memory><devices>"
        "<graphics type='spice'/><video><model type='qxl'/></video></devices></domain>");
    const VdVideoDef *v = g_ptr_array_index(def->videos, 0);

    /* libvirt's qxl: 64 MiB RAM and VRAM bars, 16 MiB of VGA memory. */
    g_assert_cmpuint(v->ram_kib, ==, 65536);
    g_assert_cmpuint(v->vram_kib, ==, 65536);
    g_assert_cmpuint(v->vgamem_kib, ==, 16384);
    g_assert_true(vd_domain_spice_graphics(def)->autoport);
    /* No SPICE options written: QEMU's defaults. */
    g_assert_null(def->media->spice->image_compression);
    g_assert_cmpint(def->media->spice->copypaste, ==, -1);
}

static void
test_malformed(void)
{
    static const struct {
        const char *devices, *message;
    } cases[] = {
        {"<graphics type='spice'><image compression='zip'/></graphics>",
         "unknown value 'zip' in <graphics><image compression=>: expected auto_glz, auto_lz, "
         "quic, glz, lz, off"},
        {"<graphics type='spice'><mouse mode='relative'/></graphics>",
         "unknown value 'relative' in <graphics><mouse mode=>: expected server, client"},
        {"<sound model='gus'/>",
         "unknown value 'gus' in <sound model=>: expected sb16, es1370, pcspk, ac97, ich6, "
         "ich7, ich9, usb, virtio"},
        {"<sound/>", "missing model= in <sound>: use <sound model='ich9'/>"},
        {"<audio type='none'/>",
         "<audio> needs an id= of 1 or more: use <audio id='1' type='none'/>"},
        {"<audio id='1' type='none'/><audio id='1' type='none'/>",
         "<audio id='1'> is written twice"},
        {"<sound model='ich9'><audio id='3'/></sound><audio id='1' type='none'/>",
         "<sound model='ich9'><audio id='3'> names no <audio id='3'> of the domain"},
        {"<redirdev bus='usb'/>",
         "missing type= in <redirdev>: use <redirdev bus='usb' type='spicevmc'/>"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *xml = g_strdup_printf(
            "<domain type='qemu'><name>m</name><memory>65536</memory><devices>%s</devices>"
            "</domain>",
            cases[i].devices);
        g_autoptr(GError) err = NULL;
        g_autoptr(VdDomainDef) def = vd_domain_def_new_from_xml(xml, -1, &err);

        g_assert_null(def);
        g_assert_error(err, VD_ERROR, VD_ERROR_XML);
        g_assert_cmpstr(err->message, ==, cases[i].message);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domain-media/parse", test_parse);
    g_test_add_func("/domain-media/copy-is-deep", test_copy_is_deep);
    g_test_add_func("/domain-media/defaults", test_defaults);
    g_test_add_func("/domain-media/malformed", test_malformed);
    return g_test_run();
}
