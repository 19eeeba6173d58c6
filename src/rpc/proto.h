/*
 * rpc/proto.h: umbrad's RPC wire format (docs/rpc.md): newline-delimited
 * JSON objects over a unix stream socket.  Shared by the server
 * (daemon/) and the client (cli/).
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "util/autoptr.h"

#define RPC_PROTOCOL_VERSION 1
#define RPC_MAX_MESSAGE (64 * 1024)

#define RPC_ERROR (rpc_error_quark())
GQuark rpc_error_quark(void);

#define RPC_ERRORS(X)                                                          \
    X(PARSE, "parse")                                                          \
    X(TOO_LARGE, "too-large")                                                  \
    X(VERSION, "version")                                                      \
    X(BAD_REQUEST, "bad-request")                                              \
    X(UNKNOWN_METHOD, "unknown-method")                                        \
    X(UNKNOWN_DOMAIN, "unknown-domain")                                        \
    X(UNKNOWN_HOST, "unknown-host")                                            \
    X(UNKNOWN_CELL, "unknown-cell")                                            \
    X(NO_SHADOW, "no-shadow")                                                  \
    X(CONFLICT, "conflict")                                                    \
    X(NO_CAPACITY, "no-capacity")                                              \
    X(INTERNAL, "internal")                                                    \
    X(CONNECT, "connect")                                                      \
    X(IO, "io")                                                                \
    X(TIMEOUT, "timeout")

/* clang-format off */
typedef enum {
#define X(NAME, STR) RPC_ERROR_##NAME,
    RPC_ERRORS(X)
#undef X
    RPC_ERROR_LAST
} RpcErrorCode;
/* clang-format on */

/* Returns: the wire name of @code ("unknown-domain", ...). */
const char *rpc_error_code_to_string(RpcErrorCode code);
/* Returns: the code named @str, or RPC_ERROR_INTERNAL. */
RpcErrorCode rpc_error_code_from_string(const char *str);

/*
 * rpc_request_new:
 * @id: request id
 * @method: method name
 * @params: (transfer full) (nullable) parameters object
 *
 * Returns: (transfer full) the request object.
 */
json_object *rpc_request_new(int64_t id, const char *method,
                             json_object *params);

/*
 * rpc_request_parse:
 * @line: one line, without its '\n'
 * @len: its length
 * @ret_id: (out) the request id (0 if none)
 * @ret_method: (out) (transfer none) method name, valid while the
 *   returned object lives
 * @ret_params: (out) (transfer none) params object, never NULL
 * @error: set on failure; RPC_ERROR_* codes
 *
 * Returns: (transfer full) the parsed request, or NULL with @error set
 * (and *ret_id set when the id could be read, so the error reply can
 * echo it).
 */
json_object *rpc_request_parse(const char *line, size_t len, int64_t *ret_id,
                               const char **ret_method,
                               json_object **ret_params, GError **error);

/* Returns: (transfer full) a reply line (with '\n') carrying @result
 * (transfer full). */
char *rpc_reply_result(int64_t id, json_object *result);
/* Returns: (transfer full) a reply line (with '\n') carrying an error. */
char *rpc_reply_error(int64_t id, RpcErrorCode code, const char *message);
/* Returns: (transfer full) a follow-mode line carrying @event (transfer
 * full). */
char *rpc_reply_event(int64_t id, json_object *event);
