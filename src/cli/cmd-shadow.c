/*
 * cli/cmd-shadow.c: the shadow commands: "place" (where a shadow of a
 * domain would go and why), "shadow-list", "shadow-info",
 * "shadow-create" and "shadow-retire" (docs/rpc.md).
 */
#include <math.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/format.h"
#include "model/types.h"
#include "util/clock.h"

static const char *const rule_choices[] = {"preferred", "required", NULL};

static const CliOptDef place_opts[] = {
    {"domain", CLI_OPT_STRING, CLI_OPT_REQUIRED | CLI_OPT_POSITIONAL, "DOMAIN",
     "domain name or UUID", NULL},
    {"cell-rule", CLI_OPT_STRING, 0, "RULE",
     "preferred or required: the shadow should (must) be in another cell "
     "(default: shadow_cell)",
     rule_choices},
    {NULL},
};

/* The number @key of @o with @decimals decimals, or "-". */
static char *
fmt_num(json_object *o, const char *key, int decimals)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(o, key, &v) || !v ||
        json_object_is_type(v, json_type_null)) {
        return g_strdup("-");
    }
    return g_strdup_printf("%.*f", decimals, json_object_get_double(v));
}

static bool
cmd_place(CliCtx *ctx, const CliArgs *args, GError **error)
{
    const char *dom = cli_args_get_string(args, "domain");
    const char *rule = cli_args_get_string(args, "cell-rule");
    json_object *params = json_object_new_object();
    g_autoptr(json_object) result = NULL;
    g_autoptr(CliTable) t = cli_table_new();
    g_autofree char *shown = cli_format_text(dom);
    g_autofree char *text = NULL;
    json_object *cs;
    size_t n;
    const char *chosen;

    json_object_object_add(params, "domain", json_object_new_string(dom));
    if (rule) {
        json_object_object_add(params, "rule", json_object_new_string(rule));
    }
    result = cli_call(ctx, "place", params, error,
                      "failed to place a shadow of '%s'", shown);
    if (!result) {
        return false;
    }
    if (ctx->json) {
        cli_print_json(ctx, result, false);
        return true;
    }
    g_free(shown);
    shown = cli_format_text(cli_json_string(result, "domain"));
    fprintf(ctx->out, "Shadow of '%s' (on %s, cell %s; cell rule %s)\n", shown,
            cli_json_string(result, "host"),
            cli_json_string(result, "cell") ? cli_json_string(result, "cell")
                                            : "-",
            cli_json_string(result, "rule"));
    cs = cli_json_array(result, "candidates");
    n = cs ? json_object_array_length(cs) : 0;
    cli_table_add_column(t, "Host", CLI_ALIGN_LEFT);
    cli_table_add_column(t, "Cell", CLI_ALIGN_LEFT);
    cli_table_add_column(t, "CPUs", CLI_ALIGN_RIGHT);
    cli_table_add_column(t, "Demand", CLI_ALIGN_RIGHT);
    cli_table_add_column(t, "Free after", CLI_ALIGN_RIGHT);
    cli_table_add_column(t, "Score", CLI_ALIGN_RIGHT);
    cli_table_add_column(t, "Why", CLI_ALIGN_LEFT);
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(cs, i);
        const char *cell = cli_json_string(c, "cell");

        cli_table_add_cell(t, cli_json_string(c, "host"));
        cli_table_add_cell(t, cell ? cell : "-");
        cli_table_add_cell_take(t, fmt_num(c, "cpus", 0));
        cli_table_add_cell_take(t, fmt_num(c, "cpu_demand", 2));
        cli_table_add_cell_take(t, fmt_num(c, "cpu_free", 2));
        cli_table_add_cell_take(t, fmt_num(c, "score", 2));
        cli_table_add_cell(t, cli_json_string(c, "reason"));
    }
    text = cli_table_render(t);
    fputs(text, ctx->out);
    chosen = cli_json_string(result, "chosen");
    fprintf(ctx->out, "%s: %s\n", chosen ? "Choice" : "No choice",
            cli_json_string(result, "reason"));
    return true;
}

static const char *const mode_choices[] = {"warm", "cold", NULL};

