/* What the installed QEMU can do, asked from QEMU itself and cached.
 *
 * Why ask QEMU: Debian's build decides which machines, devices and
 * accelerators exist; guessing from the version number is how managers
 * end up passing options a binary does not have. Why cache: starting QEMU
 * for the probe costs ~100 ms and the answer only changes when the binary
 * does, so it is kept as JSON in the cache directory, keyed by the
 * binary's path and checked against its size, mtime and ctime (a package
 * upgrade changes all three).
 *
 * The probe runs `-machine none -qmp stdio` with every command written to
 * stdin up front (QMP answers them in order) and a deadline; nothing here
 * touches the caller's main context.
 */
#include "qemu/qemu-caps.h"

#include <errno.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/vd-error.h"
#include "util/vd-file.h"

#define DEFAULT_PROBE_TIMEOUT_MS 20000
/* Bump when the cached fields change meaning, so old caches are re-probed. */
#define CACHE_FORMAT 2 /* 2: cpu-models */

/* Identifies one build of the binary. */
typedef struct {
    gint64 size;
    gint64 mtime_sec, mtime_nsec;
    gint64 ctime_sec, ctime_nsec;
} BinaryStamp;

VdQemuCaps *
vd_qemu_caps_new(void)
{
    VdQemuCaps *caps = g_new0(VdQemuCaps, 1);
    caps->machines = g_ptr_array_new_with_free_func(g_free);
    caps->devices = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    caps->cpu_models = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return caps;
}

void
vd_qemu_caps_free(VdQemuCaps *caps)
{
    if (!caps)
        return;
    g_free(caps->binary);
    g_free(caps->version);
    g_clear_pointer(&caps->machines, g_ptr_array_unref);
    g_free(caps->default_machine);
    g_clear_pointer(&caps->devices, g_hash_table_unref);
    g_clear_pointer(&caps->cpu_models, g_hash_table_unref);
    g_free(caps);
}

gboolean
vd_qemu_caps_has_machine(const VdQemuCaps *caps, const char *machine)
{
    if (!caps || !caps->machines || !machine)
        return FALSE;
    for (guint i = 0; i < caps->machines->len; i++) {
        if (g_str_equal(g_ptr_array_index(caps->machines, i), machine))
            return TRUE;
    }
    return FALSE;
}

gboolean
vd_qemu_caps_has_device(const VdQemuCaps *caps, const char *driver)
{
    if (!caps || !caps->devices || !driver)
        return FALSE;
    return g_hash_table_contains(caps->devices, driver);
}

static int compare_strings(gconstpointer a, gconstpointer b);

gboolean
vd_qemu_caps_check_cpu_model(const VdQemuCaps *caps, const char *model, gboolean kvm,
                             GError **error)
{
    if (g_str_equal(model, "host") && !kvm) {
        g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                    "CPU model 'host' needs KVM: use <cpu mode='host-passthrough'> with "
                    "<domain type='kvm'>, or a named model");
        return FALSE;
    }
    if (!caps->cpu_models || g_hash_table_size(caps->cpu_models) == 0 ||
        g_hash_table_contains(caps->cpu_models, model))
        return TRUE;
    /* The family is the name up to its first '-' ("Skylake" of
     * "Skylake-Client-IBRS"); versioned names (-v1 ...) are left out. */
    gsize family = strcspn(model, "-");
    guint n = 0;
    g_autofree gpointer *all = g_hash_table_get_keys_as_array(caps->cpu_models, &n);
    qsort(all, n, sizeof(gpointer), compare_strings);
    g_autoptr(GString) close = g_string_new(NULL);
    for (guint i = 0; i < n; i++) {
        const char *m = all[i];
        const char *v = strrchr(m, '-');
        if (v && v[1] == 'v' && g_ascii_isdigit(v[2]))
            continue;
        if (g_ascii_strncasecmp(m, model, family) == 0 && (m[family] == 0 || m[family] == '-'))
            g_string_append_printf(close, "%s%s", close->len ? ", " : "", m);
    }
    g_set_error(error, VD_ERROR, VD_ERROR_UNSUPPORTED,
                "QEMU %u.%u has no CPU model '%s'%s%s%s: `%s -cpu help` lists them all",
                caps->version_major, caps->version_minor, model, close->len ? " (close ones: " : "",
                close->str, close->len ? ")" : "",
                caps->binary ? caps->binary : "qemu-system-x86_64");
    return FALSE;
}

