/* The save image's header (what save writes and restore checks), restore
 * (a start that loads the image's stream before "cont"), the managed
 * save's start hook, and save-image-dumpxml. */
#include "daemon/save/save-priv.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/domain/domain-process.h"
#include "util/vd-error.h"
#include "util/vd-path.h"

/* How often QEMU's stream is asked how far it is: the save or restore
 * ends at the first answer that says completed, so this bounds the time
 * added to each (QEMU's MIGRATION events are off by default). */
#define POLL_MS 25
#define RESTORE_FDNAME "vd-restore"

/* ---- the header ----------------------------------------------------------- */
/* magic[16] version:u32 flags:u32 xml_len:u32 reserved:u32 data_offset:u64,
 * zeros up to 4 KiB; then the XML, zeros up to data_offset. */

void
vd_save_image_header_clear(VdSaveImageHeader *h)
{
    g_clear_pointer(&h->xml, g_free);
}

guint8 *
vd_save_image_header_encode(const char *xml, guint32 flags, gsize *len)
{
    gsize xml_len = strlen(xml);
    guint64 offset = VD_SAVE_HEADER_SIZE + ((xml_len + 4095) / 4096) * 4096;
    guint8 *buf = g_malloc0(offset);
    guint32 v32;

    memcpy(buf, VD_SAVE_MAGIC, strlen(VD_SAVE_MAGIC));
    v32 = GUINT32_TO_LE(VD_SAVE_VERSION);
    memcpy(buf + 16, &v32, 4);
    v32 = GUINT32_TO_LE(flags);
    memcpy(buf + 20, &v32, 4);
    v32 = GUINT32_TO_LE((guint32)xml_len);
    memcpy(buf + 24, &v32, 4);
    guint64 v64 = GUINT64_TO_LE(offset);
    memcpy(buf + 32, &v64, 8);
    memcpy(buf + VD_SAVE_HEADER_SIZE, xml, xml_len);
    *len = offset;
    return buf;
}

static gboolean
read_exact(int fd, void *buf, gsize len, off_t at)
{
    guint8 *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        p += n;
        len -= (gsize)n;
        at += n;
    }
    return TRUE;
}

gboolean
vd_save_image_header_read(int fd, const char *path, VdSaveImageHeader *h, GError **error)
{
    guint8 head[VD_SAVE_HEADER_SIZE];
    guint32 v32;
    guint64 v64;
    struct stat st;

    if (fstat(fd, &st) < 0 || !read_exact(fd, head, sizeof head, 0) ||
        memcmp(head, VD_SAVE_MAGIC, strlen(VD_SAVE_MAGIC)) != 0 ||
        head[strlen(VD_SAVE_MAGIC)] != 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: '%s' is not a save image (no virtd save header); restore "
                    "takes a file written by 'vsh save'",
                    path);
        return FALSE;
    }
    memcpy(&v32, head + 16, 4);
    h->version = GUINT32_FROM_LE(v32);
    memcpy(&v32, head + 20, 4);
    h->flags = GUINT32_FROM_LE(v32);
    memcpy(&v32, head + 24, 4);
    guint32 xml_len = GUINT32_FROM_LE(v32);
    memcpy(&v64, head + 32, 8);
    h->data_offset = GUINT64_FROM_LE(v64);
    if (h->version != VD_SAVE_VERSION) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "Operation not supported: save image '%s' has version %u; this virtd reads "
                    "version %u",
                    path, h->version, VD_SAVE_VERSION);
        return FALSE;
    }
    if (xml_len == 0 || xml_len > VD_SAVE_XML_MAX ||
        h->data_offset < VD_SAVE_HEADER_SIZE + (guint64)xml_len || h->data_offset % 4096 ||
        h->data_offset > (guint64)st.st_size) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: save image '%s' is damaged or truncated (XML length %u, "
                    "data offset %" G_GUINT64_FORMAT ", file size %" G_GINT64_FORMAT ")",
                    path, xml_len, h->data_offset, (gint64)st.st_size);
        return FALSE;
    }
    h->xml = g_malloc0((gsize)xml_len + 1);
    if (!read_exact(fd, h->xml, xml_len, VD_SAVE_HEADER_SIZE)) {
        vd_save_image_header_clear(h);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: save image '%s' is truncated", path);
        return FALSE;
    }
    return TRUE;
}

