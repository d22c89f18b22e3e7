/* The bzImage reader (qemu/kernel-image.c): a kernel image named by a
 * definition (<kernel>), its setup header, compressed payload (gzip, xz,
 * lzma, zstd, lz4) and the vmlinux ELF's notes. Whatever is extracted is
 * an ELF with the PVH note. The output cap is 16 MiB here (512 MiB in the
 * daemon): the same code, within the fuzzer's memory. */
#include "fuzz-common.h"

#include "qemu/kernel-image.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GByteArray) elf = NULL;
    g_autofree char *why = NULL;
    VdKernelExtractResult r = vd_kernel_vmlinux_from_image(data, size, 16u << 20, &elf, &why);

    if (r == VD_KERNEL_EXTRACTED) {
        FUZZ_ASSERT(elf && elf->len <= (16u << 20) + (8u << 20), "an oversized vmlinux");
        FUZZ_ASSERT(vd_elf_has_pvh_note(elf->data, elf->len), "extracted without a PVH note");
    } else {
        FUZZ_ASSERT(!elf && why && *why, "not extracted, without a reason");
    }
    /* The input itself as a vmlinux (a kernel given uncompressed). */
    (void)vd_elf_has_pvh_note(data, size);
    return 0;
}
