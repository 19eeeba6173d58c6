/*
 * tests/unit/test-rpc-client.c: the RPC client (rpc/client.c) against a
 * real unix socket.
 *
 * The fixture is a tiny server thread listening in a temporary
 * directory.  For every request line it receives it asks the test's
 * handler what to send back: canned replies, garbage, half a reply,
 * nothing at all, or several lines at once; it can send in small
 * pieces and close the connection afterwards.  The client is the real
 * code under test; nothing of it is replaced.  No test sleeps: the only
 * waits are the client's own timeouts, kept short.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cutest.h"
#include "rpc/client.h"
#include "util/clock.h"

typedef struct Fixture Fixture;

/*
 * What to do with one request: @req is the parsed request (NULL when it
 * was not JSON).  Returns: (transfer full) the bytes to send, or NULL
 * to send nothing; sets fx->close_after to close the connection after
 * sending.
 */
typedef GString *(*Handler)(Fixture *fx, json_object *req, int64_t id);

struct Fixture {
    char *dir;            /* temporary directory */
    char *path;           /* socket path inside it */
    int listen_fd;        /* listening socket */
    int stop_pipe[2];     /* written to stop the thread */
    GThread *thread;      /* the server */
    Handler handler;      /* the test's behaviour */
    size_t chunk;         /* send in pieces of this size, 0 = at once */
    bool close_after;     /* close the connection after this reply */
    bool close_on_accept; /* close connections right after accept */
    int requests;         /* request lines received (atomic) */
    GMutex lock;          /* guards last_request */
    char *last_request;   /* the last request line received */
};

static Fixture *fx;

/* Sends all of @data in pieces of fx->chunk.  Returns: false on error. */
static bool
send_all(int fd, const char *data, size_t len, size_t chunk)
{
    size_t off = 0;

    while (off < len) {
        size_t n = chunk ? MIN(chunk, len - off) : len - off;
        ssize_t w = send(fd, data + off, n, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return false;
        }
        off += (size_t) w;
    }
    return true;
}

/* Waits for @fd to be readable.  Returns: false when asked to stop. */
static bool
wait_readable(int fd)
{
    struct pollfd p[2] = {
        {.fd = fd, .events = POLLIN},
        {.fd = fx->stop_pipe[0], .events = POLLIN},
    };

    for (;;) {
        int n = poll(p, 2, -1);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 || (p[1].revents & POLLIN)) {
            return false;
        }
        if (p[0].revents) {
            return true;
        }
    }
}

/* Serves one connection.  Returns: false when asked to stop. */
static bool
serve_conn(int fd)
{
    g_autoptr(GString) buf = g_string_new(NULL);

    for (;;) {
        char tmp[65536];
        char *nl;
        ssize_t n;

        while ((nl = memchr(buf->str, '\n', buf->len))) {
            size_t len = (size_t) (nl - buf->str);
            g_autoptr(json_object) req = NULL;
            g_autoptr(GString) out = NULL;
            json_object *v = NULL;
            int64_t id = 0;

            g_mutex_lock(&fx->lock);
            g_free(fx->last_request);
            fx->last_request = g_strndup(buf->str, len);
            g_mutex_unlock(&fx->lock);
            g_atomic_int_inc(&fx->requests);
            req = json_tokener_parse(fx->last_request);
            if (req && json_object_object_get_ex(req, "id", &v)) {
                id = json_object_get_int64(v);
            }
            g_string_erase(buf, 0, (gssize) len + 1);
            fx->close_after = false;
            out = fx->handler(fx, req, id);
            if (out && !send_all(fd, out->str, out->len, fx->chunk)) {
                return true;
            }
            if (fx->close_after) {
                return true;
            }
        }
        if (!wait_readable(fd)) {
            return false;
        }
        n = recv(fd, tmp, sizeof(tmp), 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return true;
        }
        g_string_append_len(buf, tmp, n);
    }
}

