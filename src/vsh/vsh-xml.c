/* vsh xml: virt-xml. Edits a domain's persistent definition with the
 * option syntax of vsh install (the same parsers, vsh-install-opts.c and
 * vsh-install-net.c; a new disk is planned and allocated by vsh install's
 * code), PUTs it back, and with --update applies the change to the running
 * guest through the live routes. The edit itself is vsh-xml-edit.c. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/vd-error.h"
#include "vsh-client.h"
#include "vsh-object.h"
#include "vsh-xml.h"
#include "vsh.h"

typedef struct {
    VshCtl *ctl;
    const char *dom;  /* as typed */
    char *name;       /* the domain's name */
    gboolean active;  /* running or paused */
    const char *spec; /* the value of the change option */
    VshXmlChange change;
    VshInstall inst; /* a new disk's or NIC's plan */
    VshInstallDisk *disk;
    VshInstallNetwork edit_net;
} VshXmlRun;

static void
run_clear(VshXmlRun *r)
{
    g_clear_pointer(&r->name, g_free);
    /* A new disk belongs to the plan's array; an edit's to @r. */
    if (!r->inst.plan.disks)
        vsh_install_disk_free(r->disk);
    vsh_install_plan_clear(&r->inst.plan);
    r->disk = NULL;
    vsh_install_network_clear(&r->edit_net);
}

/* ---- which action, which change ---- */

static gboolean
pick_action(const VshCmd *cmd, VshXmlAction *action, const char **selector, GError **error)
{
    int n = vsh_cmd_has(cmd, "edit") + vsh_cmd_has(cmd, "add-device") +
            vsh_cmd_has(cmd, "remove-device");

    if (n == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "One of --edit, --add-device or --remove-device must be specified");
        return FALSE;
    }
    if (n > 1) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "Only one of --edit, --add-device or --remove-device can be specified at a "
                    "time");
        return FALSE;
    }
    *action = vsh_cmd_has(cmd, "edit")         ? VSH_XML_EDIT
              : vsh_cmd_has(cmd, "add-device") ? VSH_XML_ADD
                                               : VSH_XML_REMOVE;
    *selector = vsh_cmd_get_string(cmd, "edit");
    return TRUE;
}

static gboolean
pick_kind(const VshCmd *cmd, VshXmlKind *kind, const char **spec, GError **error)
{
    static const char *const names[] = {"disk", "network", "vcpus", "memory"};
    int n = 0;

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        if (vsh_cmd_has(cmd, names[i])) {
            *kind = (VshXmlKind)i;
            *spec = vsh_cmd_get_string(cmd, names[i]);
            n++;
        }
    }
    if (n == 1)
        return TRUE;
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                n ? "Only one change option (--disk, --network, --vcpus or --memory) can be "
                    "given at a time"
                  : "No change specified: give --disk, --network, --vcpus or --memory");
    return FALSE;
}

/* ---- parsing the change with vsh install's parsers ---- */

/* Where a new pool volume will be, for --print-xml and --print-diff
 * (nothing is created then): the pool's directory and the planned name. */
static char *
planned_path(VshXmlRun *r, const VshInstallDisk *d)
{
    g_autofree char *p = g_uri_escape_string(d->pool, NULL, FALSE);
    g_autofree char *path = g_strconcat("/v1/pools/", p, NULL);
    VshClient *client = vsh_ctl_client(r->ctl, NULL);
    g_autoptr(JsonNode) answer = client ? vsh_client_call(client, "GET", path, NULL, NULL) : NULL;
    JsonObject *o = vsh_json_root(answer);
    const char *dir;

    if (o && json_object_has_member(o, "pool"))
        o = json_object_get_object_member(o, "pool");
    dir = vsh_json_string(o, "target", NULL);
    return dir ? g_build_filename(dir, d->create_name, NULL) : NULL;
}

static gboolean
parse_add_disk(VshXmlRun *r, const char *old_xml, gboolean define, GError **error)
{
    VshInstallDisk *d = vsh_install_parse_disk(r->spec, error);

    if (!d)
        return FALSE;
    r->disk = d;
    if (d->none) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--add-device --disk none: there is no disk to add");
        return FALSE;
    }
    r->inst.plan.disks = g_ptr_array_new_with_free_func((GDestroyNotify)vsh_install_disk_free);
    g_ptr_array_add(r->inst.plan.disks, d);
    if (!vsh_install_plan_disk(&r->inst, d, error))
        return FALSE;
    if (!(d->target = vsh_xml_next_target(old_xml, d->bus, d->cdrom, error)))
        return FALSE;
    if (d->create && !d->create_file && !define)
        d->path = planned_path(r, d);
    r->change.disk = d;
    return TRUE;
}

