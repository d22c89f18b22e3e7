/* Files and directories an unprivileged QEMU opens by path. See
 * qemu-access.h. */
#include "qemu-access.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "daemon/domain/qemu-confine.h"
#include "daemon/path-policy.h"
#include "util/vd-error.h"
#include "util/vd-qcow2.h"

static gboolean
chmod_add(const char *dir, mode_t add, GError **error)
{
    struct stat st;
    if (stat(dir, &st) < 0 || chmod(dir, (st.st_mode & 07777) | add) < 0) {
        int err = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL,
                    "cannot let QEMU's user '%s' reach '%s': %s", vd_confine_user(), dir,
                    g_strerror(err));
        return FALSE;
    }
    return TRUE;
}

/* @dir the daemon's alone (root, 0700): QEMU gets descriptors for what
 * is in it (qemu-run-fds.h). A tree from before that change has it
 * root:virtd-qemu 0770, which is taken back here. */
static gboolean
private_dir(const char *dir, GError **error)
{
    if (g_mkdir_with_parents(dir, 0700) < 0 || chown(dir, 0, 0) < 0 || chmod(dir, 0700) < 0) {
        int err = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot make '%s' the daemon's: %s", dir,
                    g_strerror(err));
        return FALSE;
    }
    return TRUE;
}

/* Console logs a QEMU from before made itself (its user's, 0644): the
 * daemon's again, 0600. A QEMU still writing one keeps its descriptor. */
static void
take_back_logs(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *entry;
    while (d && (entry = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, entry, NULL);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == vd_confine_uid() &&
            (chown(path, 0, 0) < 0 || chmod(path, 0600) < 0))
            g_warning("cannot take back the console log '%s': %s", path, g_strerror(errno));
    }
}

/* A --root instance may live in a private directory (a test's mkdtemp):
 * every directory above the root that others cannot search gets search
 * permission, said in the log, or QEMU could reach nothing below. */
static gboolean
reach_root(const char *root, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(root);
    while (!g_str_equal(dir, "/") && !g_str_equal(dir, ".")) {
        struct stat st;
        if (stat(dir, &st) == 0 && !(st.st_mode & S_IXOTH)) {
            g_message("letting QEMU's user '%s' search '%s' (above --root)", vd_confine_user(),
                      dir);
            if (!chmod_add(dir, S_IXOTH, error))
                return FALSE;
        }
        char *up = g_path_get_dirname(dir);
        g_free(dir);
        dir = up;
    }
    return TRUE;
}

gboolean
vd_qemu_access_setup(const VdPaths *p, GError **error)
{
    if (!vd_confine_active())
        return TRUE;
    if (p->root && !reach_root(p->root, error))
        return FALSE;
    /* Search (x) only: QEMU reaches the files it is told of, and lists
     * none of these directories. */
    const char *search[] = {p->root, p->run_dir, p->run_domains_dir,
                            p->cache_dir, p->state_dir, p->nvram_dir};
    for (guint i = 0; i < G_N_ELEMENTS(search); i++)
        if (search[i] && !chmod_add(search[i], S_IXUSR | S_IXGRP | S_IXOTH, error))
            return FALSE;
    if (!private_dir(p->run_qemu_dir, error) || !private_dir(p->console_log_dir, error))
        return FALSE;
    take_back_logs(p->console_log_dir);
    return TRUE;
}

static char *
record_path(const VdPaths *p, const char *dom_name)
{
    return vd_paths_domain_run(p, dom_name, "owners");
}

/* Whether QEMU's user may already use @st as asked, without a change. */
static gboolean
usable_as_is(const struct stat *st, gboolean writable)
{
    if (st->st_uid == vd_confine_uid())
        return TRUE;
    return writable ? (st->st_mode & S_IWOTH) && (st->st_mode & S_IROTH)
                    : (st->st_mode & S_IROTH) != 0;
}

static gboolean
append_owner(const char *record, unsigned uid, unsigned gid, const char *path, GError **error)
{
    FILE *f = fopen(record, "ae");
    if (!f || fprintf(f, "%u %u %s\n", uid, gid, path) < 0 || fflush(f) != 0 ||
        fsync(fileno(f)) < 0) {
        int err = errno;
        if (f)
            fclose(f);
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: cannot record the owner of '%s': %s", path, g_strerror(err));
        return FALSE;
    }
    fclose(f);
    return TRUE;
}

