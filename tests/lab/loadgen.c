/*
 * umbra-loadgen - replay a real load trace as an HTTP request rate.
 *
 * Part of the namespace lab (tests/lab/): drives a lab guest's
 * /cgi-bin/work with a request rate that follows a trace, so that the
 * guest's CPU use follows real VM behaviour and umbra has something real to
 * forecast.
 *
 *   umbra-loadgen --url http://10.77.100.10/cgi-bin/work?cpu_ms=20 \
 *       --trace bitbrains_rnd/2013-8/7.csv --column 'CPU usage [%]' \
 *       --step-seconds 1 --max-rps 40 --duration 120 --concurrency 8 \
 *       --timeout-ms 2000 --out latency.csv
 *
 * Trace: either the Bitbrains format (fields separated by ";\t", header
 * line, --column names a header) or a plain CSV "t,value" (header optional;
 * --column names a header or gives a 1-based column number; default: the
 * last column). Rows --start-row.. (--rows of them) are replayed, each for
 * --step-seconds. The rate of a step is value / max(value over the replayed
 * window) * --max-rps. Without --trace, --rps gives a constant rate.
 *
 * Algorithm: open loop. Arrival times follow the integral of the
 * piecewise-constant rate (fractional requests carry over between steps),
 * so low rates are reproduced exactly on average. At most --concurrency
 * requests are in flight; arrivals beyond that wait in a queue, and their
 * latency counts from the scheduled time (no coordinated omission). A
 * request that cannot complete within --timeout-ms of its scheduled time
 * fails with "timeout". One thread, non-blocking sockets and poll(2);
 * HTTP/1.0 GET with "Connection: close", one connection per request.
 *
 * Output: one CSV line per request to --out
 * (t_unix,t_rel,step,latency_ms,status,error), a line per finished step,
 * and a final "summary ..." line on stdout. Bounded: stops at --duration,
 * at the end of the trace, or after --max-requests. Exit status: 0 when the
 * run completed, 1 on bad arguments, a bad URL or an unreadable trace.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#define LOADGEN_MAX_CONCURRENCY 1024
#define LOADGEN_MAX_RPS 10000.0
#define LOADGEN_MAX_DURATION_S 86400.0
#define LOADGEN_RESP_MAX 65536 /* bytes of a response kept (rest discarded) */
#define LOADGEN_ERR_LEN 32

/* What the command line asks for. */
typedef struct {
    char *url;         /* http://host[:port]/path?query */
    char *trace;       /* trace file, or NULL for --rps */
    char *column;      /* column name or 1-based number */
    double step_s;     /* seconds each trace row lasts */
    double max_rps;    /* rate of the window's largest value */
    double rps;        /* constant rate when no trace is given */
    double duration_s; /* hard limit of the run */
    int concurrency;   /* requests in flight at most */
    int timeout_ms;    /* per request, from its scheduled time */
    int start_row;     /* first data row replayed (0-based) */
    int rows;          /* data rows replayed (0: as many as fit) */
    int max_requests;  /* hard limit of requests */
    char *out;         /* per-request CSV, or NULL */
    gboolean quiet;    /* no per-step lines */
} Options;

/* A parsed http:// URL. */
typedef struct {
    char *host; /* host name or address */
    char *port; /* port as text */
    char *path; /* path and query, starts with '/' */
} Url;

/* Statistics of one replayed step. */
typedef struct {
    int row;        /* trace row (0-based data row) */
    double value;   /* trace value */
    double rps;     /* target request rate */
    int scheduled;  /* arrivals in the step */
    int done;       /* of those, finished (ok or failed) */
    int ok;         /* finished with an HTTP 2xx status */
    int failed;     /* errors, timeouts, non-2xx */
    GArray *lat_ms; /* latencies of the ok requests (double) */
    bool printed;   /* summary line written */
} Step;

