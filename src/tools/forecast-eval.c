/*
 * tools/forecast-eval.c: umbra-forecast-eval, the accuracy and speed
 * evaluator of umbra's forecasting engine (issue 3, deliverable 4).
 *
 * It reads a data set, holds out the last h samples of every series,
 * forecasts them with fc_forecast() from the rest, and prints per model
 * the M4 competition's measures (Makridakis, Spiliotis & Assimakopoulos,
 * "The M4 Competition: 100,000 time series and 61 forecasting methods",
 * IJF 36, 2020):
 *
 *   sMAPE  mean over series of 200/h sum |y - f| / (|y| + |f|)
 *   MASE   mean over series of the MAE over the in-sample MAE of the
 *          seasonal naive with lag m (the first seasonal period)
 *   OWA    0.5 * (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2), the two
 *          means taken over the same series first
 *
 * plus the share of outcomes inside the 80 % and 95 % intervals (pooled
 * over all held-out points) and the CPU time of fit + forecast (this
 * thread's CPU clock, so other load on the machine does not count).
 *
 * Data sets (seriesio.h):
 *
 *   m4         <dir>/<Set>-train.csv and <Set>-test.csv; the test file
 *              is the hold-out.  Naive2 is the organisers' forecasts in
 *              <dir>/benchmark_forecasts/submission-Naive2_<set>.csv when
 *              present, as M4 defines OWA; otherwise umbra's own naive2.
 *   bitbrains  <dir>/<vm>.csv, one GWA-T-12 file per VM (column
 *              --column, "CPU usage [%]" by default), 5-minute grid.
 *   azure      <dir>/<file>.csv, "step,vm_...,vm_..." (--file picks one).
 *
 * Per-VM series may be averaged into blocks (--aggregate), lose their
 * leading missing samples (a VM not yet running), and are evaluated at
 * one or more origins at the end of the series (--origins).  --export
 * writes exactly the evaluated series (training parts, hold-outs and
 * umbra's Naive2) in the M4 layout, so that another tool (R, in
 * tests/bench/forecast-ref.R) scores the very same data.
 *
 * A series whose MASE scale is zero (constant training data) or whose
 * hold-out is entirely missing is left out of every model's scores and
 * counted as "excluded".  If fc_forecast() fails on a series, the Naive2
 * forecast is scored in its place (with empty intervals) and the failure
 * is counted, so a failing model is penalised rather than flattered.
 *
 * This is a measuring tool, not decision code: it reads files and this
 * thread's CPU clock (clock_gettime(CLOCK_THREAD_CPUTIME_ID), which
 * util/clock.h does not offer) itself.  Work: one fc_forecast() per
 * series and model, single-threaded; parsing a few MB takes milliseconds.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forecast/forecast.h"
#include "forecast/metrics.h"
#include "tools/seriesio.h"

/* clang-format off */
#define DATA_FORMATS(X)        \
    X(AUTO, "auto")            \
    X(M4, "m4")                \
    X(BITBRAINS, "bitbrains")  \
    X(AZURE, "azure")
/* clang-format on */

/* clang-format off */
typedef enum {
#define X(NAME, STR) DATA_FORMAT_##NAME,
    DATA_FORMATS(X)
#undef X
    DATA_FORMAT_LAST
} DataFormat;
/* clang-format on */

static const char *const format_names[] = {
#define X(NAME, STR) STR,
    DATA_FORMATS(X)
#undef X
};
G_STATIC_ASSERT(G_N_ELEMENTS(format_names) == DATA_FORMAT_LAST);

