/*
 * umbra-lab-report - compare the runs of a predictive-vs-reactive lab
 * scenario: one HTML report, a JSON summary and a plain-text timeline.
 *
 * Part of the namespace lab (tests/lab/): a scenario replays the same load
 * once per policy and leaves what it saw in one directory; this tool reads
 * that directory and writes nothing else.
 *
 *   umbra-lab-report DIR
 *
 * Input, in DIR:
 *   scenario.json         required: {title, trace, primary, neighbour, host,
 *                         host_cpus, slo_p99_ms, slo_window_s, policies: [P],
 *                         rules: {P: "one line"}, vcpus: {NAME: n}
 *                         (optional; umbra's cpu_pct is a percentage of
 *                         the domain's vCPUs: CPUs = cpu_pct / 100 * n)}
 *   P/meta.json           required: {policy, t0 (unix s, start of load),
 *                         duration_s, ramp_start_s, ramp_end_s}
 *   P/requests.csv        required: umbra-loadgen --out
 *                         (t_unix,t_rel,step,latency_ms,status,error)
 *   P/domstats-NAME.json  optional, NAME = primary and neighbour:
 *                         umbractl --json domstats NAME --history N
 *   P/risk.jsonl          optional: a line {t, host: <risk --host HOST>,
 *                         domain: <risk PRIMARY>} every few seconds (other
 *                         members, such as the forecasts, are not read)
 *   P/shadow.json         optional: umbractl --json shadow-info PRIMARY
 *   P/shadow-cutover.json optional: the same, as first seen "promoted"
 *                         (its cutover statistics and origin are the first
 *                         cutover's; a later shadow replaces the record)
 *   P/events.json         optional: umbractl --json events (only the
 *                         domain-moved events of the two domains are used)
 *
 * Output: DIR/report.html (inline CSS and SVG; no script, nothing
 * external), DIR/summary.json, and on stdout each policy's timeline and
 * the comparison table. Times are seconds since the policy's t0.
 *
 * Definitions: a request fails when its error is set or its status is not
 * 2xx. The run is cut into windows of slo_window_s (requests scheduled
 * before t0 count in the first); a window violates the SLO when the
 * nearest-rank p99 of its latencies, failures counting as infinite, exceeds
 * slo_p99_ms. A migration is a shadow journal row "cutover-done" during the
 * run. A run's own overload is the first of two consecutive primary
 * samples, at or after the neighbour's ramp starts, where the primary's CPU
 * demand plus the neighbour's (its sample nearest in time, within 30 s)
 * reaches 95% of host_cpus. Primary samples taken while umbra worked on the
 * primary (from a journal row "create" or "activate" to the next row, which
 * ends the staging or the cutover, plus one sample) are skipped:
 * their CPU time includes QEMU's copy and migration work, not the
 * workload's demand. Every policy plays the same load, so the host would
 * overload (would_overload_s) at the earliest of the runs' own overloads;
 * lead_seconds is that time minus the cutover's start.
 *
 * Exit status: 0 on success; 1 with a one-line message naming the file when
 * a required file is missing or malformed or an output cannot be written.
 * A malformed optional file is ignored with a warning.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <json-c/json.h>

/* Glue as in src/util/autoptr.h (this tool links no umbra library). */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_object, json_object_put)

#define OVERLOAD_FRAC 0.95   /* of host_cpus */
#define NEAREST_S 30.0       /* neighbour sample used for a primary sample */
#define AFTER_S 300.0        /* journal rows kept after the run's end */
#define MAX_OUTSIDE_S 3600.0 /* requests further from the run: bad t0 */
#define CHART_W 900

GQuark report_error_quark(void);
/* clang-format off */
G_DEFINE_QUARK(umbra-lab-report-error-quark, report_error)
/* clang-format on */
#define REPORT_ERROR report_error_quark()
enum { REPORT_ERROR_MALFORMED, REPORT_ERROR_EMPTY };

/* A value at a time. */
typedef struct {
    double t; /* s since t0 */
    double v; /* NAN when unknown */
} Point;

/* One request of requests.csv. */
typedef struct {
    double t;      /* scheduled, s since t0 */
    double lat_ms; /* NAN when not given */
    bool ok;       /* no error and a 2xx status */
} Req;

/* One row of the shadow journal (strings borrowed from shadow.json). */
typedef struct {
    double t;           /* s since t0 */
    const char *to;     /* state after the row */
    const char *event;  /* "create", an FSM event, "settled"...; nullable */
    const char *detail; /* nullable */
} JRow;

/* One line of risk.jsonl. */
typedef struct {
    double t;        /* s since t0 */
    double demand;   /* host's forecast mean CPU demand 5 min ahead (CPUs) */
    double lo, hi;   /* its 95% band, NAN when absent */
    double p15, p1h; /* the primary's trouble probabilities: the larger of
                      * its failure and its host's contention, as umbra's
                      * shadow manager takes them */
    double thr;      /* alert threshold */
} RiskRow;

/* One line of a timeline. */
typedef struct {
    double t;   /* s since t0 */
    guint seq;  /* insertion order: a stable sort */
    char *what; /* one line, in the policy's strs */
} TlEntry;

/* The cutover of the primary during the run. */
typedef struct {
    bool have;          /* one started during the run */
    bool completed;     /* and ended with cutover-done */
    double started_s;   /* s since t0 */
    double total_s;     /* NAN when unknown */
    double downtime_ms; /* NAN when unknown */
    double bytes_sent;  /* memory + disk; NAN when unknown */
    double staged_s;    /* the shadow became warm or cold; NAN if unknown */
    double staging_bytes;
    double staging_s;
    const char *origin; /* borrowed from the shadow JSON; nullable */
    const char *reason; /* borrowed: detail of the activating row */
} Cutover;

/* One policy's run and what is computed from it. */
typedef struct {
    char *name;          /* the policy, also the directory DIR/name */
    char *dir;           /* DIR/name */
    double t0;           /* unix s */
    double duration;     /* s */
    double ramp_start;   /* s since t0, NAN when absent */
    double ramp_end;     /* s since t0, NAN when absent */
    GArray *reqs;        /* Req */
    GArray *prim;        /* Point: primary's CPUs (cpu_pct / 100) */
    GArray *neigh;       /* Point: neighbour's CPUs */
    GArray *sum;         /* Point: both, at the primary's samples */
    GArray *risk;        /* RiskRow */
    GArray *journal;     /* JRow, oldest first */
    json_object *shadow; /* shadow.json, NULL when absent */
    json_object *shcut;  /* shadow-cutover.json (the record as the first
                          * cutover left it), NULL when absent */
    long nreq;           /* requests */
    long nfail;          /* failed requests */
    double p50, p99;     /* ms, of the ok requests */
    GArray *viol;        /* double pairs: merged violating windows */
    int nviol;           /* violating windows */
    int migrations;      /* completed cutovers */
    Cutover cut;
    double own_overload_s; /* this run's own overload; NAN if never */
    double overload_s;     /* would overload: the earliest run's */
    double lead_s;         /* overload_s - cut.started_s */
    double risk1h_s;       /* first trouble within 1 h >= threshold */
    double risk15m_s;      /* first trouble within 15 min >= threshold */
    GArray *timeline;      /* TlEntry */
    GStringChunk *strs;    /* the timeline's strings */
} Policy;

/* The whole scenario. */
typedef struct {
    const char *dir;       /* DIR, from the command line */
    json_object *scenario; /* scenario.json */
    const char *title;     /* this and the next four: borrowed from it */
    const char *trace;     /* nullable */
    const char *primary;   /* the domain whose SLO counts */
    const char *neighbour; /* the domain that ramps up */
    const char *host;      /* the primary's starting host */
    double host_cpus;      /* CPUs of host */
    double slo_ms;         /* p99 bound */
    double slo_window;     /* s */
    Policy *pol;           /* npol of them */
    guint npol;
    int svg_ids; /* clip paths made so far */
} Report;

/* --- small helpers ------------------------------------------------------ */

static json_object *
jget(json_object *o, const char *key)
{
    json_object *v = NULL;

    if (!o || !json_object_is_type(o, json_type_object) ||
        !json_object_object_get_ex(o, key, &v)) {
        return NULL;
    }
    return v;
}