/* One request, queued or in flight. */
typedef struct {
    int fd;           /* socket, -1 while queued */
    int step;         /* index into the steps */
    int64_t sched_us; /* scheduled time (monotonic, from start) */
    int64_t send_us;  /* connect started (monotonic, from start) */
    size_t sent;      /* bytes of the request written */
    char *resp;       /* response head (up to LOADGEN_RESP_MAX) */
    size_t resp_len;  /* bytes in resp */
    bool connected;   /* connect() finished */
} Request;

static int64_t
mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Parses @text as an http:// URL. Returns false with a message in @error. */
static bool
url_parse(const char *text, Url *url, GError **error)
{
    const char *p, *slash, *colon;
    g_autofree char *hostport = NULL;
    char *end = NULL;
    long port;

    if (!g_str_has_prefix(text, "http://")) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "bad URL '%s': only http:// is supported", text);
        return false;
    }
    p = text + strlen("http://");
    slash = strchr(p, '/');
    hostport = slash ? g_strndup(p, slash - p) : g_strdup(p);
    if (strpbrk(hostport, "@ \t\r\n?#") || hostport[0] == '\0') {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "bad URL '%s': bad or missing host", text);
        return false;
    }
    colon = strrchr(hostport, ':');
    if (colon) {
        errno = 0;
        port = strtol(colon + 1, &end, 10);
        if (errno != 0 || end == colon + 1 || *end != '\0' || port < 1 ||
            port > 65535 || colon == hostport) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "bad URL '%s': bad port", text);
            return false;
        }
        url->host = g_strndup(hostport, colon - hostport);
        url->port = g_strdup_printf("%ld", port);
    } else {
        url->host = g_strdup(hostport);
        url->port = g_strdup("80");
    }
    url->path = g_strdup(slash ? slash : "/");
    if (strpbrk(url->path, " \t\r\n")) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "bad URL '%s': spaces or line breaks in the path", text);
        return false;
    }
    return true;
}

static void
url_clear(Url *url)
{
    g_clear_pointer(&url->host, g_free);
    g_clear_pointer(&url->port, g_free);
    g_clear_pointer(&url->path, g_free);
}

/* Splits a trace line: Bitbrains ";\t" (or ";") or ",". */
static char **
trace_split(const char *line, bool semicolon)
{
    char **f = g_strsplit(line, semicolon ? ";" : ",", -1);
    int i;

    for (i = 0; f[i]; i++) {
        g_strstrip(f[i]);
    }
    return f;
}

static bool
parse_double(const char *s, double *ret)
{
    char *end = NULL;
    double v;

    if (!s || *s == '\0') {
        return false;
    }
    errno = 0;
    v = g_ascii_strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v)) {
        return false;
    }
    *ret = v;
    return true;
}

/*
 * Reads the values of one column of a trace from @f into @values (double).
 * Non-numeric cells repeat the previous value (0 at the start). Returns
 * false with @error set if the column does not exist or nothing was read.
 */
static bool
trace_read(FILE *f, const char *column, GArray *values, GError **error)
{
    char buf[8192];
    bool first = true, semicolon = false;
    int col = -1, ncols = 0, lineno = 0;
    double last = 0;

    while (fgets(buf, sizeof(buf), f)) {
        g_auto(GStrv) fields = NULL;
        double v;
        int n;

        lineno++;
        buf[strcspn(buf, "\r\n")] = '\0';
        if (buf[0] == '\0' || buf[0] == '#') {
            continue;
        }
        if (first) {
            bool header = false;
            int i;

            semicolon = strchr(buf, ';') != NULL;
            fields = trace_split(buf, semicolon);
            ncols = (int) g_strv_length(fields);
            for (i = 0; i < ncols; i++) {
                if (!parse_double(fields[i], &v)) {
                    header = true;
                }
            }
            if (column && header) {
                for (i = 0; i < ncols; i++) {
                    if (strcmp(fields[i], column) == 0) {
                        col = i;
                    }
                }
            }
            if (col < 0 && column) {
                char *end = NULL;
                long n1 = strtol(column, &end, 10);

                if (end != column && *end == '\0' && n1 >= 1 && n1 <= ncols) {
                    col = (int) n1 - 1;
                }
            }
            if (col < 0 && !column) {
                col = ncols - 1;
            }
            if (col < 0) {
                g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "no column '%s' in the trace header", column);
                return false;
            }
            first = false;
            if (header) {
                continue;
            }
        }
        if (!fields) {
            fields = trace_split(buf, semicolon);
        }
        n = (int) g_strv_length(fields);
        if (col < n && parse_double(fields[col], &v) && v >= 0) {
            last = v;
        }
        g_array_append_val(values, last);
    }
    if (ferror(f)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_IO,
                    "read error at line %d", lineno + 1);
        return false;
    }
    if (values->len == 0) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "the trace has no data rows");
        return false;
    }
    return true;
}

