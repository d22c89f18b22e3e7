/* The daemon's context: one per process, passed explicitly (no globals). */
#pragma once

#include <libsoup/soup.h>

#include "daemon/domain/domain-obj.h"
#include "daemon/domain/kernel-cache.h"
#include "daemon/paths.h"
#include "qemu/kvm-probe.h"
#include "qemu/qemu-caps.h"

typedef struct _VdStorage VdStorage;
typedef struct _VdNetworks VdNetworks;
typedef struct _VdApiListener VdApiListener;
typedef struct _VdDomainCgroups VdDomainCgroups;

typedef struct {
    VdPaths *paths;
    VdDomainList *domains;
    char *qemu_binary;
    VdQemuCaps *caps;          /* NULL when the probe failed: starts fail with caps_error;
                                * both NULL while it runs (vd_host_ready_wait_caps) */
    GError *caps_error;
    VdKvmProbe *kvm;           /* NULL until the probe is in: vd_host_ready_wait */
    struct _VdHostReady *ready; /* the background probes of caps and kvm (host-ready.h) */
    struct _VdHostInfo *host;  /* what the host gives guests beyond QEMU (host-probe.h) */
    SoupServer *server;
    VdApiListener *listener;   /* accepts and times out API connections (api-conn.h) */
    guint api_idle_timeout;    /* seconds; 0: none (--idle-timeout) */
    guint api_max_connections; /* 0: from the descriptor limit (--max-connections) */
    gsize api_body_bytes;      /* request bodies held now (api-body.c) */
    guint64 api_requests;      /* requests received, for GET /v1/metrics (api-metrics.c) */
    GMainLoop *loop;
    int socket_group;          /* --socket-group (the read-write group's older name); -1: none */
    struct _VdAccess *access;  /* who may do what, the audit log (access/access.h) */
    VdKernelCache *kernels;    /* NULL: boot bzImages as they are (--no-fast-boot) */
    char *fast_firmware;       /* qboot, for domains allowed to use it; NULL: SeaBIOS always */
    char *firmware_dirs;       /* QEMU firmware descriptor directories, ':'-separated
                                * (VIRTD_FIRMWARE_DIRS, for tests); NULL: /etc/qemu/firmware
                                * then /usr/share/qemu/firmware (qemu/firmware-select.h) */
    VdStorage *storage;        /* storage pools and volumes (storage.h) */
    VdNetworks *networks;      /* virtual networks (network/network.h) */
    gboolean dns_forward;      /* dnsmasq may forward to the host's resolvers (--dns-forward) */
    gboolean no_default_network; /* --no-default-network: no 'default' on a first start */
    goffset console_log_max;   /* bytes per console log generation (--console-log-max) */
    /* Issue 13: remote access and migration */
    char *instance_uuid;       /* this daemon's identity (migration/migration-record.c) */
    char *tls_dir;             /* --tls-dir: the TLS credentials (remote/remote-tls.h), for
                                * the TLS listener and as a migration's client */
    char **listen;             /* --listen tls://ADDR:PORT, NULL-terminated; NULL: none */
    char **tls_allowed_dn;     /* --tls-allowed-dn globs; NULL: any DN the CA signed */
    struct _VdApiTls *api_tls; /* the CA and server certificate of tls_dir, when listen */
    GPtrArray *listen_sockets; /* of GSocket, bound and listening: listen[i]'s */
    struct _VdUsage *usage;    /* issue 14: the usage history sampler (stats/usage.h) */
    char *migration_host;      /* --migration-host: the address an incoming migration's QEMU
                                * listens on and the source is told (NULL: the host the source
                                * named in its URI) */
    /* Issue 14: the web console */
    struct _VdWeb *web;             /* --web: the HTTPS listener (web/web.h); NULL: off */
    struct _VdWebTokens *web_tokens; /* API tokens for it (web/web-tokens.h), always loaded */
    VdDomainCgroups *cgroups;  /* issue 15: each QEMU's cgroup (domain/domain-cgroup.h) */
} VdDaemon;
