/* QEMU's user, capabilities and privileges. See qemu-confine.h. */
#include "qemu-confine.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/vd-error.h"

/* Filled once by vd_confine_init() before any spawn; the child only
 * reads them (no allocation, no locks after fork). */
#define MAX_GROUPS 32
static gboolean active;
static uid_t q_uid;
static gid_t q_gid;
static gid_t q_groups[MAX_GROUPS];
static int q_ngroups;
static int cap_last = CAP_LAST_CAP;
static char q_name[64] = "root";

gboolean
vd_confine_active(void)
{
    return active;
}

uid_t
vd_confine_uid(void)
{
    return active ? q_uid : geteuid();
}

gid_t
vd_confine_gid(void)
{
    return active ? q_gid : getegid();
}

const char *
vd_confine_user(void)
{
    return q_name;
}

static gboolean
in_group(gid_t gid)
{
    if (!active)
        return gid == getegid();
    for (int i = 0; i < q_ngroups; i++)
        if (q_groups[i] == gid)
            return TRUE;
    return gid == q_gid;
}

gboolean
vd_confine_may(const struct stat *st, unsigned rwx)
{
    if (vd_confine_uid() == 0)
        return TRUE;
    /* The kernel's order: the owner's bits if QEMU's user owns it, else
     * the group's if it has the group, else the others'. */
    unsigned bits = st->st_uid == vd_confine_uid() ? (st->st_mode >> 6) & 7
                    : in_group(st->st_gid)         ? (st->st_mode >> 3) & 7
                                                   : st->st_mode & 7;
    return (bits & rwx) == rwx;
}

/* The kernel's highest capability number: the bounding set is dropped
 * one capability at a time, and a newer kernel may know more than the
 * headers this was built with. */
static int
read_cap_last(void)
{
    g_autofree char *text = NULL;
    if (g_file_get_contents("/proc/sys/kernel/cap_last_cap", &text, NULL, NULL)) {
        gint64 v = g_ascii_strtoll(text, NULL, 10);
        if (v > 0 && v < 64)
            return (int)v;
    }
    return CAP_LAST_CAP;
}

gboolean
vd_confine_ensure_user(const char *user, GError **error)
{
    /* Two daemons starting at once may both find the user missing: the
     * loser's useradd fails (the name exists, or the shadow files are
     * locked), and the next look-up finds the user the winner made. */
    for (int attempt = 0; attempt < 10; attempt++) {
        if (getpwnam(user))
            return TRUE;
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_ptr_array_add(argv, "useradd");
        g_ptr_array_add(argv, "--system");
        g_ptr_array_add(argv, "--user-group");
        g_ptr_array_add(argv, "--no-create-home");
        g_ptr_array_add(argv, "--home-dir");
        g_ptr_array_add(argv, "/nonexistent");
        g_ptr_array_add(argv, "--shell");
        g_ptr_array_add(argv, "/usr/sbin/nologin");
        g_ptr_array_add(argv, "--comment");
        g_ptr_array_add(argv, "virtd QEMU processes");
        g_ptr_array_add(argv, (char *)user);
        g_ptr_array_add(argv, NULL);
        g_autofree char *err = NULL;
        int status = 0;
        g_autoptr(GError) local = NULL;
        if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                          &err, &status, &local)) {
            g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "cannot create the user '%s' for QEMU: %s; create it (useradd --system "
                        "%s) or give --qemu-user root",
                        user, local->message, user);
            return FALSE;
        }
        if (g_spawn_check_wait_status(status, NULL) && getpwnam(user)) {
            g_message("created the system user '%s' for QEMU", user);
            return TRUE;
        }
        if (attempt == 9) {
            g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "cannot create the user '%s' for QEMU: %s; create it (useradd --system "
                        "%s) or give --qemu-user root",
                        user, err ? g_strstrip(err) : "useradd failed", user);
            return FALSE;
        }
        g_usleep(200 * 1000);
    }
    return FALSE;
}

gboolean
vd_confine_init(const char *user, GError **error)
{
    active = FALSE;
    cap_last = read_cap_last();
    if (user && strlen(user) >= sizeof(q_name)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "--qemu-user '%s' is too long", user);
        return FALSE;
    }
    if (g_strcmp0(user, "root") == 0)
        return TRUE;
    if (geteuid() != 0) {
        if (user) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "--qemu-user '%s' needs a daemon running as root (QEMU runs as the "
                        "daemon's own user otherwise)",
                        user);
            return FALSE;
        }
        struct passwd *self = getpwuid(geteuid());
        g_strlcpy(q_name, self ? self->pw_name : "?", sizeof(q_name));
        return TRUE;
    }
    /* No --qemu-user: the packaged user, made on demand (the package's
     * postinst makes it too). Post-copy migration into a QEMU that cannot
     * get a userfaultfd is refused up front (migration-userfault.h). */
    if (!user)
        user = VD_QEMU_USER_DEFAULT;
    if (g_strcmp0(user, VD_QEMU_USER_DEFAULT) == 0 && !vd_confine_ensure_user(user, error))
        return FALSE;
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--qemu-user: no user '%s' on this host; create it (useradd --system %s) "
                    "or give --qemu-user root",
                    user, user);
        return FALSE;
    }
    if (pw->pw_uid == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--qemu-user '%s' has uid 0; give --qemu-user root to run QEMU as root", user);
        return FALSE;
    }
    q_uid = pw->pw_uid;
    q_gid = pw->pw_gid;
    q_ngroups = MAX_GROUPS - 1;
    if (getgrouplist(user, q_gid, q_groups, &q_ngroups) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--qemu-user '%s' is in more than %d groups", user, MAX_GROUPS - 1);
        return FALSE;
    }
    /* /dev/kvm is root:kvm 0660 on Debian: a KVM guest's QEMU needs the
     * group, as libvirt's qemu user is in it. */
    struct group *kvm = getgrnam("kvm");
    if (kvm) {
        gboolean have = FALSE;
        for (int i = 0; i < q_ngroups; i++)
            have |= q_groups[i] == kvm->gr_gid;
        if (!have)
            q_groups[q_ngroups++] = kvm->gr_gid;
    }
    g_strlcpy(q_name, user, sizeof(q_name));
    active = TRUE;
    return TRUE;
}

/* Between fork and exec: raw system calls only. glibc's setuid() and
 * friends signal every thread of the process to change them all; the
 * child has one thread, and the raw calls make no such promise to need. */
int
vd_confine_child(void)
{
    if (active) {
        /* The bounding set first: dropping from it needs CAP_SETPCAP,
         * which the change of uid takes away. */
        for (int c = 0; c <= cap_last; c++)
            if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
                return errno;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
            return errno;
        if (syscall(SYS_setgroups, (size_t)q_ngroups, q_groups) < 0)
            return errno;
        if (syscall(SYS_setresgid, q_gid, q_gid, q_gid) < 0)
            return errno;
        if (syscall(SYS_setresuid, q_uid, q_uid, q_uid) < 0)
            return errno;
        /* setresuid() from 0 already empties the permitted and effective
         * sets (no SECBIT_KEEP_CAPS); say so explicitly, with the
         * inheritable set. */
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
        memset(data, 0, sizeof(data));
        if (syscall(SYS_capset, &hdr, data) < 0)
            return errno;
    }
    /* Nothing QEMU executes (it may not: spawn=deny) gains privileges. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return errno;
    return 0;
}
