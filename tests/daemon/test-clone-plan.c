/* daemon/clone/clone-plan.c: virt-clone's rules without I/O. The taken
 * names, UUIDs, MACs and files are a table here; new UUIDs and MACs come
 * from a seeded GRand, so the clone's XML is a golden file
 * (tests/data/clone/NAME.out.xml, VD_REGENERATE=1 rewrites). */
#include <string.h>

#include "daemon/clone/clone-plan.h"
#include "golden.h"
#include "util/vd-error.h"

static const char *data_dir;

static const char *taken_table[] = {
    "name:web1", "name:web1-clone", "uuid:11111111-2222-4333-8444-555555555555",
    "mac:52:54:00:aa:bb:01", "mac:52:54:00:aa:bb:02", "path:/images/web1.qcow2",
    "path:/images/web1-clone.qcow2", "path:/data/web1-data.img", "path:/data/exists.img",
    "path:/var/lib/virtd/nvram/web1_VARS.fd", NULL,
};

static gboolean
taken(VdCloneTaken what, const char *value, gpointer data)
{
    static const char *kinds[] = {"name", "uuid", "mac", "path"};
    g_autofree char *key = g_strdup_printf("%s:%s", kinds[what], value);
    GPtrArray *asked = data;

    if (asked)
        g_ptr_array_add(asked, g_strdup(key));
    return g_strv_contains(taken_table, key);
}

static VdDomainDef *
load_orig(void)
{
    g_autofree char *xml = test_golden_read(data_dir, "web1", ".xml");
    g_autoptr(GError) error = NULL;
    VdDomainDef *def = vd_domain_def_new_from_xml(xml, -1, &error);
    g_assert_no_error(error);
    return def;
}

static const char *const paths[] = {"/images/web1.qcow2", "/data/web1-data.img",
                                    "/data/shared.img", "/iso/debian.iso", NULL};
static const char *const formats[] = {"qcow2", "raw", "raw", "raw", NULL};

static VdClonePlan *
plan(VdCloneOptions *o, gboolean active, gboolean paused, GError **error)
{
    g_autoptr(VdDomainDef) orig = load_orig();
    g_autoptr(GRand) rand = g_rand_new_with_seed(12);
    return vd_clone_plan_make(orig, paths, formats, active, paused, o, taken, NULL, rand, error);
}

/* The clone's XML and what becomes of each disk, one text. */
static char *
plan_text(const VdClonePlan *p)
{
    static const char *actions[] = {"keep", "copy", "link", "preserve"};
    g_autofree char *xml = vd_domain_def_format(p->def, VD_DOMAIN_FORMAT_INACTIVE);
    GString *s = g_string_new(xml);

    g_string_append(s, "<!-- plan:\n");
    for (guint i = 0; i < p->disks->len; i++) {
        VdCloneDisk *cd = g_ptr_array_index(p->disks, i);
        g_string_append_printf(s, "  %s %s %s -> %s (%s)\n", cd->target, actions[cd->action],
                               cd->src_path ? cd->src_path : "-",
                               cd->new_path ? cd->new_path : "-",
                               cd->src_format ? cd->src_format : "-");
    }
    if (p->nvram_src)
        g_string_append_printf(s, "  nvram %s -> %s\n", p->nvram_src, p->nvram_dst);
    g_string_append(s, "-->\n");
    return g_string_free(s, FALSE);
}

static void
check_golden(const char *name, const VdClonePlan *p)
{
    g_autofree char *path = test_golden_path(data_dir, name, ".out.xml");
    g_autofree char *text = plan_text(p);
    test_golden_check(path, text);
}

static VdCloneOptions *
opts_new(void)
{
    return g_new0(VdCloneOptions, 1);
}

/* --auto-clone: web1-clone is taken, so web1-clone-1; the disks beside
 * the originals under the new name, the shared and cdrom disks kept,
 * new MACs, VNC autoport, the nvram copied. */
