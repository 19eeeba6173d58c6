/*
 * engine/monitorpriv.h: entry points for unit tests only, which feed the
 * monitor the messages its workers would post, without threads or
 * hypervisors.  Do not include outside tests/.
 */
#pragma once

#include "engine/monitor.h"

/* Applies a sampling round of host @idx: @raws (transfer full) DomRaw*,
 * @host (nullable) the host counters; then writes the store (which the
 * running daemon does once per interval). */
void monitor_test_round(Monitor *m, guint idx, GPtrArray *raws,
                        const HostRaw *host);

/* As monitor_test_round(), but leaves the rows queued for the next
 * flush, as the daemon does between its periodic flushes. */
void monitor_test_round_queued(Monitor *m, guint idx, GPtrArray *raws,
                               const HostRaw *host);

/* Applies a connection state change of host @idx. */
void monitor_test_state(Monitor *m, guint idx, HostState state,
                        const char *error, const char *hostname);
