/* vsh install: the command table entry and the planning half.
 *
 * As virt-install does, everything is checked before anything is created:
 * the name is free, the install media is readable and holds a kernel, the
 * pools and volumes exist, new files do not. Only then does
 * vsh-install-run.c allocate, define and start. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/vd-error.h"
#include "util/vd-names.h"
#include "vsh-client.h"
#include "vsh-install.h"
#include "vsh.h"

static JsonNode *
api_get(VshCtl *ctl, const char *path, GError **error)
{
    VshClient *client = vsh_ctl_client(ctl, error);

    return client ? vsh_client_call(client, "GET", path, NULL, error) : NULL;
}

/* The default hypervisor type: kvm only where the daemon's probe says the
 * host's KVM runs guest kernels at speed (docs/host-setup.md). */
static gboolean
pick_virt_type(VshInstall *inst, const char *given, GError **error)
{
    g_autoptr(JsonNode) host = NULL;
    JsonObject *kvm = NULL;
    const char *status;

    if (given) {
        if (!g_str_equal(given, "kvm") && !g_str_equal(given, "qemu")) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "--virt-type '%s' is not supported (use kvm or qemu)", given);
            return FALSE;
        }
        inst->plan.virt_type = g_str_equal(given, "kvm") ? "kvm" : "qemu";
        return TRUE;
    }
    if (!(host = api_get(inst->ctl, "/v1/host", error)))
        return FALSE;
    if (JSON_NODE_HOLDS_OBJECT(host) &&
        json_object_has_member(json_node_get_object(host), "kvm"))
        kvm = json_object_get_object_member(json_node_get_object(host), "kvm");
    status = vsh_json_string(kvm, "status", "unknown");
    if (g_str_equal(status, "usable")) {
        inst->plan.virt_type = "kvm";
        return TRUE;
    }
    inst->plan.virt_type = "qemu";
    if (!inst->print_xml)
        vsh_warn("KVM acceleration not available, using 'qemu': the daemon's KVM probe says "
                 "'%s'%s%s (see 'vsh capabilities', docs/host-setup.md)",
                 status, vsh_json_string(kvm, "detail", NULL) ? ": " : "",
                 vsh_json_string(kvm, "detail", ""));
    return TRUE;
}

/* The daemon checks names too, but only at define time: after the disks
 * were made. The same rules (util/vd-names). */
static gboolean
check_name(VshInstall *inst, const char *name, GError **error)
{
    g_autoptr(JsonNode) answer = NULL;

    if (!vd_name_validate(name, "--name: domain name", error) ||
        !vd_name_check_spacing(name, "--name: domain name", error))
        return FALSE;
    if (inst->print_xml)
        return TRUE;
    /* By the list, not GET /v1/domains/NAME: a name that reads as an id
     * or a UUID would find another domain there. */
    answer = api_get(inst->ctl, "/v1/domains?all=1", error);
    if (!answer)
        return FALSE;
    JsonNode *list = JSON_NODE_HOLDS_OBJECT(answer)
                         ? json_object_get_member(json_node_get_object(answer), "domains")
                         : NULL;
    JsonArray *domains = list && JSON_NODE_HOLDS_ARRAY(list) ? json_node_get_array(list) : NULL;
    for (guint i = 0; domains && i < json_array_get_length(domains); i++) {
        JsonNode *dom = json_array_get_element(domains, i);
        if (JSON_NODE_HOLDS_OBJECT(dom) &&
            g_strcmp0(vsh_json_string(json_node_get_object(dom), "name", NULL), name) == 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                        "Guest name '%s' is already in use. Pick another --name, or remove it "
                        "first: vsh undefine %s",
                        name, name);
            return FALSE;
        }
    }
    return TRUE;
}

/* ---- install method and media ---- */

