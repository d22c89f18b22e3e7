/* One line from QEMU's monitor, parsed: what qmp.c's reader makes of the
 * bytes before it acts on them (pure: no socket, no state), so the parse
 * can be tested and fuzzed on its own (fuzz/qmp.c).
 *
 * QEMU runs what its guest controls: the line is untrusted. It passes the
 * lexical guard first (util/vd-json-guard.h: nesting depth before
 * json-glib's recursive parser, no NUL in strings, valid UTF-8); a line
 * that fails it ends the connection. A line that is not a JSON object is
 * ignored by the reader (QMP never sends one), except as the greeting. */
#pragma once

#include <json-glib/json-glib.h>

/* QMP's deepest documents (the schema) nest about 5 levels. */
#define VD_QMP_MAX_DEPTH 64

typedef struct {
    JsonNode *root;          /* owned; NULL: not a JSON object */
    JsonObject *object;      /* root's object */
    gboolean greeting;       /* has "QMP": the greeting, {"QMP": {...}} */
    const char *event;       /* "event" member if a string: an event */
    JsonObject *event_data;  /* its "data" member if an object */
    gboolean reply;          /* has "return" or "error": a command's reply */
    gboolean has_id;         /* the reply's "id" is an integer */
    guint64 id;
    JsonNode *result;        /* the "return" member (any type), may be NULL */
    gboolean failed;         /* "error" is an object: the command failed */
    const char *error_desc;  /* its "desc", or "unknown QMP error" */
} VdQmpMessage;

/* Parses @len bytes of @line (without its newline) into @msg. FALSE +
 * @error (VD_ERROR_OPERATION_FAILED, naming the problem) when the guard
 * refuses the line; TRUE otherwise, with msg->root NULL if the line is not
 * a JSON object. Clear @msg with vd_qmp_message_clear() either way. */
gboolean vd_qmp_message_parse(const char *line, gsize len, VdQmpMessage *msg, GError **error);
void vd_qmp_message_clear(VdQmpMessage *msg);
