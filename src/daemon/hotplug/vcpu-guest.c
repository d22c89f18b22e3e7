/* setvcpus --guest and vcpucount --guest through the guest agent
 * (vcpu-live.h): guest-get-vcpus, then guest-set-vcpus onlining the first
 * N of the guest's CPUs and offlining the others. */
#include "daemon/domain/guest-agent.h"
#include "daemon/hotplug/vcpu-live.h"
#include "util/vd-error.h"

/* ---- the guest agent ---------------------------------------------------------- */

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom; /* a reference */
    guint count;
    guint *out;
    VdDomainWaitFunc done;
    gpointer data;
} GuestOp;

static void
guest_finish(GuestOp *op, const GError *error)
{
    op->done(op->dom, error, op->data);
    vd_domain_obj_unref(op->dom);
    g_free(op);
}

static void
guest_set_reply(GObject *source, GAsyncResult *res, gpointer data)
{
    GuestOp *op = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vd_guest_agent_call_finish(res, &error);
    (void)source;
    guest_finish(op, error);
}

static void
guest_get_reply(GObject *source, GAsyncResult *res, gpointer data)
{
    GuestOp *op = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = vd_guest_agent_call_finish(res, &error);
    (void)source;
    JsonArray *cpus = ret && JSON_NODE_HOLDS_ARRAY(ret) ? json_node_get_array(ret) : NULL;
    if (!error && !cpus)
        error = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                            "operation failed: guest-get-vcpus gave no list");
    if (error) {
        guest_finish(op, error);
        return;
    }
    guint n = json_array_get_length(cpus);
    if (op->out) {
        guint online = 0;
        for (guint i = 0; i < n; i++)
            online += json_object_get_boolean_member_with_default(
                json_array_get_object_element(cpus, i), "online", FALSE);
        *op->out = online;
        guest_finish(op, NULL);
        return;
    }
    if (op->count > n) {
        error = g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                            "invalid argument: requested vcpu count is greater than the count "
                            "of vcpus in the guest: %u > %u (hot-plug CPUs first: setvcpus "
                            "--live)",
                            op->count, n);
        guest_finish(op, error);
        return;
    }
    /* The first @count online, the others offline (those that can). */
    JsonArray *set = json_array_new();
    for (guint i = 0; i < n; i++) {
        JsonObject *c = json_array_get_object_element(cpus, i);
        gboolean want = i < op->count;
        if (json_object_get_boolean_member_with_default(c, "online", FALSE) == want)
            continue;
        if (!want && !json_object_get_boolean_member_with_default(c, "can-offline", FALSE))
            continue;
        JsonObject *o = json_object_new();
        json_object_set_int_member(o, "logical-id",
                                   json_object_get_int_member_with_default(c, "logical-id", i));
        json_object_set_boolean_member(o, "online", want);
        json_array_add_object_element(set, o);
    }
    if (json_array_get_length(set) == 0) {
        json_array_unref(set);
        guest_finish(op, NULL);
        return;
    }
    JsonObject *args = json_object_new();
    json_object_set_array_member(args, "vcpus", set);
    vd_guest_agent_call(op->d, op->dom, "guest-set-vcpus", args, 0, guest_set_reply, op);
}

static void
guest_start(VdDaemon *d, VdDomainObj *dom, guint count, guint *out, VdDomainWaitFunc done,
            gpointer data)
{
    GuestOp *op = g_new0(GuestOp, 1);
    op->d = d;
    op->dom = vd_domain_obj_ref(dom);
    op->count = count;
    op->out = out;
    op->done = done;
    op->data = data;
    vd_guest_agent_call(d, dom, "guest-get-vcpus", NULL, 0, guest_get_reply, op);
}

void
vd_vcpu_set_guest(VdDaemon *d, VdDomainObj *dom, guint count, VdDomainWaitFunc done, gpointer data)
{
    if (count == 0) {
        g_autoptr(GError) error = g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                                              "invalid argument: requested vcpus must be at "
                                              "least 1");
        done(dom, error, data);
        return;
    }
    guest_start(d, dom, count, NULL, done, data);
}

void
vd_vcpu_guest_count(VdDaemon *d, VdDomainObj *dom, guint *out, VdDomainWaitFunc done, gpointer data)
{
    guest_start(d, dom, 0, out, done, data);
}