static gboolean
parse_change(VshXmlRun *r, const char *old_xml, gboolean define, GError **error)
{
    VshXmlChange *c = &r->change;

    switch (c->kind) {
    case VSH_XML_DISK:
        if (c->action == VSH_XML_REMOVE) {
            c->selector = r->spec;
            return TRUE;
        }
        if (c->action == VSH_XML_ADD)
            return parse_add_disk(r, old_xml, define, error);
        if (!(r->disk = vsh_install_parse_disk_edit(r->spec, error)))
            return FALSE;
        c->disk = r->disk;
        return TRUE;
    case VSH_XML_NETWORK:
        if (c->action == VSH_XML_REMOVE) {
            c->selector = r->spec;
            return TRUE;
        }
        if (c->action == VSH_XML_EDIT) {
            c->net = &r->edit_net;
            return vsh_install_parse_network(r->spec, &r->edit_net, error);
        } else {
            const char *specs[] = {r->spec, NULL};

            if (!vsh_install_plan_networks(&r->inst, specs, error))
                return FALSE;
            if (r->inst.plan.nets->len == 0) {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                            "--add-device --network none: there is no interface to add");
                return FALSE;
            }
            c->net = g_ptr_array_index(r->inst.plan.nets, 0);
        }
        return TRUE;
    case VSH_XML_VCPUS:
        if (!vsh_install_parse_vcpus(r->spec, &c->vcpus, &c->max_vcpus, error))
            return FALSE;
        if (!strstr(r->spec, "maxvcpus"))
            c->max_vcpus = 0; /* not given: the definition's maximum stays */
        return TRUE;
    case VSH_XML_MEMORY:
        if (!vsh_install_parse_memory(r->spec, &c->memory_mib, &c->max_memory_mib, error))
            return FALSE;
        if (!strstr(r->spec, "maxmemory") && !strstr(r->spec, "maxMemory"))
            c->max_memory_mib = 0;
        return TRUE;
    }
    return FALSE;
}

/* ---- talking to the daemon ---- */

static gboolean
put_definition(VshXmlRun *r, const char *xml, GError **error)
{
    g_autofree char *path = vsh_domain_path(r->name, "/xml");
    g_autoptr(GBytes) body = g_bytes_new(xml, strlen(xml));
    VshClient *client = vsh_ctl_client(r->ctl, error);
    g_autoptr(JsonNode) answer = NULL;

    if (!client)
        return FALSE;
    answer = vsh_client_send_for_json(client, "PUT", path, "application/xml", body, error);
    if (!answer)
        return FALSE;
    vsh_print_warnings(answer);
    return TRUE;
}

static gboolean
send_device(VshXmlRun *r, const char *method, const char *suffix, const char *xml, GError **error)
{
    g_autofree char *path = vsh_domain_path(r->name, suffix);
    g_autoptr(GBytes) body = g_bytes_new(xml, strlen(xml));
    VshClient *client = vsh_ctl_client(r->ctl, error);
    g_autoptr(JsonNode) answer = NULL;

    if (!client)
        return FALSE;
    answer = vsh_client_send_for_json(client, method, path, "application/xml", body, error);
    if (answer)
        vsh_print_warnings(answer);
    return answer != NULL;
}

static gboolean
put_json(VshXmlRun *r, const char *suffix, const char *member, gint64 value, GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) body = NULL;
    g_autoptr(JsonNode) answer = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, member);
    json_builder_add_int_value(b, value);
    json_builder_end_object(b);
    body = json_builder_get_root(b);
    answer = vsh_domain_call(r->ctl, "PUT", r->name, suffix, body, error);
    if (answer)
        vsh_print_warnings(answer);
    return answer != NULL;
}

/* The change on the running guest: virt-xml's hotplug, hotunplug or
 * update of each device; setvcpus/setmem --live for the others. @what
 * gets virt-xml's word for the message. */
