/* Connection URIs, as vsh -c and migrate's DESTURI take them (libvirt's
 * habits, docs/remote.md):
 *
 *   unix:///PATH/virtd.sock                    the local daemon's socket
 *   ssh://[USER@]HOST[:PORT][/PATH/virtd.sock] the remote daemon's socket,
 *   virtd+ssh://[USER@]HOST[:PORT]/system      through the user's own ssh
 *                                              (no PATH, or /system: the
 *                                              default socket)
 *   tls://HOST[:PORT]  virtd+tls://...         TCP with mutual TLS
 *                                              (default port 16514)
 *
 * An ssh path of /system (or none) is VD_REMOTE_DEFAULT_SOCKET; /session
 * is refused (virtd has no per-user daemon); virtd+ssh:// takes /system
 * only. IPv6 hosts go in brackets: ssh://root@[fd00::1]:2222/system.
 *
 * Query parameters (libvirt's names): keyfile=FILE (ssh -i), no_verify=1
 * (ssh: StrictHostKeyChecking=no; tls: do not check the server's name),
 * socket=PATH (ssh: the remote socket, wins over the path), pkipath=DIR
 * (tls: where the CA and client certificate are, see remote-tls.h),
 * command=SSH (the ssh binary). A parameter of the other transport, an
 * unknown one, a user or password in tls://, a password anywhere: refused.
 *
 * An alias (libvirt's uri_aliases) is expanded before parsing: a name
 * without ':' is looked up in the vsh configuration file (remote-config.c
 * describes its syntax).
 * Pure: no I/O but reading the configuration file. */
#pragma once

#include <glib.h>

#define VD_REMOTE_DEFAULT_SOCKET "/run/virtd/virtd.sock"
#define VD_REMOTE_TLS_DEFAULT_PORT 16514
#define VD_REMOTE_SYSTEM_CONFIG "/etc/virtd/vsh.conf"

typedef enum {
    VD_REMOTE_UNIX,
    VD_REMOTE_SSH,
    VD_REMOTE_TLS,
} VdRemoteTransport;

typedef struct {
    VdRemoteTransport transport;
    char *uri;         /* as given, after alias expansion */
    char *socket_path; /* UNIX: the socket; SSH: the remote socket */
    char *user;        /* SSH: NULL for ssh's own default */
    char *host;        /* SSH, TLS */
    guint16 port;      /* SSH: 0 for ssh's default; TLS: 16514 unless given */
    char *keyfile;     /* SSH: ?keyfile= */
    char *ssh_command; /* SSH: ?command=, default "ssh" */
    gboolean no_verify; /* ?no_verify=1 */
    char *pkipath;     /* TLS: ?pkipath= ; NULL: the default directories */
} VdRemoteUri;

/* Parses @uri (not an alias). Unknown schemes and parameters are refused
 * naming the forms above (VD_ERROR_CONNECT). */
VdRemoteUri *vd_remote_uri_parse(const char *uri, GError **error);
void vd_remote_uri_free(VdRemoteUri *uri);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdRemoteUri, vd_remote_uri_free)

/* A text form of @uri's fields, one "name=value" a line (golden tests). */
char *vd_remote_uri_describe(const VdRemoteUri *uri);

/* The configuration file: $VSH_CONFIG, else $XDG_CONFIG_HOME/vsh/vsh.conf
 * (~/.config/vsh/vsh.conf) if it exists, else VD_REMOTE_SYSTEM_CONFIG. A
 * missing file is an empty one. */
char *vd_remote_config_path(void);

/* @name_or_uri itself when it contains ':'; otherwise the URI the alias
 * @name_or_uri stands for in the configuration file @config_path (NULL:
 * $VSH_CONFIG, else $XDG_CONFIG_HOME/vsh/vsh.conf, else /etc/virtd/vsh.conf),
 * a libvirt.conf-style `uri_aliases = [ "NAME=URI", ... ]`. An unknown
 * alias is VD_ERROR_CONNECT naming the file. The first entry of a name
 * wins, as in libvirt. */
char *vd_remote_uri_expand(const char *name_or_uri, const char *config_path, GError **error);
/* The URI vsh uses without -c: $VSH_DEFAULT_URI, else uri_default from
 * the configuration file, else unix://VD_REMOTE_DEFAULT_SOCKET (not
 * expanded; a malformed file is ignored here). */
char *vd_remote_uri_default(const char *config_path);
/* What vsh connects to: @given (-c, `connect NAME`; NULL: the default
 * above), alias-expanded. Errors: a malformed configuration file, an
 * unknown alias. */
char *vd_remote_uri_resolve(const char *given, const char *config_path, GError **error);
