/*
 * tests/unit/test-monitor.c: the monitor's bookkeeping, driven through
 * monitorpriv.h with scripted rounds (no threads, no hypervisor) and a
 * real SQLite store in a temporary directory.
 */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "cutest.h"
#include "engine/monitorpriv.h"
#include "model/json.h"
#include "util/clock.h"

#define UUID_A "11111111-2222-3333-4444-555555555555"
#define UUID_B "66666666-7777-8888-9999-000000000000"

static const char *conf_text =
    "[umbrad]\ninterval = 1\n"
    "[host:h1]\nuri = test:///default\ncell = a\n"
    "[host:h2]\nuri = test+tcp://10.0.0.2/default\ncell = b\n";

typedef struct {
    char *dir;
    UmbraConfig *cfg;
    TsdbStore *store;
    Monitor *m;
    GPtrArray *events; /* UmbraEvent* seen by a subscriber */
} Fixture;

static void
on_event(const UmbraEvent *ev, gpointer data)
{
    Fixture *f = data;

    g_ptr_array_add(f->events, umbra_event_copy(ev));
}

static void
fixture_init(Fixture *f)
{
    g_autofree char *db = NULL;

    f->dir = cutest_tmpdir();
    db = g_build_filename(f->dir, "u.db", NULL);
    f->cfg = umbra_config_parse("t.conf", conf_text, strlen(conf_text), NULL);
    f->store = tsdb_store_open(db, NULL);
    g_assert(f->cfg && f->store);
    f->m = monitor_new(f->cfg, &sys_virt_libvirt_ops, f->store);
    f->events =
        g_ptr_array_new_with_free_func((GDestroyNotify) umbra_event_free);
    monitor_subscribe(f->m, on_event, f);
    util_clock_set_fake(1000 * UTIL_USEC_PER_SEC,
                        1700000000 * UTIL_USEC_PER_SEC);
    monitor_test_state(f->m, 0, HOST_STATE_CONNECTED, NULL, "hv1");
    monitor_test_state(f->m, 1, HOST_STATE_CONNECTED, NULL, "hv2");
}

static void
fixture_clear(Fixture *f)
{
    monitor_free(f->m);
    tsdb_store_close(f->store);
    umbra_config_free(f->cfg);
    g_ptr_array_unref(f->events);
    cutest_rmdir(f->dir);
    g_free(f->dir);
    util_clock_clear_fake();
}

static DomRaw *
raw(const char *uuid, const char *name, DomState state, uint64_t cpu_ns)
{
    DomRaw *r = dom_raw_new();

    r->uuid = g_strdup(uuid);
    r->name = g_strdup(name);
    r->state = state;
    r->mono_us = util_clock_mono();
    r->wall_us = util_clock_wall();
    r->has_cpu = true;
    r->cpu_time_ns = cpu_ns;
    r->vcpus = 1;
    r->has_balloon = true;
    r->mem_current_kib = 131072;
    r->mem_max_kib = 131072;
    return r;
}

static void
round1(Fixture *f, guint host, DomRaw *a, DomRaw *b)
{
    GPtrArray *raws =
        g_ptr_array_new_with_free_func((GDestroyNotify) dom_raw_free);
    HostRaw hr = {.ncpus = 2, .mem_total_kib = 1000, .mem_avail_kib = 500};

    if (a) {
        g_ptr_array_add(raws, a);
    }
    if (b) {
        g_ptr_array_add(raws, b);
    }
    hr.mono_us = util_clock_mono();
    hr.wall_us = util_clock_wall();
    hr.cpu_total_ns = (uint64_t) util_clock_mono() * 2000;
    hr.cpu_busy_ns = hr.cpu_total_ns / 4;
    monitor_test_round(f->m, host, raws, &hr);
}

static bool
has_event(Fixture *f, const char *type)
{
    for (guint i = 0; i < f->events->len; i++) {
        UmbraEvent *ev = g_ptr_array_index(f->events, i);

        if (strcmp(ev->type, type) == 0) {
            return true;
        }
    }
    return false;
}

