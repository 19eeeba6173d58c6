/*
 * cli/cmd-domain.c: domain commands: list (the "list" call) and
 * domstats (the "domstats" call, with optional history).
 *
 * Each handler builds the params from its options, makes one call,
 * and either prints the raw result (--json) or formats it.
 */
#include "cli/cli.h"
#include "cli/format.h"

/* Returns: (transfer full) "78.1 MiB / 128.0 MiB" for a DOMAIN object. */
static char *
dom_memory(json_object *dom)
{
    return cli_format_kib_pair(cli_json_int(dom, "mem_used_kib"),
                               cli_json_int(dom, "mem_max_kib"));
}

/* Returns: (transfer full) the dirty page rate (MiB/s on the wire). */
static char *
dom_dirty_rate(json_object *dom)
{
    return cli_format_rate(cli_json_double(dom, "dirty_mbps") * 1048576.0);
}

static const CliOptDef list_opts[] = {
    {"host", CLI_OPT_STRING, 0, "HOST", "only the domains of this host", NULL},
    {"cell", CLI_OPT_STRING, 0, "CELL", "only the domains of this cell", NULL},
    {"all", CLI_OPT_BOOL, 0, NULL,
     "also domains that are gone from the latest sample or whose host is "
     "not connected",
     NULL},
    {"name", CLI_OPT_BOOL, 0, NULL, "print only the names, one per line", NULL},
    {NULL},
};

