/* virt-install's sub-option syntax: "VALUE,key=value,key=value", the
 * first item optionally bare. Pure parsing, no I/O; every error quotes the
 * option, the key and the value so the user sees what to change. */
#include <stdlib.h>
#include <string.h>

#include "util/vd-error.h"
#include "vsh-install-items.h"
#include "vsh-install.h"

static void
item_free(gpointer data)
{
    VshInstallItem *it = data;

    g_free(it->key);
    g_free(it->value);
    g_free(it);
}

/* Splits @spec at the commas outside double quotes, dropping the quotes:
 * virt-install's way to put a comma in a value, as in
 * --boot 'kernel=/k,kernel_args="console=ttyS0,115200n8"'. An unclosed
 * quote is an error. */
static char **
split_commas(const char *opt, const char *spec, GError **error)
{
    g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) cur = g_string_new(NULL);
    gboolean quoted = FALSE;

    for (const char *c = spec; *c; c++) {
        if (*c == '"')
            quoted = !quoted;
        else if (*c == ',' && !quoted) {
            g_ptr_array_add(parts, g_strdup(cur->str));
            g_string_truncate(cur, 0);
        } else
            g_string_append_c(cur, *c);
    }
    if (quoted) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--%s: unbalanced double quote in '%s'", opt, spec);
        return NULL;
    }
    g_ptr_array_add(parts, g_strdup(cur->str));
    g_ptr_array_add(parts, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&parts), FALSE);
}

GPtrArray *
vsh_install_split_items(const char *opt, const char *spec, GError **error)
{
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(item_free);
    g_auto(GStrv) parts = NULL;

    if (!spec || !*spec) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "--%s: empty value", opt);
        return NULL;
    }
    parts = split_commas(opt, spec, error);
    if (!parts)
        return NULL;
    for (guint i = 0; parts[i]; i++) {
        VshInstallItem *it = g_new0(VshInstallItem, 1);
        const char *eq = strchr(parts[i], '=');

        if (eq) {
            it->key = g_strndup(parts[i], (gsize)(eq - parts[i]));
            it->value = g_strdup(eq + 1);
        } else {
            it->value = g_strdup(parts[i]);
        }
        g_ptr_array_add(items, it);
        if (!eq && i > 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "--%s: '%s' is not a key=value pair (in '%s')", opt, parts[i], spec);
            return NULL;
        }
        if (eq && !*it->key) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "--%s: empty key in '%s'", opt,
                        spec);
            return NULL;
        }
    }
    return g_steal_pointer(&items);
}

gboolean
vsh_install_unknown_key(const char *opt, const VshInstallItem *it, const char *known,
                        GError **error)
{
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "--%s: unknown option '%s' (known: %s)",
                opt, it->key, known);
    return FALSE;
}

static gboolean
parse_uint(const char *opt, const char *key, const char *value, guint64 min, guint64 *out,
           GError **error)
{
    guint64 n;

    if (!g_ascii_string_to_unsigned(value, 10, min, G_MAXUINT32, &n, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--%s: %s '%s' is not a whole number of at least %" G_GUINT64_FORMAT, opt, key,
                    value, min);
        return FALSE;
    }
    *out = n;
    return TRUE;
}

/* on/off/yes/no, as virt-install's bool keys. */
static gboolean
parse_bool(const char *opt, const VshInstallItem *it, gboolean *out, GError **error)
{
    static const char *const yes[] = {"on", "yes", "true", "1"};
    static const char *const no[] = {"off", "no", "false", "0"};

    for (gsize i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (g_ascii_strcasecmp(it->value, yes[i]) == 0 ||
            g_ascii_strcasecmp(it->value, no[i]) == 0) {
            *out = g_ascii_strcasecmp(it->value, yes[i]) == 0;
            return TRUE;
        }
    }
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "--%s: %s '%s' is not on or off", opt,
                it->key, it->value);
    return FALSE;
}

