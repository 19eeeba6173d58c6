/*
 * tools/risk-eval.c: umbra-risk-eval, the evaluator of umbra's risk
 * engine (issue 4).  It replays labelled series through the profiler and
 * the risk models as if they arrived live, sample by sample, and scores
 * the alerts against labels nobody on this team made.
 *
 * NAB mode (the default; --dir laid out like NAB: data/<dir>/<f>.csv and
 * labels/combined_windows.json, labels/combined_labels.json, optionally
 * published/<detector>_standard_scores.csv):
 *
 *   row (t, y) -> RiskProfile (bin = the file's median step)  -> drift
 *              -> RiskModel (prior weights; drift the only non-zero
 *                 feature: these files carry no libvirt events)  -> P
 *              -> alert as umbrad raises one (risk_alert_step(): P
 *                 reaches the threshold with no alert open; it closes
 *                 below 0.8 x the threshold), optionally no sooner than
 *                 a hold-off after the previous one (--holdoff, default
 *                 none, as umbrad)
 *
 *   The detection vector NAB scores is 1 at alert rows and 0 elsewhere:
 *   umbra's alerts are events, not levels.  Per file: NAB's raw
 *   standard-profile score (tools/nab.h), windows detected, the lead of
 *   the first alert in each window before the window's labelled anomaly
 *   (combined_labels.json; the window's end when it has none), precision
 *   (alerts inside windows / alerts), recall (windows with an alert /
 *   windows) and false alarms per day (alerts outside windows / days
 *   after the probationary period; alerts in the probationary period are
 *   not counted, as NAB ignores them).  Totals: NAB's normalised score
 *   over the files, and those of Numenta HTM and ARTime from NAB's
 *   published per-file raw scores when every file is listed there.
 *   Files whose name contains "failure" are system failures: the failure
 *   is their last labelled anomaly, and the lead of the first alert in
 *   its window is reported with their false alarms per day.
 *
 *   --sweep also replays every threshold of a grid (the same risk
 *   values, so the models run once) and reports the best normalised
 *   score.  NAB itself optimises each detector's threshold over its
 *   corpus; the published HTM and ARTime scores use a threshold optimised
 *   over all 58 NAB files, ours only over the files given, which favours
 *   us: both numbers are printed.
 *
 * Contention mode (--contention, per-VM CPU traces: Bitbrains or Azure,
 * 5-minute samples): the K busiest VMs (by mean demand over the whole
 * trace) are packed on one simulated host whose capacity is the
 * --capacity-quantile (0.97) quantile of their summed demand over the
 * evaluated samples, so the host is overloaded about 3 % of the time.
 * An overload episode is a run of at least 2 samples above capacity.
 * Every --refit (12) samples each VM's CPU is forecast with the default
 * model from its last --history-days (15) of samples, periods 288 and
 * 2016 when the history holds two cycles of them, 12 + refit - 1 steps
 * ahead; the samples in between move the origin along that path and, as
 * umbrad's forecaster does between refits, shift it by the exponentially
 * weighted (0.3) error of the samples seen since the fit.  Every sample,
 * risk_contention_compute() over the next 12 steps (rho 0.3) gives P(overload
 * within 15 min); as in umbrad, the empirical calibrator (risk_contention_
 * cal_*(): the summed path and the observed demand, a week of origins,
 * overloads of 2 steps) replaces it once it has a day of history
 * (--calibration-window 0: the normal model alone).  An alert is raised
 * as umbrad's rule opens one (risk_alert_step(), as above).  An
 * episode is predicted when an alert was raised 5 to 60 minutes before its
 * start; an alert is right when an episode begins within the hour after it,
 * and one raised while an episode is already under way (or at its first
 * sample) is counted as late,
 * neither right nor wrong.  Evaluation
 * starts after the history (a warm-up); episodes in the first hour of it
 * and alerts in the last hour are not scored.  --sweep re-scores the same
 * probabilities at thresholds 0.05 to 0.95.  A naive reference with no
 * forecast is scored alongside: alert when the demand reaches f x
 * capacity, f = 0.80 to 1.00 (JSON: naive_sweep).
 *
 * Cost: the CPU time (this thread's clock, as umbra-forecast-eval) of
 * risk_profile_update() + risk_model_predict() per sample, and in
 * contention mode of each forecast and of each contention update.
 *
 * A measuring tool, not decision code: it reads files and the thread CPU
 * clock itself.  Exit status: 0, 2 for bad arguments or input (the
 * message names the file and line), 1 for other failures.
 */
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forecast/forecast.h"
#include "risk/contention.h"
#include "risk/failure.h"
#include "risk/profile.h"
#include "tools/episodes.h"
#include "tools/nab.h"
#include "tools/seriesio.h"
#include "util/autoptr.h"
#include "util/order.h"

/* The product's default alert threshold: model/config.c sets
 * risk_threshold = 0.5, the initial value of the adaptive threshold. */
#define RISK_EVAL_THRESHOLD 0.5

/* Default hold-off between two failure alerts (seconds): none, as in
 * umbrad, whose hysteresis (risk_alert_step()) is the only damping. */
#define RISK_EVAL_HOLDOFF_S 0

/* A failure counts as foreseen this long ahead (the target). */
#define FAILURE_LEAD_TARGET_MIN 30.0

/* The contention replay: 5-minute samples, a 1-hour grid of 12 steps
 * (the episodes' scoring grid, tools/episodes.h). */
#define STEP_S EPISODES_STEP_S
#define GRID_STEPS EPISODES_HORIZON
/* The weight of the cheap update between refits, as in engine/forecaster.c. */
#define BIAS_WEIGHT 0.3
#define DAY_SAMPLES 288
#define WEEK_SAMPLES 2016
/* The empirical calibration (risk_contention_cal_*()), as umbrad runs it:
 * a week of 5-minute origins, answering after a day of them, an overload
 * being 2 steps above capacity (the episodes scored here). */
#define CAL_WINDOW WEEK_SAMPLES
#define CAL_MIN_ORIGINS DAY_SAMPLES
#define CAL_MIN_RUN 2

/* clang-format off */
#define DATA_FORMATS(X)        \
    X(AUTO, "auto")            \
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

/* The command line. */
typedef struct {
    char *dir;                /* --dir */
    char *file;               /* --file: one NAB file, or the Azure CSV */
    double threshold;         /* --threshold */
    char *holdoff;            /* --holdoff: "2h", "30m", "90s", seconds */
    double holdoff_s;         /* parsed; < 0 = the mode's default */
    gboolean sweep;           /* --sweep */
    gboolean json;            /* --json */
    gboolean contention;      /* --contention */
    char *format;             /* --format */
    char *column;             /* --column (Bitbrains) */
    int vms;                  /* --vms: K */
    double capacity_quantile; /* --capacity-quantile */
    double days;              /* --days: evaluated days, 0 = all */
    double history_days;      /* --history-days */
    int refit;                /* --refit: samples between fits */
    double rho;               /* --rho */
    int cal_window;           /* --calibration-window: origins, 0 = off */
    char *model;              /* --model: forecasting model */
} Options;

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}

/* Returns: @a / @b, NaN when @b is 0. */
static double
ratio(double a, double b)
{
    return b > 0 ? a / b : NAN;
}

/* Parses "2h", "30m", "90s" or plain seconds. */
static bool
parse_duration(const char *s, double *ret)
{
    char *end = NULL;
    double v;

    errno = 0;
    v = g_ascii_strtod(s, &end);
    if (end == s || errno == ERANGE || !isfinite(v) || v < 0) {
        return false;
    }
    if (strcmp(end, "h") == 0) {
        v *= 3600;
    } else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0) {
        v *= 60;
    } else if (*end != '\0' && strcmp(end, "s") != 0) {
        return false;
    }
    *ret = v;
    return true;
}

/* JSON: a number, or null when it is not finite. */
static json_object *
jnum(double v)
{
    return isfinite(v) ? json_object_new_double(v) : NULL;
}

