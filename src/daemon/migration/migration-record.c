/* The record of a migration in flight (migration-priv.h):
 * run_dir/domains/NAME.migration, a key file written atomically at every
 * phase change, removed when the migration is settled. Also this daemon's
 * instance UUID (state_dir/instance-uuid), by which two daemons tell
 * whether they are the same one. */
#include "migration-priv.h"

#include <errno.h>
#include <glib/gstdio.h>

#include "util/vd-error.h"
#include "util/vd-file.h"

static const char *const phase_names[] = {
    [VD_MIG_PHASE_NONE] = "none",
    [VD_MIG_PHASE_BEGIN] = "begin",
    [VD_MIG_PHASE_PREPARED] = "prepared",
    [VD_MIG_PHASE_PERFORM] = "perform",
    [VD_MIG_PHASE_POSTCOPY] = "postcopy",
    [VD_MIG_PHASE_PERFORM_DONE] = "perform-done",
    [VD_MIG_PHASE_FINISH_SENT] = "finish-sent",
    [VD_MIG_PHASE_CONFIRMED] = "confirmed",
    [VD_MIG_PHASE_CANCELLED] = "cancelled",
    [VD_MIG_PHASE_FINISHING] = "finishing",
};

const char *
vd_migration_phase_to_string(VdMigrationPhase phase)
{
    return (guint)phase < G_N_ELEMENTS(phase_names) ? phase_names[phase] : "none";
}

VdMigrationPhase
vd_migration_phase_from_string(const char *s)
{
    for (guint i = 0; s && i < G_N_ELEMENTS(phase_names); i++)
        if (g_str_equal(s, phase_names[i]))
            return (VdMigrationPhase)i;
    return VD_MIG_PHASE_NONE;
}

void
vd_migration_record_free(VdMigrationRecord *rec)
{
    if (!rec)
        return;
    g_free(rec->id);
    g_free(rec->peer_uri);
    g_free(rec->domain_name);
    g_strfreev(rec->created_files);
    g_free(rec);
}

static char *
record_path(VdDaemon *d, const char *dom_name)
{
    return vd_paths_domain_run(d->paths, dom_name, "migration");
}

#define GROUP "migration"

gboolean
vd_migration_record_save(VdDaemon *d, const char *dom_name, const VdMigrationRecord *rec,
                         GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *path = record_path(d, dom_name);
    gsize len = 0;

    g_key_file_set_string(kf, GROUP, "id", rec->id ? rec->id : "");
    g_key_file_set_boolean(kf, GROUP, "outgoing", rec->outgoing);
    g_key_file_set_string(kf, GROUP, "phase", vd_migration_phase_to_string(rec->phase));
    if (rec->peer_uri)
        g_key_file_set_string(kf, GROUP, "peer_uri", rec->peer_uri);
    g_key_file_set_boolean(kf, GROUP, "was_running", rec->was_running);
    g_key_file_set_boolean(kf, GROUP, "offline", rec->offline);
    g_key_file_set_boolean(kf, GROUP, "persistent", rec->persistent);
    g_key_file_set_boolean(kf, GROUP, "undefine_source", rec->undefine_source);
    g_key_file_set_string(kf, GROUP, "domain_name", dom_name);
    if (rec->created_files)
        g_key_file_set_string_list(kf, GROUP, "created_files",
                                   (const char *const *)rec->created_files,
                                   g_strv_length(rec->created_files));
    g_key_file_set_int64(kf, GROUP, "updated_us", g_get_real_time());
    g_autofree char *data = g_key_file_to_data(kf, &len, NULL);
    return vd_file_write_atomic(path, data, (gssize)len, 0600, error);
}

