/* GET /v1/metrics: the Prometheus text exposition format, version 0.0.4
 * (docs/monitoring.md).
 *
 * The per-domain figures come from daemon/stats/ (vsh domstats' collector:
 * one query-blockstats per running QEMU, the rest from /proc and /sys), so
 * a scrape costs QEMU what one domstats call costs. Each metric family is
 * written whole (HELP, TYPE, then every sample), as the format requires. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api-internal.h"
#include "daemon/host-ready.h"
#include "daemon/stats/domain-stats.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct {
    VdApiRequest *req;
    guint domains_by_state[VD_STATE_LAST];
} Scrape;

/* A label value: backslash, double quote and line feed escaped. */
static void
append_label_value(GString *out, const char *value)
{
    for (const char *p = value ? value : ""; *p; p++) {
        if (*p == '\\')
            g_string_append(out, "\\\\");
        else if (*p == '"')
            g_string_append(out, "\\\"");
        else if (*p == '\n')
            g_string_append(out, "\\n");
        else
            g_string_append_c(out, *p);
    }
}

static void
family(GString *out, const char *name, const char *type, const char *help)
{
    g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{domain="D"[,LABEL="V"]} value */
static void
sample(GString *out, const char *name, const char *domain, const char *label, const char *value,
       double v)
{
    char num[G_ASCII_DTOSTR_BUF_SIZE];

    g_string_append_printf(out, "%s{domain=\"", name);
    append_label_value(out, domain);
    if (label) {
        g_string_append_printf(out, "\",%s=\"", label);
        append_label_value(out, value);
    }
    g_string_append_printf(out, "\"} %s\n", g_ascii_dtostr(num, sizeof(num), v));
}

/* One figure per record: key is a stats key ("cpu.time"); @scale turns
 * its unit into the metric's (ns -> s, KiB -> bytes). */
static void
domain_family(GString *out, GPtrArray *records, const char *name, const char *type,
              const char *help, const char *key, double scale)
{
    family(out, name, type, help);
    for (guint i = 0; i < records->len; i++) {
        VdStatsRecord *rec = g_ptr_array_index(records, i);
        if (json_object_has_member(rec->stats, key))
            sample(out, name, rec->name, NULL, NULL,
                   json_object_get_int_member(rec->stats, key) * scale);
    }
}

/* One figure per disk or interface: @group "block" or "net", @label the
 * label naming the device, @key its figure ("rd.bytes"). */
static void
device_family(GString *out, GPtrArray *records, const char *name, const char *help,
              const char *group, const char *label, const char *key)
{
    family(out, name, "counter", help);
    for (guint i = 0; i < records->len; i++) {
        VdStatsRecord *rec = g_ptr_array_index(records, i);
        g_autofree char *count_key = g_strdup_printf("%s.count", group);
        gint64 n = json_object_get_int_member_with_default(rec->stats, count_key, 0);
        for (gint64 k = 0; k < n; k++) {
            g_autofree char *name_key = g_strdup_printf("%s.%" G_GINT64_FORMAT ".name", group, k);
            g_autofree char *fig_key = g_strdup_printf("%s.%" G_GINT64_FORMAT ".%s", group, k, key);
            if (!json_object_has_member(rec->stats, fig_key))
                continue;
            sample(out, name, rec->name, label,
                   json_object_get_string_member_with_default(rec->stats, name_key, "?"),
                   (double)json_object_get_int_member(rec->stats, fig_key));
        }
    }
}

/* The daemon's own figures from /proc/self: resident memory and the
 * seconds since its start (its start time in ticks after boot). */
static void
self_figures(double *uptime_s, double *rss_bytes)
{
    g_autofree char *stat = NULL, *status = NULL, *uptime = NULL;
    guint64 rss_kib = 0;

    *uptime_s = 0;
    *rss_bytes = 0;
    if (g_file_get_contents("/proc/self/status", &status, NULL, NULL) &&
        vd_stats_parse_status_rss(status, &rss_kib))
        *rss_bytes = (double)rss_kib * 1024;
    if (g_file_get_contents("/proc/self/stat", &stat, NULL, NULL) &&
        g_file_get_contents("/proc/uptime", &uptime, NULL, NULL)) {
        /* field 22, counted after the command's closing parenthesis */
        const char *p = strrchr(stat, ')');
        g_auto(GStrv) f = g_strsplit(p ? p + 2 : "", " ", -1);
        if (g_strv_length(f) > 19)
            *uptime_s = g_ascii_strtod(uptime, NULL) -
                        (double)g_ascii_strtoull(f[19], NULL, 10) / (double)sysconf(_SC_CLK_TCK);
    }
}

static void
daemon_families(GString *out, VdDaemon *d, const Scrape *s)
{
    double uptime, rss;

    self_figures(&uptime, &rss);
    family(out, "virtd_uptime_seconds", "gauge", "Seconds since the daemon started.");
    g_string_append_printf(out, "virtd_uptime_seconds %.3f\n", uptime);
    family(out, "virtd_resident_memory_bytes", "gauge", "The daemon's resident memory (VmRSS).");
    g_string_append_printf(out, "virtd_resident_memory_bytes %.0f\n", rss);
    family(out, "virtd_api_requests_total", "counter",
           "API requests received since the daemon started (this one included).");
    g_string_append_printf(out, "virtd_api_requests_total %" G_GUINT64_FORMAT "\n",
                           d->api_requests);
    family(out, "virtd_domains", "gauge", "Defined and transient domains by state.");
    for (guint st = 0; st < VD_STATE_LAST; st++) {
        g_string_append(out, "virtd_domains{state=\"");
        append_label_value(out, vd_state_to_string(st));
        g_string_append_printf(out, "\"} %u\n", s->domains_by_state[st]);
    }
    family(out, "virtd_host_probes_done", "gauge",
           "1 once the start-up probes of KVM and QEMU are in (virtd_kvm_usable comes then).");
    g_string_append_printf(out, "virtd_host_probes_done %d\n", vd_host_ready(d) ? 1 : 0);
    if (vd_host_ready(d)) {
        family(out, "virtd_kvm_usable", "gauge",
               "1 when KVM runs guest kernel code at hardware speed (the daemon's KVM probe).");
        g_string_append_printf(out, "virtd_kvm_usable %d\n", d->kvm->status == VD_KVM_USABLE);
    }
}

static void
collected(GPtrArray *records, gpointer data)
{
    Scrape *s = data;
    g_autoptr(GPtrArray) owned = records;
    GString *out = g_string_new(NULL);

    family(out, "virtd_domain_state", "gauge",
           "The domain's state as libvirt numbers it: 0 no state, 1 running, 2 idle, 3 paused, "
           "4 in shutdown, 5 shut off, 6 crashed, 7 pmsuspended.");
    for (guint i = 0; i < records->len; i++) {
        VdStatsRecord *rec = g_ptr_array_index(records, i);
        sample(out, "virtd_domain_state", rec->name, NULL, NULL,
               (double)json_object_get_int_member_with_default(rec->stats, "state.state", 0));
    }
    domain_family(out, records, "virtd_domain_cpu_time_seconds_total", "counter",
                  "CPU time QEMU used for the domain (all threads).", "cpu.time", 1e-9);
    domain_family(out, records, "virtd_domain_memory_current_bytes", "gauge",
                  "The guest's memory now (after the balloon).", "balloon.current", 1024);
    domain_family(out, records, "virtd_domain_memory_max_bytes", "gauge",
                  "The guest's maximum memory.", "balloon.maximum", 1024);
    domain_family(out, records, "virtd_domain_memory_rss_bytes", "gauge",
                  "Resident memory of the domain's QEMU process.", "balloon.rss", 1024);
    device_family(out, records, "virtd_domain_block_read_bytes_total", "Bytes read by the disk.",
                  "block", "device", "rd.bytes");
    device_family(out, records, "virtd_domain_block_read_requests_total",
                  "Read requests of the disk.", "block", "device", "rd.reqs");
    device_family(out, records, "virtd_domain_block_write_bytes_total",
                  "Bytes written by the disk.", "block", "device", "wr.bytes");
    device_family(out, records, "virtd_domain_block_write_requests_total",
                  "Write requests of the disk.", "block", "device", "wr.reqs");
    device_family(out, records, "virtd_domain_net_receive_bytes_total",
                  "Bytes the interface received.", "net", "interface", "rx.bytes");
    device_family(out, records, "virtd_domain_net_receive_packets_total",
                  "Packets the interface received.", "net", "interface", "rx.pkts");
    device_family(out, records, "virtd_domain_net_transmit_bytes_total",
                  "Bytes the interface sent.", "net", "interface", "tx.bytes");
    device_family(out, records, "virtd_domain_net_transmit_packets_total",
                  "Packets the interface sent.", "net", "interface", "tx.pkts");
    daemon_families(out, s->req->d, s);
    gsize len = out->len;
    vd_api_reply_bytes(s->req, 200, CONTENT_TYPE, g_string_free(out, FALSE), len);
    g_free(s);
}

gboolean
vd_api_metrics_dispatch(VdApiRequest *req, const char *method)
{
    if (req->nsegments != 1 || !g_str_equal(req->segments[0], "metrics"))
        return FALSE;
    if (!g_str_equal(method, "GET")) {
        vd_api_reply_not_allowed(req, method);
        return TRUE;
    }
    Scrape *s = g_new0(Scrape, 1);
    s->req = req;
    g_autoptr(GPtrArray) doms = vd_domain_list_all(req->d->domains);
    for (guint i = 0; i < doms->len; i++) {
        VdDomainObj *dom = g_ptr_array_index(doms, i);
        s->domains_by_state[(guint)dom->state < VD_STATE_LAST ? dom->state : 0]++;
    }
    vd_api_pause(req);
    vd_domain_stats_collect(req->d, doms,
                            VD_STATS_STATE | VD_STATS_CPU_TOTAL | VD_STATS_BALLOON |
                                VD_STATS_INTERFACE | VD_STATS_BLOCK | VD_STATS_NO_SIZES,
                            collected, s);
    return TRUE;
}
