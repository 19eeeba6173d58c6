/*
 * util/strutil.h: small string and number helpers shared by every layer.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * util_parse_duration:
 * @str: "30", "30s", "5m", "2h", "7d" (plain number = seconds)
 * @ret_seconds: (out) the duration in seconds
 *
 * Returns: true on success; false (and @ret_seconds untouched) when @str
 * is not a non-negative duration.
 */
bool util_parse_duration(const char *str, int64_t *ret_seconds);

/*
 * util_parse_int64:
 * @str: a decimal integer, surrounding blanks allowed
 * @ret: (out) the value
 *
 * Returns: true on success; false (and @ret untouched) otherwise.
 */
bool util_parse_int64(const char *str, int64_t *ret);

/* Returns: (transfer full) a human-readable size, e.g. "1.5 GiB". */
char *util_format_kib(uint64_t kib);

/* Returns: (transfer full) a human-readable rate, e.g. "12.3 KiB/s". */
char *util_format_rate(double bytes_per_sec);