static const CliOptDef shadow_dom_opts[] = {
    {"domain", CLI_OPT_STRING, CLI_OPT_REQUIRED | CLI_OPT_POSITIONAL, "DOMAIN",
     "domain name or UUID", NULL},
    {NULL},
};

static const CliOptDef shadow_create_opts[] = {
    {"domain", CLI_OPT_STRING, CLI_OPT_REQUIRED | CLI_OPT_POSITIONAL, "DOMAIN",
     "domain name or UUID", NULL},
    {"cell", CLI_OPT_STRING, 0, "CELL", "put the shadow in this cell", NULL},
    {"mode", CLI_OPT_STRING, 0, "MODE",
     "warm (booted, then paused) or cold (staged, not started); default: "
     "shadow_mode",
     mode_choices},
    {"wait", CLI_OPT_DURATION, 0, "TIMEOUT",
     "wait until the shadow is ready or has failed (at most TIMEOUT)", NULL},
    {NULL},
};

static const CliOptDef shadow_retire_opts[] = {
    {"domain", CLI_OPT_STRING, CLI_OPT_REQUIRED | CLI_OPT_POSITIONAL, "DOMAIN",
     "domain name or UUID", NULL},
    {"wait", CLI_OPT_DURATION, 0, "TIMEOUT",
     "wait until the shadow is gone (at most TIMEOUT)", NULL},
    {NULL},
};

static const CliOptDef cutover_opts[] = {
    {"domain", CLI_OPT_STRING, CLI_OPT_REQUIRED | CLI_OPT_POSITIONAL, "DOMAIN",
     "domain name or UUID", NULL},
    {"now", CLI_OPT_BOOL, 0, NULL,
     "only onto a shadow that is ready now (fail otherwise)", NULL},
    {"wait", CLI_OPT_DURATION, 0, "TIMEOUT",
     "wait until the cutover is over (at most TIMEOUT)", NULL},
    {NULL},
};

static char *
fmt_mib(json_object *o, const char *key)
{
    return g_strdup_printf("%.1f MiB",
                           (double) cli_json_int(o, key) / (1024.0 * 1024.0));
}

static bool
rec_bool(json_object *o, const char *key)
{
    json_object *v = NULL;

    return json_object_object_get_ex(o, key, &v) &&
           json_object_is_type(v, json_type_boolean) &&
           json_object_get_boolean(v);
}

static const char *
or_dash(const char *s)
{
    return s ? s : "-";
}

static bool
cmd_shadow_list(CliCtx *ctx, const CliArgs *args, GError **error)
{
    g_autoptr(json_object) result =
        cli_call(ctx, "shadow-list", NULL, error, "failed to list shadows");
    g_autoptr(CliTable) t = cli_table_new();
    g_autofree char *text = NULL;
    json_object *a;
    size_t n;

    if (!result) {
        return false;
    }
    if (ctx->json) {
        cli_print_json(ctx, result, false);
        return true;
    }
    a = cli_json_array(result, "shadows");
    n = a ? json_object_array_length(a) : 0;
    cli_table_add_column(t, "Domain", CLI_ALIGN_LEFT);
    cli_table_add_column(t, "Shadow", CLI_ALIGN_LEFT);
    cli_table_add_column(t, "Host", CLI_ALIGN_LEFT);
    cli_table_add_column(t, "Cell", CLI_ALIGN_LEFT);
    cli_table_add_column(t, "State", CLI_ALIGN_LEFT);
    cli_table_add_column(t, "Mode", CLI_ALIGN_LEFT);
    cli_table_add_column(t, "Staged", CLI_ALIGN_RIGHT);
    cli_table_add_column(t, "Since", CLI_ALIGN_LEFT);
    cli_table_add_column(t, "Origin", CLI_ALIGN_LEFT);
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(a, i);

        cli_table_add_cell_take(t,
                                cli_format_text(cli_json_string(o, "domain")));
        cli_table_add_cell_take(t, cli_format_text(cli_json_string(o, "name")));
        cli_table_add_cell(t, or_dash(cli_json_string(o, "host")));
        cli_table_add_cell(t, or_dash(cli_json_string(o, "cell")));
        cli_table_add_cell(t, or_dash(cli_json_string(o, "state")));
        cli_table_add_cell(t, or_dash(cli_json_string(o, "mode")));
        cli_table_add_cell_take(t, fmt_mib(o, "bytes"));
        cli_table_add_cell_take(t, cli_format_time(cli_json_int(o, "since")));
        cli_table_add_cell(t, or_dash(cli_json_string(o, "origin")));
    }
    if (n == 0) {
        fprintf(ctx->out, "No shadows.\n");
        return true;
    }
    text = cli_table_render(t);
    fputs(text, ctx->out);
    return true;
}

