/* The argv builder's output run by the real QEMU (TCG, -S: nothing boots):
 * QEMU must accept every option, create every device under the id we
 * gave it, and see hostile names and paths exactly as written. The
 * goldens (test-argv.c) fix the text; this proves the text is right. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "conf/domain-cpu-ext.h"
#include "conf/domain-media.h"
#include "conf/domain-tpm.h"
#include "qemu-test-util.h"
#include "qemu/qemu-command.h"
#include "qemu/qemu-run-fds.h"

typedef struct {
    char *dir;
    VdQemuRunPaths paths;
    char *qmp_path, *console_path, *log_path, *pid_path, *qemu_log;
    GSubprocess *qemu;
    VdQmp *qmp;
    GPtrArray *fd_requests; /* what run_build's argv names by descriptor */
    GArray *fds;            /* their descriptors, opened as the daemon does */
} Run;

static void
run_init(Run *r)
{
    memset(r, 0, sizeof(*r));
    r->dir = tmkdtemp();
    r->qmp_path = g_build_filename(r->dir, "qmp", NULL);
    r->console_path = g_build_filename(r->dir, "console", NULL);
    r->log_path = g_build_filename(r->dir, "console.log", NULL);
    r->pid_path = g_build_filename(r->dir, "pid", NULL);
    r->qemu_log = g_build_filename(r->dir, "qemu.log", NULL);
    r->paths.qmp_socket_path = r->qmp_path;
    r->paths.console_socket_path = r->console_path;
    r->paths.console_log_path = r->log_path;
    r->paths.pid_path = r->pid_path;
    r->paths.guest_agent_dir = r->dir;
    r->paths.start_paused = TRUE;
    r->paths.accel = "tcg";
    r->paths.fd_base = 3;
    r->fd_requests = g_ptr_array_new_with_free_func(vd_qemu_fd_request_free);
    r->paths.fd_requests = r->fd_requests;
    r->fds = g_array_new(FALSE, FALSE, sizeof(int));
}

static void
run_clear(Run *r)
{
    vd_qmp_free(r->qmp);
    tqemu_kill(r->qemu);
    trmtree(r->dir);
    g_free(r->dir);
    for (guint i = 0; i < r->fds->len; i++)
        close(g_array_index(r->fds, int, i));
    g_array_unref(r->fds);
    g_ptr_array_unref(r->fd_requests);
    g_free(r->qmp_path);
    g_free(r->console_path);
    g_free(r->log_path);
    g_free(r->pid_path);
    g_free(r->qemu_log);
}

static char *
qemu_log(Run *r)
{
    char *text = NULL;
    if (!g_file_get_contents(r->qemu_log, &text, NULL, NULL))
        text = g_strdup("(no log)");
    return text;
}

static GPtrArray *
run_build(Run *r, const VdDomainDef *def)
{
    g_autoptr(GError) error = NULL;
    g_ptr_array_set_size(r->fd_requests, 0);
    GPtrArray *argv = vd_qemu_build_argv(def, tcaps_real(), &r->paths, &error);
    g_assert_no_error(error);
    /* The sockets and files QEMU is given, opened as the daemon opens
     * them (qemu-run-fds.h). */
    for (guint i = 0; i < r->fds->len; i++)
        close(g_array_index(r->fds, int, i));
    g_array_set_size(r->fds, 0);
    g_assert_true(vd_qemu_fd_requests_open(r->fd_requests, r->fds, &error));
    g_assert_no_error(error);
    return argv;
}

/* Starts @def and connects to its monitor; fails the test with QEMU's own
 * words if it refuses the command line. */
static void
run_start(Run *r, const VdDomainDef *def)
{
    g_autoptr(GPtrArray) argv = run_build(r, def);
    g_autofree char *text = vd_qemu_argv_to_string(argv);
    g_test_message("argv:\n%s", text);
    g_autoptr(GError) error = NULL;
    r->qemu = tqemu_spawn_fds((const char *const *)argv->pdata, r->qemu_log, r->fds, 3, &error);
    g_assert_no_error(error);
    r->qmp = tqmp_connect_proc(r->qmp_path, r->qemu, &error);
    if (!r->qmp) {
        g_autofree char *log = qemu_log(r);
        g_error("QEMU did not come up: %s\n--- QEMU said:\n%s", error->message, log);
    }
}

static JsonNode *
call(Run *r, const char *command, JsonObject *args)
{
    g_autoptr(GError) error = NULL;
    JsonNode *result = tqmp_call(r->qmp, command, args, &error);
    g_assert_no_error(error);
    return result;
}

static void
make_file(const char *path, gsize size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
    close(fd);
}

static void
make_qcow2(const char *path)
{
    const char *argv[] = {"qemu-img", "create", "-q", "-f", "qcow2", path, "16M", NULL};
    g_autoptr(GError) error = NULL;
    int status = 0;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &status, &error));
    g_assert_no_error(error);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
}

/* The ids under /machine/peripheral: every -device with an id. */
static GHashTable *
peripheral_ids(Run *r)
{
    JsonObject *args = json_object_new(); /* passed on: the call takes it */
    json_object_set_string_member(args, "path", "/machine/peripheral");
    g_autoptr(JsonNode) list = call(r, "qom-list", args);
    GHashTable *ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    JsonArray *a = json_node_get_array(list);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);
        if (g_str_has_prefix(json_object_get_string_member(o, "type"), "child<"))
            g_hash_table_add(ids, g_strdup(json_object_get_string_member(o, "name")));
    }
    return ids;
}

static void
assert_ids(GHashTable *ids, const char *const *want)
{
    for (guint i = 0; want[i]; i++) {
        if (!g_hash_table_contains(ids, want[i]))
            g_test_fail_printf("QEMU has no device '%s'", want[i]);
    }
}

/* query-block's "inserted" for the device whose qdev path contains @id. */
static JsonObject *
find_inserted(JsonNode *blocks, const char *id)
{
    g_autofree char *needle = g_strdup_printf("/%s/", id);
    g_autofree char *tail = g_strdup_printf("/%s", id);
    JsonArray *a = json_node_get_array(blocks);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);
        const char *qdev = json_object_get_string_member_with_default(o, "qdev", "");
        /* "disk-hdc" for devices with an id, or the path of a virtio
         * device's backend ("/machine/peripheral/disk-vda/virtio-backend"). */
        if (g_str_equal(qdev, id) || strstr(qdev, needle) || g_str_has_suffix(qdev, tail))
            return json_object_has_member(o, "inserted")
                       ? json_object_get_object_member(o, "inserted")
                       : NULL;
    }
    return NULL;
}