static gboolean
plan_location(VshInstall *inst, GError **error)
{
    const char *loc = inst->location;
    struct stat st;

    if (g_str_has_prefix(loc, "http://") || g_str_has_prefix(loc, "https://") ||
        g_str_has_prefix(loc, "ftp://") || g_str_has_prefix(loc, "nfs:")) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "--location '%s': network install trees are not supported yet; give a local "
                    "ISO or directory",
                    loc);
        return FALSE;
    }
    if (stat(loc, &st) < 0 || access(loc, R_OK) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "--location '%s': %s", loc,
                    g_strerror(errno));
        return FALSE;
    }
    if (S_ISDIR(st.st_mode)) {
        g_autofree char *kernel = NULL;
        g_autofree char *initrd = NULL;

        if (!vd_install_tree_find_dir(loc, &kernel, &initrd, error))
            return FALSE;
        inst->plan.install_kernel = g_canonicalize_filename(kernel, NULL);
        inst->plan.install_initrd = g_canonicalize_filename(initrd, NULL);
        return TRUE;
    }
    inst->location_iso = TRUE;
    /* Reading the two files out of the ISO is the check that it holds an
     * installer, so it happens here, before anything is created; the
     * private directory goes once the install phase has started (or at
     * the end of --dry-run and --print-xml). */
    {
        g_autofree char *scratch = g_dir_make_tmp("vsh-install-check-XXXXXX", NULL);
        g_autofree char *kernel = NULL;
        g_autofree char *initrd = NULL;
        gboolean ok;

        if (!scratch) {
            g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "cannot create a temporary directory: %s", g_strerror(errno));
            return FALSE;
        }
        inst->stage_dir = g_steal_pointer(&scratch);
        ok = vd_install_tree_extract_iso(loc, inst->stage_dir, &kernel, &initrd, error);
        if (!ok) {
            vsh_install_unstage(inst);
            return FALSE;
        }
        inst->plan.install_kernel = g_steal_pointer(&kernel);
        inst->plan.install_initrd = g_steal_pointer(&initrd);
    }
    return TRUE;
}

static gboolean
plan_method(VshInstall *inst, const VshCmd *cmd, GError **error)
{
    const char *cdrom = vsh_cmd_get_string(cmd, "cdrom");
    const char *extra = vsh_cmd_get_string(cmd, "extra-args");
    gboolean import = vsh_cmd_has(cmd, "import");

    if (extra && vsh_cmd_has(cmd, "x")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "-x is --extra-args: give the kernel arguments once");
        return FALSE;
    }
    if (!extra)
        extra = vsh_cmd_get_string(cmd, "x");
    gboolean boot_kernel = inst->plan.boot.kernel != NULL;
    gboolean boot_devs = inst->plan.boot.devs && inst->plan.boot.devs->len;
    int methods = (cdrom != NULL) + (inst->location != NULL) + import;

    if (methods > 1) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Only one install method can be used (--cdrom, --location or --import)");
        return FALSE;
    }
    if (methods == 0 && !boot_kernel && !boot_devs) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "An install method must be specified (--location ISO|DIR, --cdrom ISO, "
                    "--import, --boot hd|cdrom|kernel=...)");
        return FALSE;
    }
    if (extra && !inst->location && !boot_kernel) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Kernel arguments are only supported with location or kernel installs.");
        return FALSE;
    }
    if (inst->inject && inst->inject[0] && !inst->location) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--initrd-inject needs --location (it adds files to the installer's initrd)");
        return FALSE;
    }
    for (guint i = 0; inst->inject && inst->inject[i]; i++) {
        if (access(inst->inject[i], R_OK) < 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "--initrd-inject '%s': %s",
                        inst->inject[i], g_strerror(errno));
            return FALSE;
        }
    }
    /* The daemon resolves nothing against vsh's working directory. */
    if (boot_kernel) {
        char *abs = g_canonicalize_filename(inst->plan.boot.kernel, NULL);

        g_free(inst->plan.boot.kernel);
        inst->plan.boot.kernel = abs;
    }
    if (inst->plan.boot.initrd) {
        char *abs = g_canonicalize_filename(inst->plan.boot.initrd, NULL);

        g_free(inst->plan.boot.initrd);
        inst->plan.boot.initrd = abs;
    }
    if (boot_kernel && access(inst->plan.boot.kernel, R_OK) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "--boot kernel='%s': %s",
                    inst->plan.boot.kernel, g_strerror(errno));
        return FALSE;
    }
    if (inst->plan.boot.initrd && access(inst->plan.boot.initrd, R_OK) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "--boot initrd='%s': %s",
                    inst->plan.boot.initrd, g_strerror(errno));
        return FALSE;
    }

    if (cdrom) {
        VshInstallDisk *d = g_new0(VshInstallDisk, 1);

        if (access(cdrom, R_OK) < 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "--cdrom '%s': %s", cdrom,
                        g_strerror(errno));
            vsh_install_disk_free(d);
            return FALSE;
        }
        d->cdrom = TRUE;
        d->path = g_canonicalize_filename(cdrom, NULL);
        inst->plan.cdrom = g_strdup(d->path);
        g_ptr_array_add(inst->plan.disks, d);
        inst->plan.method = VSH_INSTALL_CDROM;
    } else if (inst->location) {
        inst->plan.method = VSH_INSTALL_LOCATION;
        if (extra)
            inst->plan.install_cmdline = g_strdup(extra);
        if (!plan_location(inst, error))
            return FALSE;
    } else {
        inst->plan.method = VSH_INSTALL_IMPORT;
        if (extra && boot_kernel && !inst->plan.boot.kernel_args)
            inst->plan.boot.kernel_args = g_strdup(extra);
    }
    return TRUE;
}

