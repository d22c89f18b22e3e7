/* The usage history file (usage-ring.h): header, three rings of records,
 * the roll-up of samples into day and week points. */
#include "daemon/stats/usage-ring.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "util/vd-error.h"
#include "util/vd-file.h"

#define MAGIC "VDUSAGE"
#define VERSION 1

G_STATIC_ASSERT(sizeof(VdUsagePoint) == 128);
G_STATIC_ASSERT(offsetof(VdUsagePoint, checksum) == 124);

/* Written once, when the file is made. */
typedef struct {
    char magic[8];
    guint32 version;
    guint32 record_size;
    guint32 interval_ms;
    guint32 slots[VD_USAGE_LEVELS];
    guint32 factor[VD_USAGE_LEVELS];
    char uuid[40];
    guint8 reserved[40];
    guint32 checksum;
} Header;
G_STATIC_ASSERT(sizeof(Header) == 128);

static const char *const level_names[] = {"hour", "day", "week"};
static const guint level_slots[] = {360, 288, 336};
static const guint level_factor[] = {1, 30, 180};

struct _VdUsageFile {
    char *path;
    char uuid[40];
    guint interval_ms;
    guint64 next_seq[VD_USAGE_LEVELS];
    VdUsageAcc acc[VD_USAGE_LEVELS]; /* day and week: the period in progress */
    VdUsagePoint last;               /* the last hour point; seq 0: none */
};

const char *
vd_usage_level_name(VdUsageLevel level)
{
    return level_names[level];
}

gboolean
vd_usage_level_parse(const char *name, VdUsageLevel *level)
{
    for (guint i = 0; i < VD_USAGE_LEVELS; i++)
        if (name && g_str_equal(name, level_names[i])) {
            *level = i;
            return TRUE;
        }
    return FALSE;
}

guint
vd_usage_level_slots(VdUsageLevel level)
{
    return level_slots[level];
}

guint
vd_usage_level_factor(VdUsageLevel level)
{
    return level_factor[level];
}

