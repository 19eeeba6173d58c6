/*
 * tsdb/store.h: umbra's persistent time-series store, one SQLite file.
 *
 * The store keeps three kinds of records (schema in docs/store.md):
 *
 *   domain samples   DomSample rows, raw (one per sampling round, e.g.
 *                    every 10 s) and, once older than the raw retention,
 *                    5-minute averages;
 *   host samples     HostSample rows, with the same raw/5-minute scheme;
 *   events           UmbraEvent rows with a never-reused increasing id.
 *
 * plus a `domains` table (UUID -> last known name, host and cell, first
 * and last seen) that add_dom_sample() keeps up to date and that
 * find_domain() reads.
 *
 *     sampling round            tsdb_store_begin()
 *       for each domain           tsdb_store_add_dom_sample()
 *       for each host             tsdb_store_add_host_sample()
 *                               tsdb_store_commit()
 *     every few minutes         tsdb_store_maintain(now, retentions)
 *
 * Used by the daemon's main thread only: a TsdbStore is not thread-safe
 * and starts no threads.  The file is in WAL mode with synchronous=NORMAL:
 * a crash of umbrad loses nothing committed, a power failure may lose the
 * last few committed rounds but never corrupts the file.
 *
 * Failures: every SQLite failure inside a batch (begin..commit) rolls the
 * whole batch back, so the caller can keep the round's samples in memory
 * and retry them later; the store stays usable and the next begin() works.
 * A full disk is reported as TSDB_ERROR_FULL and loses nothing that was
 * committed before.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "model/types.h"

#define TSDB_ERROR (tsdb_error_quark())
GQuark tsdb_error_quark(void);

/* clang-format off */
#define TSDB_ERRORS(X)                                                       \
    X(OPEN, "open")           /* the file cannot be opened or created */    \
    X(SCHEMA, "schema")       /* not an umbra store, or a newer schema */   \
    X(CORRUPT, "corrupt")     /* not an SQLite file, or a damaged one */    \
    X(FULL, "full")           /* disk (or size limit) full: retry later */  \
    X(IO, "io")               /* an I/O error */                            \
    X(NOT_FOUND, "not-found") /* no such domain */                          \
    X(BUSY, "busy")           /* another process holds the write lock */    \
    X(INVALID, "invalid")     /* bad argument or call out of sequence */    \
    X(FAILED, "failed")       /* any other SQLite failure */

/* clang-format off */
typedef enum {
#define X(NAME, STR) TSDB_ERROR_##NAME,
    TSDB_ERRORS(X)
#undef X
    TSDB_ERROR_LAST
} TsdbErrorCode;
/* clang-format on */

/* Returns: the static name of @code ("full", ...); "unknown" if invalid. */
const char *tsdb_error_code_to_string(TsdbErrorCode code);

/* The schema version this build writes and understands. */
#define TSDB_SCHEMA_VERSION 3

/* Width of a downsampled bucket, microseconds (5 minutes). */
#define TSDB_BUCKET_US (G_GINT64_CONSTANT(300) * G_GINT64_CONSTANT(1000000))

/* Upper bound on the raw rows one tsdb_store_maintain() call folds and on
 * the rows it deletes per table, so that a call after a long pause does
 * not block the main loop for long. */
#define TSDB_MAINTAIN_BUDGET 50000

typedef struct TsdbStore TsdbStore;

/* What one tsdb_store_maintain() call did. */
typedef struct {
    int64_t samples_downsampled; /* raw rows (domain + host) folded */
    int64_t averages_written;    /* 5-minute rows inserted or merged into */
    int64_t averages_deleted;    /* 5-minute rows past their retention */
    int64_t events_deleted;      /* events past their retention */
    int64_t domains_deleted;     /* domains with no data left, forgotten */
    int64_t pages_freed;         /* pages given back by incremental vacuum */
    bool more;                   /* budget exhausted: call again soon */
} TsdbMaintainStats;

/*
 * tsdb_store_open:
 * @path: the SQLite file; its directory must exist
 * @error: set on failure: TSDB_ERROR_OPEN (cannot open, create or write),
 *   TSDB_ERROR_CORRUPT (not an SQLite database, or damaged),
 *   TSDB_ERROR_SCHEMA (another application's database, or a schema newer
 *   than TSDB_SCHEMA_VERSION), TSDB_ERROR_BUSY, TSDB_ERROR_IO,
 *   TSDB_ERROR_FULL; every message names @path
 *
 * Opens the store, creating it when @path does not exist or is empty, and
 * migrates an older schema.  Sets WAL mode, synchronous=NORMAL, a busy
 * timeout, foreign keys and incremental auto-vacuum (new files).  A file
 * that is refused (not SQLite, foreign, newer schema) is not modified.
 *
 * Returns: (transfer full) the store, or NULL with @error set.
 */