/* ---- disks ---- */

/* vda, vdb, ...; sda ...; hda ... (one counter per prefix, as libvirt). */
static void
assign_targets(GPtrArray *disks)
{
    guint vd = 0, sd = 0, hd = 0;

    for (guint i = 0; i < disks->len; i++) {
        VshInstallDisk *d = g_ptr_array_index(disks, i);
        const char *bus = d->bus ? d->bus : d->cdrom ? "ide" : "virtio";
        guint *n = g_str_equal(bus, "virtio") ? &vd : g_str_equal(bus, "ide") ? &hd : &sd;
        const char *prefix = n == &vd ? "vd" : n == &hd ? "hd" : "sd";

        g_free(d->target);
        d->target = g_strdup_printf("%s%c", prefix, 'a' + (*n)++);
    }
}

/* The summary of @pool (NULL, no error, when there is none); lists rather
 * than GETs one so that a missing pool is not told apart by error code. A
 * daemon without the storage API answers "not-found" for the path. */
static JsonObject *
get_pool(VshInstall *inst, const char *pool, JsonNode **holder, GError **error)
{
    g_autoptr(GError) local = NULL;
    JsonArray *pools;

    *holder = api_get(inst->ctl, "/v1/pools?all=1", &local);
    if (!*holder) {
        if (g_error_matches(local, VD_ERROR, VD_ERROR_NOT_FOUND))
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "this virtd has no storage pools API; give the disk as a file: --disk "
                        "path=/var/lib/virtd/images/NAME.qcow2,size=N");
        else
            g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    if (!JSON_NODE_HOLDS_OBJECT(*holder) ||
        !json_object_has_member(json_node_get_object(*holder), "pools"))
        return NULL;
    pools = json_object_get_array_member(json_node_get_object(*holder), "pools");
    for (guint i = 0; i < json_array_get_length(pools); i++) {
        JsonObject *o = json_array_get_object_element(pools, i);

        if (g_strcmp0(vsh_json_string(o, "name", NULL), pool) == 0)
            return o;
    }
    return NULL;
}

/* The summary of volume @vol of @pool, or NULL (no error) when absent. */
static JsonNode *
find_volume(VshInstall *inst, const char *pool, const char *vol, GError **error)
{
    g_autofree char *p = g_uri_escape_string(pool, NULL, FALSE);
    g_autofree char *path = g_strconcat("/v1/pools/", p, "/volumes", NULL);
    g_autoptr(JsonNode) answer = api_get(inst->ctl, path, error);
    JsonArray *vols;

    if (!answer || !JSON_NODE_HOLDS_OBJECT(answer) ||
        !json_object_has_member(json_node_get_object(answer), "volumes"))
        return NULL;
    vols = json_object_get_array_member(json_node_get_object(answer), "volumes");
    for (guint i = 0; i < json_array_get_length(vols); i++) {
        JsonNode *n = json_array_get_element(vols, i);

        if (g_strcmp0(vsh_json_string(json_node_get_object(n), "name", NULL), vol) == 0)
            return json_node_copy(n);
    }
    return NULL;
}