/*
 * Rounding of non-negative values without libm (the meson target links
 * only glib).
 */
static int64_t
round_pos(double x)
{
    return (int64_t) (x + 0.5);
}

static int64_t
ceil_pos(double x)
{
    int64_t i = (int64_t) x;

    return (double) i < x ? i + 1 : i;
}

static int
double_cmp(const void *x, const void *y)
{
    double a = *(const double *) x, b = *(const double *) y;

    return (a > b) - (a < b);
}

/* Nearest-rank percentile of the (unsorted) doubles in @a; NAN if empty. */
static double
percentile(GArray *a, double p)
{
    g_autofree double *v = NULL;
    size_t n = a->len, k;

    if (n == 0) {
        return NAN;
    }
    v = g_memdup2(a->data, n * sizeof(double));
    qsort(v, n, sizeof(double), double_cmp);
    k = (size_t) ceil_pos(p / 100.0 * (double) n);
    if (k < 1) {
        k = 1;
    }
    return v[k - 1];
}

/* The whole state of a run. */
typedef struct {
    Options opt;                  /* command line */
    Url url;                      /* target */
    struct sockaddr_storage addr; /* resolved target */
    socklen_t addrlen;            /* size of addr */
    char *request;                /* the HTTP request bytes */
    size_t request_len;           /* its length */
    Step *steps;                  /* replayed steps */
    int nsteps;                   /* number of steps */
    int64_t end_us;               /* no arrivals at or after this time */
    GQueue queue;                 /* queued Requests (fd == -1) */
    Request **slots;              /* in-flight Requests, concurrency of them */
    int inflight;                 /* used slots */
    FILE *out;                    /* per-request CSV or NULL */
    double start_unix;            /* wall clock at start, for the CSV */
    int64_t start_mono;           /* monotonic clock at start */
    GArray *all_lat_ms;           /* latencies of all ok requests */
    long total;                   /* requests scheduled */
    long ok;                      /* ok requests */
    long failed;                  /* failed requests */
    GHashTable *errors;           /* error text -> count */
    int next_print;               /* next step whose summary is due */
} Run;

static void
step_print(Run *run, int i)
{
    Step *s = &run->steps[i];

    s->printed = true;
    if (run->opt.quiet) {
        return;
    }
    printf("step %d row %d value %.3f target_rps %.2f sent %d ok %d fail %d "
           "p50_ms %.1f p99_ms %.1f\n",
           i, s->row, s->value, s->rps, s->scheduled, s->ok, s->failed,
           percentile(s->lat_ms, 50), percentile(s->lat_ms, 99));
    fflush(stdout);
}

/* Prints the summaries of the steps that are over and fully answered. */
static void
steps_flush(Run *run, int64_t now, bool final)
{
    while (run->next_print < run->nsteps) {
        Step *s = &run->steps[run->next_print];
        int64_t step_end =
            (int64_t) ((run->next_print + 1) * run->opt.step_s * 1e6);

        if (!final && (now < step_end || s->done < s->scheduled)) {
            break;
        }
        step_print(run, run->next_print);
        run->next_print++;
    }
}

