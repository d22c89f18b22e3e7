/* Who may do what through the API (access.h). */
#include "daemon/access/access.h"

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/domain-tpm.h"
#include "daemon/access/audit.h"
#include "daemon/api/api-conn.h"
#include "daemon/storage/storage.h"
#include "qemu/qemu-caps.h"
#include "util/vd-error.h"
#include "util/vd-qcow2.h"
#include "util/vd-path.h"
#include "util/vd-units.h"

/* The options, filled by main.c's parse (vd_access_options). */
static char *opt_rw_group;
static char *opt_ro_group;
static char **opt_allowed_paths;
static char **opt_allowed_emulators;
static char *opt_audit_log;
static char *opt_audit_log_max;

static const GOptionEntry options[] = {
    {"rw-group", 0, 0, G_OPTION_ARG_STRING, &opt_rw_group,
     "Members of GROUP (a name or a number) may use the API to make changes, within the rules "
     "for non-root clients (docs/access.md); --socket-group is its older name",
     "GROUP"},
    {"ro-group", 0, 0, G_OPTION_ARG_STRING, &opt_ro_group,
     "Members of GROUP (a name or a number) may list and read through the API, nothing else",
     "GROUP"},
    {"allowed-path", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_allowed_paths,
     "Non-root clients may name files under DIR (disks, kernels, chardev files, save images) "
     "and put pools there; repeatable (default: the storage pools' directories and the "
     "daemon's images directory)",
     "DIR"},
    {"allowed-emulator", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_allowed_emulators,
     "Non-root clients may name PATH as <emulator>; repeatable (default: the QEMU the daemon "
     "found)",
     "PATH"},
    {"audit-log", 0, 0, G_OPTION_ARG_FILENAME, &opt_audit_log,
     "Where every change made through the API is recorded, one JSON line each (default "
     "STATE_DIR/audit.log; docs/access.md)",
     "PATH"},
    {"audit-log-max", 0, 0, G_OPTION_ARG_STRING, &opt_audit_log_max,
     "Rotate the audit log past SIZE (default 16MiB); two older generations are kept", "SIZE"},
    {NULL}};

typedef enum {
    ROLE_NONE,
    ROLE_READ,  /* --ro-group */
    ROLE_WRITE, /* --rw-group: changes, under the rules for non-root clients */
    ROLE_ROOT,  /* root, the daemon's own user, TLS clients, the web's root */
} Role;

struct _VdAccess {
    gint64 rw_gid, ro_gid;   /* -1: none */
    char *rw_name, *ro_name; /* as the administrator gave them, for the messages */
    GPtrArray *dirs;         /* resolved --allowed-path and the images directory */
    GPtrArray *emulators;    /* resolved allowed <emulator>s */
    VdAudit *audit;
};

const GOptionEntry *
vd_access_options(void)
{
    return options;
}

/* A group given by name or number. */
static gboolean
parse_group(const char *text, const char *option, gint64 *gid, GError **error)
{
    guint64 n = 0;
    if (g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT32 - 1, &n, NULL)) {
        *gid = (gint64)n;
        return TRUE;
    }
    struct group *gr = getgrnam(text);
    if (!gr) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "unknown group '%s' for %s (`getent group` lists them; a number is taken "
                    "as a gid)",
                    text, option);
        return FALSE;
    }
    *gid = gr->gr_gid;
    return TRUE;
}

static gboolean
add_resolved(GPtrArray *to, const char *path, const char *option, GError **error)
{
    g_autoptr(GError) why = NULL;
    char *real = g_path_is_absolute(path) ? vd_path_resolve(path, &why) : NULL;
    if (!real) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "%s '%s': %s", option, path,
                    why ? why->message : "give an absolute path");
        return FALSE;
    }
    g_ptr_array_add(to, real);
    return TRUE;
}

