/* The web console's static files (web-static.h). */
#include "daemon/web/web-static.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Front-end bundles are a few MiB; a larger file is not one of ours. */
#define MAX_FILE (64 * 1024 * 1024)

static const char builtin_page[] =
    "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>virtd</title></head>\n"
    "<body><h1>virtd</h1><p>The web console's front end is not built or not installed: build "
    "<code>web/</code> with meson (it needs the npm packages of <code>scripts/deps.sh</code>), "
    "or give <code>virtd --web-root DIR</code>. The API is served under "
    "<code>/api/v1/</code> (docs/web.md).</p></body></html>\n";

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".woff", "font/woff"},
    {".ttf", "font/ttf"},
    {".wasm", "application/wasm"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *
content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (guint i = 0; dot && i < G_N_ELEMENTS(types); i++)
        if (g_ascii_strcasecmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* "/a/b%20c/" -> "a/b c/index.html"; NULL for anything that could leave
 * the root or name a hidden file. */
char *
vd_web_static_relative_path(const char *path)
{
    if (!path || path[0] != '/')
        return NULL;
    g_auto(GStrv) raw = g_strsplit(path + 1, "/", -1);
    g_autoptr(GPtrArray) segs = g_ptr_array_new_with_free_func(g_free);
    for (char **s = raw; *s; s++) {
        if (!**s)
            continue;
        /* NULL for an escaped '/' or NUL */
        char *dec = g_uri_unescape_string(*s, "/");
        if (!dec || !*dec || dec[0] == '.' || strchr(dec, '\\') ||
            !g_utf8_validate(dec, -1, NULL)) {
            g_free(dec);
            return NULL;
        }
        g_ptr_array_add(segs, dec);
    }
    if (segs->len == 0 || g_str_has_suffix(path, "/"))
        g_ptr_array_add(segs, g_strdup("index.html"));
    g_ptr_array_add(segs, NULL);
    return g_strjoinv("/", (char **)segs->pdata);
}

typedef struct {
    char *root;
    char *rel;
    char *if_none_match;
    /* results */
    gboolean builtin; /* the root is missing */
    gboolean not_modified;
    char *etag;
    gint64 mtime; /* unix seconds */
    GBytes *body;
} Job;

static void
job_free(gpointer data)
{
    Job *j = data;
    g_free(j->root);
    g_free(j->rel);
    g_free(j->if_none_match);
    g_free(j->etag);
    if (j->body)
        g_bytes_unref(j->body);
    g_free(j);
}

static gboolean
etag_matches(const char *header, const char *etag)
{
    if (!header)
        return FALSE;
    g_auto(GStrv) tags = g_strsplit(header, ",", -1);
    for (char **t = tags; *t; t++) {
        const char *tag = g_strstrip(*t);
        if (g_str_has_prefix(tag, "W/"))
            tag += 2;
        if (g_str_equal(tag, "*") || g_str_equal(tag, etag))
            return TRUE;
    }
    return FALSE;
}

static void
run_job(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    Job *j = data;
    g_autofree char *root_real = realpath(j->root, NULL);
    if (!root_real) {
        j->builtin = TRUE;
        g_task_return_boolean(task, TRUE);
        return;
    }
    g_autofree char *full = g_build_filename(root_real, j->rel, NULL);
    g_autofree char *real = realpath(full, NULL);
    g_autofree char *prefix =
        g_str_has_suffix(root_real, "/") ? g_strdup(root_real) : g_strconcat(root_real, "/", NULL);
    if (!real || !g_str_has_prefix(real, prefix)) {
        if (real)
            g_message("web: refused '%s': it leads out of the web root '%s' (to '%s')", j->rel,
                      root_real, real);
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "not found");
        return;
    }
    int fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE) {
        if (fd >= 0)
            close(fd);
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "not found");
        return;
    }
    j->mtime = (gint64)st.st_mtim.tv_sec;
    j->etag = g_strdup_printf("\"%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x-%lx\"",
                              (gint64)st.st_size, (gint64)st.st_mtim.tv_sec,
                              (unsigned long)st.st_mtim.tv_nsec);
    if (etag_matches(j->if_none_match, j->etag)) {
        close(fd);
        j->not_modified = TRUE;
        g_task_return_boolean(task, TRUE);
        return;
    }
    gsize size = (gsize)st.st_size, got = 0;
    char *buf = g_malloc(size ? size : 1);
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (gsize)n;
    }
    close(fd);
    j->body = g_bytes_new_take(buf, got);
    g_task_return_boolean(task, TRUE);
}