static gboolean
plan_pool_disk(VshInstall *inst, VshInstallDisk *d, GError **error)
{
    g_autoptr(JsonNode) holder = NULL;
    JsonObject *pool;

    if (!d->pool)
        d->pool = g_strdup("default");
    g_autoptr(GError) local = NULL;

    pool = get_pool(inst, d->pool, &holder, &local);
    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (!pool) {
        if (!g_str_equal(d->pool, "default") || d->vol) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "Storage pool '%s' not found; see 'vsh pool-list --all'", d->pool);
            return FALSE;
        }
        /* virt-install makes the 'default' pool when it is missing. */
        inst->created_pool_default = TRUE;
    } else if (!g_str_equal(vsh_json_string(pool, "state", ""), "running")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Storage pool '%s' is not active; start it with 'vsh pool-start %s'", d->pool,
                    d->pool);
        return FALSE;
    }

    if (d->vol) {
        g_autoptr(JsonNode) vol = pool ? find_volume(inst, d->pool, d->vol, &local) : NULL;
        JsonObject *o;

        if (local) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        if (!vol) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "Storage volume '%s' not found in pool '%s'; see 'vsh vol-list %s'",
                        d->vol, d->pool, d->pool);
            return FALSE;
        }
        o = json_node_get_object(vol);
        d->path = g_strdup(vsh_json_string(o, "path", NULL));
        if (!d->format)
            d->format = g_strdup(vsh_json_string(o, "format", NULL));
        if (!d->path) {
            g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL,
                        "volume '%s' of pool '%s' has no path", d->vol, d->pool);
            return FALSE;
        }
        return TRUE;
    }

    /* A new volume NAME.qcow2 (NAME-1.qcow2 for the next, as virt-install). */
    if (!d->format)
        d->format = g_strdup("qcow2");
    for (guint n = 0;; n++) {
        g_autofree char *name =
            n ? g_strdup_printf("%s-%u.%s", inst->plan.name, n, d->format)
              : g_strdup_printf("%s.%s", inst->plan.name, d->format);
        g_autoptr(JsonNode) vol = NULL;
        gboolean taken = FALSE;

        for (guint i = 0; i < inst->plan.disks->len; i++) {
            VshInstallDisk *o = g_ptr_array_index(inst->plan.disks, i);

            if (o != d && g_strcmp0(o->create_name, name) == 0 && g_strcmp0(o->pool, d->pool) == 0)
                taken = TRUE;
        }
        if (!taken && pool) {
            vol = find_volume(inst, d->pool, name, &local);
            if (local) {
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
            }
            taken = vol != NULL;
        }
        if (!taken) {
            d->create_name = g_steal_pointer(&name);
            break;
        }
    }
    d->create = TRUE;
    return TRUE;
}

/* The running pool whose directory is @dir, if any (canonical paths). */
static char *
pool_of_dir(VshInstall *inst, const char *dir)
{
    g_autoptr(JsonNode) holder = api_get(inst->ctl, "/v1/pools", NULL);
    g_autofree char *real = realpath(dir, NULL);
    JsonArray *pools;

    if (!holder || !real || !JSON_NODE_HOLDS_OBJECT(holder) ||
        !json_object_has_member(json_node_get_object(holder), "pools"))
        return NULL;
    pools = json_object_get_array_member(json_node_get_object(holder), "pools");
    for (guint i = 0; i < json_array_get_length(pools); i++) {
        JsonObject *o = json_array_get_object_element(pools, i);
        g_autofree char *target = realpath(vsh_json_string(o, "target", ""), NULL);

        if (target && g_str_equal(target, real))
            return g_strdup(vsh_json_string(o, "name", NULL));
    }
    return NULL;
}

