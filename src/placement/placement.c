/*
 * placement/placement.c: shadow placement and reservations (placement.h).
 *
 * The ledger is a list of (domain, host, cpus, mem) rows: fleets have at
 * most a few hundred shadows, and a decision reads each host's sum once.
 */
#include "placement/placement.h"

#include <math.h>
#include <string.h>

/* clang-format off */
G_DEFINE_QUARK(umbra-placement-error-quark, placement_error)
/* clang-format on */

static const char *const cell_rules[] = {"preferred", "required"};
G_STATIC_ASSERT(G_N_ELEMENTS(cell_rules) == PLACEMENT_CELL_LAST);

const char *
placement_cell_rule_to_string(PlacementCellRule r)
{
    return (int) r >= 0 && r < PLACEMENT_CELL_LAST ? cell_rules[r] : "unknown";
}

int
placement_cell_rule_from_string(const char *s)
{
    for (int i = 0; s && i < PLACEMENT_CELL_LAST; i++) {
        if (strcmp(s, cell_rules[i]) == 0) {
            return i;
        }
    }
    return -1;
}

typedef struct {
    char *domain;
    char *host;
    double cpus;
    double mem_kib;
} Reservation;

struct PlacementLedger {
    GPtrArray *rows; /* Reservation* */
};

static void
reservation_free(gpointer p)
{
    Reservation *r = p;

    g_free(r->domain);
    g_free(r->host);
    g_free(r);
}

PlacementLedger *
placement_ledger_new(void)
{
    PlacementLedger *l = g_new0(PlacementLedger, 1);

    l->rows = g_ptr_array_new_with_free_func(reservation_free);
    return l;
}

void
placement_ledger_free(PlacementLedger *l)
{
    if (!l) {
        return;
    }
    g_ptr_array_unref(l->rows);
    g_free(l);
}

static int
ledger_find(const PlacementLedger *l, const char *domain)
{
    for (guint i = 0; i < l->rows->len; i++) {
        const Reservation *r = l->rows->pdata[i];

        if (strcmp(r->domain, domain) == 0) {
            return (int) i;
        }
    }
    return -1;
}

bool
placement_ledger_reserve(PlacementLedger *l, const char *host,
                         const char *domain, double cpus, double mem_kib,
                         GError **error)
{
    Reservation *r;
    int i;

    if (!host || !domain || !(cpus >= 0) || !(mem_kib >= 0) ||
        !isfinite(cpus) || !isfinite(mem_kib)) {
        g_set_error(error, PLACEMENT_ERROR, PLACEMENT_ERROR_INVALID,
                    "a reservation needs a host, a domain and finite, "
                    "non-negative amounts");
        return false;
    }
    i = ledger_find(l, domain);
    if (i >= 0) {
        g_ptr_array_remove_index(l->rows, (guint) i);
    }
    r = g_new0(Reservation, 1);
    r->domain = g_strdup(domain);
    r->host = g_strdup(host);
    r->cpus = cpus;
    r->mem_kib = mem_kib;
    g_ptr_array_add(l->rows, r);
    return true;
}

bool
placement_ledger_release(PlacementLedger *l, const char *domain)
{
    int i = domain ? ledger_find(l, domain) : -1;

    if (i < 0) {
        return false;
    }
    g_ptr_array_remove_index(l->rows, (guint) i);
    return true;
}

/* Sums @host's reservations, leaving out @except's (nullable). */
static void
claimed_except(const PlacementLedger *l, const char *host, const char *except,
               double *ret_cpus, double *ret_mem)
{
    double c = 0, m = 0;

    for (guint i = 0; l && i < l->rows->len; i++) {
        const Reservation *r = l->rows->pdata[i];

        if (strcmp(r->host, host) != 0 ||
            (except && strcmp(r->domain, except) == 0)) {
            continue;
        }
        c += r->cpus;
        m += r->mem_kib;
    }
    *ret_cpus = c;
    *ret_mem = m;
}

void
placement_ledger_claimed(const PlacementLedger *l, const char *host,
                         double *ret_cpus, double *ret_mem_kib)
{
    claimed_except(l, host, NULL, ret_cpus, ret_mem_kib);
}

const char *
placement_ledger_host_of(const PlacementLedger *l, const char *domain)
{
    int i = domain ? ledger_find(l, domain) : -1;

    return i >= 0 ? ((const Reservation *) l->rows->pdata[i])->host : NULL;
}

GPtrArray *
placement_ledger_domains_on(const PlacementLedger *l, const char *host)
{
    GPtrArray *out = g_ptr_array_new();

    for (guint i = 0; l && i < l->rows->len; i++) {
        const Reservation *r = l->rows->pdata[i];

        if (g_strcmp0(r->host, host) == 0) {
            g_ptr_array_add(out, r->domain);
        }
    }
    return out;
}

static void
candidate_free(gpointer p)
{
    PlacementCandidate *c = p;

    g_free(c->host);
    g_free(c->cell);
    g_free(c->reason);
    g_free(c);
}

void
placement_decision_free(PlacementDecision *d)
{
    if (!d) {
        return;
    }
    if (d->candidates) {
        g_ptr_array_unref(d->candidates);
    }
    g_free(d->reason);
    g_free(d);
}

static bool
has_group(const char *const *groups, const char *g)
{
    for (size_t i = 0; g && groups && groups[i]; i++) {
        if (strcmp(groups[i], g) == 0) {
            return true;
        }
    }
    return false;
}

static double
nz(double v)
{
    return isfinite(v) && v > 0 ? v : 0;
}

