/*
 * tests/unit/test-contention.c: the contention model (risk/contention.h)
 * against closed forms: one normal domain, the variance of a sum with
 * correlation 0, 1 and in between, skewed intervals, the maximum over
 * grid steps as the horizon grows, the crossing-time rules, and the
 * robustness cases (NaN, zero sd, no domains, bad arguments); and the
 * empirical calibration: its probabilities on synthetic demand with a
 * known overload rate, its reaction to a persisting surprise, runs of
 * steps, gaps, constant and unknown input.
 */
#include "risk/contention.h"

#include <math.h>
#include <string.h>

#include "cutest.h"

#define CHECK_NEAR(a, b, tol, what)                                            \
    do {                                                                       \
        double a_ = (a), b_ = (b);                                             \
        if (!(fabs(a_ - b_) <= (tol))) {                                       \
            fprintf(stderr, "%s: %.10g vs %.10g (tol %.3g)\n", (what), a_, b_, \
                    (double) (tol));                                           \
        }                                                                      \
        CU_ASSERT(fabs(a_ - b_) <= (tol));                                     \
    } while (0)

#define Z95 1.959963984540054
#define MAXSTEPS 64

/* One domain's forecast, owning its arrays. */
typedef struct {
    double mean[MAXSTEPS];
    double lo[MAXSTEPS];
    double hi[MAXSTEPS];
} Fc;

/* Sets step @t of @f to a normal forecast (@mean, @sd). */
static void
fc_set(Fc *f, size_t t, double mean, double sd)
{
    f->mean[t] = mean;
    f->lo[t] = mean - Z95 * sd;
    f->hi[t] = mean + Z95 * sd;
}

static RiskPath
fc_path(const Fc *f)
{
    return (RiskPath){f->mean, f->lo, f->hi};
}

/* The grid 60 s, 120 s, ..., n x 60 s. */
static void
grid_minutes(double *steps, size_t n)
{
    for (size_t t = 0; t < n; t++) {
        steps[t] = 60.0 * (t + 1);
    }
}

/* Returns: true if nothing in @r is NaN and the probabilities are in
 * [0, 1]. */
static bool
result_sane(const RiskContention *r)
{
    for (int h = 0; h < RISK_HORIZON_LAST; h++) {
        if (!(r->p[h] >= 0 && r->p[h] <= 1) || isnan(r->demand[h]) ||
            isnan(r->sd[h]) || isnan(r->headroom[h])) {
            return false;
        }
    }
    return !isnan(r->t_cross_s) && !isnan(r->now_demand);
}

static void
compute_ok(const RiskPath *paths, size_t npaths, const double *steps,
           size_t nsteps, double capacity, double rho, RiskContention *r)
{
    g_autoptr(GError) err = NULL;

    CU_ASSERT_FATAL(risk_contention_compute(paths, npaths, steps, nsteps,
                                            capacity, rho, r, &err));
    CU_ASSERT(err == NULL);
    CU_ASSERT(result_sane(r));
}

/* The normal upper tail, and its edge cases. */
static void
test_exceed_prob(void)
{
    CHECK_NEAR(risk_exceed_prob(0, 1, 1.959963984540054), 0.025, 1e-9,
               "z 1.96");
    CHECK_NEAR(risk_exceed_prob(10, 2, 10), 0.5, 1e-15, "at the mean");
    CHECK_NEAR(risk_exceed_prob(50, 10, 30), 0.9772498680518208, 1e-12, "z -2");
    CHECK_NEAR(risk_exceed_prob(50, 10, 90), 3.167124183311992e-05, 1e-15,
               "z 4");
    CU_ASSERT_EQUAL(risk_exceed_prob(5, 0, 4), 1.0);
    CU_ASSERT_EQUAL(risk_exceed_prob(4, 0, 4), 0.0);
    CU_ASSERT_EQUAL(risk_exceed_prob(3, 0, 4), 0.0);
    CU_ASSERT_EQUAL(risk_exceed_prob(3, NAN, 4), 0.0);
    CU_ASSERT_EQUAL(risk_exceed_prob(NAN, 1, 4), 0.0);
    CU_ASSERT_EQUAL(risk_exceed_prob(3, 1, NAN), 0.0);
    CU_ASSERT_EQUAL(risk_exceed_prob(3, INFINITY, 4), 0.5);
    CU_ASSERT_EQUAL(risk_exceed_prob(INFINITY, 1, 4), 1.0);
    CU_ASSERT_EQUAL(risk_exceed_prob(-INFINITY, 1, 4), 0.0);
    CHECK_NEAR(risk_exceed_prob(4, -1, 2), risk_exceed_prob(4, 1, 2), 0,
               "negative sd");
    CU_ASSERT_EQUAL(risk_exceed_prob(0, 1, 1e300), 0.0);
    CU_ASSERT_EQUAL(risk_exceed_prob(0, 1e-300, -1), 1.0);
}