/* The topmost directory above @path that QEMU's user may not search
 * (NULL: none). One with a POSIX ACL is left to the kernel (and QEMU's
 * own error): the mode bits do not tell. */
static char *
blocking_dir(const char *path)
{
    g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func(g_free);
    char *dir = g_path_get_dirname(path);
    for (;;) {
        g_ptr_array_insert(dirs, 0, dir);
        if (g_str_equal(dir, "/") || g_str_equal(dir, "."))
            break;
        dir = g_path_get_dirname(dir);
    }
    for (guint i = 0; i < dirs->len; i++) {
        const char *d = g_ptr_array_index(dirs, i);
        struct stat st;
        if (stat(d, &st) == 0 && !vd_confine_may(&st, 1) &&
            getxattr(d, "system.posix_acl_access", NULL, 0) < 0)
            return g_strdup(d);
    }
    return NULL;
}

/* QEMU opens @path itself: every directory above it must let its user
 * search it, which is never changed here (qemu-access.h). Refused with
 * the directory and the fixes instead of QEMU's "Permission denied". */
static gboolean
reachable(const char *path, GError **error)
{
    g_autofree char *dir = g_path_is_absolute(path) ? blocking_dir(path) : NULL;
    struct stat st;
    if (!dir || stat(dir, &st) < 0)
        return TRUE;
    return vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                        "operation failed: QEMU runs as '%s' and cannot reach '%s': it may not "
                        "search the directory '%s' (mode %04o, owner uid %u): let it (chmod o+x "
                        "'%s'), move the file to a directory it can search, or run QEMU as root "
                        "(virtd --qemu-user root)",
                        vd_confine_user(), path, dir, (unsigned)(st.st_mode & 07777),
                        (unsigned)st.st_uid, dir);
}

static gboolean
grant_one(const char *record, const char *path, gboolean writable, gboolean check_dirs,
          GError **error)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        /* QEMU names the missing file itself, as before. */
        return TRUE;
    }
    if (strchr(path, '\n'))
        return TRUE;
    if (check_dirs && !reachable(path, error))
        return FALSE;
    /* Already QEMU's: another running domain uses it too. Its use is
     * written down (with QEMU's own uid), so that the first of them to
     * end hands the real owner on instead of taking the file back. */
    if (st.st_uid == vd_confine_uid())
        return append_owner(record, (unsigned)st.st_uid, (unsigned)st.st_gid, path, error);
    if (usable_as_is(&st, writable))
        return TRUE;
    /* The owner is written down before it changes: a daemon killed in
     * between gives back a file that was never taken. */
    if (!append_owner(record, (unsigned)st.st_uid, (unsigned)st.st_gid, path, error))
        return FALSE;
    if (chown(path, vd_confine_uid(), (gid_t)-1) < 0) {
        int err = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "operation failed: cannot give '%s' to QEMU's user '%s': %s", path,
                    vd_confine_user(), g_strerror(err));
        return FALSE;
    }
    /* The owner's bits must allow what QEMU does (a 0444 image opened
     * read-write stays refused, as for root: it has no owner write bit
     * to rely on then, so none is added). */
    return TRUE;
}

/* @path and its backing chain. @check_dirs: refuse a path whose
 * directories QEMU's user cannot search (not for <kernel> and <initrd>:
 * QEMU may get the kernel cache's copy instead, kernel-cache.h). */
static gboolean
grant_chain(const VdPaths *p, const char *dom_name, const char *path, gboolean writable,
            gboolean check_dirs, GError **error)
{
    if (!vd_confine_active() || !path)
        return TRUE;
    g_autofree char *record = record_path(p, dom_name);
    g_autofree char *cur = g_strdup(path);
    for (int depth = 0; cur && depth < VD_QCOW2_MAX_CHAIN; depth++) {
        /* A backing file is the header's word, not a client's: never one
         * of the system's or the daemon's own files (it would be handed
         * to QEMU's user). */
        if (depth > 0 && !vd_path_policy_check_backing(p, path, cur, error))
            return FALSE;
        /* Backing files: read-write too when asked (block commit reopens
         * the base read-write). */
        if (!grant_one(record, cur, writable, check_dirs, error))
            return FALSE;
        char *next = vd_qcow2_backing_file(cur);
        g_free(cur);
        cur = next;
    }
    g_free(g_steal_pointer(&cur));
    return TRUE;
}