static int
data_format_from_string(const char *s)
{
    for (int i = 0; s && i < DATA_FORMAT_LAST; i++) {
        if (strcmp(s, format_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

/* The command line. */
typedef struct {
    char *dir;         /* --dir: the data directory */
    char *format;      /* --format: m4, bitbrains, azure or auto */
    char *file;        /* --file: set name (m4) or file name (azure) */
    char *column;      /* --column: the Bitbrains column */
    char *models;      /* --model: name, comma list or "all" */
    int horizon;       /* --horizon: 0 = the format's default */
    char *periods;     /* --periods: "24,168"; NULL = the default */
    int limit;         /* --limit: first N series; 0 = all */
    char *series;      /* --series: only this id */
    int aggregate;     /* --aggregate: samples per block; 0/1 = none */
    int origins;       /* --origins: forecast origins per VM series */
    int origin_step;   /* --origin-step: samples between origins */
    gboolean json;     /* --json */
    char *details;     /* --details: per-series CSV file */
    char *export_dir;  /* --export: write the M4 layout here and stop */
    char *export_name; /* --export-name: the set's name in that layout */
} Options;

/* One forecasting problem: a training series and its hold-out. */
typedef struct {
    char *id;         /* series id (with "@k" for origin k > 0) */
    double *y;        /* training data, NaN = missing */
    size_t n;         /* its length */
    double *filled;   /* y with gaps interpolated (for the MASE scale) */
    double *actual;   /* the h held-out values, NaN = missing */
    double *ref;      /* the Naive2 forecast of the hold-out */
    bool scored;      /* false: excluded from the scores */
    double ref_smape; /* Naive2's sMAPE on this series */
    double ref_mase;  /* Naive2's MASE on this series */
    size_t points;    /* held-out values present */
} EvalCase;

/* A data set ready to evaluate. */
typedef struct {
    DataFormat format;           /* where it came from */
    char *name;                  /* "Hourly", "Bitbrains", ... */
    GPtrArray *cases;            /* EvalCase, in file order */
    size_t h;                    /* horizon */
    int periods[FC_MAX_PERIODS]; /* seasonal periods, 0-terminated */
    bool file_naive2;            /* Naive2 read from benchmark_forecasts/ */
    size_t excluded;             /* cases not scored */
    size_t dropped;              /* series too short to evaluate at all */
} Dataset;

/* What one model scored over the set. */
typedef struct {
    size_t scored;    /* series scored */
    size_t failed;    /* fc_forecast() errors */
    double sum_smape; /* sums over scored series */
    double sum_mase;
    double sum_ref_smape;
    double sum_ref_mase;
    size_t points, in80, in95; /* pooled interval coverage */
    double seconds;            /* CPU seconds of fit + forecast */
} ModelStats;

static void
eval_case_free(EvalCase *c)
{
    if (!c) {
        return;
    }
    g_free(c->id);
    g_free(c->y);
    g_free(c->filled);
    g_free(c->actual);
    g_free(c->ref);
    g_free(c);
}

static void
eval_case_free_void(gpointer p)
{
    eval_case_free(p);
}

static void
dataset_clear(Dataset *d)
{
    g_free(d->name);
    if (d->cases) {
        g_ptr_array_free(d->cases, TRUE);
    }
}

/* Linear interpolation over missing samples; the ends take the nearest
 * present value (all zeros if none is present). */
static void
fill_linear(const double *y, size_t n, double *out)
{
    ssize_t last = -1;

    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i])) {
            continue;
        }
        out[i] = y[i];
        for (size_t k = last < 0 ? 0 : (size_t) last + 1; k < i; k++) {
            out[k] = last < 0 ? y[i]
                              : y[last] + (y[i] - y[last]) *
                                              (double) (k - (size_t) last) /
                                              (double) (i - (size_t) last);
        }
        last = (ssize_t) i;
    }
    for (size_t k = last < 0 ? 0 : (size_t) last + 1; k < n; k++) {
        out[k] = last < 0 ? 0 : y[last];
    }
}

/* Returns: the MASE lag: the first period if the series is longer. */
static int
mase_lag(const Dataset *d, size_t n)
{
    int m = d->periods[0];

    return m >= 1 && n > (size_t) m ? m : 1;
}

/* The scores of one forecast against the finite held-out points. */
typedef struct {
    double smape, mase;
    size_t points, in80, in95;
} Score;

static Score
score_forecast(const Dataset *d, const EvalCase *c, const double *mean,
               const double *lo80, const double *hi80, const double *lo95,
               const double *hi95)
{
    g_autofree double *a = g_new(double, d->h);
    g_autofree double *f = g_new(double, d->h);
    Score s = {NAN, NAN, 0, 0, 0};
    size_t k = 0;

    for (size_t i = 0; i < d->h; i++) {
        if (!isfinite(c->actual[i])) {
            continue;
        }
        a[k] = c->actual[i];
        f[k] = mean[i];
        if (lo80 && a[k] >= lo80[i] && a[k] <= hi80[i]) {
            s.in80++;
        }
        if (lo95 && a[k] >= lo95[i] && a[k] <= hi95[i]) {
            s.in95++;
        }
        k++;
    }
    s.points = k;
    if (k > 0) {
        s.smape = fc_smape(a, f, k);
        s.mase = fc_mase(c->filled, c->n, mase_lag(d, c->n), a, f, k);
    }
    return s;
}

/* Reads a whole file; errors name the path. */
static bool
read_file(const char *path, char **ret_buf, size_t *ret_len, GError **error)
{
    gsize len = 0;

    if (!g_file_get_contents(path, ret_buf, &len, error)) {
        return false;
    }
    *ret_len = len;
    return true;
}

/* Orders file names naturally ("2.csv" before "10.csv"). */
static int
natural_cmp(gconstpointer a, gconstpointer b)
{
    g_autofree char *ka =
        g_utf8_collate_key_for_filename(*(const char *const *) a, -1);
    g_autofree char *kb =
        g_utf8_collate_key_for_filename(*(const char *const *) b, -1);

    return strcmp(ka, kb);
}

/* Returns: (transfer full) the names in @dir ending in @suffix, sorted
 * naturally ("2.csv" before "10.csv"), or NULL with @error set. */
static GPtrArray *
list_dir(const char *dir, const char *suffix, GError **error)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, error);
    g_autoptr(GPtrArray) names = NULL;
    const char *n;

    if (!d) {
        return NULL;
    }
    names = g_ptr_array_new_with_free_func(g_free);
    while ((n = g_dir_read_name(d))) {
        if (g_str_has_suffix(n, suffix)) {
            g_ptr_array_add(names, g_strdup(n));
        }
    }
    g_ptr_array_sort(names, natural_cmp);
    return g_steal_pointer(&names);
}

/* Returns: the set name of the single "<Set>-train.csv" in @dir, NULL
 * if there is none; several is an error. */
static char *
find_m4_set(const char *dir, bool *ret_ambiguous)
{
    g_autoptr(GPtrArray) names = list_dir(dir, "-train.csv", NULL);

    *ret_ambiguous = names && names->len > 1;
    if (!names || names->len != 1) {
        return NULL;
    }
    return g_strndup(names->pdata[0],
                     strlen(names->pdata[0]) - strlen("-train.csv"));
}

