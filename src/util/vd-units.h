/* Sizes with units, as libvirt XML and virsh take them. */
#pragma once

#include <glib.h>

/* Scales @value given in @unit (libvirt's unit names: b, bytes, k, KiB,
 * KB, M, MiB, MB, G, GiB, GB, T, TiB, TB, P, PiB, PB, E, EiB, EB; case as
 * libvirt accepts it; NULL means @default_unit) to bytes. Fails on
 * unknown units and on overflow. */
gboolean vd_units_to_bytes(guint64 value, const char *unit, const char *default_unit,
                           guint64 *bytes, GError **error);

/* Parses "1024", "2G", "512MiB" ... into bytes; a bare number is in
 * @default_unit. */
gboolean vd_size_parse(const char *str, const char *default_unit, guint64 *bytes,
                       GError **error);

/* "49.98 GiB", "512.00 B": virsh's vshPrettyCapacity, for pool-info,
 * vol-info and the --details tables. */
char *vd_size_format_pretty(guint64 bytes);