static void
test_auto_clone(void)
{
    g_autoptr(VdCloneOptions) o = opts_new();
    g_autoptr(GError) error = NULL;

    o->auto_clone = TRUE;
    g_autoptr(VdClonePlan) p = plan(o, FALSE, FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(p->def->name, ==, "web1-clone-1");
    g_assert_cmpstr(p->def->uuid, !=, "11111111-2222-4333-8444-555555555555");
    VdCloneDisk *vda = g_ptr_array_index(p->disks, 0);
    g_assert_cmpint(vda->action, ==, VD_CLONE_DISK_COPY);
    g_assert_cmpstr(vda->new_path, ==, "/images/web1-clone-1.qcow2");
    VdCloneDisk *vdb = g_ptr_array_index(p->disks, 1);
    g_assert_cmpstr(vdb->new_path, ==, "/data/web1-clone-1.img");
    g_assert_cmpint(((VdCloneDisk *)g_ptr_array_index(p->disks, 2))->action, ==,
                    VD_CLONE_DISK_KEEP);
    g_assert_cmpint(((VdCloneDisk *)g_ptr_array_index(p->disks, 3))->action, ==,
                    VD_CLONE_DISK_KEEP);
    for (guint i = 0; i < p->def->interfaces->len; i++) {
        VdNetDef *net = g_ptr_array_index(p->def->interfaces, i);
        g_assert_true(g_str_has_prefix(net->mac, "52:54:00:"));
        g_assert_false(taken(VD_CLONE_TAKEN_MAC, net->mac, NULL));
    }
    VdGraphicsDef *g = g_ptr_array_index(p->def->graphics, 0);
    g_assert_true(g->autoport);
    g_assert_cmpstr(p->nvram_dst, ==, "/var/lib/virtd/nvram/web1-clone-1_VARS.fd");
    check_golden("web1-auto", p);
}

/* --name, --file for the first cloned disk, --mac for the first NIC and
 * RANDOM for the second, --skip-copy vdb, --uuid. */
static void
test_explicit(void)
{
    g_autoptr(VdCloneOptions) o = opts_new();
    g_autoptr(GError) error = NULL;
    const char *macs[] = {"52:54:00:12:34:56", "RANDOM", NULL};
    const char *files[] = {"/other/new.qcow2", NULL};
    const char *skip[] = {"vdb", NULL};

    o->name = g_strdup("web2");
    o->uuid = g_strdup("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
    o->macs = g_strdupv((char **)macs);
    o->files = g_strdupv((char **)files);
    o->skip_copy = g_strdupv((char **)skip);
    g_autoptr(VdClonePlan) p = plan(o, FALSE, FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(p->def->uuid, ==, "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
    g_assert_cmpstr(((VdNetDef *)g_ptr_array_index(p->def->interfaces, 0))->mac, ==,
                    "52:54:00:12:34:56");
    g_assert_cmpint(((VdCloneDisk *)g_ptr_array_index(p->disks, 1))->action, ==,
                    VD_CLONE_DISK_KEEP);
    check_golden("web1-explicit", p);
}

/* --linked: qcow2 overlays, refused on a raw disk (vdb) with the fix;
 * with vdb skipped it goes through. */
static void
test_linked(void)
{
    g_autoptr(VdCloneOptions) o = opts_new();
    g_autoptr(GError) error = NULL;

    o->name = g_strdup("web3");
    o->linked = TRUE;
    g_autoptr(VdClonePlan) bad = plan(o, FALSE, FALSE, &error);
    g_assert_null(bad);
    g_assert_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, "convert it to qcow2"));
    g_assert_nonnull(strstr(error->message, "without --linked"));
    g_clear_error(&error);
    const char *skip[] = {"vdb", NULL};
    o->skip_copy = g_strdupv((char **)skip);
    g_autoptr(VdClonePlan) p = plan(o, FALSE, FALSE, &error);
    g_assert_no_error(error);
    VdCloneDisk *vda = g_ptr_array_index(p->disks, 0);
    g_assert_cmpint(vda->action, ==, VD_CLONE_DISK_LINK);
    g_assert_cmpstr(vda->new_path, ==, "/images/web3.qcow2");
    check_golden("web1-linked", p);
}

/* Each refusal names the problem and the fix. */
static void
test_refusals(void)
{
    struct {
        const char *name;
        const char *uuid;
        const char *file;
        const char *skip;
        const char *mac;
        gboolean active, paused, preserve, linked;
        int code;
        const char *words;
    } cases[] = {
        {"web1", NULL, NULL, NULL, NULL, FALSE, FALSE, FALSE, FALSE, VD_ERROR_EXISTS,
         "already in use"},
        {"n", "11111111-2222-4333-8444-555555555555", NULL, NULL, NULL, FALSE, FALSE, FALSE,
         FALSE, VD_ERROR_EXISTS, "in use by another domain"},
        {"n", "nope", NULL, NULL, NULL, FALSE, FALSE, FALSE, FALSE, VD_ERROR_INVALID_ARG,
         "not a UUID"},
        {"n", NULL, "/data/exists.img", NULL, NULL, FALSE, FALSE, FALSE, FALSE,
         VD_ERROR_EXISTS, "--preserve-data"},
        {"n", NULL, "relative.img", NULL, NULL, FALSE, FALSE, FALSE, FALSE,
         VD_ERROR_INVALID_ARG, "absolute"},
        {"n", NULL, NULL, "vdz", NULL, FALSE, FALSE, FALSE, FALSE, VD_ERROR_INVALID_ARG,
         "no disk with target 'vdz' in domain 'web1'"},
        {"n", NULL, NULL, NULL, "52:54:00:aa:bb:01", FALSE, FALSE, FALSE, FALSE,
         VD_ERROR_EXISTS, "in use by another"},
        {"n", NULL, NULL, NULL, "01:00:5e:00:00:01", FALSE, FALSE, FALSE, FALSE,
         VD_ERROR_INVALID_ARG, "unicast"},
        {"n", NULL, NULL, NULL, NULL, TRUE, FALSE, FALSE, FALSE, VD_ERROR_INVALID_STATE,
         "Domain to clone must be shutoff. Shut 'web1' down"},
        {"n", NULL, NULL, NULL, NULL, TRUE, TRUE, FALSE, TRUE, VD_ERROR_INVALID_STATE,
         "linked clone needs 'web1' shut off"},
        {"n", NULL, "/data/missing.img", NULL, NULL, TRUE, FALSE, TRUE, FALSE,
         VD_ERROR_INVALID_ARG, "does not exist"},
        {"bad/name", NULL, NULL, NULL, NULL, FALSE, FALSE, FALSE, FALSE, VD_ERROR_INVALID_ARG,
         "domain name"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(VdCloneOptions) o = opts_new();
        g_autoptr(GError) error = NULL;
        o->name = g_strdup(cases[i].name);
        o->uuid = g_strdup(cases[i].uuid);
        if (cases[i].file)
            o->files = g_strsplit(cases[i].file, ",", -1);
        if (cases[i].skip)
            o->skip_copy = g_strsplit(cases[i].skip, ",", -1);
        if (cases[i].mac)
            o->macs = g_strsplit(cases[i].mac, ",", -1);
        o->preserve_data = cases[i].preserve;
        o->linked = cases[i].linked;
        g_autoptr(VdClonePlan) p = plan(o, cases[i].active, cases[i].paused, &error);
        g_test_message("case %u: %s", i, error ? error->message : "(no error)");
        g_assert_null(p);
        g_assert_error(error, VD_ERROR, cases[i].code);
        g_assert_nonnull(strstr(error->message, cases[i].words));
    }
    /* Too many --file: three given, two disks cloned. */
    g_autoptr(VdCloneOptions) o = opts_new();
    g_autoptr(GError) error = NULL;
    const char *files[] = {"/n/a.qcow2", "/n/b.img", "/n/c.img", NULL};
    o->name = g_strdup("n");
    o->files = g_strdupv((char **)files);
    g_autoptr(VdClonePlan) p = plan(o, FALSE, FALSE, &error);
    g_assert_null(p);
    g_assert_nonnull(strstr(error->message, "3 --file given but only 2 disk(s)"));
}

/* A paused original may be cloned; a running one with --preserve-data
 * too: nothing copied, the clone uses the original's disks. */
static void
test_paused_and_preserve(void)
{
    g_autoptr(VdCloneOptions) o = opts_new();
    g_autoptr(GError) error = NULL;

    o->name = g_strdup("n");
    g_autoptr(VdClonePlan) p = plan(o, TRUE, TRUE, &error);
    g_assert_no_error(error);
    o->preserve_data = TRUE;
    g_autoptr(VdClonePlan) q = plan(o, TRUE, FALSE, &error);
    g_assert_no_error(error);
    VdCloneDisk *vda = g_ptr_array_index(q->disks, 0);
    g_assert_cmpint(vda->action, ==, VD_CLONE_DISK_PRESERVE);
    g_assert_cmpstr(vda->new_path, ==, "/images/web1.qcow2");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    data_dir = g_getenv("VD_CLONE_DATA_DIR");
    if (!data_dir)
        data_dir = SRCDIR "/tests/data/clone";
    g_test_add_func("/clone-plan/auto-clone", test_auto_clone);
    g_test_add_func("/clone-plan/explicit", test_explicit);
    g_test_add_func("/clone-plan/linked", test_linked);
    g_test_add_func("/clone-plan/refusals", test_refusals);
    g_test_add_func("/clone-plan/paused-and-preserve", test_paused_and_preserve);
    return g_test_run();
}