static void
print_info(CliCtx *ctx, json_object *r)
{
    g_autoptr(CliKv) kv = cli_kv_new();
    g_autoptr(CliTable) dt = cli_table_new();
    g_autoptr(CliTable) jt = cli_table_new();
    g_autofree char *text = NULL;
    g_autofree char *dtext = NULL;
    g_autofree char *jtext = NULL;
    json_object *disks = cli_json_array(r, "disks");
    json_object *steps = cli_json_array(r, "journal");
    size_t nd = disks ? json_object_array_length(disks) : 0;
    size_t nj = steps ? json_object_array_length(steps) : 0;
    /* Once it moved, the shadow's host is the primary's home. */
    bool moved = g_strcmp0(cli_json_string(r, "state"), "promoted") == 0;
    const char *home = or_dash(cli_json_string(r, "primary_host"));

    cli_kv_add_take(
        kv, "Primary",
        g_strdup_printf("%s (%s) on %s%s%s",
                        or_dash(cli_json_string(r, "domain")),
                        or_dash(cli_json_string(r, "uuid")),
                        moved ? or_dash(cli_json_string(r, "host")) : home,
                        moved ? ", moved from " : "", moved ? home : ""));
    cli_kv_add(kv, "Shadow", or_dash(cli_json_string(r, "name")));
    cli_kv_add_take(kv, "Host",
                    g_strdup_printf("%s (cell %s)",
                                    or_dash(cli_json_string(r, "host")),
                                    or_dash(cli_json_string(r, "cell"))));
    cli_kv_add_take(kv, "State",
                    g_strdup_printf("%s%s",
                                    or_dash(cli_json_string(r, "state")),
                                    rec_bool(r, "busy") ? " (working)" : ""));
    cli_kv_add(kv, "Mode", or_dash(cli_json_string(r, "mode")));
    cli_kv_add(kv, "Origin", or_dash(cli_json_string(r, "origin")));
    cli_kv_add(kv, "Placement", or_dash(cli_json_string(r, "placement")));
    cli_kv_add_take(
        kv, "Staged",
        g_strdup_printf("%.1f MiB in %.1f s",
                        (double) cli_json_int(r, "bytes") / (1024.0 * 1024.0),
                        isfinite(cli_json_double(r, "stage_seconds"))
                            ? cli_json_double(r, "stage_seconds")
                            : 0.0));
    cli_kv_add_take(kv, "Created", cli_format_time(cli_json_int(r, "created")));
    cli_kv_add_take(kv, "Last needed",
                    cli_format_time(cli_json_int(r, "last_used")));
    if (cli_json_string(r, "error")) {
        cli_kv_add(kv, "Last error", cli_json_string(r, "error"));
    }
    if (cli_json_int(r, "failures") > 0) {
        g_autofree char *until =
            cli_format_time(cli_json_int(r, "backoff_until"));

        cli_kv_add_take(
            kv, "Failed cutovers",
            g_strdup_printf("%" G_GINT64_FORMAT
                            " in a row; no automatic cutover before %s",
                            cli_json_int(r, "failures"), until));
    }
    if (cli_json_string(r, "note")) {
        cli_kv_add(kv, "Note", cli_json_string(r, "note"));
    }
    text = cli_kv_render(kv, 0);
    fputs(text, ctx->out);
    if (nd) {
        cli_table_add_column(dt, "Disk", CLI_ALIGN_LEFT);
        cli_table_add_column(dt, "Staged copy", CLI_ALIGN_LEFT);
        cli_table_add_column(dt, "Shadow's overlay", CLI_ALIGN_LEFT);
        cli_table_add_column(dt, "Copied", CLI_ALIGN_RIGHT);
        for (size_t i = 0; i < nd; i++) {
            json_object *d = json_object_array_get_idx(disks, i);

            cli_table_add_cell(dt, or_dash(cli_json_string(d, "target")));
            cli_table_add_cell(dt, or_dash(cli_json_string(d, "base")));
            cli_table_add_cell(dt, or_dash(cli_json_string(d, "path")));
            cli_table_add_cell_take(dt, fmt_mib(d, "bytes"));
        }
        dtext = cli_table_render(dt);
        fputs("\n", ctx->out);
        fputs(dtext, ctx->out);
    }
    if (nj) {
        cli_table_add_column(jt, "Time", CLI_ALIGN_LEFT);
        cli_table_add_column(jt, "From", CLI_ALIGN_LEFT);
        cli_table_add_column(jt, "To", CLI_ALIGN_LEFT);
        cli_table_add_column(jt, "Event", CLI_ALIGN_LEFT);
        cli_table_add_column(jt, "Detail", CLI_ALIGN_LEFT);
        for (size_t i = 0; i < nj; i++) {
            json_object *st = json_object_array_get_idx(steps, i);

            cli_table_add_cell_take(jt,
                                    cli_format_time(cli_json_int(st, "time")));
            cli_table_add_cell(jt, or_dash(cli_json_string(st, "from")));
            cli_table_add_cell(jt, or_dash(cli_json_string(st, "to")));
            cli_table_add_cell(jt, or_dash(cli_json_string(st, "event")));
            cli_table_add_cell(jt, or_dash(cli_json_string(st, "detail")));
        }
        jtext = cli_table_render(jt);
        fputs("\nJournal:\n", ctx->out);
        fputs(jtext, ctx->out);
    }
}

