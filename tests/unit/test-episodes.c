/*
 * tests/unit/test-episodes.c: overload episodes and the scoring of
 * alerts on them (tools/episodes.h), on hand-made series whose answers
 * are counted by hand.
 */
#include <math.h>

#include "cutest.h"
#include "tools/episodes.h"

#define N 80

static GArray *
episodes_of(const double *d, size_t *over, size_t *singles)
{
    GArray *eps = g_array_new(FALSE, FALSE, sizeof(Episode));

    episodes_find(d, 0, N, 1.0, eps, over, singles);
    return eps;
}

/* The episodes of demand 0.5 with overloads (capacity 1): a single
 * sample at 5 (too early and too short), a 2-sample run at 8 (too early
 * to score), runs at 30-32, 50-51 and 70-71. */
static GArray *
standard_episodes(size_t *over, size_t *singles)
{
    double d[N];

    for (size_t t = 0; t < N; t++) {
        d[t] = 0.5;
    }
    d[5] = 1.2;
    d[8] = d[9] = 1.3;
    d[30] = d[31] = d[32] = 1.1;
    d[50] = d[51] = 1.4;
    d[70] = d[71] = 1.2;
    return episodes_of(d, over, singles);
}

static void
test_find(void)
{
    size_t over, singles;
    g_autoptr(GArray) eps = NULL;
    const size_t start[] = {8, 30, 50, 70}, stop[] = {9, 32, 51, 71};

    eps = standard_episodes(&over, &singles);
    CU_ASSERT_EQUAL(over, 1 + 2 + 3 + 2 + 2);
    CU_ASSERT_EQUAL(singles, 1);
    CU_ASSERT_EQUAL_FATAL(eps->len, 4);
    for (guint i = 0; i < eps->len; i++) {
        Episode *e = &g_array_index(eps, Episode, i);

        CU_ASSERT_EQUAL(e->start, start[i]);
        CU_ASSERT_EQUAL(e->end, stop[i]);
        /* Scored from a whole horizon into the evaluation on. */
        CU_ASSERT_EQUAL(e->scored, start[i] >= EPISODES_HORIZON);
    }
}

/* Scored from exactly a horizon after the first evaluated sample on. */
static void
test_find_scored_edge(void)
{
    double d[N];
    g_autoptr(GArray) eps = g_array_new(FALSE, FALSE, sizeof(Episode));

    for (size_t t = 0; t < N; t++) {
        d[t] = 0.5;
    }
    d[13] = d[14] = 1.1; /* w0 + 11: not scored */
    d[26] = d[27] = 1.1; /* w0 + 12: scored */
    episodes_find(d, 2, N, 1.0, eps, NULL, NULL);
    CU_ASSERT_EQUAL_FATAL(eps->len, 2);
    CU_ASSERT_FALSE(g_array_index(eps, Episode, 0).scored);
    d[13] = d[14] = 0.5;
    g_array_set_size(eps, 0);
    episodes_find(d, 14, N, 1.0, eps, NULL, NULL);
    CU_ASSERT_EQUAL_FATAL(eps->len, 1);
    CU_ASSERT_TRUE(g_array_index(eps, Episode, 0).scored);
}

/*
 * Alerts (level 0.9 for one sample, threshold 0.5):
 *   at 27, 3 samples before the episode at 30: right, predicts it (15 min);
 *   at 50, the episode's first sample: late, not a prediction;
 *   at 40, 10 before the episode at 50: right, predicts it (50 min);
 *   at 15, no episode within 12 samples: a false alarm;
 *   at 57, 13 before the episode at 70: a false alarm, not a prediction;
 *   at 75, with less than a horizon of outcome left: not counted.
 */
