/* vsh install, the acting half: what virt-install does once its input is
 * known to be good.
 *
 *   Starting install...
 *   Allocating 'NAME.qcow2'          |  20 GB  00:00:00
 *   Creating domain...
 *   (console, or "Domain installation still in progress...")
 *   Domain creation completed.
 *   Restarting guest.
 *
 * The final XML is defined first and the install phase is started over it
 * (POST /v1/domains?start=1 with the same name and UUID), so the install
 * phase never becomes the definition: whatever happens, the next start
 * boots the installed disk. */
#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh-console.h"
#include "vsh-install.h"
#include "vsh.h"

void
vsh_install_unstage(VshInstall *inst)
{
    g_autoptr(GDir) dir = NULL;
    const char *entry;

    if (!inst->stage_dir)
        return;
    if ((dir = g_dir_open(inst->stage_dir, 0, NULL))) {
        while ((entry = g_dir_read_name(dir))) {
            g_autofree char *path = g_build_filename(inst->stage_dir, entry, NULL);

            unlink(path);
        }
    }
    rmdir(inst->stage_dir);
    g_clear_pointer(&inst->stage_dir, g_free);
}

/* "20 GB", "1.0 GB", "512 MB" as virt-install's progress meter (powers of
 * 1024, one decimal below 10). */
static char *
human_size(guint64 bytes)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)bytes;
    guint u = 0;

    while (v >= 999.5 && u + 1 < G_N_ELEMENTS(units)) {
        v /= 1024.0;
        u++;
    }
    return v < 10 && u > 0 ? g_strdup_printf("%.1f %s", v, units[u])
                           : g_strdup_printf("%.0f %s", v, units[u]);
}

static void
meter_line(VshCtl *ctl, const char *what, guint64 bytes, gint64 start_us)
{
    g_autofree char *size = human_size(bytes);
    gint64 secs = (g_get_monotonic_time() - start_us) / G_USEC_PER_SEC;

    vsh_print_extra(ctl, "%-40s | %7s  %02d:%02d:%02d\n", what, size, (int)(secs / 3600),
                    (int)(secs / 60 % 60), (int)(secs % 60));
    fflush(stdout);
}

/* ---- API helpers ---- */

static JsonNode *
api(VshCtl *ctl, const char *method, const char *path, JsonNode *body, GError **error)
{
    VshClient *client = vsh_ctl_client(ctl, error);

    return client ? vsh_client_call(client, method, path, body, error) : NULL;
}

static JsonNode *
api_xml(VshCtl *ctl, const char *path, const char *xml, GError **error)
{
    VshClient *client = vsh_ctl_client(ctl, error);
    g_autoptr(GBytes) body = NULL;

    if (!client)
        return NULL;
    body = g_bytes_new(xml, strlen(xml));
    return vsh_client_send_for_json(client, "POST", path, "application/xml", body, error);
}

static char *
pool_path(const char *pool, const char *suffix)
{
    g_autofree char *esc = g_uri_escape_string(pool, NULL, FALSE);

    return g_strconcat("/v1/pools/", esc, suffix, NULL);
}

/* ---- the 'default' pool, created when missing as virt-install does ---- */

/* Where the pool goes: where the daemon keeps its own default pool
 * (GET /v1/host), so a recreated one is the one the daemon would make. */
static char *
default_pool_dir(VshCtl *ctl, GError **error)
{
    VshClient *client = vsh_ctl_client(ctl, error);
    g_autoptr(JsonNode) host = NULL;
    const char *dir;

    if (!client || !(host = vsh_client_call(client, "GET", "/v1/host", NULL, error)))
        return NULL;
    dir = vsh_json_string(json_node_get_object(host), "default_pool_target", NULL);
    if (!dir) {
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL,
                    "virtd did not say where its default pool lives (GET /v1/host)");
        return NULL;
    }
    return g_strdup(dir);
}

