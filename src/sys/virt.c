/*
 * sys/virt.c: SysVirtOps over libvirt's C API.
 *
 * One call per sampling round and host: virConnectGetAllDomainStats()
 * with state, cpu, balloon, vcpu, interface, block and dirtyrate
 * groups and NOWAIT (a domain busy with a job, e.g. migrating, is
 * reported without the stats that would wait for the job); the block
 * group is left out while umbra runs a block job on that host
 * (sys_virt_hold_block_stats(), virtpriv.h).  Counters
 * are summed over disks and NICs; rates are derived elsewhere
 * (stats/rates.c).  Host counters come from virNodeGetCPUStats() and
 * virNodeGetMemoryStats().
 *
 * libvirt's default event loop runs in one thread of its own; it drives
 * keepalive (a dead host is noticed within interval*count seconds) and
 * delivers domain events and the close callback.
 */
#include "sys/virt.h"
#include "sys/virtpriv.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <math.h>
#include <string.h>

#include "util/autoptr.h"
#include "util/clock.h"

/* clang-format off */
G_DEFINE_QUARK(umbra-sys-virt-error-quark, sys_virt_error)
/* clang-format on */

static void
virt_silent_error(void *opaque, virErrorPtr err)
{
    /* libvirt would print every error to stderr; we report them. */
}

static gpointer
virt_event_thread(gpointer data)
{
    for (;;) {
        if (virEventRunDefaultImpl() < 0) {
            g_usleep(100000);
        }
    }
    return NULL;
}

void
sys_virt_init(void)
{
    static gsize once;

    if (g_once_init_enter(&once)) {
        virInitialize();
        virSetErrorFunc(NULL, virt_silent_error);
        virEventRegisterDefaultImpl();
        g_thread_unref(g_thread_new("virt-events", virt_event_thread, NULL));
        g_once_init_leave(&once, 1);
    }
}

void
sys_virt_set_error(GError **error, SysVirtErrorCode code, const char *what)
{
    virErrorPtr err = virGetLastError();

    g_set_error(error, SYS_VIRT_ERROR, code, "%s: %s", what,
                err && err->message ? err->message : "unknown libvirt error");
    virResetLastError();
}

static SysVirtConn *
virt_open(const char *uri, int ka_interval, int ka_count, GError **error)
{
    SysVirtConn *c;
    virConnectPtr conn;

    sys_virt_init();
    conn = virConnectOpen(uri);
    if (!conn) {
        g_autofree char *what = g_strdup_printf("cannot connect to %s", uri);

        sys_virt_set_error(error, SYS_VIRT_ERROR_CONNECT, what);
        return NULL;
    }
    if (virConnectSetKeepAlive(conn, ka_interval, (unsigned) ka_count) < 0) {
        /* Local (unix socket) drivers may not support it: not fatal. */
        virResetLastError();
    }
    c = g_new0(SysVirtConn, 1);
    c->conn = conn;
    c->uri = g_strdup(uri);
    for (size_t i = 0; i < G_N_ELEMENTS(c->cb_ids); i++) {
        c->cb_ids[i] = -1;
    }
    return c;
}

static void virt_close_cb(virConnectPtr conn, int reason, void *opaque);

static void
virt_close(SysVirtConn *c)
{
    if (!c) {
        return;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(c->cb_ids); i++) {
        if (c->cb_ids[i] >= 0) {
            virConnectDomainEventDeregisterAny(c->conn, c->cb_ids[i]);
        }
    }
    if (c->close_registered) {
        virConnectUnregisterCloseCallback(c->conn, virt_close_cb);
    }
    virResetLastError();
    virConnectClose(c->conn);
    g_free(c->uri);
    g_free(c);
}

static bool
virt_is_alive(SysVirtConn *c)
{
    return c && virConnectIsAlive(c->conn) == 1;
}

static char *
virt_hostname(SysVirtConn *c, GError **error)
{
    char *h = virConnectGetHostname(c->conn);
    char *ret;

    if (!h) {
        sys_virt_set_error(error, SYS_VIRT_ERROR_CALL, "cannot get hostname");
        return NULL;
    }
    ret = g_strdup(h);
    free(h);
    return ret;
}

static bool
parse_indexed(const char *key, const char *prefix, const char **ret_field)
{
    size_t pl = strlen(prefix);
    const char *p;

    if (strncmp(key, prefix, pl) != 0) {
        return false;
    }
    p = key + pl;
    if (!g_ascii_isdigit(*p)) {
        return false;
    }
    while (g_ascii_isdigit(*p)) {
        p++;
    }
    if (*p != '.') {
        return false;
    }
    *ret_field = p + 1;
    return true;
}

