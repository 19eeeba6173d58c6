/*
 * engine/monitor.c: host workers, domain ownership, storage of samples
 * and events (see monitor.h for the picture).
 *
 * Store writes happen once per host round in one transaction.  When the
 * store refuses (disk full, I/O error), the round's rows wait in a
 * bounded in-memory queue and are written first at the next round; only
 * when that queue is full are the oldest rows dropped (and counted).
 */
#include "engine/monitor.h"
#include "engine/monitorpriv.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "model/json.h"
#include "stats/rates.h"
#include "util/clock.h"
#include "util/loop.h"

/* clang-format off */
G_DEFINE_QUARK(umbra-monitor-error-quark, monitor_error)
/* clang-format on */

#define PENDING_MAX 200000
#define FLUSH_ROWS 20000
/* Rows per transaction when writing a backlog (flush_pending()). */
#define FLUSH_CHUNK 500
#define EVENT_RING 1000
#define DIRTYRATE_EVERY_US (60 * UTIL_USEC_PER_SEC)
#define DIRTYRATE_SECONDS 1

static const char *const host_state_names[] = {
#define X(NAME, STR) STR,
    HOST_STATES(X)
#undef X
};
G_STATIC_ASSERT(G_N_ELEMENTS(host_state_names) == HOST_STATE_LAST);

const char *
host_state_to_string(HostState state)
{
    if ((int) state < 0 || state >= HOST_STATE_LAST) {
        return "unknown";
    }
    return host_state_names[state];
}

typedef struct HostWorker HostWorker;

/* What one host last reported for one domain. */
typedef struct {
    DomRaw *raw;       /* last reading on this host */
    DomSample *sample; /* rates derived from it */
} Presence;

/* One domain, identified by UUID. */
typedef struct {
    char *uuid;        /* key */
    HostWorker *owner; /* host it runs on, NULL if none */
    DomSample *latest; /* latest accepted sample */
    bool gone;         /* reported by no host any more */
    bool left;         /* its owner reports it migrated away: the next host
                        * to report it running takes it over */
} DomTrack;

struct HostWorker {
    Monitor *m;             /* back pointer */
    guint idx;              /* index in cfg->hosts */
    const ConfigHost *conf; /* borrowed from the config */
    GThread *thread;        /* the worker */

    /* Shared with the worker and the event thread, under lock. */
    GMutex lock;
    GCond cond;
    bool stop;   /* asked to stop */
    bool dead;   /* close callback fired */
    bool exited; /* worker returned */

    /* Main thread only. */
    HostState state;
    bool attempted; /* a first connection attempt finished */
    char *hostname;
    char *last_error;
    int64_t connected_since;
    int64_t retry_at;
    unsigned connects;
    int64_t last_sample;
    HostRaw prev_host;
    bool has_prev_host;
    HostSample *latest;
    GHashTable *present; /* uuid -> Presence* */
};

typedef struct {
    MonitorEventFunc func;
    gpointer data;
    guint id;
} Subscriber;

typedef enum {
    PENDING_DOM,
    PENDING_HOST,
    PENDING_EVENT,
} PendingKind;

typedef struct {
    PendingKind kind;
    gpointer item; /* DomSample*, HostSample*, UmbraEvent* */
} Pending;

struct Monitor {
    const UmbraConfig *cfg;
    const SysVirtOps *ops;
    TsdbStore *store;
    GMainContext *ctx;   /* where results are delivered */
    bool owns_ctx;       /* acquired by monitor_start() */
    GPtrArray *workers;  /* HostWorker* */
    GHashTable *domains; /* uuid -> DomTrack* */
    GArray *subscribers; /* Subscriber */
    guint next_sub_id;
    GQueue pending;            /* Pending*, oldest first */
    GQueue recent;             /* UmbraEvent*, last EVENT_RING events */
    int64_t next_mem_event_id; /* event ids when there is no store */
    MonitorCounters counters;
    guint flush_source;            /* periodic store flush */
    MonitorSampleFunc sample_func; /* observer of accepted samples */
    gpointer sample_data;
    gint alive_workers; /* atomic */
    GMutex exit_lock;
    GCond exit_cond;
};

/* ---- messages from workers to the main thread ---- */

typedef struct {
    HostWorker *w;
    HostState state;
    char *error;
    char *hostname;
    int64_t retry_at;
} StateMsg;

typedef struct {
    HostWorker *w;
    GPtrArray *raws; /* DomRaw*, NULL if the call failed */
    HostRaw host;
    bool host_ok;
    char *error;
} RoundMsg;

typedef struct {
    HostWorker *w;
    UmbraEvent *ev;
} EventMsg;

static void
presence_free(gpointer p)
{
    Presence *pr = p;

    dom_raw_free(pr->raw);
    dom_sample_free(pr->sample);
    g_free(pr);
}

static void
dom_track_free(gpointer p)
{
    DomTrack *t = p;

    g_free(t->uuid);
    dom_sample_free(t->latest);
    g_free(t);
}

static void
pending_free(Pending *p)
{
    switch (p->kind) {
    case PENDING_DOM:
        dom_sample_free(p->item);
        break;
    case PENDING_HOST:
        host_sample_free(p->item);
        break;
    case PENDING_EVENT:
        umbra_event_free(p->item);
        break;
    }
    g_free(p);
}

