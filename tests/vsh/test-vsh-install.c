/* Tests of vsh install's pure parts: the sub-option parsers, the
 * install-tree locator (on directories made here), --initrd-inject's cpio
 * and the two XMLs. No daemon is involved. */
#include <glib/gstdio.h>
#include <string.h>

#include "util/vd-error.h"
#include "vsh/vsh-args.h"
#include "vsh/vsh-install.h"

static void
test_disk_forms(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VshInstallDisk) bare = vsh_install_parse_disk("/var/img/a.qcow2", &error);
    g_autoptr(VshInstallDisk) size = vsh_install_parse_disk("size=20", &error);
    g_autoptr(VshInstallDisk) full = vsh_install_parse_disk(
        "path=/i/b.img,size=0.5,format=raw,bus=sata,device=disk,readonly=on", &error);
    g_autoptr(VshInstallDisk) none = vsh_install_parse_disk("none", &error);
    g_autoptr(VshInstallDisk) vol = vsh_install_parse_disk("vol=default/x.qcow2", &error);
    g_autoptr(VshInstallDisk) cd = vsh_install_parse_disk("/i/x.iso,device=cdrom", &error);

    g_assert_no_error(error);
    g_assert_cmpstr(bare->path, ==, "/var/img/a.qcow2");
    g_assert_false(bare->has_size);
    g_assert_true(size->has_size);
    g_assert_cmpuint(size->size_bytes, ==, 20ULL << 30);
    g_assert_null(size->path);
    g_assert_cmpstr(full->path, ==, "/i/b.img");
    g_assert_cmpuint(full->size_bytes, ==, 512ULL << 20);
    g_assert_cmpstr(full->format, ==, "raw");
    g_assert_cmpstr(full->bus, ==, "sata");
    g_assert_true(full->readonly);
    g_assert_false(full->cdrom);
    g_assert_true(none->none);
    g_assert_cmpstr(vol->pool, ==, "default");
    g_assert_cmpstr(vol->vol, ==, "x.qcow2");
    g_assert_true(cd->cdrom);
}

static void
expect_disk_error(const char *spec, const char *needle)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VshInstallDisk) d = vsh_install_parse_disk(spec, &error);

    g_assert_null(d);
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    if (!strstr(error->message, needle))
        g_error("'%s': message '%s' lacks '%s'", spec, error->message, needle);
}

static void
test_disk_errors(void)
{
    expect_disk_error("path=/a,colour=red", "unknown option 'colour'");
    expect_disk_error("size=big", "size 'big'");
    expect_disk_error("size=-1", "size '-1'");
    expect_disk_error("path=/a,bus=floppy", "unknown bus 'floppy'");
    expect_disk_error("path=/a,device=tape", "unknown device 'tape'");
    expect_disk_error("path=/a,format=vmdk", "unknown format 'vmdk'");
    expect_disk_error("path=/a,pool=default", "not both");
    expect_disk_error("vol=x.qcow2", "vol= needs its pool");
    expect_disk_error("bus=virtio", "nothing to attach");
    expect_disk_error("/a,size=1,/b", "not a key=value");
    expect_disk_error("", "empty");
}