void
sys_virt_fill_raw(const char *const *keys, const double *values, int nparams,
                  DomRaw *r)
{
    for (int i = 0; i < nparams; i++) {
        const char *k = keys[i];
        const char *f = NULL;
        double v = values[i];
        /* Out-of-range doubles must not be cast (undefined behaviour). */
        uint64_t u = !(v > 0)                      ? 0
                     : v >= 18446744073709551615.0 ? UINT64_MAX
                                                   : (uint64_t) v;

        if (!isfinite(v)) {
            continue;
        }
        if (strcmp(k, "state.state") == 0) {
            r->state = (v >= 0 && v < DOM_STATE_LAST) ? (DomState) (int) v
                                                      : DOM_STATE_NOSTATE;
        } else if (strcmp(k, "state.reason") == 0) {
            r->reason = (v >= 0 && v < 1000) ? (int) v : 0;
        } else if (strcmp(k, "cpu.time") == 0) {
            r->has_cpu = true;
            r->cpu_time_ns = u;
        } else if (strcmp(k, "vcpu.current") == 0) {
            r->vcpus = (unsigned) u;
        } else if (strcmp(k, "vcpu.maximum") == 0) {
            r->vcpus_max = (unsigned) u;
        } else if (strcmp(k, "balloon.current") == 0) {
            r->has_balloon = true;
            r->mem_current_kib = u;
        } else if (strcmp(k, "balloon.maximum") == 0) {
            r->mem_max_kib = u;
        } else if (strcmp(k, "balloon.unused") == 0) {
            r->mem_unused_kib = (int64_t) u;
        } else if (strcmp(k, "balloon.available") == 0) {
            r->mem_available_kib = (int64_t) u;
        } else if (strcmp(k, "balloon.rss") == 0) {
            r->mem_rss_kib = (int64_t) u;
        } else if (strcmp(k, "dirtyrate.megabytes_per_second") == 0) {
            r->dirty_mbps = v;
        } else if (parse_indexed(k, "block.", &f)) {
            /* Only the I/O counters count: without the domain's job
             * (NOWAIT) libvirt still names the disks, with none. */
            if (strcmp(f, "rd.bytes") == 0) {
                r->rd_bytes += u;
                r->has_block = true;
            } else if (strcmp(f, "wr.bytes") == 0) {
                r->wr_bytes += u;
                r->has_block = true;
            } else if (strcmp(f, "rd.reqs") == 0) {
                r->rd_reqs += u;
                r->has_block = true;
            } else if (strcmp(f, "wr.reqs") == 0) {
                r->wr_reqs += u;
                r->has_block = true;
            }
        } else if (parse_indexed(k, "net.", &f)) {
            r->has_net = true;
            if (strcmp(f, "rx.bytes") == 0) {
                r->rx_bytes += u;
            } else if (strcmp(f, "tx.bytes") == 0) {
                r->tx_bytes += u;
            } else if (strcmp(f, "rx.pkts") == 0) {
                r->rx_pkts += u;
            } else if (strcmp(f, "tx.pkts") == 0) {
                r->tx_pkts += u;
            }
        }
    }
    r->migrated_away = r->state == DOM_STATE_SHUTOFF &&
                       r->reason == VIR_DOMAIN_SHUTOFF_MIGRATED;
}

static double
typed_param_value(const virTypedParameter *p, bool *ret_is_num)
{
    *ret_is_num = true;
    switch (p->type) {
    case VIR_TYPED_PARAM_INT:
        return p->value.i;
    case VIR_TYPED_PARAM_UINT:
        return p->value.ui;
    case VIR_TYPED_PARAM_LLONG:
        return (double) p->value.l;
    case VIR_TYPED_PARAM_ULLONG:
        return (double) p->value.ul;
    case VIR_TYPED_PARAM_DOUBLE:
        return p->value.d;
    case VIR_TYPED_PARAM_BOOLEAN:
        return p->value.b;
    default:
        *ret_is_num = false;
        return NAN;
    }
}

/* URI -> how many block-stats holds (GUINT_TO_POINTER). */
static GMutex holds_lock;
static GHashTable *holds;

void
sys_virt_hold_block_stats(const char *uri)
{
    g_mutex_lock(&holds_lock);
    if (!holds) {
        holds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    }
    g_hash_table_replace(
        holds, g_strdup(uri),
        GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(holds, uri)) +
                         1));
    g_mutex_unlock(&holds_lock);
}