static void
test_list_and_rates(void)
{
    Fixture f;
    g_autoptr(GPtrArray) doms = NULL;
    g_autoptr(GError) err = NULL;
    DomSample *s;

    fixture_init(&f);
    round1(&f, 0, raw(UUID_A, "web1", DOM_STATE_RUNNING, 0), NULL);
    util_clock_advance_fake(UTIL_USEC_PER_SEC);
    round1(&f, 0, raw(UUID_A, "web1", DOM_STATE_RUNNING, 500000000), NULL);
    doms = monitor_list_domains(f.m, NULL, NULL, false, &err);
    CU_ASSERT_EQUAL_FATAL(doms->len, 1);
    s = g_ptr_array_index(doms, 0);
    CU_ASSERT_STRING_EQUAL(s->host, "h1");
    CU_ASSERT_STRING_EQUAL(s->cell, "a");
    CU_ASSERT_DOUBLE_EQUAL(s->cpu_pct, 50.0, 1e-6);
    CU_ASSERT_EQUAL(tsdb_store_count_dom_samples(f.store, UUID_A), 2);
    CU_ASSERT_TRUE(has_event(&f, "domain-discovered"));
    CU_ASSERT_TRUE(has_event(&f, "host-connected"));
    fixture_clear(&f);
}

/* The block rate of web1 as umbrad lists it now. */
static double
listed_blk_wr(Fixture *f)
{
    g_autoptr(GPtrArray) doms =
        monitor_list_domains(f->m, NULL, NULL, false, NULL);

    g_assert(doms && doms->len == 1);
    return ((DomSample *) doms->pdata[0])->blk_wr_bps;
}

/* A round without block counters (a block-stats hold while umbra runs a
 * block job on the host): that sample's block rate is unknown, its CPU
 * known, and the next round's block rate spans both intervals: no
 * reset, no spike. */
static void
test_block_gap(void)
{
    static const bool with_block[] = {true, true, false, true};
    Fixture f;
    double blk[G_N_ELEMENTS(with_block)];

    fixture_init(&f);
    for (guint i = 0; i < G_N_ELEMENTS(with_block); i++) {
        DomRaw *r =
            raw(UUID_A, "web1", DOM_STATE_RUNNING, (uint64_t) i * 500000000);

        /* 1 MiB written a second, all along. */
        r->has_block = with_block[i];
        r->wr_bytes = with_block[i] ? (uint64_t) i << 20 : 0;
        if (i) {
            util_clock_advance_fake(UTIL_USEC_PER_SEC);
            r->mono_us = util_clock_mono();
            r->wall_us = util_clock_wall();
        }
        round1(&f, 0, r, NULL);
        blk[i] = listed_blk_wr(&f);
        if (i) {
            g_autoptr(DomSample) s = monitor_find_domain(f.m, "web1", NULL);

            CU_ASSERT_DOUBLE_EQUAL(s->cpu_pct, 50.0, 1e-6);
        }
    }
    CU_ASSERT_DOUBLE_EQUAL(blk[1], 1 << 20, 1e-6);
    CU_ASSERT_TRUE(isnan(blk[2]));
    CU_ASSERT_DOUBLE_EQUAL(blk[3], 1 << 20, 1e-6);
    fixture_clear(&f);
}

static void
test_unknowns(void)
{
    Fixture f;
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    g_autoptr(GError) e3 = NULL;

    fixture_init(&f);
    CU_ASSERT_PTR_NULL(monitor_list_domains(f.m, "nohost", NULL, false, &e1));
    CU_ASSERT_EQUAL(e1->code, MONITOR_ERROR_UNKNOWN_HOST);
    CU_ASSERT_PTR_NULL(monitor_list_domains(f.m, NULL, "nocell", false, &e2));
    CU_ASSERT_EQUAL(e2->code, MONITOR_ERROR_UNKNOWN_CELL);
    CU_ASSERT_PTR_NULL(monitor_find_domain(f.m, "web9", &e3));
    CU_ASSERT_EQUAL(e3->code, MONITOR_ERROR_UNKNOWN_DOMAIN);
    CU_ASSERT_PTR_NOT_NULL(strstr(e3->message, "web9"));
    fixture_clear(&f);
}

/* A live migration h1 -> h2 as libvirt shows it: the target holds a
 * paused copy while the source runs, then the source's copy goes away
 * and the target runs.  One domain, one continuous history. */