static void
jadd(json_object *o, const char *key, json_object *v)
{
    json_object_object_add(o, key, v);
}

static void
print_json(json_object *o)
{
    puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                               JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Formats @v with @decimals for the text tables ("-" when not finite). */
static const char *
fmt(char *buf, size_t len, int decimals, double v)
{
    if (!isfinite(v)) {
        return "-";
    }
    g_snprintf(buf, len, "%.*f", decimals, v);
    return buf;
}

/* ------------------------------------------------------------------ */
/* NAB mode                                                            */
/* ------------------------------------------------------------------ */

/* One NAB file, replayed. */
typedef struct {
    char *rel;              /* "realKnownCause/nyc_taxi.csv" */
    NabSeries *s;           /* the data */
    const NabFileLabels *l; /* its labels (borrowed from the table) */
    NabSpan *spans;         /* its windows as rows */
    double *risk;           /* P per row */
    double bin_s;           /* the profile's bin: the median step */
    double cpu_s;           /* CPU of profile update + risk predict */
    size_t prob;            /* probationary rows */
    bool failure;           /* a system-failure file */
    double htm, artime;     /* published raw scores, NaN if unknown */
} NabFile;

static void
nab_file_free(gpointer p)
{
    NabFile *f = p;

    if (!f) {
        return;
    }
    g_free(f->rel);
    nab_series_free(f->s);
    g_free(f->spans);
    g_free(f->risk);
    g_free(f);
}

/* What one file scored at one threshold. */
typedef struct {
    NabScore nab;        /* NAB's score and counts */
    size_t alerts;       /* alerts after the probationary period */
    double days;         /* days after the probationary period */
    double *lead_min;    /* per window: minutes before its anomaly, NaN */
    double failure_lead; /* failure files: minutes, NaN if missed */
    double failure_t;    /* the failure's time (Unix s), NaN if none */
} FileResult;

static void
file_result_clear(FileResult *r)
{
    g_free(r->lead_min);
    r->lead_min = NULL;
}

/* Sums over files. */
typedef struct {
    double raw;         /* raw NAB score */
    size_t windows;     /* scored windows */
    size_t detected;    /* windows with an alert */
    size_t alerts;      /* alerts after probation */
    size_t in_window;   /* of which inside windows */
    double days;        /* days after probation */
    GArray *leads;      /* double: every detected window's lead */
    double htm, artime; /* summed published raw scores (NaN if any
                         * file is unknown) */
    size_t fail_files;  /* system-failure files */
    double fail_lead;   /* the smallest failure lead (NaN if missed) */
    size_t fail_fp;     /* their alerts outside windows */
    double fail_days;   /* their days */
} Totals;

/* Returns: the median positive step of @t (seconds), 1 if none. */
static double
median_step(const int64_t *t, size_t n)
{
    g_autofree double *d = g_new(double, n ? n : 1);
    size_t k = 0;
    double m;

    for (size_t i = 1; i < n; i++) {
        if (t[i] > t[i - 1]) {
            d[k++] = (double) (t[i] - t[i - 1]);
        }
    }
    m = util_median_finite(d, k);
    return isfinite(m) && m > 0 ? m : 1.0;
}

/* Runs the profiler and the failure model over @f's rows. */
static bool
nab_replay(NabFile *f, GError **error)
{
    RiskProfileOptions po;
    g_autoptr(RiskProfile) prof = NULL;
    g_autoptr(RiskModel) model = risk_model_new(1.0);
    double x[RISK_FEAT_LAST] = {0};
    double t0;

    f->bin_s = median_step(f->s->t, f->s->n);
    risk_profile_options_init(&po, f->bin_s);
    prof = risk_profile_new(&po, error);
    if (!prof) {
        return false;
    }
    f->risk = g_new(double, f->s->n);
    t0 = seriesio_thread_cpu_seconds();
    for (size_t i = 0; i < f->s->n; i++) {
        x[RISK_FEAT_DRIFT] =
            risk_profile_update(prof, (double) f->s->t[i], f->s->y[i]);
        f->risk[i] = risk_model_predict(model, x, NULL);
    }
    f->cpu_s = seriesio_thread_cpu_seconds() - t0;
    return true;
}

/*
 * Marks the alert rows of @risk in @det (1.0, else 0.0): where an alert
 * opens under umbrad's rule (risk_alert_step(): P reaches @thr with none
 * open; it closes below RISK_ALERT_CLEAR_RATIO x @thr), and, with
 * @holdoff_s > 0, at least that long after the previous alert
 * (episodes_alert_step()).
 */
static void
alerts_from_risk(const int64_t *t, const double *risk, size_t n, double thr,
                 double holdoff_s, double *det)
{
    EpisodesAlerts rule = {0};

    for (size_t i = 0; i < n; i++) {
        det[i] = episodes_alert_step(&rule, risk[i], (double) t[i], thr,
                                     RISK_ALERT_CLEAR_RATIO, holdoff_s)
                     ? 1.0
                     : 0.0;
    }
}

/* Scores @f at @thr. */
static bool
nab_evaluate(const NabFile *f, double thr, double holdoff_s, FileResult *ret,
             GError **error)
{
    NabProfile p = nab_profile_standard();
    const NabSeries *s = f->s;
    const NabFileLabels *l = f->l;
    g_autofree double *det = g_new(double, s->n);
    g_autofree size_t *first = g_new(size_t, l->nwindows + 1);
    FileResult r = {.failure_lead = NAN, .failure_t = NAN};

    alerts_from_risk(s->t, f->risk, s->n, thr, holdoff_s, det);
    if (!nab_score(&p, s->n, f->spans, l->nwindows, det, 0.5, first, &r.nab,
                   error)) {
        return false;
    }
    r.alerts = r.nab.tp + r.nab.fp;
    r.days = f->prob < s->n
                 ? (double) (s->t[s->n - 1] - s->t[f->prob]) / 86400.0
                 : 0.0;
    r.lead_min = g_new(double, l->nwindows + 1);
    for (size_t k = 0; k < l->nwindows; k++) {
        double target = (double) l->windows[k].end_s;

        for (size_t a = 0; a < l->nanomalies; a++) {
            if (l->anomalies[a] >= l->windows[k].start_s &&
                l->anomalies[a] <= l->windows[k].end_s) {
                target = (double) l->anomalies[a];
                break;
            }
        }
        r.lead_min[k] = first[k] == (size_t) -1
                            ? NAN
                            : (target - (double) s->t[first[k]]) / 60.0;
    }
    if (f->failure) {
        /* The failure: the last labelled anomaly (else the last window's
         * end); its lead is that of the first alert in its window. */
        if (l->nanomalies > 0) {
            r.failure_t = (double) l->anomalies[l->nanomalies - 1];
        } else if (l->nwindows > 0) {
            r.failure_t = (double) l->windows[l->nwindows - 1].end_s;
        }
        for (size_t k = 0; k < l->nwindows; k++) {
            if ((double) l->windows[k].start_s <= r.failure_t &&
                r.failure_t <= (double) l->windows[k].end_s &&
                first[k] != (size_t) -1) {
                r.failure_lead = (r.failure_t - (double) s->t[first[k]]) / 60.0;
            }
        }
    }
    *ret = r;
    return true;
}

static void
totals_add(Totals *tot, const NabFile *f, const FileResult *r)
{
    tot->raw += r->nab.score;
    tot->windows += r->nab.windows;
    tot->detected += r->nab.detected;
    tot->alerts += r->alerts;
    tot->in_window += r->nab.tp;
    tot->days += r->days;
    for (size_t k = 0; k < f->l->nwindows; k++) {
        if (isfinite(r->lead_min[k])) {
            g_array_append_val(tot->leads, r->lead_min[k]);
        }
    }
    tot->htm += f->htm;
    tot->artime += f->artime;
    if (f->failure) {
        /* The worst failure file's lead: NaN once one is missed. */
        if (tot->fail_files == 0 || isnan(r->failure_lead)) {
            tot->fail_lead = r->failure_lead;
        } else if (!isnan(tot->fail_lead)) {
            tot->fail_lead = MIN(tot->fail_lead, r->failure_lead);
        }
        tot->fail_files++;
        tot->fail_fp += r->nab.fp;
        tot->fail_days += r->days;
    }
}

static void
totals_init(Totals *tot)
{
    memset(tot, 0, sizeof(*tot));
    tot->leads = g_array_new(FALSE, FALSE, sizeof(double));
    tot->fail_lead = NAN;
}

static void
totals_clear(Totals *tot)
{
    if (tot->leads) {
        g_array_unref(tot->leads);
    }
    tot->leads = NULL;
}

/* Scores every file at @thr into @ret_results (nullable) and @tot. */
static bool
nab_score_all(GPtrArray *files, double thr, double holdoff_s,
              FileResult *ret_results, Totals *tot, GError **error)
{
    totals_init(tot);
    for (guint i = 0; i < files->len; i++) {
        const NabFile *f = files->pdata[i];
        FileResult r;

        if (!nab_evaluate(f, thr, holdoff_s, &r, error)) {
            g_prefix_error(error, "%s: ", f->rel);
            return false;
        }
        totals_add(tot, f, &r);
        if (ret_results) {
            ret_results[i] = r;
        } else {
            file_result_clear(&r);
        }
    }
    return true;
}

/* Collects the *.csv below @dir/@sub, as relative paths. */
static bool
list_csv(const char *root, const char *sub, GPtrArray *out, GError **error)
{
    g_autofree char *path =
        sub ? g_build_filename(root, sub, NULL) : g_strdup(root);
    g_autoptr(GDir) d = g_dir_open(path, 0, error);
    const char *n;

    if (!d) {
        return false;
    }
    while ((n = g_dir_read_name(d))) {
        g_autofree char *rel =
            sub ? g_strconcat(sub, "/", n, NULL) : g_strdup(n);
        g_autofree char *full = g_build_filename(root, rel, NULL);

        if (g_file_test(full, G_FILE_TEST_IS_DIR)) {
            if (!list_csv(root, rel, out, error)) {
                return false;
            }
        } else if (g_str_has_suffix(n, ".csv")) {
            g_ptr_array_add(out, g_steal_pointer(&rel));
        }
    }
    return true;
}

static int
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Returns: true if @rel is the file --file names (path, base name, or
 * base name without .csv). */
static bool
file_wanted(const char *want, const char *rel)
{
    const char *base = strrchr(rel, '/');
    size_t bl;

    base = base ? base + 1 : rel;
    bl = strlen(base);
    return !want || strcmp(want, rel) == 0 || strcmp(want, base) == 0 ||
           (g_str_has_suffix(base, ".csv") && strlen(want) == bl - 4 &&
            strncmp(want, base, bl - 4) == 0);
}

/* Reads a published results file if present; NULL if absent. */
static GHashTable *
load_published(const char *dir, const char *detector, GError **error)
{
    g_autofree char *path =
        g_strdup_printf("%s/published/%s_standard_scores.csv", dir, detector);
    g_autofree char *buf = NULL;
    gsize len = 0;

    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        return NULL;
    }
    if (!g_file_get_contents(path, &buf, &len, error)) {
        return NULL;
    }
    return nab_parse_published(buf, len, path, error);
}

