/*
 * tools/nab.c: NAB's files and scoring rule (nab.h).
 *
 * The scorer is written from NAB's documentation and the semantics of its
 * v1.x sweeper (nab/sweeper.py: per-row weights from the scaled sigmoid,
 * the best detection per window, false positives summed, probationary rows
 * dropped); it shares no code with NAB.  One pass over the rows: a row's
 * worth depends only on the window it is in, or on the last window that
 * ended before it, so no search is needed.  O(n + windows) per score.
 *
 * Readers: the data CSV is split by hand (two fields per line); the label
 * files are JSON read with json-c, and a value that does not make sense
 * is reported at the line where its text first appears after its file's
 * key, which is where an editor would look for it.
 */
#include "tools/nab.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/autoptr.h"

/* clang-format off */
G_DEFINE_QUARK(umbra-nab-error-quark, nab_error)
/* clang-format on */

void
nab_series_free(NabSeries *s)
{
    if (!s) {
        return;
    }
    g_free(s->t);
    g_free(s->y);
    g_free(s);
}

void
nab_file_labels_free(NabFileLabels *l)
{
    if (!l) {
        return;
    }
    g_free(l->file);
    g_free(l->windows);
    g_free(l->anomalies);
    g_free(l);
}

void
nab_published_free(NabPublished *r)
{
    if (!r) {
        return;
    }
    g_free(r->detector);
    g_free(r->profile);
    g_free(r);
}

/* Days from 1970-01-01 to the civil date y-m-d (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Reads exactly @k digits at @s. */
static bool
digits(const char *s, int k, int *ret)
{
    int v = 0;

    for (int i = 0; i < k; i++) {
        if (!g_ascii_isdigit(s[i])) {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    *ret = v;
    return true;
}

bool
nab_parse_time(const char *str, size_t len, int64_t *ret_s)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, s;
    bool leap;
    size_t i = 19;

    while (len > 0 && (str[len - 1] == ' ' || str[len - 1] == '\t')) {
        len--;
    }
    if (len < 19 || str[4] != '-' || str[7] != '-' ||
        (str[10] != ' ' && str[10] != 'T') || str[13] != ':' ||
        str[16] != ':' || !digits(str, 4, &y) || !digits(str + 5, 2, &mo) ||
        !digits(str + 8, 2, &d) || !digits(str + 11, 2, &h) ||
        !digits(str + 14, 2, &mi) || !digits(str + 17, 2, &s)) {
        return false;
    }
    if (len > 19) {
        /* An all-zero fraction, as NAB's labels have. */
        if (str[19] != '.' || len == 20) {
            return false;
        }
        for (i = 20; i < len; i++) {
            if (str[i] != '0') {
                return false;
            }
        }
    }
    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || s > 60) {
        return false;
    }
    *ret_s = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    return true;
}

/* Reads a value field: empty, "nan" or "NA" is missing. */
static bool
parse_value(const char *f, size_t len, double *ret)
{
    g_autofree char *s = NULL;
    char *end = NULL;
    double v;

    while (len > 0 && (*f == ' ' || *f == '\t')) {
        f++;
        len--;
    }
    while (len > 0 && (f[len - 1] == ' ' || f[len - 1] == '\t')) {
        len--;
    }
    s = g_strndup(f, len);
    if (len == 0 || g_ascii_strcasecmp(s, "nan") == 0 || strcmp(s, "NA") == 0) {
        *ret = NAN;
        return true;
    }
    errno = 0;
    v = g_ascii_strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v)) {
        return false;
    }
    *ret = v;
    return true;
}

