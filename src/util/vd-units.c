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
                    "invalid size '%s': expected a number with an optional unit such as 512M or 2G",
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
    return vd_units_to_bytes(v, *end ? end : NULL, default_unit, bytes, error);
}
