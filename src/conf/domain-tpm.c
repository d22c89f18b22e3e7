/* Parsing of the domain's TPM devices and their swtpm emulator (issue 10): see domain-tpm.h. */
#include "conf/domain-tpm.h"

#include <string.h>

#include "conf/domain-private.h"
#include "util/vd-error.h"

static const char *const model_names[] = {"default", "tpm-tis", "tpm-crb", "tpm-spapr",
                                          "spapr-tpm-proxy"};
static const char *const backend_names[] = {"emulator", "external", "passthrough"};
static const char *const version_names[] = {"2.0", "1.2"};
/* The banks swtpm_setup --pcr-banks knows. */
static const char *const pcr_bank_names[] = {"sha1", "sha256", "sha384", "sha512", NULL};

G_STATIC_ASSERT(G_N_ELEMENTS(model_names) == VD_TPM_MODEL_LAST);
G_STATIC_ASSERT(G_N_ELEMENTS(backend_names) == VD_TPM_BACKEND_LAST);
G_STATIC_ASSERT(G_N_ELEMENTS(version_names) == VD_TPM_VERSION_LAST);

const char *
vd_tpm_model_to_string(VdTpmModel model)
{
    return model < VD_TPM_MODEL_LAST ? model_names[model] : "?";
}

const char *
vd_tpm_backend_to_string(VdTpmBackend backend)
{
    return backend < VD_TPM_BACKEND_LAST ? backend_names[backend] : "?";
}

const char *
vd_tpm_version_to_string(VdTpmVersion version)
{
    return version < VD_TPM_VERSION_LAST ? version_names[version] : "?";
}

VdTpmModel
vd_tpm_def_model(const VdTpmDef *tpm)
{
    return tpm->model == VD_TPM_MODEL_DEFAULT ? VD_TPM_MODEL_TIS : tpm->model;
}

static void
tpm_free(VdTpmDef *t)
{
    if (!t)
        return;
    g_free(t->device_path);
    g_free(t->source_path);
    g_free(t->encryption_secret);
    g_free(t->pcr_banks);
    g_free(t);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdTpmDef, tpm_free)

static VdTpmDef *
tpm_copy(const VdTpmDef *t)
{
    VdTpmDef *c = g_memdup2(t, sizeof(*t));
    c->device_path = g_strdup(t->device_path);
    c->source_path = g_strdup(t->source_path);
    c->encryption_secret = g_strdup(t->encryption_secret);
    c->pcr_banks = g_strdup(t->pcr_banks);
    return c;
}

VdTpmExtDef *
vd_tpm_def_new(void)
{
    VdTpmExtDef *x = g_new0(VdTpmExtDef, 1);
    x->tpms = g_ptr_array_new_with_free_func((GDestroyNotify)tpm_free);
    return x;
}

void
vd_tpm_def_free(VdTpmExtDef *x)
{
    if (!x)
        return;
    g_clear_pointer(&x->tpms, g_ptr_array_unref);
    g_free(x);
}

VdTpmExtDef *
vd_tpm_def_copy(const VdTpmExtDef *x)
{
    VdTpmExtDef *c = vd_tpm_def_new();
    for (guint i = 0; x && i < x->tpms->len; i++)
        g_ptr_array_add(c->tpms, tpm_copy(g_ptr_array_index(x->tpms, i)));
    return c;
}

/* @value's index in @names (@n of them), or -1. */
static int
lookup(const char *const *names, guint n, const char *value)
{
    for (guint i = 0; i < n; i++)
        if (g_str_equal(names[i], value))
            return (int)i;
    return -1;
}

static gboolean
bad_value(GError **error, const char *where, const char *value, const char *allowed)
{
    g_set_error(error, VD_ERROR, VD_ERROR_XML, "invalid value '%s' for %s: use %s", value, where,
                allowed);
    return FALSE;
}