void
monitor_host_free(MonitorHost *h)
{
    if (!h) {
        return;
    }
    g_free(h->name);
    g_free(h->uri);
    g_free(h->cell);
    g_free(h->hostname);
    g_free(h->last_error);
    host_sample_free(h->latest);
    g_free(h);
}

Monitor *
monitor_new(const UmbraConfig *cfg, const SysVirtOps *ops, TsdbStore *store)
{
    Monitor *m = g_new0(Monitor, 1);

    m->cfg = cfg;
    m->ops = ops;
    m->store = store;
    m->workers = g_ptr_array_new();
    m->domains =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, dom_track_free);
    m->subscribers = g_array_new(FALSE, TRUE, sizeof(Subscriber));
    m->next_sub_id = 1;
    g_queue_init(&m->pending);
    g_queue_init(&m->recent);
    g_mutex_init(&m->exit_lock);
    g_cond_init(&m->exit_cond);
    for (guint i = 0; i < cfg->hosts->len; i++) {
        HostWorker *w = g_new0(HostWorker, 1);

        w->m = m;
        w->idx = i;
        w->conf = g_ptr_array_index(cfg->hosts, i);
        g_mutex_init(&w->lock);
        g_cond_init(&w->cond);
        w->state = HOST_STATE_CONNECTING;
        w->present = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                           presence_free);
        g_ptr_array_add(m->workers, w);
    }
    return m;
}

/* ---- worker thread ---- */

static bool
worker_should_stop(HostWorker *w)
{
    bool stop;

    g_mutex_lock(&w->lock);
    stop = w->stop;
    g_mutex_unlock(&w->lock);
    return stop;
}

/* Sleeps until @deadline (monotonic us); returns early when asked to
 * stop or when the connection died.  Returns: true if woken early. */
static bool
worker_wait_until(HostWorker *w, int64_t deadline)
{
    bool woken = false;

    g_mutex_lock(&w->lock);
    while (!w->stop && !w->dead) {
        if (!g_cond_wait_until(&w->cond, &w->lock, deadline)) {
            break;
        }
    }
    woken = w->stop || w->dead;
    g_mutex_unlock(&w->lock);
    return woken;
}

static void flush_pending(Monitor *m);
static gboolean apply_state(gpointer data);
static gboolean apply_round(gpointer data);
static gboolean apply_event(gpointer data);

static void
post_state(HostWorker *w, HostState state, const char *error,
           const char *hostname, int64_t retry_at)
{
    StateMsg *msg = g_new0(StateMsg, 1);

    msg->w = w;
    msg->state = state;
    msg->error = g_strdup(error);
    msg->hostname = g_strdup(hostname);
    msg->retry_at = retry_at;
    util_context_post(w->m->ctx, apply_state, msg);
}

static void
worker_event_cb(const char *uuid, const char *name, const char *type,
                const char *detail, gpointer user_data)
{
    HostWorker *w = user_data;
    EventMsg *msg = g_new0(EventMsg, 1);

    msg->w = w;
    msg->ev = umbra_event_new(EVENT_SOURCE_LIBVIRT, w->conf->name, name,
                              uuid && *uuid ? uuid : NULL, type, detail);
    msg->ev->wall_us = util_clock_wall();
    util_context_post(w->m->ctx, apply_event, msg);
}

static void
worker_close_cb(const char *reason, gpointer user_data)
{
    HostWorker *w = user_data;

    g_mutex_lock(&w->lock);
    w->dead = true;
    g_cond_broadcast(&w->cond);
    g_mutex_unlock(&w->lock);
}

static void
worker_dirtyrate(HostWorker *w, SysVirtConn *conn, GPtrArray *raws,
                 GHashTable *last_calc, int64_t now)
{
    const SysVirtOps *ops = w->m->ops;

    if (!ops->start_dirtyrate) {
        return;
    }
    for (guint i = 0; i < raws->len; i++) {
        DomRaw *r = g_ptr_array_index(raws, i);
        gpointer last = g_hash_table_lookup(last_calc, r->uuid);

        if (r->state != DOM_STATE_RUNNING) {
            continue;
        }
        if (last && now - *(int64_t *) last < DIRTYRATE_EVERY_US) {
            continue;
        }
        if (!last) {
            last = g_new0(int64_t, 1);
            g_hash_table_insert(last_calc, g_strdup(r->uuid), last);
        }
        *(int64_t *) last = now;
        /* Best effort: not every hypervisor measures it. */
        ops->start_dirtyrate(conn, r->uuid, DIRTYRATE_SECONDS, NULL);
    }
}