static double
jnum(json_object *o, const char *key)
{
    json_object *v = jget(o, key);

    if (!v || !(json_object_is_type(v, json_type_double) ||
                json_object_is_type(v, json_type_int))) {
        return NAN;
    }
    return json_object_get_double(v);
}

/* The string @o.@key, or NULL when it is not valid UTF-8. */
static const char *
jstr(json_object *o, const char *key)
{
    json_object *v = jget(o, key);

    if (!v || !json_object_is_type(v, json_type_string) ||
        !g_utf8_validate(json_object_get_string(v), -1, NULL)) {
        return NULL;
    }
    return json_object_get_string(v);
}

/* The object of array @o.@key whose @field is @name, else the first. */
static json_object *
jfind(json_object *o, const char *key, const char *field, const char *name)
{
    json_object *a = jget(o, key);
    size_t n;

    if (!a || !json_object_is_type(a, json_type_array)) {
        return NULL;
    }
    n = json_object_array_length(a);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(a, i);

        if (g_strcmp0(jstr(e, field), name) == 0) {
            return e;
        }
    }
    return n ? json_object_array_get_idx(a, 0) : NULL;
}

/* A JSON number with at most 3 decimals, or NULL (JSON null). */
static json_object *
jdouble(double v)
{
    char buf[64];
    char *e;

    if (!isfinite(v)) {
        return NULL;
    }
    g_snprintf(buf, sizeof(buf), "%.3f", fabs(v) < 0.0005 ? 0.0 : v);
    e = buf + strlen(buf) - 1;
    while (*e == '0') {
        *e-- = '\0';
    }
    if (*e == '.') {
        *e = '\0';
    }
    return json_object_new_double_s(v, buf);
}

/* @v with @dec decimals, or "-". */
static char *
fmt_num(double v, int dec)
{
    return isfinite(v) ? g_strdup_printf("%.*f", dec, v) : g_strdup("-");
}

static void hprintf(GString *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Appends printf(@fmt, ...) to @s, each string argument (valid UTF-8,
 * not NULL) escaped for HTML. */
static void
hprintf(GString *s, const char *fmt, ...)
{
    g_autofree char *text = NULL;
    va_list ap;

    va_start(ap, fmt);
    text = g_markup_vprintf_escaped(fmt, ap);
    va_end(ap);
    g_string_append(s, text);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

static int
cmp_point(const void *a, const void *b)
{
    return cmp_double(&((const Point *) a)->t, &((const Point *) b)->t);
}

static int
cmp_tl(const void *a, const void *b)
{
    const TlEntry *x = a, *y = b;
    int c = cmp_double(&x->t, &y->t);

    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Nearest-rank @p-th percentile of sorted @v; NAN if @n is 0. */
static double
pct_sorted(const double *v, guint n, double p)
{
    double k = ceil(p / 100.0 * n - 1e-9);

    if (n == 0) {
        return NAN;
    }
    return v[(guint) CLAMP(k, 1, n) - 1];
}

static void tl_add(Policy *p, double t, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static void
tl_add(Policy *p, double t, const char *fmt, ...)
{
    TlEntry e = {t, p->timeline->len, NULL};
    g_autofree char *what = NULL;
    va_list ap;

    if (!isfinite(t)) {
        return;
    }
    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    e.what = g_string_chunk_insert(p->strs, what);
    g_array_append_val(p->timeline, e);
}

/* --- input -------------------------------------------------------------- */

/* Reads @path as one JSON value. Returns NULL with @error set when it is
 * missing (G_FILE_ERROR_NOENT), empty (REPORT_ERROR_EMPTY) or not JSON. */
static json_object *
json_read(const char *path, GError **error)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    enum json_tokener_error jerr = json_tokener_success;
    json_object *o;

    if (!g_file_get_contents(path, &text, NULL, &err)) {
        g_set_error(error, G_FILE_ERROR, err->code, "%s: %s", path,
                    err->code == G_FILE_ERROR_NOENT ? "missing" : err->message);
        return NULL;
    }
    if (*g_strstrip(text) == '\0') {
        g_set_error(error, REPORT_ERROR, REPORT_ERROR_EMPTY, "%s: empty", path);
        return NULL;
    }
    o = json_tokener_parse_verbose(text, &jerr);
    if (!o) {
        g_set_error(error, REPORT_ERROR, REPORT_ERROR_MALFORMED,
                    "%s: not JSON (%s)", path,
                    jerr != json_tokener_success ? json_tokener_error_desc(jerr)
                                                 : "null");
    }
    return o;
}

/* json_read() of an optional file: NULL, with a warning when malformed. */
static json_object *
json_read_optional(const char *path)
{
    g_autoptr(GError) err = NULL;
    json_object *o = json_read(path, &err);

    if (!o && !g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT) &&
        !g_error_matches(err, REPORT_ERROR, REPORT_ERROR_EMPTY)) {
        fprintf(stderr, "umbra-lab-report: warning: %s; ignored\n",
                err->message);
    }
    return o;
}

static bool
scenario_load(Report *r, GError **error)
{
    g_autofree char *path = g_build_filename(r->dir, "scenario.json", NULL);
    json_object *pols;
    const char *bad = NULL;

    r->scenario = json_read(path, error);
    if (!r->scenario) {
        return false;
    }
    r->title = jstr(r->scenario, "title");
    r->trace = jstr(r->scenario, "trace");
    r->primary = jstr(r->scenario, "primary");
    r->neighbour = jstr(r->scenario, "neighbour");
    r->host = jstr(r->scenario, "host");
    r->host_cpus = jnum(r->scenario, "host_cpus");
    r->slo_ms = jnum(r->scenario, "slo_p99_ms");
    r->slo_window = jnum(r->scenario, "slo_window_s");
    pols = jget(r->scenario, "policies");
    if (!r->primary || !r->neighbour || !r->host) {
        bad = "primary, neighbour and host must be strings";
    } else if (!(r->host_cpus > 0) || !(r->slo_ms > 0) ||
               !(r->slo_window >= 0.1)) {
        bad = "host_cpus, slo_p99_ms and slo_window_s (>= 0.1) must be "
              "positive numbers";
    } else if (!pols || !json_object_is_type(pols, json_type_array) ||
               json_object_array_length(pols) == 0) {
        bad = "policies must be a non-empty array";
    }
    for (size_t i = 0; !bad && i < json_object_array_length(pols); i++) {
        json_object *e = json_object_array_get_idx(pols, i);
        const char *n = json_object_is_type(e, json_type_string)
                            ? json_object_get_string(e)
                            : NULL;

        if (!n || !*n || !g_utf8_validate(n, -1, NULL) || strchr(n, '/') ||
            strcmp(n, ".") == 0 || strcmp(n, "..") == 0) {
            bad = "a policy is not a plain directory name";
        }
    }
    if (bad) {
        g_set_error(error, REPORT_ERROR, REPORT_ERROR_MALFORMED, "%s: %s", path,
                    bad);
        return false;
    }
    r->npol = (guint) json_object_array_length(pols);
    r->pol = g_new0(Policy, r->npol);
    for (guint i = 0; i < r->npol; i++) {
        Policy *p = &r->pol[i];

        p->name = g_strdup(
            json_object_get_string(json_object_array_get_idx(pols, i)));
        p->dir = g_build_filename(r->dir, p->name, NULL);
        p->reqs = g_array_new(FALSE, FALSE, sizeof(Req));
        p->prim = g_array_new(FALSE, FALSE, sizeof(Point));
        p->neigh = g_array_new(FALSE, FALSE, sizeof(Point));
        p->sum = g_array_new(FALSE, FALSE, sizeof(Point));
        p->risk = g_array_new(FALSE, FALSE, sizeof(RiskRow));
        p->journal = g_array_new(FALSE, FALSE, sizeof(JRow));
        p->viol = g_array_new(FALSE, FALSE, sizeof(double));
        p->timeline = g_array_new(FALSE, FALSE, sizeof(TlEntry));
        p->strs = g_string_chunk_new(4096);
    }
    return true;
}

static bool
meta_load(Policy *p, GError **error)
{
    g_autofree char *path = g_build_filename(p->dir, "meta.json", NULL);
    g_autoptr(json_object) o = json_read(path, error);

    if (!o) {
        return false;
    }
    p->t0 = jnum(o, "t0");
    p->duration = jnum(o, "duration_s");
    p->ramp_start = jnum(o, "ramp_start_s");
    p->ramp_end = jnum(o, "ramp_end_s");
    if (!isfinite(p->t0) || !(p->duration > 0 && p->duration <= 864000)) {
        g_set_error(error, REPORT_ERROR, REPORT_ERROR_MALFORMED,
                    "%s: t0 and duration_s (0 < d <= 10 days) must be "
                    "numbers",
                    path);
        return false;
    }
    return true;
}

static bool
requests_load(Policy *p, GError **error)
{
    g_autofree char *path = g_build_filename(p->dir, "requests.csv", NULL);
    g_autofree char *line = NULL;
    size_t cap = 0;
    FILE *f = fopen(path, "re");
    long lineno = 0;
    bool ok = true;

#define BAD(...)                                                               \
    do {                                                                       \
        g_set_error(error, REPORT_ERROR, REPORT_ERROR_MALFORMED, __VA_ARGS__); \
        ok = false;                                                            \
        goto out;                                                              \
    } while (0)
    if (!f) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "%s: %s", path,
                    errno == ENOENT ? "missing" : g_strerror(errno));
        return false;
    }
    while (getline(&line, &cap, f) >= 0) {
        g_auto(GStrv) fld = NULL;
        Req q = {0};
        char *end = NULL;
        const char *err;
        long status;

        lineno++;
        g_strstrip(line);
        if (lineno == 1) {
            if (!g_str_has_prefix(line, "t_unix,t_rel,step,latency_ms,"
                                        "status,error")) {
                BAD("%s: the header is not t_unix,t_rel,step,latency_ms,"
                    "status,error",
                    path);
            }
            continue;
        }
        if (*line == '\0') {
            continue;
        }
        fld = g_strsplit(line, ",", 7);
        if (g_strv_length(fld) < 5 || g_strv_length(fld) > 6) {
            BAD("%s:%ld: expected 6 fields", path, lineno);
        }
        q.t = g_ascii_strtod(fld[0], &end) - p->t0;
        if (end == fld[0] || *end || !isfinite(q.t)) {
            BAD("%s:%ld: bad t_unix '%s'", path, lineno, fld[0]);
        }
        if (q.t < -MAX_OUTSIDE_S || q.t > p->duration + MAX_OUTSIDE_S) {
            BAD("%s:%ld: scheduled %.0f s from meta.json's t0", path, lineno,
                q.t);
        }
        q.lat_ms = g_ascii_strtod(fld[3], &end);
        if (end == fld[3] || *end || !(q.lat_ms >= 0)) {
            q.lat_ms = NAN;
        }
        status = strtol(fld[4], &end, 10);
        if (*end) {
            BAD("%s:%ld: bad status '%s'", path, lineno, fld[4]);
        }
        err = fld[5] ? g_strstrip(fld[5]) : "";
        q.ok = *err == '\0' && status >= 200 && status < 300;
        g_array_append_val(p->reqs, q);
    }
    if (ferror(f)) {
        BAD("%s: read error", path);
    }
    if (lineno == 0) {
        BAD("%s: empty (no header)", path);
    }
out:
    fclose(f);
    return ok;
#undef BAD
}

