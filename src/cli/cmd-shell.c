/*
 * cli/cmd-shell.c: commands about umbractl itself: help, version, and
 * the shell's connect, quit and exit (virsh's "Virsh itself" group).
 */
#include <string.h>

#include "cli/cli.h"
#include "cli/format.h"
#include "umbra-config.h"

static const CliOptDef help_opts[] = {
    {"command", CLI_OPT_STRING, CLI_OPT_POSITIONAL, "COMMAND",
     "a command, or a group keyword (domain, host, events, monitor, "
     "umbractl)",
     NULL},
    {NULL},
};

static bool
cmd_help(CliCtx *ctx, const CliArgs *args, GError **error)
{
    const char *name = cli_args_get_string(args, "command");
    const CliCmdDef *cmd;
    g_autofree char *text = NULL;

    if (!name) {
        text = cli_help_all();
    } else if ((cmd = cli_cmd_lookup(name))) {
        text = cli_cmd_help(cmd);
    } else if (!(text = cli_help_group(name))) {
        const char *hint = cli_cmd_suggest(name);
        g_autofree char *shown = cli_format_text(name);

        g_set_error(error, CLI_ERROR, CLI_ERROR_FAILED,
                    "command or command group '%s' doesn't exist%s%s%s", shown,
                    hint ? " (did you mean '" : "", hint ? hint : "",
                    hint ? "'?)" : "");
        return false;
    }
    fputs(text, ctx->out);
    return true;
}

static bool
cmd_version(CliCtx *ctx, const CliArgs *args, GError **error)
{
    g_autoptr(json_object) hello = NULL;
    g_autoptr(CliKv) kv = cli_kv_new();
    g_autofree char *text = NULL;
    g_autofree char *proto_text = NULL;
    const char *daemon;
    const char *version;
    int64_t protocol;

    hello = cli_call(ctx, "hello", NULL, error,
                     "failed to get the daemon's version");
    if (!hello) {
        /* Like virsh, still say what the client is. */
        if (!ctx->json) {
            fprintf(ctx->out, "Client: umbractl %s (protocol %d)\n",
                    UMBRA_VERSION, RPC_PROTOCOL_VERSION);
        }
        return false;
    }
    if (ctx->json) {
        g_autoptr(json_object) out = json_object_new_object();
        json_object *client = json_object_new_object();

        json_object_object_add(client, "name",
                               json_object_new_string("umbractl"));
        json_object_object_add(client, "version",
                               json_object_new_string(UMBRA_VERSION));
        json_object_object_add(client, "protocol",
                               json_object_new_int(RPC_PROTOCOL_VERSION));
        json_object_object_add(out, "client", client);
        json_object_object_add(out, "daemon", json_object_get(hello));
        cli_print_json(ctx, out, false);
        return true;
    }
    protocol = cli_json_int(hello, "protocol");
    proto_text = cli_format_count(protocol);
    daemon = cli_json_string(hello, "daemon");
    version = cli_json_string(hello, "version");
    cli_kv_add_take(kv, "Client",
                    g_strdup_printf("umbractl %s (protocol %d)", UMBRA_VERSION,
                                    RPC_PROTOCOL_VERSION));
    cli_kv_add_take(kv, "Daemon",
                    g_strdup_printf("%s %s (protocol %s)",
                                    daemon ? daemon : "umbrad",
                                    version ? version : "-", proto_text));
    cli_kv_add(kv, "Socket", ctx->socket_path);
    cli_kv_add_take(kv, "Pid", cli_format_count(cli_json_int(hello, "pid")));
    cli_kv_add_take(kv, "Started",
                    cli_format_time(cli_json_int(hello, "started")));
    cli_kv_add_take(kv, "Interval",
                    cli_format_duration(cli_json_int(hello, "interval")));
    cli_kv_add(kv, "Store", cli_json_string(hello, "store"));
    cli_kv_add_take(kv, "Samples written",
                    cli_format_count(cli_json_int(hello, "samples_written")));
    cli_kv_add_take(kv, "Samples pending",
                    cli_format_count(cli_json_int(hello, "samples_pending")));
    cli_kv_add_take(kv, "Samples dropped",
                    cli_format_count(cli_json_int(hello, "samples_dropped")));
    cli_kv_add_take(kv, "Hosts",
                    cli_format_count(cli_json_int(hello, "hosts")));
    cli_kv_add_take(kv, "Domains",
                    cli_format_count(cli_json_int(hello, "domains")));
    text = cli_kv_render(kv, 0);
    fputs(text, ctx->out);
    if (protocol >= 0 && protocol != RPC_PROTOCOL_VERSION) {
        fflush(ctx->out);
        fprintf(ctx->err,
                "warning: umbrad speaks protocol %" G_GINT64_FORMAT
                ", this umbractl speaks %d\n",
                protocol, RPC_PROTOCOL_VERSION);
    }
    return true;
}

static const CliOptDef connect_opts[] = {
    {"socket", CLI_OPT_STRING, CLI_OPT_POSITIONAL, "SOCKET",
     "umbrad's socket (default: the current one)", NULL},
    {NULL},
};

static bool
cmd_connect(CliCtx *ctx, const CliArgs *args, GError **error)
{
    const char *path = cli_args_get_string(args, "socket");
    g_autoptr(json_object) pong = NULL;

    cli_ctx_disconnect(ctx);
    if (path) {
        g_free(ctx->socket_path);
        ctx->socket_path = g_strdup(path);
    }
    pong = cli_call(ctx, "ping", NULL, error, "failed to reach umbrad");
    return pong != NULL;
}

static bool
cmd_quit(CliCtx *ctx, const CliArgs *args, GError **error)
{
    ctx->quit = true;
    return true;
}

const CliCmdDef cli_shell_cmds[] = {
    {"help", cmd_help, help_opts, "print help",
     "Without an argument, lists the commands by group.  With a command "
     "name, describes that command; with a group keyword, lists that "
     "group.",
     CLI_CMD_NO_CONNECT},
    {"version", cmd_version, NULL, "show the versions of umbractl and umbrad",
     "Prints umbractl's version, then asks umbrad for its version and "
     "status (the 'hello' call): pid, start time, sampling interval, "
     "store and counts of samples, hosts and domains.",
     0},
    {"connect", cmd_connect, connect_opts, "(re)connect to umbrad",
     "Closes the current connection and connects to SOCKET (or to the "
     "same socket again), checking that umbrad answers.",
     CLI_CMD_SHELL},
    {"quit", cmd_quit, NULL, "quit the interactive shell", NULL,
     CLI_CMD_NO_CONNECT | CLI_CMD_SHELL},
    {"exit", cmd_quit, NULL, "quit the interactive shell", NULL,
     CLI_CMD_NO_CONNECT | CLI_CMD_SHELL},
    {NULL},
};
