/*
 * tools/seriesio.c: the evaluation data readers (see seriesio.h).
 *
 * The files are at most a few megabytes, so each is read whole and
 * walked line by line.  A line is copied into a scratch buffer and split
 * there in place: separators become NULs, quoted fields are unquoted, and
 * an array of pointers to the fields is built (no allocation per field).
 * RFC 4180 quoting is understood within a line; a quoted field may not
 * span lines (none of the supported layouts needs that).
 *
 * Bitbrains timestamps jitter around the 300 s step, so a row's grid
 * slot is derived from the step since the previous row rather than from
 * the first timestamp: over a month the jitter adds up to minutes, and a
 * fixed origin would make slots collide or skip.
 */
#include "tools/seriesio.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

/* clang-format off */
G_DEFINE_QUARK(umbra-seriesio-error-quark, seriesio_error)
/* clang-format on */

EvalSeries *
eval_series_new(const char *id, size_t n)
{
    EvalSeries *s = g_new0(EvalSeries, 1);

    s->id = g_strdup(id);
    s->n = n;
    s->y = g_new(double, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        s->y[i] = NAN;
    }
    return s;
}

void
eval_series_free(EvalSeries *s)
{
    if (!s) {
        return;
    }
    g_free(s->id);
    g_free(s->y);
    g_free(s);
}

static void
eval_series_free_void(gpointer p)
{
    eval_series_free(p);
}

/* A cursor over the lines of a buffer. */
typedef struct {
    const char *buf;   /* the whole input */
    size_t len;        /* its length */
    size_t pos;        /* start of the next line */
    size_t lineno;     /* number of the line last returned, from 1 */
    GString *scratch;  /* the current line, split in place */
    GPtrArray *fields; /* pointers into scratch, one per field */
} LineReader;

static void
reader_init(LineReader *r, const char *buf, size_t len)
{
    r->buf = buf;
    r->len = buf ? len : 0;
    r->pos = 0;
    r->lineno = 0;
    r->scratch = g_string_new(NULL);
    r->fields = g_ptr_array_new();
}

static void
reader_clear(LineReader *r)
{
    g_string_free(r->scratch, TRUE);
    g_ptr_array_free(r->fields, TRUE);
}

/* Copies the next line (without its end of line) into r->scratch.
 * Returns: false at the end of the input. */
static bool
reader_next(LineReader *r)
{
    size_t start = r->pos, end;

    if (r->pos >= r->len) {
        return false;
    }
    end = start;
    while (end < r->len && r->buf[end] != '\n') {
        end++;
    }
    r->pos = end < r->len ? end + 1 : end;
    if (end > start && r->buf[end - 1] == '\r') {
        end--;
    }
    r->lineno++;
    g_string_truncate(r->scratch, 0);
    g_string_append_len(r->scratch, r->buf + start, (gssize) (end - start));
    return true;
}

/* Returns: true if the current line holds only blanks. */
static bool
reader_blank(const LineReader *r)
{
    for (size_t i = 0; i < r->scratch->len; i++) {
        if (!g_ascii_isspace(r->scratch->str[i])) {
            return false;
        }
    }
    return true;
}

static char *
strip_blanks(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t') {
        s++;
    }
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) {
        *--e = '\0';
    }
    return s;
}

/*
 * Splits the current line at @sep into r->fields, unquoting quoted
 * fields and stripping blanks around each field.  A NUL inside the line
 * is refused: the fields are C strings.
 *
 * Returns: false with @error set on an unterminated quote or stray text
 * after a closing quote.
 */
static bool
reader_split(LineReader *r, char sep, const char *name, GError **error)
{
    char *p = r->scratch->str;
    char *end = p + r->scratch->len;

    g_ptr_array_set_size(r->fields, 0);
    if (memchr(p, '\0', r->scratch->len)) {
        g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                    "%s:%zu: NUL byte in line", name, r->lineno);
        return false;
    }
    for (;;) {
        char *f = p;

        while (p < end && (*p == ' ' || *p == '\t') && *p != sep) {
            p++;
        }
        if (p < end && *p == '"') {
            char *w = p;

            f = p;
            p++;
            for (;;) {
                if (p >= end) {
                    g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                                "%s:%zu: field %u: unterminated quote", name,
                                r->lineno, r->fields->len + 1);
                    return false;
                }
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            *w = '\0';
            while (p < end && (*p == ' ' || *p == '\t') && *p != sep) {
                p++;
            }
            if (p < end && *p != sep) {
                g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                            "%s:%zu: field %u: text after a closing quote",
                            name, r->lineno, r->fields->len + 1);
                return false;
            }
            g_ptr_array_add(r->fields, f);
        } else {
            while (p < end && *p != sep) {
                p++;
            }
            g_ptr_array_add(r->fields, f);
        }
        if (p >= end) {
            *p = '\0';
            break;
        }
        *p++ = '\0';
    }
    for (guint i = 0; i < r->fields->len; i++) {
        r->fields->pdata[i] = strip_blanks(r->fields->pdata[i]);
    }
    return true;
}