/* Loads the labels and the files of a NAB directory. */
static GPtrArray *
nab_load(const Options *o, GHashTable *labels, GError **error)
{
    g_autofree char *wpath =
        g_build_filename(o->dir, "labels", "combined_windows.json", NULL);
    g_autofree char *lpath =
        g_build_filename(o->dir, "labels", "combined_labels.json", NULL);
    g_autofree char *datadir = g_build_filename(o->dir, "data", NULL);
    g_autofree char *buf = NULL;
    g_autoptr(GPtrArray) rels = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(nab_file_free);
    g_autoptr(GHashTable) htm = NULL, artime = NULL;
    gsize len = 0;

    if (!g_file_get_contents(wpath, &buf, &len, error) ||
        !nab_labels_parse_windows(labels, buf, len, wpath, error)) {
        return NULL;
    }
    g_clear_pointer(&buf, g_free);
    if (g_file_test(lpath, G_FILE_TEST_EXISTS) &&
        (!g_file_get_contents(lpath, &buf, &len, error) ||
         !nab_labels_parse_anomalies(labels, buf, len, lpath, error))) {
        return NULL;
    }
    htm = load_published(o->dir, "numenta", error);
    if (!htm && error && *error) {
        return NULL;
    }
    artime = load_published(o->dir, "ARTime", error);
    if (!artime && error && *error) {
        return NULL;
    }
    if (!list_csv(datadir, NULL, rels, error)) {
        return NULL;
    }
    g_ptr_array_sort(rels, cmp_str);
    for (guint i = 0; i < rels->len; i++) {
        const char *rel = rels->pdata[i];
        g_autofree char *path = g_build_filename(datadir, rel, NULL);
        g_autofree char *dbuf = NULL;
        NabFileLabels *l = g_hash_table_lookup(labels, rel);
        NabPublished *ph = htm ? g_hash_table_lookup(htm, rel) : NULL;
        NabPublished *pa = artime ? g_hash_table_lookup(artime, rel) : NULL;
        NabFile *f;

        if (!file_wanted(o->file, rel)) {
            continue;
        }
        if (!l) {
            fprintf(stderr, "umbra-risk-eval: %s: no entry in %s, not scored\n",
                    path, wpath);
            continue;
        }
        if (!g_file_get_contents(path, &dbuf, &len, error)) {
            return NULL;
        }
        f = g_new0(NabFile, 1);
        g_ptr_array_add(files, f);
        f->rel = g_strdup(rel);
        f->l = l;
        f->failure = strstr(rel, "failure") != NULL;
        f->htm = ph ? ph->score : NAN;
        f->artime = pa ? pa->score : NAN;
        f->s = nab_parse_series(dbuf, len, path, error);
        if (!f->s) {
            return NULL;
        }
        f->spans = g_new(NabSpan, l->nwindows + 1);
        if (!nab_windows_locate(f->s->t, f->s->n, l->windows, l->nwindows,
                                f->spans, error)) {
            g_prefix_error(error, "%s: %s: ", wpath, rel);
            return NULL;
        }
        f->prob = nab_probation_length(f->s->n, 0.15);
    }
    if (files->len == 0) {
        g_set_error(error, NAB_ERROR, NAB_ERROR_EMPTY,
                    o->file ? "%s: no labelled data file named %s"
                            : "%s: no labelled data file",
                    datadir, o->file);
        return NULL;
    }
    return g_steal_pointer(&files);
}

/* The sweep's grid: P = sigma(z) for z = -7 .. 5 by 0.05 (P from 0.0009
 * to 0.993), dense where the risk model's probabilities live. */
#define SWEEP_Z_LO -7.0
#define SWEEP_Z_HI 5.0
#define SWEEP_Z_STEP 0.05

typedef struct {
    double threshold;
    double score; /* normalised */
    Totals tot;
} SweepBest;

static bool
nab_sweep(const Options *o, GPtrArray *files, SweepBest *best, GError **error)
{
    best->threshold = NAN;
    best->score = -INFINITY;
    totals_init(&best->tot);
    for (double z = SWEEP_Z_LO; z <= SWEEP_Z_HI + 1e-9; z += SWEEP_Z_STEP) {
        double thr = 1.0 / (1.0 + exp(-z));
        NabProfile p = nab_profile_standard();
        Totals tot;
        double sc;

        if (!nab_score_all(files, thr, o->holdoff_s, NULL, &tot, error)) {
            return false;
        }
        sc = nab_normalised(&p, tot.raw, tot.windows);
        /* Ties go to the higher threshold: fewer alerts. */
        if (sc >= best->score) {
            totals_clear(&best->tot);
            best->tot = tot;
            best->score = sc;
            best->threshold = thr;
        } else {
            totals_clear(&tot);
        }
    }
    return true;
}

