/* The memory state of an internal snapshot, read before a revert: see
 * qemu-vmstate.h. The layouts are QEMU's docs/interop/qcow2.txt and
 * migration/savevm.c, ram.c (QEMU 7.2). */
#include "qemu/qemu-vmstate.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "util/vd-error.h"

#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ull
#define QCOW2_COMPRESSED (1ull << 62)
#define QCOW2_ZERO 1ull
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)
#define QCOW2_MAX_SNAPSHOTS 65536

#define VM_MAGIC 0x5145564du /* "QEVM" */
#define VM_SECTION_START 0x01
#define VM_SUBSECTION 0x05
#define VM_CONFIGURATION 0x07
#define RAM_FLAG_MEM_SIZE 0x04

void
vd_qcow2_snapshot_free(VdQcow2Snapshot *s)
{
    if (!s)
        return;
    g_free(s->name);
    g_free(s);
}

static gboolean
read_at(int fd, const char *path, guint64 off, void *buf, gsize len, GError **error)
{
    gsize done = 0;
    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                                "cannot read image '%s' at offset %" G_GUINT64_FORMAT ": %s", path,
                                off + done, n < 0 ? g_strerror(errno) : "it ends there");
        done += (gsize)n;
    }
    return TRUE;
}

static guint64
be64_at(const guint8 *p)
{
    guint64 v;
    memcpy(&v, p, 8);
    return GUINT64_FROM_BE(v);
}

static guint32
be32_at(const guint8 *p)
{
    guint32 v;
    memcpy(&v, p, 4);
    return GUINT32_FROM_BE(v);
}

static guint16
be16_at(const guint8 *p)
{
    guint16 v;
    memcpy(&v, p, 2);
    return GUINT16_FROM_BE(v);
}

VdQcow2Snapshot *
vd_qcow2_snapshot_find(int fd, const char *path, const char *tag, GError **error)
{
    guint8 h[104] = {0};
    if (!read_at(fd, path, 0, h, 72, error))
        return NULL;
    guint32 version = be32_at(h + 4);
    if (be32_at(h) != QCOW2_MAGIC || version < 2) {
        vd_set_error(error, VD_ERROR_OPERATION_FAILED, "image '%s' is not a qcow2 image", path);
        return NULL;
    }
    if (version >= 3) {
        if (!read_at(fd, path, 72, h + 72, 32, error))
            return NULL;
        if (be64_at(h + 72) & (QCOW2_INCOMPAT_DATA_FILE | QCOW2_INCOMPAT_EXTL2)) {
            /* Not refused: just not read here (QEMU's load will tell). */
            vd_set_error(error, VD_ERROR_UNSUPPORTED,
                         "image '%s' has an external data file or extended L2 entries", path);
            return NULL;
        }
    }
    guint cluster_bits = be32_at(h + 20);
    guint64 disk_size = be64_at(h + 24);
    guint32 nb = be32_at(h + 60);
    guint64 off = be64_at(h + 64);
    if (cluster_bits < 9 || cluster_bits > 21 || nb > QCOW2_MAX_SNAPSHOTS) {
        vd_set_error(error, VD_ERROR_OPERATION_FAILED, "image '%s' has a damaged qcow2 header",
                     path);
        return NULL;
    }
    for (guint32 i = 0; i < nb; i++) {
        guint8 e[40];
        if (!read_at(fd, path, off, e, sizeof(e), error))
            return NULL;
        guint32 id_len = be16_at(e + 12), name_len = be16_at(e + 14);
        guint32 extra_len = be32_at(e + 36);
        if (extra_len > 1024) {
            vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                         "image '%s' has a damaged table of snapshots", path);
            return NULL;
        }
        g_autofree guint8 *rest = g_malloc0(extra_len + id_len + name_len + 1);
        if (!read_at(fd, path, off + 40, rest, extra_len + id_len + name_len, error))
            return NULL;
        const char *name = (const char *)rest + extra_len + id_len;
        if (name_len == strlen(tag) && memcmp(name, tag, name_len) == 0) {
            VdQcow2Snapshot *s = g_new0(VdQcow2Snapshot, 1);
            s->name = g_strdup(tag);
            s->l1_table_offset = be64_at(e);
            s->l1_size = be32_at(e + 8);
            s->vm_state_size = be32_at(e + 32);
            if (extra_len >= 8 && be64_at(rest))
                s->vm_state_size = be64_at(rest);
            /* Older snapshots have no size of their own: the image's. */
            s->disk_size = extra_len >= 16 ? be64_at(rest + 8) : disk_size;
            s->cluster_bits = cluster_bits;
            return s;
        }
        off += (40 + extra_len + id_len + name_len + 7) & ~7ull;
    }
    vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                 "image '%s' has no internal snapshot '%s' (deleted outside virtd, e.g. with "
                 "qemu-img snapshot -d?)",
                 path, tag);
    return NULL;
}