static DataFormat
detect_format(const char *dir, GError **error)
{
    g_autoptr(GPtrArray) csv = NULL;
    bool ambiguous = false;
    g_autofree char *set = find_m4_set(dir, &ambiguous);

    if (set || ambiguous) {
        return DATA_FORMAT_M4;
    }
    csv = list_dir(dir, ".csv", error);
    if (!csv) {
        return DATA_FORMAT_AUTO;
    }
    for (guint i = 0; i < csv->len; i++) {
        g_autofree char *p = g_build_filename(dir, csv->pdata[i], NULL);
        g_autofree char *line = seriesio_first_line(p);

        if (line && strstr(line, "Timestamp [ms]") &&
            strstr(line, "CPU cores")) {
            return DATA_FORMAT_BITBRAINS;
        }
        if (line && g_str_has_prefix(line, "step,")) {
            return DATA_FORMAT_AZURE;
        }
    }
    g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_EMPTY,
                "%s: cannot tell the data format (no <Set>-train.csv, no "
                "Bitbrains or step,... CSV); pass --format",
                dir);
    return DATA_FORMAT_AUTO;
}

/* Parses "24,168" into @d->periods (ascending, each >= 2). */
static bool
parse_periods(const char *str, int *periods, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(str, ",", -1);
    int k = 0;

    memset(periods, 0, sizeof(int) * FC_MAX_PERIODS);
    for (int i = 0; parts[i]; i++) {
        char *e = NULL;
        long v = strtol(parts[i], &e, 10);

        if (parts[i][0] == '\0' && !parts[i + 1] && i > 0) {
            continue;
        }
        if (e == parts[i] || *e != '\0' || v < 2 || v > 1000000 ||
            k >= FC_MAX_PERIODS || (k > 0 && v <= periods[k - 1])) {
            g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                        "--periods \"%s\": want up to %d ascending integers "
                        ">= 2, e.g. 24,168",
                        str, FC_MAX_PERIODS);
            return false;
        }
        periods[k++] = (int) v;
    }
    if (k == 0) {
        g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                    "--periods \"%s\": no period", str);
        return false;
    }
    return true;
}

/* Returns: true if @id passes --series. */
static bool
wanted(const Options *o, const char *id)
{
    return !o->series || strcmp(o->series, id) == 0;
}

/* Computes the Naive2 scores of @c and whether it is scored at all. */
static void
case_finish(Dataset *d, EvalCase *c)
{
    Score s;

    c->filled = g_new(double, c->n ? c->n : 1);
    fill_linear(c->y, c->n, c->filled);
    s = score_forecast(d, c, c->ref, NULL, NULL, NULL, NULL);
    c->ref_smape = s.smape;
    c->ref_mase = s.mase;
    c->points = s.points;
    c->scored = s.points > 0 && isfinite(s.smape) && isfinite(s.mase);
    if (!c->scored) {
        d->excluded++;
    }
}

