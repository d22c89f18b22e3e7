/* Measures whether /dev/kvm runs guest kernel code at hardware speed.
 *
 * Why measure: on some hosts /dev/kvm is a paravirtual back end (PVM) that
 * emulates guest ring-0 code about 2,000 times slower than hardware and
 * eventually fails (DESIGN.md §2); QEMU with -enable-kvm then hangs in the
 * BIOS. Opening the device proves nothing, so we run a tight loop in real
 * mode (CPL 0, exactly what a BIOS and a kernel's early code run as) in a
 * throwaway VM built with raw ioctls, and time it.
 *
 * Why a child process: the ioctls can hang or take arbitrarily long on a
 * broken back end, and a vCPU cannot be interrupted cleanly from another
 * thread; a child can be killed. The child only makes system calls between
 * fork() and _exit() (no malloc, no GLib), which is what is safe after
 * fork() in a threaded daemon.
 *
 * Why shared guest memory: the guest stores its progress (completed chunks
 * of the loop) in its RAM, which is a MAP_SHARED mapping created before
 * fork(). When the run budget expires the parent reads the counter
 * directly, so a slow back end still yields a measured rate, even if the
 * child is stuck inside KVM_RUN.
 */
#include "qemu/kvm-probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Iterations between two progress stores, and in all. 20 M iterations take
 * 5-20 ms on hardware (about 1-4 G iterations/s); the run budget of 1 s
 * then means "slower than 20 M/s" is decided as soon as the budget ends. */
#define PROBE_CHUNK 10000u
#define PROBE_CHUNKS 2000u
#define PROBE_ITERATIONS ((double)PROBE_CHUNK * PROBE_CHUNKS)
#define PROBE_RUN_BUDGET_NS G_GINT64_CONSTANT(1000000000)
#define PROBE_DEADLINE_NS G_GINT64_CONSTANT(2000000000)
#define PROBE_REAP_NS G_GINT64_CONSTANT(500000000)

/* Below this the guest is emulated; hardware does far more than this. */
#define USABLE_RATE 20e6
#define HARDWARE_RATE 100e6

#define GUEST_MEM_SIZE 0x10000u
#define GUEST_CODE_ADDR 0x1000u
#define GUEST_COUNTER_ADDR 0x500u

/* Real-mode code, assembled from:
 *       xor   ebx, ebx
 * outer: mov  ecx, PROBE_CHUNK
 * inner: dec  ecx
 *        jnz  inner
 *        inc  ebx
 *        mov  [0x500], ebx      ; progress, read by the parent
 *        cmp  ebx, PROBE_CHUNKS
 *        jne  outer
 *        hlt */
/* clang-format off */
#define LE32(v) (guint8)((v)&0xff), (guint8)(((v) >> 8) & 0xff), \
                (guint8)(((v) >> 16) & 0xff), (guint8)(((v) >> 24) & 0xff)
static const guint8 guest_code[] = {
    0x66, 0x31, 0xdb,                         /* xor ebx, ebx */
    0x66, 0xb9, LE32(PROBE_CHUNK),            /* mov ecx, imm32 */
    0x66, 0x49,                               /* dec ecx */
    0x75, 0xfc,                               /* jnz inner */
    0x66, 0x43,                               /* inc ebx */
    0x66, 0x89, 0x1e, 0x00, 0x05,             /* mov [0x500], ebx */
    0x66, 0x81, 0xfb, LE32(PROBE_CHUNKS),     /* cmp ebx, imm32 */
    0x75, 0xe6,                               /* jne outer */
    0xf4,                                     /* hlt */
};
/* clang-format on */

typedef enum {
    MSG_STARTED, /* value: CLOCK_MONOTONIC ns when the first KVM_RUN began */
    MSG_DONE,    /* value: ns from the first KVM_RUN to the HLT exit */
    MSG_FAILED,  /* stage, err, exit_reason, value (suberror / entry failure) */
} MsgKind;

typedef enum {
    STAGE_CREATE_VM,
    STAGE_SET_MEMORY,
    STAGE_CREATE_VCPU,
    STAGE_MMAP_RUN,
    STAGE_SET_SREGS,
    STAGE_SET_REGS,
    STAGE_RUN,
    STAGE_EXIT, /* KVM_RUN returned an exit other than HLT */
} Stage;

/* Written whole in one write(): atomic on a pipe (< PIPE_BUF). */
typedef struct {
    guint32 kind;
    guint32 stage;
    gint32 err;
    guint32 exit_reason;
    guint64 value;
} Msg;

static gint64
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (gint64)ts.tv_sec * G_GINT64_CONSTANT(1000000000) + ts.tv_nsec;
}