GBytes *
vd_qcow2_vmstate_read(int fd, const char *path, const VdQcow2Snapshot *snap, gsize len,
                      GError **error)
{
    /* The state lies past the disk, from the first L1 entry after it
     * (qcow2_vm_state_offset), in clusters of the snapshot's L1 table. */
    guint cb = snap->cluster_bits, l2_bits = cb - 3;
    guint64 cluster = 1ull << cb, span = cluster << l2_bits;
    guint64 start = (snap->disk_size + span - 1) / span * span;
    len = (gsize)MIN((guint64)len, snap->vm_state_size);
    g_autofree guint8 *buf = g_malloc0(MAX(len, 1));

    for (gsize pos = 0; pos < len;) {
        guint64 v = start + pos;
        guint64 l1_index = v >> (cb + l2_bits);
        guint64 in_cluster = v & (cluster - 1);
        gsize chunk = (gsize)MIN(cluster - in_cluster, (guint64)(len - pos));
        guint8 e[8];
        if (l1_index >= snap->l1_size) {
            vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                         "the memory state of snapshot '%s' in image '%s' is cut short", snap->name,
                         path);
            return NULL;
        }
        if (!read_at(fd, path, snap->l1_table_offset + l1_index * 8, e, 8, error))
            return NULL;
        guint64 l2 = be64_at(e) & QCOW2_OFFSET_MASK;
        guint64 data = 0;
        if (l2) {
            guint64 l2_index = (v >> cb) & ((1ull << l2_bits) - 1);
            if (!read_at(fd, path, l2 + l2_index * 8, e, 8, error))
                return NULL;
            guint64 entry = be64_at(e);
            if (entry & QCOW2_COMPRESSED) {
                vd_set_error(error, VD_ERROR_UNSUPPORTED,
                             "the memory state of snapshot '%s' in image '%s' is compressed",
                             snap->name, path);
                return NULL;
            }
            if (!(entry & QCOW2_ZERO))
                data = entry & QCOW2_OFFSET_MASK;
        }
        /* An unallocated or zero cluster reads as zeros. */
        if (data && !read_at(fd, path, data + in_cluster, buf + pos, chunk, error))
            return NULL;
        pos += chunk;
    }
    return g_bytes_new_take(g_steal_pointer(&buf), len);
}

/* ---- the stream's head ------------------------------------------------ */

void
vd_vmstate_head_free(VdVmstateHead *h)
{
    if (!h)
        return;
    g_free(h->machine);
    g_ptr_array_unref(h->blocks);
    g_free(h);
}

static void
ram_block_free(gpointer p)
{
    VdVmstateRamBlock *b = p;
    g_free(b->idstr);
    g_free(b);
}

typedef struct {
    const guint8 *p;
    gsize left;
    gboolean short_read; /* the buffer ended: what follows is unknown */
} Cursor;

static gboolean
take(Cursor *c, gsize n, const guint8 **out)
{
    if (c->left < n) {
        c->short_read = TRUE;
        return FALSE;
    }
    *out = c->p;
    c->p += n;
    c->left -= n;
    return TRUE;
}

