/*
 * placement/placement.h: where a shadow VM should go (issue 5).
 *
 * Pure: the caller (engine/) gives each host's capacity, its forecast
 * demand over the horizon (the 95 % upper bound, so that a shadow is only
 * put where the load will still fit), the service groups already on it,
 * and the ledger of reservations; placement_decide() scores every host,
 * says why each one is or is not eligible, and picks one.
 *
 * Rules, in order (a host failing one is ineligible, with that reason):
 *   1. never the primary's own host;
 *   2. the host must be reachable;
 *   3. with PLACEMENT_CELL_REQUIRED, another cell than the primary's;
 *   4. anti-affinity: no primary or shadow of the same service group on it;
 *   5. room: forecast demand + reservations + the request must fit within
 *      the host's CPUs and memory (and I/O when both capacity and demand
 *      are known).
 * Score of an eligible host (higher is better): the smaller of its CPU and
 * memory headroom fractions after placing the request, plus
 * PLACEMENT_CELL_BONUS when it is in another cell (PLACEMENT_CELL_PREFERRED:
 * another cell wins unless a same-cell host has far more room).  Ties go
 * to the host listed first.
 *
 * The ledger makes decisions for two primaries at once consistent: a
 * reservation claims headroom on a host until it is released (the shadow
 * retired, or the primary moved onto it and became its load).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#define PLACEMENT_ERROR (placement_error_quark())
GQuark placement_error_quark(void);

typedef enum {
    PLACEMENT_ERROR_INVALID,     /* bad argument */
    PLACEMENT_ERROR_NO_CAPACITY, /* no eligible host */
    PLACEMENT_ERROR_LAST
} PlacementErrorCode;

/* How strongly a shadow should leave its primary's cell. */
typedef enum {
    PLACEMENT_CELL_PREFERRED,
    PLACEMENT_CELL_REQUIRED,
    PLACEMENT_CELL_LAST
} PlacementCellRule;

const char *placement_cell_rule_to_string(PlacementCellRule r);
int placement_cell_rule_from_string(const char *s);

#define PLACEMENT_CELL_BONUS 0.25

/* One candidate host as the engine sees it now. */
typedef struct {
    const char *name;          /* host name */
    const char *cell;          /* its cell */
    bool reachable;            /* connected to libvirt */
    double cpus;               /* CPU capacity, CPUs */
    double mem_kib;            /* memory capacity, KiB */
    double io_bps;             /* I/O capacity, bytes/s; NaN = unknown */
    double cpu_demand;         /* forecast demand (95 % upper), CPUs */
    double mem_demand_kib;     /* likewise, KiB */
    double io_demand_bps;      /* likewise; NaN = unknown */
    const char *const *groups; /* service groups of the primaries and
                                * shadows on it (NULL-ended, nullable) */
} PlacementHost;

/* What a shadow needs. */
typedef struct {
    const char *domain;    /* the primary */
    const char *host;      /* the primary's host */
    const char *cell;      /* the primary's cell */
    const char *group;     /* its service group (nullable: none) */
    double cpus;           /* vCPUs the shadow would use when active */
    double mem_kib;        /* its memory */
    double io_bps;         /* its I/O (NaN = unknown) */
    const char *only_cell; /* (nullable) the operator's choice of cell */
} PlacementRequest;

/* The reservations: what each host has promised to shadows. */
typedef struct PlacementLedger PlacementLedger;

PlacementLedger *placement_ledger_new(void);
void placement_ledger_free(PlacementLedger *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PlacementLedger, placement_ledger_free)

/*
 * placement_ledger_reserve:
 * Claims @cpus and @mem_kib on @host for @domain's shadow (replacing an
 * earlier reservation of @domain).  Returns: false with
 * PLACEMENT_ERROR_INVALID on a bad argument.
 */
bool placement_ledger_reserve(PlacementLedger *l, const char *host,
                              const char *domain, double cpus, double mem_kib,
                              GError **error);
/* Releases @domain's reservation.  Returns: whether it had one. */
bool placement_ledger_release(PlacementLedger *l, const char *domain);
/* Sums of what @host has promised. */
void placement_ledger_claimed(const PlacementLedger *l, const char *host,
                              double *ret_cpus, double *ret_mem_kib);
/* Returns: the host @domain's reservation is on, or NULL. */
const char *placement_ledger_host_of(const PlacementLedger *l,
                                     const char *domain);
/* Returns: (transfer container) the domains (const char*) whose shadows
 * are reserved on @host. */
GPtrArray *placement_ledger_domains_on(const PlacementLedger *l,
                                       const char *host);

/* One host's assessment. */
typedef struct {
    char *host;
    char *cell;
    bool eligible;
    double score;        /* eligible hosts only, else NAN */
    double cpu_free;     /* CPUs left after demand, reservations, request */
    double mem_free_kib; /* likewise */
    char *reason;        /* why (not): one line */
} PlacementCandidate;

typedef struct {
    GPtrArray *candidates; /* PlacementCandidate*, best first, then the
                            * ineligible in host order */
    int chosen;            /* index into candidates, -1 when none */
    char *reason;          /* the decision in one line */
} PlacementDecision;

void placement_decision_free(PlacementDecision *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PlacementDecision, placement_decision_free)

/*
 * placement_decide:
 * @hosts, @nhosts: every host of the fleet
 * @req: the shadow to place
 * @rule: the cell rule
 * @ledger: (nullable) current reservations (the request's own domain's
 *   reservation, if any, is not counted against it)
 *
 * Returns: (transfer full) the decision, with every host assessed, even
 * when none is eligible (then chosen = -1 and @error is not set: the
 * caller reports PLACEMENT_ERROR_NO_CAPACITY with decision->reason); NULL
 * with PLACEMENT_ERROR_INVALID on a bad argument.
 */
PlacementDecision *placement_decide(const PlacementHost *hosts, size_t nhosts,
                                    const PlacementRequest *req,
                                    PlacementCellRule rule,
                                    const PlacementLedger *ledger,
                                    GError **error);
