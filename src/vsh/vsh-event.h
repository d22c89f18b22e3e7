/* vsh event and net-event: the daemon's event stream (GET /v1/events,
 * docs/events.md) printed as virsh prints its events. */
#pragma once

#include <json-glib/json-glib.h>

/* virsh's domain event names, in `virsh event --list` order. */
extern const char *const vsh_domain_event_names[];

/* The daemon's kind ("lifecycle", "job", ...) an event name of
 * `event --event NAME` is served as, or NULL when the daemon sends no
 * such events (a valid name all the same: nothing will come). */
const char *vsh_event_kind_of(const char *name);

/* The lines virsh prints for @ev (an event object of the stream), with
 * "YYYY-MM-DD HH:MM:SS.mmm+0000: " first when @timestamp; NULL for an
 * event virsh would not print under @name (NULL: any). Pure: for tests. */
char *vsh_event_format(JsonObject *ev, const char *name, gboolean timestamp);

/* "2026-12-01T02:00:00.123Z" -> "2026-12-01 02:00:00.123+0000" (virsh's
 * timestamp), NULL if @rfc3339 is not in that form. */
char *vsh_event_timestamp(const char *rfc3339);
