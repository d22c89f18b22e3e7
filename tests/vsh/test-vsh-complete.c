/* Tests of command-line completion from the command table
 * (vsh-complete.c), with a fixed list of domains instead of a daemon. */
#include "vsh/vsh-complete.h"

static GPtrArray *
fake_domains(VshCompleter kind, gpointer user_data)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

    if (kind == VSH_COMPLETE_NETWORK) {
        g_ptr_array_add(names, g_strdup("default"));
        g_ptr_array_add(names, g_strdup("lab"));
        return names;
    }
    if (kind == VSH_COMPLETE_POOL) {
        g_ptr_array_add(names, g_strdup("default"));
        g_ptr_array_add(names, g_strdup("data"));
        return names;
    }

    g_ptr_array_add(names, g_strdup("web1"));
    g_ptr_array_add(names, g_strdup("web2"));
    g_ptr_array_add(names, g_strdup("db"));
    return names;
}

/* Completes @line and checks the candidates (NULL-terminated). */
static void
check(const char *line, const char *const *expected, gboolean files)
{
    gboolean want_files = !files;
    g_autoptr(GPtrArray) got = vsh_complete_line(line, fake_domains, NULL, &want_files);

    g_ptr_array_add(got, NULL);
    g_assert_cmpstrv((const char *const *)got->pdata, expected);
    g_assert_cmpint(want_files, ==, files);
}

static void
test_commands(void)
{
    check("dom",
          (const char *const[]){"domblkinfo", "domblklist", "domblkstat", "domcheck",
                                "domdisplay", "domid", "domif-getlink", "domif-setlink",
                                "domifaddr", "domiflist", "domifstat", "dominfo", "domjobabort",
                                "domjobinfo", "dommemstat", "domname", "domrename", "domstate",
                                "domstats", "domusage", "domuuid", NULL},
          FALSE);
    check("sta", (const char *const[]){"start", NULL}, FALSE);
    check("list; sus", (const char *const[]){"suspend", NULL}, FALSE);
    check("nosuch", (const char *const[]){NULL}, FALSE);
}

static void
test_options(void)
{
    check("start web1 --", (const char *const[]){"--console", "--force-boot", "--paused", NULL},
          FALSE);
    check("start web1 --c", (const char *const[]){"--console", NULL}, FALSE);
    /* Given options are not offered again. */
    check("start --paused web1 --", (const char *const[]){"--console", "--force-boot", NULL},
          FALSE);
    check("list --state-r", (const char *const[]){"--state-running", NULL}, FALSE);
    check("nosuch --", (const char *const[]){NULL}, FALSE);
}

static void
test_domains(void)
{
    check("start w", (const char *const[]){"web1", "web2", NULL}, FALSE);
    check("start --console w", (const char *const[]){"web1", "web2", NULL}, FALSE);
    check("dominfo --domain d", (const char *const[]){"db", NULL}, FALSE);
    check("pool-info d", (const char *const[]){"data", "default", NULL}, FALSE);
    /* Network names where a network is expected, and nowhere else. */
    check("net-start ", (const char *const[]){"--network", "default", "lab", NULL}, FALSE);
    check("net-dhcp-leases l", (const char *const[]){"lab", NULL}, FALSE);
    check("net-update default add ip-dhcp-host h.xml --c",
          (const char *const[]){"--config", "--current", NULL}, FALSE);
    check("net-define ", (const char *const[]){NULL}, TRUE);
    check("vol-list --pool de", (const char *const[]){"default", NULL}, FALSE);
    check("dominfo --domain=w", (const char *const[]){"--domain=web1", "--domain=web2", NULL},
          FALSE);
    /* After the blank: the positional's values, then the options. */
    check("autostart ", (const char *const[]){"--disable", "--domain", "db", "web1", "web2", NULL},
          FALSE);
    /* The domain is given: only options remain. */
    check("autostart web1 ", (const char *const[]){"--disable", NULL}, FALSE);
}

static void
test_files_and_commands(void)
{
    check("define ", (const char *const[]){NULL}, TRUE);
    check("define -", (const char *const[]){"--check", "--file", NULL}, FALSE);
    check("define x", (const char *const[]){NULL}, TRUE);
    check("create --console ./", (const char *const[]){NULL}, TRUE);
    check("help sh", (const char *const[]){"shell", "shutdown", NULL}, FALSE);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vsh/complete/commands", test_commands);
    g_test_add_func("/vsh/complete/options", test_options);
    g_test_add_func("/vsh/complete/domains", test_domains);
    g_test_add_func("/vsh/complete/files-and-commands", test_files_and_commands);
    return g_test_run();
}
