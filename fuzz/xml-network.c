/* Network XML (conf/network-parse.c): parse -> format -> parse -> format
 * must give the same text twice. */
#include "fuzz-common.h"

#include "conf/network-def.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet_glib();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *xml = fuzz_strndup(data, size);
    g_autoptr(GError) error = NULL;
    g_autoptr(VdNetworkDef) def = vd_network_def_parse(xml, &error);

    if (!def) {
        FUZZ_ASSERT(error && error->message, "network: refused without an error message");
        return 0;
    }
    g_autofree char *first = vd_network_def_format(def);
    g_autoptr(VdNetworkDef) again = vd_network_def_parse(first, &error);
    FUZZ_ASSERT(again, "network: its own format is refused: %s\n%s", error->message, first);
    g_autofree char *second = vd_network_def_format(again);
    fuzz_check_fixed_point("network", first, second);
    return 0;
}
