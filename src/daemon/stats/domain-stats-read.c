/* The stats worker's side: parsers of /proc texts and QMP answers, and the
 * record of one domain in virsh's key names and order (libvirt's
 * qemuDomainGetStats* groups). Everything here works on a VdStatsSnap
 * copy and may block on file reads; nothing touches a VdDomainObj. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/stats/domain-stats-priv.h"
#include "network/net-link.h"
#include "util/vd-error.h"

static const char *const group_names[] = {"state",     "cpu-total", "balloon", "vcpu",
                                          "interface", "block",     NULL};

gboolean
vd_stats_groups_parse(const char *list, guint *groups, GError **error)
{
    *groups = 0;
    if (!list || !*list) {
        *groups = VD_STATS_ALL;
        return TRUE;
    }
    g_auto(GStrv) parts = g_strsplit(list, ",", -1);
    for (guint i = 0; parts[i]; i++) {
        guint k;
        if (!*parts[i])
            continue;
        for (k = 0; group_names[k]; k++)
            if (g_str_equal(parts[i], group_names[k]))
                break;
        if (!group_names[k]) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid argument: unknown statistics group '%s' (known: state, "
                        "cpu-total, balloon, vcpu, interface, block)",
                        parts[i]);
            return FALSE;
        }
        *groups |= 1u << k;
    }
    if (!*groups)
        *groups = VD_STATS_ALL;
    return TRUE;
}

void
vd_stats_record_free(VdStatsRecord *rec)
{
    if (!rec)
        return;
    g_free(rec->name);
    g_clear_pointer(&rec->stats, json_object_unref);
    g_clear_pointer(&rec->omitted, g_ptr_array_unref);
    g_clear_pointer(&rec->warnings, g_ptr_array_unref);
    g_free(rec);
}

int
vd_stats_reason_code(VdState state, VdStateReason reason)
{
    /* libvirt's per-state reason enums (libvirt-domain.h) */
    switch (state) {
    case VD_STATE_RUNNING:
        return reason == VD_REASON_BOOTED ? 1 : reason == VD_REASON_UNPAUSED ? 5 : 0;
    case VD_STATE_PAUSED:
        switch (reason) {
        case VD_REASON_USER:
            return 1;
        case VD_REASON_IOERROR:
            return 5;
        case VD_REASON_WATCHDOG:
            return 6;
        case VD_REASON_SHUTTING_DOWN:
            return 8;
        case VD_REASON_PANICKED:
            return 10;
        case VD_REASON_STARTING_UP:
            return 11;
        default:
            return 0;
        }
    case VD_STATE_SHUTDOWN:
        return reason == VD_REASON_USER ? 1 : 0;
    case VD_STATE_SHUTOFF:
        switch (reason) {
        case VD_REASON_SHUTDOWN:
            return 1;
        case VD_REASON_DESTROYED:
            return 2;
        case VD_REASON_CRASHED:
            return 3;
        case VD_REASON_FAILED:
            return 6;
        case VD_REASON_DAEMON:
            return 8;
        default:
            return 0;
        }
    case VD_STATE_CRASHED:
        return reason == VD_REASON_PANICKED ? 1 : 0;
    default:
        return 0;
    }
}

gboolean
vd_stats_parse_proc_stat(const char *text, guint64 *utime, guint64 *stime)
{
    /* "pid (comm) S ppid ..." where comm may hold ") ": fields count
     * from the last ')'. utime and stime are fields 14 and 15 of proc(5),
     * the 12th and 13th words after the ')'. */
    const char *p = text ? strrchr(text, ')') : NULL;
    if (!p)
        return FALSE;
    g_auto(GStrv) f = g_strsplit_set(p + 1, " \n", -1);
    const char *tok[13];
    guint n = 0;
    for (guint i = 0; f[i] && n < 13; i++)
        if (*f[i])
            tok[n++] = f[i];
    if (n < 13 || !g_ascii_string_to_unsigned(tok[11], 10, 0, G_MAXUINT64, utime, NULL) ||
        !g_ascii_string_to_unsigned(tok[12], 10, 0, G_MAXUINT64, stime, NULL))
        return FALSE;
    return TRUE;
}