static gpointer
worker_main(gpointer data)
{
    HostWorker *w = data;
    Monitor *m = w->m;
    const SysVirtOps *ops = m->ops;
    const UmbraConfig *cfg = m->cfg;
    SysVirtConn *conn = NULL;
    int64_t interval = cfg->interval_s * UTIL_USEC_PER_SEC;
    int64_t backoff = cfg->reconnect_min_s * UTIL_USEC_PER_SEC;
    int64_t next_tick = 0;
    g_autoptr(GHashTable) last_calc =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

    while (!worker_should_stop(w)) {
        g_autoptr(GError) err = NULL;
        RoundMsg *round;
        bool dead;

        if (!conn) {
            post_state(w, HOST_STATE_CONNECTING, NULL, NULL, 0);
            g_mutex_lock(&w->lock);
            w->dead = false;
            g_mutex_unlock(&w->lock);
            conn = ops->open(w->conf->uri, cfg->keepalive_interval_s,
                             cfg->keepalive_count, &err);
            if (conn &&
                !ops->watch(conn, worker_event_cb, worker_close_cb, w, &err)) {
                ops->close(conn);
                conn = NULL;
            }
            if (!conn) {
                int64_t until = util_clock_mono() + backoff;

                post_state(w, HOST_STATE_BACKOFF, err->message, NULL,
                           util_clock_wall() + backoff);
                worker_wait_until(w, until);
                g_mutex_lock(&w->lock);
                w->dead = false;
                g_mutex_unlock(&w->lock);
                backoff =
                    MIN(backoff * 2, cfg->reconnect_max_s * UTIL_USEC_PER_SEC);
                continue;
            } else {
                g_autofree char *hostname = ops->hostname(conn, NULL);

                backoff = cfg->reconnect_min_s * UTIL_USEC_PER_SEC;
                post_state(w, HOST_STATE_CONNECTED, NULL, hostname, 0);
                next_tick = util_clock_mono();
            }
        }
        if (next_tick > util_clock_mono()) {
            worker_wait_until(w, next_tick);
        }
        if (worker_should_stop(w)) {
            break;
        }
        g_mutex_lock(&w->lock);
        dead = w->dead;
        g_mutex_unlock(&w->lock);
        if (dead || !ops->is_alive(conn)) {
            ops->close(conn);
            conn = NULL;
            post_state(w, HOST_STATE_BACKOFF, "connection to libvirtd lost",
                       NULL, util_clock_wall() + backoff);
            worker_wait_until(w, util_clock_mono() + backoff);
            continue;
        }

        round = g_new0(RoundMsg, 1);
        round->w = w;
        round->raws = ops->domain_stats(conn, &err);
        if (!round->raws) {
            round->error = g_strdup(err->message);
            g_clear_error(&err);
        } else {
            round->host_ok = ops->host_stats(conn, &round->host, &err);
            if (!round->host_ok) {
                round->error = g_strdup(err->message);
                g_clear_error(&err);
            }
            worker_dirtyrate(w, conn, round->raws, last_calc,
                             util_clock_mono());
        }
        if (!round->raws && !ops->is_alive(conn)) {
            g_free(round->error);
            g_free(round);
            continue; /* noticed as dead at the top of the loop */
        }
        util_context_post(m->ctx, apply_round, round);

        next_tick += interval;
        if (next_tick <= util_clock_mono()) {
            /* Late (a slow call): sample again at once, at the latest
             * tick of the grid, so a slow round costs one late sample
             * rather than a missing one. */
            int64_t behind = util_clock_mono() - next_tick;

            next_tick += behind / interval * interval;
        }
    }
    if (conn) {
        ops->close(conn);
    }
    g_mutex_lock(&m->exit_lock);
    g_atomic_int_dec_and_test(&m->alive_workers);
    w->exited = true;
    g_cond_broadcast(&m->exit_cond);
    g_mutex_unlock(&m->exit_lock);
    return NULL;
}

static gboolean
on_flush_timer(gpointer data)
{
    flush_pending(data);
    return G_SOURCE_CONTINUE;
}

void
monitor_start(Monitor *m)
{
    GSource *src;

    m->ctx = g_main_context_ref_thread_default();
    m->owns_ctx = g_main_context_acquire(m->ctx);
    if (!m->owns_ctx) {
        g_warning("monitor: another thread owns the main context; results "
                  "may be handled there");
    }
    /* One store transaction per interval for all hosts' rounds, rather
     * than one per host round: fewer commits, less WAL traffic. */
    src = g_timeout_source_new((guint) (m->cfg->interval_s * 1000));
    g_source_set_callback(src, on_flush_timer, m, NULL);
    m->flush_source = g_source_attach(src, m->ctx);
    g_source_unref(src);
    for (guint i = 0; i < m->workers->len; i++) {
        HostWorker *w = g_ptr_array_index(m->workers, i);
        g_autofree char *name = g_strdup_printf("host-%s", w->conf->name);

        g_atomic_int_inc(&m->alive_workers);
        w->thread = g_thread_new(name, worker_main, w);
    }
}

