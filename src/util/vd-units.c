#include "vd-units.h"

#include <errno.h>
#include <string.h>

#include "vd-error.h"

gboolean
vd_units_to_bytes(guint64 value, const char *unit, const char *default_unit, guint64 *bytes,
                  GError **error)
{
    const char *u = (unit && *unit) ? unit : default_unit;
    guint64 base = 1024;
    int power;

    if (!u || !*u || g_ascii_strcasecmp(u, "b") == 0 || g_ascii_strcasecmp(u, "bytes") == 0) {
        *bytes = value;
        return TRUE;
    }
    switch (g_ascii_tolower(u[0])) {
    case 'k': power = 1; break;
    case 'm': power = 2; break;
    case 'g': power = 3; break;
    case 't': power = 4; break;
    case 'p': power = 5; break;
    case 'e': power = 6; break;
    default: goto bad;
    }
    if (u[1] == 0) {
        base = 1024;
    } else if (g_ascii_strcasecmp(u + 1, "ib") == 0) {
        base = 1024;
    } else if (g_ascii_strcasecmp(u + 1, "b") == 0) {
        base = 1000;
    } else {
        goto bad;
    }
    guint64 scale = 1;
    for (int i = 0; i < power; i++)
        scale *= base;
    if (value > G_MAXUINT64 / scale) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "size %" G_GUINT64_FORMAT "%s is too large",
                    value, u);
        return FALSE;
    }
    *bytes = value * scale;
    return TRUE;

bad:
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                "unknown size unit '%s': use KiB, MiB, GiB, TiB (or KB, MB, GB, TB)", u);
    return FALSE;
}

gboolean
vd_size_parse(const char *str, const char *default_unit, guint64 *bytes, GError **error)
{
    char *end = NULL;
    guint64 v;

    if (!str || !g_ascii_isdigit(*str)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid size '%s': expected a number with an optional unit "
                    "(b, KiB/k, MiB/M, GiB/G, TiB/T, or KB, MB, GB, TB) such as 512M or 2G",
                    str ? str : "");
        return FALSE;
    }
    errno = 0;
    v = g_ascii_strtoull(str, &end, 10);
    if (errno != 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "invalid size '%s': too large", str);
        return FALSE;
    }
    while (*end == ' ')
        end++;
    g_autoptr(GError) local = NULL;
    if (!vd_units_to_bytes(v, *end ? end : NULL, default_unit, bytes, &local)) {
        /* Name the whole value the user typed, not only its unit. */
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "invalid size '%s': %s", str,
                    local->message);
        return FALSE;
    }
    return TRUE;
}

char *
vd_size_format_pretty(guint64 bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)bytes;
    guint i = 0;

    /* virsh's vshPrettyCapacity: the largest unit the value reaches. */
    while (i + 1 < G_N_ELEMENTS(units) && bytes >= ((guint64)1 << (10 * (i + 1))))
        i++;
    for (guint k = 0; k < i; k++)
        v /= 1024.0;
    return g_strdup_printf("%.2f %s", v, units[i]);
}