gboolean
vsh_install_one_of(const char *opt, const char *key, const char *value,
                   const char *const *allowed, GError **error)
{
    g_autofree char *list = NULL;

    for (guint i = 0; allowed[i]; i++) {
        if (g_str_equal(value, allowed[i]))
            return TRUE;
    }
    list = g_strjoinv(", ", (char **)allowed);
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "--%s: unknown %s '%s' (use one of: %s)",
                opt, key, value, list);
    return FALSE;
}

/* ---- --disk ---- */

void
vsh_install_disk_free(VshInstallDisk *disk)
{
    if (!disk)
        return;
    g_free(disk->path);
    g_free(disk->pool);
    g_free(disk->vol);
    g_free(disk->format);
    g_free(disk->bus);
    g_free(disk->backing_store);
    g_free(disk->cache);
    g_free(disk->target);
    g_free(disk->create_name);
    g_free(disk);
}

static gboolean
parse_size_gib(const char *value, guint64 *bytes, GError **error)
{
    char *end = NULL;
    double gib = g_ascii_strtod(value, &end);

    if (!*value || !end || *end || !(gib > 0) || gib > 1024.0 * 1024.0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--disk: size '%s' is not a size in GiB (e.g. size=20 or size=0.5)", value);
        return FALSE;
    }
    *bytes = (guint64)(gib * 1024.0 * 1024.0 * 1024.0);
    /* qemu-img and pools round to sectors anyway; keep it whole. */
    *bytes = (*bytes + 511) / 512 * 512;
    return TRUE;
}

static VshInstallDisk *parse_disk(const char *spec, gboolean edit, GError **error);

VshInstallDisk *
vsh_install_parse_disk(const char *spec, GError **error)
{
    return parse_disk(spec, FALSE, error);
}

VshInstallDisk *
vsh_install_parse_disk_edit(const char *spec, GError **error)
{
    return parse_disk(spec, TRUE, error);
}