/* The figures of a Totals. */
typedef struct {
    double nab, htm, artime;
    double lead, precision, recall, fa_day;
    double fail_fa_day;
} Summary;

static Summary
summarise(const Totals *t)
{
    NabProfile p = nab_profile_standard();
    Summary s = {
        .nab = nab_normalised(&p, t->raw, t->windows),
        .htm = nab_normalised(&p, t->htm, t->windows),
        .artime = nab_normalised(&p, t->artime, t->windows),
        .lead = util_median_finite((const double *) (void *) t->leads->data,
                                   t->leads->len),
        .precision = ratio((double) t->in_window, (double) t->alerts),
        .recall = ratio((double) t->detected, (double) t->windows),
        .fa_day = ratio((double) (t->alerts - t->in_window), t->days),
        .fail_fa_day = ratio((double) t->fail_fp, t->fail_days),
    };

    return s;
}

static json_object *
totals_json(const Totals *t, double cost_us)
{
    Summary s = summarise(t);
    json_object *o = json_object_new_object();

    jadd(o, "nab_score", jnum(s.nab));
    jadd(o, "htm_score", jnum(s.htm));
    jadd(o, "artime_score", jnum(s.artime));
    jadd(o, "raw_score", jnum(t->raw));
    jadd(o, "windows", json_object_new_int64((int64_t) t->windows));
    jadd(o, "windows_detected", json_object_new_int64((int64_t) t->detected));
    jadd(o, "alerts", json_object_new_int64((int64_t) t->alerts));
    jadd(o, "median_lead_minutes", jnum(s.lead));
    jadd(o, "precision", jnum(s.precision));
    jadd(o, "recall", jnum(s.recall));
    jadd(o, "false_alarms_per_day", jnum(s.fa_day));
    if (isfinite(cost_us)) {
        jadd(o, "us_per_sample", jnum(cost_us));
    }
    return o;
}

static json_object *
failure_json(const Totals *t)
{
    Summary s = summarise(t);
    json_object *o = json_object_new_object();

    jadd(o, "files", json_object_new_int64((int64_t) t->fail_files));
    jadd(o, "lead_minutes", jnum(t->fail_lead));
    jadd(o, "false_alarms_per_day", jnum(s.fail_fa_day));
    jadd(o, "lead_target_minutes", jnum(FAILURE_LEAD_TARGET_MIN));
    return o;
}

static void
nab_print_text(const Options *o, GPtrArray *files, const FileResult *res,
               const Totals *tot, double cost_us, size_t samples,
               const SweepBest *best, const FileResult *bres)
{
    Summary s = summarise(tot);
    char b[8][32];

    printf("NAB replay of %s: %u files, threshold %.3g, hold-off %.0f min, "
           "standard profile\n",
           o->dir, files->len, o->threshold, o->holdoff_s / 60);
    printf("%-58s %6s %3s %3s %6s %4s %3s %7s %7s %7s %8s %5s %5s %6s\n",
           "file", "rows", "win", "det", "alerts", "in", "out", "raw", "HTM",
           "ARTime", "lead_min", "prec", "rec", "FA/day");
    for (guint i = 0; i < files->len; i++) {
        const NabFile *f = files->pdata[i];
        const FileResult *r = &res[i];

        printf(
            "%-58s %6zu %3zu %3zu %6zu %4zu %3zu %7.3f %7s %7s %8s %5s "
            "%5s %6s\n",
            f->rel, f->s->n, r->nab.windows, r->nab.detected, r->alerts,
            r->nab.tp, r->nab.fp, r->nab.score, fmt(b[0], 32, 3, f->htm),
            fmt(b[1], 32, 3, f->artime),
            fmt(b[2], 32, 0, util_median_finite(r->lead_min, f->l->nwindows)),
            fmt(b[3], 32, 2, ratio((double) r->nab.tp, (double) r->alerts)),
            fmt(b[4], 32, 2,
                ratio((double) r->nab.detected, (double) r->nab.windows)),
            fmt(b[5], 32, 2, ratio((double) r->nab.fp, r->days)));
    }
    printf("total: NAB score %s (Numenta HTM %s, ARTime %s on these files), "
           "raw %.3f over %zu windows; median lead %s min, precision %s, "
           "recall %s, %s false alarms/day\n",
           fmt(b[0], 32, 1, s.nab), fmt(b[1], 32, 1, s.htm),
           fmt(b[2], 32, 1, s.artime), tot->raw, tot->windows,
           fmt(b[3], 32, 0, s.lead), fmt(b[4], 32, 2, s.precision),
           fmt(b[5], 32, 2, s.recall), fmt(b[6], 32, 2, s.fa_day));
    for (guint i = 0; i < files->len; i++) {
        const NabFile *f = files->pdata[i];

        if (f->failure) {
            printf(
                "failure %s: lead before the failure %s min (target >= "
                "%.0f), %s false alarms/day (target <= 1)\n",
                f->rel, fmt(b[0], 32, 0, res[i].failure_lead),
                FAILURE_LEAD_TARGET_MIN,
                fmt(b[1], 32, 2, ratio((double) res[i].nab.fp, res[i].days)));
        }
    }
    printf("cost: profiler + risk update %.2f us per sample (%zu samples, "
           "thread CPU)\n",
           cost_us, samples);
    if (best) {
        Summary w = summarise(&best->tot);

        printf("sweep: best threshold %.4g: NAB score %s (raw %.3f), median "
               "lead %s min, precision %s, recall %s, %s false alarms/day; "
               "failure lead %s min, %s false alarms/day (threshold "
               "optimised on these files; NAB's published scores use one "
               "optimised over its whole corpus)\n",
               best->threshold, fmt(b[0], 32, 1, w.nab), best->tot.raw,
               fmt(b[1], 32, 0, w.lead), fmt(b[2], 32, 2, w.precision),
               fmt(b[3], 32, 2, w.recall), fmt(b[4], 32, 2, w.fa_day),
               fmt(b[5], 32, 0, best->tot.fail_lead),
               fmt(b[6], 32, 2, w.fail_fa_day));
        for (guint i = 0; i < files->len; i++) {
            const NabFile *f = files->pdata[i];

            printf("  %-58s raw %7.3f, %zu/%zu windows, %zu alerts\n", f->rel,
                   bres[i].nab.score, bres[i].nab.detected, bres[i].nab.windows,
                   bres[i].alerts);
        }
    }
}

static json_object *
file_json(const NabFile *f, const FileResult *r)
{
    json_object *o = json_object_new_object();
    json_object *leads = json_object_new_array();

    jadd(o, "file", json_object_new_string(f->rel));
    jadd(o, "rows", json_object_new_int64((int64_t) f->s->n));
    jadd(o, "bin_s", jnum(f->bin_s));
    jadd(o, "windows", json_object_new_int64((int64_t) r->nab.windows));
    jadd(o, "windows_detected",
         json_object_new_int64((int64_t) r->nab.detected));
    jadd(o, "alerts", json_object_new_int64((int64_t) r->alerts));
    jadd(o, "alerts_in_windows", json_object_new_int64((int64_t) r->nab.tp));
    jadd(o, "nab_raw", jnum(r->nab.score));
    jadd(o, "htm_raw", jnum(f->htm));
    jadd(o, "artime_raw", jnum(f->artime));
    for (size_t k = 0; k < f->l->nwindows; k++) {
        json_object_array_add(leads, jnum(r->lead_min[k]));
    }
    jadd(o, "lead_minutes", leads);
    jadd(o, "precision", jnum(ratio((double) r->nab.tp, (double) r->alerts)));
    jadd(o, "recall",
         jnum(ratio((double) r->nab.detected, (double) r->nab.windows)));
    jadd(o, "false_alarms_per_day", jnum(ratio((double) r->nab.fp, r->days)));
    jadd(o, "days", jnum(r->days));
    jadd(o, "us_per_sample",
         jnum(f->s->n ? 1e6 * f->cpu_s / (double) f->s->n : NAN));
    if (f->failure) {
        jadd(o, "failure_lead_minutes", jnum(r->failure_lead));
    }
    return o;
}

