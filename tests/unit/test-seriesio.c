/*
 * tests/unit/test-seriesio.c: the evaluation data readers
 * (tools/seriesio.h) on hand-written fixtures in tests/data/tools/, and
 * the M4 measures (forecast/metrics.h) on values worked out by hand.
 *
 * When the shared M4 Hourly data is at hand (UMBRA_M4_DIR, set by
 * tests/meson.build to ../shared/data/m4_hourly), the organisers'
 * benchmark forecasts are scored and must give the check values of
 * ../shared/data/README.md (sNaive 14.575 / 1.167, Naive2 18.802 /
 * 2.301, SES 18.490 / 2.290, Naive 44.362 / 11.702 on 276 series): that
 * proves reader and metrics together against the M4 definitions.
 * Without the data that case only says it skipped.
 */
#include <math.h>
#include <string.h>

#include "cutest.h"
#include "forecast/metrics.h"
#include "tools/seriesio.h"

/* Returns: (transfer full) the fixture's path. */
static char *
fixture_path(const char *name)
{
    const char *dir = g_getenv("UMBRA_TOOLS_DATA");
    g_autofree char *here = NULL;

    if (dir) {
        return g_build_filename(dir, name, NULL);
    }
    here = g_path_get_dirname(__FILE__);
    return g_build_filename(here, "..", "data", "tools", name, NULL);
}

/* Returns: (transfer full) the fixture's contents; fails the test if it
 * cannot be read. */
static char *
fixture(const char *name, size_t *ret_len)
{
    g_autofree char *path = fixture_path(name);
    g_autoptr(GError) err = NULL;
    char *buf = NULL;
    gsize len = 0;

    if (!g_file_get_contents(path, &buf, &len, &err)) {
        fprintf(stderr, "fixture: %s\n", err->message);
        CU_FAIL_FATAL("fixture missing");
    }
    *ret_len = len;
    return buf;
}

static bool
same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static bool
series_is(const EvalSeries *s, const char *id, const double *want, size_t n)
{
    if (strcmp(s->id, id) != 0 || s->n != n) {
        fprintf(stderr, "series %s (n %zu), want %s (n %zu)\n", s->id, s->n, id,
                n);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!same(s->y[i], want[i])) {
            fprintf(stderr, "%s[%zu] = %g, want %g\n", id, i, s->y[i], want[i]);
            return false;
        }
    }
    return true;
}

/* Quoted fields, "" escapes, padding, NA, an empty interior field, CRLF
 * and a blank last line. */
static void
test_m4(void)
{
    size_t len;
    g_autofree char *buf = fixture("m4-train.csv", &len);
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) s = seriesio_parse_m4(buf, len, "m4-train.csv", &err);
    const double a1[] = {1, 2, 3, 4, 5, 6};
    const double a2[] = {10.5, NAN, 12};
    const double b3[] = {7, NAN, 9, 1000};

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(s->len, 3);
    CU_ASSERT_TRUE(series_is(s->pdata[0], "A1", a1, 6));
    CU_ASSERT_TRUE(series_is(s->pdata[1], "A2", a2, 3));
    CU_ASSERT_TRUE(series_is(s->pdata[2], "B\"3", b3, 4));
}

/* The organisers' forecast files: unquoted, header id,F1,... */
static void
test_m4_unquoted(void)
{
    const char *buf = "id,F1,F2\nH1,1.5,2.5\nH2,-3,4e-1\n";
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) s =
        seriesio_parse_m4(buf, strlen(buf), "naive2.csv", &err);
    const double h2[] = {-3, 0.4};

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(s->len, 2);
    CU_ASSERT_TRUE(series_is(s->pdata[1], "H2", h2, 2));
}

static void
expect_error(GPtrArray *s, GError *err, int code, const char *where)
{
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_TRUE(g_error_matches(err, SERIESIO_ERROR, code));
    if (!strstr(err->message, where)) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", err->message, where);
        CU_FAIL("error does not name the line");
    }
}

