/*
 * cli/cli.c: umbractl's dispatcher: global options, command lookup, the
 * per-command argument parser, help text, the interactive shell and
 * the RPC connection shared by the commands (see cli.h).
 *
 *   argv --cli_global_parse--> -c/--json/--timeout, then
 *     COMMAND ARGS --cli_run--> lookup --cli_args_parse--> handler
 *     (none)       --cli_shell_run--> for each line: g_shell_parse_argv
 *                                      --> cli_run
 *
 * The parser is table-driven: a command's CliOptDef rows say which
 * options exist, whether they take a value, of which type, and which
 * may be given positionally.  Values are checked here (integers,
 * durations, choices) so that handlers only read them.  Errors are
 * GErrors: CLI_ERROR_USAGE means "bad command line" (exit 2); anything
 * else (an RPC_ERROR from the daemon or the client) means the command
 * failed (exit 1).
 */
#include "cli/cli.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "cli/format.h"
#include "umbra-config.h"
#include "util/clock.h"
#include "util/strutil.h"

/* clang-format off */
G_DEFINE_QUARK(umbra-cli-error-quark, cli_error)
/* clang-format on */

#define HELP_WIDTH 78

const CliCmdGroup cli_cmd_groups[] = {
    {"Domain", "domain", cli_domain_cmds},
    {"Host", "host", cli_host_cmds},
    {"Forecast", "forecast", cli_forecast_cmds},
    {"Risk", "risk", cli_risk_cmds},
    {"Shadows", "shadow", cli_shadow_cmds},
    {"Events", "events", cli_events_cmds},
    {"Monitoring", "monitor", cli_monitor_cmds},
    {"umbractl itself", "umbractl", cli_shell_cmds},
    {NULL, NULL, NULL},
};

struct CliArgs {
    const CliCmdDef *cmd; /* the command parsed for */
    guint nopts;          /* rows of cmd->opts */
    char **values;        /* per option; NULL when absent, "" = bool */
    int64_t *ints;        /* per option, INT and DURATION values */
    bool json;            /* --json */
    bool help;            /* --help or -h */
};

/* ---- context and connection ------------------------------------------ */

CliCtx *
cli_ctx_new(const char *socket_path, FILE *out, FILE *err)
{
    CliCtx *ctx = g_new0(CliCtx, 1);

    ctx->socket_path = g_strdup(socket_path);
    ctx->timeout_ms = CLI_DEFAULT_TIMEOUT_MS;
    ctx->out = out;
    ctx->err = err;
    return ctx;
}

void
cli_ctx_disconnect(CliCtx *ctx)
{
    g_clear_pointer(&ctx->client, rpc_client_free);
}

void
cli_ctx_free(CliCtx *ctx)
{
    if (!ctx) {
        return;
    }
    cli_ctx_disconnect(ctx);
    g_free(ctx->socket_path);
    g_free(ctx);
}

json_object *
cli_call(CliCtx *ctx, const char *method, json_object *params, GError **error,
         const char *what, ...)
{
    g_autoptr(json_object) owned = params ? params : json_object_new_object();
    g_autoptr(GError) local_error = NULL;
    json_object *result = NULL;
    bool reused = ctx->client != NULL;

    for (int attempt = 0; attempt < 2; attempt++) {
        g_clear_error(&local_error);
        if (!ctx->client) {
            ctx->client =
                rpc_client_connect(ctx->socket_path, ctx->timeout_ms, error);
            if (!ctx->client) {
                return NULL;
            }
        }
        result = rpc_client_call(ctx->client, method, json_object_get(owned),
                                 &local_error);
        if (result) {
            return result;
        }
        if (!rpc_client_is_connected(ctx->client)) {
            cli_ctx_disconnect(ctx);
        }
        /*
         * A connection kept from an earlier command may have been closed
         * by a restarted umbrad; every method is a query, so asking
         * again on a fresh connection is safe.
         */
        if (!(reused && attempt == 0 && !ctx->client &&
              g_error_matches(local_error, RPC_ERROR, RPC_ERROR_IO))) {
            break;
        }
    }
    if (what) {
        va_list ap;
        g_autofree char *prefix = NULL;

        va_start(ap, what);
        prefix = g_strdup_vprintf(what, ap);
        va_end(ap);
        g_prefix_error(&local_error, "%s: ", prefix);
    }
    g_propagate_error(error, g_steal_pointer(&local_error));
    return NULL;
}

