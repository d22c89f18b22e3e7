/* Canned API answers for the vsh renderer tests. */
#pragma once

#include <json-glib/json-glib.h>

/* The JSON of @text, which must parse. */
static inline JsonNode *
test_json_parse(const char *text)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;

    json_parser_load_from_data(parser, text, -1, &error);
    g_assert_no_error(error);
    return json_node_copy(json_parser_get_root(parser));
}
