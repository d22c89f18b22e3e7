/* The event bus (daemon/events/events.h): libvirt's lifecycle events for
 * the daemon's state changes, the SSE frame of an event, subscribers
 * that leave while an event is delivered. */
#include <string.h>

#include "daemon/events/events.h"

typedef struct {
    VdState os;
    VdStateReason orr;
    VdState s;
    VdStateReason r;
    const char *want; /* "Event Detail[;Event Detail]", "" for none */
} Case;

static void
test_lifecycle(void)
{
    static const Case cases[] = {
        /* a start: QEMU paused with -S while set up, then running */
        {VD_STATE_SHUTOFF, VD_REASON_UNKNOWN, VD_STATE_PAUSED, VD_REASON_STARTING_UP, ""},
        {VD_STATE_PAUSED, VD_REASON_STARTING_UP, VD_STATE_RUNNING, VD_REASON_BOOTED,
         "Started Booted"},
        {VD_STATE_PAUSED, VD_REASON_STARTING_UP, VD_STATE_PAUSED, VD_REASON_USER,
         "Started Booted;Suspended Paused"},
        {VD_STATE_PAUSED, VD_REASON_STARTING_UP, VD_STATE_RUNNING, VD_REASON_RESTORED,
         "Started Restored"},
        {VD_STATE_PAUSED, VD_REASON_STARTING_UP, VD_STATE_PAUSED, VD_REASON_MIGRATING,
         "Started Migrated"},
        {VD_STATE_PAUSED, VD_REASON_MIGRATING, VD_STATE_RUNNING, VD_REASON_MIGRATED,
         "Resumed Migrated"},
        {VD_STATE_RUNNING, VD_REASON_BOOTED, VD_STATE_PAUSED, VD_REASON_USER, "Suspended Paused"},
        {VD_STATE_PAUSED, VD_REASON_USER, VD_STATE_RUNNING, VD_REASON_UNPAUSED,
         "Resumed Unpaused"},
        {VD_STATE_RUNNING, VD_REASON_BOOTED, VD_STATE_PAUSED, VD_REASON_IOERROR,
         "Suspended I/O Error"},
        {VD_STATE_RUNNING, VD_REASON_BOOTED, VD_STATE_PAUSED, VD_REASON_WATCHDOG,
         "Suspended Watchdog"},
        {VD_STATE_RUNNING, VD_REASON_BOOTED, VD_STATE_PAUSED, VD_REASON_SNAPSHOT,
         "Suspended Snapshot"},
        {VD_STATE_RUNNING, VD_REASON_BOOTED, VD_STATE_PAUSED, VD_REASON_POSTCOPY_FAILED,
         "Suspended Post-copy Error"},
        /* paused, and still paused for another reason: nothing */
        {VD_STATE_PAUSED, VD_REASON_USER, VD_STATE_PAUSED, VD_REASON_SAVED, ""},
        {VD_STATE_RUNNING, VD_REASON_BOOTED, VD_STATE_SHUTDOWN, VD_REASON_USER,
         "Shutdown Finished after guest request"},
        {VD_STATE_SHUTDOWN, VD_REASON_USER, VD_STATE_SHUTOFF, VD_REASON_SHUTDOWN,
         "Stopped Shutdown"},
        {VD_STATE_RUNNING, VD_REASON_BOOTED, VD_STATE_SHUTOFF, VD_REASON_DESTROYED,
         "Stopped Destroyed"},
        {VD_STATE_RUNNING, VD_REASON_BOOTED, VD_STATE_SHUTOFF, VD_REASON_CRASHED,
         "Stopped Crashed"},
        {VD_STATE_PAUSED, VD_REASON_SAVED, VD_STATE_SHUTOFF, VD_REASON_SAVED, "Stopped Saved"},
        {VD_STATE_PAUSED, VD_REASON_MIGRATING, VD_STATE_SHUTOFF, VD_REASON_MIGRATED,
         "Stopped Migrated"},
        {VD_STATE_RUNNING, VD_REASON_BOOTED, VD_STATE_CRASHED, VD_REASON_PANICKED,
         "Crashed Panicked"},
        /* a start that never completed failed, whatever ended it */
        {VD_STATE_PAUSED, VD_REASON_STARTING_UP, VD_STATE_SHUTOFF, VD_REASON_CRASHED,
         "Stopped Failed"},
        /* shut off to shut off (a reason corrected): nothing */
        {VD_STATE_SHUTOFF, VD_REASON_CRASHED, VD_STATE_SHUTOFF, VD_REASON_FAILED, ""},
        {VD_STATE_RUNNING, VD_REASON_BOOTED, VD_STATE_RUNNING, VD_REASON_BOOTED, ""},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        const Case *c = &cases[i];
        const char *ev[2], *det[2];
        guint n = vd_events_lifecycle_for(c->os, c->orr, c->s, c->r, ev, det);
        g_autoptr(GString) got = g_string_new("");
        for (guint j = 0; j < n; j++)
            g_string_append_printf(got, "%s%s %s", j ? ";" : "", ev[j], det[j]);
        g_assert_cmpstr(got->str, ==, c->want);
    }
}

typedef struct {
    GPtrArray *frames;
    guint self_id;
    gboolean leave;
} Sub;

static void
on_event(const VdEvent *ev, gpointer data)
{
    Sub *s = data;
    gsize len;
    const char *p = g_bytes_get_data(ev->sse, &len);
    g_ptr_array_add(s->frames, g_strndup(p, len));
    if (s->leave)
        vd_events_unsubscribe(s->self_id);
}