static gboolean
u8(Cursor *c, guint *v)
{
    const guint8 *p;
    if (!take(c, 1, &p))
        return FALSE;
    *v = p[0];
    return TRUE;
}

static gboolean
u32(Cursor *c, guint32 *v)
{
    const guint8 *p;
    if (!take(c, 4, &p))
        return FALSE;
    *v = be32_at(p);
    return TRUE;
}

static gboolean
u64(Cursor *c, guint64 *v)
{
    const guint8 *p;
    if (!take(c, 8, &p))
        return FALSE;
    *v = be64_at(p);
    return TRUE;
}

/* A byte-counted string (QEMU's idstr). */
static char *
idstr(Cursor *c)
{
    guint n;
    const guint8 *p;
    if (!u8(c, &n) || !take(c, n, &p))
        return NULL;
    return g_strndup((const char *)p, n);
}

/* The configuration section's subsections (QEMU 7.2's vmstate_configuration):
 * FALSE when one is not known (its length is not written). */
static gboolean
skip_config_subsections(Cursor *c)
{
    while (c->left && c->p[0] == VM_SUBSECTION) {
        guint tag;
        guint32 version, n;
        const guint8 *p;
        u8(c, &tag);
        g_autofree char *name = idstr(c);
        if (!name || !u32(c, &version))
            return FALSE;
        if (g_str_equal(name, "configuration/target-page-bits")) {
            if (!u32(c, &n))
                return FALSE;
        } else if (g_str_equal(name, "configuration/uuid")) {
            if (!take(c, 16, &p))
                return FALSE;
        } else if (g_str_equal(name, "configuration/capabilities")) {
            if (!u32(c, &n) || n > 64)
                return FALSE;
            for (guint32 i = 0; i < n; i++) {
                g_autofree char *cap = idstr(c);
                if (!cap)
                    return FALSE;
            }
        } else {
            return FALSE;
        }
    }
    return TRUE;
}

VdVmstateHead *
vd_vmstate_head_parse(const guint8 *buf, gsize len, GError **error)
{
    Cursor c = {buf, len, FALSE};
    guint32 magic = 0, version = 0;
    if (!u32(&c, &magic) || !u32(&c, &version) || magic != VM_MAGIC || version != 3) {
        vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                     "it does not begin as a QEMU memory state (magic 0x%08x, version %u)", magic,
                     version);
        return NULL;
    }
    g_autoptr(VdVmstateHead) h = g_new0(VdVmstateHead, 1);
    h->blocks = g_ptr_array_new_with_free_func(ram_block_free);
    guint kind;
    if (c.left && c.p[0] == VM_CONFIGURATION) {
        guint32 n;
        const guint8 *p;
        u8(&c, &kind);
        if (!u32(&c, &n) || n > 256 || !take(&c, n, &p))
            return g_steal_pointer(&h);
        h->machine = g_strndup((const char *)p, n);
        if (!skip_config_subsections(&c))
            return g_steal_pointer(&h);
    }
    /* The first section is RAM's set-up: the total, then each block. */
    guint32 section, instance;
    if (!u8(&c, &kind) || kind != VM_SECTION_START || !u32(&c, &section))
        return g_steal_pointer(&h);
    g_autofree char *name = idstr(&c);
    guint64 total;
    if (!name || !g_str_equal(name, "ram") || !u32(&c, &instance) || !u32(&c, &version) ||
        !u64(&c, &total) || !(total & RAM_FLAG_MEM_SIZE))
        return g_steal_pointer(&h);
    total &= ~(guint64)0xfff;
    g_autoptr(GPtrArray) blocks = g_ptr_array_new_with_free_func(ram_block_free);
    while (total > 0 && blocks->len < 4096) {
        g_autofree char *id = idstr(&c);
        guint64 size;
        if (!id || !u64(&c, &size) || size > total)
            return g_steal_pointer(&h); /* postcopy or ignore-shared extras: not followed */
        VdVmstateRamBlock *b = g_new0(VdVmstateRamBlock, 1);
        b->idstr = g_steal_pointer(&id);
        b->size = size;
        g_ptr_array_add(blocks, b);
        total -= size;
    }
    if (total == 0) {
        g_ptr_array_unref(h->blocks);
        h->blocks = g_steal_pointer(&blocks);
    }
    return g_steal_pointer(&h);
}