static int
run_nab(Options *o)
{
    g_autoptr(GHashTable) labels = nab_labels_new();
    g_autoptr(GPtrArray) files = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree FileResult *res = NULL;
    g_autofree FileResult *bres = NULL;
    Totals tot = {0}, btot = {0};
    SweepBest best = {0};
    double cpu = 0;
    size_t samples = 0;
    int rc = 0;

    if (o->holdoff_s < 0) {
        o->holdoff_s = RISK_EVAL_HOLDOFF_S;
    }
    files = nab_load(o, labels, &err);
    if (!files) {
        fprintf(stderr, "umbra-risk-eval: %s\n", err->message);
        return 2;
    }
    for (guint i = 0; i < files->len; i++) {
        NabFile *f = files->pdata[i];

        if (!nab_replay(f, &err)) {
            fprintf(stderr, "umbra-risk-eval: %s: %s\n", f->rel, err->message);
            return 1;
        }
        cpu += f->cpu_s;
        samples += f->s->n;
    }
    res = g_new0(FileResult, files->len);
    bres = g_new0(FileResult, files->len);
    if (!nab_score_all(files, o->threshold, o->holdoff_s, res, &tot, &err) ||
        (o->sweep && (!nab_sweep(o, files, &best, &err) ||
                      !nab_score_all(files, best.threshold, o->holdoff_s, bres,
                                     &btot, &err)))) {
        fprintf(stderr, "umbra-risk-eval: %s\n", err->message);
        rc = 1;
        goto out;
    }
    if (o->json) {
        g_autoptr(json_object) root = json_object_new_object();
        json_object *arr = json_object_new_array();

        jadd(root, "mode", json_object_new_string("nab"));
        jadd(root, "dir", json_object_new_string(o->dir));
        jadd(root, "threshold", jnum(o->threshold));
        jadd(root, "holdoff_s", jnum(o->holdoff_s));
        jadd(root, "profile", json_object_new_string("standard"));
        for (guint i = 0; i < files->len; i++) {
            json_object_array_add(arr, file_json(files->pdata[i], &res[i]));
        }
        jadd(root, "files", arr);
        jadd(root, "total",
             totals_json(&tot, samples ? 1e6 * cpu / (double) samples : NAN));
        jadd(root, "failure", failure_json(&tot));
        if (o->sweep) {
            json_object *sw = totals_json(&best.tot, NAN);
            json_object *sf = json_object_new_array();

            jadd(sw, "threshold", jnum(best.threshold));
            jadd(sw, "failure", failure_json(&best.tot));
            for (guint i = 0; i < files->len; i++) {
                json_object_array_add(sf, file_json(files->pdata[i], &bres[i]));
            }
            jadd(sw, "files", sf);
            jadd(root, "sweep", sw);
        }
        print_json(root);
    } else {
        nab_print_text(o, files, res, &tot,
                       samples ? 1e6 * cpu / (double) samples : NAN, samples,
                       o->sweep ? &best : NULL, bres);
    }
out:
    for (guint i = 0; res && i < files->len; i++) {
        file_result_clear(&res[i]);
        file_result_clear(&bres[i]);
    }
    totals_clear(&tot);
    totals_clear(&btot);
    totals_clear(&best.tot);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Contention mode                                                     */
/* ------------------------------------------------------------------ */

/* Reads every VM of a Bitbrains directory (files whose header names
 * "Timestamp"; index.csv is skipped). */
static GPtrArray *
load_bitbrains(const Options *o, GError **error)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify) eval_series_free);

    if (!list_csv(o->dir, NULL, names, error)) {
        return NULL;
    }
    g_ptr_array_sort(names, cmp_str);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *path = g_build_filename(o->dir, names->pdata[i], NULL);
        g_autofree char *line = seriesio_first_line(path);
        g_autofree char *buf = NULL;
        gsize len = 0;
        EvalSeries *s;

        if (!line || !strstr(line, "Timestamp")) {
            continue;
        }
        if (!g_file_get_contents(path, &buf, &len, error)) {
            return NULL;
        }
        s = seriesio_parse_bitbrains(buf, len, path, o->column, STEP_S, error);
        if (!s) {
            return NULL;
        }
        g_ptr_array_add(out, s);
    }
    return g_steal_pointer(&out);
}

/* Reads the Azure "step,vm_..." file: --file, else azure_vm_avg_cpu.csv,
 * else the only such file. */
static GPtrArray *
load_azure(const Options *o, GError **error)
{
    g_autofree char *file = g_strdup(o->file);
    g_autofree char *path = NULL;
    g_autofree char *buf = NULL;
    gsize len = 0;

    if (!file) {
        g_autofree char *avg =
            g_build_filename(o->dir, "azure_vm_avg_cpu.csv", NULL);

        if (g_file_test(avg, G_FILE_TEST_EXISTS)) {
            file = g_strdup("azure_vm_avg_cpu.csv");
        } else if (!(file = seriesio_find_wide_csv(o->dir, error))) {
            return NULL;
        }
    }
    path = g_build_filename(o->dir, file, NULL);
    if (!g_file_get_contents(path, &buf, &len, error)) {
        return NULL;
    }
    return seriesio_parse_wide(buf, len, path, error);
}

/* Returns: the mean of the finite values of @s, -inf if none. */
static double
series_mean(const EvalSeries *s)
{
    double sum = 0;
    size_t k = 0;

    for (size_t i = 0; i < s->n; i++) {
        if (isfinite(s->y[i])) {
            sum += s->y[i];
            k++;
        }
    }
    return k ? sum / (double) k : -INFINITY;
}

typedef struct {
    const EvalSeries *s;
    double mean;
} Ranked;

static int
cmp_ranked(const void *a, const void *b)
{
    const Ranked *x = a, *y = b;

    if (x->mean != y->mean) {
        return x->mean > y->mean ? -1 : 1;
    }
    return strcmp(x->s->id, y->s->id);
}

/* Returns: the type-7 quantile @q of @v[0..n). */
static double
quantile(const double *v, size_t n, double q)
{
    g_autofree double *c = g_memdup2(v, sizeof(double) * (n ? n : 1));
    double h, lo;
    size_t i;

    if (n == 0) {
        return NAN;
    }
    qsort(c, n, sizeof(double), cmp_double);
    h = q * (double) (n - 1);
    lo = floor(h);
    i = (size_t) lo;
    if (i + 1 >= n) {
        return c[n - 1];
    }
    return c[i] + (h - lo) * (c[i + 1] - c[i]);
}

/*
 * The naive reference: alert when the demand now reaches @f of the
 * capacity (@share[t] = demand / capacity), for f = 0.80, 0.81 .. 1.00,
 * scored like umbra's alerts.  It says how far the overloads announce
 * themselves in the demand alone, with no forecast.
 */
#define NAIVE_LO 80
#define NAIVE_HI 100
/* A demand share is no probability: the naive alert closes as soon as the
 * demand is below f again (umbrad's band would hold it open down to 0.8 f,
 * 64-80 % of the capacity). */
#define NAIVE_CLEAR_RATIO 1.0

