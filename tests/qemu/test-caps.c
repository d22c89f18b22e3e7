/* The capabilities probe against the installed qemu-system-x86_64, and
 * its cache: used when the binary is unchanged, ignored when it changed. */
#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/time.h>

#include "qemu-test-util.h"
#include "qemu/qemu-caps.h"
#include "util/vd-error.h"

static char *
only_cache_file(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    const char *name = g_dir_read_name(d);
    g_assert_nonnull(name);
    g_assert_true(g_str_has_prefix(name, "qemu-caps-") && g_str_has_suffix(name, ".json"));
    char *path = g_build_filename(dir, name, NULL);
    g_assert_null(g_dir_read_name(d));
    return path;
}

/* Rewrites the cached version to 9.9.9, leaving the binary's stamp: a
 * caps answer of 9.9.9 then proves the cache was read. */
static void
tamper_cache(const char *path)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) error = NULL;
    g_assert_true(json_parser_load_from_file(p, path, &error));
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    JsonArray *v = json_array_new();
    json_array_add_int_element(v, 9);
    json_array_add_int_element(v, 9);
    json_array_add_int_element(v, 9);
    json_object_set_array_member(o, "version", v);
    g_autofree char *text = json_to_string(json_parser_get_root(p), TRUE);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void
test_probe_and_cache(void)
{
    g_autofree char *binary = vd_qemu_default_binary();
    g_assert_nonnull(binary);
    g_autofree char *dir = tmkdtemp();
    g_autofree char *cache_dir = g_build_filename(dir, "cache", NULL);
    g_autoptr(GError) error = NULL;

    gint64 t0 = g_get_monotonic_time();
    g_autoptr(VdQemuCaps) caps = vd_qemu_caps_get(binary, cache_dir, &error);
    gint64 t1 = g_get_monotonic_time();
    g_assert_no_error(error);
    g_assert_true(g_path_is_absolute(caps->binary));
    g_assert_cmpuint(caps->version_major, >=, 7);
    g_autofree char *ver =
        g_strdup_printf("%u.%u.%u", caps->version_major, caps->version_minor, caps->version_micro);
    g_assert_cmpstr(caps->version, ==, ver);
    g_assert_true(vd_qemu_caps_has_machine(caps, "pc"));
    g_assert_true(vd_qemu_caps_has_machine(caps, "q35"));
    g_assert_true(vd_qemu_caps_has_machine(caps, "none"));
    g_assert_false(vd_qemu_caps_has_machine(caps, "virt"));
    g_assert_cmpstr(caps->default_machine, ==, "pc");
    g_assert_true(vd_qemu_caps_has_device(caps, "virtio-blk-pci"));
    g_assert_true(vd_qemu_caps_has_device(caps, "isa-serial"));
    g_assert_true(vd_qemu_caps_has_device(caps, "ich9-ahci"));
    g_assert_false(vd_qemu_caps_has_device(caps, "no-such-device"));
    g_assert_true(caps->has_tcg_accel);
    g_assert_true(caps->has_kvm_accel); /* Debian builds it in */

    g_autofree char *cache = only_cache_file(cache_dir);

    /* Second call: from the cache, identical and faster. */
    gint64 t2 = g_get_monotonic_time();
    g_autoptr(VdQemuCaps) again = vd_qemu_caps_get(binary, cache_dir, &error);
    gint64 t3 = g_get_monotonic_time();
    g_assert_no_error(error);
    g_assert_cmpstr(again->version, ==, caps->version);
    g_assert_cmpuint(again->machines->len, ==, caps->machines->len);
    g_assert_cmpuint(g_hash_table_size(again->devices), ==, g_hash_table_size(caps->devices));
    g_assert_cmpstr(again->default_machine, ==, caps->default_machine);
    g_assert_cmpint(again->has_kvm_accel, ==, caps->has_kvm_accel);
    g_test_message("probe %.1f ms, cached %.1f ms", (t1 - t0) / 1e3, (t3 - t2) / 1e3);
    g_assert_cmpint(t3 - t2, <, t1 - t0);

    /* And provably from the cache. */
    tamper_cache(cache);
    g_autoptr(VdQemuCaps) tampered = vd_qemu_caps_get(binary, cache_dir, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(tampered->version, ==, "9.9.9");

    trmtree(dir);
}

/* A changed binary (new mtime) is probed again. A wrapper script stands
 * in for QEMU, since the real binary cannot be touched. */
static void
test_cache_invalidation(void)
{
    g_autofree char *binary = vd_qemu_default_binary();
    g_autofree char *dir = tmkdtemp();
    g_autofree char *wrapper = g_build_filename(dir, "qemu-wrapper", NULL);
    g_autofree char *script = g_strdup_printf("#!/bin/sh\nexec '%s' \"$@\"\n", binary);
    g_assert_true(g_file_set_contents(wrapper, script, -1, NULL));
    g_assert_cmpint(g_chmod(wrapper, 0755), ==, 0);
    g_autoptr(GError) error = NULL;

    g_autoptr(VdQemuCaps) caps = vd_qemu_caps_get(wrapper, dir, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(caps->binary, ==, wrapper);
    g_autofree char *cache = NULL;
    {
        g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, wrapper, -1);
        g_autofree char *name = g_strdup_printf("qemu-caps-%.16s.json", sum);
        cache = g_build_filename(dir, name, NULL);
    }
    g_assert_true(g_file_test(cache, G_FILE_TEST_EXISTS));
    tamper_cache(cache);
    g_autoptr(VdQemuCaps) tampered = vd_qemu_caps_get(wrapper, dir, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(tampered->version, ==, "9.9.9");

    /* "Upgrade" the binary. */
    struct timeval times[2] = {{1000000000, 0}, {1000000000, 0}};
    g_assert_cmpint(utimes(wrapper, times), ==, 0);
    g_autoptr(VdQemuCaps) fresh = vd_qemu_caps_get(wrapper, dir, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(fresh->version, ==, caps->version);

    /* A corrupt cache is just a miss. */
    g_assert_true(g_file_set_contents(cache, "{not json", -1, NULL));
    g_autoptr(VdQemuCaps) after_corrupt = vd_qemu_caps_get(wrapper, dir, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(after_corrupt->version, ==, caps->version);
    trmtree(dir);
}

static void
test_errors(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdQemuCaps) missing = vd_qemu_caps_get("/nonexistent/qemu", NULL, &error);
    g_assert_null(missing);
    g_assert_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    g_assert_nonnull(strstr(error->message, "/nonexistent/qemu"));
    g_clear_error(&error);

    g_autoptr(VdQemuCaps) notinpath = vd_qemu_caps_get("no-such-qemu-binary", NULL, &error);
    g_assert_null(notinpath);
    g_assert_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    g_clear_error(&error);

    /* Runs and exits 0, but is not QEMU. */
    g_autoptr(VdQemuCaps) notqemu = vd_qemu_caps_get("/bin/true", NULL, &error);
    g_assert_null(notqemu);
    g_assert_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    g_assert_nonnull(strstr(error->message, "does not look like QEMU"));
    g_clear_error(&error);

    /* Fails, with a message on stderr that the error carries. */
    g_autoptr(VdQemuCaps) fails = vd_qemu_caps_get("/bin/false", NULL, &error);
    g_assert_null(fails);
    g_assert_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    g_clear_error(&error);
}

/* A binary that never answers is killed at the deadline. */
static void
test_timeout(void)
{
    g_autofree char *dir = tmkdtemp();
    g_autofree char *hang = g_build_filename(dir, "hang", NULL);
    g_autofree char *pidfile = g_build_filename(dir, "pid", NULL);
    g_autofree char *script =
        g_strdup_printf("#!/bin/sh\necho $$ > '%s'\nexec sleep 60\n", pidfile);
    g_assert_true(g_file_set_contents(hang, script, -1, NULL));
    g_assert_cmpint(g_chmod(hang, 0755), ==, 0);

    g_autoptr(GError) error = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(VdQemuCaps) caps = vd_qemu_caps_get_with_timeout(hang, NULL, 300, &error);
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    g_assert_null(caps);
    g_assert_error(error, VD_ERROR, VD_ERROR_TIMEOUT);
    g_assert_cmpfloat(secs, <, 3.0);

    /* The process is gone, not left sleeping. */
    g_autofree char *pid_text = NULL;
    g_assert_true(g_file_get_contents(pidfile, &pid_text, NULL, NULL));
    int pid = atoi(pid_text);
    g_assert_cmpint(pid, >, 0);
    g_assert_cmpint(kill(pid, 0), ==, -1);
    g_assert_cmpint(errno, ==, ESRCH);
    trmtree(dir);
}

static void
test_default_binary(void)
{
    g_autofree char *saved = g_strdup(g_getenv("VIRTD_QEMU"));
    g_setenv("VIRTD_QEMU", "/opt/qemu/bin/qemu-system-x86_64", TRUE);
    g_autofree char *env = vd_qemu_default_binary();
    g_assert_cmpstr(env, ==, "/opt/qemu/bin/qemu-system-x86_64");
    g_unsetenv("VIRTD_QEMU");
    g_autofree char *found = vd_qemu_default_binary();
    g_assert_nonnull(found);
    g_assert_true(g_str_has_suffix(found, "/qemu-system-x86_64"));
    if (saved)
        g_setenv("VIRTD_QEMU", saved, TRUE);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu/caps/probe-and-cache", test_probe_and_cache);
    g_test_add_func("/qemu/caps/cache-invalidation", test_cache_invalidation);
    g_test_add_func("/qemu/caps/errors", test_errors);
    g_test_add_func("/qemu/caps/timeout", test_timeout);
    g_test_add_func("/qemu/caps/default-binary", test_default_binary);
    return g_test_run();
}