json_object *
cli_result_array(json_object *result, const char *key, const char *method,
                 GError **error)
{
    json_object *v = cli_json_array(result, key);

    if (!v) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_IO,
                    "malformed reply from umbrad: no '%s' array in the "
                    "result of '%s'",
                    key, method);
    }
    return v;
}

void
cli_print_json(CliCtx *ctx, json_object *obj, bool one_line)
{
    int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

    flags |= one_line ? JSON_C_TO_STRING_PLAIN
                      : JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED;
    fprintf(ctx->out, "%s\n", json_object_to_json_string_ext(obj, flags));
}

/* ---- command lookup ---------------------------------------------------- */

const CliCmdDef *
cli_cmd_lookup(const char *name)
{
    for (const CliCmdGroup *g = cli_cmd_groups; g->name; g++) {
        for (const CliCmdDef *c = g->cmds; c->name; c++) {
            if (strcmp(c->name, name) == 0) {
                return c;
            }
        }
    }
    return NULL;
}

/* Returns: the Levenshtein distance of @a and @b, capped at 99. */
static guint
edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a);
    size_t lb = strlen(b);
    g_autofree guint *prev = NULL;
    g_autofree guint *cur = NULL;

    if (la > 64 || lb > 64) {
        return 99;
    }
    prev = g_new(guint, lb + 1);
    cur = g_new(guint, lb + 1);
    for (size_t j = 0; j <= lb; j++) {
        prev[j] = (guint) j;
    }
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (guint) i;
        for (size_t j = 1; j <= lb; j++) {
            guint sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);

            cur[j] = MIN(MIN(prev[j] + 1, cur[j - 1] + 1), sub);
        }
        memcpy(prev, cur, (lb + 1) * sizeof(guint));
    }
    return prev[lb];
}

const char *
cli_cmd_suggest(const char *name)
{
    const char *best = NULL;
    const char *prefix_match = NULL;
    guint prefix_count = 0;
    guint best_dist = 3;

    for (const CliCmdGroup *g = cli_cmd_groups; g->name; g++) {
        for (const CliCmdDef *c = g->cmds; c->name; c++) {
            guint d = edit_distance(name, c->name);

            if (d < best_dist) {
                best_dist = d;
                best = c->name;
            }
            if (*name && g_str_has_prefix(c->name, name)) {
                prefix_match = c->name;
                prefix_count++;
            }
        }
    }
    if (best) {
        return best;
    }
    return prefix_count == 1 ? prefix_match : NULL;
}

/* ---- argument parsing -------------------------------------------------- */

static guint
opts_count(const CliOptDef *opts)
{
    guint n = 0;

    while (opts && opts[n].name) {
        n++;
    }
    return n;
}

static int
opt_index(const CliCmdDef *cmd, const char *name)
{
    for (guint i = 0; cmd->opts && cmd->opts[i].name; i++) {
        if (strcmp(cmd->opts[i].name, name) == 0) {
            return (int) i;
        }
    }
    return -1;
}

static CliArgs *
cli_args_new(const CliCmdDef *cmd)
{
    CliArgs *args = g_new0(CliArgs, 1);

    args->cmd = cmd;
    args->nopts = opts_count(cmd->opts);
    args->values = g_new0(char *, args->nopts + 1);
    args->ints = g_new0(int64_t, args->nopts + 1);
    return args;
}

void
cli_args_free(CliArgs *args)
{
    if (!args) {
        return;
    }
    if (args->values) {
        for (guint i = 0; i < args->nopts; i++) {
            g_free(args->values[i]);
        }
        g_free(args->values);
    }
    g_free(args->ints);
    g_free(args);
}

static bool usage_error(GError **error, const CliCmdDef *cmd, const char *fmt,
                        ...) G_GNUC_PRINTF(3, 4);

static bool
usage_error(GError **error, const CliCmdDef *cmd, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, CLI_ERROR, CLI_ERROR_USAGE, "command '%s': %s",
                cmd->name, msg);
    return false;
}

