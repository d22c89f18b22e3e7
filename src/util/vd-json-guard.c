#include "vd-json-guard.h"

#include <string.h>

#include "vd-error.h"

/* The value of the four hex digits at @p, or -1. */
static int
hex4(const char *p, const char *end)
{
    int v = 0;

    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        int d = g_ascii_xdigit_value(p[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Checks the escape at @p (a backslash inside a string) and returns the
 * bytes it spans; 0 on a refused one (@error set). Malformed escapes are
 * refused here too, not left to the parser: json-glib reads "\ud8na" as
 * some code point anyway and hands on a string that is not valid UTF-8
 * (fuzz/api-json.c). A backslash at the very end is left to the parser
 * (the string is not closed). */
static gsize
check_escape(const char *p, const char *end, const char *start, GError **error)
{
    if (end - p < 2)
        return 1;
    if (p[1] != 'u') {
        if (strchr("\"\\/bfnrt", p[1]) && p[1] != '\0')
            return 2;
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "JSON text has an invalid escape \\%c in a JSON string at byte %td "
                    "(JSON escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)",
                    g_ascii_isprint(p[1]) ? p[1] : '?', p - start);
        return 0;
    }
    int cp = hex4(p + 2, end);
    if (cp < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "JSON text has a \\u escape without four hex digits in a JSON string at "
                    "byte %td",
                    p - start);
        return 0;
    }
    if (cp == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "JSON text has \\u0000 (a NUL character) in a JSON string at byte %td: "
                    "names and values cannot contain NUL",
                    p - start);
        return 0;
    }
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "JSON text has a lone low surrogate \\u%04X in a JSON string at byte %td",
                    (unsigned)cp, p - start);
        return 0;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        int low = end - p >= 12 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 8, end) : -1;
        if (low < 0xDC00 || low > 0xDFFF) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "JSON text has a high surrogate \\u%04X not followed by a low one in "
                        "a JSON string at byte %td",
                        (unsigned)cp, p - start);
            return 0;
        }
        return 12;
    }
    return 6;
}

gboolean
vd_json_guard_check(const char *data, gsize len, guint max_depth, GError **error)
{
    const char *end = data + len;
    const char *bad = NULL;
    gboolean in_string = FALSE;
    guint depth = 0;

    /* g_utf8_validate_len refuses NUL bytes too. */
    if (!g_utf8_validate_len(data, len, &bad)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    *bad ? "JSON text is not valid UTF-8 (at byte %td)"
                         : "JSON text contains a NUL byte (at byte %td)",
                    bad - data);
        return FALSE;
    }
    for (const char *p = data; p < end;) {
        if (in_string) {
            if (*p == '"') {
                in_string = FALSE;
            } else if (*p == '\\') {
                gsize n = check_escape(p, end, data, error);
                if (n == 0)
                    return FALSE;
                p += n;
                continue;
            }
        } else if (*p == '"') {
            in_string = TRUE;
        } else if (*p == '[' || *p == '{') {
            if (++depth > max_depth) {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "JSON text nests arrays and objects more than %u deep "
                            "(at byte %td)",
                            max_depth, p - data);
                return FALSE;
            }
        } else if ((*p == ']' || *p == '}') && depth > 0) {
            depth--;
        }
        p++;
    }
    return TRUE;
}
