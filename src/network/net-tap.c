/* The devices a guest's NIC is backed by: taps from /dev/net/tun,
 * macvtaps over route netlink with their /dev/tapN, and vhost-net. Each
 * is handed to QEMU as an open file descriptor, so QEMU itself never
 * needs the privilege to create network devices. */
#include "network/net-link.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "network/net-link-priv.h"
#include "util/vd-error.h"

/* A name the kernel takes as given: not too long, and without '%', which
 * it would expand ("vnet%d" means "the first free vnetN") */
static gboolean
check_name(const char *name, GError **error)
{
    if (name && (strlen(name) >= IFNAMSIZ || !*name || strchr(name, '%') || strchr(name, '/'))) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "invalid interface name '%s': give at most %d bytes, without '%%' or '/'", name,
                    IFNAMSIZ - 1);
        return FALSE;
    }
    return TRUE;
}

int
vd_tap_create(const char *name, const char *mac, const char *bridge, guint mtu, char **out_name,
              GError **error)
{
    g_autoptr(VdNlSock) sock = NULL;
    struct ifreq ifr = {0};
    int fd;

    if (!check_name(name, error))
        return -1;
    fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int saved = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "cannot open /dev/net/tun: %s (is the tun module loaded?)", g_strerror(saved));
        return -1;
    }
    /* Without a name the kernel picks the first free vnetN itself, which
     * no other process creating taps at the same moment can race. */
    g_strlcpy(ifr.ifr_name, name ? name : "vnet%d", sizeof(ifr.ifr_name));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int saved = errno;
        gboolean taken = name && vd_link_exists(name);
        close(fd);
        if (taken)
            g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                        "interface '%s' already exists: choose another target dev", name);
        else
            g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "cannot create tap '%s': %s",
                        name ? name : "vnet%d", g_strerror(saved));
        return -1;
    }
    if (!mtu && bridge)
        mtu = vd_link_get_mtu(bridge);
    sock = vd_nl_open(error);
    if (!sock || !vd_nl_link_configure(sock, ifr.ifr_name, mac, mtu, bridge, TRUE, error)) {
        /* not persistent: closing the only fd removes the tap */
        close(fd);
        return -1;
    }
    if (out_name)
        *out_name = g_strdup(ifr.ifr_name);
    return fd;
}

static int
open_tap_dev(int ifindex, GError **error)
{
    g_autofree char *path = g_strdup_printf("/dev/tap%d", ifindex);
    int saved = 0;

    /* devtmpfs creates the node as the link is registered; udev may
     * still be renaming or chmod'ing it for a moment, so retry briefly */
    for (int i = 0; i < 100; i++) {
        int fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd >= 0)
            return fd;
        saved = errno;
        if (saved != ENOENT && saved != ENXIO)
            break;
        g_usleep(10 * 1000);
    }
    g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "cannot open %s: %s", path,
                g_strerror(saved));
    return -1;
}

int
vd_macvtap_create(const char *name, const char *dev, const char *mode, const char *mac,
                  char **out_name, GError **error)
{
    g_autoptr(VdNlSock) sock = vd_nl_open(error);
    g_autoptr(VdRtnlLink) lower = NULL;
    g_autoptr(VdRtnlLink) created = NULL;
    g_autofree char *chosen = NULL;
    const char *nlmode = g_strcmp0(mode, "passthrough") == 0 ? "passthru" : mode;
    int imode, err = 0, fd;

    if (!check_name(name, error) || !sock || !(lower = vd_nl_get_link(sock, dev, error)))
        return -1;
    imode = rtnl_link_macvtap_str2mode(nlmode ? nlmode : "vepa");
    if (imode < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "unknown macvtap mode '%s' (bridge, vepa, private or passthrough)", mode);
        return -1;
    }
    /* Without a name: the first free macvtapN, tried again if another
     * process takes it between the look-up and the creation. */
    for (int attempt = 0; attempt < 10; attempt++) {
        g_autoptr(VdRtnlLink) link = rtnl_link_macvtap_alloc();

        g_free(chosen);
        chosen = name ? g_strdup(name) : vd_link_free_name("macvtap%u", NULL);
        rtnl_link_set_name(link, chosen);
        rtnl_link_set_link(link, rtnl_link_get_ifindex(lower));
        rtnl_link_macvtap_set_mode(link, (uint32_t)imode);
        if (mac) {
            g_autoptr(VdNlAddr) ll = NULL;
            if (nl_addr_parse(mac, AF_LLC, &ll) < 0) {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG, "invalid MAC address '%s'", mac);
                return -1;
            }
            rtnl_link_set_addr(link, ll);
        }
        err = rtnl_link_add(sock, link, NLM_F_CREATE | NLM_F_EXCL);
        if (err != -NLE_EXIST || name)
            break;
    }
    if (err == -NLE_EXIST) {
        g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                    "interface '%s' already exists: choose another target dev", chosen);
        return -1;
    }
    if (err < 0) {
        g_autofree char *what = g_strdup_printf("cannot create macvtap '%s' on '%s'", chosen, dev);
        vd_nl_set_error(error, err, what);
        return -1;
    }
    if (!vd_nl_link_configure(sock, chosen, NULL, 0, NULL, TRUE, error) ||
        !(created = vd_nl_get_link(sock, chosen, error))) {
        vd_link_delete(chosen, NULL);
        return -1;
    }
    fd = open_tap_dev(rtnl_link_get_ifindex(created), error);
    if (fd >= 0) {
        /* with the virtio-net header, as a tap of ours: QEMU probes the
         * flag (TUNGETIFF) and only then uses the offloads */
        struct ifreq ifr = {0};
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
        if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
            int saved = errno;
            g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "cannot enable the virtio-net header on macvtap '%s': %s", chosen,
                        g_strerror(saved));
            close(fd);
            fd = -1;
        }
    }
    if (fd < 0) {
        vd_link_delete(chosen, NULL);
        return -1;
    }
    if (out_name)
        *out_name = g_steal_pointer(&chosen);
    return fd;
}

int
vd_vhost_net_open(void)
{
    return open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
}
