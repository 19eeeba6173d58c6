/*
 * tests/unit/test-shadow-fsm.c: the shadow lifecycle against a golden
 * transcript (tests/data/shadow/lifecycle.{script,golden}), the way OVS
 * tests/reconnect.at drives its FSM: every allowed transition, every
 * refusal, idleness.
 */
#include "shadow/fsm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutest.h"

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

static const CutestCase cases[] = {
    {"golden transcript", test_golden},
    {"names", test_names},
    {"bad event", test_bad_event},
};

CUTEST_MAIN("shadow-fsm", cases)