static gpointer
server_thread(gpointer data)
{
    for (;;) {
        int fd;
        bool go_on;

        if (!wait_readable(fx->listen_fd)) {
            break;
        }
        fd = accept4(fx->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        if (fx->close_on_accept) {
            close(fd);
            continue;
        }
        go_on = serve_conn(fd);
        close(fd);
        if (!go_on) {
            break;
        }
    }
    return NULL;
}

static void
fixture_start(Handler handler)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};

    fx = g_new0(Fixture, 1);
    g_mutex_init(&fx->lock);
    fx->dir = cutest_tmpdir();
    g_assert(fx->dir);
    fx->path = g_build_filename(fx->dir, "umbrad.sock", NULL);
    fx->handler = handler;
    g_strlcpy(addr.sun_path, fx->path, sizeof(addr.sun_path));
    fx->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert(fx->listen_fd >= 0);
    g_assert(bind(fx->listen_fd, (struct sockaddr *) &addr, sizeof(addr)) == 0);
    g_assert(listen(fx->listen_fd, 8) == 0);
    g_assert(pipe2(fx->stop_pipe, O_CLOEXEC) == 0);
    fx->thread = g_thread_new("fixture", server_thread, NULL);
}

static void
fixture_stop(void)
{
    g_assert(write(fx->stop_pipe[1], "x", 1) == 1);
    g_thread_join(fx->thread);
    close(fx->stop_pipe[0]);
    close(fx->stop_pipe[1]);
    close(fx->listen_fd);
    cutest_rmdir(fx->dir);
    g_free(fx->dir);
    g_free(fx->path);
    g_free(fx->last_request);
    g_mutex_clear(&fx->lock);
    g_clear_pointer(&fx, g_free);
}

/* Returns: (transfer full) a copy of the last request line. */
static char *
fixture_last_request(void)
{
    char *s;

    g_mutex_lock(&fx->lock);
    s = g_strdup(fx->last_request);
    g_mutex_unlock(&fx->lock);
    return s;
}

static const char *
req_method(json_object *req)
{
    json_object *v = NULL;

    if (!req || !json_object_object_get_ex(req, "method", &v)) {
        return "";
    }
    return json_object_get_string(v);
}

/* ---- handlers ----------------------------------------------------------- */

/* Answers hello, echo (returns its params), error:CODE and big:N. */
static GString *
handle_normal(Fixture *f, json_object *req, int64_t id)
{
    const char *method = req_method(req);
    GString *out = g_string_new(NULL);

    if (g_str_equal(method, "hello")) {
        g_string_printf(out,
                        "{\"version\":1,\"id\":%" G_GINT64_FORMAT
                        ",\"result\":{\"daemon\":\"umbrad\",\"version\":"
                        "\"0.1.0\",\"protocol\":1,\"pid\":123}}\n",
                        id);
    } else if (g_str_equal(method, "echo")) {
        json_object *params = NULL;

        json_object_object_get_ex(req, "params", &params);
        g_string_printf(
            out, "{\"version\":1,\"id\":%" G_GINT64_FORMAT ",\"result\":%s}\n",
            id, json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN));
    } else if (g_str_has_prefix(method, "error:")) {
        g_string_printf(out,
                        "{\"version\":1,\"id\":%" G_GINT64_FORMAT
                        ",\"error\":{\"code\":\"%s\",\"message\":\"it "
                        "failed: %s\"}}\n",
                        id, method + 6, method + 6);
    } else if (g_str_has_prefix(method, "big:")) {
        int64_t n = g_ascii_strtoll(method + 4, NULL, 10);

        g_string_printf(out,
                        "{\"version\":1,\"id\":%" G_GINT64_FORMAT
                        ",\"result\":{\"blob\":\"",
                        id);
        for (int64_t i = 0; i < n; i++) {
            g_string_append_c(out, (char) ('a' + i % 26));
        }
        g_string_append(out, "\"}}\n");
    } else {
        g_string_printf(out,
                        "{\"version\":1,\"id\":%" G_GINT64_FORMAT
                        ",\"error\":{\"code\":\"unknown-method\","
                        "\"message\":\"unknown method '%s'\"}}\n",
                        id, method);
    }
    return out;
}

