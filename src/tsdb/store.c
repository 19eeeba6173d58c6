/*
 * tsdb/store.c: the SQLite store behind tsdb/store.h.
 *
 * Layout (docs/store.md has every column and its unit):
 *
 *   meta             key/value: schema_version, created_us
 *   domains          id, uuid (unique), last name/host/cell, first/last seen
 *   hosts            id, name, cell: the (host, cell) pairs ever seen
 *   dom_labels       id, dom_id, name, host_id: a domain's (name, host)
 *                    pairs, so that a sample row carries one small integer
 *                    instead of three strings
 *   dom_samples      raw DomSample rows, key (dom_id, wall_us)
 *   dom_samples_5m   5-minute averages, key (dom_id, bucket start)
 *   host_samples     raw HostSample rows, key (host_id, wall_us)
 *   host_samples_5m  5-minute averages, key (host_id, bucket start)
 *   events           UmbraEvent rows, AUTOINCREMENT id
 *   dom_states       DomState number -> name, for hand-written queries
 *
 * The sample tables are WITHOUT ROWID tables clustered on (series, time):
 * a domain's history is one range scan, there is no second index to keep
 * up to date, and a round of N domains touches N leaf pages (the tails of
 * the domains' ranges).  The expected load is one round every 10 s of a
 * few dozen domains and a handful of hosts, i.e. a few inserts per second;
 * a round is one transaction, so the cost is dominated by one WAL append
 * per round (synchronous=NORMAL: no fsync per commit).
 *
 * Downsampling (tsdb_store_maintain()): for each series, raw rows in whole
 * 5-minute buckets older than the raw retention are folded with one
 * INSERT ... SELECT ... GROUP BY bucket (avg() of the rates, which skips
 * NULLs; "last" columns from the newest row through SQLite's bare-column
 * rule for max()) and deleted.  A bucket that already has an average (a
 * late sample) is merged, weighted by the number of raw rows.  The work
 * is cut into chunks of whole buckets, about TSDB_MAINTAIN_BUDGET rows
 * per call, found with "the wall_us of the K-th oldest row" queries.
 *
 * Batches: BEGIN IMMEDIATE .. COMMIT.  Any SQLite failure while a batch
 * is open rolls it back (SQLite already does for SQLITE_FULL and some
 * I/O errors; we do it for the others so the outcome is always the same)
 * and puts the batch in a failed state that commit() reports.  Writes
 * outside a batch get their own transaction, so a sample is never stored
 * half (domain row without sample row).  The id caches (hosts, labels)
 * are dropped on every rollback since the ids they hold may be gone.
 */
#include "tsdb/store.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stddef.h>
#include <string.h>

#include "util/autoptr.h"
#include "util/clock.h"

#define TSDB_STORE_PRIV_ALLOW
#include "tsdb/storepriv.h"

/* clang-format off */
G_DEFINE_QUARK(umbra-tsdb-error-quark, tsdb_error)
/* clang-format on */

static const char *const tsdb_error_names[] = {
#define X(NAME, STR) STR,
    TSDB_ERRORS(X)
#undef X
};
G_STATIC_ASSERT(G_N_ELEMENTS(tsdb_error_names) == TSDB_ERROR_LAST);

/* "Umbr": PRAGMA application_id of umbra stores. */
#define TSDB_APPLICATION_ID 0x556d6272

/* Milliseconds SQLite waits for another process's lock. */
#define TSDB_BUSY_TIMEOUT_MS 1000

/* The WAL is truncated to this size after a checkpoint (bytes). */
#define TSDB_WAL_SIZE_LIMIT (8 * 1024 * 1024)

/* Most domains forgotten per maintain() call (each costs a scan, see
 * maintain_forget_domains()). */
#define TSDB_FORGET_BUDGET 20

/* Most pages given back per maintain() call. */
#define TSDB_VACUUM_BUDGET 8192

/* The DomSample fields averaged as REAL, in the order of their columns.
 * All are doubles; NaN (unknown) is stored as NULL. */
#define DOM_RATES(X)                                                           \
    X(cpu_pct)                                                                 \
    X(blk_rd_bps)                                                              \
    X(blk_wr_bps)                                                              \
    X(blk_rd_iops)                                                             \
    X(blk_wr_iops)                                                             \
    X(net_rx_bps)                                                              \
    X(net_tx_bps)                                                              \
    X(net_rx_pps)                                                              \
    X(net_tx_pps)                                                              \
    X(dirty_mbps)

static const size_t dom_rate_offsets[] = {
#define X(F) offsetof(DomSample, F),
    DOM_RATES(X)
#undef X
};
#define N_DOM_RATES G_N_ELEMENTS(dom_rate_offsets)
G_STATIC_ASSERT(N_DOM_RATES == 10);

#define COL_(F) ", " #F
#define S_COL_(F) ", s." #F
#define DOM_RATE_COLS DOM_RATES(COL_)
#define DOM_RATE_S_COLS DOM_RATES(S_COL_)
#define DOM_RATE_QMARKS ", ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"

static inline double *
dom_rate_ptr(DomSample *s, guint i)
{
    return (double *) ((char *) s + dom_rate_offsets[i]);
}

static inline double
dom_rate_get(const DomSample *s, guint i)
{
    return *(const double *) ((const char *) s + dom_rate_offsets[i]);
}

/*
 * Schema version 1.  Units: times are microseconds since the Unix epoch
 * (wall clock), memory KiB, rates per second, cpu_pct percent.
 */
/* clang-format off */
static const char schema_v1[] =
    "CREATE TABLE meta (\n"
    "  key TEXT PRIMARY KEY,\n"
    "  value TEXT NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE dom_states (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL\n"
    ");\n"
    "CREATE TABLE hosts (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL,\n"
    "  cell TEXT\n"
    ");\n"
    "CREATE INDEX hosts_name ON hosts (name, cell);\n"
    "CREATE TABLE domains (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  uuid TEXT NOT NULL UNIQUE,\n"
    "  name TEXT NOT NULL,\n"
    "  first_seen INTEGER NOT NULL,\n"
    "  last_seen INTEGER NOT NULL,\n"
    "  last_host TEXT,\n"
    "  last_cell TEXT\n"
    ");\n"
    "CREATE INDEX domains_name ON domains (name);\n"
    "CREATE TABLE dom_labels (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  dom_id INTEGER NOT NULL REFERENCES domains (id),\n"
    "  name TEXT NOT NULL,\n"
    "  host_id INTEGER REFERENCES hosts (id)\n"
    ");\n"
    "CREATE INDEX dom_labels_dom ON dom_labels (dom_id, name, host_id);\n"
    "CREATE INDEX dom_labels_host ON dom_labels (host_id);\n"
    "CREATE TABLE dom_samples (\n"
    "  dom_id INTEGER NOT NULL REFERENCES domains (id),\n"
    "  wall_us INTEGER NOT NULL,\n"
    "  label_id INTEGER NOT NULL REFERENCES dom_labels (id),\n"
    "  state INTEGER NOT NULL,\n"
    "  vcpus INTEGER NOT NULL,\n"
    "  mem_used_kib INTEGER NOT NULL,\n"
    "  mem_max_kib INTEGER NOT NULL,\n"
    "  cpu_pct REAL, blk_rd_bps REAL, blk_wr_bps REAL,\n"
    "  blk_rd_iops REAL, blk_wr_iops REAL,\n"
    "  net_rx_bps REAL, net_tx_bps REAL, net_rx_pps REAL, net_tx_pps REAL,\n"
    "  dirty_mbps REAL,\n"
    "  PRIMARY KEY (dom_id, wall_us)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE dom_samples_5m (\n"
    "  dom_id INTEGER NOT NULL REFERENCES domains (id),\n"
    "  wall_us INTEGER NOT NULL,\n"
    "  last_us INTEGER NOT NULL,\n"
    "  n INTEGER NOT NULL,\n"
    "  label_id INTEGER NOT NULL REFERENCES dom_labels (id),\n"
    "  state INTEGER NOT NULL,\n"
    "  vcpus INTEGER NOT NULL,\n"
    "  mem_used_kib INTEGER NOT NULL,\n"
    "  mem_max_kib INTEGER NOT NULL,\n"
    "  cpu_pct REAL, blk_rd_bps REAL, blk_wr_bps REAL,\n"
    "  blk_rd_iops REAL, blk_wr_iops REAL,\n"
    "  net_rx_bps REAL, net_tx_bps REAL, net_rx_pps REAL, net_tx_pps REAL,\n"
    "  dirty_mbps REAL,\n"
    "  PRIMARY KEY (dom_id, wall_us)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE host_samples (\n"
    "  host_id INTEGER NOT NULL REFERENCES hosts (id),\n"
    "  wall_us INTEGER NOT NULL,\n"
    "  ncpus INTEGER NOT NULL,\n"
    "  cpu_pct REAL,\n"
    "  mem_total_kib INTEGER NOT NULL,\n"
    "  mem_avail_kib INTEGER NOT NULL,\n"
    "  domains INTEGER NOT NULL,\n"
    "  PRIMARY KEY (host_id, wall_us)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE host_samples_5m (\n"
    "  host_id INTEGER NOT NULL REFERENCES hosts (id),\n"
    "  wall_us INTEGER NOT NULL,\n"
    "  last_us INTEGER NOT NULL,\n"
    "  n INTEGER NOT NULL,\n"
    "  ncpus INTEGER NOT NULL,\n"
    "  cpu_pct REAL,\n"
    "  mem_total_kib INTEGER NOT NULL,\n"
    "  mem_avail_kib INTEGER NOT NULL,\n"
    "  domains INTEGER NOT NULL,\n"
    "  PRIMARY KEY (host_id, wall_us)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE events (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  wall_us INTEGER NOT NULL,\n"
    "  source TEXT NOT NULL,\n"
    "  host TEXT,\n"
    "  domain TEXT,\n"
    "  uuid TEXT,\n"
    "  type TEXT NOT NULL,\n"
    "  detail TEXT\n"
    ");\n"
    "CREATE INDEX events_uuid ON events (uuid, id);\n"
    "CREATE INDEX events_time ON events (wall_us);\n"
    /* Views for people querying the file with sqlite3(1). */
    "CREATE VIEW dom_history AS"
    "  SELECT d.uuid, l.name, h.name AS host, h.cell, 'raw' AS res, 1 AS n,\n"
    "    s.wall_us,\n"
    "    strftime('%Y-%m-%dT%H:%M:%fZ', s.wall_us / 1e6, 'unixepoch') AS time,\n"
    "    st.name AS state, s.vcpus, s.mem_used_kib, s.mem_max_kib"
    DOM_RATE_S_COLS
    "  FROM dom_samples s JOIN domains d ON d.id = s.dom_id"
    "    JOIN dom_labels l ON l.id = s.label_id"
    "    LEFT JOIN hosts h ON h.id = l.host_id"
    "    LEFT JOIN dom_states st ON st.id = s.state"
    "\n  UNION ALL\n"
    "  SELECT d.uuid, l.name, h.name, h.cell, '5m', s.n, s.last_us,\n"
    "    strftime('%Y-%m-%dT%H:%M:%fZ', s.last_us / 1e6, 'unixepoch'),\n"
    "    st.name, s.vcpus, s.mem_used_kib, s.mem_max_kib"
    DOM_RATE_S_COLS
    "  FROM dom_samples_5m s JOIN domains d ON d.id = s.dom_id"
    "    JOIN dom_labels l ON l.id = s.label_id"
    "    LEFT JOIN hosts h ON h.id = l.host_id"
    "    LEFT JOIN dom_states st ON st.id = s.state;\n"
    "CREATE VIEW host_history AS"
    "  SELECT h.name AS host, h.cell, 'raw' AS res, 1 AS n, s.wall_us,\n"
    "    strftime('%Y-%m-%dT%H:%M:%fZ', s.wall_us / 1e6, 'unixepoch') AS time,\n"
    "    s.ncpus, s.cpu_pct, s.mem_total_kib, s.mem_avail_kib, s.domains"
    "  FROM host_samples s JOIN hosts h ON h.id = s.host_id"
    "\n  UNION ALL\n"
    "  SELECT h.name, h.cell, '5m', s.n, s.last_us,\n"
    "    strftime('%Y-%m-%dT%H:%M:%fZ', s.last_us / 1e6, 'unixepoch'),\n"
    "    s.ncpus, s.cpu_pct, s.mem_total_kib, s.mem_avail_kib, s.domains"
    "  FROM host_samples_5m s JOIN hosts h ON h.id = s.host_id;\n"
    "CREATE VIEW events_v AS"
    "  SELECT id,\n"
    "    strftime('%Y-%m-%dT%H:%M:%fZ', wall_us / 1e6, 'unixepoch') AS time,\n"
    "    source, host, domain, uuid, type, detail FROM events;";
