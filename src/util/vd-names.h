/* What a client may call things. Names become file names and appear in
 * URLs and QEMU arguments, so they are checked once, here. */
#pragma once

#include <glib.h>

/* A domain name: 1-200 bytes of valid UTF-8, no '/', no control
 * characters (C0, DEL, C1), not "." or "..", no leading '.' or '-'. Sets a VD_ERROR_INVALID_ARG
 * naming
 * @what ("domain name") and the fix. */
gboolean vd_name_validate(const char *name, const char *what, GError **error);

/* For new names only (stored ones keep loading): no leading or trailing
 * white space, nor only white space. VD_ERROR_INVALID_ARG naming @what. */
gboolean vd_name_check_spacing(const char *name, const char *what, GError **error);

/* virsh's reading of a <domain> argument (virshLookupDomainBy): a whole
 * number within int is an id, else 36 characters that parse as a UUID
 * are a UUID, else it is a name. The daemon's lookup tries them in that
 * order; define warns about names that read as ids or UUIDs. */
gboolean vd_key_as_id(const char *key, int *id);
gboolean vd_key_as_uuid(const char *key, char uuid[37]);

/* Canonical lower-case 36-char UUID into @out (37 bytes) from any of
 * libvirt's accepted forms (with or without dashes). */
gboolean vd_uuid_parse(const char *str, char out[37]);
/* A fresh random (version 4) UUID. */
void vd_uuid_generate(char out[37]);

/* A MAC address as libvirt writes it, six hex bytes with colons
 * ("52:54:00:12:34:56", either case). @multicast (may be NULL) gets
 * whether it is a multicast address, which no NIC may have. */
gboolean vd_mac_is_valid(const char *mac, gboolean *multicast);

/* A host interface name as a domain's <target dev=> and QEMU's ids take
 * it: 1 to 15 letters, digits, '-', '_' or '.'. */
gboolean vd_ifname_is_valid(const char *name);
