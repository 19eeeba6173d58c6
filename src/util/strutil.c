/*
 * util/strutil.c: parsing of durations and integers, human-readable sizes.
 */
#include "util/strutil.h"

#include <errno.h>
#include <stdlib.h>

bool
util_parse_int64(const char *str, int64_t *ret)
{
    char *end = NULL;
    long long v;

    if (!str) {
        return false;
    }
    while (g_ascii_isspace(*str)) {
        str++;
    }
    if (!*str) {
        return false;
    }
    errno = 0;
    v = strtoll(str, &end, 10);
    if (errno != 0 || end == str) {
        return false;
    }
    while (g_ascii_isspace(*end)) {
        end++;
    }
    if (*end) {
        return false;
    }
    *ret = v;
    return true;
}

bool
util_parse_duration(const char *str, int64_t *ret_seconds)
{
    g_autofree char *copy = NULL;
    size_t len;
    int64_t mult = 1;
    int64_t v;

    if (!str) {
        return false;
    }
    copy = g_strstrip(g_strdup(str));
    len = strlen(copy);
    if (len == 0) {
        return false;
    }
    switch (copy[len - 1]) {
    case 's':
        mult = 1;
        break;
    case 'm':
        mult = 60;
        break;
    case 'h':
        mult = 3600;
        break;
    case 'd':
        mult = 86400;
        break;
    default:
        mult = 0;
        break;
    }
    if (mult) {
        copy[len - 1] = '\0';
    } else {
        mult = 1;
    }
    if (!util_parse_int64(copy, &v) || v < 0 || v > G_MAXINT64 / mult) {
        return false;
    }
    *ret_seconds = v * mult;
    return true;
}

char *
util_format_kib(uint64_t kib)
{
    static const char *units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double) kib;
    size_t i = 0;

    while (v >= 1024.0 && i + 1 < G_N_ELEMENTS(units)) {
        v /= 1024.0;
        i++;
    }
    if (i == 0) {
        return g_strdup_printf("%" G_GUINT64_FORMAT " KiB", kib);
    }
    return g_strdup_printf("%.1f %s", v, units[i]);
}

char *
util_format_rate(double bytes_per_sec)
{
    static const char *units[] = {"B/s", "KiB/s", "MiB/s", "GiB/s"};
    double v = bytes_per_sec;
    size_t i = 0;

    if (v < 0) {
        v = 0;
    }
    while (v >= 1024.0 && i + 1 < G_N_ELEMENTS(units)) {
        v /= 1024.0;
        i++;
    }
    return g_strdup_printf(i == 0 ? "%.0f %s" : "%.1f %s", v, units[i]);
}
