/* Tests of the renderers behind `vsh list` and `vsh dominfo`, fed with
 * JSON shaped like docs/api.md's domain summaries, and of the helpers that
 * read those summaries. */
#include "test-json.h"
#include "vsh/vsh-client.h"
#include "vsh/vsh-domain-info.h"

static const char *const list_json =
    "{\"domains\": ["
    "{\"name\": \"web1\", \"uuid\": \"4dea22b3-1d52-d8f3-2516-782e98ab3fa0\", \"id\": 3,"
    " \"state\": \"running\", \"reason\": \"booted\", \"persistent\": true,"
    " \"autostart\": false, \"title\": \"front end\"},"
    "{\"name\": \"db\", \"uuid\": \"5dea22b3-1d52-d8f3-2516-782e98ab3fa1\", \"id\": -1,"
    " \"state\": \"shut off\", \"reason\": \"destroyed\", \"persistent\": true,"
    " \"autostart\": true}"
    "]}";

static JsonArray *
domains(JsonNode *root)
{
    return json_object_get_array_member(json_node_get_object(root), "domains");
}

static void
test_list_table(void)
{
    g_autoptr(JsonNode) root = test_json_parse(list_json);
    VshListFormat fmt = {.style = VSH_LIST_TABLE};
    g_autofree char *text = vsh_render_domain_list(domains(root), &fmt, TRUE);
    g_autofree char *quiet = vsh_render_domain_list(domains(root), &fmt, FALSE);

    g_assert_cmpstr(text, ==,
                    " Id   Name   State\n"
                    "-----------------------\n"
                    " 3    web1   running\n"
                    " -    db     shut off\n");
    g_assert_cmpstr(quiet, ==,
                    " 3   web1   running\n"
                    " -   db     shut off\n");
}

static void
test_list_title(void)
{
    g_autoptr(JsonNode) root = test_json_parse(list_json);
    VshListFormat fmt = {.style = VSH_LIST_TABLE, .title = TRUE};
    g_autofree char *text = vsh_render_domain_list(domains(root), &fmt, TRUE);

    g_assert_cmpstr(text, ==,
                    " Id   Name   State      Title\n"
                    "-----------------------------------\n"
                    " 3    web1   running    front end\n"
                    " -    db     shut off   \n");
}

static void
test_list_plain(void)
{
    g_autoptr(JsonNode) root = test_json_parse(list_json);
    VshListFormat names = {.style = VSH_LIST_PLAIN, .name = TRUE};
    VshListFormat uuids = {.style = VSH_LIST_PLAIN, .uuid = TRUE};
    VshListFormat both = {.style = VSH_LIST_PLAIN, .uuid = TRUE, .name = TRUE};
    VshListFormat ids = {.style = VSH_LIST_PLAIN, .id = TRUE};
    VshListFormat id_names = {.style = VSH_LIST_PLAIN, .id = TRUE, .name = TRUE};
    g_autofree char *t1 = vsh_render_domain_list(domains(root), &names, TRUE);
    g_autofree char *t2 = vsh_render_domain_list(domains(root), &uuids, TRUE);
    g_autofree char *t3 = vsh_render_domain_list(domains(root), &both, TRUE);
    g_autofree char *t4 = vsh_render_domain_list(domains(root), &ids, TRUE);
    g_autofree char *t5 = vsh_render_domain_list(domains(root), &id_names, TRUE);

    g_assert_cmpstr(t1, ==, "web1\ndb\n");
    g_assert_cmpstr(t2, ==,
                    "4dea22b3-1d52-d8f3-2516-782e98ab3fa0\n"
                    "5dea22b3-1d52-d8f3-2516-782e98ab3fa1\n");
    g_assert_cmpstr(t3, ==,
                    "4dea22b3-1d52-d8f3-2516-782e98ab3fa0 web1\n"
                    "5dea22b3-1d52-d8f3-2516-782e98ab3fa1 db\n");
    /* --id alone lists running domains only. */
    g_assert_cmpstr(t4, ==, "3\n");
    g_assert_cmpstr(t5, ==, "3 web1\n- db\n");
}

static void
test_list_empty(void)
{
    g_autoptr(JsonNode) root = test_json_parse("{\"domains\": []}");
    VshListFormat fmt = {.style = VSH_LIST_TABLE};
    g_autofree char *text = vsh_render_domain_list(domains(root), &fmt, TRUE);

    g_assert_cmpstr(text, ==,
                    " Id   Name   State\n"
                    "--------------------\n");
}

