/*
 * cli/cmd-place.c: "place", where a shadow of a domain would go and why
 * (docs/rpc.md method "place").
 */
#include <math.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/format.h"

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

const CliCmdDef cli_place_cmds[] = {
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
    {NULL},
};
