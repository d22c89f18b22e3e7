/* QEMU's answers read back with the files the daemon gave it.
 *
 * A disk image QEMU holds as a descriptor (qemu-run-fds.h) has the file
 * name "/dev/fdset/N" in QEMU, and an image whose backing node the
 * command line names has a "json:{...}" one embedding it. The daemon
 * shows and records real paths (domblklist, backingStore, block job
 * chains): every such name in an answer is replaced by the path of the
 * set's file, which the daemon wrote as the set's opaque text (-add-fd
 * opaque=, shown by query-fdsets). A set survives a daemon restart while
 * an image uses it, and so does its opaque text. */
#pragma once

#include <json-glib/json-glib.h>

#include "qemu/qmp.h"

/* "/dev/fdset/N" -> the opaque path, from query-fdsets' @result. */
GHashTable *vd_qemu_fdset_paths(JsonNode *result);

/* The real path QEMU's file name @name stands for: a set's file for
 * "/dev/fdset/N", the image file of a "json:" name (its innermost
 * "file"'s "filename", itself read back); NULL when @name is none of
 * these (it is a path already). */
char *vd_qemu_fdset_real_name(GHashTable *paths, const char *name);

/* Replaces every string of @node (recursively) that names a set or a
 * "json:" image with its real path. */
void vd_qemu_fdset_rewrite(JsonNode *node, GHashTable *paths);

/* @set: the new fd set's id; -1 with @error on a failure (nothing is
 * left in QEMU then). */
typedef void (*VdQemuFdsetAdded)(VdQmp *qmp, gint64 set, const GError *error, gpointer data);

/* A disk image added while QEMU runs: @path opened by the daemon
 * read-only and, when @writable, read-write too (qemu-run-fds.h), both
 * put into one new fd set with QMP add-fd (opaque: @path); then @done.
 * FALSE with @error (and @done never called) when a file does not open. */
gboolean vd_qemu_fdset_add_image(VdQmp *qmp, const char *path, gboolean writable,
                                 VdQemuFdsetAdded done, gpointer data, GError **error);

/* remove-fd of the fd set @set (nothing answered). */
void vd_qemu_fdset_remove(VdQmp *qmp, gint64 set);

/* remove-fd of every fd set that holds @path (its opaque text): once no
 * node uses the file, QEMU closes it (while the guest runs; else when
 * QEMU ends). Nothing is answered. */
void vd_qemu_fdset_forget(VdQmp *qmp, const char *path);

/* vd_qmp_command() whose @reply gets the answer rewritten: query-fdsets
 * is sent just before @command (QMP answers in order). For answers that
 * carry file names: query-block, query-named-block-nodes. */
void vd_qmp_command_real_paths(VdQmp *qmp, const char *command, JsonObject *arguments,
                               VdQmpReplyFunc reply, gpointer user_data);
