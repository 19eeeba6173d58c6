/*
 * tests/unit/test-tsdb.c: the SQLite store (tsdb/store.c), on real files
 * in a temporary directory, no mocks.
 *
 * Besides the API cases, three tests compare the store with a naive
 * in-memory model under random samples (maintain() downsampling, history
 * across raw and averaged points, the late-sample merge), one simulates a
 * full disk with PRAGMA max_page_count, one checks that the file stays
 * bounded over several days of 10 s samples, and one measures the insert
 * rate and the bytes per domain-day (printed, not asserted).
 *
 * TSDB_TEST_SEED=N replays a random run; the seed is printed.
 * TSDB_TEST_DAYS=N runs the bounded-size test for N days (default 5).
 */
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "cutest.h"
#include "util/clock.h"
#include "tsdb/store.h"

#define TSDB_STORE_PRIV_ALLOW
#include "tsdb/storepriv.h"

#define SEC G_GINT64_CONSTANT(1000000)
#define STEP (10 * SEC) /* the sampling interval */
#define MIN5 TSDB_BUCKET_US
#define DAY_S G_GINT64_CONSTANT(86400)
/* 2023-11-14T22:13:20Z plus a bit, deliberately not bucket aligned. */
#define T0 (G_GINT64_CONSTANT(1700000000) * SEC + 123457)

static char *tmpdir;
static guint32 seed;

static void
remove_tmpdir(void)
{
    if (tmpdir) {
        cutest_rmdir(tmpdir);
    }
}

/* Returns: (transfer full) a fresh path in the test directory. */
static char *
tmp_path(const char *name)
{
    if (!tmpdir) {
        tmpdir = cutest_tmpdir();
        g_assert(tmpdir);
        atexit(remove_tmpdir);
    }
    return g_build_filename(tmpdir, name, NULL);
}

static GRand *
test_rand(void)
{
    return g_rand_new_with_seed(seed);
}

static const char *
uuid_of(int i)
{
    static char buf[16][40];

    g_assert(i >= 0 && i < 16);
    g_snprintf(buf[i], sizeof(buf[i]), "5b5fb0e4-7a54-4a0e-9cfe-3b8b1a2d9d%02x",
               i);
    return buf[i];
}

/* Returns: (transfer full) a sample with random rates; NaN with
 * probability @p_nan in cpu_pct and each rate. */
static DomSample *
rand_sample(GRand *r, int dom, const char *name, const char *host,
            int64_t wall_us, double p_nan)
{
    DomSample *s = dom_sample_new();
    double *rates[] = {&s->cpu_pct,     &s->blk_rd_bps,  &s->blk_wr_bps,
                       &s->blk_rd_iops, &s->blk_wr_iops, &s->net_rx_bps,
                       &s->net_tx_bps,  &s->net_rx_pps,  &s->net_tx_pps,
                       &s->dirty_mbps};

    s->uuid = g_strdup(uuid_of(dom));
    s->name = g_strdup(name);
    s->host = g_strdup(host);
    s->cell = host ? g_strdup_printf("cell-%c", host[strlen(host) - 1]) : NULL;
    s->wall_us = wall_us;
    s->state = (DomState) g_rand_int_range(r, 0, DOM_STATE_LAST);
    s->vcpus = (unsigned) g_rand_int_range(r, 1, 9);
    s->mem_max_kib = 1048576 * (uint64_t) g_rand_int_range(r, 1, 5);
    s->mem_used_kib = (uint64_t) g_rand_int_range(r, 0, 1048576);
    for (guint i = 0; i < G_N_ELEMENTS(rates); i++) {
        *rates[i] = g_rand_double(r) < p_nan
                        ? NAN
                        : g_rand_double_range(r, 0, i == 0 ? 100 : 1e7);
    }
    return s;
}

static bool
dbl_eq(double a, double b)
{
    if (isnan(a) || isnan(b)) {
        return isnan(a) && isnan(b);
    }
    return fabs(a - b) <= 1e-9 * MAX(1.0, fabs(b));
}

static bool
str_eq(const char *a, const char *b)
{
    return g_strcmp0(a, b) == 0;
}

/* Returns: whether every field of @a and @b agrees (rates within 1e-9
 * relative, mem_used_kib within @mem_slack). */
static bool
sample_eq(const DomSample *a, const DomSample *b, uint64_t mem_slack)
{
    uint64_t dm = a->mem_used_kib > b->mem_used_kib
                      ? a->mem_used_kib - b->mem_used_kib
                      : b->mem_used_kib - a->mem_used_kib;

    return str_eq(a->uuid, b->uuid) && str_eq(a->name, b->name) &&
           str_eq(a->host, b->host) && str_eq(a->cell, b->cell) &&
           a->wall_us == b->wall_us && a->state == b->state &&
           a->vcpus == b->vcpus && dm <= mem_slack &&
           a->mem_max_kib == b->mem_max_kib && dbl_eq(a->cpu_pct, b->cpu_pct) &&
           dbl_eq(a->blk_rd_bps, b->blk_rd_bps) &&
           dbl_eq(a->blk_wr_bps, b->blk_wr_bps) &&
           dbl_eq(a->blk_rd_iops, b->blk_rd_iops) &&
           dbl_eq(a->blk_wr_iops, b->blk_wr_iops) &&
           dbl_eq(a->net_rx_bps, b->net_rx_bps) &&
           dbl_eq(a->net_tx_bps, b->net_tx_bps) &&
           dbl_eq(a->net_rx_pps, b->net_rx_pps) &&
           dbl_eq(a->net_tx_pps, b->net_tx_pps) &&
           dbl_eq(a->dirty_mbps, b->dirty_mbps);
}

static int64_t
db_int(TsdbStore *st, const char *sql)
{
    sqlite3 *db = tsdb_store_priv_get_db(st);
    sqlite3_stmt *s = NULL;
    int64_t v = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        v = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return v;
}