static gboolean
create_default_pool(VshInstall *inst, GError **error)
{
    g_autofree char *dir = default_pool_dir(inst->ctl, error);
    g_autofree char *xml = NULL;
    g_autoptr(JsonNode) a = NULL;
    g_autoptr(JsonNode) b = NULL;
    g_autoptr(JsonNode) c = NULL;
    g_autoptr(JsonNode) body = json_from_string("{\"autostart\": true}", NULL);

    if (!dir)
        return FALSE;
    xml = g_markup_printf_escaped("<pool type='dir'>\n  <name>default</name>\n  <target>\n"
                                  "    <path>%s</path>\n  </target>\n</pool>\n",
                                  dir);
    if (!(a = api_xml(inst->ctl, "/v1/pools", xml, error)) ||
        !(b = api(inst->ctl, "POST", "/v1/pools/default/build", NULL, error)) ||
        !(c = api(inst->ctl, "POST", "/v1/pools/default/start", NULL, error)))
        return FALSE;
    json_node_unref(api(inst->ctl, "PUT", "/v1/pools/default/autostart", body, NULL));
    vsh_print_extra(inst->ctl, "Created storage pool 'default' at %s\n", dir);
    return TRUE;
}

/* ---- disks ---- */

/* "qcow2" when @path starts with qcow2's magic, else "raw". */
static const char *
probe_format(const char *path)
{
    char magic[4] = {0};
    FILE *f = fopen(path, "rb");

    if (f) {
        if (fread(magic, 1, 4, f) != 4)
            magic[0] = 0;
        fclose(f);
    }
    return memcmp(magic, "QFI\xfb", 4) == 0 ? "qcow2" : "raw";
}

static gboolean
create_file(VshInstallDisk *d, GError **error)
{
    g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT, d->size_bytes);
    g_autofree char *out = NULL;
    int status = 0;
    g_autoptr(GPtrArray) argv = g_ptr_array_new();

    g_ptr_array_add(argv, "qemu-img");
    g_ptr_array_add(argv, "create");
    g_ptr_array_add(argv, "-q");
    g_ptr_array_add(argv, "-f");
    g_ptr_array_add(argv, d->format);
    if (d->backing_store) {
        g_ptr_array_add(argv, "-b");
        g_ptr_array_add(argv, d->backing_store);
        g_ptr_array_add(argv, "-F");
        g_ptr_array_add(argv, (char *)probe_format(d->backing_store));
    }
    g_ptr_array_add(argv, d->path);
    g_ptr_array_add(argv, size);
    g_ptr_array_add(argv, NULL);
    if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                      &out, &status, error))
        return FALSE;
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "cannot create '%s': %s",
                    d->path, out ? g_strstrip(out) : "qemu-img failed");
        return FALSE;
    }
    return TRUE;
}

static gboolean
create_volume(VshInstall *inst, VshInstallDisk *d, GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) body = NULL;
    g_autoptr(JsonNode) answer = NULL;
    g_autofree char *path = pool_path(d->pool, "/volumes");
    JsonObject *vol = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, d->create_name);
    json_builder_set_member_name(b, "capacity");
    json_builder_add_int_value(b, (gint64)d->size_bytes);
    json_builder_set_member_name(b, "format");
    json_builder_add_string_value(b, d->format);
    if (d->backing_store) {
        json_builder_set_member_name(b, "backing_vol");
        json_builder_add_string_value(b, d->backing_store);
        json_builder_set_member_name(b, "backing_format");
        json_builder_add_string_value(b, probe_format(d->backing_store));
    }
    json_builder_end_object(b);
    body = json_builder_get_root(b);
    if (!(answer = api(inst->ctl, "POST", path, body, error)))
        return FALSE;
    if (JSON_NODE_HOLDS_OBJECT(answer) &&
        json_object_has_member(json_node_get_object(answer), "volume"))
        vol = json_object_get_object_member(json_node_get_object(answer), "volume");
    g_free(d->path);
    d->path = g_strdup(vsh_json_string(vol, "path", NULL));
    if (!d->path) {
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL,
                    "virtd created volume '%s' in pool '%s' but did not say where", d->create_name,
                    d->pool);
        return FALSE;
    }
    return TRUE;
}