/* Opens and reads the image's header in a worker thread. */
static void
header_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    const char *path = data;
    GError *error = NULL;
    (void)source;
    (void)cancellable;
    int fd = vd_path_open_checked("save image", path, VD_PATH_REGULAR, NULL, &error);
    if (fd < 0) {
        g_task_return_error(task, error);
        return;
    }
    VdSaveImageHeader *h = g_new0(VdSaveImageHeader, 1);
    gboolean ok = vd_save_image_header_read(fd, path, h, &error);
    close(fd);
    if (!ok) {
        g_free(h);
        g_task_return_error(task, error);
        return;
    }
    g_task_return_pointer(task, h, NULL);
}

static void
header_read_async(const char *path, GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(NULL, NULL, callback, user_data);
    g_task_set_task_data(task, g_strdup(path), g_free);
    g_task_run_in_thread(task, header_thread);
    g_object_unref(task);
}

void
vd_save_image_xml_async(VdDaemon *d, const char *path, GAsyncReadyCallback callback,
                        gpointer user_data)
{
    (void)d;
    header_read_async(path, callback, user_data);
}

char *
vd_save_image_xml_finish(GAsyncResult *res, GError **error)
{
    VdSaveImageHeader *h = g_task_propagate_pointer(G_TASK(res), error);
    if (!h)
        return NULL;
    char *xml = g_steal_pointer(&h->xml);
    g_free(h);
    return xml;
}

/* ---- restore: the start's load() ------------------------------------------ */

typedef struct {
    VdStartRestore base; /* first: the start gets &base */
    VdDaemon *d;
    char *path;
    guint64 data_offset;
    gboolean managed;
    VdStartRestoreDone load_done;
    gpointer start;
    VdDomainObj *dom; /* while loading */
    int pos_fd;       /* shares QEMU's file offset: how far it has read */
    guint64 file_size;
    guint poll;
    gboolean polling;
    gboolean answered;
    int refs;
} RestoreOp;

static RestoreOp *
restore_ref(RestoreOp *r)
{
    r->refs++;
    return r;
}

static void
restore_unref(RestoreOp *r)
{
    if (--r->refs > 0)
        return;
    if (r->pos_fd >= 0)
        close(r->pos_fd);
    g_free(r->path);
    g_free(r);
}

static void
load_answer(RestoreOp *r, const GError *error)
{
    if (r->answered)
        return;
    r->answered = TRUE;
    g_clear_handle_id(&r->poll, g_source_remove);
    VdDomainObj *dom = g_steal_pointer(&r->dom);
    r->load_done(dom, error, r->start);
    vd_domain_obj_unref(dom);
}

static void
incoming_polled(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    RestoreOp *r = data;
    (void)qmp;
    r->polling = FALSE;
    if (r->answered) {
        restore_unref(r);
        return;
    }
    if (error) {
        load_answer(r, error);
        restore_unref(r);
        return;
    }
    JsonObject *info =
        result && JSON_NODE_HOLDS_OBJECT(result) ? json_node_get_object(result) : NULL;
    const char *status = info ? json_object_get_string_member_with_default(info, "status", "") : "";
    VdDomainAsyncJob *job = r->dom ? vd_domain_async_job_current(r->dom) : NULL;
    if (job && info)
        vd_save_job_update_from_migrate(job, info);
    /* QEMU's incoming side reports no figures: how far it has read the
     * file (the offset it shares with our duplicate) is the progress. */
    off_t pos = job && r->pos_fd >= 0 ? lseek(r->pos_fd, 0, SEEK_CUR) : -1;
    if (pos >= 0 && r->file_size > r->data_offset) {
        guint64 done = (guint64)pos > r->data_offset ? (guint64)pos - r->data_offset : 0;
        job->data_total = r->file_size - r->data_offset;
        job->data_processed = MIN(done, job->data_total);
        job->data_remaining = job->data_total - job->data_processed;
    }
    if (g_str_equal(status, "completed")) {
        load_answer(r, NULL);
    } else if (g_str_equal(status, "failed") || g_str_equal(status, "cancelled")) {
        g_autoptr(GError) e =
            g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "operation failed: QEMU could not load the save image '%s': %s", r->path,
                        json_object_get_string_member_with_default(info, "error-desc", status));
        load_answer(r, e);
    }
    restore_unref(r);
}

