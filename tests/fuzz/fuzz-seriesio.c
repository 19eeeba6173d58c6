/*
 * tests/fuzz/fuzz-seriesio.c: the evaluation data readers
 * (tools/seriesio.h).  Every input goes through the three parsers; what
 * the M4 parser accepts must survive a write and a second read with the
 * same series count and lengths.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tools/seriesio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
roundtrip(GPtrArray *series)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    GPtrArray *back;

    g_assert(f);
    g_assert(seriesio_write_m4(f, series, false, NULL));
    fclose(f);
    back = seriesio_parse_m4(buf, len, "roundtrip", NULL);
    g_assert(back);
    g_assert(back->len == series->len);
    for (guint i = 0; i < back->len; i++) {
        const EvalSeries *a = series->pdata[i];
        const EvalSeries *b = back->pdata[i];

        /* Trailing missing values are written as NA and stay. */
        g_assert(a->n == b->n);
    }
    g_ptr_array_unref(back);
    free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *) data;
    GError *err = NULL;
    GPtrArray *m4 = seriesio_parse_m4(buf, size, "fuzz.csv", &err);
    GPtrArray *wide;
    EvalSeries *bb;

    g_assert((m4 == NULL) == (err != NULL));
    g_clear_error(&err);
    if (m4) {
        roundtrip(m4);
        g_ptr_array_unref(m4);
    }
    wide = seriesio_parse_wide(buf, size, "fuzz.csv", &err);
    g_assert((wide == NULL) == (err != NULL));
    g_clear_error(&err);
    for (guint i = 0; wide && i < wide->len; i++) {
        seriesio_aggregate(wide->pdata[i], 3);
        seriesio_trim_leading(wide->pdata[i]);
    }
    if (wide) {
        g_ptr_array_unref(wide);
    }
    bb = seriesio_parse_bitbrains(buf, size, "fuzz.csv", "CPU usage [%]", 300,
                                  &err);
    g_assert((bb == NULL) == (err != NULL));
    g_clear_error(&err);
    eval_series_free(bb);
    return 0;
}
