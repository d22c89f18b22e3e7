/* Test helpers: see qemu-test-util.h. */
#include "qemu-test-util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "golden.h"
#include "util/vd-error.h"

/* ---- definitions ------------------------------------------------------------ */

VdDomainDef *
tdef_new(const char *name, const char *machine)
{
    /* conf's constructor gives the arrays their free functions. */
    VdDomainDef *def = vd_domain_def_new();
    def->virt_type = VD_VIRT_QEMU;
    def->name = g_strdup(name);
    g_strlcpy(def->uuid, "c7a5fdbd-cdaf-9455-926a-d65c16db1809", sizeof(def->uuid));
    def->memory_kib = 524288;
    def->current_memory_kib = 524288;
    def->vcpus = 1;
    def->vcpus_current = 1;
    def->os.type = g_strdup("hvm");
    def->os.arch = g_strdup("x86_64");
    def->os.machine = g_strdup(machine);
    def->features.acpi = TRUE;
    def->features.apic = TRUE;
    return def;
}

void
tdef_free(VdDomainDef *def)
{
    vd_domain_def_free(def);
}

VdDiskDef *
tdef_add_disk(VdDomainDef *def, VdDiskDevice device, VdDiskBus bus, const char *target,
              const char *path, VdDiskFormat format)
{
    VdDiskDef *d = g_new0(VdDiskDef, 1);
    d->type = VD_DISK_TYPE_FILE;
    d->device = device;
    d->bus = bus;
    d->target_dev = g_strdup(target);
    d->source_file = g_strdup(path);
    d->format = format;
    d->readonly = device == VD_DISK_DEVICE_CDROM;
    g_ptr_array_add(def->disks, d);
    return d;
}

VdChrDef *
tdef_add_chr(GPtrArray *list, VdChrType type, const char *path)
{
    VdChrDef *c = g_new0(VdChrDef, 1);
    c->type = type;
    c->path = g_strdup(path);
    c->target_port = -1;
    g_ptr_array_add(list, c);
    return c;
}

VdNetDef *
tdef_add_net(VdDomainDef *def, VdNetType type, const char *model, const char *mac)
{
    VdNetDef *n = g_new0(VdNetDef, 1);
    n->type = type;
    n->model = g_strdup(model);
    n->mac = g_strdup(mac);
    g_ptr_array_add(def->interfaces, n);
    return n;
}

VdGraphicsDef *
tdef_add_vnc(VdDomainDef *def, const char *listen, int port, const char *passwd)
{
    VdGraphicsDef *g = g_new0(VdGraphicsDef, 1);
    g->type = VD_GRAPHICS_VNC;
    g->port = port;
    g->autoport = port < 0;
    g->listen = g_strdup(listen);
    g->passwd = g_strdup(passwd);
    g->websocket = -1;
    g_ptr_array_add(def->graphics, g);
    return g;
}

VdVideoDef *
tdef_add_video(VdDomainDef *def, VdVideoModel model)
{
    VdVideoDef *v = g_new0(VdVideoDef, 1);
    v->model = model;
    v->heads = 1;
    v->primary = def->videos->len == 0;
    g_ptr_array_add(def->videos, v);
    return v;
}

VdInputDef *
tdef_add_input(VdDomainDef *def, VdInputType type, VdInputBus bus)
{
    VdInputDef *in = g_new0(VdInputDef, 1);
    in->type = type;
    in->bus = bus;
    g_ptr_array_add(def->inputs, in);
    return in;
}

/* ---- caps ------------------------------------------------------------------- */

VdDomainDef *
tdef_from_xml(const char *machine, guint memory_mib, const char *os_extra, const char *top,
              const char *devices)
{
    g_autofree char *xml =
        g_strdup_printf("<domain type='qemu'><name>plat</name><uuid>" TDEF_XML_UUID "</uuid>"
                        "<memory unit='MiB'>%u</memory>"
                        "<os><type arch='x86_64' machine='%s'>hvm</type>%s</os>%s"
                        "<devices>%s</devices></domain>",
                        memory_mib, machine, os_extra, top, devices);
    g_autoptr(GError) error = NULL;
    VdDomainDef *def = vd_domain_def_new_from_xml(xml, -1, &error);
    g_assert_no_error(error);
    return def;
}