static gboolean
apply_live(VshXmlRun *r, const VshXmlResult *res, const char **what, GError **error)
{
    const VshXmlChange *c = &r->change;

    if (c->kind == VSH_XML_VCPUS) {
        *what = "vCPU update";
        return put_json(r, "/vcpus?live=1", "count", res->vcpus, error);
    }
    if (c->kind == VSH_XML_MEMORY) {
        *what = "memory update";
        return put_json(r, "/memory?live=1", "current_kib", (gint64)res->memory_kib, error);
    }
    *what = c->action == VSH_XML_ADD      ? "device hotplug"
            : c->action == VSH_XML_REMOVE ? "device hotunplug"
                                          : "device update";
    for (guint i = 0; i < res->devices->len; i++) {
        const char *dev = g_ptr_array_index(res->devices, i);
        gboolean ok = c->action == VSH_XML_ADD
                          ? send_device(r, "POST", "/devices?live=1", dev, error)
                      : c->action == VSH_XML_REMOVE
                          ? send_device(r, "POST", "/devices/detach?live=1", dev, error)
                          : send_device(r, "PUT", "/devices?live=1", dev, error);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

/* --confirm: virt-xml's question on the terminal; anything but y/yes is no. */
static gboolean
confirm(const char *question)
{
    char line[64] = "";

    printf("%s (y/n): ", question);
    fflush(stdout);
    if (!fgets(line, sizeof(line), stdin))
        return FALSE;
    g_strstrip(line);
    return g_ascii_strcasecmp(line, "y") == 0 || g_ascii_strcasecmp(line, "yes") == 0;
}

static gboolean
lookup_domain(VshXmlRun *r, GError **error)
{
    g_autoptr(JsonNode) answer = vsh_domain_call(r->ctl, "GET", r->dom, NULL, NULL, error);
    JsonObject *d = vsh_json_domain(answer);

    if (!answer)
        return FALSE;
    r->name = g_strdup(vsh_json_string(d, "name", r->dom));
    r->active = !g_str_equal(vsh_json_string(d, "state", "shut off"), "shut off");
    return TRUE;
}

static gboolean
define_and_update(VshXmlRun *r, const VshXmlResult *res, gboolean update, GError **error)
{
    g_autoptr(GError) live_error = NULL;
    const char *what = NULL;

    if (!put_definition(r, res->xml, error)) {
        vsh_install_undo(&r->inst, "The definition was not changed");
        return FALSE;
    }
    /* The images are the definition's now. */
    for (guint i = 0; r->inst.plan.disks && i < r->inst.plan.disks->len; i++)
        ((VshInstallDisk *)g_ptr_array_index(r->inst.plan.disks, i))->create = FALSE;
    if (update && r->active && !apply_live(r, res, &what, &live_error)) {
        vsh_print_extra(r->ctl, "Domain '%s' defined successfully.\n", r->name);
        vsh_print_extra(r->ctl,
                        "Changes will take effect after the domain is fully powered off.\n");
        g_set_error(error, VD_ERROR, live_error->code,
                    "Error attempting %s: %s (the definition was changed, the running "
                    "guest was not)",
                    what, live_error->message);
        return FALSE;
    }
    if (update && r->active) {
        g_autofree char *done = g_strdup_printf("%s successful.\n", what);

        if (!g_str_has_prefix(done, "vCPU"))
            done[0] = g_ascii_toupper(done[0]);
        vsh_print_extra(r->ctl, "%s", done);
    }
    vsh_print_extra(r->ctl, "Domain '%s' defined successfully.\n", r->name);
    if (r->active && !update)
        vsh_print_extra(r->ctl,
                        "Changes will take effect after the domain is fully powered off.\n");
    return TRUE;
}

static gboolean
cmd_xml(VshCtl *ctl, const VshCmd *cmd, GError **error)
{
    VshXmlRun r = {.ctl = ctl, .dom = vsh_cmd_get_string(cmd, "domain")};
    g_auto(VshXmlResult) res = {0};
    g_autofree char *old_xml = NULL;
    g_autofree char *old_norm = NULL;
    g_autoptr(GBytes) bytes = NULL;
    gboolean print_diff = vsh_cmd_has(cmd, "print-diff");
    gboolean print_xml = vsh_cmd_has(cmd, "print-xml");
    gboolean update = vsh_cmd_has(cmd, "update");
    gboolean define = vsh_cmd_has(cmd, "define") || (!print_diff && !print_xml);
    g_autofree char *os_warning = NULL;
    gboolean ok = FALSE;

    r.inst.ctl = ctl;
    r.inst.print_xml = !define; /* the install code's notices stay off the printed XML */
    r.inst.os = vsh_install_osinfo_lookup(NULL, &os_warning);
    if (!pick_action(cmd, &r.change.action, &r.change.selector, error) ||
        !pick_kind(cmd, &r.change.kind, &r.spec, error))
        return FALSE;
    if (update && !define) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "--update changes the running domain: it needs --define (or no --print-xml "
                    "/ --print-diff)");
        return FALSE;
    }
    if (!lookup_domain(&r, error))
        goto out;
    if (!(bytes = vsh_domain_get_bytes(ctl, r.dom, "/xml?inactive=1", error)))
        goto out;
    old_xml = vsh_bytes_to_string(bytes);
    r.inst.plan.name = g_strdup(r.name);
    if (!(old_norm = vsh_xml_normalize(old_xml, error)) ||
        !parse_change(&r, old_xml, define, error) ||
        !vsh_xml_apply(old_xml, &r.change, &res, error))
        goto out;

    if (print_diff || vsh_cmd_has(cmd, "confirm")) {
        g_autofree char *diff = vsh_xml_diff(old_norm, res.xml, "Original XML", "Altered XML");

        vsh_print(ctl, "%s", diff);
    }
    if (print_xml)
        vsh_print(ctl, "%s", res.xml);
    if (define && vsh_cmd_has(cmd, "confirm")) {
        g_autofree char *q = g_strdup_printf("Define '%s' with the changed XML?", r.name);

        if (!confirm(q)) {
            ok = TRUE; /* virt-xml: a "no" is not an error; nothing changes */
            goto out;
        }
    }
    if (define) {
        if (r.disk && r.disk->create && !vsh_install_allocate_disks(&r.inst, error))
            goto out;
        /* The path is known only now, for a new volume: redo the edit. */
        if (r.disk && r.change.action == VSH_XML_ADD) {
            vsh_xml_result_clear(&res);
            if (!vsh_xml_apply(old_xml, &r.change, &res, error)) {
                vsh_install_undo(&r.inst, "The definition was not changed");
                goto out;
            }
        }
        ok = define_and_update(&r, &res, update, error);
    } else {
        ok = TRUE;
    }
out:
    run_clear(&r);
    return ok;
}

