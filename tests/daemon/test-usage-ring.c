/* The usage history file (daemon/stats/usage-ring.h) on a temporary
 * directory: wrap-around of the rings, a torn record skipped, the roll-up
 * of samples into day and week points (also across a re-open, as after a
 * daemon restart), rates from raw counters, files of another domain or
 * layout made afresh. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/stats/usage-ring.h"

#define UUID "6f1c2a52-8d2e-4a57-9a43-0d7f8f3c1e11"
#define IV 10000                   /* 10 s */
#define T0 ((gint64)1699999200000) /* a multiple of 30 min */

typedef struct {
    char *dir;
    char *path;
} Fixture;

static void
setup(Fixture *fx, gconstpointer data)
{
    fx->dir = g_dir_make_tmp("vd-usage-XXXXXX", NULL);
    g_assert_nonnull(fx->dir);
    fx->path = g_build_filename(fx->dir, "web1.usage", NULL);
}

static void
teardown(Fixture *fx, gconstpointer data)
{
    g_autoptr(GDir) d = g_dir_open(fx->dir, 0, NULL);
    const char *e;
    while (d && (e = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(fx->dir, e, NULL);
        g_unlink(p);
    }
    g_rmdir(fx->dir);
    g_free(fx->dir);
    g_free(fx->path);
}

static VdUsagePoint
sample(gint64 t_ms, double cpu)
{
    VdUsagePoint p = {0};
    p.t_ms = t_ms;
    p.flags = VD_USAGE_HAS_CPU | VD_USAGE_HAS_MEM;
    p.cpu_pct = cpu;
    p.mem_kib = 1000;
    return p;
}

static GArray *
read_level(VdUsageFile *f, VdUsageLevel level, gint64 now, gboolean partial)
{
    g_autoptr(GError) error = NULL;
    GArray *a = vd_usage_file_read(f, level, now, partial, &error);
    g_assert_no_error(error);
    return a;
}

static void
test_wrap(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdUsageFile) f = vd_usage_file_open(fx->path, UUID, IV, TRUE, &error);
    g_assert_no_error(error);
    /* 400 samples in a ring of 360: the 40 oldest are overwritten */
    for (guint i = 0; i < 400; i++) {
        VdUsagePoint p = sample(T0 + (gint64)i * IV, i);
        g_assert_true(vd_usage_file_add(f, &p, &error));
    }
    gint64 now = T0 + 399 * (gint64)IV;
    g_autoptr(GArray) a = read_level(f, VD_USAGE_HOUR, now, FALSE);
    g_assert_cmpuint(a->len, ==, 360);
    for (guint i = 0; i < a->len; i++) {
        VdUsagePoint *p = &g_array_index(a, VdUsagePoint, i);
        g_assert_cmpint(p->t_ms, ==, T0 + (gint64)(40 + i) * IV);
        g_assert_cmpfloat(p->cpu_pct, ==, 40 + i);
        g_assert_cmpuint(p->seq, ==, 41 + i);
    }
    /* the last 30, and the last 360 (two reads: the ring wraps at seq 361) */
    g_autoptr(GArray) last = vd_usage_file_read_last(f, 30, now, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(last->len, ==, 30);
    g_assert_cmpint(g_array_index(last, VdUsagePoint, 0).t_ms, ==, T0 + 370 * (gint64)IV);
    g_assert_cmpint(g_array_index(last, VdUsagePoint, 29).t_ms, ==, T0 + 399 * (gint64)IV);
    g_autoptr(GArray) all = vd_usage_file_read_last(f, 500, now, &error);
    g_assert_cmpuint(all->len, ==, 360);
    for (guint i = 0; i < all->len; i++)
        g_assert_cmpuint(g_array_index(all, VdUsagePoint, i).seq, ==, 41 + i);
    /* the file's size is fixed */
    struct stat st;
    g_assert_cmpint(stat(fx->path, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 128 + (360 + 288 + 336) * 128);

    /* an hour later, the hour range is empty; the points are still there */
    g_autoptr(GArray) later = read_level(f, VD_USAGE_HOUR, now + 3600 * 1000, FALSE);
    g_assert_cmpuint(later->len, ==, 0);

    /* re-opened (a daemon restart): the same points, and sequence goes on */
    g_clear_pointer(&f, vd_usage_file_free);
    f = vd_usage_file_open(fx->path, UUID, IV, TRUE, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(vd_usage_file_last(f)->seq, ==, 400);
    VdUsagePoint p = sample(now + IV, 7);
    g_assert_true(vd_usage_file_add(f, &p, &error));
    g_autoptr(GArray) b = read_level(f, VD_USAGE_HOUR, now + IV, FALSE);
    g_assert_cmpuint(b->len, ==, 360);
    g_assert_cmpuint(g_array_index(b, VdUsagePoint, 359).seq, ==, 401);
    g_assert_cmpint(g_array_index(b, VdUsagePoint, 0).t_ms, ==, T0 + 41 * (gint64)IV);
}

static void
test_torn(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdUsageFile) f = vd_usage_file_open(fx->path, UUID, IV, TRUE, &error);
    for (guint i = 0; i < 10; i++) {
        VdUsagePoint p = sample(T0 + (gint64)i * IV, i);
        g_assert_true(vd_usage_file_add(f, &p, &error));
    }
    g_clear_pointer(&f, vd_usage_file_free);
    /* record 5 (seq 6, slot 5) half rewritten, as a crash mid-write leaves it */
    int fd = open(fx->path, O_WRONLY);
    g_assert_cmpint(fd, >=, 0);
    guint8 junk[40];
    memset(junk, 0xab, sizeof(junk));
    g_assert_cmpint(pwrite(fd, junk, sizeof(junk), 128 + 5 * 128 + 64), ==, sizeof(junk));
    /* and the last one (seq 10) too: the next sample takes its slot */
    g_assert_cmpint(pwrite(fd, junk, 8, 128 + 9 * 128 + 16), ==, 8);
    close(fd);

    f = vd_usage_file_open(fx->path, UUID, IV, TRUE, &error);
    g_assert_no_error(error);
    g_autoptr(GArray) a = read_level(f, VD_USAGE_HOUR, T0 + 20 * IV, FALSE);
    g_assert_cmpuint(a->len, ==, 8);
    for (guint i = 0; i < a->len; i++) {
        gint64 t = g_array_index(a, VdUsagePoint, i).t_ms;
        g_assert_cmpint(t, !=, T0 + 5 * IV);
        g_assert_cmpint(t, !=, T0 + 9 * IV);
    }
    g_assert_cmpint(vd_usage_file_last(f)->t_ms, ==, T0 + 8 * IV);
    VdUsagePoint p = sample(T0 + 10 * IV, 1);
    g_assert_true(vd_usage_file_add(f, &p, &error));
    g_assert_cmpuint(vd_usage_file_last(f)->seq, ==, 10);
    g_autoptr(GArray) b = read_level(f, VD_USAGE_HOUR, T0 + 20 * IV, FALSE);
    g_assert_cmpuint(b->len, ==, 9);

    /* a damaged header: the file is made afresh */
    g_clear_pointer(&f, vd_usage_file_free);
    fd = open(fx->path, O_WRONLY);
    g_assert_cmpint(pwrite(fd, "X", 1, 0), ==, 1);
    close(fd);
    f = vd_usage_file_open(fx->path, UUID, IV, TRUE, &error);
    g_assert_no_error(error);
    g_autoptr(GArray) c = read_level(f, VD_USAGE_HOUR, T0 + 20 * IV, FALSE);
    g_assert_cmpuint(c->len, ==, 0);
}

static void
test_rollup(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdUsageFile) f = vd_usage_file_open(fx->path, UUID, IV, TRUE, &error);
    /* 65 minutes of samples: cpu = the sample's minute; memory unknown in
     * the first 5 minutes */
    guint n = 65 * 6;
    for (guint i = 0; i < n; i++) {
        VdUsagePoint p = sample(T0 + (gint64)i * IV, i / 6);
        if (i < 30)
            p.flags &= ~VD_USAGE_HAS_MEM;
        g_assert_true(vd_usage_file_add(f, &p, &error));
    }
    gint64 now = T0 + (gint64)(n - 1) * IV;
    /* 12 periods of 5 min closed and written (no sample of the 14th has
     * come to close the 13th) ... */
    g_autoptr(GArray) day = read_level(f, VD_USAGE_DAY, now, FALSE);
    g_assert_cmpuint(day->len, ==, 12);
    for (guint k = 0; k < day->len; k++) {
        VdUsagePoint *p = &g_array_index(day, VdUsagePoint, k);
        g_assert_cmpint(p->t_ms, ==, T0 + (gint64)k * 300000);
        g_assert_cmpuint(p->samples, ==, 30);
        /* minutes 5k .. 5k+4: average 5k + 2 */
        g_assert_cmpfloat_with_epsilon(p->cpu_pct, 5 * k + 2, 1e-9);
        g_assert_cmpint(!!(p->flags & VD_USAGE_HAS_MEM), ==, k > 0);
    }
    /* ... and with the period in progress (minutes 60-64) */
    g_autoptr(GArray) dayp = read_level(f, VD_USAGE_DAY, now, TRUE);
    g_assert_cmpuint(dayp->len, ==, 13);
    VdUsagePoint *part = &g_array_index(dayp, VdUsagePoint, 12);
    g_assert_cmpint(part->t_ms, ==, T0 + 12 * 300000);
    g_assert_cmpuint(part->samples, ==, 30);
    g_assert_cmpfloat_with_epsilon(part->cpu_pct, 62, 1e-9);

    /* week: the first 30 min closed = the average of its six day points */
    g_autoptr(GArray) week = read_level(f, VD_USAGE_WEEK, now, TRUE);
    g_assert_cmpuint(week->len, ==, 3);
    VdUsagePoint *w0 = &g_array_index(week, VdUsagePoint, 0);
    g_assert_cmpint(w0->t_ms, ==, T0);
    g_assert_cmpuint(w0->samples, ==, 180);
    double sum = 0;
    for (guint k = 0; k < 6; k++)
        sum += g_array_index(day, VdUsagePoint, k).cpu_pct;
    g_assert_cmpfloat_with_epsilon(w0->cpu_pct, sum / 6, 1e-9);
    g_assert_cmpfloat_with_epsilon(g_array_index(week, VdUsagePoint, 1).cpu_pct, 44.5, 1e-9);
    /* memory known in 150 of its 180 samples: averaged over those */
    g_assert_true(w0->flags & VD_USAGE_HAS_MEM);
    g_assert_cmpuint(w0->mem_kib, ==, 1000);
    VdUsagePoint *wp = &g_array_index(week, VdUsagePoint, 2); /* in progress: minutes 60-64 */
    g_assert_cmpint(wp->t_ms, ==, T0 + 2 * 1800000);
    g_assert_cmpuint(wp->samples, ==, 30);

    /* a restart: the periods in progress are rebuilt from the hour ring,
     * and the next sample closes them as if nothing had happened */
    g_clear_pointer(&f, vd_usage_file_free);
    f = vd_usage_file_open(fx->path, UUID, IV, TRUE, &error);
    g_assert_no_error(error);
    g_autoptr(GArray) dayr = read_level(f, VD_USAGE_DAY, now, TRUE);
    g_assert_cmpuint(dayr->len, ==, 13);
    g_assert_cmpfloat_with_epsilon(g_array_index(dayr, VdUsagePoint, 12).cpu_pct, 62, 1e-9);
    VdUsagePoint p = sample(T0 + 65 * 60000, 100);
    g_assert_true(vd_usage_file_add(f, &p, &error));
    g_autoptr(GArray) day2 = read_level(f, VD_USAGE_DAY, p.t_ms, FALSE);
    g_assert_cmpuint(day2->len, ==, 13);
    g_assert_cmpuint(g_array_index(day2, VdUsagePoint, 12).samples, ==, 30);
    g_assert_cmpfloat_with_epsilon(g_array_index(day2, VdUsagePoint, 12).cpu_pct, 62, 1e-9);
}

static void
test_rates(void)
{
    VdUsagePoint a = {0}, b = {0};
    a.t_ms = T0;
    a.pid = b.pid = 42;
    a.flags = b.flags = VD_USAGE_RAW_CPU | VD_USAGE_RAW_DISK | VD_USAGE_RAW_NET;
    a.cpu_ns = 1000000000;
    b.t_ms = T0 + 10000;
    b.cpu_ns = a.cpu_ns + 5000000000ull; /* 5 s of CPU in 10 s, 2 vCPUs: 25 % */
    a.rd_bytes = 100;
    b.rd_bytes = 100 + 10 * 4096;
    a.wr_bytes = b.wr_bytes = 7;
    a.rx_bytes = 10;
    b.rx_bytes = 10 + 10000;
    b.tx_bytes = 20;
    vd_usage_point_rates(&a, &b, 2, 60000);
    g_assert_cmpuint(b.flags & 0xff, ==, VD_USAGE_HAS_CPU | VD_USAGE_HAS_DISK | VD_USAGE_HAS_NET);
    g_assert_cmpfloat_with_epsilon(b.cpu_pct, 25, 1e-9);
    g_assert_cmpfloat_with_epsilon(b.disk_rd_bps, 4096, 1e-9);
    g_assert_cmpfloat(b.disk_wr_bps, ==, 0);
    g_assert_cmpfloat_with_epsilon(b.net_rx_bps, 1000, 1e-9);
    g_assert_cmpfloat_with_epsilon(b.net_tx_bps, 2, 1e-9);

    /* a disk unplugged: its bytes leave the sum, the rate is unknown */
    VdUsagePoint c = b;
    c.t_ms += 10000;
    c.rd_bytes = 50;
    vd_usage_point_rates(&b, &c, 2, 60000);
    g_assert_false(c.flags & VD_USAGE_HAS_DISK);
    g_assert_true(c.flags & VD_USAGE_HAS_CPU);
    /* another QEMU (restarted), or too long a gap: no rates */
    VdUsagePoint d = b;
    d.t_ms += 10000;
    d.pid = 43;
    vd_usage_point_rates(&b, &d, 2, 60000);
    g_assert_false(d.flags & (VD_USAGE_HAS_CPU | VD_USAGE_HAS_DISK | VD_USAGE_HAS_NET));
    d.pid = 42;
    d.t_ms = b.t_ms + 61000;
    vd_usage_point_rates(&b, &d, 2, 60000);
    g_assert_false(d.flags & VD_USAGE_HAS_CPU);
    vd_usage_point_rates(NULL, &d, 2, 60000);
    g_assert_false(d.flags & VD_USAGE_HAS_CPU);
}

static void
test_other_domain(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdUsageFile) f = vd_usage_file_open(fx->path, UUID, IV, TRUE, &error);
    VdUsagePoint p = sample(T0, 1);
    g_assert_true(vd_usage_file_add(f, &p, &error));
    g_clear_pointer(&f, vd_usage_file_free);
    /* without create: another domain's file, or another interval, is no history */
    g_assert_null(
        vd_usage_file_open(fx->path, "00000000-0000-0000-0000-000000000001", IV, FALSE, &error));
    g_assert_no_error(error);
    g_assert_null(vd_usage_file_open(fx->path, UUID, 1000, FALSE, &error));
    g_assert_no_error(error);
    f = vd_usage_file_open(fx->path, UUID, IV, FALSE, &error);
    g_assert_nonnull(f);
    g_clear_pointer(&f, vd_usage_file_free);
    /* with create: made afresh for the new one */
    f = vd_usage_file_open(fx->path, "00000000-0000-0000-0000-000000000001", IV, TRUE, &error);
    g_assert_no_error(error);
    g_assert_null(vd_usage_file_last(f));
    /* no file, no create: NULL, no error */
    g_autofree char *none = g_build_filename(fx->dir, "none.usage", NULL);
    g_assert_null(vd_usage_file_open(none, UUID, IV, FALSE, &error));
    g_assert_no_error(error);
    g_assert_false(g_file_test(none, G_FILE_TEST_EXISTS));
}

