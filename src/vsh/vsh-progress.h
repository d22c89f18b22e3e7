/* The progress line of long volume commands (vol-upload, vol-download,
 * vol-clone), drawn on stderr only when it is a terminal. */
#pragma once

#include <glib.h>

typedef struct {
    const char *verb;     /* "Uploading", "Cloning", ... */
    guint64 total;
    guint64 done;
    gint64 last_draw;
    gboolean tty;
} VshProgress;

/* tty is whether stderr is a terminal. */
void vsh_progress_init(VshProgress *p, const char *verb, guint64 total);
/* Redraws at most every 100 ms unless @final, which also ends the line. */
void vsh_progress_draw(VshProgress *p, gboolean final);