TsdbStore *tsdb_store_open(const char *path, GError **error);

/*
 * tsdb_store_close:
 * @store: (nullable) (transfer full) the store
 *
 * Rolls back an open batch, if any, and closes the file.
 */
void tsdb_store_close(TsdbStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TsdbStore, tsdb_store_close)

/* Returns: (transfer none) the path the store was opened with. */
const char *tsdb_store_get_path(const TsdbStore *store);

/*
 * tsdb_store_begin:
 * @store: the store
 * @error: TSDB_ERROR_INVALID if a batch is already open; TSDB_ERROR_BUSY
 *   if another process holds the write lock past the busy timeout
 *
 * Opens a batch: the writes until tsdb_store_commit() are stored all
 * together or not at all.  Writes outside a batch commit one by one.
 * begin() may be called after a failed batch (see below) without an
 * explicit tsdb_store_rollback().
 *
 * Returns: true on success.
 */
bool tsdb_store_begin(TsdbStore *store, GError **error);

/*
 * tsdb_store_commit:
 * @store: the store
 * @error: set on failure, e.g. TSDB_ERROR_FULL
 *
 * Commits the open batch.  When the batch was aborted by an earlier
 * failed write, or the commit itself fails, nothing of the batch is
 * stored, the batch is closed, and false is returned with the error of
 * the first failure.
 *
 * Returns: true when every write of the batch is stored.
 */
bool tsdb_store_commit(TsdbStore *store, GError **error);

/*
 * tsdb_store_rollback:
 * @store: the store
 *
 * Drops the open (or failed) batch, if any.  Never fails: if SQLite
 * cannot roll back, it already did.
 */
void tsdb_store_rollback(TsdbStore *store);

/*
 * tsdb_store_add_dom_sample:
 * @store: the store
 * @s: the sample; uuid and name are required, host and cell optional
 * @error: TSDB_ERROR_INVALID for a sample without uuid or name or when
 *   the open batch already failed; TSDB_ERROR_FULL, ... from SQLite
 *
 * Stores @s and updates the domain's row in `domains` (name, host and
 * cell of its newest sample, first and last seen).  A sample with the
 * same uuid and wall_us as a stored one replaces it, so a retry is
 * harmless.  Non-finite rates (NaN, Inf) are stored as NULL and read back
 * as NaN.  On an SQLite failure inside a batch, the batch is rolled back.
 *
 * Returns: true on success.
 */
bool tsdb_store_add_dom_sample(TsdbStore *store, const DomSample *s,
                               GError **error);

/*
 * tsdb_store_add_host_sample:
 * @store: the store
 * @s: the sample; host is required
 * @error: as tsdb_store_add_dom_sample()
 *
 * Stores @s; same rules as tsdb_store_add_dom_sample().
 *
 * Returns: true on success.
 */
bool tsdb_store_add_host_sample(TsdbStore *store, const HostSample *s,
                                GError **error);

/*
 * tsdb_store_add_event:
 * @store: the store
 * @ev: the event; type is required; on success ev->id is set
 * @error: as tsdb_store_add_dom_sample()
 *
 * Appends @ev.  Ids increase and are never reused, even after every
 * event has expired.  If the batch holding it is later rolled back,
 * ev->id is meaningless and the caller should reset it to 0.
 *
 * Returns: true on success (ev->id set); false with @ev untouched.
 */
bool tsdb_store_add_event(TsdbStore *store, UmbraEvent *ev, GError **error);

/*
 * tsdb_store_dom_history:
 * @store: the store
 * @uuid: the domain's UUID
 * @since_wall_us: only points at or after this wall time (microseconds)
 * @max_points: at most this many points; 0 means no limit
 * @error: set on SQLite failure
 *
 * Collects the domain's raw samples and, for the part older than the raw
 * retention, its 5-minute averages (reported at the time of the last raw
 * sample they include), oldest first.  When there are more than
 * @max_points, the time span is cut into @max_points equal intervals and
 * each non-empty interval becomes one point: rates, cpu_pct and
 * mem_used_kib averaged (weighted by the raw samples each point stands
 * for, NaN ignored), everything else (time, name, host, cell, state,
 * vcpus, mem_max_kib) from the interval's last point.  An unknown UUID
 * gives an empty array.
 *
 * Returns: (transfer full) (element-type DomSample) the points, or NULL
 * with @error set.
 */
