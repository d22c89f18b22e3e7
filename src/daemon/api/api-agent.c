/* What the API asks of a domain's guest agent (domain/guest-agent.h):
 * its view of the interfaces (GET .../interfaces/addresses?source=agent,
 * routed by the addresses handler) and a ping (GET .../agent/ping). Both
 * answer asynchronously: the agent may take up to its timeout. */
#include "daemon/api/api-agent.h"

#include "daemon/domain/guest-agent.h"
#include "util/vd-error.h"

static void
addresses_done(GObject *source, GAsyncResult *res, gpointer data)
{
    VdApiRequest *req = data;
    g_autoptr(GError) error = NULL;
    JsonNode *ifaces = vd_guest_agent_interfaces_finish(res, &error);
    if (!ifaces) {
        vd_api_reply_error(req, error);
        return;
    }
    JsonObject *o = json_object_new();
    json_object_set_member(o, "interfaces", ifaces);
    JsonNode *root = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(root, o);
    vd_api_reply_json(req, 200, root);
}

void
vd_api_domain_addresses_agent(VdApiRequest *req, VdDomainObj *dom)
{
    vd_api_pause(req);
    vd_guest_agent_interfaces(req->d, dom, VD_GUEST_AGENT_TIMEOUT, addresses_done, req);
}

static void
ping_done(GObject *source, GAsyncResult *res, gpointer data)
{
    VdApiRequest *req = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) reply = vd_guest_agent_call_finish(res, &error);
    if (!reply) {
        vd_api_reply_error(req, error);
        return;
    }
    JsonObject *o = json_object_new();
    json_object_set_boolean_member(o, "ok", TRUE);
    JsonNode *root = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(root, o);
    vd_api_reply_json(req, 200, root);
}

void
vd_api_domain_agent_ping(VdApiRequest *req, VdDomainObj *dom)
{
    vd_api_pause(req);
    vd_guest_agent_call(req->d, dom, "guest-ping", NULL, VD_GUEST_AGENT_TIMEOUT, ping_done, req);
}
