/*
 * engine/shadows.h: the shadow manager.
 *
 * One shadow per primary domain, placed by the predictor's placement
 * (with this manager's reservations), staged and kept by worker threads
 * through sys/shadowops.h, driven by the state machine of shadow/fsm.h,
 * and journaled in the store: every transition is one row of
 * shadow_journal plus the shadow's whole record, in one transaction.
 *
 * At start the manager reads its records back and reconciles them with
 * what libvirt has on every host: shadow domains no record owns (orphans)
 * are removed with their volumes; a staging cut short (umbrad stopped or
 * died) is undone and started again; a warm or cold shadow whose domain
 * vanished is staged again; a retirement cut short is finished.
 *
 * Shadows are created by hand (umbractl shadow-create) or when the risk
 * engine raises a risk-alert for a domain that has none; they are retired
 * by hand, when idle for shadow_idle, or, for those the risk engine
 * asked for, when its risk-clear comes.
 *
 * Everything here runs in the main loop's thread except the jobs, which
 * only see copies of the records and their own libvirt connections.
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>
#include <stdbool.h>

#include "engine/monitor.h"
#include "engine/predictor.h"
#include "model/config.h"
#include "placement/placement.h"
#include "sys/virt.h"
#include "tsdb/store.h"

#define SHADOW_MANAGER_ERROR (shadow_manager_error_quark())
GQuark shadow_manager_error_quark(void);

typedef enum {
    SHADOW_MANAGER_ERROR_UNKNOWN_DOMAIN, /* no such (running) domain */
    SHADOW_MANAGER_ERROR_NO_SHADOW,      /* the domain has no shadow */
    SHADOW_MANAGER_ERROR_EXISTS,         /* it has one already */
    SHADOW_MANAGER_ERROR_BUSY,           /* a job on it is running */
    SHADOW_MANAGER_ERROR_NO_CAPACITY,    /* no host can take it */
    SHADOW_MANAGER_ERROR_INVALID,        /* bad argument */
    SHADOW_MANAGER_ERROR_UNREACHABLE,    /* a host it needs is down */
    SHADOW_MANAGER_ERROR_LAST
} ShadowManagerErrorCode;

typedef struct ShadowManager ShadowManager;

/*
 * shadow_manager_new:
 * @cfg, @ops, @m, @pred, @store: borrowed; must outlive the manager
 *
 * Returns: (transfer full) a manager with the records of @store loaded
 * (reservations restored); shadow_manager_start() reconciles them.
 */
ShadowManager *shadow_manager_new(const UmbraConfig *cfg, const SysVirtOps *ops,
                                  Monitor *m, Predictor *pred,
                                  TsdbStore *store);

/* Starts the reconciliation (once the hosts are connected) and the
 * periodic upkeep (idle retirement, retries). */
void shadow_manager_start(ShadowManager *sm);

/* Cancels running jobs (they undo what they did as far as they can; the
 * next start reconciles the rest) and frees @sm. */
void shadow_manager_free(ShadowManager *sm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ShadowManager, shadow_manager_free)

/* The reservations, for `umbractl place`. */
const PlacementLedger *shadow_manager_ledger(ShadowManager *sm);

/* Runs the upkeep (automatic shadows and cutovers, retirement) from the
 * main loop soon, ahead of its 5 s timer: umbrad calls it when the risk
 * has been recomputed, and a shadow that becomes ready calls it itself.
 * Does nothing before shadow_manager_start(). */
void shadow_manager_poke(ShadowManager *sm);

/* A risk event (risk-alert, risk-clear) from the monitor's event stream. */
void shadow_manager_event(ShadowManager *sm, const UmbraEvent *ev);

/* Returns: (transfer full) {"shadows": [...]} (docs/rpc.md). */
json_object *shadow_manager_list_json(ShadowManager *sm);

/* Returns: (transfer full) @dom's shadow with its journal, or NULL with
 * SHADOW_MANAGER_ERROR_NO_SHADOW. */
json_object *shadow_manager_info_json(ShadowManager *sm, const char *dom,
                                      GError **error);

/*
 * shadow_manager_create:
 * @dom: a running domain (name or UUID)
 * @only_cell: (nullable) the cell to put it in
 * @mode: (nullable) "warm" or "cold"; NULL = shadow_mode
 *
 * Places, reserves and starts staging a shadow of @dom.
 * Returns: (transfer full) the new record (state "staging"), or NULL with
 * @error (unknown domain, one exists, no capacity, bad argument).
 */
json_object *shadow_manager_create(ShadowManager *sm, const char *dom,
                                   const char *only_cell, const char *mode,
                                   GError **error);

/* Starts retiring @dom's shadow.  Returns: (transfer full) its record. */
json_object *shadow_manager_retire(ShadowManager *sm, const char *dom,
                                   GError **error);

/*
 * shadow_manager_cutover:
 * @dom: a running domain
 * @now: only onto a shadow ready now; otherwise fail
 *
 * Live-migrates @dom onto its shadow's host (docs/architecture.md,
 * "Cutover"): onto the ready shadow at once; without @now, when it has
 * none, stages one (or waits for the staging under way) and migrates as
 * soon as it is ready.
 * Returns: (transfer full) the shadow's record, or NULL with @error.
 */
json_object *shadow_manager_cutover(ShadowManager *sm, const char *dom,
                                    bool now, GError **error);