static gboolean
plan_file_disk(VshInstall *inst, VshInstallDisk *d, GError **error)
{
    g_autofree char *dir = NULL;

    if (g_file_test(d->path, G_FILE_TEST_EXISTS)) {
        if (access(d->path, R_OK) < 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "--disk '%s': %s", d->path,
                        g_strerror(errno));
            return FALSE;
        }
        /* virt-install uses an existing file as it is, size= or not. */
        d->has_size = FALSE;
        return TRUE;
    }
    if (d->cdrom) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "--disk '%s': no such file",
                    d->path);
        return FALSE;
    }
    if (!d->has_size) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Size must be specified for non existent volume '%s' (add size=GiB)",
                    d->path);
        return FALSE;
    }
    dir = g_path_get_dirname(d->path);
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR) || access(dir, W_OK) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--disk '%s': cannot create the image: directory '%s' %s", d->path, dir,
                    g_file_test(dir, G_FILE_TEST_IS_DIR) ? "is not writable" : "does not exist");
        return FALSE;
    }
    if (d->backing_store && access(d->backing_store, R_OK) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "--disk backing_store='%s': %s",
                    d->backing_store, g_strerror(errno));
        return FALSE;
    }
    if (!d->format)
        d->format = g_strdup("qcow2"); /* virt-install's default for new images */
    d->create = TRUE;
    /* A new file in a pool's directory is made as a volume of that pool,
     * as virt-install does: the daemon creates it, and `undefine
     * --remove-all-storage` knows it. */
    g_autofree char *pool = pool_of_dir(inst, dir);
    if (pool) {
        g_free(d->pool);
        d->pool = g_steal_pointer(&pool);
        d->create_name = g_path_get_basename(d->path);
        return TRUE;
    }
    d->create_file = TRUE;
    return TRUE;
}

gboolean
vsh_install_plan_disk(VshInstall *inst, VshInstallDisk *d, GError **error)
{
    return d->path ? plan_file_disk(inst, d, error) : plan_pool_disk(inst, d, error);
}

static gboolean
plan_disks(VshInstall *inst, const VshCmd *cmd, GError **error)
{
    g_autofree const char **specs = vsh_cmd_get_argv(cmd, "disk");
    guint new_index = 0;

    for (guint i = 0; specs[i]; i++) {
        VshInstallDisk *d = vsh_install_parse_disk(specs[i], error);

        if (!d)
            return FALSE;
        if (d->none) {
            vsh_install_disk_free(d);
            continue;
        }
        if (!d->bus && !d->cdrom && !inst->os->virtio)
            d->bus = g_strdup("sata");
        /* Disks come before the --cdrom drive, as virt-install orders them. */
        g_ptr_array_insert(inst->plan.disks, (gint)new_index, d);
        new_index++;
    }
    for (guint i = 0; i < inst->plan.disks->len; i++) {
        VshInstallDisk *d = g_ptr_array_index(inst->plan.disks, i);
        gboolean ok;

        if (inst->plan.cdrom && d->cdrom && g_strcmp0(d->path, inst->plan.cdrom) == 0 &&
            !d->pool)
            continue;
        ok = vsh_install_plan_disk(inst, d, error);
        if (!ok)
            return FALSE;
    }
    assign_targets(inst->plan.disks);
    return TRUE;
}

/* ---- the command ---- */

static gboolean
parse_wait(VshInstall *inst, const VshCmd *cmd, GError **error)
{
    const char *w = vsh_cmd_get_string(cmd, "wait");

    if (!w)
        return TRUE;
    if (!g_ascii_string_to_signed(w, 10, -1, G_MAXINT32, &inst->wait_min, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--wait '%s': minutes to wait, or -1 to wait until the install ends", w);
        return FALSE;
    }
    inst->has_wait = TRUE;
    return TRUE;
}

static gboolean
parse_autoconsole(VshInstall *inst, const VshCmd *cmd, GError **error)
{
    const char *a = vsh_cmd_get_string(cmd, "autoconsole");

    if (vsh_cmd_has(cmd, "noautoconsole") || (a && g_str_equal(a, "none"))) {
        inst->autoconsole = VSH_AUTOCONSOLE_NONE;
    } else if (a && g_str_equal(a, "text")) {
        inst->autoconsole = VSH_AUTOCONSOLE_TEXT;
    } else if (a && g_str_equal(a, "graphical")) {
        inst->autoconsole = VSH_AUTOCONSOLE_GRAPHICAL;
    } else if (a) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--autoconsole '%s': use text, graphical or none", a);
        return FALSE;
    } else {
        inst->autoconsole =
            inst->plan.graphics.vnc ? VSH_AUTOCONSOLE_GRAPHICAL : VSH_AUTOCONSOLE_TEXT;
    }
    return TRUE;
}

