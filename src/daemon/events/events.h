/* The daemon's event bus (issue 14): what happens to domains and networks,
 * published where it happens and delivered to every subscriber at once,
 * in the main loop. `GET /v1/events` (events-sse.c) streams it to clients
 * as server-sent events; `vsh event` and the web console read that stream.
 *
 * An event is what virsh's `event` command reports, in virsh's words:
 * kind "lifecycle" with event "Started" and detail "Booted", kind
 * "watchdog" with detail "pause", ... (docs/events.md lists them). Events
 * are not kept: a subscriber sees those published while it is subscribed.
 * Publishing never blocks and never fails; with no subscriber it costs a
 * counter increment. */
#pragma once

#include <json-glib/json-glib.h>

#include "conf/domain-def.h"
#include "daemon/domain/domain-state.h"

typedef struct {
    guint64 seq;         /* 1, 2, ... per daemon run */
    const char *kind;    /* "lifecycle", "reboot", "watchdog", "io-error", "balloon-change",
                          * "device-added", "device-removed", "block-job", "job",
                          * "net-lifecycle" */
    const char *domain;  /* the domain's name; NULL for a network's event */
    const char *network; /* the network's name; NULL for a domain's event */
    const char *event;   /* lifecycle: "Started"; job: "Started", "Completed", "Failed" */
    const char *detail;  /* lifecycle: "Booted"; watchdog: the action; may be "" */
    GBytes *sse;         /* the whole SSE frame, "data: {JSON}\n\n" */
} VdEvent;

typedef void (*VdEventFunc)(const VdEvent *event, gpointer user_data);

/* Calls @func for every event published from now on, until
 * vd_events_unsubscribe(). Returns an id > 0. */
guint vd_events_subscribe(VdEventFunc func, gpointer user_data);
/* Safe from within @func. */
void vd_events_unsubscribe(guint id);
guint vd_events_subscribers(void);

/* Publishes one event. @extra (may be NULL, taken): members added to the
 * JSON as they are (io-error's "path", "alias", ...). */
void vd_events_publish(const char *kind, const char *domain, const char *network,
                       const char *uuid, const char *event, const char *detail,
                       JsonObject *extra);

/* ---- domains (events-domain.c) ---- */

/* The lifecycle events of a state change, as libvirt sends them (pure; 0,
 * 1 or 2 events: "Started Booted" + "Suspended Paused" for a start
 * --paused). @events and @details get static strings. */
guint vd_events_lifecycle_for(VdState old_state, VdStateReason old_reason, VdState state,
                              VdStateReason reason, const char *events[2],
                              const char *details[2]);
/* Shorthands for a domain: its name and UUID. */
void vd_events_domain(const char *name, const char *uuid, const char *kind, const char *event,
                      const char *detail, JsonObject *extra);
/* From vd_domain_obj_set_state(): the lifecycle events of the change. */
void vd_events_domain_state(const char *name, const char *uuid, VdState old_state,
                            VdStateReason old_reason, VdState state, VdStateReason reason);
/* A QMP event of a domain's QEMU that virsh reports (WATCHDOG, RESET,
 * BLOCK_IO_ERROR, BALLOON_CHANGE, DEVICE_DELETED): from the QMP event
 * dispatcher, before the daemon acts on it. @def (the live definition,
 * may be NULL) names an I/O error's disk. */
void vd_events_domain_qmp(const char *name, const char *uuid, const VdDomainDef *def,
                          const char *qmp_event, JsonObject *data);
/* A long operation (domain-job.h) began or ended: kind "job", event
 * "Started" or "Completed"/"Failed", detail the operation ("Save", ...);
 * an end carries "elapsed_ms". */
void vd_events_domain_job(const char *name, const char *uuid, const char *operation,
                          gboolean begin, gboolean succeeded, gint64 elapsed_ms);
