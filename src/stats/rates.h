/*
 * stats/rates.h: turning cumulative counters into rates.
 *
 * libvirt reports counters (CPU ns, bytes, requests) that only grow
 * while one QEMU process lives.  A rate needs two readings of the same
 * process: when a counter goes backwards (the domain restarted, or the
 * reading comes from another host after a migration) or the interval is
 * not positive (a clock jump), the rate is unknown (NaN) rather than
 * wrong.
 */
#pragma once

#include <stdbool.h>

#include "model/types.h"

/*
 * stats_rates_derive_dom:
 * @prev: (nullable) the previous reading of the same domain on the same
 *   host, or NULL for a first reading
 * @cur: the current reading
 * @ret: (out) sample to fill: state, vcpus, memory and every rate; the
 *   caller sets uuid/name/host/cell
 *
 * Memory used is balloon.current - balloon.unused when the guest reports
 * it (virtio balloon stats), else the QEMU process RSS capped at the
 * allocation, else balloon.current.  CPU % is of the allocated vCPUs
 * (100 = all vCPUs busy); it can exceed 100 slightly because cpu.time
 * includes QEMU's own threads.  The block rates are NaN alone when one
 * reading has block counters and the other has none (has_block), and
 * span blk_mono_us when it is set (counters carried over such a round).
 *
 * Returns: true when the rates are known, false when they were left NaN.
 */
bool stats_rates_derive_dom(const DomRaw *prev, const DomRaw *cur,
                            DomSample *ret);

/*
 * stats_rates_carry_block:
 * @cur: a reading to keep for the next round's rates
 * @prev: (nullable) the reading before it
 *
 * When @cur, of a domain whose QEMU process runs, has no block counters
 * (a block-stats hold while umbra runs a block job on its host, or
 * libvirt busy with the domain's job) and @prev has, @cur takes @prev's
 * block counters and their time (blk_mono_us): the next reading with
 * counters then gets the rate over the whole gap, not a reset or a
 * spike.
 */
void stats_rates_carry_block(DomRaw *cur, const DomRaw *prev);

/*
 * stats_rates_derive_host:
 * @prev: (nullable) previous reading of the host
 * @cur: current reading
 * @ret: (out) sample to fill (caller sets host/cell/domains)
 *
 * Returns: true when cpu_pct is known.
 */
bool stats_rates_derive_host(const HostRaw *prev, const HostRaw *cur,
                             HostSample *ret);
