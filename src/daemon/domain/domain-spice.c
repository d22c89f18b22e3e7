/* SPICE displays at start: see domain-spice.h. */
#include "daemon/domain/domain-spice.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/domain/domain-obj.h"
#include "util/vd-error.h"

#define SPICE_PORT_MIN 5900
#define SPICE_PORT_MAX 65535

/* Whether @port can be bound on every address now. SO_REUSEADDR as QEMU
 * sets it, so that a port in TIME_WAIT counts as free, as it is to QEMU.
 * A bind is a local system call that never waits. */
static gboolean
port_is_free(int port)
{
    int one = 1, zero = 0;
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd >= 0) {
        struct sockaddr_in6 a6 = {
            .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_ANY_INIT};
        /* Dual stack: one bind covers IPv4 and IPv6. */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        gboolean ok = bind(fd, (struct sockaddr *)&a6, sizeof(a6)) == 0;
        close(fd);
        return ok;
    }
    /* No IPv6 on this host. */
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return FALSE;
    struct sockaddr_in a4 = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    gboolean ok = bind(fd, (struct sockaddr *)&a4, sizeof(a4)) == 0;
    close(fd);
    return ok;
}

/* Ports the displays of other running domains hold (or were given at
 * their start, before their QEMU bound them). */
static GHashTable *
ports_in_use(VdDaemon *d, VdDomainObj *self)
{
    GHashTable *used = g_hash_table_new(NULL, NULL);
    g_autoptr(GPtrArray) all = vd_domain_list_all(d->domains);

    for (guint i = 0; i < all->len; i++) {
        VdDomainObj *dom = g_ptr_array_index(all, i);
        if (dom == self || !dom->live)
            continue;
        for (guint j = 0; j < dom->live->graphics->len; j++) {
            const VdGraphicsDef *g = g_ptr_array_index(dom->live->graphics, j);
            if (g->port > 0)
                g_hash_table_add(used, GINT_TO_POINTER(g->port));
            if (g->websocket > 0)
                g_hash_table_add(used, GINT_TO_POINTER(g->websocket));
        }
    }
    return used;
}

gboolean
vd_domain_spice_pick_ports(VdDaemon *d, VdDomainObj *dom, VdDomainDef *live, GError **error)
{
    g_autoptr(GHashTable) used = NULL;

    for (guint i = 0; i < live->graphics->len; i++) {
        VdGraphicsDef *g = g_ptr_array_index(live->graphics, i);
        if (g->type != VD_GRAPHICS_SPICE || !g->autoport)
            continue;
        if (!used)
            used = ports_in_use(d, dom);
        g->port = -1;
        for (int port = SPICE_PORT_MIN; port <= SPICE_PORT_MAX; port++) {
            if (g_hash_table_contains(used, GINT_TO_POINTER(port)) || !port_is_free(port))
                continue;
            g->port = port;
            g_hash_table_add(used, GINT_TO_POINTER(port));
            break;
        }
        if (g->port < 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "operation failed: no free TCP port from %d to %d for the SPICE display "
                        "of domain '%s'",
                        SPICE_PORT_MIN, SPICE_PORT_MAX, dom->name);
            return FALSE;
        }
    }
    return TRUE;
}
