/* The rules of the migration checks (daemon/migration/migration-check-rules.c):
 * each refusal, its error code, the words that name the thing and the fix,
 * and what passes. docs/migration-checks.md lists the same rules. */
#include <glib/gstdio.h>
#include <string.h>

#include "daemon/migration/migration-check-rules.h"
#include "util/vd-error.h"

#define assert_refused(ok, error, code, ...)                                                       \
    do {                                                                                           \
        g_assert_false(ok);                                                                        \
        g_assert_error(error, VD_ERROR, code);                                                     \
        const char *const words_[] = {__VA_ARGS__, NULL};                                          \
        for (guint w_ = 0; words_[w_]; w_++) {                                                     \
            if (!strstr((error)->message, words_[w_]))                                             \
                g_error("'%s' not in: %s", words_[w_], (error)->message);                          \
        }                                                                                          \
        g_clear_error(&(error));                                                                   \
    } while (0)

#define assert_passes(ok, error)                                                                   \
    do {                                                                                           \
        g_assert_no_error(error);                                                                  \
        g_assert_true(ok);                                                                         \
    } while (0)

/* ---- flags ---- */

static void
test_flags(void)
{
    g_autoptr(GError) error = NULL;
    VdMigrateParams p = {0};

    assert_passes(vd_mig_rule_flags(&p, &error), error);

    p = (VdMigrateParams){.offline = TRUE};
    assert_refused(vd_mig_rule_flags(&p, &error), error, VD_ERROR_INVALID_STATE,
                   "offline migration must be specified with the persistent flag set",
                   "add --persistent");
    p = (VdMigrateParams){.offline = TRUE, .persistent = TRUE};
    assert_passes(vd_mig_rule_flags(&p, &error), error);
    p.copy_storage = VD_MIGRATE_COPY_ALL; /* virtd streams whole disks offline */
    assert_passes(vd_mig_rule_flags(&p, &error), error);
    p.copy_storage = VD_MIGRATE_COPY_INC;
    assert_refused(vd_mig_rule_flags(&p, &error), error, VD_ERROR_INVALID_STATE,
                   "offline migration cannot copy storage incrementally", "--copy-storage-all");
    p = (VdMigrateParams){.offline = TRUE, .persistent = TRUE, .live = TRUE};
    assert_refused(vd_mig_rule_flags(&p, &error), error, VD_ERROR_INVALID_ARG,
                   "Options --live and --offline are mutually exclusive");
    p = (VdMigrateParams){.offline = TRUE, .persistent = TRUE, .postcopy = TRUE};
    assert_refused(vd_mig_rule_flags(&p, &error), error, VD_ERROR_INVALID_ARG,
                   "post-copy migration is not supported with non-live or paused migration",
                   "--offline");
    p = (VdMigrateParams){.postcopy = TRUE, .suspend = TRUE};
    assert_refused(vd_mig_rule_flags(&p, &error), error, VD_ERROR_INVALID_ARG, "post-copy",
                   "--suspend");
    p = (VdMigrateParams){.offline = TRUE, .persistent = TRUE, .timeout_s = 5};
    assert_refused(vd_mig_rule_flags(&p, &error), error, VD_ERROR_INVALID_ARG,
                   "Unexpected timeout for offline migration");

    p = (VdMigrateParams){.timeout_action = VD_MIGRATE_TIMEOUT_SUSPEND};
    assert_refused(vd_mig_rule_flags(&p, &error), error, VD_ERROR_INVALID_ARG,
                   "migrate: Unexpected --timeout-* option without --timeout");
    p.timeout_s = 10;
    assert_passes(vd_mig_rule_flags(&p, &error), error);
    p = (VdMigrateParams){.timeout_s = 10, .timeout_action = VD_MIGRATE_TIMEOUT_POSTCOPY};
    assert_refused(vd_mig_rule_flags(&p, &error), error, VD_ERROR_INVALID_ARG,
                   "Option --postcopy is required by option --timeout-postcopy");
    p.postcopy = TRUE;
    assert_passes(vd_mig_rule_flags(&p, &error), error);
    p = (VdMigrateParams){.postcopy_after_precopy = TRUE};
    assert_refused(vd_mig_rule_flags(&p, &error), error, VD_ERROR_INVALID_ARG,
                   "Option --postcopy is required by option --postcopy-after-precopy");
    p = (VdMigrateParams){.persistent_xml = (char *)"<domain/>"};
    assert_refused(vd_mig_rule_flags(&p, &error), error, VD_ERROR_INVALID_ARG,
                   "Option --persistent is required by option --persistent-xml");

    p = (VdMigrateParams){.dname = (char *)"a/b"};
    assert_refused(vd_mig_rule_flags(&p, &error), error, VD_ERROR_INVALID_ARG, "--dname");
    p.dname = (char *)" padded";
    assert_refused(vd_mig_rule_flags(&p, &error), error, VD_ERROR_INVALID_ARG, "--dname");
    p.dname = (char *)"new-name";
    assert_passes(vd_mig_rule_flags(&p, &error), error);
}

