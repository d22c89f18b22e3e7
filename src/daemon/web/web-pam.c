/* PAM for web logins (web-pam.h). */
#include "daemon/web/web-pam.h"

#include <dlfcn.h>
#include <grp.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <string.h>

#include "util/vd-error.h"

/* A request to the check: four short fields. */
#define CHILD_MAX_INPUT (64 * 1024)

#ifdef __SANITIZE_ADDRESS__
/* ASan intercepts crypt() and crypt_r(), resolving the real ones when the
 * process starts: libcrypt, loaded later by pam_unix, would leave them
 * NULL (a SEGV at address 0 in the worker). A sanitized build links
 * libcrypt (src/daemon/meson.build), kept by a reference to a function
 * ASan does not intercept (crypt itself would resolve to ASan's). */
#include <crypt.h>
char *(*vd_web_pam_keep_crypt)(const char *, unsigned long, const char *, int) = crypt_gensalt;
#endif

/* libpam, loaded by the login check process (vd_web_pam_child_main): in
 * the daemon, it, its modules and their libraries (libaudit, libcap-ng,
 * libcrypt, NSS's modules for getgrouplist) would stay resident for good
 * (0.6 MiB) after the first login; and a module that crashes or leaks
 * takes a child with it, not the daemon. */
static struct {
    int (*start)(const char *, const char *, const struct pam_conv *, pam_handle_t **);
    int (*end)(pam_handle_t *, int);
    int (*authenticate)(pam_handle_t *, int);
    int (*acct_mgmt)(pam_handle_t *, int);
    int (*set_item)(pam_handle_t *, int, const void *);
    const char *(*strerror)(pam_handle_t *, int);
    char *error;
} pam;

static gpointer
load_pam(gpointer data)
{
    void *lib = dlopen("libpam.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        pam.error = g_strdup_printf("cannot load libpam.so.0: %s (install libpam0g)", dlerror());
        return NULL;
    }
    /* Never unloaded: PAM modules stay loaded through it. */
    *(void **)&pam.start = dlsym(lib, "pam_start");
    *(void **)&pam.end = dlsym(lib, "pam_end");
    *(void **)&pam.authenticate = dlsym(lib, "pam_authenticate");
    *(void **)&pam.acct_mgmt = dlsym(lib, "pam_acct_mgmt");
    *(void **)&pam.set_item = dlsym(lib, "pam_set_item");
    *(void **)&pam.strerror = dlsym(lib, "pam_strerror");
    if (!pam.start || !pam.end || !pam.authenticate || !pam.acct_mgmt || !pam.set_item ||
        !pam.strerror)
        pam.error = g_strdup("libpam.so.0 lacks the PAM functions");
    return NULL;
}

typedef struct {
    char *service;
    char *user;
    char *password;
    gint64 gid;
} Check;

static void
check_free(gpointer data)
{
    Check *c = data;
    if (c->password) {
        explicit_bzero(c->password, strlen(c->password));
        g_free(c->password);
    }
    g_free(c->service);
    g_free(c->user);
    g_free(c);
}

/* PAM asks; the password is the answer to a hidden prompt, the user name
 * to a visible one; messages are dropped (nobody reads them). */
static int
conversation(int n, const struct pam_message **msgs, struct pam_response **out, void *data)
{
    Check *c = data;
    struct pam_response *resp = calloc((size_t)n, sizeof *resp);
    if (!resp)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        switch (msgs[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
            resp[i].resp = strdup(c->password);
            break;
        case PAM_PROMPT_ECHO_ON:
            resp[i].resp = strdup(c->user);
            break;
        default:
            break;
        }
    }
    *out = resp; /* PAM frees it */
    return PAM_SUCCESS;
}

/* No delay in the worker thread after a failure (pam_unix's default 2 s,
 * pam_faildelay's): the web layer delays the answer on the main loop
 * instead, so a failing client does not hold one of GTask's threads. */
static void
no_delay(int retval, unsigned usec_delay, void *data)
{
}

static gboolean
in_group(const char *user, gint64 gid, GError **error)
{
    struct passwd pw, *ppw = NULL;
    char buf[4096];
    if (getpwnam_r(user, &pw, buf, sizeof buf, &ppw) != 0 || !ppw)
        return vd_set_error(error, VD_ERROR_UNAUTHENTICATED, "no passwd entry for '%s'", user);
    if (ppw->pw_uid == 0)
        return TRUE;
    if (gid < 0)
        return vd_set_error(error, VD_ERROR_UNAUTHENTICATED,
                            "'%s' is not root and no --web-group is set", user);
    int n = 64;
    g_autofree gid_t *groups = NULL;
    for (int tries = 0; tries < 4; tries++) {
        g_free(groups);
        groups = g_new(gid_t, n);
        int want = n;
        if (getgrouplist(user, ppw->pw_gid, groups, &want) >= 0) {
            for (int i = 0; i < want; i++)
                if ((gint64)groups[i] == gid)
                    return TRUE;
            return vd_set_error(
                error, VD_ERROR_UNAUTHENTICATED,
                "'%s' is not a member of the --web-group (gid %" G_GINT64_FORMAT ")", user, gid);
        }
        n = want > n ? want : n * 2;
    }
    return vd_set_error(error, VD_ERROR_UNAUTHENTICATED, "cannot list the groups of '%s'", user);
}

