/* A lexical check of JSON text from a client (or from QEMU's monitor, which
 * runs what its guest controls), run before any parser sees
 * it. json-glib's parser recurses once per nesting level, so a body of
 * 80,000 '[' overflows the daemon's stack; and it turns "\u0000" into a
 * NUL that silently cuts the C string it lands in (a name "a\u0000b"
 * would become "a"). Neither can be caught after parsing. */
#pragma once

#include <glib.h>

/* The nesting depth any API body may have; ours use two or three. */
#define VD_JSON_MAX_DEPTH 64

/* Checks @len bytes of @data: valid UTF-8 without NUL bytes, arrays and
 * objects nested at most @max_depth deep, and no escape in a string that
 * stands for U+0000 or for half a surrogate pair (neither can be a C
 * string of valid UTF-8). Says nothing else about the syntax: that is the
 * parser's job. Sets VD_ERROR_INVALID_ARG naming the problem and where. */
gboolean vd_json_guard_check(const char *data, gsize len, guint max_depth, GError **error);