/* ---- state ---- */

static void
test_state(void)
{
    g_autoptr(GError) error = NULL;
    VdMigrateParams live = {0};
    VdMigrateParams offline = {.offline = TRUE, .persistent = TRUE};
    VdMigrateParams offline_copy = {
        .offline = TRUE, .persistent = TRUE, .copy_storage = VD_MIGRATE_COPY_ALL};

    assert_passes(vd_mig_rule_state("g", VD_STATE_RUNNING, TRUE, &live, &error), error);
    assert_passes(vd_mig_rule_state("g", VD_STATE_PAUSED, FALSE, &live, &error), error);
    assert_refused(vd_mig_rule_state("g", VD_STATE_SHUTOFF, TRUE, &live, &error), error,
                   VD_ERROR_INVALID_STATE,
                   "Requested operation is not valid: domain 'g' is not running",
                   "--offline --persistent");
    assert_passes(vd_mig_rule_state("g", VD_STATE_SHUTOFF, TRUE, &offline, &error), error);
    /* a running domain's definition may move offline (libvirt's) ... */
    assert_passes(vd_mig_rule_state("g", VD_STATE_RUNNING, TRUE, &offline, &error), error);
    /* ... but not its disks, which the guest writes */
    assert_refused(vd_mig_rule_state("g", VD_STATE_RUNNING, TRUE, &offline_copy, &error), error,
                   VD_ERROR_INVALID_STATE, "domain 'g' is running", "shut it down first");
    assert_passes(vd_mig_rule_state("g", VD_STATE_SHUTOFF, TRUE, &offline_copy, &error), error);
    assert_refused(vd_mig_rule_state("g", VD_STATE_RUNNING, FALSE, &offline, &error), error,
                   VD_ERROR_INVALID_STATE, "transient", "migrate it live");
}

/* ---- --xml ---- */

static const char *const base_xml =
    "<domain type='qemu'><name>g</name><uuid>4a3c6a0e-0c5f-4b1e-9a1d-2f1e3c4d5e6f</uuid>"
    "<memory unit='MiB'>256</memory><vcpu>1</vcpu>"
    "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
    "<devices>"
    "<disk type='file' device='disk'><driver name='qemu' type='raw' cache='%s'/>"
    "<source file='%s'/><target dev='vda' bus='virtio'/></disk>"
    "<interface type='network'><mac address='52:54:00:11:22:33'/><source network='%s'/>"
    "<model type='virtio'/></interface>"
    "%s"
    "</devices></domain>";

static VdDomainDef *
def_with(const char *cache, const char *path, const char *network, const char *extra)
{
    g_autofree char *xml = g_strdup_printf(base_xml, cache, path, network, extra);
    g_autoptr(GError) error = NULL;
    VdDomainDef *def = vd_domain_def_new_from_xml(xml, -1, &error);
    g_assert_no_error(error);
    return def;
}

static VdDomainDef *
def_replace(const char *from, const char *to)
{
    g_autofree char *xml = g_strdup_printf(base_xml, "none", "/img/g.raw", "default", "");
    g_auto(GStrv) parts = g_strsplit(xml, from, 2);
    g_assert_cmpuint(g_strv_length(parts), ==, 2);
    g_autofree char *edited = g_strjoin(to, parts[0], parts[1], NULL);
    g_autoptr(GError) error = NULL;
    VdDomainDef *def = vd_domain_def_new_from_xml(edited, -1, &error);
    g_assert_no_error(error);
    return def;
}