static GString *
handle_silent(Fixture *f, json_object *req, int64_t id)
{
    return NULL;
}

static GString *
handle_half(Fixture *f, json_object *req, int64_t id)
{
    f->close_after = true;
    return g_string_new("{\"version\":1,\"id\":1,\"result\":{\"da");
}

static GString *
handle_close(Fixture *f, json_object *req, int64_t id)
{
    f->close_after = true;
    return NULL;
}

/* Replies with the raw line named by the method (malformed replies). */
static GString *
handle_raw(Fixture *f, json_object *req, int64_t id)
{
    const char *m = req_method(req);

    if (g_str_equal(m, "garbage")) {
        return g_string_new("this is not json\n");
    }
    if (g_str_equal(m, "array")) {
        return g_string_new("[1,2,3]\n");
    }
    if (g_str_equal(m, "version2")) {
        return g_string_new("{\"version\":2,\"id\":1,\"result\":{}}\n");
    }
    if (g_str_equal(m, "noversion")) {
        return g_string_new("{\"id\":1,\"result\":{}}\n");
    }
    if (g_str_equal(m, "wrongid")) {
        return g_string_new("{\"version\":1,\"id\":999,\"result\":{}}\n");
    }
    if (g_str_equal(m, "empty")) {
        return g_string_new("{\"version\":1,\"id\":1}\n");
    }
    if (g_str_equal(m, "scalar")) {
        return g_string_new("{\"version\":1,\"id\":1,\"result\":42}\n");
    }
    if (g_str_equal(m, "trailing")) {
        return g_string_new("{\"version\":1,\"id\":1,\"result\":{}} xyz\n");
    }
    if (g_str_equal(m, "nocode")) {
        return g_string_new("{\"version\":1,\"id\":1,\"error\":{}}\n");
    }
    return g_string_new("\n");
}

/* "events" with follow: the reply, then three events in the same write. */
static GString *
handle_follow(Fixture *f, json_object *req, int64_t id)
{
    GString *out = g_string_new(NULL);

    g_string_append_printf(out,
                           "{\"version\":1,\"id\":%" G_GINT64_FORMAT
                           ",\"result\":{\"events\":[{\"id\":1}]}}\n",
                           id);
    for (int i = 2; i <= 4; i++) {
        g_string_append_printf(out,
                               "{\"version\":1,\"id\":%" G_GINT64_FORMAT
                               ",\"event\":{\"id\":%d,\"type\":\"started\"}}"
                               "\n",
                               id, i);
    }
    /* Half of a fifth event: the rest never comes. */
    g_string_append_printf(
        out, "{\"version\":1,\"id\":%" G_GINT64_FORMAT ",\"event\":{\"id\":5",
        id);
    return out;
}

/* ---- tests -------------------------------------------------------------- */

static RpcClient *
connect_ok(int timeout_ms)
{
    g_autoptr(GError) error = NULL;
    RpcClient *c = rpc_client_connect(fx->path, timeout_ms, &error);

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_PTR_NULL(error);
    return c;
}

