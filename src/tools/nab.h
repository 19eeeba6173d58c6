/*
 * tools/nab.h: the Numenta Anomaly Benchmark (NAB) files and its scoring
 * rule, for umbra-risk-eval (tools/risk-eval.c).
 *
 * NAB (Lavin & Ahmad, "Evaluating Real-time Anomaly Detection
 * Algorithms - the Numenta Anomaly Benchmark", ICMLA 2015; repository
 * numenta/NAB) ships real series as "timestamp,value" CSV files, the
 * labelled anomaly windows of each file (labels/combined_windows.json:
 * file -> [[start, end], ...]) and the labelled anomaly instants they were
 * centred on (labels/combined_labels.json: file -> [timestamp, ...]).
 *
 * A detector is scored on one file from its detection vector (one score
 * per row; a row whose score is >= the threshold is a detection) the way
 * NAB v1.x's sweeper does it:
 *
 *   - the first min(floor(0.15 n), 0.15 * 5000) rows are probationary:
 *     detections there are ignored, and so is a window that lies wholly
 *     inside them;
 *   - a row inside a window of w rows ending at row r is worth
 *     tpWeight * S(-(r - i + 1) / w) / S(-1), so the first row of the
 *     window is worth exactly tpWeight and the worth falls towards 0 at
 *     the end, where S(x) = 2 / (1 + exp(5x)) - 1 (the scaled sigmoid,
 *     -1 for x >= 3);
 *   - a row outside every window is worth fpWeight * S(|r' - i| / (w' -
 *     1)) after a window (r', w' of the last window that ended), or
 *     -fpWeight before the first: a false positive right after a window
 *     costs little, one far from any window a full fpWeight;
 *   - each window adds the best worth among its detections, or -fnWeight
 *     if it has none; every detection outside windows adds its worth.
 *
 * The standard profile is tpWeight 1, fpWeight 0.11, fnWeight 1.  A
 * detector that never fires scores -fnWeight per window, one that fires
 * once at the first row of each window +tpWeight per window; NAB's
 * normalised score over a set of files is 100 (S - S_null) / (S_perfect -
 * S_null), S being the sum of raw scores.
 *
 * Parsers take a buffer and a display name (../shared/STYLE.md section
 * 10); errors say "<name>:<line>: <what is wrong>".  Timestamps have no
 * zone in NAB and are read as UTC, "YYYY-MM-DD HH:MM:SS[.ffffff]" (the
 * fraction must be zero: NAB's are).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NAB_ERROR (nab_error_quark())
GQuark nab_error_quark(void);

typedef enum {
    NAB_ERROR_PARSE,   /* a malformed line or JSON value (message names it) */
    NAB_ERROR_EMPTY,   /* no data where some was required */
    NAB_ERROR_LIMIT,   /* a size beyond NAB_MAX_ROWS */
    NAB_ERROR_INVALID, /* labels that do not fit the data */
    NAB_ERROR_LAST
} NabErrorCode;

/* The most rows one file may hold; larger inputs are refused. */
#define NAB_MAX_ROWS ((size_t) 10000000)

/* One data file. */
typedef struct {
    int64_t *t;       /* timestamps, Unix seconds (read as UTC), in file
                       * order: mostly increasing, see backwards */
    double *y;        /* values; NaN = missing (an empty field or "nan") */
    size_t n;         /* rows */
    size_t backwards; /* rows stamped at or before the previous row (NAB's
                       * files repeat or step back an hour at clock
                       * changes) */
} NabSeries;

void nab_series_free(NabSeries *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NabSeries, nab_series_free)

/*
 * nab_parse_time:
 * @str: "YYYY-MM-DD HH:MM:SS" with an optional all-zero ".ffffff"
 * @len: its length (trailing blanks are allowed)
 * @ret_s: (out) Unix seconds, as if UTC
 *
 * Returns: false (@ret_s untouched) if @str is not such a time.
 */
bool nab_parse_time(const char *str, size_t len, int64_t *ret_s);

/*
 * nab_parse_series:
 * @buf, @len: a NAB data file: the header "timestamp,value", then one
 *   "timestamp,value" row per line (CRLF and blank lines allowed)
 * @name: the file's name, for error messages
 *
 * Timestamps are taken in file order even where they repeat or step
 * back (counted in backwards): NAB scores rows, not times.
 *
 * Returns: (transfer full) the series, or NULL with NAB_ERROR_PARSE (the
 * line named), NAB_ERROR_EMPTY (no rows) or NAB_ERROR_LIMIT.
 */
NabSeries *nab_parse_series(const char *buf, size_t len, const char *name,
                            GError **error);

/* A labelled window, inclusive at both ends. */
typedef struct {
    int64_t start_s; /* Unix seconds */
    int64_t end_s;
} NabWindow;

/* The labels of one data file. */
typedef struct {
    char *file;         /* relative path, e.g. "realKnownCause/nyc_taxi.csv" */
    NabWindow *windows; /* in time order, not overlapping */
    size_t nwindows;
    int64_t *anomalies; /* labelled anomaly instants, in time order */
    size_t nanomalies;
} NabFileLabels;

