/*
 * cli/cmd-host.c: host and cell commands: hosts (the "hosts" call) and
 * cells (the "cells" call).
 */
#include "cli/cli.h"
#include "cli/format.h"

/* Returns: (transfer full) "connected", or "backoff (retry in 4s)". */
static char *
host_state(json_object *h)
{
    const char *state = cli_json_string(h, "state");
    int64_t retry_ms = cli_json_int(h, "retry_in_ms");

    if (state && g_str_equal(state, "backoff") && retry_ms >= 0) {
        return g_strdup_printf("backoff (retry in %" G_GINT64_FORMAT "s)",
                               (retry_ms + 999) / 1000);
    }
    return g_strdup(state);
}

static const CliOptDef names_opts[] = {
    {"name", CLI_OPT_BOOL, 0, NULL, "print only the names, one per line", NULL},
    {NULL},
};

static void
print_names(CliCtx *ctx, json_object *array)
{
    for (size_t i = 0; i < json_object_array_length(array); i++) {
        json_object *o = json_object_array_get_idx(array, i);
        g_autofree char *name = cli_format_text(cli_json_string(o, "name"));

        fprintf(ctx->out, "%s\n", name);
    }
}

static bool
cmd_hosts(CliCtx *ctx, const CliArgs *args, GError **error)
{
    g_autoptr(json_object) result = NULL;
    g_autoptr(CliTable) table = NULL;
    g_autofree char *text = NULL;
    json_object *hosts;

    result = cli_call(ctx, "hosts", NULL, error, "failed to list hosts");
    if (!result) {
        return false;
    }
    if (ctx->json) {
        cli_print_json(ctx, result, false);
        return true;
    }
    hosts = cli_result_array(result, "hosts", "hosts", error);
    if (!hosts) {
        return false;
    }
    if (cli_args_get_bool(args, "name")) {
        print_names(ctx, hosts);
        return true;
    }
    table = cli_table_new();
    cli_table_add_column(table, "Name", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "Cell", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "URI", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "State", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "Domains", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "CPU%", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Memory avail / total", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Last error", CLI_ALIGN_LEFT);
    for (size_t i = 0; i < json_object_array_length(hosts); i++) {
        json_object *h = json_object_array_get_idx(hosts, i);

        cli_table_add_cell(table, cli_json_string(h, "name"));
        cli_table_add_cell(table, cli_json_string(h, "cell"));
        cli_table_add_cell(table, cli_json_string(h, "uri"));
        cli_table_add_cell_take(table, host_state(h));
        cli_table_add_cell_take(table,
                                cli_format_count(cli_json_int(h, "domains")));
        cli_table_add_cell_take(table,
                                cli_format_pct(cli_json_double(h, "cpu_pct")));
        cli_table_add_cell_take(
            table, cli_format_kib_pair(cli_json_int(h, "mem_avail_kib"),
                                       cli_json_int(h, "mem_total_kib")));
        cli_table_add_cell(table, cli_json_string(h, "last_error"));
    }
    text = cli_table_render(table);
    fputs(text, ctx->out);
    return true;
}

/* Returns: (transfer full) "A/B", each side "-" when unknown. */
static char *
fraction(int64_t a, int64_t b)
{
    g_autofree char *sa = cli_format_count(a);
    g_autofree char *sb = cli_format_count(b);

    return g_strdup_printf("%s/%s", sa, sb);
}

static bool
cmd_cells(CliCtx *ctx, const CliArgs *args, GError **error)
{
    g_autoptr(json_object) result = NULL;
    g_autoptr(CliTable) table = NULL;
    g_autofree char *text = NULL;
    json_object *cells;

    result = cli_call(ctx, "cells", NULL, error, "failed to list cells");
    if (!result) {
        return false;
    }
    if (ctx->json) {
        cli_print_json(ctx, result, false);
        return true;
    }
    cells = cli_result_array(result, "cells", "cells", error);
    if (!cells) {
        return false;
    }
    if (cli_args_get_bool(args, "name")) {
        print_names(ctx, cells);
        return true;
    }
    table = cli_table_new();
    cli_table_add_column(table, "Name", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "Hosts up/all", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Domains", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "vCPUs/CPUs", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "CPU%", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Memory avail / total", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Description", CLI_ALIGN_LEFT);
    for (size_t i = 0; i < json_object_array_length(cells); i++) {
        json_object *c = json_object_array_get_idx(cells, i);
        json_object *members = cli_json_array(c, "hosts");

        cli_table_add_cell(table, cli_json_string(c, "name"));
        cli_table_add_cell_take(
            table,
            fraction(cli_json_int(c, "hosts_connected"),
                     members ? (int64_t) json_object_array_length(members)
                             : -1));
        cli_table_add_cell_take(table,
                                cli_format_count(cli_json_int(c, "domains")));
        cli_table_add_cell_take(table, fraction(cli_json_int(c, "vcpus"),
                                                cli_json_int(c, "ncpus")));
        cli_table_add_cell_take(table,
                                cli_format_pct(cli_json_double(c, "cpu_pct")));
        cli_table_add_cell_take(
            table, cli_format_kib_pair(cli_json_int(c, "mem_avail_kib"),
                                       cli_json_int(c, "mem_total_kib")));
        cli_table_add_cell(table, cli_json_string(c, "description"));
    }
    text = cli_table_render(table);
    fputs(text, ctx->out);
    return true;
}

const CliCmdDef cli_host_cmds[] = {
    {"hosts", cmd_hosts, names_opts, "list hypervisor hosts",
     "Lists the hosts of umbrad's configuration, in configuration order, "
     "with their cell, libvirt URI, connection state (connecting, "
     "connected, or backoff while waiting to reconnect), number of "
     "domains, CPU usage (percent of all host CPUs), available and total "
     "memory, and the last connection error.",
     0},
    {"cells", cmd_cells, names_opts, "list cells",
     "Lists the cells (groups of hosts) with their connected and "
     "configured hosts, domains, allocated vCPUs against host CPUs, mean "
     "CPU usage of their connected hosts and their memory.",
     0},
    {NULL},
};