/* Reads DIR/P/domstats-@name.json into @out; timelines host changes.
 * umbra's cpu_pct is a percentage of the domain's vCPUs: @vcpus (from
 * scenario.json "vcpus", default 1) turns it into CPUs. */
static void
domstats_load(Policy *p, const char *name, double vcpus, GArray *out)
{
    g_autofree char *file = g_strdup_printf("domstats-%s.json", name);
    g_autofree char *path = g_build_filename(p->dir, file, NULL);
    g_autoptr(json_object) o = json_read_optional(path);
    json_object *h = jget(o, "history");
    const char *last_host = NULL;

    if (!h || !json_object_is_type(h, json_type_array)) {
        return;
    }
    for (size_t i = 0; i < json_object_array_length(h); i++) {
        json_object *s = json_object_array_get_idx(h, i);
        Point pt = {jnum(s, "time") / 1e6 - p->t0,
                    jnum(s, "cpu_pct") / 100 * vcpus};
        const char *host = jstr(s, "host");

        if (!isfinite(pt.t) || pt.t < -60 || pt.t > p->duration + 60) {
            continue;
        }
        g_array_append_val(out, pt);
        if (host && last_host && strcmp(host, last_host) != 0) {
            tl_add(p, pt.t, "%s sampled on %s (was %s)", name, host, last_host);
        }
        last_host = host ? host : last_host;
    }
    g_array_sort(out, cmp_point);
}

/* The trouble probability of risk domain @d within @h: the larger of its
 * failure and its host's contention (NAN when neither is known). */
static double
trouble(json_object *d, const char *h)
{
    double f = jnum(jget(d, "failure"), h);
    double c = jnum(jget(d, "contention_p"), h);

    return isnan(f) ? c : isnan(c) ? f : MAX(f, c);
}

static void
risk_load(const Report *r, Policy *p)
{
    g_autofree char *path = g_build_filename(p->dir, "risk.jsonl", NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    int bad = 0;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return;
    }
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_autoptr(json_object) o = NULL;
        json_object *hs, *d, *cpu;
        double thr;
        RiskRow row;

        if (*g_strstrip(lines[i]) == '\0') {
            continue;
        }
        o = json_tokener_parse(lines[i]);
        row.t = jnum(o, "t") - p->t0;
        if (!o || !isfinite(row.t)) {
            bad++;
            continue;
        }
        hs = jfind(jget(o, "host"), "hosts", "host", r->host);
        cpu = jget(jget(hs, "contention"), "cpu");
        row.demand = jnum(jget(cpu, "demand"), "5m");
        row.lo = jnum(jget(cpu, "demand_lo95"), "5m");
        row.hi = jnum(jget(cpu, "demand_hi95"), "5m");
        d = jfind(jget(o, "domain"), "domains", "domain", r->primary);
        row.p15 = trouble(d, "15m");
        row.p1h = trouble(d, "1h");
        thr = jnum(d, "threshold");
        thr = isfinite(thr) ? thr : jnum(jget(o, "domain"), "threshold");
        row.thr = isfinite(thr) ? thr : jnum(jget(o, "host"), "threshold");
        g_array_append_val(p->risk, row);
    }
    if (bad) {
        fprintf(stderr, "umbra-lab-report: warning: %s: %d bad lines ignored\n",
                path, bad);
    }
}

static void
shadow_load(Policy *p)
{
    g_autofree char *path = g_build_filename(p->dir, "shadow.json", NULL);
    json_object *j;

    p->shadow = json_read_optional(path);
    g_free(path);
    path = g_build_filename(p->dir, "shadow-cutover.json", NULL);
    p->shcut = json_read_optional(path);
    j = jget(p->shadow, "journal");
    for (size_t i = 0; j && json_object_is_type(j, json_type_array) &&
                       i < json_object_array_length(j);
         i++) {
        json_object *e = json_object_array_get_idx(j, i);
        JRow row = {jnum(e, "time") / 1e6 - p->t0, jstr(e, "to"),
                    jstr(e, "event"), jstr(e, "detail")};

        if (isfinite(row.t) && row.to) {
            g_array_append_val(p->journal, row);
        }
    }
}

static void
events_load(const Report *r, Policy *p)
{
    g_autofree char *path = g_build_filename(p->dir, "events.json", NULL);
    g_autoptr(json_object) o = json_read_optional(path);
    json_object *a = jget(o, "events");

    for (size_t i = 0; a && json_object_is_type(a, json_type_array) &&
                       i < json_object_array_length(a);
         i++) {
        json_object *e = json_object_array_get_idx(a, i);
        const char *dom = jstr(e, "domain");
        double t = jnum(e, "time") / 1e6 - p->t0;

        if (g_strcmp0(jstr(e, "type"), "domain-moved") == 0 && dom &&
            (strcmp(dom, r->primary) == 0 || strcmp(dom, r->neighbour) == 0) &&
            t >= -60 && t <= p->duration + AFTER_S) {
            tl_add(p, t, "event: %s moved %s", dom,
                   jstr(e, "detail") ? jstr(e, "detail") : "");
        }
    }
}

