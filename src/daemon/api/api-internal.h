/* Shared between the API's router (api.c) and its handlers. */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "daemon/daemon.h"

#define VD_API_MAX_BODY (1024 * 1024)
/* All request bodies being received or held at once (volume data aside). */
#define VD_API_BODY_BUDGET (32 * 1024 * 1024)

typedef struct {
    VdDaemon *d;
    SoupServerMessage *msg;     /* ref'd */
    GHashTable *query;          /* decoded query parameters, may be NULL */
    char **segments;            /* decoded path segments after /v1 */
    guint nsegments;
    gboolean paused;
} VdApiRequest;

/* Replies and completes (unpausing if needed); frees @req. */
void vd_api_reply_json(VdApiRequest *req, guint status, JsonNode *node);
void vd_api_reply_error(VdApiRequest *req, const GError *error);
void vd_api_reply_text(VdApiRequest *req, guint status, const char *content_type, const char *text);
/* Like vd_api_reply_text for binary bodies; takes @data (g_malloc'd). */
void vd_api_reply_bytes(VdApiRequest *req, guint status, const char *content_type, char *data,
                        gsize len);
void vd_api_pause(VdApiRequest *req);
/* Frees @req without answering: for handlers that stream the answer
 * themselves (they hold their own reference to the message). */
void vd_api_request_release(VdApiRequest *req);

gboolean vd_api_query_bool(VdApiRequest *req, const char *name);
/* "method M is not allowed on 'PATH'" (405). */
void vd_api_reply_not_allowed(VdApiRequest *req, const char *method);
/* A request on a collection itself (/v1/networks, /v1/pools): GET @list,
 * POST @define, any other method not allowed. */
void vd_api_dispatch_collection(VdApiRequest *req, const char *method,
                                void (*list)(VdApiRequest *req), void (*define)(VdApiRequest *req));
/* For the result of a look-up at the start of a handler: TRUE if @found,
 * else FALSE after answering @error (the look-up's "no such ..."). */
gboolean vd_api_check_found(VdApiRequest *req, gconstpointer found, const GError *error);
/* A "warnings" array member of @warnings' strings; nothing if NULL. */
void vd_api_add_warnings(JsonBuilder *b, GPtrArray *warnings);
/* A list answer, {"@member": [...]}: vd_api_list_begin opens it,
 * vd_api_list_wants says whether an object that is @active is asked for
 * (running ones; all with ?all=1, inactive ones with ?inactive=1), and
 * vd_api_list_reply closes it and answers 200. */
JsonBuilder *vd_api_list_begin(const char *member);
gboolean vd_api_list_wants(VdApiRequest *req, gboolean active);
void vd_api_list_reply(VdApiRequest *req, JsonBuilder *b);
/* The JSON text of an error in the one shape of docs/api.md (valid UTF-8
 * whatever the message holds), and its HTTP status. */
char *vd_api_error_json(const GError *error, guint *status, gsize *len);

/* api-body.c. From an early handler: refuses a body over the limit at
 * once by its Content-Length (FALSE: refused, the connection is closed),
 * else watches it as it arrives (chunked bodies, and the daemon's budget
 * for all bodies, VD_API_BODY_BUDGET). */
gboolean vd_api_body_limit_early(VdDaemon *d, SoupServerMessage *msg);
/* Answers @error on @msg's connection and closes it, without reading
 * the rest of the request (libsoup's reading is stopped). */
void vd_api_refuse_and_close(SoupServerMessage *msg, const GError *error);
/* The request body as a NUL-terminated string, or NULL + error. */
char *vd_api_body_text(VdApiRequest *req, GError **error);
/* The request body as a JSON object (an empty body gives NULL, no error).
 * Refused before parsing: nesting deeper than VD_JSON_MAX_DEPTH, \u0000,
 * invalid UTF-8 (util/vd-json-guard.h). */
JsonObject *vd_api_body_json(VdApiRequest *req, GError **error);
/* Member @name of a JSON body (may be NULL) as a boolean: @out is left
 * as it is when there is none; FALSE + error when it is not a boolean. */
gboolean vd_api_body_bool(JsonObject *body, const char *name, gboolean *out, GError **error);
/* Member @name of a JSON body (may be NULL) if it is a string, else NULL. */
const char *vd_api_body_string(JsonObject *body, const char *name);
/* The body of PUT .../autostart, {"autostart": true|false}, for pools
 * and networks: FALSE + error for anything else. */
gboolean vd_api_body_autostart(VdApiRequest *req, gboolean *on, GError **error);