/* QEMU's run state is @want ("prelaunch", "running", ...). */
static void
assert_status(Run *r, const char *want)
{
    g_autoptr(JsonNode) status = call(r, "query-status", NULL);
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(status), "status"), ==,
                    want);
}

/* "cont", and the guest runs. */
static void
run_cont(Run *r)
{
    g_autoptr(JsonNode) cont = call(r, "cont", NULL);
    assert_status(r, "running");
}

/* Sets the password of the VNC or SPICE display over QMP, as the daemon
 * does. */
static void
set_password(Run *r, const char *protocol, const char *password)
{
    JsonObject *pw = json_object_new(); /* passed on: the call takes it */
    json_object_set_string_member(pw, "protocol", protocol);
    json_object_set_string_member(pw, "password", password);
    g_autoptr(JsonNode) pwr = call(r, "set_password", pw);
}

static void
quit(Run *r)
{
    g_autoptr(JsonNode) q = call(r, "quit", NULL);
    g_assert_true(tqemu_wait_exit(r->qemu, 10000));
}

/* ---- tests ------------------------------------------------------------------------ */

/* A name and paths full of commas, quotes, spaces and a newline reach
 * QEMU unchanged and inject nothing. */
static void
test_injection(void)
{
    Run r;
    run_init(&r);
    g_autofree char *disk = g_build_filename(r.dir, "a,b\"c d\n.img", NULL);
    g_autofree char *serial_dir = g_build_filename(r.dir, "s,path=x", NULL);
    g_autofree char *serial = g_build_filename(serial_dir, "log,append=on", NULL);
    make_file(disk, 1 << 20);
    g_assert_cmpint(g_mkdir(serial_dir, 0755), ==, 0);

    g_autoptr(TDef) def = tdef_new("x,id=evil", "pc");
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vda", disk, VD_DISK_FORMAT_RAW);
    tdef_add_chr(def->serials, VD_CHR_FILE, serial);
    VdChrDef *agent = tdef_add_chr(def->channels, VD_CHR_UNIX, NULL);
    agent->target_name = g_strdup("org.qemu.guest_agent.0");
    run_start(&r, def);

    g_autoptr(JsonNode) name = call(&r, "query-name", NULL);
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(name), "name"), ==,
                    "x,id=evil");

    g_autoptr(JsonNode) blocks = call(&r, "query-block", NULL);
    JsonObject *inserted = find_inserted(blocks, "disk-vda");
    g_assert_nonnull(inserted);
    g_assert_cmpstr(json_object_get_string_member(inserted, "file"), ==, disk);
    g_assert_cmpstr(json_object_get_string_member(inserted, "node-name"), ==, "vda-format");
    g_assert_false(json_object_get_boolean_member(inserted, "ro"));

    /* The serial log is the whole path, not "…/s" with options after it. */
    g_assert_true(g_file_test(serial, G_FILE_TEST_IS_REGULAR));
    g_autofree char *truncated = g_build_filename(r.dir, "s", NULL);
    g_assert_false(g_file_test(truncated, G_FILE_TEST_EXISTS));

    /* The agent socket is where vd_qemu_channel_socket_path says. */
    g_autofree char *agent_path = vd_qemu_channel_socket_path(def, 0, &r.paths);
    g_autofree char *agent_expected = g_build_filename(r.dir, "x,id=evil.agent", NULL);
    g_assert_cmpstr(agent_path, ==, agent_expected);
    g_assert_true(g_file_test(agent_path, G_FILE_TEST_EXISTS));

    g_autoptr(GHashTable) ids = peripheral_ids(&r);
    g_assert_false(g_hash_table_contains(ids, "evil"));
    const char *want[] = {"disk-vda", "serial0", "channel0", "virtio-serial0", NULL};
    assert_ids(ids, want);
    g_assert_true(g_file_test(r.pid_path, G_FILE_TEST_IS_REGULAR));
    quit(&r);
    run_clear(&r);
}

/* -kernel takes its path verbatim: QEMU names the whole path, comma and
 * space included, when it cannot open it. */
static void
test_kernel_path(void)
{
    Run r;
    run_init(&r);
    g_autofree char *kernel = g_build_filename(r.dir, "vm,linuz initrd=x", NULL);
    g_autoptr(TDef) def = tdef_new("kernel", "pc");
    def->os.kernel = g_strdup(kernel);
    def->os.cmdline = g_strdup("console=ttyS0,115200 quiet");
    g_autoptr(GPtrArray) argv = run_build(&r, def);
    g_autoptr(GError) error = NULL;
    r.qemu = tqemu_spawn_fds((const char *const *)argv->pdata, r.qemu_log, r.fds, 3, &error);
    g_assert_no_error(error);
    g_assert_true(tqemu_wait_exit(r.qemu, 20000));
    g_assert_false(g_subprocess_get_successful(r.qemu));
    g_autofree char *log = qemu_log(&r);
    g_test_message("QEMU said: %s", log);
    g_autofree char *quoted = g_strdup_printf("'%s'", kernel);
    g_assert_nonnull(strstr(log, quoted));

    /* With a kernel file that exists, QEMU starts: 64 KiB of zeros pass
     * for an old zImage, which is all -S needs. */
    g_clear_object(&r.qemu);
    g_autofree char *pvh = g_build_filename(r.dir, "vm,linuz x", NULL);
    make_file(pvh, 64 * 1024);
    g_free(def->os.kernel);
    def->os.kernel = g_strdup(pvh);
    g_unlink(r.qemu_log);
    run_start(&r, def);
    assert_status(&r, "prelaunch");
    quit(&r);
    run_clear(&r);
}

