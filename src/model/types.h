/*
 * model/types.h: the values that flow between umbra's components.
 *
 * DomRaw and HostRaw are what a sensor read from a hypervisor at one
 * instant (cumulative counters, as libvirt reports them); DomSample and
 * HostSample are the rates derived from two consecutive raws
 * (stats/rates.c) and stored (tsdb/).  UmbraEvent is one lifecycle or
 * daemon event.  None of these know where they came from: model/ has no
 * libvirt dependency.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define DOM_STATES(X)                                                          \
    X(NOSTATE, "nostate")                                                      \
    X(RUNNING, "running")                                                      \
    X(BLOCKED, "blocked")                                                      \
    X(PAUSED, "paused")                                                        \
    X(SHUTDOWN, "shutdown")                                                    \
    X(SHUTOFF, "shut off")                                                     \
    X(CRASHED, "crashed")                                                      \
    X(PMSUSPENDED, "pmsuspended")

/* clang-format off */
typedef enum {
#define X(NAME, STR) DOM_STATE_##NAME,
    DOM_STATES(X)
#undef X
    DOM_STATE_LAST
} DomState;
/* clang-format on */

/* Returns: static name of @state ("running", ...); "unknown" if invalid. */
const char *dom_state_to_string(DomState state);
/* Returns: the state named @str, or -1. */
int dom_state_from_string(const char *str);

/* One domain's cumulative counters at one instant. */
typedef struct {
    char *uuid;                /* libvirt UUID string, stable across hosts */
    char *name;                /* domain name */
    DomState state;            /* state.state */
    int reason;                /* state.reason */
    bool migrated_away;        /* shut off because it migrated to another
                                * host (the source's leftover definition) */
    int64_t mono_us;           /* when it was read, monotonic */
    int64_t wall_us;           /* when it was read, wall clock */
    bool has_cpu;              /* cpu.time present */
    uint64_t cpu_time_ns;      /* cpu.time: total guest+emulator CPU ns */
    unsigned vcpus;            /* vcpu.current (0 if unknown) */
    unsigned vcpus_max;        /* vcpu.maximum (0 if unknown) */
    bool has_balloon;          /* balloon.current present */
    uint64_t mem_current_kib;  /* balloon.current */
    uint64_t mem_max_kib;      /* balloon.maximum */
    int64_t mem_unused_kib;    /* balloon.unused, -1 if absent */
    int64_t mem_available_kib; /* balloon.available, -1 if absent */
    int64_t mem_rss_kib;       /* balloon.rss, -1 if absent */
    bool has_block;            /* block.N.{rd,wr}.{bytes,reqs} present */
    int64_t blk_mono_us;       /* when the block counters were read, if
                                * not at mono_us (0): carried over a round
                                * that had none (engine/monitor.c) */
    uint64_t rd_bytes;         /* sum over disks */
    uint64_t wr_bytes;
    uint64_t rd_reqs;
    uint64_t wr_reqs;
    bool has_net;      /* any net.N.* present */
    uint64_t rx_bytes; /* sum over interfaces */
    uint64_t tx_bytes;
    uint64_t rx_pkts;
    uint64_t tx_pkts;
    double dirty_mbps; /* dirtyrate.megabytes_per_second, NaN if absent */
} DomRaw;

DomRaw *dom_raw_new(void);
DomRaw *dom_raw_copy(const DomRaw *raw);
void dom_raw_free(DomRaw *raw);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomRaw, dom_raw_free)

/* One domain's derived rates over one sampling interval. */
typedef struct {
    char *uuid;            /* domain UUID */
    char *name;            /* domain name */
    char *host;            /* host name from the config */
    char *cell;            /* cell of that host */
    int64_t wall_us;       /* end of the interval, wall clock */
    DomState state;        /* state at the end of the interval */
    unsigned vcpus;        /* allocated vCPUs */
    double cpu_pct;        /* % of allocated vCPUs; NaN if unknown */
    uint64_t mem_used_kib; /* memory used by the guest (see docs) */
    uint64_t mem_max_kib;  /* memory allocated */
    double blk_rd_bps;     /* block bytes/s read, all disks */
    double blk_wr_bps;     /* block bytes/s written */
    double blk_rd_iops;    /* block read requests/s */
    double blk_wr_iops;    /* block write requests/s */
    double net_rx_bps;     /* network bytes/s received, all NICs */
    double net_tx_bps;     /* network bytes/s sent */
    double net_rx_pps;     /* packets/s received */
    double net_tx_pps;     /* packets/s sent */
    double dirty_mbps;     /* dirty page rate MiB/s; NaN if unknown */
} DomSample;

