/* Helpers shared by the pool and network commands, and a few request
 * helpers for all commands (see vsh-object.h). */
#include "vsh-object.h"

#include "vsh-client.h"
#include "vsh-storage.h"

char *
vsh_object_path(const char *collection, const char *obj, const char *suffix)
{
    g_autofree char *escaped = g_uri_escape_string(obj, NULL, FALSE);

    return g_strconcat("/v1/", collection, "/", escaped, suffix, NULL);
}

JsonNode *
vsh_object_call(VshCtl *ctl, const char *method, const char *collection, const char *obj,
                const char *suffix, JsonNode *body, GError **error)
{
    g_autofree char *path = vsh_object_path(collection, obj, suffix);
    VshClient *client = vsh_ctl_client(ctl, error);

    return client ? vsh_client_call(client, method, path, body, error) : NULL;
}

const char *
vsh_object_name(const VshObjectKind *kind, JsonNode *answer, const char *fallback)
{
    return vsh_json_string(vsh_json_member(answer, kind->member), "name", fallback);
}

gboolean
vsh_object_action(VshCtl *ctl, const VshCmd *cmd, const VshObjectKind *kind, const char *action,
                  const char *done, GError **error)
{
    const char *obj = vsh_cmd_get_string(cmd, kind->option);
    g_autofree char *suffix = g_strconcat("/", action, NULL);
    g_autoptr(JsonNode) answer =
        vsh_object_call(ctl, "POST", kind->collection, obj, suffix, NULL, error);

    if (!answer)
        return FALSE;
    vsh_print_warnings(answer);
    if (kind->after_action)
        kind->after_action(answer, action);
    vsh_print_extra(ctl, "%s %s %s\n", kind->noun, vsh_object_name(kind, answer, obj), done);
    return TRUE;
}

gboolean
vsh_object_undefine(VshCtl *ctl, const VshCmd *cmd, const VshObjectKind *kind, GError **error)
{
    const char *obj = vsh_cmd_get_string(cmd, kind->option);
    g_autoptr(JsonNode) answer =
        vsh_object_call(ctl, "DELETE", kind->collection, obj, NULL, NULL, error);

    if (!answer)
        return FALSE;
    vsh_print_extra(ctl, "%s %s has been undefined\n", kind->noun,
                    vsh_object_name(kind, answer, obj));
    return TRUE;
}

gboolean
vsh_object_autostart(VshCtl *ctl, const VshCmd *cmd, const VshObjectKind *kind, GError **error)
{
    const char *obj = vsh_cmd_get_string(cmd, kind->option);
    gboolean on = !vsh_cmd_has(cmd, "disable");
    g_autoptr(JsonNode) body = vsh_json_bool_body("autostart", on);
    g_autoptr(JsonNode) answer =
        vsh_object_call(ctl, "PUT", kind->collection, obj, "/autostart", body, error);

    if (!answer)
        return FALSE;
    vsh_print_extra(ctl, "%s %s %s as autostarted\n", kind->noun,
                    vsh_object_name(kind, answer, obj), on ? "marked" : "unmarked");
    return TRUE;
}

JsonNode *
vsh_json_bool_body(const char *member, gboolean value)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, member);
    json_builder_add_boolean_value(b, value);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

JsonNode *
vsh_post_xml_file(VshCtl *ctl, const char *path, const char *file, GError **error)
{
    g_autoptr(GBytes) xml = vsh_read_small_file(file, error);
    VshClient *client;

    if (!xml || !(client = vsh_ctl_client(ctl, error)))
        return NULL;
    return vsh_client_send_for_json(client, "POST", path, "application/xml", xml, error);
}

char *
vsh_bytes_to_string(GBytes *bytes)
{
    gsize len = 0;
    const char *data = g_bytes_get_data(bytes, &len);

    return g_strndup(data ? data : "", len);
}

char *
vsh_get_text(VshCtl *ctl, const char *path, GError **error)
{
    VshClient *client = vsh_ctl_client(ctl, error);
    g_autoptr(GBytes) text =
        client ? vsh_client_send(client, "GET", path, NULL, NULL, NULL, error) : NULL;

    return text ? vsh_bytes_to_string(text) : NULL;
}