/* Everything a pc guest can have, at once. */
static void
test_full_pc(void)
{
    Run r;
    run_init(&r);
    g_autofree char *qcow2 = g_build_filename(r.dir, "root.qcow2", NULL);
    char *raw[4];
    const char *names[] = {"ide.raw", "sata.raw", "scsi.raw", "usb.raw"};
    for (guint i = 0; i < 4; i++) {
        raw[i] = g_build_filename(r.dir, names[i], NULL);
        make_file(raw[i], 1 << 20);
    }
    g_autofree char *iso = g_build_filename(r.dir, "cd.iso", NULL);
    make_file(iso, 1 << 20);
    make_qcow2(qcow2);
    g_autofree char *serial_log = g_build_filename(r.dir, "ttyS1.log", NULL);
    g_autofree char *serial_sock = g_build_filename(r.dir, "ttyS2.sock", NULL);

    g_autoptr(TDef) def = tdef_new("full-pc", "pc");
    def->vcpus = 2;
    def->vcpus_current = 2;
    VdDiskDef *d = tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vda", qcow2,
                                 VD_DISK_FORMAT_QCOW2);
    d->cache = g_strdup("none");
    d->serial = g_strdup("ROOT-1");
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_IDE, "hda", raw[0], VD_DISK_FORMAT_RAW);
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_SATA, "sda", raw[1], VD_DISK_FORMAT_RAW)
        ->cache = g_strdup("writethrough");
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_SCSI, "sdb", raw[2], VD_DISK_FORMAT_NONE)
        ->cache = g_strdup("unsafe");
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_USB, "sdc", raw[3], VD_DISK_FORMAT_RAW);
    tdef_add_disk(def, VD_DISK_DEVICE_CDROM, VD_DISK_BUS_IDE, "hdc", iso, VD_DISK_FORMAT_RAW);
    tdef_add_disk(def, VD_DISK_DEVICE_CDROM, VD_DISK_BUS_IDE, "hdd", NULL, VD_DISK_FORMAT_RAW);
    def->os.boot[0] = VD_BOOT_CDROM;
    def->os.boot[1] = VD_BOOT_HD;
    def->os.boot[2] = VD_BOOT_NETWORK;
    def->os.nboot = 3;
    def->os.bootmenu = TRUE;
    tdef_add_chr(def->serials, VD_CHR_PTY, NULL);
    tdef_add_chr(def->serials, VD_CHR_FILE, serial_log)->log_append = TRUE;
    tdef_add_chr(def->serials, VD_CHR_UNIX, serial_sock)->unix_listen = TRUE;
    tdef_add_chr(def->serials, VD_CHR_PTY, NULL)->target_type = g_strdup("pci-serial");
    tdef_add_chr(def->consoles, VD_CHR_PTY, NULL)->target_type = g_strdup("serial");
    tdef_add_chr(def->consoles, VD_CHR_PTY, NULL)->target_type = g_strdup("virtio");
    VdChrDef *agent = tdef_add_chr(def->channels, VD_CHR_UNIX, NULL);
    agent->target_name = g_strdup("org.qemu.guest_agent.0");
    tdef_add_net(def, VD_NET_USER, "virtio", "52:54:00:12:34:56");
    tdef_add_net(def, VD_NET_USER, "e1000", "52:54:00:12:34:57");
    tdef_add_net(def, VD_NET_USER, NULL, "52:54:00:12:34:58");
    tdef_add_vnc(def, "127.0.0.1", -1, "secret");
    tdef_add_video(def, VD_VIDEO_VGA)->vram_kib = 16384;
    tdef_add_input(def, VD_INPUT_TABLET, VD_INPUT_BUS_USB);
    tdef_add_input(def, VD_INPUT_KEYBOARD, VD_INPUT_BUS_VIRTIO);
    tdef_add_input(def, VD_INPUT_MOUSE, VD_INPUT_BUS_PS2);
    def->memballoon = g_new0(VdMemballoonDef, 1);
    def->memballoon->model = g_strdup("virtio");
    VdRngDef *rng = g_new0(VdRngDef, 1);
    g_ptr_array_add(def->rngs, rng);
    VdPanicDef *panic = g_new0(VdPanicDef, 1);
    g_ptr_array_add(def->panics, panic);
    run_start(&r, def);

    g_autoptr(GHashTable) ids = peripheral_ids(&r);
    const char *want[] = {
        "disk-vda", "disk-hda", "disk-sda", "disk-sdb", "disk-sdc",       "disk-hdc", "disk-hdd",
        "sata0",    "scsi0",    "usb",      "net0",     "net1",           "net2",     "serial0",
        "serial1",  "serial2",  "serial3",  "console1", "virtio-serial0", "channel0", "video0",
        "input0",   "input1",   "balloon0", "rng0",     "panic0",         NULL};
    assert_ids(ids, want);

    g_autoptr(JsonNode) blocks = call(&r, "query-block", NULL);
    JsonObject *vda = find_inserted(blocks, "disk-vda");
    g_assert_nonnull(vda);
    g_assert_cmpstr(json_object_get_string_member(vda, "drv"), ==, "qcow2");
    JsonObject *hdc = find_inserted(blocks, "disk-hdc");
    g_assert_nonnull(hdc);
    g_assert_true(json_object_get_boolean_member(hdc, "ro"));
    g_assert_null(find_inserted(blocks, "disk-hdd")); /* empty tray */

    /* The sockets QEMU listens on are where the daemon will look. */
    g_assert_true(g_file_test(r.console_path, G_FILE_TEST_EXISTS));
    g_autofree char *pty3 = vd_qemu_pty_socket_path(&r.paths, "serial3");
    g_autofree char *vcon = vd_qemu_pty_socket_path(&r.paths, "console1");
    g_assert_true(g_file_test(pty3, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(vcon, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(serial_sock, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(serial_log, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(r.log_path, G_FILE_TEST_EXISTS)); /* serial0's logfile */

    /* VNC: QEMU picked a port; the password is set over QMP. */
    g_autoptr(JsonNode) vnc = call(&r, "query-vnc", NULL);
    JsonObject *vo = json_node_get_object(vnc);
    g_assert_true(json_object_get_boolean_member(vo, "enabled"));
    int port = atoi(json_object_get_string_member(vo, "service"));
    g_assert_cmpint(port, >=, 5900);
    g_assert_cmpint(port, <=, 5999);
    g_assert_cmpstr(json_object_get_string_member(vo, "auth"), ==, "vnc");
    set_password(&r, "vnc", "secret");

    /* And it runs. */
    run_cont(&r);
    quit(&r);
    for (guint i = 0; i < 4; i++)
        g_free(raw[i]);
    run_clear(&r);
}

/* q35: the built-in AHCI, empty trays, vCPU hotplug room, UEFI-style
 * pflash, secondary video. */
static void
test_full_q35(void)
{
    Run r;
    run_init(&r);
    g_autofree char *sata = g_build_filename(r.dir, "sata.raw", NULL);
    g_autofree char *ro = g_build_filename(r.dir, "ro.raw", NULL);
    g_autofree char *code = g_build_filename(r.dir, "code.fd", NULL);
    g_autofree char *vars = g_build_filename(r.dir, "vars.fd", NULL);
    make_file(sata, 1 << 20);
    make_file(ro, 1 << 20);
    make_file(code, 256 * 1024);
    make_file(vars, 128 * 1024);

    g_autoptr(TDef) def = tdef_new("full-q35", "q35");
    def->cpu.present = TRUE;
    def->cpu.mode = VD_CPU_MODE_HOST_PASSTHROUGH;
    def->cpu.sockets = 2;
    def->cpu.cores = 2;
    def->cpu.threads = 1;
    def->vcpus = 4;
    def->vcpus_current = 2;
    def->memory_kib = 1024 * 1024;
    def->on_reboot = VD_LIFECYCLE_DESTROY;
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_SATA, "sda", sata, VD_DISK_FORMAT_RAW)
        ->boot_order = 2;
    tdef_add_disk(def, VD_DISK_DEVICE_CDROM, VD_DISK_BUS_SATA, "sdb", NULL, VD_DISK_FORMAT_NONE)
        ->boot_order = 1;
    tdef_add_disk(def, VD_DISK_DEVICE_CDROM, VD_DISK_BUS_SCSI, "sdc", NULL, VD_DISK_FORMAT_NONE);
    tdef_add_disk(def, VD_DISK_DEVICE_DISK, VD_DISK_BUS_VIRTIO, "vdb", ro, VD_DISK_FORMAT_RAW)
        ->readonly = TRUE;
    def->os.loader = g_strdup(code);
    def->os.loader_type = g_strdup("pflash");
    def->os.loader_readonly = TRUE;
    def->os.nvram = g_strdup(vars);
    tdef_add_video(def, VD_VIDEO_VIRTIO);
    tdef_add_video(def, VD_VIDEO_QXL);
    tdef_add_input(def, VD_INPUT_TABLET, VD_INPUT_BUS_USB);
    tdef_add_vnc(def, "::1", -1, NULL);
    VdPanicDef *panic = g_new0(VdPanicDef, 1);
    panic->model = g_strdup("pvpanic");
    g_ptr_array_add(def->panics, panic);
    run_start(&r, def);

    g_autoptr(GHashTable) ids = peripheral_ids(&r);
    const char *want[] = {"disk-sda", "disk-sdb", "disk-sdc", "disk-vdb", "scsi0", "usb",
                          "video0",   "video1",   "input0",   "panic0",   NULL};
    assert_ids(ids, want);
    g_autoptr(JsonNode) blocks = call(&r, "query-block", NULL);
    JsonObject *vdb = find_inserted(blocks, "disk-vdb");
    g_assert_nonnull(vdb);
    g_assert_true(json_object_get_boolean_member(vdb, "ro"));
    g_assert_null(find_inserted(blocks, "disk-sdb"));
    g_assert_null(find_inserted(blocks, "disk-sdc"));

    g_autoptr(JsonNode) cpus = call(&r, "query-cpus-fast", NULL);
    g_assert_cmpuint(json_array_get_length(json_node_get_array(cpus)), ==, 2);
    g_autoptr(JsonNode) slots = call(&r, "query-hotpluggable-cpus", NULL);
    g_assert_cmpuint(json_array_get_length(json_node_get_array(slots)), ==, 4);

    g_autoptr(JsonNode) vnc = call(&r, "query-vnc", NULL);
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(vnc), "family"), ==, "ipv6");
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(vnc), "auth"), ==, "none");
    quit(&r);
    run_clear(&r);
}