static char *
choices_join(const char *const *choices)
{
    return g_strjoinv(", ", (char **) choices);
}

/* Checks and stores the value of option @idx. */
static bool
args_set(CliArgs *args, guint idx, const char *value, GError **error)
{
    const CliOptDef *o = &args->cmd->opts[idx];
    int64_t v = 0;

    if (args->values[idx]) {
        return usage_error(error, args->cmd,
                           "option --%s given more than "
                           "once",
                           o->name);
    }
    switch (o->type) {
    case CLI_OPT_INT:
        if (!util_parse_int64(value, &v) || v < 0) {
            return usage_error(error, args->cmd,
                               "option --%s: '%s' is not "
                               "a non-negative integer",
                               o->name, value);
        }
        break;
    case CLI_OPT_DURATION:
        if (!util_parse_duration(value, &v)) {
            return usage_error(error, args->cmd,
                               "option --%s: '%s' is not "
                               "a duration (e.g. 90, 30s, 15m, 2h, 7d)",
                               o->name, value);
        }
        break;
    case CLI_OPT_STRING:
        if (!*value) {
            return usage_error(error, args->cmd, "option --%s: empty value",
                               o->name);
        }
        break;
    case CLI_OPT_BOOL:
    case CLI_OPT_LAST:
        break;
    }
    if (o->choices && !g_strv_contains(o->choices, value)) {
        g_autofree char *list = choices_join(o->choices);

        return usage_error(error, args->cmd,
                           "option --%s: '%s' is not one "
                           "of %s",
                           o->name, value, list);
    }
    args->values[idx] = g_strdup(value);
    args->ints[idx] = v;
    return true;
}

/* Returns: true if @s looks like a negative number ("-5"), not an option. */
static bool
is_negative_number(const char *s)
{
    return s[0] == '-' && g_ascii_isdigit(s[1]);
}

CliArgs *
cli_args_parse(const CliCmdDef *cmd, int argc, char **argv, GError **error)
{
    g_autoptr(CliArgs) args = cli_args_new(cmd);
    bool opts_done = false;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];

        if (!opts_done && strcmp(a, "--") == 0) {
            opts_done = true;
            continue;
        }
        if (!opts_done && g_str_has_prefix(a, "--")) {
            g_autofree char *name = g_strdup(a + 2);
            char *eq = strchr(name, '=');
            const char *value = NULL;
            int idx;

            if (eq) {
                *eq = '\0';
                value = eq + 1;
            }
            idx = opt_index(cmd, name);
            if (idx < 0 && !value && strcmp(name, "json") == 0) {
                args->json = true;
                continue;
            }
            if (idx < 0 && !value && strcmp(name, "help") == 0) {
                args->help = true;
                continue;
            }
            if (idx < 0) {
                usage_error(error, cmd, "unknown option --%s", name);
                return NULL;
            }
            if (cmd->opts[idx].type == CLI_OPT_BOOL) {
                if (value) {
                    usage_error(error, cmd, "option --%s takes no value", name);
                    return NULL;
                }
                value = "";
            } else if (!value) {
                if (i + 1 >= argc) {
                    usage_error(error, cmd, "option --%s needs a value (%s)",
                                name,
                                cmd->opts[idx].metavar ? cmd->opts[idx].metavar
                                                       : "VALUE");
                    return NULL;
                }
                value = argv[++i];
            }
            if (!args_set(args, (guint) idx, value, error)) {
                return NULL;
            }
            continue;
        }
        if (!opts_done && strcmp(a, "-h") == 0) {
            args->help = true;
            continue;
        }
        if (!opts_done && a[0] == '-' && a[1] && !is_negative_number(a)) {
            usage_error(error, cmd, "unknown option %s", a);
            return NULL;
        }
        {
            guint idx = 0;

            while (idx < args->nopts &&
                   (!(cmd->opts[idx].flags & CLI_OPT_POSITIONAL) ||
                    args->values[idx])) {
                idx++;
            }
            if (idx == args->nopts) {
                usage_error(error, cmd, "unexpected argument '%s'", a);
                return NULL;
            }
            if (!args_set(args, idx, a, error)) {
                return NULL;
            }
        }
    }
    if (args->help) {
        return g_steal_pointer(&args);
    }
    for (guint i = 0; i < args->nopts; i++) {
        const CliOptDef *o = &cmd->opts[i];

        if ((o->flags & CLI_OPT_REQUIRED) && !args->values[i]) {
            if (o->flags & CLI_OPT_POSITIONAL) {
                usage_error(error, cmd, "missing argument %s", o->metavar);
            } else {
                usage_error(error, cmd, "missing option --%s %s", o->name,
                            o->metavar ? o->metavar : "VALUE");
            }
            return NULL;
        }
    }
    return g_steal_pointer(&args);
}