static guint32
fnv1a(const void *data, gsize len)
{
    const guint8 *p = data;
    guint32 h = 2166136261u;
    for (gsize i = 0; i < len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

guint32
vd_usage_point_checksum(const VdUsagePoint *p)
{
    return fnv1a(p, offsetof(VdUsagePoint, checksum));
}

static goffset
ring_offset(VdUsageLevel level)
{
    goffset off = sizeof(Header);
    for (guint i = 0; i < level; i++)
        off += (goffset)level_slots[i] * sizeof(VdUsagePoint);
    return off;
}

static goffset
file_size(void)
{
    return ring_offset(VD_USAGE_LEVELS);
}

static gint64
period_ms(const VdUsageFile *f, VdUsageLevel level)
{
    return (gint64)f->interval_ms * level_factor[level];
}

/* ---- averages -------------------------------------------------------------- */

void
vd_usage_acc_add(VdUsageAcc *acc, gint64 period, const VdUsagePoint *p)
{
    if (acc->n == 0) {
        memset(acc, 0, sizeof(*acc));
        acc->period = period;
    }
    /* a day point fed into a week average weighs as the samples it holds */
    guint32 w = p->samples ? p->samples : 1;
    acc->n += w;
    if (p->flags & VD_USAGE_HAS_CPU) {
        acc->n_cpu += w;
        acc->cpu += w * p->cpu_pct;
    }
    if (p->flags & VD_USAGE_HAS_MEM) {
        acc->n_mem += w;
        acc->mem += w * (double)p->mem_kib;
    }
    if (p->flags & VD_USAGE_HAS_BALLOON) {
        acc->n_balloon += w;
        acc->balloon += w * (double)p->balloon_kib;
    }
    if (p->flags & VD_USAGE_HAS_DISK) {
        acc->n_disk += w;
        acc->rd += w * p->disk_rd_bps;
        acc->wr += w * p->disk_wr_bps;
    }
    if (p->flags & VD_USAGE_HAS_NET) {
        acc->n_net += w;
        acc->rx += w * p->net_rx_bps;
        acc->tx += w * p->net_tx_bps;
    }
}

void
vd_usage_acc_point(const VdUsageAcc *acc, gint64 len_ms, VdUsagePoint *out)
{
    memset(out, 0, sizeof(*out));
    out->t_ms = acc->period * len_ms;
    out->samples = acc->n;
    if (acc->n_cpu) {
        out->flags |= VD_USAGE_HAS_CPU;
        out->cpu_pct = acc->cpu / acc->n_cpu;
    }
    if (acc->n_mem) {
        out->flags |= VD_USAGE_HAS_MEM;
        out->mem_kib = vd_usage_round(acc->mem / acc->n_mem);
    }
    if (acc->n_balloon) {
        out->flags |= VD_USAGE_HAS_BALLOON;
        out->balloon_kib = vd_usage_round(acc->balloon / acc->n_balloon);
    }
    if (acc->n_disk) {
        out->flags |= VD_USAGE_HAS_DISK;
        out->disk_rd_bps = acc->rd / acc->n_disk;
        out->disk_wr_bps = acc->wr / acc->n_disk;
    }
    if (acc->n_net) {
        out->flags |= VD_USAGE_HAS_NET;
        out->net_rx_bps = acc->rx / acc->n_net;
        out->net_tx_bps = acc->tx / acc->n_net;
    }
}

/* ---- rates ------------------------------------------------------------------ */

static gboolean
delta(guint64 a, guint64 b, guint64 *d)
{
    if (b < a)
        return FALSE;
    *d = b - a;
    return TRUE;
}

void
vd_usage_point_rates(const VdUsagePoint *prev, VdUsagePoint *cur, guint vcpus, gint64 max_gap_ms)
{
    cur->flags &= ~(VD_USAGE_HAS_CPU | VD_USAGE_HAS_DISK | VD_USAGE_HAS_NET);
    if (!prev || prev->pid != cur->pid || cur->t_ms <= prev->t_ms ||
        cur->t_ms - prev->t_ms > max_gap_ms)
        return;
    double secs = (double)(cur->t_ms - prev->t_ms) / 1000.0;
    guint64 a, b;
    guint both = prev->flags & cur->flags;
    if ((both & VD_USAGE_RAW_CPU) && delta(prev->cpu_ns, cur->cpu_ns, &a)) {
        cur->cpu_pct = (double)a / 1e9 / secs * 100.0 / (vcpus ? vcpus : 1);
        cur->flags |= VD_USAGE_HAS_CPU;
    }
    if ((both & VD_USAGE_RAW_DISK) && delta(prev->rd_bytes, cur->rd_bytes, &a) &&
        delta(prev->wr_bytes, cur->wr_bytes, &b)) {
        cur->disk_rd_bps = (double)a / secs;
        cur->disk_wr_bps = (double)b / secs;
        cur->flags |= VD_USAGE_HAS_DISK;
    }
    if ((both & VD_USAGE_RAW_NET) && delta(prev->rx_bytes, cur->rx_bytes, &a) &&
        delta(prev->tx_bytes, cur->tx_bytes, &b)) {
        cur->net_rx_bps = (double)a / secs;
        cur->net_tx_bps = (double)b / secs;
        cur->flags |= VD_USAGE_HAS_NET;
    }
}

/* ---- the file ----------------------------------------------------------------- */

static void
header_init(Header *h, const char *uuid, guint interval_ms)
{
    memset(h, 0, sizeof(*h));
    memcpy(h->magic, MAGIC, sizeof(MAGIC));
    h->version = VERSION;
    h->record_size = sizeof(VdUsagePoint);
    h->interval_ms = interval_ms;
    for (guint i = 0; i < VD_USAGE_LEVELS; i++) {
        h->slots[i] = level_slots[i];
        h->factor[i] = level_factor[i];
    }
    g_strlcpy(h->uuid, uuid, sizeof(h->uuid));
    h->checksum = fnv1a(h, offsetof(Header, checksum));
}

static gboolean
io_error(GError **error, const char *what, const char *path)
{
    int e = errno;
    g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                "operation failed: cannot %s the usage history '%s': %s", what, path,
                g_strerror(e));
    return FALSE;
}

static gboolean
create(VdUsageFile *f, GError **error)
{
    gsize len = file_size();
    g_autofree char *data = g_malloc0(len);
    header_init((Header *)data, f->uuid, f->interval_ms);
    return vd_file_write_atomic(f->path, data, len, 0600, error);
}

static gboolean
read_ring(const VdUsageFile *f, int fd, VdUsageLevel level, VdUsagePoint *out, GError **error)
{
    gsize len = (gsize)level_slots[level] * sizeof(VdUsagePoint);
    ssize_t n = pread(fd, out, len, ring_offset(level));
    if (n < 0)
        return io_error(error, "read", f->path);
    if ((gsize)n < len) /* shortened by hand: what is missing is empty */
        memset((char *)out + n, 0, len - n);
    return TRUE;
}

static gboolean
valid(const VdUsagePoint *p)
{
    return p->seq != 0 && p->checksum == vd_usage_point_checksum(p);
}

static gint
by_seq(gconstpointer a, gconstpointer b)
{
    const VdUsagePoint *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static gint
by_time(gconstpointer a, gconstpointer b)
{
    const VdUsagePoint *x = a, *y = b;
    if (x->t_ms != y->t_ms)
        return x->t_ms < y->t_ms ? -1 : 1;
    return by_seq(a, b);
}

/* The valid records of a ring, in the order they were written. */
static GArray *
ring_points(const VdUsageFile *f, int fd, VdUsageLevel level, GError **error)
{
    guint slots = level_slots[level];
    g_autofree VdUsagePoint *all = g_new(VdUsagePoint, slots);
    if (!read_ring(f, fd, level, all, error))
        return NULL;
    GArray *out = g_array_sized_new(FALSE, FALSE, sizeof(VdUsagePoint), slots);
    for (guint i = 0; i < slots; i++)
        /* a valid record in the wrong slot is an old file's leftover */
        if (valid(&all[i]) && (all[i].seq - 1) % slots == i)
            g_array_append_val(out, all[i]);
    g_array_sort(out, by_seq);
    return out;
}

static gboolean
write_point(VdUsageFile *f, int fd, VdUsageLevel level, const VdUsagePoint *p, GError **error)
{
    VdUsagePoint r = *p;
    r.seq = f->next_seq[level]++;
    r.checksum = vd_usage_point_checksum(&r);
    goffset off = ring_offset(level) + (goffset)((r.seq - 1) % level_slots[level]) * sizeof(r);
    if (pwrite(fd, &r, sizeof(r), off) != (ssize_t)sizeof(r))
        return io_error(error, "write", f->path);
    return TRUE;
}

/* Feeds hour point @p into the day and week periods, writing the points
 * of the periods it closes. */
static gboolean
roll_up(VdUsageFile *f, int fd, const VdUsagePoint *p, GError **error)
{
    for (VdUsageLevel l = VD_USAGE_DAY; l < VD_USAGE_LEVELS; l++) {
        VdUsageAcc *acc = &f->acc[l];
        gint64 len = period_ms(f, l);
        gint64 period = p->t_ms / len;
        if (acc->n > 0 && acc->period != period) {
            VdUsagePoint out;
            vd_usage_acc_point(acc, len, &out);
            acc->n = 0;
            if (!write_point(f, fd, l, &out, error))
                return FALSE;
        }
        vd_usage_acc_add(acc, period, p);
    }
    return TRUE;
}

static gboolean rebuild(VdUsageFile *f, int fd, GArray **rings, GError **error);

/* After an open: the next sequence numbers, the last sample, and the
 * periods in progress from the hour points not yet rolled up (the hour
 * ring holds 360 samples, more than a week point's 180). */
static gboolean
load(VdUsageFile *f, int fd, GError **error)
{
    GArray *rings[VD_USAGE_LEVELS] = {NULL};
    gboolean ok = TRUE;
    for (VdUsageLevel l = 0; ok && l < VD_USAGE_LEVELS; l++)
        ok = (rings[l] = ring_points(f, fd, l, error)) != NULL;
    if (ok)
        ok = rebuild(f, fd, rings, error);
    for (VdUsageLevel l = 0; l < VD_USAGE_LEVELS; l++)
        g_clear_pointer(&rings[l], g_array_unref);
    return ok;
}

static gboolean
rebuild(VdUsageFile *f, int fd, GArray **rings, GError **error)
{
    for (VdUsageLevel l = 0; l < VD_USAGE_LEVELS; l++) {
        GArray *a = rings[l];
        f->next_seq[l] = a->len ? g_array_index(a, VdUsagePoint, a->len - 1).seq + 1 : 1;
    }
    GArray *hour = rings[VD_USAGE_HOUR];
    if (hour->len)
        f->last = g_array_index(hour, VdUsagePoint, hour->len - 1);
    for (VdUsageLevel l = VD_USAGE_DAY; l < VD_USAGE_LEVELS; l++) {
        GArray *a = rings[l];
        gint64 len = period_ms(f, l);
        gint64 done = a->len ? g_array_index(a, VdUsagePoint, a->len - 1).t_ms / len : G_MININT64;
        VdUsageAcc *acc = &f->acc[l];
        for (guint i = 0; i < hour->len; i++) {
            const VdUsagePoint *p = &g_array_index(hour, VdUsagePoint, i);
            gint64 period = p->t_ms / len;
            if (period <= done)
                continue;
            if (acc->n > 0 && acc->period != period) {
                /* a period a killed daemon left closed but unwritten */
                VdUsagePoint out;
                vd_usage_acc_point(acc, len, &out);
                acc->n = 0;
                if (!write_point(f, fd, l, &out, error))
                    return FALSE;
            }
            vd_usage_acc_add(acc, period, p);
        }
    }
    return TRUE;
}

static gboolean
header_ok(const Header *h, const char *uuid, guint interval_ms)
{
    Header want;
    header_init(&want, uuid, interval_ms);
    return memcmp(h, &want, sizeof(want)) == 0;
}

VdUsageFile *
vd_usage_file_open(const char *path, const char *uuid, guint interval_ms, gboolean create_it,
                   GError **error)
{
    g_autoptr(VdUsageFile) f = g_new0(VdUsageFile, 1);
    f->path = g_strdup(path);
    g_strlcpy(f->uuid, uuid, sizeof(f->uuid));
    f->interval_ms = interval_ms;

    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0 && errno != ENOENT) {
            io_error(error, "open", path);
            return NULL;
        }
        Header h;
        if (fd >= 0 && pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
            header_ok(&h, uuid, interval_ms)) {
            gboolean ok = load(f, fd, error);
            close(fd);
            return ok ? g_steal_pointer(&f) : NULL;
        }
        if (fd >= 0)
            close(fd);
        if (!create_it || attempt > 0)
            return NULL;
        if (!create(f, error))
            return NULL;
    }
    return NULL;
}

