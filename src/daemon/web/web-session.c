/* Web sessions and the failed-login limiter (web-session.h). */
#include "daemon/web/web-session.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#define SWEEP_S 60
#define LOCK_FIRST_S 30
#define LOCK_MAX_S (15 * 60)
/* Keys the limiter remembers at most; the oldest are forgotten first. */
#define LIMITER_KEYS_MAX 10000

struct _VdWebSessions {
    GHashTable *by_id; /* id -> VdWebSession */
    gint64 idle_us;
    gint64 lifetime_us;
    guint sweep_id;
};

char *
vd_web_random_hex(gsize bytes)
{
    guint8 buf[64];
    g_assert(bytes <= sizeof buf);
    gsize got = 0;
    while (got < bytes) {
        ssize_t n = getrandom(buf + got, bytes - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        /* getrandom() cannot fail once the pool is seeded (it blocks
         * until then); a session from a weak source is worse than none. */
        if (n < 0)
            g_error("getrandom: %s", g_strerror(errno));
        got += (gsize)n;
    }
    GString *s = g_string_sized_new(bytes * 2);
    for (gsize i = 0; i < bytes; i++)
        g_string_append_printf(s, "%02x", buf[i]);
    explicit_bzero(buf, sizeof buf);
    return g_string_free(s, FALSE);
}

gboolean
vd_web_secret_equal(const char *a, const char *b)
{
    if (!a || !b)
        return FALSE;
    gsize la = strlen(a), lb = strlen(b);
    guchar diff = la != lb;
    for (gsize i = 0; i < la && i < lb; i++)
        diff |= (guchar)a[i] ^ (guchar)b[i];
    return diff == 0;
}

static void
session_free(gpointer data)
{
    VdWebSession *s = data;
    explicit_bzero(s->id, strlen(s->id));
    explicit_bzero(s->csrf, strlen(s->csrf));
    g_free(s->id);
    g_free(s->user);
    g_free(s->csrf);
    g_free(s);
}

static gboolean
expired(VdWebSessions *s, VdWebSession *ses, gint64 now)
{
    return now - ses->used > s->idle_us || now - ses->created > s->lifetime_us;
}

static gboolean
on_sweep(gpointer data)
{
    VdWebSessions *s = data;
    gint64 now = g_get_monotonic_time();
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, s->by_id);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        VdWebSession *ses = value;
        if (expired(s, ses, now)) {
            g_info("web: session of '%s' ended (idle or too old)", ses->user);
            g_hash_table_iter_remove(&it);
        }
    }
    return G_SOURCE_CONTINUE;
}

VdWebSessions *
vd_web_sessions_new(guint idle_timeout_s, guint lifetime_s)
{
    VdWebSessions *s = g_new0(VdWebSessions, 1);
    s->by_id = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, session_free);
    s->idle_us = (gint64)idle_timeout_s * G_USEC_PER_SEC;
    s->lifetime_us = (gint64)lifetime_s * G_USEC_PER_SEC;
    s->sweep_id = g_timeout_add_seconds(MIN(SWEEP_S, MAX(1, idle_timeout_s)), on_sweep, s);
    return s;
}

void
vd_web_sessions_free(VdWebSessions *s)
{
    if (!s)
        return;
    g_clear_handle_id(&s->sweep_id, g_source_remove);
    g_hash_table_unref(s->by_id);
    g_free(s);
}

VdWebSession *
vd_web_session_create(VdWebSessions *s, const char *user)
{
    if (g_hash_table_size(s->by_id) >= VD_WEB_SESSIONS_MAX) {
        GHashTableIter it;
        gpointer value;
        VdWebSession *oldest = NULL;
        g_hash_table_iter_init(&it, s->by_id);
        while (g_hash_table_iter_next(&it, NULL, &value))
            if (!oldest || ((VdWebSession *)value)->used < oldest->used)
                oldest = value;
        g_warning("web: %u sessions open: ending the least recently used one (of '%s')",
                  VD_WEB_SESSIONS_MAX, oldest->user);
        g_hash_table_remove(s->by_id, oldest->id);
    }
    VdWebSession *ses = g_new0(VdWebSession, 1);
    ses->id = vd_web_random_hex(32);
    ses->csrf = vd_web_random_hex(32);
    ses->user = g_strdup(user);
    ses->created = ses->used = g_get_monotonic_time();
    g_hash_table_replace(s->by_id, ses->id, ses);
    return ses;
}

