/* virtd: the daemon's entry point. Parses options, probes the host once,
 * loads definitions, re-attaches to running guests, serves the API. */
#include <errno.h>
#include <glib-unix.h>
#include <grp.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "daemon/access/access.h"
#include "daemon/api/api-conn.h"
#include "daemon/api/api-tls.h"
#include "daemon/api/api.h"
#include "daemon/clone/clone.h"
#include "daemon/config-file.h"
#include "daemon/domain/console-log.h"
#include "daemon/domain/domain-cgroup.h"
#include "daemon/domain/domain-process.h"
#include "daemon/domain/qemu-access.h"
#include "daemon/domain/qemu-confine.h"
#include "daemon/events/tasks.h"
#include "daemon/host-probe.h"
#include "daemon/host-ready.h"
#include "daemon/migration/migration.h"
#include "daemon/network/network.h"
#include "daemon/sd-notify.h"
#include "daemon/snapshot/snapshot.h"
#include "daemon/stats/usage.h"
#include "daemon/storage/storage.h"
#include "daemon/web/web-cert.h"
#include "daemon/web/web-pam.h"
#include "daemon/web/web-session.h"
#include "daemon/web/web-tokens.h"
#include "daemon/web/web.h"
#include "remote/remote-tls.h"
#include "remote/remote.h"
#include "util/vd-error.h"
#include "util/vd-units.h"

static gboolean verbose;

static GLogWriterOutput
log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
    const char *message = NULL;
    for (gsize i = 0; i < n_fields; i++)
        if (g_str_equal(fields[i].key, "MESSAGE"))
            message = fields[i].value;
    if ((level & G_LOG_LEVEL_DEBUG) && !verbose)
        return G_LOG_WRITER_HANDLED;
    const char *tag = (level & G_LOG_LEVEL_ERROR)      ? "error"
                      : (level & G_LOG_LEVEL_CRITICAL) ? "critical"
                      : (level & G_LOG_LEVEL_WARNING)  ? "warning"
                      : (level & G_LOG_LEVEL_MESSAGE)  ? "notice"
                      : (level & G_LOG_LEVEL_INFO)     ? "info"
                                                       : "debug";
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%d %H:%M:%S.%f");
    stamp[23] = 0; /* milliseconds */
    fprintf(stderr, "%s virtd[%d] %s: %s\n", stamp, (int)getpid(), tag, message ? message : "");
    fflush(stderr);
    return G_LOG_WRITER_HANDLED;
}

/* Every API client, running guest (QMP, console, log) and open disk holds
 * a descriptor; the soft limit is often 1024 while the hard one is far
 * higher. Nothing here uses select(), so take all that is allowed. */
static void
raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t old = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            g_warning("cannot raise the descriptor limit from %llu to %llu: %s",
                      (unsigned long long)old, (unsigned long long)rl.rlim_max, g_strerror(errno));
    }
    g_info("descriptor limit: %llu", (unsigned long long)rl.rlim_cur);
}

/* GLib 2.74's slice allocator (json-glib's nodes, hash tables) keeps every
 * slab it ever filled: after 200 clients defined and undefined 20,000
 * domains, 28 MB stayed that no free could give back; with plain malloc,
 * malloc_trim gives it back (11.7 MB instead of 41 MB; GLib 2.76 made
 * this the only behaviour). G_SLICE is read when the slice allocator
 * starts, which libgobject's constructor does before main(): so the
 * daemon sets it and executes itself again, once. */
static void
use_plain_malloc(char **argv)
{
    if (g_getenv("G_SLICE"))
        return;
    setenv("G_SLICE", "always-malloc", 1);
    execv("/proc/self/exe", argv);
    /* Not fatal: the daemon runs, with the slice allocator. */
}

static gboolean
on_quit_signal(gpointer data)
{
    VdDaemon *d = data;
    g_info("signal received, stopping (running guests keep running)");
    g_main_loop_quit(d->loop);
    return G_SOURCE_REMOVE;
}

/* What main() made before the domains, storage and networks: freed at
 * the end, and when the start fails after it (a bad --web certificate),
 * so that LeakSanitizer sees a clean exit either way. */
