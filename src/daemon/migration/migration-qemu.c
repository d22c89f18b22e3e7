/* The per-domain migration state (dom->migration), the tunables of
 * migrate-setmaxdowntime / -setspeed / -postcopy and domjobabort, and the
 * hooks every domain calls (migration.h). The QMP arguments themselves
 * come from qemu/qemu-migration.h. */
#include "migration-flow.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "util/vd-error.h"

VdMigration *
vd_migration_get(VdDomainObj *dom)
{
    if (!dom->migration)
        dom->migration = g_new0(VdMigration, 1);
    return dom->migration;
}

static gboolean
check_active(VdDomainObj *dom, GError **error)
{
    if (vd_state_is_active(dom->state) && dom->qmp)
        return TRUE;
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                "Requested operation is not valid: domain is not running");
    return FALSE;
}

static void
param_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    VdDomainObj *dom = data;
    (void)qmp;
    (void)result;
    if (error)
        g_warning("domain '%s': migrate-set-parameters: %s", dom->name, error->message);
    vd_domain_obj_unref(dom);
}

gboolean
vd_migration_set_max_downtime(VdDaemon *d, VdDomainObj *dom, guint64 ms, GError **error)
{
    (void)d;
    if (!check_active(dom, error))
        return FALSE;
    if (ms == 0 || ms > 2000000) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: the maximum downtime must be between 1 and 2000000 ms, "
                    "not %" G_GUINT64_FORMAT,
                    ms);
        return FALSE;
    }
    vd_migration_get(dom)->max_downtime_ms = ms;
    /* QEMU keeps it: a migration in flight uses it at once. */
    vd_qmp_command(dom->qmp, "migrate-set-parameters", vd_qemu_migration_downtime_args(ms),
                   param_reply, vd_domain_obj_ref(dom));
    return TRUE;
}

gboolean
vd_migration_get_max_downtime(VdDaemon *d, VdDomainObj *dom, guint64 *ms, GError **error)
{
    (void)d;
    if (!check_active(dom, error))
        return FALSE;
    guint64 v = dom->migration ? ((VdMigration *)dom->migration)->max_downtime_ms : 0;
    *ms = v ? v : VD_QEMU_MIGRATION_DEFAULT_DOWNTIME_MS;
    return TRUE;
}

gboolean
vd_migration_set_speed(VdDaemon *d, VdDomainObj *dom, guint64 mib_s, GError **error)
{
    (void)d;
    if (mib_s > VD_QEMU_MIGRATION_SPEED_UNLIMITED_MIB) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid argument: bandwidth must be less than %" G_GUINT64_FORMAT,
                    VD_QEMU_MIGRATION_SPEED_UNLIMITED_MIB + 1);
        return FALSE;
    }
    /* Kept for the next migration too (as libvirt), even of an inactive
     * domain; a stream in flight gets it now. */
    vd_migration_get(dom)->speed_mib = mib_s;
    if (vd_migration_source_streaming(dom) && dom->qmp)
        vd_qmp_command(dom->qmp, "migrate-set-parameters", vd_qemu_migration_speed_args(mib_s),
                       param_reply, vd_domain_obj_ref(dom));
    return TRUE;
}

gboolean
vd_migration_get_speed(VdDaemon *d, VdDomainObj *dom, guint64 *mib_s, GError **error)
{
    (void)d;
    (void)error;
    guint64 v = dom->migration ? ((VdMigration *)dom->migration)->speed_mib : 0;
    *mib_s = v ? v : VD_QEMU_MIGRATION_SPEED_UNLIMITED_MIB;
    return TRUE;
}

gboolean
vd_migration_start_postcopy(VdDaemon *d, VdDomainObj *dom, GError **error)
{
    (void)d;
    if (!check_active(dom, error))
        return FALSE;
    return vd_migration_source_postcopy(dom, error);
}

gboolean
vd_migration_abort(VdDaemon *d, VdDomainObj *dom, GError **error)
{
    (void)d;
    if (vd_migration_in(dom) || dom->job == VD_JOB_MIGRATION_IN) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Requested operation is not valid: domain '%s' is an incoming migration; "
                    "abort it on the source host ('vsh domjobabort %s' there)",
                    dom->name, dom->name);
        return FALSE;
    }
    return vd_migration_source_abort(dom, error);
}

