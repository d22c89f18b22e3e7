/* vsh host-validate's checks (virt-host-validate's job, with what only the
 * daemon knows: its KVM probe's verdict, its QEMU's capabilities, its
 * pools). GET /v1/host/validate runs them in a worker thread on a copy
 * of the daemon's facts taken in the main loop; vsh prints the lines. */
#pragma once

#include <json-glib/json-glib.h>

#include "qemu/kvm-probe.h"

typedef enum {
    VD_CHECK_PASS,
    VD_CHECK_WARN,
    VD_CHECK_FAIL,
} VdCheckResult;

const char *vd_check_result_to_string(VdCheckResult result);

/* What the checks need from the daemon, copied (the worker owns it). */
typedef struct {
    char *root; /* "/" or a directory of fake host files (tests) */
    VdKvmStatus kvm_status;
    char *kvm_detail;
    double kvm_rate;
    char *qemu_binary;   /* NULL: none found */
    char *qemu_version;  /* NULL: the capabilities probe failed */
    char *qemu_error;    /* why, then */
    GPtrArray *machines; /* char*: the machine types and aliases */
    char *default_machine;
    gboolean tcg;
    GPtrArray *pools; /* char*: pairs name, target directory (active pools) */
} VdHostValidateInput;

void vd_host_validate_input_free(VdHostValidateInput *in);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdHostValidateInput, vd_host_validate_input_free)

/* Runs every check (blocking: reads /proc, /sys, /dev, runs nft's library
 * and dnsmasq --version) and returns
 *   {"checks": [{"group": "QEMU", "check": "for hardware virtualization",
 *                "result": "PASS"|"WARN"|"FAIL", "detail": "...", "fix": "..."}],
 *    "pass": N, "warn": N, "fail": N}
 * detail and fix only where there is something to say. */
JsonNode *vd_host_validate_run(const VdHostValidateInput *in);