static bool
policy_load(const Report *r, Policy *p, GError **error)
{
    json_object *vc = jget(r->scenario, "vcpus");
    double v1 = jnum(vc, r->primary), v2 = jnum(vc, r->neighbour);

    if (!meta_load(p, error) || !requests_load(p, error)) {
        return false;
    }
    domstats_load(p, r->primary, isfinite(v1) && v1 > 0 ? v1 : 1, p->prim);
    domstats_load(p, r->neighbour, isfinite(v2) && v2 > 0 ? v2 : 1, p->neigh);
    risk_load(r, p);
    shadow_load(p);
    events_load(r, p);
    return true;
}

/* --- analysis ----------------------------------------------------------- */

/* The latencies of @reqs by bin floor(t / @width) (t < 0 in bin 0),
 * sorted, failures as +INFINITY. (transfer full) GArray* of double. */
static GPtrArray *
bins_new(GArray *reqs, double width)
{
    GPtrArray *bins =
        g_ptr_array_new_with_free_func((GDestroyNotify) g_array_unref);

    for (guint i = 0; i < reqs->len; i++) {
        const Req *q = &g_array_index(reqs, Req, i);
        guint b = q->t > 0 ? (guint) (q->t / width) : 0;
        double v = q->ok ? q->lat_ms : INFINITY;

        while (bins->len <= b) {
            g_ptr_array_add(bins, g_array_new(FALSE, FALSE, sizeof(double)));
        }
        if (!isnan(v)) {
            g_array_append_val(bins->pdata[b], v);
        }
    }
    for (guint b = 0; b < bins->len; b++) {
        g_array_sort(bins->pdata[b], cmp_double);
    }
    return bins;
}

static void
policy_requests(const Report *r, Policy *p)
{
    g_autoptr(GArray) lat = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GPtrArray) bins = bins_new(p->reqs, r->slo_window);
    bool open = false;

    for (guint i = 0; i < p->reqs->len; i++) {
        const Req *q = &g_array_index(p->reqs, Req, i);

        p->nreq++;
        p->nfail += !q->ok;
        if (q->ok && !isnan(q->lat_ms)) {
            g_array_append_val(lat, q->lat_ms);
        }
    }
    g_array_sort(lat, cmp_double);
    p->p50 = pct_sorted((double *) lat->data, lat->len, 50);
    p->p99 = pct_sorted((double *) lat->data, lat->len, 99);
    for (guint b = 0; b <= bins->len; b++) {
        GArray *v = b < bins->len ? bins->pdata[b] : NULL;
        bool bad = v && pct_sorted((double *) v->data, v->len, 99) > r->slo_ms;
        double edge = b * r->slo_window;

        p->nviol += bad;
        if (bad != open) {
            /* A violating span starts or ends here. */
            g_array_append_val(p->viol, edge);
        }
        open = bad;
    }
}

/* Whether the primary's sample at t covers a time umbra worked on it:
 * staging a shadow (QEMU serves its disks) or migrating it (QEMU's
 * migration thread). Such a sample's CPU time is not the workload's. */
static bool
primary_busy(const Policy *p, double t)
{
    /* A sample covers the interval before it (umbrad's, 2 s in the lab). */
    const double span = 2.5;
    double from = NAN;

    for (guint i = 0; i < p->journal->len; i++) {
        const JRow *row = &g_array_index(p->journal, JRow, i);
        const char *ev = row->event ? row->event : "";

        if (isnan(from) &&
            (strcmp(ev, "create") == 0 || strcmp(ev, "activate") == 0)) {
            from = row->t;
        } else if (isfinite(from)) {
            /* The operation's end: staged-*, stage-failed, cutover-*... */
            if (t >= from && t <= row->t + span) {
                return true;
            }
            from = NAN;
        }
    }
    /* An operation still running at the end of the journal. */
    return isfinite(from) && t >= from;
}

static void
policy_overload(const Report *r, Policy *p)
{
    const Point *nb = (const Point *) p->neigh->data;
    double first = NAN;
    guint j = 0;
    int run = 0;

    p->own_overload_s = NAN;
    for (guint i = 0; i < p->prim->len; i++) {
        Point a = g_array_index(p->prim, Point, i);
        double best = NEAREST_S, other = NAN;

        while (j + 1 < p->neigh->len && nb[j + 1].t <= a.t) {
            j++;
        }
        for (guint k = j; k <= j + 1 && k < p->neigh->len; k++) {
            if (fabs(nb[k].t - a.t) <= best && isfinite(nb[k].v)) {
                best = fabs(nb[k].t - a.t);
                other = nb[k].v;
            }
        }
        a.v += other;
        g_array_append_val(p->sum, a);
        /* Only the overload the ramp brings: a spike of web1's trace on
         * batch1's base load before it is not what the scenario is about
         * (and lasts seconds, too short to break an SLO window). */
        if (a.t < 0 || a.t > p->duration || isfinite(p->own_overload_s) ||
            (isfinite(p->ramp_start) && a.t < p->ramp_start) ||
            primary_busy(p, a.t)) {
            /* A skipped sample neither counts nor breaks a run: the
             * samples either side of it still make two in a row. */
            continue;
        }
        if (isfinite(a.v) && a.v >= OVERLOAD_FRAC * r->host_cpus) {
            if (run++ == 0) {
                first = a.t;
            }
            if (run >= 2) {
                p->own_overload_s = first;
            }
        } else {
            run = 0;
        }
    }
}

static bool
in_run(const Policy *p, double t)
{
    return t >= 0 && t <= p->duration + AFTER_S;
}

static void
policy_cutover(Policy *p)
{
    /* The record as the run's first cutover left it, when the scenario
     * kept it (a later shadow of the same domain replaces the record). */
    json_object *rec = p->shcut ? p->shcut : p->shadow;
    json_object *c = jget(rec, "cutover");
    Cutover *cut = &p->cut;
    const JRow *act = NULL, *fin = NULL, *staged = NULL;
    double total_ms = jnum(c, "total_ms");

    cut->started_s = jnum(c, "started") / 1e6 - p->t0;
    cut->total_s = cut->downtime_ms = cut->bytes_sent = cut->staged_s = NAN;
    if (!in_run(p, cut->started_s)) {
        /* No record of this run's cutover: the journal's last activation. */
        c = NULL;
        cut->started_s = NAN;
        for (guint i = 0; i < p->journal->len; i++) {
            const JRow *row = &g_array_index(p->journal, JRow, i);

            if (in_run(p, row->t) && g_strcmp0(row->event, "activate") == 0) {
                cut->started_s = row->t;
            }
        }
    }
    for (guint i = 0; i < p->journal->len; i++) {
        const JRow *row = &g_array_index(p->journal, JRow, i);
        const char *ev = row->event ? row->event : "";

        p->migrations += in_run(p, row->t) && strcmp(ev, "cutover-done") == 0;
        if (row->t <= cut->started_s + 1 && strcmp(ev, "activate") == 0) {
            act = row;
        }
        if (row->t <= cut->started_s && g_str_has_prefix(ev, "staged-")) {
            staged = row;
        }
        if (!fin && row->t >= cut->started_s - 1 &&
            g_str_has_prefix(ev, "cutover-") &&
            strcmp(ev, "cutover-unsure") != 0) {
            fin = row;
        }
    }
    if (isnan(cut->started_s)) {
        return;
    }
    cut->have = true;
    cut->completed = (fin && strcmp(fin->event, "cutover-done") == 0) ||
                     (c && g_strcmp0(jstr(rec, "state"), "promoted") == 0);
    p->migrations = MAX(p->migrations, cut->completed ? 1 : 0);
    if (c && (cut->completed || total_ms > 0)) {
        /* The record's stats are zero until the cutover has ended. */
        cut->total_s = total_ms / 1000;
        cut->downtime_ms = jnum(c, "downtime_ms");
        cut->bytes_sent = jnum(c, "bytes_sent");
        if (isnan(cut->bytes_sent)) {
            cut->bytes_sent = jnum(c, "memory_bytes") + jnum(c, "disk_bytes");
        }
    } else if (!c && fin) {
        cut->total_s = fin->t - cut->started_s;
    }
    cut->staged_s = staged ? staged->t : NAN;
    cut->staging_bytes = jnum(rec, "bytes");
    cut->staging_s = jnum(rec, "stage_seconds");
    cut->origin = jstr(rec, "origin");
    cut->reason = act ? act->detail : NULL;
}

