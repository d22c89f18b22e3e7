#include "host-node.h"

#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "util/vd-error.h"

static char *
read_under(const char *root, const char *path)
{
    g_autofree char *full = g_build_filename(root ? root : "/", path, NULL);
    char *text = NULL;

    return g_file_get_contents(full, &text, NULL, NULL) ? text : NULL;
}

/* The value of a "Key:   value" line (/proc/cpuinfo, /proc/meminfo,
 * node meminfo after its "Node N " prefix), or NULL. */
static char *
field(const char *text, const char *key)
{
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        const char *l = lines[i];
        if (g_str_has_prefix(l, "Node ")) { /* "Node 0 MemTotal: ..." */
            l = strchr(l + 5, ' ');
            l = l ? l + 1 : "";
        }
        gsize klen = strlen(key);
        if (strncmp(l, key, klen) != 0)
            continue;
        const char *v = l + klen;
        while (*v == ' ' || *v == '\t')
            v++;
        if (*v != ':')
            continue;
        return g_strstrip(g_strdup(v + 1));
    }
    return NULL;
}

static guint64
field_u64(const char *text, const char *key)
{
    g_autofree char *v = field(text, key);

    return v ? g_ascii_strtoull(v, NULL, 10) : 0;
}

/* "0-3,6" (sysfs cpu lists) into the numbers. */
static GArray *
parse_cpu_list(const char *text)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(guint));
    g_auto(GStrv) parts = g_strsplit(g_strstrip((char *)text), ",", -1);

    for (guint i = 0; parts[i]; i++) {
        if (!*parts[i])
            continue;
        guint64 a = g_ascii_strtoull(parts[i], NULL, 10);
        const char *dash = strchr(parts[i], '-');
        guint64 b = dash ? g_ascii_strtoull(dash + 1, NULL, 10) : a;
        for (guint64 c = a; c <= b && c < 65536; c++) {
            guint v = (guint)c;
            g_array_append_val(out, v);
        }
    }
    return out;
}

static GArray *
online_cpus(const char *root)
{
    g_autofree char *online = read_under(root, "sys/devices/system/cpu/online");

    if (!online) { /* no sysfs: what the process sees */
        GArray *out = g_array_new(FALSE, FALSE, sizeof(guint));
        for (guint i = 0; i < g_get_num_processors(); i++)
            g_array_append_val(out, i);
        return out;
    }
    return parse_cpu_list(online);
}

static guint
numa_nodes(const char *root)
{
    g_autofree char *online = read_under(root, "sys/devices/system/node/online");
    g_autoptr(GArray) nodes = online ? parse_cpu_list(online) : NULL;

    return nodes && nodes->len ? nodes->len : 1;
}

static gint64
topology_id(const char *root, guint cpu, const char *what)
{
    g_autofree char *path = g_strdup_printf("sys/devices/system/cpu/cpu%u/topology/%s", cpu, what);
    g_autofree char *text = read_under(root, path);

    return text ? g_ascii_strtoll(text, NULL, 10) : -1;
}