gboolean
vsh_install_allocate_disks(VshInstall *inst, GError **error)
{
    for (guint i = 0; i < inst->plan.disks->len; i++) {
        VshInstallDisk *d = g_ptr_array_index(inst->plan.disks, i);
        g_autofree char *label = NULL;
        g_autofree char *base = NULL;
        gint64 start = g_get_monotonic_time();
        gboolean ok;

        if (!d->create)
            continue;
        if (!d->create_file && g_str_equal(d->pool, "default") && inst->created_pool_default &&
            !create_default_pool(inst, error))
            return FALSE;
        inst->created_pool_default = FALSE; /* made now; later disks just use it */
        ok = d->create_file ? create_file(d, error) : create_volume(inst, d, error);
        if (!ok) {
            d->create = FALSE; /* nothing to remove */
            return FALSE;
        }
        base = d->create_file ? g_path_get_basename(d->path) : g_strdup(d->create_name);
        label = g_strdup_printf("Allocating '%s'", base);
        meter_line(inst->ctl, label, d->size_bytes, start);
    }
    return TRUE;
}

/* Undoes this run: the definition, then the images it made. Reports what
 * it did on stderr, since the command is failing anyway. */
void
vsh_install_undo(VshInstall *inst, const char *failed)
{
    g_autoptr(GString) done = g_string_new(NULL);

    if (inst->defined) {
        g_autofree char *path = vsh_domain_path(inst->plan.uuid, NULL);
        g_autoptr(GError) local = NULL;
        g_autoptr(JsonNode) a = api(inst->ctl, "DELETE", path, NULL, &local);

        if (a)
            g_string_append_printf(done, "\n  domain definition '%s'", inst->plan.name);
        else
            vsh_warn("could not remove the domain definition '%s': %s", inst->plan.name,
                     local->message);
        inst->defined = FALSE;
    }
    for (guint i = 0; i < inst->plan.disks->len; i++) {
        VshInstallDisk *d = g_ptr_array_index(inst->plan.disks, i);
        g_autoptr(GError) local = NULL;
        gboolean ok;

        if (!d->create || !d->path)
            continue;
        if (d->create_file) {
            ok = unlink(d->path) == 0;
            if (!ok)
                g_set_error(&local, VD_ERROR, VD_ERROR_OPERATION_FAILED, "%s",
                            g_strerror(errno));
        } else {
            g_autofree char *v = g_uri_escape_string(d->create_name, NULL, FALSE);
            g_autofree char *suffix = g_strconcat("/volumes/", v, NULL);
            g_autofree char *path = pool_path(d->pool, suffix);
            g_autoptr(JsonNode) a = api(inst->ctl, "DELETE", path, NULL, &local);

            ok = a != NULL;
        }
        if (ok)
            g_string_append_printf(done, "\n  disk '%s'", d->path);
        else
            vsh_warn("could not remove disk '%s' made by this run: %s", d->path, local->message);
        d->create = FALSE;
    }
    if (done->len) {
        fflush(stdout);
        fprintf(stderr, "%s; removed what this run created:%s\n", failed, done->str);
    }
}

/* ---- staging the installer ---- */

