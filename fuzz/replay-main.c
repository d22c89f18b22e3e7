/* A fuzz target without libFuzzer: feeds it each file of the directories
 * (or the files) given, in name order, once. Built in every build and run
 * as a unit test on the target's committed corpus (fuzz/corpus/TARGET),
 * so each input there, every crash found included, is a regression test.
 * Reproducing a crash from a plain build: fuzz-replay-TARGET FILE. */
#include <errno.h>

#include "fuzz-common.h"

static gboolean
replay_file(const char *path, guint *count)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) error = NULL;

    if (!g_file_get_contents(path, &data, &len, &error)) {
        fprintf(stderr, "replay: %s\n", error->message);
        return FALSE;
    }
    /* A copy of exactly @len bytes, so ASan sees a read past the end. */
    g_autofree uint8_t *copy = g_memdup2(data, len ? len : 1);
    LLVMFuzzerTestOneInput(copy, len);
    (*count)++;
    return TRUE;
}

static int
compare_paths(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static gboolean
replay_dir(const char *dir, guint *count)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &error);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    if (!d) {
        fprintf(stderr, "replay: %s\n", error->message);
        return FALSE;
    }
    while ((name = g_dir_read_name(d)))
        g_ptr_array_add(names, g_build_filename(dir, name, NULL));
    g_ptr_array_sort(names, compare_paths);
    for (guint i = 0; i < names->len; i++) {
        const char *path = g_ptr_array_index(names, i);
        if (g_file_test(path, G_FILE_TEST_IS_REGULAR) && !replay_file(path, count))
            return FALSE;
    }
    return TRUE;
}

int
main(int argc, char **argv)
{
    guint count = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        gboolean ok = g_file_test(argv[i], G_FILE_TEST_IS_DIR) ? replay_dir(argv[i], &count)
                                                               : replay_file(argv[i], &count);
        if (!ok)
            return 1;
    }
    /* An empty corpus would make this test pass without testing anything. */
    if (count == 0) {
        fprintf(stderr, "replay: no input found in the corpus given\n");
        return 1;
    }
    printf("%u inputs replayed without a failure\n", count);
    return 0;
}