/* Handlers for /v1/domains... (api-domains.c). */
void vd_api_domains_dispatch(VdApiRequest *req, const char *method);
/* Handlers for /v1/networks... (api-networks.c). */
void vd_api_networks_dispatch(VdApiRequest *req, const char *method);
/* The summary object of a domain, as every domain answer has it. */
void vd_api_add_domain_summary(JsonBuilder *b, const VdDomainObj *dom);
/* Replies {"domain": summary} (api-body.c): the answer of the requests
 * whose result is the domain itself (domrename, save, restore ...). */
void vd_api_reply_domain(VdApiRequest *req, guint status, const VdDomainObj *dom);
/* A domain's interfaces (api-domain-net.c): /v1/domains/
 * {dom}/interfaces.... FALSE: not one of these
 * (the caller answers not found / bad method). */
gboolean vd_api_domain_net_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method);

/* ---- Issue 11: live device management, vCPUs, memory, statistics ---- */

/* The device routes (api-domain-devices.c): POST /v1/domains/D/devices
 * (attach-device), POST .../devices/detach, PUT .../devices
 * (update-device), the device's XML as the body, ?live=1&config=1 the
 * scope. The dispatcher reads the body, resolves the scope
 * (vd_domain_affect) and hands the element to its class's handler, which
 * replies (vd_api_device_reply) once the change is done or failed. */
typedef enum {
    VD_DEVICE_ATTACH,
    VD_DEVICE_DETACH,
    VD_DEVICE_UPDATE,
} VdDeviceOp;
typedef void (*VdApiDeviceHandler)(VdApiRequest *req, VdDomainObj *dom, VdDeviceOp op,
                                   const char *xml, gboolean live, gboolean config);
void vd_api_net_device(VdApiRequest *req, VdDomainObj *dom, VdDeviceOp op, const char *xml,
                       gboolean live, gboolean config);        /* <interface>: api-domain-net.c */
void vd_api_net_update(VdApiRequest *req, VdDomainObj *dom, const char *xml, gboolean live,
                       gboolean config);                       /* api-domain-net.c */
void vd_api_disk_device(VdApiRequest *req, VdDomainObj *dom, VdDeviceOp op, const char *xml,
                        gboolean live, gboolean config);       /* <disk>: api-domain-disk.c */
void vd_api_controller_device(VdApiRequest *req, VdDomainObj *dom, VdDeviceOp op,
                              const char *xml, gboolean live,
                              gboolean config);                /* <controller>: api-domain-disk.c */
void vd_api_memdev_device(VdApiRequest *req, VdDomainObj *dom, VdDeviceOp op, const char *xml,
                          gboolean live, gboolean config);     /* <memory>: api-domain-memdev.c */
/* The answer of every device route: {"domain": summary, "device": XML}
 * (201 for an attach, with the device as attached; 200 otherwise, with
 * "device" when given), or the error. */
void vd_api_device_reply(VdApiRequest *req, VdDomainObj *dom, const GError *error, VdDeviceOp op,
                         const char *device_xml);
/* The end of a handler's checks: with no *@error yet, resolves the scope
 * of ?live=1&config=1 (vd_domain_affect); then replies *@error, if any,
 * and returns FALSE. */
gboolean vd_api_affect_or_reply(VdApiRequest *req, VdDomainObj *dom, gboolean *live,
                                gboolean *config, GError **error);
/* Adds the member "@k": @v. */
void vd_api_add_int(JsonBuilder *b, const char *k, gint64 v);
/* Each class's own routes under /v1/domains/D/ (FALSE: not one of its
 * routes; the caller answers not found): disks/... (api-domain-disk.c),
 * vcpus... and emulatorpin (api-domain-vcpu.c), memory... (api-domain-
 * memory.c), memory-devices/... (api-domain-memdev.c), stats
 * (api-domain-stats.c). The routes are in docs/api.md. */
gboolean vd_api_domain_devices_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method);
gboolean vd_api_domain_disk_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method);
gboolean vd_api_domain_vcpu_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method);
gboolean vd_api_domain_memory_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method);
gboolean vd_api_domain_memdev_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method);
gboolean vd_api_domain_stats_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method);
/* Issue 12's routes under /v1/domains/D/ (same contract as above):
 * snapshots/... (api-domain-snapshot.c), disks/T/commit|pull and
 * blockjobs/T (api-domain-blockjob.c), save, managedsave, job
 * (api-domain-save.c), clone and rename (api-domain-clone.c). */
