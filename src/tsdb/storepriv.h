/*
 * tsdb/storepriv.h: store internals exported for tests/unit/test-tsdb.c
 * only, e.g. to impose `PRAGMA max_page_count` (a simulated full disk) or
 * to inspect tables directly.  The daemon must not include it.
 */
#pragma once

#ifndef TSDB_STORE_PRIV_ALLOW
#error "tsdb/storepriv.h may only be included by tsdb/store.c or tests"
#endif

#include <sqlite3.h>

#include "tsdb/store.h"

/* Returns: (transfer none) the store's SQLite connection. */
sqlite3 *tsdb_store_priv_get_db(TsdbStore *store);
