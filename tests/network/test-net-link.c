/* Links, taps, routes and neighbours, for real, as root, in a private
 * network namespace made by this program (see test-netns.h): bridges,
 * addresses, MTU, taps plugged into a bridge, macvtap on a veth, route
 * overlap, neighbour entries and counters. */
#include <fcntl.h>
#include <glib.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "network/net-link.h"
#include "test-netns.h"
#include "util/vd-error.h"

static char *
sys_attr(const char *dev, const char *attr)
{
    g_autofree char *path = g_strdup_printf("/sys/class/net/%s/%s", dev, attr);
    return test_read(path);
}

static char *
master_of(const char *dev)
{
    g_autofree char *path = g_strdup_printf("/sys/class/net/%s/master", dev);
    g_autofree char *target = g_file_read_link(path, NULL);
    return target ? g_path_get_basename(target) : g_strdup("");
}

static gboolean
is_up(const char *dev)
{
    g_autofree char *flags = sys_attr(dev, "flags");
    return (g_ascii_strtoull(flags, NULL, 16) & 1) != 0;
}

static void
test_bridge(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *mac = NULL, *stp = NULL, *delay = NULL;

    if (test_without_netns())
        return;
    g_assert_false(vd_link_exists("vdb0"));
    g_assert_false(vd_link_is_bridge("vdb0"));
    g_assert_true(vd_bridge_create("vdb0", "52:54:00:0a:0b:0c", TRUE, 0, 1400, &err));
    g_assert_no_error(err);
    g_assert_true(vd_link_exists("vdb0"));
    g_assert_true(vd_link_is_bridge("vdb0"));
    g_assert_false(vd_link_is_bridge("lo"));
    g_assert_true(is_up("vdb0"));
    g_assert_cmpuint(vd_link_get_mtu("vdb0"), ==, 1400);
    mac = sys_attr("vdb0", "address");
    g_assert_cmpstr(mac, ==, "52:54:00:0a:0b:0c");
    stp = sys_attr("vdb0", "bridge/stp_state");
    g_assert_cmpstr(stp, !=, "0");
    /* the kernel's STP raises a delay under 2 s to 2 s (centiseconds
     * here), as it does for libvirt's stp='on' delay='0' */
    delay = sys_attr("vdb0", "bridge/forward_delay");
    g_assert_cmpstr(delay, ==, "200");

    /* a taken name */
    g_assert_false(vd_bridge_create("vdb0", NULL, FALSE, 0, 0, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_EXISTS);
    g_assert_nonnull(strstr(err->message, "vdb0"));
    g_clear_error(&err);
    g_assert_false(vd_bridge_create("lo", NULL, FALSE, 0, 0, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_EXISTS);
    g_clear_error(&err);

    /* STP off, a forward delay, random MAC, default MTU */
    g_assert_true(vd_bridge_create("vdb1", NULL, FALSE, 4, 0, &err));
    g_assert_no_error(err);
    g_clear_pointer(&stp, g_free);
    g_clear_pointer(&delay, g_free);
    stp = sys_attr("vdb1", "bridge/stp_state");
    delay = sys_attr("vdb1", "bridge/forward_delay");
    g_assert_cmpstr(stp, ==, "0");
    g_assert_cmpstr(delay, ==, "400");
    g_assert_cmpuint(vd_link_get_mtu("vdb1"), ==, 1500);
    g_assert_true(vd_link_set_mtu("vdb1", 1300, &err));
    g_assert_cmpuint(vd_link_get_mtu("vdb1"), ==, 1300);
    g_assert_true(vd_link_set_up("vdb1", FALSE, &err));
    g_assert_false(is_up("vdb1"));
    g_assert_true(vd_link_delete("vdb1", &err));
    g_assert_no_error(err);
    g_assert_false(vd_link_exists("vdb1"));
    /* already gone: no error */
    g_assert_true(vd_link_delete("vdb1", &err));
    g_assert_no_error(err);

    g_assert_false(vd_bridge_create("vdb-name-too-long", NULL, FALSE, 0, 0, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_clear_error(&err);
    g_assert_false(vd_bridge_create("vdb%d", NULL, FALSE, 0, 0, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_clear_error(&err);
    g_assert_false(vd_link_set_mtu("vdbmissing", 1300, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    g_assert_nonnull(strstr(err->message, "vdbmissing"));
}

static void
test_free_name(void)
{
    g_autoptr(GPtrArray) taken = g_ptr_array_new();
    g_autofree char *a = NULL, *b = NULL, *c = NULL;

    if (test_without_netns())
        return;
    /* vdb0 exists (test_bridge) */
    a = vd_link_free_name("vdb%u", NULL);
    g_assert_cmpstr(a, ==, "vdb1");
    g_ptr_array_add(taken, (gpointer) "vdb1");
    b = vd_link_free_name("vdb%u", taken);
    g_assert_cmpstr(b, ==, "vdb2");
    c = vd_link_free_name("x%u-vdb", NULL);
    g_assert_cmpstr(c, ==, "x0-vdb");
}

static void
test_address_route(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dev = NULL, *route = NULL;

    if (test_without_netns())
        return;
    g_assert_true(vd_link_add_address("vdb0", "10.99.0.1", 16, &err));
    g_assert_no_error(err);
    g_assert_true(vd_link_add_address("vdb0", "fd00:99::1", 64, &err));
    g_assert_no_error(err);
    /* the same address twice */
    g_assert_false(vd_link_add_address("vdb0", "10.99.0.1", 16, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, "vdb0"));
    g_clear_error(&err);
    g_assert_false(vd_link_add_address("vdb0", "10.99.0.300", 16, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_clear_error(&err);

    g_assert_true(vd_route_find_overlap("10.99.5.0", 24, NULL, &dev, &route));
    g_assert_cmpstr(dev, ==, "vdb0");
    g_assert_cmpstr(route, ==, "10.99.0.0/16");
    g_clear_pointer(&dev, g_free);
    g_clear_pointer(&route, g_free);
    /* a wider request containing the route overlaps too */
    g_assert_true(vd_route_find_overlap("10.0.0.0", 8, NULL, &dev, &route));
    g_assert_cmpstr(route, ==, "10.99.0.0/16");
    g_clear_pointer(&dev, g_free);
    g_clear_pointer(&route, g_free);
    g_assert_false(vd_route_find_overlap("10.98.0.0", 24, NULL, &dev, &route));
    g_assert_null(dev);
    g_assert_false(vd_route_find_overlap("10.99.5.0", 24, "vdb0", NULL, NULL));

    {
        const char *argv[] = {"ip", "route", "add", "blackhole", "10.77.0.0/16", NULL};
        test_run(argv);
    }
    g_assert_true(vd_route_find_overlap("10.77.3.0", 24, NULL, &dev, &route));
    g_assert_cmpstr(dev, ==, "blackhole");
    g_assert_cmpstr(route, ==, "10.77.0.0/16");
    g_clear_pointer(&dev, g_free);
    g_clear_pointer(&route, g_free);

    /* all of them: a /8 request meets the bridge's route and the blackhole */
    {
        g_autoptr(GPtrArray) all = vd_route_list_overlaps("10.0.0.0", 8);
        gboolean bridge = FALSE, hole = FALSE;

        for (guint i = 0; i < all->len; i++) {
            VdRouteOverlap *o = g_ptr_array_index(all, i);
            bridge |= g_str_equal(o->dev, "vdb0") && g_str_equal(o->route, "10.99.0.0/16");
            hole |= g_str_equal(o->dev, "blackhole") && g_str_equal(o->route, "10.77.0.0/16");
        }
        g_assert_cmpuint(all->len, ==, 2);
        g_assert_true(bridge && hole);
        g_clear_pointer(&all, g_ptr_array_unref);
        all = vd_route_list_overlaps("172.16.0.0", 12);
        g_assert_cmpuint(all->len, ==, 0);
        /* ignoring the blackhole still finds the bridge behind it */
        g_assert_true(vd_route_find_overlap("10.0.0.0", 8, "blackhole", &dev, NULL));
        g_assert_cmpstr(dev, ==, "vdb0");
    }
}

static void
test_neigh(void)
{
    g_autoptr(GPtrArray) all = NULL;
    g_autoptr(GPtrArray) on_lo = NULL;
    const char *argv[] = {"ip",  "neigh", "add", "10.99.0.5", "lladdr", "52:54:00:AA:BB:CC",
                          "dev", "vdb0",  "nud", "permanent", NULL};
    gboolean found = FALSE;

    if (test_without_netns())
        return;
    test_run(argv);
    all = vd_neigh_list("vdb0");
    for (guint i = 0; i < all->len; i++) {
        VdNeigh *n = g_ptr_array_index(all, i);
        g_assert_cmpstr(n->dev, ==, "vdb0");
        if (g_strcmp0(n->ip, "10.99.0.5") == 0) {
            g_assert_cmpstr(n->mac, ==, "52:54:00:aa:bb:cc");
            found = TRUE;
        }
    }
    g_assert_true(found);
    on_lo = vd_neigh_list("lo");
    g_assert_cmpuint(on_lo->len, ==, 0);
    g_clear_pointer(&all, g_ptr_array_unref);
    all = vd_neigh_list(NULL);
    g_assert_cmpuint(all->len, >=, 1);
    g_clear_pointer(&all, g_ptr_array_unref);
    all = vd_neigh_list("vdbmissing");
    g_assert_cmpuint(all->len, ==, 0);
}

static void
test_tap(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *name = NULL, *name2 = NULL, *mac = NULL, *master = NULL;
    VdLinkStats before = {0}, after = {0};
    int fd, fd2;
    /* a virtio-net header (10 bytes, all zero: no offloads), then a
     * broadcast ARP frame */
    guint8 frame[10 + 42] = {0};

    if (test_without_netns())
        return;
    fd = vd_tap_create("vdbt0", "fe:54:00:01:02:03", "vdb0", 0, &name, &err);
    g_assert_no_error(err);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpstr(name, ==, "vdbt0");
    g_assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    {
        struct ifreq ifr = {0};
        g_assert_cmpint(ioctl(fd, TUNGETIFF, &ifr), ==, 0);
        g_assert_cmpint(ifr.ifr_flags & (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR), ==,
                        IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
    }
    g_assert_true(vd_link_exists("vdbt0"));
    mac = sys_attr("vdbt0", "address");
    g_assert_cmpstr(mac, ==, "fe:54:00:01:02:03");
    master = master_of("vdbt0");
    g_assert_cmpstr(master, ==, "vdb0");
    /* the bridge's MTU (1400) when none is given */
    g_assert_cmpuint(vd_link_get_mtu("vdbt0"), ==, 1400);
    g_assert_true(is_up("vdbt0"));

    /* a frame written by the "guest" is received by the host's side */
    g_assert_true(vd_link_stats("vdbt0", &before, &err));
    memset(frame + 10, 0xff, 6);
    memcpy(frame + 16, (guint8[]){0x52, 0x54, 0x00, 0x01, 0x02, 0x03}, 6);
    frame[22] = 0x08;
    frame[23] = 0x06;
    g_assert_cmpint(write(fd, frame, sizeof(frame)), ==, sizeof(frame));
    g_assert_true(vd_link_stats("vdbt0", &after, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(after.rx_packets, ==, before.rx_packets + 1);
    g_assert_cmpuint(after.rx_bytes, >=, before.rx_bytes + 42);
    g_assert_false(vd_link_stats("vdbmissing", &after, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);

    /* the name is taken while the first fd lives */
    fd2 = vd_tap_create("vdbt0", NULL, NULL, 0, NULL, &err);
    g_assert_cmpint(fd2, ==, -1);
    g_assert_error(err, VD_ERROR, VD_ERROR_EXISTS);
    g_clear_error(&err);
    fd2 = vd_tap_create("vdb0", NULL, NULL, 0, NULL, &err);
    g_assert_cmpint(fd2, ==, -1);
    g_assert_error(err, VD_ERROR, VD_ERROR_EXISTS);
    g_clear_error(&err);
    /* the kernel would expand a '%d' */
    fd2 = vd_tap_create("vdbt%d", NULL, NULL, 0, NULL, &err);
    g_assert_cmpint(fd2, ==, -1);
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_clear_error(&err);
    fd2 = vd_tap_create("vdb-name-too-long", NULL, NULL, 0, NULL, &err);
    g_assert_cmpint(fd2, ==, -1);
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_clear_error(&err);
    /* a missing bridge: no tap left behind */
    fd2 = vd_tap_create("vdbt1", NULL, "vdbmissing", 1500, NULL, &err);
    g_assert_cmpint(fd2, ==, -1);
    g_assert_nonnull(strstr(err->message, "vdbmissing"));
    g_assert_false(vd_link_exists("vdbt1"));
    g_clear_error(&err);

    /* the kernel picks the name: vnetN, no bridge, explicit MTU */
    fd2 = vd_tap_create(NULL, NULL, NULL, 1280, &name2, &err);
    g_assert_no_error(err);
    g_assert_cmpint(fd2, >=, 0);
    g_assert_cmpstr(name2, ==, "vnet0");
    g_assert_cmpuint(vd_link_get_mtu("vnet0"), ==, 1280);
    g_assert_true(vd_link_set_master("vnet0", "vdb0", &err));
    g_clear_pointer(&master, g_free);
    master = master_of("vnet0");
    g_assert_cmpstr(master, ==, "vdb0");
    g_assert_true(vd_link_set_master("vnet0", NULL, &err));
    g_assert_no_error(err);
    g_clear_pointer(&master, g_free);
    master = master_of("vnet0");
    g_assert_cmpstr(master, ==, "");

    /* not persistent: the tap goes with its last fd */
    close(fd);
    close(fd2);
    g_assert_false(vd_link_exists("vdbt0"));
    g_assert_false(vd_link_exists("vnet0"));
}

static void
test_macvtap(void)
{
    const char *argv[] = {"ip",   "link", "add",  "vdbv0", "type",
                          "veth", "peer", "name", "vdbv1", NULL};
    g_autoptr(GError) err = NULL;
    g_autofree char *name = NULL, *mac = NULL;
    int fd;

    if (test_without_netns())
        return;
    test_run(argv);
    fd = vd_macvtap_create(NULL, "vdbv0", "bridge", "52:54:00:0d:0e:0f", &name, &err);
    if (fd < 0 && err && strstr(err->message, "/dev/tap")) {
        /* devtmpfs is shared with the host: its /dev/tapN may be taken */
        g_test_fail_printf("the host holds this namespace's macvtap node: %s", err->message);
        return;
    }
    g_assert_no_error(err);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpstr(name, ==, "macvtap0");
    {
        struct ifreq ifr = {0};
        g_assert_cmpint(ioctl(fd, TUNGETIFF, &ifr), ==, 0);
        g_assert_true(ifr.ifr_flags & IFF_VNET_HDR);
    }
    mac = sys_attr(name, "address");
    g_assert_cmpstr(mac, ==, "52:54:00:0d:0e:0f");
    g_assert_true(is_up(name));
    close(fd);
    /* unlike a tap, a macvtap outlives its fd: the caller deletes it */
    g_assert_true(vd_link_exists(name));
    g_assert_true(vd_link_delete(name, &err));
    g_assert_false(vd_link_exists(name));

    g_clear_pointer(&name, g_free);
    fd = vd_macvtap_create("vdbmt0", "vdbv0", "passthrough", NULL, &name, &err);
    g_assert_no_error(err);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpstr(name, ==, "vdbmt0");
    close(fd);
    g_assert_true(vd_link_delete("vdbmt0", &err));

    fd = vd_macvtap_create("vdbmt%d", "vdbv0", "bridge", NULL, NULL, &err);
    g_assert_cmpint(fd, ==, -1);
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_clear_error(&err);
    fd = vd_macvtap_create("vdbmt1", "vdbv0", "sideways", NULL, NULL, &err);
    g_assert_cmpint(fd, ==, -1);
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID_ARG);
    g_clear_error(&err);
    fd = vd_macvtap_create("vdbmt1", "vdbmissing", "vepa", NULL, NULL, &err);
    g_assert_cmpint(fd, ==, -1);
    g_assert_nonnull(strstr(err->message, "vdbmissing"));
    g_assert_false(vd_link_exists("vdbmt1"));
    g_clear_error(&err);
}

static void
test_vhost(void)
{
    int fd = vd_vhost_net_open();

    if (!g_file_test("/dev/vhost-net", G_FILE_TEST_EXISTS))
        g_assert_cmpint(fd, ==, -1);
    if (fd >= 0)
        close(fd);
}

static void
test_delete(void)
{
    g_autoptr(GError) err = NULL;

    if (test_without_netns())
        return;
    g_assert_true(vd_link_delete("vdb0", &err));
    g_assert_no_error(err);
    g_assert_false(vd_link_exists("vdb0"));
    /* its routes went with it */
    g_assert_false(vd_route_find_overlap("10.99.5.0", 24, NULL, NULL, NULL));
}

int
main(int argc, char **argv)
{
    test_netns_setup();

    g_test_init(&argc, &argv, NULL);
    /* in order: later cases use the bridge of the first */
    g_test_add_func("/net-link/bridge", test_bridge);
    g_test_add_func("/net-link/free-name", test_free_name);
    g_test_add_func("/net-link/address-route", test_address_route);
    g_test_add_func("/net-link/neigh", test_neigh);
    g_test_add_func("/net-link/tap", test_tap);
    g_test_add_func("/net-link/macvtap", test_macvtap);
    g_test_add_func("/net-link/vhost", test_vhost);
    g_test_add_func("/net-link/delete", test_delete);
    return g_test_run();
}