static void
set_validators(SoupMessageHeaders *h, Job *j)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(j->mtime);
    g_autofree char *date = soup_date_time_to_string(dt, SOUP_DATE_HTTP);
    soup_message_headers_replace(h, "ETag", j->etag);
    soup_message_headers_replace(h, "Last-Modified", date);
    /* Revalidated every time: cheap with the validators, and a rebuilt
     * front end is seen at once. */
    soup_message_headers_replace(h, "Cache-Control", "no-cache");
}

static gboolean
not_modified_since(SoupMessageHeaders *req, gint64 mtime)
{
    /* If-None-Match, when present, decides alone (RFC 9110 13.1.3). */
    if (soup_message_headers_get_one(req, "If-None-Match"))
        return FALSE;
    const char *ims = soup_message_headers_get_one(req, "If-Modified-Since");
    g_autoptr(GDateTime) since = ims ? soup_date_time_new_from_http_string(ims) : NULL;
    return since && g_date_time_to_unix(since) >= mtime;
}

static void
on_job_done(GObject *source, GAsyncResult *res, gpointer data)
{
    SoupServerMessage *msg = data;
    Job *j = g_task_get_task_data(G_TASK(res));
    g_autoptr(GError) error = NULL;
    SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);

    if (!g_task_propagate_boolean(G_TASK(res), &error)) {
        soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
        soup_server_message_set_response(msg, "text/plain; charset=utf-8", SOUP_MEMORY_STATIC,
                                         "not found\n", 10);
    } else if (j->builtin) {
        if (g_str_equal(j->rel, "index.html")) {
            soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
            soup_message_headers_replace(h, "Cache-Control", "no-cache");
            soup_server_message_set_response(msg, "text/html; charset=utf-8", SOUP_MEMORY_STATIC,
                                             builtin_page, sizeof builtin_page - 1);
        } else {
            soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
            soup_server_message_set_response(msg, "text/plain; charset=utf-8", SOUP_MEMORY_STATIC,
                                             "not found\n", 10);
        }
    } else if (j->not_modified ||
               not_modified_since(soup_server_message_get_request_headers(msg), j->mtime)) {
        set_validators(h, j);
        soup_server_message_set_status(msg, SOUP_STATUS_NOT_MODIFIED, NULL);
    } else {
        set_validators(h, j);
        soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
        soup_message_headers_set_content_type(h, content_type(j->rel), NULL);
        soup_message_body_append_bytes(soup_server_message_get_response_body(msg), j->body);
    }
    soup_server_message_unpause(msg);
    g_object_unref(msg);
}

void
vd_web_static_serve(SoupServerMessage *msg, const char *root, const char *path)
{
    g_autofree char *rel = vd_web_static_relative_path(path);
    if (!rel) {
        g_debug("web: refused static path '%s'", path);
        soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
        soup_server_message_set_response(msg, "text/plain; charset=utf-8", SOUP_MEMORY_STATIC,
                                         "not found\n", 10);
        return;
    }
    Job *j = g_new0(Job, 1);
    j->root = g_strdup(root);
    j->rel = g_steal_pointer(&rel);
    j->if_none_match = g_strdup(soup_message_headers_get_one(
        soup_server_message_get_request_headers(msg), "If-None-Match"));
    /* (A status before pausing, as vd_api_pause does.) */
    soup_server_message_set_status(msg, SOUP_STATUS_ACCEPTED, NULL);
    soup_server_message_pause(msg);
    g_autoptr(GTask) task = g_task_new(NULL, NULL, on_job_done, g_object_ref(msg));
    g_task_set_task_data(task, j, job_free);
    g_task_run_in_thread(task, run_job);
}