static bool
load_m4(const Options *o, Dataset *d, GError **error)
{
    g_autofree char *set = NULL;
    g_autofree char *train_path = NULL, *test_path = NULL, *ref_path = NULL;
    g_autofree char *train_buf = NULL, *test_buf = NULL, *ref_buf = NULL;
    g_autofree char *lower = NULL;
    g_autoptr(GPtrArray) train = NULL, test = NULL, ref = NULL;
    g_autoptr(GHashTable) test_by_id =
        g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) ref_by_id = g_hash_table_new(g_str_hash, g_str_equal);
    size_t train_len = 0, test_len = 0, ref_len = 0;
    bool ambiguous = false;

    if (o->file) {
        set = g_strdup(o->file);
        if (g_str_has_suffix(set, "-train.csv")) {
            set[strlen(set) - strlen("-train.csv")] = '\0';
        }
    } else {
        set = find_m4_set(o->dir, &ambiguous);
        if (!set) {
            g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_EMPTY,
                        ambiguous ? "%s: several <Set>-train.csv files; pass "
                                    "--file SET"
                                  : "%s: no <Set>-train.csv file",
                        o->dir);
            return false;
        }
    }
    d->name = g_strdup(set);
    train_path = g_strdup_printf("%s/%s-train.csv", o->dir, set);
    test_path = g_strdup_printf("%s/%s-test.csv", o->dir, set);
    lower = g_ascii_strdown(set, -1);
    ref_path = g_strdup_printf(
        "%s/benchmark_forecasts/submission-Naive2_%s.csv", o->dir, lower);
    if (!read_file(train_path, &train_buf, &train_len, error) ||
        !read_file(test_path, &test_buf, &test_len, error)) {
        return false;
    }
    train = seriesio_parse_m4(train_buf, train_len, train_path, error);
    if (!train) {
        return false;
    }
    test = seriesio_parse_m4(test_buf, test_len, test_path, error);
    if (!test) {
        return false;
    }
    for (guint i = 0; i < test->len; i++) {
        EvalSeries *s = test->pdata[i];

        g_hash_table_insert(test_by_id, s->id, s);
    }
    if (g_file_test(ref_path, G_FILE_TEST_EXISTS)) {
        if (!read_file(ref_path, &ref_buf, &ref_len, error)) {
            return false;
        }
        ref = seriesio_parse_m4(ref_buf, ref_len, ref_path, error);
        if (!ref) {
            return false;
        }
        for (guint i = 0; i < ref->len; i++) {
            EvalSeries *s = ref->pdata[i];

            g_hash_table_insert(ref_by_id, s->id, s);
        }
        d->file_naive2 = true;
    }
    if (d->h == 0) {
        /* Horizon: the shortest test row of the series evaluated. */
        size_t k = 0;

        d->h = G_MAXSIZE;
        for (guint i = 0; i < train->len; i++) {
            EvalSeries *s = train->pdata[i];
            EvalSeries *t = g_hash_table_lookup(test_by_id, s->id);

            if (!wanted(o, s->id) || !t) {
                continue;
            }
            if (o->limit > 0 && k++ >= (size_t) o->limit) {
                break;
            }
            d->h = MIN(d->h, t->n);
        }
        if (d->h == G_MAXSIZE && o->series) {
            g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_EMPTY,
                        "%s: no series \"%s\" (in both files)", train_path,
                        o->series);
            return false;
        }
        if (d->h == G_MAXSIZE || d->h == 0) {
            g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_EMPTY,
                        "%s: no test values", test_path);
            return false;
        }
    }
    for (guint i = 0; i < train->len; i++) {
        EvalSeries *s = train->pdata[i];
        EvalSeries *t, *r;
        EvalCase *c;

        if (!wanted(o, s->id)) {
            continue;
        }
        if (o->limit > 0 && d->cases->len >= (guint) o->limit) {
            break;
        }
        t = g_hash_table_lookup(test_by_id, s->id);
        if (!t || t->n < d->h) {
            g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_EMPTY,
                        "%s: series %s has %s (horizon %zu)", test_path, s->id,
                        t ? "too few values" : "no row", d->h);
            return false;
        }
        c = g_new0(EvalCase, 1);
        c->id = g_strdup(s->id);
        c->n = s->n;
        c->y = g_memdup2(s->y, sizeof(double) * (s->n ? s->n : 1));
        c->actual = g_memdup2(t->y, sizeof(double) * d->h);
        g_ptr_array_add(d->cases, c);
        if (d->file_naive2) {
            r = g_hash_table_lookup(ref_by_id, s->id);
            if (!r || r->n < d->h) {
                g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_EMPTY,
                            "%s: series %s has %s (horizon %zu)", ref_path,
                            s->id, r ? "too few values" : "no row", d->h);
                return false;
            }
            for (size_t k = 0; k < d->h; k++) {
                if (!isfinite(r->y[k])) {
                    g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                                "%s: series %s: forecast %zu is missing",
                                ref_path, s->id, k + 1);
                    return false;
                }
            }
            c->ref = g_memdup2(r->y, sizeof(double) * d->h);
        }
    }
    if (o->series && d->cases->len == 0) {
        g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_EMPTY,
                    "%s: no series \"%s\"", train_path, o->series);
        return false;
    }
    return true;
}

/* Reads the per-VM series of a Bitbrains directory or an Azure file. */
static GPtrArray *
load_vm_series(const Options *o, Dataset *d, GError **error)
{
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify) eval_series_free);
    g_autoptr(GPtrArray) names = NULL;

    if (d->format == DATA_FORMAT_BITBRAINS) {
        d->name = g_strdup("Bitbrains");
        if (o->file) {
            names = g_ptr_array_new_with_free_func(g_free);
            g_ptr_array_add(names, g_strdup(o->file));
        } else {
            names = list_dir(o->dir, ".csv", error);
            if (!names) {
                return NULL;
            }
        }
        for (guint i = 0; i < names->len; i++) {
            g_autofree char *path =
                g_build_filename(o->dir, names->pdata[i], NULL);
            g_autofree char *buf = NULL;
            g_autofree char *id =
                g_strndup(names->pdata[i], strcspn(names->pdata[i], "."));
            size_t len = 0;
            EvalSeries *s;

            if (!wanted(o, id)) {
                continue;
            }
            if (o->limit > 0 && out->len >= (guint) o->limit) {
                break;
            }
            if (!read_file(path, &buf, &len, error)) {
                return NULL;
            }
            s = seriesio_parse_bitbrains(buf, len, path, o->column, 300, error);
            if (!s) {
                return NULL;
            }
            g_ptr_array_add(out, s);
        }
    } else {
        g_autofree char *file = g_strdup(o->file);
        g_autofree char *path = NULL;
        g_autofree char *buf = NULL;
        g_autoptr(GPtrArray) all = NULL;
        size_t len = 0;

        d->name = g_strdup("Azure");
        if (!file && !(file = seriesio_find_wide_csv(o->dir, error))) {
            return NULL;
        }
        path = g_build_filename(o->dir, file, NULL);
        if (!read_file(path, &buf, &len, error)) {
            return NULL;
        }
        all = seriesio_parse_wide(buf, len, path, error);
        if (!all) {
            return NULL;
        }
        for (guint i = 0; i < all->len; i++) {
            EvalSeries *s = all->pdata[i];

            if (!wanted(o, s->id)) {
                continue;
            }
            if (o->limit > 0 && out->len >= (guint) o->limit) {
                break;
            }
            all->pdata[i] = NULL;
            g_ptr_array_add(out, s);
        }
    }
    if (o->series && out->len == 0) {
        g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_EMPTY,
                    "%s: no series \"%s\"", o->dir, o->series);
        return NULL;
    }
    return g_steal_pointer(&out);
}

