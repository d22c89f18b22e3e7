/* The event bus: subscribers, sequence numbers, the JSON of an event
 * (events.h). Main loop only. */
#include "daemon/events/events.h"

typedef struct {
    guint id;
    VdEventFunc func; /* NULL once unsubscribed during a publish */
    gpointer user_data;
} Subscriber;

static GPtrArray *subscribers; /* Subscriber* */
static guint next_id = 1;
static guint64 next_seq = 1;
static guint publishing; /* > 0: inside a publish, removals are deferred */

guint
vd_events_subscribe(VdEventFunc func, gpointer user_data)
{
    if (!subscribers)
        subscribers = g_ptr_array_new_with_free_func(g_free);
    Subscriber *s = g_new0(Subscriber, 1);
    s->id = next_id++;
    s->func = func;
    s->user_data = user_data;
    g_ptr_array_add(subscribers, s);
    return s->id;
}

void
vd_events_unsubscribe(guint id)
{
    for (guint i = 0; subscribers && i < subscribers->len; i++) {
        Subscriber *s = g_ptr_array_index(subscribers, i);
        if (s->id != id)
            continue;
        if (publishing)
            s->func = NULL;
        else
            g_ptr_array_remove_index(subscribers, i);
        return;
    }
}

guint
vd_events_subscribers(void)
{
    guint n = 0;
    for (guint i = 0; subscribers && i < subscribers->len; i++)
        n += ((Subscriber *)g_ptr_array_index(subscribers, i))->func != NULL;
    return n;
}

/* RFC 3339, UTC, milliseconds: "2026-12-01T02:00:00.123Z". */
static char *
format_time(gint64 real_us)
{
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(real_us / G_USEC_PER_SEC);
    g_autofree char *base = g_date_time_format(t, "%Y-%m-%dT%H:%M:%S");
    return g_strdup_printf("%s.%03dZ", base, (int)((real_us % G_USEC_PER_SEC) / 1000));
}

static void
add_string(JsonBuilder *b, const char *name, const char *value)
{
    if (!value)
        return;
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, value);
}

void
vd_events_publish(const char *kind, const char *domain, const char *network, const char *uuid,
                  const char *event, const char *detail, JsonObject *extra)
{
    guint64 seq = next_seq++;
    g_autoptr(JsonObject) owned_extra = extra;

    if (vd_events_subscribers() == 0)
        return;

    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autofree char *time = format_time(g_get_real_time());
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "seq");
    json_builder_add_int_value(b, (gint64)seq);
    add_string(b, "time", time);
    add_string(b, "kind", kind);
    add_string(b, "domain", domain);
    add_string(b, "network", network);
    add_string(b, "uuid", uuid);
    add_string(b, "event", event ? event : "");
    add_string(b, "detail", detail ? detail : "");
    if (extra) {
        JsonObjectIter it;
        const char *name;
        JsonNode *value;
        json_object_iter_init(&it, extra);
        while (json_object_iter_next(&it, &name, &value)) {
            json_builder_set_member_name(b, name);
            json_builder_add_value(b, json_node_copy(value));
        }
    }
    json_builder_end_object(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    /* JSON text has no raw newline, so one data: line holds it. */
    char *frame = g_strdup_printf("data: %s\n\n", text);

    VdEvent ev = {
        .seq = seq,
        .kind = kind,
        .domain = domain,
        .network = network,
        .event = event ? event : "",
        .detail = detail ? detail : "",
        .sse = g_bytes_new_take(frame, strlen(frame)),
    };
    publishing++;
    /* Subscribers added by a callback see the next event, not this one. */
    guint n = subscribers->len;
    for (guint i = 0; i < n; i++) {
        Subscriber *s = g_ptr_array_index(subscribers, i);
        if (s->func)
            s->func(&ev, s->user_data);
    }
    publishing--;
    if (!publishing) {
        for (guint i = subscribers->len; i > 0; i--)
            if (!((Subscriber *)g_ptr_array_index(subscribers, i - 1))->func)
                g_ptr_array_remove_index(subscribers, i - 1);
    }
    g_bytes_unref(ev.sse);
}