static void
test_dominfo(void)
{
    g_autoptr(JsonNode) running = test_json_parse(
        "{\"domain\": {\"name\": \"web1\", \"uuid\": \"4dea22b3-1d52-d8f3-2516-782e98ab3fa0\","
        " \"id\": 3, \"state\": \"running\", \"reason\": \"booted\", \"persistent\": true,"
        " \"autostart\": false},"
        " \"info\": {\"os_type\": \"hvm\", \"vcpus\": 2, \"vcpus_max\": 4,"
        " \"memory_kib\": 1048576, \"max_memory_kib\": 2097152, \"cpu_time_ns\": 14812345678,"
        " \"has_managed_save\": false}}");
    g_autoptr(JsonNode) off = test_json_parse(
        "{\"domain\": {\"name\": \"db\", \"uuid\": \"5dea22b3-1d52-d8f3-2516-782e98ab3fa1\","
        " \"id\": -1, \"state\": \"shut off\", \"reason\": \"destroyed\", \"persistent\": false,"
        " \"autostart\": true},"
        " \"info\": {\"os_type\": \"hvm\", \"vcpus\": 1, \"vcpus_max\": 1,"
        " \"memory_kib\": 524288, \"max_memory_kib\": 524288, \"cpu_time_ns\": 0,"
        " \"has_managed_save\": true}}");
    JsonObject *r = json_node_get_object(running);
    JsonObject *o = json_node_get_object(off);
    g_autofree char *t1 = vsh_render_dominfo(json_object_get_object_member(r, "domain"),
                                             json_object_get_object_member(r, "info"));
    g_autofree char *t2 = vsh_render_dominfo(json_object_get_object_member(o, "domain"),
                                             json_object_get_object_member(o, "info"));

    g_assert_cmpstr(t1, ==,
                    "Id:             3\n"
                    "Name:           web1\n"
                    "UUID:           4dea22b3-1d52-d8f3-2516-782e98ab3fa0\n"
                    "OS Type:        hvm\n"
                    "State:          running\n"
                    "CPU(s):         2\n"
                    "CPU time:       14.8s\n"
                    "Max memory:     2097152 KiB\n"
                    "Used memory:    1048576 KiB\n"
                    "Persistent:     yes\n"
                    "Autostart:      disable\n"
                    "Managed save:   no\n"
                    "Security model: none\n"
                    "Security DOI:   0\n");
    /* No CPU time line for an inactive domain. */
    g_assert_cmpstr(t2, ==,
                    "Id:             -\n"
                    "Name:           db\n"
                    "UUID:           5dea22b3-1d52-d8f3-2516-782e98ab3fa1\n"
                    "OS Type:        hvm\n"
                    "State:          shut off\n"
                    "CPU(s):         1\n"
                    "Max memory:     524288 KiB\n"
                    "Used memory:    524288 KiB\n"
                    "Persistent:     no\n"
                    "Autostart:      enable\n"
                    "Managed save:   yes\n"
                    "Security model: none\n"
                    "Security DOI:   0\n");
}

static void
test_json_domain(void)
{
    g_autoptr(JsonNode) wrapped =
        test_json_parse("{\"domain\": {\"name\": \"a\"}, \"warnings\": []}");
    g_autoptr(JsonNode) bare = test_json_parse("{\"name\": \"b\", \"id\": 2}");
    g_autoptr(JsonNode) neither = test_json_parse("{\"disks\": []}");

    g_assert_cmpstr(vsh_json_string(vsh_json_domain(wrapped), "name", NULL), ==, "a");
    g_assert_cmpstr(vsh_json_string(vsh_json_domain(bare), "name", NULL), ==, "b");
    g_assert_null(vsh_json_domain(neither));
    g_assert_cmpint(vsh_json_int(vsh_json_domain(bare), "id", -1), ==, 2);
    g_assert_cmpint(vsh_json_int(vsh_json_domain(bare), "missing", -1), ==, -1);
    g_assert_true(vsh_json_bool(NULL, "x", TRUE));
    g_assert_cmpstr(vsh_json_string(vsh_json_domain(bare), "id", "fb"), ==, "fb");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vsh/render/list-table", test_list_table);
    g_test_add_func("/vsh/render/list-title", test_list_title);
    g_test_add_func("/vsh/render/list-plain", test_list_plain);
    g_test_add_func("/vsh/render/list-empty", test_list_empty);
    g_test_add_func("/vsh/render/dominfo", test_dominfo);
    g_test_add_func("/vsh/render/json-domain", test_json_domain);
    return g_test_run();
}