/* One domain, N(60, 10) at every step, capacity 80: P = Q(2). */
static void
test_one_domain(void)
{
    Fc f;
    double steps[3] = {300, 900, 3600};
    double q2 = 0.5 * erfc(2.0 / M_SQRT2);
    RiskPath p;
    RiskContention r;

    for (size_t t = 0; t < 3; t++) {
        fc_set(&f, t, 60, 10);
    }
    p = fc_path(&f);
    compute_ok(&p, 1, steps, 3, 80, 0, &r);
    for (int h = 0; h < RISK_HORIZON_LAST; h++) {
        CHECK_NEAR(r.p[h], q2, 1e-12, "P(N(60,10) > 80)");
        CHECK_NEAR(r.demand[h], 60, 1e-12, "demand");
        CHECK_NEAR(r.sd[h], 10, 1e-9, "sd");
        CHECK_NEAR(r.headroom[h], 20, 1e-12, "headroom");
    }
    CHECK_NEAR(r.now_demand, 60, 1e-12, "now");
    CU_ASSERT(isinf(r.t_cross_s) && r.t_cross_s > 0);

    /* A skewed interval: below the capacity the upper half counts... */
    f.lo[0] = 60 - Z95 * 3;
    f.hi[0] = 60 + Z95 * 10;
    compute_ok(&p, 1, steps, 1, 80, 0, &r);
    CHECK_NEAR(r.sd[0], 10, 1e-9, "upper half");
    CHECK_NEAR(r.p[0], q2, 1e-12, "skewed, below");
    /* ...above it the lower half. */
    f.mean[0] = 90;
    f.lo[0] = 90 - Z95 * 5;
    f.hi[0] = 90 + Z95 * 20;
    compute_ok(&p, 1, steps, 1, 80, 0, &r);
    CHECK_NEAR(r.sd[0], 5, 1e-9, "lower half");
    CHECK_NEAR(r.p[0], 1 - q2, 1e-12, "skewed, above");
    CHECK_NEAR(r.headroom[0], -10, 1e-12, "negative headroom");
    CU_ASSERT_EQUAL(r.t_cross_s, 300);
}

/* Two domains with sd 3 and 4: sd 5 independent, 7 fully correlated,
 * sqrt(9 + 16 + 2 rho 12) in between. */
static void
test_correlation(void)
{
    Fc f[2];
    double steps[1] = {300};
    double rhos[] = {0, 0.25, 0.5, 1};
    RiskPath p[2];
    RiskContention r;

    fc_set(&f[0], 0, 30, 3);
    fc_set(&f[1], 0, 40, 4);
    p[0] = fc_path(&f[0]);
    p[1] = fc_path(&f[1]);
    for (size_t k = 0; k < G_N_ELEMENTS(rhos); k++) {
        double sd = sqrt(9 + 16 + 2 * rhos[k] * 12);

        compute_ok(p, 2, steps, 1, 80, rhos[k], &r);
        CHECK_NEAR(r.demand[0], 70, 1e-12, "sum of means");
        CHECK_NEAR(r.sd[0], sd, 1e-9, "sd of the sum");
        CHECK_NEAR(r.p[0], 0.5 * erfc(10 / (sd * M_SQRT2)), 1e-12, "P");
    }
    compute_ok(p, 2, steps, 1, 80, 0, &r);
    CHECK_NEAR(r.sd[0], 5, 1e-9, "rho 0");
    compute_ok(p, 2, steps, 1, 80, 1, &r);
    CHECK_NEAR(r.sd[0], 7, 1e-9, "rho 1");

    /* Ten identical domains: sd grows as sqrt(10) or 10. */
    {
        Fc g[10];
        RiskPath q[10];

        for (size_t i = 0; i < 10; i++) {
            fc_set(&g[i], 0, 5, 1);
            q[i] = fc_path(&g[i]);
        }
        compute_ok(q, 10, steps, 1, 80, 0, &r);
        CHECK_NEAR(r.sd[0], sqrt(10), 1e-9, "10 independent");
        compute_ok(q, 10, steps, 1, 80, 1, &r);
        CHECK_NEAR(r.sd[0], 10, 1e-9, "10 correlated");
    }
}