static void
test_migration_keeps_identity(void)
{
    Fixture f;
    g_autoptr(GPtrArray) doms = NULL;
    g_autoptr(GPtrArray) hist = NULL;
    g_autoptr(DomSample) found = NULL;
    uint64_t cpu = 0;

    fixture_init(&f);
    for (int i = 0; i < 3; i++) {
        round1(&f, 0, raw(UUID_A, "web1", DOM_STATE_RUNNING, cpu), NULL);
        round1(&f, 1, NULL, NULL);
        util_clock_advance_fake(UTIL_USEC_PER_SEC);
        cpu += 100000000;
    }
    /* Migration in progress: paused copy on h2 is not the domain. */
    round1(&f, 0, raw(UUID_A, "web1", DOM_STATE_RUNNING, cpu), NULL);
    round1(&f, 1, raw(UUID_A, "web1", DOM_STATE_PAUSED, 0), NULL);
    util_clock_advance_fake(UTIL_USEC_PER_SEC);
    found = monitor_find_domain(f.m, "web1", NULL);
    CU_ASSERT_STRING_EQUAL(found->host, "h1");
    /* Switch-over: h2 runs it; h1 reports it paused then gone. */
    round1(&f, 1, raw(UUID_A, "web1", DOM_STATE_RUNNING, 50000000), NULL);
    round1(&f, 0, raw(UUID_A, "web1", DOM_STATE_PAUSED, cpu), NULL);
    util_clock_advance_fake(UTIL_USEC_PER_SEC);
    round1(&f, 1, raw(UUID_A, "web1", DOM_STATE_RUNNING, 150000000), NULL);
    round1(&f, 0, NULL, NULL);

    doms = monitor_list_domains(f.m, NULL, NULL, false, NULL);
    CU_ASSERT_EQUAL_FATAL(doms->len, 1);
    CU_ASSERT_STRING_EQUAL(((DomSample *) g_ptr_array_index(doms, 0))->host,
                           "h2");
    CU_ASSERT_DOUBLE_EQUAL(((DomSample *) g_ptr_array_index(doms, 0))->cpu_pct,
                           10.0, 1e-6);
    CU_ASSERT_TRUE(has_event(&f, "domain-moved"));
    /* Every interval has exactly one stored sample: 3 + 1 + 1 + 1. */
    hist = tsdb_store_dom_history(f.store, UUID_A, 0, 1000, NULL);
    CU_ASSERT_EQUAL(hist->len, 6);
    for (guint i = 1; hist && i < hist->len; i++) {
        DomSample *a = g_ptr_array_index(hist, i - 1);
        DomSample *b = g_ptr_array_index(hist, i);

        CU_ASSERT_EQUAL(b->wall_us - a->wall_us, UTIL_USEC_PER_SEC);
        CU_ASSERT_STRING_EQUAL(b->uuid, UUID_A);
    }
    fixture_clear(&f);
}

/* The other order: the source's round no longer has the domain before
 * the target reports it running; the move must still be recorded. */
static void
test_migration_source_first(void)
{
    Fixture f;
    g_autoptr(DomSample) found = NULL;

    fixture_init(&f);
    round1(&f, 0, raw(UUID_A, "web1", DOM_STATE_RUNNING, 0), NULL);
    round1(&f, 1, raw(UUID_A, "web1", DOM_STATE_PAUSED, 0), NULL);
    util_clock_advance_fake(UTIL_USEC_PER_SEC);
    round1(&f, 1, raw(UUID_A, "web1", DOM_STATE_RUNNING, 1000), NULL);
    round1(&f, 0, NULL, NULL);
    found = monitor_find_domain(f.m, UUID_A, NULL);
    CU_ASSERT_STRING_EQUAL(found->host, "h2");
    CU_ASSERT_TRUE(has_event(&f, "domain-moved"));
    fixture_clear(&f);
}

static DomRaw *
leftover(const char *uuid, const char *name)
{
    DomRaw *r = raw(uuid, name, DOM_STATE_SHUTOFF, 0);

    r->migrated_away = true;
    return r;
}

static guint
count_state(GPtrArray *hist, DomState state)
{
    guint n = 0;

    for (guint i = 0; hist && i < hist->len; i++) {
        n += ((DomSample *) g_ptr_array_index(hist, i))->state == state;
    }
    return n;
}

/* A live migration h1 -> h2 whose source keeps its definition a while:
 * libvirt reports it "shut off (migrated)" there.  That is no sample of
 * the domain, which runs on h2 from h2's next round on. */
