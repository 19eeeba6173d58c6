/*
 * cli/cmd-top.c: the top command, a refreshing view of all domains.
 *
 * Every interval it calls "hosts" and "list", sorts the domains and
 * prints a header and a table.  On a terminal each frame first clears
 * the screen (ANSI "ESC[H ESC[2J") and the table is cut to the
 * terminal's height; otherwise frames are printed one after another,
 * separated by a blank line, so that the output can be logged.  With
 * --json each frame is one line {"time": T, "hosts": [...],
 * "domains": [...]}.  The default interval is umbrad's sampling
 * interval (from "hello"): polling faster only repeats the same data.
 */
#include <math.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/format.h"
#include "util/clock.h"

#define TOP_DEFAULT_INTERVAL_S 5 /* if umbrad does not say */
#define TOP_HEADER_LINES 6       /* header, blank, table header and dashes */

static const char *const sort_keys[] = {"cpu", "mem", "name", NULL};

static int
compare_name(json_object *a, json_object *b)
{
    const char *na = cli_json_string(a, "name");
    const char *nb = cli_json_string(b, "name");
    int r = g_strcmp0(na, nb);

    return r ? r
             : g_strcmp0(cli_json_string(a, "host"),
                         cli_json_string(b, "host"));
}

/* Descending @va, @vb; unknown (NaN) values last. */
static int
compare_desc(double va, double vb)
{
    if (isnan(va) || isnan(vb)) {
        return isnan(va) - isnan(vb);
    }
    return (va < vb) - (va > vb);
}

static gint
compare_domains(gconstpointer pa, gconstpointer pb, gpointer data)
{
    json_object *a = *(json_object *const *) pa;
    json_object *b = *(json_object *const *) pb;
    const char *key = data;
    int r = 0;

    if (g_str_equal(key, "cpu")) {
        r = compare_desc(cli_json_double(a, "cpu_pct"),
                         cli_json_double(b, "cpu_pct"));
    } else if (g_str_equal(key, "mem")) {
        r = compare_desc(cli_json_double(a, "mem_used_kib"),
                         cli_json_double(b, "mem_used_kib"));
    }
    return r ? r : compare_name(a, b);
}

/* Returns: the terminal's rows, or 0 when unknown or not a terminal. */
static int
terminal_rows(FILE *out)
{
    struct winsize ws;

    if (!isatty(fileno(out)) || ioctl(fileno(out), TIOCGWINSZ, &ws) < 0) {
        return 0;
    }
    return ws.ws_row;
}

static char *
frame_header(json_object *hosts, json_object *domains, int64_t interval_s)
{
    GString *out = g_string_new(NULL);
    g_autofree char *now = cli_format_time(util_clock_wall());
    g_autofree char *every = cli_format_duration(interval_s);
    g_autoptr(GString) down = g_string_new(NULL);
    size_t nhosts = json_object_array_length(hosts);
    size_t ndoms = json_object_array_length(domains);
    size_t connected = 0;
    size_t running = 0;
    int64_t vcpus = 0;

    for (size_t i = 0; i < nhosts; i++) {
        json_object *h = json_object_array_get_idx(hosts, i);
        const char *state = cli_json_string(h, "state");

        if (g_strcmp0(state, "connected") == 0) {
            connected++;
        } else {
            g_autofree char *name = cli_format_text(cli_json_string(h, "name"));
            g_autofree char *st = cli_format_text(state);

            g_string_append_printf(down, "%s%s (%s)", down->len ? ", " : "",
                                   name, st);
        }
    }
    for (size_t i = 0; i < ndoms; i++) {
        json_object *d = json_object_array_get_idx(domains, i);

        if (g_strcmp0(cli_json_string(d, "state"), "running") == 0) {
            running++;
        }
        vcpus += MAX(cli_json_int(d, "vcpus"), 0);
    }
    g_string_append_printf(out, "umbractl top - %s, every %s\n", now, every);
    g_string_append_printf(out, "Hosts: %zu of %zu connected%s%s\n", connected,
                           nhosts, down->len ? "; not: " : "", down->str);
    g_string_append_printf(
        out, "Domains: %zu, %zu running, %" G_GINT64_FORMAT " vCPUs\n\n", ndoms,
        running, vcpus);
    return g_string_free(out, FALSE);
}