static int
args_index(const CliArgs *args, const char *name)
{
    int idx = opt_index(args->cmd, name);

    /* Asking for an option the table does not have is a programming error. */
    g_assert(idx >= 0);
    return idx;
}

bool
cli_args_has(const CliArgs *args, const char *name)
{
    return args->values[args_index(args, name)] != NULL;
}

const char *
cli_args_get_string(const CliArgs *args, const char *name)
{
    return args->values[args_index(args, name)];
}

bool
cli_args_get_bool(const CliArgs *args, const char *name)
{
    return cli_args_has(args, name);
}

int64_t
cli_args_get_int(const CliArgs *args, const char *name, int64_t def)
{
    int idx = args_index(args, name);

    return args->values[idx] ? args->ints[idx] : def;
}

bool
cli_args_json(const CliArgs *args)
{
    return args->json;
}

bool
cli_args_help(const CliArgs *args)
{
    return args->help;
}

/* ---- help -------------------------------------------------------------- */

/* Appends @text wrapped at HELP_WIDTH, each line indented by @indent. */
static void
append_wrapped(GString *out, const char *text, int indent)
{
    g_auto(GStrv) paras = g_regex_split_simple("\n\\s*\n", text, 0, 0);

    for (guint p = 0; paras[p]; p++) {
        g_auto(GStrv) words = g_strsplit_set(paras[p], " \n", -1);
        int col = 0;

        if (p) {
            g_string_append_c(out, '\n');
        }
        for (guint w = 0; words[w]; w++) {
            int len = (int) g_utf8_strlen(words[w], -1);

            if (!*words[w]) {
                continue;
            }
            if (col && col + 1 + len > HELP_WIDTH) {
                g_string_append_c(out, '\n');
                col = 0;
            }
            if (col == 0) {
                g_string_append_printf(out, "%*s", indent, "");
                col = indent;
            } else {
                g_string_append_c(out, ' ');
                col++;
            }
            g_string_append(out, words[w]);
            col += len;
        }
        g_string_append_c(out, '\n');
    }
}

static char *
opt_synopsis(const CliOptDef *o)
{
    const char *mv = o->metavar ? o->metavar : "VALUE";

    if (o->flags & CLI_OPT_POSITIONAL) {
        return g_strdup_printf((o->flags & CLI_OPT_REQUIRED) ? "%s" : "[%s]",
                               mv);
    }
    if (o->type == CLI_OPT_BOOL) {
        return g_strdup_printf("[--%s]", o->name);
    }
    return g_strdup_printf(
        (o->flags & CLI_OPT_REQUIRED) ? "--%s %s" : "[--%s %s]", o->name, mv);
}

char *
cli_cmd_usage(const CliCmdDef *cmd)
{
    GString *out = g_string_new(cmd->name);

    for (guint i = 0; cmd->opts && cmd->opts[i].name; i++) {
        g_autofree char *s = opt_synopsis(&cmd->opts[i]);

        g_string_append_printf(out, " %s", s);
    }
    return g_string_free(out, FALSE);
}

