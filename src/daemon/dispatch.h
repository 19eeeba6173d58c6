/*
 * daemon/dispatch.h: umbrad's RPC methods (docs/rpc.md), answered from
 * the monitor's tables and the store.
 */
#pragma once

#include "engine/monitor.h"
#include "rpc/server.h"

typedef struct Dispatch Dispatch;

/* Returns: (transfer full) a dispatcher over @m (borrowed) and @cfg. */
Dispatch *dispatch_new(Monitor *m, const UmbraConfig *cfg);
void dispatch_free(Dispatch *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Dispatch, dispatch_free)

/* RpcHandlerFunc and RpcClientGoneFunc for rpc_server_new(). */
json_object *dispatch_handle(RpcServerClient *client, int64_t id,
                             const char *method, json_object *params,
                             gpointer data, GError **error);
void dispatch_client_gone(RpcServerClient *client, gpointer data);