static void
test_migration_leftover_skipped(void)
{
    Fixture f;
    g_autoptr(GPtrArray) hist = NULL;
    g_autoptr(DomSample) found = NULL;

    fixture_init(&f);
    for (int i = 0; i < 3; i++) {
        round1(&f, 0, raw(UUID_A, "web1", DOM_STATE_RUNNING, 0), NULL);
        round1(&f, 1, NULL, NULL);
        util_clock_advance_fake(UTIL_USEC_PER_SEC);
    }
    /* h1 sees the move done before h2 is sampled again. */
    round1(&f, 0, leftover(UUID_A, "web1"), NULL);
    round1(&f, 1, NULL, NULL);
    util_clock_advance_fake(UTIL_USEC_PER_SEC);
    round1(&f, 1, raw(UUID_A, "web1", DOM_STATE_RUNNING, 0), NULL);
    round1(&f, 0, leftover(UUID_A, "web1"), NULL);
    util_clock_advance_fake(UTIL_USEC_PER_SEC);
    round1(&f, 1, raw(UUID_A, "web1", DOM_STATE_RUNNING, 0), NULL);
    round1(&f, 0, NULL, NULL);

    found = monitor_find_domain(f.m, "web1", NULL);
    CU_ASSERT_STRING_EQUAL(found->host, "h2");
    CU_ASSERT_EQUAL(found->state, DOM_STATE_RUNNING);
    CU_ASSERT_TRUE(has_event(&f, "domain-moved"));
    hist = tsdb_store_dom_history(f.store, UUID_A, 0, 1000, NULL);
    CU_ASSERT_EQUAL(count_state(hist, DOM_STATE_SHUTOFF), 0);
    CU_ASSERT_EQUAL(hist->len, 5); /* 3 on h1, the move's round skipped, 2 */
    fixture_clear(&f);
}

/* The same move to a host umbra does not watch: nobody takes the domain
 * over, so once its last sample is more than 3 intervals old the
 * source's "shut off" is recorded, and on every round from then on. */
static void
test_migration_to_unwatched_host(void)
{
    Fixture f;
    g_autoptr(GPtrArray) hist = NULL;
    g_autoptr(DomSample) found = NULL;

    fixture_init(&f);
    for (int i = 0; i < 3; i++) {
        round1(&f, 0, raw(UUID_A, "web1", DOM_STATE_RUNNING, 0), NULL);
        util_clock_advance_fake(UTIL_USEC_PER_SEC);
    }
    /* The last running sample is 1 s old at the first of these rounds. */
    for (int i = 1; i <= 6; i++) {
        g_autoptr(GPtrArray) h = NULL;

        round1(&f, 0, leftover(UUID_A, "web1"), NULL);
        h = tsdb_store_dom_history(f.store, UUID_A, 0, 1000, NULL);
        CU_ASSERT_EQUAL(count_state(h, DOM_STATE_SHUTOFF),
                        i <= 3 ? 0 : (guint) i - 3);
        util_clock_advance_fake(UTIL_USEC_PER_SEC);
    }
    found = monitor_find_domain(f.m, "web1", NULL);
    CU_ASSERT_STRING_EQUAL(found->host, "h1");
    CU_ASSERT_EQUAL(found->state, DOM_STATE_SHUTOFF);
    hist = tsdb_store_dom_history(f.store, UUID_A, 0, 1000, NULL);
    CU_ASSERT_EQUAL(hist->len, 3 + 3);
    fixture_clear(&f);
}

static void
test_host_down_hides_domains(void)
{
    Fixture f;
    g_autoptr(GPtrArray) active = NULL;
    g_autoptr(GPtrArray) all = NULL;
    g_autoptr(GPtrArray) hosts = NULL;

    fixture_init(&f);
    round1(&f, 0, raw(UUID_A, "web1", DOM_STATE_RUNNING, 0), NULL);
    round1(&f, 1, raw(UUID_B, "db1", DOM_STATE_RUNNING, 0), NULL);
    monitor_test_state(f.m, 1, HOST_STATE_BACKOFF, "connection refused", NULL);
    active = monitor_list_domains(f.m, NULL, NULL, false, NULL);
    all = monitor_list_domains(f.m, NULL, NULL, true, NULL);
    CU_ASSERT_EQUAL(active->len, 1);
    CU_ASSERT_EQUAL(all->len, 2);
    hosts = monitor_list_hosts(f.m);
    CU_ASSERT_EQUAL(((MonitorHost *) g_ptr_array_index(hosts, 1))->state,
                    HOST_STATE_BACKOFF);
    CU_ASSERT_STRING_EQUAL(
        ((MonitorHost *) g_ptr_array_index(hosts, 1))->last_error,
        "connection refused");
    CU_ASSERT_TRUE(has_event(&f, "host-disconnected"));
    /* Reconnect counts. */
    monitor_test_state(f.m, 1, HOST_STATE_CONNECTED, NULL, "hv2");
    CU_ASSERT_TRUE(has_event(&f, "host-reconnected"));
    fixture_clear(&f);
}

