/* The command table: the groups "help" lists and the union of every group
 * file's command array, sorted by name for lookup and listings. */
#include <string.h>

#include "vsh.h"

const VshGroup vsh_groups[] = {
    {"domain", "Domain Management"},
    {"monitor", "Domain Monitoring"},
    {"host", "Host and Hypervisor"},
    {"pool", "Storage Pool"},
    {"volume", "Storage Volume"},
    {"network", "Networking"},
    {"snapshot", "Snapshot"},
    {"image", "Guest Images"},
    {"web", "Web Console"},
    {"vsh", "Vsh itself"},
    {NULL, NULL},
};

static const VshCmdDef *const command_arrays[] = {
    vsh_domain_lifecycle_commands, vsh_domain_edit_commands, vsh_domain_info_commands,
    vsh_console_commands,          vsh_host_commands,        vsh_shell_commands,
    vsh_host_node_commands,
    vsh_display_commands,
    vsh_pool_commands,             vsh_volume_commands,
    vsh_install_commands,
    vsh_image_commands,
    vsh_network_commands,          vsh_network_host_commands,
    vsh_domain_net_commands,       vsh_domain_check_commands,
    vsh_device_commands,           vsh_domain_disk_commands,  vsh_domain_vcpu_commands,
    vsh_domain_memory_commands,    vsh_domain_memdev_commands, vsh_domain_stats_commands,
    vsh_xml_commands,
    vsh_snapshot_commands,         vsh_domain_blockjob_commands, vsh_domain_save_commands,
    vsh_clone_commands,            vsh_migrate_commands,
    vsh_event_commands,
    vsh_web_commands,
};

static int
compare_defs(gconstpointer a, gconstpointer b)
{
    const VshCmdDef *const *da = a;
    const VshCmdDef *const *db = b;

    return strcmp((*da)->name, (*db)->name);
}

const VshCmdDef *const *
vsh_commands_all(guint *n_out)
{
    static gsize init;
    static GPtrArray *all;

    if (g_once_init_enter(&init)) {
        GPtrArray *defs = g_ptr_array_new();

        for (gsize i = 0; i < G_N_ELEMENTS(command_arrays); i++) {
            for (const VshCmdDef *d = command_arrays[i]; d->name; d++)
                g_ptr_array_add(defs, (gpointer)d);
        }
        g_ptr_array_sort(defs, compare_defs);
        all = defs;
        g_once_init_leave(&init, 1);
    }
    if (n_out)
        *n_out = all->len;
    return (const VshCmdDef *const *)all->pdata;
}

const VshCmdDef *
vsh_command_find(const char *name)
{
    guint n;
    const VshCmdDef *const *all = vsh_commands_all(&n);

    for (guint i = 0; name && i < n; i++) {
        if (g_str_equal(all[i]->name, name))
            return all[i];
    }
    return NULL;
}

const VshGroup *
vsh_group_find(const char *name)
{
    for (const VshGroup *g = vsh_groups; name && g->keyword; g++) {
        if (g_str_equal(g->keyword, name) || g_str_equal(g->name, name))
            return g;
    }
    return NULL;
}
