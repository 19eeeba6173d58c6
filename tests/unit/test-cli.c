/*
 * tests/unit/test-cli.c: umbractl's library (cli/): the command tables,
 * the argument parsers, table and value formatting, and whole commands
 * run through cli_run() and cli_shell_run() against a canned daemon.
 *
 * The canned daemon is a server thread on a unix socket in a temporary
 * directory that answers each method with fixed JSON in the shape of
 * docs/rpc.md; it is the fixture, the CLI and the RPC client are the
 * real code under test.  Output goes to open_memstream() streams so the
 * tests compare exactly what a user would see.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/format.h"
#include "cutest.h"

/* ---- the canned daemon -------------------------------------------------- */

typedef struct {
    char *dir;        /* temporary directory */
    char *path;       /* socket path */
    int listen_fd;    /* listening socket */
    int stop_pipe[2]; /* written to stop the thread */
    GThread *thread;  /* the server */
    bool close_each;  /* close the connection after every reply */
    int connections;  /* connections accepted (atomic) */
    GMutex lock;      /* guards methods */
    GString *methods; /* "hello list ..." in the order received */
} Daemon;

static Daemon *dmn;

#define T0 "1795349521000000"

#define DOM_WEB1                                                               \
    "{\"name\":\"web1\",\"uuid\":\"u-web1\",\"host\":\"h1\",\"cell\":\"a\","   \
    "\"time\":" T0 ",\"state\":\"running\",\"vcpus\":2,\"cpu_pct\":12.5,"      \
    "\"mem_used_kib\":80000,\"mem_max_kib\":131072,\"blk_rd_bps\":0,"          \
    "\"blk_wr_bps\":4096,\"blk_rd_iops\":0,\"blk_wr_iops\":1.5,"               \
    "\"net_rx_bps\":100,\"net_tx_bps\":300,\"net_rx_pps\":1,"                  \
    "\"net_tx_pps\":2,\"dirty_mbps\":null}"

#define DOM_DB1                                                                \
    "{\"name\":\"database1\",\"uuid\":\"u-db1\",\"host\":\"h2\","              \
    "\"cell\":\"a\",\"time\":" T0 ",\"state\":\"paused\",\"vcpus\":1,"         \
    "\"cpu_pct\":null,\"mem_used_kib\":1048576,\"mem_max_kib\":2097152,"       \
    "\"blk_rd_bps\":null,\"blk_wr_bps\":null,\"blk_rd_iops\":null,"            \
    "\"blk_wr_iops\":null,\"net_rx_bps\":null,\"net_tx_bps\":null,"            \
    "\"net_rx_pps\":null,\"net_tx_pps\":null,\"dirty_mbps\":2}"

static const char *
canned_result(const char *method, json_object *params, bool *ret_follow)
{
    json_object *v = NULL;

    if (g_str_equal(method, "hello")) {
        return "{\"daemon\":\"umbrad\",\"version\":\"0.1.0\",\"protocol\":1,"
               "\"pid\":4242,\"started\":" T0 ",\"interval\":10,"
               "\"store\":\"/var/lib/umbra/umbra.db\",\"samples_written\":7,"
               "\"hosts\":2,\"domains\":2}";
    }
    if (g_str_equal(method, "ping")) {
        return "{}";
    }
    if (g_str_equal(method, "list")) {
        if (json_object_object_get_ex(params, "host", &v) &&
            g_str_equal(json_object_get_string(v), "nope")) {
            return NULL;
        }
        return "{\"domains\":[" DOM_WEB1 "," DOM_DB1 "]}";
    }
    if (g_str_equal(method, "hosts")) {
        return "{\"hosts\":[{\"name\":\"h1\",\"uri\":\"qemu+tcp://h1/system\","
               "\"cell\":\"a\",\"state\":\"connected\",\"last_error\":null,"
               "\"ncpus\":4,\"cpu_pct\":35.25,\"mem_total_kib\":24000000,"
               "\"mem_avail_kib\":20000000,\"domains\":1},"
               "{\"name\":\"h2\",\"uri\":\"qemu+tcp://h2/system\","
               "\"cell\":\"a\",\"state\":\"backoff\",\"retry_in_ms\":1500,"
               "\"last_error\":\"Connection refused\",\"ncpus\":null,"
               "\"cpu_pct\":null,\"mem_total_kib\":null,"
               "\"mem_avail_kib\":null,\"domains\":0}]}";
    }
    if (g_str_equal(method, "cells")) {
        return "{\"cells\":[{\"name\":\"a\",\"description\":null,"
               "\"hosts\":[\"h1\",\"h2\"],\"hosts_connected\":1,"
               "\"domains\":2,\"vcpus\":3,\"ncpus\":4,\"cpu_pct\":35.25,"
               "\"mem_total_kib\":24000000,\"mem_avail_kib\":20000000}]}";
    }
    if (g_str_equal(method, "domstats")) {
        if (!json_object_object_get_ex(params, "domain", &v) ||
            !g_str_equal(json_object_get_string(v), "web1")) {
            return NULL;
        }
        if (json_object_object_get_ex(params, "history", &v)) {
            return "{\"domain\":" DOM_WEB1 ",\"history\":[" DOM_WEB1
                   "," DOM_WEB1 "]}";
        }
        return "{\"domain\":" DOM_WEB1 ",\"history\":[]}";
    }
    if (g_str_equal(method, "profile")) {
        return "{\"domain\":\"web1\",\"uuid\":\"u-web1\",\"bin_s\":60,"
               "\"metrics\":[{\"metric\":\"cpu\",\"samples\":20160,"
               "\"learning\":false,\"level\":18.0,\"spread\":4.1,"
               "\"expected_now\":22.0,\"spread_now\":3.2,\"last\":22.4,"
               "\"drift\":0.1,\"periods\":[{\"period_s\":86400,"
               "\"strength\":0.82,\"candidate\":true}],"
               "\"events\":[{\"period_s\":86400,\"offset_s\":7200,"
               "\"length_s\":1800,\"magnitude\":4.5,\"cycles\":6,"
               "\"varying\":false},{\"period_s\":86400,\"offset_s\":10500,"
               "\"length_s\":3900,\"magnitude\":20.9,\"cycles\":14,"
               "\"varying\":true}]}]}";
    }
    if (g_str_equal(method, "events")) {
        *ret_follow = json_object_object_get_ex(params, "follow", &v) &&
                      json_object_get_boolean(v);
        return "{\"events\":[{\"id\":41,\"time\":" T0 ",\"source\":\"umbrad\","
               "\"host\":\"h1\",\"domain\":null,\"uuid\":null,"
               "\"type\":\"host-connected\",\"detail\":null},"
               "{\"id\":42,\"time\":" T0 ",\"source\":\"libvirt\","
               "\"host\":\"h1\",\"domain\":\"web1\",\"uuid\":\"u-web1\","
               "\"type\":\"started\",\"detail\":\"booted\"}]}";
    }
    return NULL;
}

