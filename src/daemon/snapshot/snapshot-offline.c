/* qemu-img snapshot on a shut-off domain's images: see snapshot-offline.h. */
#include "daemon/snapshot/snapshot-offline.h"

#include <string.h>

#include "daemon/storage/storage.h"
#include "util/vd-error.h"

typedef struct {
    VdDomainObj *dom;
    VdSnapshotImgOp op;
    char *snap;
    GPtrArray *images;
    VdSnapshotDoneFunc done;
    gpointer user_data;
} OfflineOp;

static void
offline_op_free(OfflineOp *o)
{
    vd_domain_obj_unref(o->dom);
    g_free(o->snap);
    g_ptr_array_unref(o->images);
    g_free(o);
}

static gboolean
img(const char *flag, const char *snap, const char *image, GError **error)
{
    const char *args[] = {"snapshot", flag, snap, image, NULL};
    return vd_storage_qemu_img(args, NULL, error);
}

/* Whether @image already holds an internal snapshot named @snap: qcow2
 * allows two of one name, and -a/-d would then pick one of them. */
static gboolean
image_has(const char *snap, const char *image, gboolean *has, GError **error)
{
    /* -U: also while a QEMU holds the image (settling after a restart) */
    const char *args[] = {"snapshot", "-l", "-U", image, NULL};
    g_autofree char *out = NULL;
    if (!vd_storage_qemu_img(args, &out, error))
        return FALSE;
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    *has = FALSE;
    /* "ID  TAG  VM SIZE  DATE  VM CLOCK  ICOUNT" after a title line */
    for (char **l = lines; *l; l++) {
        g_auto(GStrv) cols = g_strsplit_set(*l, " \t", -1);
        const char *words[2] = {NULL, NULL};
        guint n = 0;
        for (char **c = cols; *c && n < 2; c++)
            if (**c)
                words[n++] = *c;
        if (n == 2 && g_ascii_isdigit(words[0][0]) && g_str_equal(words[1], snap))
            *has = TRUE;
    }
    return TRUE;
}

static void
worker(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    OfflineOp *o = data;
    (void)source;
    (void)cancel;
    for (guint i = 0; i < o->images->len; i++) {
        const char *image = o->images->pdata[i];
        g_autoptr(GError) error = NULL;
        gboolean ok;
        switch (o->op) {
        case VD_SNAPSHOT_IMG_CREATE: {
            gboolean has = FALSE;
            ok = image_has(o->snap, image, &has, &error);
            if (ok && has) {
                ok = FALSE;
                g_set_error(&error, VD_ERROR, VD_ERROR_EXISTS,
                            "operation failed: image '%s' already has an internal snapshot "
                            "'%s' (taken with --no-metadata, or left by an interrupted "
                            "create): choose another name, or delete it with 'qemu-img "
                            "snapshot -d %s %s'",
                            image, o->snap, o->snap, image);
            }
            if (ok)
                ok = img("-c", o->snap, image, &error);
            if (!ok) {
                /* all or nothing: undo the images done so far */
                for (guint j = 0; j < i; j++) {
                    g_autoptr(GError) undo = NULL;
                    if (!img("-d", o->snap, o->images->pdata[j], &undo))
                        g_warning("cannot undo internal snapshot '%s' of '%s': %s", o->snap,
                                  (const char *)o->images->pdata[j], undo->message);
                }
            }
            break;
        }
        case VD_SNAPSHOT_IMG_HAS_ALL: {
            gboolean has = FALSE;
            ok = image_has(o->snap, image, &has, &error);
            if (ok && !has) {
                /* in none of them, or in some (QEMU adds it to one
                 * after the other) */
                guint with = 0;
                for (guint j = 0; j < o->images->len; j++) {
                    gboolean h = FALSE;
                    if (image_has(o->snap, o->images->pdata[j], &h, NULL) && h)
                        with++;
                }
                ok = FALSE;
                g_set_error(&error, VD_ERROR, with ? VD_ERROR_INVALID_STATE : VD_ERROR_NOT_FOUND,
                            "image '%s' has no internal snapshot '%s' (%u of %u images have it)",
                            image, o->snap, with, o->images->len);
            }
            break;
        }
        case VD_SNAPSHOT_IMG_APPLY:
            ok = img("-a", o->snap, image, &error);
            break;
        default: {
            /* gone already (a delete interrupted by a daemon kill, a
             * partial snapshot): fine. qemu-img's words for it vary
             * ("Can't find the snapshot"), so it is asked first. */
            gboolean has = TRUE;
            ok = image_has(o->snap, image, &has, &error);
            if (ok && has)
                ok = img("-d", o->snap, image, &error);
            if (!ok && strstr(error->message, "not found"))
                ok = TRUE;
            break;
        }
        }
        if (!ok) {
            g_task_return_error(task, g_steal_pointer(&error));
            return;
        }
    }
    g_task_return_boolean(task, TRUE);
}

static void
finished(GObject *source, GAsyncResult *res, gpointer data)
{
    OfflineOp *o = data;
    g_autoptr(GError) error = NULL;
    (void)source;
    g_task_propagate_boolean(G_TASK(res), &error);
    o->done(o->dom, error, o->user_data);
    offline_op_free(o);
}

void
vd_snapshot_offline_run(VdDomainObj *dom, VdSnapshotImgOp op, const char *snap, GPtrArray *images,
                        VdSnapshotDoneFunc done, gpointer user_data)
{
    OfflineOp *o = g_new0(OfflineOp, 1);
    o->dom = vd_domain_obj_ref(dom);
    o->op = op;
    o->snap = g_strdup(snap);
    o->images = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < images->len; i++)
        g_ptr_array_add(o->images, g_strdup(images->pdata[i]));
    o->done = done;
    o->user_data = user_data;
    g_autoptr(GTask) task = g_task_new(NULL, NULL, finished, o);
    g_task_set_task_data(task, o, NULL);
    g_task_run_in_thread(task, worker);
}
