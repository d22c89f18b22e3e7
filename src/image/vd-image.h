/* Image recipes (docs/images.md), shared by `vsh image build` and the
 * daemon's POST /v1/images/build (the web console's "Build a new Debian 12
 * image"):
 *
 *   vd-image-opts.c   checks of the arguments, finding the recipe, reading
 *                     the recipe's progress protocol (pure; unit tested in
 *                     tests/vsh/test-vsh-image.c)
 *   vd-image-build.c  running a recipe: its own process group, its
 *                     progress lines, stopping it, removing the work
 *                     directory and the partial output afterwards
 *
 * A template is a POSIX sh recipe, TEMPLATE.sh, in the recipe directory
 * (src/image/ in the tree, LIBEXECDIR/virtd/image installed).
 */
#pragma once

#include <glib.h>

/* The directory holding the recipes: $VSH_IMAGE_RECIPES when set (tests,
 * a build tree), else the installed one. */
const char *vd_image_recipes_dir(void);

/* The recipe of @template in @dir. An unknown template fails naming it and
 * listing the ones there are. */
char *vd_image_find_recipe(const char *dir, const char *template_name, GError **error);

/* A host name as RFC 1123 allows: dot-separated labels of letters, digits
 * and '-', 1-63 bytes each, not starting or ending with '-'; 253 at most. */
gboolean vd_image_check_hostname(const char *hostname, GError **error);

/* "a,b,c" of Debian package names (lower-case letters, digits, '+', '-',
 * '.', starting with a letter or digit, at least 2 bytes). Each name is
 * checked, so nothing else reaches the recipe's command lines. */
gboolean vd_image_check_packages(const char *packages, GError **error);

/* --root-password's value: "file:PATH" is the first line of PATH, anything
 * else is the password itself. An empty password is refused. */
char *vd_image_read_password(const char *spec, GError **error);

/* An ssh public key file: readable, one or more "TYPE BASE64 [comment]"
 * lines; a private key is refused with the fix (give the .pub file). */
gboolean vd_image_check_ssh_key(const char *path, GError **error);

/* One line of the recipe's stdout protocol. */
typedef enum {
    VD_IMAGE_LINE_TEXT, /* not a protocol line: shown as it is */
    VD_IMAGE_LINE_STEP, /* "@@step N/M TEXT" */
    VD_IMAGE_LINE_INFO, /* "@@info KEY VALUE" */
    VD_IMAGE_LINE_WARN, /* "@@warn TEXT" */
} VdImageLineKind;

typedef struct {
    VdImageLineKind kind;
    guint step;  /* STEP: N */
    guint steps; /* STEP: M */
    char *key;   /* INFO: KEY */
    char *text;  /* STEP, WARN: TEXT; INFO: VALUE; TEXT: the line */
} VdImageLine;

void vd_image_line_clear(VdImageLine *line);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VdImageLine, vd_image_line_clear)

/* Reads one line (without its newline). A malformed protocol line is
 * TEXT, so a recipe's bug is shown rather than lost. */
void vd_image_parse_line(const char *raw, VdImageLine *line);

/* "1m07s", "42s": a duration for people. */
char *vd_image_format_duration(gint64 usec);

/* ---- running a recipe (vd-image-build.c) ---- */

/* What one build needs, checked by the caller beforehand. Strings are
 * borrowed for vd_image_build_start only. */
typedef struct {
    const char *recipe;       /* the recipe file (vd_image_find_recipe) */
    const char *output;       /* the image; the recipe writes OUTPUT.part */
    guint64 size;             /* bytes, whole MiBs */
    const char *format;       /* "qcow2" or "raw" */
    const char *hostname;
    const char *password;     /* root's password, or NULL */
    const char *ssh_key;      /* a public key file, or NULL */
    const char *ssh_key_text; /* or the key's text (written to the work dir) */
    const char *packages;     /* "a,b", or NULL */
    const char *cache;        /* package cache directory, or NULL */
    const char *log_file;     /* the recipe's stderr (mmdebstrap's chatter) goes
                               * here, replaced; NULL: the caller's stderr */
} VdImagePlan;

typedef struct _VdImageBuild VdImageBuild;
/* A line of the recipe's stdout, as it comes (main loop). */
typedef void (*VdImageLineFunc)(VdImageBuild *b, const VdImageLine *line, gpointer data);
/* The recipe ended, its output was read, and after a failure or a stop
 * its work directory and partial output are removed (main loop). */
typedef void (*VdImageDoneFunc)(VdImageBuild *b, gpointer data);

/* Makes the work directory ($TMPDIR, else /var/tmp: the root tree is about
 * a GiB), writes the password / key files there, and starts the recipe in
 * its own process group, so that a stop ends mmdebstrap and everything it
 * runs. Nothing here blocks for long. */
VdImageBuild *vd_image_build_start(const VdImagePlan *plan, VdImageLineFunc on_line,
                                   VdImageDoneFunc done, gpointer data, GError **error);
/* Ends the recipe's process group: SIGTERM, and SIGKILL 10 s later (or at
 * once with @kill) if it is still there. The done callback follows. */
void vd_image_build_stop(VdImageBuild *b, gboolean kill);
gboolean vd_image_build_stopped(VdImageBuild *b);
/* After done: TRUE if the recipe succeeded; else an error naming the step
 * (and, stopped, that the partial image was removed). */
gboolean vd_image_build_result(VdImageBuild *b, GError **error);
/* "3/7 Configuring the guest", the step underway (NULL before the first). */
const char *vd_image_build_step(VdImageBuild *b, guint *step, guint *steps);
/* An "@@info KEY VALUE" of the recipe, or NULL. */
const char *vd_image_build_info(VdImageBuild *b, const char *key);
/* The "@@warn" texts (borrowed). */
GPtrArray *vd_image_build_warnings(VdImageBuild *b);
/* Microseconds since the start. */
gint64 vd_image_build_elapsed(VdImageBuild *b);
/* The recipe's process group (for the tests' and the logs' sake). */
int vd_image_build_pgid(VdImageBuild *b);
/* For a program about to exit, its main loop ended: SIGKILL to the
 * recipe's group, waits for it, removes the work directory and the partial
 * output. Blocking. No done callback follows: free it next. */
void vd_image_build_kill_sync(VdImageBuild *b);
/* Only after done, or after vd_image_build_kill_sync. */
void vd_image_build_free(VdImageBuild *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdImageBuild, vd_image_build_free)