static gboolean
parse_pcr_banks(VdTpmDef *tpm, const xmlNode *banks, GError **error)
{
    g_autoptr(GString) list = g_string_new(NULL);
    for (const xmlNode *b = banks->children; b; b = b->next) {
        if (b->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)b->name;
        if (b->ns || !g_strv_contains(pcr_bank_names, name))
            return bad_value(error, "<tpm><backend><active_pcr_banks>", name,
                             "<sha1/>, <sha256/>, <sha384/> or <sha512/>");
        /* swtpm_setup takes each bank once. */
        g_auto(GStrv) have = g_strsplit(list->str, ",", -1);
        if (g_strv_contains((const char *const *)have, name))
            continue;
        if (list->len)
            g_string_append_c(list, ',');
        g_string_append(list, name);
    }
    /* An empty list would deactivate every bank: swtpm_setup refuses it. */
    if (!list->len) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<tpm><backend><active_pcr_banks> is empty: name at least one bank, e.g. "
                    "<sha256/>, or remove the element for swtpm's default (sha256)");
        return FALSE;
    }
    tpm->pcr_banks = g_string_free(g_steal_pointer(&list), FALSE);
    return TRUE;
}

static gboolean
parse_backend(VdTpmDef *tpm, const xmlNode *node, GError **error)
{
    g_autofree char *type = vd_xml_prop(node, "type");
    g_autofree char *version = vd_xml_prop(node, "version");
    g_autofree char *persistent = vd_xml_prop(node, "persistent_state");
    int v;

    if (!type)
        return bad_value(error, "<tpm><backend type=>", "", "'emulator' (swtpm, run by virtd)");
    if ((v = lookup(backend_names, VD_TPM_BACKEND_LAST, type)) < 0)
        return bad_value(error, "<tpm><backend type=>", type,
                         "'emulator' (swtpm, run by virtd) or 'external'");
    tpm->backend = v;
    if (version) {
        if ((v = lookup(version_names, VD_TPM_VERSION_LAST, version)) < 0)
            return bad_value(error, "<tpm><backend version=>", version, "'2.0' or '1.2'");
        tpm->version = v;
    }
    if (persistent) {
        if (!g_str_equal(persistent, "yes") && !g_str_equal(persistent, "no"))
            return bad_value(error, "<tpm><backend persistent_state=>", persistent,
                             "'yes' or 'no'");
        tpm->persistent_state = g_str_equal(persistent, "yes");
    }
    xmlNode *n;
    if ((n = vd_xml_child(node, "device")))
        tpm->device_path = vd_xml_prop(n, "path");
    if ((n = vd_xml_child(node, "source"))) {
        g_autofree char *stype = vd_xml_prop(n, "type");
        if (stype && !g_str_equal(stype, "unix"))
            return bad_value(error, "<tpm><backend><source type=>", stype, "'unix'");
        tpm->source_path = vd_xml_prop(n, "path");
    }
    if ((n = vd_xml_child(node, "encryption"))) {
        tpm->encryption_secret = vd_xml_prop(n, "secret");
        if (!tpm->encryption_secret)
            tpm->encryption_secret = g_strdup("");
    }
    if ((n = vd_xml_child(node, "active_pcr_banks")) && !parse_pcr_banks(tpm, n, error))
        return FALSE;
    if (tpm->backend == VD_TPM_BACKEND_EXTERNAL && !tpm->source_path) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<tpm><backend type='external'> needs <source type='unix' mode='connect' "
                    "path='/run/swtpm.sock'/>: the control socket of the swtpm to connect to");
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_one(VdDomainDef *def, const xmlNode *node, GError **error)
{
    g_autoptr(VdTpmDef) tpm = g_new0(VdTpmDef, 1);
    g_autofree char *model = vd_xml_prop(node, "model");

    if (model) {
        int v = lookup(model_names, VD_TPM_MODEL_LAST, model);
        if (v <= VD_TPM_MODEL_DEFAULT)
            return bad_value(error, "<tpm model=>", model, "'tpm-crb' or 'tpm-tis'");
        tpm->model = v;
    }
    const xmlNode *backend = vd_xml_child(node, "backend");
    if (!backend) {
        g_set_error(error, VD_ERROR, VD_ERROR_XML,
                    "<tpm> without <backend>: add <backend type='emulator' version='2.0'/>");
        return FALSE;
    }
    if (!parse_backend(tpm, backend, error))
        return FALSE;
    g_ptr_array_add(def->tpm->tpms, g_steal_pointer(&tpm));
    return TRUE;
}