void
monitor_stop(Monitor *m, int timeout_ms)
{
    int64_t deadline = g_get_monotonic_time() + (int64_t) timeout_ms * 1000;

    for (guint i = 0; i < m->workers->len; i++) {
        HostWorker *w = g_ptr_array_index(m->workers, i);

        g_mutex_lock(&w->lock);
        w->stop = true;
        g_cond_broadcast(&w->cond);
        g_mutex_unlock(&w->lock);
    }
    g_mutex_lock(&m->exit_lock);
    while (g_atomic_int_get(&m->alive_workers) > 0) {
        if (!g_cond_wait_until(&m->exit_cond, &m->exit_lock, deadline)) {
            break;
        }
    }
    g_mutex_unlock(&m->exit_lock);
    for (guint i = 0; i < m->workers->len; i++) {
        HostWorker *w = g_ptr_array_index(m->workers, i);

        if (w->thread && w->exited) {
            g_thread_join(w->thread);
            w->thread = NULL;
        }
    }
    /* Deliver what the workers posted before they stopped. */
    while (m->ctx && g_main_context_iteration(m->ctx, FALSE)) {
    }
    if (m->flush_source) {
        g_source_destroy(
            g_main_context_find_source_by_id(m->ctx, m->flush_source));
        m->flush_source = 0;
    }
    flush_pending(m);
}

void
monitor_free(Monitor *m)
{
    if (!m) {
        return;
    }
    for (guint i = 0; i < m->workers->len; i++) {
        HostWorker *w = g_ptr_array_index(m->workers, i);

        if (w->thread) {
            /* Still blocked in libvirt: leave it to process exit. */
            continue;
        }
        g_hash_table_unref(w->present);
        host_sample_free(w->latest);
        g_free(w->hostname);
        g_free(w->last_error);
        g_mutex_clear(&w->lock);
        g_cond_clear(&w->cond);
        g_free(w);
    }
    g_ptr_array_unref(m->workers);
    g_hash_table_unref(m->domains);
    g_array_unref(m->subscribers);
    g_queue_clear_full(&m->pending, (GDestroyNotify) pending_free);
    g_queue_clear_full(&m->recent, (GDestroyNotify) umbra_event_free);
    if (m->ctx) {
        if (m->owns_ctx) {
            g_main_context_release(m->ctx);
        }
        g_main_context_unref(m->ctx);
    }
    g_mutex_clear(&m->exit_lock);
    g_cond_clear(&m->exit_cond);
    g_free(m);
}

/* ---- main thread: store ---- */

static void
pending_push(Monitor *m, PendingKind kind, gpointer item)
{
    Pending *p = g_new0(Pending, 1);

    p->kind = kind;
    p->item = item;
    g_queue_push_tail(&m->pending, p);
    if (kind == PENDING_DOM) {
        m->counters.samples_pending++;
    }
    while (m->pending.length > PENDING_MAX) {
        Pending *old = g_queue_pop_head(&m->pending);

        if (old->kind == PENDING_DOM) {
            m->counters.samples_pending--;
            m->counters.samples_dropped++;
        }
        pending_free(old);
    }
}

static bool
store_one(Monitor *m, Pending *p, GError **error)
{
    switch (p->kind) {
    case PENDING_DOM:
        return tsdb_store_add_dom_sample(m->store, p->item, error);
    case PENDING_HOST:
        return tsdb_store_add_host_sample(m->store, p->item, error);
    case PENDING_EVENT:
        return tsdb_store_add_event(m->store, p->item, error);
    }
    return false;
}

/* Writes the pending rows, oldest first, in transactions of at most
 * FLUSH_CHUNK rows, so that after a full disk has some room again the
 * backlog goes out in pieces that fit (one transaction for everything
 * could need more room than there is, and would never fit).  On failure
 * the rows not yet committed stay queued; the store rolled the
 * transaction back. */
static void
flush_pending(Monitor *m)
{
    g_autoptr(GError) err = NULL;

    if (!m->store) {
        return;
    }
    while (m->pending.length > 0) {
        guint n = 0;
        GList *l;

        if (!tsdb_store_begin(m->store, &err)) {
            goto fail;
        }
        for (l = m->pending.head; l && n < FLUSH_CHUNK; l = l->next) {
            if (!store_one(m, l->data, &err)) {
                tsdb_store_rollback(m->store);
                goto fail;
            }
            n++;
        }
        if (!tsdb_store_commit(m->store, &err)) {
            goto fail;
        }
        while (n-- > 0) {
            Pending *p = g_queue_pop_head(&m->pending);

            if (p->kind == PENDING_DOM) {
                m->counters.samples_pending--;
                m->counters.samples_written++;
            }
            pending_free(p);
        }
    }
    return;

fail : {
    static int64_t last_warn;
    int64_t now = util_clock_mono();

    if (now - last_warn > 60 * UTIL_USEC_PER_SEC) {
        last_warn = now;
        g_message("store write failed, %u rows kept in memory: %s",
                  m->pending.length, err ? err->message : "unknown");
    }
}
}

/* ---- main thread: events ---- */

static void
remember_event(Monitor *m, const UmbraEvent *ev)
{
    g_queue_push_tail(&m->recent, umbra_event_copy(ev));
    while (m->recent.length > EVENT_RING) {
        umbra_event_free(g_queue_pop_head(&m->recent));
    }
}