/* -bios, localtime, vmport=off, acpi=off on a versioned i440fx machine. */
static void
test_legacy_pc(void)
{
    Run r;
    run_init(&r);
    g_autoptr(TDef) def = tdef_new("legacy", "pc-i440fx-7.2");
    def->os.loader = g_strdup("/usr/share/seabios/bios-256k.bin");
    def->clock.offset = g_strdup("localtime");
    def->features.vmport_off = TRUE;
    def->features.acpi = FALSE;
    def->on_reboot = VD_LIFECYCLE_DESTROY;
    def->cpu.present = TRUE;
    def->cpu.mode = VD_CPU_MODE_CUSTOM;
    def->cpu.model = g_strdup("Westmere");
    tdef_add_video(def, VD_VIDEO_CIRRUS);
    tdef_add_net(def, VD_NET_USER, "rtl8139", NULL);
    run_start(&r, def);
    g_autoptr(GHashTable) ids = peripheral_ids(&r);
    const char *want[] = {"video0", "net0", NULL};
    assert_ids(ids, want);
    JsonObject *args = json_object_new(); /* passed on: the call takes it */
    json_object_set_string_member(args, "path", "/machine");
    json_object_set_string_member(args, "property", "acpi");
    g_autoptr(JsonNode) acpi = call(&r, "qom-get", args);
    g_assert_cmpstr(json_node_get_string(acpi), ==, "off");
    quit(&r);
    run_clear(&r);
}

/* A TPM on swtpm's control socket, as the daemon passes it: QEMU takes
 * the chardev, the emulator tpmdev and the device of each model, and
 * query-tpm shows them; swtpm (--terminate) ends with QEMU. The swtpm here
 * is the test's own, without swtpm_setup: an unmanufactured TPM is enough
 * for QEMU to attach. */
