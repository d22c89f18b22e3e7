/* The rulesets do what they say, with real packets, all inside namespaces
 * this program makes (root only; fails otherwise):
 *
 *   guest ns  vdbg1 10.98.0.2 ── vdbg0 ─ bridge vdbr0 10.98.0.1   (this
 *   process's own private namespace: the "host")  vdbo0 10.97.0.1 ──
 *   vdbo1 10.97.0.2  outside ns, with a TCP server that answers each
 *   connection with the address it came from.
 *
 * nat: the outside sees the host's address and cannot connect in; route:
 * it sees the guest's own address and can connect in; isolated: nothing
 * passes; a Docker-like FORWARD policy drop blocks the guest until the
 * host check adds its DOCKER-USER rules, and again after they are
 * removed. socat is the client and server (scripts/deps.sh installs it; the test fails without it).
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "network/firewall.h"
#include "network/net-link.h"
#include "test-netdef.h"
#include "test-netns.h"
#include "util/vd-error.h"

static GPid guest_ns, outside_ns;
static GPtrArray *children; /* GPid, the processes this test started */

static GPid
spawn(const char *const *argv)
{
    g_autoptr(GError) err = NULL;
    GPid pid = 0;

    if (!g_spawn_async(NULL, (char **)argv, NULL,
                       G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                           G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                       NULL, NULL, &pid, &err))
        g_error("%s: %s", argv[0], err->message);
    g_ptr_array_add(children, GINT_TO_POINTER(pid));
    return pid;
}