void
sys_virt_release_block_stats(const char *uri)
{
    guint n;

    g_mutex_lock(&holds_lock);
    n = holds ? GPOINTER_TO_UINT(g_hash_table_lookup(holds, uri)) : 0;
    if (n > 1) {
        g_hash_table_replace(holds, g_strdup(uri), GUINT_TO_POINTER(n - 1));
    } else if (n == 1) {
        g_hash_table_remove(holds, uri);
    }
    g_mutex_unlock(&holds_lock);
}

unsigned
sys_virt_stats_groups(const char *uri)
{
    unsigned stats = VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL |
                     VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU |
                     VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_DIRTYRATE;
    bool held;

    g_mutex_lock(&holds_lock);
    held = holds && uri && g_hash_table_contains(holds, uri);
    g_mutex_unlock(&holds_lock);
    return held ? stats : stats | VIR_DOMAIN_STATS_BLOCK;
}

static GPtrArray *
virt_domain_stats(SysVirtConn *c, GError **error)
{
    virDomainStatsRecordPtr *records = NULL;
    unsigned stats = sys_virt_stats_groups(c->uri);
    unsigned flags = VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT;
    int64_t mono = util_clock_mono();
    int64_t wall = util_clock_wall();
    GPtrArray *out;
    int n;

    n = virConnectGetAllDomainStats(c->conn, stats, &records, flags);
    if (n < 0) {
        sys_virt_set_error(error,
                           virConnectIsAlive(c->conn) == 1
                               ? SYS_VIRT_ERROR_CALL
                               : SYS_VIRT_ERROR_DEAD,
                           "cannot get domain stats");
        return NULL;
    }
    out = g_ptr_array_new_with_free_func((GDestroyNotify) dom_raw_free);
    for (int i = 0; i < n; i++) {
        virDomainStatsRecordPtr rec = records[i];
        DomRaw *r = dom_raw_new();
        char uuid[VIR_UUID_STRING_BUFLEN];
        g_autofree const char **keys = g_new0(const char *, rec->nparams + 1);
        g_autofree double *vals = g_new0(double, rec->nparams + 1);
        int k = 0;

        if (virDomainGetUUIDString(rec->dom, uuid) == 0) {
            r->uuid = g_strdup(uuid);
        }
        r->name = g_strdup(virDomainGetName(rec->dom));
        r->mono_us = mono;
        r->wall_us = wall;
        for (int j = 0; j < rec->nparams; j++) {
            bool is_num;
            double v = typed_param_value(&rec->params[j], &is_num);

            if (is_num) {
                keys[k] = rec->params[j].field;
                vals[k] = v;
                k++;
            }
        }
        sys_virt_fill_raw(keys, vals, k, r);
        if (!r->uuid || !r->name) {
            dom_raw_free(r);
            continue;
        }
        g_ptr_array_add(out, r);
    }
    virDomainStatsRecordListFree(records);
    return out;
}

/*
 * Node facts that do not change while a connection lives (CPU count,
 * memory size, how many counters the node reports) are read once per
 * connection, so a round costs two calls: CPU and memory counters.
 */
static bool
virt_node_facts(SysVirtConn *c, GError **error)
{
    virNodeInfo info;
    int n = 0;

    if (c->have_node) {
        return true;
    }
    if (virNodeGetInfo(c->conn, &info) < 0) {
        sys_virt_set_error(error, SYS_VIRT_ERROR_CALL, "cannot get node info");
        return false;
    }
    c->node_cpus = info.cpus;
    c->node_mem_kib = info.memory;
    /* Optional counters (not every driver has them): without them the
     * host's CPU % stays unknown. */
    if (virNodeGetCPUStats(c->conn, VIR_NODE_CPU_STATS_ALL_CPUS, NULL, &n, 0) ==
            0 &&
        n > 0) {
        c->ncpu_params = n;
    }
    n = 0;
    if (virNodeGetMemoryStats(c->conn, VIR_NODE_MEMORY_STATS_ALL_CELLS, NULL,
                              &n, 0) == 0 &&
        n > 0) {
        c->nmem_params = n;
    }
    virResetLastError();
    c->have_node = true;
    return true;
}