/* Returns: (transfer full) the reply line(s) to @line. */
static GString *
daemon_reply(const char *line, bool *ret_close)
{
    g_autoptr(json_object) req = json_tokener_parse(line);
    GString *out = g_string_new(NULL);
    json_object *v = NULL;
    json_object *params = NULL;
    const char *method = "";
    const char *result;
    int64_t id = 0;
    bool follow = false;

    if (req && json_object_object_get_ex(req, "id", &v)) {
        id = json_object_get_int64(v);
    }
    if (req && json_object_object_get_ex(req, "method", &v)) {
        method = json_object_get_string(v);
    }
    if (req) {
        json_object_object_get_ex(req, "params", &params);
    }
    g_mutex_lock(&dmn->lock);
    g_string_append_printf(dmn->methods, "%s%s", dmn->methods->len ? " " : "",
                           method);
    g_mutex_unlock(&dmn->lock);

    result = canned_result(method, params, &follow);
    if (result) {
        g_string_printf(
            out, "{\"version\":1,\"id\":%" G_GINT64_FORMAT ",\"result\":%s}\n",
            id, result);
    } else if (g_str_equal(method, "list")) {
        g_string_printf(out,
                        "{\"version\":1,\"id\":%" G_GINT64_FORMAT
                        ",\"error\":{\"code\":\"unknown-host\",\"message\":"
                        "\"no host 'nope'\"}}\n",
                        id);
    } else if (g_str_equal(method, "domstats")) {
        json_object_object_get_ex(params, "domain", &v);
        g_string_printf(out,
                        "{\"version\":1,\"id\":%" G_GINT64_FORMAT
                        ",\"error\":{\"code\":\"unknown-domain\",\"message\":"
                        "\"no domain '%s' on any host\"}}\n",
                        id, json_object_get_string(v));
    } else {
        g_string_printf(out,
                        "{\"version\":1,\"id\":%" G_GINT64_FORMAT
                        ",\"error\":{\"code\":\"unknown-method\",\"message\":"
                        "\"unknown method\"}}\n",
                        id);
    }
    if (follow) {
        for (int i = 43; i <= 44; i++) {
            g_string_append_printf(out,
                                   "{\"version\":1,\"id\":%" G_GINT64_FORMAT
                                   ",\"event\":{\"id\":%d,\"time\":" T0
                                   ",\"source\":\"libvirt\",\"host\":\"h1\","
                                   "\"domain\":\"web1\",\"type\":\"stopped\","
                                   "\"detail\":\"shutdown\"}}\n",
                                   id, i);
        }
        *ret_close = true;
    }
    return out;
}

