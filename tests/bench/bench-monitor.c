/*
 * tests/bench/bench-monitor.c: umbrad's per-sample cost at fleet scale.
 *
 * Replays stats recorded from the lab's real libvirtd (`virsh domstats
 * --raw`, several rounds, tests/data/bench/) for N domains (default
 * 1,000) spread over 4 hosts, through the same code umbrad runs for
 * every sample: typed-parameter parsing (sys_virt_fill_raw), rate
 * derivation, domain ownership and the SQLite store (one transaction per
 * host round).  Counters advance round to round by the recorded deltas,
 * each domain offset so no two are identical.
 *
 * Prints CPU time per domain-sample and resident memory per domain,
 * against the targets (0.1 ms, 20 KiB).  Not a test: it asserts nothing.
 *
 * Usage: bench-monitor RECORDING [DOMAINS] [ROUNDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "engine/monitorpriv.h"
#include "util/clock.h"

#define HOSTS 4

typedef struct {
    GPtrArray *keys; /* char* */
    GArray *vals;    /* double */
} Rec;

static long
rss_kib(void)
{
    g_autofree char *status = NULL;
    const char *p;

    if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL)) {
        return 0;
    }
    p = strstr(status, "VmRSS:");
    return p ? strtol(p + 6, NULL, 10) : 0;
}

static double
cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double) ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Parses `virsh domstats --raw` output: "Domain: 'x'" then "  k=v". */
static GPtrArray *
load_recording(const char *path)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    GPtrArray *recs = g_ptr_array_new();
    Rec *cur = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        fprintf(stderr, "bench-monitor: cannot read %s\n", path);
        exit(2);
    }
    lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        char *eq;

        if (g_str_has_prefix(*l, "Domain:")) {
            cur = g_new0(Rec, 1);
            cur->keys = g_ptr_array_new_with_free_func(g_free);
            cur->vals = g_array_new(FALSE, FALSE, sizeof(double));
            g_ptr_array_add(recs, cur);
            continue;
        }
        eq = strchr(*l, '=');
        if (!cur || !eq) {
            continue;
        }
        *eq = '\0';
        {
            char *end = NULL;
            double v = g_ascii_strtod(eq + 1, &end);

            if (end == eq + 1) {
                continue; /* a string parameter (e.g. block.0.name) */
            }
            g_ptr_array_add(cur->keys, g_strdup(g_strstrip(*l)));
            g_array_append_val(cur->vals, v);
        }
    }
    return recs;
}

