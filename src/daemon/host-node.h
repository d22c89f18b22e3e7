/* The host's CPUs, memory and firmware as virsh's nodeinfo, nodememstats,
 * nodecpustats and sysinfo report them (libvirt's virNodeGetInfo,
 * virNodeGetMemoryStats, virNodeGetCPUStats, virConnectGetSysinfo).
 *
 * Everything is read under @root ("/" on a real host, a directory of
 * fake /proc and /sys files in tests): /proc files are made by the kernel
 * as they are read and never block, so the API calls these in the main
 * loop. */
#pragma once

#include <json-glib/json-glib.h>

/* {"model": "x86_64", "cpus": N, "mhz": N, "sockets": N, "cores": N,
 *  "threads": N, "nodes": N, "memory_kib": N}: sockets are per NUMA
 * node, as libvirt counts them. */
JsonNode *vd_host_node_info(const char *root);

/* {"total": KiB, "free": KiB, "buffers": KiB, "cached": KiB} of the host
 * (@cell < 0) or {"total", "free"} of NUMA node @cell; NULL + error
 * naming the nodes that exist when there is no such cell. */
JsonNode *vd_host_node_memory_stats(const char *root, int cell, GError **error);

/* {"kernel": ns, "user": ns, "idle": ns, "iowait": ns} since boot, of
 * all CPUs (@cpu < 0) or CPU @cpu (libvirt's sums: user + nice, system +
 * irq + softirq); NULL + error naming the CPUs that exist. */
JsonNode *vd_host_node_cpu_stats(const char *root, int cpu, GError **error);

/* virsh sysinfo's XML: <sysinfo type='smbios'> with the <bios>,
 * <system>, <baseBoard> and <chassis> entries of @smbios (host-probe.h's
 * "section.name", value pairs; may be NULL) and one <processor> per
 * socket from /proc/cpuinfo. */
char *vd_host_sysinfo_xml(const char *root, const char *const *smbios);