static gboolean
incoming_tick(gpointer data)
{
    RestoreOp *r = data;
    if (!r->polling && r->dom && r->dom->qmp) {
        r->polling = TRUE;
        vd_qmp_command(r->dom->qmp, "query-migrate", NULL, incoming_polled, restore_ref(r));
    }
    return G_SOURCE_CONTINUE;
}

static void
incoming_started(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    RestoreOp *r = data;
    (void)qmp;
    (void)result;
    if (!r->answered) {
        if (error) {
            g_autoptr(GError) e = g_error_new(
                VD_ERROR, VD_ERROR_OPERATION_FAILED,
                "operation failed: QEMU refused the save image '%s': %s", r->path, error->message);
            load_answer(r, e);
        } else {
            r->poll = g_timeout_add(POLL_MS, incoming_tick, r);
        }
    }
    restore_unref(r);
}

static void
getfd_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    RestoreOp *r = data;
    (void)qmp;
    (void)result;
    if (error && !r->answered)
        g_warning("restore of '%s': getfd: %s", r->path, error->message);
    restore_unref(r);
}

static void
restore_load(VdStartRestore *self, VdDomainObj *dom, VdStartRestoreDone done, gpointer start)
{
    RestoreOp *r = (RestoreOp *)self;
    r->load_done = done;
    r->start = start;
    r->dom = vd_domain_obj_ref(dom);
    r->answered = FALSE;

    /* A daemon killed from here on removes the managed image at restart
     * only if the guest ran from it (save-recover.c). */
    g_autoptr(GError) rec_error = NULL;
    if (r->managed && !vd_save_record_restore(r->d, dom, r->path, &rec_error)) {
        load_answer(r, rec_error);
        return;
    }
    int fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || lseek(fd, (off_t)r->data_offset, SEEK_SET) < 0 || fstat(fd, &st) < 0) {
        g_autoptr(GError) e = g_error_new(VD_ERROR, VD_ERROR_OPERATION_FAILED,
                                          "operation failed: cannot open the save image '%s': %s",
                                          r->path, g_strerror(errno));
        if (fd >= 0)
            close(fd);
        load_answer(r, e);
        return;
    }
    r->file_size = (guint64)st.st_size;
    if (r->pos_fd < 0)
        r->pos_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "fdname", RESTORE_FDNAME);
    vd_qmp_command_with_fd(dom->qmp, "getfd", args, fd, getfd_reply, restore_ref(r));
    JsonObject *margs = json_object_new();
    json_object_set_string_member(margs, "uri", "fd:" RESTORE_FDNAME);
    vd_qmp_command(dom->qmp, "migrate-incoming", margs, incoming_started, restore_ref(r));
}

static void
restore_finish(VdStartRestore *self, VdDomainObj *dom, const GError *error)
{
    RestoreOp *r = (RestoreOp *)self;
    g_clear_handle_id(&r->poll, g_source_remove);
    r->answered = TRUE;
    g_clear_pointer(&r->dom, vd_domain_obj_unref);
    if (dom->async_job && !dom->async_job->ended_us &&
        g_str_equal(dom->async_job->operation, "Restore"))
        vd_domain_async_job_end(dom, error == NULL);
    /* The managed save is spent once the guest runs from it; a failed
     * restore keeps it (the caller's error says how to boot afresh). */
    if (!error && r->managed && g_unlink(r->path) < 0 && errno != ENOENT)
        g_warning("domain '%s': cannot remove its managed save image '%s': %s", dom->name, r->path,
                  g_strerror(errno));
    if (r->managed)
        vd_save_record_remove(r->d, dom);
    restore_unref(r);
}