static void
request_finish(Run *run, Request *r, int status, const char *error)
{
    int64_t now = mono_us() - run->start_mono;
    double lat_ms = (double) (now - r->sched_us) / 1000.0;
    Step *s = &run->steps[r->step];
    bool good = status >= 200 && status < 300;

    s->done++;
    if (good) {
        s->ok++;
        run->ok++;
        g_array_append_val(s->lat_ms, lat_ms);
        g_array_append_val(run->all_lat_ms, lat_ms);
    } else {
        char key[LOADGEN_ERR_LEN];
        gpointer old;

        s->failed++;
        run->failed++;
        if (error) {
            g_strlcpy(key, error, sizeof(key));
        } else {
            g_snprintf(key, sizeof(key), "http-%d", status);
        }
        old = g_hash_table_lookup(run->errors, key);
        g_hash_table_insert(run->errors, g_strdup(key),
                            GINT_TO_POINTER(GPOINTER_TO_INT(old) + 1));
    }
    if (run->out) {
        fprintf(run->out, "%.6f,%.6f,%d,%.3f,%d,%s\n",
                run->start_unix + (double) r->sched_us / 1e6,
                (double) r->sched_us / 1e6, r->step, lat_ms, status,
                error ? error : "");
    }
    if (r->fd >= 0) {
        close(r->fd);
    }
    g_free(r->resp);
    g_free(r);
}

/* Starts the connection of @r; finishes it with an error if that fails. */
static bool
request_start(Run *run, Request *r)
{
    int fd = socket(run->addr.ss_family,
                    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    r->send_us = mono_us() - run->start_mono;
    if (fd < 0) {
        request_finish(run, r, 0, "socket");
        return false;
    }
    r->fd = fd;
    if (connect(fd, (struct sockaddr *) &run->addr, run->addrlen) == 0) {
        r->connected = true;
    } else if (errno != EINPROGRESS) {
        request_finish(run, r, 0,
                       errno == ECONNREFUSED ? "refused" : "connect");
        return false;
    }
    return true;
}

/* Parses the status code of an HTTP response head; 0 if none. */
static int
http_status(const char *resp, size_t len)
{
    int major, minor, code;
    char head[32];

    if (len < 12) {
        return 0;
    }
    memcpy(head, resp, sizeof(head) - 1 < len ? sizeof(head) - 1 : len);
    head[sizeof(head) - 1 < len ? sizeof(head) - 1 : len] = '\0';
    if (sscanf(head, "HTTP/%d.%d %d", &major, &minor, &code) != 3 ||
        code < 100 || code > 999) {
        return 0;
    }
    return code;
}

/* Handles poll events of request @r; returns true when it is finished. */
static bool
request_io(Run *run, Request *r, short revents)
{
    if (!r->connected) {
        int err = 0;
        socklen_t len = sizeof(err);

        if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ||
            err != 0) {
            request_finish(run, r, 0,
                           err == ECONNREFUSED   ? "refused"
                           : err == EHOSTUNREACH ? "unreachable"
                                                 : "connect");
            return true;
        }
        if (!(revents & (POLLOUT | POLLERR | POLLHUP))) {
            return false;
        }
        r->connected = true;
    }
    if (r->sent < run->request_len) {
        ssize_t n = send(r->fd, run->request + r->sent,
                         run->request_len - r->sent, MSG_NOSIGNAL);

        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            request_finish(run, r, 0, "send");
            return true;
        }
        if (n > 0) {
            r->sent += (size_t) n;
        }
        return false;
    }
    if (revents & (POLLIN | POLLHUP | POLLERR)) {
        char buf[4096];
        ssize_t n = recv(r->fd, buf, sizeof(buf), 0);

        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return false;
        }
        if (n < 0) {
            request_finish(run, r, 0, "recv");
            return true;
        }
        if (n == 0) {
            int status = http_status(r->resp, r->resp_len);

            request_finish(run, r, status, status ? NULL : "bad-response");
            return true;
        }
        if (r->resp_len < LOADGEN_RESP_MAX) {
            size_t keep = (size_t) n;

            if (keep > LOADGEN_RESP_MAX - r->resp_len) {
                keep = LOADGEN_RESP_MAX - r->resp_len;
            }
            if (!r->resp) {
                r->resp = g_malloc(LOADGEN_RESP_MAX);
            }
            memcpy(r->resp + r->resp_len, buf, keep);
            r->resp_len += keep;
        }
    }
    return false;
}