/* Returns: (transfer full) the table of at most @max_rows rows (0: all). */
static char *
frame_table(GPtrArray *domains, int max_rows)
{
    g_autoptr(CliTable) table = cli_table_new();
    guint n = domains->len;
    GString *out;
    char *text;

    if (max_rows > 0 && n > (guint) max_rows) {
        n = (guint) MAX(max_rows - 1, 0);
    }
    cli_table_add_column(table, "Name", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "Host", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "State", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "vCPUs", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "CPU%", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Mem used", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Mem max", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Disk rd", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Disk wr", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Net rx", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Net tx", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Dirty", CLI_ALIGN_RIGHT);
    for (guint i = 0; i < n; i++) {
        json_object *d = g_ptr_array_index(domains, i);

        cli_table_add_cell(table, cli_json_string(d, "name"));
        cli_table_add_cell(table, cli_json_string(d, "host"));
        cli_table_add_cell(table, cli_json_string(d, "state"));
        cli_table_add_cell_take(table,
                                cli_format_count(cli_json_int(d, "vcpus")));
        cli_table_add_cell_take(table,
                                cli_format_pct(cli_json_double(d, "cpu_pct")));
        cli_table_add_cell_take(
            table, cli_format_kib(cli_json_int(d, "mem_used_kib")));
        cli_table_add_cell_take(table,
                                cli_format_kib(cli_json_int(d, "mem_max_kib")));
        cli_table_add_cell_take(
            table, cli_format_rate(cli_json_double(d, "blk_rd_bps")));
        cli_table_add_cell_take(
            table, cli_format_rate(cli_json_double(d, "blk_wr_bps")));
        cli_table_add_cell_take(
            table, cli_format_rate(cli_json_double(d, "net_rx_bps")));
        cli_table_add_cell_take(
            table, cli_format_rate(cli_json_double(d, "net_tx_bps")));
        cli_table_add_cell_take(
            table,
            cli_format_rate(cli_json_double(d, "dirty_mbps") * 1048576.0));
    }
    text = cli_table_render(table);
    if (n == domains->len) {
        return text;
    }
    out = g_string_new(text);
    g_free(text);
    g_string_append_printf(out, " (%u more)\n", domains->len - n);
    return g_string_free(out, FALSE);
}

/* Fetches and prints one frame.  Returns: false with @error set. */
static bool
top_frame(CliCtx *ctx, const char *sort, int64_t interval_s, bool tty,
          bool first, GError **error)
{
    g_autoptr(json_object) hosts_res = NULL;
    g_autoptr(json_object) list_res = NULL;
    g_autoptr(GPtrArray) sorted = g_ptr_array_new();
    g_autofree char *header = NULL;
    g_autofree char *table = NULL;
    json_object *hosts;
    json_object *domains;
    int rows;

    hosts_res = cli_call(ctx, "hosts", NULL, error, "failed to list hosts");
    if (!hosts_res) {
        return false;
    }
    list_res = cli_call(ctx, "list", NULL, error, "failed to list domains");
    if (!list_res) {
        return false;
    }
    if (ctx->json) {
        g_autoptr(json_object) frame = json_object_new_object();

        json_object_object_add(frame, "time",
                               json_object_new_int64(util_clock_wall()));
        json_object_object_add(
            frame, "hosts",
            json_object_get(cli_json_array(hosts_res, "hosts")));
        json_object_object_add(
            frame, "domains",
            json_object_get(cli_json_array(list_res, "domains")));
        cli_print_json(ctx, frame, true);
        fflush(ctx->out);
        return true;
    }
    hosts = cli_result_array(hosts_res, "hosts", "hosts", error);
    domains =
        hosts ? cli_result_array(list_res, "domains", "list", error) : NULL;
    if (!domains) {
        return false;
    }
    for (size_t i = 0; i < json_object_array_length(domains); i++) {
        g_ptr_array_add(sorted, json_object_array_get_idx(domains, i));
    }
    g_ptr_array_sort_with_data(sorted, compare_domains, (gpointer) sort);

    rows = terminal_rows(ctx->out);
    header = frame_header(hosts, domains, interval_s);
    table = frame_table(
        sorted, rows > TOP_HEADER_LINES + 1 ? rows - TOP_HEADER_LINES - 1 : 0);
    if (tty) {
        fputs("\033[H\033[2J", ctx->out);
    } else if (!first) {
        fputc('\n', ctx->out);
    }
    fputs(header, ctx->out);
    fputs(table, ctx->out);
    fflush(ctx->out);
    return true;
}

static const CliOptDef top_opts[] = {
    {"interval", CLI_OPT_DURATION, 0, "SECONDS",
     "refresh every SECONDS (default: umbrad's sampling interval)", NULL},
    {"iterations", CLI_OPT_INT, 0, "N",
     "stop after N frames (default: until Ctrl-C)", NULL},
    {"sort", CLI_OPT_STRING, 0, "KEY",
     "sort by cpu (default, highest first), mem (highest first) or name",
     sort_keys},
    {NULL},
};

static bool
cmd_top(CliCtx *ctx, const CliArgs *args, GError **error)
{
    const char *sort = cli_args_get_string(args, "sort");
    int64_t iterations = cli_args_get_int(args, "iterations", 0);
    int64_t interval_s = cli_args_get_int(args, "interval", 0);
    bool tty = !ctx->json && isatty(fileno(ctx->out));
    bool ok = true;

    if (cli_args_has(args, "interval") && interval_s < 1) {
        g_set_error_literal(error, CLI_ERROR, CLI_ERROR_USAGE,
                            "command 'top': option --interval: must be at "
                            "least 1 second");
        return false;
    }
    if (!cli_args_has(args, "interval")) {
        g_autoptr(json_object) hello =
            cli_call(ctx, "hello", NULL, error, "failed to reach umbrad");

        if (!hello) {
            return false;
        }
        interval_s = cli_json_int(hello, "interval");
        if (interval_s < 1) {
            interval_s = TOP_DEFAULT_INTERVAL_S;
        }
    }

    cli_interrupt_install();
    for (int64_t i = 0; iterations == 0 || i < iterations; i++) {
        if (i > 0 && !cli_wait_ms(interval_s * 1000)) {
            break;
        }
        if (!top_frame(ctx, sort ? sort : "cpu", interval_s, tty, i == 0,
                       error)) {
            ok = false;
            break;
        }
        if (cli_interrupted()) {
            break;
        }
    }
    cli_interrupt_restore();
    return ok;
}

const CliCmdDef cli_monitor_cmds[] = {
    {"top", cmd_top, top_opts, "live view of all domains",
     "Shows all domains with their CPU, memory, disk, network and dirty "
     "page rates, refreshed every interval, with a header giving the "
     "time, the connected hosts and the number of domains.  On a "
     "terminal the screen is redrawn and the list is cut to the "
     "terminal's height; otherwise one table is printed per refresh.  "
     "With --json, each refresh is one line of JSON holding 'time', "
     "'hosts' and 'domains'.  Ends with Ctrl-C or after --iterations.",
     0},
    {NULL},
};