int
main(int argc, char **argv)
{
    int ndom = argc > 2 ? atoi(argv[2]) : 1000;
    int rounds = argc > 3 ? atoi(argv[3]) : 30;
    g_autoptr(GPtrArray) recs = NULL;
    g_autofree char *dir = g_dir_make_tmp("umbra-bench-XXXXXX", NULL);
    g_autofree char *db = g_build_filename(dir, "bench.db", NULL);
    g_autoptr(GString) conf = g_string_new("[umbrad]\ninterval = 1\n");
    g_autoptr(UmbraConfig) cfg = NULL;
    g_autoptr(TsdbStore) store = NULL;
    g_autoptr(Monitor) m = NULL;
    long rss0, rss1;
    double cpu0, cpu1, cpu_warm = 0;
    int64_t samples = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: bench-monitor RECORDING [DOMAINS] "
                        "[ROUNDS]\n");
        return 2;
    }
    recs = load_recording(argv[1]);
    if (recs->len == 0) {
        fprintf(stderr, "bench-monitor: no domains in %s\n", argv[1]);
        return 2;
    }
    for (int h = 0; h < HOSTS; h++) {
        g_string_append_printf(conf,
                               "[host:b%d]\nuri = test+tcp://10.0.0.%d/"
                               "default\ncell = c%d\n",
                               h, h + 1, h % 2);
    }
    cfg = umbra_config_parse("bench", conf->str, conf->len, NULL);
    store = tsdb_store_open(db, NULL);
    m = monitor_new(cfg, &sys_virt_libvirt_ops, store);
    util_clock_set_fake(1000 * UTIL_USEC_PER_SEC,
                        1700000000 * UTIL_USEC_PER_SEC);
    monitor_test_state(m, 0, HOST_STATE_CONNECTED, NULL, "b0");
    for (int h = 1; h < HOSTS; h++) {
        monitor_test_state(m, h, HOST_STATE_CONNECTED, NULL, "bx");
    }
    rss0 = rss_kib();
    cpu0 = cpu_seconds();
    for (int r = 0; r < rounds; r++) {
        if (r == 2) {
            /* The first rounds create the domains: measure steady state. */
            cpu_warm = cpu_seconds();
            samples = 0;
        }
        for (int h = 0; h < HOSTS; h++) {
            GPtrArray *raws =
                g_ptr_array_new_with_free_func((GDestroyNotify) dom_raw_free);
            HostRaw hr = {.ncpus = 32, .mem_total_kib = 1 << 26};

            for (int d = h; d < ndom; d += HOSTS) {
                /* Round r of the recording, cycling, for domain d. */
                Rec *rec =
                    g_ptr_array_index(recs, (guint) ((d + r) % recs->len));
                g_autofree double *vals =
                    g_memdup2(rec->vals->data, rec->vals->len * sizeof(double));
                DomRaw *raw = dom_raw_new();

                for (guint i = 0; i < rec->vals->len; i++) {
                    const char *k = g_ptr_array_index(rec->keys, i);

                    if (g_str_has_suffix(k, "bytes") ||
                        g_str_has_suffix(k, "reqs") ||
                        g_str_has_suffix(k, "pkts") ||
                        g_str_has_suffix(k, ".time")) {
                        vals[i] += (double) r * 1e6 * (d % 7 + 1);
                    }
                }
                sys_virt_fill_raw((const char *const *) rec->keys->pdata, vals,
                                  (int) rec->vals->len, raw);
                raw->uuid = g_strdup_printf("00000000-0000-4000-8000-%012d", d);
                raw->name = g_strdup_printf("vm%04d", d);
                raw->mono_us = util_clock_mono();
                raw->wall_us = util_clock_wall();
                g_ptr_array_add(raws, raw);
                samples++;
            }
            hr.mono_us = util_clock_mono();
            hr.wall_us = util_clock_wall();
            hr.cpu_total_ns = (uint64_t) r * 32000000000ULL + 1;
            hr.cpu_busy_ns = hr.cpu_total_ns / 3;
            monitor_test_round(m, (guint) h, raws, &hr);
        }
        util_clock_advance_fake(UTIL_USEC_PER_SEC);
    }
    cpu1 = cpu_seconds();
    rss1 = rss_kib();
    {
        double per_sample_ms = (cpu1 - cpu_warm) / (double) samples * 1e3;
        double per_dom_kib = (double) (rss1 - rss0) / ndom;

        printf("bench-monitor: %d domains x %d rounds on %d hosts, "
               "recording of %u domain records\n",
               ndom, rounds, HOSTS, recs->len);
        printf("%-34s %12s %12s %8s\n", "metric", "umbra", "target", "ratio");
        printf("%-34s %12.4f %12.4f %8.2f\n", "CPU per domain-sample (ms)",
               per_sample_ms, 0.1, per_sample_ms / 0.1);
        printf("%-34s %12.1f %12.1f %8.2f\n", "RSS per domain (KiB)",
               per_dom_kib, 20.0, per_dom_kib / 20.0);
        printf("%-34s %12.2f\n", "total CPU incl. warm-up (s)", cpu1 - cpu0);
        printf("%-34s %12" G_GINT64_FORMAT "\n", "stored samples (store)",
               tsdb_store_count_dom_samples(store, NULL));
    }
    monitor_free(g_steal_pointer(&m));
    tsdb_store_close(g_steal_pointer(&store));
    unlink(db);
    {
        g_autofree char *wal = g_strconcat(db, "-wal", NULL);
        g_autofree char *shm = g_strconcat(db, "-shm", NULL);

        unlink(wal);
        unlink(shm);
    }
    rmdir(dir);
    return 0;
}