static void
test_m4_errors(void)
{
    struct {
        const char *buf;
        const char *where;
    } cases[] = {
        {"\"V1\",\"V2\"\n\"A\",\"1\"\n\"B\",\"x12\"\n", "t.csv:3: field 2"},
        {"V1,V2\nA,1\n,2\n", "t.csv:3: empty series id"},
        {"V1,V2\nA,1\nA,2\n", "t.csv:3: duplicate"},
        {"V1,V2\nA,\"1\n", "t.csv:2: field 2: unterminated quote"},
        {"V1,V2\nA,\"1\"x\n", "t.csv:2: field 2: text after"},
        {"V1,V2\nA,1e999\n", "t.csv:2: field 2 is not a finite"},
        {"V1,V2\nA,inf\n", "t.csv:2: field 2 is not a finite"},
    };
    size_t len;
    g_autofree char *buf = fixture("m4-bad.csv", &len);
    g_autoptr(GError) err = NULL;
    GPtrArray *s = seriesio_parse_m4(buf, len, "m4-bad.csv", &err);

    expect_error(s, err, SERIESIO_ERROR_PARSE, "m4-bad.csv:3: field 2");
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) e = NULL;

        s = seriesio_parse_m4(cases[i].buf, strlen(cases[i].buf), "t.csv", &e);
        expect_error(s, e, SERIESIO_ERROR_PARSE, cases[i].where);
    }
}

/* Zero-core rows are missing, jittered steps keep the grid, a 600 s step
 * leaves one hole, 0 % with cores is a real idle sample. */
static void
test_bitbrains(void)
{
    size_t len;
    g_autofree char *buf = fixture("bitbrains-54.csv", &len);
    g_autoptr(GError) err = NULL;
    g_autoptr(EvalSeries) s = seriesio_parse_bitbrains(
        buf, len, "data/2013-8/54.csv", "CPU usage [%]", 300, &err);
    const double want[] = {NAN, NAN, 0.6, 1.0, NAN, 2.0, 0.0, 105.5};
    const double trimmed[] = {0.6, 1.0, NAN, 2.0, 0.0, 105.5};

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_TRUE(series_is(s, "54", want, G_N_ELEMENTS(want)));
    CU_ASSERT_EQUAL(seriesio_trim_leading(s), 2);
    CU_ASSERT_TRUE(series_is(s, "54", trimmed, G_N_ELEMENTS(trimmed)));
}

static void
test_bitbrains_errors(void)
{
    size_t len;
    g_autofree char *buf = fixture("bitbrains-bad.csv", &len);
    g_autoptr(GError) err = NULL;
    EvalSeries *s = seriesio_parse_bitbrains(buf, len, "bitbrains-bad.csv",
                                             "CPU usage [%]", 300, &err);
    const char *back = "Timestamp [ms];\tCPU cores;\tCPU usage [%]\n"
                       "100;\t1;\t1\n100;\t1;\t2\n";
    const char *nocol = "Timestamp [ms];\tCPU cores\n100;\t1\n";
    const char *huge = "Timestamp [ms];\tCPU cores;\tCPU usage [%]\n"
                       "1;\t1;\t1\n1e15;\t1;\t2\n";

    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_TRUE(strstr(err->message, "bitbrains-bad.csv:4:") != NULL);
    g_clear_error(&err);

    s = seriesio_parse_bitbrains(back, strlen(back), "b.csv", "CPU usage [%]",
                                 300, &err);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_TRUE(err && strstr(err->message, "b.csv:3:") != NULL);
    g_clear_error(&err);

    s = seriesio_parse_bitbrains(nocol, strlen(nocol), "c.csv", "CPU usage [%]",
                                 300, &err);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_TRUE(err && strstr(err->message, "c.csv:1:") != NULL);
    g_clear_error(&err);

    /* A gap of 30,000 years is refused, not allocated. */
    s = seriesio_parse_bitbrains(huge, strlen(huge), "d.csv", "CPU usage [%]",
                                 300, &err);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_TRUE(g_error_matches(err, SERIESIO_ERROR, SERIESIO_ERROR_LIMIT));
    g_clear_error(&err);

    s = seriesio_parse_bitbrains("", 0, "e.csv", "CPU usage [%]", 300, &err);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_TRUE(g_error_matches(err, SERIESIO_ERROR, SERIESIO_ERROR_EMPTY));
}

/* Skipped steps, NA and empty fields are missing. */
static void
test_wide(void)
{
    size_t len;
    g_autofree char *buf = fixture("azure-wide.csv", &len);
    g_autofree char *bad = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) s =
        seriesio_parse_wide(buf, len, "azure-wide.csv", &err);
    const double v1[] = {1.5, 2.5, NAN, 4.5, 5.5};
    const double v2[] = {10, NAN, NAN, NAN, 14};
    GPtrArray *none;

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(s->len, 2);
    CU_ASSERT_TRUE(series_is(s->pdata[0], "vm_1", v1, 5));
    CU_ASSERT_TRUE(series_is(s->pdata[1], "vm_2", v2, 5));

    bad = fixture("azure-bad.csv", &len);
    none = seriesio_parse_wide(bad, len, "azure-bad.csv", &err);
    expect_error(none, err, SERIESIO_ERROR_PARSE, "azure-bad.csv:4: step");
}

