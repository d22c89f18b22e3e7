/* The web console's static files (GET / and /assets/... on --web).
 *
 * Served from the web root only: the path is decoded segment by segment,
 * and any segment that is empty of meaning (".", ".."), hidden (".x"), or
 * holds a '/', '\\' or NUL once decoded is refused; the file's real path
 * (symbolic links resolved) must still be inside the root's real path, and
 * it is opened with O_NOFOLLOW. Refusals are 404s, as a missing file is.
 * Files are read in a GTask worker; answers carry ETag and Last-Modified,
 * and If-None-Match / If-Modified-Since get a 304. */
#pragma once

#include <libsoup/soup.h>

/* Answers @msg (GET or HEAD of the raw, still %-encoded @path) from
 * @root; a missing @root gives the built-in page saying the front end is
 * not built (for "/"; 404 otherwise). */
void vd_web_static_serve(SoupServerMessage *msg, const char *root, const char *path);
/* The path below the root that @path (raw, %-encoded) names: "/" and
 * "/d/" get index.html; NULL when refused (above). */
char *vd_web_static_relative_path(const char *path);
