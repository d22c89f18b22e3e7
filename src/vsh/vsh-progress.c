#include <stdio.h>
#include <unistd.h>

#include "util/vd-units.h"
#include "vsh-progress.h"

void
vsh_progress_init(VshProgress *p, const char *verb, guint64 total)
{
    *p = (VshProgress){verb, total, 0, 0, isatty(STDERR_FILENO)};
}

void
vsh_progress_draw(VshProgress *p, gboolean final)
{
    gint64 now = g_get_monotonic_time();

    if (!p->tty || (!final && now - p->last_draw < 100000))
        return;
    p->last_draw = now;
    g_autofree char *done = vd_size_format_pretty(p->done);
    g_autofree char *total = vd_size_format_pretty(p->total);
    int pct = p->total ? (int)(p->done * 100 / p->total) : 100;
    int bar = pct / 4;
    /* \033[K: the line may be shorter than the last one drawn. */
    fprintf(stderr, "\r%s [%-25.*s] %3d%% %s of %s\033[K", p->verb, bar,
            "#########################", pct, done, total);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}
