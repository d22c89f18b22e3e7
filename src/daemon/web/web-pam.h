/* Checking a web login against the host's accounts (PAM), in a child
 * process (`virtd --check-web-login`, the user, password and group on its
 * stdin) that a GTask worker thread runs and waits for: PAM modules block
 * (files, LDAP, the failure delay), the main loop never may; and PAM and
 * NSS modules loaded into the daemon would stay there for good.
 *
 * The PAM service is "virtd" (/etc/pam.d/virtd, installed by meson); where
 * that file is missing, PAM itself falls back to /etc/pam.d/other. The
 * user must then be root or a member of the --web-group group. */
#pragma once

#include <gio/gio.h>

/* @gid: the --web-group's, or -1 (root only). The error's message is for
 * the daemon's log, never for the client. */
void vd_web_pam_check_async(const char *service, const char *user, const char *password, gint64 gid,
                            GAsyncReadyCallback callback, gpointer data);
gboolean vd_web_pam_check_finish(GAsyncResult *res, GError **error);
/* `virtd --check-web-login` (main.c): the child's side; exit status 0
 * and "OK", or 1 and "CODE MESSAGE" (a VdErrorCode) on stdout. */
int vd_web_pam_child_main(void);