VdAccess *
vd_access_new(VdDaemon *d, GError **error)
{
    g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) emulators = g_ptr_array_new_with_free_func(g_free);
    gint64 rw = -1, ro = -1;
    guint64 max = VD_AUDIT_MAX_DEFAULT;
    g_autofree char *images = g_build_filename(d->paths->state_dir, "images", NULL);

    if ((opt_rw_group && !parse_group(opt_rw_group, "--rw-group", &rw, error)) ||
        (opt_ro_group && !parse_group(opt_ro_group, "--ro-group", &ro, error)))
        return NULL;
    if (rw < 0 && d->socket_group >= 0)
        rw = d->socket_group; /* --socket-group: read-write, as it always was */
    if (rw >= 0 && rw == ro) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--rw-group and --ro-group name the same group: give two groups");
        return NULL;
    }
    if (opt_audit_log_max && (!vd_size_parse(opt_audit_log_max, "B", &max, NULL) ||
                              max < 4096 || max > G_MAXINT64)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid --audit-log-max '%s': give a size of at least 4KiB, e.g. 16MiB",
                    opt_audit_log_max);
        return NULL;
    }
    g_ptr_array_add(dirs, vd_path_resolve(images, NULL) ?: g_strdup(images));
    for (guint i = 0; opt_allowed_paths && opt_allowed_paths[i]; i++)
        if (!add_resolved(dirs, opt_allowed_paths[i], "--allowed-path", error))
            return NULL;
    g_autofree char *qemu = vd_qemu_default_binary(); /* the one the daemon runs */
    if (qemu && g_path_is_absolute(qemu))
        g_ptr_array_add(emulators, vd_path_resolve(qemu, NULL) ?: g_strdup(qemu));
    for (guint i = 0; opt_allowed_emulators && opt_allowed_emulators[i]; i++)
        if (!add_resolved(emulators, opt_allowed_emulators[i], "--allowed-emulator", error))
            return NULL;
    g_autofree char *log = opt_audit_log ? g_strdup(opt_audit_log)
                                         : g_build_filename(d->paths->state_dir, "audit.log", NULL);
    VdAudit *audit = vd_audit_open(log, (goffset)max, error);
    if (!audit)
        return NULL;

    VdAccess *a = g_new0(VdAccess, 1);
    a->rw_gid = rw;
    a->ro_gid = ro;
    struct group *gr;
    a->rw_name = opt_rw_group ? g_strdup(opt_rw_group)
                 : rw >= 0 && (gr = getgrgid((gid_t)rw)) ? g_strdup(gr->gr_name)
                 : rw >= 0 ? g_strdup_printf("%" G_GINT64_FORMAT, rw)
                           : NULL;
    a->ro_name = g_strdup(opt_ro_group);
    a->dirs = g_steal_pointer(&dirs);
    a->emulators = g_steal_pointer(&emulators);
    a->audit = audit;
    return a;
}

void
vd_access_free(VdAccess *a)
{
    if (!a)
        return;
    vd_audit_free(a->audit);
    g_ptr_array_unref(a->dirs);
    g_ptr_array_unref(a->emulators);
    g_free(a->rw_name);
    g_free(a->ro_name);
    g_free(a);
}

VdAudit *
vd_access_audit(const VdAccess *a)
{
    return a ? a->audit : NULL;
}

gboolean
vd_access_set_socket_mode(const VdAccess *a, const char *path, GError **error)
{
    if (!a || (a->rw_gid < 0 && a->ro_gid < 0))
        return TRUE; /* bound 0600: root only */
    gid_t group = (gid_t)(a->rw_gid >= 0 ? a->rw_gid : a->ro_gid);
    /* The directory holding it (/run/virtd, made 0700) must let clients
     * reach it: search permission only, its listing stays private. */
    g_autofree char *dir = g_path_get_dirname(path);
    struct stat st;
    if (chown(path, (uid_t)-1, group) < 0 || chmod(path, 0666) < 0 || stat(dir, &st) < 0 ||
        chmod(dir, (st.st_mode & 07777) | 0111) < 0) {
        int saved = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL,
                    "cannot open the API socket '%s' to the groups: %s", path,
                    g_strerror(saved));
        return FALSE;
    }
    return TRUE;
}

static gboolean
in_group(const VdApiIdentity *who, gint64 gid)
{
    if (gid < 0)
        return FALSE;
    if (who->gid == gid)
        return TRUE;
    for (guint i = 0; i < who->ngroups; i++)
        if (who->groups[i] == (guint32)gid)
            return TRUE;
    return FALSE;
}