static void
test_bus(void)
{
    Sub a = {g_ptr_array_new_with_free_func(g_free), 0, TRUE};
    Sub b = {g_ptr_array_new_with_free_func(g_free), 0, FALSE};
    a.self_id = vd_events_subscribe(on_event, &a);
    b.self_id = vd_events_subscribe(on_event, &b);
    g_assert_cmpuint(vd_events_subscribers(), ==, 2);

    vd_events_domain_state("vm1", "0c7e55d4-3f1b-4a8e-9d1c-2b6f0a9e4d01", VD_STATE_PAUSED,
                           VD_REASON_STARTING_UP, VD_STATE_PAUSED, VD_REASON_USER);
    /* a left during the first of the two events */
    g_assert_cmpuint(a.frames->len, ==, 1);
    g_assert_cmpuint(b.frames->len, ==, 2);
    g_assert_cmpuint(vd_events_subscribers(), ==, 1);
    const char *f = g_ptr_array_index(b.frames, 1);
    g_assert_true(g_str_has_prefix(f, "data: {\"seq\":"));
    g_assert_true(g_str_has_suffix(f, "}\n\n"));
    g_assert_nonnull(strstr(f, "\"kind\":\"lifecycle\",\"domain\":\"vm1\",\"uuid\":"
                               "\"0c7e55d4-3f1b-4a8e-9d1c-2b6f0a9e4d01\",\"event\":\"Suspended\","
                               "\"detail\":\"Paused\""));
    g_assert_null(strchr(f, '\n') == f + strlen(f) - 2 ? NULL : "a newline inside the frame");

    JsonObject *extra = json_object_new();
    json_object_set_string_member(extra, "alias", "line\nbreak");
    vd_events_domain("vm1", NULL, "device-removed", "", "", extra);
    f = g_ptr_array_index(b.frames, 2);
    g_assert_nonnull(strstr(f, "\"alias\":\"line\\nbreak\""));
    g_assert_true(strchr(f, '\n') == f + strlen(f) - 2);

    vd_events_unsubscribe(b.self_id);
    g_assert_cmpuint(vd_events_subscribers(), ==, 0);
    /* nobody listens: nothing is built, nothing delivered */
    vd_events_domain("vm1", NULL, "reboot", "", "", NULL);
    g_assert_cmpuint(b.frames->len, ==, 3);
    g_ptr_array_unref(a.frames);
    g_ptr_array_unref(b.frames);
}

static void
on_frame(const VdEvent *ev, gpointer data)
{
    gsize len;
    const char *p = g_bytes_get_data(ev->sse, &len);
    g_ptr_array_add(data, g_strndup(p, len));
}

/* QEMU's events as virsh reports them. */
static void
test_qmp(void)
{
    static const char xml[] =
        "<domain type='qemu'><name>vm1</name><memory unit='MiB'>128</memory>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        "<source file='/i/data.qcow2'/><target dev='vdb' bus='virtio'/></disk>"
        "</devices></domain>";
    g_autoptr(GError) error = NULL;
    VdDomainDef *def = vd_domain_def_parse(xml, -1, &error);
    g_assert_no_error(error);
    GPtrArray *frames = g_ptr_array_new_with_free_func(g_free);
    guint id = vd_events_subscribe(on_frame, frames);
    static const struct {
        const char *event;
        const char *data;
        const char *want; /* in the frame ('|' between pieces); NULL: no event */
    } cases[] = {
        {"BLOCK_IO_ERROR",
         "{\"device\": \"\", \"node-name\": \"vdb-format\", \"operation\": \"write\","
         " \"action\": \"stop\", \"nospace\": true, \"reason\": \"No space left on device\"}",
         "\"kind\":\"io-error\",\"domain\":\"vm1\",\"event\":\"\",\"detail\":\"\"|"
         "\"alias\":\"disk-vdb\"|\"path\":\"/i/data.qcow2\"|\"action\":\"pause\"|"
         "\"reason\":\"No space left on device\""},
        {"WATCHDOG", "{\"action\": \"inject-nmi\"}",
         "\"kind\":\"watchdog\",\"domain\":\"vm1\",\"event\":\"\",\"detail\":\"inject-nmi\"}"},
        {"BALLOON_CHANGE", "{\"actual\": 134217728}", "\"actual_kib\":131072}"},
        {"DEVICE_DELETED", "{\"device\": \"disk-vdb\", \"path\": \"/machine/peripheral/disk-vdb\"}",
         "\"kind\":\"device-removed\""},
        /* a virtio backend, by path only: not a device of the definition */
        {"DEVICE_DELETED", "{\"path\": \"/machine/peripheral/disk-vdb/virtio-backend\"}", NULL},
        {"RESET", "{\"guest\": true}", "\"kind\":\"reboot\""},
        {"STOP", "{}", NULL},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(JsonParser) parser = json_parser_new();
        g_assert_true(json_parser_load_from_data(parser, cases[i].data, -1, NULL));
        guint before = frames->len;
        vd_events_domain_qmp("vm1", NULL, def, cases[i].event,
                             json_node_get_object(json_parser_get_root(parser)));
        if (!cases[i].want) {
            g_assert_cmpuint(frames->len, ==, before);
            continue;
        }
        g_assert_cmpuint(frames->len, ==, before + 1);
        const char *f = g_ptr_array_index(frames, before);
        /* extra members come in no particular order: each piece apart */
        g_auto(GStrv) pieces = g_strsplit(cases[i].want, "|", -1);
        for (char **w = pieces; *w; w++)
            if (!strstr(f, *w))
                g_error("%s: %s lacks %s", cases[i].event, f, *w);
    }
    vd_events_unsubscribe(id);
    g_ptr_array_unref(frames);
    vd_domain_def_free(def);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/events/lifecycle", test_lifecycle);
    g_test_add_func("/events/bus", test_bus);
    g_test_add_func("/events/qmp", test_qmp);
    return g_test_run();
}
