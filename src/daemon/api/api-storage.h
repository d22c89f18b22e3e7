/* The storage part of the API (api-storage.c, api-storage-data.c). */
#pragma once

#include "daemon/api/api-internal.h"
#include "daemon/storage/storage.h"

/* Handlers for /v1/pools... and /v1/volumes. */
void vd_api_storage_dispatch(VdApiRequest *req, const char *method);

/* Called by the early handler: TRUE when @msg is a PUT of volume data,
 * which is exempt from the body limit because it is streamed to the file
 * as it arrives. Checks the volume first and answers the error itself. */
gboolean vd_api_storage_data_early(VdDaemon *d, SoupServerMessage *msg, const char *path);
/* PUT/GET /v1/pools/{pool}/volumes/{vol}/data. */
void vd_api_storage_data(VdApiRequest *req, const char *method, VdStoragePool *pool,
                         const char *vol);

/* A volume summary, with the "operation" running on it if any. */
void vd_api_add_volume(JsonBuilder *b, const VdStorageVolDef *vol, const char *pool,
                       VdStorage *storage);
/* GET /v1/jobs: every running volume operation. */
void vd_api_storage_jobs(VdApiRequest *req);
void vd_api_reply_volume(VdApiRequest *req, guint status, const VdStorageVolDef *vol,
                         const char *pool);
