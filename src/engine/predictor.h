/*
 * engine/predictor.h: umbrad's risk engine, wiring the pure risk/ modules
 * to the monitor, the forecaster and the store.
 *
 *   monitor samples --> one RiskProfile per domain and metric (drift)
 *   monitor events  --> incidents (io-error, watchdog, crash, pause on
 *                       error) stored as labels; feature counters
 *   every minute    --> per host and cell: contention from the domains'
 *                       forecasts (CPU in CPUs, memory in KiB) against the
 *                       host's capacity; per domain: the failure model's
 *                       probability from drift, contention, headroom, host
 *                       pressure and event counts; alerts when it crosses
 *                       the adaptive threshold ("risk-alert"/"risk-clear"
 *                       events)
 *   every 15 minutes --> each domain's 1 h failure prediction is stored
 *                       with its features; once the hour has passed its
 *                       outcome (an incident of that domain in it) is set,
 *                       the model learns from it and the threshold adapts;
 *                       the model is saved in the store (and loaded at
 *                       start)
 *
 * A domain's profiles are rebuilt from its stored history the first time
 * it is seen (so a restarted umbrad keeps its baselines).  Everything runs
 * on the main thread; the per-sample work is O(metrics).
 *
 * Until a domain has a forecast (the forecaster needs a few samples), its
 * demand is taken as its last observed value with no uncertainty: the
 * JSON says "forecast": "persistence" for it.
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>
#include <stdbool.h>

#include "engine/monitor.h"
#include "model/config.h"
#include "model/types.h"
#include "placement/placement.h"
#include "tsdb/store.h"

#include "engine/forecaster.h"

#define PREDICTOR_ERROR (predictor_error_quark())
GQuark predictor_error_quark(void);

typedef enum {
    PREDICTOR_ERROR_UNKNOWN_DOMAIN, /* no such domain */
    PREDICTOR_ERROR_UNKNOWN_HOST,   /* no such host */
    PREDICTOR_ERROR_UNKNOWN_CELL,   /* no such cell */
    PREDICTOR_ERROR_INVALID,        /* bad argument */
    PREDICTOR_ERROR_STORE,          /* the store failed */
    PREDICTOR_ERROR_LAST
} PredictorErrorCode;

/* How often each domain's prediction is stored. */
#define PREDICTOR_RECORD_S (15 * 60)

typedef struct Predictor Predictor;

/*
 * predictor_new:
 * @cfg, @m: borrowed, must outlive the predictor
 * @fc: (nullable) the forecaster (borrowed)
 * @store: (nullable) the store (borrowed)
 *
 * Loads the saved failure model from @store (or starts from the prior).
 * Returns: (transfer full) the predictor.
 */
Predictor *predictor_new(const UmbraConfig *cfg, Monitor *m, Forecaster *fc,
                         TsdbStore *store);
void predictor_free(Predictor *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Predictor, predictor_free)

/* A new accepted sample (main thread). */
void predictor_observe(Predictor *p, const DomSample *s);

/* A new event (main thread): incidents and feature counters. */
void predictor_event(Predictor *p, const UmbraEvent *ev);

/* Runs the engine at @now (wall us); umbrad calls it every risk_interval
 * (default 1 minute). */
void predictor_tick(Predictor *p, int64_t now);

/*
 * predictor_add_incident:
 * @dom: a domain name or UUID
 * @kind: (nullable) what happened ("operator" when NULL)
 * @note: (nullable) free text
 * @when: wall us it happened (0 = now)
 *
 * Records an incident an operator reports (umbractl incident).
 * Returns: (transfer full) the stored incident, or NULL with
 * PREDICTOR_ERROR_UNKNOWN_DOMAIN / _INVALID / _STORE.
 */
TsdbIncident *predictor_add_incident(Predictor *p, const char *dom,
                                     const char *kind, const char *note,
                                     int64_t when, GError **error);

/*
 * predictor_risk_json:
 * @dom, @host, @cell: (nullable) at most one: the subject; none = every
 *   domain, host and cell
 *
 * Returns: (transfer full) the risk view (docs/rpc.md "risk"), or NULL
 * with PREDICTOR_ERROR_UNKNOWN_*.
 */
json_object *predictor_risk_json(Predictor *p, const char *dom,
                                 const char *host, const char *cell,
                                 GError **error);

/* Returns: (transfer full) @dom's rhythms and baselines (docs/rpc.md
 * "profile"), or NULL with PREDICTOR_ERROR_UNKNOWN_*. */
json_object *predictor_profile_json(Predictor *p, const char *dom,
                                    GError **error);

/* Returns: (transfer full) the failure model: weights, examples,
 * reliability, threshold. */
json_object *predictor_model_json(Predictor *p);

/*
 * predictor_place_json:
 * @dom: a running domain (name or UUID)
 * @rule: (nullable) "preferred" or "required"; NULL = shadow_cell
 * @only_cell: (nullable) consider only the hosts of this cell
 * @ledger: (nullable) the shadows' reservations: their headroom is taken
 *     and their service groups count for anti-affinity
 *
 * Where a shadow of @dom would go now (placement/placement.h): every host
 * with its capacity, forecast demand (the 95 % upper bound over the next
 * hour, from the last risk tick), eligibility, score and reason, and the
 * choice.  Nothing is reserved here.
 * Returns: (transfer full) the decision (docs/rpc.md "place"), or NULL
 * with PREDICTOR_ERROR_UNKNOWN_DOMAIN (also: not running on a known
 * host) or _INVALID (bad @rule).
 */
json_object *predictor_place_json(Predictor *p, const char *dom,
                                  const char *rule, const char *only_cell,
                                  const PlacementLedger *ledger,
                                  GError **error);