static gboolean
stage_installer(VshInstall *inst, GError **error)
{
    VshInstallPlan *p = &inst->plan;

    if (p->method != VSH_INSTALL_LOCATION)
        return TRUE;
    if (inst->location_iso) {
        GStatBuf st;

        /* Already read out of the ISO while checking it (vsh-install.c). */
        if (g_stat(p->install_kernel, &st) == 0)
            meter_line(inst->ctl, "Retrieving 'vmlinuz'", (guint64)st.st_size,
                       g_get_monotonic_time());
        if (g_stat(p->install_initrd, &st) == 0)
            meter_line(inst->ctl, "Retrieving 'initrd'", (guint64)st.st_size,
                       g_get_monotonic_time());
    }
    if (!inst->inject || !inst->inject[0])
        return TRUE;
    if (!inst->stage_dir) {
        /* The tree's own initrd must not change: inject into a copy. */
        g_autoptr(GFile) from = g_file_new_for_path(p->install_initrd);
        g_autoptr(GFile) to = NULL;
        g_autofree char *copy = NULL;

        if (!(inst->stage_dir = g_dir_make_tmp("vsh-install-XXXXXX", NULL))) {
            g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "cannot create a temporary directory: %s", g_strerror(errno));
            return FALSE;
        }
        copy = g_build_filename(inst->stage_dir, "initrd", NULL);
        to = g_file_new_for_path(copy);
        if (!g_file_copy(from, to, G_FILE_COPY_NONE, NULL, NULL, NULL, error))
            return FALSE;
        g_free(p->install_initrd);
        p->install_initrd = g_steal_pointer(&copy);
    }
    return vd_install_initrd_inject(p->install_initrd, (const char *const *)inst->inject, error);
}

/* QEMU runs as the daemon's user, which may not be ours. */
static void
stage_readable(VshInstall *inst)
{
    if (inst->stage_dir)
        g_chmod(inst->stage_dir, 0755);
}

/* ---- after the start: console, waiting, the reboot into the system ---- */

/* The domain's state string ("running", "shut off", ...), or NULL with
 * @error when it is gone. */
static char *
domain_state(VshInstall *inst, GError **error)
{
    g_autofree char *path = vsh_domain_path(inst->plan.uuid, NULL);
    g_autoptr(JsonNode) a = api(inst->ctl, "GET", path, NULL, error);

    return a ? g_strdup(vsh_json_string(vsh_json_domain(a), "state", "no state")) : NULL;
}

static gboolean
is_stopped(const char *state)
{
    return g_str_equal(state, "shut off") || g_str_equal(state, "crashed");
}

/* Polls until the install phase ends. @minutes < 0: forever. Returns FALSE
 * with VD_ERROR_TIMEOUT when time runs out. */
static gboolean
wait_stopped(VshInstall *inst, gint64 minutes, GError **error)
{
    gint64 deadline = minutes < 0 ? G_MAXINT64 : g_get_monotonic_time() + minutes * 60 * G_USEC_PER_SEC;

    for (;;) {
        g_autofree char *state = domain_state(inst, error);

        if (!state)
            return FALSE;
        if (is_stopped(state))
            return TRUE;
        if (g_get_monotonic_time() >= deadline) {
            g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT,
                        "Installation has exceeded specified time limit (%" G_GINT64_FORMAT
                        " min). Exiting application. The guest '%s' is still running.",
                        minutes, inst->plan.name);
            return FALSE;
        }
        g_usleep(G_USEC_PER_SEC / 2);
    }
}

/* Where the VNC display is, for the user's viewer (virt-install would
 * start virt-viewer). */
static void
print_display(VshInstall *inst)
{
    g_autofree char *path = vsh_domain_path(inst->plan.uuid, "/display");
    g_autoptr(JsonNode) a = api(inst->ctl, "GET", path, NULL, NULL);
    JsonObject *vnc = NULL;

    if (a && JSON_NODE_HOLDS_OBJECT(a) && json_object_has_member(json_node_get_object(a), "vnc"))
        vnc = json_object_get_object_member(json_node_get_object(a), "vnc");
    if (vnc)
        vsh_print_extra(inst->ctl, "VNC display of '%s': %s:%" G_GINT64_FORMAT
                        " (port %" G_GINT64_FORMAT ")\n",
                        inst->plan.name, vsh_json_string(vnc, "host", "127.0.0.1"),
                        vsh_json_int(vnc, "display", 0), vsh_json_int(vnc, "port", 5900));
    else
        vsh_print_extra(inst->ctl, "Connect a VNC viewer to the display 'vsh vncdisplay %s' "
                        "prints.\n", inst->plan.name);
}

