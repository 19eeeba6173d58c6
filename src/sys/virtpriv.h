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

/* Sets @error from libvirt's last error: "@what: <libvirt's message>". */
void sys_virt_set_error(GError **error, SysVirtErrorCode code,
                        const char *what);
