/* Tests of vsh image build's pure parts (src/image/vd-image-opts.c): argument
 * checks, finding recipes, the recipe's progress protocol, and the
 * two-word spelling "image build" of the command. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "util/vd-error.h"
#include "vsh/vsh-args.h"
#include "vsh/vsh-image.h"

static void
test_hostname(void)
{
    const char *good[] = {"web1", "a", "web-1.example.org", "x23", NULL};
    const char *bad[] = {"", "-web", "web-", "we_b", "a..b", "web 1", "a.", NULL};
    g_autofree char *long_label = g_strnfill(64, 'a');

    for (guint i = 0; good[i]; i++) {
        g_autoptr(GError) error = NULL;

        g_assert_true(vd_image_check_hostname(good[i], &error));
        g_assert_no_error(error);
    }
    for (guint i = 0; bad[i]; i++) {
        g_autoptr(GError) error = NULL;

        g_assert_false(vd_image_check_hostname(bad[i], &error));
        g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
        g_assert_nonnull(strstr(error->message, "invalid host name"));
    }
    g_assert_false(vd_image_check_hostname(long_label, NULL));
}

static void
test_packages(void)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(vd_image_check_packages("vim,g++,libc6.1-dev,0ad", NULL));
    g_assert_false(vd_image_check_packages("vim, curl", &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_assert_nonnull(strstr(error->message, "' curl'"));
    g_clear_error(&error);
    g_assert_false(vd_image_check_packages("vim;rm -rf /", &error));
    g_assert_nonnull(strstr(error->message, "'vim;rm -rf /'"));
    g_clear_error(&error);
    g_assert_false(vd_image_check_packages("Vim", NULL));
    g_assert_false(vd_image_check_packages("a,,b", NULL));
    g_assert_false(vd_image_check_packages("", NULL));
}

static char *
write_temp(const char *contents)
{
    g_autoptr(GError) error = NULL;
    char *path = NULL;
    int fd = g_file_open_tmp("test-vsh-image-XXXXXX", &path, &error);

    g_assert_no_error(error);
    close(fd);
    g_assert_true(g_file_set_contents(path, contents, -1, NULL));
    return path;
}

static void
test_password(void)
{
    g_autofree char *file = write_temp("s3cret\nsecond line\n");
    g_autofree char *empty = write_temp("\n");
    g_autofree char *spec = g_strconcat("file:", file, NULL);
    g_autofree char *empty_spec = g_strconcat("file:", empty, NULL);
    g_autofree char *literal = vd_image_read_password("pw with blanks", NULL);
    g_autofree char *from_file = vd_image_read_password(spec, NULL);
    g_autoptr(GError) error = NULL;

    g_assert_cmpstr(literal, ==, "pw with blanks");
    g_assert_cmpstr(from_file, ==, "s3cret");
    g_assert_null(vd_image_read_password(empty_spec, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_clear_error(&error);
    g_assert_null(vd_image_read_password("file:/nonexistent/pw", &error));
    g_assert_nonnull(strstr(error->message, "/nonexistent/pw"));
    g_clear_error(&error);
    g_assert_null(vd_image_read_password("", NULL));
    g_unlink(file);
    g_unlink(empty);
}

static void
test_ssh_key(void)
{
    g_autofree char *pub = write_temp("ssh-ed25519 AAAAC3Nza me@host\n\n");
    g_autofree char *priv = write_temp("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blb\n");
    g_autofree char *junk = write_temp("hello\n");
    g_autoptr(GError) error = NULL;

    g_assert_true(vd_image_check_ssh_key(pub, NULL));
    g_assert_false(vd_image_check_ssh_key(priv, &error));
    g_assert_nonnull(strstr(error->message, "private key"));
    g_clear_error(&error);
    g_assert_false(vd_image_check_ssh_key(junk, &error));
    g_assert_nonnull(strstr(error->message, "line 1"));
    g_clear_error(&error);
    g_assert_false(vd_image_check_ssh_key("/nonexistent/key.pub", NULL));
    g_unlink(pub);
    g_unlink(priv);
    g_unlink(junk);
}

static void
test_find_recipe(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("test-vsh-image-XXXXXX", NULL);
    g_autofree char *a = g_build_filename(dir, "debian-12.sh", NULL);
    g_autofree char *b = g_build_filename(dir, "alpine-3.sh", NULL);
    g_autofree char *found = NULL;

    g_assert_true(g_file_set_contents(a, "", 0, NULL));
    g_assert_true(g_file_set_contents(b, "", 0, NULL));
    found = vd_image_find_recipe(dir, "debian-12", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(found, ==, a);

    g_assert_null(vd_image_find_recipe(dir, "debian-13", &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_assert_nonnull(strstr(error->message, "'debian-13'"));
    g_assert_nonnull(strstr(error->message, "alpine-3, debian-12"));
    g_clear_error(&error);
    /* No way out of the directory. */
    g_assert_null(vd_image_find_recipe(dir, "../debian-12", NULL));
    g_unlink(a);
    g_unlink(b);
    g_rmdir(dir);
}