static Role
role_of(const VdAccess *a, const VdApiIdentity *who)
{
    /* A web user other than root (a member of --web-group, or a token
     * made for one) has the read-write group's rules: the daemon must not
     * read or run host files as root on that user's word either. Before
     * the login (web.c answers those requests itself) and for TLS clients
     * (their certificate is the administrator's), full access. */
    if (who && who->transport == VD_API_TRANSPORT_WEB && who->user &&
        !g_str_equal(who->user, "root") && !g_str_has_prefix(who->user, "tls "))
        return ROLE_WRITE; /* "tls DN": a token a TLS client made (web-tokens.c) */
    if (!who || who->transport != VD_API_TRANSPORT_UNIX)
        return ROLE_ROOT;
    if (who->uid == 0 || who->uid == (gint64)geteuid())
        return ROLE_ROOT;
    if (who->uid < 0 || !a)
        return ROLE_NONE;
    if (in_group(who, a->rw_gid))
        return ROLE_WRITE;
    if (in_group(who, a->ro_gid))
        return ROLE_READ;
    return ROLE_NONE;
}

/* What the read-only group may do: read, never a console (typing into
 * a guest is a change), and the compatibility report of a definition. */
static gboolean
reads_only(SoupServerMessage *msg, const char *path)
{
    const char *method = soup_server_message_get_method(msg);
    if (g_str_equal(method, "GET") || g_str_equal(method, "HEAD"))
        return !soup_message_headers_get_one(soup_server_message_get_request_headers(msg),
                                             "Upgrade");
    return g_str_equal(method, "POST") && g_str_equal(path, "/v1/domains/check");
}

/* "uid 4242 is not root and not in the read-write group 'virtd' nor the
 * read-only group 'virtd-ro' (virtd --rw-group/--ro-group)". */
static char *
describe_none(const VdAccess *a, gint64 uid)
{
    if (!a || (!a->rw_name && !a->ro_name))
        return g_strdup_printf("uid %" G_GINT64_FORMAT " is not root, and this daemon serves "
                               "only root (virtd --rw-group GROUP or --ro-group GROUP lets a "
                               "group in)",
                               uid);
    g_autofree char *rw = a->rw_name ? g_strdup_printf("the read-write group '%s'", a->rw_name)
                                     : g_strdup("a read-write group (none is set)");
    g_autofree char *ro = a->ro_name ? g_strdup_printf("the read-only group '%s'", a->ro_name)
                                     : g_strdup("a read-only group (none is set)");
    return g_strdup_printf("uid %" G_GINT64_FORMAT " is not root and not in %s nor %s "
                           "(virtd --rw-group/--ro-group)",
                           uid, rw, ro);
}

gboolean
vd_access_check_request(VdDaemon *d, SoupServerMessage *msg, const char *path, GError **error)
{
    const VdApiIdentity *who = vd_api_conn_get_identity(msg);
    Role role = role_of(d->access, who);

    if (role >= ROLE_WRITE || (role == ROLE_READ && reads_only(msg, path)))
        return TRUE;
    if (role == ROLE_READ) {
        g_set_error(error, VD_ERROR, VD_ERROR_DENIED,
                    "uid %" G_GINT64_FORMAT " is in the read-only group '%s' (virtd --ro-group): "
                    "it may list and read, not %s '%s'%s",
                    who->uid, d->access->ro_name, soup_server_message_get_method(msg), path,
                    soup_message_headers_get_one(soup_server_message_get_request_headers(msg),
                                                 "Upgrade")
                        ? " (a console)"
                        : "");
        return FALSE;
    }
    g_autofree char *why = describe_none(d->access, who->uid);
    g_set_error(error, VD_ERROR, VD_ERROR_DENIED, "%s", why);
    return FALSE;
}

/* ---- the rules for non-root read-write clients ---- */

static gboolean
confined(VdDaemon *d, SoupServerMessage *msg)
{
    return role_of(d->access, vd_api_conn_get_identity(msg)) < ROLE_ROOT;
}

static char *
whom(VdDaemon *d, SoupServerMessage *msg)
{
    const VdApiIdentity *who = vd_api_conn_get_identity(msg);
    if (who && who->transport == VD_API_TRANSPORT_WEB)
        return g_strdup_printf("web user '%s' is not root (web users other than root have the "
                               "read-write group's rules)",
                               who->user);
    return g_strdup_printf("uid %" G_GINT64_FORMAT " is in the read-write group '%s', not root",
                           who ? who->uid : -1, d->access ? d->access->rw_name : "");
}