static bool
cmd_list(CliCtx *ctx, const CliArgs *args, GError **error)
{
    json_object *params = json_object_new_object();
    g_autoptr(json_object) result = NULL;
    g_autoptr(CliTable) table = NULL;
    g_autofree char *text = NULL;
    const char *host = cli_args_get_string(args, "host");
    const char *cell = cli_args_get_string(args, "cell");
    json_object *domains;

    if (host) {
        json_object_object_add(params, "host", json_object_new_string(host));
    }
    if (cell) {
        json_object_object_add(params, "cell", json_object_new_string(cell));
    }
    if (cli_args_get_bool(args, "all")) {
        json_object_object_add(params, "inactive",
                               json_object_new_boolean(true));
    }
    result = cli_call(ctx, "list", params, error, "failed to list domains");
    if (!result) {
        return false;
    }
    if (ctx->json) {
        cli_print_json(ctx, result, false);
        return true;
    }
    domains = cli_result_array(result, "domains", "list", error);
    if (!domains) {
        return false;
    }
    if (cli_args_get_bool(args, "name")) {
        for (size_t i = 0; i < json_object_array_length(domains); i++) {
            json_object *d = json_object_array_get_idx(domains, i);
            g_autofree char *name = cli_format_text(cli_json_string(d, "name"));

            fprintf(ctx->out, "%s\n", name);
        }
        return true;
    }

    table = cli_table_new();
    cli_table_add_column(table, "Name", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "Host", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "Cell", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "State", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "vCPUs", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "CPU%", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Memory used / max", CLI_ALIGN_RIGHT);
    for (size_t i = 0; i < json_object_array_length(domains); i++) {
        json_object *d = json_object_array_get_idx(domains, i);

        cli_table_add_cell(table, cli_json_string(d, "name"));
        cli_table_add_cell(table, cli_json_string(d, "host"));
        cli_table_add_cell(table, cli_json_string(d, "cell"));
        cli_table_add_cell(table, cli_json_string(d, "state"));
        cli_table_add_cell_take(table,
                                cli_format_count(cli_json_int(d, "vcpus")));
        cli_table_add_cell_take(table,
                                cli_format_pct(cli_json_double(d, "cpu_pct")));
        cli_table_add_cell_take(table, dom_memory(d));
    }
    text = cli_table_render(table);
    fputs(text, ctx->out);
    return true;
}

/* Adds the key/value lines of one DOMAIN object to @kv. */
static void
dom_kv(CliKv *kv, json_object *d)
{
    cli_kv_add(kv, "uuid", cli_json_string(d, "uuid"));
    cli_kv_add(kv, "host", cli_json_string(d, "host"));
    cli_kv_add(kv, "cell", cli_json_string(d, "cell"));
    cli_kv_add_take(kv, "time", cli_format_time(cli_json_int(d, "time")));
    cli_kv_add(kv, "state", cli_json_string(d, "state"));
    cli_kv_add_take(kv, "vcpus", cli_format_count(cli_json_int(d, "vcpus")));
    cli_kv_add_take(kv, "cpu.pct",
                    cli_format_pct(cli_json_double(d, "cpu_pct")));
    cli_kv_add_take(kv, "mem.used",
                    cli_format_kib(cli_json_int(d, "mem_used_kib")));
    cli_kv_add_take(kv, "mem.max",
                    cli_format_kib(cli_json_int(d, "mem_max_kib")));
    cli_kv_add_take(kv, "block.rd.rate",
                    cli_format_rate(cli_json_double(d, "blk_rd_bps")));
    cli_kv_add_take(kv, "block.wr.rate",
                    cli_format_rate(cli_json_double(d, "blk_wr_bps")));
    cli_kv_add_take(kv, "block.rd.iops",
                    cli_format_per_sec(cli_json_double(d, "blk_rd_iops")));
    cli_kv_add_take(kv, "block.wr.iops",
                    cli_format_per_sec(cli_json_double(d, "blk_wr_iops")));
    cli_kv_add_take(kv, "net.rx.rate",
                    cli_format_rate(cli_json_double(d, "net_rx_bps")));
    cli_kv_add_take(kv, "net.tx.rate",
                    cli_format_rate(cli_json_double(d, "net_tx_bps")));
    cli_kv_add_take(kv, "net.rx.pps",
                    cli_format_per_sec(cli_json_double(d, "net_rx_pps")));
    cli_kv_add_take(kv, "net.tx.pps",
                    cli_format_per_sec(cli_json_double(d, "net_tx_pps")));
    cli_kv_add_take(kv, "dirty.rate", dom_dirty_rate(d));
}

/* Returns: (transfer full) the time series table of DOMAIN objects. */
static char *
history_table(json_object *history)
{
    g_autoptr(CliTable) table = cli_table_new();

    cli_table_add_column(table, "Time", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "Host", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "State", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "CPU%", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Mem used", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Disk rd", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Disk wr", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Net rx", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Net tx", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Dirty", CLI_ALIGN_RIGHT);
    for (size_t i = 0; i < json_object_array_length(history); i++) {
        json_object *d = json_object_array_get_idx(history, i);

        cli_table_add_cell_take(table,
                                cli_format_time(cli_json_int(d, "time")));
        cli_table_add_cell(table, cli_json_string(d, "host"));
        cli_table_add_cell(table, cli_json_string(d, "state"));
        cli_table_add_cell_take(table,
                                cli_format_pct(cli_json_double(d, "cpu_pct")));
        cli_table_add_cell_take(
            table, cli_format_kib(cli_json_int(d, "mem_used_kib")));
        cli_table_add_cell_take(
            table, cli_format_rate(cli_json_double(d, "blk_rd_bps")));
        cli_table_add_cell_take(
            table, cli_format_rate(cli_json_double(d, "blk_wr_bps")));
        cli_table_add_cell_take(
            table, cli_format_rate(cli_json_double(d, "net_rx_bps")));
        cli_table_add_cell_take(
            table, cli_format_rate(cli_json_double(d, "net_tx_bps")));
        cli_table_add_cell_take(table, dom_dirty_rate(d));
    }
    return cli_table_render(table);
}

static const CliOptDef domstats_opts[] = {
    {"domain", CLI_OPT_STRING, CLI_OPT_REQUIRED | CLI_OPT_POSITIONAL, "DOMAIN",
     "domain name or UUID", NULL},
    {"history", CLI_OPT_DURATION, 0, "SECONDS",
     "also print the samples of the last SECONDS (or 15m, 2h, 1d)", NULL},
    {"max-points", CLI_OPT_INT, 0, "N",
     "at most N history samples (umbrad's default: 600)", NULL},
    {NULL},
};

static bool
cmd_domstats(CliCtx *ctx, const CliArgs *args, GError **error)
{
    const char *name = cli_args_get_string(args, "domain");
    int64_t history_s = cli_args_get_int(args, "history", 0);
    json_object *params = json_object_new_object();
    g_autoptr(json_object) result = NULL;
    g_autoptr(CliKv) kv = cli_kv_new();
    g_autofree char *text = NULL;
    g_autofree char *shown = NULL;
    json_object *dom = NULL;
    json_object *history;

    json_object_object_add(params, "domain", json_object_new_string(name));
    if (history_s > 0) {
        json_object_object_add(params, "history",
                               json_object_new_int64(history_s));
    }
    if (cli_args_has(args, "max-points")) {
        json_object_object_add(
            params, "max_points",
            json_object_new_int64(cli_args_get_int(args, "max-points", 600)));
    }
    shown = cli_format_text(name);
    result = cli_call(ctx, "domstats", params, error,
                      "failed to get domain '%s'", shown);
    if (!result) {
        return false;
    }
    if (ctx->json) {
        cli_print_json(ctx, result, false);
        return true;
    }
    if (!json_object_object_get_ex(result, "domain", &dom) ||
        !json_object_is_type(dom, json_type_object)) {
        g_set_error_literal(error, RPC_ERROR, RPC_ERROR_IO,
                            "malformed reply from umbrad: no 'domain' object "
                            "in the result of 'domstats'");
        return false;
    }
    g_free(shown);
    shown = cli_format_text(cli_json_string(dom, "name"));
    fprintf(ctx->out, "Domain: '%s'\n", shown);
    dom_kv(kv, dom);
    text = cli_kv_render(kv, 2);
    fputs(text, ctx->out);
    if (history_s <= 0) {
        return true;
    }

    history = cli_json_array(result, "history");
    {
        g_autofree char *span = cli_format_duration(history_s);
        size_t n = history ? json_object_array_length(history) : 0;

        fprintf(ctx->out, "\nHistory, last %s: %zu sample%s\n", span, n,
                n == 1 ? "" : "s");
        if (n > 0) {
            g_autofree char *series = history_table(history);

            fputs(series, ctx->out);
        }
    }
    return true;
}

const CliCmdDef cli_domain_cmds[] = {
    {"list", cmd_list, list_opts, "list domains",
     "Lists the domains umbrad watches on all hosts, sorted by cell, host "
     "and name, with their state, vCPUs, CPU usage (percent of their "
     "vCPUs) and memory (used by the guest / allocated).  Without --all, "
     "only the domains seen in the latest sample of a connected host are "
     "listed.",
     0},
    {"domstats", cmd_domstats, domstats_opts,
     "show a domain's latest statistics",
     "Prints the latest sample of a domain as 'key: value' lines: state, "
     "vCPUs, CPU, memory, block and network rates and the dirty page "
     "rate ('-' when not known yet).  With --history, also prints the "
     "stored samples of that period, oldest first: raw samples, then "
     "5-minute averages where the raw ones have been downsampled.  A "
     "domain keeps one history across migrations.",
     0},
    {NULL},
};