void
monitor_post_event(Monitor *m, UmbraEvent *ev)
{
    g_autoptr(GError) err = NULL;

    if (!ev->wall_us) {
        ev->wall_us = util_clock_wall();
    }
    /* Events are rare and their ids order the event stream: write the
     * queued samples first, then the event at once, so it has its id. */
    if (m->store) {
        flush_pending(m);
    }
    if (m->store && m->pending.length == 0 &&
        tsdb_store_add_event(m->store, ev, &err)) {
        /* Stored: ev->id is the store's id. */
    } else if (m->store) {
        /* Kept for the store; its id is known once it is written. */
        ev->id = 0;
        pending_push(m, PENDING_EVENT, umbra_event_copy(ev));
    } else {
        ev->id = ++m->next_mem_event_id;
    }
    remember_event(m, ev);
    for (guint i = 0; i < m->subscribers->len; i++) {
        Subscriber *s = &g_array_index(m->subscribers, Subscriber, i);

        s->func(ev, s->data);
    }
    umbra_event_free(ev);
}

static void
post_daemon_event(Monitor *m, HostWorker *w, const char *domain,
                  const char *uuid, const char *type, const char *detail)
{
    monitor_post_event(m, umbra_event_new(EVENT_SOURCE_DAEMON,
                                          w ? w->conf->name : NULL, domain,
                                          uuid, type, detail));
}

static gboolean
apply_event(gpointer data)
{
    EventMsg *msg = data;

    monitor_post_event(msg->w->m, msg->ev);
    g_free(msg);
    return G_SOURCE_REMOVE;
}

static gboolean
apply_state(gpointer data)
{
    StateMsg *msg = data;
    HostWorker *w = msg->w;
    Monitor *m = w->m;
    HostState old = w->state;

    w->state = msg->state;
    w->retry_at = msg->retry_at;
    if (msg->state != HOST_STATE_CONNECTING) {
        w->attempted = true;
    }
    if (msg->state == HOST_STATE_CONNECTED) {
        g_free(w->hostname);
        w->hostname = g_steal_pointer(&msg->hostname);
        g_clear_pointer(&w->last_error, g_free);
        w->connected_since = util_clock_wall();
        w->has_prev_host = false;
        post_daemon_event(m, w, NULL, NULL,
                          w->connects++ ? "host-reconnected" : "host-connected",
                          w->conf->uri);
    } else if (msg->state == HOST_STATE_BACKOFF) {
        bool changed = !w->last_error || !msg->error ||
                       strcmp(w->last_error, msg->error) != 0;

        g_free(w->last_error);
        w->last_error = g_steal_pointer(&msg->error);
        w->connected_since = 0;
        if (old == HOST_STATE_CONNECTED) {
            post_daemon_event(m, w, NULL, NULL, "host-disconnected",
                              w->last_error);
        } else if (changed) {
            post_daemon_event(m, w, NULL, NULL, "host-connect-failed",
                              w->last_error);
        }
    }
    g_free(msg->error);
    g_free(msg->hostname);
    g_free(msg);
    return G_SOURCE_REMOVE;
}

/* ---- main thread: rounds ---- */

static bool
track_owner_stale(Monitor *m, DomTrack *t)
{
    int64_t limit = 3 * m->cfg->interval_s * UTIL_USEC_PER_SEC;

    if (!t->owner || t->owner->state != HOST_STATE_CONNECTED) {
        return true;
    }
    return !t->latest || util_clock_wall() - t->latest->wall_us > limit;
}

static void
accept_sample(Monitor *m, DomTrack *t, HostWorker *w, const DomSample *s)
{
    /* The host it last ran on: the owner, or (after a release) the host
     * of the latest sample. */
    const char *from = t->owner    ? t->owner->conf->name
                       : t->latest ? t->latest->host
                                   : NULL;

    if (from && strcmp(from, w->conf->name) != 0) {
        g_autofree char *detail =
            g_strdup_printf("from %s to %s", from, w->conf->name);

        post_daemon_event(m, w, s->name, t->uuid, "domain-moved", detail);
    } else if (!t->owner && !t->latest) {
        post_daemon_event(m, w, s->name, t->uuid, "domain-discovered",
                          dom_state_to_string(s->state));
    }
    t->owner = w;
    t->gone = false;
    t->left = false;
    dom_sample_free(t->latest);
    t->latest = dom_sample_copy(s);
    if (m->sample_func) {
        m->sample_func(s, m->sample_data);
    }
    if (m->store) {
        pending_push(m, PENDING_DOM, dom_sample_copy(s));
    } else {
        m->counters.samples_written++;
    }
}

/* A host stopped reporting @t: hand it to another host that runs it. */
static void
track_release(Monitor *m, DomTrack *t)
{
    t->owner = NULL;
    for (guint i = 0; i < m->workers->len; i++) {
        HostWorker *o = g_ptr_array_index(m->workers, i);
        Presence *pr = g_hash_table_lookup(o->present, t->uuid);

        if (pr && pr->raw->state == DOM_STATE_RUNNING) {
            accept_sample(m, t, o, pr->sample);
            return;
        }
    }
    t->gone = true;
}