/* A rising path: probabilities rise with the horizon, each the maximum
 * over the steps within it; crossing at the first step the mean reaches
 * the capacity.  A path that peaks at 15 min: the 1 h risk keeps the
 * peak. */
static void
test_horizons(void)
{
    Fc f;
    double steps[60];
    RiskPath p = {f.mean, f.lo, f.hi};
    RiskContention r;
    double expect[RISK_HORIZON_LAST] = {0};
    double last_p = 0;

    grid_minutes(steps, 60);
    for (size_t t = 0; t < 60; t++) {
        fc_set(&f, t, 50 + t, 5 + 0.1 * t); /* 50 .. 109 */
    }
    compute_ok(&p, 1, steps, 60, 100, 0, &r);
    for (size_t t = 0; t < 60; t++) {
        double pt = risk_exceed_prob(50 + t, 5 + 0.1 * t, 100);

        for (int h = 0; h < RISK_HORIZON_LAST; h++) {
            if (steps[t] <= risk_horizon_seconds(h)) {
                expect[h] = MAX(expect[h], pt);
            }
        }
    }
    for (int h = 0; h < RISK_HORIZON_LAST; h++) {
        CHECK_NEAR(r.p[h], expect[h], 1e-12, risk_horizon_to_string(h));
        CU_ASSERT(r.p[h] >= last_p);
        last_p = r.p[h];
    }
    CU_ASSERT(r.p[RISK_HORIZON_5M] < r.p[RISK_HORIZON_15M]);
    CU_ASSERT(r.p[RISK_HORIZON_15M] < r.p[RISK_HORIZON_1H]);
    CHECK_NEAR(r.demand[RISK_HORIZON_5M], 54, 1e-12, "demand at 5 min");
    CHECK_NEAR(r.demand[RISK_HORIZON_15M], 64, 1e-12, "demand at 15 min");
    CHECK_NEAR(r.demand[RISK_HORIZON_1H], 109, 1e-12, "demand at 1 h");
    CHECK_NEAR(r.headroom[RISK_HORIZON_1H], -9, 1e-12, "headroom at 1 h");
    CHECK_NEAR(r.now_demand, 50, 1e-12, "now");
    /* mean 100 at t = 50, the 51st step. */
    CU_ASSERT_EQUAL(r.t_cross_s, 51 * 60);

    /* Rise to 95 at 15 min, then fall back to 50. */
    for (size_t t = 0; t < 60; t++) {
        double m = t < 15 ? 50 + 3 * t : 92 - 3 * (t - 14.0);

        fc_set(&f, t, MAX(m, 50), 4);
    }
    compute_ok(&p, 1, steps, 60, 100, 0, &r);
    CHECK_NEAR(r.p[RISK_HORIZON_15M], risk_exceed_prob(92, 4, 100), 1e-12,
               "peak");
    CHECK_NEAR(r.p[RISK_HORIZON_1H], r.p[RISK_HORIZON_15M], 0, "kept");
    CU_ASSERT(r.p[RISK_HORIZON_1H] > risk_exceed_prob(50, 4, 100));
    CHECK_NEAR(r.demand[RISK_HORIZON_1H], 50, 1e-12, "fallen back");
    CU_ASSERT(isinf(r.t_cross_s));

    /* The mean exactly at the capacity counts as reaching it. */
    fc_set(&f, 20, 100, 4);
    compute_ok(&p, 1, steps, 60, 100, 0, &r);
    CU_ASSERT_EQUAL(r.t_cross_s, 21 * 60);
    CHECK_NEAR(r.p[RISK_HORIZON_1H], 0.5, 1e-12, "P at the capacity");

    /* Already above now: crossing at the first step. */
    fc_set(&f, 0, 120, 4);
    compute_ok(&p, 1, steps, 60, 100, 0, &r);
    CU_ASSERT_EQUAL(r.t_cross_s, 60);
}