static bool
virt_host_stats(SysVirtConn *c, HostRaw *ret, GError **error)
{
    g_autofree virNodeCPUStatsPtr cpu = NULL;
    g_autofree virNodeMemoryStatsPtr mem = NULL;
    HostRaw r = {0};
    uint64_t idle = 0;
    uint64_t freek = 0;
    uint64_t bufk = 0;
    uint64_t cachek = 0;
    int n;

    r.mono_us = util_clock_mono();
    r.wall_us = util_clock_wall();
    if (!virt_node_facts(c, error)) {
        return false;
    }
    r.ncpus = c->node_cpus;
    r.mem_total_kib = c->node_mem_kib;
    n = c->ncpu_params;
    if (n > 0) {
        cpu = g_new0(virNodeCPUStats, n);
        if (virNodeGetCPUStats(c->conn, VIR_NODE_CPU_STATS_ALL_CPUS, cpu, &n,
                               0) < 0) {
            n = 0;
        }
    }
    for (int i = 0; i < n; i++) {
        if (strcmp(cpu[i].field, VIR_NODE_CPU_STATS_KERNEL) == 0 ||
            strcmp(cpu[i].field, VIR_NODE_CPU_STATS_USER) == 0) {
            r.cpu_busy_ns += cpu[i].value;
        } else if (strcmp(cpu[i].field, VIR_NODE_CPU_STATS_IDLE) == 0 ||
                   strcmp(cpu[i].field, VIR_NODE_CPU_STATS_IOWAIT) == 0) {
            idle += cpu[i].value;
        }
    }
    r.cpu_total_ns = r.cpu_busy_ns + idle;
    n = c->nmem_params;
    if (n > 0) {
        mem = g_new0(virNodeMemoryStats, n);
        if (virNodeGetMemoryStats(c->conn, VIR_NODE_MEMORY_STATS_ALL_CELLS, mem,
                                  &n, 0) < 0) {
            n = 0;
        }
    }
    for (int i = 0; i < n; i++) {
        if (strcmp(mem[i].field, VIR_NODE_MEMORY_STATS_TOTAL) == 0) {
            r.mem_total_kib = mem[i].value;
        } else if (strcmp(mem[i].field, VIR_NODE_MEMORY_STATS_FREE) == 0) {
            freek = mem[i].value;
        } else if (strcmp(mem[i].field, VIR_NODE_MEMORY_STATS_BUFFERS) == 0) {
            bufk = mem[i].value;
        } else if (strcmp(mem[i].field, VIR_NODE_MEMORY_STATS_CACHED) == 0) {
            cachek = mem[i].value;
        }
    }
    r.mem_avail_kib = freek + bufk + cachek;
    virResetLastError();
    *ret = r;
    return true;
}

static bool
virt_start_dirtyrate(SysVirtConn *c, const char *uuid, int seconds,
                     GError **error)
{
    g_autoptr(virDomain) dom = virDomainLookupByUUIDString(c->conn, uuid);

    if (!dom) {
        sys_virt_set_error(error, SYS_VIRT_ERROR_NO_DOMAIN, "no such domain");
        return false;
    }
    if (virDomainStartDirtyRateCalc(dom, seconds, 0) < 0) {
        sys_virt_set_error(error, SYS_VIRT_ERROR_CALL,
                           "cannot start dirty rate measurement");
        return false;
    }
    return true;
}

static const char *const lifecycle_names[] = {
    "defined", "undefined", "started",     "suspended", "resumed",
    "stopped", "shutdown",  "pmsuspended", "crashed",
};

static const char *
lifecycle_detail(int event, int detail)
{
    static const char *const started[] = {
        "booted", "migrated", "restored", "from-snapshot", "wakeup",
    };
    static const char *const suspended[] = {
        "paused",        "migrated",  "ioerror",  "watchdog",        "restored",
        "from-snapshot", "api-error", "postcopy", "postcopy-failed",
    };
    static const char *const resumed[] = {
        "unpaused", "migrated", "from-snapshot", "postcopy", "postcopy-failed",
    };
    static const char *const stopped[] = {
        "shutdown", "destroyed", "crashed",       "migrated",
        "saved",    "failed",    "from-snapshot",
    };
    static const char *const defined[] = {
        "added",
        "updated",
        "renamed",
        "from-snapshot",
    };
    static const char *const undefined[] = {"removed", "renamed"};
#define PICK(tbl)                                                              \
    return (detail >= 0 && (size_t) detail < G_N_ELEMENTS(tbl)) ? tbl[detail]  \
                                                                : NULL
    switch (event) {
    case VIR_DOMAIN_EVENT_STARTED:
        PICK(started);
    case VIR_DOMAIN_EVENT_SUSPENDED:
        PICK(suspended);
    case VIR_DOMAIN_EVENT_RESUMED:
        PICK(resumed);
    case VIR_DOMAIN_EVENT_STOPPED:
        PICK(stopped);
    case VIR_DOMAIN_EVENT_DEFINED:
        PICK(defined);
    case VIR_DOMAIN_EVENT_UNDEFINED:
        PICK(undefined);
    default:
        return NULL;
    }
#undef PICK
}