char *
vd_qemu_default_binary(void)
{
    const char *env = g_getenv("VIRTD_QEMU");
    if (env && *env)
        return g_strdup(env);
    return g_find_program_in_path("qemu-system-x86_64");
}

static gboolean
binary_stamp(const char *binary, BinaryStamp *stamp, GError **error)
{
    struct stat st;
    if (stat(binary, &st) < 0) {
        int saved = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "cannot use QEMU binary '%s': %s",
                    binary, g_strerror(saved));
        return FALSE;
    }
    if (!S_ISREG(st.st_mode)) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "cannot use QEMU binary '%s': not a regular file", binary);
        return FALSE;
    }
    stamp->size = st.st_size;
    stamp->mtime_sec = st.st_mtim.tv_sec;
    stamp->mtime_nsec = st.st_mtim.tv_nsec;
    stamp->ctime_sec = st.st_ctim.tv_sec;
    stamp->ctime_nsec = st.st_ctim.tv_nsec;
    return TRUE;
}

static char *
cache_path(const char *cache_dir, const char *binary)
{
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, binary, -1);
    g_autofree char *name = g_strdup_printf("qemu-caps-%.16s.json", sum);
    return g_build_filename(cache_dir, name, NULL);
}

/* ---- JSON <-> caps ------------------------------------------------------ */

static int
compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Member @name: the keys of the string set @set as an array, sorted, so
 * the file is stable and diffable. */
static void
add_sorted_keys(JsonBuilder *b, const char *name, GHashTable *set)
{
    guint n = 0;
    g_autofree gpointer *keys = g_hash_table_get_keys_as_array(set, &n);

    qsort(keys, n, sizeof(gpointer), compare_strings);
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (guint i = 0; i < n; i++)
        json_builder_add_string_value(b, keys[i]);
    json_builder_end_array(b);
}

static char *
caps_to_json(const VdQemuCaps *caps, const BinaryStamp *stamp)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "cache-format");
    json_builder_add_int_value(b, CACHE_FORMAT);
    json_builder_set_member_name(b, "binary");
    json_builder_add_string_value(b, caps->binary);
    json_builder_set_member_name(b, "size");
    json_builder_add_int_value(b, stamp->size);
    json_builder_set_member_name(b, "mtime-sec");
    json_builder_add_int_value(b, stamp->mtime_sec);
    json_builder_set_member_name(b, "mtime-nsec");
    json_builder_add_int_value(b, stamp->mtime_nsec);
    json_builder_set_member_name(b, "ctime-sec");
    json_builder_add_int_value(b, stamp->ctime_sec);
    json_builder_set_member_name(b, "ctime-nsec");
    json_builder_add_int_value(b, stamp->ctime_nsec);
    json_builder_set_member_name(b, "version");
    json_builder_begin_array(b);
    json_builder_add_int_value(b, caps->version_major);
    json_builder_add_int_value(b, caps->version_minor);
    json_builder_add_int_value(b, caps->version_micro);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "default-machine");
    json_builder_add_string_value(b, caps->default_machine);
    json_builder_set_member_name(b, "machines");
    json_builder_begin_array(b);
    for (guint i = 0; i < caps->machines->len; i++)
        json_builder_add_string_value(b, g_ptr_array_index(caps->machines, i));
    json_builder_end_array(b);
    add_sorted_keys(b, "devices", caps->devices);
    add_sorted_keys(b, "cpu-models", caps->cpu_models);
    json_builder_set_member_name(b, "kvm");
    json_builder_add_boolean_value(b, caps->has_kvm_accel);
    json_builder_set_member_name(b, "tcg");
    json_builder_add_boolean_value(b, caps->has_tcg_accel);
    json_builder_end_object(b);

    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    return json_generator_to_data(gen, NULL);
}

