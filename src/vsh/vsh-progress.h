/* The progress of long commands: the progress line of volume commands
 * (vol-upload, vol-download, vol-clone), drawn on stderr only when it is
 * a terminal, and a POST that polls how far the daemon has got while it
 * runs (vol-clone, clone). */
#pragma once

#include <glib.h>

#include "vsh-client.h"

typedef struct {
    const char *verb; /* "Uploading", "Cloning", ... */
    guint64 total;
    guint64 done;
    gint64 last_draw;
    gboolean tty;
} VshProgress;

/* tty is whether stderr is a terminal. */
void vsh_progress_init(VshProgress *p, const char *verb, guint64 total);
/* Redraws at most every 100 ms unless @final, which also ends the line. */
void vsh_progress_draw(VshProgress *p, gboolean final);

/* Each 200 answer to the poll that is JSON (any kind of node). */
typedef void (*VshPollFunc)(JsonNode *answer, gpointer data);
/* Once, when the POST has ended and before its answer is read: @status
 * is its HTTP status, 0 when it got no answer at all. */
typedef void (*VshPollEndFunc)(guint status, gpointer data);

/* POST @path with the JSON @body as vsh_client_call does and, until its
 * answer, GET @poll_path every 250 ms (libsoup opens a second connection
 * for it), giving @on_poll each answer. A failed poll costs only the
 * progress shown: the POST's own answer says whether it worked. Returns
 * the POST's answer (a JSON object), or NULL and the error. */
JsonNode *vsh_client_post_polling(VshClient *client, const char *path, JsonNode *body,
                                  const char *poll_path, VshPollFunc on_poll, VshPollEndFunc on_end,
                                  gpointer data, GError **error);