void
vd_migration_set_state(VdDaemon *d, VdDomainObj *dom, VdState state, VdStateReason reason)
{
    vd_domain_obj_set_state(dom, state, reason);
    vd_domain_status_save(d->domains, dom, NULL);
}

const char *
vd_migration_qmp_status(JsonNode *result, const GError *error)
{
    if (error || !result || !JSON_NODE_HOLDS_OBJECT(result))
        return "";
    return json_object_get_string_member_with_default(json_node_get_object(result), "status", "");
}

/* ---- --tls ------------------------------------------------------------ */

/* remote-tls.h's default, for a daemon started without --tls-dir. */
#define TLS_DEFAULT_DIR "/etc/pki/virtd"

char *
vd_migration_tls_dir_make(VdDaemon *d, const char *id, gboolean server, GError **error)
{
    const char *pki = d->tls_dir ? d->tls_dir : TLS_DEFAULT_DIR;
    /* QEMU's file names -> the daemon's own (libvirt's layout). */
    const char *const links[][2] = {
        {"ca-cert.pem", "cacert.pem"},
        {server ? "server-cert.pem" : "client-cert.pem",
         server ? "servercert.pem" : "clientcert.pem"},
        {server ? "server-key.pem" : "client-key.pem",
         server ? "private/serverkey.pem" : "private/clientkey.pem"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(links); i++) {
        g_autofree char *file = g_build_filename(pki, links[i][1], NULL);
        if (!g_file_test(file, G_FILE_TEST_IS_REGULAR)) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid argument: --tls needs this daemon's TLS %s '%s' (its "
                        "--tls-dir; docs/remote-tls.md says how to make it)",
                        i == 0 ? "CA certificate" : i == 1 ? "certificate" : "key", file);
            return NULL;
        }
    }
    g_autofree char *base = g_strdup_printf("migration-tls-%s", id);
    char *dir = g_build_filename(d->paths->run_dir, base, NULL);
    if (g_mkdir(dir, 0700) < 0 && errno != EEXIST) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: cannot create '%s': %s", dir, g_strerror(errno));
        g_free(dir);
        return NULL;
    }
    for (guint i = 0; i < G_N_ELEMENTS(links); i++) {
        g_autofree char *target = g_build_filename(pki, links[i][1], NULL);
        g_autofree char *abs = g_canonicalize_filename(target, NULL);
        g_autofree char *link = g_build_filename(dir, links[i][0], NULL);
        g_unlink(link);
        if (symlink(abs, link) < 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "operation failed: cannot link '%s' to '%s': %s", link, abs,
                        g_strerror(errno));
            vd_migration_tls_dir_remove(dir);
            g_free(dir);
            return NULL;
        }
    }
    return dir;
}

void
vd_migration_tls_dir_remove(const char *dir)
{
    static const char *const names[] = {"ca-cert.pem", "server-cert.pem", "server-key.pem",
                                        "client-cert.pem", "client-key.pem"};
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *link = g_build_filename(dir, names[i], NULL);
        g_unlink(link);
    }
    g_rmdir(dir);
}

/* ---- hooks ------------------------------------------------------------ */

void
vd_migration_qmp_event(VdDaemon *d, VdDomainObj *dom, const char *event, JsonObject *data)
{
    if (!dom->migration)
        return;
    vd_migration_source_event(d, dom, event, data);
    vd_migration_dest_event(d, dom, event, data);
}

void
vd_migration_stopped(VdDomainObj *dom)
{
    if (!dom->migration)
        return;
    vd_migration_source_stopped(dom);
    vd_migration_dest_stopped(dom);
}

void
vd_migration_obj_free(VdDomainObj *dom)
{
    if (!dom->migration)
        return;
    /* Whatever is in flight holds its own reference to the domain, so
     * none is left when the domain itself goes. */
    vd_migration_out_release(dom);
    vd_migration_in_release(dom);
    g_clear_pointer(&dom->migration, g_free);
}
