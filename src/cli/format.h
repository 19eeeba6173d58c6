/*
 * cli/format.h: text output of umbractl, separate from the RPC.
 *
 * CliTable renders virsh-style tables whose column widths come from
 * their content:
 *
 *    Name   Host       State     CPU%
 *   -----------------------------------
 *    web1   umbra-h1   running   12.5
 *
 * CliKv renders "key: value" blocks with aligned values.  Cells whose
 * value is unknown (NULL, JSON null, NaN) print as "-".  All text that
 * comes from the daemon is sanitised: control characters become '?',
 * so a domain name or an error message cannot move the cursor or
 * change the terminal's colours.
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/autoptr.h"

typedef enum {
    CLI_ALIGN_LEFT,  /* text */
    CLI_ALIGN_RIGHT, /* numbers */
    CLI_ALIGN_LAST
} CliAlign;

typedef struct CliTable CliTable;

/* Returns: (transfer full) an empty table without columns. */
CliTable *cli_table_new(void);
void cli_table_free(CliTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CliTable, cli_table_free)

/* Adds a column; all columns must be added before the first cell. */
void cli_table_add_column(CliTable *table, const char *header, CliAlign align);

/*
 * cli_table_add_cell:
 * @table: a table
 * @text: (nullable) the text; NULL or "" prints as "-"
 *
 * Appends a cell to the last row, or starts a new row when the last one
 * is full.
 */
void cli_table_add_cell(CliTable *table, const char *text);

/* As cli_table_add_cell(), taking @text (transfer full). */
void cli_table_add_cell_take(CliTable *table, char *text);

/* Returns: the number of complete and partial rows. */
guint cli_table_get_rows(const CliTable *table);

/*
 * cli_table_render:
 * @table: a table (a partial last row is padded with "-")
 *
 * Returns: (transfer full) the header, a dashed line and the rows, each
 * line ending in '\n' with no trailing blanks.
 */
char *cli_table_render(const CliTable *table);

typedef struct CliKv CliKv;

/* Returns: (transfer full) an empty key/value block. */
CliKv *cli_kv_new(void);
void cli_kv_free(CliKv *kv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CliKv, cli_kv_free)

/* Adds a line; @value (transfer full) (nullable) prints as "-" if NULL. */
void cli_kv_add_take(CliKv *kv, const char *key, char *value);
/* As cli_kv_add_take(), copying @value. */
void cli_kv_add(CliKv *kv, const char *key, const char *value);

/*
 * cli_kv_render:
 * @kv: a block
 * @indent: spaces before each key
 *
 * Returns: (transfer full) "KEY: VALUE" lines, values aligned.
 */
char *cli_kv_render(const CliKv *kv, int indent);

/* Returns: (transfer full) @s with control characters as '?' ("-" for
 * NULL or ""). */
char *cli_format_text(const char *s);

/* Returns: (transfer full) "12.5", or "-" for NaN. */
char *cli_format_pct(double pct);

/* Returns: (transfer full) "1.5 GiB" (util_format_kib), "-" if < 0. */
char *cli_format_kib(int64_t kib);

/* Returns: (transfer full) "78.1 MiB / 128.0 MiB"; either side "-" if
 * < 0. */
char *cli_format_kib_pair(int64_t a, int64_t b);

/* Returns: (transfer full) "12.3 KiB/s" (util_format_rate), "-" for NaN. */
char *cli_format_rate(double bytes_per_sec);

/* Returns: (transfer full) @v of the forecast metric @metric ("cpu",
 * "mem", "blk_rd", ...) the way umbractl shows that metric: a percentage,
 * KiB, or a rate; "-" when not finite. */
char *cli_format_metric(const char *metric, double v);

/* Returns: (transfer full) "3.5/s", "-" for NaN. */
char *cli_format_per_sec(double per_sec);

/* Returns: (transfer full) the local time (util_time_format_wall), or "-"
 * for a time <= 0. */
char *cli_format_time(int64_t wall_us);

/* Returns: (transfer full) "42", or "-" when @v < 0. */
char *cli_format_count(int64_t v);

/* Returns: (transfer full) "1h 2m 3s", "1h", "0s" for a duration in
 * seconds; "-" when negative. */
char *cli_format_duration(int64_t seconds);

/*
 * JSON accessors for the daemon's objects: they accept a missing key or
 * a JSON null and then return the "unknown" value of the formatters
 * above (-1 or NaN).
 */
int64_t cli_json_int(json_object *obj, const char *key);
double cli_json_double(json_object *obj, const char *key);
/* Returns: (transfer none) the string at @key, or NULL. */
const char *cli_json_string(json_object *obj, const char *key);
/* Returns: (transfer none) the array at @key, or NULL. */
json_object *cli_json_array(json_object *obj, const char *key);