static void
child_send(int fd, MsgKind kind, Stage stage, int err, guint32 exit_reason, guint64 value)
{
    Msg msg = {kind, stage, err, exit_reason, value};
    ssize_t n;
    do {
        n = write(fd, &msg, sizeof(msg));
    } while (n < 0 && errno == EINTR);
}

static void G_GNUC_NORETURN
child_fail(int fd, Stage stage)
{
    child_send(fd, MSG_FAILED, stage, errno, 0, 0);
    _exit(1);
}

/* Runs in the forked child: system calls only. */
static void G_GNUC_NORETURN
child_run(int kvm, void *mem, int fd)
{
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0)
        child_fail(fd, STAGE_CREATE_VM);
    /* Intel without unrestricted guest needs a TSS for real mode; harmless
     * (and possibly refused) elsewhere. */
    (void)ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000UL);

    struct kvm_userspace_memory_region region = {
        .slot = 0,
        .guest_phys_addr = 0,
        .memory_size = GUEST_MEM_SIZE,
        .userspace_addr = (guint64)(guintptr)mem,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        child_fail(fd, STAGE_SET_MEMORY);

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        child_fail(fd, STAGE_CREATE_VCPU);
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size <= 0)
        child_fail(fd, STAGE_MMAP_RUN);
    struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        child_fail(fd, STAGE_MMAP_RUN);

    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        child_fail(fd, STAGE_SET_SREGS);
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    sregs.ds.base = 0;
    sregs.ds.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
        child_fail(fd, STAGE_SET_SREGS);

    struct kvm_regs regs;
    memset(&regs, 0, sizeof(regs));
    regs.rip = GUEST_CODE_ADDR;
    regs.rflags = 0x2;
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        child_fail(fd, STAGE_SET_REGS);

    gint64 start = now_ns();
    child_send(fd, MSG_STARTED, 0, 0, 0, (guint64)start);
    for (;;) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            child_fail(fd, STAGE_RUN);
        }
        if (run->exit_reason == KVM_EXIT_HLT)
            break;
        guint64 value = 0;
        if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
            value = run->internal.suberror;
        else if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
            value = run->fail_entry.hardware_entry_failure_reason;
        child_send(fd, MSG_FAILED, STAGE_EXIT, 0, run->exit_reason, value);
        _exit(1);
    }
    child_send(fd, MSG_DONE, 0, 0, 0, (guint64)(now_ns() - start));
    _exit(0);
}

static const char *
stage_to_string(Stage stage)
{
    switch (stage) {
    case STAGE_CREATE_VM:
        return "KVM_CREATE_VM";
    case STAGE_SET_MEMORY:
        return "KVM_SET_USER_MEMORY_REGION";
    case STAGE_CREATE_VCPU:
        return "KVM_CREATE_VCPU";
    case STAGE_MMAP_RUN:
        return "mapping the vCPU run area";
    case STAGE_SET_SREGS:
        return "KVM_SET_SREGS";
    case STAGE_SET_REGS:
        return "KVM_SET_REGS";
    case STAGE_RUN:
        return "KVM_RUN";
    case STAGE_EXIT:
        return "KVM_RUN";
    }
    return "an ioctl";
}

static const char *
exit_reason_to_string(guint32 reason)
{
    switch (reason) {
    case KVM_EXIT_INTERNAL_ERROR:
        return "KVM_EXIT_INTERNAL_ERROR";
    case KVM_EXIT_FAIL_ENTRY:
        return "KVM_EXIT_FAIL_ENTRY";
    case KVM_EXIT_SHUTDOWN:
        return "KVM_EXIT_SHUTDOWN (triple fault)";
    case KVM_EXIT_IO:
        return "KVM_EXIT_IO";
    case KVM_EXIT_MMIO:
        return "KVM_EXIT_MMIO";
    case KVM_EXIT_EXCEPTION:
        return "KVM_EXIT_EXCEPTION";
    default:
        return "an unexpected exit";
    }
}

/* "812 k" / "2345.6 M" */
static char *
format_rate(double rate)
{
    if (rate >= 1e6)
        return g_strdup_printf("%.1f M", rate / 1e6);
    if (rate >= 1e3)
        return g_strdup_printf("%.0f k", rate / 1e3);
    return g_strdup_printf("%.0f", rate);
}

static VdKvmProbe *
probe_new(VdKvmStatus status, double rate, char *detail)
{
    VdKvmProbe *probe = g_new0(VdKvmProbe, 1);
    probe->status = status;
    probe->iterations_per_sec = rate;
    probe->detail = detail;
    return probe;
}

