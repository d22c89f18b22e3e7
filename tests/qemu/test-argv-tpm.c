/* The TPM family's argv (qemu-command-tpm.c) against golden files
 * (tests/data/argv/tpm-*.args; VD_REGENERATE=1 rewrites them), and its
 * refusals. Apart from test-argv.c so that each family's goldens are read
 * in one place; whether QEMU accepts them is test-argv-qemu.c's job
 * (/qemu/argv-qemu/tpm). */
#include <string.h>

#include "conf/domain-tpm.h"
#include "qemu-test-util.h"
#include "qemu/qemu-command.h"
#include "qemu/qemu-run-fds.h"
#include "util/vd-error.h"

static const VdHostFacts host_swtpm = {.swtpm = "/usr/bin/swtpm"};
static const VdHostFacts host_bare = {0};

static VdQemuRunPaths
run_paths(void)
{
    VdQemuRunPaths p = trun_paths;
    p.host = &host_swtpm;
    p.tpm_socket_path = "/run/virtd/domains/dom.swtpm";
    return p;
}

static VdTpmDef *
add_tpm(VdDomainDef *def, VdTpmModel model, VdTpmBackend backend, VdTpmVersion version)
{
    VdTpmDef *t = g_new0(VdTpmDef, 1);
    t->model = model;
    t->backend = backend;
    t->version = version;
    g_ptr_array_add(def->tpm->tpms, t);
    return t;
}

typedef struct {
    const char *name;
    const char *machine;
    VdTpmModel model;
    VdTpmBackend backend;
    VdTpmVersion version;
    const char *source; /* external */
} GoldenCase;

static const GoldenCase golden_cases[] = {
    /* virt-install's */
    {"tpm-crb", "pc-q35-7.2", VD_TPM_MODEL_CRB, VD_TPM_BACKEND_EMULATOR, VD_TPM_VERSION_2_0, NULL},
    /* no model: tpm-tis; a TPM 1.2 looks the same to QEMU */
    {"tpm-tis", "pc", VD_TPM_MODEL_DEFAULT, VD_TPM_BACKEND_EMULATOR, VD_TPM_VERSION_1_2, NULL},
    /* a socket of the user's, commas escaped */
    {"tpm-external", "q35", VD_TPM_MODEL_TIS, VD_TPM_BACKEND_EXTERNAL, VD_TPM_VERSION_2_0,
     "/run/swtpm,x/ctrl.sock"},
};

static void
test_golden(gconstpointer data)
{
    const GoldenCase *c = data;
    g_autoptr(TDef) def = tdef_new(c->name, c->machine);
    VdTpmDef *t = add_tpm(def, c->model, c->backend, c->version);
    t->source_path = g_strdup(c->source);
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    VdQemuRunPaths paths = run_paths();
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) argv = vd_qemu_build_argv(def, caps, &paths, &error);
    g_assert_no_error(error);
    g_autofree char *text = vd_qemu_argv_to_string(argv);

    tgolden_check(c->name, text);
}