/* Assesses one host. */
static PlacementCandidate *
assess(const PlacementHost *h, const PlacementRequest *req,
       PlacementCellRule rule, const PlacementLedger *ledger)
{
    PlacementCandidate *c = g_new0(PlacementCandidate, 1);
    bool other_cell = g_strcmp0(h->cell, req->cell) != 0;
    double rc = 0, rm = 0;

    c->host = g_strdup(h->name);
    c->cell = g_strdup(h->cell);
    c->score = NAN;
    claimed_except(ledger, h->name, req->domain, &rc, &rm);
    c->cpu_free = h->cpus - nz(h->cpu_demand) - rc - req->cpus;
    c->mem_free_kib = h->mem_kib - nz(h->mem_demand_kib) - rm - req->mem_kib;
    if (strcmp(h->name, req->host) == 0) {
        c->reason = g_strdup("the primary's own host");
    } else if (req->only_cell && g_strcmp0(h->cell, req->only_cell) != 0) {
        c->reason =
            g_strdup_printf("not in the requested cell %s", req->only_cell);
    } else if (!h->reachable) {
        c->reason = g_strdup("not reachable");
    } else if (rule == PLACEMENT_CELL_REQUIRED && !other_cell) {
        c->reason = g_strdup_printf("in the primary's cell %s (another cell "
                                    "is required)",
                                    h->cell ? h->cell : "-");
    } else if (has_group(h->groups, req->group)) {
        c->reason = g_strdup_printf("anti-affinity: a member of group '%s' "
                                    "is already on it",
                                    req->group);
    } else if (!(h->cpus > 0) || c->cpu_free < 0) {
        c->reason = g_strdup_printf(
            "not enough CPU: %.2f of %.2f CPUs forecast in use, %.2f "
            "reserved, %.2f needed",
            nz(h->cpu_demand), h->cpus, rc, req->cpus);
    } else if (!(h->mem_kib > 0) || c->mem_free_kib < 0) {
        c->reason = g_strdup_printf(
            "not enough memory: %.0f of %.0f MiB forecast in use, %.0f "
            "reserved, %.0f needed",
            nz(h->mem_demand_kib) / 1024, h->mem_kib / 1024, rm / 1024,
            req->mem_kib / 1024);
    } else if (isfinite(h->io_bps) && isfinite(h->io_demand_bps) &&
               isfinite(req->io_bps) &&
               h->io_demand_bps + req->io_bps > h->io_bps) {
        c->reason = g_strdup("not enough I/O bandwidth");
    } else {
        double fc = c->cpu_free / h->cpus;
        double fm = c->mem_free_kib / h->mem_kib;

        c->eligible = true;
        c->score = MIN(fc, fm) + (other_cell ? PLACEMENT_CELL_BONUS : 0);
        c->reason = g_strdup_printf(
            "%s cell, %.0f%% CPU and %.0f%% memory free after placing",
            other_cell ? "another" : "the same", 100 * fc, 100 * fm);
    }
    return c;
}

static gint
by_score(gconstpointer a, gconstpointer b)
{
    const PlacementCandidate *x = *(const PlacementCandidate *const *) a;
    const PlacementCandidate *y = *(const PlacementCandidate *const *) b;

    if (x->eligible != y->eligible) {
        return x->eligible ? -1 : 1;
    }
    if (x->eligible && x->score != y->score) {
        return x->score > y->score ? -1 : 1;
    }
    return 0; /* g_ptr_array_sort is stable: host order */
}

PlacementDecision *
placement_decide(const PlacementHost *hosts, size_t nhosts,
                 const PlacementRequest *req, PlacementCellRule rule,
                 const PlacementLedger *ledger, GError **error)
{
    g_autoptr(PlacementDecision) d = NULL;

    if (!req || !req->domain || !req->host || (!hosts && nhosts) ||
        !(req->cpus >= 0) || !(req->mem_kib >= 0) || (int) rule < 0 ||
        rule >= PLACEMENT_CELL_LAST) {
        g_set_error(error, PLACEMENT_ERROR, PLACEMENT_ERROR_INVALID,
                    "invalid placement request");
        return NULL;
    }
    for (size_t i = 0; i < nhosts; i++) {
        if (!hosts[i].name) {
            g_set_error(error, PLACEMENT_ERROR, PLACEMENT_ERROR_INVALID,
                        "host %zu has no name", i);
            return NULL;
        }
    }
    d = g_new0(PlacementDecision, 1);
    d->candidates = g_ptr_array_new_with_free_func(candidate_free);
    for (size_t i = 0; i < nhosts; i++) {
        g_ptr_array_add(d->candidates, assess(&hosts[i], req, rule, ledger));
    }
    g_ptr_array_sort(d->candidates, by_score);
    if (d->candidates->len > 0 &&
        ((PlacementCandidate *) d->candidates->pdata[0])->eligible) {
        const PlacementCandidate *c = d->candidates->pdata[0];

        d->chosen = 0;
        d->reason =
            g_strdup_printf("%s (cell %s): best score %.2f: %s", c->host,
                            c->cell ? c->cell : "-", c->score, c->reason);
    } else {
        d->chosen = -1;
        d->reason = g_strdup_printf(
            "no host can take a shadow of %s (%.2f CPUs, %.0f MiB) under "
            "the %s cell rule",
            req->domain, req->cpus, req->mem_kib / 1024,
            placement_cell_rule_to_string(rule));
    }
    return g_steal_pointer(&d);
}
