/* The text of an event, as virsh's event and net-event print it
 * (vsh-event.h). */
#include "vsh/vsh-event.h"

#include <string.h>

const char *const vsh_domain_event_names[] = {
    "lifecycle",       "reboot",
    "rtc-change",      "watchdog",
    "io-error",        "graphics",
    "io-error-reason", "control-error",
    "block-job",       "disk-change",
    "tray-change",     "pm-wakeup",
    "pm-suspend",      "balloon-change",
    "pm-suspend-disk", "device-removed",
    "block-job-2",     "tunable",
    "agent-lifecycle", "device-added",
    "migration-iteration", "job-completed",
    "device-removal-failed", "metadata-change",
    "block-threshold", "memory-failure",
    "memory-device-size-change", NULL,
};

const char *
vsh_event_kind_of(const char *name)
{
    static const char *const same[] = {"lifecycle",      "reboot",       "watchdog",
                                       "io-error",       "balloon-change", "device-added",
                                       "device-removed", "block-job",    NULL};
    if (g_strv_contains(same, name))
        return name;
    if (g_str_equal(name, "io-error-reason"))
        return "io-error";
    if (g_str_equal(name, "job-completed"))
        return "job";
    if (g_str_equal(name, "block-job-2"))
        return "block-job";
    return NULL;
}

char *
vsh_event_timestamp(const char *t)
{
    /* 0123456789012345678901234 */
    /* 2026-12-01T02:00:00.123Z  */
    if (!t || strlen(t) != 24 || t[10] != 'T' || t[23] != 'Z')
        return NULL;
    return g_strdup_printf("%.10s %.12s+0000", t, t + 11);
}

static const char *
str(JsonObject *ev, const char *member)
{
    const char *v = json_object_get_string_member_with_default(ev, member, "");
    return v ? v : "";
}

/* libvirt's virDomainJobOperation numbers, which job-completed prints. */
static int
job_operation(const char *op)
{
    static const struct {
        const char *word;
        int number;
    } ops[] = {
        {"Start", 1},          {"Save", 2},          {"Restore", 3},
        {"Incoming migration", 4}, {"Outgoing migration", 5}, {"Snapshot", 6},
        {"Snapshot revert", 7}, {"Dump", 8},         {"Backup", 9},
        {"Snapshot delete", 10},
    };
    for (guint i = 0; i < G_N_ELEMENTS(ops); i++)
        if (g_ascii_strcasecmp(op, ops[i].word) == 0)
            return ops[i].number;
    return 0;
}

static char *
domain_text(JsonObject *ev, const char *name)
{
    const char *kind = str(ev, "kind");
    const char *dom = str(ev, "domain");

    if (g_str_equal(kind, "lifecycle"))
        return g_strdup_printf("event 'lifecycle' for domain '%s': %s %s\n", dom, str(ev, "event"),
                               str(ev, "detail"));
    if (g_str_equal(kind, "reboot"))
        return g_strdup_printf("event 'reboot' for domain '%s'\n", dom);
    if (g_str_equal(kind, "watchdog"))
        return g_strdup_printf("event 'watchdog' for domain '%s': %s\n", dom, str(ev, "detail"));
    if (g_str_equal(kind, "balloon-change"))
        return g_strdup_printf("event 'balloon-change' for domain '%s': %" G_GINT64_FORMAT "KiB\n",
                               dom, json_object_get_int_member_with_default(ev, "actual_kib", 0));
    if (g_str_equal(kind, "device-added") || g_str_equal(kind, "device-removed"))
        return g_strdup_printf("event '%s' for domain '%s': %s\n", kind, dom, str(ev, "alias"));
    if (g_str_equal(kind, "io-error")) {
        /* virsh registers io-error and io-error-reason apart: --all prints
         * both lines for one error. */
        if (name && g_str_equal(name, "io-error-reason"))
            return g_strdup_printf("event 'io-error' for domain '%s': %s (%s) %s due to %s\n", dom,
                                   str(ev, "path"), str(ev, "alias"), str(ev, "action"),
                                   str(ev, "reason"));
        return g_strdup_printf("event 'io-error' for domain '%s': %s (%s) %s\n", dom,
                               str(ev, "path"), str(ev, "alias"), str(ev, "action"));
    }
    if (g_str_equal(kind, "block-job")) {
        /* block-job names the disk by its file, block-job-2 by its target */
        gboolean two = name && g_str_equal(name, "block-job-2");
        return g_strdup_printf("event '%s' for domain '%s': %s for %s %s\n",
                               two ? "block-job-2" : "block-job", dom, str(ev, "event"),
                               str(ev, two ? "disk" : "path"), str(ev, "detail"));
    }
    if (g_str_equal(kind, "job")) {
        if (g_str_equal(str(ev, "event"), "Started"))
            return NULL; /* virsh has no event for a job's start */
        /* type: libvirt's virDomainJobType, 3 completed, 4 failed */
        return g_strdup_printf("event 'job-completed' for domain '%s':\n"
                               "\ttype: %d\n\toperation: %d\n\ttime_elapsed: %" G_GINT64_FORMAT
                               "\n",
                               dom, g_str_equal(str(ev, "event"), "Completed") ? 3 : 4,
                               job_operation(str(ev, "detail")),
                               json_object_get_int_member_with_default(ev, "elapsed_ms", 0));
    }
    return NULL;
}

char *
vsh_event_format(JsonObject *ev, const char *name, gboolean timestamp)
{
    g_autofree char *text = NULL;
    const char *kind = str(ev, "kind");

    if (name && g_strcmp0(vsh_event_kind_of(name), kind) != 0 &&
        !(g_str_equal(name, "lifecycle") && g_str_equal(kind, "net-lifecycle")))
        return NULL;
    if (g_str_equal(kind, "net-lifecycle"))
        text = g_strdup_printf("event 'lifecycle' for network %s: %s\n", str(ev, "network"),
                               str(ev, "event"));
    else if (json_object_has_member(ev, "domain"))
        text = domain_text(ev, name);
    if (!text)
        return NULL;
    if (!timestamp)
        return g_steal_pointer(&text);
    g_autofree char *ts = vsh_event_timestamp(str(ev, "time"));
    return g_strdup_printf("%s: %s", ts ? ts : "", text);
}
