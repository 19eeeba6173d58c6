/*
 * cli/cli.h: umbractl's core: the command tables, the argument parser,
 * the dispatcher and the interactive shell.
 *
 * umbractl is shaped like virsh (libvirt tools/vsh.h): each command is a
 * row of a CliCmdDef table (name, handler, options, help text), one
 * table per command group, one file per group (cmd-domain.c,
 * cmd-host.c, cmd-events.c, cmd-top.c, cmd-shell.c).  The dispatcher
 * looks a command up, parses its arguments against its CliOptDef rows
 * and calls its handler with a CliCtx that holds the (lazily opened)
 * RPC connection and the output streams.  Handlers only call RPC
 * (cli_call()) and format (cli/format.h); they never print errors
 * themselves: they return them, and the dispatcher prints
 * "error: MESSAGE" on the error stream and maps them to an exit code.
 *
 * Everything here is a library (umbra-cli) so that tests can parse
 * arguments and run commands with their own streams; main.c only calls
 * cli_main().
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "rpc/client.h"

/*
 * Exit codes of umbractl (and of cli_run()): success; a command failed
 * (umbrad down, unknown domain, ...); a bad command line.
 */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE 2

/* Default per-call timeout, milliseconds. */
#define CLI_DEFAULT_TIMEOUT_MS 30000

#define CLI_ERROR (cli_error_quark())
GQuark cli_error_quark(void);

typedef enum {
    CLI_ERROR_USAGE,  /* bad command line: exit code 2 */
    CLI_ERROR_FAILED, /* a command failed locally: exit code 1 */
    CLI_ERROR_LAST
} CliErrorCode;

typedef enum {
    CLI_OPT_BOOL,     /* --name, no value */
    CLI_OPT_STRING,   /* --name VALUE */
    CLI_OPT_INT,      /* --name N, a non-negative integer */
    CLI_OPT_DURATION, /* --name 30|30s|5m|2h|7d, stored in seconds */
    CLI_OPT_LAST
} CliOptType;

/* CliOptDef.flags */
#define CLI_OPT_REQUIRED (1u << 0)   /* must be given */
#define CLI_OPT_POSITIONAL (1u << 1) /* may be given without --name */

/* One option of a command; a table ends with a row whose name is NULL. */
typedef struct {
    const char *name;           /* long name without "--", e.g. "host" */
    CliOptType type;            /* kind of value */
    unsigned flags;             /* CLI_OPT_* flags */
    const char *metavar;        /* value name in usage, e.g. "HOST" */
    const char *help;           /* one line */
    const char *const *choices; /* NULL, or NULL-terminated allowed values */
} CliOptDef;

typedef struct CliCtx CliCtx;
typedef struct CliArgs CliArgs;
typedef struct CliCmdDef CliCmdDef;

/*
 * A command's handler.  Returns: true on success; false with @error set
 * (CLI_ERROR_USAGE for a bad command line, anything else for a failure).
 */
typedef bool (*CliCmdHandler)(CliCtx *ctx, const CliArgs *args, GError **error);

/* CliCmdDef.flags */
#define CLI_CMD_NO_CONNECT (1u << 0) /* never talks to umbrad (help, quit) */
#define CLI_CMD_SHELL (1u << 1)      /* meaningful in the shell only */

/* One command; a table ends with a row whose name is NULL. */
struct CliCmdDef {
    const char *name;        /* command name, e.g. "list" */
    CliCmdHandler handler;   /* what it does */
    const CliOptDef *opts;   /* its options, NULL-name terminated */
    const char *summary;     /* one line for "help" */
    const char *description; /* a paragraph for "help CMD" */
    unsigned flags;          /* CLI_CMD_* flags */
};

/* A group of commands, as in "help" (virsh vshCmdGrp). */
typedef struct {
    const char *name;      /* heading, e.g. "Domain" */
    const char *keyword;   /* "help KEYWORD" lists the group */
    const CliCmdDef *cmds; /* the group's table */
} CliCmdGroup;

/* The command tables (one per cmd-*.c) and the list of groups. */
extern const CliCmdDef cli_domain_cmds[];
extern const CliCmdDef cli_host_cmds[];
extern const CliCmdDef cli_forecast_cmds[];
extern const CliCmdDef cli_risk_cmds[];
extern const CliCmdDef cli_shadow_cmds[];
extern const CliCmdDef cli_events_cmds[];
extern const CliCmdDef cli_monitor_cmds[];
extern const CliCmdDef cli_shell_cmds[];
extern const CliCmdGroup cli_cmd_groups[];

/* State shared by the commands of one umbractl process. */
struct CliCtx {
    char *socket_path; /* where umbrad listens */
    int timeout_ms;    /* per-call timeout, 0 = none */
    bool json;         /* print raw results as JSON */
    bool interactive;  /* running the shell */
    bool quit;         /* set by "quit"/"exit" */
    FILE *out;         /* results (borrowed) */
    FILE *err;         /* errors and warnings (borrowed) */
    RpcClient *client; /* connection, opened on first use */
};

/*
 * cli_ctx_new:
 * @socket_path: umbrad's socket
 * @out: (transfer none) result stream, @err: (transfer none) error stream
 *
 * Returns: (transfer full) a context with the default timeout.
 */
CliCtx *cli_ctx_new(const char *socket_path, FILE *out, FILE *err);
void cli_ctx_free(CliCtx *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CliCtx, cli_ctx_free)

/* Closes @ctx's connection (the next call opens a new one). */
void cli_ctx_disconnect(CliCtx *ctx);