static void
test_xml_abi(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) cur = def_with("none", "/img/g.raw", "default", "");

    /* host-side details may change */
    g_autoptr(VdDomainDef) host_side = def_with("writeback", "/other/g.raw", "lan", "");
    assert_passes(vd_mig_rule_xml_abi(cur, host_side, NULL, &error), error);

    g_autoptr(VdDomainDef) uuid = def_replace("4a3c6a0e", "5a3c6a0e");
    assert_refused(vd_mig_rule_xml_abi(cur, uuid, NULL, &error), error, VD_ERROR_INVALID_ARG,
                   "Target domain uuid 5a3c6a0e-0c5f-4b1e-9a1d-2f1e3c4d5e6f does not match "
                   "source 4a3c6a0e");
    g_autoptr(VdDomainDef) name = def_replace("<name>g<", "<name>h<");
    assert_refused(vd_mig_rule_xml_abi(cur, name, NULL, &error), error, VD_ERROR_INVALID_ARG,
                   "--xml names the domain 'h'", "--dname h");
    assert_passes(vd_mig_rule_xml_abi(cur, name, "h", &error), error);
    g_autoptr(VdDomainDef) machine = def_replace("machine='pc'", "machine='q35'");
    assert_refused(vd_mig_rule_xml_abi(cur, machine, NULL, &error), error, VD_ERROR_UNSUPPORTED,
                   "Target domain machine type q35 does not match source pc",
                   "host-side details only");
    g_autoptr(VdDomainDef) vcpu = def_replace("<vcpu>1", "<vcpu>2");
    assert_refused(vd_mig_rule_xml_abi(cur, vcpu, NULL, &error), error, VD_ERROR_UNSUPPORTED,
                   "Target domain vCPUs max 2 does not match source 1");
    g_autoptr(VdDomainDef) mem = def_replace("256", "512");
    assert_refused(vd_mig_rule_xml_abi(cur, mem, NULL, &error), error, VD_ERROR_UNSUPPORTED,
                   "max memory 524288 KiB does not match source 262144 KiB");
    g_autoptr(VdDomainDef) target = def_replace("dev='vda'", "dev='vdb'");
    assert_refused(vd_mig_rule_xml_abi(cur, target, NULL, &error), error, VD_ERROR_UNSUPPORTED,
                   "Target disk device vdb does not match source vda");
    g_autoptr(VdDomainDef) mac = def_replace("11:22:33", "11:22:44");
    assert_refused(vd_mig_rule_xml_abi(cur, mac, NULL, &error), error, VD_ERROR_UNSUPPORTED,
                   "Target network card mac 52:54:00:11:22:44 does not match source "
                   "52:54:00:11:22:33");
    g_autoptr(VdDomainDef) model =
        def_replace("type='virtio'/></interface>", "type='e1000'/></interface>");
    assert_refused(vd_mig_rule_xml_abi(cur, model, NULL, &error), error, VD_ERROR_UNSUPPORTED,
                   "Target network card model e1000 does not match source virtio");
    g_autoptr(VdDomainDef) more = def_with("none", "/img/g.raw", "default",
                                           "<rng model='virtio'><backend model='random'>"
                                           "/dev/urandom</backend></rng>");
    assert_refused(vd_mig_rule_xml_abi(cur, more, NULL, &error), error, VD_ERROR_UNSUPPORTED,
                   "Target domain RNG device count 1 does not match source 0");
    g_autoptr(VdDomainDef) cpu =
        def_replace("<devices>", "<cpu mode='host-passthrough'/><devices>");
    assert_refused(vd_mig_rule_xml_abi(cur, cpu, NULL, &error), error, VD_ERROR_UNSUPPORTED,
                   "Target CPU mode host-passthrough does not match source custom");
}

/* ---- disks on the source ---- */

static void
test_disk_from_def(void)
{
    g_autoptr(VdDomainDef) def = def_with("writeback", "/img/g.qcow2", "default",
                                          "<disk type='file' device='cdrom'><source "
                                          "file='/iso/x.iso'/><target dev='hdc' bus='ide'/>"
                                          "<readonly/></disk>"
                                          "<disk type='block' device='disk'><source "
                                          "dev='/dev/sdz'/><target dev='vdb' bus='virtio'/>"
                                          "</disk>");
    const VdDiskDef *vda = g_ptr_array_index(def->disks, 0);
    const VdDiskDef *hdc = g_ptr_array_index(def->disks, 1);
    const VdDiskDef *vdb = g_ptr_array_index(def->disks, 2);

    VdMigrationDisk *m = vd_mig_disk_from_def(vda, NULL, VD_MIGRATE_COPY_ALL);
    g_assert_cmpstr(m->target, ==, "vda");
    g_assert_cmpstr(m->path, ==, "/img/g.qcow2");
    g_assert_cmpstr(m->format, ==, "raw");
    g_assert_cmpstr(m->cache, ==, "writeback");
    g_assert_true(m->copy);
    g_assert_false(m->readonly);
    vd_migration_disk_free(m);

    m = vd_mig_disk_from_def(vda, NULL, VD_MIGRATE_COPY_NONE);
    g_assert_false(m->copy);
    vd_migration_disk_free(m);

    m = vd_mig_disk_from_def(hdc, NULL, VD_MIGRATE_COPY_ALL);
    g_assert_true(m->readonly);
    g_assert_false(m->copy); /* never copied */
    vd_migration_disk_free(m);

    m = vd_mig_disk_from_def(vdb, NULL, VD_MIGRATE_COPY_ALL);
    g_assert_cmpstr(m->path, ==, "/dev/sdz");
    g_assert_false(m->copy); /* a host block device stays where it is */
    vd_migration_disk_free(m);

    /* a pool volume: copied, at the path its pool gives */
    g_autoptr(VdDomainDef) vol =
        def_replace("<disk type='file' device='disk'><driver name='qemu' type='raw' cache='none'/>"
                    "<source file='/img/g.raw'/>",
                    "<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/>"
                    "<source pool='default' volume='g.qcow2'/>");
    const VdDiskDef *vvda = g_ptr_array_index(vol->disks, 0);
    g_assert_cmpint(vvda->type, ==, VD_DISK_TYPE_VOLUME);
    m = vd_mig_disk_from_def(vvda, "/pool/g.qcow2", VD_MIGRATE_COPY_ALL);
    g_assert_cmpstr(m->path, ==, "/pool/g.qcow2");
    g_assert_cmpstr(m->format, ==, "qcow2");
    g_assert_true(m->copy);
    g_assert_null(m->cache);
    vd_migration_disk_free(m);
}

