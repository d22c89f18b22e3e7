/* vsh image build: virt-builder's job (docs/images.md). Split in the pure
 * parts that tests/vsh/test-vsh-image.c reaches directly and the command:
 *
 *   vsh-image-opts.c  checks of the arguments, finding the recipe, reading
 *                     the recipe's progress protocol
 *   vsh-image.c       the command: plan, run the recipe with progress and
 *                     Ctrl+C handling, pool target and refresh, summary
 *
 * A template is a POSIX sh recipe, TEMPLATE.sh, in the recipe directory
 * (src/image/ in the tree, LIBEXECDIR/virtd/image installed); the recipe
 * does the building, vsh the checking, the progress and the cleaning up.
 */
#pragma once

#include <glib.h>

/* The directory holding the recipes: $VSH_IMAGE_RECIPES when set (tests,
 * a build tree), else the installed one. */
const char *vsh_image_recipes_dir(void);

/* The recipe of @template in @dir. An unknown template fails naming it and
 * listing the ones there are. */
char *vsh_image_find_recipe(const char *dir, const char *template_name, GError **error);

/* A host name as RFC 1123 allows: dot-separated labels of letters, digits
 * and '-', 1-63 bytes each, not starting or ending with '-'; 253 at most. */
gboolean vsh_image_check_hostname(const char *hostname, GError **error);

/* "a,b,c" of Debian package names (lower-case letters, digits, '+', '-',
 * '.', starting with a letter or digit, at least 2 bytes). Each name is
 * checked, so nothing else reaches the recipe's command lines. */
gboolean vsh_image_check_packages(const char *packages, GError **error);

/* --root-password's value: "file:PATH" is the first line of PATH, anything
 * else is the password itself. An empty password is refused. */
char *vsh_image_read_password(const char *spec, GError **error);

/* An ssh public key file: readable, one or more "TYPE BASE64 [comment]"
 * lines; a private key is refused with the fix (give the .pub file). */
gboolean vsh_image_check_ssh_key(const char *path, GError **error);

/* One line of the recipe's stdout protocol. */
typedef enum {
    VSH_IMAGE_LINE_TEXT, /* not a protocol line: shown as it is */
    VSH_IMAGE_LINE_STEP, /* "@@step N/M TEXT" */
    VSH_IMAGE_LINE_INFO, /* "@@info KEY VALUE" */
    VSH_IMAGE_LINE_WARN, /* "@@warn TEXT" */
} VshImageLineKind;

typedef struct {
    VshImageLineKind kind;
    guint step;  /* STEP: N */
    guint steps; /* STEP: M */
    char *key;   /* INFO: KEY */
    char *text;  /* STEP, WARN: TEXT; INFO: VALUE; TEXT: the line */
} VshImageLine;

void vsh_image_line_clear(VshImageLine *line);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VshImageLine, vsh_image_line_clear)

/* Reads one line (without its newline). A malformed protocol line is
 * TEXT, so a recipe's bug is shown rather than lost. */
void vsh_image_parse_line(const char *raw, VshImageLine *line);

/* "1m07s", "42s": a duration for people. */
char *vsh_image_format_duration(gint64 usec);