/* ---- against a command line -------------------------------------------- */

/* The machine type of @argv's first -machine with one (its first field). */
static char *
argv_machine(const GPtrArray *argv)
{
    for (guint i = 0; i + 1 < argv->len; i++) {
        const char *a = g_ptr_array_index(argv, i);
        if (!a || !g_str_equal(a, "-machine"))
            continue;
        const char *v = g_ptr_array_index(argv, i + 1);
        if (!v)
            return NULL;
        g_autofree char *first = g_strndup(v, strcspn(v, ","));
        if (g_str_has_prefix(first, "type="))
            return g_strdup(first + 5);
        if (!strchr(first, '='))
            return g_steal_pointer(&first);
    }
    return NULL;
}

/* -m's size in bytes; 0 when not found. */
static guint64
argv_ram(const GPtrArray *argv)
{
    for (guint i = 0; i + 1 < argv->len; i++) {
        const char *a = g_ptr_array_index(argv, i);
        if (!a || !g_str_equal(a, "-m"))
            continue;
        const char *v = g_ptr_array_index(argv, i + 1);
        if (!v)
            return 0;
        if (g_str_has_prefix(v, "size="))
            v += 5;
        char *end = NULL;
        guint64 n = g_ascii_strtoull(v, &end, 10);
        if (end && *end == 'k')
            return n * 1024;
        if (end && *end == 'M')
            return n << 20;
        return 0;
    }
    return 0;
}

/* The JSON objects given to @opt ("-device", "-object"). */
static GPtrArray *
argv_objects(const GPtrArray *argv, const char *opt)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
    for (guint i = 0; i + 1 < argv->len; i++) {
        const char *a = g_ptr_array_index(argv, i);
        const char *v = g_ptr_array_index(argv, i + 1);
        if (!a || !g_str_equal(a, opt) || !v || v[0] != '{')
            continue;
        g_autoptr(JsonParser) p = json_parser_new();
        if (!json_parser_load_from_data(p, v, -1, NULL))
            continue;
        JsonNode *root = json_parser_get_root(p);
        if (JSON_NODE_HOLDS_OBJECT(root))
            g_ptr_array_add(out, json_object_ref(json_node_get_object(root)));
    }
    return out;
}

static const char *
str_member(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
               ? json_node_get_string(n)
               : NULL;
}

/* "0x3", "0x3.0x1" -> slot, function. */
static gboolean
parse_addr(const char *addr, guint *slot, guint *fn)
{
    char *end = NULL;
    *slot = (guint)g_ascii_strtoull(addr, &end, 16);
    *fn = 0;
    if (end == addr)
        return FALSE;
    if (*end == '.')
        *fn = (guint)g_ascii_strtoull(end + 1, &end, 16);
    return *end == '\0';
}

/* A device on the root bus: no "bus", or pci.0 / pcie.0. */
static gboolean
on_root_bus(JsonObject *dev)
{
    const char *bus = str_member(dev, "bus");
    return !bus || g_str_equal(bus, "pci.0") || g_str_equal(bus, "pcie.0");
}

/* A ROM block "0000:00:SS.F/DRIVER.rom" of a device on the root bus: the
 * command line must put DRIVER there. Only a contradiction is refused:
 * another device in that slot, or DRIVER only in other slots (QEMU:
 * "Unknown ramblock"). Devices the machine adds itself are not on argv. */