static json_object *
naive_sweep_json(const double *share, size_t w0, size_t end, GArray *episodes,
                 double holdoff_s)
{
    json_object *sw = json_object_new_array();

    for (int q = NAIVE_LO; q <= NAIVE_HI; q++) {
        EpisodesScore w;
        json_object *e = json_object_new_object();

        episodes_score(share, w0, end, episodes, q / 100.0, NAIVE_CLEAR_RATIO,
                       holdoff_s, &w);
        jadd(e, "fraction", jnum(q / 100.0));
        jadd(e, "alerts", json_object_new_int64((int64_t) w.alerts));
        jadd(e, "recall", jnum(w.recall));
        jadd(e, "precision", jnum(w.precision));
        jadd(e, "median_lead_minutes", jnum(w.lead_min));
        json_object_array_add(sw, e);
    }
    return sw;
}

static void
naive_print(const double *share, size_t w0, size_t end, GArray *episodes,
            double holdoff_s)
{
    EpisodesScore best = {.recall = -1}, top = {.recall = -1};
    int qbest = -1, qtop = -1;
    char b[4][32];

    for (int q = NAIVE_LO; q <= NAIVE_HI; q++) {
        EpisodesScore w;

        episodes_score(share, w0, end, episodes, q / 100.0, NAIVE_CLEAR_RATIO,
                       holdoff_s, &w);
        /* Ties go to the higher f, as bench-risk.sh's jq max_by. */
        if (w.recall >= top.recall) {
            top = w;
            qtop = q;
        }
        if (w.precision >= 0.8 && w.recall >= best.recall) {
            best = w;
            qbest = q;
        }
    }
    if (qtop < 0) {
        printf("naive reference: no episode scored\n");
        return;
    }
    printf("naive reference (alert when the demand reaches f x capacity, f "
           "0.80-1.00): highest recall %s at f %.2f (precision %s); ",
           fmt(b[0], 32, 2, top.recall), qtop / 100.0,
           fmt(b[1], 32, 2, top.precision));
    if (qbest < 0) {
        printf("no f reaches precision 0.8\n");
    } else {
        printf("best recall at precision >= 0.8: %s at f %.2f (precision "
               "%s)\n",
               fmt(b[2], 32, 2, best.recall), qbest / 100.0,
               fmt(b[3], 32, 2, best.precision));
    }
}