static gboolean
apply_round(gpointer data)
{
    RoundMsg *r = data;
    HostWorker *w = r->w;
    Monitor *m = w->m;
    g_autoptr(GHashTable) seen = NULL;
    GHashTableIter it;
    gpointer key, value;
    unsigned owned = 0;

    if (w->state != HOST_STATE_CONNECTED) {
        /* A round that raced with a disconnect: still valid data. */
    }
    if (!r->raws) {
        g_free(w->last_error);
        w->last_error = g_steal_pointer(&r->error);
        g_free(r);
        return G_SOURCE_REMOVE;
    }
    m->counters.rounds++;
    w->last_sample = util_clock_wall();
    seen = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < r->raws->len; i++) {
        DomRaw *raw = g_ptr_array_index(r->raws, i);
        Presence *prev = g_hash_table_lookup(w->present, raw->uuid);
        DomTrack *t = g_hash_table_lookup(m->domains, raw->uuid);
        Presence *pr = g_new0(Presence, 1);
        bool accept;

        pr->sample = dom_sample_new();
        stats_rates_derive_dom(prev ? prev->raw : NULL, raw, pr->sample);
        pr->sample->uuid = g_strdup(raw->uuid);
        pr->sample->name = g_strdup(raw->name);
        pr->sample->host = g_strdup(w->conf->name);
        pr->sample->cell = g_strdup(w->conf->cell);
        pr->raw = dom_raw_copy(raw);
        stats_rates_carry_block(pr->raw, prev ? prev->raw : NULL);

        if (!t) {
            t = g_new0(DomTrack, 1);
            t->uuid = g_strdup(raw->uuid);
            g_hash_table_insert(m->domains, t->uuid, t);
        }
        if (raw->migrated_away && t->owner == w && t->latest &&
            t->latest->state != DOM_STATE_SHUTOFF && !track_owner_stale(m, t)) {
            /* The definition a live migration left behind: the domain runs
             * elsewhere now, and its "shut off" here is no sample of it.
             * The host it went to takes it over at its next round; a host
             * umbra does not watch never does, and once the owner's sample
             * is stale this one is recorded after all (and from then on,
             * the latest sample being "shut off"). */
            accept = false;
            t->left = true;
        } else if (!t->owner || t->owner == w) {
            accept = true;
        } else if (raw->state == DOM_STATE_RUNNING) {
            accept = !t->latest || t->latest->state != DOM_STATE_RUNNING ||
                     t->left || track_owner_stale(m, t);
        } else {
            /* Not running here and another host has it (e.g. the paused
             * target of a live migration, or a stale definition). */
            accept = track_owner_stale(m, t) &&
                     (!t->latest || t->latest->state != DOM_STATE_RUNNING);
        }
        if (accept) {
            accept_sample(m, t, w, pr->sample);
        }
        g_hash_table_add(seen, pr->raw->uuid);
        g_hash_table_replace(w->present, g_strdup(raw->uuid), pr);
    }

    /* Domains this host no longer reports. */
    g_hash_table_iter_init(&it, w->present);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        DomTrack *t;

        if (g_hash_table_contains(seen, key)) {
            continue;
        }
        t = g_hash_table_lookup(m->domains, key);
        g_hash_table_iter_remove(&it);
        if (t && t->owner == w) {
            track_release(m, t);
        }
    }
    g_hash_table_iter_init(&it, m->domains);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        DomTrack *t = value;

        if (t->owner == w && t->latest && !t->gone) {
            owned++;
        }
    }

    if (r->host_ok) {
        HostSample *hs = host_sample_new();

        stats_rates_derive_host(w->has_prev_host ? &w->prev_host : NULL,
                                &r->host, hs);
        hs->host = g_strdup(w->conf->name);
        hs->cell = g_strdup(w->conf->cell);
        hs->domains = owned;
        w->prev_host = r->host;
        w->has_prev_host = true;
        host_sample_free(w->latest);
        w->latest = host_sample_copy(hs);
        if (m->store) {
            pending_push(m, PENDING_HOST, hs);
        } else {
            host_sample_free(hs);
        }
    }
    if (m->pending.length >= FLUSH_ROWS) {
        flush_pending(m);
    }

    g_ptr_array_unref(r->raws);
    g_free(r->error);
    g_free(r);
    return G_SOURCE_REMOVE;
}

/* ---- queries ---- */

static int
cmp_sample(gconstpointer a, gconstpointer b)
{
    const DomSample *x = *(DomSample *const *) a;
    const DomSample *y = *(DomSample *const *) b;
    int c;

    if ((c = g_strcmp0(x->cell, y->cell)) != 0) {
        return c;
    }
    if ((c = g_strcmp0(x->host, y->host)) != 0) {
        return c;
    }
    return g_strcmp0(x->name, y->name);
}

GPtrArray *
monitor_list_domains(Monitor *m, const char *host, const char *cell,
                     bool inactive, GError **error)
{
    GPtrArray *out;
    GHashTableIter it;
    gpointer value;

    if (host && !umbra_config_find_host(m->cfg, host)) {
        g_set_error(error, MONITOR_ERROR, MONITOR_ERROR_UNKNOWN_HOST,
                    "no host '%s' in the configuration", host);
        return NULL;
    }
    if (cell && !umbra_config_find_cell(m->cfg, cell)) {
        g_set_error(error, MONITOR_ERROR, MONITOR_ERROR_UNKNOWN_CELL,
                    "no cell '%s' in the configuration", cell);
        return NULL;
    }
    out = g_ptr_array_new_with_free_func((GDestroyNotify) dom_sample_free);
    g_hash_table_iter_init(&it, m->domains);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        DomTrack *t = value;
        bool active = t->latest && !t->gone && t->owner &&
                      t->owner->state == HOST_STATE_CONNECTED;

        if (!t->latest || (!active && !inactive)) {
            continue;
        }
        if (host && g_strcmp0(t->latest->host, host) != 0) {
            continue;
        }
        if (cell && g_strcmp0(t->latest->cell, cell) != 0) {
            continue;
        }
        g_ptr_array_add(out, dom_sample_copy(t->latest));
    }
    g_ptr_array_sort(out, cmp_sample);
    return out;
}