static void
test_hook_message_mapped(void)
{
    Fixture f;
    g_autofree char *msg = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) evs = NULL;
    UmbraEvent *last;

    fixture_init(&f);
    round1(&f, 1, raw(UUID_B, "db1", DOM_STATE_RUNNING, 0), NULL);
    msg =
        model_hook_message_build("hv2", "db1", NULL, "stopped", "end", "-", 5);
    CU_ASSERT_TRUE(monitor_hook_message(f.m, msg, strlen(msg), &err));
    evs = monitor_events(f.m, 0, UUID_B, 10, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(evs);
    CU_ASSERT_TRUE_FATAL(evs->len >= 1);
    last = g_ptr_array_index(evs, evs->len - 1);
    CU_ASSERT_STRING_EQUAL(last->type, "stopped/end");
    CU_ASSERT_STRING_EQUAL(last->host, "h2");
    CU_ASSERT_EQUAL(last->source, EVENT_SOURCE_HOOK);
    CU_ASSERT_FALSE(monitor_hook_message(f.m, "junk", 4, NULL));
    fixture_clear(&f);
}

static void
test_spool_drain(void)
{
    Fixture f;
    g_autofree char *path = NULL;
    g_autofree char *m1 = NULL;
    g_autofree char *m2 = NULL;
    g_autofree char *text = NULL;

    fixture_init(&f);
    path = g_build_filename(f.dir, "hook.jsonl", NULL);
    m1 = model_hook_message_build("hv1", "web1", UUID_A, "prepare", "begin",
                                  "-", 1);
    m2 = model_hook_message_build("hv1", "web1", UUID_A, "start", "begin", "-",
                                  2);
    text = g_strdup_printf("%s\n%s\nnot json\n", m1, m2);
    g_file_set_contents(path, text, -1, NULL);
    CU_ASSERT_EQUAL(monitor_drain_spool(f.m, f.dir), 2);
    CU_ASSERT_FALSE(g_file_test(path, G_FILE_TEST_EXISTS));
    CU_ASSERT_EQUAL(monitor_drain_spool(f.m, f.dir), 0);
    CU_ASSERT_TRUE(has_event(&f, "start/begin"));
    fixture_clear(&f);
}

/* Spooled events wait until every host was tried, so that hostnames in
 * them can be mapped to configured hosts. */
static void
test_spool_waits_for_hosts(void)
{
    g_autofree char *dir = cutest_tmpdir();
    g_autofree char *path = g_build_filename(dir, "hook.jsonl", NULL);
    g_autofree char *msg = model_hook_message_build("hv2", "db1", UUID_B,
                                                    "start", "begin", "-", 1);
    g_autofree char *line = g_strconcat(msg, "\n", NULL);
    g_autoptr(UmbraConfig) cfg =
        umbra_config_parse("t.conf", conf_text, strlen(conf_text), NULL);
    g_autoptr(Monitor) m = monitor_new(cfg, &sys_virt_libvirt_ops, NULL);
    g_autoptr(GPtrArray) evs = NULL;

    g_file_set_contents(path, line, -1, NULL);
    CU_ASSERT_EQUAL(monitor_drain_spool(m, dir), 0);
    monitor_test_state(m, 0, HOST_STATE_BACKOFF, "refused", NULL);
    CU_ASSERT_EQUAL(monitor_drain_spool(m, dir), 0);
    CU_ASSERT_TRUE(g_file_test(path, G_FILE_TEST_EXISTS));
    monitor_test_state(m, 1, HOST_STATE_CONNECTED, NULL, "hv2");
    CU_ASSERT_EQUAL(monitor_drain_spool(m, dir), 1);
    evs = monitor_events(m, 0, UUID_B, 10, NULL);
    CU_ASSERT_EQUAL_FATAL(evs->len, 1);
    CU_ASSERT_STRING_EQUAL(((UmbraEvent *) g_ptr_array_index(evs, 0))->host,
                           "h2");
    cutest_rmdir(dir);
}

/* Events get their store id at once even while sample rows wait for the
 * periodic flush, and the event stream keeps them all, in order. */
