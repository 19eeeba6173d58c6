/*
 * cli/cmd-events.c: the events command (the "events" call).
 *
 * Without --follow, one call and a table.  With --follow, the call's
 * reply is printed, then the connection stays open and umbrad writes
 * one line per new event; they are printed as they come, one line each
 * (so the output can be piped), until SIGINT or until umbrad closes the
 * connection.  The wait for events is cut into short slices so that
 * SIGINT is noticed promptly.
 */
#include "cli/cli.h"
#include "cli/format.h"

#define EVENTS_LIMIT_MAX 1000 /* docs/rpc.md */
#define FOLLOW_SLICE_MS 250

/* Returns: (transfer full) one line for @ev, without '\n':
 * "TIME  #ID  SOURCE  HOST/DOMAIN  TYPE: DETAIL". */
static char *
event_line(json_object *ev)
{
    const char *host = cli_json_string(ev, "host");
    const char *domain = cli_json_string(ev, "domain");
    const char *detail = cli_json_string(ev, "detail");
    g_autofree char *time = cli_format_time(cli_json_int(ev, "time"));
    g_autofree char *id = cli_format_count(cli_json_int(ev, "id"));
    g_autofree char *where = NULL;
    g_autofree char *line = NULL;

    if (host && domain) {
        where = g_strdup_printf("%s/%s", host, domain);
    } else {
        where = g_strdup(host ? host : domain ? domain : "-");
    }
    line = g_strdup_printf(
        "%s  #%s  %s  %s  %s%s%s", time, id,
        cli_json_string(ev, "source") ? cli_json_string(ev, "source") : "-",
        where, cli_json_string(ev, "type") ? cli_json_string(ev, "type") : "-",
        detail ? ": " : "", detail ? detail : "");
    return cli_format_text(line);
}

static void
print_event(CliCtx *ctx, json_object *ev)
{
    if (ctx->json) {
        cli_print_json(ctx, ev, true);
    } else {
        g_autofree char *line = event_line(ev);

        fprintf(ctx->out, "%s\n", line);
    }
    fflush(ctx->out);
}

static char *
events_table(json_object *events)
{
    g_autoptr(CliTable) table = cli_table_new();

    cli_table_add_column(table, "ID", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Time", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "Source", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "Host", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "Domain", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "Type", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "Detail", CLI_ALIGN_LEFT);
    for (size_t i = 0; i < json_object_array_length(events); i++) {
        json_object *ev = json_object_array_get_idx(events, i);

        cli_table_add_cell_take(table,
                                cli_format_count(cli_json_int(ev, "id")));
        cli_table_add_cell_take(table,
                                cli_format_time(cli_json_int(ev, "time")));
        cli_table_add_cell(table, cli_json_string(ev, "source"));
        cli_table_add_cell(table, cli_json_string(ev, "host"));
        cli_table_add_cell(table, cli_json_string(ev, "domain"));
        cli_table_add_cell(table, cli_json_string(ev, "type"));
        cli_table_add_cell(table, cli_json_string(ev, "detail"));
    }
    return cli_table_render(table);
}

/* Prints events as umbrad sends them until SIGINT or an error. */
static bool
follow(CliCtx *ctx, GError **error)
{
    bool ok = true;

    cli_interrupt_install();
    while (!cli_interrupted()) {
        g_autoptr(GError) local_error = NULL;
        g_autoptr(json_object) ev =
            rpc_client_read_event(ctx->client, FOLLOW_SLICE_MS, &local_error);

        if (ev) {
            print_event(ctx, ev);
            continue;
        }
        if (g_error_matches(local_error, RPC_ERROR, RPC_ERROR_TIMEOUT)) {
            continue;
        }
        g_prefix_error(&local_error, "event stream ended: ");
        g_propagate_error(error, g_steal_pointer(&local_error));
        ok = false;
        break;
    }
    cli_interrupt_restore();
    /* umbrad streams on this connection until it is closed. */
    cli_ctx_disconnect(ctx);
    return ok;
}

static const CliOptDef events_opts[] = {
    {"follow", CLI_OPT_BOOL, 0, NULL,
     "after the stored events, print new ones as they happen (until "
     "Ctrl-C)",
     NULL},
    {"domain", CLI_OPT_STRING, 0, "DOMAIN", "only events of this domain", NULL},
    {"limit", CLI_OPT_INT, 0, "N",
     "at most N stored events (1-1000; umbrad's default: 50)", NULL},
    {"since", CLI_OPT_INT, 0, "ID",
     "only events after event ID (default: the latest N)", NULL},
    {NULL},
};

static bool
cmd_events(CliCtx *ctx, const CliArgs *args, GError **error)
{
    json_object *params = json_object_new_object();
    g_autoptr(json_object) result = NULL;
    const char *domain = cli_args_get_string(args, "domain");
    bool follow_mode = cli_args_get_bool(args, "follow");
    json_object *events;

    if (cli_args_has(args, "limit")) {
        int64_t limit = cli_args_get_int(args, "limit", 50);

        if (limit < 1 || limit > EVENTS_LIMIT_MAX) {
            json_object_put(params);
            g_set_error(error, CLI_ERROR, CLI_ERROR_USAGE,
                        "command 'events': option --limit: %" G_GINT64_FORMAT
                        " is not between 1 and %d",
                        limit, EVENTS_LIMIT_MAX);
            return false;
        }
        json_object_object_add(params, "limit", json_object_new_int64(limit));
    }
    if (cli_args_has(args, "since")) {
        json_object_object_add(
            params, "since",
            json_object_new_int64(cli_args_get_int(args, "since", 0)));
    }
    if (domain) {
        json_object_object_add(params, "domain",
                               json_object_new_string(domain));
    }
    if (follow_mode) {
        json_object_object_add(params, "follow", json_object_new_boolean(true));
    }
    result = cli_call(ctx, "events", params, error, "failed to get events");
    if (!result) {
        return false;
    }
    if (ctx->json && !follow_mode) {
        cli_print_json(ctx, result, false);
        return true;
    }
    events = cli_result_array(result, "events", "events", error);
    if (!events) {
        cli_ctx_disconnect(ctx);
        return false;
    }
    if (!follow_mode) {
        g_autofree char *text = events_table(events);

        fputs(text, ctx->out);
        return true;
    }
    for (size_t i = 0; i < json_object_array_length(events); i++) {
        print_event(ctx, json_object_array_get_idx(events, i));
    }
    return follow(ctx, error);
}

const CliCmdDef cli_events_cmds[] = {
    {"events", cmd_events, events_opts, "show domain and daemon events",
     "Prints stored events, oldest first: libvirt domain lifecycle events "
     "(source 'libvirt'), libvirt hook calls (source 'hook', type "
     "'OPERATION/SUB-OPERATION', e.g. migrate/begin) and umbrad's own "
     "events (source 'umbrad': host-connected, host-disconnected, "
     "host-connect-failed, daemon-start, daemon-stop).\n\n"
     "With --follow, prints one line per event and keeps printing new "
     "events as they happen, until interrupted; with --json, one JSON "
     "object per line.",
     0},
    {NULL},
};
