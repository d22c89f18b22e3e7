/* The API's request bodies (daemon/api/api-parse.c, through which every
 * handler reads its JSON): whatever is accepted is a JSON object that
 * json-glib can write and read back to the same text, and whose members
 * the handlers' accessors (api-body.c's rules) read without complaint. */
#include "fuzz-common.h"

#include "daemon/api/api-parse.h"
#include "util/vd-json-guard.h"

static char *
to_text(JsonObject *object)
{
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), object);
    g_autoptr(JsonGenerator) gen = json_generator_new();

    json_generator_set_root(gen, node);
    return json_generator_to_data(gen, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_json_object_parse((const char *)data, size, &error);

    if (!body) {
        FUZZ_ASSERT(size == 0 || (error && error->message),
                    "a non-empty body refused without a message");
        return 0;
    }
    /* What the handlers do with a body: look members up by type. */
    g_autoptr(GList) members = json_object_get_members(body);
    for (GList *l = members; l; l = l->next) {
        const char *name = l->data;
        FUZZ_ASSERT(g_utf8_validate(name, -1, NULL), "a member name that is not UTF-8");
        JsonNode *node = json_object_get_member(body, name);
        if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING)
            FUZZ_ASSERT(g_utf8_validate(json_node_get_string(node), -1, NULL),
                        "member '%s': a string that is not UTF-8", name);
    }
    g_autofree char *first = to_text(body);
    /* The daemon's own answers echo bodies: they pass the same guard. */
    FUZZ_ASSERT(vd_json_guard_check(first, strlen(first), VD_JSON_MAX_DEPTH + 1, &error),
                "json-glib's text of an accepted body is refused: %s", error->message);
    g_autoptr(JsonObject) again = vd_api_json_object_parse(first, strlen(first), &error);
    FUZZ_ASSERT(again, "json-glib's text of an accepted body does not parse: %s\n%s",
                error->message, first);
    g_autofree char *second = to_text(again);
    fuzz_check_fixed_point("JSON body", first, second);
    return 0;
}