/*
 * Parses one value field: empty, "NA" or "NaN" is missing (NaN);
 * anything else must be a whole finite decimal number.
 *
 * Returns: false with @error set if the field is not a number.
 */
static bool
parse_value(const char *f, const char *name, size_t lineno, guint field,
            double *ret, GError **error)
{
    char *e = NULL;
    double v;

    if (f[0] == '\0' || g_ascii_strcasecmp(f, "NA") == 0 ||
        g_ascii_strcasecmp(f, "NaN") == 0) {
        *ret = NAN;
        return true;
    }
    errno = 0;
    v = g_ascii_strtod(f, &e);
    if (e == f || *e != '\0' || !isfinite(v)) {
        g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                    "%s:%zu: field %u is not a finite number: \"%.40s\"", name,
                    lineno, field, f);
        return false;
    }
    *ret = v;
    return true;
}

GPtrArray *
seriesio_parse_m4(const char *buf, size_t len, const char *name, GError **error)
{
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func(eval_series_free_void);
    g_autoptr(GHashTable) seen =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    LineReader r;
    bool header = true;
    bool ok = true;

    reader_init(&r, buf, len);
    while (ok && reader_next(&r)) {
        EvalSeries *s;
        guint nf;
        const char *id;

        if (reader_blank(&r)) {
            continue;
        }
        if (!reader_split(&r, ',', name, error)) {
            ok = false;
            break;
        }
        if (header) {
            header = false;
            continue;
        }
        id = r.fields->pdata[0];
        if (id[0] == '\0') {
            g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                        "%s:%zu: empty series id", name, r.lineno);
            ok = false;
            break;
        }
        if (g_hash_table_contains(seen, id)) {
            g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                        "%s:%zu: duplicate series id \"%.40s\"", name, r.lineno,
                        id);
            ok = false;
            break;
        }
        g_hash_table_add(seen, g_strdup(id));
        /* Trailing empty fields are padding. */
        nf = r.fields->len;
        while (nf > 1 && ((const char *) r.fields->pdata[nf - 1])[0] == '\0') {
            nf--;
        }
        s = eval_series_new(id, nf - 1);
        g_ptr_array_add(out, s);
        for (guint i = 1; i < nf; i++) {
            if (!parse_value(r.fields->pdata[i], name, r.lineno, i + 1,
                             &s->y[i - 1], error)) {
                ok = false;
                break;
            }
        }
    }
    reader_clear(&r);
    if (!ok) {
        return NULL;
    }
    return g_steal_pointer(&out);
}

/* Returns: the index of the header field @want, or -1. */
static int
find_column(GPtrArray *fields, const char *want)
{
    for (guint i = 0; i < fields->len; i++) {
        if (strcmp(fields->pdata[i], want) == 0) {
            return (int) i;
        }
    }
    return -1;
}

/* Returns: (transfer full) the base name of @name without its extension. */
static char *
id_from_name(const char *name)
{
    g_autofree char *base = g_path_get_basename(name);
    char *dot = strrchr(base, '.');

    if (dot && dot != base) {
        *dot = '\0';
    }
    return g_steal_pointer(&base);
}