gboolean
vd_domain_tpm_parse(VdDomainDef *def, const xmlNode *root, GError **error)
{
    const xmlNode *devices = vd_xml_child(root, "devices");

    for (const xmlNode *n = devices ? vd_xml_child(devices, "tpm") : NULL; n;
         n = vd_xml_next(n, "tpm")) {
        if (!parse_one(def, n, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
startable_one(const VdTpmDef *tpm, GError **error)
{
    VdTpmModel model = vd_tpm_def_model(tpm);

    if (model == VD_TPM_MODEL_SPAPR || model == VD_TPM_MODEL_SPAPR_PROXY)
        return vd_domain_refuse(
            error,
            "<tpm model='%s'> is a TPM of ppc64 machines; an x86_64 guest needs "
            "model='tpm-crb' (TPM 2.0) or 'tpm-tis'",
            vd_tpm_model_to_string(model));
    switch (tpm->backend) {
    case VD_TPM_BACKEND_PASSTHROUGH:
        return vd_domain_refuse(
            error,
            "<tpm><backend type='passthrough'>%s%s%s is not supported: passthrough "
            "hands the host's TPM to one guest (and takes it from the host); use "
            "<backend type='emulator' version='2.0'/>, a TPM of the guest's own",
            tpm->device_path ? " (" : "", tpm->device_path ? tpm->device_path : "",
            tpm->device_path ? ")" : "");
    case VD_TPM_BACKEND_EXTERNAL:
        if (!g_path_is_absolute(tpm->source_path))
            return vd_domain_refuse(
                error,
                "<tpm><backend type='external'><source path='%s'> is not an absolute "
                "path: give the swtpm control socket's full path",
                tpm->source_path);
        break;
    case VD_TPM_BACKEND_EMULATOR:
    case VD_TPM_BACKEND_LAST:
        break;
    }
    if (tpm->version == VD_TPM_VERSION_1_2 && model != VD_TPM_MODEL_TIS)
        return vd_domain_refuse(
            error,
            "<tpm model='%s'> with <backend version='1.2'>: QEMU's %s is a TPM 2.0 "
            "interface; use version='2.0', or model='tpm-tis' for a TPM 1.2",
            vd_tpm_model_to_string(model), vd_tpm_model_to_string(model));
    if (tpm->encryption_secret)
        return vd_domain_refuse(
            error,
            "<tpm><backend><encryption secret='%s'> needs libvirt's secret store, "
            "which virtd does not have; remove <encryption> (the TPM state is then "
            "kept unencrypted, readable by root only)",
            tpm->encryption_secret);
    if (tpm->pcr_banks && tpm->version == VD_TPM_VERSION_1_2)
        return vd_domain_refuse(
            error, "<tpm><backend><active_pcr_banks> is for TPM 2.0: a TPM 1.2 has one "
                   "fixed SHA-1 bank; remove it or use version='2.0'");
    if (tpm->pcr_banks && tpm->backend != VD_TPM_BACKEND_EMULATOR)
        return vd_domain_refuse(
            error,
            "<tpm><backend><active_pcr_banks> configures the swtpm virtd runs; with "
            "type='%s' configure the TPM where it runs and remove the element",
            vd_tpm_backend_to_string(tpm->backend));
    return TRUE;
}

gboolean
vd_domain_tpm_check_startable(const VdDomainDef *def, GError **error)
{
    if (!def->tpm)
        return TRUE;
    /* libvirt allows a second TPM only as ppc64's spapr proxy. */
    if (def->tpm->tpms->len > 1)
        return vd_domain_refuse(error, "%u <tpm> devices: a guest has one TPM; remove all but one",
                                def->tpm->tpms->len);
    for (guint i = 0; i < def->tpm->tpms->len; i++)
        if (!startable_one(g_ptr_array_index(def->tpm->tpms, i), error))
            return FALSE;
    return TRUE;
}

const VdTpmDef *
vd_domain_tpm_emulator(const VdDomainDef *def)
{
    for (guint i = 0; def->tpm && i < def->tpm->tpms->len; i++) {
        const VdTpmDef *tpm = g_ptr_array_index(def->tpm->tpms, i);
        if (tpm->backend == VD_TPM_BACKEND_EMULATOR)
            return tpm;
    }
    return NULL;
}