static VshInstallDisk *
parse_disk(const char *spec, gboolean edit, GError **error)
{
    static const char *const caches[] = {"default",    "none",   "writeback", "writethrough",
                                         "directsync", "unsafe", NULL};
    static const char *const buses[] = {"virtio", "sata", "scsi", "ide", "usb", NULL};
    static const char *const devices[] = {"disk", "cdrom", NULL};
    static const char *const formats[] = {"qcow2", "raw", NULL};
    g_autoptr(VshInstallDisk) disk = g_new0(VshInstallDisk, 1);
    g_autoptr(GPtrArray) items = vsh_install_split_items("disk", spec, error);

    if (!items)
        return NULL;
    for (guint i = 0; i < items->len; i++) {
        VshInstallItem *it = g_ptr_array_index(items, i);
        const char *k = it->key;

        if (!k) {
            if (g_str_equal(it->value, "none") && items->len == 1 && !edit) {
                disk->none = TRUE;
                continue;
            }
            /* virt-install: a bare first item is the path. */
            g_free(disk->path);
            disk->path = g_strdup(it->value);
        } else if (g_str_equal(k, "path")) {
            g_free(disk->path);
            disk->path = g_strdup(it->value);
        } else if (g_str_equal(k, "size")) {
            if (!parse_size_gib(it->value, &disk->size_bytes, error))
                return NULL;
            disk->has_size = TRUE;
        } else if (g_str_equal(k, "format")) {
            if (!vsh_install_one_of("disk", "format", it->value, formats, error))
                return NULL;
            g_free(disk->format);
            disk->format = g_strdup(it->value);
        } else if (g_str_equal(k, "bus")) {
            if (!vsh_install_one_of("disk", "bus", it->value, buses, error))
                return NULL;
            g_free(disk->bus);
            disk->bus = g_strdup(it->value);
        } else if (g_str_equal(k, "device")) {
            if (!vsh_install_one_of("disk", "device", it->value, devices, error))
                return NULL;
            disk->cdrom = g_str_equal(it->value, "cdrom");
        } else if (g_str_equal(k, "pool")) {
            g_free(disk->pool);
            disk->pool = g_strdup(it->value);
        } else if (g_str_equal(k, "vol")) {
            g_free(disk->vol);
            disk->vol = g_strdup(it->value);
        } else if (g_str_equal(k, "backing_store")) {
            g_free(disk->backing_store);
            disk->backing_store = g_strdup(it->value);
        } else if (g_str_equal(k, "readonly")) {
            if (!parse_bool("disk", it, &disk->readonly, error))
                return NULL;
            disk->has_readonly = TRUE;
        } else if (g_str_equal(k, "cache")) {
            if (!vsh_install_one_of("disk", "cache", it->value, caches, error))
                return NULL;
            g_free(disk->cache);
            disk->cache = g_strdup(it->value);
        } else {
            vsh_install_unknown_key(
                "disk", it,
                "path, size, format, bus, device, pool, vol, backing_store, readonly, cache",
                error);
            return NULL;
        }
    }
    if (disk->none)
        return g_steal_pointer(&disk);
    /* An edit changes what it names; size=, pool= and vol= make disks. */
    if (edit && (disk->has_size || disk->pool || disk->vol || disk->backing_store)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--disk '%s': size=, pool=, vol= and backing_store= make a new disk; "
                    "--edit changes path, format, bus, readonly, cache (use --add-device)",
                    spec);
        return NULL;
    }

    /* vol=POOL/NAME is virt-install's other spelling of pool=,vol=. */
    if (disk->vol && !disk->pool && strchr(disk->vol, '/')) {
        const char *slash = strchr(disk->vol, '/');
        char *name = g_strdup(slash + 1);

        disk->pool = g_strndup(disk->vol, (gsize)(slash - disk->vol));
        g_free(disk->vol);
        disk->vol = name;
    }
    if (disk->path && (disk->pool || disk->vol)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--disk '%s': give either path= or pool=/vol=, not both", spec);
        return NULL;
    }
    if (disk->vol && !disk->pool) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--disk '%s': vol= needs its pool: pool=NAME,vol=%s or vol=POOL/%s", spec,
                    disk->vol, disk->vol);
        return NULL;
    }
    if (disk->vol && disk->has_size) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--disk '%s': vol= names an existing volume; size= is for new ones "
                    "(use pool=%s,size=N)",
                    spec, disk->pool);
        return NULL;
    }
    if (!edit && !disk->path && !disk->vol && !disk->has_size) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--disk '%s': nothing to attach; give path=, vol= or size= (GiB of a new "
                    "volume)",
                    spec);
        return NULL;
    }
    if (disk->path && !g_path_is_absolute(disk->path)) {
        char *abs = g_canonicalize_filename(disk->path, NULL);

        g_free(disk->path);
        disk->path = abs;
    }
    if (disk->backing_store && disk->format && !g_str_equal(disk->format, "qcow2")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--disk '%s': backing_store= needs format=qcow2", spec);
        return NULL;
    }
    return g_steal_pointer(&disk);
}

/* ---- --memory, --vcpus, --cpu ---- */

gboolean
vsh_install_parse_memory(const char *spec, guint64 *mib, guint64 *max_mib, GError **error)
{
    g_autoptr(GPtrArray) items = vsh_install_split_items("memory", spec, error);
    guint64 cur = 0, max = 0;

    if (!items)
        return FALSE;
    for (guint i = 0; i < items->len; i++) {
        VshInstallItem *it = g_ptr_array_index(items, i);

        if (!it->key || g_str_equal(it->key, "memory") || g_str_equal(it->key, "currentMemory")) {
            if (!parse_uint("memory", "memory", it->value, 16, &cur, error))
                return FALSE;
        } else if (g_str_equal(it->key, "maxmemory") || g_str_equal(it->key, "maxMemory")) {
            if (!parse_uint("memory", "maxmemory", it->value, 16, &max, error))
                return FALSE;
        } else {
            return vsh_install_unknown_key("memory", it, "memory, maxmemory", error);
        }
    }
    if (!cur) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--memory '%s': give the memory in MiB, e.g. --memory 2048", spec);
        return FALSE;
    }
    if (max && max < cur) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--memory '%s': maxmemory (%" G_GUINT64_FORMAT
                    " MiB) is below memory (%" G_GUINT64_FORMAT " MiB)",
                    spec, max, cur);
        return FALSE;
    }
    *mib = cur;
    *max_mib = max ? max : cur;
    return TRUE;
}