/* ---- restore: the request ------------------------------------------------- */

typedef struct {
    VdDaemon *d;
    char *path;
    char *xml; /* replaces the image's XML, or NULL */
    gboolean running;
    gboolean paused;
    gboolean managed;
    VdDomainObj *dom; /* managed: the domain whose image it is */
    VdSaveDefCheck check;
    VdDomainWaitFunc done;
    gpointer user_data;
} RestoreReq;

static void
restore_req_free(RestoreReq *q)
{
    g_free(q->path);
    g_free(q->xml);
    if (q->dom)
        vd_domain_obj_unref(q->dom);
    g_free(q);
}

static VdDomainDef *
def_from_xml(const char *xml, const char *path, GError **error)
{
    g_autoptr(GError) e = NULL;
    g_autoptr(VdDomainDef) def = vd_domain_def_parse(xml, -1, &e);
    if (def) {
        vd_domain_def_apply_defaults(def);
        if (vd_domain_def_validate(def, &e))
            return g_steal_pointer(&def);
    }
    g_set_error(error, VD_ERROR, VD_ERROR_XML, "XML error: the domain XML of save image '%s': %s",
                path, e->message);
    return NULL;
}

/* A managed restore that failed: the image stays; say how to boot anyway. */
static void
managed_failed(VdDomainObj *dom, const GError *error, gpointer data)
{
    RestoreReq *q = data;
    if (!error) {
        q->done(dom, NULL, q->user_data);
    } else {
        g_autoptr(GError) e = g_error_new(
            error->domain, error->code,
            "%s; the managed save image '%s' is kept: 'managedsave-remove %s' discards it so "
            "that the domain boots afresh (or 'start %s --force-boot')",
            error->message, q->path, dom->name, dom->name);
        q->done(dom, e, q->user_data);
    }
    restore_req_free(q);
}

static void
plain_done(VdDomainObj *dom, const GError *error, gpointer data)
{
    RestoreReq *q = data;
    /* A transient domain made for a restore that failed before its start
     * began is gone again (the start's own failures forget it too). */
    if (error && dom)
        vd_domain_list_forget_if_gone(q->d->domains, dom);
    q->done(dom, error, q->user_data);
    restore_req_free(q);
}

