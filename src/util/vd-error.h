/* The one error domain of virtd.
 *
 * Every failure that can reach a user is a GError in VD_ERROR with one of
 * the codes below. One table (vd-error.c) maps each code to its wire name
 * (the "code" field of API error bodies), its HTTP status and the exit
 * status of vsh, so the three never drift apart.
 */
#pragma once

#include <glib.h>

#define VD_ERROR (vd_error_quark())
GQuark vd_error_quark(void);

typedef enum {
    VD_ERROR_INTERNAL,          /* a bug or an unexpected host failure */
    VD_ERROR_INVALID_ARG,       /* the request or the file is wrong */
    VD_ERROR_XML,               /* malformed or invalid XML */
    VD_ERROR_UNSUPPORTED,       /* valid, but virtd cannot honour it */
    VD_ERROR_NO_DOMAIN,         /* no such domain */
    VD_ERROR_EXISTS,            /* name or uuid already in use */
    VD_ERROR_INVALID_STATE,     /* operation not valid in the current state */
    VD_ERROR_OPERATION_FAILED,  /* QEMU or the host refused */
    VD_ERROR_BUSY,              /* e.g. console already attached */
    VD_ERROR_TOO_LARGE,         /* request body over the limit */
    VD_ERROR_NOT_FOUND,         /* no such API resource */
    VD_ERROR_METHOD,            /* method not allowed on the resource */
    VD_ERROR_KVM_UNUSABLE,      /* type='kvm' on a host whose KVM failed the probe */
    VD_ERROR_CONNECT,           /* client side: cannot reach the daemon */
    VD_ERROR_TIMEOUT,           /* an operation did not finish in time */
    VD_ERROR_DENIED,            /* caller not allowed */
    VD_ERROR_NO_POOL,           /* no such storage pool */
    VD_ERROR_NO_VOLUME,         /* no such storage volume */
    VD_ERROR_NO_NETWORK,        /* no such virtual network */
    VD_ERROR_UNAUTHENTICATED,   /* web: no session or token, or a failed login */
    VD_ERROR_RATE_LIMITED,      /* web: too many failed logins; retry later */
    VD_ERROR_N_CODES
} VdErrorCode;

/* Wire name such as "no-domain"; never NULL. */
const char *vd_error_code_to_string(VdErrorCode code);
/* Reverse of the above; VD_ERROR_INTERNAL for unknown names. */
VdErrorCode vd_error_code_from_string(const char *name);
/* HTTP status the API answers with. */
guint vd_error_code_http_status(VdErrorCode code);
/* Exit status vsh ends with (documented in docs/api.md). */
int vd_error_code_exit_status(VdErrorCode code);

/* Set @error to VD_ERROR/@code with the formatted message and return FALSE,
 * so a check can end in `return vd_set_error(error, ...);`. */
gboolean vd_set_error(GError **error, VdErrorCode code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* vd_set_error() with VD_ERROR_UNSUPPORTED: valid, but virtd cannot honour it. */
gboolean vd_set_unsupported(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