gboolean
vsh_install_parse_vcpus(const char *spec, guint *vcpus, guint *max, GError **error)
{
    g_autoptr(GPtrArray) items = vsh_install_split_items("vcpus", spec, error);
    guint64 n = 0, m = 0;

    if (!items)
        return FALSE;
    for (guint i = 0; i < items->len; i++) {
        VshInstallItem *it = g_ptr_array_index(items, i);

        if (!it->key || g_str_equal(it->key, "vcpus")) {
            if (!parse_uint("vcpus", "vcpus", it->value, 1, &n, error))
                return FALSE;
        } else if (g_str_equal(it->key, "maxvcpus")) {
            if (!parse_uint("vcpus", "maxvcpus", it->value, 1, &m, error))
                return FALSE;
        } else {
            return vsh_install_unknown_key("vcpus", it, "vcpus, maxvcpus", error);
        }
    }
    if (!n)
        n = m ? m : 1;
    if (m && m < n) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--vcpus '%s': maxvcpus (%" G_GUINT64_FORMAT
                    ") is below vcpus (%" G_GUINT64_FORMAT ")",
                    spec, m, n);
        return FALSE;
    }
    if ((m ? m : n) > 255) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "--vcpus '%s': at most 255 vCPUs",
                    spec);
        return FALSE;
    }
    *vcpus = (guint)n;
    *max = (guint)(m ? m : n);
    return TRUE;
}

void
vsh_install_cpu_clear(VshInstallCpu *cpu)
{
    g_clear_pointer(&cpu->mode, g_free);
    g_clear_pointer(&cpu->model, g_free);
}

gboolean
vsh_install_parse_cpu(const char *spec, VshInstallCpu *cpu, GError **error)
{
    g_autoptr(GPtrArray) items = vsh_install_split_items("cpu", spec, error);

    if (!items)
        return FALSE;
    vsh_install_cpu_clear(cpu);
    for (guint i = 0; i < items->len; i++) {
        VshInstallItem *it = g_ptr_array_index(items, i);
        const char *v = it->value;

        if (!it->key || g_str_equal(it->key, "mode") || g_str_equal(it->key, "model")) {
            gboolean mode_word = g_str_equal(v, "host-passthrough") ||
                                 g_str_equal(v, "host-model") || g_str_equal(v, "host");
            if (it->key && g_str_equal(it->key, "mode") && !mode_word) {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "--cpu: unknown mode '%s' (use host-passthrough or host-model)", v);
                return FALSE;
            }
            g_free(cpu->mode);
            g_free(cpu->model);
            cpu->model = NULL;
            if (mode_word) {
                /* virt-install's "host" is host-model. */
                cpu->mode = g_strdup(g_str_equal(v, "host") ? "host-model" : v);
            } else {
                cpu->mode = g_strdup("custom");
                cpu->model = g_strdup(v);
            }
        } else {
            vsh_install_cpu_clear(cpu);
            return vsh_install_unknown_key("cpu", it, "mode, model", error);
        }
    }
    return TRUE;
}

/* ---- --graphics (--network: vsh-install-net.c) ---- */

void
vsh_install_graphics_clear(VshInstallGraphics *g)
{
    g_clear_pointer(&g->listen, g_free);
    g_clear_pointer(&g->password, g_free);
    g->vnc = FALSE;
    g->port = -1;
}