VdWebSession *
vd_web_session_lookup(VdWebSessions *s, const char *id)
{
    /* A hash table look-up compares the ids with strcmp; its timing says
     * nothing useful: the table is keyed by 256 random bits. */
    VdWebSession *ses = id ? g_hash_table_lookup(s->by_id, id) : NULL;
    gint64 now = g_get_monotonic_time();
    if (!ses)
        return NULL;
    if (expired(s, ses, now)) {
        g_hash_table_remove(s->by_id, id);
        return NULL;
    }
    ses->used = now;
    return ses;
}

void
vd_web_session_remove(VdWebSessions *s, const char *id)
{
    g_hash_table_remove(s->by_id, id);
}

guint
vd_web_sessions_count(VdWebSessions *s)
{
    return g_hash_table_size(s->by_id);
}

/* ---- the limiter ---- */

typedef struct {
    guint failures;
    gint64 first; /* monotonic µs of the first failure in the window */
    gint64 last;
    gint64 locked_until;
} Failures;

struct _VdWebLimiter {
    GHashTable *keys; /* char* -> Failures */
};

VdWebLimiter *
vd_web_limiter_new(void)
{
    VdWebLimiter *l = g_new0(VdWebLimiter, 1);
    l->keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return l;
}

void
vd_web_limiter_free(VdWebLimiter *l)
{
    if (!l)
        return;
    g_hash_table_unref(l->keys);
    g_free(l);
}

guint
vd_web_limiter_locked(VdWebLimiter *l, const char *key)
{
    Failures *f = g_hash_table_lookup(l->keys, key);
    gint64 now = g_get_monotonic_time();
    if (!f || f->locked_until <= now)
        return 0;
    return (guint)((f->locked_until - now + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
}

/* Bounded memory: forget keys whose window is over, then the oldest. */
static void
prune(VdWebLimiter *l, gint64 now)
{
    GHashTableIter it;
    gpointer value;
    Failures *oldest = NULL;
    gpointer oldest_key = NULL, key;

    g_hash_table_iter_init(&it, l->keys);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        Failures *f = value;
        if (f->locked_until <= now &&
            now - f->first > (gint64)VD_WEB_FAIL_WINDOW_S * G_USEC_PER_SEC)
            g_hash_table_iter_remove(&it);
        else if (!oldest || f->last < oldest->last) {
            oldest = f;
            oldest_key = key;
        }
    }
    if (g_hash_table_size(l->keys) >= LIMITER_KEYS_MAX && oldest_key)
        g_hash_table_remove(l->keys, oldest_key);
}

guint
vd_web_limiter_fail(VdWebLimiter *l, const char *key)
{
    gint64 now = g_get_monotonic_time();
    Failures *f = g_hash_table_lookup(l->keys, key);
    if (!f) {
        if (g_hash_table_size(l->keys) >= LIMITER_KEYS_MAX)
            prune(l, now);
        f = g_new0(Failures, 1);
        g_hash_table_insert(l->keys, g_strdup(key), f);
    }
    if (f->failures && f->locked_until <= now &&
        now - f->last > (gint64)VD_WEB_FAIL_WINDOW_S * G_USEC_PER_SEC)
        f->failures = 0; /* a quiet window: start again */
    if (f->failures == 0)
        f->first = now;
    f->failures++;
    f->last = now;
    if (f->failures < VD_WEB_FAIL_MAX)
        return 0;
    guint shift = MIN(f->failures - VD_WEB_FAIL_MAX, 5);
    guint lock = MIN((guint)LOCK_FIRST_S << shift, (guint)LOCK_MAX_S);
    f->locked_until = now + (gint64)lock * G_USEC_PER_SEC;
    return lock;
}

void
vd_web_limiter_clear(VdWebLimiter *l, const char *key)
{
    g_hash_table_remove(l->keys, key);
}