gboolean
vd_access_require(VdDaemon *d, SoupServerMessage *msg, const char *what, GError **error)
{
    if (!confined(d, msg))
        return TRUE;
    g_autofree char *who = whom(d, msg);
    g_set_error(error, VD_ERROR, VD_ERROR_DENIED, "%s is for root only: %s", what, who);
    return FALSE;
}

static gboolean
under(const char *path, const char *dir)
{
    gsize n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == 0 || path[n] == '/' || g_str_equal(dir, "/"));
}

/* The directories a non-root client may name files in: the configured
 * ones and, unless @configured_only, every pool's directory now. */
static GPtrArray *
allowed_dirs(VdDaemon *d, gboolean configured_only)
{
    GPtrArray *dirs = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; d->access && i < d->access->dirs->len; i++)
        g_ptr_array_add(dirs, g_strdup(g_ptr_array_index(d->access->dirs, i)));
    if (configured_only || !d->storage)
        return dirs;
    g_autoptr(GPtrArray) pools = vd_storage_list(d->storage);
    for (guint i = 0; i < pools->len; i++) {
        const VdStoragePool *p = g_ptr_array_index(pools, i);
        char *real = vd_path_resolve(p->def->target_path, NULL);
        if (real && !g_ptr_array_find_with_equal_func(dirs, real, g_str_equal, NULL))
            g_ptr_array_add(dirs, real);
        else
            g_free(real);
    }
    return dirs;
}

static gboolean
check_under(VdDaemon *d, SoupServerMessage *msg, const char *what, const char *path,
            gboolean configured_only, GError **error)
{
    g_autofree char *real = vd_path_resolve(path, error);
    if (!real) {
        g_prefix_error(error, "%s: ", what);
        return FALSE;
    }
    g_autoptr(GPtrArray) dirs = allowed_dirs(d, configured_only);
    for (guint i = 0; i < dirs->len; i++)
        if (under(real, g_ptr_array_index(dirs, i)))
            return TRUE;
    g_ptr_array_add(dirs, NULL);
    g_autofree char *list = g_strjoinv(", ", (char **)dirs->pdata);
    g_autofree char *who = whom(d, msg);
    g_autofree char *via = g_str_equal(real, path) ? g_strdup("")
                                                   : g_strdup_printf(" (it leads to '%s')", real);
    g_set_error(error, VD_ERROR, VD_ERROR_DENIED,
                "%s: '%s'%s is outside the directories a non-root client may name (%s): %s "
                "(virtd --allowed-path DIR allows another directory)",
                what, path, via, list, who);
    return FALSE;
}

gboolean
vd_access_check_path(VdDaemon *d, SoupServerMessage *msg, const char *what, const char *path,
                     GError **error)
{
    if (!path || !confined(d, msg))
        return TRUE;
    return check_under(d, msg, what, path, FALSE, error);
}

/* Where Debian installs firmware (qemu-system-data, ovmf, seabios): a
 * <loader> may also be one of these, read-only and the system's own. */
static const char *const firmware_dirs[] = {
    "/usr/share/qemu", "/usr/share/OVMF", "/usr/share/AAVMF", "/usr/share/seabios",
    "/usr/share/qemu-efi-aarch64",
};

static gboolean
check_loader(VdDaemon *d, SoupServerMessage *msg, const char *loader, GError **error)
{
    g_autofree char *real = loader ? vd_path_resolve(loader, NULL) : NULL;
    for (guint i = 0; real && i < G_N_ELEMENTS(firmware_dirs); i++)
        if (under(real, firmware_dirs[i]))
            return TRUE;
    return vd_access_check_path(d, msg, "<loader>", loader, error);
}

gboolean
vd_access_check_pool_target(VdDaemon *d, SoupServerMessage *msg, const char *pool,
                            const char *target, GError **error)
{
    if (!target || !confined(d, msg))
        return TRUE;
    g_autofree char *what = g_strdup_printf("target of pool '%s'", pool);
    return check_under(d, msg, what, target, TRUE, error);
}

