/* The task log (issue 14): the last long operations of this daemon run,
 * running or ended, for GET /v1/tasks and the web console's Task log.
 *
 * Two sources feed it: the event bus's "job" events (a domain's save,
 * restore, snapshot, migration ... began, completed or failed: one task
 * per Started, closed by the next Completed/Failed of the same domain and
 * operation) and the storage "busy" registry (a volume's create, clone,
 * upload ... acquired and released, with its live progress). The last
 * VD_TASKS_KEEP are kept in memory; nothing survives a restart. Main loop
 * only.
 *
 * A running task is "cancellable" when something can stop it: a domain
 * job that domjobabort may abort (migrations, saves, dumps ...), a volume
 * operation that set a cancel hook (image build, upload). vd_tasks_cancel
 * asks it to stop; the task then ends "cancelled". */
#pragma once

#include <json-glib/json-glib.h>

#include "daemon/storage/storage.h"

#define VD_TASKS_KEEP 200

/* Subscribes to the event bus (once, at daemon start). */
void vd_tasks_init(void);

/* From vd_storage_busy_acquire / _release: a volume operation began, ended. */
void vd_tasks_volume_begin(VdStorageOp *op);
void vd_tasks_volume_end(VdStorageOp *op);

/* {"tasks": [...]}: newest first. */
JsonNode *vd_tasks_to_json(VdDaemon *d);
/* POST /v1/tasks/ID/cancel: VD_ERROR_NOT_FOUND for an unknown task,
 * VD_ERROR_INVALID_STATE for one that ended or cannot be cancelled. */
gboolean vd_tasks_cancel(VdDaemon *d, guint64 id, GError **error);