JsonNode *
vd_host_node_info(const char *root)
{
    g_autofree char *cpuinfo = read_under(root, "proc/cpuinfo");
    g_autofree char *meminfo = read_under(root, "proc/meminfo");
    g_autofree char *mhz = field(cpuinfo, "cpu MHz");
    g_autoptr(GArray) cpus = online_cpus(root);
    g_autoptr(GHashTable) packages = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_autoptr(GHashTable) cores = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    struct utsname uts;
    guint nodes = numa_nodes(root);

    for (guint i = 0; i < cpus->len; i++) {
        guint cpu = g_array_index(cpus, guint, i);
        gint64 pkg = topology_id(root, cpu, "physical_package_id");
        gint64 core = topology_id(root, cpu, "core_id");
        g_hash_table_add(packages, GINT_TO_POINTER((gint)pkg + 1));
        g_hash_table_add(cores,
                         g_strdup_printf("%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT, pkg, core));
    }
    guint n = cpus->len ? cpus->len : 1;
    guint n_pkg = MAX(g_hash_table_size(packages), 1);
    guint n_core = MAX(g_hash_table_size(cores), 1);
    guint sockets = MAX(n_pkg / nodes, 1), cores_per = MAX(n_core / n_pkg, 1),
          threads = MAX(n / n_core, 1);
    /* As libvirt: a topology that does not multiply out is reported flat. */
    if (nodes * sockets * cores_per * threads != n) {
        nodes = 1;
        sockets = 1;
        cores_per = n;
        threads = 1;
    }

    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "model");
    json_builder_add_string_value(b, uname(&uts) == 0 ? uts.machine : "unknown");
    json_builder_set_member_name(b, "cpus");
    json_builder_add_int_value(b, n);
    json_builder_set_member_name(b, "mhz");
    json_builder_add_int_value(b, mhz ? (gint64)g_ascii_strtod(mhz, NULL) : 0);
    json_builder_set_member_name(b, "sockets");
    json_builder_add_int_value(b, sockets);
    json_builder_set_member_name(b, "cores");
    json_builder_add_int_value(b, cores_per);
    json_builder_set_member_name(b, "threads");
    json_builder_add_int_value(b, threads);
    json_builder_set_member_name(b, "nodes");
    json_builder_add_int_value(b, nodes);
    json_builder_set_member_name(b, "memory_kib");
    json_builder_add_int_value(b, (gint64)field_u64(meminfo, "MemTotal"));
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

static void
add_kib(JsonBuilder *b, const char *name, guint64 kib)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, (gint64)kib);
}

JsonNode *
vd_host_node_memory_stats(const char *root, int cell, GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    if (cell < 0) {
        g_autofree char *meminfo = read_under(root, "proc/meminfo");
        add_kib(b, "total", field_u64(meminfo, "MemTotal"));
        add_kib(b, "free", field_u64(meminfo, "MemFree"));
        add_kib(b, "buffers", field_u64(meminfo, "Buffers"));
        add_kib(b, "cached", field_u64(meminfo, "Cached"));
    } else {
        g_autofree char *path = g_strdup_printf("sys/devices/system/node/node%d/meminfo", cell);
        g_autofree char *meminfo = read_under(root, path);
        if (!meminfo) {
            g_autofree char *online = read_under(root, "sys/devices/system/node/online");
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                        "invalid argument: no NUMA cell %d on this host (cells: %s)", cell,
                        online ? g_strstrip(online) : "0");
            return NULL;
        }
        add_kib(b, "total", field_u64(meminfo, "MemTotal"));
        add_kib(b, "free", field_u64(meminfo, "MemFree"));
    }
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

JsonNode *
vd_host_node_cpu_stats(const char *root, int cpu, GError **error)
{
    g_autofree char *stat = read_under(root, "proc/stat");
    g_auto(GStrv) lines = g_strsplit(stat ? stat : "", "\n", -1);
    g_autofree char *prefix = cpu < 0 ? g_strdup("cpu ") : g_strdup_printf("cpu%d ", cpu);
    /* /proc/stat counts USER_HZ ticks, 100 on every Linux ABI */
    guint64 ns_per_tick = 1000000000ULL / (guint64)sysconf(_SC_CLK_TCK);

    for (guint i = 0; lines[i]; i++) {
        if (!g_str_has_prefix(lines[i], prefix))
            continue;
        guint64 v[8] = {0}; /* user nice system idle iowait irq softirq steal */
        g_auto(GStrv) f = g_strsplit_set(lines[i] + strlen(prefix), " ", -1);
        for (guint k = 0, n = 0; f[k] && n < G_N_ELEMENTS(v); k++)
            if (*f[k])
                v[n++] = g_ascii_strtoull(f[k], NULL, 10);
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "kernel");
        json_builder_add_int_value(b, (gint64)((v[2] + v[5] + v[6]) * ns_per_tick));
        json_builder_set_member_name(b, "user");
        json_builder_add_int_value(b, (gint64)((v[0] + v[1]) * ns_per_tick));
        json_builder_set_member_name(b, "idle");
        json_builder_add_int_value(b, (gint64)(v[3] * ns_per_tick));
        json_builder_set_member_name(b, "iowait");
        json_builder_add_int_value(b, (gint64)(v[4] * ns_per_tick));
        json_builder_end_object(b);
        return json_builder_get_root(b);
    }
    g_autofree char *online = read_under(root, "sys/devices/system/cpu/online");
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                "invalid argument: no CPU %d on this host (online CPUs: %s)", cpu,
                online ? g_strstrip(online) : "unknown");
    return NULL;
}

