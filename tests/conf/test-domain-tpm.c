/* conf/'s TPM family (domain-tpm.c): parse into typed fields, deep copy,
 * the unsupported table (TYPED, nothing reported), and what start refuses
 * with its reason. The XML is inline: each case is one <tpm> element in
 * an otherwise minimal domain. */
#include <glib.h>
#include <string.h>

#include "conf/domain-def.h"
#include "conf/domain-tpm.h"
#include "util/vd-error.h"

static VdDomainDef *
parse_with(const char *devices, const char *machine, GError **error)
{
    g_autofree char *xml =
        g_strdup_printf("<domain type='qemu'><name>t</name><memory unit='MiB'>256</memory>"
                        "<os><type arch='x86_64' machine='%s'>hvm</type></os>"
                        "<devices>%s</devices></domain>",
                        machine, devices);
    VdDomainDef *def = vd_domain_def_parse(xml, -1, error);
    if (def)
        vd_domain_def_apply_defaults(def);
    return def;
}

static const VdTpmDef *
only_tpm(const VdDomainDef *def)
{
    g_assert_nonnull(def->tpm);
    g_assert_cmpuint(def->tpm->tpms->len, ==, 1);
    return g_ptr_array_index(def->tpm->tpms, 0);
}

/* What virt-install writes (every TPM of the corpus is this one). */
static void
test_virt_install(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) def = parse_with(
        "<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>", "q35", &error);
    g_assert_no_error(error);
    const VdTpmDef *tpm = only_tpm(def);
    g_assert_cmpint(tpm->model, ==, VD_TPM_MODEL_CRB);
    g_assert_cmpint(tpm->backend, ==, VD_TPM_BACKEND_EMULATOR);
    g_assert_cmpint(tpm->version, ==, VD_TPM_VERSION_2_0);
    g_assert_true(vd_domain_tpm_emulator(def) == tpm);
    /* Nothing left unsupported: define warns of nothing, start goes ahead. */
    g_autoptr(GPtrArray) warnings = vd_domain_def_warnings(def);
    g_assert_cmpuint(warnings->len, ==, 0);
    g_assert_true(vd_domain_def_check_startable(def, &error));
    g_assert_no_error(error);

    /* The copy is deep. */
    g_autoptr(VdDomainDef) copy = vd_domain_def_copy(def);
    const VdTpmDef *c = only_tpm(copy);
    g_assert_true(c != tpm);
    g_assert_cmpint(c->model, ==, VD_TPM_MODEL_CRB);

    /* dumpxml gives the element back as written. */
    g_autofree char *out = vd_domain_def_format(def, VD_DOMAIN_FORMAT_INACTIVE);
    g_assert_nonnull(strstr(out, "<tpm model='tpm-crb'>\n"
                                 "      <backend type='emulator' version='2.0'/>\n"
                                 "    </tpm>"));
}