/*
 * Advances the arrival process: @credit is the fractional request carried
 * over, @t_us the current position. Returns the time of the next arrival
 * (and its step in @ret_step), or -1 when the window is over.
 */
static int64_t
next_arrival(Run *run, double *credit, int64_t *t_us, int *ret_step)
{
    double t = (double) *t_us / 1e6;

    for (;;) {
        int i = (int) (t / run->opt.step_s + 1e-9);
        double step_end, r, need;

        if (i >= run->nsteps || t * 1e6 >= (double) run->end_us) {
            return -1;
        }
        step_end = (i + 1) * run->opt.step_s;
        if (step_end * 1e6 > (double) run->end_us) {
            step_end = (double) run->end_us / 1e6;
        }
        r = run->steps[i].rps;
        need = 1.0 - *credit;
        if (r > 0 && r * (step_end - t) >= need) {
            t += need / r;
            *credit = 0;
            *t_us = (int64_t) round_pos(t * 1e6);
            *ret_step = i;
            return *t_us;
        }
        if (r > 0) {
            *credit += r * (step_end - t);
        }
        t = step_end;
        *t_us = (int64_t) round_pos(t * 1e6);
    }
}

static int
run_loop(Run *run)
{
    double credit = 0;
    int64_t cursor = 0, next;
    int next_step = 0;
    g_autofree struct pollfd *pfds =
        g_new0(struct pollfd, run->opt.concurrency);

    next = next_arrival(run, &credit, &cursor, &next_step);
    for (;;) {
        int64_t now = mono_us() - run->start_mono;
        int64_t wake = INT64_MAX;
        int i, n, timeout;

        /* Arrivals that are due join the queue. */
        while (next >= 0 && next <= now) {
            Request *r = g_new0(Request, 1);

            if (run->total >= run->opt.max_requests) {
                g_free(r);
                next = -1;
                break;
            }
            r->fd = -1;
            r->step = next_step;
            r->sched_us = next;
            run->steps[next_step].scheduled++;
            run->total++;
            g_queue_push_tail(&run->queue, r);
            next = next_arrival(run, &credit, &cursor, &next_step);
        }
        /* Queued requests that waited too long fail without being sent. */
        while (!g_queue_is_empty(&run->queue)) {
            Request *r = g_queue_peek_head(&run->queue);

            if (now - r->sched_us < (int64_t) run->opt.timeout_ms * 1000) {
                break;
            }
            g_queue_pop_head(&run->queue);
            request_finish(run, r, 0, "timeout-queued");
        }
        /* Free slots take queued requests. */
        for (i = 0; i < run->opt.concurrency && !g_queue_is_empty(&run->queue);
             i++) {
            if (!run->slots[i]) {
                Request *r = g_queue_pop_head(&run->queue);

                if (request_start(run, r)) {
                    run->slots[i] = r;
                    run->inflight++;
                }
            }
        }
        /* In-flight requests past their deadline fail. */
        for (i = 0; i < run->opt.concurrency; i++) {
            Request *r = run->slots[i];
            int64_t deadline;

            if (!r) {
                continue;
            }
            deadline = r->sched_us + (int64_t) run->opt.timeout_ms * 1000;
            if (now >= deadline) {
                run->slots[i] = NULL;
                run->inflight--;
                request_finish(run, r, 0, "timeout");
                continue;
            }
            if (deadline < wake) {
                wake = deadline;
            }
        }
        steps_flush(run, now, false);
        if (next < 0 && run->inflight == 0 && g_queue_is_empty(&run->queue)) {
            break;
        }
        if (next >= 0 && next < wake) {
            wake = next;
        }
        if (!g_queue_is_empty(&run->queue)) {
            Request *r = g_queue_peek_head(&run->queue);
            int64_t d = r->sched_us + (int64_t) run->opt.timeout_ms * 1000;

            if (d < wake) {
                wake = d;
            }
        }
        /* Wake up at step ends too, for the step summaries. */
        if (run->next_print < run->nsteps) {
            int64_t se =
                (int64_t) ((run->next_print + 1) * run->opt.step_s * 1e6);

            if (se > now && se < wake) {
                wake = se;
            }
        }
        n = 0;
        for (i = 0; i < run->opt.concurrency; i++) {
            Request *r = run->slots[i];

            pfds[i].fd = r ? r->fd : -1;
            pfds[i].events = 0;
            pfds[i].revents = 0;
            if (r) {
                pfds[i].events = (!r->connected || r->sent < run->request_len)
                                     ? POLLOUT
                                     : POLLIN;
                n++;
            }
        }
        timeout = wake == INT64_MAX ? 1000 : (int) ((wake - now + 999) / 1000);
        if (timeout < 0) {
            timeout = 0;
        }
        if (poll(pfds, run->opt.concurrency, timeout) < 0 && errno != EINTR) {
            fprintf(stderr, "umbra-loadgen: poll: %s\n", g_strerror(errno));
            return 1;
        }
        for (i = 0; i < run->opt.concurrency; i++) {
            Request *r = run->slots[i];

            if (r && pfds[i].revents && request_io(run, r, pfds[i].revents)) {
                run->slots[i] = NULL;
                run->inflight--;
            }
        }
    }
    steps_flush(run, mono_us() - run->start_mono, true);
    return 0;
}

