/*
 * util/clock.h: the only place umbra reads the clock.
 *
 * One unit everywhere: int64_t microseconds.  Monotonic time drives
 * intervals and rate computations; wall-clock time (Unix epoch) is used
 * only for storage and display.  Tests override both with
 * util_clock_set_fake() so that no test ever sleeps.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#define UTIL_USEC_PER_SEC G_GINT64_CONSTANT(1000000)

/* Returns: microseconds of CLOCK_MONOTONIC (or the fake clock). */
int64_t util_clock_mono(void);

/* Returns: microseconds since the Unix epoch (or the fake clock). */
int64_t util_clock_wall(void);

/*
 * util_clock_set_fake:
 * @mono: fake monotonic time in microseconds
 * @wall: fake wall time in microseconds
 *
 * Makes util_clock_mono()/util_clock_wall() return these values until
 * util_clock_clear_fake() is called.  For tests only.
 */
void util_clock_set_fake(int64_t mono, int64_t wall);
void util_clock_advance_fake(int64_t usec);
void util_clock_clear_fake(void);

/*
 * util_time_format_wall:
 * @wall_us: wall time in microseconds since the epoch
 *
 * Returns: (transfer full) ISO 8601 local time with milliseconds, e.g.
 * "2026-11-22T12:01:02.345+00:00".
 */
char *util_time_format_wall(int64_t wall_us);
