/*
 * tests/fuzz/fuzz-domstats.c: libvirt stats parameters ("key=value"
 * lines, as `virsh domstats --raw` prints them) through the sensor's
 * parser and the rate derivation, twice, as two consecutive samples.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats/rates.h"
#include "sys/virt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static DomRaw *
parse(char **lines, int64_t t)
{
    g_autoptr(GPtrArray) keys = g_ptr_array_new();
    g_autoptr(GArray) vals = g_array_new(FALSE, FALSE, sizeof(double));
    DomRaw *r = dom_raw_new();

    for (char **l = lines; *l; l++) {
        char *eq = strchr(*l, '=');
        double v;

        if (!eq) {
            continue;
        }
        *eq = '\0';
        v = g_ascii_strtod(eq + 1, NULL);
        g_ptr_array_add(keys, *l);
        g_array_append_val(vals, v);
    }
    sys_virt_fill_raw((const char *const *) keys->pdata,
                      (const double *) vals->data, (int) vals->len, r);
    r->mono_us = t;
    r->wall_us = t;
    return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = g_strndup((const char *) data, size);
    g_auto(GStrv) a = g_strsplit(text, "\n", -1);
    g_auto(GStrv) b = g_strsplit(text, "\n", -1);
    g_autoptr(DomRaw) r1 = parse(a, 1000000);
    g_autoptr(DomRaw) r2 = parse(b, 2000000);
    g_autoptr(DomSample) s = dom_sample_new();

    stats_rates_derive_dom(r1, r2, s);
    g_assert(isnan(s->cpu_pct) || s->cpu_pct >= 0);
    return 0;
}