NabSeries *
nab_parse_series(const char *buf, size_t len, const char *name, GError **error)
{
    g_autoptr(GArray) t = g_array_new(FALSE, FALSE, sizeof(int64_t));
    g_autoptr(GArray) y = g_array_new(FALSE, FALSE, sizeof(double));
    NabSeries *s;
    bool header = false;
    size_t pos = 0, line = 0, backwards = 0;

    while (pos < len) {
        const char *l = buf + pos;
        const char *nl = memchr(l, '\n', len - pos);
        size_t ll = nl ? (size_t) (nl - l) : len - pos;
        const char *comma;
        int64_t ts;
        double v;

        pos += ll + (nl ? 1 : 0);
        line++;
        if (ll > 0 && l[ll - 1] == '\r') {
            ll--;
        }
        if (ll == 0) {
            continue;
        }
        if (memchr(l, '\0', ll)) {
            g_set_error(error, NAB_ERROR, NAB_ERROR_PARSE,
                        "%s:%zu: a NUL byte in the line", name, line);
            return NULL;
        }
        comma = memchr(l, ',', ll);
        if (!header) {
            if (!comma || (size_t) (comma - l) != strlen("timestamp") ||
                g_ascii_strncasecmp(l, "timestamp", comma - l) != 0 ||
                memchr(comma + 1, ',', ll - (size_t) (comma - l) - 1)) {
                g_set_error(error, NAB_ERROR, NAB_ERROR_PARSE,
                            "%s:%zu: expected the header \"timestamp,value\"",
                            name, line);
                return NULL;
            }
            header = true;
            continue;
        }
        if (!comma || memchr(comma + 1, ',', ll - (size_t) (comma - l) - 1)) {
            g_set_error(error, NAB_ERROR, NAB_ERROR_PARSE,
                        "%s:%zu: expected two fields, timestamp,value", name,
                        line);
            return NULL;
        }
        if (!nab_parse_time(l, (size_t) (comma - l), &ts)) {
            g_set_error(error, NAB_ERROR, NAB_ERROR_PARSE,
                        "%s:%zu: bad timestamp \"%.*s\" (want YYYY-MM-DD "
                        "HH:MM:SS)",
                        name, line, (int) MIN(comma - l, 40), l);
            return NULL;
        }
        if (!parse_value(comma + 1, ll - (size_t) (comma - l) - 1, &v)) {
            g_set_error(error, NAB_ERROR, NAB_ERROR_PARSE,
                        "%s:%zu: bad value \"%.*s\"", name, line,
                        (int) MIN(ll - (size_t) (comma - l) - 1, 40),
                        comma + 1);
            return NULL;
        }
        if (t->len > 0 && ts <= g_array_index(t, int64_t, t->len - 1)) {
            /* NAB's own files repeat hours or step back at clock changes;
             * NAB scores by row, and so do we. */
            backwards++;
        }
        if (t->len >= NAB_MAX_ROWS) {
            g_set_error(error, NAB_ERROR, NAB_ERROR_LIMIT,
                        "%s:%zu: more than %zu rows", name, line, NAB_MAX_ROWS);
            return NULL;
        }
        g_array_append_val(t, ts);
        g_array_append_val(y, v);
    }
    if (t->len == 0) {
        g_set_error(error, NAB_ERROR, NAB_ERROR_EMPTY, "%s: no data rows",
                    name);
        return NULL;
    }
    s = g_new0(NabSeries, 1);
    s->n = t->len;
    s->backwards = backwards;
    s->t = (int64_t *) (void *) g_array_free(g_steal_pointer(&t), FALSE);
    s->y = (double *) (void *) g_array_free(g_steal_pointer(&y), FALSE);
    return s;
}

GHashTable *
nab_labels_new(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                 (GDestroyNotify) nab_file_labels_free);
}

/* Returns: the 1-based line of byte @off of @buf. */
static size_t
line_at(const char *buf, size_t len, size_t off)
{
    size_t line = 1;

    for (size_t i = 0; i < off && i < len; i++) {
        line += buf[i] == '\n';
    }
    return line;
}

/* Returns: the offset of the quoted string @s in @buf at or after @from,
 * or @from if it is not there. */
static size_t
find_quoted(const char *buf, size_t len, size_t from, const char *s)
{
    g_autofree char *q = g_strdup_printf("\"%s\"", s);
    size_t ql = strlen(q);

    for (size_t i = from; i + ql <= len; i++) {
        if (memcmp(buf + i, q, ql) == 0) {
            return i;
        }
    }
    return from;
}