static void
test_disk_cache(void)
{
    g_autoptr(GError) error = NULL;
    VdMigrationDisk d = {.target = (char *)"vda", .path = (char *)"/img/g.raw"};

    const char *safe[] = {"none", "directsync"};
    for (guint i = 0; i < G_N_ELEMENTS(safe); i++) {
        d.cache = (char *)safe[i];
        assert_passes(vd_mig_rule_disk_cache("g", &d, FALSE, &error), error);
    }
    const char *bad[] = {"writeback", "writethrough", "unsafe"};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        d.cache = (char *)bad[i];
        g_autofree char *what = g_strdup_printf("cache '%s'", bad[i]);
        assert_refused(vd_mig_rule_disk_cache("g", &d, FALSE, &error), error, VD_ERROR_UNSUPPORTED,
                       "Unsafe migration: Migration may lead to data corruption if disks use "
                       "cache other than none or directsync",
                       what, "disk vda", "<driver cache='none'/>", "--copy-storage-all",
                       "--unsafe");
        assert_passes(vd_mig_rule_disk_cache("g", &d, TRUE, &error), error);
    }
    d.cache = NULL; /* QEMU's default is writeback */
    assert_refused(vd_mig_rule_disk_cache("g", &d, FALSE, &error), error, VD_ERROR_UNSUPPORTED,
                   "default (writeback)");
    d.copy = TRUE; /* copied: nothing shared */
    assert_passes(vd_mig_rule_disk_cache("g", &d, FALSE, &error), error);
    d.copy = FALSE;
    d.readonly = TRUE;
    assert_passes(vd_mig_rule_disk_cache("g", &d, FALSE, &error), error);
    d.readonly = FALSE;
    d.path = NULL; /* an empty drive */
    assert_passes(vd_mig_rule_disk_cache("g", &d, FALSE, &error), error);
}

/* ---- peer ---- */

static void
test_peer(void)
{
    g_autoptr(GError) error = NULL;
    const char *me = "0b7d9c52-8d1e-4c7e-a0a1-0f3a6d2b9e11";

    assert_passes(vd_mig_rule_peer(me, "1b7d9c52-8d1e-4c7e-a0a1-0f3a6d2b9e11", NULL, &error),
                  error);
    assert_refused(
        vd_mig_rule_peer(me, "0B7D9C52-8D1E-4C7E-A0A1-0F3A6D2B9E11", "unix:///run/x.sock", &error),
        error, VD_ERROR_INVALID_ARG, "Attempt to migrate guest to the same host", me,
        "a migration to the same daemon", "unix:///run/x.sock",
        "give the URI of the other host's daemon");
    assert_passes(vd_mig_rule_peer(me, NULL, NULL, &error), error);
}

/* ---- destination ---- */

