/* The domain model's SPICE options, sound cards, <audio> backends and USB redirection (issue 10).
 *
 * One family of libvirt's domain XML that start acts on. conf/ reads it
 * from the parsed document into def->media (vd_domain_media_parse, called by
 * vd_domain_def_parse after the devices); format needs nothing, because
 * the user's elements stay in def->doc and come back from dumpxml as
 * written (domain-def.h, "Round trip"), unless code changes them, in
 * which case this file also writes them back. The argv builder's part is
 * qemu/qemu-command-media.c.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "conf/domain-def.h"

G_BEGIN_DECLS

struct _VdMediaDef {
    GPtrArray *sounds;       /* VdSoundDef*: <sound model=> (define the type in this header) */
    GPtrArray *audios;       /* VdAudioDef*: <audio id= type=> */
    GPtrArray *redirdevs;    /* VdRedirdevDef*: <redirdev bus='usb' type='spicevmc'> */
    /* SPICE options of the <graphics type='spice'> (image compression,
     * streaming, clipboard, mouse ...): add fields here or in VdGraphicsDef. */
};

VdMediaDef *vd_media_def_new(void);
void vd_media_def_free(VdMediaDef *x);
VdMediaDef *vd_media_def_copy(const VdMediaDef *x);

/* Reads this family's elements of <domain> @root into def->media.
 * VD_ERROR_XML naming the element and value for malformed input. */
gboolean vd_domain_media_parse(VdDomainDef *def, const xmlNode *root, GError **error);

G_END_DECLS