char *
cli_cmd_help(const CliCmdDef *cmd)
{
    GString *out = g_string_new(NULL);
    g_autofree char *usage = cli_cmd_usage(cmd);
    g_autoptr(GPtrArray) left = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) right = g_ptr_array_new();
    size_t width = 0;

    g_string_append_printf(out, "  NAME\n    %s - %s\n\n", cmd->name,
                           cmd->summary);
    g_string_append_printf(out, "  SYNOPSIS\n    %s\n", usage);
    if (cmd->description) {
        g_string_append(out, "\n  DESCRIPTION\n");
        append_wrapped(out, cmd->description, 4);
    }
    for (guint i = 0; cmd->opts && cmd->opts[i].name; i++) {
        const CliOptDef *o = &cmd->opts[i];
        const char *mv = o->metavar ? o->metavar : "VALUE";
        char *l;

        if (o->type == CLI_OPT_BOOL) {
            l = g_strdup_printf("--%s", o->name);
        } else if (o->flags & CLI_OPT_POSITIONAL) {
            l = g_strdup_printf("[--%s] %s", o->name, mv);
        } else {
            l = g_strdup_printf("--%s %s", o->name, mv);
        }
        g_ptr_array_add(left, l);
        g_ptr_array_add(right, (gpointer) o->help);
    }
    if (!(cmd->flags & CLI_CMD_NO_CONNECT)) {
        g_ptr_array_add(left, g_strdup("--json"));
        g_ptr_array_add(right, (gpointer) "print the result as JSON");
    }
    for (guint i = 0; i < left->len; i++) {
        width = MAX(width, strlen(g_ptr_array_index(left, i)));
    }
    if (left->len) {
        g_string_append(out, "\n  OPTIONS\n");
    }
    for (guint i = 0; i < left->len; i++) {
        g_autoptr(GString) item = g_string_new(NULL);

        append_wrapped(item, g_ptr_array_index(right, i), (int) width + 6);
        g_string_append_printf(out, "    %-*s  %s", (int) width,
                               (const char *) g_ptr_array_index(left, i),
                               item->str + width + 6);
    }
    return g_string_free(out, FALSE);
}

static void
append_group(GString *out, const CliCmdGroup *g)
{
    g_string_append_printf(out, " %s (help keyword '%s'):\n", g->name,
                           g->keyword);
    for (const CliCmdDef *c = g->cmds; c->name; c++) {
        g_string_append_printf(out, "    %-14s %s\n", c->name, c->summary);
    }
}

char *
cli_help_all(void)
{
    GString *out = g_string_new("Grouping of commands:\n\n");

    for (const CliCmdGroup *g = cli_cmd_groups; g->name; g++) {
        append_group(out, g);
        g_string_append_c(out, '\n');
    }
    return g_string_free(out, FALSE);
}

char *
cli_help_group(const char *keyword)
{
    for (const CliCmdGroup *g = cli_cmd_groups; g->name; g++) {
        if (strcmp(g->keyword, keyword) == 0) {
            GString *out = g_string_new(NULL);

            append_group(out, g);
            return g_string_free(out, FALSE);
        }
    }
    return NULL;
}

/* ---- global options ---------------------------------------------------- */

static bool
global_value(int argc, char **argv, int *i, const char *opt, const char **ret,
             GError **error)
{
    const char *a = argv[*i];
    size_t n = strlen(opt);

    if (a[n] == '=') {
        *ret = a + n + 1;
        return true;
    }
    if (*i + 1 >= argc) {
        g_set_error(error, CLI_ERROR, CLI_ERROR_USAGE,
                    "option %s needs a value", opt);
        return false;
    }
    *ret = argv[++*i];
    return true;
}

/* Returns: true if @a is @long_opt, optionally followed by "=...". */
static bool
is_opt(const char *a, const char *long_opt, bool takes_value)
{
    size_t n = strlen(long_opt);

    return strncmp(a, long_opt, n) == 0 &&
           (a[n] == '\0' || (takes_value && a[n] == '='));
}