/* The three options, in order, whatever else the command line holds. */
static void
test_shape(void)
{
    g_autoptr(TDef) def = tdef_new("shape", "q35");
    add_tpm(def, VD_TPM_MODEL_CRB, VD_TPM_BACKEND_EMULATOR, VD_TPM_VERSION_2_0);
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    VdQemuRunPaths paths = run_paths();
    g_autoptr(GPtrArray) requests = g_ptr_array_new_with_free_func(vd_qemu_fd_request_free);
    paths.fd_requests = requests;
    g_autoptr(GPtrArray) argv = vd_qemu_build_argv(def, caps, &paths, NULL);
    g_assert_nonnull(argv);
    guint i;
    for (i = 2; i + 3 < argv->len; i++)
        if (g_str_equal(argv->pdata[i], "-tpmdev"))
            break;
    g_assert_cmpuint(i + 3, <, argv->len);
    g_assert_cmpstr(argv->pdata[i - 2], ==, "-chardev");
    /* QEMU gets swtpm's socket connected by the daemon: the descriptor
     * requested for it is the one the chardev names. */
    const VdQemuFdRequest *tpm_fd = NULL;
    for (guint r = 0; r < requests->len; r++) {
        const VdQemuFdRequest *req = requests->pdata[r];
        if (g_str_equal(req->path, "/run/virtd/domains/dom.swtpm"))
            tpm_fd = req;
    }
    g_assert_nonnull(tpm_fd);
    g_assert_cmpint(tpm_fd->kind, ==, VD_QEMU_FD_CONNECT);
    g_autofree char *chardev = g_strdup_printf("socket,id=chrtpm,fd=%d", tpm_fd->number);
    g_assert_cmpstr(argv->pdata[i - 1], ==, chardev);
    g_assert_cmpstr(argv->pdata[i + 1], ==, "emulator,id=tpm-tpm0,chardev=chrtpm");
    g_assert_cmpstr(argv->pdata[i + 2], ==, "-device");
    g_assert_cmpstr(argv->pdata[i + 3], ==,
                    "{\"driver\":\"tpm-crb\",\"tpmdev\":\"tpm-tpm0\",\"id\":\"tpm0\"}");
}

typedef struct {
    const char *name;
    VdTpmModel model;
    VdTpmBackend backend;
    VdTpmVersion version;
    gboolean no_socket;
    const VdHostFacts *host;
    VdErrorCode code;
    const char *message;
} ErrorCase;

static const ErrorCase error_cases[] = {
    {"no-swtpm", VD_TPM_MODEL_CRB, VD_TPM_BACKEND_EMULATOR, VD_TPM_VERSION_2_0, TRUE, &host_bare,
     VD_ERROR_UNSUPPORTED, "TPM emulation needs swtpm: apt-get install swtpm swtpm-tools"},
    {"no-socket", VD_TPM_MODEL_CRB, VD_TPM_BACKEND_EMULATOR, VD_TPM_VERSION_2_0, TRUE, &host_swtpm,
     VD_ERROR_INTERNAL, "no swtpm socket was given"},
    {"passthrough", VD_TPM_MODEL_TIS, VD_TPM_BACKEND_PASSTHROUGH, VD_TPM_VERSION_2_0, FALSE,
     &host_swtpm, VD_ERROR_UNSUPPORTED, "passthrough hands the host's TPM to one guest"},
    {"spapr", VD_TPM_MODEL_SPAPR, VD_TPM_BACKEND_EMULATOR, VD_TPM_VERSION_2_0, FALSE, &host_swtpm,
     VD_ERROR_UNSUPPORTED, "a TPM of ppc64 machines"},
};

static void
test_error(gconstpointer data)
{
    const ErrorCase *c = data;
    g_autoptr(TDef) def = tdef_new("bad", "q35");
    add_tpm(def, c->model, c->backend, c->version);
    g_autoptr(VdQemuCaps) caps = tcaps_fake();
    VdQemuRunPaths paths = run_paths();
    paths.host = c->host;
    if (c->no_socket)
        paths.tpm_socket_path = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) argv = vd_qemu_build_argv(def, caps, &paths, &error);
    targv_assert_refused(argv, error, c->code, c->message);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(golden_cases); i++) {
        g_autofree char *path = g_strdup_printf("/qemu/argv-tpm/golden/%s", golden_cases[i].name);
        g_test_add_data_func(path, &golden_cases[i], test_golden);
    }
    for (guint i = 0; i < G_N_ELEMENTS(error_cases); i++) {
        g_autofree char *path = g_strdup_printf("/qemu/argv-tpm/error/%s", error_cases[i].name);
        g_test_add_data_func(path, &error_cases[i], test_error);
    }
    g_test_add_func("/qemu/argv-tpm/shape", test_shape);
    return g_test_run();
}