static gboolean
plan_resources(VshInstall *inst, const VshCmd *cmd, GError **error)
{
    VshInstallPlan *p = &inst->plan;
    const char *memory = vsh_cmd_get_string(cmd, "memory");
    const char *ram = vsh_cmd_get_string(cmd, "ram");
    const char *vcpus = vsh_cmd_get_string(cmd, "vcpus");
    const char *cpu = vsh_cmd_get_string(cmd, "cpu");
    const char *graphics = vsh_cmd_get_string(cmd, "graphics");
    g_autofree const char **networks = vsh_cmd_get_argv(cmd, "network");
    const char *boot = vsh_cmd_get_string(cmd, "boot");
    const char *console = vsh_cmd_get_string(cmd, "console");
    const char *osinfo = vsh_cmd_get_string(cmd, "osinfo");
    g_autofree char *warning = NULL;

    if (!osinfo)
        osinfo = vsh_cmd_get_string(cmd, "os-variant");
    inst->os = vsh_install_osinfo_lookup(osinfo, &warning);
    if (warning && !inst->print_xml)
        vsh_warn("%s", warning);

    if (!memory)
        memory = ram;
    if (memory) {
        if (!vsh_install_parse_memory(memory, &p->memory_mib, &p->max_memory_mib, error))
            return FALSE;
        if (p->memory_mib < inst->os->min_memory_mib && !inst->print_xml)
            vsh_warn("Requested memory %" G_GUINT64_FORMAT
                     " MiB is less than the recommended %u MiB for OS %s",
                     p->memory_mib, inst->os->min_memory_mib, inst->os->name);
    } else {
        p->memory_mib = p->max_memory_mib = inst->os->min_memory_mib;
    }
    if (vcpus) {
        if (!vsh_install_parse_vcpus(vcpus, &p->vcpus, &p->max_vcpus, error))
            return FALSE;
    } else {
        p->vcpus = p->max_vcpus = inst->os->min_vcpus;
    }
    if (cpu && !vsh_install_parse_cpu(cpu, &p->cpu, error))
        return FALSE;
    /* virt-install: VNC when there is a display to show it on. */
    if (!graphics)
        graphics = g_getenv("DISPLAY") && *g_getenv("DISPLAY") ? "vnc" : "none";
    if (!vsh_install_parse_graphics(graphics, &p->graphics, error))
        return FALSE;
    if (!vsh_install_plan_networks(inst, networks, error))
        return FALSE;
    if (boot && !vsh_install_parse_boot(boot, &p->boot, error))
        return FALSE;
    if (console && !g_str_has_prefix(console, "pty")) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "--console '%s': virtd gives every guest a pty serial console; only "
                    "--console pty[,target_type=serial] is accepted",
                    console);
        return FALSE;
    }
    return TRUE;
}

static void
install_clear(VshInstall *inst)
{
    vsh_install_unstage(inst);
    vsh_install_plan_clear(&inst->plan);
    g_clear_pointer(&inst->location, g_free);
    g_clear_pointer(&inst->location_layout, g_free);
    g_clear_pointer(&inst->inject, g_strfreev);
}