static void
test_parse_lines(void)
{
    g_auto(VdImageLine) l = {0};

    vd_image_parse_line("@@step 3/7 Configuring the guest", &l);
    g_assert_cmpint(l.kind, ==, VD_IMAGE_LINE_STEP);
    g_assert_cmpuint(l.step, ==, 3);
    g_assert_cmpuint(l.steps, ==, 7);
    g_assert_cmpstr(l.text, ==, "Configuring the guest");

    vd_image_parse_line("@@info cmdline root=UUID=x ro console=ttyS0", &l);
    g_assert_cmpint(l.kind, ==, VD_IMAGE_LINE_INFO);
    g_assert_cmpstr(l.key, ==, "cmdline");
    g_assert_cmpstr(l.text, ==, "root=UUID=x ro console=ttyS0");

    vd_image_parse_line("@@warn no password", &l);
    g_assert_cmpint(l.kind, ==, VD_IMAGE_LINE_WARN);
    g_assert_cmpstr(l.text, ==, "no password");

    /* Malformed protocol lines are shown, not lost. */
    for (guint i = 0; i < 4; i++) {
        const char *raw[] = {"@@step 8/7 too far", "@@step x/7 y", "@@info lonely", "plain text"};

        vd_image_parse_line(raw[i], &l);
        g_assert_cmpint(l.kind, ==, VD_IMAGE_LINE_TEXT);
        g_assert_cmpstr(l.text, ==, raw[i]);
    }
}

static void
test_duration(void)
{
    g_autofree char *a = vd_image_format_duration(42 * G_USEC_PER_SEC);
    g_autofree char *b = vd_image_format_duration(127 * G_USEC_PER_SEC + 600000);

    g_assert_cmpstr(a, ==, "42s");
    g_assert_cmpstr(b, ==, "2m08s");
}

static void
test_two_words(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VshCmd) two = vsh_cmd_parse(
        (const char *const[]){"image", "build", "debian-12", "--size", "2G", NULL}, &error);
    g_autoptr(VshCmd) one =
        vsh_cmd_parse((const char *const[]){"image-build", "debian-12", NULL}, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(two->def->name, ==, "image-build");
    g_assert_cmpstr(vsh_cmd_get_string(two, "template"), ==, "debian-12");
    g_assert_cmpstr(vsh_cmd_get_string(two, "size"), ==, "2G");
    g_assert_cmpstr(one->def->name, ==, "image-build");
    g_assert_null(vsh_cmd_parse((const char *const[]){"image", "bake", NULL}, &error));
    g_assert_cmpstr(error->message, ==, "unknown command: 'image'");
}

/* ---- the recipe runner (src/image/vd-image-build.c) ---- */

/* A recipe as debian-12.sh is called: --output OUT ... ; "stop" as the
 * host name holds it in step 1 with OUT.part written. */
static const char FAKE_RECIPE[] =
    "set -eu\n"
    "while [ $# -gt 0 ]; do case $1 in --output) OUT=$2;; --hostname) H=$2;; esac; shift 2; done\n"
    "echo '@@step 1/2 Writing'\n"
    "echo partial > \"$OUT.part\"\n"
    "if [ \"$H\" = stop ]; then sleep 30 & wait; fi\n"
    "echo 'plain text'\n"
    "echo '@@info kernel_version 6.1-test'\n"
    "echo '@@warn look here'\n"
    "echo '@@step 2/2 Renaming'\n"
    "mv \"$OUT.part\" \"$OUT\"\n";

typedef struct {
    GMainLoop *loop;
    guint lines;
    gboolean stop_at_step_1;
} RunState;

