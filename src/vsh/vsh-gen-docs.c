/* vsh-gen-docs man|bash: prints vsh(1) or the bash completion of vsh,
 * from the command table (vsh-docs.h). Run at build time, not installed. */
#include <stdio.h>

#include "vsh-docs.h"

int
main(int argc, char **argv)
{
    g_autoptr(GString) out = g_string_new(NULL);

    if (argc == 2 && g_str_equal(argv[1], "man"))
        vsh_docs_render_man(out);
    else if (argc == 2 && g_str_equal(argv[1], "bash"))
        vsh_docs_render_bash(out);
    else {
        fprintf(stderr, "usage: vsh-gen-docs man|bash\n");
        return 2;
    }
    fputs(out->str, stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}