VdMigrationRecord *
vd_migration_record_load(VdDaemon *d, const char *dom_name, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *path = record_path(d, dom_name);
    g_autoptr(GError) local = NULL;

    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &local)) {
        if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return NULL;
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot read migration record '%s': %s",
                    path, local->message);
        return NULL;
    }
    VdMigrationRecord *rec = g_new0(VdMigrationRecord, 1);
    rec->id = g_key_file_get_string(kf, GROUP, "id", NULL);
    rec->outgoing = g_key_file_get_boolean(kf, GROUP, "outgoing", NULL);
    g_autofree char *phase = g_key_file_get_string(kf, GROUP, "phase", NULL);
    rec->phase = vd_migration_phase_from_string(phase);
    rec->peer_uri = g_key_file_get_string(kf, GROUP, "peer_uri", NULL);
    rec->was_running = g_key_file_get_boolean(kf, GROUP, "was_running", NULL);
    rec->offline = g_key_file_get_boolean(kf, GROUP, "offline", NULL);
    rec->persistent = g_key_file_get_boolean(kf, GROUP, "persistent", NULL);
    rec->undefine_source = g_key_file_get_boolean(kf, GROUP, "undefine_source", NULL);
    rec->domain_name = g_key_file_get_string(kf, GROUP, "domain_name", NULL);
    if (!rec->domain_name)
        rec->domain_name = g_strdup(dom_name);
    rec->created_files = g_key_file_get_string_list(kf, GROUP, "created_files", NULL, NULL);
    rec->updated_us = g_key_file_get_int64(kf, GROUP, "updated_us", NULL);
    return rec;
}

void
vd_migration_record_remove(VdDaemon *d, const char *dom_name)
{
    g_autofree char *path = record_path(d, dom_name);
    if (g_unlink(path) < 0 && errno != ENOENT)
        g_warning("cannot remove migration record '%s': %s", path, g_strerror(errno));
}

GPtrArray *
vd_migration_record_list(VdDaemon *d)
{
    g_autofree char *probe = record_path(d, "x");
    g_autofree char *dir = g_path_get_dirname(probe);
    g_autoptr(GDir) gd = g_dir_open(dir, 0, NULL);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *entry;

    while (gd && (entry = g_dir_read_name(gd)))
        if (g_str_has_suffix(entry, ".migration") && entry[0] != '.')
            g_ptr_array_add(names, g_strndup(entry, strlen(entry) - strlen(".migration")));
    return names;
}

gboolean
vd_migration_instance_uuid_ensure(VdDaemon *d, GError **error)
{
    g_autofree char *path = g_build_filename(d->paths->state_dir, "instance-uuid", NULL);
    g_autofree char *data = NULL;

    if (g_file_get_contents(path, &data, NULL, NULL)) {
        g_strstrip(data);
        if (g_uuid_string_is_valid(data)) {
            d->instance_uuid = g_steal_pointer(&data);
            return TRUE;
        }
    }
    g_autofree char *uuid = g_uuid_string_random();
    g_autofree char *line = g_strconcat(uuid, "\n", NULL);
    if (!vd_file_write_atomic(path, line, -1, 0644, error))
        return FALSE;
    d->instance_uuid = g_steal_pointer(&uuid);
    return TRUE;
}

typedef struct {
    char *file;
    VdMigrationResume resume;
    gpointer data;
} Hold;

static gboolean
hold_poll(gpointer user_data)
{
    Hold *h = user_data;
    if (g_file_test(h->file, G_FILE_TEST_EXISTS))
        return G_SOURCE_CONTINUE;
    g_info("migration test hold released: %s", h->file);
    h->resume(h->data);
    g_free(h->file);
    g_free(h);
    return G_SOURCE_REMOVE;
}

void
vd_migration_hold(VdDaemon *d, const char *point, VdMigrationResume resume, gpointer data)
{
    const char *env = g_getenv("VIRTD_TEST_MIGRATION_HOLD");
    g_auto(GStrv) points = env ? g_strsplit(env, ",", -1) : NULL;

    if (!points || !g_strv_contains((const char *const *)points, point)) {
        resume(data);
        return;
    }
    Hold *h = g_new0(Hold, 1);
    g_autofree char *name = g_strconcat("migration-hold.", point, NULL);
    h->file = g_build_filename(d->paths->run_dir, name, NULL);
    h->resume = resume;
    h->data = data;
    g_autoptr(GError) error = NULL;
    if (!g_file_set_contents(h->file, "", 0, &error))
        g_warning("migration test hold %s: %s", point, error->message);
    g_info("migration test hold at %s: remove %s to go on", point, h->file);
    g_timeout_add(50, hold_poll, h);
}