static bool
resolve(Run *run, GError **error)
{
    struct addrinfo hints = {0}, *res = NULL;
    int rc;

    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    rc = getaddrinfo(run->url.host, run->url.port, &hints, &res);
    if (rc != 0 || !res) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "cannot resolve '%s': %s", run->url.host, gai_strerror(rc));
        return false;
    }
    memcpy(&run->addr, res->ai_addr, res->ai_addrlen);
    run->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

/* Builds the steps from the trace window (or the constant rate). */
static bool
steps_build(Run *run, GError **error)
{
    Options *o = &run->opt;
    g_autoptr(GArray) values = g_array_new(FALSE, FALSE, sizeof(double));
    int avail, n, i;
    double max = 0;

    if (o->trace) {
        FILE *f = fopen(o->trace, "re");
        bool ok;

        if (!f) {
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                        "cannot open trace '%s': %s", o->trace,
                        g_strerror(errno));
            return false;
        }
        ok = trace_read(f, o->column, values, error);
        fclose(f);
        if (!ok) {
            g_prefix_error(error, "trace '%s': ", o->trace);
            return false;
        }
        if (o->start_row >= (int) values->len) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--start-row %d is past the end of the trace (%u rows)",
                        o->start_row, values->len);
            return false;
        }
        avail = (int) values->len - o->start_row;
    } else {
        avail = INT32_MAX;
    }
    n = (int) ceil_pos(o->duration_s / o->step_s - 1e-9);
    if (o->rows > 0 && o->rows < n) {
        n = o->rows;
    }
    if (avail < n) {
        n = avail;
    }
    if (n < 1) {
        n = 1;
    }
    run->steps = g_new0(Step, n);
    run->nsteps = n;
    for (i = 0; i < n; i++) {
        Step *s = &run->steps[i];

        s->row = o->trace ? o->start_row + i : i;
        s->value =
            o->trace ? g_array_index(values, double, o->start_row + i) : o->rps;
        s->lat_ms = g_array_new(FALSE, FALSE, sizeof(double));
        if (s->value > max) {
            max = s->value;
        }
    }
    for (i = 0; i < n; i++) {
        Step *s = &run->steps[i];

        if (!o->trace) {
            s->rps = o->rps;
        } else {
            s->rps = max > 0 ? s->value / max * o->max_rps : 0;
        }
    }
    if (o->trace && max <= 0) {
        fprintf(stderr, "umbra-loadgen: warning: the replayed window is all "
                        "zero; no requests will be sent\n");
    }
    run->end_us = (int64_t) round_pos(MIN(o->duration_s, n * o->step_s) * 1e6);
    return true;
}