static void
test_call_result(void)
{
    g_autoptr(RpcClient) c = NULL;
    g_autoptr(json_object) res = NULL;
    g_autoptr(json_object) req = NULL;
    g_autofree char *line = NULL;
    g_autoptr(GError) error = NULL;
    json_object *v = NULL;

    fixture_start(handle_normal);
    c = connect_ok(2000);
    CU_ASSERT_STRING_EQUAL(rpc_client_get_path(c), fx->path);
    res = rpc_client_call(c, "hello", NULL, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(res);
    CU_ASSERT_PTR_NULL(error);
    CU_ASSERT_TRUE(json_object_object_get_ex(res, "daemon", &v));
    CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "umbrad");
    CU_ASSERT_TRUE(json_object_object_get_ex(res, "pid", &v));
    CU_ASSERT_EQUAL(json_object_get_int(v), 123);

    /* The request on the wire: version 1, an id, the method, params {}. */
    line = fixture_last_request();
    req = json_tokener_parse(line);
    CU_ASSERT_PTR_NOT_NULL_FATAL(req);
    CU_ASSERT_TRUE(json_object_object_get_ex(req, "version", &v));
    CU_ASSERT_EQUAL(json_object_get_int(v), RPC_PROTOCOL_VERSION);
    CU_ASSERT_TRUE(json_object_object_get_ex(req, "id", &v));
    CU_ASSERT_TRUE(json_object_is_type(v, json_type_int));
    CU_ASSERT_TRUE(json_object_object_get_ex(req, "method", &v));
    CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "hello");
    CU_ASSERT_TRUE(json_object_object_get_ex(req, "params", &v));
    CU_ASSERT_TRUE(json_object_is_type(v, json_type_object));
    CU_ASSERT_PTR_NULL(strchr(line, '\n'));
    g_clear_pointer(&c, rpc_client_free);
    fixture_stop();
}

static void
test_call_params_and_sequence(void)
{
    g_autoptr(RpcClient) c = NULL;
    int64_t prev_id = 0;

    fixture_start(handle_normal);
    c = connect_ok(2000);
    for (int i = 0; i < 5; i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) req = NULL;
        g_autofree char *line = NULL;
        json_object *params = json_object_new_object();
        json_object *res;
        json_object *v = NULL;

        json_object_object_add(params, "domain",
                               json_object_new_string("web1"));
        json_object_object_add(params, "n", json_object_new_int(i));
        res = rpc_client_call(c, "echo", params, &error);
        CU_ASSERT_PTR_NOT_NULL_FATAL(res);
        CU_ASSERT_TRUE(json_object_object_get_ex(res, "n", &v));
        CU_ASSERT_EQUAL(json_object_get_int(v), i);
        CU_ASSERT_TRUE(json_object_object_get_ex(res, "domain", &v));
        CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "web1");
        json_object_put(res);

        line = fixture_last_request();
        req = json_tokener_parse(line);
        CU_ASSERT_TRUE(json_object_object_get_ex(req, "id", &v));
        CU_ASSERT_TRUE(json_object_get_int64(v) > prev_id);
        prev_id = json_object_get_int64(v);
    }
    CU_ASSERT_EQUAL(g_atomic_int_get(&fx->requests), 5);
    g_clear_pointer(&c, rpc_client_free);
    fixture_stop();
}

static void
test_daemon_errors(void)
{
    static const struct {
        const char *wire;
        RpcErrorCode code;
    } cases[] = {
        {"parse", RPC_ERROR_PARSE},
        {"too-large", RPC_ERROR_TOO_LARGE},
        {"version", RPC_ERROR_VERSION},
        {"bad-request", RPC_ERROR_BAD_REQUEST},
        {"unknown-method", RPC_ERROR_UNKNOWN_METHOD},
        {"unknown-domain", RPC_ERROR_UNKNOWN_DOMAIN},
        {"unknown-host", RPC_ERROR_UNKNOWN_HOST},
        {"unknown-cell", RPC_ERROR_UNKNOWN_CELL},
        {"internal", RPC_ERROR_INTERNAL},
        {"some-future-code", RPC_ERROR_INTERNAL},
    };
    g_autoptr(RpcClient) c = NULL;

    fixture_start(handle_normal);
    c = connect_ok(2000);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *method = g_strdup_printf("error:%s", cases[i].wire);
        g_autofree char *msg = g_strdup_printf("it failed: %s", cases[i].wire);
        json_object *res = rpc_client_call(c, method, NULL, &error);

        CU_ASSERT_PTR_NULL(res);
        CU_ASSERT_PTR_NOT_NULL_FATAL(error);
        CU_ASSERT_EQUAL(error->domain, RPC_ERROR);
        CU_ASSERT_EQUAL(error->code, (int) cases[i].code);
        CU_ASSERT_STRING_EQUAL(error->message, msg);
        /* A daemon error leaves the connection usable. */
        CU_ASSERT_TRUE(rpc_client_is_connected(c));
    }
    {
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) res = rpc_client_call(c, "hello", NULL, &error);

        CU_ASSERT_PTR_NOT_NULL(res);
    }
    g_clear_pointer(&c, rpc_client_free);
    fixture_stop();
}