static void
policy_risk(Policy *p)
{
    p->risk1h_s = p->risk15m_s = NAN;
    for (guint i = 0; i < p->risk->len; i++) {
        const RiskRow *row = &g_array_index(p->risk, RiskRow, i);

        if (isnan(p->risk1h_s) && row->p1h >= row->thr) {
            p->risk1h_s = row->t;
        }
        if (isnan(p->risk15m_s) && row->p15 >= row->thr) {
            p->risk15m_s = row->t;
        }
    }
}

static void
policy_timeline(const Report *r, Policy *p)
{
    const Cutover *c = &p->cut;

    tl_add(p, p->ramp_start, "%s starts ramping up", r->neighbour);
    tl_add(p, p->ramp_end, "%s at full load", r->neighbour);
    tl_add(p, p->risk1h_s, "risk: P(trouble within 1h) of %s >= threshold",
           r->primary);
    tl_add(p, p->risk15m_s, "risk: P(trouble within 15m) of %s >= threshold",
           r->primary);
    for (guint i = 0; i < p->journal->len; i++) {
        const JRow *row = &g_array_index(p->journal, JRow, i);

        if (in_run(p, row->t)) {
            tl_add(p, row->t, "shadow: %s -> %s%s%s",
                   row->event ? row->event : "-", row->to,
                   row->detail ? ": " : "", row->detail ? row->detail : "");
        }
    }
    if (c->have) {
        tl_add(p, c->started_s, "cutover of %s starts", r->primary);
        if (c->completed && isfinite(c->downtime_ms)) {
            tl_add(p, c->started_s + c->total_s,
                   "cutover ends: completed, downtime %.0f ms", c->downtime_ms);
        } else {
            tl_add(p, c->started_s + c->total_s, "cutover ends: %s",
                   c->completed ? "completed" : "failed");
        }
    }
    tl_add(p, p->overload_s, "%s + %s demand >= %.0f%% of %s's %g CPUs",
           r->primary, r->neighbour, OVERLOAD_FRAC * 100, r->host,
           r->host_cpus);
    for (guint i = 0; i < p->viol->len; i++) {
        double t = g_array_index(p->viol, double, i);

        if (i % 2) {
            tl_add(p, t, "SLO met again");
        } else {
            tl_add(p, t, "SLO violated (window p99 > %g ms)", r->slo_ms);
        }
    }
    g_array_sort(p->timeline, cmp_tl);
}

/* --- SVG charts --------------------------------------------------------- */

typedef enum { AXIS_LINEAR, AXIS_LOG, AXIS_NONE } Axis;

/* One chart being drawn. */
typedef struct {
    GString *s;      /* the document */
    GString *legend; /* legend entries, drawn last */
    double x1;       /* x range 0..x1 (s) */
    double y0, y1;   /* y range (log10 of it with AXIS_LOG) */
    Axis axis;       /* y axis */
    double px, py;   /* plot area origin (px) */
    double pw, ph;   /* plot area size (px) */
    double lx;       /* next legend entry (px) */
} Chart;

static double
cx(const Chart *c, double t)
{
    return c->px + CLAMP(t / c->x1, -0.01, 1.01) * c->pw;
}

static double
cy(const Chart *c, double v)
{
    double y = c->axis == AXIS_LOG ? log10(MAX(v, 1e-9)) : v;

    y = CLAMP(y, c->y0, c->y1);
    return c->py + c->ph - (y - c->y0) / (c->y1 - c->y0) * c->ph;
}

/* A step of 1, 2 or 5 times a power of ten giving about @n ticks. */
static double
nice_step(double range, int n)
{
    double raw = range / n, p = pow(10, floor(log10(raw)));

    return raw <= p ? p : raw <= 2 * p ? 2 * p : raw <= 5 * p ? 5 * p : 10 * p;
}

static void
chart_begin(Chart *c, Report *r, GString *s, double x1, double y0, double y1,
            Axis axis, int height, const char *ylabel)
{
    int id = ++r->svg_ids;
    bool log = axis == AXIS_LOG;
    double step;

    *c = (Chart){.s = s,
                 .legend = g_string_new(NULL),
                 .x1 = x1,
                 .y0 = y0,
                 .y1 = y1,
                 .axis = axis,
                 .px = 62,
                 .py = 26,
                 .pw = CHART_W - 80,
                 .ph = height - 56,
                 .lx = 62};
    g_string_append_printf(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
        "font-family=\"sans-serif\" font-size=\"11\">\n<defs><clipPath "
        "id=\"c%d\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
        "height=\"%.1f\"/></clipPath></defs>\n<rect x=\"%.1f\" y=\"%.1f\" "
        "width=\"%.1f\" height=\"%.1f\" fill=\"#fff\" stroke=\"#999\"/>\n",
        CHART_W, height, id, c->px, c->py, c->pw, c->ph, c->px, c->py, c->pw,
        c->ph);
    step = nice_step(x1, 12);
    for (double t = 0; t <= x1 + 1e-9; t += step) {
        g_string_append_printf(
            s,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"#eee\"/><text x=\"%.1f\" y=\"%.1f\" "
            "text-anchor=\"middle\">%g</text>\n",
            cx(c, t), c->py, cx(c, t), c->py + c->ph, cx(c, t),
            c->py + c->ph + 14, t);
    }
    g_string_append_printf(s,
                           "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" "
                           "fill=\"#555\">seconds since start</text>\n",
                           c->px + c->pw, height - 2);
    step = log ? 1 : nice_step(y1 - y0, 4);
    for (double y = log ? ceil(y0) : y0; axis != AXIS_NONE && y <= y1 + 1e-9;
         y += step) {
        double v = log ? pow(10, y) : y;

        g_string_append_printf(
            s,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"#eee\"/><text x=\"%.1f\" y=\"%.1f\" "
            "text-anchor=\"end\">%g</text>\n",
            c->px, cy(c, v), c->px + c->pw, cy(c, v), c->px - 4, cy(c, v) + 4,
            v);
    }
    g_string_append_printf(s,
                           "<text transform=\"translate(12,%.1f) rotate(-90)\" "
                           "text-anchor=\"middle\" fill=\"#555\">",
                           c->py + c->ph / 2);
    hprintf(s, "%s</text>\n<g clip-path=\"url(#c%d)\">\n", ylabel, id);
}

/* Adds a legend entry: a line of @width, or with @box a filled box of
 * opacity @width. */
static void
chart_legend(Chart *c, const char *color, double width, const char *dash,
             bool box, const char *label)
{
    if (box) {
        g_string_append_printf(c->legend,
                               "<rect x=\"%.1f\" y=\"6\" width=\"18\" "
                               "height=\"10\" fill=\"%s\" opacity=\"%g\"/>",
                               c->lx, color, width);
    } else {
        g_string_append_printf(c->legend,
                               "<line x1=\"%.1f\" y1=\"11\" x2=\"%.1f\" "
                               "y2=\"11\" stroke=\"%s\" stroke-width=\"%g\" "
                               "stroke-dasharray=\"%s\"/>",
                               c->lx, c->lx + 18, color, width, dash);
    }
    hprintf(c->legend, "<text x=\"%.1f\" y=\"15\">%s</text>\n", c->lx + 22,
            label);
    c->lx += 34 + 6.0 * (double) g_utf8_strlen(label, -1);
}

static void
chart_end(Chart *c, bool empty)
{
    g_string_append(c->s, "</g>\n");
    if (empty) {
        g_string_append_printf(c->s,
                               "<text x=\"%.1f\" y=\"%.1f\" "
                               "text-anchor=\"middle\" fill=\"#888\" "
                               "font-size=\"16\">no data</text>\n",
                               c->px + c->pw / 2, c->py + c->ph / 2 + 5);
    }
    g_string_append(c->s, c->legend->str);
    g_string_append(c->s, "</svg>\n");
    g_string_free(c->legend, TRUE);
}

/* A polyline of @pts (@stride bytes apart, value at @voff), broken at
 * unknown values; circles of radius @mark at the points when > 0. */