DomSample *dom_sample_new(void);
DomSample *dom_sample_copy(const DomSample *s);
void dom_sample_free(DomSample *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomSample, dom_sample_free)

/* One host's counters at one instant (virNodeGetCPUStats/MemoryStats). */
typedef struct {
    int64_t mono_us;        /* when it was read, monotonic */
    int64_t wall_us;        /* when it was read, wall clock */
    unsigned ncpus;         /* online CPUs */
    uint64_t cpu_busy_ns;   /* kernel + user ns, all CPUs */
    uint64_t cpu_total_ns;  /* busy + idle + iowait ns, all CPUs */
    uint64_t mem_total_kib; /* MemTotal */
    uint64_t mem_avail_kib; /* free + buffers + cached */
} HostRaw;

/* One host's derived sample. */
typedef struct {
    char *host;             /* host name from the config */
    char *cell;             /* its cell */
    int64_t wall_us;        /* end of interval */
    unsigned ncpus;         /* online CPUs */
    double cpu_pct;         /* busy % of all CPUs; NaN on first sample */
    uint64_t mem_total_kib; /* MemTotal */
    uint64_t mem_avail_kib; /* available memory */
    unsigned domains;       /* domains seen in this sample */
} HostSample;

HostSample *host_sample_new(void);
HostSample *host_sample_copy(const HostSample *s);
void host_sample_free(HostSample *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HostSample, host_sample_free)

#define EVENT_SOURCES(X)                                                       \
    X(LIBVIRT, "libvirt")                                                      \
    X(HOOK, "hook")                                                            \
    X(DAEMON, "umbrad")

/* clang-format off */
typedef enum {
#define X(NAME, STR) EVENT_SOURCE_##NAME,
    EVENT_SOURCES(X)
#undef X
    EVENT_SOURCE_LAST
} EventSource;
/* clang-format on */

const char *event_source_to_string(EventSource src);
int event_source_from_string(const char *str);

/* One lifecycle or daemon event. */
typedef struct {
    int64_t id;         /* store id, 0 until stored */
    int64_t wall_us;    /* when it happened */
    EventSource source; /* who reported it */
    char *host;         /* host name from the config, may be NULL */
    char *domain;       /* domain name, may be NULL */
    char *uuid;         /* domain UUID, may be NULL */
    char *type;         /* e.g. "started", "migrate", "host-down" */
    char *detail;       /* free text, may be NULL */
} UmbraEvent;

UmbraEvent *umbra_event_new(EventSource source, const char *host,
                            const char *domain, const char *uuid,
                            const char *type, const char *detail);
UmbraEvent *umbra_event_copy(const UmbraEvent *ev);
void umbra_event_free(UmbraEvent *ev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(UmbraEvent, umbra_event_free)

/* What a completed cutover moved and how (the shadow record's "cutover"). */
typedef struct {
    const char *domain;     /* the domain's name */
    const char *host;       /* where it runs now */
    uint64_t memory_bytes;  /* memory sent */
    uint64_t disk_bytes;    /* disk sent */
    int64_t total_ms;       /* the migration's length */
    int64_t downtime_ms;    /* < 0: libvirt did not report it */
    bool postcopy;          /* it switched to post-copy ... */
    int passes;             /* ... after this many pre-copy passes */
    int64_t postcopy_at_ms; /* ... this long after it began */
} CutoverFigures;

/* Returns: the one line that tells a completed cutover, as the shadow
 * journal and "umbractl cutover" print it: "web1 now runs on umbra-h3:
 * 90.4 MiB memory + 0.1 MiB disk sent in 1200 ms, downtime 164 ms".
 * (transfer full) */
char *cutover_summary(const CutoverFigures *f);