static void
tpm_case(const char *machine, VdTpmModel model, VdTpmVersion version, const char *want_model)
{
    Run r;
    run_init(&r);
    g_autofree char *state = g_build_filename(r.dir, "tpm", NULL);
    g_autofree char *sock = g_build_filename(r.dir, "swtpm", NULL);
    g_autofree char *log = g_build_filename(r.dir, "swtpm.log", NULL);
    g_autofree char *statearg = g_strdup_printf("dir=%s", state);
    g_autofree char *ctrl = g_strdup_printf("type=unixio,path=%s", sock);
    g_assert_cmpint(g_mkdir(state, 0700), ==, 0);
    g_autofree char *swtpm_bin = g_find_program_in_path("swtpm");
    if (!swtpm_bin)
        g_error("swtpm is not installed: apt-get install swtpm swtpm-tools (scripts/deps.sh)");
    const char *sargv[] = {swtpm_bin, "socket", "--tpmstate", statearg, "--ctrl", ctrl,
                           "--terminate", version == VD_TPM_VERSION_2_0 ? "--tpm2" : NULL, NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(TQemu) swtpm = tqemu_spawn(sargv, log, &error);
    g_assert_no_error(error);
    for (int i = 0; i < 500 && !g_file_test(sock, G_FILE_TEST_EXISTS); i++)
        g_usleep(10000);
    g_assert_true(g_file_test(sock, G_FILE_TEST_EXISTS));

    g_autoptr(TDef) def = tdef_new("tpm", machine);
    VdTpmDef *t = g_new0(VdTpmDef, 1);
    t->model = model;
    t->backend = VD_TPM_BACKEND_EMULATOR;
    t->version = version;
    g_ptr_array_add(def->tpm->tpms, t);
    r.paths.tpm_socket_path = sock;
    run_start(&r, def);

    g_autoptr(JsonNode) tpms = call(&r, "query-tpm", NULL);
    JsonArray *a = json_node_get_array(tpms);
    g_assert_cmpuint(json_array_get_length(a), ==, 1);
    JsonObject *o = json_array_get_object_element(a, 0);
    g_assert_cmpstr(json_object_get_string_member(o, "id"), ==, "tpm-tpm0");
    g_assert_cmpstr(json_object_get_string_member(o, "model"), ==, want_model);
    JsonObject *opts = json_object_get_object_member(o, "options");
    g_assert_cmpstr(json_object_get_string_member(opts, "type"), ==, "emulator");
    g_autoptr(GHashTable) ids = peripheral_ids(&r);
    const char *want[] = {"tpm0", NULL};
    assert_ids(ids, want);
    quit(&r);
    /* --terminate: swtpm ends when QEMU closes its connection. */
    g_assert_true(tqemu_wait_exit(swtpm, 10000));
    run_clear(&r);
}

static void
test_tpm_crb(void)
{
    tpm_case("q35", VD_TPM_MODEL_CRB, VD_TPM_VERSION_2_0, "tpm-crb");
}

static void
test_tpm_tis(void)
{
    tpm_case("pc", VD_TPM_MODEL_DEFAULT, VD_TPM_VERSION_1_2, "tpm-tis");
}

/* A TCP port nothing listens on now (the daemon's pick, in miniature). */
static int
free_port(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocket) sock =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
    g_assert_no_error(error);
    g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
    g_assert_true(g_socket_bind(sock, any, TRUE, &error));
    g_autoptr(GSocketAddress) got = g_socket_get_local_address(sock, &error);
    g_assert_no_error(error);
    return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(got));
}

/* What virt-install writes for a desktop guest (issue 10): SPICE with a
 * password, qxl, the agent's spicevmc channel, two USB redirections,
 * sound cards on the implied SPICE audio back end. */
static void
test_spice(void)
{
    Run r;
    run_init(&r);
    g_autoptr(TDef) def = tdef_new("spice", "q35");
    int port = free_port();
    VdSpiceDef *s = tdef_add_spice(def, "127.0.0.1", port, "s3cret");
    s->image_compression = g_strdup("off");
    s->jpeg_compression = g_strdup("never");
    s->zlib_compression = g_strdup("auto");
    s->playback_compression = 1;
    s->streaming_mode = g_strdup("filter");
    s->copypaste = 0;
    s->mouse_mode = g_strdup("client");
    s->filetransfer = 0;
    tdef_add_spice_desktop(def);
    const char *models[] = {"ich9", "ich6", "ac97", "usb"};
    for (guint i = 0; i < G_N_ELEMENTS(models); i++)
        tdef_add_sound(def, models[i]);
    tdef_add_redirdev(def, "spicevmc");
    tdef_add_redirdev(def, "spicevmc");
    run_start(&r, def);

    g_autoptr(GHashTable) ids = peripheral_ids(&r);
    const char *want[] = {"video0", "virtio-serial0", "channel0", "usb",
                          "sound0", "sound0-codec0",  "sound1",   "sound1-codec0",
                          "sound2", "sound3",         "redir0",   "redir1",
                          NULL};
    assert_ids(ids, want);
    /* The guest sees the devices libvirt gives it. */
    JsonObject *args = json_object_new(); /* passed on: the call takes it */
    json_object_set_string_member(args, "path", "/machine/peripheral/video0");
    json_object_set_string_member(args, "property", "vgamem_mb");
    g_autoptr(JsonNode) vgamem = call(&r, "qom-get", args);
    g_assert_cmpint(json_node_get_int(vgamem), ==, 16);
    g_autoptr(JsonNode) chardevs = call(&r, "query-chardev", NULL);
    guint spicevmc = 0;
    JsonArray *ca = json_node_get_array(chardevs);
    for (guint i = 0; i < json_array_get_length(ca); i++) {
        const char *label =
            json_object_get_string_member(json_array_get_object_element(ca, i), "label");
        if (g_str_equal(label, "charchannel0") || g_str_has_prefix(label, "charredir"))
            spicevmc++;
    }
    g_assert_cmpuint(spicevmc, ==, 3);

    /* SPICE serves the port given, and asks for the ticket set over QMP. */
    g_autoptr(JsonNode) spice = call(&r, "query-spice", NULL);
    JsonObject *so = json_node_get_object(spice);
    g_assert_true(json_object_get_boolean_member(so, "enabled"));
    g_assert_cmpint(json_object_get_int_member(so, "port"), ==, port);
    g_assert_cmpstr(json_object_get_string_member(so, "auth"), ==, "spice");
    g_assert_cmpstr(json_object_get_string_member(so, "mouse-mode"), ==, "server");
    set_password(&r, "spice", "s3cret");

    run_cont(&r);
    /* screendump reads the qxl device: SPICE is no obstacle. */
    g_autofree char *shot = g_build_filename(r.dir, "screen.ppm", NULL);
    JsonObject *sd = json_object_new(); /* passed on: the call takes it */
    json_object_set_string_member(sd, "filename", shot);
    g_autoptr(JsonNode) sdr = call(&r, "screendump", sd);
    g_autofree char *ppm = NULL;
    g_assert_true(g_file_get_contents(shot, &ppm, NULL, NULL));
    g_assert_true(g_str_has_prefix(ppm, "P6"));
    quit(&r);
    run_clear(&r);
}

