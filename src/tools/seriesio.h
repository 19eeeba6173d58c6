/*
 * tools/seriesio.h: readers (and one writer) for the time-series files
 * umbra's forecasting engine is evaluated on.
 *
 * Three layouts are understood, all plain text:
 *
 *   M4        one row per series: id, then the values; a header line
 *             first; fields may be "quoted"; shorter rows are padded with
 *             empty fields (Hourly-train.csv, Hourly-test.csv, and the
 *             organisers' submission-*.csv benchmark forecasts).
 *   Bitbrains one file per VM, fields separated by ';' and a TAB, a
 *             header naming the columns, a Unix-seconds timestamp every
 *             ~300 s (GWA-T-12 Rnd trace).
 *   wide      one column per series, one row per time step: a header
 *             "step,<id>,<id>,..." (the Azure 2017 VM CPU CSVs).
 *
 * Every parser takes a buffer, never a path (../shared/STYLE.md section
 * 10), and a display name used only in error messages, which always say
 * "<name>:<line>: <what is wrong>".  Missing samples become NaN.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SERIESIO_ERROR (seriesio_error_quark())
GQuark seriesio_error_quark(void);

typedef enum {
    SERIESIO_ERROR_PARSE, /* a malformed line (the message names it) */
    SERIESIO_ERROR_EMPTY, /* no data where some was required */
    SERIESIO_ERROR_LIMIT, /* a size beyond SERIESIO_MAX_POINTS */
    SERIESIO_ERROR_LAST
} SeriesioErrorCode;

/* The most samples one series may hold (a year at 5-minute steps is
 * about 105,000); larger inputs are refused, not allocated. */
#define SERIESIO_MAX_POINTS ((size_t) 10000000)

/* One named series. */
typedef struct {
    char *id;  /* series name: "H1", "vm_1126", "54" */
    double *y; /* values, oldest first; NaN = missing */
    size_t n;  /* how many */
} EvalSeries;

/* Returns: (transfer full) a series of @n NaN values named @id. */
EvalSeries *eval_series_new(const char *id, size_t n);
void eval_series_free(EvalSeries *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(EvalSeries, eval_series_free)

/*
 * seriesio_parse_m4:
 * @buf, @len: the file's contents
 * @name: the file's name, for error messages
 * @error: SERIESIO_ERROR_PARSE naming the line of a malformed row
 *
 * Reads the M4 layout: a header line, then "id,v1,v2,..." per series.
 * Any field may be double-quoted ("" inside quotes is a quote); lines
 * may end in CRLF; blank lines are skipped.  Empty fields at the end of a
 * row are padding and are dropped; an empty field before a value, "NA"
 * or "NaN" is a missing sample.  An id must be non-empty and unique.
 *
 * Returns: (transfer full) (element-type EvalSeries) the series in file
 * order (possibly none), or NULL with @error set.
 */
GPtrArray *seriesio_parse_m4(const char *buf, size_t len, const char *name,
                             GError **error);

/*
 * seriesio_parse_bitbrains:
 * @buf, @len: one VM's file
 * @name: the file's name, for error messages; the series id is its base
 *   name without the extension ("2013-8/54.csv" -> "54")
 * @column: the header of the column to read, e.g. "CPU usage [%]"
 * @step_s: the sampling step in seconds (300)
 * @error: SERIESIO_ERROR_PARSE naming the line of a malformed row
 *
 * Reads a GWA-T-12 (Bitbrains) file and puts the samples on a regular
 * grid.  The sampler's clock jitters (steps of 299, 300 and 301 s), so
 * each row's slot is the previous row's slot plus the rounded number of
 * steps since the previous row (at least one): a 600 s step leaves one
 * missing slot, a 301 s step none.  Timestamps must increase.  A row with
 * "CPU cores" = 0 means the VM had no data then: it is missing, not
 * idle.
 *
 * Returns: (transfer full) the series, or NULL with @error set.
 */
EvalSeries *seriesio_parse_bitbrains(const char *buf, size_t len,
                                     const char *name, const char *column,
                                     int step_s, GError **error);

/*
 * seriesio_parse_wide:
 * @buf, @len: the file's contents
 * @name: the file's name, for error messages
 * @error: SERIESIO_ERROR_PARSE naming the line of a malformed row
 *
 * Reads "step,<id>,<id>,..." with one row per time step.  Steps must be
 * increasing integers; skipped steps become missing samples, and so do
 * empty fields and "NA".
 *
 * Returns: (transfer full) (element-type EvalSeries) one series per
 * column after the first, or NULL with @error set.
 */
GPtrArray *seriesio_parse_wide(const char *buf, size_t len, const char *name,
                               GError **error);

/*
 * seriesio_aggregate:
 * @s: the series, changed in place
 * @k: samples per block, >= 1
 *
 * Replaces @s by the means of blocks of @k samples, aligned to the end of
 * the series so that the last block is whole (a leading partial block is
 * dropped).  Missing samples are left out of a block's mean; a block with
 * none present is missing.
 */
void seriesio_aggregate(EvalSeries *s, size_t k);

/*
 * seriesio_trim_leading:
 * @s: the series, changed in place
 *
 * Drops the missing samples before the first present one (a VM that did
 * not exist yet).
 *
 * Returns: how many were dropped.
 */
size_t seriesio_trim_leading(EvalSeries *s);

/*
 * seriesio_write_m4:
 * @f: where to write
 * @series: (element-type EvalSeries) what to write
 * @values_only: false for the training layout (header "V1","V2",...,
 *   every field quoted), true for the organisers' forecast layout
 *   (header id,F1,F2,..., values unquoted)
 *
 * Writes @series in the layout seriesio_parse_m4() reads: ids quoted
 * (inner quotes doubled), rows padded with empty fields to the longest,
 * missing samples as NA, values with 15 significant digits.
 *
 * Returns: true on success; false with @error set (G_FILE_ERROR) when
 * writing failed.
 */
bool seriesio_write_m4(FILE *f, GPtrArray *series, bool values_only,
                       GError **error);

/* Returns: (transfer full) the first line of @path (at most 4 KiB), or
 * NULL when it cannot be read. */
char *seriesio_first_line(const char *path);

/*
 * seriesio_find_wide_csv:
 * @dir: a directory
 *
 * Finds the one "step,..." CSV (the wide per-VM layout of
 * seriesio_parse_wide()) in @dir.
 * Returns: (transfer full) its file name, or NULL with @error set (none,
 * several: SERIESIO_ERROR_EMPTY; the directory: a GFileError).
 */
char *seriesio_find_wide_csv(const char *dir, GError **error);

/* Returns: CPU seconds this thread has used so far (for fit timings). */
double seriesio_thread_cpu_seconds(void);