/* clang-format on */

/* Schema version 2: the risk engine's predictions, incidents and models. */
/* clang-format off */
static const char schema_v2[] =
    "CREATE TABLE predictions (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  wall_us INTEGER NOT NULL,\n"
    "  scope TEXT NOT NULL,\n"
    "  subject TEXT NOT NULL,\n"
    "  name TEXT,\n"
    "  kind TEXT NOT NULL,\n"
    "  horizon_s INTEGER NOT NULL,\n"
    "  prob REAL NOT NULL,\n"
    "  threshold REAL,\n"
    "  features TEXT,\n"
    "  outcome INTEGER,\n"
    "  resolved_us INTEGER\n"
    ");\n"
    "CREATE INDEX predictions_due ON predictions (outcome, wall_us);\n"
    "CREATE INDEX predictions_subject ON predictions (subject, id);\n"
    "CREATE TABLE incidents (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  wall_us INTEGER NOT NULL,\n"
    "  uuid TEXT NOT NULL,\n"
    "  domain TEXT,\n"
    "  host TEXT,\n"
    "  kind TEXT NOT NULL,\n"
    "  source TEXT NOT NULL,\n"
    "  note TEXT\n"
    ");\n"
    "CREATE INDEX incidents_uuid ON incidents (uuid, wall_us);\n"
    "CREATE TABLE models (\n"
    "  name TEXT PRIMARY KEY,\n"
    "  saved_us INTEGER NOT NULL,\n"
    "  body TEXT NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "CREATE VIEW predictions_v AS"
    "  SELECT id,\n"
    "    strftime('%Y-%m-%dT%H:%M:%fZ', wall_us / 1e6, 'unixepoch') AS time,\n"
    "    scope, subject, name, kind, horizon_s, prob, threshold, outcome,\n"
    "    features FROM predictions;";
/* clang-format on */

/* Schema version 3: the shadow manager's records and journal. */
/* clang-format off */
static const char schema_v3[] =
    "CREATE TABLE shadows (\n"
    "  primary_uuid TEXT PRIMARY KEY,\n"
    "  state TEXT NOT NULL,\n"
    "  updated_us INTEGER NOT NULL,\n"
    "  body TEXT NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE shadow_journal (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  wall_us INTEGER NOT NULL,\n"
    "  primary_uuid TEXT NOT NULL,\n"
    "  from_state TEXT,\n"
    "  to_state TEXT NOT NULL,\n"
    "  event TEXT,\n"
    "  detail TEXT\n"
    ");\n"
    "CREATE INDEX shadow_journal_uuid ON shadow_journal (primary_uuid, id);\n"
    "CREATE VIEW shadow_journal_v AS"
    "  SELECT id,\n"
    "    strftime('%Y-%m-%dT%H:%M:%fZ', wall_us / 1e6, 'unixepoch') AS time,\n"
    "    primary_uuid, from_state, to_state, event, detail"
    "  FROM shadow_journal;";
/* clang-format on */

/* migrations[v] takes a store from schema version v to v + 1. */
static const char *const migrations[] = {
    schema_v1,
    schema_v2,
    schema_v3,
};
G_STATIC_ASSERT(G_N_ELEMENTS(migrations) == TSDB_SCHEMA_VERSION);

/* Columns read back for a history point, in this order. */
#define HIST_COLS                                                              \
    "l.name, h.name, h.cell, s.state, s.vcpus, s.mem_used_kib,"                \
    " s.mem_max_kib" DOM_RATE_S_COLS
enum {
    HIST_WALL,
    HIST_N,
    HIST_NAME,
    HIST_HOST,
    HIST_CELL,
    HIST_STATE,
    HIST_VCPUS,
    HIST_MEM_USED,
    HIST_MEM_MAX,
    HIST_RATE0,
};

#define EVENT_COLS "id, wall_us, source, host, domain, uuid, type, detail"

#define STMTS(X)                                                               \
    X(BEGIN, "BEGIN IMMEDIATE")                                                \
    X(COMMIT, "COMMIT")                                                        \
    X(ROLLBACK, "ROLLBACK")                                                    \
    X(DOM_UPSERT,                                                              \
      "INSERT INTO domains (uuid, name, first_seen, last_seen, last_host,"     \
      " last_cell) VALUES (?1, ?2, ?3, ?3, ?4, ?5)"                            \
      " ON CONFLICT (uuid) DO UPDATE SET"                                      \
      " name = iif(excluded.last_seen >= last_seen, excluded.name, name),"     \
      " last_host = iif(excluded.last_seen >= last_seen,"                      \
      "   excluded.last_host, last_host),"                                     \
      " last_cell = iif(excluded.last_seen >= last_seen,"                      \
      "   excluded.last_cell, last_cell),"                                     \
      " first_seen = min(first_seen, excluded.first_seen),"                    \
      " last_seen = max(last_seen, excluded.last_seen)"                        \
      " RETURNING id")                                                         \
    X(HOST_FIND, "SELECT id FROM hosts WHERE name = ?1 AND cell IS ?2")        \
    X(HOST_INSERT, "INSERT INTO hosts (name, cell) VALUES (?1, ?2)")           \
    X(LABEL_FIND, "SELECT id FROM dom_labels"                                  \
                  " WHERE dom_id = ?1 AND name = ?2 AND host_id IS ?3")        \
    X(LABEL_INSERT,                                                            \
      "INSERT INTO dom_labels (dom_id, name, host_id) VALUES (?1, ?2, ?3)")    \
    X(DOM_INSERT,                                                              \
      "INSERT OR REPLACE INTO dom_samples (dom_id, wall_us, label_id,"         \
      " state, vcpus, mem_used_kib, mem_max_kib" DOM_RATE_COLS ")"             \
      " VALUES (?, ?, ?, ?, ?, ?, ?" DOM_RATE_QMARKS ")")                      \
    X(HOST_SAMPLE_INSERT,                                                      \
      "INSERT OR REPLACE INTO host_samples (host_id, wall_us, ncpus,"          \
      " cpu_pct, mem_total_kib, mem_avail_kib, domains)"                       \
      " VALUES (?, ?, ?, ?, ?, ?, ?)")                                         \
    X(EVENT_INSERT,                                                            \
      "INSERT INTO events (wall_us, source, host, domain, uuid, type,"         \
      " detail) VALUES (?, ?, ?, ?, ?, ?, ?)")                                 \
    X(DOM_ID, "SELECT id FROM domains WHERE uuid = ?1")                        \
    X(HISTORY,                                                                 \
      "SELECT s.wall_us, 1, " HIST_COLS                                        \
      " FROM dom_samples s JOIN dom_labels l ON l.id = s.label_id"             \
      " LEFT JOIN hosts h ON h.id = l.host_id"                                 \
      " WHERE s.dom_id = ?1 AND s.wall_us >= ?2"                               \
      " UNION ALL "                                                            \
      "SELECT s.last_us, s.n, " HIST_COLS                                      \
      " FROM dom_samples_5m s JOIN dom_labels l ON l.id = s.label_id"          \
      " LEFT JOIN hosts h ON h.id = l.host_id"                                 \
      " WHERE s.dom_id = ?1 AND s.wall_us > ?2 - ?3 AND s.last_us >= ?2"       \
      " ORDER BY 1")                                                           \
    X(EVENTS_LATEST, "SELECT * FROM (SELECT " EVENT_COLS " FROM events"        \
                     " ORDER BY id DESC LIMIT ?1) ORDER BY id")                \
    X(EVENTS_LATEST_UUID,                                                      \
      "SELECT * FROM (SELECT " EVENT_COLS " FROM events WHERE uuid = ?2"       \
      " ORDER BY id DESC LIMIT ?1) ORDER BY id")                               \
    X(EVENTS_SINCE, "SELECT " EVENT_COLS " FROM events WHERE id > ?2"          \
                    " ORDER BY id LIMIT ?1")                                   \
    X(EVENTS_SINCE_UUID,                                                       \
      "SELECT " EVENT_COLS " FROM events WHERE uuid = ?3 AND id > ?2"          \
      " ORDER BY id LIMIT ?1")                                                 \
    X(FIND_UUID, "SELECT uuid, name FROM domains WHERE uuid = ?1")             \
    X(FIND_NAME, "SELECT uuid, name FROM domains WHERE name = ?1"              \
                 " ORDER BY last_seen DESC LIMIT 1")                           \
    X(COUNT_ALL, "SELECT (SELECT count(*) FROM dom_samples)"                   \
                 " + (SELECT count(*) FROM dom_samples_5m)")                   \
    X(COUNT_ONE, "SELECT (SELECT count(*) FROM dom_samples WHERE dom_id = ?1)" \
                 " + (SELECT count(*) FROM dom_samples_5m WHERE dom_id = ?1)")

/* clang-format off */
typedef enum {
#define X(NAME, SQL) STMT_##NAME,
    STMTS(X)
#undef X
    STMT_LAST
} StmtId;
/* clang-format on */

static const char *const stmt_sql[] = {
#define X(NAME, SQL) SQL,
    STMTS(X)
#undef X
};
G_STATIC_ASSERT(G_N_ELEMENTS(stmt_sql) == STMT_LAST);

typedef enum {
    BATCH_NONE,   /* autocommit: each write is its own transaction */
    BATCH_OPEN,   /* inside begin() .. commit() */
    BATCH_FAILED, /* a write failed; the transaction is rolled back */
} BatchState;

struct TsdbStore {
    char *path;                    /* file name, for messages */
    sqlite3 *db;                   /* the connection */
    sqlite3_stmt *stmt[STMT_LAST]; /* prepared on first use */
    BatchState batch;              /* see BatchState */
    GError *batch_error;           /* first failure of a BATCH_FAILED batch */
    GHashTable *host_ids;          /* "name\037cell" -> gint64 *id */
    GHashTable *label_ids;         /* "dom\037host\037name" -> gint64 *id */
};

/* A borrowed cached statement, reset and unbound when it goes out of
 * scope so that no read transaction stays open behind our back. */
typedef struct {
    sqlite3_stmt *st;
} StmtHold;