static VdKvmProbe *
probe_from_rate(const char *dev, double rate)
{
    g_autofree char *r = format_rate(rate);

    if (rate >= HARDWARE_RATE)
        return probe_new(VD_KVM_USABLE, rate,
                         g_strdup_printf("KVM runs guest kernel code at hardware speed "
                                         "(%s iterations/s).",
                                         r));
    if (rate >= USABLE_RATE)
        return probe_new(VD_KVM_USABLE, rate,
                         g_strdup_printf("KVM runs guest kernel code at %s iterations/s: slower "
                                         "than bare hardware (> 100 M/s, nested "
                                         "virtualization?) but usable.",
                                         r));
    return probe_new(VD_KVM_SLOW, rate,
                     g_strdup_printf("KVM runs guest kernel code emulated (%s iterations/s, "
                                     "hardware virtualization does > 100 M/s): this host's %s "
                                     "is not hardware virtualization (nested or paravirtual "
                                     "KVM). Use <domain type='qemu'> (TCG) instead.",
                                     r, dev));
}

static VdKvmProbe *
probe_from_failure(const char *dev, const Msg *msg)
{
    if (msg->stage == STAGE_EXIT) {
        g_autofree char *extra = NULL;
        if (msg->exit_reason == KVM_EXIT_INTERNAL_ERROR)
            extra = g_strdup_printf(
                ", suberror %" G_GUINT64_FORMAT "%s", msg->value,
                msg->value == KVM_INTERNAL_ERROR_EMULATION ? ": emulation failure" : "");
        else if (msg->exit_reason == KVM_EXIT_FAIL_ENTRY)
            extra = g_strdup_printf(", hardware entry failure reason 0x%" G_GINT64_MODIFIER "x",
                                    msg->value);
        return probe_new(VD_KVM_BROKEN, 0,
                         g_strdup_printf("KVM failed to run a few real-mode instructions: the "
                                         "vCPU stopped with %s (exit %u%s). %s cannot run "
                                         "guest kernels; use <domain type='qemu'> (TCG) "
                                         "instead.",
                                         exit_reason_to_string(msg->exit_reason), msg->exit_reason,
                                         extra ? extra : "", dev));
    }
    return probe_new(VD_KVM_BROKEN, 0,
                     g_strdup_printf("KVM refused to run a test VM: %s failed: %s. Use <domain "
                                     "type='qemu'> (TCG) instead.",
                                     stage_to_string((Stage)msg->stage), g_strerror(msg->err)));
}

/* SIGKILL, then reap without waiting longer than PROBE_REAP_NS: a child
 * stuck in an uninterruptible ioctl must not hang the caller. */
static void
child_reap(pid_t pid, gboolean kill_it, int *wstatus)
{
    if (kill_it)
        kill(pid, SIGKILL);
    gint64 until = now_ns() + PROBE_REAP_NS;
    for (;;) {
        pid_t r = waitpid(pid, wstatus, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return;
        if (now_ns() >= until)
            return;
        g_usleep(2000);
    }
}

static VdKvmProbe *
probe_open(const char *dev, int *fd_out)
{
    int fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int saved = errno;
        if (saved == ENOENT || saved == ENODEV || saved == ENXIO)
            return probe_new(VD_KVM_ABSENT, 0,
                             g_strdup_printf("no %s: the kvm module is not loaded or the CPU "
                                             "lacks VT-x/AMD-V (or it is disabled in the "
                                             "firmware, or this is a VM without nested "
                                             "virtualization). Use <domain type='qemu'> (TCG) "
                                             "instead.",
                                             dev));
        if (saved == EACCES || saved == EPERM || saved == EROFS)
            return probe_new(VD_KVM_NO_ACCESS, 0,
                             g_strdup_printf("cannot open %s: %s: run virtd as root or as a "
                                             "member of the device's group (usually 'kvm'), or "
                                             "use <domain type='qemu'> (TCG).",
                                             dev, g_strerror(saved)));
        return probe_new(VD_KVM_BROKEN, 0,
                         g_strdup_printf("cannot open %s: %s. Use <domain type='qemu'> (TCG) "
                                         "instead.",
                                         dev, g_strerror(saved)));
    }
    int version = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION) {
        int saved = errno;
        close(fd);
        return probe_new(VD_KVM_BROKEN, 0,
                         version < 0
                             ? g_strdup_printf("%s is not a KVM device (KVM_GET_API_VERSION: %s). "
                                               "Use <domain type='qemu'> (TCG) instead.",
                                               dev, g_strerror(saved))
                             : g_strdup_printf("%s speaks KVM API version %d, not %d. Use "
                                               "<domain type='qemu'> (TCG) instead.",
                                               dev, version, KVM_API_VERSION));
    }
    *fd_out = fd;
    return NULL;
}