static gboolean
check_emulator(VdDaemon *d, SoupServerMessage *msg, const char *emulator, GError **error)
{
    g_autofree char *real = g_path_is_absolute(emulator) ? vd_path_resolve(emulator, NULL) : NULL;
    GPtrArray *allowed = d->access ? d->access->emulators : NULL;
    for (guint i = 0; real && allowed && i < allowed->len; i++)
        if (g_str_equal(real, g_ptr_array_index(allowed, i)))
            return TRUE;
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    for (guint i = 0; allowed && i < allowed->len; i++)
        g_ptr_array_add(names, g_ptr_array_index(allowed, i));
    g_ptr_array_add(names, NULL);
    g_autofree char *list = g_strjoinv(", ", (char **)names->pdata);
    g_autofree char *who = whom(d, msg);
    g_set_error(error, VD_ERROR, VD_ERROR_DENIED,
                "<emulator> '%s' is not one of the installed QEMU binaries a non-root client "
                "may run (%s): %s (virtd --allowed-emulator PATH allows another)",
                emulator, *list ? list : "none", who);
    return FALSE;
}

gboolean
vd_access_check_disk(VdDaemon *d, SoupServerMessage *msg, const VdDiskDef *disk, GError **error)
{
    if (!confined(d, msg))
        return TRUE;
    const char *target = disk->target_dev ? disk->target_dev : "?";
    if (disk->source_file) {
        g_autofree char *what = g_strdup_printf("disk '%s'", target);
        if (!check_under(d, msg, what, disk->source_file, FALSE, error))
            return FALSE;
    }
    g_autoptr(GPtrArray) backing = vd_disk_def_backing_paths(disk);
    for (guint i = 0; backing && i < backing->len; i++) {
        g_autofree char *what = g_strdup_printf("backing store of disk '%s'", target);
        if (!check_under(d, msg, what, g_ptr_array_index(backing, i), FALSE, error))
            return FALSE;
    }
    /* The chain the image's own header names: QEMU follows it, so the
     * client names those files too (an uploaded image may say anything). */
    g_autofree char *cur = disk->source_file ? vd_qcow2_backing_file(disk->source_file) : NULL;
    for (int depth = 0; cur && depth < VD_QCOW2_MAX_CHAIN; depth++) {
        g_autofree char *what =
            g_strdup_printf("backing file of disk '%s' (named in an image's header)", target);
        if (!check_under(d, msg, what, cur, FALSE, error))
            return FALSE;
        char *next = vd_qcow2_backing_file(cur);
        g_free(cur);
        cur = next;
    }
    return TRUE;
}

static gboolean
check_chrs(VdDaemon *d, SoupServerMessage *msg, GPtrArray *chrs, const char *kind,
           GError **error)
{
    for (guint i = 0; chrs && i < chrs->len; i++) {
        const VdChrDef *chr = g_ptr_array_index(chrs, i);
        if ((chr->type != VD_CHR_FILE && chr->type != VD_CHR_UNIX) || !chr->path)
            continue;
        g_autofree char *what = g_strdup_printf("%s %u", kind, i);
        if (!check_under(d, msg, what, chr->path, FALSE, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
vd_access_check_def(VdDaemon *d, SoupServerMessage *msg, const VdDomainDef *def, GError **error)
{
    if (!confined(d, msg))
        return TRUE;
    if (def->emulator && !check_emulator(d, msg, def->emulator, error))
        return FALSE;
    /* The daemon's own UEFI store for this domain is its to name. */
    g_autofree char *own_nvram = def->name ? vd_paths_domain_nvram(d->paths, def->name) : NULL;
    const char *nvram = g_strcmp0(def->os.nvram, own_nvram) == 0 ? NULL : def->os.nvram;
    if (!vd_access_check_path(d, msg, "<kernel>", def->os.kernel, error) ||
        !vd_access_check_path(d, msg, "<initrd>", def->os.initrd, error) ||
        !check_loader(d, msg, def->os.loader, error) ||
        !vd_access_check_path(d, msg, "<nvram>", nvram, error))
        return FALSE;
    for (guint i = 0; i < def->disks->len; i++)
        if (!vd_access_check_disk(d, msg, g_ptr_array_index(def->disks, i), error))
            return FALSE;
    /* An external swtpm's socket is connected to as root (passthrough
     * is refused for everyone at start). */
    for (guint i = 0; def->tpm && i < def->tpm->tpms->len; i++) {
        const VdTpmDef *tpm = g_ptr_array_index(def->tpm->tpms, i);
        if (!vd_access_check_path(d, msg, "<tpm> socket", tpm->source_path, error))
            return FALSE;
    }
    return check_chrs(d, msg, def->serials, "serial", error) &&
           check_chrs(d, msg, def->consoles, "console", error) &&
           check_chrs(d, msg, def->channels, "channel", error);
}
