/*
 * tests/unit/test-nab.c: the NAB readers and scorer (tools/nab.h).
 *
 * The scorer is checked on a small hand-made file whose every figure was
 * worked out from NAB's definition (scaled sigmoid, probationary rows,
 * best detection per window, false positives by distance from the last
 * window), and the readers on inline buffers, including the line their
 * errors name.
 *
 * When the shared NAB data is at hand (UMBRA_NAB_DIR, set by
 * tests/meson.build to ../shared/data/nab), every labelled file is read
 * and scored: the null detector must get exactly -windows per file, equal
 * to NAB's published null scores (published/null_standard_scores.csv), a
 * perfect detector +1 per window, and NAB's published per-file raw scores
 * of Numenta HTM and ARTime must come out at the normalised totals the
 * data's README gives (64.2 and 68.5).  Without the data those cases say
 * they skipped.
 */
#include <math.h>
#include <string.h>

#include "cutest.h"
#include "tools/nab.h"

/* S(-1), S(-0.5) and worths worked out from S(x) = 2 / (1 + e^(5x)) - 1. */
#define S_M1 0.9866142981514305
#define S_MHALF 0.8482836399575131

static bool
near(double a, double b, double tol)
{
    return fabs(a - b) <= tol;
}

static void
test_sigmoid(void)
{
    CU_ASSERT(near(nab_scaled_sigmoid(-1.0), S_M1, 1e-12));
    CU_ASSERT(near(nab_scaled_sigmoid(-0.5), S_MHALF, 1e-12));
    CU_ASSERT(near(nab_scaled_sigmoid(0.0), 0.0, 1e-15));
    CU_ASSERT(near(nab_scaled_sigmoid(1.0), -S_M1, 1e-12));
    CU_ASSERT_EQUAL(nab_scaled_sigmoid(3.0), -1.0);
    CU_ASSERT_EQUAL(nab_scaled_sigmoid(100.0), -1.0);
    CU_ASSERT(nab_scaled_sigmoid(2.999) > -1.0);
    /* min(floor(0.15 n), 750). */
    CU_ASSERT_EQUAL(nab_probation_length(4032, 0.15), 604);
    CU_ASSERT_EQUAL(nab_probation_length(1243, 0.15), 186);
    CU_ASSERT_EQUAL(nab_probation_length(22695, 0.15), 750);
    CU_ASSERT_EQUAL(nab_probation_length(5000, 0.15), 750);
    CU_ASSERT_EQUAL(nab_probation_length(3, 0.15), 0);
}

/* The hand-made file: 100 rows, 15 probationary; windows at rows 2-8
 * (wholly probationary, not scored), 40-49 and 70-79 (10 rows each). */
static const NabSpan spans[] = {{2, 8}, {40, 49}, {70, 79}};

/* Scores the detections at @rows (-1 ends) on the hand-made file. */
static NabScore
score_rows(const int *rows, size_t *ret_first)
{
    NabProfile p = nab_profile_standard();
    double v[100] = {0};
    NabScore s;
    g_autoptr(GError) err = NULL;

    for (; *rows >= 0; rows++) {
        v[*rows] = 1.0;
    }
    CU_ASSERT(nab_score(&p, 100, spans, G_N_ELEMENTS(spans), v, 0.5, ret_first,
                        &s, &err));
    return s;
}

