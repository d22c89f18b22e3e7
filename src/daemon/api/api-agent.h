/* API handlers that ask the guest agent (api-agent.c). */
#pragma once

#include "daemon/api/api-internal.h"

/* GET /v1/domains/{dom}/interfaces/addresses?source=agent: answers
 * {"interfaces": [{"name", "mac", "addrs": [...]}]} (docs/api.md) or the
 * agent's error, later, from the main loop. */
void vd_api_domain_addresses_agent(VdApiRequest *req, VdDomainObj *dom);
/* GET /v1/domains/{dom}/agent/ping: {"ok": true} once the agent answers
 * guest-ping. */
void vd_api_domain_agent_ping(VdApiRequest *req, VdDomainObj *dom);