static void
stmt_hold_clear(StmtHold *h)
{
    if (h->st) {
        sqlite3_reset(h->st);
        sqlite3_clear_bindings(h->st);
        h->st = NULL;
    }
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(StmtHold, stmt_hold_clear)

const char *
tsdb_error_code_to_string(TsdbErrorCode code)
{
    if ((int) code < 0 || code >= TSDB_ERROR_LAST) {
        return "unknown";
    }
    return tsdb_error_names[code];
}

static TsdbErrorCode
code_from_sqlite(sqlite3 *db, int rc)
{
    switch (rc & 0xff) {
    case SQLITE_FULL:
        return TSDB_ERROR_FULL;
    case SQLITE_IOERR:
        if (db && sqlite3_system_errno(db) == ENOSPC) {
            return TSDB_ERROR_FULL;
        }
        return TSDB_ERROR_IO;
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
        return TSDB_ERROR_IO;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return TSDB_ERROR_OPEN;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return TSDB_ERROR_CORRUPT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return TSDB_ERROR_BUSY;
    default:
        return TSDB_ERROR_FAILED;
    }
}

/* Returns: (transfer full) an error for the SQLite failure @rc while
 * doing @what.  Call before anything else touches the connection. */
static GError *
make_error(TsdbStore *store, int rc, const char *what)
{
    TsdbErrorCode code = code_from_sqlite(store->db, rc);
    const char *msg =
        store->db ? sqlite3_errmsg(store->db) : sqlite3_errstr(rc);

    if (code == TSDB_ERROR_FULL) {
        return g_error_new(TSDB_ERROR, code,
                           "store %s: %s: disk full (%s); nothing of this "
                           "write was stored, earlier data is intact",
                           store->path, what, msg);
    }
    return g_error_new(TSDB_ERROR, code, "store %s: %s: %s (SQLite %d)",
                       store->path, what, msg, rc);
}

static void
clear_caches(TsdbStore *store)
{
    g_hash_table_remove_all(store->host_ids);
    g_hash_table_remove_all(store->label_ids);
}

/* Rolls back the transaction SQLite has open, if any. */
static void
rollback_quietly(TsdbStore *store)
{
    if (!sqlite3_get_autocommit(store->db)) {
        /* Pending statements are reset by their StmtHold; a ROLLBACK
         * that still fails means SQLite has rolled back already. */
        sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
    }
    clear_caches(store);
}

/*
 * Reports a failed write: rolls back the transaction (the batch, or the
 * write's own one) and, inside a batch, marks the batch failed.
 * Returns: false, for "return write_fail(...)".
 */
static bool
write_fail(TsdbStore *store, int rc, const char *what, GError **error)
{
    g_autoptr(GError) err = make_error(store, rc, what);

    if (store->batch == BATCH_OPEN) {
        store->batch = BATCH_FAILED;
        g_clear_error(&store->batch_error);
        store->batch_error = g_error_copy(err);
    }
    rollback_quietly(store);
    if (err->code == TSDB_ERROR_FULL) {
        /* The WAL may be what fills the disk: move it into the database
         * and truncate it, so that the next write has the WAL's room
         * (this fails harmlessly while the disk is still full). */
        sqlite3_wal_checkpoint_v2(store->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                  NULL, NULL);
    }
    g_propagate_error(error, g_steal_pointer(&err));
    return false;
}

/*
 * Reports a failed read.  SQLite may have rolled back an open batch on
 * its own (I/O errors); then the batch is failed too.
 * Returns: false.
 */
static bool
read_fail(TsdbStore *store, int rc, const char *what, GError **error)
{
    g_autoptr(GError) err = make_error(store, rc, what);

    if (store->batch == BATCH_OPEN && sqlite3_get_autocommit(store->db)) {
        store->batch = BATCH_FAILED;
        g_clear_error(&store->batch_error);
        store->batch_error = g_error_copy(err);
        clear_caches(store);
    }
    g_propagate_error(error, g_steal_pointer(&err));
    return false;
}

/* Returns: the cached statement @id, prepared on first use; NULL with
 * *ret_rc set on failure. */
static sqlite3_stmt *
get_stmt(TsdbStore *store, StmtId id, int *ret_rc)
{
    if (!store->stmt[id]) {
        int rc = sqlite3_prepare_v3(store->db, stmt_sql[id], -1,
                                    SQLITE_PREPARE_PERSISTENT, &store->stmt[id],
                                    NULL);

        if (rc != SQLITE_OK) {
            *ret_rc = rc;
            return NULL;
        }
    }
    return store->stmt[id];
}

/* Steps a statement that returns no row (or whose row is ignored). */
static int
step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? SQLITE_OK : rc;
}

static int
exec_stmt(TsdbStore *store, StmtId id)
{
    g_auto(StmtHold) h = {NULL};
    int rc = SQLITE_OK;

    if (!(h.st = get_stmt(store, id, &rc))) {
        return rc;
    }
    return step_done(h.st);
}

static void
bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s) {
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, i);
    }
}

/* Binds @v, or NULL when it is NaN or infinite. */
static void
bind_rate(sqlite3_stmt *st, int i, double v)
{
    if (isfinite(v)) {
        sqlite3_bind_double(st, i, v);
    } else {
        sqlite3_bind_null(st, i);
    }
}

static double
column_rate(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL) {
        return NAN;
    }
    return sqlite3_column_double(st, i);
}

static char *
column_strdup(sqlite3_stmt *st, int i)
{
    return g_strdup((const char *) sqlite3_column_text(st, i));
}

/* Runs a "PRAGMA x" (or any one-value query) and returns its integer. */
static int
query_int64(sqlite3 *db, const char *sql, int64_t *ret)
{
    g_autoptr(sqlite3_stmt) st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

    if (rc != SQLITE_OK) {
        return rc;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *ret = sqlite3_column_int64(st, 0);
        return SQLITE_OK;
    }
    if (rc == SQLITE_DONE) {
        *ret = 0;
        return SQLITE_OK;
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Opening and closing                                                 */

static GError *
open_error(const char *path, sqlite3 *db, int rc, const char *what)
{
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    TsdbErrorCode code = code_from_sqlite(db, rc);

    if (code == TSDB_ERROR_CORRUPT) {
        return g_error_new(TSDB_ERROR, code,
                           "store %s is not an SQLite database or is "
                           "damaged (%s); the file was left untouched: "
                           "move it away to start a new store",
                           path, msg);
    }
    if (code == TSDB_ERROR_FAILED) {
        code = TSDB_ERROR_OPEN;
    }
    return g_error_new(TSDB_ERROR, code, "cannot open store %s: %s: %s", path,
                       what, msg);
}

/* Reads the schema version without writing anything.  Sets *ret_version
 * to 0 for an empty database; refuses foreign databases. */
static bool
open_read_version(const char *path, sqlite3 *db, int64_t *ret_version,
                  GError **error)
{
    int64_t ntables = 0;
    int64_t has_meta = 0;
    int64_t app_id = 0;
    g_autoptr(sqlite3_stmt) st = NULL;
    const char *v = NULL;
    int64_t version = 0;
    int rc;

    /* The first read of the file: fails with SQLITE_NOTADB on garbage. */
    rc = query_int64(db, "SELECT count(*) FROM sqlite_schema", &ntables);
    if (rc == SQLITE_OK) {
        rc = query_int64(db, "PRAGMA application_id", &app_id);
    }
    if (rc == SQLITE_OK) {
        rc = query_int64(db,
                         "SELECT count(*) FROM sqlite_schema WHERE "
                         "type = 'table' AND name = 'meta'",
                         &has_meta);
    }
    if (rc != SQLITE_OK) {
        g_propagate_error(error, open_error(path, db, rc, "reading"));
        return false;
    }
    if (ntables == 0 && app_id == 0) {
        *ret_version = 0;
        return true;
    }
    if (app_id != TSDB_APPLICATION_ID || !has_meta) {
        g_set_error(error, TSDB_ERROR, TSDB_ERROR_SCHEMA,
                    "store %s is an SQLite database but not an umbra "
                    "store (application_id 0x%08" G_GINT64_MODIFIER "x, "
                    "%s meta table); the file was left untouched",
                    path, app_id, has_meta ? "a" : "no");
        return false;
    }
    rc = sqlite3_prepare_v2(db,
                            "SELECT value FROM meta WHERE "
                            "key = 'schema_version'",
                            -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
    }
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE) {
            g_set_error(error, TSDB_ERROR, TSDB_ERROR_SCHEMA,
                        "store %s has no schema_version in its meta "
                        "table; the file was left untouched",
                        path);
        } else {
            g_propagate_error(error, open_error(path, db, rc, "reading"));
        }
        return false;
    }
    v = (const char *) sqlite3_column_text(st, 0);
    if (!v || !g_ascii_string_to_signed(v, 10, 1, G_MAXINT, &version, NULL)) {
        g_set_error(error, TSDB_ERROR, TSDB_ERROR_SCHEMA,
                    "store %s has an invalid schema_version '%s'; the file "
                    "was left untouched",
                    path, v ? v : "");
        return false;
    }
    if (version > TSDB_SCHEMA_VERSION) {
        g_set_error(error, TSDB_ERROR, TSDB_ERROR_SCHEMA,
                    "store %s has schema version %" G_GINT64_FORMAT
                    ", newer than version %d that this umbra supports: "
                    "upgrade umbra or move the file away; the file was "
                    "left untouched",
                    path, version, TSDB_SCHEMA_VERSION);
        return false;
    }
    *ret_version = version;
    return true;
}

static bool
open_exec(TsdbStore *store, const char *sql, const char *what, GError **error)
{
    int rc = sqlite3_exec(store->db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK) {
        g_propagate_error(error, open_error(store->path, store->db, rc, what));
        return false;
    }
    return true;
}

/* Brings the schema to TSDB_SCHEMA_VERSION in one transaction. */
static bool
open_migrate(TsdbStore *store, GError **error)
{
    int64_t version = 0;
    g_autofree char *meta_sql = NULL;
    g_autoptr(GString) states = g_string_new("INSERT OR REPLACE INTO "
                                             "dom_states VALUES ");

    if (!open_exec(store, "BEGIN IMMEDIATE", "locking", error)) {
        return false;
    }
    /* Another process may have created or migrated it meanwhile. */
    if (!open_read_version(store->path, store->db, &version, error)) {
        rollback_quietly(store);
        return false;
    }
    for (int64_t v = version; v < TSDB_SCHEMA_VERSION; v++) {
        if (!open_exec(store, migrations[v], "creating the schema", error)) {
            rollback_quietly(store);
            return false;
        }
    }
    for (int i = 0; i < DOM_STATE_LAST; i++) {
        g_string_append_printf(states, "%s(%d, '%s')", i ? ", " : "", i,
                               dom_state_to_string(i));
    }
    meta_sql = g_strdup_printf(
        "INSERT OR REPLACE INTO meta VALUES ('schema_version', '%d');"
        "INSERT OR IGNORE INTO meta VALUES ('created_us', '%" G_GINT64_FORMAT
        "');"
        "PRAGMA application_id = %d;",
        TSDB_SCHEMA_VERSION, util_clock_wall(), TSDB_APPLICATION_ID);
    if (!open_exec(store, states->str, "writing dom_states", error) ||
        !open_exec(store, meta_sql, "writing meta", error) ||
        !open_exec(store, "COMMIT", "committing the schema", error)) {
        rollback_quietly(store);
        return false;
    }
    return true;
}

TsdbStore *
tsdb_store_open(const char *path, GError **error)
{
    g_autoptr(TsdbStore) store = g_new0(TsdbStore, 1);
    g_autofree char *pragmas = NULL;
    int64_t version = 0;
    int64_t wal = 0;
    int rc;

    store->path = g_strdup(path);
    store->host_ids =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    store->label_ids =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

    rc = sqlite3_open_v2(path, &store->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        GError *err = open_error(path, store->db, rc, "opening");

        err->code = TSDB_ERROR_OPEN;
        g_propagate_error(error, err);
        return NULL;
    }
    sqlite3_extended_result_codes(store->db, 1);
    sqlite3_busy_timeout(store->db, TSDB_BUSY_TIMEOUT_MS);
    /* SQLite falls back to read-only when the file is not writable; every
     * write would then fail later with a less helpful message. */
    if (sqlite3_db_readonly(store->db, "main") == 1) {
        g_set_error(error, TSDB_ERROR, TSDB_ERROR_OPEN,
                    "cannot open store %s: the file is not writable", path);
        return NULL;
    }

    /* Nothing is written before the file is known to be ours. */
    if (!open_read_version(path, store->db, &version, error)) {
        return NULL;
    }
    if (version == 0 && !open_exec(store, "PRAGMA auto_vacuum = INCREMENTAL",
                                   "setting auto_vacuum", error)) {
        return NULL;
    }
    rc = query_int64(store->db, "PRAGMA journal_mode = WAL", &wal);
    if (rc != SQLITE_OK) {
        g_propagate_error(error,
                          open_error(path, store->db, rc, "enabling WAL"));
        return NULL;
    }
    /* A small automatic checkpoint (256 pages, 1 MiB) keeps the WAL from
     * taking what little room a nearly full disk has left. */
    pragmas = g_strdup_printf("PRAGMA synchronous = NORMAL;"
                              "PRAGMA foreign_keys = ON;"
                              "PRAGMA temp_store = MEMORY;"
                              "PRAGMA wal_autocheckpoint = 256;"
                              "PRAGMA journal_size_limit = %d;",
                              TSDB_WAL_SIZE_LIMIT);
    if (!open_exec(store, pragmas, "setting pragmas", error)) {
        return NULL;
    }
    {
        /* journal_mode returns the mode as text; check it took. */
        g_autoptr(sqlite3_stmt) st = NULL;

        rc =
            sqlite3_prepare_v2(store->db, "PRAGMA journal_mode", -1, &st, NULL);
        if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
            g_ascii_strcasecmp((const char *) sqlite3_column_text(st, 0),
                               "wal") != 0) {
            g_set_error(error, TSDB_ERROR, TSDB_ERROR_OPEN,
                        "cannot open store %s: the file system does not "
                        "support SQLite's WAL mode (journal mode '%s')",
                        path, (const char *) sqlite3_column_text(st, 0));
            return NULL;
        }
    }
    if (version < TSDB_SCHEMA_VERSION && !open_migrate(store, error)) {
        return NULL;
    }
    return g_steal_pointer(&store);
}