static void
chart_line(Chart *c, const void *pts, guint n, size_t stride, size_t voff,
           const char *color, double width, const char *dash, double mark)
{
    bool open = false;

    for (guint i = 0; i <= n; i++) {
        const char *e = (const char *) pts + i * stride;
        double t = i < n ? *(const double *) e : NAN;
        double v = i < n ? *(const double *) (e + voff) : NAN;

        if (!isfinite(t) || !isfinite(v)) {
            g_string_append(c->s, open ? "\"/>\n" : "");
            open = false;
            continue;
        }
        if (!open) {
            g_string_append_printf(
                c->s,
                "<polyline fill=\"none\" stroke=\"%s\" "
                "stroke-width=\"%g\" stroke-dasharray=\"%s\" "
                "points=\"",
                color, width, dash);
            open = true;
        }
        g_string_append_printf(c->s, "%.1f,%.1f ", cx(c, t), cy(c, v));
    }
    for (guint i = 0; mark > 0 && i < n; i++) {
        const char *e = (const char *) pts + i * stride;
        double v = *(const double *) (e + voff);

        if (isfinite(v)) {
            g_string_append_printf(
                c->s, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%g\" fill=\"%s\"/>",
                cx(c, *(const double *) e), cy(c, v), mark, color);
        }
    }
}

#define LINE(c, arr, type, field, ...)                                         \
    chart_line((c), (arr)->data, (arr)->len, sizeof(type),                     \
               G_STRUCT_OFFSET(type, field), __VA_ARGS__)

/* A rectangle over x in [@a, @b), the full height. */
static void
chart_span(Chart *c, double a, double b, const char *fill, double opacity)
{
    if (isfinite(a) && isfinite(b) && b > a) {
        g_string_append_printf(c->s,
                               "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                               "height=\"%.1f\" fill=\"%s\" opacity=\"%g\"/>\n",
                               cx(c, a), c->py, MAX(cx(c, b) - cx(c, a), 1.0),
                               c->ph, fill, opacity);
    }
}

/* A vertical line at @t, labelled in text row @row from the top. */
static void
chart_vline(Chart *c, double t, const char *color, const char *label, int row)
{
    if (!isfinite(t)) {
        return;
    }
    hprintf(
        c->s,
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
        "stroke=\"%s\"/><text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">%s</text>\n",
        cx(c, t), c->py, cx(c, t), c->py + c->ph, color, cx(c, t) + 3,
        c->py + 11 + 12 * row, color, label);
}

/* The forecasts' 95% bands, one polygon per run of rows that have one.
 * Returns: whether there was any. */
static bool
chart_band(Chart *c, const RiskRow *rr, guint n)
{
    bool any = false;

    for (guint i = 0, j; i < n; i = j + 1) {
        j = i;
        while (j < n && isfinite(rr[j].lo) && isfinite(rr[j].hi)) {
            j++;
        }
        if (j == i) {
            continue;
        }
        g_string_append(c->s, "<polygon fill=\"#9ecae1\" opacity=\"0.5\" "
                              "points=\"");
        for (guint k = i; k < j; k++) {
            g_string_append_printf(c->s, "%.1f,%.1f ", cx(c, rr[k].t),
                                   cy(c, rr[k].hi));
        }
        for (guint k = j; k-- > i;) {
            g_string_append_printf(c->s, "%.1f,%.1f ", cx(c, rr[k].t),
                                   cy(c, rr[k].lo));
        }
        g_string_append(c->s, "\"/>\n");
        any = true;
    }
    return any;
}

static void
chart_load(Report *r, const Policy *p, GString *s)
{
    g_autofree char *cap =
        g_strdup_printf("capacity of %s (%g CPUs)", r->host, r->host_cpus);
    g_autofree char *pl = g_strdup_printf("%s (CPUs)", r->primary);
    double ymax = r->host_cpus * 1.2;
    Point cp[2] = {{0, r->host_cpus}, {p->duration, r->host_cpus}};
    bool band;
    Chart c;

    for (guint i = 0; i < p->sum->len; i++) {
        ymax = fmax(ymax, g_array_index(p->sum, Point, i).v * 1.1);
    }
    for (guint i = 0; i < p->risk->len; i++) {
        ymax = fmax(ymax, g_array_index(p->risk, RiskRow, i).hi * 1.05);
        ymax = fmax(ymax, g_array_index(p->risk, RiskRow, i).demand * 1.1);
    }
    chart_begin(&c, r, s, p->duration, 0, ymax, AXIS_LINEAR, 200, "CPUs");
    chart_vline(&c, p->ramp_start, "#aaa", "ramp start", 0);
    chart_vline(&c, p->ramp_end, "#aaa", "ramp end", 0);
    chart_vline(&c, p->cut.started_s, "#6a3d9a", "cutover", 1);
    band = chart_band(&c, (const RiskRow *) p->risk->data, p->risk->len);
    LINE(&c, p->prim, Point, v, "#1f77b4", 1.5, "none", 0);
    LINE(&c, p->neigh, Point, v, "#ff7f0e", 1.5, "none", 0);
    LINE(&c, p->sum, Point, v, "#222", 2.5, "none", 0);
    chart_line(&c, cp, 2, sizeof(Point), G_STRUCT_OFFSET(Point, v), "#d62728",
               1.5, "6,4", 0);
    LINE(&c, p->risk, RiskRow, demand, "#2ca02c", 1.2, "3,2", 2);
    chart_legend(&c, "#1f77b4", 1.5, "none", false, pl);
    chart_legend(&c, "#ff7f0e", 1.5, "none", false, r->neighbour);
    chart_legend(&c, "#222", 2.5, "none", false, "sum");
    chart_legend(&c, "#d62728", 1.5, "6,4", false, cap);
    chart_legend(&c, "#2ca02c", 1.2, "3,2", false,
                 "forecast of demand 5 min ahead (made at t)");
    if (band) {
        chart_legend(&c, "#9ecae1", 0.5, "none", true, "95% band");
    }
    chart_end(&c, p->prim->len + p->neigh->len + p->risk->len == 0);
}

static void
chart_risk(Report *r, const Policy *p, GString *s)
{
    Chart c;

    chart_begin(&c, r, s, p->duration, 0, 1, AXIS_LINEAR, 180, "probability");
    chart_vline(&c, p->cut.started_s, "#6a3d9a", "cutover", 1);
    LINE(&c, p->risk, RiskRow, p15, "#ff7f0e", 1.5, "none", 0);
    LINE(&c, p->risk, RiskRow, p1h, "#1f77b4", 1.5, "none", 0);
    LINE(&c, p->risk, RiskRow, thr, "#d62728", 1.5, "6,4", 0);
    chart_legend(&c, "#ff7f0e", 1.5, "none", false,
                 "P(trouble within 15 min): failure or contention");
    chart_legend(&c, "#1f77b4", 1.5, "none", false, "P(trouble within 1 h)");
    chart_legend(&c, "#d62728", 1.5, "6,4", false, "alert threshold");
    chart_end(&c, p->risk->len == 0);
}

static const char *
state_color(const char *st)
{
    static const char *const tbl[][2] = {
        {"staging", "#f6c667"}, {"warm", "#f4a259"},     {"cold", "#8ecae6"},
        {"active", "#e76f51"},  {"promoted", "#2a9d8f"}, {"retiring", "#bbb"},
        {"retired", "#ddd"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(tbl); i++) {
        if (g_strcmp0(st, tbl[i][0]) == 0) {
            return tbl[i][1];
        }
    }
    return "#ccc";
}

static void
chart_shadow(Report *r, const Policy *p, GString *s)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    const JRow *rows = (const JRow *) p->journal->data;
    const char *st = NULL;
    double from = 0;
    bool any = false;
    Chart c;

    chart_begin(&c, r, s, p->duration, 0, 1, AXIS_NONE, 120, "shadow");
    chart_span(&c, p->cut.started_s, p->cut.started_s + p->cut.total_s,
               "#6a3d9a", 0.2);
    for (guint i = 0; i <= p->journal->len; i++) {
        double t = i < p->journal->len ? rows[i].t : p->duration;
        double x0 = cx(&c, from), x1 = cx(&c, MIN(t, p->duration));

        if (i < p->journal->len && t < 0) {
            /* Carried into the run unless it ended before. */
            bool final = g_strcmp0(rows[i].to, "promoted") == 0 ||
                         g_strcmp0(rows[i].to, "retired") == 0;
            st = final ? NULL : rows[i].to;
            continue;
        }
        if (i < p->journal->len &&
            (!in_run(p, t) || g_strcmp0(rows[i].to, st) == 0)) {
            continue;
        }
        if (st && x1 > x0) {
            g_string_append_printf(s,
                                   "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                                   "height=\"%.1f\" fill=\"%s\"/>\n",
                                   x0, c.py + c.ph * 0.2, x1 - x0, c.ph * 0.6,
                                   state_color(st));
            if (x1 - x0 > 6.5 * (double) strlen(st) + 4) {
                hprintf(s,
                        "<text x=\"%.1f\" y=\"%.1f\" "
                        "text-anchor=\"middle\">%s</text>\n",
                        (x0 + x1) / 2, c.py + c.ph / 2 + 4, st);
            }
            if (!g_hash_table_contains(seen, st)) {
                g_hash_table_add(seen, (char *) st);
                chart_legend(&c, state_color(st), 1, "none", true, st);
            }
            any = true;
        }
        if (i < p->journal->len) {
            st = rows[i].to;
            from = MAX(t, 0);
        }
    }
    chart_vline(&c, p->cut.started_s, "#6a3d9a", "cutover", 1);
    if (p->cut.have) {
        chart_legend(&c, "#6a3d9a", 0.2, "none", true, "cutover");
    }
    chart_end(&c, !any && !p->cut.have);
}