/* A grid coarser than the short horizons: its first step stands for them
 * (so P never falls as the horizon grows); a grid shorter than 1 h: its
 * last step stands for the rest. */
static void
test_grid_edges(void)
{
    Fc f;
    double coarse[3] = {1200, 2400, 3600};
    double shrt[2] = {60, 120};
    RiskPath p = {f.mean, f.lo, f.hi};
    RiskContention r;

    fc_set(&f, 0, 90, 10);
    fc_set(&f, 1, 95, 10);
    fc_set(&f, 2, 80, 10);
    compute_ok(&p, 1, coarse, 3, 100, 0, &r);
    CHECK_NEAR(r.p[RISK_HORIZON_5M], risk_exceed_prob(90, 10, 100), 1e-12,
               "5m from the first step");
    CHECK_NEAR(r.p[RISK_HORIZON_15M], r.p[RISK_HORIZON_5M], 0, "15m");
    CHECK_NEAR(r.p[RISK_HORIZON_1H], risk_exceed_prob(95, 10, 100), 1e-12,
               "1h max");
    CHECK_NEAR(r.demand[RISK_HORIZON_1H], 80, 1e-12, "1h demand");

    compute_ok(&p, 1, shrt, 2, 100, 0, &r);
    CHECK_NEAR(r.demand[RISK_HORIZON_1H], 95, 1e-12, "short grid");
    CHECK_NEAR(r.p[RISK_HORIZON_5M], r.p[RISK_HORIZON_1H], 0, "short grid");
}