static void
test_events_while_rows_pending(void)
{
    Fixture f;
    g_autoptr(GPtrArray) evs = NULL;
    int64_t last = 0;

    fixture_init(&f);
    round1(&f, 0, raw(UUID_A, "web1", DOM_STATE_RUNNING, 0), NULL);
    /* A round whose rows stay queued, as between the daemon's flushes. */
    {
        GPtrArray *raws =
            g_ptr_array_new_with_free_func((GDestroyNotify) dom_raw_free);

        util_clock_advance_fake(UTIL_USEC_PER_SEC);
        g_ptr_array_add(raws, raw(UUID_A, "web1", DOM_STATE_RUNNING, 10));
        monitor_test_round_queued(f.m, 0, raws, NULL);
    }
    for (int i = 0; i < 3; i++) {
        monitor_post_event(f.m, umbra_event_new(EVENT_SOURCE_HOOK, "h1", "web1",
                                                UUID_A, "start/begin", NULL));
    }
    evs = monitor_events(f.m, 0, UUID_A, 100, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(evs);
    CU_ASSERT_TRUE(evs->len >= 4);
    CU_ASSERT_EQUAL(tsdb_store_count_dom_samples(f.store, UUID_A), 2);
    for (guint i = 0; i < evs->len; i++) {
        UmbraEvent *ev = g_ptr_array_index(evs, i);

        CU_ASSERT_TRUE(ev->id > last);
        last = ev->id;
    }
    fixture_clear(&f);
}

typedef struct {
    GThread *main;
    int seen;       /* events delivered */
    int off_main;   /* of them, on another thread */
    bool connected; /* "host-connected" among them */
} ThreadWatch;

static void
on_event_thread(const UmbraEvent *ev, gpointer data)
{
    ThreadWatch *tw = data;

    tw->seen++;
    tw->off_main += g_thread_self() != tw->main;
    tw->connected |= strcmp(ev->type, "host-connected") == 0;
}

/*
 * A real worker thread (libvirt's test driver, in-process) hands its
 * results to the thread that iterates the monitor's context, and to no
 * other: while nobody iterates it (umbrad's start-up, before its main
 * loop runs), nothing is delivered, so the store and the tables are never
 * used from two threads at once.  g_main_context_invoke() would run the
 * handlers in the worker itself then (the defect of 2026-11-23: a
 * worker's "host-connected" rolled back the start-up maintenance).
 */
static void
test_results_on_owner_thread(void)
{
    static const char text[] = "[umbrad]\ninterval = 1\n"
                               "[host:h1]\nuri = test:///default\ncell = a\n";
    g_autofree char *dir = cutest_tmpdir();
    g_autofree char *db = g_build_filename(dir, "u.db", NULL);
    UmbraConfig *cfg = umbra_config_parse("t.conf", text, strlen(text), NULL);
    TsdbStore *store = tsdb_store_open(db, NULL);
    ThreadWatch tw = {.main = g_thread_self()};
    int64_t until;
    Monitor *m;

    g_assert(cfg && store);
    m = monitor_new(cfg, &sys_virt_libvirt_ops, store);
    monitor_subscribe(m, on_event_thread, &tw);
    monitor_start(m);
    /* Two intervals without iterating: the worker connects and samples. */
    g_usleep(2500 * 1000);
    CU_ASSERT_EQUAL(tw.seen, 0);
    until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!tw.connected && g_get_monotonic_time() < until) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(10 * 1000);
    }
    CU_ASSERT_TRUE(tw.connected);
    CU_ASSERT_EQUAL(tw.off_main, 0);
    monitor_stop(m, 3000);
    monitor_free(m);
    tsdb_store_close(store);
    umbra_config_free(cfg);
    cutest_rmdir(dir);
}

static const CutestCase cases[] = {
    {"list-and-rates", test_list_and_rates},
    {"block-gap", test_block_gap},
    {"unknowns", test_unknowns},
    {"migration-keeps-identity", test_migration_keeps_identity},
    {"migration-source-first", test_migration_source_first},
    {"migration-leftover-skipped", test_migration_leftover_skipped},
    {"migration-to-unwatched-host", test_migration_to_unwatched_host},
    {"host-down-hides-domains", test_host_down_hides_domains},
    {"hook-message-mapped", test_hook_message_mapped},
    {"spool-drain", test_spool_drain},
    {"spool-waits-for-hosts", test_spool_waits_for_hosts},
    {"events-while-rows-pending", test_events_while_rows_pending},
    {"results-on-owner-thread", test_results_on_owner_thread},
};

CUTEST_MAIN("monitor", cases)
