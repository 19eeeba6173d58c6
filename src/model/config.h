/*
 * model/config.h: umbrad's configuration (docs/config.md).
 *
 * The file is keyfile/INI style:
 *
 *   [umbrad]            daemon settings (interval, store, socket, ...)
 *   [cell:NAME]         optional: a cell and its description
 *   [host:NAME]         a hypervisor: uri = ..., cell = ...
 *
 * umbra parses it itself rather than with GKeyFile so that every error
 * names the file, the line and the key, and so that unknown keys and
 * duplicates are refused instead of silently ignored.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define CONFIG_ERROR (config_error_quark())
GQuark config_error_quark(void);

typedef enum {
    CONFIG_ERROR_IO,           /* the file cannot be read */
    CONFIG_ERROR_SYNTAX,       /* a line is not a section or key = value */
    CONFIG_ERROR_UNKNOWN,      /* unknown section or key */
    CONFIG_ERROR_VALUE,        /* a value is out of range or malformed */
    CONFIG_ERROR_INCONSISTENT, /* values contradict each other */
    CONFIG_ERROR_LAST
} ConfigErrorCode;

typedef struct {
    char *name; /* [host:NAME] */
    char *uri;  /* libvirt URI */
    char *cell; /* cell name */
    int cpus;   /* CPUs to plan with (0: what libvirt reports) */
    int line;   /* line of the section header */
} ConfigHost;

/* A service group: domains whose shadows and primaries must not share a
 * host (anti-affinity). */
typedef struct {
    char *name;    /* [group:NAME] */
    GStrv domains; /* member domain names */
} ConfigGroup;

typedef struct {
    char *name;        /* cell name */
    char *description; /* may be NULL */
} ConfigCell;

typedef struct {
    char *path;                  /* file it was read from (for messages) */
    int64_t interval_s;          /* sampling interval, 1..3600 s */
    char *store_path;            /* SQLite store */
    char *socket_path;           /* RPC unix socket */
    char *hook_socket_path;      /* datagram socket the libvirt hook uses */
    char *spool_dir;             /* where the hook spools when we are down */
    char *socket_group;          /* group allowed on the RPC socket */
    int64_t retention_raw_s;     /* keep raw samples this long */
    int64_t retention_5m_s;      /* keep 5-minute averages this long */
    int64_t retention_events_s;  /* keep events this long */
    int keepalive_interval_s;    /* libvirt keepalive interval */
    int keepalive_count;         /* libvirt keepalive count */
    int64_t reconnect_min_s;     /* first reconnect delay */
    int64_t reconnect_max_s;     /* reconnect backoff cap */
    char *forecast_model;        /* forecasting model name, or "off" */
    int64_t forecast_refit_s;    /* refit each domain this often */
    int64_t forecast_step_s;     /* the forecasting grid's step */
    bool risk;                   /* the risk engine runs (risk = on) */
    double risk_threshold;       /* initial alert threshold, (0, 1) */
    double risk_precision;       /* target precision of alerts, (0, 1] */
    double risk_rho;             /* error correlation between domains */
    int64_t risk_interval_s;     /* the risk engine runs this often */
    char *shadow_cell;           /* "preferred" or "required": a shadow's
                                  * cell should (must) differ */
    double cpu_overcommit;       /* placement plans with CPUs x this */
    int64_t migration_timeout_s; /* abort a cutover migration after */
    double link_mibps;           /* migration link speed, for the plan */
    int64_t migration_bandwidth; /* cap on a migration, MiB/s (0: none) */
    bool shadow_auto;            /* shadows and cutovers by themselves (on) */
    bool reactive;               /* cutover_policy = reactive: no shadow
                                  * ahead, move when a host runs hot */
    double reactive_cpu;         /* ... above this % of its CPUs */
    int64_t reactive_for_s;      /* ... for this long */
    GStrv shadow_protect;        /* domains given a shadow when their host's
                                  * contention is foreseen (nullable) */
    char *shadow_mode;           /* "warm" (booted then paused) or "cold" */
    int64_t shadow_idle_s;       /* retire a shadow idle this long */
    int64_t shadow_warm_boot_s;  /* a warm shadow boots this long, then
                                  * pauses */
    char *shadow_pool;           /* storage pool for staged disks */
    char *shadow_pool_path;      /* its directory when umbra creates it */
    GPtrArray *groups;           /* ConfigGroup*, file order */
    GPtrArray *hosts;            /* ConfigHost*, in file order */
    GPtrArray *cells;            /* ConfigCell*, first mention order */
} UmbraConfig;

/*
 * umbra_config_parse:
 * @path: file name used in error messages
 * @buf: the file's contents (need not be NUL-terminated)
 * @len: their length
 * @error: set on failure, message "PATH:LINE: key 'K': problem"
 *
 * Returns: (transfer full) the configuration, or NULL with @error set.
 */
UmbraConfig *umbra_config_parse(const char *path, const char *buf, size_t len,
                                GError **error);

/* Reads @path and parses it.  Returns: as umbra_config_parse(). */
UmbraConfig *umbra_config_load(const char *path, GError **error);

void umbra_config_free(UmbraConfig *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(UmbraConfig, umbra_config_free)

/* Returns: (transfer none) the group @domain belongs to, or NULL. */
const ConfigGroup *umbra_config_group_of(const UmbraConfig *cfg,
                                         const char *domain);

/* Returns: the host named @name, or NULL (borrowed). */
const ConfigHost *umbra_config_find_host(const UmbraConfig *cfg,
                                         const char *name);

/* Returns: the CPUs host @name is planned with: its [host:NAME] cpus,
 * else @reported (what libvirt says it has). */
double umbra_config_host_cpus(const UmbraConfig *cfg, const char *name,
                              double reported);

/* Returns: the cell named @name, or NULL (borrowed). */
const ConfigCell *umbra_config_find_cell(const UmbraConfig *cfg,
                                         const char *name);