void
tsdb_store_close(TsdbStore *store)
{
    if (!store) {
        return;
    }
    if (store->db) {
        if (!sqlite3_get_autocommit(store->db)) {
            sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
        }
        for (int i = 0; i < STMT_LAST; i++) {
            sqlite3_finalize(store->stmt[i]);
        }
        sqlite3_close_v2(store->db);
    }
    if (store->host_ids) {
        g_hash_table_destroy(store->host_ids);
    }
    if (store->label_ids) {
        g_hash_table_destroy(store->label_ids);
    }
    g_clear_error(&store->batch_error);
    g_free(store->path);
    g_free(store);
}

const char *
tsdb_store_get_path(const TsdbStore *store)
{
    return store->path;
}

sqlite3 *
tsdb_store_priv_get_db(TsdbStore *store)
{
    return store->db;
}

/* ------------------------------------------------------------------ */
/* Batches                                                             */

bool
tsdb_store_begin(TsdbStore *store, GError **error)
{
    int rc;

    if (store->batch == BATCH_OPEN) {
        g_set_error(error, TSDB_ERROR, TSDB_ERROR_INVALID,
                    "store %s: begin: a batch is already open", store->path);
        return false;
    }
    tsdb_store_rollback(store);
    rc = exec_stmt(store, STMT_BEGIN);
    if (rc != SQLITE_OK) {
        return write_fail(store, rc, "begin", error);
    }
    store->batch = BATCH_OPEN;
    return true;
}

bool
tsdb_store_commit(TsdbStore *store, GError **error)
{
    int rc;

    if (store->batch == BATCH_NONE) {
        g_set_error(error, TSDB_ERROR, TSDB_ERROR_INVALID,
                    "store %s: commit: no batch is open", store->path);
        return false;
    }
    if (store->batch == BATCH_FAILED) {
        g_propagate_prefixed_error(error, g_steal_pointer(&store->batch_error),
                                   "batch rolled back: ");
        store->batch = BATCH_NONE;
        return false;
    }
    rc = exec_stmt(store, STMT_COMMIT);
    if (rc != SQLITE_OK) {
        store->batch = BATCH_NONE;
        return write_fail(store, rc, "commit", error);
    }
    store->batch = BATCH_NONE;
    return true;
}

void
tsdb_store_rollback(TsdbStore *store)
{
    if (store->batch == BATCH_OPEN || !sqlite3_get_autocommit(store->db)) {
        rollback_quietly(store);
    }
    store->batch = BATCH_NONE;
    g_clear_error(&store->batch_error);
}

/*
 * Starts a write: outside a batch, opens the write's own transaction
 * (*ret_own = true).  Refuses writes into a failed batch, which would
 * otherwise be committed one by one.
 */
static bool
write_begin(TsdbStore *store, bool *ret_own, GError **error)
{
    int rc;

    *ret_own = false;
    if (store->batch == BATCH_FAILED) {
        g_set_error(error, TSDB_ERROR, store->batch_error->code,
                    "batch already rolled back: %s",
                    store->batch_error->message);
        return false;
    }
    if (store->batch == BATCH_OPEN) {
        return true;
    }
    rc = exec_stmt(store, STMT_BEGIN);
    if (rc != SQLITE_OK) {
        return write_fail(store, rc, "begin", error);
    }
    *ret_own = true;
    return true;
}