static void
chart_latency(Report *r, const Policy *p, GString *s)
{
    g_autoptr(GPtrArray) bins = bins_new(p->reqs, 1.0);
    g_autoptr(GArray) pts = g_array_new(FALSE, FALSE, sizeof(Point));
    g_autofree char *slo = g_strdup_printf("SLO: p99 <= %g ms", r->slo_ms);
    double lo = r->slo_ms, hi = r->slo_ms;
    Point sp[2] = {{0, r->slo_ms}, {p->duration, r->slo_ms}};
    Chart c;

    for (guint b = 0; b < bins->len; b++) {
        GArray *v = bins->pdata[b];
        guint ok = 0;
        Point pt = {b + 0.5, NAN};

        while (ok < v->len && isfinite(g_array_index(v, double, ok))) {
            ok++;
        }
        pt.v = pct_sorted((double *) v->data, ok, 99);
        lo = isfinite(pt.v) ? MIN(lo, MAX(pt.v, 0.01)) : lo;
        hi = isfinite(pt.v) ? MAX(hi, pt.v) : hi;
        g_array_append_val(pts, pt);
    }
    chart_begin(&c, r, s, p->duration, floor(log10(lo)), ceil(log10(hi * 1.05)),
                AXIS_LOG, 200, "p99 latency (ms)");
    for (guint i = 0; i + 1 < p->viol->len; i += 2) {
        chart_span(&c, g_array_index(p->viol, double, i),
                   g_array_index(p->viol, double, i + 1), "#f4cccc", 0.8);
    }
    chart_vline(&c, p->cut.started_s, "#6a3d9a", "cutover", 1);
    chart_line(&c, sp, 2, sizeof(Point), G_STRUCT_OFFSET(Point, v), "#d62728",
               1.5, "6,4", 0);
    LINE(&c, pts, Point, v, "#1f77b4", 1.5, "none", 0);
    for (guint b = 0; b < bins->len; b++) {
        GArray *v = bins->pdata[b];

        if (v->len && isinf(g_array_index(v, double, v->len - 1))) {
            g_string_append_printf(s,
                                   "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                                   "height=\"8\" fill=\"#d62728\"/>\n",
                                   cx(&c, b), c.py + c.ph - 8,
                                   MAX(cx(&c, b + 1) - cx(&c, b), 1.5));
        }
    }
    chart_legend(&c, "#1f77b4", 1.5, "none", false, "p99 per second");
    chart_legend(&c, "#d62728", 1.5, "6,4", false, slo);
    chart_legend(&c, "#d62728", 1, "none", true, "failed requests");
    chart_legend(&c, "#f4cccc", 0.8, "none", true, "SLO window violated");
    chart_end(&c, p->reqs->len == 0);
}

/* --- output ------------------------------------------------------------- */

static json_object *
cutover_json(const Cutover *c)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "completed",
                           json_object_new_boolean(c->completed));
    json_object_object_add(o, "bytes_sent", jdouble(c->bytes_sent));
    json_object_object_add(o, "total_seconds", jdouble(c->total_s));
    json_object_object_add(o, "downtime_ms", jdouble(c->downtime_ms));
    json_object_object_add(o, "started_s", jdouble(c->started_s));
    json_object_object_add(o, "staged_s", jdouble(c->staged_s));
    json_object_object_add(o, "staging_bytes", jdouble(c->staging_bytes));
    json_object_object_add(o, "staging_seconds", jdouble(c->staging_s));
    json_object_object_add(
        o, "origin", c->origin ? json_object_new_string(c->origin) : NULL);
    json_object_object_add(
        o, "reason", c->reason ? json_object_new_string(c->reason) : NULL);
    return o;
}

static bool
summary_write(const Report *r, const char *path, GError **error)
{
    g_autoptr(json_object) o = json_object_new_object();
    json_object *pols = json_object_new_object();
    json_object *cmp = json_object_new_object();
    json_object *cs = json_object_new_object(), *cf = json_object_new_object();

    json_object_object_add(o, "scenario", json_object_get(r->scenario));
    json_object_object_add(o, "policies", pols);
    json_object_object_add(o, "comparison", cmp);
    json_object_object_add(cmp, "slo_violation_seconds", cs);
    json_object_object_add(cmp, "failed_requests", cf);
    for (guint i = 0; i < r->npol; i++) {
        const Policy *p = &r->pol[i];
        json_object *po = json_object_new_object();
        json_object *w = json_object_new_array();
        double slo_s = p->nviol * r->slo_window;

        for (guint k = 0; k + 1 < p->viol->len; k += 2) {
            json_object *pair = json_object_new_array();

            json_object_array_add(pair,
                                  jdouble(g_array_index(p->viol, double, k)));
            json_object_array_add(
                pair, jdouble(g_array_index(p->viol, double, k + 1)));
            json_object_array_add(w, pair);
        }
        json_object_object_add(po, "requests", json_object_new_int64(p->nreq));
        json_object_object_add(po, "failed_requests",
                               json_object_new_int64(p->nfail));
        json_object_object_add(po, "p50_ms", jdouble(p->p50));
        json_object_object_add(po, "p99_ms", jdouble(p->p99));
        json_object_object_add(po, "slo_violation_seconds", jdouble(slo_s));
        json_object_object_add(po, "slo_windows", w);
        json_object_object_add(po, "migrations",
                               json_object_new_int(p->migrations));
        json_object_object_add(po, "cutover",
                               p->cut.have ? cutover_json(&p->cut) : NULL);
        json_object_object_add(po, "would_overload_s", jdouble(p->overload_s));
        json_object_object_add(po, "own_overload_s",
                               jdouble(p->own_overload_s));
        json_object_object_add(po, "lead_seconds", jdouble(p->lead_s));
        json_object_object_add(po, "risk_1h_s", jdouble(p->risk1h_s));
        json_object_object_add(po, "risk_15m_s", jdouble(p->risk15m_s));
        json_object_object_add(pols, p->name, po);
        json_object_object_add(cs, p->name, jdouble(slo_s));
        json_object_object_add(cf, p->name, json_object_new_int64(p->nfail));
    }
    return g_file_set_contents(
        path,
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                              JSON_C_TO_STRING_SPACED |
                                              JSON_C_TO_STRING_NOSLASHESCAPE),
        -1, error);
}