bool
cli_global_parse(int argc, char **argv, CliGlobalOpts *ret, GError **error)
{
    CliGlobalOpts o = {.timeout_ms = -1, .cmd_index = argc};
    g_autofree char *socket_path = NULL;
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = NULL;

        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0') {
            break;
        }
        if (strcmp(a, "-c") == 0 || is_opt(a, "--connect", true)) {
            if (!global_value(argc, argv, &i, a[1] == 'c' ? "-c" : "--connect",
                              &v, error)) {
                return false;
            }
            if (!*v) {
                g_set_error(error, CLI_ERROR, CLI_ERROR_USAGE,
                            "option --connect: empty socket path");
                return false;
            }
            g_free(socket_path);
            socket_path = g_strdup(v);
        } else if (strcmp(a, "-t") == 0 || is_opt(a, "--timeout", true)) {
            int64_t ms;

            if (!global_value(argc, argv, &i, a[1] == 't' ? "-t" : "--timeout",
                              &v, error)) {
                return false;
            }
            if (!util_parse_int64(v, &ms) || ms < 0 || ms > G_MAXINT) {
                g_set_error(error, CLI_ERROR, CLI_ERROR_USAGE,
                            "option --timeout: '%s' is not a number of "
                            "milliseconds",
                            v);
                return false;
            }
            o.timeout_ms = (int) ms;
        } else if (strcmp(a, "--json") == 0) {
            o.json = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            o.help = true;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
            o.version = true;
        } else {
            g_set_error(error, CLI_ERROR, CLI_ERROR_USAGE, "unknown option %s",
                        a);
            return false;
        }
    }
    o.cmd_index = i;
    o.socket_path = g_steal_pointer(&socket_path);
    *ret = o;
    return true;
}

static void
print_global_usage(FILE *out)
{
    g_autofree char *all = cli_help_all();

    fprintf(out,
            "\n"
            "umbractl [OPTIONS] [COMMAND [ARGS...]]\n"
            "\n"
            "  Talks to umbrad, the umbra daemon, over its unix socket.\n"
            "  Without a COMMAND it runs an interactive shell.\n"
            "\n"
            "  options:\n"
            "    -c | --connect SOCKET  umbrad's socket (default: "
            "$UMBRA_SOCKET, else\n"
            "                           %s)\n"
            "    --json                 print results as JSON\n"
            "    -t | --timeout MS      per-call timeout in milliseconds "
            "(default %d,\n"
            "                           0 for none)\n"
            "    -h | --help            this help\n"
            "    -v | --version         print umbractl's version\n"
            "\n"
            "  'umbractl help COMMAND' describes a command.\n"
            "\n"
            "%s",
            UMBRA_RUNDIR "/umbrad.sock", CLI_DEFAULT_TIMEOUT_MS, all);
}

/* ---- running commands -------------------------------------------------- */

static void
report_error(CliCtx *ctx, const GError *error)
{
    fflush(ctx->out);
    fprintf(ctx->err, "error: %s\n", error->message);
    fflush(ctx->err);
}