static void
test_score_by_hand(void)
{
    size_t first[3];
    NabScore s;

    /* Null detector: -fnWeight per scored window. */
    s = score_rows((const int[]){-1}, first);
    CU_ASSERT_EQUAL(s.windows, 2);
    CU_ASSERT_EQUAL(s.detected, 0);
    CU_ASSERT_EQUAL(s.score, -2.0);
    CU_ASSERT_EQUAL(s.probation, 15);
    CU_ASSERT_EQUAL(s.tn + s.fn, 85);
    CU_ASSERT_EQUAL(first[1], (size_t) -1);

    /* Perfect: the first row of each window is worth exactly tpWeight;
     * a later detection in the same window adds nothing. */
    s = score_rows((const int[]){40, 41, 70, -1}, first);
    CU_ASSERT(near(s.score, 2.0, 1e-12));
    CU_ASSERT_EQUAL(s.detected, 2);
    CU_ASSERT_EQUAL(s.tp, 3);
    CU_ASSERT_EQUAL(first[1], 40);
    CU_ASSERT_EQUAL(first[2], 70);

    /* Probationary detections are ignored, in or out of a window. */
    s = score_rows((const int[]){3, 10, 14, 40, 70, -1}, NULL);
    CU_ASSERT(near(s.score, 2.0, 1e-12));
    CU_ASSERT_EQUAL(s.fp, 0);

    /* Half-way: x = -(49 - 45 + 1) / 10 = -0.5, worth S(-0.5) / S(-1);
     * the missed window costs 1. */
    s = score_rows((const int[]){45, -1}, NULL);
    CU_ASSERT(near(s.score, 0.8597925669097837 - 1.0, 1e-12));
    CU_ASSERT(near(s.score, S_MHALF / S_M1 - 1.0, 1e-12));
    /* The last row: x = -1/10. */
    s = score_rows((const int[]){49, 79, -1}, NULL);
    CU_ASSERT(near(s.score, 2 * 0.24824154977542992, 1e-12));

    /* False positives: before any window a full fpWeight; after one,
     * fpWeight S(|r' - i| / (w' - 1)). */
    {
        NabProfile p = nab_profile_standard();
        double v[100] = {0};

        v[20] = 1.0;
        CU_ASSERT(nab_score(&p, 100, spans + 1, 2, v, 0.5, NULL, &s, NULL));
        CU_ASSERT(near(s.fp_score, -0.11, 1e-12));
        CU_ASSERT(near(s.score, -2.11, 1e-12));
        CU_ASSERT_EQUAL(s.fp, 1);
    }
    /* A window wholly in the probationary period is not scored but is
     * still the window a later FP is measured from (as NAB's sweeper):
     * x = (20 - 8) / (7 - 1) = 2. */
    s = score_rows((const int[]){20, -1}, NULL);
    CU_ASSERT(near(s.fp_score, -0.10999001246888546, 1e-12));
    CU_ASSERT_EQUAL(s.fp, 1);
    s = score_rows((const int[]){50, -1}, NULL);
    CU_ASSERT(near(s.fp_score, -0.029793183036839352, 1e-12));
    s = score_rows((const int[]){60, -1}, NULL);
    CU_ASSERT(near(s.fp_score, -0.10951310130369775, 1e-12));
    s = score_rows((const int[]){69, -1}, NULL);
    CU_ASSERT(near(s.fp_score, -0.1099967120746637, 1e-12));
    /* After the second window, the distance is from its end. */
    s = score_rows((const int[]){80, -1}, NULL);
    CU_ASSERT(near(s.fp_score, -0.029793183036839352, 1e-12));
    /* FPs add up. */
    s = score_rows((const int[]){20, 50, 60, 40, -1}, NULL);
    CU_ASSERT(near(s.score,
                   1.0 - 1.0 - 0.10999001246888546 - 0.029793183036839352 -
                       0.10951310130369775,
                   1e-12));
    CU_ASSERT_EQUAL(s.fp, 3);
    CU_ASSERT_EQUAL(s.tp, 1);

    /* Normalised: null 0, perfect 100. */
    CU_ASSERT(
        near(nab_normalised(&(NabProfile){1, 0.11, 1, 0.15}, -2, 2), 0, 1e-12));
    CU_ASSERT(near(nab_normalised(&(NabProfile){1, 0.11, 1, 0.15}, 2, 2), 100,
                   1e-12));
    CU_ASSERT(isnan(nab_normalised(&(NabProfile){1, 0.11, 1, 0.15}, 0, 0)));
}