static void
fake_line(VdImageBuild *b, const VdImageLine *line, gpointer data)
{
    RunState *st = data;

    st->lines++;
    if (st->stop_at_step_1 && line->kind == VD_IMAGE_LINE_STEP && line->step == 1)
        vd_image_build_stop(b, FALSE);
}

static void
fake_done(VdImageBuild *b, gpointer data)
{
    g_main_loop_quit(((RunState *)data)->loop);
}

static void
run_fake(const char *host, gboolean stop, gboolean expect_ok)
{
    g_autofree char *dir = g_dir_make_tmp("test-vd-image-build-XXXXXX", NULL);
    g_autofree char *recipe = g_build_filename(dir, "fake.sh", NULL);
    g_autofree char *work = g_build_filename(dir, "tmp", NULL);
    g_autofree char *out = g_build_filename(dir, "out.qcow2", NULL);
    g_autofree char *part = g_strconcat(out, ".part", NULL);
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) left = NULL;
    RunState st = {.loop = loop, .stop_at_step_1 = stop};
    VdImagePlan plan = {.recipe = recipe, .output = out, .size = 1 << 30, .format = "qcow2",
                        .hostname = host, .password = "secret"};
    VdImageBuild *b;
    guint step = 0, steps = 0;

    g_assert_true(g_file_set_contents(recipe, FAKE_RECIPE, -1, NULL));
    g_assert_cmpint(g_mkdir(work, 0700), ==, 0);
    g_setenv("TMPDIR", work, TRUE);
    b = vd_image_build_start(&plan, fake_line, fake_done, &st, &error);
    g_assert_no_error(error);
    g_assert_cmpint(vd_image_build_pgid(b), >, 1);
    g_main_loop_run(loop);

    g_assert_cmpint(vd_image_build_result(b, &error), ==, expect_ok);
    if (expect_ok) {
        g_assert_no_error(error);
        g_assert_true(g_file_test(out, G_FILE_TEST_EXISTS));
        g_assert_cmpstr(vd_image_build_info(b, "kernel_version"), ==, "6.1-test");
        g_assert_cmpuint(vd_image_build_warnings(b)->len, ==, 1);
        g_assert_cmpstr(vd_image_build_step(b, &step, &steps), ==, "2/2 Renaming");
        g_assert_cmpuint(st.lines, ==, 5);
        g_unlink(out);
    } else {
        /* Stopped: the whole group ended (the sleep too: no 30 s wait),
         * the partial image removed. */
        g_assert_nonnull(strstr(error->message, "stopped during step 1/2 Writing"));
        g_assert_true(vd_image_build_stopped(b));
        g_assert_cmpint(vd_image_build_elapsed(b), <, 20 * G_USEC_PER_SEC);
        /* Its members were SIGKILLed; init reaps them soon. */
        for (guint i = 0; i < 100 && kill(-vd_image_build_pgid(b), 0) == 0; i++)
            g_usleep(50000);
        g_assert_cmpint(kill(-vd_image_build_pgid(b), 0), ==, -1);
        g_assert_cmpuint(st.lines, ==, 1);
    }
    g_assert_false(g_file_test(part, G_FILE_TEST_EXISTS));
    /* The work directory (with the password file) is gone. */
    left = g_dir_open(work, 0, NULL);
    g_assert_null(g_dir_read_name(left));
    vd_image_build_free(b);
    g_unsetenv("TMPDIR");
    g_rmdir(work);
    g_unlink(recipe);
    g_rmdir(dir);
}

static void
test_build_runs(void)
{
    run_fake("host", FALSE, TRUE);
}

static void
test_build_stop(void)
{
    run_fake("stop", TRUE, FALSE);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vsh/image/hostname", test_hostname);
    g_test_add_func("/vsh/image/packages", test_packages);
    g_test_add_func("/vsh/image/password", test_password);
    g_test_add_func("/vsh/image/ssh-key", test_ssh_key);
    g_test_add_func("/vsh/image/find-recipe", test_find_recipe);
    g_test_add_func("/vsh/image/parse-lines", test_parse_lines);
    g_test_add_func("/vsh/image/duration", test_duration);
    g_test_add_func("/vsh/image/two-words", test_two_words);
    g_test_add_func("/vsh/image/build-runs", test_build_runs);
    g_test_add_func("/vsh/image/build-stop", test_build_stop);
    return g_test_run();
}
