/*
 * sys/virt.h: umbra's window onto libvirt.
 *
 * Everything umbra asks of a hypervisor goes through a SysVirtOps table,
 * so the engine never includes <libvirt/libvirt.h> and tests can hand it
 * another table.  sys_virt_libvirt_ops is the real one: one
 * virConnectPtr per host, keepalive on, libvirt's own error printing
 * silenced (errors come back as GError, domain SYS_VIRT_ERROR).
 *
 * Threading: each SysVirtConn is used by one worker thread at a time;
 * callbacks given to watch() run in libvirt's event-loop thread and must
 * only hand data over (e.g. with g_idle_add()).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "model/types.h"

#define SYS_VIRT_ERROR (sys_virt_error_quark())
GQuark sys_virt_error_quark(void);

typedef enum {
    SYS_VIRT_ERROR_CONNECT,   /* could not open the connection */
    SYS_VIRT_ERROR_DEAD,      /* the connection broke */
    SYS_VIRT_ERROR_CALL,      /* a libvirt call failed */
    SYS_VIRT_ERROR_NO_DOMAIN, /* no such domain */
    SYS_VIRT_ERROR_LAST
} SysVirtErrorCode;

typedef struct SysVirtConn SysVirtConn;

/*
 * SysVirtEventFunc: a domain event.  @type is e.g. "started", "stopped",
 * "io-error", "watchdog"; @detail e.g. "booted", "migrated".  Runs in
 * the event-loop thread.
 */
typedef void (*SysVirtEventFunc)(const char *uuid, const char *name,
                                 const char *type, const char *detail,
                                 gpointer user_data);
/* SysVirtCloseFunc: the connection closed (@reason: free text). */
typedef void (*SysVirtCloseFunc)(const char *reason, gpointer user_data);

typedef struct {
    /* Opens @uri with keepalive (@ka_interval s, @ka_count). */
    SysVirtConn *(*open)(const char *uri, int ka_interval, int ka_count,
                         GError **error);
    /* Closes and frees @conn (NULL allowed). */
    void (*close)(SysVirtConn *conn);
    /* Returns: whether the connection is still usable. */
    bool (*is_alive)(SysVirtConn *conn);
    /* Returns: (transfer full) the hypervisor's hostname. */
    char *(*hostname)(SysVirtConn *conn, GError **error);
    /* Returns: (transfer full) DomRaw* of every domain, or NULL. */
    GPtrArray *(*domain_stats)(SysVirtConn *conn, GError **error);
    /* Fills @ret with the host's CPU and memory counters. */
    bool (*host_stats)(SysVirtConn *conn, HostRaw *ret, GError **error);
    /* Starts a dirty-page-rate measurement of @seconds on @uuid. */
    bool (*start_dirtyrate)(SysVirtConn *conn, const char *uuid, int seconds,
                            GError **error);
    /* Subscribes to domain events and to the connection closing. */
    bool (*watch)(SysVirtConn *conn, SysVirtEventFunc ev_cb,
                  SysVirtCloseFunc close_cb, gpointer user_data,
                  GError **error);
} SysVirtOps;

/* The real implementation over libvirt's C API. */
extern const SysVirtOps sys_virt_libvirt_ops;

/*
 * sys_virt_init:
 *
 * Initialises libvirt once per process: silences its default error
 * printing and starts its default event loop in a thread of its own
 * (needed for keepalive and events).  Safe to call more than once.
 */
void sys_virt_init(void);

/*
 * sys_virt_parse_stats_params:
 * @keys: typed-parameter names, @nparams of them
 * @values: their values as unsigned long long (ignored where !is_num)
 * @is_num: whether each parameter is numeric
 * @ret: raw record to fill
 *
 * Fills @ret from a domain's stats parameters (state.*, cpu.*, vcpu.*,
 * balloon.*, block.N.*, net.N.*, dirtyrate.*).  Exposed for tests.
 */
void sys_virt_fill_raw(const char *const *keys, const double *values,
                       int nparams, DomRaw *ret);