/* NaN, zero sd, infinities and no domains give numbers, never NaN. */
static void
test_robust(void)
{
    Fc f[2];
    double steps[4] = {300, 600, 900, 3600};
    RiskPath p[2];
    RiskContention r;

    /* No domains: no demand. */
    compute_ok(NULL, 0, steps, 4, 100, 0.5, &r);
    for (int h = 0; h < RISK_HORIZON_LAST; h++) {
        CU_ASSERT_EQUAL(r.p[h], 0);
        CU_ASSERT_EQUAL(r.demand[h], 0);
        CU_ASSERT_EQUAL(r.sd[h], 0);
        CU_ASSERT_EQUAL(r.headroom[h], 100);
    }
    CU_ASSERT(isinf(r.t_cross_s));

    /* Zero sd: a step function. */
    for (size_t t = 0; t < 4; t++) {
        fc_set(&f[0], t, t < 3 ? 99 : 101, 0);
    }
    p[0] = fc_path(&f[0]);
    compute_ok(p, 1, steps, 4, 100, 0, &r);
    CU_ASSERT_EQUAL(r.p[RISK_HORIZON_15M], 0);
    CU_ASSERT_EQUAL(r.p[RISK_HORIZON_1H], 1);
    CU_ASSERT_EQUAL(r.t_cross_s, 3600);

    /* An unknown mean contributes 0 and keeps its last known sd; an
     * unknown interval keeps the last sd too. */
    for (size_t t = 0; t < 4; t++) {
        fc_set(&f[0], t, 40, 3);
        fc_set(&f[1], t, 30, 4);
    }
    f[1].mean[1] = NAN;
    f[0].lo[2] = f[0].hi[2] = NAN;
    f[1].mean[2] = 35;
    f[1].lo[2] = 35 - Z95 * 8;
    f[1].hi[2] = NAN; /* only the lower half: used for the upper */
    p[1] = fc_path(&f[1]);
    compute_ok(p, 2, steps, 4, 100, 0, &r);
    CHECK_NEAR(r.now_demand, 70, 1e-12, "now");
    CHECK_NEAR(r.demand[RISK_HORIZON_15M], 75, 1e-12, "15m demand");
    CHECK_NEAR(r.sd[RISK_HORIZON_15M], sqrt(9 + 64), 1e-9, "15m sd");
    {
        RiskContention r2;

        /* Step 600 alone: mean 40 + 0, sd of 3 and the last known 4. */
        compute_ok(p, 2, steps, 2, 100, 0, &r2);
        CHECK_NEAR(r2.demand[RISK_HORIZON_15M], 40, 1e-12, "NaN mean");
        CHECK_NEAR(r2.sd[RISK_HORIZON_15M], 5, 1e-9, "last known sd");
    }

    /* Everything unknown. */
    for (size_t t = 0; t < 4; t++) {
        f[0].mean[t] = f[0].lo[t] = f[0].hi[t] = NAN;
    }
    compute_ok(p, 1, steps, 4, 100, 0, &r);
    CU_ASSERT_EQUAL(r.p[RISK_HORIZON_1H], 0);
    CU_ASSERT_EQUAL(r.demand[RISK_HORIZON_1H], 0);
    CU_ASSERT(isinf(r.t_cross_s));

    /* Infinities and huge values, with rho 1 (0 x inf). */
    fc_set(&f[0], 0, 50, 1);
    f[0].hi[0] = INFINITY;
    fc_set(&f[0], 1, INFINITY, 1);
    fc_set(&f[0], 2, 1e308, 1e300);
    fc_set(&f[0], 3, 50, 1);
    f[0].hi[3] = 1e308;
    fc_set(&f[1], 2, 1e308, 1e300);
    for (double rho = 0; rho <= 1; rho += 0.5) {
        compute_ok(p, 2, steps, 4, 100, rho, &r);
    }
}

/* Bad arguments: RISK_ERROR_INVALID, @ret untouched. */
static void
test_invalid(void)
{
    Fc f;
    double steps[3] = {300, 900, 3600};
    double bad_order[3] = {300, 300, 3600};
    double bad_neg[3] = {-1, 900, 3600};
    double bad_nan[3] = {300, NAN, 3600};
    RiskPath p = {f.mean, f.lo, f.hi};
    RiskPath no_mean = {NULL, f.lo, f.hi};
    RiskPath no_hi = {f.mean, f.lo, NULL};
    struct {
        const char *what;
        const RiskPath *paths;
        size_t npaths;
        const double *steps;
        size_t nsteps;
        double capacity, rho;
    } cases[] = {
        {"no paths", NULL, 1, steps, 3, 100, 0},
        {"no mean", &no_mean, 1, steps, 3, 100, 0},
        {"no hi95", &no_hi, 1, steps, 3, 100, 0},
        {"no grid", &p, 1, NULL, 3, 100, 0},
        {"empty grid", &p, 1, steps, 0, 100, 0},
        {"not increasing", &p, 1, bad_order, 3, 100, 0},
        {"negative step", &p, 1, bad_neg, 3, 100, 0},
        {"NaN step", &p, 1, bad_nan, 3, 100, 0},
        {"zero capacity", &p, 1, steps, 3, 0, 0},
        {"negative capacity", &p, 1, steps, 3, -5, 0},
        {"NaN capacity", &p, 1, steps, 3, NAN, 0},
        {"infinite capacity", &p, 1, steps, 3, INFINITY, 0},
        {"rho < 0", &p, 1, steps, 3, 100, -0.1},
        {"rho > 1", &p, 1, steps, 3, 100, 1.1},
        {"NaN rho", &p, 1, steps, 3, 100, NAN},
    };

    for (size_t t = 0; t < 3; t++) {
        fc_set(&f, t, 50, 5);
    }
    for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
        g_autoptr(GError) err = NULL;
        RiskContention r, orig;

        memset(&r, 0x5a, sizeof(r));
        orig = r;
        if (risk_contention_compute(
                cases[k].paths, cases[k].npaths, cases[k].steps,
                cases[k].nsteps, cases[k].capacity, cases[k].rho, &r, &err)) {
            fprintf(stderr, "accepted: %s\n", cases[k].what);
            CU_FAIL("bad argument accepted");
            continue;
        }
        CU_ASSERT(g_error_matches(err, RISK_ERROR, RISK_ERROR_INVALID));
        CU_ASSERT(memcmp(&r, &orig, sizeof(r)) == 0);
    }
    {
        g_autoptr(GError) err = NULL;

        CU_ASSERT(
            !risk_contention_compute(&p, 1, steps, 3, 100, 0, NULL, &err));
        CU_ASSERT(g_error_matches(err, RISK_ERROR, RISK_ERROR_INVALID));
        /* A NULL error is fine too. */
        CU_ASSERT(
            !risk_contention_compute(&p, 1, steps, 0, 100, 0, NULL, NULL));
    }
}