static gboolean
attach(VshInstall *inst, GError **error)
{
    /* The console ends when the domain stops, or on Ctrl+]. */
    return vsh_console_attach(inst->ctl, inst->plan.name, inst->plan.uuid, FALSE, error);
}

static gboolean
finish_install(VshInstall *inst, GError **error)
{
    VshCtl *ctl = inst->ctl;
    g_autofree char *state = NULL;
    gboolean waiting = inst->autoconsole == VSH_AUTOCONSOLE_GRAPHICAL;
    gint64 minutes = -1;

    if (inst->has_wait) {
        waiting = inst->wait_min != 0;
        minutes = inst->wait_min;
    }
    if (inst->autoconsole == VSH_AUTOCONSOLE_TEXT && !attach(inst, error))
        return FALSE;
    if (inst->autoconsole == VSH_AUTOCONSOLE_GRAPHICAL)
        print_display(inst);
    if (!(state = domain_state(inst, error)))
        return FALSE;
    if (!is_stopped(state)) {
        if (!waiting) {
            vsh_print_extra(ctl, "Domain installation still in progress. You can reconnect to the "
                            "console to complete the installation process.\n");
            return TRUE;
        }
        if (minutes > 0)
            vsh_print_extra(ctl, "Domain installation still in progress. Waiting %" G_GINT64_FORMAT
                            " minutes for installation to complete.\n", minutes);
        else
            vsh_print_extra(ctl, "Domain installation still in progress. Waiting for "
                            "installation to complete.\n");
        fflush(stdout);
        if (!wait_stopped(inst, minutes, error))
            return FALSE;
    }
    if (inst->noreboot) {
        vsh_print_extra(ctl, "Domain creation completed.\nYou can restart your domain by "
                        "running:\n  vsh start %s\n", inst->plan.name);
        return TRUE;
    }
    vsh_print_extra(ctl, "Domain creation completed.\nRestarting guest.\n");
    fflush(stdout);
    {
        g_autoptr(JsonNode) a =
            vsh_domain_call(ctl, "POST", inst->plan.uuid, "/start", NULL, error);

        if (!a)
            return FALSE;
    }
    if (inst->autoconsole == VSH_AUTOCONSOLE_TEXT)
        return attach(inst, error);
    return TRUE;
}

/* ---- print-xml, dry-run, run ---- */

static void
dry_run_report(VshInstall *inst, const char *install_xml)
{
    VshCtl *ctl = inst->ctl;

    vsh_print_extra(ctl, "Would use hypervisor type '%s'\n", inst->plan.virt_type);
    for (guint i = 0; i < inst->plan.disks->len; i++) {
        VshInstallDisk *d = g_ptr_array_index(inst->plan.disks, i);
        g_autofree char *size = human_size(d->size_bytes);

        if (d->create && d->create_file)
            vsh_print_extra(ctl, "Would allocate '%s' (%s, %s)\n", d->path, size, d->format);
        else if (d->create)
            vsh_print_extra(ctl, "Would allocate '%s' (%s, %s) in pool '%s'%s\n", d->create_name,
                            size, d->format, d->pool,
                            inst->created_pool_default ? ", creating the pool" : "");
        else
            vsh_print_extra(ctl, "Would attach %s '%s' as %s\n", d->cdrom ? "cdrom" : "disk",
                            d->path, d->target);
    }
    for (guint i = 0; inst->plan.nets && i < inst->plan.nets->len; i++) {
        VshInstallNetwork *n = g_ptr_array_index(inst->plan.nets, i);

        if (n->kind == VSH_NET_NETWORK)
            vsh_print_extra(ctl, "Would connect NIC %s to network '%s'\n", n->mac, n->source);
        else if (n->kind == VSH_NET_BRIDGE)
            vsh_print_extra(ctl, "Would connect NIC %s to bridge '%s'\n", n->mac, n->source);
        else if (n->kind == VSH_NET_DIRECT)
            vsh_print_extra(ctl, "Would connect NIC %s to host interface '%s' (macvtap)\n",
                            n->mac, n->source);
        else
            vsh_print_extra(ctl, "Would give NIC %s user-mode networking\n", n->mac);
    }
    vsh_print_extra(ctl, "Would define domain '%s'\n", inst->plan.name);
    if (install_xml && inst->plan.method == VSH_INSTALL_LOCATION)
        vsh_print_extra(ctl, "Would start the installer: kernel '%s', initrd '%s'\n",
                        inst->location_iso ? "vmlinuz (from the ISO)" : inst->plan.install_kernel,
                        inst->location_iso ? "initrd (from the ISO)" : inst->plan.install_initrd);
    else if (install_xml)
        vsh_print_extra(ctl, "Would start the installer from cdrom '%s'\n", inst->plan.cdrom);
    else
        vsh_print_extra(ctl, "Would start domain '%s'\n", inst->plan.name);
    vsh_print_extra(ctl, "Dry run completed successfully\n");
}

