/* UEFI firmware auto-selection from QEMU's firmware descriptors: see
 * firmware-select.h. */
#include "qemu/firmware-select.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "conf/domain-firmware.h"
#include "util/vd-error.h"

void
vd_firmware_desc_free(VdFirmwareDesc *desc)
{
    if (!desc)
        return;
    g_free(desc->path);
    g_free(desc->description);
    g_free(desc->executable);
    g_free(desc->nvram_template);
    g_clear_pointer(&desc->machines, g_ptr_array_unref);
    g_free(desc);
}

static JsonArray *
member_array(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static JsonObject *
member_object(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static const char *
member_string(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
               ? json_node_get_string(n)
               : NULL;
}

static gboolean
array_has_string(JsonArray *a, const char *value)
{
    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonNode *n = json_array_get_element(a, i);
        if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING &&
            g_str_equal(json_node_get_string(n), value))
            return TRUE;
    }
    return FALSE;
}

VdFirmwareDesc *
vd_firmware_desc_parse(const char *json, gssize len, const char *path, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) local = NULL;

    if (!json_parser_load_from_data(parser, json, len, &local)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "firmware descriptor '%s' is not valid JSON: %s", path, local->message);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "firmware descriptor '%s' is not a JSON object", path);
        return NULL;
    }
    JsonObject *o = json_node_get_object(root);
    JsonObject *mapping = member_object(o, "mapping");
    if (!member_array(o, "interface-types") || !mapping || !member_string(mapping, "device") ||
        !member_array(o, "targets")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "firmware descriptor '%s' lacks interface-types, mapping.device or targets "
                    "(QEMU's docs/interop/firmware.json)",
                    path);
        return NULL;
    }

    g_autoptr(VdFirmwareDesc) d = g_new0(VdFirmwareDesc, 1);
    d->path = g_strdup(path);
    d->description = g_strdup(member_string(o, "description"));
    d->uefi = array_has_string(member_array(o, "interface-types"), "uefi");
    d->machines = g_ptr_array_new_with_free_func(g_free);

    const char *mode = member_string(mapping, "mode");
    JsonObject *exe = member_object(mapping, "executable");
    JsonObject *tmpl = member_object(mapping, "nvram-template");
    d->flash = g_str_equal(member_string(mapping, "device"), "flash") &&
               (!mode || g_str_equal(mode, "split")) && member_string(exe, "filename");
    if (d->flash) {
        const char *ef = member_string(exe, "format");
        const char *tf = member_string(tmpl, "format");
        d->executable = g_strdup(member_string(exe, "filename"));
        d->nvram_template = g_strdup(member_string(tmpl, "filename"));
        d->raw = (!ef || g_str_equal(ef, "raw")) && (!tf || g_str_equal(tf, "raw"));
    }

    JsonArray *targets = member_array(o, "targets");
    for (guint i = 0; i < json_array_get_length(targets); i++) {
        JsonNode *tn = json_array_get_element(targets, i);
        JsonObject *t = JSON_NODE_HOLDS_OBJECT(tn) ? json_node_get_object(tn) : NULL;
        if (g_strcmp0(member_string(t, "architecture"), "x86_64") != 0)
            continue;
        JsonArray *machines = member_array(t, "machines");
        for (guint j = 0; machines && j < json_array_get_length(machines); j++) {
            JsonNode *m = json_array_get_element(machines, j);
            if (JSON_NODE_HOLDS_VALUE(m) && json_node_get_value_type(m) == G_TYPE_STRING)
                g_ptr_array_add(d->machines, g_strdup(json_node_get_string(m)));
        }
    }

    JsonArray *features = member_array(o, "features");
    d->secure_boot = array_has_string(features, "secure-boot");
    d->enrolled_keys = array_has_string(features, "enrolled-keys");
    d->requires_smm = array_has_string(features, "requires-smm");
    return g_steal_pointer(&d);
}