static void
test_name_uuid(void)
{
    g_autoptr(GError) error = NULL;
    const char *u = "4a3c6a0e-0c5f-4b1e-9a1d-2f1e3c4d5e6f";
    const char *other = "9a3c6a0e-0c5f-4b1e-9a1d-2f1e3c4d5e6f";

    assert_passes(vd_mig_rule_name_uuid("g", u, NULL, NULL, FALSE, &error), error);
    assert_refused(vd_mig_rule_name_uuid("g", u, other, NULL, FALSE, &error), error,
                   VD_ERROR_EXISTS, "operation failed: domain 'g' already exists with uuid ", other,
                   "--dname");
    assert_refused(vd_mig_rule_name_uuid("g", u, NULL, "h", FALSE, &error), error, VD_ERROR_EXISTS,
                   "domain 'h' is already defined with uuid ", u, "undefine 'h' there first");
    /* the same domain, defined and shut off there: a migration back */
    assert_passes(vd_mig_rule_name_uuid("g", u, u, "g", FALSE, &error), error);
    assert_refused(vd_mig_rule_name_uuid("g", u, u, "g", TRUE, &error), error, VD_ERROR_EXISTS,
                   "domain 'g' is already active");
}

static VdQemuCaps *
caps_72(void)
{
    VdQemuCaps *caps = vd_qemu_caps_new();
    caps->version_major = 7;
    caps->version_minor = 2;
    const char *machines[] = {"pc", "q35", "pc-i440fx-7.2", "pc-q35-7.2"};
    for (guint i = 0; i < G_N_ELEMENTS(machines); i++)
        g_ptr_array_add(caps->machines, g_strdup(machines[i]));
    const char *devices[] = {"virtio-blk-pci", "virtio-net-pci", "isa-serial"};
    for (guint i = 0; i < G_N_ELEMENTS(devices); i++)
        g_hash_table_add(caps->devices, g_strdup(devices[i]));
    const char *cpus[] = {"qemu64", "max", "Skylake-Server", "Skylake-Client"};
    for (guint i = 0; i < G_N_ELEMENTS(cpus); i++)
        g_hash_table_add(caps->cpu_models, g_strdup(cpus[i]));
    return caps;
}

static void
test_machine(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdQemuCaps) caps = caps_72();
    g_autoptr(VdDomainDef) pc = def_with("none", "/i", "n", "");
    assert_passes(vd_mig_rule_machine(pc, caps, &error), error);
    g_autoptr(VdDomainDef) newer = def_replace("machine='pc'", "machine='pc-q35-9.0'");
    assert_refused(vd_mig_rule_machine(newer, caps, &error), error, VD_ERROR_UNSUPPORTED,
                   "machine type 'pc-q35-9.0' of domain 'g' is not supported by QEMU 7.2 on the "
                   "destination",
                   "a destination whose QEMU is 9.0 or newer");
    g_autoptr(VdDomainDef) odd = def_replace("machine='pc'", "machine='virt'");
    assert_refused(vd_mig_rule_machine(odd, caps, &error), error, VD_ERROR_UNSUPPORTED, "'virt'",
                   "a destination whose QEMU has it");
}

static void
test_devices(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdQemuCaps) caps = caps_72();
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    const char *args[] = {
        "qemu-system-x86_64",
        "-machine",
        "pc,accel=tcg",
        "-device",
        "{\"driver\":\"virtio-blk-pci\",\"id\":\"disk-vda\"}",
        "-device",
        "isa-serial,chardev=charserial0",
        "-device",
        "{\"driver\":\"virtio-net-pci\",\"id\":\"net0\"}",
    };
    for (guint i = 0; i < G_N_ELEMENTS(args); i++)
        g_ptr_array_add(argv, (gpointer)args[i]);
    assert_passes(vd_mig_rule_devices("g", argv, caps, &error), error);

    g_ptr_array_add(argv, (gpointer) "-device");
    g_ptr_array_add(argv, (gpointer) "{\"driver\":\"virtio-sound-pci\",\"id\":\"sound0\"}");
    g_ptr_array_add(argv, (gpointer) "-device");
    g_ptr_array_add(argv, (gpointer) "{\"driver\":\"virtio-sound-pci\",\"id\":\"sound1\"}");
    assert_refused(vd_mig_rule_devices("g", argv, caps, &error), error, VD_ERROR_UNSUPPORTED,
                   "domain 'g' uses QEMU device 'virtio-sound-pci', which QEMU 7.2 on the "
                   "destination does not have",
                   "a host whose QEMU has it");
    g_ptr_array_add(argv, (gpointer) "-device");
    g_ptr_array_add(argv, (gpointer) "ich9-intel-hda,id=sound2");
    assert_refused(vd_mig_rule_devices("g", argv, caps, &error), error, VD_ERROR_UNSUPPORTED,
                   "devices 'virtio-sound-pci', 'ich9-intel-hda'", "has them");

    /* a capability cache without a device list: trusted, as start does */
    g_autoptr(VdQemuCaps) old = vd_qemu_caps_new();
    assert_passes(vd_mig_rule_devices("g", argv, old, &error), error);
}