gboolean
vd_stats_parse_status_rss(const char *text, guint64 *rss_kib)
{
    const char *p = text ? strstr(text, "\nVmRSS:") : NULL;
    if (!p)
        return FALSE;
    p += strlen("\nVmRSS:");
    while (*p == ' ' || *p == '\t')
        p++;
    char *end = NULL;
    guint64 v = g_ascii_strtoull(p, &end, 10);
    if (end == p)
        return FALSE;
    *rss_kib = v;
    return TRUE;
}

gboolean
vd_stats_parse_schedstat_wait(const char *text, guint64 *wait_ns)
{
    guint64 run, wait;
    if (!text || sscanf(text, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &run, &wait) != 2)
        return FALSE;
    *wait_ns = wait;
    return TRUE;
}

gboolean
vd_stats_qcow2_capacity(const guint8 *h, gsize len, guint64 *capacity)
{
    if (len < 32 || memcmp(h, "QFI\xfb", 4) != 0)
        return FALSE;
    guint64 v = 0;
    for (guint i = 24; i < 32; i++)
        v = (v << 8) | h[i];
    *capacity = v;
    return TRUE;
}

static gboolean
qdev_is(const char *qdev, const char *id)
{
    /* "/machine/peripheral/disk-vda/virtio-backend", or the bare id */
    if (g_str_equal(qdev, id))
        return TRUE;
    g_autofree char *prefix = g_strdup_printf("/machine/peripheral/%s", id);
    gsize n = strlen(prefix);
    return strncmp(qdev, prefix, n) == 0 && (qdev[n] == '\0' || qdev[n] == '/');
}

JsonObject *
vd_stats_blockstats_find(JsonNode *answer, const char *device_id, const char *node_name)
{
    if (!answer || !JSON_NODE_HOLDS_ARRAY(answer))
        return NULL;
    JsonArray *a = json_node_get_array(answer);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonNode *n = json_array_get_element(a, i);
        if (!JSON_NODE_HOLDS_OBJECT(n))
            continue;
        JsonObject *o = json_node_get_object(n);
        const char *qdev = json_object_get_string_member_with_default(o, "qdev", NULL);
        const char *node = json_object_get_string_member_with_default(o, "node-name", NULL);
        if ((qdev && device_id && qdev_is(qdev, device_id)) ||
            (node && node_name && g_str_equal(node, node_name)))
            return o;
    }
    return NULL;
}

static gint
cmp_pair(gconstpointer a, gconstpointer b)
{
    guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;
    return x < y ? -1 : x > y;
}

gboolean
vd_stats_parse_cpus_fast(JsonNode *answer, GArray *tids)
{
    if (!answer || !JSON_NODE_HOLDS_ARRAY(answer))
        return FALSE;
    JsonArray *a = json_node_get_array(answer);
    guint n = json_array_get_length(a);
    g_autoptr(GArray) pairs = g_array_new(FALSE, FALSE, sizeof(guint64) * 2);
    for (guint i = 0; i < n; i++) {
        JsonNode *e = json_array_get_element(a, i);
        if (!JSON_NODE_HOLDS_OBJECT(e))
            return FALSE;
        JsonObject *o = json_node_get_object(e);
        gint64 idx = json_object_get_int_member_with_default(o, "cpu-index", -1);
        gint64 tid = json_object_get_int_member_with_default(o, "thread-id", -1);
        if (idx < 0 || tid <= 0)
            return FALSE;
        guint64 p[2] = {(guint64)idx, (guint64)tid};
        g_array_append_vals(pairs, p, 1);
    }
    g_array_sort(pairs, cmp_pair);
    g_array_set_size(tids, 0);
    g_array_append_vals(tids, pairs->data, pairs->len * 2);
    return TRUE;
}

/* ---- the record -------------------------------------------------------- */

static void
put(JsonObject *o, const char *key, guint64 v)
{
    json_object_set_int_member(o, key, (gint64)v);
}