static json_object *
shadow_call(CliCtx *ctx, const char *method, const char *dom, GError **error)
{
    json_object *params = json_object_new_object();
    g_autofree char *shown = cli_format_text(dom);

    json_object_object_add(params, "domain", json_object_new_string(dom));
    return cli_call(ctx, method, params, error, "%s of '%s' failed", method,
                    shown);
}

static bool
cmd_shadow_info(CliCtx *ctx, const CliArgs *args, GError **error)
{
    g_autoptr(json_object) r = shadow_call(
        ctx, "shadow-info", cli_args_get_string(args, "domain"), error);

    if (!r) {
        return false;
    }
    if (ctx->json) {
        cli_print_json(ctx, r, false);
    } else {
        print_info(ctx, r);
    }
    return true;
}

/*
 * Polls shadow-info until the shadow of @dom is in one of @states (a
 * space-separated list) and no job runs on it, or @timeout_s passes.
 * Returns: the last record, or NULL with @error.
 */
static json_object *
wait_for(CliCtx *ctx, const char *dom, const char *states, int64_t timeout_s,
         GError **error)
{
    int64_t deadline = util_clock_mono() + timeout_s * G_USEC_PER_SEC;

    for (;;) {
        json_object *r = shadow_call(ctx, "shadow-info", dom, error);
        g_autofree char *key = NULL;
        const char *st;

        if (!r) {
            return NULL;
        }
        st = or_dash(cli_json_string(r, "state"));
        key = g_strdup_printf(" %s ", st);
        /* A promoted shadow's job is housekeeping (the block pull). */
        if (!rec_bool(r, "busy") || strcmp(st, "promoted") == 0) {
            g_autofree char *all = g_strdup_printf(" %s ", states);

            if (strstr(all, key)) {
                return r;
            }
        }
        if (util_clock_mono() >= deadline) {
            g_set_error(error, CLI_ERROR, CLI_ERROR_FAILED,
                        "the shadow of '%s' is still %s after %" G_GINT64_FORMAT
                        " s",
                        dom, st, timeout_s);
            json_object_put(r);
            return NULL;
        }
        json_object_put(r);
        if (!cli_wait_ms(200)) {
            g_set_error(error, CLI_ERROR, CLI_ERROR_FAILED, "interrupted");
            return NULL;
        }
    }
}