static void
test_memory_vcpus(void)
{
    g_autoptr(GError) error = NULL;
    guint64 mem, max;
    guint n, m;

    g_assert_true(vsh_install_parse_memory("2048", &mem, &max, &error));
    g_assert_cmpuint(mem, ==, 2048);
    g_assert_cmpuint(max, ==, 2048);
    g_assert_true(vsh_install_parse_memory("1024,maxmemory=4096", &mem, &max, &error));
    g_assert_cmpuint(mem, ==, 1024);
    g_assert_cmpuint(max, ==, 4096);
    g_assert_no_error(error);
    g_assert_false(vsh_install_parse_memory("4096,maxmemory=1024", &mem, &max, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_clear_error(&error);
    g_assert_false(vsh_install_parse_memory("2G", &mem, &max, &error));
    g_assert_nonnull(strstr(error->message, "'2G'"));
    g_clear_error(&error);
    g_assert_false(vsh_install_parse_memory("1024,slots=2", &mem, &max, &error));
    g_assert_nonnull(strstr(error->message, "unknown option 'slots'"));
    g_clear_error(&error);

    g_assert_true(vsh_install_parse_vcpus("2", &n, &m, &error));
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpuint(m, ==, 2);
    g_assert_true(vsh_install_parse_vcpus("2,maxvcpus=8", &n, &m, &error));
    g_assert_cmpuint(m, ==, 8);
    g_assert_true(vsh_install_parse_vcpus("maxvcpus=4", &n, &m, &error));
    g_assert_cmpuint(n, ==, 4);
    g_assert_no_error(error);
    g_assert_false(vsh_install_parse_vcpus("4,maxvcpus=2", &n, &m, &error));
    g_clear_error(&error);
    g_assert_false(vsh_install_parse_vcpus("0", &n, &m, &error));
    g_clear_error(&error);
}

static void
test_graphics_network_cpu_boot(void)
{
    g_autoptr(GError) error = NULL;
    VshInstallGraphics g = {.port = -1};
    VshInstallNetwork net = {0};
    VshInstallCpu cpu = {0};
    VshInstallBoot boot = {0};

    g_assert_true(vsh_install_parse_graphics("none", &g, &error));
    g_assert_false(g.vnc);
    g_assert_true(vsh_install_parse_graphics("vnc,listen=0.0.0.0,port=5901,password=pw", &g,
                                             &error));
    g_assert_true(g.vnc);
    g_assert_cmpstr(g.listen, ==, "0.0.0.0");
    g_assert_cmpint(g.port, ==, 5901);
    g_assert_cmpstr(g.password, ==, "pw");
    g_assert_true(vsh_install_parse_graphics("vnc", &g, &error));
    g_assert_cmpint(g.port, ==, -1);
    g_assert_null(g.listen);
    g_assert_no_error(error);
    g_assert_false(vsh_install_parse_graphics("spice", &g, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED);
    g_clear_error(&error);
    g_assert_false(vsh_install_parse_graphics("vnc,port=80", &g, &error));
    g_clear_error(&error);
    g_assert_false(vsh_install_parse_graphics("vnc,keymap=de", &g, &error));
    g_assert_nonnull(strstr(error->message, "unknown option 'keymap'"));
    g_clear_error(&error);
    vsh_install_graphics_clear(&g);

    g_assert_true(vsh_install_parse_network("user,model=e1000,mac=52:54:00:AA:bb:01", &net,
                                            &error));
    g_assert_cmpint(net.kind, ==, VSH_NET_USER);
    g_assert_cmpstr(net.model, ==, "e1000");
    g_assert_cmpstr(net.mac, ==, "52:54:00:aa:bb:01");
    g_assert_true(vsh_install_parse_network("none", &net, &error));
    g_assert_cmpint(net.kind, ==, VSH_NET_NONE);
    g_assert_no_error(error);
    g_assert_false(vsh_install_parse_network("user,mac=01:00:00:00:00:00", &net, &error));
    g_clear_error(&error);
    vsh_install_network_clear(&net);

    g_assert_true(vsh_install_parse_cpu("host-passthrough", &cpu, &error));
    g_assert_cmpstr(cpu.mode, ==, "host-passthrough");
    g_assert_true(vsh_install_parse_cpu("Skylake-Client", &cpu, &error));
    g_assert_cmpstr(cpu.mode, ==, "custom");
    g_assert_cmpstr(cpu.model, ==, "Skylake-Client");
    g_assert_no_error(error);
    vsh_install_cpu_clear(&cpu);

    g_assert_true(vsh_install_parse_boot("cdrom,hd,network", &boot, &error));
    g_assert_cmpuint(boot.devs->len, ==, 3);
    g_assert_cmpstr(g_ptr_array_index(boot.devs, 0), ==, "cdrom");
    g_assert_true(vsh_install_parse_boot("kernel=/k,initrd=/i,kernel_args=console=ttyS0", &boot,
                                         &error));
    g_assert_cmpstr(boot.kernel, ==, "/k");
    g_assert_cmpstr(boot.initrd, ==, "/i");
    g_assert_cmpstr(boot.kernel_args, ==, "console=ttyS0");
    g_assert_no_error(error);
    /* A comma inside double quotes belongs to the value (virt-install's rule). */
    g_assert_true(vsh_install_parse_boot(
        "kernel=/k,kernel_args=\"root=UUID=x ro console=ttyS0,115200n8\"", &boot, &error));
    g_assert_cmpstr(boot.kernel_args, ==, "root=UUID=x ro console=ttyS0,115200n8");
    g_assert_false(vsh_install_parse_boot("kernel=/k,kernel_args=\"a,b", &boot, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_clear_error(&error);
    g_assert_false(vsh_install_parse_boot("floppy", &boot, &error));
    g_clear_error(&error);
    g_assert_false(vsh_install_parse_boot("initrd=/i", &boot, &error));
    g_clear_error(&error);
    vsh_install_boot_clear(&boot);
}

static void
test_osinfo(void)
{
    g_autofree char *w1 = NULL, *w2 = NULL, *w3 = NULL, *w4 = NULL;

    g_assert_cmpstr(vsh_install_osinfo_lookup("debian12", &w1)->name, ==, "debian12");
    g_assert_null(w1);
    g_assert_cmpstr(vsh_install_osinfo_lookup("rhel9.2", &w2)->name, ==, "rhel9");
    g_assert_null(w2);
    g_assert_cmpstr(vsh_install_osinfo_lookup("detect=on,require=off", &w3)->name, ==,
                    "generic");
    g_assert_nonnull(w3);
    g_assert_cmpstr(vsh_install_osinfo_lookup("win11", &w4)->name, ==, "generic");
    g_assert_nonnull(strstr(w4, "unknown --osinfo 'win11'"));
}

static char *
make_tree(const char *kernel_rel, const char *initrd_rel)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("vsh-install-test-XXXXXX", &error);
    g_autofree char *k = g_build_filename(dir, kernel_rel, NULL);
    g_autofree char *i = g_build_filename(dir, initrd_rel, NULL);
    g_autofree char *kd = g_path_get_dirname(k);
    g_autofree char *id = g_path_get_dirname(i);

    g_assert_no_error(error);
    g_mkdir_with_parents(kd, 0755);
    g_mkdir_with_parents(id, 0755);
    g_assert_true(g_file_set_contents(k, "kernel", -1, NULL));
    g_assert_true(g_file_set_contents(i, "initrd", -1, NULL));
    return dir;
}

static void
remove_tree(const char *dir)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);

    g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, NULL, NULL));
}

