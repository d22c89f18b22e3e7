/* Storage pool XML (conf/storage-pool-def.c): parse -> format -> parse ->
 * format must give the same text twice. */
#include "fuzz-common.h"

#include "conf/storage-pool-def.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *xml = fuzz_strndup(data, size);

    FUZZ_XML_FIXED_POINT("pool", VdStoragePoolDef, xml, vd_storage_pool_def_parse,
                         FUZZ_NO_FIXUP, vd_storage_pool_def_format);
    return 0;
}
