/* Snapshot XML (conf/snapshot-def.c), both as a user's input and as the
 * daemon's own metadata file: parse -> format -> parse -> format must give
 * the same text twice. */
#include "fuzz-common.h"

#include "conf/snapshot-def.h"

static void
round_trip(const char *xml, gboolean internal)
{
    const char *what = internal ? "snapshot (internal)" : "snapshot";
    g_autoptr(GError) error = NULL;
    g_autoptr(VdSnapshotDef) def = vd_snapshot_def_parse(xml, internal, &error);

    if (!def) {
        FUZZ_ASSERT(error && error->message, "%s: refused without an error message", what);
        return;
    }
    g_autofree char *first = vd_snapshot_def_format(def);
    g_autoptr(VdSnapshotDef) again = vd_snapshot_def_parse(first, internal, &error);
    FUZZ_ASSERT(again, "%s: its own format is refused: %s\n%s", what, error->message, first);
    g_autofree char *second = vd_snapshot_def_format(again);
    fuzz_check_fixed_point(what, first, second);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *xml = fuzz_strndup(data, size);

    round_trip(xml, FALSE);
    round_trip(xml, TRUE);
    return 0;
}