gboolean
vsh_install_parse_graphics(const char *spec, VshInstallGraphics *g, GError **error)
{
    g_autoptr(GPtrArray) items = vsh_install_split_items("graphics", spec, error);
    const char *type = NULL;

    vsh_install_graphics_clear(g);
    if (!items)
        return FALSE;
    for (guint i = 0; i < items->len; i++) {
        VshInstallItem *it = g_ptr_array_index(items, i);
        const char *k = it->key;

        if (!k || g_str_equal(k, "type")) {
            type = it->value;
        } else if (g_str_equal(k, "listen")) {
            g_free(g->listen);
            g->listen = g_strdup(it->value);
        } else if (g_str_equal(k, "port")) {
            gint64 port;

            if (!g_ascii_string_to_signed(it->value, 10, -1, 65535, &port, NULL) ||
                (port >= 0 && port < 5900)) {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "--graphics: port '%s' is not -1 (automatic) or a TCP port from 5900",
                            it->value);
                vsh_install_graphics_clear(g);
                return FALSE;
            }
            g->port = (int)port;
        } else if (g_str_equal(k, "password") || g_str_equal(k, "passwd")) {
            g_free(g->password);
            g->password = g_strdup(it->value);
        } else {
            vsh_install_graphics_clear(g);
            return vsh_install_unknown_key("graphics", it, "type, listen, port, password", error);
        }
    }
    if (!type) {
        type = "vnc";
    }
    if (g_str_equal(type, "none")) {
        if (items->len > 1) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "--graphics '%s': none takes no options", spec);
            vsh_install_graphics_clear(g);
            return FALSE;
        }
        return TRUE;
    }
    if (!g_str_equal(type, "vnc")) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "--graphics: type '%s' is not supported by virtd (use vnc or none)", type);
        vsh_install_graphics_clear(g);
        return FALSE;
    }
    g->vnc = TRUE;
    return TRUE;
}

/* ---- --boot ---- */

void
vsh_install_boot_clear(VshInstallBoot *boot)
{
    g_clear_pointer(&boot->devs, g_ptr_array_unref);
    g_clear_pointer(&boot->kernel, g_free);
    g_clear_pointer(&boot->initrd, g_free);
    g_clear_pointer(&boot->kernel_args, g_free);
}

gboolean
vsh_install_parse_boot(const char *spec, VshInstallBoot *boot, GError **error)
{
    g_autoptr(GPtrArray) items = NULL;
    g_auto(GStrv) parts = NULL;

    vsh_install_boot_clear(boot);
    boot->devs = g_ptr_array_new_with_free_func(g_free);
    if (!spec || !*spec) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "--boot: empty value");
        return FALSE;
    }
    /* Unlike other options, --boot's device order is several bare items. */
    parts = split_commas("boot", spec, error);
    if (!parts)
        return FALSE;
    for (guint i = 0; parts[i]; i++) {
        const char *p = parts[i];
        const char *eq = strchr(p, '=');

        if (!eq) {
            const char *dev = NULL;

            if (g_str_equal(p, "hd") || g_str_equal(p, "disk"))
                dev = "hd";
            else if (g_str_equal(p, "cdrom"))
                dev = "cdrom";
            else if (g_str_equal(p, "network") || g_str_equal(p, "net"))
                dev = "network";
            if (!dev) {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "--boot: unknown boot device '%s' (use hd, cdrom, network)", p);
                return FALSE;
            }
            g_ptr_array_add(boot->devs, g_strdup(dev));
            continue;
        }
        g_autofree char *key = g_strndup(p, (gsize)(eq - p));
        char **slot = NULL;

        if (g_str_equal(key, "kernel"))
            slot = &boot->kernel;
        else if (g_str_equal(key, "initrd"))
            slot = &boot->initrd;
        else if (g_str_equal(key, "kernel_args") || g_str_equal(key, "cmdline"))
            slot = &boot->kernel_args;
        if (!slot) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "--boot: unknown option '%s' (known: hd, cdrom, network, kernel, initrd, "
                        "kernel_args)",
                        key);
            return FALSE;
        }
        g_free(*slot);
        *slot = g_strdup(eq + 1);
    }
    if ((boot->initrd || boot->kernel_args) && !boot->kernel) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--boot '%s': initrd= and kernel_args= need kernel=", spec);
        return FALSE;
    }
    return TRUE;
}

