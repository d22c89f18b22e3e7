/* Web sessions and the failed-login limiter (daemon/web/).
 *
 * A session is made by a successful login: a random 256-bit id (the
 * cookie virtd_session) and a random CSRF token, both hex. It ends on
 * logout, after the idle timeout without a request, or at its absolute
 * lifetime, whichever comes first. Sessions live in the daemon's memory
 * only: a restart logs everybody out. */
#pragma once

#include <glib.h>

#define VD_WEB_IDLE_TIMEOUT_DEFAULT (15 * 60)
#define VD_WEB_SESSION_LIFETIME (12 * 3600)
/* Beyond this, the least recently used session is ended for a new one. */
#define VD_WEB_SESSIONS_MAX 1000

typedef struct {
    char *id; /* 64 hex digits */
    char *user;
    char *csrf;     /* 64 hex digits */
    gint64 created; /* monotonic µs */
    gint64 used;
} VdWebSession;

typedef struct _VdWebSessions VdWebSessions;

VdWebSessions *vd_web_sessions_new(guint idle_timeout_s, guint lifetime_s);
void vd_web_sessions_free(VdWebSessions *s);
/* A new session for @user (owned by @s). */
VdWebSession *vd_web_session_create(VdWebSessions *s, const char *user);
/* The live session @id, its idle time restarted; NULL if none (or ended). */
VdWebSession *vd_web_session_lookup(VdWebSessions *s, const char *id);
void vd_web_session_remove(VdWebSessions *s, const char *id);
guint vd_web_sessions_count(VdWebSessions *s);

/* 2 * @bytes random hex digits from the kernel's CSPRNG. */
char *vd_web_random_hex(gsize bytes);
/* Compares without leaking where they differ through timing. */
gboolean vd_web_secret_equal(const char *a, const char *b);

/* The limiter: failures are counted per key ("user NAME", "address IP")
 * within VD_WEB_FAIL_WINDOW; from the VD_WEB_FAIL_MAX-th on the key is
 * locked for 30 s, doubling with each further failure, up to 15 min. A
 * success clears the key. */
#define VD_WEB_FAIL_MAX 5
#define VD_WEB_FAIL_WINDOW_S (15 * 60)

typedef struct _VdWebLimiter VdWebLimiter;

VdWebLimiter *vd_web_limiter_new(void);
void vd_web_limiter_free(VdWebLimiter *l);
/* Seconds @key stays locked, 0 if it is not. */
guint vd_web_limiter_locked(VdWebLimiter *l, const char *key);
/* Counts a failure; returns the seconds @key is now locked (0: not yet). */
guint vd_web_limiter_fail(VdWebLimiter *l, const char *key);
void vd_web_limiter_clear(VdWebLimiter *l, const char *key);