static bool
options_check(Options *o, GError **error)
{
#define BAD(...)                                                               \
    do {                                                                       \
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,           \
                    __VA_ARGS__);                                              \
        return false;                                                          \
    } while (0)
    if (!o->url) {
        BAD("--url is required");
    }
    if (!o->trace && !(o->rps > 0)) {
        BAD("give --trace FILE or --rps N");
    }
    if (o->trace && !(o->max_rps > 0 && o->max_rps <= LOADGEN_MAX_RPS)) {
        BAD("--max-rps must be in (0, %g]", LOADGEN_MAX_RPS);
    }
    if (!o->trace && o->rps > LOADGEN_MAX_RPS) {
        BAD("--rps must be at most %g", LOADGEN_MAX_RPS);
    }
    if (!(o->step_s >= 0.01 && o->step_s <= 3600)) {
        BAD("--step-seconds must be in [0.01, 3600]");
    }
    if (!(o->duration_s > 0 && o->duration_s <= LOADGEN_MAX_DURATION_S)) {
        BAD("--duration must be in (0, %g] seconds", LOADGEN_MAX_DURATION_S);
    }
    if (o->concurrency < 1 || o->concurrency > LOADGEN_MAX_CONCURRENCY) {
        BAD("--concurrency must be in [1, %d]", LOADGEN_MAX_CONCURRENCY);
    }
    if (o->timeout_ms < 1 || o->timeout_ms > 600000) {
        BAD("--timeout-ms must be in [1, 600000]");
    }
    if (o->start_row < 0 || o->rows < 0 || o->max_requests < 1) {
        BAD("--start-row, --rows and --max-requests must not be negative");
    }
    return true;
#undef BAD
}

static void
run_clear(Run *run)
{
    int i;
    Request *r;

    for (i = 0; i < run->nsteps; i++) {
        g_array_unref(run->steps[i].lat_ms);
    }
    g_free(run->steps);
    while ((r = g_queue_pop_head(&run->queue))) {
        g_free(r);
    }
    g_free(run->slots);
    g_free(run->request);
    if (run->all_lat_ms) {
        g_array_unref(run->all_lat_ms);
    }
    if (run->errors) {
        g_hash_table_unref(run->errors);
    }
    url_clear(&run->url);
    g_free(run->opt.url);
    g_free(run->opt.trace);
    g_free(run->opt.column);
    g_free(run->opt.out);
}