static void
test_timeout(void)
{
    g_autoptr(RpcClient) c = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) error2 = NULL;
    json_object *res;
    int64_t t0;
    int64_t elapsed;

    fixture_start(handle_silent);
    c = connect_ok(150);
    t0 = util_clock_mono();
    res = rpc_client_call(c, "hello", NULL, &error);
    elapsed = util_clock_mono() - t0;
    CU_ASSERT_PTR_NULL(res);
    CU_ASSERT_TRUE(g_error_matches(error, RPC_ERROR, RPC_ERROR_TIMEOUT));
    CU_ASSERT_PTR_NOT_NULL(strstr(error->message, "'hello'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(error->message, "150 ms"));
    CU_ASSERT_TRUE(elapsed >= 150 * 1000);
    CU_ASSERT_TRUE(elapsed < 5 * UTIL_USEC_PER_SEC);
    /* A late reply would be out of step: the connection is closed. */
    CU_ASSERT_FALSE(rpc_client_is_connected(c));
    res = rpc_client_call(c, "hello", NULL, &error2);
    CU_ASSERT_PTR_NULL(res);
    CU_ASSERT_TRUE(g_error_matches(error2, RPC_ERROR, RPC_ERROR_IO));
    g_clear_pointer(&c, rpc_client_free);
    fixture_stop();
}

static void
test_eof_mid_reply(void)
{
    g_autoptr(RpcClient) c = NULL;
    g_autoptr(GError) error = NULL;
    json_object *res;

    fixture_start(handle_half);
    c = connect_ok(2000);
    res = rpc_client_call(c, "hello", NULL, &error);
    CU_ASSERT_PTR_NULL(res);
    CU_ASSERT_TRUE(g_error_matches(error, RPC_ERROR, RPC_ERROR_IO));
    CU_ASSERT_PTR_NOT_NULL(strstr(error->message, "middle of a reply"));
    CU_ASSERT_FALSE(rpc_client_is_connected(c));
    g_clear_pointer(&c, rpc_client_free);
    fixture_stop();
}

static void
test_eof_before_reply(void)
{
    g_autoptr(RpcClient) c = NULL;
    g_autoptr(GError) error = NULL;
    json_object *res;

    fixture_start(handle_close);
    c = connect_ok(2000);
    res = rpc_client_call(c, "hello", NULL, &error);
    CU_ASSERT_PTR_NULL(res);
    CU_ASSERT_TRUE(g_error_matches(error, RPC_ERROR, RPC_ERROR_IO));
    CU_ASSERT_STRING_EQUAL(error->message, "umbrad closed the connection");
    g_clear_pointer(&c, rpc_client_free);
    fixture_stop();
}

static void
test_closed_on_accept(void)
{
    g_autoptr(RpcClient) c = NULL;
    g_autoptr(GError) error = NULL;
    json_object *res;

    fixture_start(handle_normal);
    fx->close_on_accept = true;
    c = connect_ok(2000);
    res = rpc_client_call(c, "hello", NULL, &error);
    CU_ASSERT_PTR_NULL(res);
    /* EPIPE/ECONNRESET on the write or EOF on the read: no SIGPIPE. */
    CU_ASSERT_TRUE(g_error_matches(error, RPC_ERROR, RPC_ERROR_IO));
    CU_ASSERT_PTR_NOT_NULL(strstr(error->message, "umbrad closed"));
    g_clear_pointer(&c, rpc_client_free);
    fixture_stop();
}

static void
test_big_reply_in_pieces(void)
{
    g_autoptr(RpcClient) c = NULL;
    static const size_t sizes[] = {10, 70000, 2 * 1024 * 1024};

    fixture_start(handle_normal);
    c = connect_ok(10000);
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) res = NULL;
        g_autofree char *method = g_strdup_printf("big:%zu", sizes[i]);
        json_object *blob = NULL;
        const char *s;

        /* Tiny pieces for the small ones, 4 KiB pieces for the big one. */
        fx->chunk = sizes[i] > 100000 ? 4096 : 7;
        res = rpc_client_call(c, method, NULL, &error);
        CU_ASSERT_PTR_NOT_NULL_FATAL(res);
        CU_ASSERT_TRUE(json_object_object_get_ex(res, "blob", &blob));
        CU_ASSERT_EQUAL(json_object_get_string_len(blob), (int) sizes[i]);
        s = json_object_get_string(blob);
        CU_ASSERT_EQUAL(s[0], 'a');
        CU_ASSERT_EQUAL(s[sizes[i] - 1], (char) ('a' + (sizes[i] - 1) % 26));
    }
    g_clear_pointer(&c, rpc_client_free);
    fixture_stop();
}

