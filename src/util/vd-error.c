#include "vd-error.h"

G_DEFINE_QUARK(vd-error-quark, vd_error)

typedef struct {
    const char *name;
    guint http_status;
    int exit_status;
} VdErrorInfo;

/* Exit statuses: 1 is what virsh returns for every failure and what
 * scripts test for; finer codes let scripts tell causes apart without
 * parsing messages. */
static const VdErrorInfo error_table[VD_ERROR_N_CODES] = {
    [VD_ERROR_INTERNAL] = {"internal-error", 500, 1},
    [VD_ERROR_INVALID_ARG] = {"invalid-argument", 400, 2},
    [VD_ERROR_XML] = {"xml-error", 400, 2},
    [VD_ERROR_UNSUPPORTED] = {"unsupported", 422, 3},
    [VD_ERROR_NO_DOMAIN] = {"no-domain", 404, 4},
    [VD_ERROR_EXISTS] = {"exists", 409, 5},
    [VD_ERROR_INVALID_STATE] = {"invalid-state", 409, 6},
    [VD_ERROR_OPERATION_FAILED] = {"operation-failed", 500, 1},
    [VD_ERROR_BUSY] = {"busy", 409, 7},
    [VD_ERROR_TOO_LARGE] = {"too-large", 413, 2},
    [VD_ERROR_NOT_FOUND] = {"not-found", 404, 1},
    [VD_ERROR_METHOD] = {"method-not-allowed", 405, 1},
    [VD_ERROR_KVM_UNUSABLE] = {"kvm-unusable", 422, 3},
    [VD_ERROR_CONNECT] = {"connect-failed", 503, 8},
    [VD_ERROR_TIMEOUT] = {"timeout", 504, 1},
    [VD_ERROR_DENIED] = {"denied", 403, 9},
    [VD_ERROR_NO_POOL] = {"no-pool", 404, 10},
    [VD_ERROR_NO_VOLUME] = {"no-volume", 404, 11},
    [VD_ERROR_NO_NETWORK] = {"no-network", 404, 12},
    [VD_ERROR_UNAUTHENTICATED] = {"unauthenticated", 401, 9},
    [VD_ERROR_RATE_LIMITED] = {"rate-limited", 429, 9},
};

const char *
vd_error_code_to_string(VdErrorCode code)
{
    if ((guint)code >= VD_ERROR_N_CODES)
        return error_table[VD_ERROR_INTERNAL].name;
    return error_table[code].name;
}

VdErrorCode
vd_error_code_from_string(const char *name)
{
    for (guint i = 0; name && i < VD_ERROR_N_CODES; i++) {
        if (g_str_equal(error_table[i].name, name))
            return (VdErrorCode)i;
    }
    return VD_ERROR_INTERNAL;
}

guint
vd_error_code_http_status(VdErrorCode code)
{
    if ((guint)code >= VD_ERROR_N_CODES)
        return 500;
    return error_table[code].http_status;
}

int
vd_error_code_exit_status(VdErrorCode code)
{
    if ((guint)code >= VD_ERROR_N_CODES)
        return 1;
    return error_table[code].exit_status;
}

static void set_error_valist(GError **error, VdErrorCode code, const char *fmt, va_list ap)
    G_GNUC_PRINTF(3, 0);

static void
set_error_valist(GError **error, VdErrorCode code, const char *fmt, va_list ap)
{
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);

    g_set_error_literal(error, VD_ERROR, code, msg);
}

gboolean
vd_set_error(GError **error, VdErrorCode code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_error_valist(error, code, fmt, ap);
    va_end(ap);
    return FALSE;
}

gboolean
vd_set_unsupported(GError **error, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_error_valist(error, VD_ERROR_UNSUPPORTED, fmt, ap);
    va_end(ap);
    return FALSE;
}
