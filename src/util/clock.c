/*
 * util/clock.c: monotonic and wall clocks, with a fake clock for tests.
 *
 * The fake clock is process-wide and guarded by atomics so that a test
 * can set it from the main thread while workers read it.
 */
#include "util/clock.h"

static gint fake_on;
static gint64 fake_mono;
static gint64 fake_wall;

int64_t
util_clock_mono(void)
{
    if (g_atomic_int_get(&fake_on)) {
        return fake_mono;
    }
    return g_get_monotonic_time();
}

int64_t
util_clock_wall(void)
{
    if (g_atomic_int_get(&fake_on)) {
        return fake_wall;
    }
    return g_get_real_time();
}

void
util_clock_set_fake(int64_t mono, int64_t wall)
{
    fake_mono = mono;
    fake_wall = wall;
    g_atomic_int_set(&fake_on, 1);
}

void
util_clock_advance_fake(int64_t usec)
{
    fake_mono += usec;
    fake_wall += usec;
}

void
util_clock_clear_fake(void)
{
    g_atomic_int_set(&fake_on, 0);
}

char *
util_time_format_wall(int64_t wall_us)
{
    g_autoptr(GDateTime) base =
        g_date_time_new_from_unix_local(wall_us / UTIL_USEC_PER_SEC);
    g_autoptr(GDateTime) dt = NULL;

    if (!base) {
        return g_strdup("-");
    }
    dt = g_date_time_add(base, wall_us % UTIL_USEC_PER_SEC);
    if (!dt) {
        return g_strdup("-");
    }
    g_autofree char *head = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S");
    g_autofree char *zone = g_date_time_format(dt, "%:z");

    return g_strdup_printf("%s.%03d%s", head,
                           (int) (g_date_time_get_microsecond(dt) / 1000),
                           zone);
}