static int
run_contention(Options *o)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) all = NULL;
    g_autoptr(GArray) episodes = g_array_new(FALSE, FALSE, sizeof(Episode));
    g_autofree Ranked *rank = NULL;
    g_autofree double *demand = NULL;
    g_autofree double *last = NULL;
    g_autofree double *p15 = NULL;
    g_autofree double *naive = NULL;
    g_autofree RiskPath *paths = NULL;
    g_autoptr(RiskContentionCal) cal = NULL;
    double sum_mean[GRID_STEPS];
    size_t calibrated = 0; /* samples the calibrator answered */
    FcResult **fits = NULL;
    DataFormat format;
    double steps_s[GRID_STEPS];
    double unknown[GRID_STEPS];        /* the path of a VM without a forecast */
    g_autofree double *bias = NULL;    /* per VM: the cheap update's shift */
    g_autofree double *shifted = NULL; /* per VM: 3 x GRID_STEPS path */
    double cap, cpu_fc = 0, cpu_risk = 0;
    size_t k, len = G_MAXSIZE, w0, end, history, nfits = 0, fc_failed = 0;
    size_t over = 0, singles = 0;
    EpisodesScore cs;
    int model;
    int rc = 0;

    if (o->holdoff_s < 0) {
        o->holdoff_s = 0;
    }
    if (!o->column) {
        o->column = g_strdup("CPU usage [MHZ]");
    }
    model =
        o->model ? fc_model_from_string(o->model) : (int) fc_default_model();
    if (model < 0) {
        fprintf(stderr, "umbra-risk-eval: unknown model \"%s\"\n", o->model);
        return 2;
    }
    if (o->vms < 1 || o->refit < 1 || !(o->capacity_quantile > 0) ||
        !(o->capacity_quantile < 1) || o->days < 0 || !(o->rho >= 0) ||
        !(o->rho <= 1) || !(o->history_days >= 1) || o->cal_window < 0) {
        fprintf(stderr, "umbra-risk-eval: --vms and --refit take numbers "
                        ">= 1, --capacity-quantile one in (0, 1), --rho one "
                        "in [0, 1], --history-days one >= 1, --days >= 0\n");
        return 2;
    }
    format = DATA_FORMAT_AUTO;
    for (int i = 0; o->format && i < DATA_FORMAT_LAST; i++) {
        if (strcmp(o->format, format_names[i]) == 0) {
            format = i;
        }
    }
    if (o->format && format == DATA_FORMAT_AUTO &&
        strcmp(o->format, "auto") != 0) {
        fprintf(stderr,
                "umbra-risk-eval: unknown format \"%s\" (bitbrains, azure "
                "or auto)\n",
                o->format);
        return 2;
    }
    if (format == DATA_FORMAT_AUTO) {
        g_autofree char *avg =
            g_build_filename(o->dir, "azure_vm_avg_cpu.csv", NULL);

        format = o->file || g_file_test(avg, G_FILE_TEST_EXISTS)
                     ? DATA_FORMAT_AZURE
                     : DATA_FORMAT_BITBRAINS;
    }
    all = format == DATA_FORMAT_AZURE ? load_azure(o, &err)
                                      : load_bitbrains(o, &err);
    if (!all) {
        fprintf(stderr, "umbra-risk-eval: %s\n", err->message);
        return 2;
    }
    if (all->len < (guint) o->vms) {
        fprintf(stderr, "umbra-risk-eval: %s: %u VM series, --vms %d\n", o->dir,
                all->len, o->vms);
        return 2;
    }
    /* The K busiest VMs, aligned on their first samples. */
    rank = g_new(Ranked, all->len);
    for (guint i = 0; i < all->len; i++) {
        rank[i].s = all->pdata[i];
        rank[i].mean = series_mean(rank[i].s);
    }
    qsort(rank, all->len, sizeof(Ranked), cmp_ranked);
    k = (size_t) o->vms;
    for (size_t i = 0; i < k; i++) {
        len = MIN(len, rank[i].s->n);
    }
    history = (size_t) (o->history_days * DAY_SAMPLES);
    w0 = history;
    if (len < w0 + 2 * GRID_STEPS) {
        fprintf(stderr,
                "umbra-risk-eval: %s: %zu samples, fewer than the %zu of "
                "history plus two hours\n",
                o->dir, len, w0);
        return 2;
    }
    end = o->days > 0 ? MIN(len, w0 + (size_t) (o->days * DAY_SAMPLES)) : len;
    /* True demand: a missing sample repeats the last known (0 before). */
    demand = g_new0(double, len);
    last = g_new0(double, k);
    for (size_t t = 0; t < len; t++) {
        for (size_t i = 0; i < k; i++) {
            if (isfinite(rank[i].s->y[t])) {
                last[i] = rank[i].s->y[t];
            }
            demand[t] += last[i];
        }
    }
    cap = quantile(demand + w0, end - w0, o->capacity_quantile);
    if (!(cap > 0) || !isfinite(cap)) {
        fprintf(stderr,
                "umbra-risk-eval: %s: the %.2f quantile of the summed demand "
                "is %g: no capacity to overload\n",
                o->dir, o->capacity_quantile, cap);
        return 2;
    }
    episodes_find(demand, w0, end, cap, episodes, &over, &singles);
    /* The replay. */
    for (size_t j = 0; j < GRID_STEPS; j++) {
        steps_s[j] = (double) (STEP_S * (j + 1));
    }
    fits = g_new0(FcResult *, k);
    paths = g_new0(RiskPath, k);
    bias = g_new0(double, k);
    shifted = g_new0(double, 3 * GRID_STEPS * k);
    for (size_t j = 0; j < GRID_STEPS; j++) {
        unknown[j] = NAN;
    }
    p15 = g_new0(double, end);
    if (o->cal_window > 0 &&
        !(cal = risk_contention_cal_new(STEP_S, (size_t) o->cal_window,
                                        CAL_MIN_RUN, CAL_MIN_ORIGINS, &err))) {
        fprintf(stderr, "umbra-risk-eval: %s\n", err->message);
        rc = 2;
        goto out;
    }
    for (size_t t = w0; t < end; t++) {
        size_t off = (t - w0) % (size_t) o->refit;
        RiskContention rc_out;
        double t0;

        if (off == 0) {
            size_t from = t + 1 > history ? t + 1 - history : 0;
            size_t n = t + 1 - from;

            for (size_t i = 0; i < k; i++) {
                FcSeries s = {.y = rank[i].s->y + from, .n = n};
                int np = 0;

                if (n >= 2 * DAY_SAMPLES) {
                    s.periods[np++] = DAY_SAMPLES;
                }
                if (n >= 2 * WEEK_SAMPLES) {
                    s.periods[np++] = WEEK_SAMPLES;
                }
                fc_result_free(fits[i]);
                g_clear_error(&err);
                t0 = seriesio_thread_cpu_seconds();
                fits[i] = fc_forecast(model, &s,
                                      GRID_STEPS + (size_t) o->refit - 1, &err);
                bias[i] = 0;
                cpu_fc += seriesio_thread_cpu_seconds() - t0;
                nfits++;
                if (!fits[i]) {
                    fc_failed++;
                }
            }
        }
        for (size_t i = 0; i < k; i++) {
            if (fits[i]) {
                /* umbrad's cheap update between refits (engine/
                 * forecaster.c): the forecast error of each new sample,
                 * exponentially weighted (0.3), shifts the rest of the
                 * path; clamped at 0. */
                double *sm = shifted + 3 * GRID_STEPS * i;
                double *sl = sm + GRID_STEPS, *sh = sl + GRID_STEPS;

                if (off > 0 && isfinite(rank[i].s->y[t])) {
                    double e = rank[i].s->y[t] - fits[i]->mean[off - 1];

                    bias[i] = BIAS_WEIGHT * (e - bias[i]) + bias[i];
                }
                for (size_t j = 0; j < GRID_STEPS; j++) {
                    sm[j] = MAX(fits[i]->mean[off + j] + bias[i], 0);
                    sl[j] = MAX(fits[i]->lo95[off + j] + bias[i], 0);
                    sh[j] = MAX(fits[i]->hi95[off + j] + bias[i], 0);
                }
                paths[i].mean = sm;
                paths[i].lo95 = sl;
                paths[i].hi95 = sh;
            } else {
                paths[i].mean = paths[i].lo95 = paths[i].hi95 = unknown;
            }
        }
        t0 = seriesio_thread_cpu_seconds();
        if (!risk_contention_compute(paths, k, steps_s, GRID_STEPS, cap, o->rho,
                                     &rc_out, &err)) {
            fprintf(stderr, "umbra-risk-eval: contention: %s\n", err->message);
            rc = 1;
            goto out;
        }
        p15[t] = rc_out.p[RISK_HORIZON_15M];
        if (cal) {
            double pc[RISK_HORIZON_LAST];

            risk_contention_sum_mean(paths, k, GRID_STEPS, sum_mean);
            risk_contention_cal_observe(cal, (double) (t * STEP_S), demand[t],
                                        sum_mean, steps_s, GRID_STEPS);
            if (risk_contention_cal_prob(cal, (double) (t * STEP_S), demand[t],
                                         sum_mean, steps_s, GRID_STEPS, cap,
                                         pc)) {
                p15[t] = pc[RISK_HORIZON_15M];
                calibrated++;
            }
        }
        cpu_risk += seriesio_thread_cpu_seconds() - t0;
    }
    episodes_score(p15, w0, end, episodes, o->threshold, RISK_ALERT_CLEAR_RATIO,
                   o->holdoff_s, &cs);
    /* The naive reference: the demand now as a share of the capacity. */
    naive = g_new0(double, end);
    for (size_t t = 0; t < end; t++) {
        naive[t] = demand[t] / cap;
    }
    {
        double fc_ms = nfits ? 1e3 * cpu_fc / (double) nfits : NAN;
        double risk_us = end > w0 ? 1e6 * cpu_risk / (double) (end - w0) : NAN;
        double share = (double) over / (double) (end - w0);

        if (o->json) {
            g_autoptr(json_object) root = json_object_new_object();
            json_object *ids = json_object_new_array();

            jadd(root, "mode", json_object_new_string("contention"));
            jadd(root, "dir", json_object_new_string(o->dir));
            jadd(root, "format", json_object_new_string(format_names[format]));
            for (size_t i = 0; i < k; i++) {
                json_object_array_add(ids,
                                      json_object_new_string(rank[i].s->id));
            }
            jadd(root, "vms", ids);
            jadd(root, "samples", json_object_new_int64((int64_t) (end - w0)));
            jadd(root, "days", jnum((double) (end - w0) / DAY_SAMPLES));
            jadd(root, "capacity", jnum(cap));
            jadd(root, "capacity_quantile", jnum(o->capacity_quantile));
            jadd(root, "overload_share", jnum(share));
            jadd(root, "episodes",
                 json_object_new_int64((int64_t) cs.episodes));
            jadd(root, "single_sample_overloads",
                 json_object_new_int64((int64_t) singles));
            jadd(root, "predicted",
                 json_object_new_int64((int64_t) cs.predicted));
            jadd(root, "alerts", json_object_new_int64((int64_t) cs.alerts));
            jadd(root, "alerts_right",
                 json_object_new_int64((int64_t) cs.right));
            jadd(root, "alerts_late", json_object_new_int64((int64_t) cs.late));
            jadd(root, "episodes_standing",
                 json_object_new_int64((int64_t) cs.standing));
            jadd(root, "recall", jnum(cs.recall));
            jadd(root, "precision", jnum(cs.precision));
            jadd(root, "median_lead_minutes", jnum(cs.lead_min));
            jadd(root, "threshold", jnum(o->threshold));
            jadd(root, "rho", jnum(o->rho));
            jadd(root, "calibration_window",
                 json_object_new_int(o->cal_window));
            jadd(root, "calibrated_share",
                 jnum(ratio((double) calibrated, (double) (end - w0))));
            jadd(root, "model",
                 json_object_new_string(fc_model_to_string(model)));
            jadd(root, "refit", json_object_new_int(o->refit));
            jadd(root, "forecasts", json_object_new_int64((int64_t) nfits));
            jadd(root, "forecasts_failed",
                 json_object_new_int64((int64_t) fc_failed));
            jadd(root, "forecast_ms", jnum(fc_ms));
            jadd(root, "contention_us_per_sample", jnum(risk_us));
            if (o->sweep) {
                json_object *sw = json_object_new_array();

                for (int q = 1; q < 20; q++) {
                    EpisodesScore w;
                    json_object *e = json_object_new_object();

                    episodes_score(p15, w0, end, episodes, q / 20.0,
                                   RISK_ALERT_CLEAR_RATIO, o->holdoff_s, &w);
                    jadd(e, "threshold", jnum(q / 20.0));
                    jadd(e, "alerts",
                         json_object_new_int64((int64_t) w.alerts));
                    jadd(e, "recall", jnum(w.recall));
                    jadd(e, "precision", jnum(w.precision));
                    jadd(e, "median_lead_minutes", jnum(w.lead_min));
                    json_object_array_add(sw, e);
                }
                jadd(root, "sweep", sw);
            }
            jadd(root, "naive_sweep",
                 naive_sweep_json(naive, w0, end, episodes, o->holdoff_s));
            print_json(root);
        } else {
            char b[4][32];

            printf("contention replay of %s (%s): %zu VMs packed (", o->dir,
                   format_names[format], k);
            for (size_t i = 0; i < k; i++) {
                printf("%s%s", i ? " " : "", rank[i].s->id);
            }
            printf("), %.1f days evaluated after %.1f days of history\n",
                   (double) (end - w0) / DAY_SAMPLES, o->history_days);
            printf("host capacity %.4g (the %.3g quantile of the summed "
                   "demand): overloaded %.1f %% of samples, %zu episodes "
                   "(>= 2 samples) scored, %zu single-sample overloads\n",
                   cap, o->capacity_quantile, 100 * share, cs.episodes,
                   singles);
            printf("forecast: %s every %d samples, %zu fits (%zu failed), "
                   "%.1f ms CPU each; contention %.2f us per sample\n",
                   fc_model_to_string(model), o->refit, nfits, fc_failed, fc_ms,
                   risk_us);
            if (o->cal_window > 0) {
                printf("P(15 min): empirical calibration (window %d) on %.0f "
                       "%% of samples, the normal model (rho %.2f) before\n",
                       o->cal_window,
                       100 * ratio((double) calibrated, (double) (end - w0)),
                       o->rho);
            } else {
                printf("P(15 min): the normal model alone (rho %.2f)\n",
                       o->rho);
            }
            printf("alerts at P(15 min) >= %.3g, rho %.2f: %zu alerts, %zu "
                   "followed by an episode within 1 h, precision %s (%zu "
                   "more raised during an episode); %zu of %zu episodes "
                   "predicted 5-60 min ahead, recall %s, median lead %s "
                   "min (%zu with P >= threshold 5 min before)\n",
                   o->threshold, o->rho, cs.alerts, cs.right,
                   fmt(b[0], 32, 2, cs.precision), cs.late, cs.predicted,
                   cs.episodes, fmt(b[1], 32, 2, cs.recall),
                   fmt(b[2], 32, 0, cs.lead_min), cs.standing);
            if (o->sweep) {
                printf("%9s %7s %7s %9s %8s %6s\n", "threshold", "alerts",
                       "right", "precision", "recall", "lead");
                for (int q = 1; q < 20; q++) {
                    EpisodesScore w;

                    episodes_score(p15, w0, end, episodes, q / 20.0,
                                   RISK_ALERT_CLEAR_RATIO, o->holdoff_s, &w);
                    printf("%9.2f %7zu %7zu %9s %8s %6s\n", q / 20.0, w.alerts,
                           w.right, fmt(b[0], 32, 2, w.precision),
                           fmt(b[1], 32, 2, w.recall),
                           fmt(b[2], 32, 0, w.lead_min));
                }
            }
            naive_print(naive, w0, end, episodes, o->holdoff_s);
        }
    }