int
cli_run(CliCtx *ctx, int argc, char **argv)
{
    g_autoptr(CliArgs) args = NULL;
    g_autoptr(GError) error = NULL;
    const CliCmdDef *cmd;
    bool saved_json = ctx->json;
    bool ok;

    if (argc < 1) {
        return CLI_EXIT_OK;
    }
    cmd = cli_cmd_lookup(argv[0]);
    if (!cmd) {
        const char *hint = cli_cmd_suggest(argv[0]);
        g_autofree char *shown = cli_format_text(argv[0]);

        fflush(ctx->out);
        if (hint) {
            fprintf(ctx->err,
                    "error: unknown command: '%s' (did you mean "
                    "'%s'?)\n",
                    shown, hint);
        } else {
            fprintf(ctx->err, "error: unknown command: '%s' (try '%shelp')\n",
                    shown, ctx->interactive ? "" : "umbractl ");
        }
        fflush(ctx->err);
        return CLI_EXIT_USAGE;
    }
    args = cli_args_parse(cmd, argc - 1, argv + 1, &error);
    if (!args) {
        g_autofree char *usage = cli_cmd_usage(cmd);

        report_error(ctx, error);
        fprintf(ctx->err, "usage: %s%s\n", ctx->interactive ? "" : "umbractl ",
                usage);
        fflush(ctx->err);
        return CLI_EXIT_USAGE;
    }
    if (cli_args_help(args)) {
        g_autofree char *help = cli_cmd_help(cmd);

        fputs(help, ctx->out);
        fflush(ctx->out);
        return CLI_EXIT_OK;
    }
    ctx->json = ctx->json || cli_args_json(args);
    ok = cmd->handler(ctx, args, &error);
    ctx->json = saved_json;
    fflush(ctx->out);
    if (!ok) {
        g_assert(error != NULL);
        report_error(ctx, error);
        return g_error_matches(error, CLI_ERROR, CLI_ERROR_USAGE)
                   ? CLI_EXIT_USAGE
                   : CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

/* Reads one line of any length; Returns: (transfer full) it, or NULL at EOF. */
static char *
read_line(FILE *in)
{
    GString *line = g_string_new(NULL);
    char buf[1024];

    while (fgets(buf, sizeof(buf), in)) {
        g_string_append(line, buf);
        if (line->len && line->str[line->len - 1] == '\n') {
            break;
        }
    }
    if (line->len == 0) {
        g_string_free(line, TRUE);
        return NULL;
    }
    return g_string_free(line, FALSE);
}

int
cli_shell_run(CliCtx *ctx, FILE *in)
{
    bool tty = isatty(fileno(in));
    int status = CLI_EXIT_OK;

    ctx->interactive = true;
    if (tty) {
        fprintf(ctx->out,
                "Welcome to umbractl, the interactive terminal of umbra.\n"
                "\n"
                "Type:  'help' for help with commands\n"
                "       'quit' to quit\n"
                "\n");
    }
    while (!ctx->quit) {
        g_autofree char *line = NULL;
        g_auto(GStrv) argv = NULL;
        g_autoptr(GError) error = NULL;
        int argc = 0;

        if (tty) {
            fputs("umbractl # ", ctx->out);
            fflush(ctx->out);
        }
        line = read_line(in);
        if (!line) {
            if (tty) {
                fputc('\n', ctx->out);
            }
            break;
        }
        g_strchomp(line);
        if (!g_shell_parse_argv(line, &argc, &argv, &error)) {
            if (!g_error_matches(error, G_SHELL_ERROR,
                                 G_SHELL_ERROR_EMPTY_STRING)) {
                report_error(ctx, error);
                status = CLI_EXIT_USAGE;
            }
            continue;
        }
        status = cli_run(ctx, argc, argv);
    }
    fflush(ctx->out);
    return status;
}

int
cli_main(int argc, char **argv)
{
    g_autoptr(CliCtx) ctx = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *socket_path = NULL;
    CliGlobalOpts opts;
    const char *env;

    if (!cli_global_parse(argc, argv, &opts, &error)) {
        fprintf(stderr, "error: %s\n", error->message);
        fprintf(stderr, "error: 'umbractl --help' describes the options\n");
        return CLI_EXIT_USAGE;
    }
    socket_path = g_steal_pointer(&opts.socket_path);
    if (opts.help) {
        print_global_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (opts.version) {
        printf("umbractl %s\n", UMBRA_VERSION);
        return CLI_EXIT_OK;
    }
    env = g_getenv("UMBRA_SOCKET");
    if (!socket_path) {
        socket_path = g_strdup(env && *env ? env : UMBRA_RUNDIR "/umbrad.sock");
    }
    ctx = cli_ctx_new(socket_path, stdout, stderr);
    ctx->json = opts.json;
    if (opts.timeout_ms >= 0) {
        ctx->timeout_ms = opts.timeout_ms;
    }
    if (opts.cmd_index < argc) {
        return cli_run(ctx, argc - opts.cmd_index, argv + opts.cmd_index);
    }
    return cli_shell_run(ctx, stdin);
}

/* ---- interruption ------------------------------------------------------ */

static volatile sig_atomic_t interrupted;
static struct sigaction old_sigint;

static void
on_sigint(int sig)
{
    interrupted = 1;
}

void
cli_interrupt_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    sigaction(SIGINT, &sa, &old_sigint);
}

void
cli_interrupt_restore(void)
{
    sigaction(SIGINT, &old_sigint, NULL);
}

bool
cli_interrupted(void)
{
    return interrupted != 0;
}

bool
cli_wait_ms(int64_t ms)
{
    int64_t deadline = util_clock_mono() + ms * 1000;

    while (!interrupted) {
        int64_t left = deadline - util_clock_mono();

        if (left <= 0) {
            return true;
        }
        poll(NULL, 0, (int) MIN((left + 999) / 1000, 1000));
    }
    return false;
}