/*
 * cli_call:
 * @ctx: the context; connects to umbrad on first use
 * @method: RPC method
 * @params: (transfer full) (nullable) its params
 * @error: on failure, the client's error with its RPC_ERROR code and its
 *   message prefixed by "@what: " (connection failures are not prefixed:
 *   their message already says what went wrong)
 * @what: (nullable) printf format of what was being done, e.g.
 *   "failed to get domain '%s'"
 *
 * Returns: (transfer full) the result object, or NULL.  After an I/O
 * error or a timeout the connection is dropped, so the shell's next
 * command reconnects.
 */
json_object *cli_call(CliCtx *ctx, const char *method, json_object *params,
                      GError **error, const char *what, ...)
    G_GNUC_PRINTF(5, 6);

/*
 * cli_result_array:
 * @result: a method's result
 * @key: the member holding the array ("domains", ...)
 * @method: the method, for the message
 * @error: RPC_ERROR_IO when the member is missing or not an array
 *
 * Returns: (transfer none) the array, or NULL.
 */
json_object *cli_result_array(json_object *result, const char *key,
                              const char *method, GError **error);

/* Prints @obj as pretty JSON (one line when @one_line) on ctx->out. */
void cli_print_json(CliCtx *ctx, json_object *obj, bool one_line);

/* Returns: the command named @name in any group, or NULL. */
const CliCmdDef *cli_cmd_lookup(const char *name);

/*
 * cli_cmd_suggest:
 * @name: a mistyped command name
 *
 * Returns: the closest command name (edit distance at most 2, or @name
 * is a prefix of exactly one command), or NULL.
 */
const char *cli_cmd_suggest(const char *name);

/*
 * cli_args_parse:
 * @cmd: the command
 * @argc: number of arguments after the command name
 * @argv: those arguments
 * @error: CLI_ERROR_USAGE with a message naming the command and option
 *
 * Besides the command's own options, every command accepts --json
 * (see cli_args_json()) and --help.  Options are "--name VALUE" or
 * "--name=VALUE"; POSITIONAL options may also be given bare, in table
 * order; "--" ends the options.
 *
 * Returns: (transfer full) the parsed arguments, or NULL.
 */
CliArgs *cli_args_parse(const CliCmdDef *cmd, int argc, char **argv,
                        GError **error);
void cli_args_free(CliArgs *args);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CliArgs, cli_args_free)

/* Returns: true when option @name was given. */
bool cli_args_has(const CliArgs *args, const char *name);
/* Returns: (transfer none) the value of option @name, or NULL. */
const char *cli_args_get_string(const CliArgs *args, const char *name);
/* Returns: whether the boolean option @name was given. */
bool cli_args_get_bool(const CliArgs *args, const char *name);
/* Returns: the value of INT or DURATION option @name, or @def. */
int64_t cli_args_get_int(const CliArgs *args, const char *name, int64_t def);
/* Returns: true when --json was given after the command name. */
bool cli_args_json(const CliArgs *args);
/* Returns: true when --help was given after the command name. */
bool cli_args_help(const CliArgs *args);

/*
 * cli_cmd_usage:
 * @cmd: a command
 *
 * Returns: (transfer full) its synopsis, e.g.
 * "domstats DOMAIN [--history SECONDS]".
 */
char *cli_cmd_usage(const CliCmdDef *cmd);

/* Returns: (transfer full) the full help of @cmd (NAME, SYNOPSIS, ...). */
char *cli_cmd_help(const CliCmdDef *cmd);

/* Returns: (transfer full) the list of command groups and commands. */
char *cli_help_all(void);

/* Returns: (transfer full) the commands of the group with help keyword
 * @keyword, or NULL if there is none. */
char *cli_help_group(const char *keyword);

/* Global options of umbractl, before the command. */
typedef struct {
    char *socket_path; /* -c/--connect, NULL if not given */
    bool json;         /* --json */
    int timeout_ms;    /* -t/--timeout, -1 if not given */
    bool help;         /* -h/--help */
    bool version;      /* -v/--version */
    int cmd_index;     /* argv index of the command, argc if none */
} CliGlobalOpts;

/*
 * cli_global_parse:
 * @argc, @argv: main()'s arguments
 * @ret: (out caller-allocates) the options; ret->socket_path is
 *   (transfer full)
 * @error: CLI_ERROR_USAGE
 *
 * Parses the options before the first non-option argument.
 * Returns: true on success.
 */
bool cli_global_parse(int argc, char **argv, CliGlobalOpts *ret,
                      GError **error);

/*
 * cli_run:
 * @ctx: the context
 * @argc: number of words, @argv: the command and its arguments
 *
 * Runs one command and prints its error, if any, on ctx->err.
 * Returns: CLI_EXIT_OK, CLI_EXIT_FAILURE or CLI_EXIT_USAGE.
 */
int cli_run(CliCtx *ctx, int argc, char **argv);

/*
 * cli_shell_run:
 * @ctx: the context
 * @in: where commands are read from, one per line
 *
 * The interactive shell: prompts (when @in is a terminal), splits each
 * line with shell quoting rules and runs it; errors are printed and the
 * shell goes on.  "quit", "exit" or end of file end it.
 *
 * Returns: the exit code of the last command run (CLI_EXIT_OK if none).
 */
int cli_shell_run(CliCtx *ctx, FILE *in);

/* Returns: umbractl's exit code for argv; the entry point of main(). */
int cli_main(int argc, char **argv);

/*
 * Interruption (SIGINT) for the long-running commands (top,
 * events --follow): they install the handler, poll cli_interrupted()
 * between short waits and restore the old handler when done.
 */
void cli_interrupt_install(void);
void cli_interrupt_restore(void);
bool cli_interrupted(void);

/*
 * cli_wait_ms:
 * @ms: how long to wait
 *
 * Waits @ms milliseconds or until SIGINT.
 * Returns: false when interrupted.
 */
bool cli_wait_ms(int64_t ms);