out:
    for (size_t i = 0; fits && i < k; i++) {
        fc_result_free(fits[i]);
    }
    g_free(fits);
    return rc;
}

static void
options_clear(Options *o)
{
    g_free(o->dir);
    g_free(o->file);
    g_free(o->holdoff);
    g_free(o->format);
    g_free(o->column);
    g_free(o->model);
}

int
main(int argc, char **argv)
{
    Options o = {
        .threshold = RISK_EVAL_THRESHOLD,
        .holdoff_s = -1,
        .vms = 6,
        .capacity_quantile = 0.97,
        .history_days = 15,
        .refit = 12,
        .rho = 0.3,
        .cal_window = CAL_WINDOW,
    };
    GOptionEntry entries[] = {
        {"dir", 'd', 0, G_OPTION_ARG_FILENAME, &o.dir,
         "The data directory (required): NAB's layout (data/, labels/), or "
         "per-VM traces with --contention",
         "DIR"},
        {"file", 0, 0, G_OPTION_ARG_STRING, &o.file,
         "NAB: only this file (path under data/, or base name); contention: "
         "the Azure CSV",
         "NAME"},
        {"threshold", 't', 0, G_OPTION_ARG_DOUBLE, &o.threshold,
         "Alert threshold on the probability (default 0.5, the product's)",
         "P"},
        {"holdoff", 0, 0, G_OPTION_ARG_STRING, &o.holdoff,
         "Least time between two alerts: 2h, 30m, 90s or seconds (default "
         "0: umbrad's rule alone)",
         "DURATION"},
        {"sweep", 0, 0, G_OPTION_ARG_NONE, &o.sweep,
         "NAB: also report the best threshold over a grid", NULL},
        {"json", 'j', 0, G_OPTION_ARG_NONE, &o.json, "Print one JSON object",
         NULL},
        {"contention", 0, 0, G_OPTION_ARG_NONE, &o.contention,
         "Replay VMs packed on one simulated host instead of NAB", NULL},
        {"format", 'f', 0, G_OPTION_ARG_STRING, &o.format,
         "Contention: bitbrains, azure or auto", "FMT"},
        {"column", 0, 0, G_OPTION_ARG_STRING, &o.column,
         "Contention, Bitbrains: the column (default \"CPU usage [MHZ]\")",
         "HEADER"},
        {"vms", 0, 0, G_OPTION_ARG_INT, &o.vms,
         "Contention: VMs on the host, the busiest (default 6)", "K"},
        {"capacity-quantile", 0, 0, G_OPTION_ARG_DOUBLE, &o.capacity_quantile,
         "Contention: capacity = this quantile of the summed demand "
         "(default 0.97)",
         "Q"},
        {"days", 0, 0, G_OPTION_ARG_DOUBLE, &o.days,
         "Contention: evaluate at most this many days (default: all)", "D"},
        {"history-days", 0, 0, G_OPTION_ARG_DOUBLE, &o.history_days,
         "Contention: days of history per forecast and warm-up (default 15)",
         "D"},
        {"refit", 0, 0, G_OPTION_ARG_INT, &o.refit,
         "Contention: samples between forecasts (default 12)", "N"},
        {"rho", 0, 0, G_OPTION_ARG_DOUBLE, &o.rho,
         "Contention: correlation of the VMs' forecast errors (default 0.3)",
         "RHO"},
        {"calibration-window", 0, 0, G_OPTION_ARG_INT, &o.cal_window,
         "Contention: origins (5 min each) of the empirical calibration "
         "(default 2016, a week; 0: the normal model alone)",
         "N"},
        {"model", 'm', 0, G_OPTION_ARG_STRING, &o.model,
         "Contention: forecasting model (default: the engine's default)",
         "MODEL"},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "- replay labelled series through umbra's risk engine");
    g_autoptr(GError) err = NULL;
    int rc;

    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_summary(
        ctx, "NAB: per file the NAB score (standard profile), lead time, "
             "precision, recall and\nfalse alarms per day of umbra's "
             "failure alerts.  --contention: overload episodes\npredicted "
             "on a simulated host packed with per-VM CPU traces.");
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "umbra-risk-eval: %s\n", err->message);
        options_clear(&o);
        return 2;
    }
    if (argc > 1) {
        fprintf(stderr, "umbra-risk-eval: unexpected argument \"%s\"\n",
                argv[1]);
        options_clear(&o);
        return 2;
    }
    if (!o.dir) {
        fprintf(stderr, "umbra-risk-eval: --dir is required (try --help)\n");
        options_clear(&o);
        return 2;
    }
    if (!g_file_test(o.dir, G_FILE_TEST_IS_DIR)) {
        fprintf(stderr, "umbra-risk-eval: %s: no such directory\n", o.dir);
        options_clear(&o);
        return 2;
    }
    if (!(o.threshold > 0) || !(o.threshold <= 1)) {
        fprintf(stderr, "umbra-risk-eval: --threshold takes a probability "
                        "in (0, 1]\n");
        options_clear(&o);
        return 2;
    }
    if (o.holdoff && !parse_duration(o.holdoff, &o.holdoff_s)) {
        fprintf(stderr,
                "umbra-risk-eval: --holdoff \"%s\": want e.g. 2h, 30m, 90s "
                "or seconds\n",
                o.holdoff);
        options_clear(&o);
        return 2;
    }
    rc = o.contention ? run_contention(&o) : run_nab(&o);
    options_clear(&o);
    return rc;
}
