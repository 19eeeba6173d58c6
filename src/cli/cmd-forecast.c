/*
 * cli/cmd-forecast.c: "forecast", umbrad's load forecasts of a domain
 * (docs/rpc.md method "forecast").
 */
#include <math.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/format.h"
#include "util/strutil.h"

static const char *const metric_choices[] = {
    "all", "cpu", "mem", "blk_rd", "blk_wr", "net_rx", "net_tx", NULL,
};

static const CliOptDef forecast_opts[] = {
    {"domain", CLI_OPT_STRING, CLI_OPT_REQUIRED | CLI_OPT_POSITIONAL, "DOMAIN",
     "domain name or UUID", NULL},
    {"metric", CLI_OPT_STRING, 0, "METRIC",
     "cpu, mem, blk_rd, blk_wr, net_rx, net_tx or all (default: all)",
     metric_choices},
    {"horizon", CLI_OPT_STRING, 0, "LIST",
     "comma-separated horizons, each up to 1h (default: 5m,15m,1h)", NULL},
    {NULL},
};

static char *
format_interval(const char *metric, double lo, double hi)
{
    g_autofree char *a = cli_format_metric(metric, lo);
    g_autofree char *b = cli_format_metric(metric, hi);

    return g_strdup_printf("%s .. %s", a, b);
}

static bool
parse_horizons(const char *text, json_object *arr, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);

    for (char **p = parts; *p; p++) {
        int64_t s;

        if (!util_parse_duration(*p, &s) || s <= 0 || s > 3600) {
            g_set_error(error, CLI_ERROR, CLI_ERROR_USAGE,
                        "--horizon: '%s' is not a duration between 1s and "
                        "1h",
                        *p);
            return false;
        }
        json_object_array_add(arr, json_object_new_int64(s));
    }
    return true;
}

static bool
cmd_forecast(CliCtx *ctx, const CliArgs *args, GError **error)
{
    const char *name = cli_args_get_string(args, "domain");
    const char *metric = cli_args_get_string(args, "metric");
    const char *horizon = cli_args_get_string(args, "horizon");
    json_object *params = json_object_new_object();
    g_autoptr(json_object) result = NULL;
    g_autoptr(CliTable) table = cli_table_new();
    g_autofree char *shown = cli_format_text(name);
    g_autofree char *text = NULL;
    json_object *fcs, *pending;
    size_t n;

    json_object_object_add(params, "domain", json_object_new_string(name));
    if (metric && strcmp(metric, "all") != 0) {
        json_object_object_add(params, "metric",
                               json_object_new_string(metric));
    }
    if (horizon) {
        json_object *arr = json_object_new_array();

        json_object_object_add(params, "horizons", arr);
        if (!parse_horizons(horizon, arr, error)) {
            json_object_put(params);
            return false;
        }
    }
    result = cli_call(ctx, "forecast", params, error,
                      "failed to get the forecast of '%s'", shown);
    if (!result) {
        return false;
    }
    if (ctx->json) {
        cli_print_json(ctx, result, false);
        return true;
    }
    fcs = cli_json_array(result, "forecasts");
    n = fcs ? json_object_array_length(fcs) : 0;
    g_free(shown);
    shown = cli_format_text(cli_json_string(result, "domain"));
    fprintf(ctx->out, "Domain: '%s'\n", shown);
    if (n == 0) {
        fprintf(ctx->out, "  no forecast yet: umbrad is fitting one (it needs "
                          "a few minutes of samples); try again shortly\n");
        return true;
    }
    cli_table_add_column(table, "Metric", CLI_ALIGN_LEFT);
    cli_table_add_column(table, "Horizon", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Now", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "Forecast", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "80% interval", CLI_ALIGN_RIGHT);
    cli_table_add_column(table, "95% interval", CLI_ALIGN_RIGHT);
    for (size_t i = 0; i < n; i++) {
        json_object *f = json_object_array_get_idx(fcs, i);
        const char *m = cli_json_string(f, "metric");
        json_object *pts = cli_json_array(f, "points");
        size_t np = pts ? json_object_array_length(pts) : 0;

        if (!m) {
            continue;
        }
        for (size_t k = 0; k < np; k++) {
            json_object *p = json_object_array_get_idx(pts, k);

            cli_table_add_cell(table, k == 0 ? m : "");
            cli_table_add_cell_take(
                table, cli_format_duration(cli_json_int(p, "horizon_s")));
            cli_table_add_cell_take(
                table, k == 0 ? cli_format_metric(m, cli_json_double(f, "last"))
                              : g_strdup(""));
            cli_table_add_cell_take(
                table, cli_format_metric(m, cli_json_double(p, "mean")));
            cli_table_add_cell_take(
                table, format_interval(m, cli_json_double(p, "lo80"),
                                       cli_json_double(p, "hi80")));
            cli_table_add_cell_take(
                table, format_interval(m, cli_json_double(p, "lo95"),
                                       cli_json_double(p, "hi95")));
        }
    }
    text = cli_table_render(table);
    fputs(text, ctx->out);
    for (size_t i = 0; i < n; i++) {
        json_object *f = json_object_array_get_idx(fcs, i);
        g_autofree char *when = cli_format_time(cli_json_int(f, "fitted_at"));
        g_autofree char *meth = cli_format_text(cli_json_string(f, "method"));

        const char *refit = cli_json_string(f, "refit");

        fprintf(ctx->out,
                "  %-7s %s, fitted %s%s on %" G_GINT64_FORMAT
                " steps of %" G_GINT64_FORMAT " s\n",
                cli_json_string(f, "metric"), meth, when,
                g_strcmp0(refit, "surprise") == 0
                    ? " (early: the samples left its band)"
                    : "",
                cli_json_int(f, "observations"), cli_json_int(f, "step_s"));
    }
    pending = cli_json_array(result, "pending");
    if (pending && json_object_array_length(pending) > 0) {
        fprintf(
            ctx->out, "  still fitting: %s\n",
            json_object_to_json_string_ext(pending, JSON_C_TO_STRING_PLAIN));
    }
    return true;
}

const CliCmdDef cli_forecast_cmds[] = {
    {"forecast", cmd_forecast, forecast_opts, "show a domain's load forecast",
     "Shows umbrad's forecast of a domain's CPU %, memory used and block "
     "and network rates 5 minutes, 15 minutes and 1 hour ahead (or the "
     "horizons given), with 80% and 95% prediction intervals, the model "
     "fitted, and when.  umbrad refits each domain on a schedule "
     "(forecast_refit, default 15 minutes) on its history resampled to "
     "one-minute steps (forecast_step), with daily and weekly seasonality "
     "once it has two cycles of each; between refits new samples correct "
     "the level, and a domain whose samples leave the forecast's 80% band "
     "(the means of two steps in a row, on one side) is refitted early."},
    {NULL},
};
