/*
 * stats/rates.c: counter deltas to rates (see rates.h).
 */
#include "stats/rates.h"

#include <math.h>

static double
rate(uint64_t a, uint64_t b, double secs, bool *ok)
{
    if (b < a) {
        *ok = false;
        return NAN;
    }
    return (double) (b - a) / secs;
}

static uint64_t
dom_mem_used(const DomRaw *r)
{
    if (r->mem_unused_kib >= 0 &&
        (uint64_t) r->mem_unused_kib <= r->mem_current_kib) {
        return r->mem_current_kib - (uint64_t) r->mem_unused_kib;
    }
    if (r->mem_rss_kib > 0) {
        uint64_t rss = (uint64_t) r->mem_rss_kib;
        uint64_t cap = r->mem_current_kib ? r->mem_current_kib : r->mem_max_kib;

        return (cap && rss > cap) ? cap : rss;
    }
    return r->mem_current_kib;
}

/* Whether a QEMU process runs for a domain in @state (its counters
 * live). */
static bool
has_process(DomState state)
{
    return state == DOM_STATE_RUNNING || state == DOM_STATE_BLOCKED ||
           state == DOM_STATE_PAUSED;
}

void
stats_rates_carry_block(DomRaw *cur, const DomRaw *prev)
{
    if (cur->has_block || !prev || !prev->has_block ||
        !has_process(cur->state)) {
        return;
    }
    cur->has_block = true;
    cur->blk_mono_us = prev->blk_mono_us ? prev->blk_mono_us : prev->mono_us;
    cur->rd_bytes = prev->rd_bytes;
    cur->wr_bytes = prev->wr_bytes;
    cur->rd_reqs = prev->rd_reqs;
    cur->wr_reqs = prev->wr_reqs;
}

bool
stats_rates_derive_dom(const DomRaw *prev, const DomRaw *cur, DomSample *ret)
{
    double secs;
    bool ok = true;
    double blk_rd, blk_wr, blk_rdi, blk_wri;
    double net_rx, net_tx, net_rxp, net_txp;
    double cpu = NAN;

    ret->wall_us = cur->wall_us;
    ret->state = cur->state;
    ret->vcpus = cur->vcpus;
    ret->mem_max_kib =
        cur->mem_max_kib ? cur->mem_max_kib : cur->mem_current_kib;
    ret->mem_used_kib = dom_mem_used(cur);
    ret->dirty_mbps = cur->dirty_mbps;
    ret->cpu_pct = NAN;
    ret->blk_rd_bps = ret->blk_wr_bps = NAN;
    ret->blk_rd_iops = ret->blk_wr_iops = NAN;
    ret->net_rx_bps = ret->net_tx_bps = NAN;
    ret->net_rx_pps = ret->net_tx_pps = NAN;

    if (!has_process(cur->state)) {
        /* Not running: no activity by definition. */
        ret->cpu_pct = 0;
        ret->blk_rd_bps = ret->blk_wr_bps = 0;
        ret->blk_rd_iops = ret->blk_wr_iops = 0;
        ret->net_rx_bps = ret->net_tx_bps = 0;
        ret->net_rx_pps = ret->net_tx_pps = 0;
        ret->mem_used_kib = 0;
        return true;
    }
    if (!prev || prev->mono_us >= cur->mono_us) {
        return false;
    }
    secs = (double) (cur->mono_us - prev->mono_us) / 1e6;
    if (cur->has_cpu && prev->has_cpu) {
        cpu = rate(prev->cpu_time_ns, cur->cpu_time_ns, secs, &ok);
        if (ok) {
            unsigned v = cur->vcpus ? cur->vcpus : 1;

            cpu = cpu / 1e9 / v * 100.0;
        }
    }
    if (cur->has_block == prev->has_block) {
        /* Block counters read at another time than the rest (carried
         * over a round without them) span their own interval. */
        int64_t b0 = prev->blk_mono_us ? prev->blk_mono_us : prev->mono_us;
        int64_t b1 = cur->blk_mono_us ? cur->blk_mono_us : cur->mono_us;
        double bsecs = b1 > b0 ? (double) (b1 - b0) / 1e6 : secs;

        blk_rd = rate(prev->rd_bytes, cur->rd_bytes, bsecs, &ok);
        blk_wr = rate(prev->wr_bytes, cur->wr_bytes, bsecs, &ok);
        blk_rdi = rate(prev->rd_reqs, cur->rd_reqs, bsecs, &ok);
        blk_wri = rate(prev->wr_reqs, cur->wr_reqs, bsecs, &ok);
    } else {
        /* A round without them (a block-stats hold, or libvirt busy with
         * the domain's job): unknown, not zero, not a reset. */
        blk_rd = blk_wr = blk_rdi = blk_wri = NAN;
    }
    net_rx = rate(prev->rx_bytes, cur->rx_bytes, secs, &ok);
    net_tx = rate(prev->tx_bytes, cur->tx_bytes, secs, &ok);
    net_rxp = rate(prev->rx_pkts, cur->rx_pkts, secs, &ok);
    net_txp = rate(prev->tx_pkts, cur->tx_pkts, secs, &ok);
    if (!ok) {
        /* A counter went backwards: a new QEMU process. */
        return false;
    }
    ret->cpu_pct = cpu;
    ret->blk_rd_bps = blk_rd;
    ret->blk_wr_bps = blk_wr;
    ret->blk_rd_iops = blk_rdi;
    ret->blk_wr_iops = blk_wri;
    ret->net_rx_bps = net_rx;
    ret->net_tx_bps = net_tx;
    ret->net_rx_pps = net_rxp;
    ret->net_tx_pps = net_txp;
    return isfinite(cpu);
}

bool
stats_rates_derive_host(const HostRaw *prev, const HostRaw *cur,
                        HostSample *ret)
{
    ret->wall_us = cur->wall_us;
    ret->ncpus = cur->ncpus;
    ret->mem_total_kib = cur->mem_total_kib;
    ret->mem_avail_kib = cur->mem_avail_kib;
    ret->cpu_pct = NAN;
    if (!prev || cur->cpu_total_ns <= prev->cpu_total_ns ||
        cur->cpu_busy_ns < prev->cpu_busy_ns) {
        return false;
    }
    ret->cpu_pct = 100.0 * (double) (cur->cpu_busy_ns - prev->cpu_busy_ns) /
                   (double) (cur->cpu_total_ns - prev->cpu_total_ns);
    return true;
}
