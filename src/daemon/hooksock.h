/*
 * daemon/hooksock.h: the datagram socket the libvirt hook writes to.
 *
 * One datagram = one JSON message (model_hook_message_build()).  The
 * hook sends with MSG_DONTWAIT and spools to a file when the socket is
 * absent or full, so umbrad being down or frozen never delays libvirt;
 * umbrad drains the spool (monitor_drain_spool()) on start and
 * periodically.
 */
#pragma once

#include "engine/monitor.h"

typedef struct HookSock HookSock;

/* Returns: (transfer full) a bound socket feeding @m, or NULL. */
HookSock *hooksock_new(const char *path, Monitor *m, GError **error);
void hooksock_free(HookSock *hs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HookSock, hooksock_free)