static bool
write_end(TsdbStore *store, bool own, const char *what, GError **error)
{
    int rc;

    if (!own) {
        return true;
    }
    rc = exec_stmt(store, STMT_COMMIT);
    if (rc != SQLITE_OK) {
        return write_fail(store, rc, what, error);
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Writes                                                              */

/* Finds or creates the hosts row for (@host, @cell). */
static int
host_id_get(TsdbStore *store, const char *host, const char *cell,
            int64_t *ret_id)
{
    g_autofree char *key =
        g_strdup_printf("%s\037%s", host, cell ? cell : "\036");
    gint64 *cached = g_hash_table_lookup(store->host_ids, key);
    g_auto(StmtHold) h = {NULL};
    int rc = SQLITE_OK;

    if (cached) {
        *ret_id = *cached;
        return SQLITE_OK;
    }
    if (!(h.st = get_stmt(store, STMT_HOST_FIND, &rc))) {
        return rc;
    }
    sqlite3_bind_text(h.st, 1, host, -1, SQLITE_STATIC);
    bind_text_or_null(h.st, 2, cell);
    rc = sqlite3_step(h.st);
    if (rc == SQLITE_ROW) {
        *ret_id = sqlite3_column_int64(h.st, 0);
    } else if (rc == SQLITE_DONE) {
        stmt_hold_clear(&h);
        if (!(h.st = get_stmt(store, STMT_HOST_INSERT, &rc))) {
            return rc;
        }
        sqlite3_bind_text(h.st, 1, host, -1, SQLITE_STATIC);
        bind_text_or_null(h.st, 2, cell);
        if ((rc = step_done(h.st)) != SQLITE_OK) {
            return rc;
        }
        *ret_id = sqlite3_last_insert_rowid(store->db);
    } else {
        return rc;
    }
    g_hash_table_insert(store->host_ids, g_steal_pointer(&key),
                        g_memdup2(ret_id, sizeof(*ret_id)));
    return SQLITE_OK;
}

/* Finds or creates the dom_labels row for (@dom_id, @name, @host_id);
 * @host_id 0 means no host. */
static int
label_id_get(TsdbStore *store, int64_t dom_id, const char *name,
             int64_t host_id, int64_t *ret_id)
{
    g_autofree char *key =
        g_strdup_printf("%" G_GINT64_FORMAT "\037%" G_GINT64_FORMAT "\037%s",
                        dom_id, host_id, name);
    gint64 *cached = g_hash_table_lookup(store->label_ids, key);
    g_auto(StmtHold) h = {NULL};
    int rc = SQLITE_OK;

    if (cached) {
        *ret_id = *cached;
        return SQLITE_OK;
    }
    for (int pass = 0; pass < 2; pass++) {
        StmtId id = pass == 0 ? STMT_LABEL_FIND : STMT_LABEL_INSERT;

        stmt_hold_clear(&h);
        if (!(h.st = get_stmt(store, id, &rc))) {
            return rc;
        }
        sqlite3_bind_int64(h.st, 1, dom_id);
        sqlite3_bind_text(h.st, 2, name, -1, SQLITE_STATIC);
        if (host_id) {
            sqlite3_bind_int64(h.st, 3, host_id);
        } else {
            sqlite3_bind_null(h.st, 3);
        }
        rc = sqlite3_step(h.st);
        if (pass == 0 && rc == SQLITE_ROW) {
            *ret_id = sqlite3_column_int64(h.st, 0);
            break;
        }
        if (pass == 1 && rc == SQLITE_DONE) {
            *ret_id = sqlite3_last_insert_rowid(store->db);
            break;
        }
        if (rc != SQLITE_DONE) {
            return rc;
        }
    }
    g_hash_table_insert(store->label_ids, g_steal_pointer(&key),
                        g_memdup2(ret_id, sizeof(*ret_id)));
    return SQLITE_OK;
}

static int
dom_upsert(TsdbStore *store, const char *uuid, const DomSample *s,
           int64_t *ret_id)
{
    g_auto(StmtHold) h = {NULL};
    int rc = SQLITE_OK;

    if (!(h.st = get_stmt(store, STMT_DOM_UPSERT, &rc))) {
        return rc;
    }
    sqlite3_bind_text(h.st, 1, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_text(h.st, 2, s->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(h.st, 3, s->wall_us);
    bind_text_or_null(h.st, 4, s->host);
    bind_text_or_null(h.st, 5, s->cell);
    rc = sqlite3_step(h.st);
    if (rc != SQLITE_ROW) {
        return rc == SQLITE_DONE ? SQLITE_INTERNAL : rc;
    }
    *ret_id = sqlite3_column_int64(h.st, 0);
    return SQLITE_OK;
}

static int
dom_sample_insert(TsdbStore *store, const DomSample *s, const char *uuid)
{
    g_auto(StmtHold) h = {NULL};
    int64_t dom_id = 0;
    int64_t host_id = 0;
    int64_t label_id = 0;
    int rc;

    if ((rc = dom_upsert(store, uuid, s, &dom_id)) != SQLITE_OK) {
        return rc;
    }
    if (s->host &&
        (rc = host_id_get(store, s->host, s->cell, &host_id)) != SQLITE_OK) {
        return rc;
    }
    rc = label_id_get(store, dom_id, s->name, host_id, &label_id);
    if (rc != SQLITE_OK) {
        return rc;
    }
    if (!(h.st = get_stmt(store, STMT_DOM_INSERT, &rc))) {
        return rc;
    }
    sqlite3_bind_int64(h.st, 1, dom_id);
    sqlite3_bind_int64(h.st, 2, s->wall_us);
    sqlite3_bind_int64(h.st, 3, label_id);
    sqlite3_bind_int(h.st, 4, (int) s->state);
    sqlite3_bind_int64(h.st, 5, s->vcpus);
    sqlite3_bind_int64(h.st, 6, (int64_t) s->mem_used_kib);
    sqlite3_bind_int64(h.st, 7, (int64_t) s->mem_max_kib);
    for (guint i = 0; i < N_DOM_RATES; i++) {
        bind_rate(h.st, 8 + (int) i, dom_rate_get(s, i));
    }
    return step_done(h.st);
}

bool
tsdb_store_add_dom_sample(TsdbStore *store, const DomSample *s, GError **error)
{
    g_autofree char *uuid = NULL;
    bool own = false;
    int rc;

    if (!s->uuid || !*s->uuid || !s->name) {
        g_set_error(error, TSDB_ERROR, TSDB_ERROR_INVALID,
                    "store %s: domain sample without %s", store->path,
                    s->name ? "uuid" : "name");
        return false;
    }
    uuid = g_ascii_strdown(s->uuid, -1);
    if (!write_begin(store, &own, error)) {
        return false;
    }
    if ((rc = dom_sample_insert(store, s, uuid)) != SQLITE_OK) {
        return write_fail(store, rc, "adding a domain sample", error);
    }
    return write_end(store, own, "adding a domain sample", error);
}

bool
tsdb_store_add_host_sample(TsdbStore *store, const HostSample *s,
                           GError **error)
{
    g_auto(StmtHold) h = {NULL};
    int64_t host_id = 0;
    bool own = false;
    int rc = SQLITE_OK;

    if (!s->host || !*s->host) {
        g_set_error(error, TSDB_ERROR, TSDB_ERROR_INVALID,
                    "store %s: host sample without a host name", store->path);
        return false;
    }
    if (!write_begin(store, &own, error)) {
        return false;
    }
    rc = host_id_get(store, s->host, s->cell, &host_id);
    if (rc == SQLITE_OK &&
        (h.st = get_stmt(store, STMT_HOST_SAMPLE_INSERT, &rc))) {
        sqlite3_bind_int64(h.st, 1, host_id);
        sqlite3_bind_int64(h.st, 2, s->wall_us);
        sqlite3_bind_int64(h.st, 3, s->ncpus);
        bind_rate(h.st, 4, s->cpu_pct);
        sqlite3_bind_int64(h.st, 5, (int64_t) s->mem_total_kib);
        sqlite3_bind_int64(h.st, 6, (int64_t) s->mem_avail_kib);
        sqlite3_bind_int64(h.st, 7, s->domains);
        rc = step_done(h.st);
    }
    stmt_hold_clear(&h);
    if (rc != SQLITE_OK) {
        return write_fail(store, rc, "adding a host sample", error);
    }
    return write_end(store, own, "adding a host sample", error);
}

bool
tsdb_store_add_event(TsdbStore *store, UmbraEvent *ev, GError **error)
{
    g_auto(StmtHold) h = {NULL};
    g_autofree char *uuid = NULL;
    bool own = false;
    int64_t id = 0;
    int rc = SQLITE_OK;

    if (!ev->type || !*ev->type) {
        g_set_error(error, TSDB_ERROR, TSDB_ERROR_INVALID,
                    "store %s: event without a type", store->path);
        return false;
    }
    uuid = ev->uuid ? g_ascii_strdown(ev->uuid, -1) : NULL;
    if (!write_begin(store, &own, error)) {
        return false;
    }
    if ((h.st = get_stmt(store, STMT_EVENT_INSERT, &rc))) {
        sqlite3_bind_int64(h.st, 1, ev->wall_us);
        sqlite3_bind_text(h.st, 2, event_source_to_string(ev->source), -1,
                          SQLITE_STATIC);
        bind_text_or_null(h.st, 3, ev->host);
        bind_text_or_null(h.st, 4, ev->domain);
        bind_text_or_null(h.st, 5, uuid);
        bind_text_or_null(h.st, 6, ev->type);
        bind_text_or_null(h.st, 7, ev->detail);
        rc = step_done(h.st);
        id = sqlite3_last_insert_rowid(store->db);
    }
    stmt_hold_clear(&h);
    if (rc != SQLITE_OK) {
        return write_fail(store, rc, "adding an event", error);
    }
    if (!write_end(store, own, "adding an event", error)) {
        return false;
    }
    ev->id = id;
    return true;
}

/* ------------------------------------------------------------------ */
/* Reads                                                               */

/* Looks up a domain's row id; *ret_id = 0 when it is unknown. */
static int
dom_id_lookup(TsdbStore *store, const char *uuid, int64_t *ret_id)
{
    g_autofree char *lc = g_ascii_strdown(uuid, -1);
    g_auto(StmtHold) h = {NULL};
    int rc = SQLITE_OK;

    if (!(h.st = get_stmt(store, STMT_DOM_ID, &rc))) {
        return rc;
    }
    sqlite3_bind_text(h.st, 1, lc, -1, SQLITE_STATIC);
    rc = sqlite3_step(h.st);
    if (rc == SQLITE_ROW) {
        *ret_id = sqlite3_column_int64(h.st, 0);
        return SQLITE_OK;
    }
    if (rc == SQLITE_DONE) {
        *ret_id = 0;
        return SQLITE_OK;
    }
    return rc;
}

/* Running weighted means of one history bucket (see downsample()). */
typedef struct {
    double sum[N_DOM_RATES + 1];    /* weighted sums; last: mem_used */
    double weight[N_DOM_RATES + 1]; /* weights of the non-NaN values */
    guint last;                     /* index of the bucket's newest point */
    bool used;                      /* any point in it */
} HistBucket;

static void
hist_bucket_add(HistBucket *b, const DomSample *s, double w, guint idx)
{
    for (guint i = 0; i < N_DOM_RATES; i++) {
        double v = dom_rate_get(s, i);

        if (!isnan(v)) {
            b->sum[i] += v * w;
            b->weight[i] += w;
        }
    }
    b->sum[N_DOM_RATES] += (double) s->mem_used_kib * w;
    b->weight[N_DOM_RATES] += w;
    b->last = idx;
    b->used = true;
}

/*
 * Cuts [first, last] into @max_points equal time intervals and replaces
 * the points of each non-empty one by their weighted mean.
 * Returns: (transfer full) the new points.
 */
static GPtrArray *
downsample(GPtrArray *pts, const GArray *weights, guint max_points)
{
    const DomSample *first = g_ptr_array_index(pts, 0);
    const DomSample *lastp = g_ptr_array_index(pts, pts->len - 1);
    int64_t span = lastp->wall_us - first->wall_us + 1;
    int64_t width = (span + max_points - 1) / max_points;
    g_autofree HistBucket *b = g_new0(HistBucket, max_points);
    GPtrArray *out =
        g_ptr_array_new_full(max_points, (GDestroyNotify) dom_sample_free);

    for (guint k = 0; k < pts->len; k++) {
        const DomSample *s = g_ptr_array_index(pts, k);
        int64_t idx = (s->wall_us - first->wall_us) / width;

        hist_bucket_add(&b[MIN(idx, (int64_t) max_points - 1)], s,
                        g_array_index(weights, double, k), k);
    }
    for (guint j = 0; j < max_points; j++) {
        DomSample *o = NULL;

        if (!b[j].used) {
            continue;
        }
        o = dom_sample_copy(g_ptr_array_index(pts, b[j].last));
        for (guint i = 0; i < N_DOM_RATES; i++) {
            *dom_rate_ptr(o, i) =
                b[j].weight[i] > 0 ? b[j].sum[i] / b[j].weight[i] : NAN;
        }
        o->mem_used_kib = (uint64_t) llround(b[j].sum[N_DOM_RATES] /
                                             b[j].weight[N_DOM_RATES]);
        g_ptr_array_add(out, o);
    }
    return out;
}

GPtrArray *
tsdb_store_dom_history(TsdbStore *store, const char *uuid,
                       int64_t since_wall_us, guint max_points, GError **error)
{
    g_autoptr(GPtrArray) pts =
        g_ptr_array_new_with_free_func((GDestroyNotify) dom_sample_free);
    g_autoptr(GArray) weights = g_array_new(FALSE, FALSE, sizeof(double));
    g_autofree char *lc = g_ascii_strdown(uuid, -1);
    g_auto(StmtHold) h = {NULL};
    int64_t dom_id = 0;
    int rc = SQLITE_OK;

    if ((rc = dom_id_lookup(store, uuid, &dom_id)) != SQLITE_OK) {
        read_fail(store, rc, "reading a domain's history", error);
        return NULL;
    }
    if (dom_id == 0) {
        return g_steal_pointer(&pts);
    }
    if (!(h.st = get_stmt(store, STMT_HISTORY, &rc))) {
        read_fail(store, rc, "reading a domain's history", error);
        return NULL;
    }
    sqlite3_bind_int64(h.st, 1, dom_id);
    sqlite3_bind_int64(h.st, 2, since_wall_us);
    sqlite3_bind_int64(h.st, 3, TSDB_BUCKET_US);
    while ((rc = sqlite3_step(h.st)) == SQLITE_ROW) {
        DomSample *s = dom_sample_new();
        double w = (double) sqlite3_column_int64(h.st, HIST_N);
        int state = sqlite3_column_int(h.st, HIST_STATE);

        s->uuid = g_strdup(lc);
        s->wall_us = sqlite3_column_int64(h.st, HIST_WALL);
        s->name = column_strdup(h.st, HIST_NAME);
        s->host = column_strdup(h.st, HIST_HOST);
        s->cell = column_strdup(h.st, HIST_CELL);
        s->state = state >= 0 && state < DOM_STATE_LAST ? (DomState) state
                                                        : DOM_STATE_NOSTATE;
        s->vcpus = (unsigned) sqlite3_column_int64(h.st, HIST_VCPUS);
        s->mem_used_kib = (uint64_t) sqlite3_column_int64(h.st, HIST_MEM_USED);
        s->mem_max_kib = (uint64_t) sqlite3_column_int64(h.st, HIST_MEM_MAX);
        for (guint i = 0; i < N_DOM_RATES; i++) {
            *dom_rate_ptr(s, i) = column_rate(h.st, HIST_RATE0 + (int) i);
        }
        g_ptr_array_add(pts, s);
        g_array_append_val(weights, w);
    }
    if (rc != SQLITE_DONE) {
        read_fail(store, rc, "reading a domain's history", error);
        return NULL;
    }
    if (max_points > 0 && pts->len > max_points) {
        return downsample(pts, weights, max_points);
    }
    return g_steal_pointer(&pts);
}

GPtrArray *
tsdb_store_events(TsdbStore *store, int64_t since_id, const char *uuid_or_null,
                  guint limit, GError **error)
{
    g_autoptr(GPtrArray) evs =
        g_ptr_array_new_with_free_func((GDestroyNotify) umbra_event_free);
    g_autofree char *uuid =
        uuid_or_null ? g_ascii_strdown(uuid_or_null, -1) : NULL;
    g_auto(StmtHold) h = {NULL};
    StmtId id;
    int rc = SQLITE_OK;

    if (since_id <= 0) {
        id = uuid ? STMT_EVENTS_LATEST_UUID : STMT_EVENTS_LATEST;
    } else {
        id = uuid ? STMT_EVENTS_SINCE_UUID : STMT_EVENTS_SINCE;
    }
    if (!(h.st = get_stmt(store, id, &rc))) {
        read_fail(store, rc, "reading events", error);
        return NULL;
    }
    sqlite3_bind_int64(h.st, 1, limit > 0 ? (int64_t) limit : -1);
    if (id == STMT_EVENTS_LATEST_UUID) {
        sqlite3_bind_text(h.st, 2, uuid, -1, SQLITE_STATIC);
    } else if (id != STMT_EVENTS_LATEST) {
        sqlite3_bind_int64(h.st, 2, since_id);
        if (uuid) {
            sqlite3_bind_text(h.st, 3, uuid, -1, SQLITE_STATIC);
        }
    }
    while ((rc = sqlite3_step(h.st)) == SQLITE_ROW) {
        int src = event_source_from_string(
            (const char *) sqlite3_column_text(h.st, 2));
        /* Only umbra writes this table; an unknown source (a newer
         * umbra's) is shown as the daemon's own. */
        UmbraEvent *ev =
            umbra_event_new(src < 0 ? EVENT_SOURCE_DAEMON : (EventSource) src,
                            (const char *) sqlite3_column_text(h.st, 3),
                            (const char *) sqlite3_column_text(h.st, 4),
                            (const char *) sqlite3_column_text(h.st, 5),
                            (const char *) sqlite3_column_text(h.st, 6),
                            (const char *) sqlite3_column_text(h.st, 7));

        ev->id = sqlite3_column_int64(h.st, 0);
        ev->wall_us = sqlite3_column_int64(h.st, 1);
        g_ptr_array_add(evs, ev);
    }
    if (rc != SQLITE_DONE) {
        read_fail(store, rc, "reading events", error);
        return NULL;
    }
    return g_steal_pointer(&evs);
}

bool
tsdb_store_find_domain(TsdbStore *store, const char *name_or_uuid,
                       char **ret_uuid, char **ret_name, GError **error)
{
    g_autofree char *lc = g_ascii_strdown(name_or_uuid, -1);

    for (int pass = 0; pass < 2; pass++) {
        g_auto(StmtHold) h = {NULL};
        int rc = SQLITE_OK;

        if (!(h.st = get_stmt(store, pass ? STMT_FIND_NAME : STMT_FIND_UUID,
                              &rc))) {
            return read_fail(store, rc, "looking up a domain", error);
        }
        sqlite3_bind_text(h.st, 1, pass ? name_or_uuid : lc, -1, SQLITE_STATIC);
        rc = sqlite3_step(h.st);
        if (rc == SQLITE_ROW) {
            if (ret_uuid) {
                *ret_uuid = column_strdup(h.st, 0);
            }
            if (ret_name) {
                *ret_name = column_strdup(h.st, 1);
            }
            return true;
        }
        if (rc != SQLITE_DONE) {
            return read_fail(store, rc, "looking up a domain", error);
        }
    }
    g_set_error(error, TSDB_ERROR, TSDB_ERROR_NOT_FOUND,
                "store %s: no domain with UUID or name '%s'", store->path,
                name_or_uuid);
    return false;
}

int64_t
tsdb_store_count_dom_samples(TsdbStore *store, const char *uuid_or_null)
{
    g_auto(StmtHold) h = {NULL};
    int64_t dom_id = 0;
    int rc = SQLITE_OK;

    if (uuid_or_null) {
        if (dom_id_lookup(store, uuid_or_null, &dom_id) != SQLITE_OK) {
            return -1;
        }
        if (dom_id == 0) {
            return 0;
        }
    }
    if (!(h.st = get_stmt(store, uuid_or_null ? STMT_COUNT_ONE : STMT_COUNT_ALL,
                          &rc))) {
        return -1;
    }
    if (uuid_or_null) {
        sqlite3_bind_int64(h.st, 1, dom_id);
    }
    if (sqlite3_step(h.st) != SQLITE_ROW) {
        return -1;
    }
    return sqlite3_column_int64(h.st, 0);
}

/* ------------------------------------------------------------------ */
/* Maintenance                                                         */

/* How a series (domain or host samples) is folded into averages. */
typedef struct {
    const char *raw;              /* raw table */
    const char *avg;              /* 5-minute table */
    const char *key;              /* series column */
    const char *parent;           /* table the series ids come from */
    const char *const *mean_real; /* columns averaged, REAL, NULL-ended */
    const char *const *mean_int;  /* columns averaged and rounded */
    const char *const *last;      /* columns taken from the newest row */
} SeriesDesc;

static const char *const dom_mean_real[] = {
#define X(F) #F,
    DOM_RATES(X)
#undef X
        NULL,
};
static const char *const dom_mean_int[] = {"mem_used_kib", NULL};
static const char *const dom_last[] = {"label_id", "state", "vcpus",
                                       "mem_max_kib", NULL};
static const char *const host_mean_real[] = {"cpu_pct", NULL};
static const char *const host_mean_int[] = {"mem_avail_kib", NULL};
static const char *const host_last[] = {"ncpus", "mem_total_kib", "domains",
                                        NULL};

static const SeriesDesc series_descs[] = {
    {"dom_samples", "dom_samples_5m", "dom_id", "domains", dom_mean_real,
     dom_mean_int, dom_last},
    {"host_samples", "host_samples_5m", "host_id", "hosts", host_mean_real,
     host_mean_int, host_last},
};

/*
 * Returns: (transfer full) the statement folding rows of series ?1 older
 * than ?2 into averages:
 *
 *   INSERT INTO avg (key, wall_us, last_us, n, <last...>, <means...>)
 *   SELECT key, b, last_us, n, <last...>, <means...> FROM (
 *     SELECT key, wall_us / B * B AS b, max(wall_us) AS last_us,
 *            count(*) AS n, <last...>, avg(m) AS m, ...
 *     FROM raw WHERE key = ?1 AND wall_us < ?2 GROUP BY b) WHERE true
 *   ON CONFLICT (key, wall_us) DO UPDATE SET n = n + excluded.n, ...
 *
 * The bare <last...> columns come from the row holding max(wall_us).
 */
static char *
fold_sql(const SeriesDesc *d)
{
    GString *q = g_string_new(NULL);
    GString *cols = g_string_new(NULL);
    GString *inner = g_string_new(NULL);
    GString *merge = g_string_new(NULL);

    for (const char *const *c = d->last; *c; c++) {
        g_string_append_printf(cols, ", %s", *c);
        g_string_append_printf(inner, ", %s", *c);
        g_string_append_printf(merge,
                               ", %s = iif(excluded.last_us >= "
                               "last_us, excluded.%s, %s)",
                               *c, *c, *c);
    }
    for (const char *const *c = d->mean_real; *c; c++) {
        g_string_append_printf(cols, ", %s", *c);
        g_string_append_printf(inner, ", avg(%s) AS %s", *c, *c);
        g_string_append_printf(merge,
                               ", %s = CASE WHEN excluded.%s IS NULL THEN %s"
                               " WHEN %s IS NULL THEN excluded.%s"
                               " ELSE (%s * n + excluded.%s * excluded.n)"
                               " / (n + excluded.n) END",
                               *c, *c, *c, *c, *c, *c, *c);
    }
    for (const char *const *c = d->mean_int; *c; c++) {
        g_string_append_printf(cols, ", %s", *c);
        g_string_append_printf(inner,
                               ", CAST(round(avg(%s)) AS INTEGER) "
                               "AS %s",
                               *c, *c);
        g_string_append_printf(merge,
                               ", %s = CAST(round((%s * 1.0 * n + excluded.%s"
                               " * 1.0 * excluded.n) / (n + excluded.n))"
                               " AS INTEGER)",
                               *c, *c, *c);
    }
    g_string_append_printf(
        q,
        "INSERT INTO %s (%s, wall_us, last_us, n%s)"
        " SELECT %s, b, last_us, n%s FROM ("
        "SELECT %s, wall_us / %" G_GINT64_FORMAT " * %" G_GINT64_FORMAT
        " AS b, max(wall_us) AS last_us, count(*) AS n%s"
        " FROM %s WHERE %s = ?1 AND wall_us < ?2 GROUP BY b) WHERE true"
        " ON CONFLICT (%s, wall_us) DO UPDATE SET n = n + excluded.n,"
        " last_us = max(last_us, excluded.last_us)%s",
        d->avg, d->key, cols->str, d->key, cols->str, d->key, TSDB_BUCKET_US,
        TSDB_BUCKET_US, inner->str, d->raw, d->key, d->key, merge->str);
    g_string_free(cols, TRUE);
    g_string_free(inner, TRUE);
    g_string_free(merge, TRUE);
    return g_string_free(q, FALSE);
}

static int
prepare(TsdbStore *store, const char *sql, sqlite3_stmt **ret)
{
    return sqlite3_prepare_v2(store->db, sql, -1, ret, NULL);
}

/* Floor of @t to a bucket boundary (t >= 0). */
static int64_t
bucket_floor(int64_t t)
{
    return t - t % TSDB_BUCKET_US;
}

/*
 * Returns the end (exclusive, bucket aligned) of the next chunk of at
 * most about @budget rows of series @key in @kth (a "wall_us of the
 * (?3+1)-th row with key ?1 and wall_us < ?2" query) below @cut, or 0
 * when there is no row below @cut.  The chunk always holds at least the
 * oldest bucket, so that progress is made whatever the budget.
 */
static int
chunk_end(sqlite3_stmt *kth, int64_t key, int64_t cut, int64_t budget,
          int64_t *ret_end)
{
    int64_t first = 0;
    int rc;

    *ret_end = 0;
    for (int pass = 0; pass < 2; pass++) {
        sqlite3_reset(kth);
        sqlite3_bind_int64(kth, 1, key);
        sqlite3_bind_int64(kth, 2, cut);
        sqlite3_bind_int64(kth, 3, pass == 0 ? 0 : budget);
        rc = sqlite3_step(kth);
        if (rc == SQLITE_DONE) {
            *ret_end = pass == 0 ? 0 : cut;
            break;
        }
        if (rc != SQLITE_ROW) {
            sqlite3_reset(kth);
            return rc;
        }
        if (pass == 0) {
            first = sqlite3_column_int64(kth, 0);
        } else {
            int64_t t = bucket_floor(sqlite3_column_int64(kth, 0));

            *ret_end = MAX(t, bucket_floor(first) + TSDB_BUCKET_US);
            *ret_end = MIN(*ret_end, cut);
        }
    }
    sqlite3_reset(kth);
    return SQLITE_OK;
}

/* Collects the ids of @table into @ids. */
static int
collect_ids(TsdbStore *store, const char *table, GArray *ids)
{
    g_autofree char *sql =
        g_strdup_printf("SELECT id FROM %s ORDER BY id", table);
    g_autoptr(sqlite3_stmt) st = NULL;
    int rc = prepare(store, sql, &st);

    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);

        g_array_append_val(ids, id);
        rc = SQLITE_OK;
    }
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * Folds whole buckets older than @cut_raw into averages and deletes the
 * averages with a bucket older than @cut_avg, for every series of @d,
 * within *budget_fold / *budget_del rows.
 */
static int
maintain_series(TsdbStore *store, const SeriesDesc *d, int64_t cut_raw,
                int64_t cut_avg, int64_t *budget_fold, int64_t *budget_del,
                TsdbMaintainStats *st)
{
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
    g_autofree char *fold = fold_sql(d);
    g_autofree char *kth_raw =
        g_strdup_printf("SELECT wall_us FROM %s WHERE %s = ?1 AND wall_us < ?2"
                        " ORDER BY wall_us LIMIT 1 OFFSET ?3",
                        d->raw, d->key);
    g_autofree char *kth_avg =
        g_strdup_printf("SELECT wall_us FROM %s WHERE %s = ?1 AND wall_us < ?2"
                        " ORDER BY wall_us LIMIT 1 OFFSET ?3",
                        d->avg, d->key);
    g_autofree char *del_raw = g_strdup_printf(
        "DELETE FROM %s WHERE %s = ?1 AND wall_us < ?2", d->raw, d->key);
    g_autofree char *del_avg = g_strdup_printf(
        "DELETE FROM %s WHERE %s = ?1 AND wall_us < ?2", d->avg, d->key);
    g_autoptr(sqlite3_stmt) s_fold = NULL;
    g_autoptr(sqlite3_stmt) s_kth_raw = NULL;
    g_autoptr(sqlite3_stmt) s_kth_avg = NULL;
    g_autoptr(sqlite3_stmt) s_del_raw = NULL;
    g_autoptr(sqlite3_stmt) s_del_avg = NULL;
    int rc;

    if ((rc = collect_ids(store, d->parent, ids)) != SQLITE_OK ||
        (rc = prepare(store, fold, &s_fold)) != SQLITE_OK ||
        (rc = prepare(store, kth_raw, &s_kth_raw)) != SQLITE_OK ||
        (rc = prepare(store, kth_avg, &s_kth_avg)) != SQLITE_OK ||
        (rc = prepare(store, del_raw, &s_del_raw)) != SQLITE_OK ||
        (rc = prepare(store, del_avg, &s_del_avg)) != SQLITE_OK) {
        return rc;
    }
    for (guint i = 0; i < ids->len; i++) {
        int64_t key = g_array_index(ids, int64_t, i);
        int64_t end = 0;

        /* Fold, chunk by chunk, while the budget lasts. */
        while (*budget_fold > 0) {
            rc = chunk_end(s_kth_raw, key, cut_raw, *budget_fold, &end);
            if (rc != SQLITE_OK) {
                return rc;
            }
            if (end == 0) {
                break;
            }
            sqlite3_reset(s_fold);
            sqlite3_bind_int64(s_fold, 1, key);
            sqlite3_bind_int64(s_fold, 2, end);
            if ((rc = step_done(s_fold)) != SQLITE_OK) {
                return rc;
            }
            st->averages_written += sqlite3_changes(store->db);
            sqlite3_reset(s_del_raw);
            sqlite3_bind_int64(s_del_raw, 1, key);
            sqlite3_bind_int64(s_del_raw, 2, end);
            if ((rc = step_done(s_del_raw)) != SQLITE_OK) {
                return rc;
            }
            st->samples_downsampled += sqlite3_changes(store->db);
            *budget_fold -= sqlite3_changes(store->db);
        }
        if (*budget_fold <= 0) {
            st->more = true;
        }
        /* Expire averages. */
        end = 0;
        while (*budget_del > 0) {
            rc = chunk_end(s_kth_avg, key, cut_avg, *budget_del, &end);
            if (rc != SQLITE_OK) {
                return rc;
            }
            if (end == 0) {
                break;
            }
            sqlite3_reset(s_del_avg);
            sqlite3_bind_int64(s_del_avg, 1, key);
            sqlite3_bind_int64(s_del_avg, 2, end);
            if ((rc = step_done(s_del_avg)) != SQLITE_OK) {
                return rc;
            }
            st->averages_deleted += sqlite3_changes(store->db);
            *budget_del -= sqlite3_changes(store->db);
        }
        if (*budget_del <= 0) {
            st->more = true;
        }
    }
    return SQLITE_OK;
}

/* Deletes predictions and incidents older than @cut (the events'
 * retention), at most @budget of each. */
static int
maintain_risk(TsdbStore *store, int64_t cut, int64_t budget,
              TsdbMaintainStats *st)
{
    static const char *const sql[] = {
        "DELETE FROM predictions WHERE id IN (SELECT id FROM predictions"
        " WHERE wall_us < ?1 ORDER BY id LIMIT ?2)",
        "DELETE FROM incidents WHERE id IN (SELECT id FROM incidents"
        " WHERE wall_us < ?1 ORDER BY id LIMIT ?2)",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(sql); i++) {
        g_autoptr(sqlite3_stmt) s = NULL;
        int rc = prepare(store, sql[i], &s);

        if (rc != SQLITE_OK) {
            return rc;
        }
        sqlite3_bind_int64(s, 1, cut);
        sqlite3_bind_int64(s, 2, budget);
        if ((rc = step_done(s)) != SQLITE_OK) {
            return rc;
        }
        if (sqlite3_changes(store->db) >= budget) {
            st->more = true;
        }
    }
    return SQLITE_OK;
}

/* Deletes the events older than @cut, at most @budget of them. */
static int
maintain_events(TsdbStore *store, int64_t cut, int64_t budget,
                TsdbMaintainStats *st)
{
    g_autoptr(sqlite3_stmt) s = NULL;
    int rc = prepare(store,
                     "DELETE FROM events WHERE id IN (SELECT id FROM events"
                     " WHERE wall_us < ?1 ORDER BY wall_us LIMIT ?2)",
                     &s);

    if (rc != SQLITE_OK) {
        return rc;
    }
    sqlite3_bind_int64(s, 1, cut);
    sqlite3_bind_int64(s, 2, budget);
    if ((rc = step_done(s)) != SQLITE_OK) {
        return rc;
    }
    st->events_deleted += sqlite3_changes(store->db);
    if (sqlite3_changes(store->db) >= budget) {
        st->more = true;
    }
    return SQLITE_OK;
}

/*
 * Forgets domains last seen before @cut that have no samples left, with
 * their labels, then hosts nothing refers to.  Deleting a label makes
 * SQLite scan dom_samples for rows referring to it (foreign key, no index
 * on label_id), hence the small budget; domains come and go rarely.
 */
static int
maintain_forget_domains(TsdbStore *store, int64_t cut, TsdbMaintainStats *st)
{
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
    g_autoptr(sqlite3_stmt) sel = NULL;
    g_autoptr(sqlite3_stmt) del_labels = NULL;
    g_autoptr(sqlite3_stmt) del_dom = NULL;
    int rc;

    rc = prepare(store,
                 "SELECT id FROM domains d WHERE last_seen < ?1"
                 " AND NOT EXISTS (SELECT 1 FROM dom_samples"
                 "   WHERE dom_id = d.id)"
                 " AND NOT EXISTS (SELECT 1 FROM dom_samples_5m"
                 "   WHERE dom_id = d.id)"
                 " LIMIT ?2",
                 &sel);
    if (rc == SQLITE_OK) {
        rc = prepare(store, "DELETE FROM dom_labels WHERE dom_id = ?1",
                     &del_labels);
    }
    if (rc == SQLITE_OK) {
        rc = prepare(store, "DELETE FROM domains WHERE id = ?1", &del_dom);
    }
    if (rc != SQLITE_OK) {
        return rc;
    }
    sqlite3_bind_int64(sel, 1, cut);
    sqlite3_bind_int64(sel, 2, TSDB_FORGET_BUDGET);
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(sel, 0);

        g_array_append_val(ids, id);
    }
    if (rc != SQLITE_DONE) {
        return rc;
    }
    if (ids->len >= TSDB_FORGET_BUDGET) {
        st->more = true;
    }
    for (guint i = 0; i < ids->len; i++) {
        int64_t id = g_array_index(ids, int64_t, i);

        sqlite3_reset(del_labels);
        sqlite3_bind_int64(del_labels, 1, id);
        if ((rc = step_done(del_labels)) != SQLITE_OK) {
            return rc;
        }
        sqlite3_reset(del_dom);
        sqlite3_bind_int64(del_dom, 1, id);
        if ((rc = step_done(del_dom)) != SQLITE_OK) {
            return rc;
        }
        st->domains_deleted++;
    }
    return sqlite3_exec(store->db,
                        "DELETE FROM hosts WHERE NOT EXISTS (SELECT 1 FROM"
                        " dom_labels WHERE host_id = hosts.id)"
                        " AND NOT EXISTS (SELECT 1 FROM host_samples"
                        " WHERE host_id = hosts.id)"
                        " AND NOT EXISTS (SELECT 1 FROM host_samples_5m"
                        " WHERE host_id = hosts.id)",
                        NULL, NULL, NULL);
}

/*
 * Gives free pages back to the file system when more than 1/8 of the
 * file is free, keeping 1/16 for the next rounds to reuse.  Outside any
 * transaction; a failure here is not an error of maintain() (the data
 * changes are committed), it is retried next time.
 */
static void
maintain_vacuum(TsdbStore *store, TsdbMaintainStats *st)
{
    int64_t mode = 0;
    int64_t pages = 0;
    int64_t free_pages = 0;
    int64_t after = 0;
    int64_t n;
    g_autofree char *sql = NULL;

    if (query_int64(store->db, "PRAGMA auto_vacuum", &mode) != SQLITE_OK ||
        mode != 2 ||
        query_int64(store->db, "PRAGMA page_count", &pages) != SQLITE_OK ||
        query_int64(store->db, "PRAGMA freelist_count", &free_pages) !=
            SQLITE_OK ||
        free_pages * 8 <= pages) {
        return;
    }
    n = MIN(free_pages - pages / 16, TSDB_VACUUM_BUDGET);
    sql = g_strdup_printf("PRAGMA incremental_vacuum(%" G_GINT64_FORMAT ")", n);
    if (sqlite3_exec(store->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        return;
    }
    if (query_int64(store->db, "PRAGMA page_count", &after) == SQLITE_OK) {
        st->pages_freed += pages - after;
    }
    sqlite3_exec(store->db, "PRAGMA wal_checkpoint(PASSIVE)", NULL, NULL, NULL);
}

bool
tsdb_store_maintain(TsdbStore *store, int64_t now_wall_us,
                    int64_t retention_raw_s, int64_t retention_5m_s,
                    int64_t retention_events_s, TsdbMaintainStats *ret_stats,
                    GError **error)
{
    TsdbMaintainStats st = {0};
    int64_t cut_raw = now_wall_us - MAX(retention_raw_s, 0) * UTIL_USEC_PER_SEC;
    int64_t cut_avg =
        now_wall_us - MAX(retention_5m_s, retention_raw_s) * UTIL_USEC_PER_SEC;
    int64_t cut_events =
        now_wall_us - MAX(retention_events_s, 0) * UTIL_USEC_PER_SEC;
    int64_t budget_fold = TSDB_MAINTAIN_BUDGET;
    int64_t budget_del = TSDB_MAINTAIN_BUDGET;
    int rc;

    if (store->batch != BATCH_NONE) {
        g_set_error(error, TSDB_ERROR, TSDB_ERROR_INVALID,
                    "store %s: maintain: a batch is open", store->path);
        return false;
    }
    /* Whole buckets only: a bucket is folded once it has ended. */
    cut_raw = bucket_floor(MAX(cut_raw, 0));
    cut_avg = bucket_floor(MAX(cut_avg, 0));

    if ((rc = exec_stmt(store, STMT_BEGIN)) != SQLITE_OK) {
        return write_fail(store, rc, "maintain", error);
    }
    for (guint i = 0; i < G_N_ELEMENTS(series_descs); i++) {
        rc = maintain_series(store, &series_descs[i], cut_raw, cut_avg,
                             &budget_fold, &budget_del, &st);
        if (rc != SQLITE_OK) {
            return write_fail(store, rc, "maintain: downsampling", error);
        }
    }
    if ((rc = maintain_events(store, cut_events, TSDB_MAINTAIN_BUDGET, &st)) !=
        SQLITE_OK) {
        return write_fail(store, rc, "maintain: expiring events", error);
    }
    if ((rc = maintain_risk(store, cut_events, TSDB_MAINTAIN_BUDGET, &st)) !=
        SQLITE_OK) {
        return write_fail(store, rc, "maintain: expiring predictions", error);
    }
    if ((rc = maintain_forget_domains(store, cut_avg, &st)) != SQLITE_OK) {
        return write_fail(store, rc, "maintain: forgetting domains", error);
    }
    if ((rc = exec_stmt(store, STMT_COMMIT)) != SQLITE_OK) {
        return write_fail(store, rc, "maintain: commit", error);
    }
    /* Deleted domains and hosts may be in the id caches. */
    clear_caches(store);
    maintain_vacuum(store, &st);
    if (ret_stats) {
        *ret_stats = st;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* The risk engine's records                                           */

TsdbPrediction *
tsdb_prediction_new(void)
{
    TsdbPrediction *p = g_new0(TsdbPrediction, 1);

    p->outcome = -1;
    return p;
}

void
tsdb_prediction_free(TsdbPrediction *p)
{
    if (!p) {
        return;
    }
    g_free(p->scope);
    g_free(p->subject);
    g_free(p->name);
    g_free(p->kind);
    g_free(p->features);
    g_free(p);
}

TsdbIncident *
tsdb_incident_new(void)
{
    return g_new0(TsdbIncident, 1);
}

void
tsdb_incident_free(TsdbIncident *i)
{
    if (!i) {
        return;
    }
    g_free(i->uuid);
    g_free(i->domain);
    g_free(i->host);
    g_free(i->kind);
    g_free(i->source);
    g_free(i->note);
    g_free(i);
}

/* Runs the one-statement write @s (prepared, bound) in the store's
 * transaction discipline.  Returns: the last rowid, or -1 with @error. */
static int64_t
risk_write(TsdbStore *store, sqlite3_stmt *s, const char *what, GError **error)
{
    bool own = false;
    int rc;
    int64_t id;

    if (!write_begin(store, &own, error)) {
        return -1;
    }
    rc = step_done(s);
    id = sqlite3_last_insert_rowid(store->db);
    sqlite3_reset(s);
    if (rc != SQLITE_OK) {
        write_fail(store, rc, what, error);
        return -1;
    }
    if (!write_end(store, own, what, error)) {
        return -1;
    }
    return id;
}

bool
tsdb_store_add_prediction(TsdbStore *store, TsdbPrediction *p, GError **error)
{
    g_autoptr(sqlite3_stmt) s = NULL;
    int rc = prepare(store,
                     "INSERT INTO predictions (wall_us, scope, subject, name,"
                     " kind, horizon_s, prob, threshold, features, outcome,"
                     " resolved_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     &s);
    int64_t id;

    if (!p->scope || !p->subject || !p->kind || !isfinite(p->prob)) {
        g_set_error(error, TSDB_ERROR, TSDB_ERROR_INVALID,
                    "store %s: incomplete prediction", store->path);
        return false;
    }
    if (rc != SQLITE_OK) {
        return write_fail(store, rc, "adding a prediction", error);
    }
    sqlite3_bind_int64(s, 1, p->wall_us);
    bind_text_or_null(s, 2, p->scope);
    bind_text_or_null(s, 3, p->subject);
    bind_text_or_null(s, 4, p->name);
    bind_text_or_null(s, 5, p->kind);
    sqlite3_bind_int(s, 6, p->horizon_s);
    sqlite3_bind_double(s, 7, p->prob);
    if (isfinite(p->threshold)) {
        sqlite3_bind_double(s, 8, p->threshold);
    }
    bind_text_or_null(s, 9, p->features);
    if (p->outcome >= 0) {
        sqlite3_bind_int(s, 10, p->outcome);
        sqlite3_bind_int64(s, 11, p->resolved_us);
    }
    id = risk_write(store, s, "adding a prediction", error);
    if (id < 0) {
        return false;
    }
    p->id = id;
    return true;
}

static TsdbPrediction *
prediction_from_row(sqlite3_stmt *s)
{
    TsdbPrediction *p = tsdb_prediction_new();

    p->id = sqlite3_column_int64(s, 0);
    p->wall_us = sqlite3_column_int64(s, 1);
    p->scope = g_strdup((const char *) sqlite3_column_text(s, 2));
    p->subject = g_strdup((const char *) sqlite3_column_text(s, 3));
    p->name = g_strdup((const char *) sqlite3_column_text(s, 4));
    p->kind = g_strdup((const char *) sqlite3_column_text(s, 5));
    p->horizon_s = sqlite3_column_int(s, 6);
    p->prob = sqlite3_column_double(s, 7);
    p->threshold = sqlite3_column_type(s, 8) == SQLITE_NULL
                       ? NAN
                       : sqlite3_column_double(s, 8);
    p->features = g_strdup((const char *) sqlite3_column_text(s, 9));
    p->outcome = sqlite3_column_type(s, 10) == SQLITE_NULL
                     ? -1
                     : sqlite3_column_int(s, 10);
    p->resolved_us = sqlite3_column_int64(s, 11);
    return p;
}

#define PRED_COLS                                                              \
    "id, wall_us, scope, subject, name, kind, horizon_s, prob, threshold,"     \
    " features, outcome, resolved_us"

/* Reads the predictions @s selects. */
static GPtrArray *
predictions_read(TsdbStore *store, sqlite3_stmt *s, GError **error)
{
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify) tsdb_prediction_free);
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        g_ptr_array_add(out, prediction_from_row(s));
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        read_fail(store, rc, "reading predictions", error);
        return NULL;
    }
    return g_steal_pointer(&out);
}

GPtrArray *
tsdb_store_due_predictions(TsdbStore *store, int64_t now_us, guint limit,
                           GError **error)
{
    g_autoptr(sqlite3_stmt) s = NULL;
    int rc = prepare(store,
                     "SELECT " PRED_COLS " FROM predictions"
                     " WHERE outcome IS NULL"
                     " AND wall_us + horizon_s * 1000000 <= ?1"
                     " ORDER BY wall_us LIMIT ?2",
                     &s);

    if (rc != SQLITE_OK) {
        read_fail(store, rc, "reading due predictions", error);
        return NULL;
    }
    sqlite3_bind_int64(s, 1, now_us);
    sqlite3_bind_int64(s, 2, limit ? (int64_t) limit : -1);
    return predictions_read(store, s, error);
}

bool
tsdb_store_resolve_prediction(TsdbStore *store, int64_t id, int outcome,
                              int64_t now_us, GError **error)
{
    g_autoptr(sqlite3_stmt) s = NULL;
    int rc = prepare(store,
                     "UPDATE predictions SET outcome = ?2, resolved_us = ?3"
                     " WHERE id = ?1",
                     &s);

    if (rc != SQLITE_OK) {
        return write_fail(store, rc, "resolving a prediction", error);
    }
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int(s, 2, outcome ? 1 : 0);
    sqlite3_bind_int64(s, 3, now_us);
    return risk_write(store, s, "resolving a prediction", error) >= 0;
}

GPtrArray *
tsdb_store_predictions(TsdbStore *store, const char *subject_or_null,
                       guint limit, GError **error)
{
    g_autoptr(sqlite3_stmt) s = NULL;
    int rc = prepare(store,
                     "SELECT * FROM (SELECT " PRED_COLS " FROM predictions"
                     " WHERE ?1 IS NULL OR subject = ?1"
                     " ORDER BY id DESC LIMIT ?2) ORDER BY id",
                     &s);

    if (rc != SQLITE_OK) {
        read_fail(store, rc, "reading predictions", error);
        return NULL;
    }
    bind_text_or_null(s, 1, subject_or_null);
    sqlite3_bind_int64(s, 2, limit ? (int64_t) limit : -1);
    return predictions_read(store, s, error);
}

bool
tsdb_store_add_incident(TsdbStore *store, TsdbIncident *inc, GError **error)
{
    g_autoptr(sqlite3_stmt) s = NULL;
    g_autofree char *uuid = inc->uuid ? g_ascii_strdown(inc->uuid, -1) : NULL;
    int rc = prepare(store,
                     "INSERT INTO incidents (wall_us, uuid, domain, host,"
                     " kind, source, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     &s);
    int64_t id;

    if (!uuid || !inc->kind || !inc->source) {
        g_set_error(error, TSDB_ERROR, TSDB_ERROR_INVALID,
                    "store %s: incomplete incident", store->path);
        return false;
    }
    if (rc != SQLITE_OK) {
        return write_fail(store, rc, "adding an incident", error);
    }
    sqlite3_bind_int64(s, 1, inc->wall_us);
    bind_text_or_null(s, 2, uuid);
    bind_text_or_null(s, 3, inc->domain);
    bind_text_or_null(s, 4, inc->host);
    bind_text_or_null(s, 5, inc->kind);
    bind_text_or_null(s, 6, inc->source);
    bind_text_or_null(s, 7, inc->note);
    id = risk_write(store, s, "adding an incident", error);
    if (id < 0) {
        return false;
    }
    inc->id = id;
    return true;
}

int64_t
tsdb_store_count_incidents(TsdbStore *store, const char *uuid, int64_t from_us,
                           int64_t to_us, GError **error)
{
    g_autoptr(sqlite3_stmt) s = NULL;
    g_autofree char *lc = g_ascii_strdown(uuid, -1);
    int rc = prepare(store,
                     "SELECT count(*) FROM incidents WHERE uuid = ?1"
                     " AND wall_us > ?2 AND wall_us <= ?3",
                     &s);
    int64_t n = -1;

    if (rc != SQLITE_OK) {
        read_fail(store, rc, "counting incidents", error);
        return -1;
    }
    sqlite3_bind_text(s, 1, lc, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, from_us);
    sqlite3_bind_int64(s, 3, to_us);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        n = sqlite3_column_int64(s, 0);
    }
    sqlite3_reset(s);
    if (n < 0) {
        read_fail(store, rc, "counting incidents", error);
    }
    return n;
}

GPtrArray *
tsdb_store_incidents(TsdbStore *store, const char *uuid_or_null, guint limit,
                     GError **error)
{
    g_autoptr(sqlite3_stmt) s = NULL;
    g_autofree char *lc =
        uuid_or_null ? g_ascii_strdown(uuid_or_null, -1) : NULL;
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify) tsdb_incident_free);
    int rc = prepare(store,
                     "SELECT * FROM (SELECT id, wall_us, uuid, domain, host,"
                     " kind, source, note FROM incidents"
                     " WHERE ?1 IS NULL OR uuid = ?1"
                     " ORDER BY id DESC LIMIT ?2) ORDER BY id",
                     &s);

    if (rc != SQLITE_OK) {
        read_fail(store, rc, "reading incidents", error);
        return NULL;
    }
    bind_text_or_null(s, 1, lc);
    sqlite3_bind_int64(s, 2, limit ? (int64_t) limit : -1);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        TsdbIncident *i = tsdb_incident_new();

        i->id = sqlite3_column_int64(s, 0);
        i->wall_us = sqlite3_column_int64(s, 1);
        i->uuid = g_strdup((const char *) sqlite3_column_text(s, 2));
        i->domain = g_strdup((const char *) sqlite3_column_text(s, 3));
        i->host = g_strdup((const char *) sqlite3_column_text(s, 4));
        i->kind = g_strdup((const char *) sqlite3_column_text(s, 5));
        i->source = g_strdup((const char *) sqlite3_column_text(s, 6));
        i->note = g_strdup((const char *) sqlite3_column_text(s, 7));
        g_ptr_array_add(out, i);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        read_fail(store, rc, "reading incidents", error);
        return NULL;
    }
    return g_steal_pointer(&out);
}

