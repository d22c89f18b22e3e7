/* util/vd-path.c: where client paths lead, the guard, opening without
 * blocking; util/vd-file.c: stale temporary files. On a real directory
 * tree with symlinks, FIFOs and sockets. */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/vd-error.h"
#include "util/vd-file.h"
#include "util/vd-path.h"

typedef struct {
    char *root;
} Tree;

static char *
at(Tree *t, const char *rel)
{
    return g_build_filename(t->root, rel, NULL);
}

static void
touch(Tree *t, const char *rel)
{
    g_autofree char *p = at(t, rel);
    g_assert_true(g_file_set_contents(p, "x", -1, NULL));
}

static void
link_to(Tree *t, const char *target, const char *rel)
{
    g_autofree char *p = at(t, rel);
    g_assert_cmpint(symlink(target, p), ==, 0);
}

/* root/{state/{etc,images},files}, with symlinks into and around. */
static void
tree_setup(Tree *t, gconstpointer data)
{
    char *tmp = g_dir_make_tmp("vd-path-XXXXXX", NULL);
    /* The tree's own path must be symlink-free for exact comparisons. */
    t->root = realpath(tmp, NULL);
    g_free(tmp);
    for (const char *const *d = (const char *const[]){"state", "state/etc", "state/images",
                                                      "files", "files/sub", NULL};
         *d; d++) {
        g_autofree char *p = at(t, *d);
        g_assert_cmpint(g_mkdir(p, 0700), ==, 0);
    }
    touch(t, "state/etc/victim.xml");
    touch(t, "files/disk.img");
    g_autofree char *etc = at(t, "state/etc");
    g_autofree char *victim = at(t, "state/etc/victim.xml");
    g_autofree char *newfile = at(t, "state/etc/new.xml");
    link_to(t, etc, "files/to-etc");              /* a directory symlink */
    link_to(t, victim, "files/to-victim");        /* a file symlink */
    link_to(t, newfile, "files/dangling");        /* to a file not made yet */
    link_to(t, "../state/etc", "files/relative"); /* relative target */
    link_to(t, "loop2", "files/loop1");
    link_to(t, "loop1", "files/loop2");
    link_to(t, etc, "state/images/evil");         /* inside the allowed place */
}

static void
tree_teardown(Tree *t, gconstpointer data)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", t->root);
    g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, NULL, NULL));
    free(t->root);
}

static VdPathGuard *
guard_for(Tree *t)
{
    VdPathGuard *g = vd_path_guard_new();
    g_autofree char *state = at(t, "state");
    g_autofree char *images = at(t, "state/images");
    vd_path_guard_protect(g, state, "the state");
    vd_path_guard_allow(g, images);
    return g;
}

