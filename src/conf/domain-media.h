/* The domain model's SPICE options, sound cards, <audio> backends and USB redirection (issue 10).
 *
 * One family of libvirt's domain XML that start acts on. conf/ reads it
 * from the parsed document into def->media (vd_domain_media_parse, called by
 * vd_domain_def_parse after the devices); format needs nothing, because
 * the user's elements stay in def->doc and come back from dumpxml as
 * written (domain-def.h, "Round trip"). The SPICE port, listen address and
 * password are the <graphics>' own (VdGraphicsDef, shared with VNC); what
 * only SPICE has is here. The argv builder's part is
 * qemu/qemu-command-media.c.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "conf/domain-def.h"

G_BEGIN_DECLS

/* Options of <graphics type='spice'> beyond port/listen/passwd. Strings
 * are NULL when absent (QEMU's default then); tri-states are -1 when
 * absent, else 0/1. Values are checked against libvirt's lists at parse. */
typedef struct {
    int tls_port;             /* tlsPort=: -1 absent or "-1" (none unless TLS is on) */
    char *default_mode;       /* defaultMode=: any, secure, insecure */
    gboolean secure_channel;  /* some <channel mode='secure'> */
    char *image_compression;  /* <image compression=>: auto_glz, auto_lz, quic, glz, lz, off */
    char *jpeg_compression;   /* <jpeg compression=>: auto, never, always */
    char *zlib_compression;   /* <zlib compression=>: auto, never, always */
    int playback_compression; /* <playback compression='on|off'> */
    char *streaming_mode;     /* <streaming mode=>: filter, all, off */
    int copypaste;            /* <clipboard copypaste='yes|no'> */
    char *mouse_mode;         /* <mouse mode=>: server, client */
    int filetransfer;         /* <filetransfer enable='yes|no'> */
    gboolean gl;              /* <gl enable='yes'> */
} VdSpiceDef;

/* <sound model=>: the model as written (ich6, ich9, ac97 ... ; libvirt's
 * list is checked at parse, what QEMU here runs at start). */
typedef struct {
    char *model;
    char *codec;    /* first <codec type=>: duplex, micro, output; NULL: duplex */
    guint audio_id; /* <audio id=> inside <sound>, 0 when absent */
} VdSoundDef;

/* <audio id= type=>. */
typedef struct {
    guint id;   /* >= 1 */
    char *type; /* none, spice, pulseaudio, alsa ... */
} VdAudioDef;

/* <redirdev bus= type=>. */
typedef struct {
    char *bus;  /* usb (the only bus libvirt knows) */
    char *type; /* spicevmc, tcp ... */
} VdRedirdevDef;

struct _VdMediaDef {
    VdSpiceDef *spice;    /* of the first <graphics type='spice'>, NULL when none */
    GPtrArray *sounds;    /* VdSoundDef* */
    GPtrArray *audios;    /* VdAudioDef* */
    GPtrArray *redirdevs; /* VdRedirdevDef* */
};

VdMediaDef *vd_media_def_new(void);
void vd_media_def_free(VdMediaDef *x);
VdMediaDef *vd_media_def_copy(const VdMediaDef *x);

/* Reads this family's elements of <domain> @root into def->media.
 * VD_ERROR_XML naming the element and value for malformed input. */
gboolean vd_domain_media_parse(VdDomainDef *def, const xmlNode *root, GError **error);

/* Part of vd_domain_def_check_startable(): graphics types, SPICE TLS,
 * sound models, audio back ends, redirdev types and spicevmc channels
 * this daemon cannot run, refused with VD_ERROR_UNSUPPORTED naming the
 * element and the fix. What needs a host fact (GL: a render node) is
 * refused by the argv builder. */
gboolean vd_domain_media_check_startable(const VdDomainDef *def, GError **error);

/* The first <graphics type='spice'>, or NULL. */
VdGraphicsDef *vd_domain_spice_graphics(const VdDomainDef *def);

/* The <audio> back end a sound card uses: its <audio id=>, else the
 * first <audio>; NULL when the domain has none (the builder then adds
 * libvirt's default: spice with SPICE graphics, else none). */
const VdAudioDef *vd_domain_sound_audio(const VdDomainDef *def, const VdSoundDef *sound);

G_END_DECLS