static void
free_probed(VdDaemon *d)
{
    vd_host_ready_free(d); /* joins the probes' worker */
    g_clear_pointer(&d->kernels, vd_kernel_cache_free);
    g_clear_pointer(&d->kvm, vd_kvm_probe_free);
    g_clear_pointer(&d->host, vd_host_info_free);
    g_clear_pointer(&d->caps, vd_qemu_caps_free);
    g_clear_error(&d->caps_error);
    g_clear_pointer(&d->qemu_binary, g_free);
    g_clear_pointer(&d->fast_firmware, g_free);
    g_clear_pointer(&d->firmware_dirs, g_free);
    g_clear_pointer(&d->instance_uuid, g_free);
    g_clear_pointer(&d->tls_dir, g_free);
    g_clear_pointer(&d->migration_host, g_free);
    g_clear_pointer(&d->listen, g_strfreev);
    g_clear_pointer(&d->tls_allowed_dn, g_strfreev);
    g_clear_pointer(&d->api_tls, vd_api_tls_unref);
    g_clear_pointer(&d->listen_sockets, g_ptr_array_unref);
    g_clear_pointer(&d->web_tokens, vd_web_tokens_free);
    g_clear_pointer(&d->loop, g_main_loop_unref);
    vd_domain_cgroups_free(d);
    g_clear_pointer(&d->paths, vd_paths_free);
    g_clear_pointer(&d->access, vd_access_free); /* after the API: its last audit lines */
}

