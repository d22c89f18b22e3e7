#include "vd-names.h"

#include <stdio.h>
#include <string.h>

#include "vd-error.h"

gboolean
vd_name_validate(const char *name, const char *what, GError **error)
{
    if (!name || !*name) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "%s must not be empty", what);
        return FALSE;
    }
    if (strlen(name) > 200) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "%s '%.40s...' is too long: use at most 200 bytes", what, name);
        return FALSE;
    }
    if (!g_utf8_validate(name, -1, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "%s is not valid UTF-8", what);
        return FALSE;
    }
    if (g_str_equal(name, ".") || g_str_equal(name, "..") || name[0] == '.' || name[0] == '-') {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "%s '%s' must not start with '.' or '-'", what, name);
        return FALSE;
    }
    for (const char *u = name; *u; u = g_utf8_next_char(u)) {
        if (g_unichar_iscntrl(g_utf8_get_char(u))) {
            g_autofree char *esc = g_strescape(name, NULL);
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "%s '%s' must not contain control characters", what, esc);
            return FALSE;
        }
    }
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '/') {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "%s '%s' must not contain '/'", what, name);
            return FALSE;
        }
        if (c < 0x20 || c == 0x7f) {
            g_autofree char *esc = g_strescape(name, NULL);
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "%s '%s' must not contain control characters", what, esc);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
vd_uuid_parse(const char *str, char out[37])
{
    char hex[33];
    int n = 0;

    if (!str)
        return FALSE;
    while (g_ascii_isspace(*str))
        str++;
    for (const char *p = str; *p; p++) {
        if (*p == '-')
            continue;
        if (g_ascii_isspace(*p)) {
            for (; *p; p++)
                if (!g_ascii_isspace(*p))
                    return FALSE;
            break;
        }
        if (!g_ascii_isxdigit(*p) || n >= 32)
            return FALSE;
        hex[n++] = g_ascii_tolower(*p);
    }
    if (n != 32)
        return FALSE;
    hex[32] = 0;
    g_snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
    return TRUE;
}

void
vd_uuid_generate(char out[37])
{
    g_autofree char *u = g_uuid_string_random();
    g_strlcpy(out, u, 37);
}

gboolean
vd_key_as_id(const char *key, int *id)
{
    guint64 v;
    if (!key || !g_ascii_isdigit(key[0]) ||
        !g_ascii_string_to_unsigned(key, 10, 0, G_MAXINT, &v, NULL))
        return FALSE;
    *id = (int)v;
    return TRUE;
}

gboolean
vd_key_as_uuid(const char *key, char uuid[37])
{
    return key && strlen(key) == 36 && vd_uuid_parse(key, uuid);
}

gboolean
vd_name_check_spacing(const char *name, const char *what, GError **error)
{
    if (!name || !*name)
        return TRUE; /* vd_name_validate's to refuse */
    /* "web1 " and "web1" would be two domains nobody can tell apart in a
     * listing, and "   " none at all. */
    gunichar first = g_utf8_get_char(name);
    gunichar last = g_utf8_get_char(g_utf8_prev_char(name + strlen(name)));
    if (g_unichar_isspace(first) || g_unichar_isspace(last)) {
        g_autofree char *esc = g_strescape(name, NULL);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "%s '%s' must not start or end with white space (nor be only white space): "
                    "remove it",
                    what, esc);
        return FALSE;
    }
    return TRUE;
}

gboolean
vd_mac_is_valid(const char *mac, gboolean *multicast)
{
    guint bytes[6];
    char end;

    if (!mac || strlen(mac) != 17)
        return FALSE;
    for (int i = 0; i < 17; i++) {
        if ((i % 3 == 2) ? mac[i] != ':' : !g_ascii_isxdigit(mac[i]))
            return FALSE;
    }
    if (sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &bytes[0], &bytes[1], &bytes[2], &bytes[3],
               &bytes[4], &bytes[5], &end) != 6)
        return FALSE;
    if (multicast)
        *multicast = (bytes[0] & 1) != 0;
    return TRUE;
}

gboolean
vd_ifname_is_valid(const char *name)
{
    gsize len = strlen(name);

    if (len == 0 || len > 15)
        return FALSE;
    for (const char *p = name; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
            return FALSE;
    }
    return TRUE;
}