bool
tsdb_store_save_model(TsdbStore *store, const char *name, const char *text,
                      int64_t now_us, GError **error)
{
    g_autoptr(sqlite3_stmt) s = NULL;
    int rc = prepare(store,
                     "INSERT OR REPLACE INTO models (name, saved_us, body)"
                     " VALUES (?, ?, ?)",
                     &s);

    if (rc != SQLITE_OK) {
        return write_fail(store, rc, "saving a model", error);
    }
    bind_text_or_null(s, 1, name);
    sqlite3_bind_int64(s, 2, now_us);
    bind_text_or_null(s, 3, text);
    return risk_write(store, s, "saving a model", error) >= 0;
}

char *
tsdb_store_load_model(TsdbStore *store, const char *name, GError **error)
{
    g_autoptr(sqlite3_stmt) s = NULL;
    int rc = prepare(store, "SELECT body FROM models WHERE name = ?1", &s);
    char *body = NULL;

    if (rc != SQLITE_OK) {
        read_fail(store, rc, "loading a model", error);
        return NULL;
    }
    bind_text_or_null(s, 1, name);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        body = g_strdup((const char *) sqlite3_column_text(s, 0));
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        read_fail(store, rc, "loading a model", error);
    }
    return body;
}

/* ------------------------------------------------------------------ */
/* The shadow journal                                                  */