static void
test_cpu_model(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdQemuCaps) caps = caps_72();
    g_autoptr(VdDomainDef) known =
        def_replace("<devices>", "<cpu mode='custom'><model>Skylake-Server</model></cpu><devices>");
    assert_passes(vd_mig_rule_cpu_model(known, caps, &error), error);
    g_autoptr(VdDomainDef) unknown =
        def_replace("<devices>", "<cpu mode='custom'><model>GraniteRapids</model></cpu><devices>");
    assert_refused(vd_mig_rule_cpu_model(unknown, caps, &error), error, VD_ERROR_UNSUPPORTED,
                   "CPU model 'GraniteRapids' of domain 'g' is unknown to QEMU 7.2 on the "
                   "destination");
    g_autoptr(VdDomainDef) none = def_with("none", "/i", "n", "");
    assert_passes(vd_mig_rule_cpu_model(none, caps, &error), error);
}

static const char *const cpuinfo_epyc =
    "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\n"
    "model name\t: AMD EPYC\nstepping\t: 1\nmicrocode\t: 0x1000065\n"
    "flags\t\t: fpu vme sse2 avx2 avx512f lm\nbogomips\t: 5192.26\n\n"
    "processor\t: 1\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nflags\t\t: fpu\n";

static void
test_cpu_parse(void)
{
    g_autoptr(GError) error = NULL;
    VdHostCpu *cpu = vd_host_cpu_parse(cpuinfo_epyc, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(cpu->vendor, ==, "AuthenticAMD");
    g_assert_cmpstr(cpu->model_name, ==, "AMD EPYC");
    g_assert_cmpuint(cpu->family, ==, 25);
    g_assert_cmpuint(cpu->model, ==, 17);
    g_assert_cmpuint(cpu->stepping, ==, 1);
    /* the first processor's flags, sorted */
    const char *flags[] = {"avx2", "avx512f", "fpu", "lm", "sse2", "vme", NULL};
    g_assert_cmpstrv(cpu->flags, flags);
    g_autofree char *text = vd_host_cpu_describe(cpu);
    g_assert_cmpstr(text, ==, "AuthenticAMD AMD EPYC (family 25 model 17 stepping 1)");
    vd_host_cpu_free(cpu);

    g_assert_null(vd_host_cpu_parse("nothing: here\n", &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INTERNAL);
    g_clear_error(&error);

    /* $VIRTD_TEST_CPUINFO names the file vd_host_cpu_read reads */
    g_autofree char *dir = g_dir_make_tmp("vtmigchk-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "cpuinfo", NULL);
    g_assert_true(g_file_set_contents(path, cpuinfo_epyc, -1, NULL));
    g_setenv("VIRTD_TEST_CPUINFO", path, TRUE);
    cpu = vd_host_cpu_read(&error);
    g_assert_no_error(error);
    g_assert_cmpuint(cpu->family, ==, 25);
    vd_host_cpu_free(cpu);
    g_unlink(path);
    g_assert_null(vd_host_cpu_read(&error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INTERNAL);
    g_assert_nonnull(strstr(error->message, path));
    g_clear_error(&error);
    g_unsetenv("VIRTD_TEST_CPUINFO");
    g_rmdir(dir);
    /* the real one parses */
    cpu = vd_host_cpu_read(&error);
    g_assert_no_error(error);
    g_assert_nonnull(cpu->flags);
    vd_host_cpu_free(cpu);
}

static void
test_host_cpu(void)
{
    g_autoptr(GError) error = NULL;
    VdHostCpu *src = vd_host_cpu_parse(cpuinfo_epyc, &error);
    g_autoptr(VdDomainDef) pt = def_replace("<devices>", "<cpu mode='host-passthrough'/><devices>");
    g_autoptr(VdDomainDef) hm = def_replace("<devices>", "<cpu mode='host-model'/><devices>");
    g_autoptr(VdDomainDef) named =
        def_replace("<devices>", "<cpu mode='custom'><model>qemu64</model></cpu><devices>");

    VdHostCpu *same = vd_host_cpu_parse(cpuinfo_epyc, &error);
    assert_passes(vd_mig_rule_host_cpu(pt, src, same, FALSE, &error), error);
    /* more flags here is fine */
    VdHostCpu *more =
        vd_host_cpu_parse("vendor_id : AuthenticAMD\ncpu family : 25\nmodel : 17\nstepping : 1\n"
                          "model name : AMD EPYC\nflags : fpu vme sse2 avx2 avx512f lm sha_ni\n",
                          &error);
    assert_passes(vd_mig_rule_host_cpu(pt, src, more, FALSE, &error), error);

    VdHostCpu *other =
        vd_host_cpu_parse("vendor_id : AuthenticAMD\ncpu family : 25\nmodel : 1\nstepping : 1\n"
                          "model name : AMD EPYC 7B12\nflags : fpu vme sse2 avx2 lm\n",
                          &error);
    assert_refused(vd_mig_rule_host_cpu(pt, src, other, FALSE, &error), error, VD_ERROR_UNSUPPORTED,
                   "domain 'g' has <cpu mode='host-passthrough'>",
                   "AuthenticAMD AMD EPYC (family 25 model 17 stepping 1)",
                   "AuthenticAMD AMD EPYC 7B12 (family 25 model 1 stepping 1)",
                   "this host lacks CPU flags avx512f", "--unsafe");
    assert_refused(vd_mig_rule_host_cpu(hm, src, other, FALSE, &error), error, VD_ERROR_UNSUPPORTED,
                   "<cpu mode='host-model'>");
    assert_passes(vd_mig_rule_host_cpu(pt, src, other, TRUE, &error), error);
    /* a named model does not depend on the host CPU */
    assert_passes(vd_mig_rule_host_cpu(named, src, other, FALSE, &error), error);

    /* the same model with a flag less is refused too */
    VdHostCpu *fewer =
        vd_host_cpu_parse("vendor_id : AuthenticAMD\ncpu family : 25\nmodel : 17\nstepping : 1\n"
                          "model name : AMD EPYC\nflags : fpu vme sse2 avx2 lm\n",
                          &error);
    assert_refused(vd_mig_rule_host_cpu(pt, src, fewer, FALSE, &error), error, VD_ERROR_UNSUPPORTED,
                   "lacks CPU flags avx512f.");
    VdHostCpu *intel =
        vd_host_cpu_parse("vendor_id : GenuineIntel\ncpu family : 25\nmodel : 17\nstepping : 1\n"
                          "model name : AMD EPYC\nflags : fpu vme sse2 avx2 avx512f lm\n",
                          &error);
    assert_refused(vd_mig_rule_host_cpu(pt, src, intel, FALSE, &error), error, VD_ERROR_UNSUPPORTED,
                   "GenuineIntel");
    /* not recorded by the source: nothing to compare */
    assert_passes(vd_mig_rule_host_cpu(pt, NULL, other, FALSE, &error), error);

    vd_host_cpu_free(src);
    vd_host_cpu_free(same);
    vd_host_cpu_free(more);
    vd_host_cpu_free(other);
    vd_host_cpu_free(fewer);
    vd_host_cpu_free(intel);
}

static void
test_network_bridge(void)
{
    g_autoptr(GError) error = NULL;
    assert_passes(vd_mig_rule_network("g", 0, "lan", TRUE, TRUE, &error), error);
    assert_refused(vd_mig_rule_network("g", 1, "lan", FALSE, FALSE, &error), error,
                   VD_ERROR_NO_NETWORK,
                   "Network not found: no network with matching name 'lan' on the destination",
                   "interface 1", "net-define", "--xml");
    assert_refused(vd_mig_rule_network("g", 0, "lan", TRUE, FALSE, &error), error,
                   VD_ERROR_INVALID_STATE, "network 'lan' is not active on the destination",
                   "net-start lan");
    assert_passes(vd_mig_rule_bridge("g", 0, "br0", TRUE, TRUE, &error), error);
    assert_refused(vd_mig_rule_bridge("g", 0, "br0", FALSE, FALSE, &error), error,
                   VD_ERROR_OPERATION_FAILED, "bridge 'br0' does not exist on the destination",
                   "ip link add br0 type bridge");
    assert_refused(vd_mig_rule_bridge("g", 0, "eth0", TRUE, FALSE, &error), error,
                   VD_ERROR_OPERATION_FAILED, "'eth0' is not a bridge on the destination");
}

static void
test_disk_dest(void)
{
    g_autoptr(GError) error = NULL;
    VdMigrationDisk d = {
        .target = (char *)"vda", .path = (char *)"/img/g.qcow2", .dev = 2049, .ino = 77};
    VdMigDestFile missing = {.dir_exists = TRUE};
    VdMigDestFile same = {.exists = TRUE, .dev = 2049, .ino = 77, .dir_exists = TRUE};
    VdMigDestFile other = {.exists = TRUE, .dev = 2049, .ino = 78, .dir_exists = TRUE};

    /* shared storage */
    assert_passes(vd_mig_rule_disk_dest("g", &d, d.path, VD_MIGRATE_COPY_NONE, &same, &error),
                  error);
    assert_passes(vd_mig_rule_disk_dest("g", &d, d.path, VD_MIGRATE_COPY_NONE, &other, &error),
                  error); /* the same path on another mount of the storage */
    assert_refused(vd_mig_rule_disk_dest("g", &d, d.path, VD_MIGRATE_COPY_NONE, &missing, &error),
                   error, VD_ERROR_OPERATION_FAILED,
                   "disk vda of domain 'g': '/img/g.qcow2' does not exist on the destination: use "
                   "--copy-storage-all, or shared storage");
    d.readonly = TRUE;
    assert_refused(vd_mig_rule_disk_dest("g", &d, d.path, VD_MIGRATE_COPY_ALL, &missing, &error),
                   error, VD_ERROR_OPERATION_FAILED, "a read-only disk is never copied");
    d.readonly = FALSE;
    assert_passes(vd_mig_rule_disk_dest("g", &d, NULL, VD_MIGRATE_COPY_NONE, &missing, &error),
                  error);

    /* copied */
    d.copy = TRUE;
    assert_passes(vd_mig_rule_disk_dest("g", &d, d.path, VD_MIGRATE_COPY_ALL, &missing, &error),
                  error);
    assert_refused(vd_mig_rule_disk_dest("g", &d, d.path, VD_MIGRATE_COPY_ALL, &other, &error),
                   error, VD_ERROR_EXISTS,
                   "'/img/g.qcow2' already exists on the destination and a copy never writes "
                   "over a file",
                   "another path with --xml");
    assert_refused(vd_mig_rule_disk_dest("g", &d, d.path, VD_MIGRATE_COPY_ALL, &same, &error),
                   error, VD_ERROR_INVALID_ARG, "the very file the source uses",
                   "shared storage: no copy needed", "without --copy-storage-all");
    assert_refused(vd_mig_rule_disk_dest("g", &d, d.path, VD_MIGRATE_COPY_INC, &same, &error),
                   error, VD_ERROR_INVALID_ARG, "without --copy-storage-inc");
    VdMigDestFile nodir = {0};
    assert_refused(vd_mig_rule_disk_dest("g", &d, d.path, VD_MIGRATE_COPY_ALL, &nodir, &error),
                   error, VD_ERROR_OPERATION_FAILED,
                   "directory '/img' does not exist on the destination");
    d.backing = (char *)"/img/base.qcow2";
    assert_refused(vd_mig_rule_disk_dest("g", &d, d.path, VD_MIGRATE_COPY_INC, &missing, &error),
                   error, VD_ERROR_OPERATION_FAILED,
                   "backing file '/img/base.qcow2' does not exist on the destination",
                   "--copy-storage-all");
    missing.backing_exists = TRUE;
    assert_passes(vd_mig_rule_disk_dest("g", &d, d.path, VD_MIGRATE_COPY_INC, &missing, &error),
                  error);
}

static void
test_space(void)
{
    g_autoptr(GError) error = NULL;
    assert_passes(vd_mig_rule_space("/img", "vda", 1 << 20, 1 << 20, &error), error);
    assert_refused(
        vd_mig_rule_space("/img", "vda, vdb", (guint64)3 << 30, (guint64)1 << 30, &error), error,
        VD_ERROR_OPERATION_FAILED,
        "not enough free space in '/img' on the destination for the copied disks "
        "(vda, vdb): 3.00 GiB needed, 1.00 GiB free");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/migration-check/flags", test_flags);
    g_test_add_func("/migration-check/state", test_state);
    g_test_add_func("/migration-check/xml-abi", test_xml_abi);
    g_test_add_func("/migration-check/disk-from-def", test_disk_from_def);
    g_test_add_func("/migration-check/disk-cache", test_disk_cache);
    g_test_add_func("/migration-check/peer", test_peer);
    g_test_add_func("/migration-check/name-uuid", test_name_uuid);
    g_test_add_func("/migration-check/machine", test_machine);
    g_test_add_func("/migration-check/devices", test_devices);
    g_test_add_func("/migration-check/cpu-model", test_cpu_model);
    g_test_add_func("/migration-check/cpu-parse", test_cpu_parse);
    g_test_add_func("/migration-check/host-cpu", test_host_cpu);
    g_test_add_func("/migration-check/network-bridge", test_network_bridge);
    g_test_add_func("/migration-check/disk-dest", test_disk_dest);
    g_test_add_func("/migration-check/space", test_space);
    return g_test_run();
}