static void
xml_entry(GString *out, const char *name, const char *value)
{
    g_autofree char *v = g_markup_escape_text(value, -1);

    g_string_append_printf(out, "    <entry name='%s'>%s</entry>\n", name, v);
}

/* The <processor> elements: one per physical package of /proc/cpuinfo. */
static void
add_processors(GString *out, const char *cpuinfo)
{
    g_auto(GStrv) blocks = g_strsplit(cpuinfo ? cpuinfo : "", "\n\n", -1);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (guint i = 0; blocks[i]; i++) {
        g_autofree char *id = field(blocks[i], "physical id");
        g_autofree char *vendor = field(blocks[i], "vendor_id");
        g_autofree char *model = field(blocks[i], "model name");
        g_autofree char *family = field(blocks[i], "cpu family");
        g_autofree char *model_no = field(blocks[i], "model");
        g_autofree char *stepping = field(blocks[i], "stepping");
        g_autofree char *mhz = field(blocks[i], "cpu MHz");
        if (!vendor && !model)
            continue;
        if (!g_hash_table_add(seen, g_strdup(id ? id : "0")))
            continue;
        g_autofree char *socket = g_strdup_printf("CPU %s", id ? id : "0");
        g_string_append(out, "  <processor>\n");
        xml_entry(out, "socket_destination", socket);
        if (vendor)
            xml_entry(out, "manufacturer", vendor);
        if (family && model_no && stepping) {
            g_autofree char *sig =
                g_strdup_printf("Family %s, Model %s, Stepping %s", family, model_no, stepping);
            xml_entry(out, "signature", sig);
        }
        if (model)
            xml_entry(out, "version", model);
        if (mhz) {
            g_autofree char *speed = g_strdup_printf("%d MHz", (int)g_ascii_strtod(mhz, NULL));
            xml_entry(out, "max_speed", speed);
        }
        g_string_append(out, "  </processor>\n");
    }
}

char *
vd_host_sysinfo_xml(const char *root, const char *const *smbios)
{
    static const char *const sections[] = {"bios", "system", "baseBoard", "chassis"};
    g_autofree char *cpuinfo = read_under(root, "proc/cpuinfo");
    GString *out = g_string_new("<sysinfo type='smbios'>\n");

    for (guint s = 0; s < G_N_ELEMENTS(sections); s++) {
        gboolean open = FALSE;
        gsize plen = strlen(sections[s]);
        for (guint i = 0; smbios && smbios[i] && smbios[i + 1]; i += 2) {
            if (strncmp(smbios[i], sections[s], plen) != 0 || smbios[i][plen] != '.')
                continue;
            if (!open)
                g_string_append_printf(out, "  <%s>\n", sections[s]);
            open = TRUE;
            xml_entry(out, smbios[i] + plen + 1, smbios[i + 1]);
        }
        if (open)
            g_string_append_printf(out, "  </%s>\n", sections[s]);
    }
    add_processors(out, cpuinfo);
    g_string_append(out, "</sysinfo>\n");
    return g_string_free(out, FALSE);
}