static void
test_score_threshold(void)
{
    NabProfile p = nab_profile_standard();
    double v[100];
    NabScore s;
    NabSpan bad[] = {{40, 49}, {45, 60}};
    g_autoptr(GError) err = NULL;

    for (int i = 0; i < 100; i++) {
        v[i] = 0.1;
    }
    v[40] = 0.7;
    v[70] = NAN;
    v[75] = 0.69;
    /* Rows >= threshold are detections; NaN never is. */
    CU_ASSERT(nab_score(&p, 100, spans, 3, v, 0.7, NULL, &s, NULL));
    CU_ASSERT_EQUAL(s.detected, 1);
    CU_ASSERT(nab_score(&p, 100, spans, 3, v, 0.69, NULL, &s, NULL));
    CU_ASSERT_EQUAL(s.detected, 2);
    /* Threshold at or below the floor: every row fires. */
    CU_ASSERT(nab_score(&p, 100, spans, 3, v, 0.1, NULL, &s, NULL));
    CU_ASSERT_EQUAL(s.fp, 85 - 20);
    CU_ASSERT(!nab_score(&p, 100, bad, 2, v, 0.5, NULL, &s, &err));
    CU_ASSERT(g_error_matches(err, NAB_ERROR, NAB_ERROR_INVALID));
}

static void
test_time(void)
{
    int64_t t = 0;

    CU_ASSERT(nab_parse_time("2014-07-01 00:00:00", 19, &t));
    CU_ASSERT_EQUAL(t, 1404172800);
    CU_ASSERT(nab_parse_time("2014-07-01 00:00:00.000000", 26, &t));
    CU_ASSERT_EQUAL(t, 1404172800);
    CU_ASSERT(nab_parse_time("2000-02-29 23:59:59", 19, &t));
    CU_ASSERT_EQUAL(t, 951868799);
    CU_ASSERT(nab_parse_time("1969-12-31 00:00:00", 19, &t));
    CU_ASSERT_EQUAL(t, -86400);
    t = 7;
    CU_ASSERT(!nab_parse_time("2014-07-01 00:00:00.5", 21, &t));
    CU_ASSERT(!nab_parse_time("2014-07-01 00:00", 16, &t));
    CU_ASSERT(!nab_parse_time("2014-13-01 00:00:00", 19, &t));
    CU_ASSERT(!nab_parse_time("2014-02-29 00:00:00", 19, &t));
    CU_ASSERT(!nab_parse_time("2014-07-01 24:00:00", 19, &t));
    CU_ASSERT(!nab_parse_time("2014-07-01x00:00:00", 19, &t));
    CU_ASSERT(!nab_parse_time("2014-07-01 00:00:00.", 20, &t));
    CU_ASSERT_EQUAL(t, 7);
}

/* Asserts that parsing @csv fails with a message naming @where. */
static void
series_fails(const char *csv, const char *where)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(NabSeries) s = nab_parse_series(csv, strlen(csv), "x.csv", &err);

    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    if (!strstr(err->message, where)) {
        printf("\n  got \"%s\", want \"%s\" ", err->message, where);
        CU_FAIL("error does not name the line");
    }
}

static void
test_series(void)
{
    static const char csv[] = "timestamp,value\r\n"
                              "2014-07-01 00:00:00,10844\r\n"
                              "\r\n"
                              "2014-07-01 00:30:00,8127.5\n"
                              "2014-07-01 01:00:00,\n"
                              "2014-07-01 01:30:00,nan";
    g_autoptr(GError) err = NULL;
    g_autoptr(NabSeries) s = nab_parse_series(csv, strlen(csv), "x", &err);

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->n, 4);
    CU_ASSERT_EQUAL(s->t[0], 1404172800);
    CU_ASSERT_EQUAL(s->t[3], 1404172800 + 5400);
    CU_ASSERT_EQUAL(s->y[0], 10844);
    CU_ASSERT_EQUAL(s->y[1], 8127.5);
    CU_ASSERT(isnan(s->y[2]) && isnan(s->y[3]));
    CU_ASSERT_EQUAL(s->backwards, 0);

    /* Repeated and backward times are kept in row order and counted. */
    {
        static const char back[] = "timestamp,value\n"
                                   "2014-03-09 02:55:00,1\n"
                                   "2014-03-09 03:00:00,2\n"
                                   "2014-03-09 03:00:00,3\n"
                                   "2014-03-09 02:05:00,4\n";
        g_autoptr(NabSeries) b =
            nab_parse_series(back, strlen(back), "b", &err);

        CU_ASSERT_PTR_NOT_NULL_FATAL(b);
        CU_ASSERT_EQUAL(b->n, 4);
        CU_ASSERT_EQUAL(b->backwards, 2);
        CU_ASSERT_EQUAL(b->y[3], 4);
    }

    series_fails("time,value\n", "x.csv:1:");
    series_fails("timestamp,value\n2014-07-01 00:00:00,1,2\n", "x.csv:2:");
    series_fails("timestamp,value\n\n2014-07-01 00:00,1\n",
                 "x.csv:3: bad timestamp");
    series_fails("timestamp,value\n2014-07-01 00:00:00,1x\n",
                 "x.csv:2: bad value");
    series_fails("timestamp,value\n", "x.csv: no data");
    series_fails("", "x.csv: no data");
}