VdSpiceDef *
tdef_add_spice(VdDomainDef *def, const char *listen, int port, const char *passwd)
{
    VdGraphicsDef *g = tdef_add_vnc(def, listen, port, passwd);
    g->type = VD_GRAPHICS_SPICE;
    /* The daemon's pick for an autoport display (daemon/domain/domain-spice.c). */
    g->autoport = TRUE;
    VdSpiceDef *s = g_new0(VdSpiceDef, 1);
    s->tls_port = -1;
    s->playback_compression = -1;
    s->copypaste = -1;
    s->filetransfer = -1;
    def->media->spice = s;
    return s;
}

void
tdef_add_spice_desktop(VdDomainDef *def)
{
    VdVideoDef *v = tdef_add_video(def, VD_VIDEO_QXL);
    v->ram_kib = 65536;
    v->vram_kib = 65536;
    v->vgamem_kib = 16384;
    VdChrDef *c = tdef_add_chr(def->channels, VD_CHR_SPICEVMC, NULL);
    c->target_type = g_strdup("virtio");
    c->target_name = g_strdup("com.redhat.spice.0");
}

VdSoundDef *
tdef_add_sound(VdDomainDef *def, const char *model)
{
    VdSoundDef *s = g_new0(VdSoundDef, 1);
    s->model = g_strdup(model);
    g_ptr_array_add(def->media->sounds, s);
    return s;
}

void
tdef_add_audio(VdDomainDef *def, guint id, const char *type)
{
    VdAudioDef *a = g_new0(VdAudioDef, 1);
    a->id = id;
    a->type = g_strdup(type);
    g_ptr_array_add(def->media->audios, a);
}

void
tdef_add_redirdev(VdDomainDef *def, const char *type)
{
    VdRedirdevDef *r = g_new0(VdRedirdevDef, 1);
    r->bus = g_strdup("usb");
    r->type = g_strdup(type);
    g_ptr_array_add(def->media->redirdevs, r);
}

VdQemuCaps *
tcaps_fake(void)
{
    static const char *const machines[] = {"isapc",      "microvm",       "none",
                                           "pc",         "pc-i440fx-7.1", "pc-i440fx-7.2",
                                           "pc-q35-7.1", "pc-q35-7.2",    "q35"};
    static const char *const devices[] = {"AC97",
                                          "ES1370",
                                          "VGA",
                                          "bochs-display",
                                          "cirrus-vga",
                                          "e1000",
                                          "e1000e",
                                          "hda-duplex",
                                          "hda-micro",
                                          "hda-output",
                                          "ich9-intel-hda",
                                          "ich9-ahci",
                                          "ide-cd",
                                          "ide-hd",
                                          "intel-hda",
                                          "isa-serial",
                                          "pc-dimm",
                                          "pci-serial",
                                          "piix3-usb-uhci",
                                          "pvpanic",
                                          "pvpanic-pci",
                                          "qemu-xhci",
                                          "qxl",
                                          "qxl-vga",
                                          "ramfb",
                                          "rtl8139",
                                          "sb16",
                                          "scsi-cd",
                                          "scsi-hd",
                                          "tpm-crb",
                                          "tpm-tis",
                                          "usb-kbd",
                                          "usb-mouse",
                                          "usb-audio",
                                          "usb-redir",
                                          "usb-serial",
                                          "usb-storage",
                                          "usb-tablet",
                                          "virtconsole",
                                          "virtio-balloon-pci",
                                          "virtio-blk-pci",
                                          "virtio-gpu-pci",
                                          "virtio-keyboard-pci",
                                          "virtio-mem-pci",
                                          "virtio-mouse-pci",
                                          "virtio-net-pci",
                                          "virtio-rng-pci",
                                          "virtio-scsi-pci",
                                          "virtio-serial-pci",
                                          "virtio-tablet-pci",
                                          "vmcoreinfo",
                                          "virtio-vga",
                                          "virtserialport"};
    VdQemuCaps *caps = vd_qemu_caps_new();
    caps->binary = g_strdup("/usr/bin/qemu-system-x86_64");
    caps->version = g_strdup("7.2.0");
    caps->version_major = 7;
    caps->version_minor = 2;
    caps->version_micro = 0;
    for (gsize i = 0; i < G_N_ELEMENTS(machines); i++)
        g_ptr_array_add(caps->machines, g_strdup(machines[i]));
    caps->default_machine = g_strdup("pc");
    for (gsize i = 0; i < G_N_ELEMENTS(devices); i++)
        g_hash_table_add(caps->devices, g_strdup(devices[i]));
    /* A few of QEMU 7.2's CPU models (query-cpu-definitions names them all). */
    static const char *const cpus[] = {"base", "host", "max", "qemu64", "qemu64-v1", "Westmere",
                                       "Skylake-Client", "Skylake-Client-IBRS",
                                       "Skylake-Client-noTSX-IBRS", "Skylake-Client-v3",
                                       "Skylake-Client-v4", "Skylake-Server"};
    for (gsize i = 0; i < G_N_ELEMENTS(cpus); i++)
        g_hash_table_add(caps->cpu_models, g_strdup(cpus[i]));
    caps->has_kvm_accel = TRUE;
    caps->has_tcg_accel = TRUE;
    return caps;
}