static void
test_tree_layouts(void)
{
    static const char *const cases[][2] = {
        {"debian-installer/amd64/linux", "debian-installer/amd64/initrd.gz"},
        {"install.amd/vmlinuz", "install.amd/initrd.gz"},
        {"casper/vmlinuz", "casper/initrd"},
        {"images/pxeboot/vmlinuz", "images/pxeboot/initrd.img"},
    };

    for (gsize c = 0; c < G_N_ELEMENTS(cases); c++) {
        g_autofree char *dir = make_tree(cases[c][0], cases[c][1]);
        g_autofree char *k = NULL, *i = NULL;
        g_autofree char *want_k = g_build_filename(dir, cases[c][0], NULL);
        g_autoptr(GError) error = NULL;

        g_assert_true(vd_install_tree_find_dir(dir, &k, &i, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(k, ==, want_k);
        remove_tree(dir);
    }
}

static void
test_tree_missing(void)
{
    /* A kernel without its initrd is no install tree. */
    g_autofree char *dir = make_tree("casper/vmlinuz", "casper/other");
    g_autofree char *k = NULL, *i = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_false(vd_install_tree_find_dir(dir, &k, &i, &error));
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_assert_nonnull(strstr(error->message, "Could not find an installable distribution"));
    g_assert_nonnull(strstr(error->message, "install.amd/vmlinuz"));
    g_assert_nonnull(strstr(error->message, "images/pxeboot/initrd.img"));
    g_assert_null(k);
    remove_tree(dir);
}

static void
test_initrd_inject(void)
{
    g_autofree char *dir = make_tree("linux", "initrd.gz");
    g_autofree char *initrd = g_build_filename(dir, "initrd.gz", NULL);
    g_autofree char *ks = g_build_filename(dir, "preseed.cfg", NULL);
    const char *files[] = {ks, NULL};
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_set_contents(ks, "d-i foo\n", -1, NULL));
    g_assert_true(vd_install_initrd_inject(initrd, files, &error));
    g_assert_no_error(error);
    g_assert_true(g_file_get_contents(initrd, &data, &len, NULL));
    /* "initrd" (6 bytes), 2 zeros to a 4-byte boundary, then newc. */
    g_assert_cmpmem(data, 6, "initrd", 6);
    g_assert_cmpmem(data + 6, 2, "\0\0", 2);
    g_assert_cmpmem(data + 8, 6, "070701", 6);
    g_assert_nonnull(memmem(data + 8, len - 8, "preseed.cfg", strlen("preseed.cfg")));
    g_assert_nonnull(memmem(data + 8, len - 8, "d-i foo\n", strlen("d-i foo\n")));
    g_assert_nonnull(memmem(data + 8, len - 8, "TRAILER!!!", strlen("TRAILER!!!")));
    g_assert_cmpuint(len % 4, ==, 0);
    remove_tree(dir);
}

static void
test_xml_phases(void)
{
    VshInstallPlan p = {0};
    VshInstallDisk *disk = g_new0(VshInstallDisk, 1);
    VshInstallDisk *cd = g_new0(VshInstallDisk, 1);
    g_autofree char *final = NULL, *install = NULL;

    p.name = g_strdup("web'1");
    p.uuid = g_strdup("4dea22b3-1d52-d8f3-2516-782e98ab3fa0");
    p.virt_type = "qemu";
    p.memory_mib = 1024;
    p.max_memory_mib = 2048;
    p.vcpus = 1;
    p.max_vcpus = 2;
    p.graphics.port = -1;
    p.disks = g_ptr_array_new_with_free_func((GDestroyNotify)vsh_install_disk_free);
    disk->path = g_strdup("/i/web.qcow2");
    disk->format = g_strdup("qcow2");
    disk->target = g_strdup("vda");
    cd->path = g_strdup("/iso/d.iso");
    cd->cdrom = TRUE;
    cd->target = g_strdup("hda");
    g_ptr_array_add(p.disks, disk);
    g_ptr_array_add(p.disks, cd);
    p.method = VSH_INSTALL_CDROM;
    p.cdrom = g_strdup("/iso/d.iso");
    p.nets = g_ptr_array_new_with_free_func((GDestroyNotify)vsh_install_network_free);

    final = vsh_install_xml_final(&p);
    install = vsh_install_xml_install(&p);
    g_assert_nonnull(strstr(final, "<name>web&apos;1</name>"));
    g_assert_nonnull(strstr(final, "<vcpu placement='static' current='1'>2</vcpu>"));
    g_assert_nonnull(strstr(final, "<memory unit='MiB'>2048</memory>"));
    g_assert_nonnull(strstr(final, "<boot dev='hd'/>"));
    g_assert_null(strstr(final, "<boot dev='cdrom'/>"));
    g_assert_null(strstr(final, "/iso/d.iso")); /* ejected */
    g_assert_nonnull(strstr(final, "<on_reboot>restart</on_reboot>"));
    g_assert_nonnull(strstr(install, "<boot dev='cdrom'/>\n    <boot dev='hd'/>"));
    g_assert_nonnull(strstr(install, "<source file='/iso/d.iso'/>"));
    g_assert_nonnull(strstr(install, "<on_reboot>destroy</on_reboot>"));
    g_assert_null(strstr(install, "<interface"));

    p.method = VSH_INSTALL_LOCATION;
    p.install_kernel = g_strdup("/s/vmlinuz");
    p.install_initrd = g_strdup("/s/initrd");
    p.install_cmdline = g_strdup("console=ttyS0 a=<b>");
    g_free(install);
    install = vsh_install_xml_install(&p);
    g_assert_nonnull(strstr(install, "<kernel>/s/vmlinuz</kernel>"));
    g_assert_nonnull(strstr(install, "<cmdline>console=ttyS0 a=&lt;b&gt;</cmdline>"));
    g_free(final);
    final = vsh_install_xml_final(&p);
    g_assert_null(strstr(final, "<kernel>"));

    p.method = VSH_INSTALL_IMPORT;
    g_assert_null(vsh_install_xml_install(&p));
    vsh_install_plan_clear(&p);
}

/* --disk may be repeated; other options may not. */
static void
test_repeatable_disk(void)
{
    const char *words[] = {"install", "--name", "a", "--disk", "size=1", "--disk=size=2", NULL};
    const char *twice[] = {"install", "--name", "a", "--name", "b", NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(VshCmd) cmd = vsh_cmd_parse(words, &error);
    g_autoptr(VshCmd) bad = NULL;
    g_autofree const char **disks = NULL;

    g_assert_no_error(error);
    disks = vsh_cmd_get_argv(cmd, "disk");
    g_assert_cmpstr(disks[0], ==, "size=1");
    g_assert_cmpstr(disks[1], ==, "size=2");
    g_assert_null(disks[2]);
    bad = vsh_cmd_parse(twice, &error);
    g_assert_null(bad);
    g_assert_error(error, VD_ERROR, VD_ERROR_INVALID_ARG);
}

/* Every --network form virt-install users type, and the refusals. */
static void
test_network_forms(void)
{
    g_autoptr(GError) error = NULL;
    VshInstallNetwork net = {0};
    static const struct {
        const char *spec;
        VshInstallNetKind kind;
        const char *source, *mode, *model, *mac;
    } ok[] = {
        {"network=default", VSH_NET_NETWORK, "default", NULL, NULL, NULL},
        {"network=lab,model=e1000e,mac=52:54:00:00:00:0A", VSH_NET_NETWORK, "lab", NULL, "e1000e",
         "52:54:00:00:00:0a"},
        {"bridge=br0,model.type=rtl8139", VSH_NET_BRIDGE, "br0", NULL, "rtl8139", NULL},
        {"type=bridge,source=br1,mac.address=52:54:00:12:34:56", VSH_NET_BRIDGE, "br1", NULL, NULL,
         "52:54:00:12:34:56"},
        {"type=network,source=default", VSH_NET_NETWORK, "default", NULL, NULL, NULL},
        {"type=direct,source=eth0,source.mode=passthrough", VSH_NET_DIRECT, "eth0", "passthrough",
         NULL, NULL},
        {"user", VSH_NET_USER, NULL, NULL, NULL, NULL},
        {"type=user,model=virtio", VSH_NET_USER, NULL, NULL, "virtio", NULL},
        {"none", VSH_NET_NONE, NULL, NULL, NULL, NULL},
        {"default", VSH_NET_DEFAULT, NULL, NULL, NULL, NULL},
        {"default,model=e1000", VSH_NET_DEFAULT, NULL, NULL, "e1000", NULL},
    };
    static const struct {
        const char *spec;
        int code;
        const char *words;
    } bad[] = {
        {"network=a,bridge=b", VD_ERROR_INVALID_ARG, "give one of network=NAME"},
        {"user,network=default", VD_ERROR_INVALID_ARG, "give one of"},
        {"network=", VD_ERROR_INVALID_ARG, "name the virtual network"},
        {"type=bridge", VD_ERROR_INVALID_ARG, "name the host bridge (bridge=BRIDGE)"},
        {"type=direct", VD_ERROR_INVALID_ARG, "name the host interface"},
        {"type=vhostuser,source=/s", VD_ERROR_UNSUPPORTED, "type 'vhostuser' is not supported"},
        {"macvtap", VD_ERROR_UNSUPPORTED, "type 'macvtap'"},
        {"none,model=virtio", VD_ERROR_INVALID_ARG, "none takes no options"},
        {"network=default,model=ne2k_pci", VD_ERROR_INVALID_ARG, "ne2k_pci"},
        {"network=default,mac=52:54:00:zz:00:00", VD_ERROR_INVALID_ARG, "not a unicast MAC"},
        {"network=default,portgroup=web", VD_ERROR_INVALID_ARG, "unknown option 'portgroup'"},
        {"bridge=br0,source.mode=vepa", VD_ERROR_INVALID_ARG, "source.mode is for type=direct"},
        {"type=direct,source=eth0,source.mode=bogus", VD_ERROR_INVALID_ARG, "bogus"},
        {"source=br0", VD_ERROR_INVALID_ARG, "source= needs a type"},
        {"", VD_ERROR_INVALID_ARG, "empty value"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(ok); i++) {
        if (!vsh_install_parse_network(ok[i].spec, &net, &error))
            g_error("'%s': %s", ok[i].spec, error->message);
        g_assert_cmpint(net.kind, ==, ok[i].kind);
        g_assert_cmpstr(net.source, ==, ok[i].source);
        g_assert_cmpstr(net.source_mode, ==, ok[i].mode);
        g_assert_cmpstr(net.model, ==, ok[i].model);
        g_assert_cmpstr(net.mac, ==, ok[i].mac);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        if (vsh_install_parse_network(bad[i].spec, &net, &error))
            g_error("'%s' was accepted", bad[i].spec);
        g_assert_error(error, VD_ERROR, bad[i].code);
        if (!strstr(error->message, bad[i].words))
            g_error("'%s': '%s' lacks '%s'", bad[i].spec, error->message, bad[i].words);
        /* A refusal leaves nothing half-set. */
        g_assert_null(net.source);
        g_assert_null(net.model);
        g_clear_error(&error);
    }
    vsh_install_network_clear(&net);
}

static JsonNode *
json(const char *text)
{
    g_autoptr(JsonParser) parser = json_parser_new();

    g_assert_true(json_parser_load_from_data(parser, text, -1, NULL));
    return json_node_copy(json_parser_get_root(parser));
}

/* No --network: the 'default' network only when the daemon says it is
 * active. */
static void
test_network_default(void)
{
    g_autoptr(JsonNode) active = json("{\"network\": {\"name\": \"default\", \"active\": true}}");
    g_autoptr(JsonNode) inactive =
        json("{\"network\": {\"name\": \"default\", \"active\": false}}");
    VshInstallNetwork net = {0};
    g_autofree char *n1 = NULL;
    g_autofree char *n2 = NULL;
    g_autofree char *n3 = NULL;

    vsh_install_network_resolve_default(&net, active, &n1);
    g_assert_cmpint(net.kind, ==, VSH_NET_NETWORK);
    g_assert_cmpstr(net.source, ==, "default");
    g_assert_nonnull(strstr(n1, "'default'"));
    vsh_install_network_clear(&net);

    vsh_install_network_resolve_default(&net, inactive, &n2);
    g_assert_cmpint(net.kind, ==, VSH_NET_USER);
    g_assert_null(net.source);
    g_assert_nonnull(strstr(n2, "is not active"));
    g_assert_nonnull(strstr(n2, "user-mode"));

    vsh_install_network_resolve_default(&net, NULL, &n3);
    g_assert_cmpint(net.kind, ==, VSH_NET_USER);
    g_assert_nonnull(strstr(n3, "is not defined"));
    vsh_install_network_clear(&net);
}

/* --print-xml shows each NIC as libvirt XML. */
static void
test_network_xml(void)
{
    VshInstallPlan p = {0};
    g_autofree char *xml = NULL;
    VshInstallNetwork *a = g_new0(VshInstallNetwork, 1);
    VshInstallNetwork *b = g_new0(VshInstallNetwork, 1);
    VshInstallNetwork *c = g_new0(VshInstallNetwork, 1);
    VshInstallNetwork *d = g_new0(VshInstallNetwork, 1);

    p.name = g_strdup("n");
    p.uuid = g_strdup("4dea22b3-1d52-d8f3-2516-782e98ab3fa0");
    p.virt_type = "qemu";
    p.memory_mib = p.max_memory_mib = 256;
    p.vcpus = p.max_vcpus = 1;
    p.graphics.port = -1;
    p.disks = g_ptr_array_new_with_free_func((GDestroyNotify)vsh_install_disk_free);
    p.method = VSH_INSTALL_IMPORT;
    p.nets = g_ptr_array_new_with_free_func((GDestroyNotify)vsh_install_network_free);
    a->kind = VSH_NET_NETWORK;
    a->source = g_strdup("lab'1");
    a->mac = g_strdup("52:54:00:00:00:01");
    b->kind = VSH_NET_BRIDGE;
    b->source = g_strdup("br0");
    b->model = g_strdup("e1000");
    b->mac = g_strdup("52:54:00:00:00:02");
    c->kind = VSH_NET_DIRECT;
    c->source = g_strdup("eth0");
    c->source_mode = g_strdup("bridge");
    c->mac = g_strdup("52:54:00:00:00:03");
    d->kind = VSH_NET_USER;
    d->mac = g_strdup("52:54:00:00:00:04");
    g_ptr_array_add(p.nets, a);
    g_ptr_array_add(p.nets, b);
    g_ptr_array_add(p.nets, c);
    g_ptr_array_add(p.nets, d);

    xml = vsh_install_xml_final(&p);
    g_assert_nonnull(strstr(xml, "    <interface type='network'>\n"
                                 "      <mac address='52:54:00:00:00:01'/>\n"
                                 "      <source network='lab&apos;1'/>\n"
                                 "      <model type='virtio'/>\n"
                                 "    </interface>\n"
                                 "    <interface type='bridge'>\n"
                                 "      <mac address='52:54:00:00:00:02'/>\n"
                                 "      <source bridge='br0'/>\n"
                                 "      <model type='e1000'/>\n"
                                 "    </interface>\n"
                                 "    <interface type='direct'>\n"
                                 "      <mac address='52:54:00:00:00:03'/>\n"
                                 "      <source dev='eth0' mode='bridge'/>\n"
                                 "      <model type='virtio'/>\n"
                                 "    </interface>\n"
                                 "    <interface type='user'>\n"
                                 "      <mac address='52:54:00:00:00:04'/>\n"
                                 "      <model type='virtio'/>\n"
                                 "    </interface>\n"));
    vsh_install_plan_clear(&p);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vsh/install/disk-forms", test_disk_forms);
    g_test_add_func("/vsh/install/disk-errors", test_disk_errors);
    g_test_add_func("/vsh/install/memory-vcpus", test_memory_vcpus);
    g_test_add_func("/vsh/install/graphics-network-cpu-boot", test_graphics_network_cpu_boot);
    g_test_add_func("/vsh/install/network-forms", test_network_forms);
    g_test_add_func("/vsh/install/network-default", test_network_default);
    g_test_add_func("/vsh/install/network-xml", test_network_xml);
    g_test_add_func("/vsh/install/osinfo", test_osinfo);
    g_test_add_func("/vsh/install/tree-layouts", test_tree_layouts);
    g_test_add_func("/vsh/install/tree-missing", test_tree_missing);
    g_test_add_func("/vsh/install/initrd-inject", test_initrd_inject);
    g_test_add_func("/vsh/install/xml-phases", test_xml_phases);
    g_test_add_func("/vsh/install/repeatable-disk", test_repeatable_disk);
    return g_test_run();
}
