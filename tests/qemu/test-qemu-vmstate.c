/* The memory state of an internal snapshot read before a revert
 * (qemu-vmstate.c): a qcow2 image made here byte by byte (its table of
 * snapshots, the snapshot's L1 and L2 tables, the state past the disk's
 * end), the head of a QEMU 7.2 stream, and the comparison with argv. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "qemu/qemu-vmstate.h"
#include "util/vd-error.h"

static void
put8(GByteArray *b, guint8 v)
{
    g_byte_array_append(b, &v, 1);
}

static void
put32(GByteArray *b, guint32 v)
{
    guint32 be = GUINT32_TO_BE(v);
    g_byte_array_append(b, (guint8 *)&be, 4);
}

static void
put64(GByteArray *b, guint64 v)
{
    guint64 be = GUINT64_TO_BE(v);
    g_byte_array_append(b, (guint8 *)&be, 8);
}

static void
put_id(GByteArray *b, const char *s)
{
    put8(b, (guint8)strlen(s));
    g_byte_array_append(b, (const guint8 *)s, (guint)strlen(s));
}

/* A stream as QEMU 7.2's save_snapshot writes it, up to the RAM blocks. */
static GByteArray *
stream(const char *machine, guint64 ram, const char *nic_rom, gboolean vmem)
{
    GByteArray *b = g_byte_array_new();
    put32(b, 0x5145564d);
    put32(b, 3);
    put8(b, 0x07); /* configuration */
    put32(b, (guint32)strlen(machine));
    g_byte_array_append(b, (const guint8 *)machine, (guint)strlen(machine));
    put8(b, 0x01); /* section start */
    put32(b, 2);
    put_id(b, "ram");
    put32(b, 0);
    put32(b, 4);
    guint64 total = ram + 0x40000 + 0x20000 + (vmem ? 256ull << 20 : 0);
    put64(b, total | 0x04);
    put_id(b, "pc.ram");
    put64(b, ram);
    put_id(b, "/rom@etc/acpi/tables");
    put64(b, 0x20000);
    put_id(b, nic_rom);
    put64(b, 0x40000);
    if (vmem) {
        put_id(b, "memvirtiomem0");
        put64(b, 256ull << 20);
    }
    put64(b, 0x10); /* EOS */
    return b;
}

static GPtrArray *
argv_of(const char *const *args)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    for (; *args; args++)
        g_ptr_array_add(a, g_strdup(*args));
    return a;
}

static const char *const ARGV[] = {
    "qemu-system-x86_64",
    "-machine",
    "pc-i440fx-7.2,usb=off,dump-guest-core=off",
    "-m",
    "size=131072k",
    "-device",
    "{\"driver\":\"virtio-blk-pci\",\"drive\":\"vda-format\",\"id\":\"disk-vda\",\"bus\":\"pci.0\","
    "\"addr\":\"0x4\"}",
    "-device",
    "{\"driver\":\"virtio-net-pci\",\"netdev\":\"hostnet0\",\"id\":\"net0\",\"bus\":\"pci.0\","
    "\"addr\":\"0x3\"}",
    NULL};

static void
test_head(void)
{
    g_autoptr(GByteArray) s =
        stream("pc-i440fx-7.2", 128ull << 20, "0000:00:03.0/virtio-net-pci.rom", FALSE);
    g_autoptr(GError) e = NULL;
    g_autoptr(VdVmstateHead) h = vd_vmstate_head_parse(s->data, s->len, &e);
    g_assert_no_error(e);
    g_assert_cmpstr(h->machine, ==, "pc-i440fx-7.2");
    g_assert_cmpuint(h->blocks->len, ==, 3);
    VdVmstateRamBlock *b = g_ptr_array_index(h->blocks, 2);
    g_assert_cmpstr(b->idstr, ==, "0000:00:03.0/virtio-net-pci.rom");
    g_assert_cmpuint(b->size, ==, 0x40000);

    g_autoptr(GPtrArray) argv = argv_of(ARGV);
    g_assert_true(vd_vmstate_head_matches(h, argv, &e));
    g_assert_no_error(e);

    /* Cut short: what was read is kept, nothing invented. */
    g_autoptr(VdVmstateHead) cut = vd_vmstate_head_parse(s->data, 40, &e);
    g_assert_no_error(e);
    g_assert_cmpuint(cut->blocks->len, ==, 0);
    g_assert_true(vd_vmstate_head_matches(cut, argv, &e));

    /* Not a stream at all. */
    guint8 junk[16] = {0};
    g_assert_null(vd_vmstate_head_parse(junk, sizeof(junk), &e));
    g_assert_error(e, VD_ERROR, VD_ERROR_OPERATION_FAILED);
}

