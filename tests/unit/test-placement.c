/*
 * tests/unit/test-placement.c: shadow placement: the rules (never the
 * primary's host, reachability, the cell rule, anti-affinity, room), the
 * score (the most headroom, another cell preferred), explanations, and
 * reservations that keep two shadows from claiming the same headroom.
 */
#include "placement/placement.h"

#include <math.h>
#include <string.h>

#include "cutest.h"

#define GIB (1024.0 * 1024.0)

/* Three hosts: h1, h2 in cell a, h3 in cell b; 2 CPUs, 4 GiB each. */
static void
fleet(PlacementHost *h)
{
    static const char *const names[] = {"h1", "h2", "h3"};
    static const char *const cells[] = {"a", "a", "b"};

    for (int i = 0; i < 3; i++) {
        memset(&h[i], 0, sizeof(h[i]));
        h[i].name = names[i];
        h[i].cell = cells[i];
        h[i].reachable = true;
        h[i].cpus = 2;
        h[i].mem_kib = 4 * GIB;
        h[i].io_bps = NAN;
        h[i].io_demand_bps = NAN;
        h[i].cpu_demand = 0.5;
        h[i].mem_demand_kib = 1 * GIB;
    }
}

static PlacementRequest
request(const char *dom, const char *host, const char *cell)
{
    PlacementRequest r = {dom, host, cell, NULL, 1, 1 * GIB, NAN};

    return r;
}

/* The assessment of @host in @d (a failing, empty one if absent). */
static const PlacementCandidate *
cand(const PlacementDecision *d, const char *host)
{
    static PlacementCandidate missing = {.host = (char *) "?",
                                         .reason = (char *) ""};

    for (guint i = 0; d && i < d->candidates->len; i++) {
        const PlacementCandidate *c = d->candidates->pdata[i];

        if (strcmp(c->host, host) == 0) {
            return c;
        }
    }
    CU_FAIL("host not assessed");
    return &missing;
}

static const char *
chosen(const PlacementDecision *d)
{
    if (!d || d->chosen < 0) {
        return "(none)";
    }
    return ((PlacementCandidate *) d->candidates->pdata[d->chosen])->host;
}

static void
test_other_cell_never_own_host(void)
{
    PlacementHost h[3];
    PlacementRequest r = request("web1", "h1", "a");
    g_autoptr(PlacementDecision) d = NULL;

    fleet(h);
    d = placement_decide(h, 3, &r, PLACEMENT_CELL_PREFERRED, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_STRING_EQUAL(chosen(d), "h3");
    CU_ASSERT_FALSE(cand(d, "h1")->eligible);
    CU_ASSERT_PTR_NOT_NULL(strstr(cand(d, "h1")->reason, "own host"));
    CU_ASSERT_TRUE(cand(d, "h2")->eligible);
    CU_ASSERT(cand(d, "h3")->score > cand(d, "h2")->score);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d->reason);
    CU_ASSERT_PTR_NOT_NULL(strstr(d->reason, "h3"));
    /* Every host assessed, eligible first. */
    CU_ASSERT_EQUAL(d->candidates->len, 3);
    CU_ASSERT_FALSE(((PlacementCandidate *) d->candidates->pdata[2])->eligible);
}