static void
test_score(void)
{
    double p[N] = {0};
    g_autoptr(GArray) eps = NULL;
    EpisodesScore s;

    eps = standard_episodes(NULL, NULL);
    p[27] = p[50] = p[40] = p[15] = p[57] = p[75] = 0.9;
    episodes_score(p, 0, N, eps, 0.5, 0.8, 0, &s);
    CU_ASSERT_EQUAL(s.episodes, 3);
    CU_ASSERT_EQUAL(s.predicted, 2);
    CU_ASSERT_EQUAL(s.alerts, 4);
    CU_ASSERT_EQUAL(s.right, 2);
    CU_ASSERT_EQUAL(s.late, 1);
    CU_ASSERT_DOUBLE_EQUAL(s.recall, 2.0 / 3.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(s.precision, 0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(s.lead_min, (15.0 + 50.0) / 2, 1e-12);
    /* Standing the sample before: none (each alert lasted one sample). */
    CU_ASSERT_EQUAL(s.standing, 0);

    /* An alert 1 sample before still predicts (5 min); 0 does not. */
    p[49] = 0.9;
    p[40] = 0;
    episodes_score(p, 0, N, eps, 0.5, 0.8, 0, &s);
    CU_ASSERT_EQUAL(s.predicted, 2);
    CU_ASSERT_EQUAL(s.standing, 1);
    CU_ASSERT_DOUBLE_EQUAL(s.lead_min, (15.0 + 5.0) / 2, 1e-12);
}

/* One alert at a time, at the edges of the rules. */
static void
test_score_edges(void)
{
    g_autoptr(GArray) eps = NULL;
    EpisodesScore s;

    eps = standard_episodes(NULL, NULL);
    {
        /* At the episode's first sample: late, no prediction. */
        double p[N] = {[50] = 0.9};

        episodes_score(p, 0, N, eps, 0.5, 0.8, 0, &s);
        CU_ASSERT_EQUAL(s.predicted, 0);
        CU_ASSERT_EQUAL(s.late, 1);
        CU_ASSERT_EQUAL(s.alerts, 0);
    }
    {
        /* Exactly 12 samples (60 min) before the episode at 70: right. */
        double p[N] = {[58] = 0.9};

        episodes_score(p, 0, N, eps, 0.5, 0.8, 0, &s);
        CU_ASSERT_EQUAL(s.predicted, 1);
        CU_ASSERT_EQUAL(s.alerts, 1);
        CU_ASSERT_EQUAL(s.right, 1);
        CU_ASSERT_DOUBLE_EQUAL(s.lead_min, 60.0, 1e-12);
    }
    {
        /* 67 has its hour of outcome (67 + 12 < 80), 68 not: it still
         * predicts the episode at 70 but is no alert to count. */
        double p[N] = {[67] = 0.9};
        double q[N] = {[68] = 0.9};

        episodes_score(p, 0, N, eps, 0.5, 0.8, 0, &s);
        CU_ASSERT_EQUAL(s.alerts, 1);
        CU_ASSERT_EQUAL(s.right, 1);
        episodes_score(q, 0, N, eps, 0.5, 0.8, 0, &s);
        CU_ASSERT_EQUAL(s.alerts, 0);
        CU_ASSERT_EQUAL(s.predicted, 1);
    }
    {
        /* Standing: the level at the threshold the sample before. */
        double p[N] = {[29] = 0.5};

        episodes_score(p, 0, N, eps, 0.5, 0.8, 0, &s);
        CU_ASSERT_EQUAL(s.standing, 1);
    }
}

/* Hysteresis: a level wavering between 0.8 x the threshold and the
 * threshold raises one alert under umbrad's rule, one per rise with the
 * naive reference's (clear ratio 1); a hold-off drops the close ones. */
static void
test_rules(void)
{
    double p[N] = {0};
    g_autoptr(GArray) eps = NULL;
    EpisodesScore s;

    eps = standard_episodes(NULL, NULL);
    /* 20 .. 29: 0.6, 0.45, 0.6, 0.45, ... (0.45 >= 0.8 x 0.5). */
    for (size_t t = 20; t < 30; t++) {
        p[t] = t % 2 ? 0.45 : 0.6;
    }
    episodes_score(p, 0, N, eps, 0.5, 0.8, 0, &s);
    CU_ASSERT_EQUAL(s.alerts, 1);
    CU_ASSERT_EQUAL(s.right, 1); /* 20: the episode at 30 is 10 ahead */
    CU_ASSERT_EQUAL(s.predicted, 1);
    CU_ASSERT_EQUAL(s.standing, 0); /* 29 is 0.45 */
    episodes_score(p, 0, N, eps, 0.5, 1.0, 0, &s);
    CU_ASSERT_EQUAL(s.alerts, 5);
    CU_ASSERT_EQUAL(s.right, 5);
    CU_ASSERT_EQUAL(s.predicted, 1);
    /* 20 min hold-off: alerts at 20, 24 and 28. */
    episodes_score(p, 0, N, eps, 0.5, 1.0, 4 * EPISODES_STEP_S, &s);
    CU_ASSERT_EQUAL(s.alerts, 3);
    /* NaN leaves an alert as it is (far from episodes: false alarms). */
    for (size_t t = 20; t < 30; t++) {
        p[t] = 0;
    }
    p[15] = 0.6;
    p[16] = NAN;
    p[17] = 0.6;
    episodes_score(p, 0, N, eps, 0.5, 1.0, 0, &s);
    CU_ASSERT_EQUAL(s.alerts, 1);
    CU_ASSERT_EQUAL(s.right, 0);
    /* ... and opens none. */
    p[15] = p[17] = 0;
    episodes_score(p, 0, N, eps, 0.5, 1.0, 0, &s);
    CU_ASSERT_EQUAL(s.alerts, 0);
}

/* Nothing to divide by: NaN, not 0 or a crash. */
static void
test_empty(void)
{
    double d[N], p[N] = {0};
    g_autoptr(GArray) eps = NULL;
    EpisodesScore s;

    for (size_t t = 0; t < N; t++) {
        d[t] = 0.5;
    }
    eps = episodes_of(d, NULL, NULL);
    CU_ASSERT_EQUAL(eps->len, 0);
    episodes_score(p, 0, N, eps, 0.5, 0.8, 0, &s);
    CU_ASSERT_EQUAL(s.episodes, 0);
    CU_ASSERT_EQUAL(s.alerts, 0);
    CU_ASSERT_TRUE(isnan(s.recall));
    CU_ASSERT_TRUE(isnan(s.precision));
    CU_ASSERT_TRUE(isnan(s.lead_min));
}

static const CutestCase cases[] = {
    {"find", test_find},   {"find scored edge", test_find_scored_edge},
    {"score", test_score}, {"score edges", test_score_edges},
    {"rules", test_rules}, {"empty", test_empty},
};

CUTEST_MAIN("episodes", cases)