static const VshOptDef opts_xml[] = {
    VSH_OPT_DOMAIN,
    {"edit", VSH_OT_STRING, VSH_OPT_VALUE_OPTIONAL, VSH_COMPLETE_NONE,
     "edit devices: [N | all | TARGET | MAC | target=,path=,mac=] (default: the first)"},
    {"add-device", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "add the device of --disk or --network"},
    {"remove-device", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "remove the devices the --disk or --network value selects"},
    {"disk", VSH_OT_STRING, 0, VSH_COMPLETE_FILE,
     "as vsh install: /path, size=GiB, path=,format=,bus=,device=,pool=,vol=,readonly=,cache="},
    {"network", VSH_OT_STRING, 0, VSH_COMPLETE_NONE,
     "as vsh install: network=NAME, bridge=BR, type=direct,source=NIC, user; ,model=,mac="},
    {"vcpus", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "N[,maxvcpus=M] (with --edit)"},
    {"memory", VSH_OT_STRING, 0, VSH_COMPLETE_NONE, "MiB[,maxmemory=MiB] (with --edit)"},
    {"update", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "apply the change to the running guest too"},
    {"define", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "define the changed XML (the default without --print-diff / --print-xml)"},
    {"print-diff", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "print a unified diff of the change; define nothing unless --define"},
    {"print-xml", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE,
     "print the changed XML; define nothing unless --define"},
    {"confirm", VSH_OT_BOOL, 0, VSH_COMPLETE_NONE, "show the diff and ask before defining"},
    {NULL},
};

const VshCmdDef vsh_xml_commands[] = {
    {"xml", "domain", opts_xml, cmd_xml, "edit a domain's XML with virt-install's options",
     "virt-xml: --add-device, --edit [SEL] or --remove-device with one of --disk, --network, "
     "--vcpus, --memory in vsh install's syntax; defines the result, and with --update applies "
     "it to the running guest too. See docs/hot-expansion.md."},
    {NULL},
};
