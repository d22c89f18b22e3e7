/* The task log (daemon/events/tasks.h): domain jobs from the event bus's
 * "job" events, volume operations from the storage registry's begin and
 * end, newest first, the oldest ended ones dropped past VD_TASKS_KEEP. */
#include <string.h>

#include "daemon/events/events.h"
#include "daemon/events/tasks.h"

static JsonArray *
tasks_now(JsonNode **keep)
{
    *keep = vd_tasks_to_json(NULL);
    return json_object_get_array_member(json_node_get_object(*keep), "tasks");
}

static VdStorageOp *
fake_op(const char *kind, const char *volume)
{
    VdStorageOp *op = g_atomic_rc_box_new0(VdStorageOp);
    op->kind = g_strdup(kind);
    op->pool = g_strdup("p1");
    op->volume = g_strdup(volume);
    op->path = g_strdup_printf("/srv/p1/%s", volume);
    op->started_at = g_get_real_time();
    return op;
}

static void
test_tasks(void)
{
    g_autoptr(JsonNode) n1 = NULL, n2 = NULL, n3 = NULL, n4 = NULL;
    vd_tasks_init();

    vd_events_domain_job("web1", "u1", "Save", TRUE, FALSE, 0);
    VdStorageOp *op = fake_op("upload", "boot.iso");
    vd_tasks_volume_begin(op);
    vd_storage_op_set_progress(op, 42.5);
    JsonArray *a = tasks_now(&n1);
    g_assert_cmpuint(json_array_get_length(a), ==, 2);
    JsonObject *up = json_array_get_object_element(a, 0); /* newest first */
    g_assert_cmpstr(json_object_get_string_member(up, "volume"), ==, "boot.iso");
    g_assert_cmpstr(json_object_get_string_member(up, "state"), ==, "running");
    g_assert_cmpfloat(json_object_get_double_member(up, "progress"), ==, 42.5);
    JsonObject *save = json_array_get_object_element(a, 1);
    g_assert_cmpstr(json_object_get_string_member(save, "domain"), ==, "web1");
    g_assert_cmpstr(json_object_get_string_member(save, "operation"), ==, "Save");
    g_assert_false(json_object_has_member(save, "ended_at"));

    /* Ends: the save failed, the upload failed with its reason. */
    vd_events_domain_job("web1", "u1", "Save", FALSE, FALSE, 1200);
    vd_storage_op_set_failure(op, "No space left on device");
    vd_tasks_volume_end(op);
    vd_storage_op_unref(op);
    a = tasks_now(&n2);
    up = json_array_get_object_element(a, 0);
    g_assert_cmpstr(json_object_get_string_member(up, "state"), ==, "failed");
    g_assert_cmpstr(json_object_get_string_member(up, "message"), ==, "No space left on device");
    g_assert_cmpfloat(json_object_get_double_member(up, "progress"), ==, 42.5);
    save = json_array_get_object_element(a, 1);
    g_assert_cmpstr(json_object_get_string_member(save, "state"), ==, "failed");
    g_assert_true(json_object_has_member(save, "ended_at"));

    /* An operation that completes: 100 %. */
    op = fake_op("create", "disk.qcow2");
    vd_tasks_volume_begin(op);
    vd_tasks_volume_end(op);
    vd_storage_op_unref(op);
    a = tasks_now(&n3);
    up = json_array_get_object_element(a, 0);
    g_assert_cmpstr(json_object_get_string_member(up, "state"), ==, "completed");
    g_assert_cmpfloat(json_object_get_double_member(up, "progress"), ==, 100);

    /* A running task outlives the limit; ended ones are dropped oldest first. */
    vd_events_domain_job("db1", "u2", "Outgoing migration", TRUE, FALSE, 0);
    for (int i = 0; i < VD_TASKS_KEEP + 50; i++) {
        g_autofree char *name = g_strdup_printf("vm%d", i);
        vd_events_domain_job(name, "u", "Snapshot", TRUE, FALSE, 0);
        vd_events_domain_job(name, "u", "Snapshot", FALSE, TRUE, 5);
    }
    a = tasks_now(&n4);
    g_assert_cmpuint(json_array_get_length(a), ==, VD_TASKS_KEEP);
    JsonObject *last = json_array_get_object_element(a, VD_TASKS_KEEP - 1);
    g_assert_cmpstr(json_object_get_string_member(last, "domain"), ==, "db1");
    g_assert_cmpstr(json_object_get_string_member(last, "state"), ==, "running");
    JsonObject *first = json_array_get_object_element(a, 0);
    g_assert_cmpstr(json_object_get_string_member(first, "domain"), ==, "vm249");
    g_assert_cmpstr(json_object_get_string_member(first, "state"), ==, "completed");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tasks/log", test_tasks);
    return g_test_run();
}