const VdQemuRunPaths trun_paths = {
    .qmp_socket_path = "/run/virtd/qemu/dom.qmp",
    .console_socket_path = "/run/virtd/qemu/dom.console",
    .console_log_path = "/var/log/virtd/qemu/dom.log",
    .pid_path = "/run/virtd/qemu/dom.pid",
    .fd_base = 3,
    .guest_agent_dir = "/var/lib/virtd/qemu/channel",
    .start_paused = TRUE,
    .accel = "tcg",
};

void
tgolden_check(const char *name, const char *text)
{
    g_autofree char *path = test_golden_path(VD_TEST_DATA_DIR "/argv", name, ".args");

    test_golden_check(path, text);
}

gboolean
targv_has(GPtrArray *argv, const char *opt, const char *value)
{
    for (guint i = 0; i + 1 < argv->len; i++) {
        if (g_str_equal(argv->pdata[i], opt) && g_str_equal(argv->pdata[i + 1], value))
            return TRUE;
    }
    return FALSE;
}

void
targv_assert_refused(GPtrArray *argv, const GError *error, int code, const char *message)
{
    g_assert_null(argv);
    g_assert_error(error, VD_ERROR, code);
    if (!strstr(error->message, message))
        g_test_fail_printf("message '%s' lacks '%s'", error->message, message);
}

gboolean
targv_has_opt(GPtrArray *argv, const char *opt)
{
    for (guint i = 0; i < argv->len; i++) {
        const char *a = argv->pdata[i];
        if (a && g_str_equal(a, opt))
            return TRUE;
    }
    return FALSE;
}

const VdQemuCaps *
tcaps_real(void)
{
    static VdQemuCaps *caps;
    if (!caps) {
        g_autoptr(GError) error = NULL;
        g_autofree char *binary = vd_qemu_default_binary();
        g_assert_nonnull(binary);
        caps = vd_qemu_caps_get(binary, NULL, &error);
        g_assert_no_error(error);
    }
    return caps;
}

/* ---- processes ---------------------------------------------------------------- */

static void
child_setup(gpointer data)
{
    /* Dies with the test, even when the test aborts on a failed assertion. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != (pid_t)GPOINTER_TO_INT(data))
        _exit(127);
}

GSubprocess *
tqemu_spawn(const char *const *argv, const char *log_path, GError **error)
{
    return tqemu_spawn_fds(argv, log_path, NULL, 0, error);
}

GSubprocess *
tqemu_spawn_fds(const char *const *argv, const char *log_path, GArray *fds, int first,
                GError **error)
{
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
    g_subprocess_launcher_set_stdout_file_path(l, log_path);
    /* The launcher takes them: closed here once the child has them. */
    for (guint i = 0; fds && i < fds->len; i++)
        g_subprocess_launcher_take_fd(l, g_array_index(fds, int, i), first + (int)i);
    if (fds)
        g_array_set_size(fds, 0);
    g_subprocess_launcher_set_child_setup(l, child_setup, GINT_TO_POINTER(getpid()), NULL);
    return g_subprocess_launcher_spawnv(l, argv, error);
}

void
tqemu_kill(GSubprocess *proc)
{
    if (!proc)
        return;
    g_subprocess_force_exit(proc);
    g_subprocess_wait(proc, NULL, NULL);
    g_object_unref(proc);
}

static gboolean
set_true(gpointer p)
{
    *(gboolean *)p = TRUE;
    return G_SOURCE_REMOVE;
}

gboolean
tloop_wait(const gboolean *flag, guint timeout_ms)
{
    gboolean timed_out = FALSE;
    guint id = g_timeout_add(timeout_ms, set_true, &timed_out);
    while (!*flag && !timed_out)
        g_main_context_iteration(NULL, TRUE);
    if (!timed_out)
        g_source_remove(id);
    return *flag;
}

static void
exited(GObject *source, GAsyncResult *res, gpointer data)
{
    g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
    *(gboolean *)data = TRUE;
}