static void
caps_set_version(VdQemuCaps *caps, gint64 major, gint64 minor, gint64 micro)
{
    caps->version_major = (guint)major;
    caps->version_minor = (guint)minor;
    caps->version_micro = (guint)micro;
    g_free(caps->version);
    caps->version =
        g_strdup_printf("%u.%u.%u", caps->version_major, caps->version_minor, caps->version_micro);
}

static gboolean
string_array_member(JsonObject *obj, const char *member, GPtrArray *into, GHashTable *set)
{
    JsonNode *node = json_object_get_member(obj, member);
    if (!node || !JSON_NODE_HOLDS_ARRAY(node))
        return FALSE;
    JsonArray *arr = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonNode *el = json_array_get_element(arr, i);
        if (!JSON_NODE_HOLDS_VALUE(el) || json_node_get_value_type(el) != G_TYPE_STRING)
            return FALSE;
        if (into)
            g_ptr_array_add(into, g_strdup(json_node_get_string(el)));
        if (set)
            g_hash_table_add(set, g_strdup(json_node_get_string(el)));
    }
    return TRUE;
}

/* NULL when the cache is missing, unreadable, stale or malformed: all of
 * which just mean "probe again". */
static VdQemuCaps *
caps_load_cache(const char *path, const char *binary, const BinaryStamp *stamp)
{
    g_autofree char *text = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &text, &len, NULL))
        return NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, text, (gssize)len, NULL))
        return NULL;
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return NULL;
    JsonObject *o = json_node_get_object(root);

    if (json_object_get_int_member_with_default(o, "cache-format", -1) != CACHE_FORMAT ||
        g_strcmp0(json_object_get_string_member_with_default(o, "binary", ""), binary) != 0 ||
        json_object_get_int_member_with_default(o, "size", -1) != stamp->size ||
        json_object_get_int_member_with_default(o, "mtime-sec", -1) != stamp->mtime_sec ||
        json_object_get_int_member_with_default(o, "mtime-nsec", -1) != stamp->mtime_nsec ||
        json_object_get_int_member_with_default(o, "ctime-sec", -1) != stamp->ctime_sec ||
        json_object_get_int_member_with_default(o, "ctime-nsec", -1) != stamp->ctime_nsec)
        return NULL;

    g_autoptr(VdQemuCaps) caps = vd_qemu_caps_new();
    caps->binary = g_strdup(binary);
    JsonNode *ver = json_object_get_member(o, "version");
    if (!ver || !JSON_NODE_HOLDS_ARRAY(ver) || json_array_get_length(json_node_get_array(ver)) != 3)
        return NULL;
    JsonArray *va = json_node_get_array(ver);
    caps_set_version(caps, json_array_get_int_element(va, 0), json_array_get_int_element(va, 1),
                     json_array_get_int_element(va, 2));
    const char *def = json_object_get_string_member_with_default(o, "default-machine", NULL);
    caps->default_machine = g_strdup(def);
    if (!string_array_member(o, "machines", caps->machines, NULL) ||
        !string_array_member(o, "devices", NULL, caps->devices) ||
        !string_array_member(o, "cpu-models", NULL, caps->cpu_models))
        return NULL;
    caps->has_kvm_accel = json_object_get_boolean_member_with_default(o, "kvm", FALSE);
    caps->has_tcg_accel = json_object_get_boolean_member_with_default(o, "tcg", FALSE);
    return g_steal_pointer(&caps);
}

/* ---- running the probe ---------------------------------------------------- */

typedef struct {
    gboolean done;
    gboolean timed_out;
    GBytes *out;
    GBytes *err;
    GError *error;
    GCancellable *cancellable;
    GSubprocess *proc;
} ProbeRun;

