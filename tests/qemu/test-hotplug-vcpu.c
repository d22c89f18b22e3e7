/* qemu/qemu-hotplug-vcpu.c: the QMP commands setvcpus --live sends, from
 * query-hotpluggable-cpus answers recorded from QEMU 7.2 (tests/data/
 * hotplug/vcpu-*.query.json), compared with golden files
 * (vcpu-CASE.json; VD_REGENERATE=1 rewrites them). */
#include <string.h>

#include "golden.h"
#include "qemu/qemu-hotplug-vcpu.h"
#include "util/vd-error.h"

#define DIR VD_TEST_DATA_DIR "/hotplug"

static GPtrArray *
load_slots(const char *query)
{
    g_autofree char *name = g_strconcat("vcpu-", query, NULL);
    g_autofree char *text = test_golden_read(DIR, name, ".query.json");
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) error = NULL;
    g_assert_true(json_parser_load_from_data(p, text, -1, &error));
    GPtrArray *slots = vd_qemu_vcpu_slots(json_parser_get_root(p), &error);
    g_assert_no_error(error);
    return slots;
}

typedef struct {
    const char *name;  /* golden: vcpu-NAME.json */
    const char *query; /* input: vcpu-QUERY.query.json */
    guint target;
} PlanCase;

static const PlanCase plan_cases[] = {
    {"plug-1to3", "pc-1of4", 3},
    {"plug-1to4", "pc-1of4", 4},
    {"same-1", "pc-1of4", 1},
    {"unplug-3to2", "pc-3of4", 2},
    {"unplug-3to1", "pc-3of4", 1},
    {"topology-plug-2to5", "topology-2of8", 5},
    {"topology-unplug-2to1", "topology-2of8", 1},
};

static void
test_plan(gconstpointer data)
{
    const PlanCase *c = data;
    g_autoptr(GPtrArray) slots = load_slots(c->query);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonArray) plan = vd_qemu_vcpu_plan(slots, c->target, &error);
    g_assert_no_error(error);
    g_autoptr(JsonNode) node = json_node_new(JSON_NODE_ARRAY);
    json_node_set_array(node, plan);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_pretty(gen, TRUE);
    json_generator_set_root(gen, node);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    g_autofree char *with_nl = g_strconcat(text, "\n", NULL);
    g_autofree char *path = g_strdup_printf(DIR "/vcpu-%s.json", c->name);
    test_golden_check(path, with_nl);
}

static void
test_slots(void)
{
    g_autoptr(GPtrArray) slots = load_slots("topology-2of8");
    g_assert_cmpuint(slots->len, ==, 8);
    g_assert_cmpuint(vd_qemu_vcpu_slots_present(slots), ==, 2);
    /* Topology order: socket, core, thread; index = QEMU's cpu-index. */
    const VdQemuVcpuSlot *s5 = g_ptr_array_index(slots, 5);
    g_assert_cmpuint(s5->index, ==, 5);
    g_assert_cmpint(json_object_get_int_member(s5->props, "socket-id"), ==, 1);
    g_assert_cmpint(json_object_get_int_member(s5->props, "core-id"), ==, 0);
    g_assert_cmpint(json_object_get_int_member(s5->props, "thread-id"), ==, 1);
    g_assert_cmpstr(((VdQemuVcpuSlot *)g_ptr_array_index(slots, 1))->qom_path, ==,
                    "/machine/unattached/device[1]");

    /* Not the shape of the answer: refused. */
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) empty = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(empty, json_array_new());
    g_assert_null(vd_qemu_vcpu_slots(empty, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
}

static void
test_refusals(void)
{
    g_autoptr(GPtrArray) slots = load_slots("pc-1of4");
    g_autoptr(GError) error = NULL;
    g_assert_null(vd_qemu_vcpu_plan(slots, 8, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_assert_nonnull(strstr(error->message, "requested vcpus is greater than max allowable "
                                            "vcpus for the live domain: 8 > 4"));
    g_assert_nonnull(strstr(error->message, "--config --maximum"));
    g_clear_error(&error);
    g_assert_null(vd_qemu_vcpu_plan(slots, 0, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hotplug-vcpu/slots", test_slots);
    g_test_add_func("/hotplug-vcpu/refusals", test_refusals);
    for (gsize i = 0; i < G_N_ELEMENTS(plan_cases); i++) {
        g_autofree char *path = g_strdup_printf("/hotplug-vcpu/plan/%s", plan_cases[i].name);
        g_test_add_data_func(path, &plan_cases[i], test_plan);
    }
    return g_test_run();
}
