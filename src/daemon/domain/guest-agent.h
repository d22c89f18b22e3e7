/* The daemon's client for the QEMU guest agent (qemu-ga in the guest),
 * reached through the domain's org.qemu.guest_agent.0 channel, whose
 * socket QEMU listens on (run_dir/domains/NAME.agent, paths.h).
 *
 * Every call is asynchronous and never blocks the main loop: connect,
 * resynchronise with guest-sync-delimited, send the command, read one
 * reply line, disconnect. The agent is a single stream, so calls on one
 * domain run one after the other (a few wait in a queue, more are
 * refused as busy). Each call has its own timeout, counted from when it
 * starts talking to the agent.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "daemon/daemon.h"

#define VD_GUEST_AGENT_TIMEOUT 5 /* seconds, when callers have no reason for another */
/* The largest reply accepted: guest-network-get-interfaces of a guest
 * with many addresses is a few KiB. The guest controls the agent, so
 * anything bigger ends the call instead of being buffered. */
#define VD_GUEST_AGENT_MAX_REPLY (1024 * 1024)
/* Calls waiting behind the one in flight, per domain. */
#define VD_GUEST_AGENT_MAX_QUEUED 8

/* The socket of @dom's guest agent channel (live definition), or NULL +
 * VD_ERROR_UNSUPPORTED naming the XML to add. */
char *vd_guest_agent_socket_path(VdDaemon *d, VdDomainObj *dom, GError **error);

/* Runs agent command @command with @args (may be NULL; the reference is
 * taken) on running domain @dom, waiting at most @timeout_s seconds (0:
 * VD_GUEST_AGENT_TIMEOUT). @cb is called from the main loop, never from
 * inside this function. Errors: VD_ERROR_INVALID_STATE (not running or
 * paused), VD_ERROR_UNSUPPORTED (no agent channel), VD_ERROR_BUSY (too
 * many calls queued), VD_ERROR_TIMEOUT, VD_ERROR_TOO_LARGE,
 * VD_ERROR_OPERATION_FAILED (the agent's own error, a closed channel, a
 * reply that is not JSON). */
void vd_guest_agent_call(VdDaemon *d, VdDomainObj *dom, const char *command, JsonObject *args,
                         guint timeout_s, GAsyncReadyCallback cb, gpointer user_data);
/* The "return" member of the agent's reply (transfer full), or NULL +
 * error. */
JsonNode *vd_guest_agent_call_finish(GAsyncResult *result, GError **error);

/* guest-network-get-interfaces, converted to the shape of docs/api.md
 * "Domain interfaces" addresses: a JSON array of {"name", "mac", "addrs":
 * [{"type": "ipv4"|"ipv6", "addr", "prefix"}]}, the guest's own interface
 * names, "lo" left out (as virsh --source agent does), "mac" null for an
 * interface without one. What the guest says is checked: names are cut
 * to printable text, MACs and addresses that do not parse are dropped. */
void vd_guest_agent_interfaces(VdDaemon *d, VdDomainObj *dom, guint timeout_s,
                               GAsyncReadyCallback cb, gpointer user_data);
JsonNode *vd_guest_agent_interfaces_finish(GAsyncResult *result, GError **error);

/* The conversion alone (exposed for tests): @reply is the agent's
 * "return" value. Never fails: what does not fit is left out. */
JsonNode *vd_guest_agent_interfaces_from_reply(JsonNode *reply);

/* Calls @cb with the agent's reply to a command, for a socket given by
 * path: the layer under vd_guest_agent_call, without a domain (tests
 * drive it with a fake agent). @what names the agent in messages
 * ("guest agent of domain 'x'"). */
void vd_guest_agent_call_path(const char *path, const char *what, const char *command,
                              JsonObject *args, guint timeout_s, GAsyncReadyCallback cb,
                              gpointer user_data);