static void putf(JsonObject *o, guint64 v, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void
putf(JsonObject *o, guint64 v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *key = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    put(o, key, v);
}

static void puts_f(JsonObject *o, const char *value, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void
puts_f(JsonObject *o, const char *value, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *key = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    json_object_set_string_member(o, key, value);
}

static char *read_proc(const VdStatsSnap *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static char *
read_proc(const VdStatsSnap *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *rel = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_autofree char *path = g_build_filename(s->proc_root ? s->proc_root : "/proc", rel, NULL);
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    return text;
}

static guint64
ticks_to_ns(guint64 ticks)
{
    static long hz;
    if (hz <= 0)
        hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0)
        hz = 100;
    return ticks * (1000000000ull / (guint64)hz);
}

static void
add_cpu(const VdStatsSnap *s, JsonObject *o)
{
    g_autofree char *text = read_proc(s, "%d/stat", (int)s->pid);
    guint64 ut, st;
    if (!vd_stats_parse_proc_stat(text, &ut, &st))
        return;
    put(o, "cpu.time", ticks_to_ns(ut + st));
    put(o, "cpu.user", ticks_to_ns(ut));
    put(o, "cpu.system", ticks_to_ns(st));
}

static void
add_balloon(const VdStatsSnap *s, JsonObject *o)
{
    put(o, "balloon.current", s->mem_cur_kib);
    put(o, "balloon.maximum", s->mem_max_kib);
    if (!s->active)
        return;
    g_autofree char *text = read_proc(s, "%d/status", (int)s->pid);
    guint64 rss;
    if (vd_stats_parse_status_rss(text, &rss))
        put(o, "balloon.rss", rss);
}

static void
add_vcpu(const VdStatsSnap *s, JsonObject *o)
{
    put(o, "vcpu.current", s->vcpus_current);
    put(o, "vcpu.maximum", s->vcpus);
    if (!s->active || !s->tids)
        return;
    for (guint i = 0; i + 1 < s->tids->len; i += 2) {
        guint64 idx = g_array_index(s->tids, guint64, i);
        guint64 tid = g_array_index(s->tids, guint64, i + 1);
        g_autofree char *stat =
            read_proc(s, "%d/task/%" G_GUINT64_FORMAT "/stat", (int)s->pid, tid);
        g_autofree char *sched =
            read_proc(s, "%d/task/%" G_GUINT64_FORMAT "/schedstat", (int)s->pid, tid);
        guint64 ut, st, wait;
        putf(o, 1, "vcpu.%" G_GUINT64_FORMAT ".state", idx); /* VIR_VCPU_RUNNING */
        if (vd_stats_parse_proc_stat(stat, &ut, &st))
            putf(o, ticks_to_ns(ut + st), "vcpu.%" G_GUINT64_FORMAT ".time", idx);
        if (vd_stats_parse_schedstat_wait(sched, &wait))
            putf(o, wait, "vcpu.%" G_GUINT64_FORMAT ".wait", idx);
    }
}

static gboolean
host_link_stats(const char *dev, guint64 out[8])
{
    VdLinkStats h;
    if (!vd_link_stats(dev, &h, NULL))
        return FALSE;
    /* what the host's tap receives, the guest sent (libvirt swaps too) */
    guint64 v[8] = {h.tx_bytes, h.tx_packets, h.tx_errs, h.tx_drop,
                    h.rx_bytes, h.rx_packets, h.rx_errs, h.rx_drop};
    memcpy(out, v, sizeof(v));
    return TRUE;
}

static void
add_net(const VdStatsSnap *s, JsonObject *o)
{
    static const char *const names[] = {"rx.bytes", "rx.pkts", "rx.errs", "rx.drop",
                                        "tx.bytes", "tx.pkts", "tx.errs", "tx.drop"};
    if (!s->active)
        return;
    put(o, "net.count", s->ifaces->len);
    for (guint i = 0; i < s->ifaces->len; i++) {
        const char *dev = g_ptr_array_index(s->ifaces, i);
        guint64 v[8];
        if (!*dev)
            continue; /* user-mode: no host device to count on */
        puts_f(o, dev, "net.%u.name", i);
        if (!(s->link_stats ? s->link_stats : host_link_stats)(dev, v))
            continue;
        for (guint k = 0; k < G_N_ELEMENTS(names); k++)
            putf(o, v[k], "net.%u.%s", i, names[k]);
    }
}

/* capacity (the guest's size), allocation (host blocks used), physical
 * (the file's size) of a file disk; the header says qcow2 or raw. */
static void
read_sizes(VdStatsDisk *disk)
{
    struct stat st;
    guint8 h[32];
    guint64 cap;
    int fd;
    if (!disk->path || (fd = open(disk->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
        return;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return;
    }
    ssize_t n = pread(fd, h, sizeof(h), 0);
    close(fd);
    if (n < 0 || !vd_stats_qcow2_capacity(h, (gsize)n, &cap))
        cap = (guint64)st.st_size;
    disk->allocation = (guint64)st.st_blocks * 512;
    disk->capacity = cap;
    disk->physical = (guint64)st.st_size;
    disk->sized = TRUE;
}

void
vd_stats_read_disk_sizes(VdStatsSnap *s)
{
    for (guint i = 0; i < s->disks->len; i++)
        read_sizes(g_ptr_array_index(s->disks, i));
}

void
vd_stats_add_block(VdStatsRecord *rec, const VdStatsSnap *s)
{
    /* libvirt's figure names, and the QMP member each comes from */
    static const char *const keys[][2] = {
        {"rd.reqs", "rd_operations"},     {"rd.bytes", "rd_bytes"},
        {"rd.times", "rd_total_time_ns"}, {"wr.reqs", "wr_operations"},
        {"wr.bytes", "wr_bytes"},         {"wr.times", "wr_total_time_ns"},
        {"fl.reqs", "flush_operations"},  {"fl.times", "flush_total_time_ns"},
    };
    JsonObject *o = rec->stats;
    put(o, "block.count", s->disks->len);
    for (guint i = 0; i < s->disks->len; i++) {
        const VdStatsDisk *disk = g_ptr_array_index(s->disks, i);
        puts_f(o, disk->target, "block.%u.name", i);
        if (disk->path)
            puts_f(o, disk->path, "block.%u.path", i);
        JsonObject *e =
            s->active ? vd_stats_blockstats_find(s->blockstats, disk->device_id, disk->node_name)
                      : NULL;
        JsonObject *st = e && json_object_has_member(e, "stats")
                             ? json_object_get_object_member(e, "stats")
                             : NULL;
        for (guint k = 0; st && k < G_N_ELEMENTS(keys); k++)
            if (json_object_has_member(st, keys[k][1]))
                putf(o, (guint64)json_object_get_int_member(st, keys[k][1]), "block.%u.%s", i,
                     keys[k][0]);
        if (disk->sized) {
            putf(o, disk->allocation, "block.%u.allocation", i);
            putf(o, disk->capacity, "block.%u.capacity", i);
            putf(o, disk->physical, "block.%u.physical", i);
        }
    }
    if (s->active && s->block_problem) {
        g_ptr_array_add(rec->omitted, g_strdup("block"));
        g_ptr_array_add(rec->warnings, g_strdup_printf("domain '%s': block I/O figures omitted: %s",
                                                       s->name, s->block_problem));
    }
}

VdStatsRecord *
vd_stats_build_base(const VdStatsSnap *s, guint groups)
{
    VdStatsRecord *rec = g_new0(VdStatsRecord, 1);
    rec->name = g_strdup(s->name);
    rec->stats = json_object_new();
    rec->omitted = g_ptr_array_new_with_free_func(g_free);
    rec->warnings = g_ptr_array_new_with_free_func(g_free);
    JsonObject *o = rec->stats;

    if (groups & VD_STATS_STATE) {
        put(o, "state.state", s->state);
        put(o, "state.reason", (guint64)vd_stats_reason_code(s->state, s->reason));
    }
    if ((groups & VD_STATS_CPU_TOTAL) && s->active)
        add_cpu(s, o);
    if (groups & VD_STATS_BALLOON)
        add_balloon(s, o);
    if (groups & VD_STATS_VCPU)
        add_vcpu(s, o);
    if (groups & VD_STATS_INTERFACE)
        add_net(s, o);
    return rec;
}

VdStatsRecord *
vd_stats_build_record(VdStatsSnap *s, guint groups)
{
    if (groups & VD_STATS_BLOCK)
        vd_stats_read_disk_sizes(s);
    VdStatsRecord *rec = vd_stats_build_base(s, groups);
    if (groups & VD_STATS_BLOCK)
        vd_stats_add_block(rec, s);
    return rec;
}

void
vd_stats_snap_free(VdStatsSnap *s)
{
    if (!s)
        return;
    g_clear_pointer(&s->dom, vd_domain_obj_unref);
    g_free(s->name);
    g_clear_pointer(&s->tids, g_array_unref);
    g_clear_pointer(&s->ifaces, g_ptr_array_unref);
    g_clear_pointer(&s->disks, g_ptr_array_unref);
    g_clear_pointer(&s->blockstats, json_node_unref);
    g_free(s->block_problem);
    g_free(s);
}