static gboolean
cmd_install(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    VshInstall inst = {.ctl = ctl};
    g_autofree const char **inject = vsh_cmd_get_argv(cmd, "initrd-inject");
    gboolean ok = FALSE;

    inst.plan.disks = g_ptr_array_new_with_free_func((GDestroyNotify)vsh_install_disk_free);
    inst.plan.graphics.port = -1;
    inst.dry_run = vsh_cmd_has(cmd, "dry-run");
    inst.print_xml = vsh_cmd_has(cmd, "print-xml");
    inst.noreboot = vsh_cmd_has(cmd, "noreboot");
    inst.autostart = vsh_cmd_has(cmd, "autostart");
    inst.location = g_strdup(vsh_cmd_get_string(cmd, "location"));
    inst.inject = g_strdupv((char **)inject);
    inst.plan.name = g_strdup(vsh_cmd_get_string(cmd, "name"));
    inst.plan.uuid = g_uuid_string_random();

    if (plan_resources(&inst, cmd, error) && parse_wait(&inst, cmd, error) &&
        parse_autoconsole(&inst, cmd, error) && check_name(&inst, inst.plan.name, error) &&
        pick_virt_type(&inst, vsh_cmd_get_string(cmd, "virt-type"), error) &&
        plan_method(&inst, cmd, error) && plan_disks(&inst, cmd, error))
        ok = vsh_install_run(&inst, error);
    install_clear(&inst);
    return ok;
}

static const VshOptDef opts_install[] = {
    {"name", VSH_OT_STRING, VSH_OPT_REQUIRED, VSH_COMPLETE_NONE, "name of the guest"},
    {"memory", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "memory in MiB: N[,maxmemory=M]"},
    {"ram", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "old name of --memory"},
    {"vcpus", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "virtual CPUs: N[,maxvcpus=M]"},
    {"cpu", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "host-passthrough, host-model or a CPU model"},
    {"disk", VSH_OT_STRING, VSH_OPT_MULTI, VSH_COMPLETE_FILE,
     "a disk: /path, size=GiB, or path=,size=,format=,bus=,device=,pool=,vol=,backing_store= "
     "(repeatable; 'none' for no disk)"},
    {"cdrom", VSH_OT_STRING, 0, VSH_COMPLETE_FILE, "install from this ISO, booted as a CD-ROM"},
    {"location", VSH_OT_STRING, 0, VSH_COMPLETE_FILE,
     "install tree (ISO or directory): boots its installer kernel and initrd"},
    {"import", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "no install: boot the first --disk as it is"},
    {"boot", VSH_OT_STRING, 0, VSH_COMPLETE_NONE,
     "boot order hd,cdrom,network and/or kernel=,initrd=,kernel_args="},
    {"extra-args", VSH_OT_STRING, 0, VSH_COMPLETE_NONE,
     "kernel command line of the installer (--location)"},
    {"x", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "short for --extra-args (-x ARGS)"},
    {"initrd-inject", VSH_OT_STRING, VSH_OPT_MULTI, VSH_COMPLETE_FILE,
     "add this file to the root of the installer's initrd (repeatable)"},
    {"network", VSH_OT_STRING, VSH_OPT_MULTI, VSH_COMPLETE_NONE,
     "network=NAME, bridge=BRIDGE, type=direct,source=NIC, user or none, with ,model=,mac= "
     "(repeatable; default: the 'default' network when active, else user)"},
    {"graphics", VSH_OT_STRING, 0, VSH_COMPLETE_NONE,
     "vnc[,listen=,port=,password=] or none (default: vnc if $DISPLAY is set)"},
    {"console", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "pty (every guest has a serial console)"},
    {"os-variant", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "the guest OS, e.g. debian12"},
    {"osinfo", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "same as --os-variant"},
    {"virt-type", VSH_OT_STRING, 0, VSH_COMPLETE_NONE,
     "kvm or qemu (default: kvm when the host's KVM probe passed)"},
    {"noautoconsole", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "do not attach to the console"},
    {"autoconsole", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "text, graphical or none"},
    {"wait", VSH_OT_STRING, 0, VSH_COMPLETE_NONE,
     "minutes to wait for the install to end (-1: forever)"},
    {"noreboot", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "do not boot the guest after the install"},
    {"autostart", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "start the guest when virtd starts"},
    {"print-xml", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "print the domain XML, create nothing"},
    {"dry-run", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "check everything and say what would be done, create nothing"},
    {NULL},
};

const VshCmdDef vsh_install_commands[] = {
    {"install", "domain", opts_install, cmd_install, "create a guest and install its OS",
     "virt-install's job: allocate the disks, define the guest and boot its installer "
     "(--cdrom, --location) or the existing disk (--import); then attach to its console, and "
     "boot the installed system when the installer ends. See docs/installing.md."},
    {NULL},
};