/* --- the empirical calibration ------------------------------------- */

#define CAL_STEP 300.0

/* A normal deviate from @r. */
static double
gauss(GRand *r)
{
    double u = g_rand_double_range(r, 1e-12, 1.0);
    double v = g_rand_double(r);

    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* The 5-minute grid of 12 steps. */
static void
grid_5min(double *steps)
{
    for (size_t t = 0; t < 12; t++) {
        steps[t] = CAL_STEP * (t + 1);
    }
}

/* Returns: true if every value of @p is a probability, never falling as
 * the horizon grows. */
static bool
probs_sane(const double *p)
{
    for (int h = 0; h < RISK_HORIZON_LAST; h++) {
        if (!(p[h] >= 0 && p[h] <= 1) || (h > 0 && p[h] < p[h - 1])) {
            return false;
        }
    }
    return true;
}

/*
 * Demand 100 + N(0, 10) independent per step, forecast flat at 100,
 * capacity 100 + 10 z: one step above it has probability q = Q(z).  Over
 * a long run the calibrated P(5 min) averages q and P(15 min) (any of 3
 * steps, run 1) 1 - (1 - q)^3, and P(15 min) with runs of 2 steps about
 * 1 - P(no two consecutive of 4 above).
 */
static void
test_cal_known_rate(void)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(42);
    g_autoptr(RiskContentionCal) c1 = NULL;
    g_autoptr(RiskContentionCal) c2 = NULL;
    double steps[12], mean[12];
    double z = 1.2, q = 0.5 * erfc(z / M_SQRT2), cap = 100 + 10 * z;
    double sum5 = 0, sum15 = 0, sum15r = 0, q15r;
    size_t n = 0;

    c1 = risk_contention_cal_new(CAL_STEP, 2016, 1, 288, NULL);
    c2 = risk_contention_cal_new(CAL_STEP, 2016, 2, 288, NULL);
    CU_ASSERT_FATAL(c1 && c2);
    grid_5min(steps);
    for (size_t t = 0; t < 12; t++) {
        mean[t] = 100;
    }
    for (size_t t = 0; t < 6000; t++) {
        double d = 100 + 10 * gauss(r), p1[RISK_HORIZON_LAST],
               p2[RISK_HORIZON_LAST];
        double now = CAL_STEP * (double) t;
        bool ok1, ok2;

        risk_contention_cal_observe(c1, now, d, mean, steps, 12);
        risk_contention_cal_observe(c2, now, d, mean, steps, 12);
        ok1 = risk_contention_cal_prob(c1, now, d, mean, steps, 12, cap, p1);
        ok2 = risk_contention_cal_prob(c2, now, d, mean, steps, 12, cap, p2);
        /* Not before a day of origins with their hour of outcomes (a run
         * of 2 needs one step more). */
        CU_ASSERT(!ok2 || ok1);
        if (t < 288) {
            CU_ASSERT(!ok1);
        }
        if (t > 400) {
            CU_ASSERT_FATAL(ok1 && ok2);
        }
        if (!ok1 || !ok2) {
            continue;
        }
        CU_ASSERT(probs_sane(p1) && probs_sane(p2));
        CU_ASSERT(p2[RISK_HORIZON_15M] <= p1[RISK_HORIZON_15M] + 1e-12);
        sum5 += p1[RISK_HORIZON_5M];
        sum15 += p1[RISK_HORIZON_15M];
        sum15r += p2[RISK_HORIZON_15M];
        n++;
    }
    /* P(a run of 2 begins within steps 1..3, looking at steps 1..4):
     * 1 - P(no two consecutive above) over 4 independent steps. */
    {
        double a = 1, b = 0; /* P(no run yet, last below / last above) */

        for (int k = 0; k < 4; k++) {
            double na = (a + b) * (1 - q), nb = a * q;

            a = na;
            b = nb;
        }
        q15r = 1 - (a + b);
    }
    CU_ASSERT_FATAL(n > 5000);
    CHECK_NEAR(sum5 / n, q, 0.015, "P(5 min), known rate");
    CHECK_NEAR(sum15 / n, 1 - pow(1 - q, 3), 0.03, "P(15 min), known rate");
    CHECK_NEAR(sum15r / n, q15r, 0.02, "P(15 min), runs of 2");
}