static gint
compare_basename(gconstpointer a, gconstpointer b)
{
    g_autofree char *x = g_path_get_basename(*(const char *const *)a);
    g_autofree char *y = g_path_get_basename(*(const char *const *)b);
    return strcmp(x, y);
}

GPtrArray *
vd_firmware_desc_paths(const char *dirs)
{
    g_auto(GStrv) list = g_strsplit(dirs ? dirs : VD_FIRMWARE_DEFAULT_DIRS, ":", -1);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; list[i]; i++) {
        if (!*list[i])
            continue;
        g_autoptr(GDir) dir = g_dir_open(list[i], 0, NULL);
        const char *name;
        while (dir && (name = g_dir_read_name(dir))) {
            if (!g_str_has_suffix(name, ".json") || g_hash_table_contains(seen, name))
                continue;
            /* An earlier directory's file of this name hides the later
             * ones, even when it is empty: that is how one masks it. */
            g_hash_table_add(seen, g_strdup(name));
            g_autofree char *path = g_build_filename(list[i], name, NULL);
            GStatBuf st;
            if (g_stat(path, &st) == 0 && st.st_size > 0)
                g_ptr_array_add(paths, g_steal_pointer(&path));
        }
    }
    g_ptr_array_sort(paths, compare_basename);
    return paths;
}

GPtrArray *
vd_firmware_desc_load(const char *dirs)
{
    g_autoptr(GPtrArray) paths = vd_firmware_desc_paths(dirs);
    GPtrArray *descs = g_ptr_array_new_with_free_func((GDestroyNotify)vd_firmware_desc_free);

    for (guint i = 0; i < paths->len; i++) {
        const char *path = g_ptr_array_index(paths, i);
        g_autofree char *text = NULL;
        gsize len = 0;
        g_autoptr(GError) error = NULL;
        VdFirmwareDesc *d = NULL;

        if (g_file_get_contents(path, &text, &len, &error))
            d = vd_firmware_desc_parse(text, (gssize)len, path, &error);
        if (!d) {
            g_warning("firmware descriptor skipped: %s", error->message);
            continue;
        }
        g_ptr_array_add(descs, d);
    }
    return descs;
}

char *
vd_firmware_machine_name(const char *machine, const VdQemuCaps *caps)
{
    guint major = caps ? caps->version_major : 0, minor = caps ? caps->version_minor : 0;
    if (!machine || g_str_equal(machine, "pc"))
        return g_strdup_printf("pc-i440fx-%u.%u", major, minor);
    if (g_str_equal(machine, "q35"))
        return g_strdup_printf("pc-q35-%u.%u", major, minor);
    return g_strdup(machine);
}

static gboolean
machine_matches(const VdFirmwareDesc *d, const char *machine)
{
    for (guint i = 0; i < d->machines->len; i++)
        if (g_pattern_match_simple(g_ptr_array_index(d->machines, i), machine))
            return TRUE;
    return FALSE;
}

/* NULL when @d satisfies the domain, else why not (static text). */
static const char *
mismatch(const VdFirmwareDesc *d, const VdDomainDef *def, const char *machine)
{
    const VdFirmwareDef *fw = def->fw;
    if (!d->uefi)
        return "not UEFI";
    if (!d->flash)
        return "not a split flash (code + variables) firmware";
    if (!d->raw)
        return "not in raw format";
    if (!machine_matches(d, machine))
        return "not for this machine type";
    if (fw->secure_boot == 1 && !d->secure_boot)
        return "no secure boot";
    if (fw->secure_boot == 0 && d->secure_boot)
        return "secure boot (refused by the domain)";
    if (fw->enrolled_keys == 1 && !d->enrolled_keys)
        return "no enrolled keys";
    if (fw->enrolled_keys == 0 && d->enrolled_keys)
        return "enrolled keys (refused by the domain)";
    if (fw->loader_secure == 1 && !d->requires_smm)
        return "no SMM-protected flash (<loader secure='yes'>)";
    if (fw->smm == 0 && d->requires_smm)
        return "requires SMM (<smm state='off'>)";
    return NULL;
}