bool
tsdb_store_journal_shadow(TsdbStore *store, const char *primary_uuid,
                          const char *state, const char *body,
                          const char *from_state, const char *event,
                          const char *detail, int64_t now_us, GError **error)
{
    g_autoptr(sqlite3_stmt) up = NULL;
    g_autoptr(sqlite3_stmt) j = NULL;
    g_autofree char *uuid =
        primary_uuid ? g_ascii_strdown(primary_uuid, -1) : NULL;
    bool own = false;
    int rc;

    if (!uuid || !state || !body) {
        g_set_error(error, TSDB_ERROR, TSDB_ERROR_INVALID,
                    "store %s: incomplete shadow record", store->path);
        return false;
    }
    rc = prepare(store,
                 "INSERT OR REPLACE INTO shadows (primary_uuid, state,"
                 " updated_us, body) VALUES (?, ?, ?, ?)",
                 &up);
    if (rc == SQLITE_OK) {
        rc = prepare(store,
                     "INSERT INTO shadow_journal (wall_us, primary_uuid,"
                     " from_state, to_state, event, detail)"
                     " VALUES (?, ?, ?, ?, ?, ?)",
                     &j);
    }
    if (rc != SQLITE_OK) {
        return write_fail(store, rc, "journaling a shadow", error);
    }
    bind_text_or_null(up, 1, uuid);
    bind_text_or_null(up, 2, state);
    sqlite3_bind_int64(up, 3, now_us);
    bind_text_or_null(up, 4, body);
    sqlite3_bind_int64(j, 1, now_us);
    bind_text_or_null(j, 2, uuid);
    bind_text_or_null(j, 3, from_state);
    bind_text_or_null(j, 4, state);
    bind_text_or_null(j, 5, event);
    bind_text_or_null(j, 6, detail);
    if (!write_begin(store, &own, error)) {
        return false;
    }
    rc = step_done(up);
    if (rc == SQLITE_OK) {
        rc = step_done(j);
    }
    if (rc != SQLITE_OK) {
        write_fail(store, rc, "journaling a shadow", error);
        return false;
    }
    return write_end(store, own, "journaling a shadow", error);
}