/*
 * Demand an AR(1) around a flat forecast (phi 0.9): a surprise persists, so
 * the calibrated P(5 min) after a high sample is far above that after a low
 * one; independent noise (phi 0) gives the same P either way.
 */
static void
test_cal_persistence(void)
{
    for (int pass = 0; pass < 2; pass++) {
        g_autoptr(GRand) r = g_rand_new_with_seed(7);
        g_autoptr(RiskContentionCal) c =
            risk_contention_cal_new(CAL_STEP, 2016, 1, 288, NULL);
        double phi = pass == 0 ? 0.9 : 0.0, x = 0, steps[12], mean[12];
        double hi = 0, lo = 0;
        size_t nhi = 0, nlo = 0;

        grid_5min(steps);
        for (size_t t = 0; t < 12; t++) {
            mean[t] = 100;
        }
        for (size_t t = 0; t < 5000; t++) {
            double p[RISK_HORIZON_LAST], now = CAL_STEP * (double) t, d;

            x = phi * x + 10 * sqrt(1 - phi * phi) * gauss(r);
            d = 100 + x;
            risk_contention_cal_observe(c, now, d, mean, steps, 12);
            if (t < 2500 ||
                !risk_contention_cal_prob(c, now, d, mean, steps, 12, 115, p)) {
                continue;
            }
            if (x > 10) {
                hi += p[RISK_HORIZON_5M];
                nhi++;
            } else if (x < -10) {
                lo += p[RISK_HORIZON_5M];
                nlo++;
            }
        }
        CU_ASSERT_FATAL(nhi > 50 && nlo > 50);
        hi /= nhi;
        lo /= nlo;
        if (phi > 0) {
            CU_ASSERT(hi > 0.3);
            CU_ASSERT(lo < 0.01);
        } else {
            CHECK_NEAR(hi, lo, 0.03, "no persistence");
        }
    }
}

/* Constant demand, gaps, unknown values and ticks closer than a step give
 * probabilities, never NaN; a stale or unknown path answers nothing. */
