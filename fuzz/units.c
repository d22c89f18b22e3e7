/* Sizes with units (util/vd-units.c), as XML and vsh's options take them:
 * "1024", "2G", "512MiB". A size that parses is formatted, and a bare
 * number of bytes parses back to itself. */
#include "fuzz-common.h"

#include "util/vd-units.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = fuzz_strndup(data, size);
    /* The default units the callers use: XML's KiB, vsh's bytes and MiB. */
    static const char *const defaults[] = {"KiB", "b", "M", NULL};

    for (guint i = 0; i < G_N_ELEMENTS(defaults); i++) {
        g_autoptr(GError) error = NULL;
        guint64 bytes = 0;

        if (!vd_size_parse(text, defaults[i], &bytes, &error)) {
            FUZZ_ASSERT(error && error->message, "size '%s': refused without a message", text);
            continue;
        }
        g_autofree char *pretty = vd_size_format_pretty(bytes);
        FUZZ_ASSERT(pretty && *pretty, "size %" G_GUINT64_FORMAT ": no pretty form", bytes);
        g_autofree char *plain = g_strdup_printf("%" G_GUINT64_FORMAT, bytes);
        guint64 again = 0;
        FUZZ_ASSERT(vd_size_parse(plain, "b", &again, NULL) && again == bytes,
                    "size '%s' = %" G_GUINT64_FORMAT " bytes does not parse back", text, bytes);
    }
    /* The unit alone, as <memory unit='...'> gives it. */
    g_autoptr(GError) error = NULL;
    guint64 bytes;
    if (!vd_units_to_bytes(1, text, "KiB", &bytes, &error))
        FUZZ_ASSERT(error && error->message, "unit '%s': refused without a message", text);
    return 0;
}