gboolean vd_api_domain_snapshot_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method);
gboolean vd_api_domain_blockjob_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method);
gboolean vd_api_domain_save_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method);
gboolean vd_api_domain_clone_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method);
/* POST /v1/domains/clone {"original_xml": XML, ...}: virt-clone --original-xml. */
void vd_api_domain_clone_xml(VdApiRequest *req);
/* /v1/save-images/...: restore, save-image-dumpxml (api-domain-save.c). */
void vd_api_save_images_dispatch(VdApiRequest *req, const char *method);
/* Issue 13, migration (api-migration.c): under /v1/domains/D/: migrate,
 * migration-params (max downtime, speed), migration-postcopy. */
gboolean vd_api_domain_migration_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method);
/* /v1/migrations/...: the destination's side of a migration (prepare,
 * finish, abort, status, disk streams) and GET /v1/migrations/identity
 * (which daemon this is). */
void vd_api_migrations_dispatch(VdApiRequest *req, const char *method);
/* PUT /v1/migrations/ID/disks/TARGET, an offline --copy-storage-all's
 * disk stream (api-migration-disk.c): the early handler takes the body
 * chunk by chunk (TRUE when @path is such a PUT; refused requests are
 * answered there); vd_api_migrations_dispatch calls
 * vd_api_migration_disk once the body is read. */
gboolean vd_api_migration_disk_early(VdDaemon *d, SoupServerMessage *msg, const char *path);
void vd_api_migration_disk(VdApiRequest *req);
/* GET /v1/domain-stats?...: the statistics of many domains in one answer
 * (api-domain-stats.c). */
void vd_api_stats_dispatch(VdApiRequest *req, const char *method);
/* Issue 14, usage history (api-usage.c): GET /v1/domains/D/usage?range=
 * (FALSE: not this route), and GET /v1/usage. */
gboolean vd_api_domain_usage_dispatch(VdApiRequest *req, VdDomainObj *dom, const char *method);
void vd_api_usage_dispatch(VdApiRequest *req, const char *method);
/* Issue 15: GET /v1/host/{validate,node,memory-stats,cpu-stats,sysinfo}
 * (api-host.c) and GET /v1/metrics, Prometheus's text format
 * (api-metrics.c). FALSE: not their route. */
gboolean vd_api_host_dispatch(VdApiRequest *req, const char *method);
gboolean vd_api_metrics_dispatch(VdApiRequest *req, const char *method);
/* Issue 14, api-images.c: /v1/images/build, /v1/install-media, and
 * /v1/tasks/ID/cancel (DELETE /v1/tasks/ID). */
void vd_api_images_dispatch(VdApiRequest *req, const char *method);
void vd_api_tasks_dispatch(VdApiRequest *req, const char *method);
/* At daemon exit: running image builds are killed and what they made
 * removed (blocking: the main loop has ended). */
void vd_api_images_shutdown(void);

/* api-install-media.c: POST /v1/install-media (through the helper
 * virtd-install-media for an ISO); the shutdown stops running helpers. */
void vd_api_install_media(VdApiRequest *req);
void vd_api_install_media_shutdown(void);

/* GET /v1/events: the event stream, server-sent events
 * (daemon/events/events-sse.c). */
void vd_api_events(VdApiRequest *req, const char *method);

/* Graphics (api-display.c): GET .../display and .../screenshot. */
void vd_api_handle_display(VdApiRequest *req, VdDomainObj *dom);
void vd_api_handle_screenshot(VdApiRequest *req, VdDomainObj *dom);
/* POST .../send-key (api-display.c). */
void vd_api_handle_send_key(VdApiRequest *req, VdDomainObj *dom);
/* The compatibility report (api-domain-check.c): POST /v1/domains/check
 * with a definition, GET /v1/domains/NAME/check. */
void vd_api_domain_check_xml(VdApiRequest *req);
void vd_api_domain_check(VdApiRequest *req, VdDomainObj *dom);
/* POST /v1/domains/NAME/qemu-monitor: one QMP command (api-qemu-monitor.c). */
void vd_api_qemu_monitor(VdApiRequest *req, VdDomainObj *dom);
/* The graphical console's WebSocket, GET /v1/domains/NAME/vnc
 * (api-vnc.c): FALSE when @req is not for it; else it is answered (101
 * or an error) and freed. */
gboolean vd_api_vnc_upgrade(VdApiRequest *req);
/* The WebSocket console (api-domains.c). */
gboolean vd_api_console_precheck(VdApiRequest *req, GError **error);
void vd_api_console_attach(VdDaemon *d, const char *key, gboolean force,
                           SoupWebsocketConnection *ws);
