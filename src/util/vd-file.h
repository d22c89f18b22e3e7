/* File helpers that keep data safe across crashes. */
#pragma once

#include <glib.h>

/* Writes @len bytes of @data to @path atomically: a temporary file in the
 * same directory, fsync, rename over @path, fsync of the directory. A crash
 * at any instant leaves either the old or the new content, never a mix.
 * @mode is applied to the new file. */
gboolean vd_file_write_atomic(const char *path, const char *data, gssize len, int mode,
                              GError **error);

/* Like vd_file_write_atomic() but without the fsyncs: a crash of the
 * process still leaves the old or the new content, a power loss may
 * leave neither. For state that does not outlive the host anyway (the
 * run directory: its QEMUs die with the host) and for caches; never for
 * definitions. It never waits for the disk, so the main loop may call it. */
gboolean vd_file_replace(const char *path, const char *data, gssize len, int mode,
                         GError **error);

/* Creates @path and its parents with @mode; succeeds if it exists. */
gboolean vd_dir_ensure(const char *path, int mode, GError **error);

/* Removes what vd_file_write_atomic() and vd_file_replace() leave in @dir
 * when the process is killed between creating and renaming a temporary
 * file: regular files named ".NAME.XXXXXX". Only for directories where
 * no other dot files live (the daemon's own); at daemon start, before
 * anything writes there. Returns how many were removed. */
guint vd_file_remove_stale_temps(const char *dir);