VdKvmProbe *
vd_kvm_probe_run(const char *dev)
{
    int kvm = -1;
    VdKvmProbe *early = probe_open(dev, &kvm);
    if (early)
        return early;

    void *mem =
        mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        int saved = errno;
        close(kvm);
        return probe_new(
            VD_KVM_BROKEN, 0,
            g_strdup_printf("cannot allocate the probe VM's memory: %s", g_strerror(saved)));
    }
    memcpy((guint8 *)mem + GUEST_CODE_ADDR, guest_code, sizeof(guest_code));
    volatile guint32 *counter = (volatile guint32 *)((guint8 *)mem + GUEST_COUNTER_ADDR);

    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        int saved = errno;
        close(kvm);
        munmap(mem, GUEST_MEM_SIZE);
        return probe_new(VD_KVM_BROKEN, 0,
                         g_strdup_printf("cannot create a pipe: %s", g_strerror(saved)));
    }

    gint64 forked = now_ns();
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        child_run(kvm, mem, pfd[1]);
    }
    int fork_errno = errno;
    close(pfd[1]);
    close(kvm);
    if (pid < 0) {
        close(pfd[0]);
        munmap(mem, GUEST_MEM_SIZE);
        return probe_new(VD_KVM_BROKEN, 0,
                         g_strdup_printf("cannot fork the KVM probe: %s", g_strerror(fork_errno)));
    }

    gint64 started = -1;
    gint64 deadline = forked + PROBE_DEADLINE_NS;
    VdKvmProbe *result = NULL;
    gboolean exited = FALSE;
    int wstatus = 0;

    while (!result) {
        gint64 now = now_ns();
        if (now >= deadline)
            break;
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        int timeout_ms = (int)((deadline - now + 999999) / 1000000);
        int n = poll(&p, 1, timeout_ms);
        if (n < 0 && errno != EINTR)
            break;
        if (n <= 0)
            continue;
        Msg msg;
        ssize_t got = read(pfd[0], &msg, sizeof(msg));
        if (got < 0 && errno == EINTR)
            continue;
        if (got != (ssize_t)sizeof(msg)) {
            /* EOF (or a torn message): the child died without a verdict. */
            child_reap(pid, FALSE, &wstatus);
            exited = TRUE;
            g_autofree char *how =
                WIFSIGNALED(wstatus)
                    ? g_strdup_printf("was killed by signal %d", WTERMSIG(wstatus))
                    : g_strdup_printf("exited with status %d", WEXITSTATUS(wstatus));
            result = probe_new(VD_KVM_BROKEN, 0,
                               g_strdup_printf("the KVM probe process %s before reporting. "
                                               "Use <domain type='qemu'> (TCG) instead.",
                                               how));
            break;
        }
        switch ((MsgKind)msg.kind) {
        case MSG_STARTED:
            started = (gint64)msg.value;
            deadline = MIN(deadline, started + PROBE_RUN_BUDGET_NS);
            break;
        case MSG_DONE:
            result = probe_from_rate(dev, PROBE_ITERATIONS * 1e9 / (double)MAX(msg.value, 1));
            break;
        case MSG_FAILED:
            result = probe_from_failure(dev, &msg);
            break;
        }
    }

    if (!result && started < 0) {
        result = probe_new(VD_KVM_BROKEN, 0,
                           g_strdup_printf("KVM did not even create a test VM within %d s: %s "
                                           "is not usable. Use <domain type='qemu'> (TCG) "
                                           "instead.",
                                           (int)(PROBE_DEADLINE_NS / 1000000000), dev));
    } else if (!result) {
        /* The budget ran out: at this point fewer than 20 M iterations ran
         * in 1 s, which is the definition of too slow. The counter says
         * how many actually did. */
        guint32 chunks = *counter;
        double elapsed = (double)(now_ns() - started) / 1e9;
        if (chunks > 0) {
            result = probe_from_rate(dev, (double)chunks * PROBE_CHUNK / elapsed);
        } else {
            result = probe_new(VD_KVM_SLOW, 0,
                               g_strdup_printf("KVM did not finish %u iterations of guest kernel "
                                               "code in %.1f s (measured progress unknown; "
                                               "hardware virtualization does > 100 M/s): this "
                                               "host's %s is not hardware virtualization (nested "
                                               "or paravirtual KVM). Use <domain type='qemu'> "
                                               "(TCG) instead.",
                                               PROBE_CHUNK, elapsed, dev));
        }
    }

    if (!exited)
        child_reap(pid, TRUE, &wstatus);
    close(pfd[0]);
    munmap(mem, GUEST_MEM_SIZE);
    return result;
}

void
vd_kvm_probe_free(VdKvmProbe *probe)
{
    if (!probe)
        return;
    g_free(probe->detail);
    g_free(probe);
}

const char *
vd_kvm_status_to_string(VdKvmStatus status)
{
    switch (status) {
    case VD_KVM_USABLE:
        return "usable";
    case VD_KVM_ABSENT:
        return "absent";
    case VD_KVM_NO_ACCESS:
        return "no-access";
    case VD_KVM_SLOW:
        return "slow";
    case VD_KVM_BROKEN:
        return "broken";
    }
    return "broken";
}