/* ---- --os-variant ---- */

/* The Linux variants administrators type, with virt-install's (osinfo-db's)
 * recommended minimums. Everything here has virtio drivers; so does any
 * Linux since 2.6.25, hence "generic" too (and e1000 next to the virtio
 * balloon hangs the daemon's qboot/PVH fast boot path). */
static const VshOsInfo os_table[] = {
    {"generic", 512, 1, TRUE},
    {"linux2020", 1024, 1, TRUE},
    {"linux2022", 1024, 1, TRUE},
    {"linux2024", 1024, 1, TRUE},
    {"debian10", 512, 1, TRUE},
    {"debian11", 1024, 1, TRUE},
    {"debian12", 1024, 1, TRUE},
    {"debian13", 1024, 1, TRUE},
    {"ubuntu20.04", 2048, 1, TRUE},
    {"ubuntu22.04", 2048, 2, TRUE},
    {"ubuntu24.04", 2048, 2, TRUE},
    {"fedora39", 2048, 1, TRUE},
    {"fedora40", 2048, 1, TRUE},
    {"fedora41", 2048, 1, TRUE},
    {"rhel8", 1536, 1, TRUE},
    {"rhel9", 1536, 1, TRUE},
    {"centos8", 1536, 1, TRUE},
    {"centos-stream9", 1536, 1, TRUE},
    {"rocky8", 1536, 1, TRUE},
    {"rocky9", 1536, 1, TRUE},
    {"alma8", 1536, 1, TRUE},
    {"alma9", 1536, 1, TRUE},
    {NULL},
};

/* virt-install accepts "rhel9.2", "rocky9.3", "almalinux9": map point
 * releases and long names to the table's entry. */
static const VshOsInfo *
os_find(const char *name)
{
    g_autofree char *n = g_ascii_strdown(name, -1);
    char *dot;

    if (g_str_has_prefix(n, "almalinux")) {
        char *s = g_strconcat("alma", n + strlen("almalinux"), NULL);
        g_free(n);
        n = s;
    }
    for (int pass = 0; pass < 2; pass++) {
        for (const VshOsInfo *os = os_table; os->name; os++) {
            if (g_str_equal(os->name, n))
                return os;
        }
        /* Second pass: "rhel9.2" → "rhel9", "debian12.5" → "debian12";
         * but "ubuntu22.04" is already exact above. */
        if (!(dot = strrchr(n, '.')))
            break;
        *dot = '\0';
    }
    return NULL;
}

const VshOsInfo *
vsh_install_osinfo_lookup(const char *spec, char **warning)
{
    g_auto(GStrv) parts = NULL;
    const char *name = NULL;
    const VshOsInfo *os;

    *warning = NULL;
    if (!spec || !*spec)
        return &os_table[0];
    parts = g_strsplit(spec, ",", -1);
    for (guint i = 0; parts[i]; i++) {
        if (g_str_has_prefix(parts[i], "name=") || g_str_has_prefix(parts[i], "short-id="))
            name = strchr(parts[i], '=') + 1;
        else if (!strchr(parts[i], '='))
            name = parts[i];
        /* detect=, require=, id= are accepted and need nothing. */
    }
    if (!name) {
        *warning = g_strdup_printf("--osinfo '%s': virtd does not detect the OS from the media; "
                                   "using 'generic' defaults (give e.g. --osinfo debian12)",
                                   spec);
        return &os_table[0];
    }
    os = os_find(name);
    if (!os) {
        *warning = g_strdup_printf("unknown --osinfo '%s'; using 'generic' defaults (known: "
                                   "debian10-13, ubuntu20.04/22.04/24.04, fedora39-41, rhel8/9, "
                                   "centos8, centos-stream9, rocky8/9, alma8/9, linux2020-2024, "
                                   "generic)",
                                   name);
        return &os_table[0];
    }
    return os;
}