/* Parses @buf as one JSON object; errors name the line. */
static json_object *
parse_json_object(const char *buf, size_t len, const char *name, GError **error)
{
    g_autoptr(json_tokener) tok = json_tokener_new();
    g_autoptr(json_object) obj = NULL;
    enum json_tokener_error jerr;
    size_t end;

    if (len > INT_MAX) {
        g_set_error(error, NAB_ERROR, NAB_ERROR_LIMIT, "%s: too large", name);
        return NULL;
    }
    obj = json_tokener_parse_ex(tok, buf, (int) len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (!obj || jerr != json_tokener_success) {
        if (jerr == json_tokener_continue) {
            g_set_error(error, NAB_ERROR, NAB_ERROR_PARSE,
                        "%s:%zu: truncated JSON", name, line_at(buf, len, len));
        } else {
            g_set_error(error, NAB_ERROR, NAB_ERROR_PARSE, "%s:%zu: %s", name,
                        line_at(buf, len, end), json_tokener_error_desc(jerr));
        }
        return NULL;
    }
    for (size_t i = end; i < len; i++) {
        if (!g_ascii_isspace(buf[i])) {
            g_set_error(error, NAB_ERROR, NAB_ERROR_PARSE,
                        "%s:%zu: text after the JSON object", name,
                        line_at(buf, len, i));
            return NULL;
        }
    }
    if (!json_object_is_type(obj, json_type_object)) {
        g_set_error(error, NAB_ERROR, NAB_ERROR_PARSE,
                    "%s:%zu: expected an object of file -> list", name,
                    line_at(buf, len, 0));
        return NULL;
    }
    return g_steal_pointer(&obj);
}

/* Reads a time string of @v; on failure sets @error at its line. */
static bool
json_time(json_object *v, const char *buf, size_t len, size_t key_off,
          const char *name, const char *file, int64_t *ret, GError **error)
{
    const char *s = json_object_is_type(v, json_type_string)
                        ? json_object_get_string(v)
                        : NULL;

    if (!s || !nab_parse_time(s, strlen(s), ret)) {
        size_t off = s ? find_quoted(buf, len, key_off, s) : key_off;

        g_set_error(error, NAB_ERROR, NAB_ERROR_PARSE,
                    "%s:%zu: %s: bad time %s (want \"YYYY-MM-DD "
                    "HH:MM:SS[.000000]\")",
                    name, line_at(buf, len, off), file,
                    s ? s : json_object_to_json_string(v));
        return false;
    }
    return true;
}

static int
cmp_int64(gconstpointer a, gconstpointer b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;

    return x < y ? -1 : x > y;
}

static int
cmp_window(gconstpointer a, gconstpointer b)
{
    const NabWindow *x = a, *y = b;

    return x->start_s < y->start_s ? -1 : x->start_s > y->start_s;
}

/* Returns: @labels' entry for @file, created if absent. */
static NabFileLabels *
labels_entry(GHashTable *labels, const char *file)
{
    NabFileLabels *l = g_hash_table_lookup(labels, file);

    if (!l) {
        l = g_new0(NabFileLabels, 1);
        l->file = g_strdup(file);
        g_hash_table_insert(labels, l->file, l);
    }
    return l;
}

/* Parsed values of one file, applied once the whole buffer is good. */
typedef struct {
    char *file;
    GArray *vals; /* NabWindow or int64_t */
} Pending;

static void
pending_free(gpointer p)
{
    Pending *x = p;

    g_free(x->file);
    g_array_unref(x->vals);
    g_free(x);
}

bool
nab_labels_parse_windows(GHashTable *labels, const char *buf, size_t len,
                         const char *name, GError **error)
{
    g_autoptr(json_object) root = parse_json_object(buf, len, name, error);
    g_autoptr(GPtrArray) pend = g_ptr_array_new_with_free_func(pending_free);

    if (!root) {
        return false;
    }
    json_object_object_foreach(root, key, val)
    {
        size_t koff = find_quoted(buf, len, 0, key);
        Pending *p;
        size_t n;

        if (!json_object_is_type(val, json_type_array)) {
            g_set_error(error, NAB_ERROR, NAB_ERROR_PARSE,
                        "%s:%zu: %s: expected a list of [start, end]", name,
                        line_at(buf, len, koff), key);
            return false;
        }
        p = g_new0(Pending, 1);
        p->file = g_strdup(key);
        p->vals = g_array_new(FALSE, FALSE, sizeof(NabWindow));
        g_ptr_array_add(pend, p);
        n = json_object_array_length(val);
        for (size_t i = 0; i < n; i++) {
            json_object *w = json_object_array_get_idx(val, i);
            NabWindow nw;

            if (!json_object_is_type(w, json_type_array) ||
                json_object_array_length(w) != 2) {
                g_set_error(error, NAB_ERROR, NAB_ERROR_PARSE,
                            "%s:%zu: %s: window %zu is not a pair [start, "
                            "end]",
                            name, line_at(buf, len, koff), key, i + 1);
                return false;
            }
            if (!json_time(json_object_array_get_idx(w, 0), buf, len, koff,
                           name, key, &nw.start_s, error) ||
                !json_time(json_object_array_get_idx(w, 1), buf, len, koff,
                           name, key, &nw.end_s, error)) {
                return false;
            }
            if (nw.end_s < nw.start_s) {
                g_set_error(
                    error, NAB_ERROR, NAB_ERROR_PARSE,
                    "%s:%zu: %s: window %zu ends before it starts", name,
                    line_at(buf, len,
                            find_quoted(buf, len, koff,
                                        json_object_get_string(
                                            json_object_array_get_idx(w, 1)))),
                    key, i + 1);
                return false;
            }
            g_array_append_val(p->vals, nw);
        }
        g_array_sort(p->vals, cmp_window);
        for (guint i = 1; i < p->vals->len; i++) {
            if (g_array_index(p->vals, NabWindow, i).start_s <=
                g_array_index(p->vals, NabWindow, i - 1).end_s) {
                g_set_error(error, NAB_ERROR, NAB_ERROR_PARSE,
                            "%s:%zu: %s: windows %u and %u overlap", name,
                            line_at(buf, len, koff), key, i, i + 1);
                return false;
            }
        }
    }
    for (guint i = 0; i < pend->len; i++) {
        Pending *p = pend->pdata[i];
        NabFileLabels *l = labels_entry(labels, p->file);
        gsize n = 0;

        g_free(l->windows);
        l->windows = g_array_steal(p->vals, &n);
        l->nwindows = n;
    }
    return true;
}

bool
nab_labels_parse_anomalies(GHashTable *labels, const char *buf, size_t len,
                           const char *name, GError **error)
{
    g_autoptr(json_object) root = parse_json_object(buf, len, name, error);
    g_autoptr(GPtrArray) pend = g_ptr_array_new_with_free_func(pending_free);

    if (!root) {
        return false;
    }
    json_object_object_foreach(root, key, val)
    {
        size_t koff = find_quoted(buf, len, 0, key);
        Pending *p;
        size_t n;

        if (!json_object_is_type(val, json_type_array)) {
            g_set_error(error, NAB_ERROR, NAB_ERROR_PARSE,
                        "%s:%zu: %s: expected a list of times", name,
                        line_at(buf, len, koff), key);
            return false;
        }
        p = g_new0(Pending, 1);
        p->file = g_strdup(key);
        p->vals = g_array_new(FALSE, FALSE, sizeof(int64_t));
        g_ptr_array_add(pend, p);
        n = json_object_array_length(val);
        for (size_t i = 0; i < n; i++) {
            int64_t ts;

            if (!json_time(json_object_array_get_idx(val, i), buf, len, koff,
                           name, key, &ts, error)) {
                return false;
            }
            g_array_append_val(p->vals, ts);
        }
        g_array_sort(p->vals, cmp_int64);
    }
    for (guint i = 0; i < pend->len; i++) {
        Pending *p = pend->pdata[i];
        NabFileLabels *l = labels_entry(labels, p->file);
        gsize n = 0;

        g_free(l->anomalies);
        l->anomalies = g_array_steal(p->vals, &n);
        l->nanomalies = n;
    }
    return true;
}

NabProfile
nab_profile_standard(void)
{
    /* NAB config/profiles.json, "standard". */
    NabProfile p = {
        .tp_weight = 1.0,
        .fp_weight = 0.11,
        .fn_weight = 1.0,
        .probation_percent = 0.15,
    };

    return p;
}

double
nab_scaled_sigmoid(double x)
{
    if (x >= 3.0) {
        return -1.0;
    }
    return 2.0 / (1.0 + exp(5.0 * x)) - 1.0;
}

size_t
nab_probation_length(size_t n, double percent)
{
    double a = floor(percent * (double) n);
    double b = percent * 5000.0;
    double m = MIN(a, b);

    /* Rows i >= m are scored: the first ceil(m) rows are not. */
    return m <= 0 ? 0 : (size_t) ceil(m);
}

bool
nab_windows_locate(const int64_t *t, size_t n, const NabWindow *w, size_t nw,
                   NabSpan *ret, GError **error)
{
    size_t from = 0;

    for (size_t k = 0; k < nw; k++) {
        size_t first = n, last = n;

        /* NAB enters a window at the first row stamped with its start and
         * leaves it at the first row stamped with its end; timestamps may
         * repeat or step back, so search in row order. */
        for (size_t i = from; i < n && first == n; i++) {
            first = t[i] == w[k].start_s ? i : n;
        }
        for (size_t i = from; i < n && first == n; i++) {
            first = t[i] >= w[k].start_s ? i : n;
        }
        if (first == n || t[first] > w[k].end_s) {
            g_set_error(error, NAB_ERROR, NAB_ERROR_INVALID,
                        "window %zu holds no row of the data", k + 1);
            return false;
        }
        for (size_t i = first; i < n && last == n; i++) {
            last = t[i] == w[k].end_s ? i : n;
        }
        if (last == n) {
            last = first;
            while (last + 1 < n && t[last + 1] <= w[k].end_s) {
                last++;
            }
        }
        ret[k].first = first;
        ret[k].last = last;
        from = last + 1;
    }
    return true;
}

bool
nab_score(const NabProfile *p, size_t n, const NabSpan *spans, size_t nspans,
          const double *scores, double threshold, size_t *ret_first,
          NabScore *ret, GError **error)
{
    g_autofree double *best = g_new(double, nspans ? nspans : 1);
    g_autofree size_t *first = g_new(size_t, nspans ? nspans : 1);
    NabScore s = {0};
    double max_tp = nab_scaled_sigmoid(-1.0);
    size_t prob = nab_probation_length(n, p->probation_percent);
    size_t k = 0;
    gssize prev = -1;

    for (size_t j = 0; j < nspans; j++) {
        if (spans[j].first > spans[j].last || spans[j].last >= n ||
            (j > 0 && spans[j].first <= spans[j - 1].last)) {
            g_set_error(error, NAB_ERROR, NAB_ERROR_INVALID,
                        "window %zu: rows %zu-%zu out of order or range "
                        "(%zu rows)",
                        j + 1, spans[j].first, spans[j].last, n);
            return false;
        }
        best[j] = -p->fn_weight;
        first[j] = (size_t) -1;
    }
    for (size_t i = 0; i < n; i++) {
        bool det = scores[i] >= threshold;

        while (k < nspans && spans[k].last < i) {
            prev = (gssize) k++;
        }
        if (i < prob) {
            s.probation++;
            continue;
        }
        if (k < nspans && spans[k].first <= i) {
            double w = (double) (spans[k].last - spans[k].first + 1);
            double x = -((double) (spans[k].last - i) + 1.0) / w;
            double worth = p->tp_weight * nab_scaled_sigmoid(x) / max_tp;

            if (!det) {
                s.fn++;
                continue;
            }
            s.tp++;
            if (first[k] == (size_t) -1) {
                first[k] = i;
                best[k] = worth;
            } else {
                best[k] = MAX(best[k], worth);
            }
        } else if (det) {
            double x = 3.0;

            if (prev >= 0) {
                double wp = (double) (spans[prev].last - spans[prev].first + 1);

                x = wp > 1 ? (double) (i - spans[prev].last) / (wp - 1.0) : 3.0;
            }
            s.fp++;
            s.fp_score += p->fp_weight * nab_scaled_sigmoid(x);
        } else {
            s.tn++;
        }
    }
    for (size_t j = 0; j < nspans; j++) {
        if (spans[j].last < prob) {
            /* Wholly probationary: NAB does not score it. */
            continue;
        }
        s.windows++;
        s.detected += first[j] != (size_t) -1;
        s.tp_score += best[j];
    }
    s.score = s.tp_score + s.fp_score;
    if (ret_first) {
        memcpy(ret_first, first, sizeof(size_t) * nspans);
    }
    *ret = s;
    return true;
}

double
nab_normalised(const NabProfile *p, double raw, size_t windows)
{
    double null = -p->fn_weight * (double) windows;
    double perfect = p->tp_weight * (double) windows;

    if (windows == 0 || !(perfect > null)) {
        return NAN;
    }
    return 100.0 * (raw - null) / (perfect - null);
}

/* Parses a non-negative count field. */
static bool
parse_count(const char *s, size_t *ret)
{
    char *end = NULL;
    unsigned long long v;

    if (!g_ascii_isdigit(*s)) {
        return false;
    }
    errno = 0;
    v = g_ascii_strtoull(s, &end, 10);
    if (*end != '\0' || errno == ERANGE) {
        return false;
    }
    *ret = (size_t) v;
    return true;
}

GHashTable *
nab_parse_published(const char *buf, size_t len, const char *name,
                    GError **error)
{
    g_autoptr(GHashTable) out = g_hash_table_new_full(
        g_str_hash, g_str_equal, g_free, (GDestroyNotify) nab_published_free);
    bool header = false;
    size_t pos = 0, line = 0;

    while (pos < len) {
        const char *l = buf + pos;
        const char *nl = memchr(l, '\n', len - pos);
        size_t ll = nl ? (size_t) (nl - l) : len - pos;
        g_autofree char *text = NULL;
        g_auto(GStrv) f = NULL;
        g_autoptr(NabPublished) r = NULL;
        double thr, score;

        pos += ll + (nl ? 1 : 0);
        line++;
        if (ll > 0 && l[ll - 1] == '\r') {
            ll--;
        }
        if (ll == 0) {
            continue;
        }
        text = g_strndup(l, ll);
        f = g_strsplit(text, ",", -1);
        if (!header) {
            if (g_strv_length(f) != 10 || strcmp(f[0], "Detector") != 0 ||
                strcmp(f[2], "File") != 0 || strcmp(f[4], "Score") != 0) {
                g_set_error(error, NAB_ERROR, NAB_ERROR_PARSE,
                            "%s:%zu: expected the header Detector,Profile,"
                            "File,Threshold,Score,TP,TN,FP,FN,Total_Count",
                            name, line);
                return NULL;
            }
            header = true;
            continue;
        }
        if (g_strv_length(f) != 10) {
            g_set_error(error, NAB_ERROR, NAB_ERROR_PARSE,
                        "%s:%zu: expected 10 fields", name, line);
            return NULL;
        }
        if (strcmp(f[2], "Totals") == 0 || f[2][0] == '\0') {
            continue;
        }
        r = g_new0(NabPublished, 1);
        if (!parse_value(f[3], strlen(f[3]), &thr) ||
            !parse_value(f[4], strlen(f[4]), &score) || !isfinite(score) ||
            !parse_count(f[5], &r->tp) || !parse_count(f[6], &r->tn) ||
            !parse_count(f[7], &r->fp) || !parse_count(f[8], &r->fn) ||
            !parse_count(f[9], &r->total)) {
            g_set_error(error, NAB_ERROR, NAB_ERROR_PARSE,
                        "%s:%zu: bad number in a field", name, line);
            return NULL;
        }
        if (g_hash_table_contains(out, f[2])) {
            g_set_error(error, NAB_ERROR, NAB_ERROR_PARSE,
                        "%s:%zu: file %s listed twice", name, line, f[2]);
            return NULL;
        }
        r->detector = g_strdup(f[0]);
        r->profile = g_strdup(f[1]);
        r->threshold = thr;
        r->score = score;
        g_hash_table_insert(out, g_strdup(f[2]), g_steal_pointer(&r));
    }
    if (!header) {
        g_set_error(error, NAB_ERROR, NAB_ERROR_EMPTY, "%s: empty", name);
        return NULL;
    }
    return g_steal_pointer(&out);
}