/* Cuts each per-VM series into training part and hold-out at one or
 * more origins, and forecasts umbra's Naive2 as the OWA reference. */
static bool
load_vm(const Options *o, Dataset *d, GError **error)
{
    g_autoptr(GPtrArray) vms = load_vm_series(o, d, error);
    size_t step = o->origin_step > 0 ? (size_t) o->origin_step : d->h;

    if (!vms) {
        return false;
    }
    for (guint i = 0; i < vms->len; i++) {
        EvalSeries *s = vms->pdata[i];

        if (o->aggregate > 1) {
            seriesio_aggregate(s, (size_t) o->aggregate);
        }
        seriesio_trim_leading(s);
        for (int k = 0; k < MAX(o->origins, 1); k++) {
            size_t cut = d->h + (size_t) k * step;
            EvalCase *c;

            /* At least two training samples, one of them present. */
            if (s->n < cut + 2) {
                d->dropped++;
                continue;
            }
            c = g_new0(EvalCase, 1);
            c->id = k ? g_strdup_printf("%s@%d", s->id, k) : g_strdup(s->id);
            c->n = s->n - cut;
            c->y = g_memdup2(s->y, sizeof(double) * c->n);
            c->actual = g_memdup2(s->y + c->n, sizeof(double) * d->h);
            g_ptr_array_add(d->cases, c);
        }
    }
    return true;
}

/* Forecasts umbra's Naive2 for cases lacking an official one. */
static void
fill_reference(Dataset *d)
{
    for (guint i = 0; i < d->cases->len; i++) {
        EvalCase *c = d->cases->pdata[i];
        FcSeries s = {.y = c->y, .n = c->n};
        g_autoptr(FcResult) r = NULL;
        g_autoptr(GError) err = NULL;

        if (c->ref) {
            continue;
        }
        memcpy(s.periods, d->periods, sizeof(s.periods));
        r = fc_forecast(FC_MODEL_NAIVE2, &s, d->h, &err);
        if (!r) {
            /* Only a series with no finite value fails: nothing to
             * score it against, so it is excluded below. */
            c->ref = g_new0(double, d->h);
            continue;
        }
        c->ref = g_memdup2(r->mean, sizeof(double) * d->h);
    }
    for (guint i = 0; i < d->cases->len; i++) {
        case_finish(d, d->cases->pdata[i]);
    }
}

static bool
write_export(const Options *o, const Dataset *d, GError **error)
{
    const char *name = o->export_name ? o->export_name : d->name;
    g_autofree char *lower = g_ascii_strdown(name, -1);
    g_autofree char *bdir =
        g_build_filename(o->export_dir, "benchmark_forecasts", NULL);
    g_autoptr(GPtrArray) train =
        g_ptr_array_new_with_free_func((GDestroyNotify) eval_series_free);
    g_autoptr(GPtrArray) test =
        g_ptr_array_new_with_free_func((GDestroyNotify) eval_series_free);
    g_autoptr(GPtrArray) ref =
        g_ptr_array_new_with_free_func((GDestroyNotify) eval_series_free);
    g_autofree char *train_base = g_strdup_printf("%s-train.csv", name);
    g_autofree char *test_base = g_strdup_printf("%s-test.csv", name);
    g_autofree char *ref_base =
        g_strdup_printf("submission-Naive2_%s.csv", lower);
    struct {
        const char *dir;
        const char *base;
        GPtrArray *rows;
        bool values_only;
    } files[] = {
        {o->export_dir, train_base, train, false},
        {o->export_dir, test_base, test, false},
        {bdir, ref_base, ref, true},
    };

    if (g_mkdir_with_parents(bdir, 0755) != 0) {
        int e = errno;

        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                    "cannot create %s: %s", bdir, g_strerror(e));
        return false;
    }
    for (guint i = 0; i < d->cases->len; i++) {
        const EvalCase *c = d->cases->pdata[i];
        EvalSeries *s = eval_series_new(c->id, c->n);

        memcpy(s->y, c->y, sizeof(double) * c->n);
        g_ptr_array_add(train, s);
        s = eval_series_new(c->id, d->h);
        memcpy(s->y, c->actual, sizeof(double) * d->h);
        g_ptr_array_add(test, s);
        s = eval_series_new(c->id, d->h);
        memcpy(s->y, c->ref, sizeof(double) * d->h);
        g_ptr_array_add(ref, s);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *path =
            g_build_filename(files[i].dir, files[i].base, NULL);
        FILE *f = fopen(path, "we");
        bool ok;

        if (!f) {
            int e = errno;

            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                        "cannot create %s: %s", path, g_strerror(e));
            return false;
        }
        ok = seriesio_write_m4(f, files[i].rows, files[i].values_only, error);
        if (fclose(f) != 0 && ok) {
            int e = errno;

            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                        "cannot write %s: %s", path, g_strerror(e));
            ok = false;
        }
        if (!ok) {
            g_prefix_error(error, "%s: ", path);
            return false;
        }
    }
    return true;
}

/* Writes @v as a JSON number, or null when it is not finite. */
static void
json_number(FILE *f, const char *key, double v, bool comma)
{
    if (isfinite(v)) {
        fprintf(f, "\"%s\":%.6g%s", key, v, comma ? "," : "");
    } else {
        fprintf(f, "\"%s\":null%s", key, comma ? "," : "");
    }
}

