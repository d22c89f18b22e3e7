/* virtd-install-media LOCATION OUTPUT_DIR: the installer's kernel and
 * initrd of an install tree or ISO image, for the daemon's
 * POST /v1/install-media (src/daemon/api/api-images.c).
 *
 * An ISO a client names is untrusted input parsed by libarchive: doing it
 * here keeps the parser out of the daemon's address space (and libarchive,
 * libnettle, libacl, libbz2 out of every daemon's memory). The daemon runs
 * this with a time limit and kills it at its exit.
 *
 * A tree's files are named where they are; an ISO's are copied into
 * OUTPUT_DIR as "vmlinuz" and "initrd". On success one JSON object on
 * stdout: {"kernel": PATH, "initrd": PATH, "copied": BOOL}. On failure the
 * error (naming the thing and the fix) on stderr, exit status 2 when the
 * location is at fault (VD_ERROR_INVALID_ARG), 1 otherwise. */
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "util/vd-error.h"
#include "image/vd-install-tree.h"

#define EXIT_BAD_LOCATION 2

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *kernel = NULL, *initrd = NULL;
    g_autoptr(JsonBuilder) b = NULL;
    g_autoptr(JsonGenerator) gen = NULL;
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *out = NULL;
    gboolean copied = FALSE;

    if (argc != 3 || !g_path_is_absolute(argv[1]) || !g_path_is_absolute(argv[2])) {
        fprintf(stderr, "usage: virtd-install-media LOCATION OUTPUT_DIR (absolute paths: an "
                        "install tree or ISO image, and the directory an ISO's kernel and "
                        "initrd are copied into)\n");
        return EXIT_BAD_LOCATION;
    }
    if (g_file_test(argv[1], G_FILE_TEST_IS_DIR)) {
        if (!vd_install_tree_find_dir(argv[1], &kernel, &initrd, &error))
            goto fail;
    } else if (g_file_test(argv[1], G_FILE_TEST_IS_REGULAR)) {
        if (!vd_install_tree_extract_iso(argv[1], argv[2], &kernel, &initrd, &error))
            goto fail;
        copied = TRUE;
    } else {
        g_set_error(&error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "install location '%s' is neither a directory (an install tree) nor an ISO "
                    "image file",
                    argv[1]);
        goto fail;
    }

    b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "kernel");
    json_builder_add_string_value(b, kernel);
    json_builder_set_member_name(b, "initrd");
    json_builder_add_string_value(b, initrd);
    json_builder_set_member_name(b, "copied");
    json_builder_add_boolean_value(b, copied);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    gen = json_generator_new();
    json_generator_set_root(gen, root);
    out = json_generator_to_data(gen, NULL);
    printf("%s\n", out);
    return fflush(stdout) == 0 ? 0 : 1;

fail:
    fprintf(stderr, "%s\n", error->message);
    return g_error_matches(error, VD_ERROR, VD_ERROR_INVALID_ARG) ? EXIT_BAD_LOCATION : 1;
}