int
main(int argc, char **argv)
{
    use_plain_malloc(argv);
    /* Not options of their own (--help does not show them): the daemon
     * runs itself so to check the web certificate (web-cert.c) and each
     * web login (web-pam.c). */
    if (argc == 2 && g_str_equal(argv[1], "--check-web-cert"))
        return vd_web_cert_check_main();
    if (argc == 2 && g_str_equal(argv[1], "--check-web-login"))
        return vd_web_pam_child_main();
    g_autofree char *root = NULL;
    g_autofree char *group = NULL;
    gboolean version = FALSE;
    gboolean no_fast_boot = FALSE;
    g_autofree char *console_log_max = NULL;
    g_autofree char *dns_forward = NULL;
    gboolean no_default_network = FALSE;
    g_autofree char *tls_dir = NULL;
    g_autofree char *migration_host = NULL;
    g_auto(GStrv) listen = NULL;
    g_auto(GStrv) tls_allowed_dn = NULL;
    g_autoptr(VdApiTls) api_tls = NULL;
    g_autoptr(GPtrArray) listen_sockets = NULL;
    int idle_timeout = VD_API_IDLE_TIMEOUT_DEFAULT;
    g_auto(GStrv) web = NULL;
    g_autofree char *web_cert = NULL;
    g_autofree char *web_key = NULL;
    g_autofree char *web_group = NULL;
    g_autofree char *web_root = NULL;
    int web_idle_timeout = VD_WEB_IDLE_TIMEOUT_DEFAULT;
    int max_connections = 0;
    int qemu_pids_max = VD_QEMU_PIDS_MAX_DEFAULT;
    g_autofree char *config_file = NULL; /* read by vd_config_file_prepare() */
    g_autofree char *qemu_user = NULL;
    GOptionEntry entries[] = {
        {"config", 0, 0, G_OPTION_ARG_FILENAME, &config_file,
         "Read options from FILE (default: " VD_CONFIG_FILE_DEFAULT ", or DIR/etc/virtd.conf "
         "with --root DIR, when it exists); the command line overrides it (virtd(8))",
         "FILE"},
        {"root", 'r', 0, G_OPTION_ARG_FILENAME, &root,
         "Self-contained instance: configuration, state, logs and socket under DIR", "DIR"},
        {"socket-group", 'g', 0, G_OPTION_ARG_STRING, &group,
         "The older name of --rw-group (docs/access.md)", "GROUP"},
        {"no-fast-boot", 0, 0, G_OPTION_ARG_NONE, &no_fast_boot,
         "Boot kernels exactly as given, with SeaBIOS (no vmlinux extraction, no qboot): "
         "for comparisons",
         NULL},
        {"console-log-max", 0, 0, G_OPTION_ARG_STRING, &console_log_max,
         "Rotate a guest's console log past SIZE (bytes, or with a unit: 512KiB, 4MiB; "
         "default 2MiB); two older generations are kept",
         "SIZE"},
        {"idle-timeout", 0, 0, G_OPTION_ARG_INT, &idle_timeout,
         "Close an API connection whose client takes more than SECONDS to send its request "
         "or to take the answer (default 60; 0: never; the tests use a few seconds)",
         "SECONDS"},
        {"max-connections", 0, 0, G_OPTION_ARG_INT, &max_connections,
         "Serve at most N API connections at once, others wait (default: 3/4 of the "
         "descriptor limit, at most 4096)",
         "N"},
        {"qemu-pids-max", 0, 0, G_OPTION_ARG_INT, &qemu_pids_max,
         "At most N processes and threads per QEMU, through its cgroup's pids.max "
         "(default 4096; 0: no limit)",
         "N"},
        {"dns-forward", 0, 0, G_OPTION_ARG_STRING, &dns_forward,
         "Where the dnsmasq of a virtual network sends the queries it cannot answer: 'host' "
         "(the host's resolvers, as libvirt; default) or 'none' (only the network's own names "
         "and <forwarder>s; the tests use it so that no query leaves the machine)",
         "host|none"},
        {"no-default-network", 0, 0, G_OPTION_ARG_NONE, &no_default_network,
         "On a first start (no network definitions yet), do not define and start the NAT "
         "network 'default' (for instances that need no networking; most tests)",
         NULL},
        {"listen", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &listen,
         "Also serve the API to remote clients over TLS on ADDRESS (an IP address; "
         "tls://0.0.0.0 or tls://[::] for all; port 16514 by default; repeatable). Clients "
         "need a certificate signed by the CA of --tls-dir; plain TCP is never offered "
         "(docs/remote-tls.md)",
         "tls://ADDRESS[:PORT]"},
        {"tls-dir", 0, 0, G_OPTION_ARG_FILENAME, &tls_dir,
         "Where the TLS credentials are: cacert.pem, servercert.pem, private/serverkey.pem "
         "(--listen), clientcert.pem, private/clientkey.pem (migrations) (default "
         "/etc/pki/virtd; docs/remote-tls.md)",
         "DIR"},
        {"tls-allowed-dn", 0, 0, G_OPTION_ARG_STRING_ARRAY, &tls_allowed_dn,
         "Serve only TLS clients whose certificate's subject DN matches PATTERN ('*' and '?' "
         "globs over the whole DN, e.g. 'C=GB,O=Example,CN=*'; repeatable; default: any "
         "certificate the CA signed)",
         "PATTERN"},
        {"migration-host", 0, 0, G_OPTION_ARG_STRING, &migration_host,
         "The address incoming migrations listen on and that sources are told (default: the "
         "host name the source used to reach this daemon)",
         "ADDRESS"},
        {"web", 0, 0, G_OPTION_ARG_STRING_ARRAY, &web,
         "Serve the web console over HTTPS on ADDRESS:PORT (an IP address: 127.0.0.1:9090, "
         "[::1]:9090, 0.0.0.0:9090 for all; repeatable; off by default; docs/web.md)",
         "ADDRESS:PORT"},
        {"web-cert", 0, 0, G_OPTION_ARG_FILENAME, &web_cert,
         "The web console's certificate, PEM (with --web-key; default: a self-signed one made "
         "on the first start and kept in STATE_DIR/web/)",
         "FILE"},
        {"web-key", 0, 0, G_OPTION_ARG_FILENAME, &web_key,
         "The private key of --web-cert, PEM, unencrypted", "FILE"},
        {"web-group", 0, 0, G_OPTION_ARG_STRING, &web_group,
         "Members of GROUP may log in to the web console (root always may)", "GROUP"},
        {"web-root", 0, 0, G_OPTION_ARG_FILENAME, &web_root,
         "The web console's static files (default: the installed share/virtd/web; from the "
         "build tree, build/web/dist)",
         "DIR"},
        {"web-idle-timeout", 0, 0, G_OPTION_ARG_INT, &web_idle_timeout,
         "End a web session after SECONDS without a request (default 900)", "SECONDS"},
        {"qemu-user", 0, 0, G_OPTION_ARG_STRING, &qemu_user,
         "Run QEMU as USER, without capabilities (default: virtd-qemu, created on the first "
         "start if missing; 'root': as the daemon, the behaviour before; docs/security.md)",
         "USER"},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log debug messages", NULL},
        {"version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL},
        {NULL}};
    g_autoptr(GOptionContext) ctx = g_option_context_new("- the virtd virtualization daemon");
    g_autoptr(GError) error = NULL;

    /* Issue 15: one table of every option, main's and access/'s: the command
     * line, virtd.conf (config-file.c) and virtd(8) all read it. */
    g_autoptr(GArray) all_entries = g_array_new(TRUE, TRUE, sizeof(GOptionEntry));
    g_array_append_vals(all_entries, entries, G_N_ELEMENTS(entries) - 1);
    for (const GOptionEntry *e = vd_access_options(); e->long_name; e++) /* docs/access.md */
        g_array_append_vals(all_entries, e, 1);
    g_option_context_add_main_entries(ctx, (const GOptionEntry *)all_entries->data, NULL);
    int early_exit = vd_config_file_prepare((const GOptionEntry *)all_entries->data, &argc, &argv);
    if (early_exit >= 0)
        return early_exit;
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "virtd: %s\n", error->message);
        return 2;
    }
    if (version) {
        printf("virtd %s\n", VD_VERSION);
        return 0;
    }
    for (guint i = 0; listen && listen[i]; i++) {
        g_autoptr(GSocketAddress) addr = vd_api_tls_parse_listen(listen[i], &error);
        if (!addr) {
            fprintf(stderr, "virtd: %s\n", error->message);
            return 2;
        }
    }
    if (tls_allowed_dn && !listen) {
        fprintf(stderr, "virtd: --tls-allowed-dn applies to TLS clients: give --listen "
                        "tls://ADDRESS[:PORT] too\n");
        return 2;
    }
    if (!web && (web_cert || web_key || web_group || web_root)) {
        fprintf(stderr, "virtd: --web-cert, --web-key, --web-group and --web-root apply to the "
                        "web console: give --web ADDRESS:PORT too\n");
        return 2;
    }
    if (web_idle_timeout < 1) {
        fprintf(stderr, "virtd: --web-idle-timeout takes a number of seconds >= 1\n");
        return 2;
    }
    for (guint i = 0; web && web[i]; i++) {
        g_autoptr(GSocketAddress) addr = vd_web_parse_listen(web[i], &error);
        if (!addr) {
            fprintf(stderr, "virtd: %s\n", error->message);
            return 2;
        }
    }
    if (idle_timeout < 0 || max_connections < 0 || qemu_pids_max < 0) {
        fprintf(stderr, "virtd: --idle-timeout, --max-connections and --qemu-pids-max take a "
                        "number >= 0\n");
        return 2;
    }
    if (dns_forward && !g_str_equal(dns_forward, "host") && !g_str_equal(dns_forward, "none")) {
        fprintf(stderr, "virtd: invalid --dns-forward '%s': give 'host' or 'none'\n", dns_forward);
        return 2;
    }
    /* --listen: the credentials loaded and the ports bound before anything
     * else, so that a missing certificate or a busy port fails the start
     * at once (and with nothing else to undo). The UNIX socket comes later
     * (vd_api_start): clients of these ports wait in the backlog. */
    if (listen) {
        api_tls = vd_api_tls_new(tls_dir ? tls_dir : VD_TLS_DEFAULT_DIR,
                                 (const char *const *)tls_allowed_dn, &error);
        if (!api_tls) {
            fprintf(stderr, "virtd: --listen: %s\n", error->message);
            return 1;
        }
        listen_sockets = g_ptr_array_new_with_free_func(g_object_unref);
        for (guint i = 0; listen[i]; i++) {
            g_autoptr(GSocketAddress) addr = vd_api_tls_parse_listen(listen[i], NULL);
            GSocket *sock = vd_api_tls_listen(addr, listen[i], &error);
            if (!sock) {
                fprintf(stderr, "virtd: %s\n", error->message);
                return 1;
            }
            g_ptr_array_add(listen_sockets, sock);
        }
    }
    g_log_set_writer_func(log_writer, NULL, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* A migration's ssh to its peer never prompts, even from a daemon
     * started on a terminal (remote.h). */
    vd_remote_set_interactive(FALSE);
    /* Worker threads (kernel extraction, GTask's pool) would each get a
     * malloc arena of their own, ~130 KiB resident apiece, for the few
     * bytes they allocate: two arenas serve this daemon. */
    mallopt(M_ARENA_MAX, 2);

    raise_fd_limit();

    VdDaemon d = {.socket_group = -1,
                  .dns_forward = !dns_forward || g_str_equal(dns_forward, "host"),
                  .no_default_network = no_default_network,
                  .api_idle_timeout = (guint)idle_timeout,
                  .api_max_connections = (guint)max_connections,
                  .console_log_max = VD_CONSOLE_LOG_MAX_DEFAULT};
    if (console_log_max) {
        guint64 bytes = 0;
        if (!vd_size_parse(console_log_max, "B", &bytes, NULL) || bytes < VD_CONSOLE_LOG_MAX_MIN ||
            bytes > G_MAXINT64) {
            fprintf(stderr,
                    "virtd: invalid --console-log-max '%s': give a size of at least 64KiB, "
                    "e.g. 2MiB\n",
                    console_log_max);
            return 2;
        }
        d.console_log_max = (goffset)bytes;
    }
    if (group) {
        struct group *gr = getgrnam(group);
        if (!gr) {
            fprintf(stderr, "virtd: unknown group '%s' for --socket-group\n", group);
            return 2;
        }
        d.socket_group = (int)gr->gr_gid;
    }
    if (!vd_confine_init(qemu_user, &error)) {
        fprintf(stderr, "virtd: %s\n", error->message);
        return 2;
    }
    d.paths = vd_paths_new(root);
    /* Who may do what (docs/access.md): a bad group fails the start here. */
    if (!vd_paths_ensure(d.paths, &error) || !vd_qemu_access_setup(d.paths, &error) ||
        !(d.access = vd_access_new(&d, &error))) {
        fprintf(stderr, "virtd: %s\n", error->message);
        free_probed(&d);
        return 1;
    }

    d.qemu_binary = vd_qemu_default_binary();
    /* The QEMU and KVM probes run in the background: the socket answers
     * at once, what needs them waits (host-ready.h). */
    vd_host_ready_start(&d);
    d.host = vd_host_info_probe(g_getenv("VIRTD_HOST_ROOT"));
    g_info("host: vhost-vsock %s, VFIO %s, render node %s, SEV %s, TDX %s, SMBIOS %s",
           d.host->facts.vhost_vsock ? "yes" : "no", d.host->facts.vfio ? "yes" : "no",
           d.host->facts.render_node ? "yes" : "no", d.host->facts.sev ? "yes" : "no",
           d.host->facts.tdx ? "yes" : "no", d.host->smbios ? "readable" : "unreadable");

    if (!no_fast_boot) {
        /* docs/performance.md: how a domain is put together for speed. */
        d.kernels = vd_kernel_cache_new(d.paths->cache_dir);
        const char *qboot =
            g_getenv("VIRTD_QBOOT") ? g_getenv("VIRTD_QBOOT") : "/usr/share/qemu/qboot.rom";
        if (*qboot && g_file_test(qboot, G_FILE_TEST_EXISTS))
            d.fast_firmware = g_strdup(qboot);
    }

    /* Where UEFI firmware descriptors are looked for: tests point it at
     * a directory of their own (an empty one: "no firmware installed"). */
    if (g_getenv("VIRTD_FIRMWARE_DIRS"))
        d.firmware_dirs = g_strdup(g_getenv("VIRTD_FIRMWARE_DIRS"));

    d.tls_dir = g_strdup(tls_dir ? tls_dir : VD_TLS_DEFAULT_DIR);
    d.migration_host = g_strdup(migration_host);
    d.listen = g_steal_pointer(&listen);
    d.tls_allowed_dn = g_steal_pointer(&tls_allowed_dn);
    d.api_tls = g_steal_pointer(&api_tls);
    d.listen_sockets = g_steal_pointer(&listen_sockets);
    if (!vd_migration_instance_uuid_ensure(&d, &error)) {
        fprintf(stderr, "virtd: %s\n", error->message);
        free_probed(&d);
        return 1;
    }
    /* --web: the certificate made or loaded and the ports bound now, so
     * that a bad file or a busy port fails the start. */
    g_autofree char *tokens_path = g_build_filename(d.paths->state_dir, "web", "tokens", NULL);
    d.web_tokens = vd_web_tokens_new(tokens_path);
    if (web) {
        VdWebConfig wc = {.listen = web,
                          .cert_file = web_cert,
                          .key_file = web_key,
                          .group = web_group,
                          .root = web_root,
                          .idle_timeout = (guint)web_idle_timeout};
        d.web = vd_web_new(&d, &wc, &error);
        if (!d.web) {
            fprintf(stderr, "virtd: %s\n", error->message);
            free_probed(&d);
            return 1;
        }
    }

    d.domains = vd_domain_list_new(d.paths);
    vd_domain_list_load_config(d.domains);
    vd_clone_recover(&d);
    vd_tasks_init(); /* before anything can begin a job: the task log */
    d.storage = vd_storage_new(d.paths);
    vd_storage_load(d.storage);
    d.loop = g_main_loop_new(NULL, FALSE);
    vd_domain_cgroups_init(&d, (guint64)qemu_pids_max);
    vd_domains_reconnect_all(&d);
    vd_snapshot_settle_all(&d);
    vd_migration_recover_all(&d);
    /* After the domains: a network taken over or started finds the taps
     * of the running guests to plug in. */
    d.networks = vd_networks_new(&d);
    vd_networks_load(d.networks);

    if (!vd_api_start(&d, &error)) {
        fprintf(stderr, "virtd: %s\n", error->message);
        return 1;
    }
    g_info("virtd %s listening on %s", VD_VERSION, d.paths->socket_path);
    /* virtd.service is Type=notify: started once clients can connect. */
    if (!vd_sd_notify("READY=1\nSTATUS=serving the API", &error)) {
        g_warning("%s", error->message);
        g_clear_error(&error);
    }
    for (guint i = 0; d.listen && d.listen[i]; i++)
        g_info("virtd %s listening on %s (TLS, credentials in %s)", VD_VERSION, d.listen[i],
               d.tls_dir);
    /* Issue 14: usage history, sampled from now on (before anything can
     * rename or undefine a domain: the hooks need it). */
    d.usage = vd_usage_new(&d);
    if (d.web) {
        vd_web_start(d.web);
        for (guint i = 0; web[i]; i++)
            g_info("virtd %s serving the web console on https://%s", VD_VERSION, web[i]);
    }
    /* Pools and networks first: autostart domains may use them. */
    vd_storage_autostart(d.storage);
    vd_networks_autostart(d.networks);
    vd_host_ready_then(&d, vd_domains_autostart); /* they need QEMU's and KVM's facts */

    g_unix_signal_add(SIGTERM, on_quit_signal, &d);
    g_unix_signal_add(SIGINT, on_quit_signal, &d);
    g_main_loop_run(d.loop);
    vd_sd_notify("STOPPING=1", NULL);

    /* Before the API: its requests waiting for a history read are answered. */
    g_clear_pointer(&d.usage, vd_usage_free);
    g_clear_pointer(&d.web, vd_web_free);
    vd_api_stop(&d);
    vd_storage_free(d.storage);
    /* Networks too outlive the daemon: bridges, rules and dnsmasq stay. */
    g_clear_pointer(&d.networks, vd_networks_free);
    /* Guests outlive the daemon: nothing is stopped here. What the daemon
     * itself holds is freed, so that LeakSanitizer (tests/sanitizer) sees
     * a clean exit and any report is a real leak. */
    free_probed(&d);
    return 0;
}
