/* The pure part of a clone: see clone-plan.h. virt-clone's rules, in
 * the order it checks them, so that a refusal names the first problem. */
#include <string.h>

#include "daemon/clone/clone-plan.h"
#include "util/vd-error.h"
#include "util/vd-names.h"

void
vd_clone_options_free(VdCloneOptions *o)
{
    if (!o)
        return;
    g_free(o->name);
    g_free(o->uuid);
    g_strfreev(o->macs);
    g_strfreev(o->files);
    g_strfreev(o->skip_copy);
    g_free(o);
}

static void
clone_disk_free(VdCloneDisk *disk)
{
    g_free(disk->target);
    g_free(disk->src_path);
    g_free(disk->src_format);
    g_free(disk->new_path);
    g_free(disk);
}

void
vd_clone_plan_free(VdClonePlan *p)
{
    if (!p)
        return;
    vd_domain_def_free(p->def);
    if (p->disks)
        g_ptr_array_unref(p->disks);
    g_free(p->nvram_src);
    g_free(p->nvram_dst);
    g_free(p);
}

char *
vd_clone_unique_name(const char *dir, const char *base, const char *ext, VdCloneTaken what,
                     VdCloneTakenFunc taken, gpointer data)
{
    for (guint i = 0;; i++) {
        g_autofree char *leaf = i ? g_strdup_printf("%s-%u%s", base, i, ext)
                                  : g_strdup_printf("%s%s", base, ext);
        char *candidate = dir ? g_build_filename(dir, leaf, NULL) : g_strdup(leaf);
        if (!taken(what, candidate, data))
            return candidate;
        g_free(candidate);
    }
}

static char *
random_mac(GRand *rand, VdCloneTakenFunc taken, gpointer data)
{
    for (;;) {
        char *mac = g_strdup_printf("52:54:00:%02x:%02x:%02x", g_rand_int_range(rand, 0, 256),
                                    g_rand_int_range(rand, 0, 256),
                                    g_rand_int_range(rand, 0, 256));
        if (!taken(VD_CLONE_TAKEN_MAC, mac, data))
            return mac;
        g_free(mac);
    }
}

static void
random_uuid(GRand *rand, char out[37])
{
    guint8 b[16];
    for (guint i = 0; i < 16; i++)
        b[i] = (guint8)g_rand_int_range(rand, 0, 256);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    g_snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
               b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
               b[13], b[14], b[15]);
}

/* Whether virt-clone copies this disk: a writable, unshared disk with a
 * source; cdroms, floppies, readonly and shareable disks are shared. */
static gboolean
disk_is_cloned(const VdDiskDef *disk, const char *path, const VdCloneOptions *opts)
{
    if (disk->device == VD_DISK_DEVICE_CDROM || disk->device == VD_DISK_DEVICE_FLOPPY ||
        disk->readonly || disk->shareable || !path)
        return FALSE;
    return !(opts->skip_copy && disk->target_dev &&
             g_strv_contains((const char *const *)opts->skip_copy, disk->target_dev));
}

/* NAME-clone.qcow2 beside the original's image (virt-clone's naming). */
static char *
generated_path(const char *src, const char *new_name, VdCloneTakenFunc taken, gpointer data)
{
    g_autofree char *dir = g_path_get_dirname(src);
    g_autofree char *leaf = g_path_get_basename(src);
    const char *dot = strrchr(leaf, '.');
    const char *ext = dot && dot != leaf ? dot : "";

    return vd_clone_unique_name(dir, new_name, ext, VD_CLONE_TAKEN_PATH, taken, data);
}

static gboolean
plan_names(VdDomainDef *def, const VdDomainDef *orig, const VdCloneOptions *opts,
           VdCloneTakenFunc taken, gpointer data, GRand *rand, GError **error)
{
    if (opts->name) {
        if (taken(VD_CLONE_TAKEN_NAME, opts->name, data)) {
            g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                        "Invalid name for new guest: Guest name '%s' is already in use; choose "
                        "another --name, or --auto-clone for a free one",
                        opts->name);
            return FALSE;
        }
        g_free(def->name);
        def->name = g_strdup(opts->name);
    } else if (opts->auto_clone) {
        g_autofree char *base = g_strdup_printf("%s-clone", orig->name);
        g_free(def->name);
        def->name = vd_clone_unique_name(NULL, base, "", VD_CLONE_TAKEN_NAME, taken, data);
    } else {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "A name is required for the new virtual machine, use '--name NEW_VM_NAME' "
                    "to specify one, or --auto-clone");
        return FALSE;
    }
    if (!vd_name_validate(def->name, "domain name", error))
        return FALSE;
    if (opts->uuid) {
        char uuid[37];
        if (!vd_uuid_parse(opts->uuid, uuid)) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "Invalid uuid for new guest: '%s' is not a UUID (like %s)", opts->uuid,
                        "5fc0d4e5-0a4c-4d9b-9d3c-2b0e4b2f2a11");
            return FALSE;
        }
        if (taken(VD_CLONE_TAKEN_UUID, uuid, data)) {
            g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                        "Invalid uuid for new guest: UUID %s is in use by another domain; leave "
                        "out --uuid for a new one",
                        uuid);
            return FALSE;
        }
        memcpy(def->uuid, uuid, 37);
    } else {
        do
            random_uuid(rand, def->uuid);
        while (taken(VD_CLONE_TAKEN_UUID, def->uuid, data));
    }
    return TRUE;
}

