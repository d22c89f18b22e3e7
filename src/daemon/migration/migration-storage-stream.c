/* The offline disk stream's format (migration-storage-priv.h): the
 * source's encoder, a GInputStream over a file's data extents, and the
 * destination's decoder. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "migration-storage-priv.h"
#include "util/vd-error.h"

#define READ_MAX (1024 * 1024)

typedef struct {
    GInputStream parent;
    int fd;
    guint64 size;
    guint64 pos;        /* next byte of the file to look at */
    guint64 extent_end; /* end of the extent being sent */
    guint8 header[VD_DISK_STREAM_HEADER];
    guint header_left; /* bytes of header[] still to send */
    gboolean ended;    /* the last record is queued */
    guint64 sent;      /* how far in the file (atomic: the main loop reads it) */
} VdExtentStream;

typedef struct {
    GInputStreamClass parent_class;
} VdExtentStreamClass;

GType vd_extent_stream_get_type(void);
G_DEFINE_TYPE(VdExtentStream, vd_extent_stream, G_TYPE_INPUT_STREAM)

static void
put_be64(guint8 *p, guint64 v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (guint8)(v >> (56 - 8 * i));
}

static guint64
get_be64(const guint8 *p)
{
    guint64 v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static void
put_header(VdExtentStream *s, guint64 offset, guint64 length)
{
    put_be64(s->header, offset);
    put_be64(s->header + 8, length);
    s->header_left = VD_DISK_STREAM_HEADER;
}

static void
set_sent(VdExtentStream *s, guint64 v)
{
    __atomic_store_n(&s->sent, v, __ATOMIC_RELAXED);
}

static gssize
extent_read(GInputStream *stream, void *buffer, gsize count, GCancellable *cancel, GError **error)
{
    VdExtentStream *s = (VdExtentStream *)stream;

    for (;;) {
        if (s->header_left) {
            gsize n = MIN(count, s->header_left);
            memcpy(buffer, s->header + (VD_DISK_STREAM_HEADER - s->header_left), n);
            s->header_left -= (guint)n;
            return (gssize)n;
        }
        if (s->pos < s->extent_end) {
            gsize want = (gsize)MIN((guint64)MIN(count, READ_MAX), s->extent_end - s->pos);
            ssize_t n;
            do
                n = pread(s->fd, buffer, want, (off_t)s->pos);
            while (n < 0 && errno == EINTR);
            if (n <= 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot read the disk: %s",
                            n < 0 ? g_strerror(errno) : "it shrank while being sent");
                return -1;
            }
            s->pos += (guint64)n;
            set_sent(s, s->pos);
            return n;
        }
        if (s->ended)
            return 0;
        if (g_cancellable_set_error_if_cancelled(cancel, error))
            return -1;
        off_t data = s->pos < s->size ? lseek(s->fd, (off_t)s->pos, SEEK_DATA) : -1;
        if (data < 0 || (guint64)data >= s->size) {
            if (data < 0 && s->pos < s->size && errno != ENXIO) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot read the disk: %s",
                            g_strerror(errno));
                return -1;
            }
            /* No data left: the last record says the file's size. */
            s->ended = TRUE;
            s->pos = s->size;
            set_sent(s, s->size);
            put_header(s, s->size, 0);
            continue;
        }
        off_t hole = lseek(s->fd, data, SEEK_HOLE);
        if (hole < 0 || (guint64)hole > s->size)
            hole = (off_t)s->size;
        s->pos = (guint64)data;
        s->extent_end = (guint64)hole;
        put_header(s, (guint64)data, (guint64)(hole - data));
    }
}

static gboolean
extent_close(GInputStream *stream, GCancellable *cancel, GError **error)
{
    VdExtentStream *s = (VdExtentStream *)stream;
    (void)cancel, (void)error;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    return TRUE;
}

static void
extent_finalize(GObject *obj)
{
    VdExtentStream *s = (VdExtentStream *)obj;
    if (s->fd >= 0)
        close(s->fd);
    G_OBJECT_CLASS(vd_extent_stream_parent_class)->finalize(obj);
}

static void
vd_extent_stream_class_init(VdExtentStreamClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = extent_finalize;
    G_INPUT_STREAM_CLASS(klass)->read_fn = extent_read;
    G_INPUT_STREAM_CLASS(klass)->close_fn = extent_close;
}

static void
vd_extent_stream_init(VdExtentStream *s)
{
    s->fd = -1;
}

GInputStream *
vd_disk_stream_new(int fd, guint64 size)
{
    VdExtentStream *s = g_object_new(vd_extent_stream_get_type(), NULL);
    s->fd = fd;
    s->size = size;
    return G_INPUT_STREAM(s);
}

guint64
vd_disk_stream_sent(GInputStream *stream)
{
    return __atomic_load_n(&((VdExtentStream *)stream)->sent, __ATOMIC_RELAXED);
}

guint64
vd_disk_stream_size(GInputStream *stream)
{
    return ((VdExtentStream *)stream)->size;
}

/* ---- the decoder ---- */

gboolean
vd_disk_stream_take(VdDiskStreamParser *p, const guint8 *data, gsize len, int fd, GError **error)
{
    while (len > 0) {
        if (p->ended)
            return vd_set_error(error, VD_ERROR_INVALID_ARG, "data after the end of the stream");
        if (p->left == 0) {
            gsize n = MIN(len, VD_DISK_STREAM_HEADER - p->header_have);
            memcpy(p->header + p->header_have, data, n);
            p->header_have += (guint)n;
            data += n;
            len -= n;
            if (p->header_have < VD_DISK_STREAM_HEADER)
                continue;
            p->header_have = 0;
            p->offset = get_be64(p->header);
            p->left = get_be64(p->header + 8);
            if (p->offset > G_MAXINT64 || p->left > (guint64)G_MAXINT64 - p->offset)
                return vd_set_error(error, VD_ERROR_INVALID_ARG,
                                    "an extent past any file size in the stream");
            if (p->offset < p->end_of_data)
                return vd_set_error(error, VD_ERROR_INVALID_ARG,
                                    "the stream's extents go backwards");
            if (p->left == 0) {
                p->ended = TRUE;
                p->size = p->offset;
            }
            continue;
        }
        gsize n = (gsize)MIN((guint64)len, p->left);
        gsize m = n;
        const guint8 *q = data;
        while (m > 0) {
            ssize_t w = pwrite(fd, q, m, (off_t)p->offset);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                int err = errno;
                g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "cannot write: %s",
                            g_strerror(err));
                return FALSE;
            }
            q += w;
            m -= (gsize)w;
            p->offset += (guint64)w;
        }
        p->left -= n;
        p->written += n;
        p->end_of_data = p->offset;
        data += n;
        len -= n;
    }
    return TRUE;
}

guint64
vd_disk_image_virtual_size(int fd, guint64 file_size)
{
    guint8 h[32];
    if (pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) && memcmp(h, "QFI\xfb", 4) == 0)
        return get_be64(h + 24);
    return file_size;
}