const VdFirmwareDesc *
vd_firmware_select(GPtrArray *descs, const VdDomainDef *def, const char *machine, const char *dirs,
                   GError **error)
{
    g_auto(GStrv) dirv = g_strsplit(dirs ? dirs : VD_FIRMWARE_DEFAULT_DIRS, ":", -1);
    g_autofree char *where = g_strjoinv(", ", dirv);

    if (vd_firmware_wants_secure(def) && !g_str_has_prefix(machine, "pc-q35-")) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "secure boot needs machine type q35: UEFI secure boot keeps its variables in "
                    "flash that only SMM may write, and machine '%s' cannot protect it; use <type "
                    "machine='q35'>, or remove the secure-boot/enrolled-keys features and "
                    "<loader secure='yes'>",
                    def->os.machine ? def->os.machine : machine);
        return NULL;
    }
    gboolean any_uefi = FALSE;
    for (guint i = 0; i < descs->len; i++) {
        const VdFirmwareDesc *d = g_ptr_array_index(descs, i);
        any_uefi |= d->uefi;
        if (!mismatch(d, def, machine))
            return d;
    }
    if (!any_uefi) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "no UEFI firmware for <os firmware='efi'>: no QEMU firmware descriptor of "
                    "interface 'uefi' in %s; install ovmf (apt install ovmf), or give <loader> "
                    "and <nvram template=> explicitly",
                    where);
        return NULL;
    }
    g_autoptr(GString) why = g_string_new(NULL);
    for (guint i = 0; i < descs->len; i++) {
        const VdFirmwareDesc *d = g_ptr_array_index(descs, i);
        g_autofree char *base = g_path_get_basename(d->path);
        g_string_append_printf(why, "%s%s: %s", why->len ? "; " : "", base,
                               mismatch(d, def, machine));
    }
    g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                "no UEFI firmware in %s satisfies domain '%s' on machine '%s' (%s)", where,
                def->name ? def->name : "?", machine, why->str);
    return NULL;
}

const VdFirmwareDesc *
vd_firmware_find_executable(GPtrArray *descs, const char *loader)
{
    for (guint i = 0; descs && i < descs->len; i++) {
        const VdFirmwareDesc *d = g_ptr_array_index(descs, i);
        if (d->flash && d->nvram_template && g_strcmp0(d->executable, loader) == 0)
            return d;
    }
    return NULL;
}

char *
vd_firmware_guess_template(const char *loader)
{
    g_autofree char *dir = g_path_get_dirname(loader);
    g_autofree char *base = g_path_get_basename(loader);
    static const char *const pairs[][2] = {{"_CODE", "_VARS"}, {"-code", "-vars"}};

    for (guint i = 0; i < G_N_ELEMENTS(pairs); i++) {
        char *at = strstr(base, pairs[i][0]);
        if (!at)
            continue;
        memcpy(at, pairs[i][1], strlen(pairs[i][1]));
        /* OVMF_CODE_4M.secboot.fd -> OVMF_VARS_4M.secboot.fd does not
         * exist on Debian: its secure build shares OVMF_VARS_4M.fd, which
         * the caller finds missing and then asks the user for a template. */
        return g_build_filename(dir, base, NULL);
    }
    return NULL;
}

void
vd_firmware_apply(VdDomainDef *live, const VdFirmwareDesc *desc)
{
    g_free(live->os.loader);
    live->os.loader = g_strdup(desc->executable);
    g_free(live->os.loader_type);
    live->os.loader_type = g_strdup("pflash");
    live->os.loader_readonly = TRUE;
    if (desc->nvram_template) {
        g_free(live->fw->nvram_template);
        live->fw->nvram_template = g_strdup(desc->nvram_template);
    }
    if (desc->requires_smm) {
        /* The firmware protects its variables with SMM: QEMU must let
         * only SMM write the flash, or the guest OS could change them. */
        live->fw->loader_secure = 1;
        if (live->fw->smm < 0)
            live->fw->smm = 1;
    }
}
