/* daemon/migration/migration-wire.c: the offer and the answer as JSON
 * (golden files tests/data/migration/offer.json, answer.json;
 * VD_REGENERATE=1 rewrites them), read back to the same values, and the
 * malformed ones refused by name. Also this host's CPU from a cpuinfo. */
#include <glib/gstdio.h>
#include <string.h>

#include "daemon/migration/migration-flow.h"
#include "golden.h"
#include "util/vd-error.h"

static char *
pretty(JsonNode *node)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_pretty(gen, TRUE);
    json_generator_set_root(gen, node);
    char *text = json_generator_to_data(gen, NULL);
    char *out = g_strconcat(text, "\n", NULL);
    g_free(text);
    return out;
}

static JsonNode *
parse(const char *text)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
    return json_node_copy(json_parser_get_root(p));
}

static VdMigrationOffer *
sample_offer(void)
{
    VdMigrationOffer *o = g_new0(VdMigrationOffer, 1);
    o->id = g_strdup("6b1c3a52-0f5e-4d7a-9d1e-2f4b8c9a7e10");
    o->source_instance = g_strdup("1f0e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
    o->source_host = g_strdup("host1");
    o->xml = g_strdup("<domain type='qemu'><name>web1</name></domain>");
    o->listen_host = g_strdup("10.0.0.3");
    o->params.live = TRUE;
    o->params.persistent = TRUE;
    o->params.postcopy = TRUE;
    o->params.copy_storage = VD_MIGRATE_COPY_INC;
    o->params.bandwidth_mib = 100;
    o->params.timeout_s = 30;
    o->params.timeout_action = VD_MIGRATE_TIMEOUT_POSTCOPY;
    o->params.dname = g_strdup("web1-b");
    o->params.migrate_uri = g_strdup("tcp://10.0.0.3:49152");
    o->cpu = g_new0(VdHostCpu, 1);
    o->cpu->vendor = g_strdup("GenuineIntel");
    o->cpu->model_name = g_strdup("Test CPU");
    o->cpu->family = 6;
    o->cpu->model = 85;
    o->cpu->stepping = 7;
    o->cpu->flags = g_strsplit("avx sse sse2", " ", -1);
    o->disks = g_ptr_array_new_with_free_func((GDestroyNotify)vd_migration_disk_free);
    VdMigrationDisk *disk = g_new0(VdMigrationDisk, 1);
    disk->target = g_strdup("vda");
    disk->path = g_strdup("/var/lib/virtd/images/web1.qcow2");
    disk->format = g_strdup("qcow2");
    disk->copy = TRUE;
    disk->capacity = 1073741824;
    disk->allocation = 196608;
    disk->backing = g_strdup("/var/lib/virtd/images/base.qcow2");
    disk->dev = 2049;
    disk->ino = 131;
    disk->cache = g_strdup("none");
    g_ptr_array_add(o->disks, disk);
    return o;
}

static void
test_offer(void)
{
    g_autoptr(VdMigrationOffer) offer = sample_offer();
    g_autoptr(JsonNode) node = vd_migration_offer_to_json(offer);
    g_autofree char *text = pretty(node);
    test_golden_check(SRCDIR "/tests/data/migration/offer.json", text);

    g_autoptr(GError) error = NULL;
    g_autoptr(VdMigrationOffer) back = vd_migration_offer_from_json(node, &error);
    g_assert_no_error(error);
    g_autoptr(JsonNode) again = vd_migration_offer_to_json(back);
    g_autofree char *text2 = pretty(again);
    g_assert_cmpstr(text, ==, text2);
    g_assert_cmpint(back->params.copy_storage, ==, VD_MIGRATE_COPY_INC);
    g_assert_cmpint(back->params.timeout_action, ==, VD_MIGRATE_TIMEOUT_POSTCOPY);
    g_assert_cmpstr(back->cpu->flags[2], ==, "sse2");
}

static void
test_offer_refused(void)
{
    static const struct {
        const char *json;
        const char *message;
    } bad[] = {
        {"[]", "must be a JSON object"},
        {"{\"id\": \"6b1c3a52-0f5e-4d7a-9d1e-2f4b8c9a7e10\"}", "needs \"id\""},
        {"{\"id\": \"x\", \"source_instance\": \"y\", \"xml\": \"<domain/>\"}", "is not a UUID"},
        {"{\"id\": 5}", "\"id\" must be a string"},
        {"{\"params\": {\"live\": \"yes\"}}", "\"live\" must be true or false"},
        {"{\"params\": {\"copy_storage\": \"some\"}}", "one of none, all, inc"},
        {"{\"params\": {\"bandwidth_mib\": -1}}", "must be a positive integer"},
        {"{\"disks\": [{\"path\": \"/x\"}]}", "disks[].target"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(JsonNode) node = parse(bad[i].json);
        g_autoptr(GError) error = NULL;
        g_autoptr(VdMigrationOffer) offer = vd_migration_offer_from_json(node, &error);
        g_assert_null(offer);
        g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
        if (!strstr(error->message, bad[i].message))
            g_error("%s: %s lacks %s", bad[i].json, error->message, bad[i].message);
    }
}

static void
test_answer(void)
{
    g_autoptr(VdMigrationAnswer) a = g_new0(VdMigrationAnswer, 1);
    a->id = g_strdup("6b1c3a52-0f5e-4d7a-9d1e-2f4b8c9a7e10");
    a->dest_instance = g_strdup("2e1f0e2d-3c4b-5a69-7887-96a5b4c3d2e1");
    a->migrate_uri = g_strdup("tcp:10.0.0.3:41237");
    a->nbd_host = g_strdup("10.0.0.3");
    a->nbd_port = 10809;
    a->nbd_disks = vd_migration_nbd_disks_new();
    VdMigrationNbdDisk *d = g_new0(VdMigrationNbdDisk, 1);
    d->target = g_strdup("vda");
    d->export_name = g_strdup("drive-vda");
    g_ptr_array_add(a->nbd_disks, d);
    a->warnings = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(a->warnings, g_strdup("a note"));
    g_autoptr(JsonNode) node = vd_migration_answer_to_json(a);
    g_autofree char *text = pretty(node);
    test_golden_check(SRCDIR "/tests/data/migration/answer.json", text);
    g_autoptr(GError) error = NULL;
    g_autoptr(VdMigrationAnswer) back = vd_migration_answer_from_json(node, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(back->nbd_port, ==, 10809);
    g_assert_cmpstr(((VdMigrationNbdDisk *)g_ptr_array_index(back->nbd_disks, 0))->export_name,
                    ==, "drive-vda");
    g_autoptr(JsonNode) bad = parse("{\"nbd_port\": 70000}");
    g_autoptr(VdMigrationAnswer) refused = vd_migration_answer_from_json(bad, &error);
    g_assert_null(refused);
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
}

static void
test_params(void)
{
    g_autoptr(JsonNode) node = parse(
        "{\"dest_uri\": \"ssh://h/system\", \"xml\": \"<domain/>\", \"offline\": true, "
        "\"persistent\": true, \"timeout_action\": \"suspend\", \"timeout_s\": 5}");
    VdMigrateParams p = {0};
    g_autoptr(GError) error = NULL;
    g_assert_true(vd_migrate_params_from_json(json_node_get_object(node), &p, &error));
    g_assert_cmpstr(p.dest_uri, ==, "ssh://h/system");
    g_assert_cmpstr(p.xml, ==, "<domain/>");
    g_assert_true(p.offline && p.persistent);
    g_assert_cmpint(p.timeout_action, ==, VD_MIGRATE_TIMEOUT_SUSPEND);
    g_assert_cmpuint(p.timeout_s, ==, 5);
    vd_migrate_params_clear(&p);
}

static void
test_cpu(void)
{
    g_autofree char *dir = g_dir_make_tmp("vdmig-cpu-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "cpuinfo", NULL);
    g_assert_true(g_file_set_contents(
        path,
        "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\n"
        "model name\t: AMD EPYC Test\nstepping\t: 1\nflags\t\t: sse2  avx fpu\n\n"
        "processor\t: 1\nvendor_id\t: Other\n",
        -1, NULL));
    g_setenv("VIRTD_TEST_CPUINFO", path, TRUE);
    g_autoptr(GError) error = NULL;
    VdHostCpu *cpu = vd_host_cpu_read(&error);
    g_assert_no_error(error);
    g_assert_cmpstr(cpu->vendor, ==, "AuthenticAMD");
    g_assert_cmpstr(cpu->model_name, ==, "AMD EPYC Test");
    g_assert_cmpuint(cpu->family, ==, 25);
    g_autofree char *flags = g_strjoinv(",", cpu->flags);
    g_assert_cmpstr(flags, ==, "avx,fpu,sse2");
    vd_host_cpu_free(cpu);
    g_unsetenv("VIRTD_TEST_CPUINFO");
    g_unlink(path);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/migration/wire/offer", test_offer);
    g_test_add_func("/migration/wire/offer-refused", test_offer_refused);
    g_test_add_func("/migration/wire/answer", test_answer);
    g_test_add_func("/migration/wire/params", test_params);
    g_test_add_func("/migration/wire/cpu", test_cpu);
    return g_test_run();
}
