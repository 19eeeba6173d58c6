/*
 * sys/virtpriv.h: what the files of sys/ share about a connection.
 * Not for use outside sys/.
 */
#pragma once

#include <libvirt/libvirt.h>

#include "sys/virt.h"

struct SysVirtConn {
    virConnectPtr conn;        /* the libvirt connection */
    char *uri;                 /* its URI, for messages */
    int cb_ids[4];             /* domain event callback ids, -1 unused */
    bool close_registered;     /* close callback registered */
    SysVirtEventFunc ev_cb;    /* domain event sink */
    SysVirtCloseFunc close_cb; /* close sink */
    gpointer user_data;        /* for both */
    bool have_node;            /* the node facts below are known */
    unsigned node_cpus;        /* virNodeGetInfo(): CPUs */
    uint64_t node_mem_kib;     /* virNodeGetInfo(): memory */
    int ncpu_params;           /* virNodeGetCPUStats() count, 0 = none */
    int nmem_params;           /* virNodeGetMemoryStats() count, 0 = none */
};

/*
 * Block-stats holds, per URI (any thread).  While one is held, the
 * sampling rounds of that URI leave VIR_DOMAIN_STATS_BLOCK out, so that
 * libvirtd does not query QEMU's block graph (query-named-block-nodes)
 * while umbra's block job on that host runs: QEMU 7.2 can crash when such
 * a query runs while a job's implicit filter node is being removed
 * (bdrv_refresh_filename() on a filter without its child; seen in the lab
 * at the end of a block pull, 2026-11-24).
 */
void sys_virt_hold_block_stats(const char *uri);
void sys_virt_release_block_stats(const char *uri);
/* Returns: the VIR_DOMAIN_STATS_* groups a round on @uri asks for now. */
unsigned sys_virt_stats_groups(const char *uri);

/* Sets @error from libvirt's last error: "@what: <libvirt's message>". */
void sys_virt_set_error(GError **error, SysVirtErrorCode code,
                        const char *what);