void
vd_usage_file_free(VdUsageFile *f)
{
    if (!f)
        return;
    g_free(f->path);
    g_free(f);
}

const char *
vd_usage_file_path(const VdUsageFile *f)
{
    return f->path;
}

const char *
vd_usage_file_uuid(const VdUsageFile *f)
{
    return f->uuid;
}

void
vd_usage_file_set_path(VdUsageFile *f, const char *path)
{
    g_free(f->path);
    f->path = g_strdup(path);
}

const VdUsagePoint *
vd_usage_file_last(const VdUsageFile *f)
{
    return f->last.seq ? &f->last : NULL;
}

gboolean
vd_usage_file_add(VdUsageFile *f, const VdUsagePoint *p, GError **error)
{
    int fd = open(f->path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return io_error(error, "open", f->path);
    VdUsagePoint s = *p;
    s.samples = 1;
    gboolean ok = write_point(f, fd, VD_USAGE_HOUR, &s, error) && roll_up(f, fd, &s, error);
    close(fd);
    if (ok) {
        f->last = s;
        f->last.seq = f->next_seq[VD_USAGE_HOUR] - 1;
    }
    return ok;
}

GArray *
vd_usage_file_read(VdUsageFile *f, VdUsageLevel level, gint64 now_ms, gboolean partial,
                   GError **error)
{
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        io_error(error, "open", f->path);
        return NULL;
    }
    g_autoptr(GArray) all = ring_points(f, fd, level, error);
    close(fd);
    if (!all)
        return NULL;
    gint64 span = period_ms(f, level) * level_slots[level];
    GArray *out = g_array_new(FALSE, FALSE, sizeof(VdUsagePoint));
    for (guint i = 0; i < all->len; i++) {
        const VdUsagePoint *p = &g_array_index(all, VdUsagePoint, i);
        if (p->t_ms > now_ms - span && p->t_ms <= now_ms)
            g_array_append_val(out, *p);
    }
    g_array_sort(out, by_time);
    if (partial && level != VD_USAGE_HOUR && f->acc[level].n > 0) {
        VdUsagePoint p;
        vd_usage_acc_point(&f->acc[level], period_ms(f, level), &p);
        if (p.t_ms > now_ms - span)
            g_array_append_val(out, p);
    }
    return out;
}

