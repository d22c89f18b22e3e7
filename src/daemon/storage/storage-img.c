/* qemu-img and file facts of one volume, for worker threads: every call
 * here may block for as long as the disk or qemu-img takes. */
#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/storage/storage.h"
#include "util/vd-error.h"

/* Runs qemu-img with @argv (after the program name); its stdout in
 * @out (may be NULL). Its own message becomes the error: it names the
 * file and the reason better than we could. */
gboolean
vd_storage_qemu_img(const char *const *args, char **out, GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autofree char *sout = NULL;
    g_autofree char *serr = NULL;
    int status = 0;
    g_autoptr(GError) local = NULL;

    g_ptr_array_add(argv, (gpointer)(g_getenv("VIRTD_QEMU_IMG") ? g_getenv("VIRTD_QEMU_IMG")
                                                                 : "qemu-img"));
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);
    if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_CLOEXEC_PIPES, NULL, NULL, &sout, &serr,
                      &status, &local)) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "cannot run qemu-img: %s (install qemu-utils)", local->message);
        return FALSE;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_strstrip(serr);
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "qemu-img %s failed: %s",
                    args[0], *serr ? serr : "no message");
        return FALSE;
    }
    if (out)
        *out = g_steal_pointer(&sout);
    return TRUE;
}

char *
vd_storage_probe_format(const char *path)
{
    unsigned char head[8] = {0};
    /* O_NONBLOCK: the main loop calls this, and a FIFO must not hang it. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? pread(fd, head, sizeof(head), 0) : -1;

    if (fd >= 0)
        close(fd);
    if (n >= 4 && memcmp(head, "QFI\xfb", 4) == 0)
        return g_strdup("qcow2");
    if (n >= 4 && memcmp(head, "QFI\0", 4) == 0)
        return g_strdup("qed");
    if (n >= 4 && memcmp(head, "KDMV", 4) == 0)
        return g_strdup("vmdk");
    if (n >= 8 && memcmp(head, "vhdxfile", 8) == 0)
        return g_strdup("vhdx");
    return g_strdup("raw");
}

VdStorageVolDef *
vd_storage_vol_inspect(const char *path, GError **error)
{
    g_autoptr(VdStorageVolDef) vol = vd_storage_vol_def_new();
    g_autofree char *json = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    struct stat st;

    if (stat(path, &st) < 0) {
        int err = errno;
        g_set_error(error, VD_ERROR, err == ENOENT ? VD_ERROR_NO_VOLUME : VD_ERROR_OPERATION_FAILED,
                    "cannot read volume '%s': %s", path, g_strerror(err));
        return NULL;
    }
    vol->path = g_strdup(path);
    vol->key = g_strdup(path);
    vol->name = g_path_get_basename(path);
    vol->allocation = (guint64)st.st_blocks * 512;
    vol->physical = (guint64)st.st_size;
    vol->capacity = (guint64)st.st_size;
    vol->perms.set = TRUE;
    vol->perms.mode = st.st_mode & 07777;
    vol->perms.owner = st.st_uid;
    vol->perms.group = st.st_gid;

    /* -U: a running guest holds a write lock on its image; reading the
     * header is still safe. */
    const char *args[] = {"info", "-U", "--output=json", path, NULL};
    if (!vd_storage_qemu_img(args, &json, error))
        return NULL;
    if (!json_parser_load_from_data(parser, json, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "qemu-img info gave no JSON for '%s'", path);
        return NULL;
    }
    JsonObject *o = json_node_get_object(json_parser_get_root(parser));
    vol->format = g_strdup(json_object_get_string_member_with_default(o, "format", "raw"));
    vol->capacity = (guint64)json_object_get_int_member_with_default(o, "virtual-size",
                                                                      (gint64)st.st_size);
    const char *backing = json_object_get_string_member_with_default(o, "full-backing-filename",
                                                                     NULL);
    if (!backing)
        backing = json_object_get_string_member_with_default(o, "backing-filename", NULL);
    if (backing) {
        vol->backing_path = g_strdup(backing);
        vol->backing_format =
            g_strdup(json_object_get_string_member_with_default(o, "backing-filename-format",
                                                                NULL));
    }
    return g_steal_pointer(&vol);
}