static void
test_preferred_vs_required(void)
{
    PlacementHost h[3];
    PlacementRequest r = request("web1", "h1", "a");
    g_autoptr(PlacementDecision) d = NULL;
    g_autoptr(PlacementDecision) e = NULL;

    fleet(h);
    /* h3 (the other cell) is busy: preferred falls back to h2, required
     * finds nothing. */
    h[2].cpu_demand = 1.8;
    d = placement_decide(h, 3, &r, PLACEMENT_CELL_PREFERRED, NULL, NULL);
    CU_ASSERT_STRING_EQUAL(chosen(d), "h2");
    CU_ASSERT_PTR_NOT_NULL(strstr(cand(d, "h3")->reason, "CPU"));
    e = placement_decide(h, 3, &r, PLACEMENT_CELL_REQUIRED, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(e->chosen, -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(cand(e, "h2")->reason, "required"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e->reason, "required"));
}

static void
test_anti_affinity_and_reachability(void)
{
    PlacementHost h[3];
    static const char *const g3[] = {"shop", NULL};
    PlacementRequest r = request("web1", "h1", "a");
    g_autoptr(PlacementDecision) d = NULL;

    fleet(h);
    r.group = "shop";
    h[2].groups = g3;
    h[1].reachable = false;
    d = placement_decide(h, 3, &r, PLACEMENT_CELL_PREFERRED, NULL, NULL);
    CU_ASSERT_EQUAL(d->chosen, -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(cand(d, "h3")->reason, "anti-affinity"));
    CU_ASSERT_PTR_NOT_NULL(strstr(cand(d, "h2")->reason, "reachable"));
}

static void
test_memory_and_io(void)
{
    PlacementHost h[3];
    PlacementRequest r = request("db", "h1", "a");
    g_autoptr(PlacementDecision) d = NULL;

    fleet(h);
    r.mem_kib = 3.5 * GIB;
    d = placement_decide(h, 3, &r, PLACEMENT_CELL_PREFERRED, NULL, NULL);
    CU_ASSERT_EQUAL(d->chosen, -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(cand(d, "h3")->reason, "memory"));
    g_clear_pointer(&d, placement_decision_free);
    r.mem_kib = GIB;
    r.io_bps = 50e6;
    h[2].io_bps = 100e6;
    h[2].io_demand_bps = 80e6;
    d = placement_decide(h, 3, &r, PLACEMENT_CELL_PREFERRED, NULL, NULL);
    CU_ASSERT_STRING_EQUAL(chosen(d), "h2");
    CU_ASSERT_PTR_NOT_NULL(strstr(cand(d, "h3")->reason, "I/O"));
}

/* Two primaries need shadows at once: the first reservation takes h3's
 * room, so the second goes elsewhere. */
static void
test_reservations(void)
{
    PlacementHost h[3];
    PlacementRequest a = request("web1", "h1", "a");
    PlacementRequest b = request("web2", "h2", "a");
    g_autoptr(PlacementLedger) l = placement_ledger_new();
    g_autoptr(PlacementDecision) da = NULL;
    g_autoptr(PlacementDecision) db = NULL;
    g_autoptr(PlacementDecision) dc = NULL;
    double c, m;

    fleet(h);
    a.cpus = b.cpus = 1.2;
    da = placement_decide(h, 3, &a, PLACEMENT_CELL_PREFERRED, l, NULL);
    CU_ASSERT_STRING_EQUAL(chosen(da), "h3");
    CU_ASSERT_TRUE(
        placement_ledger_reserve(l, "h3", "web1", a.cpus, a.mem_kib, NULL));
    placement_ledger_claimed(l, "h3", &c, &m);
    CU_ASSERT_DOUBLE_EQUAL(c, 1.2, 1e-12);
    db = placement_decide(h, 3, &b, PLACEMENT_CELL_PREFERRED, l, NULL);
    CU_ASSERT_STRING_EQUAL(chosen(db), "h1");
    CU_ASSERT_PTR_NOT_NULL(strstr(cand(db, "h3")->reason, "reserved"));
    /* A request does not compete with its own reservation. */
    dc = placement_decide(h, 3, &a, PLACEMENT_CELL_PREFERRED, l, NULL);
    CU_ASSERT_STRING_EQUAL(chosen(dc), "h3");
    CU_ASSERT_STRING_EQUAL(placement_ledger_host_of(l, "web1"), "h3");
    CU_ASSERT_TRUE(placement_ledger_release(l, "web1"));
    CU_ASSERT_FALSE(placement_ledger_release(l, "web1"));
    CU_ASSERT_PTR_NULL(placement_ledger_host_of(l, "web1"));
    placement_ledger_claimed(l, "h3", &c, &m);
    CU_ASSERT_DOUBLE_EQUAL(c, 0, 1e-12);
}

/* The operator may ask for a cell: only its hosts are candidates. */
static void
test_only_cell(void)
{
    PlacementHost h[3];
    PlacementRequest r = request("web1", "h1", "a");
    g_autoptr(GError) err = NULL;
    g_autoptr(PlacementDecision) d = NULL;
    g_autoptr(PlacementDecision) d2 = NULL;

    fleet(h);
    r.only_cell = "a";
    d = placement_decide(h, 3, &r, PLACEMENT_CELL_PREFERRED, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_STRING_EQUAL(chosen(d), "h2");
    CU_ASSERT_PTR_NOT_NULL(strstr(cand(d, "h3")->reason, "requested cell a"));
    r.only_cell = "nowhere";
    d2 = placement_decide(h, 3, &r, PLACEMENT_CELL_PREFERRED, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d2);
    CU_ASSERT_EQUAL(d2->chosen, -1);
}

static void
test_bad_input(void)
{
    PlacementHost h[3];
    PlacementRequest r = request("web1", "h1", "a");
    g_autoptr(GError) err = NULL;
    g_autoptr(PlacementLedger) l = placement_ledger_new();
    g_autoptr(PlacementDecision) d = NULL;

    fleet(h);
    r.cpus = NAN;
    CU_ASSERT_PTR_NULL(
        placement_decide(h, 3, &r, PLACEMENT_CELL_PREFERRED, NULL, &err));
    CU_ASSERT_TRUE(
        g_error_matches(err, PLACEMENT_ERROR, PLACEMENT_ERROR_INVALID));
    g_clear_error(&err);
    r.cpus = 1;
    CU_ASSERT_PTR_NULL(placement_decide(h, 3, &r, 7, NULL, &err));
    g_clear_error(&err);
    CU_ASSERT_FALSE(placement_ledger_reserve(l, "h1", "x", -1, 0, &err));
    g_clear_error(&err);
    /* No hosts: a decision that chose nothing. */
    d = placement_decide(NULL, 0, &r, PLACEMENT_CELL_PREFERRED, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(d->chosen, -1);
    CU_ASSERT_EQUAL(placement_cell_rule_from_string("required"),
                    PLACEMENT_CELL_REQUIRED);
    CU_ASSERT_EQUAL(placement_cell_rule_from_string("maybe"), -1);
}

static const CutestCase cases[] = {
    {"other cell, never the own host", test_other_cell_never_own_host},
    {"preferred vs required", test_preferred_vs_required},
    {"anti-affinity and reachability", test_anti_affinity_and_reachability},
    {"memory and I/O", test_memory_and_io},
    {"reservations", test_reservations},
    {"operator's cell", test_only_cell},
    {"bad input", test_bad_input},
};

CUTEST_MAIN("placement", cases)