gboolean
tqemu_wait_exit(GSubprocess *proc, guint timeout_ms)
{
    gboolean done = FALSE;
    g_autoptr(GCancellable) cancel = g_cancellable_new();
    g_subprocess_wait_async(proc, cancel, exited, &done);
    if (tloop_wait(&done, timeout_ms))
        return TRUE;
    g_cancellable_cancel(cancel);
    while (!done)
        g_main_context_iteration(NULL, TRUE);
    return g_subprocess_get_if_exited(proc) || g_subprocess_get_if_signaled(proc);
}

/* ---- QMP ------------------------------------------------------------------------ */

typedef struct {
    gboolean done;
    GError *error;
    JsonNode *result;
} Sync;

static void
sync_ready(VdQmp *qmp, const GError *error, gpointer data)
{
    Sync *s = data;
    s->done = TRUE;
    if (error)
        s->error = g_error_copy(error);
}

VdQmp *
tqmp_connect_proc(const char *path, GSubprocess *proc, GError **error)
{
    Sync s = {0};
    gboolean exited_flag = FALSE;
    g_autoptr(GCancellable) cancel = g_cancellable_new();
    if (proc)
        g_subprocess_wait_async(proc, cancel, exited, &exited_flag);
    VdQmp *qmp = vd_qmp_connect(path, 10000, sync_ready, NULL, NULL, &s);
    gboolean timed_out = FALSE;
    guint id = g_timeout_add(15000, set_true, &timed_out);
    while (!s.done && !exited_flag && !timed_out)
        g_main_context_iteration(NULL, TRUE);
    if (!timed_out)
        g_source_remove(id);
    if (proc && !exited_flag) {
        g_cancellable_cancel(cancel);
        while (!exited_flag)
            g_main_context_iteration(NULL, TRUE);
    }
    if (!s.done) {
        vd_qmp_free(qmp);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    timed_out ? "no ready callback" : "QEMU exited before its monitor was ready");
        return NULL;
    }
    if (s.error) {
        g_propagate_error(error, s.error);
        vd_qmp_free(qmp);
        return NULL;
    }
    return qmp;
}

VdQmp *
tqmp_connect(const char *path, GError **error)
{
    return tqmp_connect_proc(path, NULL, error);
}

static void
sync_reply(VdQmp *qmp, JsonNode *result, const GError *error, gpointer data)
{
    Sync *s = data;
    s->done = TRUE;
    if (error)
        s->error = g_error_copy(error);
    else
        s->result = result ? json_node_copy(result) : json_node_new(JSON_NODE_NULL);
}

JsonNode *
tqmp_call(VdQmp *qmp, const char *command, JsonObject *arguments, GError **error)
{
    /* On the heap: after a timeout the reply may still come, and the
     * callback must have somewhere to write (leaked on purpose then). */
    Sync *s = g_new0(Sync, 1);
    vd_qmp_command(qmp, command, arguments, sync_reply, s);
    if (!tloop_wait(&s->done, 10000)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no reply to %s", command);
        return NULL;
    }
    JsonNode *result = s->result;
    if (s->error)
        g_propagate_error(error, s->error);
    g_free(s);
    return result;
}

/* ---- files ------------------------------------------------------------------------ */

char *
tmkdtemp(void)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("vdq-XXXXXX", &error);
    g_assert_no_error(error);
    return dir;
}

void
trmtree(const char *dir)
{
    if (!dir)
        return;
    GDir *d = g_dir_open(dir, 0, NULL);
    if (d) {
        const char *name;
        while ((name = g_dir_read_name(d))) {
            g_autofree char *path = g_build_filename(dir, name, NULL);
            if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK))
                trmtree(path);
            else
                g_unlink(path);
        }
        g_dir_close(d);
    }
    g_rmdir(dir);
}

void
tqmp_golden_check(const char *dir, const char *name, const char *cmd, JsonObject *args)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "execute");
    json_builder_add_string_value(b, cmd);
    json_builder_set_member_name(b, "arguments");
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, args);
    json_builder_add_value(b, n);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_pretty(gen, TRUE);
    json_generator_set_root(gen, root);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    g_autofree char *full = g_strconcat(text, "\n", NULL);
    g_autofree char *subdir = g_build_filename(VD_TEST_DATA_DIR, dir, NULL);
    g_autofree char *path = test_golden_path(subdir, name, ".json");
    test_golden_check(path, full);
}

JsonNode *
tjson_parse(const char *text)
{
    g_autoptr(GError) error = NULL;
    JsonNode *n = json_from_string(text, &error);
    g_assert_no_error(error);
    return n;
}