static void
test_levels(void)
{
    VdUsageLevel l;
    g_assert_true(vd_usage_level_parse("week", &l));
    g_assert_cmpint(l, ==, VD_USAGE_WEEK);
    g_assert_false(vd_usage_level_parse("month", &l));
    g_assert_false(vd_usage_level_parse(NULL, &l));
    /* hour 360 x 10 s, day 288 x 5 min, week 336 x 30 min */
    g_assert_cmpuint(
        vd_usage_level_slots(VD_USAGE_HOUR) * vd_usage_level_factor(VD_USAGE_HOUR) * 10, ==, 3600);
    g_assert_cmpuint(vd_usage_level_slots(VD_USAGE_DAY) * vd_usage_level_factor(VD_USAGE_DAY) * 10,
                     ==, 86400);
    g_assert_cmpuint(vd_usage_level_slots(VD_USAGE_WEEK) * vd_usage_level_factor(VD_USAGE_WEEK) *
                         10,
                     ==, 7 * 86400);
    VdUsagePoint p = {0};
    p.seq = 3;
    guint32 c = vd_usage_point_checksum(&p);
    p.cpu_pct = 1;
    g_assert_cmpuint(vd_usage_point_checksum(&p), !=, c);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/usage-ring/wrap", Fixture, NULL, setup, test_wrap, teardown);
    g_test_add("/usage-ring/torn", Fixture, NULL, setup, test_torn, teardown);
    g_test_add("/usage-ring/rollup", Fixture, NULL, setup, test_rollup, teardown);
    g_test_add("/usage-ring/other-domain", Fixture, NULL, setup, test_other_domain, teardown);
    g_test_add_func("/usage-ring/rates", test_rates);
    g_test_add_func("/usage-ring/levels", test_levels);
    return g_test_run();
}
