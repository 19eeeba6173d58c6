/*
 * cli/format.c: tables, key/value blocks and value formatters for
 * umbractl's text output (see format.h).
 *
 * A table keeps every cell as sanitised text; rendering makes one pass
 * to measure each column (in characters, the text being UTF-8) and one
 * to print, so the cost is linear in the size of the output.  Tables
 * are at most a few thousand rows (one per domain), so everything is
 * built in memory and printed at once.
 */
#include "cli/format.h"

#include <math.h>
#include <string.h>

#include "model/json.h"
#include "util/clock.h"
#include "util/strutil.h"

#define TABLE_GAP 3 /* blanks between columns */

typedef struct {
    char *header;   /* column title */
    CliAlign align; /* left for text, right for numbers */
} TableColumn;

struct CliTable {
    GArray *columns;  /* TableColumn */
    GPtrArray *cells; /* char*, row-major, sanitised */
};

struct CliKv {
    GPtrArray *keys;   /* char* */
    GPtrArray *values; /* char*, sanitised */
};

static void
table_column_clear(gpointer p)
{
    TableColumn *c = p;

    g_free(c->header);
}

CliTable *
cli_table_new(void)
{
    CliTable *t = g_new0(CliTable, 1);

    t->columns = g_array_new(FALSE, TRUE, sizeof(TableColumn));
    g_array_set_clear_func(t->columns, table_column_clear);
    t->cells = g_ptr_array_new_with_free_func(g_free);
    return t;
}

void
cli_table_free(CliTable *table)
{
    if (!table) {
        return;
    }
    if (table->columns) {
        g_array_unref(table->columns);
    }
    if (table->cells) {
        g_ptr_array_unref(table->cells);
    }
    g_free(table);
}

void
cli_table_add_column(CliTable *table, const char *header, CliAlign align)
{
    TableColumn c = {.header = cli_format_text(header), .align = align};

    g_return_if_fail(table->cells->len == 0);
    g_array_append_val(table->columns, c);
}

void
cli_table_add_cell_take(CliTable *table, char *text)
{
    g_autofree char *owned = text;

    g_return_if_fail(table->columns->len > 0);
    g_ptr_array_add(table->cells, cli_format_text(owned));
}

void
cli_table_add_cell(CliTable *table, const char *text)
{
    cli_table_add_cell_take(table, g_strdup(text));
}

guint
cli_table_get_rows(const CliTable *table)
{
    guint ncols = table->columns->len;

    if (ncols == 0) {
        return 0;
    }
    return (table->cells->len + ncols - 1) / ncols;
}

/* Returns: the display width of sanitised @s, in characters. */
static size_t
text_width(const char *s)
{
    return (size_t) g_utf8_strlen(s, -1);
}

static void
append_padded(GString *out, const char *s, size_t width, CliAlign align,
              bool last)
{
    size_t w = text_width(s);
    size_t pad = width > w ? width - w : 0;

    if (align == CLI_ALIGN_RIGHT) {
        for (size_t i = 0; i < pad; i++) {
            g_string_append_c(out, ' ');
        }
        g_string_append(out, s);
        return;
    }
    g_string_append(out, s);
    if (!last) {
        for (size_t i = 0; i < pad; i++) {
            g_string_append_c(out, ' ');
        }
    }
}

/* Removes the blanks at the end of @out back to its last newline. */
static void
trim_line_end(GString *out)
{
    while (out->len > 0 && out->str[out->len - 1] == ' ') {
        g_string_truncate(out, out->len - 1);
    }
}

char *
cli_table_render(const CliTable *table)
{
    guint ncols = table->columns->len;
    guint nrows = cli_table_get_rows(table);
    g_autofree size_t *width = g_new0(size_t, MAX(ncols, 1));
    GString *out = g_string_new(NULL);
    size_t total = 0;

    for (guint c = 0; c < ncols; c++) {
        width[c] =
            text_width(g_array_index(table->columns, TableColumn, c).header);
    }
    for (guint i = 0; i < table->cells->len; i++) {
        size_t w = text_width(g_ptr_array_index(table->cells, i));

        width[i % ncols] = MAX(width[i % ncols], w);
    }
    if (nrows * ncols > table->cells->len) {
        width[ncols - 1] = MAX(width[ncols - 1], 1);
    }
    for (guint c = 0; c < ncols; c++) {
        total += width[c] + (c ? TABLE_GAP : 0);
    }

    for (int row = -1; row < (int) nrows; row++) {
        g_string_append_c(out, ' ');
        for (guint c = 0; c < ncols; c++) {
            const TableColumn *col =
                &g_array_index(table->columns, TableColumn, c);
            guint idx = (guint) row * ncols + c;
            const char *s;

            if (row < 0) {
                s = col->header;
            } else if (idx < table->cells->len) {
                s = g_ptr_array_index(table->cells, idx);
            } else {
                s = "-";
            }
            if (c) {
                g_string_append(out, "   ");
            }
            append_padded(out, s, width[c], col->align, c + 1 == ncols);
        }
        trim_line_end(out);
        g_string_append_c(out, '\n');
        if (row < 0) {
            for (size_t i = 0; i < total + 2; i++) {
                g_string_append_c(out, '-');
            }
            g_string_append_c(out, '\n');
        }
    }
    return g_string_free(out, FALSE);
}