static void
test_aggregate(void)
{
    g_autoptr(EvalSeries) s = eval_series_new("x", 7);
    const double v[] = {100, 1, 2, NAN, 4, NAN, NAN};
    const double want[] = {1.5, 4, NAN};

    memcpy(s->y, v, sizeof(v));
    /* Blocks end at the last sample: [100] is dropped, then {1, 2},
     * {NaN, 4}, {NaN, NaN} -> 1.5, 4, NaN. */
    seriesio_aggregate(s, 2);
    CU_ASSERT_TRUE(series_is(s, "x", want, 3));
    seriesio_aggregate(s, 1);
    CU_ASSERT_TRUE(series_is(s, "x", want, 3));
}

/* What seriesio_write_m4() writes, seriesio_parse_m4() reads back. */
static void
test_write_roundtrip(void)
{
    g_autoptr(GPtrArray) in =
        g_ptr_array_new_with_free_func((GDestroyNotify) eval_series_free);
    g_autoptr(GPtrArray) back = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *buf = NULL;
    size_t len = 0;
    EvalSeries *a = eval_series_new("a,\"b\"", 3);
    EvalSeries *b = eval_series_new("c", 1);
    FILE *f;

    a->y[0] = 0.1;
    a->y[2] = -1e12;
    b->y[0] = 1.0 / 3.0;
    g_ptr_array_add(in, a);
    g_ptr_array_add(in, b);
    for (int values_only = 0; values_only <= 1; values_only++) {
        g_free(g_steal_pointer(&buf));
        f = open_memstream(&buf, &len);
        CU_ASSERT_TRUE(seriesio_write_m4(f, in, values_only, &err));
        fclose(f);
        g_clear_pointer(&back, g_ptr_array_unref);
        back = seriesio_parse_m4(buf, len, "mem", &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(back);
        CU_ASSERT_EQUAL_FATAL(back->len, 2);
        CU_ASSERT_TRUE(series_is(back->pdata[0], a->id,
                                 (const double[]){0.1, NAN, -1e12}, 3));
        CU_ASSERT_EQUAL(((EvalSeries *) back->pdata[1])->n, 1);
        CU_ASSERT_DOUBLE_EQUAL(((EvalSeries *) back->pdata[1])->y[0], 1.0 / 3.0,
                               1e-14);
    }
}

/* sMAPE and MASE as M4 defines them, on numbers worked out by hand. */
static void
test_metrics(void)
{
    const double x[] = {1, 2, 3, 4, 5, 6};
    const double y[] = {100, 200, 0};
    const double f[] = {110, 180, 0};
    const double lo[] = {105, 150, 1};
    const double hi[] = {120, 210, 2};
    const double flat[] = {5, 5, 5, 5};

    /* 200/3 * (10/210 + 20/380 + 0) = 6.683375... (0/0 counts 0). */
    CU_ASSERT_DOUBLE_EQUAL(fc_smape(y, f, 3),
                           200.0 / 3 * (10.0 / 210 + 20.0 / 380), 1e-12);
    /* Lag-2 in-sample MAE of 1..6 is 2; MAE is 30/3 = 10. */
    CU_ASSERT_DOUBLE_EQUAL(fc_mase(x, 6, 2, y, f, 3), 5.0, 1e-12);
    /* Lag 1: scale 1. */
    CU_ASSERT_DOUBLE_EQUAL(fc_mase(x, 6, 1, y, f, 3), 10.0, 1e-12);
    /* A constant in-sample series has no scale. */
    CU_ASSERT_TRUE(isnan(fc_mase(flat, 4, 1, y, f, 3)));
    CU_ASSERT_TRUE(isnan(fc_mase(x, 2, 2, y, f, 3)));
    /* 100 is below [105, 120], 200 inside [150, 210], 0 below [1, 2]. */
    CU_ASSERT_DOUBLE_EQUAL(fc_coverage(y, lo, hi, 3), 1.0 / 3, 1e-12);
}

/* Scores one organisers' forecast file over the shared M4 Hourly data. */
static void
score_official(const char *dir, GHashTable *test, GPtrArray *train,
               const char *method, double want_smape, double want_mase)
{
    g_autofree char *path = g_strdup_printf(
        "%s/benchmark_forecasts/submission-%s_hourly.csv", dir, method);
    g_autofree char *buf = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) fc = NULL;
    g_autoptr(GHashTable) by_id = g_hash_table_new(g_str_hash, g_str_equal);
    gsize len = 0;
    double smape = 0, mase = 0;

    CU_ASSERT_TRUE_FATAL(g_file_get_contents(path, &buf, &len, &err));
    fc = seriesio_parse_m4(buf, len, path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fc);
    for (guint i = 0; i < fc->len; i++) {
        EvalSeries *s = fc->pdata[i];

        g_hash_table_insert(by_id, s->id, s);
    }
    for (guint i = 0; i < train->len; i++) {
        const EvalSeries *tr = train->pdata[i];
        const EvalSeries *te = g_hash_table_lookup(test, tr->id);
        const EvalSeries *f = g_hash_table_lookup(by_id, tr->id);

        CU_ASSERT_PTR_NOT_NULL_FATAL(te);
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        CU_ASSERT_EQUAL_FATAL(te->n, 48);
        CU_ASSERT_EQUAL_FATAL(f->n, 48);
        smape += fc_smape(te->y, f->y, 48);
        mase += fc_mase(tr->y, tr->n, 24, te->y, f->y, 48);
    }
    smape /= train->len;
    mase /= train->len;
    printf("\n  %s: sMAPE %.3f MASE %.3f ", method, smape, mase);
    CU_ASSERT_DOUBLE_EQUAL(smape, want_smape, 0.0005);
    CU_ASSERT_DOUBLE_EQUAL(mase, want_mase, 0.0005);
}