static void
stop_children(void)
{
    for (guint i = 0; children && i < children->len; i++) {
        GPid pid = GPOINTER_TO_INT(g_ptr_array_index(children, i));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    if (children)
        g_ptr_array_set_size(children, 0);
}

/* A process alone in a new network namespace, that lives at most a
 * minute even if this test dies without cleaning up. */
static GPid
new_netns(void)
{
    const char *argv[] = {"unshare", "--net", "sleep", "60", NULL};
    g_autofree char *self = g_file_read_link("/proc/self/ns/net", NULL);
    GPid pid = spawn(argv);
    g_autofree char *path = g_strdup_printf("/proc/%d/ns/net", pid);

    for (int i = 0; i < 500; i++) {
        g_autofree char *ns = g_file_read_link(path, NULL);
        if (ns && g_strcmp0(ns, self) != 0)
            return pid;
        g_usleep(10000);
    }
    g_error("unshare --net did not enter a new namespace");
}

/* argv run inside the namespace of @pid (G_MAXINT: here) */
static gboolean
run_in(GPid pid, const char *const *argv, char **out)
{
    g_autoptr(GPtrArray) full = g_ptr_array_new_with_free_func(g_free);
    int status = 0;

    if (pid != G_MAXINT) {
        g_ptr_array_add(full, g_strdup("nsenter"));
        g_ptr_array_add(full, g_strdup_printf("--target=%d", pid));
        g_ptr_array_add(full, g_strdup("--net"));
    }
    for (guint i = 0; argv[i]; i++)
        g_ptr_array_add(full, g_strdup(argv[i]));
    g_ptr_array_add(full, NULL);
    if (!g_spawn_sync(NULL, (char **)full->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, out, NULL,
                      &status, NULL))
        return FALSE;
    if (out)
        g_strstrip(*out);
    return g_spawn_check_wait_status(status, NULL);
}

#define IN(pid, ...)                                                                               \
    do {                                                                                           \
        const char *argv_[] = {__VA_ARGS__, NULL};                                                 \
        if (!run_in(pid, argv_, NULL))                                                             \
            g_error("in namespace of %d: %s %s %s failed", pid, argv_[0], argv_[1], argv_[2]);     \
    } while (0)

/* What the server at @addr:@port says to a client in namespace @from,
 * or NULL when the connection fails (refused, or nothing within 2 s). */
static char *
connect_from(GPid from, const char *addr, guint port)
{
    g_autofree char *target = g_strdup_printf("TCP:%s:%u,connect-timeout=2", addr, port);
    const char *argv[] = {"socat", "-T", "3", "-", target, NULL};
    char *out = NULL;

    if (!run_in(from, argv, &out) || !*out) {
        g_free(out);
        return NULL;
    }
    return out;
}

static void
start_server(GPid where, guint port)
{
    g_autofree char *ns = g_strdup_printf("--target=%d", where);
    g_autofree char *listen = g_strdup_printf("TCP-LISTEN:%u,reuseaddr,fork", port);
    const char *argv[] = {"nsenter", ns, "--net", "socat", listen, "SYSTEM:echo $SOCAT_PEERADDR",
                          NULL};

    spawn(argv);
}

/* waits until a server answers, from the host's namespace, which every
 * ruleset here lets through */
static void
wait_server(const char *addr, guint port)
{
    for (int i = 0; i < 200; i++) {
        g_autofree char *out = connect_from(G_MAXINT, addr, port);
        if (out)
            return;
        g_usleep(20000);
    }
    g_error("server %s:%u did not start", addr, port);
}

static void
setup(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *g = NULL, *o = NULL;

    guest_ns = new_netns();
    outside_ns = new_netns();
    g = g_strdup_printf("%d", guest_ns);
    o = g_strdup_printf("%d", outside_ns);

    /* STP off: a new port forwards at once */
    g_assert_true(vd_bridge_create("vdbr0", "52:54:00:98:00:01", FALSE, 0, 0, &err));
    g_assert_no_error(err);
    g_assert_true(vd_link_add_address("vdbr0", "10.98.0.1", 24, &err));
    g_assert_no_error(err);
    IN(G_MAXINT, "ip", "link", "add", "vdbg0", "type", "veth", "peer", "name", "vdbg1", "netns", g);
    g_assert_true(vd_link_set_master("vdbg0", "vdbr0", &err));
    g_assert_true(vd_link_set_up("vdbg0", TRUE, &err));
    IN(guest_ns, "ip", "link", "set", "lo", "up");
    IN(guest_ns, "ip", "link", "set", "vdbg1", "up");
    IN(guest_ns, "ip", "addr", "add", "10.98.0.2/24", "dev", "vdbg1");
    IN(guest_ns, "ip", "route", "add", "default", "via", "10.98.0.1");

    IN(G_MAXINT, "ip", "link", "add", "vdbo0", "type", "veth", "peer", "name", "vdbo1", "netns", o);
    g_assert_true(vd_link_add_address("vdbo0", "10.97.0.1", 24, &err));
    g_assert_true(vd_link_set_up("vdbo0", TRUE, &err));
    g_assert_no_error(err);
    IN(outside_ns, "ip", "link", "set", "lo", "up");
    IN(outside_ns, "ip", "link", "set", "vdbo1", "up");
    IN(outside_ns, "ip", "addr", "add", "10.97.0.2/24", "dev", "vdbo1");
    /* the outside knows the way back to the guests: only NAT hides them */
    IN(outside_ns, "ip", "route", "add", "10.98.0.0/24", "via", "10.97.0.1");

    g_assert_true(vd_firewall_enable_forwarding(FALSE, &err));
    g_assert_no_error(err);
    start_server(outside_ns, 7000);
    start_server(guest_ns, 7001);
    wait_server("10.97.0.2", 7000);
    wait_server("10.98.0.2", 7001);
}

static VdNetworkDef *
net(VdNetForwardMode mode)
{
    VdNetworkDef *d = net_new("traffic", mode, "vdbr0");

    add_ip(d, AF_INET, "10.98.0.1", 24, TRUE);
    return d;
}

static void
apply(VdNetForwardMode mode)
{
    g_autoptr(TestNet) def = net(mode);
    g_autofree char *table = vd_firewall_table_name("0badcafe", "vdbr0");
    g_autofree char *script = vd_firewall_ruleset(def, table);
    g_autoptr(GError) err = NULL;

    g_assert_nonnull(script);
    g_assert_true(vd_firewall_apply(script, &err));
    g_assert_no_error(err);
}

static gboolean
cannot_run(void)
{
    g_autofree char *socat = g_find_program_in_path("socat");

    if (test_without_netns())
        return TRUE;
    if (!socat) {
        g_test_fail_printf("socat is missing: scripts/deps.sh installs it");
        return TRUE;
    }
    return FALSE;
}

static void
test_modes(void)
{
    g_autofree char *seen = NULL, *in = NULL;
    g_autoptr(GError) err = NULL;

    if (cannot_run())
        return;
    setup();

    apply(VD_NET_FORWARD_ROUTE);
    seen = connect_from(guest_ns, "10.97.0.2", 7000);
    g_assert_cmpstr(seen, ==, "10.98.0.2");
    in = connect_from(outside_ns, "10.98.0.2", 7001);
    g_assert_cmpstr(in, ==, "10.97.0.2");
    g_clear_pointer(&seen, g_free);
    g_clear_pointer(&in, g_free);

    /* replaced in place by the nat ruleset of the same table */
    apply(VD_NET_FORWARD_NAT);
    seen = connect_from(guest_ns, "10.97.0.2", 7000);
    g_assert_cmpstr(seen, ==, "10.97.0.1");
    in = connect_from(outside_ns, "10.98.0.2", 7001);
    g_assert_null(in);
    g_clear_pointer(&seen, g_free);

    apply(VD_NET_FORWARD_NONE);
    seen = connect_from(guest_ns, "10.97.0.2", 7000);
    g_assert_null(seen);
    in = connect_from(outside_ns, "10.98.0.2", 7001);
    g_assert_null(in);
    /* the host still reaches its guests on an isolated network */
    seen = connect_from(G_MAXINT, "10.98.0.2", 7001);
    g_assert_cmpstr(seen, ==, "10.98.0.1");
    g_clear_pointer(&seen, g_free);

    g_assert_true(vd_firewall_remove("vd_0badcafe_vdbr0", &err));
    g_assert_no_error(err);
    seen = connect_from(guest_ns, "10.97.0.2", 7000);
    g_assert_cmpstr(seen, ==, "10.98.0.2");
}

static void
test_docker(void)
{
    g_autoptr(TestNet) def = NULL;
    g_autoptr(GPtrArray) notes = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *seen = NULL;

    if (cannot_run())
        return;
    def = net(VD_NET_FORWARD_NAT);
    apply(VD_NET_FORWARD_NAT);
    g_assert_true(vd_firewall_apply(TEST_DOCKER_NFT, &err));
    g_assert_no_error(err);
    seen = connect_from(guest_ns, "10.97.0.2", 7000);
    g_assert_null(seen);

    notes = vd_firewall_check_host(def, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(notes->len, ==, 1);
    g_assert_true(((VdFirewallNote *)g_ptr_array_index(notes, 0))->fixed);
    seen = connect_from(guest_ns, "10.97.0.2", 7000);
    g_assert_cmpstr(seen, ==, "10.97.0.1");
    g_clear_pointer(&seen, g_free);
    /* the hook opens no more than the network's own rules allow */
    seen = connect_from(outside_ns, "10.98.0.2", 7001);
    g_assert_null(seen);

    g_assert_true(vd_firewall_host_hooks_remove(def, &err));
    g_assert_no_error(err);
    seen = connect_from(guest_ns, "10.97.0.2", 7000);
    g_assert_null(seen);
    g_assert_true(vd_firewall_apply("delete table ip filter\n", &err));
    g_assert_true(vd_firewall_remove("vd_0badcafe_vdbr0", &err));
    g_assert_no_error(err);
}

int
main(int argc, char **argv)
{
    int status;

    test_netns_setup();
    g_test_init(&argc, &argv, NULL);
    children = g_ptr_array_new();
    g_test_add_func("/firewall-traffic/modes", test_modes);
    g_test_add_func("/firewall-traffic/docker", test_docker);
    status = g_test_run();
    stop_children();
    return status;
}