/* db_int() of a printf-formatted query. */
static int64_t db_intf(TsdbStore *st, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static int64_t
db_intf(TsdbStore *st, const char *fmt, ...)
{
    g_autofree char *sql = NULL;
    va_list ap;

    va_start(ap, fmt);
    sql = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return db_int(st, sql);
}

/* Returns: bytes of the pages in use (not on the free list). */
static int64_t
used_bytes(TsdbStore *st)
{
    return (db_int(st, "PRAGMA page_count") -
            db_int(st, "PRAGMA freelist_count")) *
           db_int(st, "PRAGMA page_size");
}

static int64_t
file_size(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 ? (int64_t) sb.st_size : 0;
}

static void
maintain_all(TsdbStore *st, int64_t now, int64_t raw_s, int64_t avg_s,
             int64_t ev_s, TsdbMaintainStats *ret_total)
{
    TsdbMaintainStats total = {0};
    TsdbMaintainStats one = {0};
    int calls = 0;

    do {
        g_autoptr(GError) err = NULL;

        CU_ASSERT_TRUE_FATAL(
            tsdb_store_maintain(st, now, raw_s, avg_s, ev_s, &one, &err));
        total.samples_downsampled += one.samples_downsampled;
        total.averages_written += one.averages_written;
        total.averages_deleted += one.averages_deleted;
        total.events_deleted += one.events_deleted;
        total.domains_deleted += one.domains_deleted;
        total.pages_freed += one.pages_freed;
        CU_ASSERT_FATAL(++calls < 1000);
    } while (one.more);
    if (ret_total) {
        *ret_total = total;
    }
}

/* ------------------------------------------------------------------ */

static void
test_roundtrip_nan(void)
{
    g_autofree char *path = tmp_path("roundtrip.db");
    g_autoptr(GError) err = NULL;
    g_autoptr(TsdbStore) st = tsdb_store_open(path, &err);
    g_autoptr(GRand) r = test_rand();
    g_autoptr(GPtrArray) in =
        g_ptr_array_new_with_free_func((GDestroyNotify) dom_sample_free);
    g_autoptr(GPtrArray) out = NULL;
    g_autoptr(HostSample) hs = host_sample_new();
    DomSample *s = NULL;

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_STRING_EQUAL(tsdb_store_get_path(st), path);
    for (int k = 0; k < 50; k++) {
        s = rand_sample(r, 1, "web1", k < 25 ? "h1" : "h2", T0 + k * STEP, 0.3);
        g_ptr_array_add(in, s);
    }
    /* Edge values: all NaN; Inf stored as NULL; huge counters. */
    s = g_ptr_array_index(in, 3);
    s->cpu_pct = NAN;
    s->dirty_mbps = NAN;
    s->net_rx_bps = NAN;
    s = g_ptr_array_index(in, 4);
    s->mem_max_kib = G_GUINT64_CONSTANT(1) << 50;
    s->mem_used_kib = (G_GUINT64_CONSTANT(1) << 50) - 1;
    s->blk_rd_bps = 0.1 + 0.2;
    s->cell = (g_free(s->cell), NULL);
    CU_ASSERT_TRUE_FATAL(tsdb_store_begin(st, &err));
    for (guint k = 0; k < in->len; k++) {
        CU_ASSERT_TRUE(tsdb_store_add_dom_sample(st, in->pdata[k], &err));
    }
    s = g_ptr_array_index(in, 5);
    s->net_tx_pps = INFINITY;
    CU_ASSERT_TRUE(tsdb_store_add_dom_sample(st, s, &err));
    s->net_tx_pps = NAN;
    hs->host = g_strdup("h1");
    hs->cell = g_strdup("cell-1");
    hs->wall_us = T0;
    hs->ncpus = 8;
    hs->mem_total_kib = 1 << 24;
    hs->mem_avail_kib = 1 << 23;
    hs->domains = 3;
    CU_ASSERT_TRUE(tsdb_store_add_host_sample(st, hs, &err));
    CU_ASSERT_TRUE_FATAL(tsdb_store_commit(st, &err));
    CU_ASSERT_PTR_NULL(err);

    CU_ASSERT_EQUAL(tsdb_store_count_dom_samples(st, NULL), 50);
    CU_ASSERT_EQUAL(tsdb_store_count_dom_samples(st, uuid_of(1)), 50);
    CU_ASSERT_EQUAL(tsdb_store_count_dom_samples(st, uuid_of(2)), 0);
    CU_ASSERT_EQUAL(db_int(st, "SELECT count(*) FROM host_samples"), 1);
    CU_ASSERT_EQUAL(db_int(st, "SELECT count(*) FROM host_samples"
                               " WHERE cpu_pct IS NULL"),
                    1);

    out = tsdb_store_dom_history(st, uuid_of(1), 0, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_EQUAL_FATAL(out->len, in->len);
    for (guint k = 0; k < in->len; k++) {
        CU_ASSERT_TRUE(sample_eq(out->pdata[k], in->pdata[k], 0));
    }
    /* NaN is NULL in the file. */
    CU_ASSERT_EQUAL(
        db_intf(st,
                "SELECT count(*) FROM dom_samples WHERE"
                " cpu_pct IS NULL AND dirty_mbps IS NULL"
                " AND net_rx_bps IS NULL AND wall_us = %" G_GINT64_FORMAT,
                T0 + 30 * SEC),
        1);
    /* Letter case of the UUID does not matter. */
    {
        g_autofree char *up = g_ascii_strup(uuid_of(1), -1);
        g_autoptr(GPtrArray) o2 = tsdb_store_dom_history(st, up, 0, 0, &err);

        CU_ASSERT_EQUAL(o2 ? o2->len : 0, in->len);
    }
    /* since filters; unknown domain is empty. */
    g_clear_pointer(&out, g_ptr_array_unref);
    out = tsdb_store_dom_history(st, uuid_of(1), T0 + 400 * SEC, 0, &err);
    CU_ASSERT_EQUAL(out ? out->len : 0, 10);
    g_clear_pointer(&out, g_ptr_array_unref);
    out = tsdb_store_dom_history(st, uuid_of(9), 0, 0, &err);
    CU_ASSERT_PTR_NOT_NULL(out);
    CU_ASSERT_EQUAL(out ? out->len : 1, 0);
}

static void
test_batch_rules(void)
{
    g_autofree char *path = tmp_path("batch.db");
    g_autoptr(GError) err = NULL;
    g_autoptr(TsdbStore) st = tsdb_store_open(path, &err);
    g_autoptr(GRand) r = test_rand();
    g_autoptr(DomSample) s = rand_sample(r, 0, "a", "h1", T0, 0);
    g_autoptr(DomSample) bad = dom_sample_new();

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    /* Outside a batch: its own transaction. */
    CU_ASSERT_TRUE(tsdb_store_add_dom_sample(st, s, &err));
    CU_ASSERT_EQUAL(tsdb_store_count_dom_samples(st, NULL), 1);
    /* Re-adding the same (uuid, time) replaces. */
    s->cpu_pct = 42;
    CU_ASSERT_TRUE(tsdb_store_add_dom_sample(st, s, &err));
    CU_ASSERT_EQUAL(tsdb_store_count_dom_samples(st, NULL), 1);
    CU_ASSERT_EQUAL(db_int(st, "SELECT cpu_pct FROM dom_samples"), 42);

    CU_ASSERT_FALSE(tsdb_store_commit(st, &err));
    CU_ASSERT_TRUE(g_error_matches(err, TSDB_ERROR, TSDB_ERROR_INVALID));
    g_clear_error(&err);
    CU_ASSERT_TRUE(tsdb_store_begin(st, &err));
    CU_ASSERT_FALSE(tsdb_store_begin(st, &err));
    CU_ASSERT_TRUE(g_error_matches(err, TSDB_ERROR, TSDB_ERROR_INVALID));
    g_clear_error(&err);
    CU_ASSERT_FALSE(tsdb_store_maintain(st, T0, 1, 1, 1, NULL, &err));
    CU_ASSERT_TRUE(g_error_matches(err, TSDB_ERROR, TSDB_ERROR_INVALID));
    g_clear_error(&err);
    s->wall_us += 10 * SEC;
    CU_ASSERT_TRUE(tsdb_store_add_dom_sample(st, s, &err));
    /* A batch sees its own writes; rollback drops them. */
    CU_ASSERT_EQUAL(tsdb_store_count_dom_samples(st, NULL), 2);
    tsdb_store_rollback(st);
    CU_ASSERT_EQUAL(tsdb_store_count_dom_samples(st, NULL), 1);
    /* Invalid samples are refused without touching the batch. */
    CU_ASSERT_TRUE(tsdb_store_begin(st, &err));
    CU_ASSERT_FALSE(tsdb_store_add_dom_sample(st, bad, &err));
    CU_ASSERT_TRUE(g_error_matches(err, TSDB_ERROR, TSDB_ERROR_INVALID));
    g_clear_error(&err);
    CU_ASSERT_TRUE(tsdb_store_add_dom_sample(st, s, &err));
    CU_ASSERT_TRUE(tsdb_store_commit(st, &err));
    CU_ASSERT_EQUAL(tsdb_store_count_dom_samples(st, NULL), 2);
    /* close() with an open batch rolls it back. */
    CU_ASSERT_TRUE(tsdb_store_begin(st, &err));
    s->wall_us += 10 * SEC;
    CU_ASSERT_TRUE(tsdb_store_add_dom_sample(st, s, &err));
    g_clear_pointer(&st, tsdb_store_close);
    st = tsdb_store_open(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(tsdb_store_count_dom_samples(st, NULL), 2);
    CU_ASSERT_PTR_NULL(err);
}

/* The naive model of one bucket's average. */
static DomSample *
model_average(GPtrArray *bucket, int64_t *ret_n)
{
    DomSample *last = NULL;
    DomSample *avg = NULL;
    double sums[10] = {0};
    int cnt[10] = {0};
    double mem = 0;

    for (guint k = 0; k < bucket->len; k++) {
        DomSample *s = bucket->pdata[k];
        double v[] = {s->cpu_pct,     s->blk_rd_bps,  s->blk_wr_bps,
                      s->blk_rd_iops, s->blk_wr_iops, s->net_rx_bps,
                      s->net_tx_bps,  s->net_rx_pps,  s->net_tx_pps,
                      s->dirty_mbps};

        if (!last || s->wall_us > last->wall_us) {
            last = s;
        }
        for (int i = 0; i < 10; i++) {
            if (!isnan(v[i])) {
                sums[i] += v[i];
                cnt[i]++;
            }
        }
        mem += (double) s->mem_used_kib;
    }
    avg = dom_sample_copy(last);
    {
        double *o[] = {&avg->cpu_pct,     &avg->blk_rd_bps,  &avg->blk_wr_bps,
                       &avg->blk_rd_iops, &avg->blk_wr_iops, &avg->net_rx_bps,
                       &avg->net_tx_bps,  &avg->net_rx_pps,  &avg->net_tx_pps,
                       &avg->dirty_mbps};

        for (int i = 0; i < 10; i++) {
            *o[i] = cnt[i] ? sums[i] / cnt[i] : NAN;
        }
    }
    avg->mem_used_kib = (uint64_t) llround(mem / bucket->len);
    *ret_n = bucket->len;
    return avg;
}

static void
test_maintain_model(void)
{
    g_autofree char *path = tmp_path("model.db");
    g_autoptr(GError) err = NULL;
    g_autoptr(TsdbStore) st = tsdb_store_open(path, &err);
    g_autoptr(GRand) r = test_rand();
    const int ndom = 4;
    const int64_t retention_raw = 3600;
    const int rounds = 6 * 360; /* 6 hours at 10 s */
    GPtrArray *all[4] = {NULL};
    int64_t now = T0;
    int64_t last_maint = T0;
    int64_t cut = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    for (int d = 0; d < ndom; d++) {
        all[d] =
            g_ptr_array_new_with_free_func((GDestroyNotify) dom_sample_free);
    }
    for (int k = 0; k < rounds; k++) {
        now = T0 + k * STEP;
        CU_ASSERT_TRUE_FATAL(tsdb_store_begin(st, &err));
        for (int d = 0; d < ndom; d++) {
            /* Gaps, jitter, a rename and a migration half way. */
            bool renamed = k > rounds / 2 + d * 7;
            g_autofree char *name =
                g_strdup_printf("dom%d%s", d, renamed ? "-new" : "");
            DomSample *s = NULL;

            if (g_rand_double(r) < 0.05 || (d == 3 && k % 720 < 100)) {
                continue;
            }
            s = rand_sample(r, d, name, renamed ? "h2" : "h1",
                            now - g_rand_int_range(r, 0, 2000000), 0.25);
            CU_ASSERT_TRUE(tsdb_store_add_dom_sample(st, s, &err));
            g_ptr_array_add(all[d], s);
        }
        CU_ASSERT_TRUE_FATAL(tsdb_store_commit(st, &err));
        if (now - last_maint >= SEC * 17 * 60) {
            TsdbMaintainStats again = {0};

            maintain_all(st, now, retention_raw, 30 * DAY_S, 30 * DAY_S, NULL);
            /* Idempotent: a second call right away finds nothing. */
            CU_ASSERT_TRUE(tsdb_store_maintain(
                st, now, retention_raw, 30 * DAY_S, 30 * DAY_S, &again, &err));
            CU_ASSERT_EQUAL(again.samples_downsampled, 0);
            CU_ASSERT_EQUAL(again.averages_written, 0);
            CU_ASSERT_FALSE(again.more);
            last_maint = now;
        }
    }
    maintain_all(st, now, retention_raw, 30 * DAY_S, 30 * DAY_S, NULL);
    cut = now - retention_raw * SEC;
    cut -= cut % MIN5;

    for (int d = 0; d < ndom; d++) {
        g_autoptr(GPtrArray) want =
            g_ptr_array_new_with_free_func((GDestroyNotify) dom_sample_free);
        g_autoptr(GPtrArray) got = NULL;
        g_autoptr(GPtrArray) bucket = g_ptr_array_new();
        int64_t cur = -1;
        int64_t nraw = 0;
        guint mismatches = 0;

        /* Samples are in time order per domain (jitter < interval). */
        for (guint k = 0; k <= all[d]->len; k++) {
            DomSample *s = k < all[d]->len ? all[d]->pdata[k] : NULL;
            int64_t b = s ? s->wall_us - s->wall_us % MIN5 : -2;

            if (bucket->len > 0 && b != cur) {
                int64_t n = 0;
                DomSample *avg = model_average(bucket, &n);

                g_ptr_array_add(want, avg);
                g_ptr_array_set_size(bucket, 0);
            }
            if (!s) {
                break;
            }
            if (s->wall_us < cut) {
                g_ptr_array_add(bucket, s);
                cur = b;
            } else {
                g_ptr_array_add(want, dom_sample_copy(s));
                nraw++;
            }
        }
        got = tsdb_store_dom_history(st, uuid_of(d), 0, 0, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        CU_ASSERT_EQUAL(got->len, want->len);
        for (guint k = 0; k < MIN(got->len, want->len); k++) {
            if (!sample_eq(got->pdata[k], want->pdata[k], 1)) {
                mismatches++;
            }
        }
        CU_ASSERT_EQUAL(mismatches, 0);
        CU_ASSERT_TRUE(nraw > 300);
    }
    /* 5-minute rows add up to the raw rows they replaced. */
    {
        int64_t total = 0;

        for (int d = 0; d < ndom; d++) {
            total += all[d]->len;
        }
        CU_ASSERT_EQUAL(db_int(st, "SELECT (SELECT sum(n) FROM"
                                   " dom_samples_5m) + (SELECT count(*)"
                                   " FROM dom_samples)"),
                        total);
    }
    for (int d = 0; d < ndom; d++) {
        g_ptr_array_unref(all[d]);
    }
}

static void
test_history_mixed(void)
{
    g_autofree char *path = tmp_path("history.db");
    g_autoptr(GError) err = NULL;
    g_autoptr(TsdbStore) st = tsdb_store_open(path, &err);
    g_autoptr(GPtrArray) h = NULL;
    int64_t start = T0 - T0 % MIN5;
    int64_t end = start + SEC * 3 * 3600;
    double sum = 0;
    int n = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_TRUE_FATAL(tsdb_store_begin(st, &err));
    for (int64_t t = start; t < end; t += 10 * SEC) {
        g_autoptr(DomSample) s = dom_sample_new();

        s->uuid = g_strdup(uuid_of(0));
        s->name = g_strdup("web1");
        s->wall_us = t;
        s->state = DOM_STATE_RUNNING;
        s->vcpus = 2;
        s->cpu_pct = (double) ((t - start) / (10 * SEC) % 7);
        s->mem_used_kib = 1000;
        s->net_rx_bps = 5;
        sum += s->cpu_pct;
        n++;
        CU_ASSERT_TRUE(tsdb_store_add_dom_sample(st, s, &err));
    }
    CU_ASSERT_TRUE_FATAL(tsdb_store_commit(st, &err));
    /* Raw retention 1 h: 2 h of averages (24 points), 1 h raw (360). */
    maintain_all(st, end, 3600, 7 * DAY_S, 7 * DAY_S, NULL);
    h = tsdb_store_dom_history(st, uuid_of(0), 0, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(h->len, 24 + 360);
    for (guint k = 1; k < h->len; k++) {
        const DomSample *a = h->pdata[k - 1];
        const DomSample *b = h->pdata[k];

        CU_ASSERT_TRUE(a->wall_us < b->wall_us);
    }
    {
        const DomSample *p = h->pdata[0];
        const DomSample *q = h->pdata[24];

        /* An average is reported at its last raw sample. */
        CU_ASSERT_EQUAL(p->wall_us, start + MIN5 - 10 * SEC);
        CU_ASSERT_STRING_EQUAL(p->name, "web1");
        CU_ASSERT_PTR_NULL(p->host);
        CU_ASSERT_TRUE(isnan(p->dirty_mbps));
        CU_ASSERT_DOUBLE_EQUAL(p->net_rx_bps, 5, 1e-12);
        CU_ASSERT_EQUAL(q->wall_us, start + SEC * 2 * 3600);
    }
    /* since in the averaged part: points whose last sample is >= since. */
    g_clear_pointer(&h, g_ptr_array_unref);
    h = tsdb_store_dom_history(st, uuid_of(0), start + 3600 * SEC, 0, &err);
    CU_ASSERT_EQUAL(h ? h->len : 0, 12 + 360);
    g_clear_pointer(&h, g_ptr_array_unref);
    h = tsdb_store_dom_history(st, uuid_of(0), start + 3600 * SEC + 1, 0, &err);
    CU_ASSERT_EQUAL(h ? h->len : 0, 12 + 360);
    g_clear_pointer(&h, g_ptr_array_unref);
    h = tsdb_store_dom_history(st, uuid_of(0), start + 3600 * SEC + MIN5, 0,
                               &err);
    CU_ASSERT_EQUAL(h ? h->len : 0, 11 + 360);

    /* max_points: even buckets in time, weighted means. */
    g_clear_pointer(&h, g_ptr_array_unref);
    h = tsdb_store_dom_history(st, uuid_of(0), 0, 1, &err);
    CU_ASSERT_EQUAL_FATAL(h ? h->len : 0, 1);
    {
        const DomSample *p = h->pdata[0];

        CU_ASSERT_DOUBLE_EQUAL(p->cpu_pct, sum / n, 1e-9);
        CU_ASSERT_EQUAL(p->wall_us, end - 10 * SEC);
        CU_ASSERT_EQUAL(p->mem_used_kib, 1000);
    }
    g_clear_pointer(&h, g_ptr_array_unref);
    h = tsdb_store_dom_history(st, uuid_of(0), 0, 100, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    /* 100 slices of 108 s: the averaged 2 h leave empty slices (24
     * points), the raw hour fills its 33 or 34. */
    CU_ASSERT_TRUE(h->len >= 24 + 33 && h->len <= 24 + 35);
    {
        double wsum = 0;
        int64_t prev = 0;

        for (guint k = 0; k < h->len; k++) {
            const DomSample *p = h->pdata[k];

            CU_ASSERT_TRUE(p->wall_us > prev);
            prev = p->wall_us;
            CU_ASSERT_TRUE(p->cpu_pct >= 0 && p->cpu_pct <= 6);
            CU_ASSERT_DOUBLE_EQUAL(p->net_rx_bps, 5, 1e-9);
            wsum += p->cpu_pct;
        }
        CU_ASSERT_DOUBLE_EQUAL(wsum / h->len, sum / n, 0.5);
    }
    g_clear_pointer(&h, g_ptr_array_unref);
    h = tsdb_store_dom_history(st, uuid_of(0), 0, 1000, &err);
    CU_ASSERT_EQUAL(h ? h->len : 0, 24 + 360);
}

static void
test_late_merge(void)
{
    g_autofree char *path = tmp_path("late.db");
    g_autoptr(GError) err = NULL;
    g_autoptr(TsdbStore) st = tsdb_store_open(path, &err);
    g_autoptr(GPtrArray) h = NULL;
    int64_t b = T0 - T0 % MIN5;
    const int64_t at[] = {0, 10, 20, 5, 290};
    const double cpu[] = {10, 20, 30, 60, 0};
    const DomState state[] = {DOM_STATE_RUNNING, DOM_STATE_RUNNING,
                              DOM_STATE_BLOCKED, DOM_STATE_CRASHED,
                              DOM_STATE_PAUSED};
    TsdbMaintainStats ms = {0};

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    for (int k = 0; k < 5; k++) {
        g_autoptr(DomSample) s = dom_sample_new();

        s->uuid = g_strdup(uuid_of(0));
        s->name = g_strdup("late");
        s->wall_us = b + at[k] * SEC;
        s->state = state[k];
        s->cpu_pct = cpu[k];
        s->dirty_mbps = k == 4 ? 8 : NAN;
        s->mem_used_kib = 100 * (uint64_t) (k + 1);
        CU_ASSERT_TRUE(tsdb_store_add_dom_sample(st, s, &err));
        if (k < 2) {
            continue;
        }
        CU_ASSERT_TRUE(
            tsdb_store_maintain(st, b + MIN5, 0, DAY_S, DAY_S, &ms, &err));
        CU_ASSERT_EQUAL(ms.samples_downsampled, k == 2 ? 3 : 1);
        CU_ASSERT_EQUAL(ms.averages_written, 1);
        CU_ASSERT_EQUAL(db_int(st, "SELECT count(*) FROM dom_samples"), 0);
    }
    h = tsdb_store_dom_history(st, uuid_of(0), 0, 0, &err);
    CU_ASSERT_EQUAL_FATAL(h ? h->len : 0, 1);
    {
        const DomSample *p = h->pdata[0];

        CU_ASSERT_DOUBLE_EQUAL(p->cpu_pct, 24, 1e-9);
        CU_ASSERT_EQUAL(p->state, DOM_STATE_PAUSED);
        CU_ASSERT_EQUAL(p->wall_us, b + 290 * SEC);
        CU_ASSERT_EQUAL(p->mem_used_kib, 300);
        CU_ASSERT_DOUBLE_EQUAL(p->dirty_mbps, 8, 1e-9);
    }
    CU_ASSERT_EQUAL(db_int(st, "SELECT n FROM dom_samples_5m"), 5);
}

static void
test_maintain_budget_and_retention(void)
{
    g_autofree char *path = tmp_path("budget.db");
    g_autoptr(GError) err = NULL;
    g_autoptr(TsdbStore) st = tsdb_store_open(path, &err);
    g_autoptr(GRand) r = test_rand();
    TsdbMaintainStats ms = {0};
    const int n = TSDB_MAINTAIN_BUDGET + 10000;
    int64_t end = T0 + (int64_t) n * 10 * SEC;

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_TRUE_FATAL(tsdb_store_begin(st, &err));
    for (int k = 0; k < n; k++) {
        g_autoptr(DomSample) s =
            rand_sample(r, 0, "big", "h1", T0 + k * STEP, 0.1);

        CU_ASSERT_TRUE(tsdb_store_add_dom_sample(st, s, &err));
    }
    for (int k = 0; k < 10; k++) {
        g_autoptr(HostSample) hs = host_sample_new();

        hs->host = g_strdup("h1");
        hs->wall_us = T0 + k * STEP;
        hs->cpu_pct = k;
        hs->mem_avail_kib = 10 * (uint64_t) k;
        CU_ASSERT_TRUE(tsdb_store_add_host_sample(st, hs, &err));
    }
    CU_ASSERT_TRUE_FATAL(tsdb_store_commit(st, &err));

    /* Fold everything: more than one call is needed. */
    CU_ASSERT_TRUE(tsdb_store_maintain(st, end + MIN5, 0, 30 * DAY_S,
                                       30 * DAY_S, &ms, &err));
    CU_ASSERT_TRUE(ms.more);
    CU_ASSERT_TRUE(ms.samples_downsampled <= TSDB_MAINTAIN_BUDGET + 30);
    CU_ASSERT_TRUE(ms.samples_downsampled >= TSDB_MAINTAIN_BUDGET - 30);
    maintain_all(st, end + MIN5, 0, 30 * DAY_S, 30 * DAY_S, NULL);
    CU_ASSERT_EQUAL(db_int(st, "SELECT count(*) FROM dom_samples"), 0);
    CU_ASSERT_EQUAL(db_int(st, "SELECT sum(n) FROM dom_samples_5m"), n);
    CU_ASSERT_EQUAL(db_int(st, "SELECT count(*) FROM dom_samples_5m"),
                    db_int(st, "SELECT count(DISTINCT wall_us / 300000000)"
                               " FROM dom_samples_5m"));
    CU_ASSERT_EQUAL(db_int(st, "SELECT count(*) FROM host_samples"), 0);
    CU_ASSERT_EQUAL(db_int(st, "SELECT n FROM host_samples_5m"), 10);
    CU_ASSERT_EQUAL(db_int(st, "SELECT mem_avail_kib FROM host_samples_5m"),
                    45);
    CU_ASSERT_EQUAL(db_int(st, "SELECT CAST(cpu_pct * 10 AS INTEGER)"
                               " FROM host_samples_5m"),
                    45);

    /* Retention of averages: keep the last day only. */
    maintain_all(st, end + MIN5, 0, DAY_S, DAY_S, &ms);
    CU_ASSERT_TRUE(ms.averages_deleted > 0);
    CU_ASSERT_EQUAL(db_intf(st,
                            "SELECT min(wall_us) >= %" G_GINT64_FORMAT
                            " FROM dom_samples_5m",
                            end + MIN5 - DAY_S * SEC - MIN5),
                    1);
    CU_ASSERT_TRUE(db_int(st, "SELECT count(*) FROM dom_samples_5m") <= 289);
    CU_ASSERT_TRUE(db_int(st, "SELECT count(*) FROM dom_samples_5m") >= 287);
    /* Everything expires; the domain and host are then forgotten. */
    maintain_all(st, end + 10 * DAY_S * SEC, 0, DAY_S, DAY_S, &ms);
    CU_ASSERT_EQUAL(tsdb_store_count_dom_samples(st, NULL), 0);
    CU_ASSERT_EQUAL(ms.domains_deleted, 1);
    CU_ASSERT_EQUAL(db_int(st, "SELECT count(*) FROM domains"), 0);
    CU_ASSERT_EQUAL(db_int(st, "SELECT count(*) FROM dom_labels"), 0);
    CU_ASSERT_EQUAL(db_int(st, "SELECT count(*) FROM hosts"), 0);
    CU_ASSERT_TRUE(ms.pages_freed > 0);
    /* No row (db_int() gives -1): no foreign key violation. */
    CU_ASSERT_EQUAL(db_int(st, "PRAGMA foreign_key_check"), -1);
    {
        g_autofree char *u = NULL;

        CU_ASSERT_FALSE(tsdb_store_find_domain(st, "big", &u, NULL, &err));
        CU_ASSERT_TRUE(g_error_matches(err, TSDB_ERROR, TSDB_ERROR_NOT_FOUND));
        g_clear_error(&err);
    }
    /* The store is still usable after everything was forgotten. */
    {
        g_autoptr(DomSample) s = rand_sample(r, 0, "big", "h1", end, 0);

        CU_ASSERT_TRUE(tsdb_store_add_dom_sample(st, s, &err));
        CU_ASSERT_EQUAL(tsdb_store_count_dom_samples(st, NULL), 1);
    }
}

static UmbraEvent *
mk_event(int64_t t, const char *uuid, const char *type)
{
    UmbraEvent *ev =
        umbra_event_new(EVENT_SOURCE_LIBVIRT, "h1", uuid ? "dom" : NULL, uuid,
                        type, uuid ? "detail" : NULL);

    ev->wall_us = t;
    return ev;
}

static void
test_events(void)
{
    g_autofree char *path = tmp_path("events.db");
    g_autoptr(GError) err = NULL;
    g_autoptr(TsdbStore) st = tsdb_store_open(path, &err);
    g_autoptr(GPtrArray) evs = NULL;
    int64_t ids[20] = {0};
    int64_t last_id = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    for (int k = 0; k < 20; k++) {
        g_autoptr(UmbraEvent) ev = mk_event(
            T0 + k * SEC, k % 3 == 0 ? NULL : uuid_of(k % 3), "started");

        if (k == 7) {
            ev->source = EVENT_SOURCE_HOOK;
            g_free(ev->type);
            ev->type = g_strdup("migrate/begin");
        }
        CU_ASSERT_TRUE(tsdb_store_add_event(st, ev, &err));
        CU_ASSERT_TRUE(ev->id > (k ? ids[k - 1] : 0));
        ids[k] = ev->id;
    }
    {
        g_autoptr(UmbraEvent) bad = mk_event(T0, NULL, NULL);

        CU_ASSERT_FALSE(tsdb_store_add_event(st, bad, &err));
        CU_ASSERT_EQUAL(bad->id, 0);
        g_clear_error(&err);
    }
    /* since 0: the latest @limit, oldest first. */
    evs = tsdb_store_events(st, 0, NULL, 3, &err);
    CU_ASSERT_EQUAL_FATAL(evs ? evs->len : 0, 3);
    CU_ASSERT_EQUAL(((UmbraEvent *) evs->pdata[0])->id, ids[17]);
    CU_ASSERT_EQUAL(((UmbraEvent *) evs->pdata[2])->id, ids[19]);
    g_clear_pointer(&evs, g_ptr_array_unref);
    /* since N: the first @limit after N. */
    evs = tsdb_store_events(st, ids[5], NULL, 4, &err);
    CU_ASSERT_EQUAL_FATAL(evs ? evs->len : 0, 4);
    CU_ASSERT_EQUAL(((UmbraEvent *) evs->pdata[0])->id, ids[6]);
    CU_ASSERT_EQUAL(((UmbraEvent *) evs->pdata[3])->id, ids[9]);
    {
        const UmbraEvent *e = evs->pdata[1];

        CU_ASSERT_EQUAL(e->source, EVENT_SOURCE_HOOK);
        CU_ASSERT_STRING_EQUAL(e->type, "migrate/begin");
        CU_ASSERT_STRING_EQUAL(e->host, "h1");
        CU_ASSERT_STRING_EQUAL(e->uuid, uuid_of(1));
        CU_ASSERT_STRING_EQUAL(e->detail, "detail");
        CU_ASSERT_EQUAL(e->wall_us, T0 + 7 * SEC);
    }
    g_clear_pointer(&evs, g_ptr_array_unref);
    evs = tsdb_store_events(st, ids[19], NULL, 10, &err);
    CU_ASSERT_EQUAL(evs ? evs->len : 1, 0);
    g_clear_pointer(&evs, g_ptr_array_unref);
    /* 0 = no limit. */
    evs = tsdb_store_events(st, 0, NULL, 0, &err);
    CU_ASSERT_EQUAL(evs ? evs->len : 0, 20);
    g_clear_pointer(&evs, g_ptr_array_unref);
    /* By domain (any letter case). */
    {
        g_autofree char *up = g_ascii_strup(uuid_of(2), -1);

        evs = tsdb_store_events(st, 0, up, 0, &err);
        CU_ASSERT_EQUAL_FATAL(evs ? evs->len : 0, 6);
        for (guint k = 0; k < evs->len; k++) {
            CU_ASSERT_STRING_EQUAL(((UmbraEvent *) evs->pdata[k])->uuid,
                                   uuid_of(2));
        }
        g_clear_pointer(&evs, g_ptr_array_unref);
        evs = tsdb_store_events(st, ids[10], uuid_of(2), 2, &err);
        CU_ASSERT_EQUAL_FATAL(evs ? evs->len : 0, 2);
        CU_ASSERT_EQUAL(((UmbraEvent *) evs->pdata[0])->id, ids[11]);
        CU_ASSERT_EQUAL(((UmbraEvent *) evs->pdata[1])->id, ids[14]);
        g_clear_pointer(&evs, g_ptr_array_unref);
        evs = tsdb_store_events(st, 0, uuid_of(2), 2, &err);
        CU_ASSERT_EQUAL_FATAL(evs ? evs->len : 0, 2);
        CU_ASSERT_EQUAL(((UmbraEvent *) evs->pdata[0])->id, ids[14]);
        CU_ASSERT_EQUAL(((UmbraEvent *) evs->pdata[1])->id, ids[17]);
        g_clear_pointer(&evs, g_ptr_array_unref);
    }
    /* Expiry; ids are never reused, even when no event is left. */
    {
        TsdbMaintainStats ms = {0};

        CU_ASSERT_TRUE(tsdb_store_maintain(st, T0 + 10 * SEC + 3600 * SEC, 0, 0,
                                           3600, &ms, &err));
        CU_ASSERT_EQUAL(ms.events_deleted, 10);
        evs = tsdb_store_events(st, 0, NULL, 0, &err);
        CU_ASSERT_EQUAL(evs ? evs->len : 0, 10);
        g_clear_pointer(&evs, g_ptr_array_unref);
        CU_ASSERT_TRUE(tsdb_store_maintain(st, T0 + 100 * DAY_S * SEC, 0, 0,
                                           3600, &ms, &err));
        CU_ASSERT_EQUAL(ms.events_deleted, 10);
    }
    g_clear_pointer(&st, tsdb_store_close);
    st = tsdb_store_open(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    {
        g_autoptr(UmbraEvent) ev = mk_event(T0, NULL, "daemon-start");

        ev->source = EVENT_SOURCE_DAEMON;
        CU_ASSERT_TRUE(tsdb_store_add_event(st, ev, &err));
        CU_ASSERT_TRUE(ev->id > ids[19]);
        last_id = ev->id;
    }
    evs = tsdb_store_events(st, 0, NULL, 50, &err);
    CU_ASSERT_EQUAL_FATAL(evs ? evs->len : 0, 1);
    CU_ASSERT_EQUAL(((UmbraEvent *) evs->pdata[0])->id, last_id);
    CU_ASSERT_EQUAL(((UmbraEvent *) evs->pdata[0])->source,
                    EVENT_SOURCE_DAEMON);
    CU_ASSERT_PTR_NULL(((UmbraEvent *) evs->pdata[0])->uuid);
}

static bool
add_named(TsdbStore *st, int dom, const char *name, const char *host, int64_t t)
{
    g_autoptr(DomSample) s = dom_sample_new();
    g_autoptr(GError) err = NULL;

    s->uuid = g_strdup(uuid_of(dom));
    s->name = g_strdup(name);
    s->host = g_strdup(host);
    s->cell = g_strdup("a");
    s->wall_us = t;
    return tsdb_store_add_dom_sample(st, s, &err);
}

static void
test_find_domain(void)
{
    g_autofree char *path = tmp_path("find.db");
    g_autoptr(GError) err = NULL;
    g_autoptr(TsdbStore) st = tsdb_store_open(path, &err);
    g_autofree char *up = g_ascii_strup(uuid_of(1), -1);
    char *uuid = NULL;
    char *name = NULL;

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_TRUE(add_named(st, 1, "web1", "h1", T0));
    CU_ASSERT_TRUE(add_named(st, 2, "db", "h1", T0));
    CU_ASSERT_TRUE(add_named(st, 3, "db", "h2", T0 + SEC));

    CU_ASSERT_TRUE(tsdb_store_find_domain(st, "web1", &uuid, &name, &err));
    CU_ASSERT_STRING_EQUAL(uuid, uuid_of(1));
    CU_ASSERT_STRING_EQUAL(name, "web1");
    g_clear_pointer(&uuid, g_free);
    g_clear_pointer(&name, g_free);
    CU_ASSERT_TRUE(tsdb_store_find_domain(st, up, &uuid, &name, &err));
    CU_ASSERT_STRING_EQUAL(uuid, uuid_of(1));
    CU_ASSERT_STRING_EQUAL(name, "web1");
    g_clear_pointer(&uuid, g_free);
    g_clear_pointer(&name, g_free);
    /* Two domains once called "db": the most recently seen wins. */
    CU_ASSERT_TRUE(tsdb_store_find_domain(st, "db", &uuid, NULL, &err));
    CU_ASSERT_STRING_EQUAL(uuid, uuid_of(3));
    g_clear_pointer(&uuid, g_free);
    CU_ASSERT_TRUE(add_named(st, 2, "db", "h1", T0 + 2 * SEC));
    CU_ASSERT_TRUE(tsdb_store_find_domain(st, "db", &uuid, NULL, &err));
    CU_ASSERT_STRING_EQUAL(uuid, uuid_of(2));
    g_clear_pointer(&uuid, g_free);

    /* Rename web1 -> web1-new (and migrate). */
    CU_ASSERT_TRUE(add_named(st, 1, "web1-new", "h2", T0 + 10 * SEC));
    /* A late sample with the old name does not undo the rename. */
    CU_ASSERT_TRUE(add_named(st, 1, "web1", "h1", T0 + 5 * SEC));
    CU_ASSERT_TRUE(tsdb_store_find_domain(st, "web1-new", &uuid, &name, &err));
    CU_ASSERT_STRING_EQUAL(uuid, uuid_of(1));
    CU_ASSERT_STRING_EQUAL(name, "web1-new");
    g_clear_pointer(&uuid, g_free);
    g_clear_pointer(&name, g_free);
    CU_ASSERT_TRUE(tsdb_store_find_domain(st, uuid_of(1), NULL, &name, &err));
    CU_ASSERT_STRING_EQUAL(name, "web1-new");
    g_clear_pointer(&name, g_free);
    CU_ASSERT_EQUAL(
        db_intf(st,
                "SELECT count(*) FROM domains WHERE"
                " last_host = 'h2' AND first_seen = %" G_GINT64_FORMAT
                " AND last_seen = %" G_GINT64_FORMAT,
                T0, T0 + 10 * SEC),
        1);
    uuid = g_strdup("untouched");
    CU_ASSERT_FALSE(tsdb_store_find_domain(st, "web1", &uuid, &name, &err));
    CU_ASSERT_TRUE(g_error_matches(err, TSDB_ERROR, TSDB_ERROR_NOT_FOUND));
    CU_ASSERT_STRING_EQUAL(uuid, "untouched");
    CU_ASSERT_PTR_NULL(name);
    CU_ASSERT_PTR_NOT_NULL(err ? strstr(err->message, "web1") : NULL);
    g_clear_pointer(&uuid, g_free);
    g_clear_error(&err);
    /* The history keeps each sample's own name and host. */
    {
        g_autoptr(GPtrArray) h =
            tsdb_store_dom_history(st, uuid_of(1), 0, 0, &err);

        CU_ASSERT_EQUAL_FATAL(h ? h->len : 0, 3);
        CU_ASSERT_STRING_EQUAL(((DomSample *) h->pdata[0])->name, "web1");
        CU_ASSERT_STRING_EQUAL(((DomSample *) h->pdata[1])->name, "web1");
        CU_ASSERT_STRING_EQUAL(((DomSample *) h->pdata[2])->name, "web1-new");
        CU_ASSERT_STRING_EQUAL(((DomSample *) h->pdata[2])->host, "h2");
        CU_ASSERT_STRING_EQUAL(((DomSample *) h->pdata[2])->cell, "a");
    }
}

static void
test_reopen(void)
{
    g_autofree char *path = tmp_path("reopen.db");
    g_autoptr(GError) err = NULL;
    g_autoptr(TsdbStore) st = tsdb_store_open(path, &err);
    g_autoptr(GRand) r = test_rand();
    g_autoptr(GPtrArray) before = NULL;
    g_autoptr(GPtrArray) after = NULL;
    g_autoptr(UmbraEvent) ev = mk_event(T0, uuid_of(0), "started");
    g_autofree char *name = NULL;

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_TRUE_FATAL(tsdb_store_begin(st, &err));
    for (int k = 0; k < 100; k++) {
        g_autoptr(DomSample) s =
            rand_sample(r, 0, "keep", "h1", T0 + k * STEP, 0.2);

        CU_ASSERT_TRUE(tsdb_store_add_dom_sample(st, s, &err));
    }
    CU_ASSERT_TRUE(tsdb_store_add_event(st, ev, &err));
    CU_ASSERT_TRUE_FATAL(tsdb_store_commit(st, &err));
    before = tsdb_store_dom_history(st, uuid_of(0), 0, 0, &err);
    CU_ASSERT_EQUAL(db_int(st, "PRAGMA auto_vacuum"), 2);
    CU_ASSERT_EQUAL(db_int(st, "PRAGMA foreign_keys"), 1);
    CU_ASSERT_EQUAL(db_int(st, "PRAGMA synchronous"), 1);
    CU_ASSERT_EQUAL(db_int(st, "SELECT count(*) FROM pragma_journal_mode"
                               " WHERE journal_mode = 'wal'"),
                    1);
    g_clear_pointer(&st, tsdb_store_close);

    st = tsdb_store_open(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(db_int(st, "SELECT value FROM meta"
                               " WHERE key = 'schema_version'"),
                    TSDB_SCHEMA_VERSION);
    after = tsdb_store_dom_history(st, uuid_of(0), 0, 0, &err);
    CU_ASSERT_EQUAL_FATAL(after ? after->len : 0, 100);
    for (guint k = 0; k < after->len; k++) {
        CU_ASSERT_TRUE(sample_eq(after->pdata[k], before->pdata[k], 0));
    }
    CU_ASSERT_TRUE(tsdb_store_find_domain(st, uuid_of(0), NULL, &name, &err));
    CU_ASSERT_STRING_EQUAL(name, "keep");
    {
        g_autoptr(GPtrArray) evs = tsdb_store_events(st, 0, NULL, 10, &err);

        CU_ASSERT_EQUAL_FATAL(evs ? evs->len : 0, 1);
        CU_ASSERT_EQUAL(((UmbraEvent *) evs->pdata[0])->id, ev->id);
    }
}

static GBytes *
slurp(const char *path)
{
    char *buf = NULL;
    gsize len = 0;

    if (!g_file_get_contents(path, &buf, &len, NULL)) {
        return NULL;
    }
    return g_bytes_new_take(buf, len);
}

static bool
only_file_in_dir(const char *path)
{
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    g_autofree char *shm = g_strconcat(path, "-shm", NULL);
    g_autofree char *jrn = g_strconcat(path, "-journal", NULL);

    return !g_file_test(wal, G_FILE_TEST_EXISTS) &&
           !g_file_test(shm, G_FILE_TEST_EXISTS) &&
           !g_file_test(jrn, G_FILE_TEST_EXISTS);
}

/* Opens @path expecting @code; checks the file is byte for byte unchanged
 * and that the message names it. */
static void
expect_refused(const char *path, TsdbErrorCode code)
{
    g_autoptr(GBytes) before = slurp(path);
    g_autoptr(GBytes) after = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(TsdbStore) st = NULL;
    struct stat sb1;
    struct stat sb2;

    CU_ASSERT_FATAL(stat(path, &sb1) == 0);
    st = tsdb_store_open(path, &err);
    CU_ASSERT_PTR_NULL(st);
    CU_ASSERT_TRUE(g_error_matches(err, TSDB_ERROR, code));
    CU_ASSERT_PTR_NOT_NULL(err ? strstr(err->message, path) : NULL);
    if (err && !g_error_matches(err, TSDB_ERROR, code)) {
        fprintf(stderr, "\n  unexpected: %s (%d)\n", err->message, err->code);
    }
    after = slurp(path);
    CU_ASSERT_TRUE(before && after && g_bytes_equal(before, after));
    CU_ASSERT_FATAL(stat(path, &sb2) == 0);
    CU_ASSERT_EQUAL(sb1.st_mtim.tv_sec, sb2.st_mtim.tv_sec);
    CU_ASSERT_EQUAL(sb1.st_mtim.tv_nsec, sb2.st_mtim.tv_nsec);
    CU_ASSERT_TRUE(only_file_in_dir(path));
}

static void
test_schema_too_new(void)
{
    g_autofree char *path = tmp_path("newer.db");
    g_autoptr(GError) err = NULL;
    g_autoptr(TsdbStore) st = tsdb_store_open(path, &err);
    sqlite3 *db = NULL;

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_TRUE(add_named(st, 0, "x", "h", T0));
    g_clear_pointer(&st, tsdb_store_close);
    CU_ASSERT_FATAL(sqlite3_open(path, &db) == SQLITE_OK);
    CU_ASSERT(sqlite3_exec(db,
                           "UPDATE meta SET value = '99' WHERE key ="
                           " 'schema_version'; PRAGMA journal_mode ="
                           " DELETE",
                           NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    expect_refused(path, TSDB_ERROR_SCHEMA);
    st = tsdb_store_open(path, &err);
    CU_ASSERT_PTR_NULL(st);
    CU_ASSERT_PTR_NOT_NULL(err ? strstr(err->message, "99") : NULL);
}

/* Schema 2: predictions come due after their horizon and keep their
 * outcome, incidents are counted per domain and interval, models are
 * saved and loaded; a version 1 store is migrated and keeps its data. */
static void
test_risk_records(void)
{
    g_autofree char *path = tmp_path("risk.db");
    g_autoptr(GError) err = NULL;
    g_autoptr(TsdbStore) st = tsdb_store_open(path, &err);
    g_autoptr(TsdbPrediction) p = tsdb_prediction_new();
    g_autoptr(TsdbIncident) inc = tsdb_incident_new();
    g_autoptr(GPtrArray) due = NULL;
    g_autoptr(GPtrArray) all = NULL;
    g_autofree char *body = NULL;
    sqlite3 *db = NULL;

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_TRUE(add_named(st, 0, "x", "h", T0));
    p->wall_us = T0;
    p->scope = g_strdup("domain");
    p->subject = g_strdup(uuid_of(0));
    p->name = g_strdup("x");
    p->kind = g_strdup("failure");
    p->horizon_s = 3600;
    p->prob = 0.25;
    p->threshold = 0.5;
    p->features = g_strdup("{\"drift\":0.5}");
    CU_ASSERT_TRUE(tsdb_store_add_prediction(st, p, &err));
    CU_ASSERT(p->id > 0);
    due = tsdb_store_due_predictions(st, T0 + 3599 * SEC, 10, &err);
    CU_ASSERT_FATAL(due != NULL);
    CU_ASSERT_EQUAL(due->len, 0);
    g_clear_pointer(&due, g_ptr_array_unref);
    due = tsdb_store_due_predictions(st, T0 + 3600 * SEC, 10, &err);
    CU_ASSERT_FATAL(due != NULL && due->len == 1);
    CU_ASSERT_EQUAL(((TsdbPrediction *) due->pdata[0])->outcome, -1);
    CU_ASSERT_DOUBLE_EQUAL(((TsdbPrediction *) due->pdata[0])->prob, 0.25,
                           1e-12);

    inc->wall_us = T0 + 60 * SEC;
    inc->uuid = g_strdup(uuid_of(0));
    inc->domain = g_strdup("x");
    inc->kind = g_strdup("watchdog");
    inc->source = g_strdup("libvirt");
    CU_ASSERT_TRUE(tsdb_store_add_incident(st, inc, &err));
    CU_ASSERT_EQUAL(
        tsdb_store_count_incidents(st, uuid_of(0), T0, T0 + 3600 * SEC, &err),
        1);
    CU_ASSERT_EQUAL(tsdb_store_count_incidents(st, uuid_of(0), T0 + 60 * SEC,
                                               T0 + 3600 * SEC, &err),
                    0);
    CU_ASSERT_TRUE(
        tsdb_store_resolve_prediction(st, p->id, 1, T0 + 3601 * SEC, &err));
    g_clear_pointer(&due, g_ptr_array_unref);
    due = tsdb_store_due_predictions(st, T0 + 7200 * SEC, 10, &err);
    CU_ASSERT_FATAL(due != NULL);
    CU_ASSERT_EQUAL(due->len, 0);
    all = tsdb_store_predictions(st, uuid_of(0), 10, &err);
    CU_ASSERT_FATAL(all != NULL && all->len == 1);
    CU_ASSERT_EQUAL(((TsdbPrediction *) all->pdata[0])->outcome, 1);

    CU_ASSERT_PTR_NULL(tsdb_store_load_model(st, "failure", &err));
    CU_ASSERT_PTR_NULL(err);
    CU_ASSERT_TRUE(tsdb_store_save_model(st, "failure", "{\"v\":1}", T0, &err));
    CU_ASSERT_TRUE(tsdb_store_save_model(st, "failure", "{\"v\":2}", T0, &err));
    body = tsdb_store_load_model(st, "failure", &err);
    CU_ASSERT_STRING_EQUAL(body, "{\"v\":2}");

    /* Back to version 1 (as an older umbrad left it): reopening migrates
     * and keeps the samples. */
    g_clear_pointer(&st, tsdb_store_close);
    CU_ASSERT_FATAL(sqlite3_open(path, &db) == SQLITE_OK);
    CU_ASSERT(sqlite3_exec(db,
                           "DROP VIEW predictions_v; DROP TABLE predictions;"
                           " DROP TABLE incidents; DROP TABLE models;"
                           " DROP VIEW shadow_journal_v;"
                           " DROP TABLE shadow_journal; DROP TABLE shadows;"
                           " UPDATE meta SET value = '1' WHERE key ="
                           " 'schema_version'; PRAGMA journal_mode = DELETE",
                           NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    st = tsdb_store_open(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(tsdb_store_count_dom_samples(st, NULL), 1);
    CU_ASSERT_EQUAL(tsdb_store_count_incidents(st, uuid_of(0), 0, T0 * 2, &err),
                    0);
}

/* The shadow journal: the current record per primary, every transition
 * kept in order, both written in one transaction and kept across a
 * reopen. */
static void
test_shadow_journal(void)
{
    g_autofree char *path = tmp_path("shadows.db");
    g_autoptr(GError) err = NULL;
    g_autoptr(TsdbStore) st = tsdb_store_open(path, &err);
    g_autoptr(GPtrArray) recs = NULL;
    g_autoptr(GPtrArray) steps = NULL;
    const TsdbShadowStep *sp;

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_TRUE(tsdb_store_journal_shadow(st, "AAAA-1", "staging",
                                             "{\"s\":1}", NULL, "create",
                                             "operator", T0, &err));
    CU_ASSERT_TRUE(tsdb_store_journal_shadow(st, "aaaa-1", "warm", "{\"s\":2}",
                                             "staging", "staged-warm", NULL,
                                             T0 + 1, &err));
    CU_ASSERT_TRUE(tsdb_store_journal_shadow(
        st, "bbbb-2", "staging", "{}", NULL, "create", NULL, T0 + 2, &err));
    CU_ASSERT_FALSE(tsdb_store_journal_shadow(st, NULL, "warm", "{}", NULL,
                                              NULL, NULL, T0, &err));
    CU_ASSERT_PTR_NOT_NULL(err);
    g_clear_error(&err);

    g_clear_pointer(&st, tsdb_store_close);
    st = tsdb_store_open(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    recs = tsdb_store_shadows(st, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(recs);
    CU_ASSERT_EQUAL_FATAL(recs->len, 2);
    CU_ASSERT_STRING_EQUAL(recs->pdata[0], "{\"s\":2}");
    steps = tsdb_store_shadow_journal(st, "AAAA-1", 10, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(steps);
    CU_ASSERT_EQUAL_FATAL(steps->len, 2);
    sp = steps->pdata[0];
    CU_ASSERT_STRING_EQUAL(sp->to_state, "staging");
    CU_ASSERT_PTR_NULL(sp->from_state);
    CU_ASSERT_STRING_EQUAL(sp->detail, "operator");
    sp = steps->pdata[1];
    CU_ASSERT_STRING_EQUAL(sp->from_state, "staging");
    CU_ASSERT_STRING_EQUAL(sp->to_state, "warm");
    CU_ASSERT_STRING_EQUAL(sp->event, "staged-warm");
    CU_ASSERT_EQUAL(sp->wall_us, T0 + 1);
    g_clear_pointer(&steps, g_ptr_array_unref);
    /* The most recent @limit, oldest first. */
    steps = tsdb_store_shadow_journal(st, "aaaa-1", 1, &err);
    CU_ASSERT_EQUAL_FATAL(steps->len, 1);
    CU_ASSERT_STRING_EQUAL(((TsdbShadowStep *) steps->pdata[0])->to_state,
                           "warm");
}

static void
test_foreign_and_garbage(void)
{
    g_autofree char *foreign = tmp_path("foreign.db");
    g_autofree char *garbage = tmp_path("garbage.db");
    g_autofree char *text = tmp_path("text.db");
    g_autofree char *header = tmp_path("header.db");
    g_autofree char *nodir = tmp_path("no/such/dir/x.db");
    g_autofree char *empty = tmp_path("empty.db");
    g_autoptr(GRand) r = test_rand();
    g_autofree guint8 *junk = g_malloc(16384);
    g_autoptr(GError) err = NULL;
    g_autoptr(TsdbStore) st = NULL;
    sqlite3 *db = NULL;

    /* Somebody else's SQLite database. */
    CU_ASSERT_FATAL(sqlite3_open(foreign, &db) == SQLITE_OK);
    CU_ASSERT(sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1)",
                           NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    expect_refused(foreign, TSDB_ERROR_SCHEMA);

    /* Random bytes, a text file, a damaged header. */
    for (int i = 0; i < 16384; i++) {
        junk[i] = (guint8) g_rand_int(r);
    }
    CU_ASSERT_FATAL(g_file_set_contents(garbage, (char *) junk, 16384, NULL));
    expect_refused(garbage, TSDB_ERROR_CORRUPT);
    CU_ASSERT_FATAL(g_file_set_contents(text, "not a database\n", -1, NULL));
    expect_refused(text, TSDB_ERROR_CORRUPT);
    memcpy(junk, "SQLite format 3", 16);
    CU_ASSERT_FATAL(g_file_set_contents(header, (char *) junk, 16384, NULL));
    expect_refused(header, TSDB_ERROR_CORRUPT);

    /* No such directory. */
    st = tsdb_store_open(nodir, &err);
    CU_ASSERT_PTR_NULL(st);
    CU_ASSERT_TRUE(g_error_matches(err, TSDB_ERROR, TSDB_ERROR_OPEN));
    CU_ASSERT_PTR_NOT_NULL(err ? strstr(err->message, nodir) : NULL);
    g_clear_error(&err);

    /* An empty file is a new store. */
    CU_ASSERT_FATAL(g_file_set_contents(empty, "", 0, NULL));
    st = tsdb_store_open(empty, &err);
    CU_ASSERT_PTR_NOT_NULL(st);
    CU_ASSERT_PTR_NULL(err);
}

static void
test_disk_full(void)
{
    g_autofree char *path = tmp_path("full.db");
    g_autoptr(GError) err = NULL;
    g_autoptr(TsdbStore) st = tsdb_store_open(path, &err);
    g_autoptr(GRand) r = test_rand();
    sqlite3 *db = NULL;
    int64_t committed = 0;
    int64_t nevents = 0;
    int64_t t = T0;
    g_autofree char *sql = NULL;
    bool failed = false;
    int tries = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    db = tsdb_store_priv_get_db(st);
    /* Some committed data first. */
    CU_ASSERT_TRUE_FATAL(tsdb_store_begin(st, &err));
    for (int k = 0; k < 500; k++, t += 10 * SEC) {
        g_autoptr(DomSample) s = rand_sample(r, k % 5, "d", "h1", t, 0.1);

        CU_ASSERT_TRUE(tsdb_store_add_dom_sample(st, s, &err));
    }
    CU_ASSERT_TRUE_FATAL(tsdb_store_commit(st, &err));
    committed = tsdb_store_count_dom_samples(st, NULL);
    CU_ASSERT_EQUAL(committed, 500);

    /* The "disk" now holds two more pages. */
    sql = g_strdup_printf("PRAGMA max_page_count = %" G_GINT64_FORMAT,
                          db_int(st, "PRAGMA page_count") + 2);
    CU_ASSERT_FATAL(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);

    /* A batch that does not fit fails with FULL and is rolled back. */
    CU_ASSERT_TRUE_FATAL(tsdb_store_begin(st, &err));
    while (!failed && tries++ < 100000) {
        g_autoptr(DomSample) s =
            rand_sample(r, tries % 7, "d", "h1", t += 10 * SEC, 0.1);

        failed = !tsdb_store_add_dom_sample(st, s, &err);
    }
    CU_ASSERT_TRUE_FATAL(failed);
    CU_ASSERT_TRUE(g_error_matches(err, TSDB_ERROR, TSDB_ERROR_FULL));
    CU_ASSERT_PTR_NOT_NULL(err ? strstr(err->message, path) : NULL);
    g_clear_error(&err);
    /* Further writes of the failed batch are refused, not autocommitted. */
    {
        g_autoptr(DomSample) s = rand_sample(r, 0, "d", "h1", t, 0);
        g_autoptr(UmbraEvent) ev = mk_event(t, NULL, "x");

        CU_ASSERT_FALSE(tsdb_store_add_dom_sample(st, s, &err));
        CU_ASSERT_TRUE(g_error_matches(err, TSDB_ERROR, TSDB_ERROR_FULL));
        g_clear_error(&err);
        CU_ASSERT_FALSE(tsdb_store_add_event(st, ev, &err));
        CU_ASSERT_EQUAL(ev->id, 0);
        g_clear_error(&err);
    }
    CU_ASSERT_FALSE(tsdb_store_commit(st, &err));
    CU_ASSERT_TRUE(g_error_matches(err, TSDB_ERROR, TSDB_ERROR_FULL));
    g_clear_error(&err);
    CU_ASSERT_EQUAL(tsdb_store_count_dom_samples(st, NULL), committed);
    CU_ASSERT_EQUAL(db_int(st, "PRAGMA integrity_check"), 0);

    /* Still full: a new batch can begin, and fails again cleanly. */
    CU_ASSERT_TRUE_FATAL(tsdb_store_begin(st, &err));
    failed = false;
    for (tries = 0; !failed && tries < 100000; tries++) {
        g_autoptr(UmbraEvent) ev = mk_event(t, uuid_of(1), "filler");

        failed = !tsdb_store_add_event(st, ev, &err);
    }
    CU_ASSERT_TRUE(g_error_matches(err, TSDB_ERROR, TSDB_ERROR_FULL));
    g_clear_error(&err);
    tsdb_store_rollback(st);
    /* Outside a batch, too. */
    failed = false;
    for (tries = 0; !failed && tries < 100000; tries++) {
        g_autoptr(UmbraEvent) ev = mk_event(t, uuid_of(1), "filler");

        failed = !tsdb_store_add_event(st, ev, &err);
        nevents += !failed;
    }
    CU_ASSERT_TRUE(g_error_matches(err, TSDB_ERROR, TSDB_ERROR_FULL));
    g_clear_error(&err);

    /* Space comes back: the store works again, nothing was lost. */
    CU_ASSERT_FATAL(sqlite3_exec(db, "PRAGMA max_page_count = 1000000000", NULL,
                                 NULL, NULL) == SQLITE_OK);
    CU_ASSERT_TRUE_FATAL(tsdb_store_begin(st, &err));
    for (int k = 0; k < 1000; k++, t += 10 * SEC) {
        g_autoptr(DomSample) s = rand_sample(r, k % 5, "d", "h1", t, 0.1);

        CU_ASSERT_TRUE(tsdb_store_add_dom_sample(st, s, &err));
    }
    CU_ASSERT_TRUE(tsdb_store_commit(st, &err));
    CU_ASSERT_PTR_NULL(err);
    CU_ASSERT_EQUAL(tsdb_store_count_dom_samples(st, NULL), committed + 1000);
    g_clear_pointer(&st, tsdb_store_close);
    st = tsdb_store_open(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(tsdb_store_count_dom_samples(st, NULL), committed + 1000);
    CU_ASSERT_EQUAL(db_int(st, "SELECT count(*) FROM events"), nevents);
    CU_ASSERT_EQUAL(db_int(st, "PRAGMA integrity_check"), 0);
}

static void
test_busy(void)
{
    g_autofree char *path = tmp_path("busy.db");
    g_autoptr(GError) err = NULL;
    g_autoptr(TsdbStore) st = tsdb_store_open(path, &err);
    sqlite3 *other = NULL;

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    sqlite3_busy_timeout(tsdb_store_priv_get_db(st), 20);
    CU_ASSERT_FATAL(sqlite3_open(path, &other) == SQLITE_OK);
    CU_ASSERT(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
              SQLITE_OK);
    CU_ASSERT_FALSE(tsdb_store_begin(st, &err));
    CU_ASSERT_TRUE(g_error_matches(err, TSDB_ERROR, TSDB_ERROR_BUSY));
    g_clear_error(&err);
    CU_ASSERT_FALSE(add_named(st, 0, "x", "h", T0));
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    CU_ASSERT_TRUE(tsdb_store_begin(st, &err));
    CU_ASSERT_TRUE(add_named(st, 0, "x", "h", T0));
    CU_ASSERT_TRUE(tsdb_store_commit(st, &err));
    CU_ASSERT_EQUAL(tsdb_store_count_dom_samples(st, NULL), 1);
}

/*
 * Ten domains at 10 s for @days days, one transaction per simulated hour
 * (for speed), maintain() after each hour.  Returns the db file size at
 * the end of each day in @ret_sizes.
 */
static void
run_days(TsdbStore *st, GRand *r, int ndom, int days, int64_t raw_s,
         int64_t avg_s, int64_t *ret_sizes, int64_t *ret_wal_max)
{
    const char *path = tsdb_store_get_path(st);
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    g_autoptr(GError) err = NULL;
    int64_t t = T0;

    *ret_wal_max = 0;
    for (int day = 0; day < days; day++) {
        for (int hour = 0; hour < 24; hour++) {
            CU_ASSERT_TRUE_FATAL(tsdb_store_begin(st, &err));
            for (int k = 0; k < 360; k++, t += 10 * SEC) {
                for (int d = 0; d < ndom; d++) {
                    g_autoptr(DomSample) s =
                        rand_sample(r, d, "dom", d % 2 ? "h1" : "h2", t, 0.1);

                    CU_ASSERT_TRUE(tsdb_store_add_dom_sample(st, s, &err));
                }
            }
            {
                g_autoptr(UmbraEvent) ev = mk_event(t, uuid_of(0), "tick");

                CU_ASSERT_TRUE(tsdb_store_add_event(st, ev, &err));
            }
            CU_ASSERT_TRUE_FATAL(tsdb_store_commit(st, &err));
            maintain_all(st, t, raw_s, avg_s, avg_s, NULL);
            *ret_wal_max = MAX(*ret_wal_max, file_size(wal));
        }
        ret_sizes[day] = file_size(path);
    }
}

static void
test_bounded_size(void)
{
    g_autofree char *path = tmp_path("bounded.db");
    g_autoptr(GError) err = NULL;
    g_autoptr(TsdbStore) st = tsdb_store_open(path, &err);
    g_autoptr(GRand) r = test_rand();
    const char *env = g_getenv("TSDB_TEST_DAYS");
    int days = env ? MAX(atoi(env), 4) : 5;
    g_autofree int64_t *sizes = g_new0(int64_t, days);
    int64_t wal_max = 0;
    int64_t bound;

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    /* Raw for 1 day, averages for 2 days: steady from the end of day 2. */
    run_days(st, r, 10, days, DAY_S, 2 * DAY_S, sizes, &wal_max);
    printf("\n    file size at the end of each day (10 domains, raw 1 d, "
           "5m 2 d), MiB:");
    for (int d = 0; d < days; d++) {
        printf(" %.2f", (double) sizes[d] / 1048576.0);
    }
    printf("; WAL at most %.2f MiB\n    ", (double) wal_max / 1048576.0);
    for (int d = 3; d < days; d++) {
        CU_ASSERT_TRUE(sizes[d] <= sizes[2] * 11 / 10);
    }
    /* Rough upper bound: 10 domains x (1 day raw at ~200 B/row + 1 day of
     * averages), doubled for B-tree slack. */
    bound = G_GINT64_CONSTANT(2) * 10 * (8640 * 200 + 288 * 300);
    CU_ASSERT_TRUE(sizes[days - 1] <= bound);
    CU_ASSERT_TRUE(wal_max <= (G_GINT64_CONSTANT(16) << 20));
    CU_ASSERT_EQUAL(db_int(st, "SELECT count(*) FROM dom_samples"),
                    db_int(st, "SELECT count(*) FROM dom_samples WHERE"
                               " wall_us >= (SELECT max(wall_us) FROM"
                               " dom_samples) - 86400000000 - 300000000"));
    /* One per hour; the one exactly 48 h old is kept. */
    CU_ASSERT_EQUAL(db_int(st, "SELECT count(*) FROM events"), 49);
}

static void
test_measure(void)
{
    g_autofree char *path = tmp_path("measure.db");
    g_autofree char *path2 = tmp_path("measure-idle.db");
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(TsdbStore) st = tsdb_store_open(path, &err);
    g_autoptr(TsdbStore) st2 = tsdb_store_open(path2, &err);
    g_autoptr(GRand) r = test_rand();
    const int ndom = 10;
    const int rounds = 8640; /* one day at 10 s */
    int64_t t = T0;
    int64_t t_start;
    double per_round_rate;
    double one_txn_rate;
    int64_t raw_bytes;
    int64_t avg_bytes;
    int64_t idle_bytes;
    double wal_per_round = 0;
    double wal_per_round6 = 0;
    g_autoptr(GPtrArray) pre =
        g_ptr_array_new_with_free_func((GDestroyNotify) dom_sample_free);

    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st2);
    for (int k = 0; k < rounds; k++) {
        for (int d = 0; d < ndom; d++) {
            g_ptr_array_add(pre, rand_sample(r, d, "domain-name", "host-1",
                                             T0 + k * STEP, 0.1));
        }
    }
    /* One transaction per round, as the daemon does. */
    t_start = util_clock_mono();
    for (int k = 0; k < rounds; k++) {
        CU_ASSERT_TRUE_FATAL(tsdb_store_begin(st, &err));
        for (int d = 0; d < ndom; d++) {
            CU_ASSERT_TRUE(
                tsdb_store_add_dom_sample(st, pre->pdata[k * ndom + d], &err));
        }
        CU_ASSERT_TRUE_FATAL(tsdb_store_commit(st, &err));
    }
    per_round_rate =
        (double) rounds * ndom / ((double) (util_clock_mono() - t_start) / 1e6);
    raw_bytes = used_bytes(st) / ndom;

    /* WAL bytes appended per round: 40 rounds after a checkpoint that
     * empties it (fewer than the 1000 pages of an automatic one). */
    t = T0 + (int64_t) rounds * 10 * SEC;
    CU_ASSERT(sqlite3_exec(tsdb_store_priv_get_db(st),
                           "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL,
                           NULL) == SQLITE_OK);
    CU_ASSERT_EQUAL(file_size(wal), 0);
    for (int k = 0; k < 40; k++, t += 10 * SEC) {
        CU_ASSERT_TRUE_FATAL(tsdb_store_begin(st, &err));
        for (int d = 0; d < ndom; d++) {
            g_autoptr(DomSample) s =
                rand_sample(r, d, "domain-name", "host-1", t, 0.1);

            CU_ASSERT_TRUE(tsdb_store_add_dom_sample(st, s, &err));
        }
        CU_ASSERT_TRUE_FATAL(tsdb_store_commit(st, &err));
    }
    wal_per_round = (double) file_size(wal) / 40.0;
    /* The same with 6 rounds (one minute) per transaction. */
    CU_ASSERT(sqlite3_exec(tsdb_store_priv_get_db(st),
                           "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL,
                           NULL) == SQLITE_OK);
    for (int k = 0; k < 60; k++, t += 10 * SEC) {
        if (k % 6 == 0) {
            CU_ASSERT_TRUE_FATAL(tsdb_store_begin(st, &err));
        }
        for (int d = 0; d < ndom; d++) {
            g_autoptr(DomSample) s =
                rand_sample(r, d, "domain-name", "host-1", t, 0.1);

            CU_ASSERT_TRUE(tsdb_store_add_dom_sample(st, s, &err));
        }
        if (k % 6 == 5) {
            CU_ASSERT_TRUE_FATAL(tsdb_store_commit(st, &err));
        }
    }
    wal_per_round6 = (double) file_size(wal) / 60.0;

    /* Fold the whole day into averages. */
    maintain_all(st, t + MIN5, 0, 30 * DAY_S, 30 * DAY_S, NULL);
    avg_bytes = used_bytes(st) / ndom;

    /* The same samples again, in one transaction (fastest case), into a
     * second store, with idle I/O (rates 0: SQLite stores integral REALs
     * in fewer bytes). */
    t_start = util_clock_mono();
    CU_ASSERT_TRUE_FATAL(tsdb_store_begin(st2, &err));
    for (guint k = 0; k < pre->len; k++) {
        DomSample *s = pre->pdata[k];

        s->blk_rd_bps = s->blk_wr_bps = s->blk_rd_iops = s->blk_wr_iops = 0;
        s->net_rx_bps = s->net_tx_bps = s->net_rx_pps = s->net_tx_pps = 0;
        s->dirty_mbps = NAN;
        CU_ASSERT_TRUE(tsdb_store_add_dom_sample(st2, s, &err));
    }
    CU_ASSERT_TRUE_FATAL(tsdb_store_commit(st2, &err));
    one_txn_rate =
        (double) pre->len / ((double) (util_clock_mono() - t_start) / 1e6);
    idle_bytes = used_bytes(st2) / ndom;

    printf("\n    insert rate: %.0f samples/s with one transaction per "
           "round of %d, %.0f samples/s in one transaction\n",
           per_round_rate, ndom, one_txn_rate);
    printf("    bytes per domain-day at 10 s: raw %.0f KiB (busy), "
           "%.0f KiB (idle I/O); 5-minute averages %.1f KiB\n",
           (double) raw_bytes / 1024.0, (double) idle_bytes / 1024.0,
           (double) avg_bytes / 1024.0);
    printf("    WAL appended per round of %d domains: %.1f KiB (%.1f KiB "
           "with 6 rounds per transaction)\n",
           ndom, wal_per_round / 1024.0, wal_per_round6 / 1024.0);
    printf("    default retention (2 d raw, 35 d 5m): about %.1f MiB per "
           "domain\n    ",
           (2.0 * (double) raw_bytes + 33.0 * (double) avg_bytes) / 1048576.0);
    CU_ASSERT_TRUE(per_round_rate > 1000);
    CU_ASSERT_TRUE(raw_bytes < (G_GINT64_CONSTANT(4) << 20));
}

static const CutestCase cases[] = {
    {"roundtrip with NaN", test_roundtrip_nan},
    {"batch rules", test_batch_rules},
    {"maintain vs naive model", test_maintain_model},
    {"history raw + 5m, max_points", test_history_mixed},
    {"late sample merges into average", test_late_merge},
    {"maintain budget and retention", test_maintain_budget_and_retention},
    {"events since/limit/uuid", test_events},
    {"find_domain, rename", test_find_domain},
    {"reopen persists", test_reopen},
    {"schema too new", test_schema_too_new},
    {"risk records", test_risk_records},
    {"shadow journal", test_shadow_journal},
    {"foreign and garbage files", test_foreign_and_garbage},
    {"disk full (max_page_count)", test_disk_full},
    {"busy", test_busy},
    {"bounded size over days", test_bounded_size},
    {"measure insert rate and size", test_measure},
};

int
main(void)
{
    const char *env = g_getenv("TSDB_TEST_SEED");
    CU_pSuite suite = NULL;
    unsigned fails;

    seed = env ? (guint32) g_ascii_strtoull(env, NULL, 10)
               : (guint32) g_random_int();
    printf("TSDB_TEST_SEED=%u\n", seed);
    if (CU_initialize_registry() != CUE_SUCCESS) {
        return 2;
    }
    suite = CU_add_suite("tsdb", NULL, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        CU_add_test(suite, cases[i].name, cases[i].func);
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    return fails > 0 ? 1 : 0;
}