/* Writes @s as a JSON string (control characters as \u00XX). */
static void
json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char) *s;

        if (c == '"' || c == '\\') {
            fprintf(f, "\\%c", c);
        } else if (c < 0x20) {
            fprintf(f, "\\u%04x", c);
        } else {
            fputc(c, f);
        }
    }
    fputc('"', f);
}

static void
csv_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '"') {
            fputc('"', f);
        }
        fputc(*s, f);
    }
    fputc('"', f);
}

static void
csv_number(FILE *f, double v)
{
    if (isfinite(v)) {
        fprintf(f, ",%.6g", v);
    } else {
        fputs(",NA", f);
    }
}

/* Runs @model over every case of @d; per-series rows go to @details. */
static ModelStats
evaluate(const Dataset *d, FcModel model, FILE *details, size_t *ret_warned)
{
    ModelStats st = {0};

    for (guint i = 0; i < d->cases->len; i++) {
        const EvalCase *c = d->cases->pdata[i];
        FcSeries s = {.y = c->y, .n = c->n};
        g_autoptr(FcResult) r = NULL;
        g_autoptr(GError) err = NULL;
        double t0, t1;
        Score sc;

        memcpy(s.periods, d->periods, sizeof(s.periods));
        t0 = seriesio_thread_cpu_seconds();
        r = fc_forecast(model, &s, d->h, &err);
        t1 = seriesio_thread_cpu_seconds();
        st.seconds += t1 - t0;
        if (r) {
            sc = score_forecast(d, c, r->mean, r->lo80, r->hi80, r->lo95,
                                r->hi95);
        } else {
            if ((*ret_warned)++ < 5) {
                fprintf(stderr, "umbra-forecast-eval: %s on %s: %s\n",
                        fc_model_to_string(model), c->id, err->message);
            }
            if (c->scored) {
                st.failed++;
            }
            sc = score_forecast(d, c, c->ref, c->ref, c->ref, c->ref, c->ref);
            sc.in80 = sc.in95 = 0;
        }
        if (c->scored) {
            st.scored++;
            st.sum_smape += sc.smape;
            st.sum_mase += sc.mase;
            st.sum_ref_smape += c->ref_smape;
            st.sum_ref_mase += c->ref_mase;
            st.points += sc.points;
            st.in80 += sc.in80;
            st.in95 += sc.in95;
        }
        if (details) {
            csv_quoted(details, c->id);
            fprintf(details, ",%s,%d", fc_model_to_string(model),
                    c->scored ? 1 : 0);
            csv_number(details, sc.smape);
            csv_number(details, sc.mase);
            csv_number(details,
                       sc.points ? (double) sc.in80 / (double) sc.points : NAN);
            csv_number(details,
                       sc.points ? (double) sc.in95 / (double) sc.points : NAN);
            fprintf(details, ",%zu,%.6g,", sc.points, t1 - t0);
            csv_quoted(details, r ? r->method : "failed");
            fputc('\n', details);
        }
    }
    return st;
}

static void
print_stats(const Options *o, const Dataset *d, FcModel model,
            const ModelStats *st)
{
    double k = st->scored ? (double) st->scored : NAN;
    double smape = st->sum_smape / k, mase = st->sum_mase / k;
    double owa = 0.5 * (st->sum_smape / st->sum_ref_smape +
                        st->sum_mase / st->sum_ref_mase);
    double pts = st->points ? (double) st->points : NAN;
    double c80 = (double) st->in80 / pts, c95 = (double) st->in95 / pts;

    if (!(st->sum_ref_smape > 0) || !(st->sum_ref_mase > 0)) {
        owa = NAN;
    }
    if (o->json) {
        printf("{\"model\":\"%s\",\"series\":%zu,", fc_model_to_string(model),
               st->scored);
        json_number(stdout, "smape", smape, true);
        json_number(stdout, "mase", mase, true);
        json_number(stdout, "owa", owa, true);
        json_number(stdout, "coverage80", c80, true);
        json_number(stdout, "coverage95", c95, true);
        json_number(stdout, "seconds", st->seconds, true);
        json_number(stdout, "seconds_per_series",
                    d->cases->len ? st->seconds / d->cases->len : NAN, true);
        fputs("\"dataset\":", stdout);
        json_string(stdout, d->name);
        printf(",\"format\":\"%s\",\"h\":%zu,\"periods\":[",
               format_names[d->format], d->h);
        for (int i = 0; i < FC_MAX_PERIODS && d->periods[i]; i++) {
            printf("%s%d", i ? "," : "", d->periods[i]);
        }
        printf("],\"naive2\":\"%s\",\"failed\":%zu,\"excluded\":%zu,"
               "\"points\":%zu}\n",
               d->file_naive2 ? "file" : "umbra", st->failed, d->excluded,
               st->points);
    } else {
        printf("%-8s %6zu %8.3f %7.3f %6.3f %6.1f %6.1f %9.3f %6zu\n",
               fc_model_to_string(model), st->scored, smape, mase, owa,
               100 * c80, 100 * c95, st->seconds, st->failed);
    }
    fflush(stdout);
}