int
main(int argc, char **argv)
{
    Run run = {0};
    Options *o = &run.opt;
    g_autoptr(GError) error = NULL;
    g_autoptr(GOptionContext) ctx = NULL;
    GHashTableIter it;
    gpointer key, val;
    double elapsed;
    int rc;
    GOptionEntry entries[] = {
        {"url", 0, 0, G_OPTION_ARG_STRING, &o->url,
         "Target, http://HOST[:PORT]/PATH?QUERY", "URL"},
        {"trace", 0, 0, G_OPTION_ARG_FILENAME, &o->trace,
         "Trace file (Bitbrains ';\\t' or CSV t,value)", "FILE"},
        {"column", 0, 0, G_OPTION_ARG_STRING, &o->column,
         "Column name or 1-based number (default: last)", "NAME"},
        {"step-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &o->step_s,
         "Seconds each trace row lasts (default 1)", "S"},
        {"max-rps", 0, 0, G_OPTION_ARG_DOUBLE, &o->max_rps,
         "Rate of the largest value in the window (default 20)", "N"},
        {"rps", 0, 0, G_OPTION_ARG_DOUBLE, &o->rps,
         "Constant rate when no --trace is given", "N"},
        {"duration", 0, 0, G_OPTION_ARG_DOUBLE, &o->duration_s,
         "Stop after this many seconds (default 60)", "S"},
        {"concurrency", 0, 0, G_OPTION_ARG_INT, &o->concurrency,
         "Requests in flight at most (default 8)", "N"},
        {"timeout-ms", 0, 0, G_OPTION_ARG_INT, &o->timeout_ms,
         "Per-request timeout from its scheduled time (default 2000)", "MS"},
        {"start-row", 0, 0, G_OPTION_ARG_INT, &o->start_row,
         "First data row to replay, 0-based (default 0)", "N"},
        {"rows", 0, 0, G_OPTION_ARG_INT, &o->rows,
         "Rows to replay (default: as many as --duration allows)", "N"},
        {"max-requests", 0, 0, G_OPTION_ARG_INT, &o->max_requests,
         "Stop after this many requests (default 1000000)", "N"},
        {"out", 0, 0, G_OPTION_ARG_FILENAME, &o->out,
         "Per-request CSV: t_unix,t_rel,step,latency_ms,status,error", "FILE"},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o->quiet, "No per-step lines",
         NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };

    o->step_s = 1;
    o->max_rps = 20;
    o->duration_s = 60;
    o->concurrency = 8;
    o->timeout_ms = 2000;
    o->max_requests = 1000000;

    ctx = g_option_context_new("- replay a load trace as HTTP requests");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error) ||
        !options_check(o, &error) || !url_parse(o->url, &run.url, &error) ||
        !steps_build(&run, &error) || !resolve(&run, &error)) {
        fprintf(stderr, "umbra-loadgen: %s\n", error->message);
        run_clear(&run);
        return 1;
    }
    if (o->out) {
        run.out = fopen(o->out, "we");
        if (!run.out) {
            fprintf(stderr, "umbra-loadgen: cannot write '%s': %s\n", o->out,
                    g_strerror(errno));
            run_clear(&run);
            return 1;
        }
        fprintf(run.out, "t_unix,t_rel,step,latency_ms,status,error\n");
    }
    signal(SIGPIPE, SIG_IGN);
    run.request = g_strdup_printf("GET %s HTTP/1.0\r\nHost: %s\r\n"
                                  "User-Agent: umbra-loadgen\r\n"
                                  "Connection: close\r\n\r\n",
                                  run.url.path, run.url.host);
    run.request_len = strlen(run.request);
    run.slots = g_new0(Request *, o->concurrency);
    run.all_lat_ms = g_array_new(FALSE, FALSE, sizeof(double));
    run.errors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_queue_init(&run.queue);
    if (!o->quiet) {
        printf("target %s steps %d step_s %g max_rps %g concurrency %d\n",
               o->url, run.nsteps, o->step_s, o->trace ? o->max_rps : o->rps,
               o->concurrency);
        fflush(stdout);
    }
    run.start_unix = (double) g_get_real_time() / 1e6;
    run.start_mono = mono_us();
    rc = run_loop(&run);
    elapsed = (double) (mono_us() - run.start_mono) / 1e6;
    if (run.out) {
        fclose(run.out);
    }
    printf("summary requests=%ld ok=%ld failed=%ld p50_ms=%.1f p99_ms=%.1f "
           "elapsed_s=%.1f rps=%.2f",
           run.total, run.ok, run.failed, percentile(run.all_lat_ms, 50),
           percentile(run.all_lat_ms, 99), elapsed,
           elapsed > 0 ? (double) run.total / elapsed : 0.0);
    g_hash_table_iter_init(&it, run.errors);
    while (g_hash_table_iter_next(&it, &key, &val)) {
        printf(" err_%s=%d", (char *) key, GPOINTER_TO_INT(val));
    }
    printf("\n");
    run_clear(&run);
    return rc;
}