GPtrArray *tsdb_store_dom_history(TsdbStore *store, const char *uuid,
                                  int64_t since_wall_us, guint max_points,
                                  GError **error);

/*
 * tsdb_store_events:
 * @store: the store
 * @since_id: 0 for the latest @limit events; otherwise the events with
 *   id > @since_id (the first @limit of them)
 * @uuid_or_null: (nullable) only events about this domain UUID
 * @limit: at most this many; 0 means no limit
 * @error: set on SQLite failure
 *
 * Returns: (transfer full) (element-type UmbraEvent) events, oldest
 * first, or NULL with @error set.
 */
GPtrArray *tsdb_store_events(TsdbStore *store, int64_t since_id,
                             const char *uuid_or_null, guint limit,
                             GError **error);

/*
 * tsdb_store_find_domain:
 * @store: the store
 * @name_or_uuid: a UUID (any letter case) or a domain name
 * @ret_uuid: (out) (optional) (transfer full) the domain's UUID
 * @ret_name: (out) (optional) (transfer full) its last known name
 * @error: TSDB_ERROR_NOT_FOUND if no stored domain has that UUID or
 *   that last known name; other codes on SQLite failure
 *
 * Looks @name_or_uuid up in `domains`: first as a UUID, then as a last
 * known name; when several domains last had that name, the most recently
 * seen wins.  A domain's former names do not match.
 *
 * Returns: true on success; on failure the outputs are untouched.
 */
bool tsdb_store_find_domain(TsdbStore *store, const char *name_or_uuid,
                            char **ret_uuid, char **ret_name, GError **error);

/*
 * tsdb_store_maintain:
 * @store: the store; no batch may be open
 * @now_wall_us: the current wall time, microseconds
 * @retention_raw_s: keep raw samples this long (seconds) ...
 * @retention_5m_s: ... and 5-minute averages this long (measured from
 *   now, so it includes the raw period; raised to @retention_raw_s if
 *   smaller)
 * @retention_events_s: keep events this long
 * @ret_stats: (out) (optional) what was done
 * @error: TSDB_ERROR_INVALID if a batch is open; SQLite failures
 *
 * Folds raw samples of every 5-minute bucket (aligned on the epoch) that
 * ended before now - @retention_raw_s into one 5-minute average per
 * domain (host) and bucket, deletes them, deletes averages and events
 * past their retention, forgets domains with no data left that were last
 * seen before the 5-minute retention, and gives free pages back to the
 * file system (incremental vacuum) when more than an eighth of the file
 * is free.  It is idempotent, and does at most about TSDB_MAINTAIN_BUDGET
 * rows of each kind of work per call: when stats.more is set, call it
 * again.  All changes of a call are one transaction: on failure nothing
 * is changed.
 *
 * Returns: true on success.
 */
bool tsdb_store_maintain(TsdbStore *store, int64_t now_wall_us,
                         int64_t retention_raw_s, int64_t retention_5m_s,
                         int64_t retention_events_s,
                         TsdbMaintainStats *ret_stats, GError **error);

/*
 * tsdb_store_count_dom_samples:
 * @store: the store
 * @uuid_or_null: (nullable) one domain's UUID, or NULL for all
 *
 * Returns: the number of stored domain points (raw samples plus 5-minute
 * averages), or -1 on an SQLite failure.
 */
int64_t tsdb_store_count_dom_samples(TsdbStore *store,
                                     const char *uuid_or_null);

/* ------------------------------------------------------------------ */
/* The risk engine's records (schema version 2, docs/store.md)         */

/* One risk prediction, and its outcome once the horizon has passed. */
typedef struct {
    int64_t id;          /* store id, 0 until stored */
    int64_t wall_us;     /* when it was made */
    char *scope;         /* "domain", "host" or "cell" */
    char *subject;       /* domain UUID, host or cell name */
    char *name;          /* display name (domain name) */
    char *kind;          /* "failure" or "contention" */
    int horizon_s;       /* the horizon it is for */
    double prob;         /* the probability */
    double threshold;    /* the alert threshold at the time */
    char *features;      /* the inputs, JSON text (nullable) */
    int outcome;         /* -1 unknown yet, 0 nothing happened, 1 it did */
    int64_t resolved_us; /* when the outcome was set, 0 if not yet */
} TsdbPrediction;

TsdbPrediction *tsdb_prediction_new(void);
void tsdb_prediction_free(TsdbPrediction *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TsdbPrediction, tsdb_prediction_free)

/* A disruption of a domain: from libvirt (I/O error, watchdog, crash,
 * pause on error) or recorded by an operator (umbractl incident). */
