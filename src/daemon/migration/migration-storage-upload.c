/* Offline --copy-storage-all on the source (migration-priv.h, "Storage";
 * docs/migration-storage.md): each copied disk's file streamed as it is
 * (a qcow2 file stays a qcow2 file, its internal snapshots included) to
 * PUT /v1/migrations/ID/disks/TARGET on the destination, one disk after
 * the other, through the same connection as the other peer calls.
 *
 * The body is chunked and sparse (migration-storage-stream.c): holes are
 * not sent. libsoup reads the stream in GIO's worker threads (it is not
 * pollable), so the main loop never waits on the disk. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migration-storage-priv.h"
#include "util/vd-error.h"

/* ---- the uploads, one disk after the other ---- */

typedef struct {
    char *target;
    char *path;
} UpDisk;

typedef struct {
    VdDaemon *d;
    VdDomainObj *dom; /* a reference */
    VdRemote *remote; /* the caller's: outlives done() */
    char *id;
    GPtrArray *disks; /* UpDisk* */
    guint next;
    guint64 total;  /* every disk's file size */
    guint64 before; /* the sizes of the disks already sent */
    GInputStream *current;
    guint timer;
    VdMigrationStepDone done;
    gpointer data;
} Upload;

static void
up_disk_free(gpointer p)
{
    UpDisk *u = p;
    g_free(u->target);
    g_free(u->path);
    g_free(u);
}

static void
upload_end(Upload *up, const GError *error)
{
    if (up->timer)
        g_source_remove(up->timer);
    if (up->current)
        g_object_unref(up->current);
    if (error)
        vd_migration_storage_progress_clear(up->dom);
    else
        vd_migration_storage_progress_set(up->dom, up->total, up->total);
    up->done(up->dom, error, up->data);
    vd_domain_obj_unref(up->dom);
    g_ptr_array_unref(up->disks);
    g_free(up->id);
    g_free(up);
}

static gboolean
progress_tick(gpointer data)
{
    Upload *up = data;
    guint64 cur = up->current ? vd_disk_stream_sent(up->current) : 0;
    vd_migration_storage_progress_set(up->dom, up->total, up->before + cur);
    return G_SOURCE_CONTINUE;
}

static void upload_next(Upload *up);

/* The destination's refusal: its API error's message, else the status. */
static GError *
answer_error(SoupMessage *msg, GBytes *body, const char *target)
{
    const char *message = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    gsize len = 0;
    const char *data = body ? g_bytes_get_data(body, &len) : NULL;
    if (data && len && json_parser_load_from_data(parser, data, (gssize)len, NULL)) {
        JsonNode *root = json_parser_get_root(parser);
        if (JSON_NODE_HOLDS_OBJECT(root)) {
            JsonObject *o = json_node_get_object(root);
            JsonObject *e = json_object_has_member(o, "error") &&
                                    JSON_NODE_HOLDS_OBJECT(json_object_get_member(o, "error"))
                                ? json_object_get_object_member(o, "error")
                                : NULL;
            if (e)
                message = json_object_get_string_member_with_default(e, "message", NULL);
        }
    }
    /* The destination's messages name the disk already. */
    g_autofree char *named = g_strdup_printf("disk '%s': ", target);
    if (message && g_str_has_prefix(message, named))
        message += strlen(named);
    return g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                       "disk '%s': the destination did not take its copy: %s", target,
                       message ? message : soup_message_get_reason_phrase(msg));
}

static void
sent(GObject *source, GAsyncResult *res, gpointer data)
{
    Upload *up = data;
    SoupMessage *msg = soup_session_get_async_result_message(SOUP_SESSION(source), res);
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) body = soup_session_send_and_read_finish(SOUP_SESSION(source), res, &error);
    UpDisk *u = g_ptr_array_index(up->disks, up->next);

    if (!body) {
        g_autoptr(GError) e = NULL;
        vd_remote_set_transport_error(up->remote, error, &e);
        g_prefix_error(&e, "disk '%s': sending its copy to the destination failed: ", u->target);
        upload_end(up, e);
        return;
    }
    if (!SOUP_STATUS_IS_SUCCESSFUL(soup_message_get_status(msg))) {
        g_autoptr(GError) e = answer_error(msg, body, u->target);
        upload_end(up, e);
        return;
    }
    up->before += vd_disk_stream_size(up->current);
    g_clear_object(&up->current);
    up->next++;
    upload_next(up);
}

static void
upload_next(Upload *up)
{
    g_autoptr(GError) error = NULL;
    if (up->next >= up->disks->len) {
        upload_end(up, NULL);
        return;
    }
    UpDisk *u = g_ptr_array_index(up->disks, up->next);
    /* Opening a local file of a shut-off domain: short, and its size is
     * needed for the header below. */
    int fd = open(u->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        int err = fd < 0 ? errno : EINVAL;
        if (fd >= 0)
            close(fd);
        g_set_error(&error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "disk '%s': cannot read '%s' to copy it: %s", u->target, u->path,
                    g_strerror(err));
        upload_end(up, error);
        return;
    }
    up->current = vd_disk_stream_new(fd, (guint64)st.st_size);

    g_autofree char *id = g_uri_escape_string(up->id, NULL, FALSE);
    g_autofree char *target = g_uri_escape_string(u->target, NULL, FALSE);
    g_autofree char *rel = g_strdup_printf("/v1/migrations/%s/disks/%s", id, target);
    g_autofree char *url = vd_remote_url(up->remote, rel);
    g_autoptr(SoupMessage) msg = soup_message_new("PUT", url);
    if (!msg) {
        g_set_error(&error, VD_ERROR, VD_ERROR_INTERNAL, "bad URL '%s'", url);
        upload_end(up, error);
        return;
    }
    g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT, (guint64)st.st_size);
    soup_message_headers_append(soup_message_get_request_headers(msg), "X-Virtd-Disk-Size", size);
    soup_message_set_request_body(msg, VD_DISK_STREAM_TYPE, up->current, -1);
    soup_session_send_and_read_async(vd_remote_session(up->remote), msg, G_PRIORITY_DEFAULT, NULL,
                                     sent, up);
}

void
vd_migration_storage_upload(VdDaemon *d, VdDomainObj *dom, VdRemote *remote,
                            const VdMigrationOffer *offer, VdMigrationStepDone done,
                            gpointer user_data)
{
    Upload *up = g_new0(Upload, 1);
    up->d = d;
    up->dom = vd_domain_obj_ref(dom);
    up->remote = remote;
    up->id = g_strdup(offer->id);
    up->disks = g_ptr_array_new_with_free_func(up_disk_free);
    up->done = done;
    up->data = user_data;
    for (guint i = 0; offer->disks && i < offer->disks->len; i++) {
        VdMigrationDisk *disk = g_ptr_array_index(offer->disks, i);
        if (!disk->copy || disk->readonly || !disk->path)
            continue;
        UpDisk *u = g_new0(UpDisk, 1);
        u->target = g_strdup(disk->target);
        u->path = g_strdup(disk->path);
        g_ptr_array_add(up->disks, u);
        struct stat st;
        if (stat(disk->path, &st) == 0)
            up->total += (guint64)st.st_size;
    }
    vd_migration_storage_progress_set(dom, up->total, 0);
    up->timer = g_timeout_add(250, progress_tick, up);
    upload_next(up);
}
