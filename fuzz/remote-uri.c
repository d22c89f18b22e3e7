/* Connection URIs (remote/remote-uri.c) and vsh's use of them: the input's
 * first line is what -c or `connect` names (a URI or an alias), the rest a
 * vsh configuration file (remote/remote-config.c: uri_default,
 * uri_aliases). vsh resolves what it is given exactly so (vsh-run.c,
 * vsh-shell.c: vd_remote_uri_resolve; vsh-client.c: vd_remote_uri_parse).
 * Whatever is accepted must describe itself, and a URI that parses must
 * parse the same way again from its own text. */
#include "fuzz-common.h"

#include <unistd.h>

#include "remote/remote-uri.h"

static char *config_path;

static void
check_uri(const char *text)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VdRemoteUri) uri = vd_remote_uri_parse(text, &error);

    if (!uri) {
        FUZZ_ASSERT(error && error->message, "uri '%s': refused without a message", text);
        return;
    }
    FUZZ_ASSERT(uri->transport != VD_REMOTE_UNIX || uri->socket_path[0] == '/',
                "uri '%s': a relative socket path", text);
    FUZZ_ASSERT(uri->transport == VD_REMOTE_UNIX || (uri->host && *uri->host),
                "uri '%s': a remote URI without a host", text);
    g_autofree char *first = vd_remote_uri_describe(uri);
    g_autoptr(VdRemoteUri) again = vd_remote_uri_parse(uri->uri, &error);
    FUZZ_ASSERT(again, "uri '%s': its own text is refused", text);
    g_autofree char *second = vd_remote_uri_describe(again);
    fuzz_check_fixed_point("uri", first, second);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!config_path) {
        config_path = g_strdup_printf("%s/fuzz-remote-uri-%d.conf", fuzz_scratch_dir(),
                                      (int)getpid());
        g_unsetenv("VSH_DEFAULT_URI"); /* would win over the file */
    }
    g_autofree char *text = fuzz_strndup(data, size);
    char *nl = strchr(text, '\n');
    const char *config = nl ? nl + 1 : "";

    if (nl)
        *nl = '\0';
    check_uri(text);

    FILE *f = fopen(config_path, "w");
    FUZZ_ASSERT(f, "cannot write %s", config_path);
    fputs(config, f);
    fclose(f);
    g_autoptr(GError) error = NULL;
    g_autofree char *resolved = vd_remote_uri_resolve(*text ? text : NULL, config_path, &error);
    if (!resolved)
        FUZZ_ASSERT(error && error->message, "'%s': not resolved, without a message", text);
    else
        check_uri(resolved);
    g_autofree char *fallback = vd_remote_uri_default(config_path);
    FUZZ_ASSERT(fallback && *fallback, "no default URI");
    unlink(config_path);
    return 0;
}