/* Parses --model into a list of models. */
static bool
parse_models(const char *str, GArray *out, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(str, ",", -1);

    for (int i = 0; parts[i]; i++) {
        int m;

        if (strcmp(parts[i], "all") == 0) {
            for (int k = 0; k < FC_MODEL_LAST; k++) {
                g_array_append_val(out, k);
            }
            continue;
        }
        m = fc_model_from_string(parts[i]);
        if (m < 0) {
            g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                        "unknown model \"%s\" (snaive, naive2, ets, arima, "
                        "mstl, combo or all)",
                        parts[i]);
            return false;
        }
        g_array_append_val(out, m);
    }
    if (out->len == 0) {
        g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                    "no model given");
        return false;
    }
    return true;
}

/* Applies the defaults of @d->format to what the options left open. */
static bool
set_shape(const Options *o, Dataset *d, GError **error)
{
    int agg = o->aggregate > 1 ? o->aggregate : 1;

    if (o->horizon < 0 || o->limit < 0 || o->aggregate < 0 || o->origins < 0 ||
        o->origin_step < 0) {
        g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                    "--horizon, --limit, --aggregate, --origins and "
                    "--origin-step take non-negative numbers");
        return false;
    }
    if (d->format == DATA_FORMAT_M4 && (o->aggregate > 1 || o->origins > 1)) {
        g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                    "--aggregate and --origins apply to per-VM data only");
        return false;
    }
    if (o->horizon > 0) {
        d->h = (size_t) o->horizon;
    } else if (d->format == DATA_FORMAT_M4) {
        /* The length of the test rows: load_m4() sets it. */
        d->h = 0;
    } else {
        /* One hour. */
        d->h = (size_t) MAX(12 / agg, 1);
    }
    if (o->periods) {
        return parse_periods(o->periods, d->periods, error);
    }
    if (d->format == DATA_FORMAT_M4) {
        d->periods[0] = 24;
        d->periods[1] = 168;
    } else {
        /* A day and a week of 5-minute samples. */
        int k = 0;

        if (288 % agg == 0 && 288 / agg >= 2) {
            d->periods[k++] = 288 / agg;
        }
        if (2016 % agg == 0 && 2016 / agg >= 2) {
            d->periods[k++] = 2016 / agg;
        }
        if (k == 0) {
            g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                        "--aggregate %d: give --periods explicitly", agg);
            return false;
        }
    }
    return true;
}

static void
options_clear(Options *o)
{
    g_free(o->dir);
    g_free(o->format);
    g_free(o->file);
    g_free(o->column);
    g_free(o->models);
    g_free(o->periods);
    g_free(o->series);
    g_free(o->details);
    g_free(o->export_dir);
    g_free(o->export_name);
}

/* Evaluates what @o asks for.  Returns: the exit status. */
static int
run(Options *o)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GArray) models = g_array_new(FALSE, FALSE, sizeof(int));
    Dataset d = {0};
    FILE *details = NULL;
    size_t warned = 0;
    int rc = 0;

    if (!o->dir) {
        fprintf(stderr, "umbra-forecast-eval: --dir is required "
                        "(try --help)\n");
        rc = 2;
        goto out;
    }
    if (!o->column) {
        o->column = g_strdup("CPU usage [%]");
    }
    if (!parse_models(o->models ? o->models
                                : fc_model_to_string(fc_default_model()),
                      models, &err)) {
        fprintf(stderr, "umbra-forecast-eval: %s\n", err->message);
        rc = 2;
        goto out;
    }
    if (!g_file_test(o->dir, G_FILE_TEST_IS_DIR)) {
        fprintf(stderr, "umbra-forecast-eval: %s: no such directory\n", o->dir);
        rc = 1;
        goto out;
    }
    d.format = data_format_from_string(o->format ? o->format : "auto");
    if ((int) d.format < 0) {
        fprintf(stderr,
                "umbra-forecast-eval: unknown format \"%s\" (m4, bitbrains, "
                "azure or auto)\n",
                o->format);
        rc = 2;
        goto out;
    }
    if (d.format == DATA_FORMAT_AUTO) {
        d.format = detect_format(o->dir, &err);
        if (d.format == DATA_FORMAT_AUTO) {
            fprintf(stderr, "umbra-forecast-eval: %s\n", err->message);
            rc = 1;
            goto out;
        }
    }
    d.cases = g_ptr_array_new_with_free_func(eval_case_free_void);
    if (!set_shape(o, &d, &err)) {
        fprintf(stderr, "umbra-forecast-eval: %s\n", err->message);
        rc = 2;
        goto out;
    }
    if (!(d.format == DATA_FORMAT_M4 ? load_m4(o, &d, &err)
                                     : load_vm(o, &d, &err))) {
        fprintf(stderr, "umbra-forecast-eval: %s\n", err->message);
        rc = 1;
        goto out;
    }
    fill_reference(&d);
    if (d.cases->len == 0) {
        fprintf(stderr, "umbra-forecast-eval: %s: no series to evaluate\n",
                o->dir);
        rc = 1;
        goto out;
    }
    if (o->export_dir) {
        if (!write_export(o, &d, &err)) {
            fprintf(stderr, "umbra-forecast-eval: %s\n", err->message);
            rc = 1;
        }
        goto out;
    }
    if (o->details) {
        details = fopen(o->details, "we");
        if (!details) {
            fprintf(stderr, "umbra-forecast-eval: cannot create %s: %s\n",
                    o->details, g_strerror(errno));
            rc = 1;
            goto out;
        }
        fputs("series,model,scored,smape,mase,cov80,cov95,points,seconds,"
              "method\n",
              details);
        /* The reference rows, as tests/bench/forecast-ref.R writes them. */
        for (guint i = 0; i < d.cases->len; i++) {
            const EvalCase *c = d.cases->pdata[i];

            csv_quoted(details, c->id);
            fprintf(details, ",naive2-ref,%d", c->scored ? 1 : 0);
            csv_number(details, c->ref_smape);
            csv_number(details, c->ref_mase);
            fprintf(details, ",0,0,%zu,0,\"Naive2\"\n", c->points);
        }
    }
    if (!o->json) {
        printf("%s set \"%s\" in %s: %u series (%zu excluded%s), h = %zu, "
               "periods ",
               format_names[d.format], d.name, o->dir, d.cases->len, d.excluded,
               d.dropped ? ", some too short" : "", d.h);
        for (int i = 0; i < FC_MAX_PERIODS && d.periods[i]; i++) {
            printf("%s%d", i ? "," : "", d.periods[i]);
        }
        printf(", MASE lag %d, OWA vs %s\n", d.periods[0],
               d.file_naive2 ? "the Naive2 of benchmark_forecasts/"
                             : "umbra's Naive2");
        printf("%-8s %6s %8s %7s %6s %6s %6s %9s %6s\n", "model", "series",
               "sMAPE", "MASE", "OWA", "cov80%", "cov95%", "seconds", "failed");
    }
    for (guint i = 0; i < models->len; i++) {
        FcModel m = (FcModel) g_array_index(models, int, i);
        ModelStats st = evaluate(&d, m, details, &warned);

        print_stats(o, &d, m, &st);
    }
    if (details && fclose(details) != 0) {
        fprintf(stderr, "umbra-forecast-eval: cannot write %s: %s\n",
                o->details, g_strerror(errno));
        rc = 1;
    }