static void
test_oversized_reply(void)
{
    g_autoptr(RpcClient) c = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) error2 = NULL;
    g_autoptr(json_object) ok = NULL;
    json_object *res;

    fixture_start(handle_normal);
    c = connect_ok(5000);
    rpc_client_set_max_reply(c, 1000);
    /* A reply of exactly the limit, newline included, is accepted ... */
    {
        /* {"version":1,"id":1,"result":{"blob":"..."}}\n is 42 + n. */
        g_autofree char *method = g_strdup_printf("big:%d", 1000 - 42);

        ok = rpc_client_call(c, method, NULL, &error);
        CU_ASSERT_PTR_NOT_NULL(ok);
        CU_ASSERT_PTR_NULL(error);
    }
    /* ... one more byte is not, nor is a reply much larger. */
    res = rpc_client_call(c, "big:959", NULL, &error);
    CU_ASSERT_PTR_NULL(res);
    CU_ASSERT_TRUE(g_error_matches(error, RPC_ERROR, RPC_ERROR_TOO_LARGE));
    CU_ASSERT_PTR_NOT_NULL(strstr(error->message, "1000 bytes"));
    CU_ASSERT_FALSE(rpc_client_is_connected(c));
    g_clear_pointer(&c, rpc_client_free);

    c = connect_ok(5000);
    rpc_client_set_max_reply(c, 64 * 1024);
    res = rpc_client_call(c, "big:1000000", NULL, &error2);
    CU_ASSERT_PTR_NULL(res);
    CU_ASSERT_TRUE(g_error_matches(error2, RPC_ERROR, RPC_ERROR_TOO_LARGE));
    g_clear_pointer(&c, rpc_client_free);
    fixture_stop();
}

static void
test_malformed_replies(void)
{
    static const struct {
        const char *method;
        int code;
        const char *needle;
    } cases[] = {
        {"garbage", RPC_ERROR_IO, "malformed reply"},
        {"array", RPC_ERROR_IO, "not an object"},
        {"version2", RPC_ERROR_VERSION, "version 2"},
        {"noversion", RPC_ERROR_IO, "'version'"},
        {"wrongid", RPC_ERROR_IO, "id 999"},
        {"empty", RPC_ERROR_IO, "no 'result'"},
        {"scalar", RPC_ERROR_IO, "no 'result'"},
        {"trailing", RPC_ERROR_IO, "trailing data"},
        {"blank", RPC_ERROR_IO, "malformed reply"},
        {"nocode", RPC_ERROR_INTERNAL, "unspecified"},
    };

    fixture_start(handle_raw);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(RpcClient) c = connect_ok(2000);
        g_autoptr(GError) error = NULL;
        json_object *res = rpc_client_call(c, cases[i].method, NULL, &error);

        CU_ASSERT_PTR_NULL(res);
        CU_ASSERT_PTR_NOT_NULL_FATAL(error);
        CU_ASSERT_EQUAL(error->domain, RPC_ERROR);
        CU_ASSERT_EQUAL(error->code, cases[i].code);
        if (!strstr(error->message, cases[i].needle)) {
            fprintf(stderr, "\n%s: unexpected message '%s'\n", cases[i].method,
                    error->message);
            CU_FAIL("message");
        }
    }
    fixture_stop();
}