/* ---- cpu-ext: the goldens' inputs, tests/data/argv/NAME.xml ------------------------ */

static VdDomainDef *
load_xml(const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.xml", name);
    g_autofree char *path = g_build_filename(VD_TEST_DATA_DIR, "argv", file, NULL);
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_file_get_contents(path, &xml, NULL, &error));
    VdDomainDef *def = vd_domain_def_new_from_xml(xml, -1, &error);
    g_assert_no_error(error);
    g_assert_true(vd_domain_def_check_startable(def, &error));
    return def;
}

static JsonNode *
qom_get(Run *r, const char *path, const char *property)
{
    JsonObject *args = json_object_new(); /* passed on: the call takes it */
    json_object_set_string_member(args, "path", path);
    json_object_set_string_member(args, "property", property);
    return call(r, "qom-get", args);
}

/* The first vCPU's QOM path. */
static char *
cpu0_path(Run *r)
{
    g_autoptr(JsonNode) cpus = call(r, "query-cpus-fast", NULL);
    JsonObject *c = json_array_get_object_element(json_node_get_array(cpus), 0);
    return g_strdup(json_object_get_string_member(c, "qom-path"));
}

static gboolean
qom_bool(Run *r, const char *path, const char *property)
{
    g_autoptr(JsonNode) v = qom_get(r, path, property);
    return json_node_get_boolean(v);
}

/* Every policy reaches the vCPU: required on, disabled off. */
static void
test_cpu_features(void)
{
    Run r;
    run_init(&r);
    g_autoptr(VdDomainDef) def = load_xml("cpu-features");
    run_start(&r, def);
    g_autofree char *cpu = cpu0_path(&r);
    g_assert_true(qom_bool(&r, cpu, "pdpe1gb"));
    g_assert_true(qom_bool(&r, cpu, "lahf-lm"));
    g_assert_true(qom_bool(&r, cpu, "pclmulqdq"));
    g_assert_false(qom_bool(&r, cpu, "x2apic"));
    g_assert_false(qom_bool(&r, cpu, "vmx"));
    g_assert_false(qom_bool(&r, cpu, "pmu"));
    JsonObject *args = json_object_new(); /* passed on: the call takes it */
    json_object_set_string_member(args, "path", "/machine/peripheral-anon");
    g_autoptr(JsonNode) list = call(&r, "qom-list", args);
    gboolean vmcoreinfo = FALSE;
    JsonArray *a = json_node_get_array(list);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        const char *type =
            json_object_get_string_member(json_array_get_object_element(a, i), "type");
        vmcoreinfo |= g_str_equal(type, "child<vmcoreinfo>");
    }
    g_assert_true(vmcoreinfo);
    quit(&r);
    run_clear(&r);
}

/* Windows' XML under TCG: QEMU takes the command line without the
 * enlightenments it would refuse or ignore; hpet is off, S4 disabled. */
static void
test_hyperv_tcg(void)
{
    Run r;
    run_init(&r);
    g_autoptr(VdDomainDef) def = load_xml("hyperv");
    run_start(&r, def);
    g_autofree char *cpu = cpu0_path(&r);
    g_assert_false(qom_bool(&r, cpu, "hv-relaxed"));
    g_assert_false(qom_bool(&r, "/machine", "hpet"));
    run_cont(&r);
    quit(&r);
    run_clear(&r);
}

/* Memory from the cells: two backends of the cells' sizes, each vCPU in
 * the node its cell names, and -m their sum. */
static void
test_numa(void)
{
    Run r;
    run_init(&r);
    g_autoptr(VdDomainDef) def = load_xml("numa");
    g_assert_cmpuint(def->memory_kib, ==, 786432);
    run_start(&r, def);
    g_autoptr(JsonNode) memdev = call(&r, "query-memdev", NULL);
    JsonArray *m = json_node_get_array(memdev);
    g_assert_cmpuint(json_array_get_length(m), ==, 2);
    gint64 total = 0;
    for (guint i = 0; i < 2; i++)
        total += json_object_get_int_member(json_array_get_object_element(m, i), "size");
    g_assert_cmpint(total, ==, 786432 * 1024);
    g_autoptr(JsonNode) cpus = call(&r, "query-cpus-fast", NULL);
    JsonArray *c = json_node_get_array(cpus);
    g_assert_cmpuint(json_array_get_length(c), ==, 4);
    for (guint i = 0; i < 4; i++) {
        JsonObject *o = json_array_get_object_element(c, i);
        JsonObject *props = json_object_get_object_member(o, "props");
        gint64 index = json_object_get_int_member(o, "cpu-index");
        /* cells: 0 has vCPUs 0 and 2, 1 has 1 and 3 */
        g_assert_cmpint(json_object_get_int_member(props, "node-id"), ==, index % 2);
    }
    g_autoptr(JsonNode) size = call(&r, "query-memory-size-summary", NULL);
    g_assert_cmpint(json_object_get_int_member(json_node_get_object(size), "base-memory"), ==,
                    786432 * 1024);
    quit(&r);
    run_clear(&r);
}

/* offset='variable' one hour ahead of a fixed "now": the RTC holds it
 * (the VM clock stands still under -S, so the minute is exact). */
static void
test_timers_pm(void)
{
    Run r;
    run_init(&r);
    r.paths.start_time = 1700000000; /* 2023-11-14T22:13:20Z */
    g_autoptr(VdDomainDef) def = load_xml("timers-pm");
    run_start(&r, def);
    g_autoptr(JsonNode) tm = qom_get(&r, "/machine", "rtc-time");
    JsonObject *t = json_node_get_object(tm);
    g_assert_cmpint(json_object_get_int_member(t, "tm_year"), ==, 123);
    g_assert_cmpint(json_object_get_int_member(t, "tm_mon"), ==, 10);
    g_assert_cmpint(json_object_get_int_member(t, "tm_mday"), ==, 14);
    g_assert_cmpint(json_object_get_int_member(t, "tm_hour"), ==, 23);
    g_assert_cmpint(json_object_get_int_member(t, "tm_min"), ==, 13);
    g_assert_false(qom_bool(&r, "/machine", "hpet"));
    quit(&r);
    run_clear(&r);
}

/* ---- the platform family (issue 10) ---- */