static gboolean
plan_macs(VdDomainDef *def, const VdCloneOptions *opts, VdCloneTakenFunc taken, gpointer data,
          GRand *rand, GError **error)
{
    guint given = opts->macs ? g_strv_length(opts->macs) : 0;

    if (given > def->interfaces->len) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "%u --mac given but the domain has %u network interface(s): give at most "
                    "one per interface, in interface order",
                    given, def->interfaces->len);
        return FALSE;
    }
    for (guint i = 0; i < def->interfaces->len; i++) {
        VdNetDef *net = g_ptr_array_index(def->interfaces, i);
        const char *want = i < given ? opts->macs[i] : "RANDOM";
        char *mac;
        if (g_ascii_strcasecmp(want, "RANDOM") == 0) {
            mac = random_mac(rand, taken, data);
        } else {
            gboolean multicast = FALSE;
            if (!vd_mac_is_valid(want, &multicast) || multicast) {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "Invalid MAC address '%s': give six hex pairs like 52:54:00:12:34:56 "
                            "(unicast), or RANDOM",
                            want);
                return FALSE;
            }
            mac = g_ascii_strdown(want, -1);
            if (taken(VD_CLONE_TAKEN_MAC, mac, data)) {
                g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                            "The MAC address '%s' is in use by another virtual machine; give "
                            "another --mac, or RANDOM",
                            mac);
                g_free(mac);
                return FALSE;
            }
        }
        g_free(net->mac);
        net->mac = mac;
    }
    return TRUE;
}

static gboolean
plan_disk(VdClonePlan *plan, VdDiskDef *disk, const char *path, const char *format,
          const char *file, const VdCloneOptions *opts, VdCloneTakenFunc taken, gpointer data,
          GError **error)
{
    VdCloneDisk *cd = g_new0(VdCloneDisk, 1);

    g_ptr_array_add(plan->disks, cd);
    cd->target = g_strdup(disk->target_dev);
    cd->src_path = g_strdup(path);
    cd->src_format = g_strdup(format ? format : "raw");
    if (opts->preserve_data) {
        /* virt-clone --preserve-data: the paths given are used as they
         * are (they must exist); without one the clone shares the disk. */
        cd->action = VD_CLONE_DISK_PRESERVE;
        cd->new_path = g_strdup(file ? file : path);
        if (file && !taken(VD_CLONE_TAKEN_PATH, file, data)) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "--preserve-data keeps the data of '%s' for disk %s, but it does not "
                        "exist: create it first, or clone without --preserve-data",
                        file, disk->target_dev);
            return FALSE;
        }
    } else {
        if (opts->linked && !g_str_equal(cd->src_format, "qcow2")) {
            g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                        "--linked needs qcow2 disks, but disk %s ('%s') is %s: convert it to "
                        "qcow2 (qemu-img convert -O qcow2), or clone without --linked",
                        disk->target_dev, path, cd->src_format);
            return FALSE;
        }
        cd->action = opts->linked ? VD_CLONE_DISK_LINK : VD_CLONE_DISK_COPY;
        if (file) {
            if (!g_path_is_absolute(file)) {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "--file '%s' must be an absolute path", file);
                return FALSE;
            }
            if (taken(VD_CLONE_TAKEN_PATH, file, data)) {
                g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                            "Clone onto existing storage volume is not currently supported: "
                            "'%s' exists; give a path that does not, or --preserve-data to use "
                            "its contents as they are",
                            file);
                return FALSE;
            }
            cd->new_path = g_strdup(file);
        } else {
            cd->new_path = generated_path(path, plan->def->name, taken, data);
        }
        /* Two disks must not get the same name: claim it for the next. */
        for (guint i = 0; i + 1 < plan->disks->len; i++) {
            VdCloneDisk *o = g_ptr_array_index(plan->disks, i);
            if (o->new_path && g_str_equal(o->new_path, cd->new_path) &&
                o->action != VD_CLONE_DISK_KEEP) {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "disks %s and %s would both be cloned to '%s': give each its own "
                            "--file",
                            o->target, cd->target, cd->new_path);
                return FALSE;
            }
        }
    }
    if (disk->type == VD_DISK_TYPE_VOLUME) {
        /* A pool volume stays a volume of the same pool when its copy is
         * in the pool's directory; elsewhere it becomes a file disk. */
        g_autofree char *src_dir = g_path_get_dirname(path);
        g_autofree char *new_dir = g_path_get_dirname(cd->new_path);
        if (g_str_equal(src_dir, new_dir)) {
            g_free(disk->source_volume);
            disk->source_volume = g_path_get_basename(cd->new_path);
        } else {
            disk->type = VD_DISK_TYPE_FILE;
            g_clear_pointer(&disk->source_pool, g_free);
            g_clear_pointer(&disk->source_volume, g_free);
            g_free(disk->source_file);
            disk->source_file = g_strdup(cd->new_path);
        }
    } else {
        g_free(disk->source_file);
        disk->source_file = g_strdup(cd->new_path);
    }
    if (cd->action == VD_CLONE_DISK_LINK)
        disk->format = VD_DISK_FORMAT_QCOW2;
    return TRUE;
}