static void
test_m4_check_values(void)
{
    const char *dir = g_getenv("UMBRA_M4_DIR");
    g_autofree char *train_path = NULL, *test_path = NULL;
    g_autofree char *train_buf = NULL, *test_buf = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) train = NULL, test = NULL;
    g_autoptr(GHashTable) by_id = g_hash_table_new(g_str_hash, g_str_equal);
    gsize tl = 0, sl = 0;

    if (!dir || !*dir) {
        printf("\n  skipped: UMBRA_M4_DIR is not set ");
        return;
    }
    train_path = g_build_filename(dir, "Hourly-train.csv", NULL);
    test_path = g_build_filename(dir, "Hourly-test.csv", NULL);
    if (!g_file_get_contents(train_path, &train_buf, &tl, NULL) ||
        !g_file_get_contents(test_path, &test_buf, &sl, NULL)) {
        printf("\n  skipped: no M4 Hourly data in %s ", dir);
        return;
    }
    train = seriesio_parse_m4(train_buf, tl, train_path, &err);
    test = seriesio_parse_m4(test_buf, sl, test_path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(train);
    CU_ASSERT_PTR_NOT_NULL_FATAL(test);
    CU_ASSERT_EQUAL(train->len, 276);
    for (guint i = 0; i < test->len; i++) {
        EvalSeries *s = test->pdata[i];

        g_hash_table_insert(by_id, s->id, s);
    }
    /* ../shared/data/README.md, "Check against the shipped files". */
    score_official(dir, by_id, train, "sNaive", 14.575, 1.167);
    score_official(dir, by_id, train, "Naive2", 18.802, 2.301);
    score_official(dir, by_id, train, "SES", 18.490, 2.290);
    score_official(dir, by_id, train, "Naive", 44.362, 11.702);
}

static const CutestCase cases[] = {
    {"m4 quoted, padded, NA, CRLF", test_m4},
    {"m4 unquoted forecast file", test_m4_unquoted},
    {"m4 malformed rows name the line", test_m4_errors},
    {"bitbrains zero-core rows, jitter, gaps", test_bitbrains},
    {"bitbrains malformed input", test_bitbrains_errors},
    {"wide step,vm CSV", test_wide},
    {"aggregate to coarser steps", test_aggregate},
    {"write then read the M4 layout", test_write_roundtrip},
    {"sMAPE, MASE, coverage by hand", test_metrics},
    {"M4 Hourly check values (shared data)", test_m4_check_values},
};

CUTEST_MAIN("seriesio", cases)