static bool
cmd_shadow_create(CliCtx *ctx, const CliArgs *args, GError **error)
{
    const char *dom = cli_args_get_string(args, "domain");
    const char *cell = cli_args_get_string(args, "cell");
    const char *mode = cli_args_get_string(args, "mode");
    json_object *params = json_object_new_object();
    g_autoptr(json_object) r = NULL;
    g_autoptr(json_object) done = NULL;
    g_autofree char *shown = cli_format_text(dom);
    const char *st;

    json_object_object_add(params, "domain", json_object_new_string(dom));
    if (cell) {
        json_object_object_add(params, "cell", json_object_new_string(cell));
    }
    if (mode) {
        json_object_object_add(params, "mode", json_object_new_string(mode));
    }
    r = cli_call(ctx, "shadow-create", params, error,
                 "failed to create a shadow of '%s'", shown);
    if (!r) {
        return false;
    }
    if (!cli_args_has(args, "wait")) {
        if (ctx->json) {
            cli_print_json(ctx, r, false);
        } else {
            fprintf(ctx->out, "Staging %s on %s (cell %s): %s\n",
                    cli_json_string(r, "name"), cli_json_string(r, "host"),
                    or_dash(cli_json_string(r, "cell")),
                    or_dash(cli_json_string(r, "placement")));
        }
        return true;
    }
    done = wait_for(ctx, dom, "warm cold retired",
                    cli_args_get_int(args, "wait", 600), error);
    if (!done) {
        return false;
    }
    st = cli_json_string(done, "state");
    if (ctx->json) {
        cli_print_json(ctx, done, false);
    } else {
        print_info(ctx, done);
    }
    if (g_strcmp0(st, "retired") == 0) {
        g_set_error(error, CLI_ERROR, CLI_ERROR_FAILED,
                    "staging the shadow of '%s' failed: %s", shown,
                    or_dash(cli_json_string(done, "error")));
        return false;
    }
    return true;
}

static bool
cmd_cutover(CliCtx *ctx, const CliArgs *args, GError **error)
{
    const char *dom = cli_args_get_string(args, "domain");
    json_object *params = json_object_new_object();
    g_autoptr(json_object) r = NULL;
    g_autoptr(json_object) done = NULL;
    g_autofree char *shown = cli_format_text(dom);
    json_object *c = NULL;
    const char *st;

    json_object_object_add(params, "domain", json_object_new_string(dom));
    json_object_object_add(params, "now",
                           json_object_new_boolean(cli_args_has(args, "now")));
    r = cli_call(ctx, "cutover", params, error, "cutover of '%s' failed",
                 shown);
    if (!r) {
        return false;
    }
    if (!cli_args_has(args, "wait")) {
        if (ctx->json) {
            cli_print_json(ctx, r, false);
        } else {
            fprintf(ctx->out, "%s: moving %s onto %s (%s)\n",
                    cli_json_string(r, "state"), shown,
                    or_dash(cli_json_string(r, "host")),
                    cli_json_string(r, "state") &&
                            strcmp(cli_json_string(r, "state"), "staging") == 0
                        ? "as soon as its shadow is staged"
                        : "migrating now");
        }
        return true;
    }
    done = wait_for(ctx, dom, "promoted warm cold retired",
                    cli_args_get_int(args, "wait", 600), error);
    if (!done) {
        return false;
    }
    st = cli_json_string(done, "state");
    if (ctx->json) {
        cli_print_json(ctx, done, false);
    } else if (json_object_object_get_ex(done, "cutover", &c) &&
               g_strcmp0(st, "promoted") == 0) {
        json_object *dt = NULL;
        bool known = json_object_object_get_ex(c, "downtime_ms", &dt) && dt;
        g_autofree char *line = cutover_summary(&(CutoverFigures){
            .domain = shown,
            .host = cli_json_string(done, "host"),
            .memory_bytes = (uint64_t) MAX(cli_json_int(c, "memory_bytes"), 0),
            .disk_bytes = (uint64_t) MAX(cli_json_int(c, "disk_bytes"), 0),
            .total_ms = cli_json_int(c, "total_ms"),
            .downtime_ms = known ? json_object_get_int64(dt) : -1,
            .postcopy = rec_bool(c, "postcopy"),
            .passes = (int) cli_json_int(c, "iterations"),
            .postcopy_at_ms = cli_json_int(c, "postcopy_at_ms"),
        });

        fprintf(ctx->out, "%s\n", line);
    }
    if (g_strcmp0(st, "promoted") != 0) {
        g_set_error(error, CLI_ERROR, CLI_ERROR_FAILED,
                    "the cutover of '%s' did not happen (shadow %s): %s", shown,
                    or_dash(st), or_dash(cli_json_string(done, "error")));
        return false;
    }
    return true;
}

