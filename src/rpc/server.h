/*
 * rpc/server.h: umbrad's RPC listener (docs/rpc.md).
 *
 * A unix stream socket, mode 0660 with group @group; one request per
 * line; the handler runs on the main context and returns the result
 * object or an error.  Each client has a bounded output queue: a client
 * that stops reading (e.g. a stalled "events --follow") is dropped when
 * its queue passes RPC_SERVER_MAX_QUEUE bytes instead of holding memory.
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

#include "rpc/proto.h"

#define RPC_SERVER_MAX_QUEUE (16 * 1024 * 1024)

typedef struct RpcServer RpcServer;
typedef struct RpcServerClient RpcServerClient;

/*
 * RpcHandlerFunc:
 * @client: the client (borrowed; valid until RpcClientGoneFunc runs)
 * @id, @method, @params: the request (borrowed)
 * @error: set (RPC_ERROR_*) when returning NULL
 *
 * Returns: (transfer full) the result object, or NULL with @error set.
 */
typedef json_object *(*RpcHandlerFunc)(RpcServerClient *client, int64_t id,
                                       const char *method, json_object *params,
                                       gpointer data, GError **error);
/* Called once when a client disconnects. */
typedef void (*RpcClientGoneFunc)(RpcServerClient *client, gpointer data);

/*
 * rpc_server_new:
 * @path: socket path; a stale socket is replaced, a live one (another
 *   umbrad) is an error
 * @group: (nullable) group owning the socket; if it does not exist the
 *   socket stays root-only
 *
 * Returns: (transfer full) a listening server, or NULL with @error set.
 */
RpcServer *rpc_server_new(const char *path, const char *group,
                          RpcHandlerFunc handler, RpcClientGoneFunc gone,
                          gpointer data, GError **error);

/* Closes every client and the socket, and removes the socket file. */
void rpc_server_free(RpcServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RpcServer, rpc_server_free)

/* Queues @line (must end in '\n') for @client. */
void rpc_server_client_send(RpcServerClient *client, const char *line);

/* Returns: how many clients are connected. */
guint rpc_server_n_clients(RpcServer *server);
