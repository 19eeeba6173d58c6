/*
 * rpc/client.h: a blocking client for umbrad's RPC (docs/rpc.md).
 *
 * One RpcClient is one connection to umbrad's unix socket.  Calls are
 * strictly sequential: write one request line, read one reply line.
 * Every call has a deadline of the client's timeout, covering both the
 * write and the read.  After a timeout, an I/O error, an oversized or
 * malformed reply the connection is out of step with the daemon and is
 * closed; later calls fail with RPC_ERROR_IO until the caller connects
 * again.  Errors use the RPC_ERROR domain:
 *
 *   RPC_ERROR_CONNECT    the socket is absent, refused or not permitted
 *   RPC_ERROR_IO         write/read failure, EOF, malformed reply
 *   RPC_ERROR_TIMEOUT    no (complete) reply within the timeout
 *   RPC_ERROR_TOO_LARGE  the request exceeds RPC_MAX_MESSAGE (nothing is
 *                        sent) or the reply exceeds the reply limit
 *   RPC_ERROR_VERSION    the reply is of another protocol version
 *   anything else        the code the daemon put in its error reply
 */
#pragma once

#include <glib.h>
#include <stddef.h>

#include "rpc/proto.h"

/* Default limit on one reply line, '\n' included (16 MiB). */
#define RPC_CLIENT_MAX_REPLY ((size_t) RPC_MAX_MESSAGE * 256)

typedef struct RpcClient RpcClient;

/*
 * rpc_client_connect:
 * @path: socket path
 * @timeout_ms: I/O timeout for every call (0 = none)
 * @error: RPC_ERROR_CONNECT when the daemon is not there, with a message
 *   "cannot connect to umbrad at PATH: REASON (HINT)"
 *
 * Returns: (transfer full) a connected client, or NULL.
 */
RpcClient *rpc_client_connect(const char *path, int timeout_ms, GError **error);

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
 * A timeout here is not fatal: the connection stays usable and a
 * partially received line is kept for the next call.
 *
 * Returns: (transfer full) the next event object, or NULL.
 */
json_object *rpc_client_read_event(RpcClient *client, int timeout_ms,
                                   GError **error);

/*
 * rpc_client_set_max_reply:
 * @client: a client
 * @max_bytes: the largest reply line accepted, '\n' included
 *
 * Replaces RPC_CLIENT_MAX_REPLY for this client (tests use a small one).
 */
void rpc_client_set_max_reply(RpcClient *client, size_t max_bytes);

/* Returns: (transfer none) the socket path @client was connected to. */
const char *rpc_client_get_path(const RpcClient *client);

/* Returns: true while the connection is usable (see the top comment). */
bool rpc_client_is_connected(const RpcClient *client);

void rpc_client_free(RpcClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RpcClient, rpc_client_free)