GPtrArray *
tsdb_store_shadows(TsdbStore *store, GError **error)
{
    g_autoptr(sqlite3_stmt) s = NULL;
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    int rc =
        prepare(store, "SELECT body FROM shadows ORDER BY primary_uuid", &s);

    if (rc != SQLITE_OK) {
        read_fail(store, rc, "reading the shadows", error);
        return NULL;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        g_ptr_array_add(out,
                        g_strdup((const char *) sqlite3_column_text(s, 0)));
    }
    if (rc != SQLITE_DONE) {
        read_fail(store, rc, "reading the shadows", error);
        return NULL;
    }
    return g_steal_pointer(&out);
}

void
tsdb_shadow_step_free(TsdbShadowStep *st)
{
    if (!st) {
        return;
    }
    g_free(st->primary_uuid);
    g_free(st->from_state);
    g_free(st->to_state);
    g_free(st->event);
    g_free(st->detail);
    g_free(st);
}

GPtrArray *
tsdb_store_shadow_journal(TsdbStore *store, const char *primary_uuid,
                          guint limit, GError **error)
{
    g_autoptr(sqlite3_stmt) s = NULL;
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify) tsdb_shadow_step_free);
    g_autofree char *uuid = g_ascii_strdown(primary_uuid, -1);
    int rc = prepare(store,
                     "SELECT id, wall_us, primary_uuid, from_state, to_state,"
                     " event, detail FROM (SELECT * FROM shadow_journal"
                     " WHERE primary_uuid = ?1 ORDER BY id DESC LIMIT ?2)"
                     " ORDER BY id",
                     &s);

    if (rc != SQLITE_OK) {
        read_fail(store, rc, "reading the shadow journal", error);
        return NULL;
    }
    bind_text_or_null(s, 1, uuid);
    sqlite3_bind_int64(s, 2, limit ? limit : 1000);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        TsdbShadowStep *st = g_new0(TsdbShadowStep, 1);

        st->id = sqlite3_column_int64(s, 0);
        st->wall_us = sqlite3_column_int64(s, 1);
        st->primary_uuid = column_strdup(s, 2);
        st->from_state = column_strdup(s, 3);
        st->to_state = column_strdup(s, 4);
        st->event = column_strdup(s, 5);
        st->detail = column_strdup(s, 6);
        g_ptr_array_add(out, st);
    }
    if (rc != SQLITE_DONE) {
        read_fail(store, rc, "reading the shadow journal", error);
        return NULL;
    }
    return g_steal_pointer(&out);
}
