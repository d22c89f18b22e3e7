/* The KVM probe on this host's /dev/kvm, and its failure statuses.
 *
 * Which status /dev/kvm gets depends on the host (DESIGN.md §2: here it
 * is SLOW), so the real-device test checks what must hold everywhere:
 * bounded time, a detail that explains, and a rate consistent with the
 * status. The measured figure is printed for the record. */
#include <string.h>

#include "qemu/kvm-probe.h"

static void
test_real_device(void)
{
    gint64 start = g_get_monotonic_time();
    g_autoptr(VdKvmProbe) probe = vd_kvm_probe_run("/dev/kvm");
    double secs = (g_get_monotonic_time() - start) / 1e6;

    g_test_message("/dev/kvm: %s, %.0f iterations/s, %.2f s: %s",
                   vd_kvm_status_to_string(probe->status), probe->iterations_per_sec, secs,
                   probe->detail);
    g_assert_cmpfloat(secs, <, 3.0);
    g_assert_nonnull(probe->detail);
    g_assert_cmpuint(strlen(probe->detail), >, 20);

    switch (probe->status) {
    case VD_KVM_USABLE:
        g_assert_cmpfloat(probe->iterations_per_sec, >=, 20e6);
        break;
    case VD_KVM_SLOW:
        g_assert_cmpfloat(probe->iterations_per_sec, <, 20e6);
        g_assert_nonnull(strstr(probe->detail, "type='qemu'"));
        if (probe->iterations_per_sec > 0)
            g_assert_nonnull(strstr(probe->detail, "iterations/s"));
        else
            g_assert_nonnull(strstr(probe->detail, "progress unknown"));
        break;
    case VD_KVM_ABSENT:
    case VD_KVM_NO_ACCESS:
    case VD_KVM_BROKEN:
        g_assert_cmpfloat(probe->iterations_per_sec, ==, 0);
        break;
    }
    if (g_file_test("/dev/kvm", G_FILE_TEST_EXISTS))
        g_assert_cmpint(probe->status, !=, VD_KVM_ABSENT);
}

/* Two probes in a row: the child of the first is gone and nothing leaks
 * into the second. */
static void
test_repeatable(void)
{
    g_autoptr(VdKvmProbe) a = vd_kvm_probe_run("/dev/kvm");
    g_autoptr(VdKvmProbe) b = vd_kvm_probe_run("/dev/kvm");
    g_assert_cmpint(a->status, ==, b->status);
    g_assert_cmpstr(vd_kvm_status_to_string(a->status), ==, vd_kvm_status_to_string(b->status));
}

static void
test_absent(void)
{
    g_autoptr(VdKvmProbe) probe = vd_kvm_probe_run("/nonexistent/kvm");
    g_assert_cmpint(probe->status, ==, VD_KVM_ABSENT);
    g_assert_cmpfloat(probe->iterations_per_sec, ==, 0);
    g_assert_nonnull(strstr(probe->detail, "no /nonexistent/kvm"));
    g_assert_nonnull(strstr(probe->detail, "type='qemu'"));
}

/* A device that is not KVM: the first ioctl fails. */
static void
test_not_kvm(void)
{
    g_autoptr(VdKvmProbe) probe = vd_kvm_probe_run("/dev/null");
    g_assert_cmpint(probe->status, ==, VD_KVM_BROKEN);
    g_assert_nonnull(strstr(probe->detail, "/dev/null is not a KVM device"));
}

static void
test_status_names(void)
{
    g_assert_cmpstr(vd_kvm_status_to_string(VD_KVM_USABLE), ==, "usable");
    g_assert_cmpstr(vd_kvm_status_to_string(VD_KVM_ABSENT), ==, "absent");
    g_assert_cmpstr(vd_kvm_status_to_string(VD_KVM_NO_ACCESS), ==, "no-access");
    g_assert_cmpstr(vd_kvm_status_to_string(VD_KVM_SLOW), ==, "slow");
    g_assert_cmpstr(vd_kvm_status_to_string(VD_KVM_BROKEN), ==, "broken");
    vd_kvm_probe_free(NULL);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu/kvm-probe/real-device", test_real_device);
    g_test_add_func("/qemu/kvm-probe/repeatable", test_repeatable);
    g_test_add_func("/qemu/kvm-probe/absent", test_absent);
    g_test_add_func("/qemu/kvm-probe/not-kvm", test_not_kvm);
    g_test_add_func("/qemu/kvm-probe/status-names", test_status_names);
    return g_test_run();
}