static void
test_request_too_large(void)
{
    g_autoptr(RpcClient) c = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(json_object) res = NULL;
    g_autofree char *big = g_malloc(RPC_MAX_MESSAGE + 1);
    json_object *params;

    fixture_start(handle_normal);
    c = connect_ok(2000);
    memset(big, 'x', RPC_MAX_MESSAGE);
    big[RPC_MAX_MESSAGE] = '\0';
    params = json_object_new_object();
    json_object_object_add(params, "blob", json_object_new_string(big));
    CU_ASSERT_PTR_NULL(rpc_client_call(c, "echo", params, &error));
    CU_ASSERT_TRUE(g_error_matches(error, RPC_ERROR, RPC_ERROR_TOO_LARGE));
    /* Nothing was sent, and the connection is still usable. */
    CU_ASSERT_EQUAL(g_atomic_int_get(&fx->requests), 0);
    CU_ASSERT_TRUE(rpc_client_is_connected(c));

    /* A request just under the limit goes through whole. */
    big[RPC_MAX_MESSAGE - 200] = '\0';
    params = json_object_new_object();
    json_object_object_add(params, "blob", json_object_new_string(big));
    res = rpc_client_call(c, "echo", params, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(res);
    {
        json_object *v = NULL;

        CU_ASSERT_TRUE(json_object_object_get_ex(res, "blob", &v));
        CU_ASSERT_EQUAL(json_object_get_string_len(v), RPC_MAX_MESSAGE - 200);
    }
    g_clear_pointer(&c, rpc_client_free);
    fixture_stop();
}

static void
test_follow_events(void)
{
    g_autoptr(RpcClient) c = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(json_object) res = NULL;
    json_object *params = json_object_new_object();

    fixture_start(handle_follow);
    c = connect_ok(2000);
    json_object_object_add(params, "follow", json_object_new_boolean(true));
    res = rpc_client_call(c, "events", params, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(res);
    /* The three events that came in the same write as the reply. */
    for (int i = 2; i <= 4; i++) {
        g_autoptr(GError) e = NULL;
        g_autoptr(json_object) ev = rpc_client_read_event(c, 1000, &e);
        json_object *v = NULL;

        CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
        CU_ASSERT_TRUE(json_object_object_get_ex(ev, "id", &v));
        CU_ASSERT_EQUAL(json_object_get_int(v), i);
    }
    /* The half fifth event: a timeout, which keeps the connection. */
    {
        g_autoptr(GError) e = NULL;
        json_object *ev = rpc_client_read_event(c, 50, &e);

        CU_ASSERT_PTR_NULL(ev);
        CU_ASSERT_TRUE(g_error_matches(e, RPC_ERROR, RPC_ERROR_TIMEOUT));
        CU_ASSERT_TRUE(rpc_client_is_connected(c));
    }
    g_clear_pointer(&c, rpc_client_free);
    fixture_stop();
}

static GString *
handle_follow_then_close(Fixture *f, json_object *req, int64_t id)
{
    GString *out = g_string_new(NULL);

    g_string_append_printf(out,
                           "{\"version\":1,\"id\":%" G_GINT64_FORMAT
                           ",\"result\":{\"events\":[]}}\n",
                           id);
    g_string_append_printf(out,
                           "{\"version\":1,\"id\":%" G_GINT64_FORMAT
                           ",\"event\":{\"id\":7}}\n",
                           id);
    g_string_append(out, "{\"version\":1,\"id\":1,\"result\":{}}\n");
    f->close_after = true;
    return out;
}

static void
test_follow_end(void)
{
    g_autoptr(RpcClient) c = NULL;
    g_autoptr(json_object) res = NULL;
    g_autoptr(json_object) ev = NULL;
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;

    fixture_start(handle_follow_then_close);
    c = connect_ok(2000);
    res = rpc_client_call(c, "events", NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(res);
    ev = rpc_client_read_event(c, 1000, NULL);
    CU_ASSERT_PTR_NOT_NULL(ev);
    /* A line that is not an event is a protocol error ... */
    CU_ASSERT_PTR_NULL(rpc_client_read_event(c, 1000, &e1));
    CU_ASSERT_TRUE(g_error_matches(e1, RPC_ERROR, RPC_ERROR_IO));
    /* ... and closes the connection. */
    CU_ASSERT_PTR_NULL(rpc_client_read_event(c, 1000, &e2));
    CU_ASSERT_TRUE(g_error_matches(e2, RPC_ERROR, RPC_ERROR_IO));
    CU_ASSERT_FALSE(rpc_client_is_connected(c));
    g_clear_pointer(&c, rpc_client_free);
    fixture_stop();
}

static void
test_daemon_absent(void)
{
    g_autofree char *dir = cutest_tmpdir();
    g_autofree char *path = g_build_filename(dir, "umbrad.sock", NULL);
    g_autofree char *expected = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) error2 = NULL;
    g_autoptr(GError) error3 = NULL;
    g_autofree char *longpath = NULL;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd;

    /* No socket file at all. */
    CU_ASSERT_PTR_NULL(rpc_client_connect(path, 1000, &error));
    CU_ASSERT_TRUE(g_error_matches(error, RPC_ERROR, RPC_ERROR_CONNECT));
    expected = g_strdup_printf("cannot connect to umbrad at %s: %s (is "
                               "umbrad running?)",
                               path, g_strerror(ENOENT));
    CU_ASSERT_STRING_EQUAL(error->message, expected);

    /* A socket file nobody listens on (a crashed daemon). */
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *) &addr, sizeof(addr)), 0);
    close(fd);
    CU_ASSERT_PTR_NULL(rpc_client_connect(path, 1000, &error2));
    CU_ASSERT_TRUE(g_error_matches(error2, RPC_ERROR, RPC_ERROR_CONNECT));
    g_free(expected);
    expected = g_strdup_printf("cannot connect to umbrad at %s: %s (is "
                               "umbrad running?)",
                               path, g_strerror(ECONNREFUSED));
    CU_ASSERT_STRING_EQUAL(error2->message, expected);

    /* A path that does not fit in sun_path. */
    longpath = g_strnfill(200, 'x');
    CU_ASSERT_PTR_NULL(rpc_client_connect(longpath, 1000, &error3));
    CU_ASSERT_TRUE(g_error_matches(error3, RPC_ERROR, RPC_ERROR_CONNECT));
    CU_ASSERT_PTR_NOT_NULL(strstr(error3->message, "too long")
                               ? error3->message
                               : strstr(error3->message, "longer"));

    rpc_client_free(NULL);
    cutest_rmdir(dir);
}

static const CutestCase cases[] = {
    {"call_result", test_call_result},
    {"call_params_and_sequence", test_call_params_and_sequence},
    {"daemon_errors", test_daemon_errors},
    {"timeout", test_timeout},
    {"eof_mid_reply", test_eof_mid_reply},
    {"eof_before_reply", test_eof_before_reply},
    {"closed_on_accept", test_closed_on_accept},
    {"big_reply_in_pieces", test_big_reply_in_pieces},
    {"oversized_reply", test_oversized_reply},
    {"malformed_replies", test_malformed_replies},
    {"request_too_large", test_request_too_large},
    {"follow_events", test_follow_events},
    {"follow_end", test_follow_end},
    {"daemon_absent", test_daemon_absent},
};

CUTEST_MAIN("rpc-client", cases)
