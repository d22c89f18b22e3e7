/* File helpers that keep data safe across crashes. */
#pragma once

#include <glib.h>

/* Writes @len bytes of @data to @path atomically: a temporary file in the
 * same directory, fsync, rename over @path, fsync of the directory. A crash
 * at any instant leaves either the old or the new content, never a mix.
 * @mode is applied to the new file. */
gboolean vd_file_write_atomic(const char *path, const char *data, gssize len, int mode,
                              GError **error);

/* Creates @path and its parents with @mode; succeeds if it exists. */
gboolean vd_dir_ensure(const char *path, int mode, GError **error);