static void
test_cal_robust(void)
{
    g_autoptr(RiskContentionCal) c =
        risk_contention_cal_new(CAL_STEP, 500, 2, 50, NULL);
    double steps[12], mean[12], nanpath[12], p[RISK_HORIZON_LAST];
    size_t answered = 0;

    grid_5min(steps);
    for (size_t t = 0; t < 12; t++) {
        mean[t] = 80;
        nanpath[t] = NAN;
    }
    CU_ASSERT(!risk_contention_cal_prob(c, 0, 80, mean, steps, 12, 100, p));
    for (size_t t = 0; t < 2000; t++) {
        double now = CAL_STEP * (double) t + (t % 3 ? 7 : 0);
        double d = t % 97 == 5 ? NAN : 80;

        if (t % 211 >= 200) {
            continue; /* a gap of 11 steps */
        }
        risk_contention_cal_observe(c, now, d, t % 89 == 3 ? nanpath : mean,
                                    steps, 12);
        /* A tick in between records nothing. */
        risk_contention_cal_observe(c, now + 60, 1e9, mean, steps, 12);
        if (risk_contention_cal_prob(c, now, d, mean, steps, 12, 100, p)) {
            CU_ASSERT(probs_sane(p));
            CU_ASSERT(p[RISK_HORIZON_1H] == 0.0);
            answered++;
        }
        /* Below the constant demand: certain. */
        if (risk_contention_cal_prob(c, now, d, mean, steps, 12, 79, p)) {
            CU_ASSERT(p[RISK_HORIZON_5M] == 1.0);
        }
        CU_ASSERT(
            !risk_contention_cal_prob(c, now, d, nanpath, steps, 12, 100, p));
    }
    CU_ASSERT(answered > 1000);
    /* Bad arguments. */
    {
        g_autoptr(GError) err = NULL;

        CU_ASSERT(!risk_contention_cal_new(0, 10, 1, 1, &err));
        CU_ASSERT(g_error_matches(err, RISK_ERROR, RISK_ERROR_INVALID));
        CU_ASSERT(!risk_contention_cal_new(CAL_STEP, 1, 1, 1, NULL));
        CU_ASSERT(!risk_contention_cal_new(CAL_STEP, 10, 0, 1, NULL));
        CU_ASSERT(!risk_contention_cal_new(NAN, 10, 1, 1, NULL));
        CU_ASSERT(!risk_contention_cal_prob(NULL, 0, 0, mean, steps, 12, 1, p));
        CU_ASSERT(!risk_contention_cal_prob(c, 0, 0, mean, steps, 12, 0, p));
        risk_contention_cal_observe(NULL, 0, 0, mean, steps, 12);
        risk_contention_cal_free(NULL);
    }
}

/* Isolated one-step spikes above capacity: runs of 2 never happen. */
static void
test_cal_runs(void)
{
    g_autoptr(RiskContentionCal) c1 =
        risk_contention_cal_new(CAL_STEP, 1000, 1, 100, NULL);
    g_autoptr(RiskContentionCal) c2 =
        risk_contention_cal_new(CAL_STEP, 1000, 2, 100, NULL);
    double steps[12], mean[12], p1[RISK_HORIZON_LAST], p2[RISK_HORIZON_LAST];

    grid_5min(steps);
    for (size_t t = 0; t < 12; t++) {
        mean[t] = 50;
    }
    for (size_t t = 0; t < 1000; t++) {
        double now = CAL_STEP * (double) t, d = t % 10 == 0 ? 150 : 50;

        risk_contention_cal_observe(c1, now, d, mean, steps, 12);
        risk_contention_cal_observe(c2, now, d, mean, steps, 12);
    }
    CU_ASSERT_FATAL(risk_contention_cal_prob(c1, 999 * CAL_STEP, 50, mean,
                                             steps, 12, 100, p1));
    CU_ASSERT_FATAL(risk_contention_cal_prob(c2, 999 * CAL_STEP, 50, mean,
                                             steps, 12, 100, p2));
    /* The spikes recur every 10 steps, which the surprise's slopes learn
     * too: only roughly one in ten per step. */
    CU_ASSERT(p1[RISK_HORIZON_15M] > 0.15 && p1[RISK_HORIZON_15M] < 0.45);
    CU_ASSERT(p1[RISK_HORIZON_1H] > 0.8);
    CHECK_NEAR(p2[RISK_HORIZON_1H], 0.0, 1e-12, "no run of 2");
}

static const CutestCase cases[] = {
    {"exceed_prob", test_exceed_prob},
    {"one_domain", test_one_domain},
    {"correlation", test_correlation},
    {"horizons", test_horizons},
    {"grid_edges", test_grid_edges},
    {"robust", test_robust},
    {"invalid", test_invalid},
    {"cal_known_rate", test_cal_known_rate},
    {"cal_persistence", test_cal_persistence},
    {"cal_robust", test_cal_robust},
    {"cal_runs", test_cal_runs},
};

CUTEST_MAIN("contention", cases)