static void
refused(GByteArray *s, const char *const *args, const char *message)
{
    g_autoptr(GError) e = NULL;
    g_autoptr(VdVmstateHead) h = vd_vmstate_head_parse(s->data, s->len, &e);
    g_assert_no_error(e);
    g_autoptr(GPtrArray) argv = argv_of(args);
    g_assert_false(vd_vmstate_head_matches(h, argv, &e));
    g_assert_error(e, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    g_assert_cmpstr(e->message, ==, message);
}

static void
test_mismatch(void)
{
    g_autoptr(GByteArray) other_machine =
        stream("pc-i440fx-7.1", 128ull << 20, "0000:00:03.0/virtio-net-pci.rom", FALSE);
    refused(other_machine, ARGV,
            "the saved state is of machine type 'pc-i440fx-7.1', the snapshot's definition has "
            "'pc-i440fx-7.2'");
    g_autoptr(GByteArray) more_ram =
        stream("pc-i440fx-7.2", 256ull << 20, "0000:00:03.0/virtio-net-pci.rom", FALSE);
    refused(more_ram, ARGV,
            "the saved state has 262144 KiB of base memory, the snapshot's definition 131072 KiB");
    g_autoptr(GByteArray) nic_moved =
        stream("pc-i440fx-7.2", 128ull << 20, "0000:00:05.0/virtio-net-pci.rom", FALSE);
    refused(nic_moved, ARGV,
            "the saved state has a virtio-net-pci in PCI slot 00:05.0, the snapshot's "
            "definition puts it in slot 0x3");
    g_autoptr(GByteArray) nic_over_disk =
        stream("pc-i440fx-7.2", 128ull << 20, "0000:00:04.0/virtio-net-pci.rom", FALSE);
    refused(nic_over_disk, ARGV,
            "the saved state has a virtio-net-pci in PCI slot 00:04.0, where the snapshot's "
            "definition puts a virtio-blk-pci");
    g_autoptr(GByteArray) vmem =
        stream("pc-i440fx-7.2", 128ull << 20, "0000:00:03.0/virtio-net-pci.rom", TRUE);
    refused(vmem, ARGV,
            "the saved state has memory device 'virtiomem0' (262144 KiB), the snapshot's "
            "definition does not");

    /* An alias on the command line is QEMU's to resolve; a ROM of a device
     * the machine adds itself (not on argv) is not judged. */
    static const char *const alias[] = {"qemu", "-machine", "pc", "-m", "size=131072k", NULL};
    g_autoptr(GError) e = NULL;
    g_autoptr(VdVmstateHead) h = vd_vmstate_head_parse(other_machine->data, other_machine->len, &e);
    g_autoptr(GPtrArray) argv = argv_of(alias);
    g_assert_true(vd_vmstate_head_matches(h, argv, &e));
    g_assert_no_error(e);
}

/* ---- a qcow2 image with one snapshot and its state --------------------- */

static void
pwrite_all(int fd, const void *p, gsize len, guint64 off)
{
    g_assert_cmpint(pwrite(fd, p, len, (off_t)off), ==, (gssize)len);
}

static void
test_qcow2(void)
{
    g_autoptr(GError) e = NULL;
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("vd-vmstate-XXXXXX.qcow2", &path, &e);
    g_assert_no_error(e);
    const guint64 C = 0x10000; /* cluster_bits 16: one L1 entry spans 512 MiB */
    g_autoptr(GByteArray) s =
        stream("pc-i440fx-7.2", 128ull << 20, "0000:00:03.0/virtio-net-pci.rom", FALSE);

    g_autoptr(GByteArray) h = g_byte_array_new();
    put32(h, 0x514649fb);
    put32(h, 3);
    put64(h, 0); /* backing file */
    put32(h, 0);
    put32(h, 16);      /* cluster bits */
    put64(h, 1 << 20); /* size */
    put32(h, 0);       /* crypt */
    put32(h, 1);       /* l1 size (the active one, unused here) */
    put64(h, 5 * C);
    put64(h, 0); /* refcount table */
    put32(h, 0);
    put32(h, 1); /* nb snapshots */
    put64(h, 4 * C);
    put64(h, 0); /* incompatible features */
    put64(h, 0);
    put64(h, 0);
    put32(h, 4);
    put32(h, 104);
    pwrite_all(fd, h->data, h->len, 0);

    /* The snapshot's L1: entry 1 (the state, past the 1 MiB disk) -> L2. */
    guint64 l1[2] = {0, GUINT64_TO_BE(2 * C | (1ull << 63))};
    pwrite_all(fd, l1, sizeof(l1), C);
    guint64 l2 = GUINT64_TO_BE(3 * C | (1ull << 63));
    pwrite_all(fd, &l2, 8, 2 * C);
    pwrite_all(fd, s->data, s->len, 3 * C);

    g_autoptr(GByteArray) t = g_byte_array_new();
    /* another one first, to be skipped (8-byte padded) */
    put64(t, 0);
    put32(t, 0);
    g_byte_array_append(t, (const guint8 *)"\0\1\0\3", 4); /* id 1 byte, name 3 */
    put32(t, 0);
    put32(t, 0);
    put64(t, 0);
    put32(t, 0);
    put32(t, 0);
    g_byte_array_append(t, (const guint8 *)"1old", 4);
    while (t->len % 8)
        put8(t, 0);
    put64(t, C);
    put32(t, 2);
    g_byte_array_append(t, (const guint8 *)"\0\1\0\2", 4);
    put32(t, 0);
    put32(t, 0);
    put64(t, 0);
    put32(t, s->len);
    put32(t, 16);
    put64(t, s->len);
    put64(t, 1 << 20);
    g_byte_array_append(t, (const guint8 *)"2s1", 3);
    pwrite_all(fd, t->data, t->len, 4 * C);
    /* the header said 1 snapshot: say 2 */
    guint32 two = GUINT32_TO_BE(2);
    pwrite_all(fd, &two, 4, 60);

    g_autoptr(VdQcow2Snapshot) none = vd_qcow2_snapshot_find(fd, path, "s2", &e);
    g_assert_null(none);
    g_assert_error(e, VD_ERROR, VD_ERROR_OPERATION_FAILED);
    g_assert_nonnull(strstr(e->message, "has no internal snapshot 's2'"));
    g_clear_error(&e);

    g_autoptr(VdQcow2Snapshot) snap = vd_qcow2_snapshot_find(fd, path, "s1", &e);
    g_assert_no_error(e);
    g_assert_cmpuint(snap->vm_state_size, ==, s->len);
    g_autoptr(GBytes) bytes = vd_qcow2_vmstate_read(fd, path, snap, 4096, &e);
    g_assert_no_error(e);
    gsize len;
    const guint8 *data = g_bytes_get_data(bytes, &len);
    g_assert_cmpuint(len, ==, s->len);
    g_assert_cmpmem(data, len, s->data, s->len);
    close(fd);
    unlink(path);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu/vmstate/head", test_head);
    g_test_add_func("/qemu/vmstate/mismatch", test_mismatch);
    g_test_add_func("/qemu/vmstate/qcow2", test_qcow2);
    return g_test_run();
}
