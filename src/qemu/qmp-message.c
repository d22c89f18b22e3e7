/* Parsing one QMP line; see qmp-message.h. */
#include "qemu/qmp-message.h"

#include <string.h>

#include "util/vd-error.h"
#include "util/vd-json-guard.h"

/* json_object_get_object_member() is loud about missing members. */
static JsonObject *
object_member(JsonObject *o, const char *name)
{
    JsonNode *node = json_object_get_member(o, name);
    return node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

static const char *
string_member(JsonObject *o, const char *name)
{
    JsonNode *node = json_object_get_member(o, name);
    return node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING
               ? json_node_get_string(node)
               : NULL;
}

static void
classify(VdQmpMessage *msg)
{
    JsonObject *o = msg->object;

    msg->greeting = json_object_has_member(o, "QMP");
    msg->event = string_member(o, "event");
    if (msg->event)
        msg->event_data = object_member(o, "data");
    msg->reply = json_object_has_member(o, "return") || json_object_has_member(o, "error");
    if (!msg->reply)
        return;
    JsonNode *id = json_object_get_member(o, "id");
    if (id && JSON_NODE_HOLDS_VALUE(id) && json_node_get_value_type(id) == G_TYPE_INT64) {
        msg->has_id = TRUE;
        msg->id = (guint64)json_node_get_int(id);
    }
    JsonObject *err = object_member(o, "error");
    if (err) {
        msg->failed = TRUE;
        msg->error_desc = string_member(err, "desc");
        if (!msg->error_desc)
            msg->error_desc = "unknown QMP error";
    } else {
        msg->result = json_object_get_member(o, "return");
    }
}

gboolean
vd_qmp_message_parse(const char *line, gsize len, VdQmpMessage *msg, GError **error)
{
    g_autoptr(GError) bad = NULL;

    memset(msg, 0, sizeof(*msg));
    if (!vd_json_guard_check(line, len, VD_QMP_MAX_DEPTH, &bad)) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "QEMU's monitor sent JSON that is refused: %s", bad->message);
        return FALSE;
    }
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, line, (gssize)len, NULL))
        return TRUE;
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return TRUE;
    msg->root = json_node_ref(root);
    msg->object = json_node_get_object(root);
    classify(msg);
    return TRUE;
}

void
vd_qmp_message_clear(VdQmpMessage *msg)
{
    g_clear_pointer(&msg->root, json_node_unref);
    memset(msg, 0, sizeof(*msg));
}
