/*
 * rpc/client.h: a blocking client for umbrad's RPC (docs/rpc.md).
 */
#pragma once

#include <glib.h>

#include "rpc/proto.h"

typedef struct RpcClient RpcClient;

/*
 * rpc_client_connect:
 * @path: socket path
 * @timeout_ms: I/O timeout for every call (0 = none)
 * @error: RPC_ERROR_CONNECT when the daemon is not there
 *
 * Returns: (transfer full) a connected client, or NULL.
 */
RpcClient *rpc_client_connect(const char *path, int timeout_ms,
                              GError **error);

/*
 * rpc_client_call:
 * @client: a connected client
 * @method: method name
 * @params: (transfer full) (nullable) params
 * @error: the daemon's error (code from its reply) or an I/O error
 *
 * Returns: (transfer full) the "result" object, or NULL with @error set.
 */
json_object *rpc_client_call(RpcClient *client, const char *method,
                             json_object *params, GError **error);

/*
 * rpc_client_read_event:
 * @client: a client whose last call was "events" with follow
 * @timeout_ms: how long to wait (-1 forever)
 * @error: set on I/O error, RPC_ERROR_TIMEOUT on timeout
 *
 * Returns: (transfer full) the next event object, or NULL.
 */
json_object *rpc_client_read_event(RpcClient *client, int timeout_ms,
                                   GError **error);

void rpc_client_free(RpcClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RpcClient, rpc_client_free)