EvalSeries *
seriesio_parse_bitbrains(const char *buf, size_t len, const char *name,
                         const char *column, int step_s, GError **error)
{
    g_autoptr(GArray) vals = g_array_new(FALSE, FALSE, sizeof(double));
    g_autofree char *id = id_from_name(name);
    LineReader r;
    int c_time = -1, c_cores = -1, c_val = -1;
    guint ncols = 0;
    bool header = true, ok = true, have_prev = false;
    double prev_t = 0;
    EvalSeries *s;

    if (step_s <= 0) {
        g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                    "%s: sampling step %d s is not positive", name, step_s);
        return NULL;
    }
    reader_init(&r, buf, len);
    while (ok && reader_next(&r)) {
        double t, cores, v;

        if (reader_blank(&r)) {
            continue;
        }
        if (!reader_split(&r, ';', name, error)) {
            ok = false;
            break;
        }
        if (header) {
            header = false;
            ncols = r.fields->len;
            c_time = find_column(r.fields, "Timestamp [ms]");
            c_cores = find_column(r.fields, "CPU cores");
            c_val = find_column(r.fields, column);
            if (c_time < 0 || c_cores < 0 || c_val < 0) {
                g_set_error(
                    error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                    "%s:%zu: header lacks \"%s\" (with \"Timestamp "
                    "[ms]\" and \"CPU cores\"): not a Bitbrains file",
                    name, r.lineno,
                    c_val < 0 ? column
                              : (c_time < 0 ? "Timestamp [ms]" : "CPU cores"));
                ok = false;
            }
            continue;
        }
        if (r.fields->len != ncols) {
            g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                        "%s:%zu: %u fields, the header has %u", name, r.lineno,
                        r.fields->len, ncols);
            ok = false;
            break;
        }
        if (!parse_value(r.fields->pdata[c_time], name, r.lineno,
                         (guint) c_time + 1, &t, error) ||
            !parse_value(r.fields->pdata[c_cores], name, r.lineno,
                         (guint) c_cores + 1, &cores, error) ||
            !parse_value(r.fields->pdata[c_val], name, r.lineno,
                         (guint) c_val + 1, &v, error)) {
            ok = false;
            break;
        }
        if (isnan(t)) {
            g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                        "%s:%zu: missing timestamp", name, r.lineno);
            ok = false;
            break;
        }
        if (cores == 0) {
            /* No data for this interval (the VM was not there). */
            v = NAN;
        }
        if (have_prev) {
            double steps = round((t - prev_t) / step_s);

            if (t <= prev_t) {
                g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                            "%s:%zu: timestamp %.0f does not follow %.0f", name,
                            r.lineno, t, prev_t);
                ok = false;
                break;
            }
            if (steps < 1) {
                steps = 1;
            }
            if ((double) vals->len + steps > (double) SERIESIO_MAX_POINTS) {
                g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_LIMIT,
                            "%s:%zu: gap of %.0f s makes the series longer "
                            "than %zu samples",
                            name, r.lineno, t - prev_t, SERIESIO_MAX_POINTS);
                ok = false;
                break;
            }
            for (double k = 1; k < steps; k++) {
                double nan = NAN;

                g_array_append_val(vals, nan);
            }
        }
        g_array_append_val(vals, v);
        prev_t = t;
        have_prev = true;
    }
    reader_clear(&r);
    if (!ok) {
        return NULL;
    }
    if (header) {
        g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_EMPTY,
                    "%s: empty file", name);
        return NULL;
    }
    s = eval_series_new(id, 0);
    g_free(s->y);
    s->n = vals->len;
    s->y = (double *) (void *) g_array_free(g_steal_pointer(&vals), FALSE);
    return s;
}

GPtrArray *
seriesio_parse_wide(const char *buf, size_t len, const char *name,
                    GError **error)
{
    g_autoptr(GPtrArray) cols = g_ptr_array_new(); /* GArray of double */
    g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *out = NULL;
    LineReader r;
    bool header = true, ok = true, have_prev = false;
    double prev_step = 0;

    reader_init(&r, buf, len);
    while (ok && reader_next(&r)) {
        double step;

        if (reader_blank(&r)) {
            continue;
        }
        if (!reader_split(&r, ',', name, error)) {
            ok = false;
            break;
        }
        if (header) {
            header = false;
            if (r.fields->len < 2) {
                g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                            "%s:%zu: header has no series column", name,
                            r.lineno);
                ok = false;
                break;
            }
            for (guint i = 1; i < r.fields->len; i++) {
                g_ptr_array_add(ids, g_strdup(r.fields->pdata[i]));
                g_ptr_array_add(cols,
                                g_array_new(FALSE, FALSE, sizeof(double)));
            }
            continue;
        }
        if (r.fields->len != ids->len + 1) {
            g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                        "%s:%zu: %u fields, the header has %u", name, r.lineno,
                        r.fields->len, ids->len + 1);
            ok = false;
            break;
        }
        if (!parse_value(r.fields->pdata[0], name, r.lineno, 1, &step, error)) {
            ok = false;
            break;
        }
        if (isnan(step) || step != floor(step) ||
            (have_prev && step <= prev_step) ||
            (have_prev && step - prev_step > (double) SERIESIO_MAX_POINTS)) {
            g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_PARSE,
                        "%s:%zu: step \"%.40s\" is not an integer above the "
                        "previous step %.0f",
                        name, r.lineno, (const char *) r.fields->pdata[0],
                        prev_step);
            ok = false;
            break;
        }
        for (guint i = 0; i < ids->len; i++) {
            GArray *a = cols->pdata[i];
            double v;

            if (!parse_value(r.fields->pdata[i + 1], name, r.lineno, i + 2, &v,
                             error)) {
                ok = false;
                break;
            }
            for (double k = prev_step + 1; have_prev && k < step; k++) {
                double nan = NAN;

                g_array_append_val(a, nan);
            }
            if (a->len >= SERIESIO_MAX_POINTS) {
                g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_LIMIT,
                            "%s:%zu: more than %zu samples", name, r.lineno,
                            SERIESIO_MAX_POINTS);
                ok = false;
                break;
            }
            g_array_append_val(a, v);
        }
        prev_step = step;
        have_prev = true;
    }
    reader_clear(&r);
    if (ok && header) {
        g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_EMPTY,
                    "%s: empty file", name);
        ok = false;
    }
    if (ok) {
        out = g_ptr_array_new_with_free_func(eval_series_free_void);
        for (guint i = 0; i < ids->len; i++) {
            EvalSeries *s = eval_series_new(ids->pdata[i], 0);
            GArray *a = cols->pdata[i];

            g_free(s->y);
            s->n = a->len;
            s->y = (double *) (void *) g_array_free(a, FALSE);
            cols->pdata[i] = NULL;
            g_ptr_array_add(out, s);
        }
    }
    for (guint i = 0; i < cols->len; i++) {
        if (cols->pdata[i]) {
            g_array_free(cols->pdata[i], TRUE);
        }
    }
    return out;
}