static VdDomainDef *
platform_def(const char *machine, const char *os_extra, const char *top, const char *devices)
{
    return tdef_from_xml(machine, 128, os_extra, top, devices);
}

/* The PCI devices of class @class_code on @devices (query-pci's list of a
 * bus) and on the buses behind their bridges. */
static guint
count_class_on(JsonArray *devs, gint64 class_code)
{
    guint n = 0;
    for (guint i = 0; devs && i < json_array_get_length(devs); i++) {
        JsonObject *dev = json_array_get_object_element(devs, i);
        JsonObject *cls = json_object_get_object_member(dev, "class_info");
        if (json_object_get_int_member(cls, "class") == class_code)
            n++;
        if (json_object_has_member(dev, "pci_bridge")) {
            JsonObject *br = json_object_get_object_member(dev, "pci_bridge");
            if (json_object_has_member(br, "devices"))
                n += count_class_on(json_object_get_array_member(br, "devices"), class_code);
        }
    }
    return n;
}

static guint
count_pci_class(JsonNode *buses, gint64 class_code)
{
    guint n = 0;
    JsonArray *a = json_node_get_array(buses);
    for (guint b = 0; b < json_array_get_length(a); b++)
        n += count_class_on(
            json_object_get_array_member(json_array_get_object_element(a, b), "devices"),
            class_code);
    return n;
}

/* Whether device @id sits on the bus of root port @port ("pci.3"): its
 * parent bus (query-pci lists nothing behind a bridge before the firmware
 * has numbered the buses, and these QEMUs never run). */
static gboolean
behind_port(Run *r, const char *port, const char *id)
{
    g_autofree char *path = g_strdup_printf("/machine/peripheral/%s", id);
    g_autofree char *want = g_strdup_printf("/machine/peripheral/%s/%s", port, port);
    JsonObject *args = json_object_new(); /* passed on: the call takes it */
    json_object_set_string_member(args, "path", path);
    json_object_set_string_member(args, "property", "parent_bus");
    g_autoptr(JsonNode) bus = call(r, "qom-get", args);
    return g_strcmp0(json_node_get_string(bus), want) == 0;
}

/* virt-install's q35 controllers, a watchdog, SMBIOS and fw_cfg: QEMU
 * takes them all, the root ports and the xHCI are on pcie.0. */
static void
test_platform_q35(void)
{
    Run r;
    run_init(&r);
    g_autofree char *blob = g_build_filename(r.dir, "fw,cfg.bin", NULL);
    g_assert_true(g_file_set_contents(blob, "blob", -1, NULL));
    g_autoptr(GString) devices =
        g_string_new("<controller type='usb' model='qemu-xhci' ports='15'/>"
                     "<controller type='pci' model='pcie-root'/>");
    for (guint i = 0; i < 14; i++)
        g_string_append(devices, "<controller type='pci' model='pcie-root-port'/>");
    g_string_append(devices, "<controller type='pci' model='pcie-to-pci-bridge'/>"
                             "<controller type='virtio-serial' index='0' ports='16'/>"
                             "<controller type='scsi' index='0' model='virtio-scsi'/>"
                             "<controller type='sata' index='0'/>"
                             "<input type='tablet' bus='usb'/>"
                             "<watchdog model='i6300esb' action='pause'/>"
                             "<watchdog model='itco' action='pause'/>");
    g_autofree char *top =
        g_strdup_printf("<sysinfo type='smbios'><system><entry name='product'>a,b</entry></system>"
                        "<oemStrings><entry>x</entry></oemStrings></sysinfo>"
                        "<sysinfo type='fwcfg'><entry name='opt/org.virtd/s'>v,w</entry>"
                        "<entry name='opt/org.virtd/f' file='%s'/></sysinfo>",
                        blob);
    g_autoptr(VdDomainDef) def = platform_def("q35", "<smbios mode='sysinfo'/>", top, devices->str);
    run_start(&r, def);
    g_autoptr(GHashTable) ids = peripheral_ids(&r);
    const char *want[] = {"usb",   "pci.1",  "pci.14",    "pci.15", "virtio-serial0",
                          "scsi0", "input0", "watchdog0", NULL};
    assert_ids(ids, want);
    g_autoptr(JsonNode) pci = call(&r, "query-pci", NULL);
    /* As libvirt: each PCIe device in a root port of its own. */
    g_assert_true(behind_port(&r, "pci.1", "usb"));
    g_assert_true(behind_port(&r, "pci.2", "virtio-serial0"));
    g_assert_true(behind_port(&r, "pci.3", "scsi0"));
    /* 14 root ports and the PCIe-to-PCI bridge on pcie.0 */
    g_assert_cmpuint(count_pci_class(pci, 0x0604), ==, 15);
    quit(&r);
    run_clear(&r);
}

/* i440fx: EHCI with its UHCI companions, a PCI bridge, an AHCI, ib700. */
static void
test_platform_pc(void)
{
    Run r;
    run_init(&r);
    g_autoptr(VdDomainDef) def = platform_def(
        "pc", "", "",
        "<controller type='usb' index='0' model='ich9-ehci1'/>"
        "<controller type='usb' index='0' model='ich9-uhci1'><master startport='0'/></controller>"
        "<controller type='usb' index='0' model='ich9-uhci2'><master startport='2'/></controller>"
        "<controller type='usb' index='0' model='ich9-uhci3'><master startport='4'/></controller>"
        "<controller type='pci' index='0' model='pci-root'/>"
        "<controller type='pci' index='1' model='pci-bridge'/>"
        "<controller type='sata' index='0'/>"
        "<input type='tablet' bus='usb'/><watchdog model='ib700' action='none'/>"
        "<interface type='user'><model type='pcnet'/></interface>"
        "<interface type='user'><model type='ne2k_pci'/></interface>"
        "<interface type='user'><model type='i82559er'/></interface>"
        "<interface type='user'><model type='vmxnet3'/></interface>"
        "<interface type='user'><model type='tulip'/></interface>"
        "<interface type='user'><model type='virtio-transitional'/></interface>");
    run_start(&r, def);
    g_autoptr(GHashTable) ids = peripheral_ids(&r);
    const char *want[] = {"usb",   "usb-companion0", "usb-companion2", "usb-companion4", "pci.1",
                          "sata0", "input0",         "watchdog0",      "net0",           "net1",
                          "net2",  "net3",           "net4",           "net5",           NULL};
    assert_ids(ids, want);
    g_autoptr(JsonNode) pci = call(&r, "query-pci", NULL);
    g_assert_cmpuint(count_pci_class(pci, 0x0c03), ==, 4); /* EHCI + 3 UHCI */
    g_assert_cmpuint(count_pci_class(pci, 0x0200), ==, 6); /* the NICs */
    quit(&r);
    run_clear(&r);
}