typedef struct {
    int64_t id;      /* store id, 0 until stored */
    int64_t wall_us; /* when it happened */
    char *uuid;      /* the domain */
    char *domain;    /* its name */
    char *host;      /* where it ran (nullable) */
    char *kind;      /* "io-error", "watchdog", "crash", "paused-error",
                      * "operator", ... */
    char *source;    /* "libvirt" or "operator" */
    char *note;      /* free text (nullable) */
} TsdbIncident;

TsdbIncident *tsdb_incident_new(void);
void tsdb_incident_free(TsdbIncident *i);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TsdbIncident, tsdb_incident_free)

/* Stores @p (outcome as given); sets p->id.  Returns: true on success. */
bool tsdb_store_add_prediction(TsdbStore *store, TsdbPrediction *p,
                               GError **error);

/*
 * tsdb_store_due_predictions:
 * @now_us: wall clock
 * @limit: at most this many
 *
 * Returns: (transfer full) TsdbPrediction* whose outcome is unknown and
 * whose horizon has passed at @now_us, oldest first; NULL on error.
 */
GPtrArray *tsdb_store_due_predictions(TsdbStore *store, int64_t now_us,
                                      guint limit, GError **error);

/* Sets the outcome (0 or 1) of prediction @id, resolved at @now_us. */
bool tsdb_store_resolve_prediction(TsdbStore *store, int64_t id, int outcome,
                                   int64_t now_us, GError **error);

/*
 * tsdb_store_predictions:
 * @subject_or_null: (nullable) one subject
 * @limit: the most recent this many
 *
 * Returns: (transfer full) TsdbPrediction*, oldest first; NULL on error.
 */
GPtrArray *tsdb_store_predictions(TsdbStore *store, const char *subject_or_null,
                                  guint limit, GError **error);

/* Stores @inc; sets inc->id.  Returns: true on success. */
bool tsdb_store_add_incident(TsdbStore *store, TsdbIncident *inc,
                             GError **error);

/*
 * tsdb_store_count_incidents:
 * @uuid: the domain
 * @from_us, @to_us: the interval (from, to]
 *
 * Returns: how many incidents of @uuid happened in it, or -1 on error.
 */
int64_t tsdb_store_count_incidents(TsdbStore *store, const char *uuid,
                                   int64_t from_us, int64_t to_us,
                                   GError **error);

/* Returns: (transfer full) TsdbIncident* (of @uuid_or_null), oldest first,
 * the most recent @limit; NULL on error. */
GPtrArray *tsdb_store_incidents(TsdbStore *store, const char *uuid_or_null,
                                guint limit, GError **error);

/* Saves @text as the current version of the model named @name. */
bool tsdb_store_save_model(TsdbStore *store, const char *name, const char *text,
                           int64_t now_us, GError **error);

/* Returns: (transfer full) the saved text of model @name; NULL with
 * @error unset when there is none, NULL with @error set on failure. */
char *tsdb_store_load_model(TsdbStore *store, const char *name, GError **error);

/* ------------------------------------------------------------------ */
/* The shadow journal (schema version 3, docs/store.md)                */

/*
 * tsdb_store_journal_shadow:
 * @primary_uuid: the shadow's primary (one shadow per primary)
 * @state: the state it enters
 * @body: the shadow's whole record (JSON text, the engine's format)
 * @from_state, @event, @detail: what happened (nullable)
 *
 * In one transaction, replaces the current record of @primary_uuid's
 * shadow and appends the transition to the journal.
 */
bool tsdb_store_journal_shadow(TsdbStore *store, const char *primary_uuid,
                               const char *state, const char *body,
                               const char *from_state, const char *event,
                               const char *detail, int64_t now_us,
                               GError **error);

/* Returns: (transfer full) the record bodies (char*) of every shadow,
 * final ones included, by primary UUID; NULL on error. */
GPtrArray *tsdb_store_shadows(TsdbStore *store, GError **error);

/* One journal row. */
typedef struct {
    int64_t id;
    int64_t wall_us;
    char *primary_uuid;
    char *from_state; /* nullable */
    char *to_state;
    char *event;  /* nullable */
    char *detail; /* nullable */
} TsdbShadowStep;

void tsdb_shadow_step_free(TsdbShadowStep *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TsdbShadowStep, tsdb_shadow_step_free)

/* Returns: (transfer full) TsdbShadowStep* of @primary_uuid, oldest first,
 * the most recent @limit; NULL on error. */
GPtrArray *tsdb_store_shadow_journal(TsdbStore *store, const char *primary_uuid,
                                     guint limit, GError **error);