static void
virt_emit(SysVirtConn *c, virDomainPtr dom, const char *type,
          const char *detail)
{
    char uuid[VIR_UUID_STRING_BUFLEN] = "";

    if (!c->ev_cb) {
        return;
    }
    virDomainGetUUIDString(dom, uuid);
    c->ev_cb(uuid, virDomainGetName(dom), type, detail, c->user_data);
}

static int
virt_lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event, int detail,
                  void *opaque)
{
    const char *type =
        (event >= 0 && (size_t) event < G_N_ELEMENTS(lifecycle_names))
            ? lifecycle_names[event]
            : "lifecycle";
    const char *d = lifecycle_detail(event, detail);
    g_autofree char *dbuf = d ? NULL : g_strdup_printf("detail-%d", detail);

    virt_emit(opaque, dom, type, d ? d : dbuf);
    return 0;
}

static int
virt_io_error_cb(virConnectPtr conn, virDomainPtr dom, const char *src_path,
                 const char *dev_alias, int action, const char *reason,
                 void *opaque)
{
    g_autofree char *detail =
        g_strdup_printf("dev=%s path=%s reason=%s", dev_alias ? dev_alias : "-",
                        src_path ? src_path : "-", reason ? reason : "-");

    virt_emit(opaque, dom, "io-error", detail);
    return 0;
}

static int
virt_watchdog_cb(virConnectPtr conn, virDomainPtr dom, int action, void *opaque)
{
    g_autofree char *detail = g_strdup_printf("action=%d", action);

    virt_emit(opaque, dom, "watchdog", detail);
    return 0;
}

static int
virt_control_error_cb(virConnectPtr conn, virDomainPtr dom, void *opaque)
{
    virt_emit(opaque, dom, "control-error", NULL);
    return 0;
}

static void
virt_close_cb(virConnectPtr conn, int reason, void *opaque)
{
    SysVirtConn *c = opaque;
    static const char *const reasons[] = {
        "error",
        "end-of-file",
        "keepalive timeout",
        "client closed",
    };
    const char *r = (reason >= 0 && (size_t) reason < G_N_ELEMENTS(reasons))
                        ? reasons[reason]
                        : "unknown";

    if (c->close_cb) {
        c->close_cb(r, c->user_data);
    }
}

static bool
virt_watch(SysVirtConn *c, SysVirtEventFunc ev_cb, SysVirtCloseFunc close_cb,
           gpointer user_data, GError **error)
{
    c->ev_cb = ev_cb;
    c->close_cb = close_cb;
    c->user_data = user_data;
    c->cb_ids[0] = virConnectDomainEventRegisterAny(
        c->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
        VIR_DOMAIN_EVENT_CALLBACK(virt_lifecycle_cb), c, NULL);
    c->cb_ids[1] = virConnectDomainEventRegisterAny(
        c->conn, NULL, VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON,
        VIR_DOMAIN_EVENT_CALLBACK(virt_io_error_cb), c, NULL);
    c->cb_ids[2] = virConnectDomainEventRegisterAny(
        c->conn, NULL, VIR_DOMAIN_EVENT_ID_WATCHDOG,
        VIR_DOMAIN_EVENT_CALLBACK(virt_watchdog_cb), c, NULL);
    c->cb_ids[3] = virConnectDomainEventRegisterAny(
        c->conn, NULL, VIR_DOMAIN_EVENT_ID_CONTROL_ERROR,
        VIR_DOMAIN_EVENT_CALLBACK(virt_control_error_cb), c, NULL);
    if (c->cb_ids[0] < 0) {
        sys_virt_set_error(error, SYS_VIRT_ERROR_CALL,
                           "cannot subscribe to domain events");
        return false;
    }
    virResetLastError();
    if (virConnectRegisterCloseCallback(c->conn, virt_close_cb, c, NULL) == 0) {
        c->close_registered = true;
    }
    virResetLastError();
    return true;
}

const SysVirtOps sys_virt_libvirt_ops = {
    .open = virt_open,
    .close = virt_close,
    .is_alive = virt_is_alive,
    .hostname = virt_hostname,
    .domain_stats = virt_domain_stats,
    .host_stats = virt_host_stats,
    .start_dirtyrate = virt_start_dirtyrate,
    .watch = virt_watch,
};