/* The check itself, in the child process: PAM, then the group. */
static gboolean
check_here(const char *service, const char *user, const char *password, gint64 gid, GError **error)
{
    Check c = {.service = (char *)service, .user = (char *)user, .password = (char *)password};
    pam_handle_t *pamh = NULL;
    struct pam_conv conv = {conversation, &c};

    load_pam(NULL);
    if (pam.error)
        return vd_set_error(error, VD_ERROR_INTERNAL, "%s", pam.error);
    int rc = pam.start(service, user, &conv, &pamh);
    if (rc != PAM_SUCCESS)
        return vd_set_error(error, VD_ERROR_INTERNAL, "pam_start(%s): %s", service,
                            pamh ? pam.strerror(pamh, rc) : "failed");
    pam.set_item(pamh, PAM_FAIL_DELAY, (const void *)no_delay);
    pam.set_item(pamh, PAM_RHOST, NULL);
    rc = pam.authenticate(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
    if (rc == PAM_SUCCESS)
        rc = pam.acct_mgmt(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
    if (rc != PAM_SUCCESS) {
        vd_set_error(error, VD_ERROR_UNAUTHENTICATED, "PAM service '%s': %s", service,
                     pam.strerror(pamh, rc));
        pam.end(pamh, rc);
        return FALSE;
    }
    pam.end(pamh, rc);
    return in_group(user, gid, error);
}

int
vd_web_pam_child_main(void)
{
    g_autoptr(GString) in = g_string_new(NULL);
    char buf[1024];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0 && in->len < CHILD_MAX_INPUT)
        g_string_append_len(in, buf, (gssize)n);
    explicit_bzero(buf, sizeof buf);
    /* service NUL user NUL password NUL gid NUL */
    const char *f[4];
    gsize at = 0;
    for (int i = 0; i < 4; i++) {
        const char *end = at < in->len ? memchr(in->str + at, '\0', in->len - at) : NULL;
        if (!end || in->len >= CHILD_MAX_INPUT) {
            explicit_bzero(in->str, in->len);
            printf("%d malformed request to the login check\n", VD_ERROR_INTERNAL);
            return 1;
        }
        f[i] = in->str + at;
        at = (gsize)(end - in->str) + 1;
    }
    g_autoptr(GError) error = NULL;
    gboolean ok = check_here(f[0], f[1], f[2], g_ascii_strtoll(f[3], NULL, 10), &error);
    explicit_bzero(in->str, in->len);
    if (!ok) {
        printf("%d %s\n", error->code, error->message);
        return 1;
    }
    printf("OK\n");
    return 0;
}

/* The worker thread's side: one child process per login, its answer. */
static void
run_check(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    Check *c = data;
    GError *error = NULL;
    g_autofree char *gid = g_strdup_printf("%" G_GINT64_FORMAT, c->gid);
    gsize len = strlen(c->service) + strlen(c->user) + strlen(c->password) + strlen(gid) + 4;
    char *req = g_malloc(len);
    char *p = req;
    p = stpcpy(p, c->service) + 1;
    p = stpcpy(p, c->user) + 1;
    p = stpcpy(p, c->password) + 1;
    stpcpy(p, gid);
    g_autoptr(GBytes) in = g_bytes_new_static(req, len);
    g_autoptr(GBytes) out = NULL;
    g_autoptr(GSubprocess) child =
        g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                         "/proc/self/exe", "--check-web-login", NULL);
    gboolean talked = child && g_subprocess_communicate(child, in, NULL, &out, NULL, &error);
    explicit_bzero(req, len);
    g_clear_pointer(&in, g_bytes_unref);
    g_free(req);
    if (!talked) {
        g_task_return_new_error(task, VD_ERROR, VD_ERROR_INTERNAL,
                                "cannot run the login check process: %s", error->message);
        g_error_free(error);
        return;
    }
    gsize olen = 0;
    const char *o = out ? g_bytes_get_data(out, &olen) : NULL;
    g_autofree char *answer = g_strstrip(g_strndup(o ? o : "", olen));
    if (g_subprocess_get_if_exited(child) && g_subprocess_get_exit_status(child) == 0 &&
        g_str_equal(answer, "OK")) {
        g_task_return_boolean(task, TRUE);
        return;
    }
    char *msg = NULL;
    gint64 code = g_ascii_strtoll(answer, &msg, 10);
    if (!*answer || !msg || *msg != ' ' ||
        (code != VD_ERROR_UNAUTHENTICATED && code != VD_ERROR_INTERNAL)) {
        g_task_return_new_error(
            task, VD_ERROR, VD_ERROR_INTERNAL, "the login check process failed (%s)",
            g_subprocess_get_if_signaled(child) ? "killed by a signal" : "no answer");
        return;
    }
    g_task_return_new_error(task, VD_ERROR, (gint)code, "%s", msg + 1);
}

void
vd_web_pam_check_async(const char *service, const char *user, const char *password, gint64 gid,
                       GAsyncReadyCallback callback, gpointer data)
{
    Check *c = g_new0(Check, 1);
    c->service = g_strdup(service);
    c->user = g_strdup(user);
    c->password = g_strdup(password);
    c->gid = gid;
    g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, data);
    g_task_set_source_tag(task, vd_web_pam_check_async);
    g_task_set_task_data(task, c, check_free);
    g_task_run_in_thread(task, run_check);
}

gboolean
vd_web_pam_check_finish(GAsyncResult *res, GError **error)
{
    return g_task_propagate_boolean(G_TASK(res), error);
}