static void
probe_communicated(GObject *source, GAsyncResult *res, gpointer data)
{
    ProbeRun *run = data;
    g_subprocess_communicate_finish(G_SUBPROCESS(source), res, &run->out, &run->err, &run->error);
    run->done = TRUE;
}

static gboolean
probe_timeout(gpointer data)
{
    ProbeRun *run = data;
    run->timed_out = TRUE;
    g_subprocess_force_exit(run->proc);
    g_cancellable_cancel(run->cancellable);
    return G_SOURCE_REMOVE;
}

/* @data in a sealed-off memory file, as a child's stdin: unlike a pipe,
 * a child that exits without reading cannot raise SIGPIPE in the caller. */
static int
input_fd(const char *data, gsize len, GError **error)
{
    int fd = memfd_create("virtd-qemu-probe", MFD_CLOEXEC);
    gsize done = 0;
    while (fd >= 0 && done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            fd = -1;
            break;
        }
        done += (gsize)n;
    }
    if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot prepare the QEMU probe: %s",
                    g_strerror(saved));
        return -1;
    }
    return fd;
}

/* Runs @argv with @input on stdin in a private main context, so it works
 * from any thread without touching the caller's loop. */
static gboolean
probe_spawn(const char *const *argv, GBytes *input, guint timeout_ms, GBytes **out, GError **error)
{
    gsize len = 0;
    const char *data = g_bytes_get_data(input, &len);
    int fd = input_fd(data, len, error);
    if (fd < 0)
        return FALSE;
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_subprocess_launcher_take_stdin_fd(launcher, fd);
    g_subprocess_launcher_setenv(launcher, "LC_ALL", "C", TRUE);

    g_autoptr(GMainContext) ctx = g_main_context_new();
    g_main_context_push_thread_default(ctx);

    ProbeRun run = {0};
    g_autoptr(GError) spawn_error = NULL;
    run.proc = g_subprocess_launcher_spawnv(launcher, argv, &spawn_error);
    if (!run.proc) {
        g_main_context_pop_thread_default(ctx);
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "cannot run QEMU binary '%s': %s",
                    argv[0], spawn_error->message);
        return FALSE;
    }
    run.cancellable = g_cancellable_new();
    g_subprocess_communicate_async(run.proc, NULL, run.cancellable, probe_communicated, &run);
    GSource *timer = g_timeout_source_new(timeout_ms);
    g_source_set_callback(timer, probe_timeout, &run, NULL);
    g_source_attach(timer, ctx);
    while (!run.done)
        g_main_context_iteration(ctx, TRUE);
    g_source_destroy(timer);
    g_source_unref(timer);

    /* communicate waits for the exit, unless it failed or was cancelled
     * by the deadline: then kill and reap here. */
    if (run.error) {
        g_subprocess_force_exit(run.proc);
        g_subprocess_wait(run.proc, NULL, NULL);
    }
    g_main_context_pop_thread_default(ctx);

    gboolean ok = FALSE;
    if (run.timed_out) {
        g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT,
                    "QEMU binary '%s' did not answer the capabilities probe within %.1f s", argv[0],
                    timeout_ms / 1000.0);
    } else if (run.error) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "cannot probe QEMU binary '%s': %s",
                    argv[0], run.error->message);
    } else if (!g_subprocess_get_successful(run.proc)) {
        gsize elen = 0;
        const char *etext = run.err ? g_bytes_get_data(run.err, &elen) : NULL;
        g_autofree char *msg = g_strstrip(g_strndup(etext ? etext : "", elen));
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "QEMU binary '%s' failed the capabilities probe%s%s", argv[0], *msg ? ": " : "",
                    msg);
    } else {
        *out = g_bytes_ref(run.out);
        ok = TRUE;
    }
    g_clear_pointer(&run.out, g_bytes_unref);
    g_clear_pointer(&run.err, g_bytes_unref);
    g_clear_error(&run.error);
    g_clear_object(&run.cancellable);
    g_clear_object(&run.proc);
    return ok;
}

