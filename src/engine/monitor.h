/*
 * engine/monitor.h: the fleet monitor, umbrad's first control loop.
 *
 *   host worker threads (one per [host:] section)        main thread
 *   ---------------------------------------------        -----------
 *   connect (backoff 1 s .. reconnect_max)  --state-->   host table
 *   every interval: domain + host stats     --round-->   rates, owner,
 *   libvirt domain events (event thread)    --event-->   store, events
 *
 * Workers only talk to libvirt and hand results to the main context;
 * all state (the host table, the domain table, the store) belongs to the
 * main thread, so queries need no locks.  A slow or dead host only
 * stalls its own worker.
 *
 * Identity: a domain is its UUID.  When the same UUID appears on two
 * hosts (during a live migration the target holds a paused copy), the
 * running copy is the domain; the "owner" moves when the target runs
 * and the source no longer does, so a migrated domain keeps one history.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "model/config.h"
#include "model/types.h"
#include "sys/virt.h"
#include "tsdb/store.h"

#define MONITOR_ERROR (monitor_error_quark())
GQuark monitor_error_quark(void);

typedef enum {
    MONITOR_ERROR_UNKNOWN_DOMAIN,
    MONITOR_ERROR_UNKNOWN_HOST,
    MONITOR_ERROR_UNKNOWN_CELL,
    MONITOR_ERROR_STORE,
    MONITOR_ERROR_LAST
} MonitorErrorCode;

#define HOST_STATES(X)                                                         \
    X(CONNECTING, "connecting")                                                \
    X(CONNECTED, "connected")                                                  \
    X(BACKOFF, "backoff")

/* clang-format off */
typedef enum {
#define X(NAME, STR) HOST_STATE_##NAME,
    HOST_STATES(X)
#undef X
    HOST_STATE_LAST
} HostState;
/* clang-format on */

const char *host_state_to_string(HostState state);

/* A snapshot of one host, for queries (all fields owned). */
typedef struct {
    char *name;              /* host name from the config */
    char *uri;               /* libvirt URI */
    char *cell;              /* its cell */
    HostState state;         /* connection state */
    char *hostname;          /* hypervisor hostname, NULL if unknown */
    char *last_error;        /* last connection error, may be NULL */
    int64_t connected_since; /* wall us, 0 if not connected */
    int64_t retry_at;        /* wall us of next attempt in backoff */
    unsigned reconnects;     /* successful connections after the first */
    int64_t last_sample;     /* wall us of the last round, 0 if none */
    unsigned domains;        /* domains it owns (active) */
    HostSample *latest;      /* latest host sample, may be NULL */
} MonitorHost;

void monitor_host_free(MonitorHost *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MonitorHost, monitor_host_free)

typedef struct Monitor Monitor;

/* Called on the main thread for every new event. */
typedef void (*MonitorEventFunc)(const UmbraEvent *ev, gpointer user_data);

/*
 * monitor_new:
 * @cfg: configuration (borrowed; must outlive the monitor)
 * @ops: hypervisor operations (borrowed)
 * @store: (nullable) the store (borrowed); NULL keeps nothing on disk
 *
 * Returns: (transfer full) a monitor; nothing runs until monitor_start().
 */
Monitor *monitor_new(const UmbraConfig *cfg, const SysVirtOps *ops,
                     TsdbStore *store);

/*
 * Starts one worker thread per host.  Results arrive on the thread-default
 * main context of the caller, which must run it.  The caller owns that
 * context (g_main_context_acquire()) from here to monitor_free(), so that
 * no other thread iterating it (libvirt's event thread iterates the global
 * default context) runs the monitor's handlers beside it; when another
 * thread owns it already, a warning says so.
 */
void monitor_start(Monitor *m);

/* Asks workers to stop and waits up to @timeout_ms for them. */
void monitor_stop(Monitor *m, int timeout_ms);

void monitor_free(Monitor *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Monitor, monitor_free)

/*
 * monitor_list_domains:
 * @host, @cell: (nullable) filters, checked against the config
 * @inactive: include domains that are gone or whose host is down
 *
 * Returns: (transfer full) DomSample* copies sorted by cell, host, name,
 * or NULL with MONITOR_ERROR_UNKNOWN_HOST/CELL.
 */
GPtrArray *monitor_list_domains(Monitor *m, const char *host, const char *cell,
                                bool inactive, GError **error);

/* Returns: (transfer full) MonitorHost* of every host, config order. */
GPtrArray *monitor_list_hosts(Monitor *m);

/*
 * monitor_find_domain:
 * @name_or_uuid: a domain name or UUID
 *
 * Looks in memory first, then in the store (a domain seen earlier).
 * Returns: (transfer full) the latest sample, or NULL with
 * MONITOR_ERROR_UNKNOWN_DOMAIN.
 */
DomSample *monitor_find_domain(Monitor *m, const char *name_or_uuid,
                               GError **error);

/* Returns: (transfer full) stored history (DomSample*), oldest first. */
GPtrArray *monitor_domain_history(Monitor *m, const char *uuid, int64_t seconds,
                                  guint max_points, GError **error);

/* Returns: (transfer full) events (UmbraEvent*) oldest first. */
GPtrArray *monitor_events(Monitor *m, int64_t since_id, const char *uuid,
                          guint limit, GError **error);

/* Records @ev (transfer full): stores it and tells subscribers. */
void monitor_post_event(Monitor *m, UmbraEvent *ev);

/*
 * monitor_hook_message:
 * @buf, @len: one message from the libvirt hook
 *
 * Returns: true if it was a valid message (and was posted).
 */
bool monitor_hook_message(Monitor *m, const char *buf, size_t len,
                          GError **error);

/*
 * monitor_drain_spool:
 * @dir: the hook's spool directory
 *
 * Posts the events the hook spooled while umbrad could not take them,
 * then removes them.  Does nothing until every host has been tried once
 * (hook events name hosts by hostname, learnt on connection).
 * Returns: how many events were taken.
 */
guint monitor_drain_spool(Monitor *m, const char *dir);

/* Runs store retention; called periodically from the main loop. */
void monitor_maintain(Monitor *m);

/* Called on the main thread for every sample the monitor accepts. */
typedef void (*MonitorSampleFunc)(const DomSample *s, gpointer user_data);

/* Sets the one sample observer (e.g. the forecaster); NULL removes it. */
void monitor_set_sample_func(Monitor *m, MonitorSampleFunc func, gpointer data);

guint monitor_subscribe(Monitor *m, MonitorEventFunc func, gpointer data);
void monitor_unsubscribe(Monitor *m, guint id);

/* Counters for "hello". */
typedef struct {
    uint64_t rounds;          /* host rounds applied */
    uint64_t samples_written; /* domain samples stored */
    uint64_t samples_pending; /* waiting for the store (e.g. disk full) */
    uint64_t samples_dropped; /* dropped when the pending queue was full */
    unsigned domains;         /* domains known and active */
} MonitorCounters;

void monitor_get_counters(Monitor *m, MonitorCounters *ret);