/* The comparison table: a row per metric, a column per policy. */
static GPtrArray *
comparison_rows(const Report *r)
{
    static const char *const labels[] = {
        "SLO violation (s)", "failed requests", "requests",
        "p99 latency (ms)",  "migrations",      "cutover sent (MiB)",
        "cutover total (s)", "downtime (ms)",   "lead (s)",
    };
    GPtrArray *rows =
        g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);
    char **head = g_new0(char *, r->npol + 2);

    head[0] = g_strdup("");
    for (guint i = 0; i < r->npol; i++) {
        head[i + 1] = g_strdup(r->pol[i].name);
    }
    g_ptr_array_add(rows, head);
    for (guint m = 0; m < G_N_ELEMENTS(labels); m++) {
        char **row = g_new0(char *, r->npol + 2);

        row[0] = g_strdup(labels[m]);
        for (guint i = 0; i < r->npol; i++) {
            const Policy *p = &r->pol[i];
            const double v[] = {
                p->nviol * r->slo_window,
                (double) p->nfail,
                (double) p->nreq,
                p->p99,
                p->migrations,
                p->cut.bytes_sent / 1048576.0,
                p->cut.total_s,
                p->cut.downtime_ms,
                p->lead_s,
            };
            static const int dec[] = {1, 0, 0, 1, 0, 1, 1, 0, 1};

            row[i + 1] = fmt_num(v[m], dec[m]);
        }
        g_ptr_array_add(rows, row);
    }
    return rows;
}

static void
html_table(GString *s, GPtrArray *rows)
{
    g_string_append(s, "<table>\n");
    for (guint i = 0; i < rows->len; i++) {
        char **row = rows->pdata[i];

        g_string_append(s, "<tr>");
        for (guint j = 0; row[j]; j++) {
            hprintf(s, i == 0 ? "<th>%s</th>" : "<td>%s</td>", row[j]);
        }
        g_string_append(s, "</tr>\n");
    }
    g_string_append(s, "</table>\n");
}

static bool
html_write(Report *r, const char *path, GError **error)
{
    g_autoptr(GString) s = g_string_new(NULL);
    g_autoptr(GPtrArray) rows = comparison_rows(r);
    json_object *rules = jget(r->scenario, "rules");

    const char *title = r->title ? r->title : "umbra lab report";

    hprintf(s,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>%s</title>\n<style>\n"
            "body{font-family:sans-serif;margin:1em auto;max-width:940px}\n"
            "table{border-collapse:collapse;margin:.5em 0 1.5em}\n"
            "th,td{border:1px solid #ccc;padding:2px 8px;text-align:right}\n"
            "th:first-child,td:first-child,td.what{text-align:left}\n"
            "h2{border-bottom:2px solid #ccc;margin-top:2em}\n"
            "h3{margin:.8em 0 .2em;font-size:100%%}\n.rule{color:#555}\n"
            "</style></head><body>\n<h1>%s</h1>\n",
            title, title);
    hprintf(s,
            "<p>The primary <b>%s</b> starts on <b>%s</b> (%g CPUs) next to "
            "the neighbour <b>%s</b>, whose load ramps up during the run "
            "until the host cannot serve both. Trace replayed: %s. SLO: p99 "
            "latency at most %g ms in every %g s window (failed requests "
            "count as infinitely slow).</p>\n<ul>\n",
            r->primary, r->host, r->host_cpus, r->neighbour,
            r->trace ? r->trace : "-", r->slo_ms, r->slo_window);
    for (guint i = 0; i < r->npol; i++) {
        const char *rule = jstr(rules, r->pol[i].name);

        hprintf(s, "<li><b>%s</b>: %s</li>\n", r->pol[i].name,
                rule ? rule : "-");
    }
    g_string_append(s, "</ul>\n<h2>Comparison</h2>\n");
    html_table(s, rows);
    for (guint i = 0; i < r->npol; i++) {
        const Policy *p = &r->pol[i];
        const char *rule = jstr(rules, p->name);

        hprintf(s,
                "<h2>Policy: %s</h2>\n<p class=\"rule\">%s</p>\n"
                "<h3>Load: both domains' CPU use, wherever they run</h3>\n",
                p->name, rule ? rule : "");
        chart_load(r, p, s);
        g_string_append(s, "<h3>Risk</h3>\n");
        chart_risk(r, p, s);
        g_string_append(s, "<h3>Shadow</h3>\n");
        chart_shadow(r, p, s);
        g_string_append(s, "<h3>Latency</h3>\n");
        chart_latency(r, p, s);
        g_string_append(s, "<h3>Timeline</h3>\n<table>\n"
                           "<tr><th>time (s)</th><th>what</th></tr>\n");
        for (guint k = 0; k < p->timeline->len; k++) {
            const TlEntry *e = &g_array_index(p->timeline, TlEntry, k);

            hprintf(s, "<tr><td>%+.1f</td><td class=\"what\">%s</td></tr>\n",
                    e->t, e->what);
        }
        g_string_append(s, "</table>\n");
    }
    g_string_append(s, "</body></html>\n");
    return g_file_set_contents(path, s->str, (gssize) s->len, error);
}

static void
text_print(const Report *r)
{
    g_autoptr(GPtrArray) rows = comparison_rows(r);
    g_autofree int *width = g_new0(int, r->npol + 1);

    for (guint i = 0; i < r->npol; i++) {
        const Policy *p = &r->pol[i];

        printf("== %s ==\n", p->name);
        for (guint k = 0; k < p->timeline->len; k++) {
            const TlEntry *e = &g_array_index(p->timeline, TlEntry, k);

            printf("  %+7.1fs  %s\n", e->t, e->what);
        }
        printf("\n");
    }
    for (guint i = 0; i < rows->len; i++) {
        char **row = rows->pdata[i];

        for (guint j = 0; row[j]; j++) {
            width[j] = MAX(width[j], (int) g_utf8_strlen(row[j], -1));
        }
    }
    for (guint i = 0; i < rows->len; i++) {
        char **row = rows->pdata[i];

        printf("%-*s", width[0], row[0]);
        for (guint j = 1; row[j]; j++) {
            printf("  %*s", width[j], row[j]);
        }
        printf("\n");
    }
}

static void
report_clear(Report *r)
{
    for (guint i = 0; i < r->npol; i++) {
        Policy *p = &r->pol[i];

        g_array_unref(p->reqs);
        g_array_unref(p->prim);
        g_array_unref(p->neigh);
        g_array_unref(p->sum);
        g_array_unref(p->risk);
        g_array_unref(p->journal);
        g_array_unref(p->viol);
        g_array_unref(p->timeline);
        json_object_put(p->shadow);
        json_object_put(p->shcut);
        g_string_chunk_free(p->strs);
        g_free(p->name);
        g_free(p->dir);
    }
    g_free(r->pol);
    json_object_put(r->scenario);
}

int
main(int argc, char **argv)
{
    Report r = {0};
    g_autoptr(GError) error = NULL;
    g_autoptr(GOptionContext) ctx = NULL;
    g_autofree char *html = NULL;
    g_autofree char *summary = NULL;
    double overload_s = NAN;
    bool ok;

    ctx = g_option_context_new("DIR - report on a predictive-vs-reactive lab "
                               "scenario");
    g_option_context_set_description(
        ctx, "Reads DIR/scenario.json and DIR/POLICY/*, writes "
             "DIR/report.html and DIR/summary.json.");
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "umbra-lab-report: %s\n", error->message);
        return 1;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: umbra-lab-report DIR\n");
        return 1;
    }
    r.dir = argv[1];
    ok = scenario_load(&r, &error);
    for (guint i = 0; ok && i < r.npol; i++) {
        Policy *p = &r.pol[i];

        ok = policy_load(&r, p, &error);
        if (ok) {
            policy_requests(&r, p);
            policy_overload(&r, p);
            policy_cutover(p);
            policy_risk(p);
        }
    }
    /* Every run plays the same load: the scenario's overload is the
     * earliest of the runs' own (fmin() passes over NAN, a run that
     * never overloaded). */
    for (guint i = 0; ok && i < r.npol; i++) {
        overload_s = fmin(overload_s, r.pol[i].own_overload_s);
    }
    for (guint i = 0; ok && i < r.npol; i++) {
        Policy *p = &r.pol[i];

        p->overload_s = overload_s;
        p->lead_s = p->overload_s - p->cut.started_s;
        policy_timeline(&r, p);
    }
    html = g_build_filename(r.dir, "report.html", NULL);
    summary = g_build_filename(r.dir, "summary.json", NULL);
    ok = ok && html_write(&r, html, &error) &&
         summary_write(&r, summary, &error);
    if (!ok) {
        fprintf(stderr, "umbra-lab-report: %s\n", error->message);
        report_clear(&r);
        return 1;
    }
    text_print(&r);
    printf("report: %s\nsummary: %s\n", html, summary);
    report_clear(&r);
    return 0;
}