static void
test_resolve(Tree *t, gconstpointer data)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"files/disk.img", "files/disk.img"},
        {"files//./sub/../disk.img", "files/disk.img"},
        {"files/to-etc/victim.xml", "state/etc/victim.xml"},
        {"files/to-victim", "state/etc/victim.xml"},
        {"files/dangling", "state/etc/new.xml"},
        {"files/relative/x", "state/etc/x"},
        {"files/new/deeper/file", "files/new/deeper/file"},
        {"files/disk.img/x", "files/disk.img/x"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *in = at(t, cases[i].in);
        g_autofree char *want = at(t, cases[i].out);
        g_autoptr(GError) error = NULL;
        g_autofree char *got = vd_path_resolve(in, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(got, ==, want);
    }
    g_autofree char *root = vd_path_resolve("/../..", NULL);
    g_assert_cmpstr(root, ==, "/");

    const char *bad[] = {"files/missing/../../state/etc/x", "files/loop1"};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *in = at(t, bad[i]);
        g_autoptr(GError) error = NULL;
        g_assert_null(vd_path_resolve(in, &error));
        g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    }
    g_autoptr(GError) error = NULL;
    g_assert_null(vd_path_resolve("relative/path", &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
}

static void
test_guard(Tree *t, gconstpointer data)
{
    g_autoptr(VdPathGuard) g = guard_for(t);
    const char *refused[] = {"state", "state/etc/victim.xml", "files/../state/etc/victim.xml",
                             "files/to-etc/victim.xml", "files/to-victim", "files/dangling",
                             "files/relative/new", "state/images/evil/victim.xml",
                             "state/images/../etc/x", "state/other.img"};
    const char *allowed[] = {"files/disk.img", "files/new.img", "state/images/a.qcow2",
                             "state/images", "files/sub/../disk.img"};

    for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
        g_autofree char *p = at(t, refused[i]);
        g_autoptr(GError) error = NULL;
        g_autofree char *r = vd_path_guard_check(g, "disk 'vda'", p, &error);
        if (r)
            g_error("'%s' was allowed (as '%s')", refused[i], r);
        g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
        g_assert_nonnull(strstr(error->message, "disk 'vda'"));
        g_assert_nonnull(strstr(error->message, p));
        g_assert_nonnull(strstr(error->message, "the state"));
    }
    for (guint i = 0; i < G_N_ELEMENTS(allowed); i++) {
        g_autofree char *p = at(t, allowed[i]);
        g_autoptr(GError) error = NULL;
        g_autofree char *r = vd_path_guard_check(g, "disk 'vda'", p, &error);
        g_assert_no_error(error);
        g_assert_nonnull(r);
    }
    g_autoptr(GError) error = NULL;
    g_assert_null(vd_path_guard_check(g, "disk 'vda'", "foo.img", &error));
    g_assert_nonnull(strstr(error->message, "relative"));

    /* On a descriptor: what it really is, whatever name opened it. */
    g_autofree char *via = at(t, "files/to-victim");
    int fd = open(via, O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    g_clear_error(&error);
    g_assert_false(vd_path_guard_check_fd(g, "<kernel>", via, fd, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    close(fd);
    g_autofree char *disk = at(t, "files/disk.img");
    fd = open(disk, O_RDONLY | O_CLOEXEC);
    g_assert_true(vd_path_guard_check_fd(g, "<kernel>", disk, fd, NULL));
    close(fd);
}

static void
test_open_checked(Tree *t, gconstpointer data)
{
    g_autofree char *fifo = at(t, "files/fifo");
    g_autofree char *sock = at(t, "files/sock");
    g_autofree char *disk = at(t, "files/disk.img");
    g_autofree char *dir = at(t, "files/sub");
    g_autofree char *link = at(t, "files/disk-link");
    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    g_strlcpy(addr.sun_path, sock, sizeof(addr.sun_path));
    g_assert_cmpint(bind(s, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(symlink(disk, link), ==, 0);

    static const struct {
        const char *path_name;
        VdPathOpenFlags flags;
        const char *says;
    } refused[] = {
        {"fifo", VD_PATH_REGULAR | VD_PATH_BLOCK, "FIFO"},
        {"sock", VD_PATH_REGULAR, "a socket"},
        {"dir", VD_PATH_REGULAR, "a directory"},
        {"null", VD_PATH_REGULAR | VD_PATH_BLOCK, "a character device"},
        {"link", VD_PATH_REGULAR | VD_PATH_NOFOLLOW, "symbolic link"},
        {"missing", VD_PATH_REGULAR, "does not exist"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
        const char *n = refused[i].path_name;
        g_autofree char *missing = at(t, "files/missing");
        const char *p = g_str_equal(n, "fifo")   ? fifo
                        : g_str_equal(n, "sock") ? sock
                        : g_str_equal(n, "dir")  ? dir
                        : g_str_equal(n, "null") ? "/dev/null"
                        : g_str_equal(n, "link") ? link
                                                 : missing;
        g_autoptr(GError) error = NULL;
        /* A FIFO would block a plain open() for reading forever. */
        g_assert_cmpint(vd_path_open_checked("disk 'vda'", p, refused[i].flags, NULL, &error),
                        ==, -1);
        g_assert_nonnull(error);
        g_assert_nonnull(strstr(error->message, refused[i].says));
        g_assert_nonnull(strstr(error->message, "disk 'vda'"));
    }
    struct stat st;
    int fd = vd_path_open_checked("disk", link, VD_PATH_REGULAR, &st, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_true(S_ISREG(st.st_mode));
    g_assert_cmpint(fcntl(fd, F_GETFL) & O_NONBLOCK, ==, 0);
    close(fd);
    close(s);
}

static void
test_stale_temps(Tree *t, gconstpointer data)
{
    g_autofree char *dir = at(t, "files/sub");
    const char *stale[] = {".a.xml.AbC123", ".x.y.z.xml.000000"};
    const char *kept[] = {"a.xml", ".a.xml", ".a.xml.ABC12", ".a.xml.ABC12!", "a.xml.ABC123"};
    for (guint i = 0; i < G_N_ELEMENTS(stale); i++) {
        g_autofree char *rel = g_build_filename("files/sub", stale[i], NULL);
        touch(t, rel);
    }
    for (guint i = 0; i < G_N_ELEMENTS(kept); i++) {
        g_autofree char *rel = g_build_filename("files/sub", kept[i], NULL);
        touch(t, rel);
    }
    g_assert_cmpuint(vd_file_remove_stale_temps(dir), ==, G_N_ELEMENTS(stale));
    for (guint i = 0; i < G_N_ELEMENTS(kept); i++) {
        g_autofree char *p = g_build_filename(dir, kept[i], NULL);
        g_assert_true(g_file_test(p, G_FILE_TEST_EXISTS));
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/path/resolve", Tree, NULL, tree_setup, test_resolve, tree_teardown);
    g_test_add("/path/guard", Tree, NULL, tree_setup, test_guard, tree_teardown);
    g_test_add("/path/open-checked", Tree, NULL, tree_setup, test_open_checked, tree_teardown);
    g_test_add("/path/stale-temps", Tree, NULL, tree_setup, test_stale_temps, tree_teardown);
    return g_test_run();
}