GPtrArray *
monitor_list_hosts(Monitor *m)
{
    GPtrArray *out =
        g_ptr_array_new_with_free_func((GDestroyNotify) monitor_host_free);

    for (guint i = 0; i < m->workers->len; i++) {
        HostWorker *w = g_ptr_array_index(m->workers, i);
        MonitorHost *h = g_new0(MonitorHost, 1);
        GHashTableIter it;
        gpointer value;

        h->name = g_strdup(w->conf->name);
        h->uri = g_strdup(w->conf->uri);
        h->cell = g_strdup(w->conf->cell);
        h->state = w->state;
        h->hostname = g_strdup(w->hostname);
        h->last_error = g_strdup(w->last_error);
        h->connected_since = w->connected_since;
        h->retry_at = w->state == HOST_STATE_BACKOFF ? w->retry_at : 0;
        h->reconnects = w->connects ? w->connects - 1 : 0;
        h->last_sample = w->last_sample;
        h->latest = w->latest ? host_sample_copy(w->latest) : NULL;
        g_hash_table_iter_init(&it, m->domains);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
            DomTrack *t = value;

            if (t->owner == w && !t->gone) {
                h->domains++;
            }
        }
        g_ptr_array_add(out, h);
    }
    return out;
}

DomSample *
monitor_find_domain(Monitor *m, const char *name_or_uuid, GError **error)
{
    DomTrack *t = g_hash_table_lookup(m->domains, name_or_uuid);
    DomTrack *best = NULL;
    GHashTableIter it;
    gpointer value;
    g_autofree char *uuid = NULL;
    g_autofree char *name = NULL;
    g_autoptr(GError) err = NULL;

    if (t && t->latest) {
        return dom_sample_copy(t->latest);
    }
    g_hash_table_iter_init(&it, m->domains);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        DomTrack *c = value;

        if (!c->latest || g_strcmp0(c->latest->name, name_or_uuid) != 0) {
            continue;
        }
        /* Prefer an active domain, then the most recently seen. */
        if (!best || (best->gone && !c->gone) ||
            (best->gone == c->gone &&
             c->latest->wall_us > best->latest->wall_us)) {
            best = c;
        }
    }
    if (best) {
        return dom_sample_copy(best->latest);
    }
    if (m->store &&
        tsdb_store_find_domain(m->store, name_or_uuid, &uuid, &name, &err)) {
        g_autoptr(GPtrArray) hist = tsdb_store_dom_history(
            m->store, uuid, util_clock_wall() - 86400 * UTIL_USEC_PER_SEC,
            100000, NULL);

        if (hist && hist->len > 0) {
            DomSample *s =
                dom_sample_copy(g_ptr_array_index(hist, hist->len - 1));
            return s;
        }
    }
    g_set_error(error, MONITOR_ERROR, MONITOR_ERROR_UNKNOWN_DOMAIN,
                "no domain '%s' on any host", name_or_uuid);
    return NULL;
}

GPtrArray *
monitor_domain_history(Monitor *m, const char *uuid, int64_t seconds,
                       guint max_points, GError **error)
{
    g_autoptr(GError) err = NULL;
    GPtrArray *out;

    if (!m->store) {
        return g_ptr_array_new_with_free_func((GDestroyNotify) dom_sample_free);
    }
    flush_pending(m);
    out = tsdb_store_dom_history(
        m->store, uuid, util_clock_wall() - seconds * UTIL_USEC_PER_SEC,
        max_points, &err);
    if (!out) {
        g_set_error(error, MONITOR_ERROR, MONITOR_ERROR_STORE,
                    "cannot read history: %s", err->message);
    }
    return out;
}

GPtrArray *
monitor_events(Monitor *m, int64_t since_id, const char *uuid, guint limit,
               GError **error)
{
    g_autoptr(GError) err = NULL;
    GPtrArray *out;

    if (m->store) {
        flush_pending(m);
    }
    if (m->store && m->pending.length == 0) {
        out = tsdb_store_events(m->store, since_id, uuid, limit, &err);
        if (out) {
            return out;
        }
    }
    /* No store, or it is failing: serve the in-memory ring. */
    out = g_ptr_array_new_with_free_func((GDestroyNotify) umbra_event_free);
    for (GList *l = m->recent.head; l; l = l->next) {
        UmbraEvent *ev = l->data;

        if ((ev->id && ev->id <= since_id) ||
            (uuid && g_strcmp0(ev->uuid, uuid) != 0)) {
            continue;
        }
        g_ptr_array_add(out, umbra_event_copy(ev));
    }
    if (out->len > limit) {
        g_ptr_array_remove_range(out, 0, out->len - limit);
    }
    return out;
}