static void
test_defaults_and_options(void)
{
    g_autoptr(GError) error = NULL;
    /* No model, no version: tpm-tis with TPM 2.0. */
    g_autoptr(VdDomainDef) def = parse_with("<tpm><backend type='emulator'/></tpm>", "pc", &error);
    g_assert_no_error(error);
    const VdTpmDef *tpm = only_tpm(def);
    g_assert_cmpint(vd_tpm_def_model(tpm), ==, VD_TPM_MODEL_TIS);
    g_assert_cmpint(tpm->version, ==, VD_TPM_VERSION_2_0);
    g_assert_null(tpm->pcr_banks);

    g_autoptr(VdDomainDef) banks = parse_with(
        "<tpm model='tpm-tis'><backend type='emulator' version='2.0' persistent_state='yes'>"
        "<active_pcr_banks><sha256/><sha384/><sha256/></active_pcr_banks></backend></tpm>",
        "q35", &error);
    g_assert_no_error(error);
    tpm = only_tpm(banks);
    g_assert_cmpstr(tpm->pcr_banks, ==, "sha256,sha384");
    g_assert_true(tpm->persistent_state);
    g_autoptr(VdDomainDef) copy = vd_domain_def_copy(banks);
    g_assert_cmpstr(only_tpm(copy)->pcr_banks, ==, "sha256,sha384");
    g_assert_true(vd_domain_def_check_startable(banks, &error));

    /* TPM 1.2 on tpm-tis is what libvirt allows. */
    g_autoptr(VdDomainDef) old = parse_with(
        "<tpm model='tpm-tis'><backend type='emulator' version='1.2'/></tpm>", "pc", &error);
    g_assert_no_error(error);
    g_assert_cmpint(only_tpm(old)->version, ==, VD_TPM_VERSION_1_2);
    g_assert_true(vd_domain_def_check_startable(old, &error));

    /* An swtpm someone else runs. */
    g_autoptr(VdDomainDef) ext =
        parse_with("<tpm model='tpm-crb'><backend type='external'>"
                   "<source type='unix' mode='connect' path='/run/my-swtpm.sock'/></backend></tpm>",
                   "q35", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(only_tpm(ext)->source_path, ==, "/run/my-swtpm.sock");
    g_assert_null(vd_domain_tpm_emulator(ext));
    g_assert_true(vd_domain_def_check_startable(ext, &error));
}

typedef struct {
    const char *name;
    const char *xml;
    const char *machine;
    VdErrorCode code;    /* of parse, or VD_ERROR_UNSUPPORTED from check_startable */
    gboolean at_start;   /* parse succeeds, start refuses */
    const char *message; /* a substring */
} BadCase;

static const BadCase bad_cases[] = {
    {"passthrough",
     "<tpm model='tpm-tis'><backend type='passthrough'><device path='/dev/tpm0'/></backend></tpm>",
     "pc", VD_ERROR_UNSUPPORTED, TRUE,
     "passthrough hands the host's TPM to one guest (and takes it from the host); use "
     "<backend type='emulator' version='2.0'/>"},
    {"crb-1.2", "<tpm model='tpm-crb'><backend type='emulator' version='1.2'/></tpm>", "q35",
     VD_ERROR_UNSUPPORTED, TRUE, "use version='2.0', or model='tpm-tis' for a TPM 1.2"},
    {"encryption",
     "<tpm model='tpm-crb'><backend type='emulator' version='2.0'>"
     "<encryption secret='6dd3e4a5-1d76-44ce-961f-f119f5aad935'/></backend></tpm>",
     "q35", VD_ERROR_UNSUPPORTED, TRUE, "needs libvirt's secret store"},
    {"spapr", "<tpm model='tpm-spapr'><backend type='emulator'/></tpm>", "q35",
     VD_ERROR_UNSUPPORTED, TRUE, "is a TPM of ppc64 machines"},
    {"two", "<tpm><backend type='emulator'/></tpm><tpm><backend type='emulator'/></tpm>", "q35",
     VD_ERROR_UNSUPPORTED, TRUE, "a guest has one TPM"},
    {"banks-1.2",
     "<tpm model='tpm-tis'><backend type='emulator' version='1.2'>"
     "<active_pcr_banks><sha1/></active_pcr_banks></backend></tpm>",
     "pc", VD_ERROR_UNSUPPORTED, TRUE, "is for TPM 2.0"},
    {"model", "<tpm model='tpm-foo'><backend type='emulator'/></tpm>", "q35", VD_ERROR_XML, FALSE,
     "invalid value 'tpm-foo' for <tpm model=>"},
    {"version", "<tpm><backend type='emulator' version='3.0'/></tpm>", "q35", VD_ERROR_XML, FALSE,
     "invalid value '3.0' for <tpm><backend version=>"},
    {"backend", "<tpm model='tpm-crb'/>", "q35", VD_ERROR_XML, FALSE, "<tpm> without <backend>"},
    {"backend-type", "<tpm><backend type='magic'/></tpm>", "q35", VD_ERROR_XML, FALSE,
     "invalid value 'magic' for <tpm><backend type=>"},
    {"bank",
     "<tpm><backend type='emulator'><active_pcr_banks><md5/></active_pcr_banks>"
     "</backend></tpm>",
     "q35", VD_ERROR_XML, FALSE, "invalid value 'md5'"},
    {"no-banks", "<tpm><backend type='emulator'><active_pcr_banks/></backend></tpm>", "q35",
     VD_ERROR_XML, FALSE, "is empty"},
    {"external-no-source", "<tpm><backend type='external'/></tpm>", "q35", VD_ERROR_XML, FALSE,
     "needs <source type='unix'"},
};

static void
test_bad(gconstpointer data)
{
    const BadCase *c = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) def = parse_with(c->xml, c->machine, &error);
    if (c->at_start) {
        g_assert_no_error(error);
        g_assert_nonnull(def);
        g_assert_false(vd_domain_def_check_startable(def, &error));
    } else {
        g_assert_null(def);
    }
    g_assert_error(error, VD_ERROR, (int)c->code);
    if (!strstr(error->message, c->message))
        g_test_fail_printf("message '%s' lacks '%s'", error->message, c->message);
}

/* Children and attributes the table does not know still block a start:
 * an element of a later libvirt may change the TPM the guest gets. */
static void
test_unknown_child(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdDomainDef) def = parse_with(
        "<tpm model='tpm-crb'><backend type='emulator'><profile source='x'/></backend></tpm>",
        "q35", &error);
    g_assert_no_error(error);
    g_assert_false(vd_domain_def_check_startable(def, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, "domain/devices/tpm/backend/profile"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/conf/tpm/virt-install", test_virt_install);
    g_test_add_func("/conf/tpm/defaults-and-options", test_defaults_and_options);
    g_test_add_func("/conf/tpm/unknown-child", test_unknown_child);
    for (guint i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        g_autofree char *path = g_strdup_printf("/conf/tpm/bad/%s", bad_cases[i].name);
        g_test_add_data_func(path, &bad_cases[i], test_bad);
    }
    return g_test_run();
}