static bool
daemon_wait(int fd)
{
    struct pollfd p[2] = {
        {.fd = fd, .events = POLLIN},
        {.fd = dmn->stop_pipe[0], .events = POLLIN},
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
daemon_serve(int fd)
{
    g_autoptr(GString) buf = g_string_new(NULL);

    for (;;) {
        char tmp[4096];
        char *nl;
        ssize_t n;

        while ((nl = memchr(buf->str, '\n', buf->len))) {
            g_autofree char *line =
                g_strndup(buf->str, (gsize) (nl - buf->str));
            g_autoptr(GString) out = NULL;
            bool close_it = dmn->close_each;

            g_string_erase(buf, 0, nl - buf->str + 1);
            out = daemon_reply(line, &close_it);
            if (send(fd, out->str, out->len, MSG_NOSIGNAL) < 0 || close_it) {
                return true;
            }
        }
        if (!daemon_wait(fd)) {
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
daemon_thread(gpointer data)
{
    while (daemon_wait(dmn->listen_fd)) {
        int fd = accept4(dmn->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        bool go_on;

        if (fd < 0) {
            continue;
        }
        g_atomic_int_inc(&dmn->connections);
        go_on = daemon_serve(fd);
        close(fd);
        if (!go_on) {
            break;
        }
    }
    return NULL;
}

static void
daemon_start(void)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};

    dmn = g_new0(Daemon, 1);
    g_mutex_init(&dmn->lock);
    dmn->methods = g_string_new(NULL);
    dmn->dir = cutest_tmpdir();
    g_assert(dmn->dir);
    dmn->path = g_build_filename(dmn->dir, "umbrad.sock", NULL);
    g_strlcpy(addr.sun_path, dmn->path, sizeof(addr.sun_path));
    dmn->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert(dmn->listen_fd >= 0);
    g_assert(bind(dmn->listen_fd, (struct sockaddr *) &addr, sizeof(addr)) ==
             0);
    g_assert(listen(dmn->listen_fd, 8) == 0);
    g_assert(pipe2(dmn->stop_pipe, O_CLOEXEC) == 0);
    dmn->thread = g_thread_new("daemon", daemon_thread, NULL);
}

static void
daemon_stop(void)
{
    g_assert(write(dmn->stop_pipe[1], "x", 1) == 1);
    g_thread_join(dmn->thread);
    close(dmn->stop_pipe[0]);
    close(dmn->stop_pipe[1]);
    close(dmn->listen_fd);
    cutest_rmdir(dmn->dir);
    g_free(dmn->dir);
    g_free(dmn->path);
    g_string_free(dmn->methods, TRUE);
    g_mutex_clear(&dmn->lock);
    g_clear_pointer(&dmn, g_free);
}

/* Returns: (transfer full) the methods called so far, space-separated. */
static char *
daemon_methods(void)
{
    char *s;

    g_mutex_lock(&dmn->lock);
    s = g_strdup(dmn->methods->str);
    g_mutex_unlock(&dmn->lock);
    return s;
}

/* ---- running commands --------------------------------------------------- */

typedef struct {
    char *out;  /* what went to the result stream */
    char *err;  /* what went to the error stream */
    int status; /* exit code */
} Run;

static void
run_clear(Run *r)
{
    g_free(r->out);
    g_free(r->err);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Run, run_clear)

/* Runs @cmdline (split like the shell does) on @ctx_in or a new context. */
static void
run_on(CliCtx *ctx_in, const char *socket_path, const char *cmdline, Run *ret)
{
    g_auto(GStrv) argv = NULL;
    g_autoptr(CliCtx) own = NULL;
    CliCtx *ctx = ctx_in;
    size_t olen = 0;
    size_t elen = 0;
    FILE *out = NULL;
    FILE *err = NULL;
    int argc = 0;

    g_assert(g_shell_parse_argv(cmdline, &argc, &argv, NULL));
    out = open_memstream(&ret->out, &olen);
    err = open_memstream(&ret->err, &elen);
    if (!ctx) {
        own = cli_ctx_new(socket_path, out, err);
        own->timeout_ms = 5000;
        ctx = own;
    }
    ctx->out = out;
    ctx->err = err;
    ret->status = cli_run(ctx, argc, argv);
    ctx->out = stdout;
    ctx->err = stderr;
    fclose(out);
    fclose(err);
}

static void
run(const char *cmdline, Run *ret)
{
    run_on(NULL, dmn ? dmn->path : "/nonexistent/umbrad.sock", cmdline, ret);
}

/* Returns: true if @haystack contains @needle; prints both if not. */
static bool
contains(const char *haystack, const char *needle)
{
    if (haystack && strstr(haystack, needle)) {
        return true;
    }
    fprintf(stderr, "\n--- expected to find:\n%s\n--- in:\n%s\n---\n", needle,
            haystack ? haystack : "(null)");
    return false;
}

/* ---- tables and formatters ---------------------------------------------- */

static void
test_table_layout(void)
{
    g_autoptr(CliTable) t = cli_table_new();
    g_autofree char *text = NULL;

    cli_table_add_column(t, "Name", CLI_ALIGN_LEFT);
    cli_table_add_column(t, "State", CLI_ALIGN_LEFT);
    cli_table_add_column(t, "CPU%", CLI_ALIGN_RIGHT);
    cli_table_add_cell(t, "web1");
    cli_table_add_cell(t, "running");
    cli_table_add_cell_take(t, cli_format_pct(12.5));
    cli_table_add_cell(t, "database-1");
    cli_table_add_cell(t, NULL);
    cli_table_add_cell_take(t, cli_format_pct(3.0));
    cli_table_add_cell(t, "x");
    cli_table_add_cell(t, "");
    cli_table_add_cell_take(t, cli_format_pct(NAN));
    CU_ASSERT_EQUAL(cli_table_get_rows(t), 3);
    text = cli_table_render(t);
    CU_ASSERT_STRING_EQUAL(text, " Name         State     CPU%\n"
                                 "-----------------------------\n"
                                 " web1         running   12.5\n"
                                 " database-1   -          3.0\n"
                                 " x            -            -\n");
}

static void
test_table_no_trailing_blanks(void)
{
    g_autoptr(CliTable) t = cli_table_new();
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    cli_table_add_column(t, "ID", CLI_ALIGN_RIGHT);
    cli_table_add_column(t, "Detail", CLI_ALIGN_LEFT);
    cli_table_add_cell(t, "1");
    cli_table_add_cell(t, "a long detail text");
    cli_table_add_cell(t, "100");
    cli_table_add_cell(t, "short");
    text = cli_table_render(t);
    CU_ASSERT_STRING_EQUAL(text, "  ID   Detail\n"
                                 "--------------------------\n"
                                 "   1   a long detail text\n"
                                 " 100   short\n");
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        size_t n = strlen(lines[i]);

        CU_ASSERT_TRUE(n == 0 || lines[i][n - 1] != ' ');
    }
}

static void
test_table_unicode_and_control(void)
{
    g_autoptr(CliTable) t = cli_table_new();
    g_autofree char *text = NULL;

    cli_table_add_column(t, "Name", CLI_ALIGN_LEFT);
    cli_table_add_column(t, "N", CLI_ALIGN_RIGHT);
    /* Six characters, eight bytes: aligned by characters. */
    cli_table_add_cell(t, "d\xc3\xad"
                          "a\xc3\xb1o");
    cli_table_add_cell(t, "1");
    /* Escape sequences and newlines from the daemon are neutralised. */
    cli_table_add_cell(t, "ev\033[2Jil\n");
    cli_table_add_cell(t, "2");
    /* Invalid UTF-8 is replaced, not passed on. */
    cli_table_add_cell(t, "ab\xff");
    cli_table_add_cell(t, "3");
    text = cli_table_render(t);
    CU_ASSERT_PTR_NULL(strchr(text, '\033'));
    CU_ASSERT_TRUE(g_utf8_validate(text, -1, NULL));
    CU_ASSERT_TRUE(contains(text, " d\xc3\xad"
                                  "a\xc3\xb1o       1\n"));
    CU_ASSERT_TRUE(contains(text, " ev?[2Jil?   2\n"));
    CU_ASSERT_TRUE(contains(text, " ab\xef\xbf\xbd         3\n"));
}

static void
test_table_partial_and_empty(void)
{
    g_autoptr(CliTable) t = cli_table_new();
    g_autoptr(CliTable) e = cli_table_new();
    g_autofree char *text = NULL;
    g_autofree char *empty = NULL;

    cli_table_add_column(t, "A", CLI_ALIGN_LEFT);
    cli_table_add_column(t, "B", CLI_ALIGN_LEFT);
    cli_table_add_cell(t, "1");
    cli_table_add_cell(t, "2");
    cli_table_add_cell(t, "3");
    CU_ASSERT_EQUAL(cli_table_get_rows(t), 2);
    text = cli_table_render(t);
    CU_ASSERT_STRING_EQUAL(text, " A   B\n-------\n 1   2\n 3   -\n");

    cli_table_add_column(e, "Name", CLI_ALIGN_LEFT);
    cli_table_add_column(e, "State", CLI_ALIGN_LEFT);
    CU_ASSERT_EQUAL(cli_table_get_rows(e), 0);
    empty = cli_table_render(e);
    CU_ASSERT_STRING_EQUAL(empty, " Name   State\n--------------\n");
}

static void
test_kv(void)
{
    g_autoptr(CliKv) kv = cli_kv_new();
    g_autofree char *text = NULL;

    cli_kv_add(kv, "state", "running");
    cli_kv_add_take(kv, "cpu.pct", cli_format_pct(NAN));
    cli_kv_add(kv, "x", NULL);
    text = cli_kv_render(kv, 2);
    CU_ASSERT_STRING_EQUAL(text, "  state:   running\n"
                                 "  cpu.pct: -\n"
                                 "  x:       -\n");
}

static void
test_formatters(void)
{
    static const struct {
        char *(*fn)(int64_t);
        int64_t in;
        const char *out;
    } ints[] = {
        {cli_format_kib, -1, "-"},
        {cli_format_kib, 0, "0 KiB"},
        {cli_format_kib, 1023, "1023 KiB"},
        {cli_format_kib, 1024, "1.0 MiB"},
        {cli_format_kib, 1536 * 1024, "1.5 GiB"},
        {cli_format_count, -1, "-"},
        {cli_format_count, 0, "0"},
        {cli_format_count, 1234567, "1234567"},
        {cli_format_duration, -5, "-"},
        {cli_format_duration, 0, "0s"},
        {cli_format_duration, 59, "59s"},
        {cli_format_duration, 90, "1m 30s"},
        {cli_format_duration, 3600, "1h"},
        {cli_format_duration, 3661, "1h 1m 1s"},
        {cli_format_duration, 86400 + 60, "1d 1m"},
        {cli_format_time, 0, "-"},
        {cli_format_time, -3, "-"},
    };
    static const struct {
        char *(*fn)(double);
        double in;
        const char *out;
    } dbls[] = {
        {cli_format_pct, NAN, "-"},
        {cli_format_pct, INFINITY, "-"},
        {cli_format_pct, 0, "0.0"},
        {cli_format_pct, 12.345, "12.3"},
        {cli_format_pct, 100, "100.0"},
        {cli_format_rate, NAN, "-"},
        {cli_format_rate, 0, "0 B/s"},
        {cli_format_rate, 4096, "4.0 KiB/s"},
        {cli_format_rate, 1.5 * 1048576, "1.5 MiB/s"},
        {cli_format_per_sec, NAN, "-"},
        {cli_format_per_sec, 2, "2/s"},
        {cli_format_per_sec, 1.25, "1.2/s"},
        {cli_format_per_sec, 1234.5, "1234/s"},
    };
    g_autofree char *pair = cli_format_kib_pair(80000, -1);
    g_autofree char *text = cli_format_text("a\tb");
    g_autofree char *dash = cli_format_text(NULL);
    g_autofree char *time = cli_format_time(1795349521000000);

    for (size_t i = 0; i < G_N_ELEMENTS(ints); i++) {
        g_autofree char *s = ints[i].fn(ints[i].in);

        CU_ASSERT_STRING_EQUAL(s, ints[i].out);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(dbls); i++) {
        g_autofree char *s = dbls[i].fn(dbls[i].in);

        CU_ASSERT_STRING_EQUAL(s, dbls[i].out);
    }
    CU_ASSERT_STRING_EQUAL(pair, "78.1 MiB / -");
    CU_ASSERT_STRING_EQUAL(text, "a?b");
    CU_ASSERT_STRING_EQUAL(dash, "-");
    CU_ASSERT_TRUE(g_str_has_prefix(time, "2026-11-2"));
}

static void
test_json_accessors(void)
{
    g_autoptr(json_object) o =
        json_tokener_parse("{\"i\":5,\"d\":1.5,\"n\":null,\"s\":\"x\","
                           "\"a\":[1],\"o\":{}}");

    CU_ASSERT_EQUAL(cli_json_int(o, "i"), 5);
    CU_ASSERT_EQUAL(cli_json_int(o, "n"), -1);
    CU_ASSERT_EQUAL(cli_json_int(o, "missing"), -1);
    CU_ASSERT_EQUAL(cli_json_int(o, "s"), -1);
    CU_ASSERT_DOUBLE_EQUAL(cli_json_double(o, "d"), 1.5, 1e-9);
    CU_ASSERT_TRUE(isnan(cli_json_double(o, "n")));
    CU_ASSERT_TRUE(isnan(cli_json_double(o, "s")));
    CU_ASSERT_STRING_EQUAL(cli_json_string(o, "s"), "x");
    CU_ASSERT_PTR_NULL(cli_json_string(o, "n"));
    CU_ASSERT_PTR_NOT_NULL(cli_json_array(o, "a"));
    CU_ASSERT_PTR_NULL(cli_json_array(o, "o"));
    CU_ASSERT_PTR_NULL(cli_json_array(NULL, "a"));
}

/* ---- command table ------------------------------------------------------ */

static void
test_command_table(void)
{
    g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) keywords = g_hash_table_new(g_str_hash, g_str_equal);
    g_autofree char *all = cli_help_all();
    guint ncmds = 0;

    for (const CliCmdGroup *g = cli_cmd_groups; g->name; g++) {
        g_autofree char *group = NULL;

        CU_ASSERT_PTR_NOT_NULL(g->keyword);
        CU_ASSERT_TRUE(g_hash_table_add(keywords, (gpointer) g->keyword));
        group = cli_help_group(g->keyword);
        CU_ASSERT_PTR_NOT_NULL(group);
        for (const CliCmdDef *c = g->cmds; c->name; c++) {
            g_autofree char *help = cli_cmd_help(c);
            g_autofree char *usage = cli_cmd_usage(c);
            g_autofree char *listed =
                g_strdup_printf("    %-14s %s\n", c->name, c->summary);
            bool seen_optional_positional = false;

            ncmds++;
            /* Unique, found by lookup, documented, listed in help. */
            CU_ASSERT_TRUE(g_hash_table_add(names, (gpointer) c->name));
            CU_ASSERT_PTR_EQUAL(cli_cmd_lookup(c->name), c);
            CU_ASSERT_PTR_NOT_NULL(c->handler);
            CU_ASSERT_TRUE(c->summary && *c->summary);
            CU_ASSERT_TRUE(contains(all, listed));
            CU_ASSERT_TRUE(contains(help, "  NAME\n"));
            CU_ASSERT_TRUE(contains(help, "  SYNOPSIS\n"));
            CU_ASSERT_TRUE(g_str_has_prefix(usage, c->name));
            for (guint i = 0; c->opts && c->opts[i].name; i++) {
                const CliOptDef *o = &c->opts[i];
                g_autofree char *flag = g_strdup_printf("--%s", o->name);

                CU_ASSERT_TRUE(o->help && *o->help);
                CU_ASSERT_TRUE(o->type < CLI_OPT_LAST);
                CU_ASSERT_TRUE(o->type == CLI_OPT_BOOL || o->metavar);
                CU_ASSERT_FALSE(g_str_equal(o->name, "json"));
                CU_ASSERT_FALSE(g_str_equal(o->name, "help"));
                CU_ASSERT_TRUE(contains(help, flag));
                /* Option names are unique within a command. */
                for (guint j = 0; j < i; j++) {
                    CU_ASSERT_FALSE(g_str_equal(c->opts[j].name, o->name));
                }
                /* A required positional never follows an optional one. */
                if (o->flags & CLI_OPT_POSITIONAL) {
                    CU_ASSERT_TRUE(o->type != CLI_OPT_BOOL);
                    if (o->flags & CLI_OPT_REQUIRED) {
                        CU_ASSERT_FALSE(seen_optional_positional);
                    } else {
                        seen_optional_positional = true;
                    }
                }
            }
        }
    }
    /* The commands the CLI promises. */
    {
        static const char *const must[] = {
            "list",   "hosts",   "cells", "domstats", "top",
            "events", "version", "help",  "quit",     "exit"};

        for (size_t i = 0; i < G_N_ELEMENTS(must); i++) {
            CU_ASSERT_PTR_NOT_NULL(cli_cmd_lookup(must[i]));
        }
    }
    CU_ASSERT_EQUAL(g_hash_table_size(names), ncmds);
    CU_ASSERT_PTR_NULL(cli_cmd_lookup("nope"));
    CU_ASSERT_PTR_NULL(cli_help_group("nope"));
}

static void
test_suggest(void)
{
    CU_ASSERT_STRING_EQUAL(cli_cmd_suggest("lst"), "list");
    CU_ASSERT_STRING_EQUAL(cli_cmd_suggest("domstat"), "domstats");
    CU_ASSERT_STRING_EQUAL(cli_cmd_suggest("host"), "hosts");
    CU_ASSERT_STRING_EQUAL(cli_cmd_suggest("evnets"), "events");
    CU_ASSERT_STRING_EQUAL(cli_cmd_suggest("vers"), "version");
    CU_ASSERT_PTR_NULL(cli_cmd_suggest("frobnicate"));
    CU_ASSERT_PTR_NULL(cli_cmd_suggest(""));
}

static void
test_usage_text(void)
{
    g_autofree char *list = cli_cmd_usage(cli_cmd_lookup("list"));
    g_autofree char *domstats = cli_cmd_usage(cli_cmd_lookup("domstats"));
    g_autofree char *top = cli_cmd_usage(cli_cmd_lookup("top"));
    g_autofree char *help = cli_cmd_help(cli_cmd_lookup("domstats"));
    g_auto(GStrv) lines = g_strsplit(help, "\n", -1);

    CU_ASSERT_STRING_EQUAL(list, "list [--host HOST] [--cell CELL] [--all] "
                                 "[--name]");
    CU_ASSERT_STRING_EQUAL(domstats, "domstats DOMAIN [--history SECONDS] "
                                     "[--max-points N]");
    CU_ASSERT_STRING_EQUAL(top, "top [--interval SECONDS] [--iterations N] "
                                "[--sort KEY]");
    CU_ASSERT_TRUE(contains(help, "    [--domain] DOMAIN  domain name or "
                                  "UUID\n"));
    CU_ASSERT_TRUE(contains(help, "    --json "));
    for (guint i = 0; lines[i]; i++) {
        CU_ASSERT_TRUE(g_utf8_strlen(lines[i], -1) <= 80);
    }
}

/* ---- argument parsing ---------------------------------------------------- */

/* Parses @cmdline for the command it starts with. */
static CliArgs *
parse(const char *cmdline, GError **error)
{
    g_auto(GStrv) argv = NULL;
    int argc = 0;
    const CliCmdDef *cmd;

    g_assert(g_shell_parse_argv(cmdline, &argc, &argv, NULL));
    cmd = cli_cmd_lookup(argv[0]);
    g_assert(cmd);
    return cli_args_parse(cmd, argc - 1, argv + 1, error);
}

static void
test_args_ok(void)
{
    g_autoptr(CliArgs) a = parse("list --host h1 --cell=a --all", NULL);
    g_autoptr(CliArgs) b = parse("domstats web1 --history 2h", NULL);
    g_autoptr(CliArgs) c = parse("domstats --domain=web1 --max-points 5 "
                                 "--json",
                                 NULL);
    g_autoptr(CliArgs) d = parse("domstats -- -weird-name", NULL);
    g_autoptr(CliArgs) e = parse("top --sort mem --interval 90 "
                                 "--iterations 3",
                                 NULL);
    g_autoptr(CliArgs) f = parse("list --help", NULL);
    g_autoptr(CliArgs) g = parse("domstats -h", NULL);
    g_autoptr(CliArgs) h = parse("help list", NULL);

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_STRING_EQUAL(cli_args_get_string(a, "host"), "h1");
    CU_ASSERT_STRING_EQUAL(cli_args_get_string(a, "cell"), "a");
    CU_ASSERT_TRUE(cli_args_get_bool(a, "all"));
    CU_ASSERT_FALSE(cli_args_get_bool(a, "name"));
    CU_ASSERT_FALSE(cli_args_json(a));
    CU_ASSERT_FALSE(cli_args_help(a));

    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_EQUAL(cli_args_get_string(b, "domain"), "web1");
    CU_ASSERT_EQUAL(cli_args_get_int(b, "history", 0), 7200);
    CU_ASSERT_FALSE(cli_args_has(b, "max-points"));
    CU_ASSERT_EQUAL(cli_args_get_int(b, "max-points", 600), 600);

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(cli_args_get_string(c, "domain"), "web1");
    CU_ASSERT_EQUAL(cli_args_get_int(c, "max-points", 0), 5);
    CU_ASSERT_TRUE(cli_args_json(c));

    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_STRING_EQUAL(cli_args_get_string(d, "domain"), "-weird-name");

    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_STRING_EQUAL(cli_args_get_string(e, "sort"), "mem");
    CU_ASSERT_EQUAL(cli_args_get_int(e, "interval", 0), 90);
    CU_ASSERT_EQUAL(cli_args_get_int(e, "iterations", 0), 3);

    /* --help skips the checks for required arguments. */
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_TRUE(cli_args_help(f));
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_TRUE(cli_args_help(g));

    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_STRING_EQUAL(cli_args_get_string(h, "command"), "list");
}

static void
test_args_errors(void)
{
    static const struct {
        const char *cmdline;
        const char *message;
    } cases[] = {
        {"list --bogus", "command 'list': unknown option --bogus"},
        {"list -x", "command 'list': unknown option -x"},
        {"list --all=yes", "command 'list': option --all takes no value"},
        {"list --host", "command 'list': option --host needs a value "
                        "(HOST)"},
        {"list --host a --host b", "command 'list': option --host given "
                                   "more than once"},
        {"list --host ''", "command 'list': option --host: empty value"},
        {"list extra", "command 'list': unexpected argument 'extra'"},
        {"domstats", "command 'domstats': missing argument DOMAIN"},
        {"domstats a b", "command 'domstats': unexpected argument 'b'"},
        {"domstats web1 --history soon", "command 'domstats': option "
                                         "--history: 'soon' is not a "
                                         "duration (e.g. 90, 30s, 15m, "
                                         "2h, 7d)"},
        {"domstats web1 --max-points -5", "command 'domstats': option "
                                          "--max-points: '-5' is not a "
                                          "non-negative integer"},
        {"domstats web1 --max-points 5x", "command 'domstats': option "
                                          "--max-points: '5x' is not a "
                                          "non-negative integer"},
        {"domstats web1 --domain web2", "command 'domstats': option "
                                        "--domain given more than once"},
        {"top --sort size", "command 'top': option --sort: 'size' is not "
                            "one of cpu, mem, name"},
        {"events --since", "command 'events': option --since needs a "
                           "value (ID)"},
        {"quit now", "command 'quit': unexpected argument 'now'"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(CliArgs) a = parse(cases[i].cmdline, &error);

        CU_ASSERT_PTR_NULL(a);
        CU_ASSERT_TRUE(g_error_matches(error, CLI_ERROR, CLI_ERROR_USAGE));
        if (error && !g_str_equal(error->message, cases[i].message)) {
            fprintf(stderr, "\n%s: got '%s'\n", cases[i].cmdline,
                    error->message);
            CU_FAIL("message");
        }
    }
}

static void
test_global_options(void)
{
    static const struct {
        const char *cmdline;
        const char *socket;
        bool json;
        int timeout_ms;
        bool help;
        bool version;
        int cmd_index;
    } ok[] = {
        {"umbractl", NULL, false, -1, false, false, 1},
        {"umbractl list", NULL, false, -1, false, false, 1},
        {"umbractl -c /s list --all", "/s", false, -1, false, false, 3},
        {"umbractl --connect=/s --json -t 500 hosts", "/s", true, 500, false,
         false, 5},
        {"umbractl --connect /a -c /b --timeout=0", "/b", false, 0, false,
         false, 6},
        {"umbractl -h", NULL, false, -1, true, false, 2},
        {"umbractl --version", NULL, false, -1, false, true, 2},
        {"umbractl -- --weird", NULL, false, -1, false, false, 2},
        {"umbractl list --json", NULL, false, -1, false, false, 1},
    };
    static const struct {
        const char *cmdline;
        const char *message;
    } bad[] = {
        {"umbractl -c", "option -c needs a value"},
        {"umbractl --connect", "option --connect needs a value"},
        {"umbractl --connect=", "option --connect: empty socket path"},
        {"umbractl -t soon list", "option --timeout: 'soon' is not a "
                                  "number of milliseconds"},
        {"umbractl --timeout=-1 list", "option --timeout: '-1' is not a "
                                       "number of milliseconds"},
        {"umbractl --frob list", "unknown option --frob"},
        {"umbractl --jsonx list", "unknown option --jsonx"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
        g_auto(GStrv) argv = NULL;
        g_autoptr(GError) error = NULL;
        CliGlobalOpts o;
        int argc = 0;

        g_assert(g_shell_parse_argv(ok[i].cmdline, &argc, &argv, NULL));
        CU_ASSERT_TRUE_FATAL(cli_global_parse(argc, argv, &o, &error));
        CU_ASSERT_STRING_EQUAL(o.socket_path ? o.socket_path : "(null)",
                               ok[i].socket ? ok[i].socket : "(null)");
        CU_ASSERT_EQUAL(o.json, ok[i].json);
        CU_ASSERT_EQUAL(o.timeout_ms, ok[i].timeout_ms);
        CU_ASSERT_EQUAL(o.help, ok[i].help);
        CU_ASSERT_EQUAL(o.version, ok[i].version);
        CU_ASSERT_EQUAL(o.cmd_index, ok[i].cmd_index);
        g_free(o.socket_path);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_auto(GStrv) argv = NULL;
        g_autoptr(GError) error = NULL;
        CliGlobalOpts o = {0};
        int argc = 0;

        g_assert(g_shell_parse_argv(bad[i].cmdline, &argc, &argv, NULL));
        CU_ASSERT_FALSE(cli_global_parse(argc, argv, &o, &error));
        CU_ASSERT_TRUE(g_error_matches(error, CLI_ERROR, CLI_ERROR_USAGE));
        if (error && !g_str_equal(error->message, bad[i].message)) {
            fprintf(stderr, "\n%s: got '%s'\n", bad[i].cmdline, error->message);
            CU_FAIL("message");
        }
    }
}

/* ---- whole commands ----------------------------------------------------- */

static void
test_run_list(void)
{
    g_auto(Run) r = {0};
    g_auto(Run) names = {0};
    g_autofree char *methods = NULL;

    daemon_start();
    run("list", &r);
    CU_ASSERT_EQUAL(r.status, CLI_EXIT_OK);
    CU_ASSERT_STRING_EQUAL(r.err, "");
    CU_ASSERT_STRING_EQUAL(
        r.out,
        " Name        Host   Cell   State     vCPUs   CPU%      Memory used "
        "/ max\n"
        "-------------------------------------------------------------------"
        "------\n"
        " web1        h1     a      running       2   12.5   78.1 MiB / "
        "128.0 MiB\n"
        " database1   h2     a      paused        1      -      1.0 GiB / "
        "2.0 GiB\n");
    run("list --name --all --cell a", &names);
    CU_ASSERT_EQUAL(names.status, CLI_EXIT_OK);
    CU_ASSERT_STRING_EQUAL(names.out, "web1\ndatabase1\n");
    methods = daemon_methods();
    CU_ASSERT_STRING_EQUAL(methods, "list list");
    daemon_stop();
}

static void
test_run_json(void)
{
    g_auto(Run) r = {0};
    g_auto(Run) r2 = {0};
    g_autoptr(json_object) o = NULL;
    g_autoptr(json_object) o2 = NULL;
    json_object *v = NULL;

    daemon_start();
    run("hosts --json", &r);
    CU_ASSERT_EQUAL(r.status, CLI_EXIT_OK);
    o = json_tokener_parse(r.out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_TRUE(json_object_object_get_ex(o, "hosts", &v));
    CU_ASSERT_EQUAL(json_object_array_length(v), 2);
    /* Pretty: more than one line. */
    CU_ASSERT_TRUE(strchr(r.out, '\n') != r.out + strlen(r.out) - 1);

    run("version --json", &r2);
    CU_ASSERT_EQUAL(r2.status, CLI_EXIT_OK);
    o2 = json_tokener_parse(r2.out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o2);
    CU_ASSERT_TRUE(json_object_object_get_ex(o2, "client", &v));
    CU_ASSERT_TRUE(json_object_object_get_ex(o2, "daemon", &v));
    CU_ASSERT_STRING_EQUAL(cli_json_string(v, "daemon"), "umbrad");
    daemon_stop();
}

static void
test_run_hosts_cells(void)
{
    g_auto(Run) h = {0};
    g_auto(Run) c = {0};

    daemon_start();
    run("hosts", &h);
    CU_ASSERT_EQUAL(h.status, CLI_EXIT_OK);
    CU_ASSERT_TRUE(contains(h.out, " Name   Cell   URI                    "
                                   "State                   Domains   CPU%"));
    CU_ASSERT_TRUE(contains(h.out, " h2     a      qemu+tcp://h2/system   "
                                   "backoff (retry in 2s)         0      -"
                                   "                  - / -   Connection "
                                   "refused\n"));
    run("cells", &c);
    CU_ASSERT_EQUAL(c.status, CLI_EXIT_OK);
    CU_ASSERT_TRUE(contains(c.out, " a               1/2         2          "
                                   "3/4   35.2    19.1 GiB / 22.9 GiB   -\n"));
    daemon_stop();
}

static void
test_run_domstats(void)
{
    g_auto(Run) r = {0};
    g_auto(Run) h = {0};

    daemon_start();
    run("domstats web1", &r);
    CU_ASSERT_EQUAL(r.status, CLI_EXIT_OK);
    CU_ASSERT_TRUE(g_str_has_prefix(r.out, "Domain: 'web1'\n"
                                           "  uuid:          u-web1\n"
                                           "  host:          h1\n"));
    CU_ASSERT_TRUE(contains(r.out, "  cpu.pct:       12.5\n"));
    CU_ASSERT_TRUE(contains(r.out, "  block.wr.rate: 4.0 KiB/s\n"));
    CU_ASSERT_TRUE(contains(r.out, "  block.wr.iops: 1.5/s\n"));
    CU_ASSERT_TRUE(contains(r.out, "  dirty.rate:    -\n"));
    CU_ASSERT_PTR_NULL(strstr(r.out, "History"));

    run("domstats --domain web1 --history 1h", &h);
    CU_ASSERT_EQUAL(h.status, CLI_EXIT_OK);
    CU_ASSERT_TRUE(contains(h.out, "\nHistory, last 1h: 2 samples\n"
                                   " Time "));
    daemon_stop();
}

static void
test_run_errors(void)
{
    g_auto(Run) dom = {0};
    g_auto(Run) host = {0};
    g_auto(Run) unknown = {0};
    g_auto(Run) far = {0};
    g_auto(Run) usage = {0};
    g_auto(Run) limit = {0};
    g_auto(Run) helpcmd = {0};
    g_autofree char *methods = NULL;

    daemon_start();
    run("domstats web9", &dom);
    CU_ASSERT_EQUAL(dom.status, CLI_EXIT_FAILURE);
    CU_ASSERT_STRING_EQUAL(dom.out, "");
    CU_ASSERT_STRING_EQUAL(dom.err, "error: failed to get domain 'web9': no "
                                    "domain 'web9' on any host\n");
    run("list --host nope", &host);
    CU_ASSERT_EQUAL(host.status, CLI_EXIT_FAILURE);
    CU_ASSERT_STRING_EQUAL(host.err, "error: failed to list domains: no host "
                                     "'nope'\n");
    run("lst", &unknown);
    CU_ASSERT_EQUAL(unknown.status, CLI_EXIT_USAGE);
    CU_ASSERT_STRING_EQUAL(unknown.err, "error: unknown command: 'lst' (did "
                                        "you mean 'list'?)\n");
    run("frobnicate", &far);
    CU_ASSERT_EQUAL(far.status, CLI_EXIT_USAGE);
    CU_ASSERT_STRING_EQUAL(far.err, "error: unknown command: 'frobnicate' "
                                    "(try 'umbractl help')\n");
    run("domstats", &usage);
    CU_ASSERT_EQUAL(usage.status, CLI_EXIT_USAGE);
    CU_ASSERT_STRING_EQUAL(usage.err, "error: command 'domstats': missing "
                                      "argument DOMAIN\n"
                                      "usage: umbractl domstats DOMAIN "
                                      "[--history SECONDS] [--max-points "
                                      "N]\n");
    run("events --limit 5000", &limit);
    CU_ASSERT_EQUAL(limit.status, CLI_EXIT_USAGE);
    run("help nothing", &helpcmd);
    CU_ASSERT_EQUAL(helpcmd.status, CLI_EXIT_FAILURE);
    /* Usage errors never reach the daemon. */
    methods = daemon_methods();
    CU_ASSERT_STRING_EQUAL(methods, "domstats list");
    daemon_stop();
}

static void
test_run_daemon_absent(void)
{
    g_autofree char *dir = cutest_tmpdir();
    g_autofree char *path = g_build_filename(dir, "umbrad.sock", NULL);
    g_autofree char *expected = g_strdup_printf(
        "error: cannot connect to umbrad at %s: %s (is umbrad running?)\n",
        path, g_strerror(ENOENT));
    g_auto(Run) r = {0};
    g_auto(Run) v = {0};
    g_auto(Run) h = {0};

    run_on(NULL, path, "list", &r);
    CU_ASSERT_EQUAL(r.status, CLI_EXIT_FAILURE);
    CU_ASSERT_STRING_EQUAL(r.out, "");
    CU_ASSERT_STRING_EQUAL(r.err, expected);
    /* version still says what the client is. */
    run_on(NULL, path, "version", &v);
    CU_ASSERT_EQUAL(v.status, CLI_EXIT_FAILURE);
    CU_ASSERT_TRUE(g_str_has_prefix(v.out, "Client: umbractl "));
    CU_ASSERT_STRING_EQUAL(v.err, expected);
    /* help needs no daemon. */
    run_on(NULL, path, "help list", &h);
    CU_ASSERT_EQUAL(h.status, CLI_EXIT_OK);
    CU_ASSERT_TRUE(contains(h.out, "    list - list domains\n"));
    cutest_rmdir(dir);
}

/* umbractl profile: a job at a fixed time, and one whose time varies. */
static void
test_run_profile(void)
{
    g_auto(Run) r = {0};

    daemon_start();
    run("profile web1", &r);
    CU_ASSERT_EQUAL(r.status, CLI_EXIT_OK);
    CU_ASSERT_TRUE(contains(r.out, "  recurring cpu event: every 1d at +2h "
                                   "for 30m, +4.5 spreads, seen 6 times\n"));
    CU_ASSERT_TRUE(contains(r.out, "  recurring cpu event at a varying time "
                                   "or size: every 1d within +2h 55m for "
                                   "1h 5m, up to 20.9x the usual spread, "
                                   "seen 14 times\n"));
    daemon_stop();
}

static void
test_run_events(void)
{
    g_auto(Run) r = {0};
    g_auto(Run) f = {0};
    g_auto(Run) j = {0};
    g_auto(GStrv) lines = NULL;

    daemon_start();
    run("events --limit 2 --since 40 --domain web1", &r);
    CU_ASSERT_EQUAL(r.status, CLI_EXIT_OK);
    CU_ASSERT_TRUE(contains(r.out, " ID   Time "));
    CU_ASSERT_TRUE(contains(r.out, "   umbrad    h1     -        "
                                   "host-connected   -\n"));

    /* Follow: the stored events, two new ones, then umbrad goes away. */
    run("events --follow", &f);
    CU_ASSERT_EQUAL(f.status, CLI_EXIT_FAILURE);
    lines = g_strsplit(f.out, "\n", -1);
    CU_ASSERT_EQUAL(g_strv_length(lines), 5);
    CU_ASSERT_TRUE(contains(lines[0], "  #41  umbrad  h1  host-connected"));
    CU_ASSERT_TRUE(contains(lines[1], "  #42  libvirt  h1/web1  started: "
                                      "booted"));
    CU_ASSERT_TRUE(contains(lines[3], "  #44  libvirt  h1/web1  stopped: "
                                      "shutdown"));
    CU_ASSERT_STRING_EQUAL(f.err, "error: event stream ended: umbrad closed "
                                  "the connection\n");

    /* With --json: one compact event object per line. */
    run("events --follow --json", &j);
    g_strfreev(lines);
    lines = g_strsplit(j.out, "\n", -1);
    CU_ASSERT_EQUAL(g_strv_length(lines), 5);
    for (guint i = 0; i < 4; i++) {
        g_autoptr(json_object) ev = json_tokener_parse(lines[i]);

        CU_ASSERT_PTR_NOT_NULL(ev);
        CU_ASSERT_EQUAL(cli_json_int(ev, "id"), 41 + (int) i);
    }
    daemon_stop();
}

static void
test_run_top_once(void)
{
    g_auto(Run) r = {0};
    g_auto(Run) j = {0};
    g_autoptr(json_object) frame = NULL;
    g_autofree char *methods = NULL;
    const char *web1;
    const char *db1;

    daemon_start();
    run("top --iterations 1", &r);
    CU_ASSERT_EQUAL(r.status, CLI_EXIT_OK);
    CU_ASSERT_TRUE(g_str_has_prefix(r.out, "umbractl top - "));
    CU_ASSERT_TRUE(contains(r.out, ", every 10s\n"));
    CU_ASSERT_TRUE(contains(r.out, "Hosts: 1 of 2 connected; not: h2 "
                                   "(backoff)\n"));
    CU_ASSERT_TRUE(contains(r.out, "Domains: 2, 1 running, 3 vCPUs\n"));
    /* Not a terminal: no escape sequences.  Sorted by CPU, unknown last. */
    CU_ASSERT_PTR_NULL(strchr(r.out, '\033'));
    web1 = strstr(r.out, " web1 ");
    db1 = strstr(r.out, " database1 ");
    CU_ASSERT_TRUE(web1 && db1 && web1 < db1);
    methods = daemon_methods();
    CU_ASSERT_STRING_EQUAL(methods, "hello hosts list");

    run("top --iterations 1 --interval 5 --sort mem --json", &j);
    CU_ASSERT_EQUAL(j.status, CLI_EXIT_OK);
    frame = json_tokener_parse(j.out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(frame);
    CU_ASSERT_PTR_NOT_NULL(cli_json_array(frame, "hosts"));
    CU_ASSERT_PTR_NOT_NULL(cli_json_array(frame, "domains"));
    CU_ASSERT_TRUE(cli_json_int(frame, "time") > 0);
    daemon_stop();
}

static void
test_shell(void)
{
    static const char input[] = "list --name\n"
                                "\n"
                                "# a comment\n"
                                "bogus\n"
                                "domstats 'web9'\n"
                                "list \"unterminated\n"
                                "hosts --name\n"
                                "quit\n"
                                "cells\n";
    g_autoptr(CliCtx) ctx = NULL;
    g_autofree char *out_buf = NULL;
    g_autofree char *err_buf = NULL;
    g_autofree char *methods = NULL;
    size_t olen = 0;
    size_t elen = 0;
    FILE *in;
    FILE *out;
    FILE *err;
    int status;

    daemon_start();
    in = fmemopen((void *) input, sizeof(input) - 1, "r");
    out = open_memstream(&out_buf, &olen);
    err = open_memstream(&err_buf, &elen);
    ctx = cli_ctx_new(dmn->path, out, err);
    status = cli_shell_run(ctx, in);
    fclose(in);
    fclose(out);
    fclose(err);
    CU_ASSERT_EQUAL(status, CLI_EXIT_OK);
    CU_ASSERT_TRUE(ctx->quit);
    /* Not a terminal: no prompt, no greeting, just the results. */
    CU_ASSERT_STRING_EQUAL(out_buf, "web1\ndatabase1\nh1\nh2\n");
    CU_ASSERT_TRUE(contains(err_buf, "error: unknown command: 'bogus' (try "
                                     "'help')\n"));
    CU_ASSERT_TRUE(contains(err_buf, "error: failed to get domain 'web9': "
                                     "no domain 'web9' on any host\n"));
    CU_ASSERT_TRUE(contains(err_buf, "error: Text ended before matching "
                                     "quote"));
    /* One connection for the whole session; nothing after quit. */
    CU_ASSERT_EQUAL(g_atomic_int_get(&dmn->connections), 1);
    methods = daemon_methods();
    CU_ASSERT_STRING_EQUAL(methods, "list domstats hosts");
    daemon_stop();
}

static void
test_shell_status_and_eof(void)
{
    static const char input[] = "domstats web9\n";
    g_autoptr(CliCtx) ctx = NULL;
    g_autofree char *out_buf = NULL;
    g_autofree char *err_buf = NULL;
    size_t olen = 0;
    size_t elen = 0;
    FILE *in;
    FILE *out;
    FILE *err;

    daemon_start();
    in = fmemopen((void *) input, sizeof(input) - 1, "r");
    out = open_memstream(&out_buf, &olen);
    err = open_memstream(&err_buf, &elen);
    ctx = cli_ctx_new(dmn->path, out, err);
    /* End of file ends the shell with the last command's status. */
    CU_ASSERT_EQUAL(cli_shell_run(ctx, in), CLI_EXIT_FAILURE);
    CU_ASSERT_FALSE(ctx->quit);
    fclose(in);
    fclose(out);
    fclose(err);
    daemon_stop();
}

static void
test_reconnect_after_restart(void)
{
    g_autoptr(CliCtx) ctx = NULL;
    g_auto(Run) a = {0};
    g_auto(Run) b = {0};
    g_auto(Run) c = {0};

    daemon_start();
    /* umbrad closes every connection after one reply, as a restarted
     * daemon would have: the kept connection is stale for the next
     * command, which must reconnect and succeed. */
    dmn->close_each = true;
    ctx = cli_ctx_new(dmn->path, stdout, stderr);
    run_on(ctx, NULL, "list --name", &a);
    run_on(ctx, NULL, "hosts --name", &b);
    run_on(ctx, NULL, "cells --name", &c);
    CU_ASSERT_EQUAL(a.status, CLI_EXIT_OK);
    CU_ASSERT_EQUAL(b.status, CLI_EXIT_OK);
    CU_ASSERT_EQUAL(c.status, CLI_EXIT_OK);
    CU_ASSERT_STRING_EQUAL(b.out, "h1\nh2\n");
    CU_ASSERT_STRING_EQUAL(c.out, "a\n");
    CU_ASSERT_EQUAL(g_atomic_int_get(&dmn->connections), 3);
    daemon_stop();
}

static const CutestCase cases[] = {
    {"table_layout", test_table_layout},
    {"table_no_trailing_blanks", test_table_no_trailing_blanks},
    {"table_unicode_and_control", test_table_unicode_and_control},
    {"table_partial_and_empty", test_table_partial_and_empty},
    {"kv", test_kv},
    {"formatters", test_formatters},
    {"json_accessors", test_json_accessors},
    {"command_table", test_command_table},
    {"suggest", test_suggest},
    {"usage_text", test_usage_text},
    {"args_ok", test_args_ok},
    {"args_errors", test_args_errors},
    {"global_options", test_global_options},
    {"run_list", test_run_list},
    {"run_json", test_run_json},
    {"run_hosts_cells", test_run_hosts_cells},
    {"run_domstats", test_run_domstats},
    {"run_errors", test_run_errors},
    {"run_daemon_absent", test_run_daemon_absent},
    {"run_events", test_run_events},
    {"run_profile", test_run_profile},
    {"run_top_once", test_run_top_once},
    {"shell", test_shell},
    {"shell_status_and_eof", test_shell_status_and_eof},
    {"reconnect_after_restart", test_reconnect_after_restart},
};

CUTEST_MAIN("cli", cases)
