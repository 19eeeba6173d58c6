/*
 * tests/unit/test-shadow-fsm.c: the shadow lifecycle against a golden
 * transcript (tests/data/shadow/lifecycle.{script,golden}), the way OVS
 * tests/reconnect.at drives its FSM: every allowed transition, every
 * refusal, idleness; and the migration plan (shadow/plan.h).
 */
#include "shadow/fsm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutest.h"
#include "shadow/plan.h"

#define SEC G_GINT64_CONSTANT(1000000)

static char *
run_script(const char *script)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_auto(GStrv) lines = g_strsplit(script, "\n", -1);
    ShadowFsm f;

    shadow_fsm_init(&f, 0);
    g_string_append(out, "0 new: staging\n");
    for (char **l = lines; *l; l++) {
        g_auto(GStrv) w = NULL;
        int64_t t;

        if (!**l || **l == '#') {
            continue;
        }
        w = g_strsplit(*l, " ", -1);
        if (strcmp(w[0], "new") == 0) {
            t = g_ascii_strtoll(w[1], NULL, 10) * SEC;
            shadow_fsm_init(&f, t);
            g_string_append_printf(out, "%s new: staging\n", w[1]);
            continue;
        }
        t = g_ascii_strtoll(w[0], NULL, 10) * SEC;
        if (strcmp(w[1], "idle") == 0) {
            int64_t idle = g_ascii_strtoll(w[2], NULL, 10) * SEC;

            g_string_append_printf(out, "%s idle %s: %s\n", w[0], w[2],
                                   shadow_fsm_idle(&f, t, idle) ? "yes" : "no");
        } else if (strcmp(w[1], "touch") == 0) {
            shadow_fsm_touch(&f, t);
            g_string_append_printf(out, "%s touch: %s\n", w[0],
                                   shadow_state_to_string(f.state));
        } else {
            int ev = shadow_event_from_string(w[1]);
            ShadowState from = f.state;

            if (ev < 0) {
                g_string_append_printf(out, "%s %s: unknown event\n", w[0],
                                       w[1]);
            } else if (shadow_fsm_step(&f, ev, t)) {
                g_string_append_printf(
                    out, "%s %s: %s -> %s%s\n", w[0], w[1],
                    shadow_state_to_string(from),
                    shadow_state_to_string(f.state),
                    shadow_state_is_final(f.state) ? " (final)" : "");
                CU_ASSERT_EQUAL(f.since, t);
            } else {
                CU_ASSERT_EQUAL(f.state, from);
                g_string_append_printf(out, "%s %s: refused in %s\n", w[0],
                                       w[1], shadow_state_to_string(from));
            }
        }
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
test_golden(void)
{
    const char *dir = g_getenv("UMBRA_SHADOW_DATA");
    g_autofree char *sp = g_build_filename(dir, "lifecycle.script", NULL);
    g_autofree char *gp = g_build_filename(dir, "lifecycle.golden", NULL);
    g_autofree char *script = NULL;
    g_autofree char *golden = NULL;
    g_autofree char *got = NULL;

    CU_ASSERT_FATAL(dir != NULL);
    CU_ASSERT_FATAL(g_file_get_contents(sp, &script, NULL, NULL));
    CU_ASSERT_FATAL(g_file_get_contents(gp, &golden, NULL, NULL));
    got = run_script(script);
    if (strcmp(got, golden) != 0) {
        fprintf(stderr, "\n--- transcript ---\n%s--- golden ---\n%s", got,
                golden);
    }
    CU_ASSERT_STRING_EQUAL(got, golden);
}

static void
test_names(void)
{
    for (int i = 0; i < SHADOW_STATE_LAST; i++) {
        CU_ASSERT_EQUAL(shadow_state_from_string(shadow_state_to_string(i)), i);
    }
    for (int i = 0; i < SHADOW_EVENT_LAST; i++) {
        CU_ASSERT_EQUAL(shadow_event_from_string(shadow_event_to_string(i)), i);
    }
    CU_ASSERT_STRING_EQUAL(shadow_state_to_string(99), "unknown");
    CU_ASSERT_EQUAL(shadow_state_from_string(NULL), -1);
}

static void
test_bad_event(void)
{
    ShadowFsm f;

    shadow_fsm_init(&f, 5);
    CU_ASSERT_FALSE(shadow_fsm_step(&f, (ShadowEvent) 77, 6));
    CU_ASSERT_FALSE(shadow_fsm_step(&f, (ShadowEvent) -1, 6));
    CU_ASSERT_EQUAL(f.state, SHADOW_STATE_STAGING);
    CU_ASSERT_EQUAL(f.since, 5);
}

/* The migration plan follows the dirty rate against the link. */
static void
test_migration_plan(void)
{
    ShadowMigrationPlan p;

    /* 128 MiB, idle, 100 MiB/s: plain pre-copy, 1.28 s + the disk. */
    shadow_migration_plan(128, 0, 10, 100, &p);
    CU_ASSERT_FALSE(p.xbzrle || p.auto_converge || p.postcopy);
    CU_ASSERT_EQUAL(p.multifd, 0);
    CU_ASSERT_DOUBLE_EQUAL(p.seconds, 1.28 + 0.1, 1e-9);
    /* NaN dirty rate counts as unknown, not as a failure. */
    shadow_migration_plan(128, NAN, 0, 100, &p);
    CU_ASSERT_DOUBLE_EQUAL(p.seconds, 1.28, 1e-9);
    /* 20 %: xbzrle only; 30 %: and auto-converge; 60 %: and post-copy. */
    shadow_migration_plan(1024, 20, 0, 100, &p);
    CU_ASSERT_TRUE(p.xbzrle && !p.auto_converge && !p.postcopy);
    shadow_migration_plan(1024, 30, 0, 100, &p);
    CU_ASSERT_TRUE(p.xbzrle && p.auto_converge && !p.postcopy);
    CU_ASSERT_DOUBLE_EQUAL(p.seconds, 1024.0 / 70, 1e-9);
    shadow_migration_plan(1024, 60, 0, 100, &p);
    CU_ASSERT_TRUE(p.xbzrle && p.auto_converge && p.postcopy);
    /* Dirtier than the link: pre-copy cannot end. */
    shadow_migration_plan(1024, 150, 0, 100, &p);
    CU_ASSERT_TRUE(p.postcopy);
    CU_ASSERT_FALSE(isfinite(p.seconds));
    /* Large memory: multifd. */
    shadow_migration_plan(8192, 0, 0, 100, &p);
    CU_ASSERT_EQUAL(p.multifd, 4);
    /* Bad input. */
    shadow_migration_plan(128, 0, 0, 0, &p);
    CU_ASSERT_FALSE(isfinite(p.seconds));
    CU_ASSERT_PTR_NOT_NULL(p.why);
}

/* The automatic cutover rule. */
static void
test_cutover_due(void)
{
    /* Below the threshold: wait, whatever else. */
    CU_ASSERT_EQUAL(shadow_cutover_due(false, 0.4, 0.5, 600, 10, 0, 0),
                    SHADOW_CUTOVER_WAIT);
    CU_ASSERT_EQUAL(shadow_cutover_due(false, NAN, 0.5, 600, 10, 0, 0),
                    SHADOW_CUTOVER_WAIT);
    /* At it, with room (600 s ahead, 10 s to migrate): go. */
    CU_ASSERT_EQUAL(shadow_cutover_due(false, 0.5, 0.5, 600, 10, 0, 0),
                    SHADOW_CUTOVER_GO);
    /* Unknown time of trouble: go. */
    CU_ASSERT_EQUAL(shadow_cutover_due(false, 0.9, 0.5, INFINITY, 10, 0, 0),
                    SHADOW_CUTOVER_GO);
    CU_ASSERT_EQUAL(shadow_cutover_due(false, 0.9, 0.5, NAN, 10, 0, 0),
                    SHADOW_CUTOVER_GO);
    /* Trouble in 15 s (or now), a 10 s migration: late, still moving;
     * a migration that cannot end (post-copy) is late too. */
    CU_ASSERT_EQUAL(shadow_cutover_due(false, 0.9, 0.5, 15, 10, 0, 0),
                    SHADOW_CUTOVER_LATE);
    CU_ASSERT_EQUAL(shadow_cutover_due(false, 0.9, 0.5, 0, 10, 0, 0),
                    SHADOW_CUTOVER_LATE);
    CU_ASSERT_EQUAL(shadow_cutover_due(false, 0.9, 0.5, 600, INFINITY, 0, 0),
                    SHADOW_CUTOVER_LATE);
    /* A back-off running. */
    CU_ASSERT_EQUAL(shadow_cutover_due(false, 0.9, 0.5, 600, 10, 5, 10),
                    SHADOW_CUTOVER_BACKOFF);
    CU_ASSERT_EQUAL(shadow_cutover_due(false, 0.9, 0.5, 600, 10, 10, 10),
                    SHADOW_CUTOVER_GO);
    /* With the alarm on, a risk that dipped to 0.45 (0.8 x 0.5 = 0.4)
     * still moves; below 0.4 it does not. */
    CU_ASSERT_EQUAL(shadow_cutover_due(true, 0.45, 0.5, 600, 10, 0, 0),
                    SHADOW_CUTOVER_GO);
    CU_ASSERT_EQUAL(shadow_cutover_due(false, 0.45, 0.5, 600, 10, 0, 0),
                    SHADOW_CUTOVER_WAIT);
    CU_ASSERT_EQUAL(shadow_cutover_due(true, 0.39, 0.5, 600, 10, 0, 0),
                    SHADOW_CUTOVER_WAIT);
}

/* The alarm's hysteresis. */
static void
test_alarm(void)
{
    bool on = false;
    /* The risk of the demo's run: up, a dip while web1 idled, up. */
    const double p[] = {0.01, 0.57, 0.47, 0.45, 0.44, 0.56, 0.35, 0.45, 0.5};
    const bool want[] = {false, true,  true,  true, true,
                         true,  false, false, true};

    for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
        on = shadow_alarm_update(on, p[i], 0.5);
        CU_ASSERT_EQUAL(on, want[i]);
    }
    /* NaN and a bad threshold leave it as it was. */
    CU_ASSERT_TRUE(shadow_alarm_update(true, NAN, 0.5));
    CU_ASSERT_FALSE(shadow_alarm_update(false, NAN, 0.5));
    CU_ASSERT_TRUE(shadow_alarm_update(true, 0.1, 0));
}

static const CutestCase cases[] = {
    {"golden transcript", test_golden}, {"names", test_names},
    {"bad event", test_bad_event},      {"migration plan", test_migration_plan},
    {"cutover due", test_cutover_due},  {"alarm hysteresis", test_alarm},
};

CUTEST_MAIN("shadow-fsm", cases)