static void
header_read(GObject *source, GAsyncResult *res, gpointer data)
{
    RestoreReq *q = data;
    g_autoptr(GError) error = NULL;
    (void)source;
    VdSaveImageHeader *h = g_task_propagate_pointer(G_TASK(res), &error);
    g_autoptr(VdDomainDef) def = NULL;
    VdDomainObj *dom = NULL;

    if (!h)
        goto fail;
    def = def_from_xml(h->xml, q->path, &error);
    if (!def)
        goto fail;
    if (q->xml) {
        g_autoptr(VdDomainDef) want = def_from_xml(q->xml, q->path, &error);
        if (!want)
            goto fail;
        if (g_strcmp0(want->name, def->name) || g_strcmp0(want->uuid, def->uuid)) {
            g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid argument: the XML given must keep the saved domain's name '%s' "
                        "and UUID %s",
                        def->name, def->uuid);
            goto fail;
        }
        vd_domain_def_free(g_steal_pointer(&def));
        def = g_steal_pointer(&want);
    }
    if (q->check && !q->check(def, q->user_data, &error))
        goto fail;
    if (q->managed) {
        dom = q->dom;
        if (g_strcmp0(def->uuid, dom->uuid) || g_strcmp0(def->name, dom->name)) {
            g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid argument: managed save image '%s' is of another domain ('%s' "
                        "%s)",
                        q->path, def->name, def->uuid);
            goto fail;
        }
    } else {
        VdDomainObj *by_uuid = vd_domain_list_find_uuid(q->d->domains, def->uuid);
        VdDomainObj *by_name = vd_domain_list_find_name(q->d->domains, def->name);
        if (by_uuid && by_uuid != by_name) {
            g_set_error(&error, VD_ERROR, VD_ERROR_EXISTS,
                        "operation failed: domain '%s' already exists with uuid %s", by_uuid->name,
                        by_uuid->uuid);
            goto fail;
        }
        if (by_name && by_name != by_uuid) {
            g_set_error(&error, VD_ERROR, VD_ERROR_EXISTS,
                        "operation failed: domain '%s' already exists with uuid %s", by_name->name,
                        by_name->uuid);
            goto fail;
        }
        dom = by_uuid;
        if (dom && !vd_domain_obj_check(dom, VD_OP_START, &error))
            goto fail;
        if (!dom) {
            /* As libvirt: the image of a domain that no longer exists
             * comes back as a transient one. */
            dom = vd_domain_list_add_transient(q->d->domains, vd_domain_def_copy(def), &error);
            if (!dom)
                goto fail;
        }
    }
    gboolean paused = q->paused || (!q->running && !(h->flags & VD_SAVE_FLAG_RUNNING));
    RestoreOp *r = g_new0(RestoreOp, 1);
    r->refs = 1;
    r->pos_fd = -1;
    r->d = q->d;
    r->path = g_strdup(q->path);
    r->data_offset = h->data_offset;
    r->managed = q->managed;
    r->base.incoming = TRUE;
    r->base.running_reason = VD_REASON_RESTORED;
    r->base.load = restore_load;
    r->base.finish = restore_finish;
    vd_save_image_header_clear(h);
    g_free(h);
    vd_domain_async_job_begin(dom, "Restore", VD_ASYNC_JOB_MIGRATION, NULL, FALSE);
    vd_domain_start_restore(q->d, dom, g_steal_pointer(&def), &r->base, paused,
                            q->managed ? managed_failed : plain_done, q);
    return;

fail:
    if (h) {
        vd_save_image_header_clear(h);
        g_free(h);
    }
    if (q->managed)
        managed_failed(q->dom, error, q);
    else {
        q->done(NULL, error, q->user_data);
        restore_req_free(q);
    }
}

void
vd_save_restore(VdDaemon *d, const char *path, const char *xml, gboolean running, gboolean paused,
                VdSaveDefCheck check, VdDomainWaitFunc done, gpointer user_data)
{
    if (running && paused) {
        g_autoptr(GError) e = g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                                          "Options --running and --paused are mutually exclusive");
        done(NULL, e, user_data);
        return;
    }
    if (!g_path_is_absolute(path)) {
        g_autoptr(GError) e =
            g_error_new(VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid argument: the save file '%s' must be an absolute path", path);
        done(NULL, e, user_data);
        return;
    }
    RestoreReq *q = g_new0(RestoreReq, 1);
    q->d = d;
    q->path = g_strdup(path);
    q->xml = g_strdup(xml);
    q->running = running;
    q->paused = paused;
    q->check = check;
    q->done = done;
    q->user_data = user_data;
    header_read_async(path, header_read, q);
}

gboolean
vd_save_start_managed(VdDaemon *d, VdDomainObj *dom, gboolean paused, gboolean force_boot,
                      VdDomainWaitFunc done, gpointer user_data)
{
    if (!vd_save_has_managed(d, dom))
        return FALSE;
    g_autoptr(GError) error = NULL;
    if (!vd_domain_obj_check(dom, VD_OP_START, &error)) {
        done(dom, error, user_data);
        return TRUE;
    }
    if (force_boot) {
        gboolean removed;
        if (!vd_save_remove_managed(d, dom, &removed, &error)) {
            done(dom, error, user_data);
            return TRUE;
        }
        return FALSE; /* the normal boot */
    }
    RestoreReq *q = g_new0(RestoreReq, 1);
    q->d = d;
    q->path = vd_paths_domain_managed_save(d->paths, dom->name);
    q->paused = paused;
    q->managed = TRUE;
    q->dom = vd_domain_obj_ref(dom);
    q->done = done;
    q->user_data = user_data;
    header_read_async(q->path, header_read, q);
    return TRUE;
}
