/*
 * tests/unit/test-rates.c: counters to rates, and the cases where a rate
 * must stay unknown rather than be wrong.
 */
#include <math.h>

#include "cutest.h"
#include "stats/rates.h"

static DomRaw *
raw_at(int64_t t_s, uint64_t cpu_ns, uint64_t wr_bytes)
{
    DomRaw *r = dom_raw_new();

    r->state = DOM_STATE_RUNNING;
    r->mono_us = t_s * 1000000;
    r->wall_us = 1700000000000000 + r->mono_us;
    r->has_cpu = true;
    r->cpu_time_ns = cpu_ns;
    r->vcpus = 2;
    r->has_balloon = true;
    r->mem_current_kib = 131072;
    r->mem_max_kib = 131072;
    r->mem_rss_kib = 90000;
    r->has_block = true;
    r->wr_bytes = wr_bytes;
    r->wr_reqs = wr_bytes / 4096;
    return r;
}

static void
test_basic(void)
{
    g_autoptr(DomRaw) a = raw_at(10, 0, 0);
    g_autoptr(DomRaw) b = raw_at(20, 5000000000ULL, 409600);
    g_autoptr(DomSample) s = dom_sample_new();

    CU_ASSERT_TRUE(stats_rates_derive_dom(a, b, s));
    /* 5 s of CPU in 10 s on 2 vCPUs = 25 %. */
    CU_ASSERT_DOUBLE_EQUAL(s->cpu_pct, 25.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(s->blk_wr_bps, 40960.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(s->blk_wr_iops, 10.0, 1e-9);
    CU_ASSERT_EQUAL(s->mem_used_kib, 90000);
    CU_ASSERT_EQUAL(s->mem_max_kib, 131072);
}

static void
test_first_sample_unknown(void)
{
    g_autoptr(DomRaw) b = raw_at(20, 5, 5);
    g_autoptr(DomSample) s = dom_sample_new();

    CU_ASSERT_FALSE(stats_rates_derive_dom(NULL, b, s));
    CU_ASSERT_TRUE(isnan(s->cpu_pct));
    CU_ASSERT_TRUE(isnan(s->blk_wr_bps));
    CU_ASSERT_EQUAL(s->mem_used_kib, 90000);
}

static void
test_counter_reset_unknown(void)
{
    g_autoptr(DomRaw) a = raw_at(10, 9000000000ULL, 100);
    g_autoptr(DomRaw) b = raw_at(20, 1000, 50);
    g_autoptr(DomSample) s = dom_sample_new();

    CU_ASSERT_FALSE(stats_rates_derive_dom(a, b, s));
    CU_ASSERT_TRUE(isnan(s->cpu_pct));
}

static void
test_clock_backwards_unknown(void)
{
    g_autoptr(DomRaw) a = raw_at(20, 0, 0);
    g_autoptr(DomRaw) b = raw_at(10, 100, 100);
    g_autoptr(DomSample) s = dom_sample_new();

    CU_ASSERT_FALSE(stats_rates_derive_dom(a, b, s));
    CU_ASSERT_TRUE(isnan(s->cpu_pct));
}

static void
test_balloon_unused_preferred(void)
{
    g_autoptr(DomRaw) b = raw_at(20, 0, 0);
    g_autoptr(DomSample) s = dom_sample_new();

    b->mem_unused_kib = 31072;
    stats_rates_derive_dom(NULL, b, s);
    CU_ASSERT_EQUAL(s->mem_used_kib, 100000);
}

static void
test_shutoff_zero(void)
{
    g_autoptr(DomRaw) b = raw_at(20, 0, 0);
    g_autoptr(DomSample) s = dom_sample_new();

    b->state = DOM_STATE_SHUTOFF;
    CU_ASSERT_TRUE(stats_rates_derive_dom(NULL, b, s));
    CU_ASSERT_DOUBLE_EQUAL(s->cpu_pct, 0, 0);
    CU_ASSERT_EQUAL(s->mem_used_kib, 0);
}

static void
test_host(void)
{
    HostRaw a = {.cpu_busy_ns = 100, .cpu_total_ns = 1000, .ncpus = 2};
    HostRaw b = {.cpu_busy_ns = 400,
                 .cpu_total_ns = 2000,
                 .ncpus = 2,
                 .mem_total_kib = 10,
                 .mem_avail_kib = 5};
    g_autoptr(HostSample) s = host_sample_new();
    g_autoptr(HostSample) s2 = host_sample_new();

    CU_ASSERT_TRUE(stats_rates_derive_host(&a, &b, s));
    CU_ASSERT_DOUBLE_EQUAL(s->cpu_pct, 30.0, 1e-9);
    CU_ASSERT_EQUAL(s->mem_avail_kib, 5);
    CU_ASSERT_FALSE(stats_rates_derive_host(&b, &a, s2));
    CU_ASSERT_TRUE(isnan(s2->cpu_pct));
}

/* A reading without block counters (a block-stats hold) leaves the block
 * rates unknown, and the rest known; counters carried over it from the
 * reading before (blk_mono_us) give the rate over their whole span. */
static void
test_block_gap(void)
{
    g_autoptr(DomRaw) a = raw_at(10, 0, 0);
    g_autoptr(DomRaw) b = raw_at(20, 5000000000ULL, 0);
    g_autoptr(DomRaw) c = raw_at(30, 10000000000ULL, 819200);
    g_autoptr(DomSample) s = dom_sample_new();

    b->has_block = false;
    b->wr_reqs = 0;
    CU_ASSERT_TRUE(stats_rates_derive_dom(a, b, s));
    CU_ASSERT_DOUBLE_EQUAL(s->cpu_pct, 25.0, 1e-9);
    CU_ASSERT_TRUE(isnan(s->blk_wr_bps));
    CU_ASSERT_TRUE(isnan(s->blk_rd_iops));

    /* What the monitor keeps of b: a's block counters, read at 10 s. */
    stats_rates_carry_block(b, a);
    CU_ASSERT_TRUE(b->has_block);
    CU_ASSERT_EQUAL(b->blk_mono_us, a->mono_us);
    g_clear_pointer(&s, dom_sample_free);
    s = dom_sample_new();
    CU_ASSERT_TRUE(stats_rates_derive_dom(b, c, s));
    CU_ASSERT_DOUBLE_EQUAL(s->cpu_pct, 25.0, 1e-9);
    /* 819200 bytes over 20 s, not over the last 10 s. */
    CU_ASSERT_DOUBLE_EQUAL(s->blk_wr_bps, 40960.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(s->blk_wr_iops, 10.0, 1e-9);
}

static const CutestCase cases[] = {
    {"block-gap", test_block_gap},
    {"basic", test_basic},
    {"first-sample-unknown", test_first_sample_unknown},
    {"counter-reset-unknown", test_counter_reset_unknown},
    {"clock-backwards-unknown", test_clock_backwards_unknown},
    {"balloon-unused-preferred", test_balloon_unused_preferred},
    {"shutoff-zero", test_shutoff_zero},
    {"host", test_host},
};

CUTEST_MAIN("rates", cases)
