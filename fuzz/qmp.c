/* QEMU's monitor (qemu/qmp-message.c, the parse step of qmp.c's reader):
 * the input is what QEMU sends, cut into lines at '\n' as the reader
 * does. Each line is refused (ending the connection), ignored, or a
 * greeting, event or reply whose parts are where the reader looks. */
#include "fuzz-common.h"

#include "qemu/qmp-message.h"

static gboolean
check_line(const char *line, gsize len)
{
    g_autoptr(GError) error = NULL;
    VdQmpMessage msg;

    if (!vd_qmp_message_parse(line, len, &msg, &error)) {
        FUZZ_ASSERT(error && error->message && !msg.root, "a refused line without a message");
        vd_qmp_message_clear(&msg);
        return FALSE;
    }
    if (msg.root) {
        FUZZ_ASSERT(msg.object, "a message without its object");
        if (msg.event)
            FUZZ_ASSERT(g_utf8_validate(msg.event, -1, NULL), "an event name that is not UTF-8");
        if (msg.reply && msg.failed)
            FUZZ_ASSERT(msg.error_desc && g_utf8_validate(msg.error_desc, -1, NULL),
                        "a failed reply without a valid description");
        if (!msg.reply)
            FUZZ_ASSERT(!msg.has_id && !msg.failed && !msg.result, "reply parts in a non-reply");
    } else {
        FUZZ_ASSERT(!msg.greeting && !msg.event && !msg.reply, "parts of a non-object");
    }
    vd_qmp_message_clear(&msg);
    FUZZ_ASSERT(!msg.root, "a message not cleared");
    return TRUE;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *end = p + size;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        gsize len = nl ? (gsize)(nl - p) : (gsize)(end - p);

        if (!check_line(p, len))
            break; /* the reader drops the connection */
        p += len + 1;
    }
    return 0;
}
