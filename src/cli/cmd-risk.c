/*
 * cli/cmd-risk.c: the risk engine's commands: "risk" (drift, contention
 * and failure probabilities per horizon, time of trouble, top reasons),
 * "profile" (a domain's rhythms and baselines), "incident" (record a
 * disruption, a label the failure model learns from) and "risk-model"
 * (the model's weights and calibration).  docs/rpc.md has the methods.
 */
#include <math.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/format.h"
#include "util/clock.h"
#include "util/strutil.h"

static const char *const horizons[] = {"5m", "15m", "1h"};

static json_object *
member(json_object *o, const char *key)
{
    json_object *v = NULL;

    return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* "12.3%" or "-" */
static char *
fmt_prob(json_object *o, const char *key)
{
    json_object *v = member(o, key);

    if (!v || json_object_is_type(v, json_type_null)) {
        return g_strdup("-");
    }
    return g_strdup_printf("%.1f%%", 100 * json_object_get_double(v));
}

static char *
fmt_trouble(json_object *o)
{
    json_object *v = member(o, "t_trouble_s");

    if (!v || json_object_is_type(v, json_type_null)) {
        return g_strdup("none in 1h");
    }
    return g_strdup_printf("in %s",
                           cli_format_duration(json_object_get_int64(v)));
}

static char *
fmt_reasons(json_object *d)
{
    json_object *rs = cli_json_array(d, "reasons");
    g_autoptr(GString) s = g_string_new(NULL);
    size_t n = rs ? json_object_array_length(rs) : 0;
    int shown = 0;

    for (size_t i = 0; i < n && shown < 3; i++) {
        json_object *r = json_object_array_get_idx(rs, i);

        if (!(cli_json_double(r, "contribution") > 0.05)) {
            continue;
        }
        g_string_append_printf(s, "%s%s %.2f", shown ? ", " : "",
                               cli_json_string(r, "feature"),
                               cli_json_double(r, "value"));
        shown++;
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

static const CliOptDef risk_opts[] = {
    {"domain", CLI_OPT_STRING, CLI_OPT_POSITIONAL, "DOMAIN",
     "one domain (name or UUID)", NULL},
    {"host", CLI_OPT_STRING, 0, "HOST", "a host and its domains", NULL},
    {"cell", CLI_OPT_STRING, 0, "CELL", "a cell and its domains", NULL},
    {NULL},
};

static void
print_groups(CliCtx *ctx, json_object *arr, const char *title)
{
    g_autoptr(CliTable) t = cli_table_new();
    g_autofree char *text = NULL;
    size_t n = arr ? json_object_array_length(arr) : 0;

    if (n == 0) {
        return;
    }
    cli_table_add_column(t, title, CLI_ALIGN_LEFT);
    cli_table_add_column(t, "Domains", CLI_ALIGN_RIGHT);
    for (size_t h = 0; h < G_N_ELEMENTS(horizons); h++) {
        static const char *const titles[] = {"Overload 5m", "Overload 15m",
                                             "Overload 1h"};

        cli_table_add_column(t, titles[h], CLI_ALIGN_RIGHT);
    }
    cli_table_add_column(t, "Failure 1h", CLI_ALIGN_RIGHT);
    cli_table_add_column(t, "Trouble", CLI_ALIGN_LEFT);
    for (size_t i = 0; i < n; i++) {
        json_object *g = json_object_array_get_idx(arr, i);
        const char *name = cli_json_string(g, "host");

        cli_table_add_cell(t, name ? name : cli_json_string(g, "cell"));
        cli_table_add_cell_take(t, g_strdup_printf("%" G_GINT64_FORMAT,
                                                   cli_json_int(g, "domains")));
        for (size_t h = 0; h < G_N_ELEMENTS(horizons); h++) {
            cli_table_add_cell_take(
                t, fmt_prob(member(g, "contention_p"), horizons[h]));
        }
        cli_table_add_cell_take(t, fmt_prob(member(g, "failure"), "1h"));
        cli_table_add_cell_take(t, fmt_trouble(g));
    }
    text = cli_table_render(t);
    fputs(text, ctx->out);
}

static bool
cmd_risk(CliCtx *ctx, const CliArgs *args, GError **error)
{
    const char *dom = cli_args_get_string(args, "domain");
    const char *host = cli_args_get_string(args, "host");
    const char *cell = cli_args_get_string(args, "cell");
    json_object *params = json_object_new_object();
    g_autoptr(json_object) result = NULL;
    g_autoptr(CliTable) t = cli_table_new();
    g_autofree char *text = NULL;
    json_object *ds;
    size_t n;

    if ((dom != NULL) + (host != NULL) + (cell != NULL) > 1) {
        json_object_put(params);
        g_set_error(error, CLI_ERROR, CLI_ERROR_USAGE,
                    "give at most one of DOMAIN, --host and --cell");
        return false;
    }
    if (dom) {
        json_object_object_add(params, "domain", json_object_new_string(dom));
    } else if (host) {
        json_object_object_add(params, "host", json_object_new_string(host));
    } else if (cell) {
        json_object_object_add(params, "cell", json_object_new_string(cell));
    }
    result = cli_call(ctx, "risk", params, error, "failed to get the risk");
    if (!result) {
        return false;
    }
    if (ctx->json) {
        cli_print_json(ctx, result, false);
        return true;
    }
    fprintf(ctx->out, "Alert threshold: %.0f%% (failure within 1h)\n",
            100 * cli_json_double(result, "threshold"));
    print_groups(ctx, cli_json_array(result, "hosts"), "Host");
    print_groups(ctx, cli_json_array(result, "cells"), "Cell");
    ds = cli_json_array(result, "domains");
    n = ds ? json_object_array_length(ds) : 0;
    if (n == 0) {
        fprintf(ctx->out, "No domain with a risk estimate here (umbrad "
                          "computes them every risk_interval, 1 minute "
                          "by default).\n");
        return true;
    }
    cli_table_add_column(t, "Domain", CLI_ALIGN_LEFT);
    cli_table_add_column(t, "Host", CLI_ALIGN_LEFT);
    cli_table_add_column(t, "Drift", CLI_ALIGN_RIGHT);
    for (size_t h = 0; h < G_N_ELEMENTS(horizons); h++) {
        static const char *const titles[] = {"Fail 5m", "Fail 15m", "Fail 1h"};

        cli_table_add_column(t, titles[h], CLI_ALIGN_RIGHT);
    }
    cli_table_add_column(t, "Overload 1h", CLI_ALIGN_RIGHT);
    cli_table_add_column(t, "Trouble", CLI_ALIGN_LEFT);
    cli_table_add_column(t, "Alert", CLI_ALIGN_LEFT);
    cli_table_add_column(t, "Top reasons", CLI_ALIGN_LEFT);
    for (size_t i = 0; i < n; i++) {
        json_object *d = json_object_array_get_idx(ds, i);
        json_object *fail = member(d, "failure");
        const char *dm = cli_json_string(d, "drift_metric");
        const char *host_name = cli_json_string(d, "host");

        cli_table_add_cell_take(t,
                                cli_format_text(cli_json_string(d, "domain")));
        cli_table_add_cell(t, host_name ? host_name : "-");
        cli_table_add_cell_take(
            t, g_strdup_printf("%.2f%s%s%s", cli_json_double(d, "drift"),
                               dm ? " (" : "", dm ? dm : "", dm ? ")" : ""));
        for (size_t h = 0; h < G_N_ELEMENTS(horizons); h++) {
            cli_table_add_cell_take(t, fmt_prob(fail, horizons[h]));
        }
        cli_table_add_cell_take(t, fmt_prob(member(d, "contention_p"), "1h"));
        cli_table_add_cell_take(t, fmt_trouble(d));
        cli_table_add_cell(
            t, json_object_get_boolean(member(d, "alert")) ? "yes" : "no");
        cli_table_add_cell_take(t, fmt_reasons(d));
    }
    text = cli_table_render(t);
    fputs(text, ctx->out);
    return true;
}

static const CliOptDef profile_opts[] = {
    {"domain", CLI_OPT_STRING, CLI_OPT_REQUIRED | CLI_OPT_POSITIONAL, "DOMAIN",
     "domain name or UUID", NULL},
    {NULL},
};

static bool
cmd_profile(CliCtx *ctx, const CliArgs *args, GError **error)
{
    const char *dom = cli_args_get_string(args, "domain");
    json_object *params = json_object_new_object();
    g_autoptr(json_object) result = NULL;
    g_autoptr(CliTable) t = cli_table_new();
    g_autofree char *text = NULL;
    g_autofree char *shown = cli_format_text(dom);
    json_object *ms;
    size_t n;

    json_object_object_add(params, "domain", json_object_new_string(dom));
    result = cli_call(ctx, "profile", params, error,
                      "failed to get the profile of '%s'", shown);
    if (!result) {
        return false;
    }
    if (ctx->json) {
        cli_print_json(ctx, result, false);
        return true;
    }
    g_free(shown);
    shown = cli_format_text(cli_json_string(result, "domain"));
    fprintf(ctx->out, "Domain: '%s'\n", shown);
    ms = cli_json_array(result, "metrics");
    n = ms ? json_object_array_length(ms) : 0;
    if (n == 0) {
        fprintf(ctx->out, "  no samples since umbrad started\n");
        return true;
    }
    cli_table_add_column(t, "Metric", CLI_ALIGN_LEFT);
    cli_table_add_column(t, "Samples", CLI_ALIGN_RIGHT);
    cli_table_add_column(t, "Level", CLI_ALIGN_RIGHT);
    cli_table_add_column(t, "Spread", CLI_ALIGN_RIGHT);
    cli_table_add_column(t, "Expected now", CLI_ALIGN_RIGHT);
    cli_table_add_column(t, "Last", CLI_ALIGN_RIGHT);
    cli_table_add_column(t, "Drift", CLI_ALIGN_RIGHT);
    cli_table_add_column(t, "Rhythms", CLI_ALIGN_LEFT);
    for (size_t i = 0; i < n; i++) {
        json_object *m = json_object_array_get_idx(ms, i);
        const char *name = cli_json_string(m, "metric");
        json_object *ps = cli_json_array(m, "periods");
        size_t np = ps ? json_object_array_length(ps) : 0;
        g_autoptr(GString) rh = g_string_new(NULL);

        if (!name) {
            continue;
        }
        for (size_t k = 0; k < np; k++) {
            json_object *p = json_object_array_get_idx(ps, k);
            g_autofree char *d =
                cli_format_duration(cli_json_int(p, "period_s"));

            g_string_append_printf(rh, "%s%s (%.2f)", k ? ", " : "", d,
                                   cli_json_double(p, "strength"));
        }
        cli_table_add_cell(t, name);
        cli_table_add_cell_take(t,
                                cli_format_count(cli_json_int(m, "samples")));
        cli_table_add_cell_take(
            t, cli_format_metric(name, cli_json_double(m, "level")));
        cli_table_add_cell_take(
            t, cli_format_metric(name, cli_json_double(m, "spread")));
        cli_table_add_cell_take(
            t, cli_format_metric(name, cli_json_double(m, "expected_now")));
        cli_table_add_cell_take(
            t, cli_format_metric(name, cli_json_double(m, "last")));
        cli_table_add_cell_take(
            t, json_object_get_boolean(member(m, "learning"))
                   ? g_strdup("learning")
                   : g_strdup_printf("%.2f", cli_json_double(m, "drift")));
        cli_table_add_cell(t, rh->len ? rh->str : "none found yet");
    }
    text = cli_table_render(t);
    fputs(text, ctx->out);
    for (size_t i = 0; i < n; i++) {
        json_object *m = json_object_array_get_idx(ms, i);
        json_object *es = cli_json_array(m, "events");
        size_t ne = es ? json_object_array_length(es) : 0;

        for (size_t k = 0; k < ne; k++) {
            json_object *e = json_object_array_get_idx(es, k);
            g_autofree char *per =
                cli_format_duration(cli_json_int(e, "period_s"));
            g_autofree char *off =
                cli_format_duration(cli_json_int(e, "offset_s"));
            g_autofree char *len =
                cli_format_duration(cli_json_int(e, "length_s"));

            if (json_object_get_boolean(member(e, "varying"))) {
                fprintf(ctx->out,
                        "  recurring %s event at a varying time or size: every "
                        "%s within +%s for %s, up to %.1fx the usual "
                        "spread, seen %" G_GINT64_FORMAT " times\n",
                        cli_json_string(m, "metric"), per, off, len,
                        cli_json_double(e, "magnitude"),
                        cli_json_int(e, "cycles"));
                continue;
            }
            fprintf(ctx->out,
                    "  recurring %s event: every %s at +%s for %s, %+.1f "
                    "spreads, seen %" G_GINT64_FORMAT " times\n",
                    cli_json_string(m, "metric"), per, off, len,
                    cli_json_double(e, "magnitude"), cli_json_int(e, "cycles"));
        }
    }
    return true;
}

static const CliOptDef incident_opts[] = {
    {"domain", CLI_OPT_STRING, CLI_OPT_REQUIRED | CLI_OPT_POSITIONAL, "DOMAIN",
     "domain name or UUID", NULL},
    {"kind", CLI_OPT_STRING, 0, "KIND",
     "one word, e.g. outage, slow, oom (default: operator)", NULL},
    {"note", CLI_OPT_STRING, 0, "TEXT", "free text", NULL},
    {"ago", CLI_OPT_DURATION, 0, "DURATION",
     "it happened this long ago (default: now)", NULL},
    {NULL},
};

static bool
cmd_incident(CliCtx *ctx, const CliArgs *args, GError **error)
{
    const char *dom = cli_args_get_string(args, "domain");
    const char *kind = cli_args_get_string(args, "kind");
    const char *note = cli_args_get_string(args, "note");
    json_object *params = json_object_new_object();
    g_autoptr(json_object) result = NULL;
    g_autofree char *shown = cli_format_text(dom);
    g_autofree char *when = NULL;

    json_object_object_add(params, "domain", json_object_new_string(dom));
    if (kind) {
        json_object_object_add(params, "kind", json_object_new_string(kind));
    }
    if (note) {
        json_object_object_add(params, "note", json_object_new_string(note));
    }
    if (cli_args_has(args, "ago")) {
        int64_t ago = cli_args_get_int(args, "ago", 0);

        json_object_object_add(
            params, "time",
            json_object_new_int64(util_clock_wall() - ago * G_USEC_PER_SEC));
    }
    result = cli_call(ctx, "incident", params, error,
                      "failed to record an incident of '%s'", shown);
    if (!result) {
        return false;
    }
    if (ctx->json) {
        cli_print_json(ctx, result, false);
        return true;
    }
    g_free(shown);
    shown = cli_format_text(cli_json_string(result, "domain"));
    when = cli_format_time(cli_json_int(result, "time"));
    fprintf(ctx->out,
            "Incident %" G_GINT64_FORMAT " recorded: '%s', %s, at %s\n",
            cli_json_int(result, "id"), shown, cli_json_string(result, "kind"),
            when);
    return true;
}

static bool
cmd_risk_model(CliCtx *ctx, const CliArgs *args, GError **error)
{
    g_autoptr(json_object) result = NULL;
    g_autoptr(CliTable) t = cli_table_new();
    g_autofree char *text = NULL;
    json_object *w, *bins;
    size_t n;
    const char *note;

    result = cli_call(ctx, "risk-model", json_object_new_object(), error,
                      "failed to get the risk model");
    if (!result) {
        return false;
    }
    if (ctx->json) {
        cli_print_json(ctx, result, false);
        return true;
    }
    fprintf(ctx->out,
            "Failure model v%" G_GINT64_FORMAT ": %" G_GINT64_FORMAT
            " resolved predictions (%" G_GINT64_FORMAT
            " incidents); Brier %.4f, ECE %.4f\n",
            cli_json_int(result, "version"), cli_json_int(result, "examples"),
            cli_json_int(result, "positives"), cli_json_double(result, "brier"),
            cli_json_double(result, "ece"));
    fprintf(ctx->out,
            "Alert threshold %.2f (target precision %.2f; precision %.2f, "
            "recall %.2f over the recent window)\n",
            cli_json_double(result, "threshold"),
            cli_json_double(result, "target_precision"),
            cli_json_double(result, "precision"),
            cli_json_double(result, "recall"));
    if ((note = cli_json_string(result, "note"))) {
        fprintf(ctx->out, "Note: %s\n", note);
    }
    w = member(result, "weights");
    cli_table_add_column(t, "Feature", CLI_ALIGN_LEFT);
    cli_table_add_column(t, "Weight", CLI_ALIGN_RIGHT);
    if (w) {
        json_object_object_foreach(w, key, val)
        {
            cli_table_add_cell(t, key);
            cli_table_add_cell_take(
                t, g_strdup_printf("%+.3f", json_object_get_double(val)));
        }
    }
    text = cli_table_render(t);
    fputs(text, ctx->out);
    bins = cli_json_array(result, "reliability");
    n = bins ? json_object_array_length(bins) : 0;
    fprintf(ctx->out, "Reliability (predicted -> observed):\n");
    for (size_t i = 0; i < n; i++) {
        json_object *b = json_object_array_get_idx(bins, i);

        if (cli_json_int(b, "n") == 0) {
            continue;
        }
        fprintf(ctx->out,
                "  %3.0f-%3.0f%%: %6" G_GINT64_FORMAT
                " predictions, mean %.3f, observed %.3f\n",
                100 * cli_json_double(b, "lo"), 100 * cli_json_double(b, "hi"),
                cli_json_int(b, "n"), cli_json_double(b, "mean_pred"),
                cli_json_double(b, "observed"));
    }
    return true;
}

static const CliOptDef no_opts[] = {
    {NULL},
};

const CliCmdDef cli_risk_cmds[] = {
    {"risk", cmd_risk, risk_opts, "show drift, contention and failure risk",
     "Shows, per domain (all, one, those of --host or --cell) and per host "
     "and cell: the drift score (0-1, how far the domain's behaviour is "
     "from its learnt baseline; 0.5 is about one chance episode a week), "
     "the probability that the host's CPU or memory demand exceeds its "
     "capacity within 5 minutes, 15 minutes and 1 hour (from the "
     "domains' forecasts), the probability of a disruption (the failure "
     "model), the expected time of trouble and the top reasons."},
    {"profile", cmd_profile, profile_opts,
     "show a domain's rhythms and baseline",
     "Shows, per metric, the rhythms detected in a domain's history (daily, "
     "weekly or any strong period, with their strength), its baseline "
     "(level, spread, the value expected now), the drift score, and "
     "recurring events such as a nightly job."},
    {"incident", cmd_incident, incident_opts, "record a disruption of a domain",
     "Records that a domain was disrupted (an outage, a slowdown, ...), for "
     "the failure model to learn from: predictions made in the hour before "
     "become positive examples.  libvirt's own signs (I/O errors, watchdog, "
     "crashes, pauses on error) are recorded by umbrad by itself."},
    {"risk-model", cmd_risk_model, no_opts,
     "show the failure model and its calibration",
     "Shows the failure model's weights, how many resolved predictions it "
     "has learnt from, its calibration (Brier score, expected calibration "
     "error, the reliability table) and the adaptive alert threshold."},
    {NULL},
};
