#include "sd-notify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/vd-error.h"

gboolean
vd_sd_notify(const char *state, GError **error)
{
    static char *target;
    static gboolean taken;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    socklen_t len;

    if (!taken) {
        target = g_strdup(g_getenv("NOTIFY_SOCKET"));
        unsetenv("NOTIFY_SOCKET");
        taken = TRUE;
    }
    if (!target || !*target)
        return TRUE;
    gsize n = strlen(target);
    if ((target[0] != '/' && target[0] != '@') || n >= sizeof(addr.sun_path)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID_ARG,
                    "NOTIFY_SOCKET '%s' is neither a socket path nor an abstract name", target);
        return FALSE;
    }
    memcpy(addr.sun_path, target, n);
    if (target[0] == '@')
        addr.sun_path[0] = 0; /* the abstract namespace */
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);

    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 ||
        sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, len) < 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        g_set_error(error, VD_ERROR, VD_ERROR_INTERNAL, "cannot notify systemd at %s: %s", target,
                    g_strerror(saved));
        return FALSE;
    }
    close(fd);
    return TRUE;
}