/* Emulated NVMe: two namespaces on nvme0, one on nvme1, QEMU sees them
 * with their ids and block nodes. */
static void
test_platform_nvme(void)
{
    Run r;
    run_init(&r);
    g_autofree char *a = g_build_filename(r.dir, "a.qcow2", NULL);
    g_autofree char *b = g_build_filename(r.dir, "b.raw", NULL);
    g_autofree char *c = g_build_filename(r.dir, "c.raw", NULL);
    make_qcow2(a);
    make_file(b, 1 << 20);
    make_file(c, 1 << 20);
    g_autofree char *devices =
        g_strdup_printf("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                        "<source file='%s'/><target dev='nvme0n1' bus='nvme'/><serial>S1</serial>"
                        "<boot order='1'/></disk>"
                        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                        "<source file='%s'/><target dev='nvme0n2' bus='nvme'/></disk>"
                        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                        "<source file='%s'/><target dev='nvme1n1'/></disk>",
                        a, b, c);
    g_autoptr(VdDomainDef) def = platform_def("q35", "", "", devices);
    run_start(&r, def);
    g_autoptr(GHashTable) ids = peripheral_ids(&r);
    const char *want[] = {"nvme0", "nvme1", "disk-nvme0n1", "disk-nvme0n2", "disk-nvme1n1", NULL};
    assert_ids(ids, want);
    g_autoptr(JsonNode) pci = call(&r, "query-pci", NULL);
    g_assert_cmpuint(count_pci_class(pci, 0x0108), ==, 2); /* NVM Express controllers */
    quit(&r);
    run_clear(&r);
}

/* <memoryBacking> shared memfd: QEMU's RAM is the memfd object, shared. */
static void
test_platform_memfd(void)
{
    Run r;
    run_init(&r);
    g_autoptr(VdDomainDef) def = platform_def(
        "pc", "", "<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>",
        "");
    run_start(&r, def);
    JsonObject *args = json_object_new(); /* passed on: the call takes it */
    json_object_set_string_member(args, "path", "/objects/pc.ram");
    json_object_set_string_member(args, "property", "share");
    g_autoptr(JsonNode) share = call(&r, "qom-get", args);
    g_assert_true(json_node_get_boolean(share));
    g_autoptr(JsonNode) mem = call(&r, "query-memdev", NULL);
    JsonObject *m = json_array_get_object_element(json_node_get_array(mem), 0);
    g_assert_cmpint(json_object_get_int_member(m, "size"), ==, 128 << 20);
    quit(&r);
    run_clear(&r);
}

/* Memory devices (qemu-command-memory.c) on q35 with memfd RAM: QEMU
 * takes -m slots/maxmem, two DIMMs and a virtio-mem device beside the
 * root ports, and the machine's RAM backend is the base memory only. */
static void
test_memory_devices(void)
{
    Run r;
    run_init(&r);
    g_autoptr(VdDomainDef) def = tdef_from_xml(
        "q35", 896, "",
        "<maxMemory slots='2' unit='GiB'>2</maxMemory><features><acpi/></features>"
        "<memoryBacking><source type='memfd'/></memoryBacking>",
        "<controller type='pci' model='pcie-root-port'/>"
        "<memory model='dimm'><target><size unit='MiB'>128</size></target></memory>"
        "<memory model='dimm'><target><size unit='MiB'>128</size></target></memory>"
        "<memory model='virtio-mem'><target><size unit='MiB'>512</size>"
        "<requested unit='MiB'>64</requested></target></memory>");
    run_start(&r, def);
    g_autoptr(JsonNode) list = call(&r, "query-memory-devices", NULL);
    JsonArray *a = json_node_get_array(list);
    g_assert_cmpuint(json_array_get_length(a), ==, 3);
    JsonObject *v = json_object_get_object_member(json_array_get_object_element(a, 2), "data");
    g_assert_cmpstr(json_object_get_string_member(v, "id"), ==, "virtiomem0");
    g_assert_cmpint(json_object_get_int_member(v, "requested-size"), ==, 64 << 20);
    JsonObject *args = json_object_new(); /* passed on: the call takes it */
    json_object_set_string_member(args, "path", "/objects/pc.ram");
    json_object_set_string_member(args, "property", "size");
    g_autoptr(JsonNode) size = call(&r, "qom-get", args);
    g_assert_cmpint(json_node_get_int(size), ==, 128 << 20);
    quit(&r);
    run_clear(&r);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tcaps_real();
    g_test_add_func("/qemu/argv-qemu/injection", test_injection);
    g_test_add_func("/qemu/argv-qemu/kernel-path", test_kernel_path);
    g_test_add_func("/qemu/argv-qemu/full-pc", test_full_pc);
    g_test_add_func("/qemu/argv-qemu/full-q35", test_full_q35);
    g_test_add_func("/qemu/argv-qemu/legacy-pc", test_legacy_pc);
    g_test_add_func("/qemu/argv-qemu/platform-q35", test_platform_q35);
    g_test_add_func("/qemu/argv-qemu/platform-pc", test_platform_pc);
    g_test_add_func("/qemu/argv-qemu/platform-nvme", test_platform_nvme);
    g_test_add_func("/qemu/argv-qemu/platform-memfd", test_platform_memfd);
    g_test_add_func("/qemu/argv-qemu/memory-devices", test_memory_devices);
    g_test_add_func("/qemu/argv-qemu/tpm-crb", test_tpm_crb);
    g_test_add_func("/qemu/argv-qemu/tpm-tis", test_tpm_tis);
    g_test_add_func("/qemu/argv-qemu/cpu-features", test_cpu_features);
    g_test_add_func("/qemu/argv-qemu/hyperv-tcg", test_hyperv_tcg);
    g_test_add_func("/qemu/argv-qemu/numa", test_numa);
    g_test_add_func("/qemu/argv-qemu/timers-pm", test_timers_pm);
    g_test_add_func("/qemu/argv-qemu/spice", test_spice);
    return g_test_run();
}