/* ---- hook messages ---- */

bool
monitor_hook_message(Monitor *m, const char *buf, size_t len, GError **error)
{
    g_autofree char *hostname = NULL;
    UmbraEvent *ev = model_hook_message_parse(buf, len, &hostname, error);

    if (!ev) {
        return false;
    }
    for (guint i = 0; i < m->workers->len; i++) {
        HostWorker *w = g_ptr_array_index(m->workers, i);

        if (w->hostname && strcmp(w->hostname, hostname) == 0) {
            ev->host = g_strdup(w->conf->name);
            break;
        }
    }
    if (!ev->host) {
        /* A host we do not watch (or have not reached yet): keep its
         * hostname so the event is not lost. */
        ev->host = g_strdup_printf("hostname:%s", hostname);
    }
    if (!ev->uuid) {
        DomTrack *best = NULL;
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, m->domains);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
            DomTrack *t = value;

            if (t->latest && g_strcmp0(t->latest->name, ev->domain) == 0 &&
                (!best || best->gone)) {
                best = t;
            }
        }
        if (best) {
            ev->uuid = g_strdup(best->uuid);
        }
    }
    monitor_post_event(m, ev);
    return true;
}

guint
monitor_drain_spool(Monitor *m, const char *dir)
{
    g_autofree char *spool = g_build_filename(dir, "hook.jsonl", NULL);
    g_autofree char *taken = NULL;
    g_autofree char *buf = NULL;
    gsize len = 0;
    guint n = 0;
    g_auto(GStrv) lines = NULL;

    if (!g_file_test(spool, G_FILE_TEST_EXISTS)) {
        return 0;
    }
    /* Hook events name the hypervisor by hostname, which we learn when a
     * host connects: wait until every host has been tried once. */
    for (guint i = 0; i < m->workers->len; i++) {
        HostWorker *w = g_ptr_array_index(m->workers, i);

        if (!w->attempted) {
            return 0;
        }
    }
    /* Rename first so that hooks running now start a fresh file. */
    taken = g_strdup_printf("%s.%d.taken", spool, (int) getpid());
    if (rename(spool, taken) < 0) {
        return 0;
    }
    if (!g_file_get_contents(taken, &buf, &len, NULL)) {
        return 0;
    }
    lines = g_strsplit(buf, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (!**l) {
            continue;
        }
        if (monitor_hook_message(m, *l, strlen(*l), NULL)) {
            n++;
        }
    }
    unlink(taken);
    return n;
}

void
monitor_maintain(Monitor *m)
{
    g_autoptr(GError) err = NULL;

    flush_pending(m);
    if (!m->store) {
        return;
    }
    for (int i = 0; i < 20; i++) {
        TsdbMaintainStats st = {0};

        if (!tsdb_store_maintain(m->store, util_clock_wall(),
                                 m->cfg->retention_raw_s,
                                 m->cfg->retention_5m_s,
                                 m->cfg->retention_events_s, &st, &err)) {
            g_message("store maintenance failed: %s", err->message);
            return;
        }
        if (!st.more) {
            return;
        }
    }
}

void
monitor_set_sample_func(Monitor *m, MonitorSampleFunc func, gpointer data)
{
    m->sample_func = func;
    m->sample_data = data;
}

guint
monitor_subscribe(Monitor *m, MonitorEventFunc func, gpointer data)
{
    Subscriber s = {func, data, m->next_sub_id++};

    g_array_append_val(m->subscribers, s);
    return s.id;
}

void
monitor_unsubscribe(Monitor *m, guint id)
{
    for (guint i = 0; i < m->subscribers->len; i++) {
        if (g_array_index(m->subscribers, Subscriber, i).id == id) {
            g_array_remove_index(m->subscribers, i);
            return;
        }
    }
}

void
monitor_get_counters(Monitor *m, MonitorCounters *ret)
{
    GHashTableIter it;
    gpointer value;

    *ret = m->counters;
    ret->domains = 0;
    g_hash_table_iter_init(&it, m->domains);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        DomTrack *t = value;

        if (t->owner && !t->gone) {
            ret->domains++;
        }
    }
}

/* ---- test entry points (monitorpriv.h) ---- */

void
monitor_test_round_queued(Monitor *m, guint idx, GPtrArray *raws,
                          const HostRaw *host)
{
    RoundMsg *r = g_new0(RoundMsg, 1);

    r->w = g_ptr_array_index(m->workers, idx);
    r->raws = raws;
    if (host) {
        r->host = *host;
        r->host_ok = true;
    }
    apply_round(r);
}

void
monitor_test_round(Monitor *m, guint idx, GPtrArray *raws, const HostRaw *host)
{
    monitor_test_round_queued(m, idx, raws, host);
    flush_pending(m);
}

void
monitor_test_state(Monitor *m, guint idx, HostState state, const char *error,
                   const char *hostname)
{
    StateMsg *msg = g_new0(StateMsg, 1);

    msg->w = g_ptr_array_index(m->workers, idx);
    msg->state = state;
    msg->error = g_strdup(error);
    msg->hostname = g_strdup(hostname);
    apply_state(msg);
}