static gboolean
plan_disks(VdClonePlan *plan, const char *orig_name, const char *const *paths, const char *const *formats,
           const VdCloneOptions *opts, VdCloneTakenFunc taken, gpointer data, GError **error)
{
    VdDomainDef *def = plan->def;
    guint nfiles = opts->files ? g_strv_length(opts->files) : 0;
    guint used = 0;

    for (guint i = 0; opts->skip_copy && opts->skip_copy[i]; i++) {
        gboolean found = FALSE;
        for (guint j = 0; j < def->disks->len && !found; j++) {
            VdDiskDef *disk = g_ptr_array_index(def->disks, j);
            found = g_strcmp0(disk->target_dev, opts->skip_copy[i]) == 0;
        }
        if (!found) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "--skip-copy: no disk with target '%s' in domain '%s'; see vsh "
                        "domblklist %s",
                        opts->skip_copy[i], orig_name, orig_name);
            return FALSE;
        }
    }
    for (guint j = 0; j < def->disks->len; j++) {
        VdDiskDef *disk = g_ptr_array_index(def->disks, j);
        if (!disk_is_cloned(disk, paths[j], opts)) {
            VdCloneDisk *cd = g_new0(VdCloneDisk, 1);
            cd->target = g_strdup(disk->target_dev);
            cd->action = VD_CLONE_DISK_KEEP;
            cd->src_path = g_strdup(paths[j]);
            g_ptr_array_add(plan->disks, cd);
            continue;
        }
        const char *file = used < nfiles ? opts->files[used] : NULL;
        used++;
        if (!plan_disk(plan, disk, paths[j], formats[j], file, opts, taken, data, error))
            return FALSE;
    }
    if (nfiles > used) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "%u --file given but only %u disk(s) of the domain are cloned (cdroms, "
                    "readonly, shareable and --skip-copy disks are shared): give one --file per "
                    "cloned disk, in disk order",
                    nfiles, used);
        return FALSE;
    }
    return TRUE;
}

VdClonePlan *
vd_clone_plan_make(const VdDomainDef *orig, const char *const *paths, const char *const *formats,
                   gboolean active, gboolean paused, const VdCloneOptions *opts,
                   VdCloneTakenFunc taken, gpointer data, GRand *rand, GError **error)
{
    g_autoptr(VdClonePlan) plan = g_new0(VdClonePlan, 1);

    if (active && !paused && !opts->preserve_data) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "Domain to clone must be shutoff. Shut '%s' down (vsh shutdown %s), suspend "
                    "it (vsh suspend %s), or use --preserve-data to clone without copying its "
                    "disks",
                    orig->name, orig->name, orig->name);
        return NULL;
    }
    if (active && opts->linked) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_STATE,
                    "a linked clone needs '%s' shut off: its disk images become the clone's "
                    "backing files and must not change; shut it down first (vsh shutdown %s)",
                    orig->name, orig->name);
        return NULL;
    }
    if (opts->linked && opts->preserve_data) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--linked and --preserve-data exclude each other: a linked clone makes new "
                    "overlays, --preserve-data makes nothing");
        return NULL;
    }
    if (opts->linked && opts->reflink) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--linked and --reflink exclude each other: choose one");
        return NULL;
    }
    plan->def = vd_domain_def_copy(orig);
    plan->disks = g_ptr_array_new_with_free_func((GDestroyNotify)clone_disk_free);
    plan->def->id = -1;
    if (!plan_names(plan->def, orig, opts, taken, data, rand, error) ||
        !plan_macs(plan->def, opts, taken, data, rand, error) ||
        !plan_disks(plan, orig->name, paths, formats, opts, taken, data, error))
        return NULL;
    /* A fixed VNC/SPICE port would clash with the original's. */
    for (guint i = 0; i < plan->def->graphics->len; i++) {
        VdGraphicsDef *g = g_ptr_array_index(plan->def->graphics, i);
        if (g->type == VD_GRAPHICS_VNC || g->type == VD_GRAPHICS_SPICE) {
            g->port = -1;
            g->autoport = TRUE;
        }
    }
    /* A UEFI variable store of its own, copied from the original's. */
    if (plan->def->os.nvram) {
        g_autofree char *dir = g_path_get_dirname(orig->os.nvram);
        g_autofree char *base = g_strdup_printf("%s_VARS", plan->def->name);
        plan->nvram_src = g_strdup(orig->os.nvram);
        plan->nvram_dst =
            vd_clone_unique_name(dir, base, ".fd", VD_CLONE_TAKEN_PATH, taken, data);
        g_free(plan->def->os.nvram);
        plan->def->os.nvram = g_strdup(plan->nvram_dst);
    }
    return g_steal_pointer(&plan);
}