static void
add_command(GString *script, const char *id, const char *command, JsonNode *arguments)
{
    g_autoptr(JsonObject) o = json_object_new();
    json_object_set_string_member(o, "execute", command);
    if (arguments)
        json_object_set_member(o, "arguments", arguments);
    json_object_set_string_member(o, "id", id);
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), o);
    g_autofree char *text = json_to_string(node, FALSE);
    g_string_append(script, text);
    g_string_append_c(script, '\n');
}

static JsonNode *
list_types_args(const char *implements)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "implements", implements);
    json_object_set_boolean_member(o, "abstract", FALSE);
    JsonNode *node = json_node_alloc();
    json_node_take_object(json_node_init(node, JSON_NODE_OBJECT), o);
    return node;
}

/* json_object_get_object_member() is loud about missing members. */
static JsonObject *
object_member(JsonObject *o, const char *name)
{
    JsonNode *node = json_object_get_member(o, name);
    return node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

/* Fills @caps from the reply to the command @id. */
static gboolean
caps_apply_reply(VdQemuCaps *caps, const char *id, JsonNode *ret)
{
    if (g_str_equal(id, "version")) {
        if (!JSON_NODE_HOLDS_OBJECT(ret))
            return FALSE;
        JsonObject *q = object_member(json_node_get_object(ret), "qemu");
        if (!q)
            return FALSE;
        caps_set_version(caps, json_object_get_int_member_with_default(q, "major", 0),
                         json_object_get_int_member_with_default(q, "minor", 0),
                         json_object_get_int_member_with_default(q, "micro", 0));
        return TRUE;
    }
    if (!JSON_NODE_HOLDS_ARRAY(ret))
        return g_str_equal(id, "capabilities") || g_str_equal(id, "quit");
    JsonArray *arr = json_node_get_array(ret);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *el = json_array_get_object_element(arr, i);
        const char *name = el ? json_object_get_string_member_with_default(el, "name", NULL) : NULL;
        if (!name)
            continue;
        if (g_str_equal(id, "machines")) {
            const char *alias = json_object_get_string_member_with_default(el, "alias", NULL);
            g_ptr_array_add(caps->machines, g_strdup(name));
            if (alias)
                g_ptr_array_add(caps->machines, g_strdup(alias));
            if (json_object_get_boolean_member_with_default(el, "is-default", FALSE)) {
                g_free(caps->default_machine);
                caps->default_machine = g_strdup(alias ? alias : name);
            }
        } else if (g_str_equal(id, "cpus")) {
            const char *alias = json_object_get_string_member_with_default(el, "alias-of", NULL);
            g_hash_table_add(caps->cpu_models, g_strdup(name));
            if (alias)
                g_hash_table_add(caps->cpu_models, g_strdup(alias));
        } else if (g_str_equal(id, "devices")) {
            g_hash_table_add(caps->devices, g_strdup(name));
        } else if (g_str_equal(id, "accels")) {
            if (g_str_equal(name, "kvm-accel"))
                caps->has_kvm_accel = TRUE;
            else if (g_str_equal(name, "tcg-accel"))
                caps->has_tcg_accel = TRUE;
        }
    }
    return TRUE;
}