gboolean
vsh_install_run(VshInstall *inst, GError **error)
{
    VshCtl *ctl = inst->ctl;
    g_autofree char *final_xml = vsh_install_xml_final(&inst->plan);
    g_autofree char *install_xml = NULL;
    g_autoptr(JsonNode) defined = NULL;
    g_autoptr(JsonNode) started = NULL;

    if (inst->print_xml) {
        /* virt-install prints each step's XML in order: the install phase,
         * then the installed system. */
        if ((install_xml = vsh_install_xml_install(&inst->plan)))
            vsh_print(ctl, "%s", install_xml);
        vsh_print(ctl, "%s", final_xml);
        return TRUE;
    }
    install_xml = vsh_install_xml_install(&inst->plan);
    if (inst->dry_run) {
        dry_run_report(inst, install_xml);
        return TRUE;
    }

    vsh_print_extra(ctl, "Starting install...\n");
    fflush(stdout);
    if (!stage_installer(inst, error) || !vsh_install_allocate_disks(inst, error))
        goto fail;
    /* The disk paths of new volumes are known only now. */
    g_free(final_xml);
    final_xml = vsh_install_xml_final(&inst->plan);
    g_free(install_xml);
    install_xml = vsh_install_xml_install(&inst->plan);

    if (!(defined = api_xml(ctl, "/v1/domains", final_xml, error)))
        goto fail;
    inst->defined = TRUE;
    vsh_print_warnings(defined);

    vsh_print_extra(ctl, "Creating domain...\n");
    fflush(stdout);
    stage_readable(inst);
    if (install_xml)
        started = api_xml(ctl, "/v1/domains?start=1", install_xml, error);
    else
        started = vsh_domain_call(ctl, "POST", inst->plan.uuid, "/start", NULL, error);
    if (!started)
        goto fail;
    /* QEMU has read the kernel and initrd; the copies are not needed. */
    vsh_install_unstage(inst);

    if (inst->autostart) {
        g_autoptr(JsonNode) body = json_from_string("{\"autostart\": true}", NULL);
        g_autoptr(JsonNode) a =
            vsh_domain_call(ctl, "PUT", inst->plan.uuid, "/autostart", body, error);

        if (!a)
            return FALSE;
    }
    if (!install_xml) {
        if (inst->autoconsole == VSH_AUTOCONSOLE_TEXT)
            return attach(inst, error);
        if (inst->autoconsole == VSH_AUTOCONSOLE_GRAPHICAL)
            print_display(inst);
        vsh_print_extra(ctl, "Domain creation completed.\n");
        return TRUE;
    }
    return finish_install(inst, error);

fail:
    vsh_install_undo(inst, "Domain installation failed");
    return FALSE;
}