void nab_file_labels_free(NabFileLabels *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NabFileLabels, nab_file_labels_free)

/*
 * nab_labels_new:
 *
 * Returns: (transfer full) (element-type utf8 NabFileLabels) an empty table
 * from relative file path to its labels, freed with g_hash_table_unref().
 */
GHashTable *nab_labels_new(void);

/*
 * nab_labels_parse_windows:
 * @labels: the table; entries are created or their windows replaced
 * @buf, @len, @name: combined_windows.json and its name for messages
 *
 * Returns: true; false with NAB_ERROR_PARSE naming the line (bad JSON, a
 * window that is not a pair of times, end before start, overlapping
 * windows), @labels then unchanged.
 */
bool nab_labels_parse_windows(GHashTable *labels, const char *buf, size_t len,
                              const char *name, GError **error);

/*
 * nab_labels_parse_anomalies:
 * As nab_labels_parse_windows() for combined_labels.json (file -> list of
 * times); fills the anomalies of each entry.
 */
bool nab_labels_parse_anomalies(GHashTable *labels, const char *buf, size_t len,
                                const char *name, GError **error);

/* A scoring profile (NAB's config/profiles.json). */
typedef struct {
    double tp_weight;         /* reward of a detection at a window's start */
    double fp_weight;         /* cost of a detection far from any window */
    double fn_weight;         /* cost of a missed window */
    double probation_percent; /* share of rows ignored at the start (0.15) */
} NabProfile;

/* Returns: NAB's standard profile (1, 0.11, 1; probation 15 %). */
NabProfile nab_profile_standard(void);

/* Returns: the scaled sigmoid S(x) = 2 / (1 + exp(5x)) - 1, -1 for x >= 3. */
double nab_scaled_sigmoid(double x);

/* Returns: the number of probationary rows of an @n-row file:
 * min(floor(@percent n), @percent 5000). */
size_t nab_probation_length(size_t n, double percent);

/* A window as rows of one file, inclusive. */
typedef struct {
    size_t first, last;
} NabSpan;

/*
 * nab_windows_locate:
 * @t, @n: the file's timestamps
 * @w, @nw: its windows
 * @ret: (out) @nw spans, in row order, as NAB finds them: from the first
 *   row stamped with the start (else the first at or after it) to the
 *   first row stamped with the end (else the last of the rows that
 *   follow at or before it)
 *
 * Returns: false with NAB_ERROR_INVALID naming the window when a window
 * holds no row (@ret then partly written).
 */
bool nab_windows_locate(const int64_t *t, size_t n, const NabWindow *w,
                        size_t nw, NabSpan *ret, GError **error);

/* What one detection vector scored on one file. */
typedef struct {
    double score;     /* the raw NAB score */
    double tp_score;  /* its part from windows (detected or missed) */
    double fp_score;  /* its part from detections outside windows (<= 0) */
    size_t windows;   /* windows scored (not wholly probationary) */
    size_t detected;  /* of which with a detection */
    size_t tp, fp;    /* detection rows inside / outside windows */
    size_t tn, fn;    /* non-detection rows outside / inside windows */
    size_t probation; /* rows ignored */
} NabScore;

/*
 * nab_score:
 * @p: the profile
 * @n: rows
 * @spans, @nspans: the windows as rows, in order, not overlapping, each
 *   inside [0, n)
 * @scores: @n detector scores (NaN is never a detection)
 * @threshold: rows with score >= @threshold are detections
 * @ret_first: (nullable) (out) @nspans rows: the first detection in each
 *   window, or (size_t) -1
 * @ret: (out) the score
 *
 * Returns: false with NAB_ERROR_INVALID on spans out of order or range
 * (@ret untouched).
 */
bool nab_score(const NabProfile *p, size_t n, const NabSpan *spans,
               size_t nspans, const double *scores, double threshold,
               size_t *ret_first, NabScore *ret, GError **error);

/*
 * nab_normalised:
 * @raw: a detector's summed raw score over some files
 * @windows: the windows those files hold (scored ones)
 * @p: the profile (S_null = -fnWeight x windows, S_perfect = tpWeight x
 *   windows)
 *
 * Returns: 100 (raw - S_null) / (S_perfect - S_null); NaN with no window.
 */
double nab_normalised(const NabProfile *p, double raw, size_t windows);

/* A row of a published results file. */
typedef struct {
    char *detector;   /* "numenta", "ARTime", "null" */
    char *profile;    /* "standard" */
    double threshold; /* the detector's optimised threshold */
    double score;     /* raw score of the file */
    size_t tp, tn, fp, fn, total;
} NabPublished;

void nab_published_free(NabPublished *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NabPublished, nab_published_free)

/*
 * nab_parse_published:
 * @buf, @len, @name: a results/<detector>/<detector>_<profile>_scores.csv
 *   file: "Detector,Profile,File,Threshold,Score,TP,TN,FP,FN,Total_Count"
 *
 * Returns: (transfer full) (element-type utf8 NabPublished) relative file
 * path -> row (a "Totals" row, if any, is skipped), or NULL with
 * NAB_ERROR_PARSE naming the line.
 */
GHashTable *nab_parse_published(const char *buf, size_t len, const char *name,
                                GError **error);
