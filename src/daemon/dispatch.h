/*
 * daemon/dispatch.h: umbrad's RPC methods (docs/rpc.md), answered from
 * the monitor's tables and the store.
 */
#pragma once

#include "engine/forecaster.h"
#include "engine/monitor.h"
#include "engine/predictor.h"
#include "engine/shadows.h"
#include "rpc/server.h"

typedef struct Dispatch Dispatch;

/*
 * dispatch_new:
 * @m: the monitor (borrowed)
 * @cfg: the configuration (borrowed)
 * @fc: (nullable) the forecaster (borrowed); NULL when forecasting is off
 *
 * Returns: (transfer full) a dispatcher.
 */
Dispatch *dispatch_new(Monitor *m, const UmbraConfig *cfg, Forecaster *fc);

/* Serves "risk", "profile", "incident" and "risk-model" from @p
 * (borrowed; NULL: those methods say the risk engine is off). */
void dispatch_set_predictor(Dispatch *d, Predictor *p);
/* The shadow manager for the shadow-* methods (borrowed; NULL: off). */
void dispatch_set_shadows(Dispatch *d, ShadowManager *sm);
void dispatch_free(Dispatch *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Dispatch, dispatch_free)

/* RpcHandlerFunc and RpcClientGoneFunc for rpc_server_new(). */
json_object *dispatch_handle(RpcServerClient *client, int64_t id,
                             const char *method, json_object *params,
                             gpointer data, GError **error);
void dispatch_client_gone(RpcServerClient *client, gpointer data);