static gboolean
check_rom(const VdVmstateRamBlock *b, GPtrArray *devices, GError **error)
{
    guint dom, bus, slot, fn;
    char driver[128];
    if (sscanf(b->idstr, "%4x:%2x:%2x.%1x/%127[^/]", &dom, &bus, &slot, &fn, driver) != 5 ||
        dom != 0 || bus != 0 || !g_str_has_suffix(driver, ".rom"))
        return TRUE;
    driver[strlen(driver) - 4] = '\0';
    const char *there = NULL, *elsewhere = NULL;
    for (guint i = 0; i < devices->len; i++) {
        JsonObject *dev = g_ptr_array_index(devices, i);
        const char *drv = str_member(dev, "driver"), *addr = str_member(dev, "addr");
        guint s, f;
        if (!drv || !addr || !on_root_bus(dev) || !parse_addr(addr, &s, &f))
            continue;
        if (s == slot && f == fn)
            there = drv;
        else if (g_str_equal(drv, driver))
            elsewhere = addr;
    }
    if (there && !g_str_equal(there, driver))
        return vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                            "the saved state has a %s in PCI slot 00:%02x.%x, where the "
                            "snapshot's definition puts a %s",
                            driver, slot, fn, there);
    if (!there && elsewhere)
        return vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                            "the saved state has a %s in PCI slot 00:%02x.%x, the snapshot's "
                            "definition puts it in slot %s",
                            driver, slot, fn, elsewhere);
    return TRUE;
}

gboolean
vd_vmstate_head_matches(const VdVmstateHead *head, const GPtrArray *argv, GError **error)
{
    g_autofree char *machine = argv_machine(argv);
    /* QEMU compares its machine's full name; an alias ("pc") on the
     * command line is resolved by QEMU, not here. */
    if (head->machine && machine && strchr(machine, '-') && !g_str_equal(head->machine, machine))
        return vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                            "the saved state is of machine type '%s', the snapshot's definition "
                            "has '%s'",
                            head->machine, machine);
    g_autoptr(GPtrArray) objects = argv_objects(argv, "-object");
    g_autoptr(GPtrArray) devices = argv_objects(argv, "-device");
    guint64 ram = argv_ram(argv);
    for (guint i = 0; i < head->blocks->len; i++) {
        const VdVmstateRamBlock *b = g_ptr_array_index(head->blocks, i);
        if (g_str_equal(b->idstr, "pc.ram")) {
            if (ram && b->size != ram)
                return vd_set_error(
                    error, VD_ERROR_OPERATION_FAILED,
                    "the saved state has %" G_GUINT64_FORMAT
                    " KiB of base memory, the snapshot's definition %" G_GUINT64_FORMAT " KiB",
                    b->size / 1024, ram / 1024);
            continue;
        }
        if (strchr(b->idstr, '/')) {
            if (!check_rom(b, devices, error))
                return FALSE;
            continue;
        }
        /* A memory backend: a memory device's is "mem<alias>"
         * (qemu-hotplug-memory.c). */
        JsonObject *obj = NULL;
        for (guint j = 0; j < objects->len && !obj; j++) {
            const char *id = str_member(g_ptr_array_index(objects, j), "id");
            if (id && g_str_equal(id, b->idstr))
                obj = g_ptr_array_index(objects, j);
        }
        if (!obj) {
            if (g_str_has_prefix(b->idstr, "mem"))
                return vd_set_error(error, VD_ERROR_OPERATION_FAILED,
                                    "the saved state has memory device '%s' (%" G_GUINT64_FORMAT
                                    " KiB), the snapshot's definition does not",
                                    b->idstr + 3, b->size / 1024);
            continue;
        }
        JsonNode *size = json_object_get_member(obj, "size");
        if (size && JSON_NODE_HOLDS_VALUE(size) && json_node_get_value_type(size) == G_TYPE_INT64 &&
            (guint64)json_node_get_int(size) != b->size)
            return vd_set_error(
                error, VD_ERROR_OPERATION_FAILED,
                "the saved state has %" G_GUINT64_FORMAT
                " KiB in memory backend '%s', the snapshot's definition %" G_GINT64_FORMAT " KiB",
                b->size / 1024, b->idstr, json_node_get_int(size) / 1024);
    }
    return TRUE;
}
