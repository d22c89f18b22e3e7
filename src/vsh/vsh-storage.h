/* Helpers shared by the storage command files (vsh-pool.c, vsh-volume.c,
 * vsh-volume-data.c). */
#pragma once

#include "vsh-client.h"
#include "vsh.h"

/* "/v1/pools/POOL" + @suffix, @pool percent-encoded. */
char *vsh_pool_path(const char *pool, const char *suffix);
/* A JSON request on a pool's path. */
JsonNode *vsh_pool_call(VshCtl *ctl, const char *method, const char *pool, const char *suffix,
                        JsonNode *body, GError **error);
/* The "pool"/"volume" member of an answer. */
JsonObject *vsh_json_member(JsonNode *answer, const char *member);
/* The contents of a (small, XML) file, virsh's wording on failure. */
GBytes *vsh_read_small_file(const char *file, GError **error);

/* Finds volume VOL (option "vol") of the command: a name in --pool, or
 * a path (or key) of a pool volume. Returns the answer holding its
 * summary; @pool_out and @name_out (may be NULL) get its pool and name. */
JsonNode *vsh_volume_lookup(VshCtl *ctl, const VshCmd *cmd, char **pool_out, char **name_out,
                            GError **error);
/* "/v1/pools/POOL/volumes/VOL" + @suffix, both percent-encoded. */
char *vsh_volume_path(const char *pool, const char *vol, const char *suffix);

/* vol-upload and vol-download (vsh-volume-data.c). */
gboolean vsh_cmd_vol_upload(VshCtl *ctl, const VshCmd *cmd, GError **error);
gboolean vsh_cmd_vol_download(VshCtl *ctl, const VshCmd *cmd, GError **error);

/* POST .../clone of volume @name of @pool with @body while a progress
 * line ("Cloning [...]", @capacity the source's size) follows the daemon's
 * job (vsh-volume-clone.c). Returns the answer, or NULL and the error. */
JsonNode *vsh_volume_clone_with_progress(VshCtl *ctl, const char *pool, const char *name,
                                         const char *new_name, guint64 capacity, JsonNode *body,
                                         GError **error);