static VdQemuCaps *
caps_probe(const char *binary, guint timeout_ms, GError **error)
{
    /* Accelerators: the QOM classes implementing "accel" are exactly what
     * `-accel help` prints, without a second process. query-kvm would
     * only describe the "none" machine. */
    g_autoptr(GString) script = g_string_new(NULL);
    add_command(script, "capabilities", "qmp_capabilities", NULL);
    add_command(script, "version", "query-version", NULL);
    add_command(script, "machines", "query-machines", NULL);
    add_command(script, "devices", "qom-list-types", list_types_args("device"));
    add_command(script, "accels", "qom-list-types", list_types_args("accel"));
    add_command(script, "cpus", "query-cpu-definitions", NULL);
    add_command(script, "quit", "quit", NULL);

    const char *argv[] = {binary,     "-machine", "none", "-nodefaults", "-no-user-config",
                          "-display", "none",     "-S",   "-qmp",        "stdio",
                          NULL};
    g_autoptr(GBytes) input = g_bytes_new(script->str, script->len);
    g_autoptr(GBytes) out = NULL;
    if (!probe_spawn(argv, input, timeout_ms, &out, error))
        return NULL;

    g_autoptr(VdQemuCaps) caps = vd_qemu_caps_new();
    caps->binary = g_strdup(binary);
    gsize len = 0;
    const char *data = g_bytes_get_data(out, &len);
    g_autofree char *text = g_strndup(data ? data : "", len);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    guint answered = 0;
    for (guint i = 0; lines[i]; i++) {
        const char *line = g_strstrip(lines[i]);
        if (!*line)
            continue;
        g_autoptr(JsonParser) parser = json_parser_new();
        if (!json_parser_load_from_data(parser, line, -1, NULL))
            continue;
        JsonNode *root = json_parser_get_root(parser);
        if (!root || !JSON_NODE_HOLDS_OBJECT(root))
            continue;
        JsonObject *msg = json_node_get_object(root);
        const char *id = json_object_get_string_member_with_default(msg, "id", NULL);
        if (!id)
            continue; /* greeting, events */
        if (json_object_has_member(msg, "error")) {
            JsonObject *err = object_member(msg, "error");
            g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "QEMU binary '%s' failed the capabilities probe: %s: %s", binary, id,
                        err ? json_object_get_string_member_with_default(err, "desc", "?") : "?");
            return NULL;
        }
        JsonNode *ret = json_object_get_member(msg, "return");
        if (!ret || !caps_apply_reply(caps, id, ret)) {
            g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                        "QEMU binary '%s' gave an unexpected answer to '%s'", binary, id);
            return NULL;
        }
        answered++;
    }
    if (answered < 5 || !caps->version || caps->machines->len == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "'%s' does not look like QEMU: it did not answer the QMP capabilities probe",
                    binary);
        return NULL;
    }
    g_ptr_array_sort(caps->machines, compare_strings);
    return g_steal_pointer(&caps);
}

VdQemuCaps *
vd_qemu_caps_get(const char *binary, const char *cache_dir, GError **error)
{
    return vd_qemu_caps_get_with_timeout(binary, cache_dir, DEFAULT_PROBE_TIMEOUT_MS, error);
}

VdQemuCaps *
vd_qemu_caps_get_with_timeout(const char *binary, const char *cache_dir, guint timeout_ms,
                              GError **error)
{
    g_autofree char *path = NULL;
    if (!binary || !*binary) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED, "no QEMU binary given");
        return NULL;
    }
    if (g_path_is_absolute(binary))
        path = g_strdup(binary);
    else if (!(path = g_find_program_in_path(binary))) {
        g_set_error(error, VD_ERROR, VD_ERROR_OPERATION_FAILED,
                    "cannot find QEMU binary '%s' in PATH", binary);
        return NULL;
    }

    BinaryStamp stamp;
    if (!binary_stamp(path, &stamp, error))
        return NULL;

    g_autofree char *cache = cache_dir ? cache_path(cache_dir, path) : NULL;
    if (cache) {
        VdQemuCaps *cached = caps_load_cache(cache, path, &stamp);
        if (cached)
            return cached;
    }

    g_autoptr(VdQemuCaps) caps = caps_probe(path, timeout_ms, error);
    if (!caps)
        return NULL;

    if (cache) {
        /* A cache that cannot be written costs a probe next time, nothing
         * more; the caller still gets its answer. */
        g_autofree char *json = caps_to_json(caps, &stamp);
        g_autoptr(GError) local = NULL;
        if (!vd_dir_ensure(cache_dir, 0755, &local) ||
            !vd_file_write_atomic(cache, json, -1, 0644, &local))
            g_warning("QEMU capabilities not cached: %s", local->message);
    }
    return g_steal_pointer(&caps);
}
