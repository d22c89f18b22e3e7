/* POST /v1/domains/NAME/qemu-monitor: one QMP command passed to the
 * domain's QEMU, for debugging (virsh qemu-monitor-command). The body is
 * the command as QMP has it, {"execute": "query-pci", "arguments": {...}},
 * or {"hmp": "info pci"} for a human monitor command; the answer is
 * {"return": ...} with QMP's result (HMP's text as a string), QMP's error
 * as an operation failure.
 *
 * The daemon does not follow what such a command changes (a "stop", a
 * device_del ...): it is logged, and the documentation says so. */
#include "daemon/access/access.h"
#include "daemon/api/api-internal.h"
#include "util/vd-error.h"

typedef struct {
    VdApiRequest *req;
    VdDomainObj *dom;
} MonitorCall;

static void
monitor_done(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    MonitorCall *call = data;

    if (error) {
        vd_api_reply_error(call->req, error);
    } else {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "return");
        if (result)
            json_builder_add_value(b, json_node_copy(result));
        else
            json_builder_add_null_value(b);
        json_builder_end_object(b);
        vd_api_reply_json(call->req, 200, json_builder_get_root(b));
    }
    vd_domain_obj_unref(call->dom);
    g_free(call);
}

void
vd_api_qemu_monitor(VdApiRequest *req, VdDomainObj *dom)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) body = vd_api_body_json(req, &error);
    const char *execute = vd_api_body_string(body, "execute");
    const char *hmp = vd_api_body_string(body, "hmp");
    JsonObject *args = NULL;

    /* A QMP command can open any host file as root (blockdev-add). */
    if (!error)
        vd_access_require(req->d, req->msg, "the raw QEMU monitor (qemu-monitor-command)", &error);
    if (error) {
        vd_api_reply_error(req, error);
        return;
    }
    if (!vd_state_is_active(dom->state) || !dom->qmp || !vd_qmp_is_connected(dom->qmp)) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: domain '%s' is not running", dom->name);
        vd_api_reply_error(req, error);
        return;
    }
    if (!execute == !hmp) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: send {\"execute\": \"COMMAND\", \"arguments\": {...}} "
                    "or {\"hmp\": \"COMMAND LINE\"}");
        vd_api_reply_error(req, error);
        return;
    }
    if (execute && json_object_has_member(body, "arguments")) {
        JsonNode *a = json_object_get_member(body, "arguments");
        if (!JSON_NODE_HOLDS_OBJECT(a)) {
            g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid argument: \"arguments\" must be an object");
            vd_api_reply_error(req, error);
            return;
        }
        args = json_object_ref(json_node_get_object(a));
    }
    if (hmp) {
        args = json_object_new();
        json_object_set_string_member(args, "command-line", hmp);
        execute = "human-monitor-command";
    }
    /* What the daemon did not ask for, in its log: a command may change
     * the guest behind the daemon's back. */
    g_message("domain '%s': QMP command '%s'%s%s passed through from a client", dom->name, execute,
              hmp ? ": " : "", hmp ? hmp : "");
    MonitorCall *call = g_new0(MonitorCall, 1);
    call->req = req;
    call->dom = vd_domain_obj_ref(dom);
    vd_api_pause(req);
    vd_qmp_command(dom->qmp, execute, args, monitor_done, call);
}