gboolean
vd_qemu_access_grant(const VdPaths *p, const char *dom_name, const char *path, gboolean writable,
                     GError **error)
{
    return grant_chain(p, dom_name, path, writable, TRUE, error);
}

gboolean
vd_qemu_access_grant_domain(const VdPaths *p, const VdDomainDef *def, const char *nvram,
                            GHashTable *fd_disks, GError **error)
{
    if (!vd_confine_active())
        return TRUE;
    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        const VdDiskDef *disk = g_ptr_array_index(def->disks, i);
        if (fd_disks && disk->target_dev && g_hash_table_contains(fd_disks, disk->target_dev))
            continue;
        if (disk->source_file &&
            !vd_qemu_access_grant(p, def->name, disk->source_file, !disk->readonly, error))
            return FALSE;
    }
    /* Not <serial type='file'> files, the console log or sockets QEMU
     * listens on: the daemon opens those and QEMU gets descriptors
     * (qemu-run-fds.h). */
    const char *ro[] = {def->os.kernel, def->os.initrd};
    for (guint i = 0; i < G_N_ELEMENTS(ro); i++)
        if (ro[i] && !grant_chain(p, def->name, ro[i], FALSE, FALSE, error))
            return FALSE;
    return vd_qemu_access_grant(p, def->name, nvram, TRUE, error);
}

/* Another domain's record that names @path, NULL if none. */
static char *
other_user(const VdPaths *p, const char *own_record, const char *path)
{
    g_autoptr(GDir) dir = g_dir_open(p->run_domains_dir, 0, NULL);
    const char *entry;
    g_autofree char *needle = g_strconcat(" ", path, "\n", NULL);
    while (dir && (entry = g_dir_read_name(dir))) {
        if (!g_str_has_suffix(entry, ".owners"))
            continue;
        g_autofree char *rec = g_build_filename(p->run_domains_dir, entry, NULL);
        g_autofree char *text = NULL;
        if (!g_str_equal(rec, own_record) && g_file_get_contents(rec, &text, NULL, NULL) &&
            strstr(text, needle))
            return g_steal_pointer(&rec);
    }
    return NULL;
}

void
vd_qemu_access_restore(const VdPaths *p, const char *dom_name)
{
    g_autofree char *record = record_path(p, dom_name);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(record, &text, NULL, NULL))
        return;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    /* Newest first: a file given twice gets its first owner back last. */
    guint n = g_strv_length(lines);
    for (guint i = n; i-- > 0;) {
        unsigned uid, gid;
        int used = 0;
        if (sscanf(lines[i], "%u %u %n", &uid, &gid, &used) != 2 || used <= 0)
            continue;
        const char *path = lines[i] + used;
        struct stat st;
        /* Only a file still QEMU's: one replaced or given away since is
         * someone else's decision. */
        if (uid == vd_confine_uid() || !vd_confine_active() || stat(path, &st) < 0 ||
            st.st_uid != vd_confine_uid())
            continue;
        /* Still used by another running domain: it gives it back. */
        g_autofree char *other = other_user(p, record, path);
        if (other && append_owner(other, uid, gid, path, NULL))
            continue;
        if (chown(path, uid, gid) < 0)
            g_warning("cannot give '%s' back to uid %u: %s", path, uid, g_strerror(errno));
    }
    g_unlink(record);
}

void
vd_qemu_access_share_read(const char *path, gboolean is_dir)
{
    if (!vd_confine_active())
        return;
    if (chown(path, (uid_t)-1, vd_confine_gid()) < 0 || chmod(path, is_dir ? 0750 : 0640) < 0)
        g_warning("cannot let QEMU's group read '%s': %s", path, g_strerror(errno));
}