static bool
cmd_shadow_retire(CliCtx *ctx, const CliArgs *args, GError **error)
{
    const char *dom = cli_args_get_string(args, "domain");
    g_autoptr(json_object) r = shadow_call(ctx, "shadow-retire", dom, error);
    g_autoptr(json_object) done = NULL;

    if (!r) {
        return false;
    }
    if (cli_args_has(args, "wait")) {
        done = wait_for(ctx, dom, "retired",
                        cli_args_get_int(args, "wait", 600), error);
        if (!done) {
            return false;
        }
    }
    if (ctx->json) {
        cli_print_json(ctx, done ? done : r, false);
    } else {
        fprintf(ctx->out, "%s %s\n", cli_json_string(r, "name"),
                done ? "retired" : "retiring");
    }
    return true;
}

const CliCmdDef cli_shadow_cmds[] = {
    {"place", cmd_place, place_opts, "show where a shadow of a domain would go",
     "Assesses every host as the home of a shadow of DOMAIN, the way umbrad "
     "would: never the domain's own host, only reachable hosts, another cell "
     "(preferred, or required with --cell-rule required), no host that "
     "already holds a member of the domain's service group ([group:NAME] in "
     "the configuration), and room for the domain's vCPUs and memory on top "
     "of the host's forecast demand (the 95% upper bound over the next "
     "hour) and reservations.  Shows each host's capacity, demand, what "
     "would be left, its score and the reason, and the choice.  Nothing is "
     "reserved or created."},
    {"shadow-list", cmd_shadow_list, NULL, "list the shadows",
     "Lists every shadow that is not retired: its primary, its domain "
     "(PRIMARY~shadow), host and cell, state (staging, warm, cold, active, "
     "retiring), mode, the bytes staged, since when it is in its state, and "
     "who asked for it (operator or risk)."},
    {"shadow-info", cmd_shadow_info, shadow_dom_opts,
     "show a domain's shadow and its journal",
     "Shows the shadow of DOMAIN (also the last one, once retired): where it "
     "is and why, its state, its staged disks (the staged copy and the "
     "shadow's own overlay on the shadow's host), the last error, and its "
     "journal of transitions as umbrad stored them."},
    {"shadow-create", cmd_shadow_create, shadow_create_opts,
     "stage a shadow of a domain on another host",
     "Places a shadow of the running DOMAIN the way `place` explains "
     "(optionally only in --cell CELL), reserves its room there, and stages "
     "it: an atomic disk-only snapshot makes the domain's disks read-only "
     "backing files (the staging point), they are copied to the target's "
     "storage pool (shadow_pool), and the shadow DOMAIN~shadow is defined "
     "there with new UUID and MAC addresses and its links down; a warm "
     "shadow is booted, then paused.  Returns once staging has started; "
     "--wait waits until the shadow is ready (exit status 1 if staging "
     "failed; nothing is left behind then)."},
    {"shadow-retire", cmd_shadow_retire, shadow_retire_opts,
     "remove a domain's shadow",
     "Retires the shadow of DOMAIN: its domain and volumes are removed from "
     "its host, the primary's staging overlay is committed back into its "
     "disk, and the reservation is released.  A shadow still staging stops "
     "and is undone.  --wait waits until it is gone."},
    {"cutover", cmd_cutover, cutover_opts,
     "move a domain onto its shadow's host by live migration",
     "Live-migrates DOMAIN onto the host of its shadow, peer to peer: the "
     "domain's disks land on overlays made at staging "
     "over the staged copies, so only what changed since staging crosses "
     "the wire (an incremental storage copy), with auto-converge, xbzrle, "
     "multifd or post-copy as its dirty-page rate asks.  With no shadow "
     "ready, one is staged first and the cutover follows; --now refuses "
     "instead.  A failed or timed-out migration leaves the domain running "
     "where it was, its shadow untouched, and backs off.  After a move, "
     "umbrad removes the shadow and pulls the staged data into the "
     "domain's new disk in the background.  --wait waits for the outcome "
     "and prints the bytes sent, time and downtime."},
    {NULL},
};
