/* vCPU hot-plug's QMP arguments (qemu-hotplug-vcpu.h). */
#include "qemu/qemu-hotplug-vcpu.h"

#include "util/vd-error.h"

void
vd_qemu_vcpu_slot_free(VdQemuVcpuSlot *slot)
{
    if (!slot)
        return;
    g_free(slot->type);
    g_free(slot->qom_path);
    if (slot->props)
        json_object_unref(slot->props);
    g_free(slot);
}

static gint64
prop(const VdQemuVcpuSlot *s, const char *name)
{
    return json_object_get_int_member_with_default(s->props, name, 0);
}

static gint
slot_cmp(gconstpointer a, gconstpointer b)
{
    static const char *const keys[] = {"socket-id", "die-id", "cluster-id", "core-id", "thread-id"};
    const VdQemuVcpuSlot *x = *(VdQemuVcpuSlot *const *)a;
    const VdQemuVcpuSlot *y = *(VdQemuVcpuSlot *const *)b;
    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        gint64 u = prop(x, keys[i]), v = prop(y, keys[i]);
        if (u != v)
            return u < v ? -1 : 1;
    }
    return 0;
}

GPtrArray *
vd_qemu_vcpu_slots(JsonNode *result, GError **error)
{
    g_autoptr(GPtrArray) slots =
        g_ptr_array_new_with_free_func((GDestroyNotify)vd_qemu_vcpu_slot_free);
    JsonArray *list = result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    for (guint i = 0; list && i < json_array_get_length(list); i++) {
        JsonNode *n = json_array_get_element(list, i);
        JsonObject *o = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
        JsonNode *props = o ? json_object_get_member(o, "props") : NULL;
        const char *type = o ? json_object_get_string_member_with_default(o, "type", NULL) : NULL;
        if (!props || !JSON_NODE_HOLDS_OBJECT(props) || !type) {
            list = NULL;
            break;
        }
        VdQemuVcpuSlot *s = g_new0(VdQemuVcpuSlot, 1);
        s->type = g_strdup(type);
        s->qom_path = g_strdup(json_object_get_string_member_with_default(o, "qom-path", NULL));
        s->props = json_object_ref(json_node_get_object(props));
        g_ptr_array_add(slots, s);
    }
    if (!list || slots->len == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: query-hotpluggable-cpus gave no CPU slots: this machine "
                    "type cannot hot-plug CPUs");
        return NULL;
    }
    g_ptr_array_sort(slots, slot_cmp);
    for (guint i = 0; i < slots->len; i++)
        ((VdQemuVcpuSlot *)g_ptr_array_index(slots, i))->index = i;
    return g_steal_pointer(&slots);
}

guint
vd_qemu_vcpu_slots_present(const GPtrArray *slots)
{
    guint n = 0;
    for (guint i = 0; i < slots->len; i++)
        n += ((const VdQemuVcpuSlot *)g_ptr_array_index(slots, i))->qom_path != NULL;
    return n;
}

JsonObject *
vd_qemu_vcpu_add_args(const VdQemuVcpuSlot *slot)
{
    JsonObject *args = json_object_new();
    g_autofree char *id = g_strdup_printf("vcpu%u", slot->index);
    json_object_set_string_member(args, "driver", slot->type);
    json_object_set_string_member(args, "id", id);
    /* The props as QEMU listed them, in a fixed order for the goldens. */
    g_autoptr(GList) names = json_object_get_members(slot->props);
    names = g_list_sort(names, (GCompareFunc)g_strcmp0);
    for (GList *l = names; l; l = l->next)
        json_object_set_member(args, l->data,
                               json_node_copy(json_object_get_member(slot->props, l->data)));
    return args;
}

JsonObject *
vd_qemu_vcpu_del_args(const VdQemuVcpuSlot *slot)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "id", slot->qom_path);
    return args;
}

static void
add_command(JsonArray *plan, const char *execute, JsonObject *args)
{
    JsonObject *c = json_object_new();
    json_object_set_string_member(c, "execute", execute);
    json_object_set_object_member(c, "arguments", args);
    json_array_add_object_element(plan, c);
}

JsonArray *
vd_qemu_vcpu_plan(const GPtrArray *slots, guint target, GError **error)
{
    guint present = vd_qemu_vcpu_slots_present(slots);
    if (target == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: requested vcpus must be at least 1");
        return NULL;
    }
    if (target > slots->len) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: requested vcpus is greater than max allowable vcpus for "
                    "the live domain: %u > %u (raise the maximum with 'setvcpus DOMAIN %u "
                    "--config --maximum', then shut the domain down and start it again)",
                    target, slots->len, target);
        return NULL;
    }
    JsonArray *plan = json_array_new();
    if (target > present) {
        guint need = target - present;
        for (guint i = 0; i < slots->len && need; i++) {
            const VdQemuVcpuSlot *s = g_ptr_array_index(slots, i);
            if (s->qom_path)
                continue;
            add_command(plan, "device_add", vd_qemu_vcpu_add_args(s));
            need--;
        }
    } else if (target < present) {
        guint drop = present - target;
        for (guint i = slots->len; i-- > 0 && drop;) {
            const VdQemuVcpuSlot *s = g_ptr_array_index(slots, i);
            if (!s->qom_path)
                continue;
            add_command(plan, "device_del", vd_qemu_vcpu_del_args(s));
            drop--;
        }
    }
    return plan;
}