out:
    dataset_clear(&d);
    return rc;
}

int
main(int argc, char **argv)
{
    Options o = {.column = NULL, .origins = 1};
    GOptionEntry entries[] = {
        {"dir", 'd', 0, G_OPTION_ARG_FILENAME, &o.dir,
         "The data directory (required)", "DIR"},
        {"format", 'f', 0, G_OPTION_ARG_STRING, &o.format,
         "m4, bitbrains, azure or auto (the default)", "FMT"},
        {"file", 0, 0, G_OPTION_ARG_STRING, &o.file,
         "M4: the set name (Hourly); azure: the CSV file; bitbrains: one VM "
         "file",
         "NAME"},
        {"column", 0, 0, G_OPTION_ARG_STRING, &o.column,
         "Bitbrains column (default \"CPU usage [%]\")", "HEADER"},
        {"model", 'm', 0, G_OPTION_ARG_STRING, &o.models,
         "snaive, naive2, ets, arima, mstl, combo, a comma list, or all "
         "(default: the engine's default model)",
         "MODEL"},
        {"horizon", 'H', 0, G_OPTION_ARG_INT, &o.horizon,
         "Steps to forecast (M4: the test rows' length; per-VM: 1 hour = "
         "12 samples)",
         "H"},
        {"periods", 'p', 0, G_OPTION_ARG_STRING, &o.periods,
         "Seasonal periods in samples (M4: 24,168; per-VM: 288,2016); the "
         "first is the MASE lag",
         "M[,M2]"},
        {"limit", 'n', 0, G_OPTION_ARG_INT, &o.limit,
         "Evaluate only the first N series", "N"},
        {"series", 's', 0, G_OPTION_ARG_STRING, &o.series,
         "Evaluate only this series id", "ID"},
        {"aggregate", 0, 0, G_OPTION_ARG_INT, &o.aggregate,
         "Per-VM: average blocks of K samples first (12: hourly)", "K"},
        {"origins", 0, 0, G_OPTION_ARG_INT, &o.origins,
         "Per-VM: forecast origins per series, stepping back (default 1)", "N"},
        {"origin-step", 0, 0, G_OPTION_ARG_INT, &o.origin_step,
         "Per-VM: samples between origins (default: the horizon)", "S"},
        {"json", 'j', 0, G_OPTION_ARG_NONE, &o.json,
         "One JSON object per model and line (coverage as fractions)", NULL},
        {"details", 0, 0, G_OPTION_ARG_FILENAME, &o.details,
         "Write per-series scores as CSV to FILE (with the Naive2 "
         "reference as model naive2-ref)",
         "FILE"},
        {"export", 0, 0, G_OPTION_ARG_FILENAME, &o.export_dir,
         "Write the evaluated series in the M4 layout to DIR and exit", "DIR"},
        {"export-name", 0, 0, G_OPTION_ARG_STRING, &o.export_name,
         "The set name used by --export (default: the data set's)", "NAME"},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "- score umbra's forecasting models on a data set");
    g_autoptr(GError) err = NULL;
    int rc;

    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_summary(
        ctx, "Holds out the last H samples of each series, forecasts them, "
             "and prints sMAPE, MASE, OWA\n(against Naive2, as M4), 80/95 % "
             "interval coverage and CPU seconds of fit + forecast.");
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "umbra-forecast-eval: %s\n", err->message);
        options_clear(&o);
        return 2;
    }
    rc = run(&o);
    options_clear(&o);
    return rc;
}
