/* What a client may call things. Names become file names and appear in
 * URLs and QEMU arguments, so they are checked once, here. */
#pragma once

#include <glib.h>

/* A domain name: 1-200 bytes of valid UTF-8, no '/', no control
 * characters, not "." or "..", no leading '.' or '-'. Sets a VD_ERROR_INVALID_ARG naming
 * @what ("domain name") and the fix. */
gboolean vd_name_validate(const char *name, const char *what, GError **error);

/* Canonical lower-case 36-char UUID into @out (37 bytes) from any of
 * libvirt's accepted forms (with or without dashes). */
gboolean vd_uuid_parse(const char *str, char out[37]);
/* A fresh random (version 4) UUID. */
void vd_uuid_generate(char out[37]);