static const char windows_json[] =
    "{\n"
    "    \"a/one.csv\": [\n"
    "        [\n"
    "            \"2014-02-26 13:45:00.000000\",\n"
    "            \"2014-02-27 06:25:00.000000\"\n"
    "        ],\n"
    "        [\"2014-02-20 00:00:00.000000\", \"2014-02-20 01:00:00\"]\n"
    "    ],\n"
    "    \"b/two.csv\": []\n"
    "}\n";

static const char labels_json[] = "{\n"
                                  "  \"a/one.csv\": [\n"
                                  "    \"2014-02-26 22:05:00\",\n"
                                  "    \"2014-02-20 00:30:00\"\n"
                                  "  ]\n"
                                  "}\n";

/* Asserts that parsing @json as windows fails naming @where, leaving a
 * table that holds "a/one.csv" unchanged. */
static void
windows_fail(GHashTable *labels, const char *json, const char *where)
{
    g_autoptr(GError) err = NULL;
    NabFileLabels *before = g_hash_table_lookup(labels, "a/one.csv");
    size_t nw = before ? before->nwindows : 0;

    CU_ASSERT(
        !nab_labels_parse_windows(labels, json, strlen(json), "w.json", &err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    if (!strstr(err->message, where)) {
        printf("\n  got \"%s\", want \"%s\" ", err->message, where);
        CU_FAIL("error does not name the line");
    }
    if (before) {
        CU_ASSERT_EQUAL(
            ((NabFileLabels *) g_hash_table_lookup(labels, "a/one.csv"))
                ->nwindows,
            nw);
    }
}

static void
test_labels(void)
{
    g_autoptr(GHashTable) labels = nab_labels_new();
    g_autoptr(GError) err = NULL;
    NabFileLabels *l;
    int64_t t;

    CU_ASSERT_FATAL(nab_labels_parse_windows(
        labels, windows_json, strlen(windows_json), "w.json", &err));
    CU_ASSERT_FATAL(nab_labels_parse_anomalies(
        labels, labels_json, strlen(labels_json), "l.json", &err));
    CU_ASSERT_EQUAL(g_hash_table_size(labels), 2);
    l = g_hash_table_lookup(labels, "a/one.csv");
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_EQUAL_FATAL(l->nwindows, 2);
    /* Sorted by start. */
    CU_ASSERT(nab_parse_time("2014-02-20 00:00:00", 19, &t));
    CU_ASSERT_EQUAL(l->windows[0].start_s, t);
    CU_ASSERT_EQUAL(l->windows[0].end_s, t + 3600);
    CU_ASSERT(nab_parse_time("2014-02-26 13:45:00", 19, &t));
    CU_ASSERT_EQUAL(l->windows[1].start_s, t);
    CU_ASSERT_EQUAL_FATAL(l->nanomalies, 2);
    CU_ASSERT(l->anomalies[0] < l->anomalies[1]);
    CU_ASSERT_EQUAL(l->anomalies[0], l->windows[0].start_s + 1800);
    l = g_hash_table_lookup(labels, "b/two.csv");
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_EQUAL(l->nwindows, 0);
    CU_ASSERT_EQUAL(l->nanomalies, 0);

    windows_fail(labels, "{\n  \"a/one.csv\": [\n    [\"x\",\n", "w.json:4:");
    windows_fail(labels, "{\n\"a/one.csv\": [[1, 2]]}", "w.json:2:");
    windows_fail(labels, "[]", "w.json:1: expected an object");
    windows_fail(labels,
                 "{\"a/one.csv\": [\n[\"2014-02-26 13:45:00\",\n"
                 "\"2014-02-26 13:44:00\"]]}",
                 "w.json:3: a/one.csv: window 1 ends before");
    windows_fail(labels,
                 "{\"a/one.csv\":\n[[\"2014-02-26 13:45:00\", "
                 "\"2014-02-26 15:00:00\"],\n[\"2014-02-26 14:00:00\", "
                 "\"2014-02-26 16:00:00\"]]}",
                 "windows 1 and 2 overlap");
    windows_fail(labels,
                 "{\"a/one.csv\":\n\n[[\"2014-02-26 13:45:00\", "
                 "\"2014-02-26 25:00:00\"]]}",
                 "w.json:3: a/one.csv: bad time 2014-02-26 25:00:00");
    windows_fail(labels, "{\"a/one.csv\": [[\"2014-02-26 13:45:00\"]]}",
                 "window 1 is not a pair");
    windows_fail(labels, "{} x", "text after");
}

static void
test_locate(void)
{
    int64_t t[] = {0, 300, 600, 900, 1200, 1500};
    NabWindow w[] = {{300, 600}, {1000, 1300}, {1600, 1700}};
    NabSpan sp[3];
    g_autoptr(GError) err = NULL;

    CU_ASSERT(nab_windows_locate(t, 6, w, 2, sp, NULL));
    CU_ASSERT_EQUAL(sp[0].first, 1);
    CU_ASSERT_EQUAL(sp[0].last, 2);
    CU_ASSERT_EQUAL(sp[1].first, 4);
    CU_ASSERT_EQUAL(sp[1].last, 4);
    CU_ASSERT(!nab_windows_locate(t, 6, w, 3, sp, &err));
    CU_ASSERT(g_error_matches(err, NAB_ERROR, NAB_ERROR_INVALID));

    /* A clock stepping back: the window starts at the first row stamped
     * with its start and ends at the first stamped with its end. */
    {
        int64_t tb[] = {0, 300, 600, 300, 600, 900, 1200};
        NabWindow wb[] = {{300, 900}, {1200, 1200}};

        CU_ASSERT(nab_windows_locate(tb, 7, wb, 2, sp, NULL));
        CU_ASSERT_EQUAL(sp[0].first, 1);
        CU_ASSERT_EQUAL(sp[0].last, 5);
        CU_ASSERT_EQUAL(sp[1].first, 6);
        CU_ASSERT_EQUAL(sp[1].last, 6);
    }
}

static void
test_published_parse(void)
{
    static const char csv[] =
        "Detector,Profile,File,Threshold,Score,TP,TN,FP,FN,Total_Count\n"
        "numenta,standard,a/one.csv,0.54,1.27956648491,3,3022,4,399,4032\n"
        "numenta,standard,Totals,0.54,1.0,3,3022,4,399,4032\n";
    g_autoptr(GError) err = NULL;
    g_autoptr(GHashTable) t = nab_parse_published(csv, strlen(csv), "p", &err);
    NabPublished *r;

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(g_hash_table_size(t), 1);
    r = g_hash_table_lookup(t, "a/one.csv");
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_STRING_EQUAL(r->detector, "numenta");
    CU_ASSERT_EQUAL(r->score, 1.27956648491);
    CU_ASSERT_EQUAL(r->fp, 4);
    CU_ASSERT_EQUAL(r->total, 4032);

    g_clear_error(&err);
    CU_ASSERT_PTR_NULL(nab_parse_published("Detector,x\n", 11, "p", &err));
    CU_ASSERT(err && strstr(err->message, "p:1:"));
    g_clear_error(&err);
    {
        static const char bad[] =
            "Detector,Profile,File,Threshold,Score,TP,TN,FP,FN,Total_Count\n"
            "\n"
            "numenta,standard,a/one.csv,0.54,x,3,3022,4,399,4032\n";

        CU_ASSERT_PTR_NULL(nab_parse_published(bad, strlen(bad), "p", &err));
        CU_ASSERT(err && strstr(err->message, "p:3:"));
    }
}

/* Reads @dir/@rel; NULL (and a skip note) if it cannot. */
static char *
read_shared(const char *dir, const char *rel, gsize *ret_len)
{
    g_autofree char *path = g_build_filename(dir, rel, NULL);
    char *buf = NULL;

    if (!g_file_get_contents(path, &buf, ret_len, NULL)) {
        return NULL;
    }
    return buf;
}

/* Returns: the NAB directory, or NULL after printing why the case
 * skips. */
static const char *
nab_dir(void)
{
    const char *dir = g_getenv("UMBRA_NAB_DIR");
    g_autofree char *w = NULL;

    if (!dir || !*dir) {
        printf("\n  skipped: UMBRA_NAB_DIR is not set ");
        return NULL;
    }
    w = g_build_filename(dir, "labels", "combined_windows.json", NULL);
    if (!g_file_test(w, G_FILE_TEST_EXISTS)) {
        printf("\n  skipped: no NAB data in %s ", dir);
        return NULL;
    }
    return dir;
}

static GHashTable *
load_published(const char *dir, const char *detector)
{
    g_autofree char *rel =
        g_strdup_printf("published/%s_standard_scores.csv", detector);
    g_autofree char *buf = NULL;
    g_autoptr(GError) err = NULL;
    gsize len = 0;
    GHashTable *t;

    buf = read_shared(dir, rel, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    t = nab_parse_published(buf, len, rel, &err);
    if (!t) {
        printf("\n  %s ", err->message);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    return t;
}

static void
test_shared_data(void)
{
    const char *dir = nab_dir();
    NabProfile p = nab_profile_standard();
    g_autoptr(GHashTable) labels = nab_labels_new();
    g_autoptr(GHashTable) null = NULL, numenta = NULL, artime = NULL;
    g_autofree char *wbuf = NULL, *lbuf = NULL;
    g_autoptr(GError) err = NULL;
    GHashTableIter it;
    gpointer key, val;
    gsize wl = 0, ll = 0;
    size_t files = 0, windows = 0, anomalies = 0;
    double perfect = 0, sum_null = 0, sum_numenta = 0, sum_artime = 0;

    if (!dir) {
        return;
    }
    wbuf = read_shared(dir, "labels/combined_windows.json", &wl);
    lbuf = read_shared(dir, "labels/combined_labels.json", &ll);
    CU_ASSERT_PTR_NOT_NULL_FATAL(wbuf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lbuf);
    CU_ASSERT_FATAL(nab_labels_parse_windows(labels, wbuf, wl,
                                             "combined_windows.json", &err));
    CU_ASSERT_FATAL(nab_labels_parse_anomalies(labels, lbuf, ll,
                                               "combined_labels.json", &err));
    null = load_published(dir, "null");
    numenta = load_published(dir, "numenta");
    artime = load_published(dir, "ARTime");

    g_hash_table_iter_init(&it, labels);
    while (g_hash_table_iter_next(&it, &key, &val)) {
        NabFileLabels *l = val;
        g_autofree char *rel = g_build_filename("data", l->file, NULL);
        g_autofree char *buf = NULL;
        g_autoptr(NabSeries) s = NULL;
        g_autofree NabSpan *sp = g_new(NabSpan, l->nwindows + 1);
        g_autofree double *v = NULL;
        NabPublished *pn = g_hash_table_lookup(null, l->file);
        NabPublished *ph = g_hash_table_lookup(numenta, l->file);
        NabPublished *pa = g_hash_table_lookup(artime, l->file);
        NabScore sc;
        gsize len = 0;

        buf = read_shared(dir, rel, &len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
        s = nab_parse_series(buf, len, rel, &err);
        if (!s) {
            printf("\n  %s ", err->message);
        }
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_FATAL(
            nab_windows_locate(s->t, s->n, l->windows, l->nwindows, sp, &err));
        /* NAB's windows start and end on rows. */
        for (size_t k = 0; k < l->nwindows; k++) {
            CU_ASSERT_EQUAL(s->t[sp[k].first], l->windows[k].start_s);
            CU_ASSERT_EQUAL(s->t[sp[k].last], l->windows[k].end_s);
        }
        v = g_new0(double, s->n);
        CU_ASSERT(
            nab_score(&p, s->n, sp, l->nwindows, v, 0.5, NULL, &sc, &err));
        CU_ASSERT_EQUAL(sc.windows, l->nwindows);
        CU_ASSERT_EQUAL(sc.score, -(double) l->nwindows);
        CU_ASSERT_PTR_NOT_NULL_FATAL(pn);
        CU_ASSERT_EQUAL(sc.score, pn->score);
        /* NAB's null row counts every non-probationary row (TN + FN). */
        CU_ASSERT_EQUAL(sc.tn, pn->tn);
        CU_ASSERT_EQUAL(sc.fn, pn->fn);
        CU_ASSERT_EQUAL(s->n, pn->total);
        for (size_t k = 0; k < l->nwindows; k++) {
            v[sp[k].first] = 1.0;
        }
        CU_ASSERT(
            nab_score(&p, s->n, sp, l->nwindows, v, 0.5, NULL, &sc, &err));
        CU_ASSERT(near(sc.score, (double) l->nwindows, 1e-12));
        perfect += sc.score;
        sum_null += pn->score;
        CU_ASSERT_PTR_NOT_NULL_FATAL(ph);
        CU_ASSERT_PTR_NOT_NULL_FATAL(pa);
        sum_numenta += ph->score;
        sum_artime += pa->score;
        windows += l->nwindows;
        anomalies += l->nanomalies;
        files++;
    }
    CU_ASSERT_EQUAL(files, 13);
    CU_ASSERT_EQUAL(windows, 28);
    CU_ASSERT_EQUAL(anomalies, 30);
    CU_ASSERT(near(perfect, 28.0, 1e-9));
    CU_ASSERT_EQUAL(sum_null, -28.0);
    CU_ASSERT_EQUAL(g_hash_table_size(numenta), 13);
    CU_ASSERT_EQUAL(g_hash_table_size(artime), 13);
    /* published/README.md: about 64.2 (numenta) and 68.5 (ARTime). */
    CU_ASSERT(near(nab_normalised(&p, sum_numenta, windows), 64.2, 0.05));
    CU_ASSERT(near(nab_normalised(&p, sum_artime, windows), 68.5, 0.05));

    /* One file in detail: the failure file's four windows and labels. */
    {
        NabFileLabels *l = g_hash_table_lookup(
            labels, "realKnownCause/machine_temperature_system_failure.csv");
        int64_t t;

        CU_ASSERT_PTR_NOT_NULL_FATAL(l);
        CU_ASSERT_EQUAL_FATAL(l->nwindows, 4);
        CU_ASSERT_EQUAL_FATAL(l->nanomalies, 4);
        CU_ASSERT(nab_parse_time("2013-12-10 06:25:00", 19, &t));
        CU_ASSERT_EQUAL(l->windows[0].start_s, t);
        CU_ASSERT(nab_parse_time("2014-02-09 14:05:00", 19, &t));
        CU_ASSERT_EQUAL(l->windows[3].end_s, t);
        CU_ASSERT(nab_parse_time("2014-02-08 14:30:00", 19, &t));
        CU_ASSERT_EQUAL(l->anomalies[3], t);
    }
}

static const CutestCase cases[] = {
    {"scaled sigmoid and probation length", test_sigmoid},
    {"score by hand: null, perfect, probation, FP costs", test_score_by_hand},
    {"score thresholds and bad spans", test_score_threshold},
    {"timestamps as UTC", test_time},
    {"data CSV and its errors", test_series},
    {"windows and labels JSON and their errors", test_labels},
    {"windows located on rows", test_locate},
    {"published results CSV", test_published_parse},
    {"shared NAB data: null, perfect, published totals", test_shared_data},
};

CUTEST_MAIN("nab", cases)
