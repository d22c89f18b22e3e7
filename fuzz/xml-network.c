/* Network XML (conf/network-parse.c): parse -> format -> parse -> format
 * must give the same text twice. */
#include "fuzz-common.h"

#include "conf/network-def.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *xml = fuzz_strndup(data, size);

    FUZZ_XML_FIXED_POINT("network", VdNetworkDef, xml, vd_network_def_parse, FUZZ_NO_FIXUP,
                         vd_network_def_format);
    return 0;
}