GArray *
vd_usage_file_read_last(VdUsageFile *f, guint n, gint64 now_ms, GError **error)
{
    guint slots = level_slots[VD_USAGE_HOUR];
    guint64 next = f->next_seq[VD_USAGE_HOUR];
    n = MIN(n, MIN(slots, (guint)(next - 1)));
    GArray *out = g_array_sized_new(FALSE, FALSE, sizeof(VdUsagePoint), n);
    if (n == 0)
        return out;
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        g_array_unref(out);
        io_error(error, "open", f->path);
        return NULL;
    }
    /* seq next-n .. next-1: slots from (next-n-1) % slots, wrapping once */
    g_autofree VdUsagePoint *buf = g_new0(VdUsagePoint, n);
    guint first = (guint)((next - n - 1) % slots);
    guint run = MIN(n, slots - first);
    gsize sz = sizeof(VdUsagePoint);
    gboolean ok =
        pread(fd, buf, run * sz, ring_offset(VD_USAGE_HOUR) + first * sz) >= 0 &&
        (run == n || pread(fd, buf + run, (n - run) * sz, ring_offset(VD_USAGE_HOUR)) >= 0);
    close(fd);
    if (!ok) {
        g_array_unref(out);
        io_error(error, "read", f->path);
        return NULL;
    }
    gint64 span = period_ms(f, VD_USAGE_HOUR) * slots;
    for (guint i = 0; i < n; i++)
        if (valid(&buf[i]) && buf[i].seq == next - n + i && buf[i].t_ms > now_ms - span &&
            buf[i].t_ms <= now_ms)
            g_array_append_val(out, buf[i]);
    g_array_sort(out, by_time);
    return out;
}