CliKv *
cli_kv_new(void)
{
    CliKv *kv = g_new0(CliKv, 1);

    kv->keys = g_ptr_array_new_with_free_func(g_free);
    kv->values = g_ptr_array_new_with_free_func(g_free);
    return kv;
}

void
cli_kv_free(CliKv *kv)
{
    if (!kv) {
        return;
    }
    if (kv->keys) {
        g_ptr_array_unref(kv->keys);
    }
    if (kv->values) {
        g_ptr_array_unref(kv->values);
    }
    g_free(kv);
}

void
cli_kv_add_take(CliKv *kv, const char *key, char *value)
{
    g_autofree char *owned = value;

    g_ptr_array_add(kv->keys, cli_format_text(key));
    g_ptr_array_add(kv->values, cli_format_text(owned));
}

void
cli_kv_add(CliKv *kv, const char *key, const char *value)
{
    cli_kv_add_take(kv, key, g_strdup(value));
}

char *
cli_kv_render(const CliKv *kv, int indent)
{
    GString *out = g_string_new(NULL);
    size_t width = 0;

    for (guint i = 0; i < kv->keys->len; i++) {
        width = MAX(width, text_width(g_ptr_array_index(kv->keys, i)));
    }
    for (guint i = 0; i < kv->keys->len; i++) {
        const char *key = g_ptr_array_index(kv->keys, i);

        g_string_append_printf(out, "%*s%s:", MAX(indent, 0), "", key);
        for (size_t p = text_width(key); p < width + 1; p++) {
            g_string_append_c(out, ' ');
        }
        g_string_append_printf(out, "%s\n",
                               (const char *) g_ptr_array_index(kv->values, i));
    }
    return g_string_free(out, FALSE);
}

char *
cli_format_text(const char *s)
{
    g_autofree char *valid = NULL;
    GString *out;

    if (!s || !*s) {
        return g_strdup("-");
    }
    valid = g_utf8_make_valid(s, -1);
    out = g_string_sized_new(strlen(valid));
    for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);

        if (g_unichar_iscntrl(c)) {
            g_string_append_c(out, '?');
        } else {
            g_string_append_unichar(out, c);
        }
    }
    return g_string_free(out, FALSE);
}

char *
cli_format_pct(double pct)
{
    if (!isfinite(pct)) {
        return g_strdup("-");
    }
    return g_strdup_printf("%.1f", pct);
}

char *
cli_format_kib(int64_t kib)
{
    if (kib < 0) {
        return g_strdup("-");
    }
    return util_format_kib((uint64_t) kib);
}

char *
cli_format_kib_pair(int64_t a, int64_t b)
{
    g_autofree char *sa = cli_format_kib(a);
    g_autofree char *sb = cli_format_kib(b);

    return g_strdup_printf("%s / %s", sa, sb);
}

char *
cli_format_metric(const char *metric, double v)
{
    if (!isfinite(v)) {
        return g_strdup("-");
    }
    if (strcmp(metric, "cpu") == 0) {
        return cli_format_pct(v);
    }
    if (strcmp(metric, "mem") == 0) {
        return cli_format_kib((int64_t) v);
    }
    return cli_format_rate(v);
}

char *
cli_format_rate(double bytes_per_sec)
{
    if (!isfinite(bytes_per_sec)) {
        return g_strdup("-");
    }
    return util_format_rate(bytes_per_sec);
}

char *
cli_format_per_sec(double per_sec)
{
    if (!isfinite(per_sec)) {
        return g_strdup("-");
    }
    if (per_sec >= 100 || per_sec == floor(per_sec)) {
        return g_strdup_printf("%.0f/s", per_sec);
    }
    return g_strdup_printf("%.1f/s", per_sec);
}

char *
cli_format_time(int64_t wall_us)
{
    if (wall_us <= 0) {
        return g_strdup("-");
    }
    return util_time_format_wall(wall_us);
}

char *
cli_format_count(int64_t v)
{
    if (v < 0) {
        return g_strdup("-");
    }
    return g_strdup_printf("%" G_GINT64_FORMAT, v);
}

char *
cli_format_duration(int64_t seconds)
{
    static const struct {
        int64_t secs; /* length of the unit */
        char suffix;  /* its letter */
    } units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
    GString *out;

    if (seconds < 0) {
        return g_strdup("-");
    }
    if (seconds == 0) {
        return g_strdup("0s");
    }
    out = g_string_new(NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(units); i++) {
        int64_t n = seconds / units[i].secs;

        seconds %= units[i].secs;
        if (n) {
            g_string_append_printf(out, "%s%" G_GINT64_FORMAT "%c",
                                   out->len ? " " : "", n, units[i].suffix);
        }
    }
    return g_string_free(out, FALSE);
}

int64_t
cli_json_int(json_object *obj, const char *key)
{
    return model_json_get_int(obj, key, -1);
}

double
cli_json_double(json_object *obj, const char *key)
{
    return model_json_get_double(obj, key);
}

const char *
cli_json_string(json_object *obj, const char *key)
{
    return model_json_get_string(obj, key);
}

json_object *
cli_json_array(json_object *obj, const char *key)
{
    json_object *v = NULL;

    if (!obj || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_array)) {
        return NULL;
    }
    return v;
}