void
seriesio_aggregate(EvalSeries *s, size_t k)
{
    size_t nb, skip;

    if (k <= 1) {
        return;
    }
    nb = s->n / k;
    skip = s->n - nb * k;
    for (size_t b = 0; b < nb; b++) {
        double sum = 0;
        size_t cnt = 0;

        for (size_t i = 0; i < k; i++) {
            double v = s->y[skip + b * k + i];

            if (!isnan(v)) {
                sum += v;
                cnt++;
            }
        }
        s->y[b] = cnt ? sum / (double) cnt : NAN;
    }
    s->n = nb;
}

size_t
seriesio_trim_leading(EvalSeries *s)
{
    size_t k = 0;

    while (k < s->n && isnan(s->y[k])) {
        k++;
    }
    if (k > 0) {
        memmove(s->y, s->y + k, (s->n - k) * sizeof(double));
        s->n -= k;
    }
    return k;
}

bool
seriesio_write_m4(FILE *f, GPtrArray *series, bool values_only, GError **error)
{
    size_t width = 0;

    for (guint i = 0; i < series->len; i++) {
        const EvalSeries *s = series->pdata[i];

        width = MAX(width, s->n);
    }
    if (values_only) {
        fputs("id", f);
        for (size_t j = 1; j <= width; j++) {
            fprintf(f, ",F%zu", j);
        }
    } else {
        for (size_t j = 1; j <= width + 1; j++) {
            fprintf(f, "%s\"V%zu\"", j > 1 ? "," : "", j);
        }
    }
    fputc('\n', f);
    for (guint i = 0; i < series->len; i++) {
        const EvalSeries *s = series->pdata[i];
        const char *q = values_only ? "" : "\"";

        fputc('"', f);
        for (const char *c = s->id; *c; c++) {
            if (*c == '"') {
                fputc('"', f);
            }
            fputc(*c, f);
        }
        fputc('"', f);
        for (size_t j = 0; j < width; j++) {
            if (j >= s->n) {
                fputc(',', f);
            } else if (isnan(s->y[j])) {
                fprintf(f, ",%sNA%s", q, q);
            } else {
                fprintf(f, ",%s%.15g%s", q, s->y[j], q);
            }
        }
        fputc('\n', f);
    }
    if (fflush(f) != 0 || ferror(f)) {
        int e = errno;

        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                    "write failed: %s", g_strerror(e));
        return false;
    }
    return true;
}

char *
seriesio_first_line(const char *path)
{
    FILE *f = fopen(path, "re");
    char buf[4096];
    char *ret = NULL;

    if (!f) {
        return NULL;
    }
    if (fgets(buf, sizeof(buf), f)) {
        ret = g_strdup(buf);
    }
    fclose(f);
    return ret;
}

static int
name_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

char *
seriesio_find_wide_csv(const char *dir, GError **error)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, error);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *file = NULL;
    const char *n;

    if (!d) {
        return NULL;
    }
    while ((n = g_dir_read_name(d))) {
        if (g_str_has_suffix(n, ".csv")) {
            g_ptr_array_add(names, g_strdup(n));
        }
    }
    g_ptr_array_sort(names, name_cmp);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *p = g_build_filename(dir, names->pdata[i], NULL);
        g_autofree char *line = seriesio_first_line(p);

        if (!line || !g_str_has_prefix(line, "step,")) {
            continue;
        }
        if (file) {
            g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_EMPTY,
                        "%s: several step,... CSV files (%s, %s); pass "
                        "--file NAME",
                        dir, file, (const char *) names->pdata[i]);
            return NULL;
        }
        file = g_strdup(names->pdata[i]);
    }
    if (!file) {
        g_set_error(error, SERIESIO_ERROR, SERIESIO_ERROR_EMPTY,
                    "%s: no step,... CSV file", dir);
    }
    return g_steal_pointer(&file);
}

double
seriesio_thread_cpu_seconds(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) {
        return 0;
    }
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}
