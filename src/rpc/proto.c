/*
 * rpc/proto.c: building and parsing RPC messages.
 */
#include "rpc/proto.h"

#include <string.h>

/* clang-format off */
G_DEFINE_QUARK(umbra-rpc-error-quark, rpc_error)
/* clang-format on */

static const char *const rpc_error_names[] = {
#define X(NAME, STR) STR,
    RPC_ERRORS(X)
#undef X
};
G_STATIC_ASSERT(G_N_ELEMENTS(rpc_error_names) == RPC_ERROR_LAST);

const char *
rpc_error_code_to_string(RpcErrorCode code)
{
    if ((int) code < 0 || code >= RPC_ERROR_LAST) {
        return "internal";
    }
    return rpc_error_names[code];
}

RpcErrorCode
rpc_error_code_from_string(const char *str)
{
    for (int i = 0; str && i < RPC_ERROR_LAST; i++) {
        if (strcmp(str, rpc_error_names[i]) == 0) {
            return (RpcErrorCode) i;
        }
    }
    return RPC_ERROR_INTERNAL;
}

json_object *
rpc_request_new(int64_t id, const char *method, json_object *params)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "version",
                           json_object_new_int(RPC_PROTOCOL_VERSION));
    json_object_object_add(o, "id", json_object_new_int64(id));
    json_object_object_add(o, "method", json_object_new_string(method));
    json_object_object_add(o, "params",
                           params ? params : json_object_new_object());
    return o;
}

json_object *
rpc_request_parse(const char *line, size_t len, int64_t *ret_id,
                  const char **ret_method, json_object **ret_params,
                  GError **error)
{
    g_autoptr(json_tokener) tok = NULL;
    g_autoptr(json_object) o = NULL;
    json_object *v = NULL;
    json_object *params = NULL;

    *ret_id = 0;
    if (len > RPC_MAX_MESSAGE) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_TOO_LARGE,
                    "request of %zu bytes exceeds %d", len, RPC_MAX_MESSAGE);
        return NULL;
    }
    tok = json_tokener_new();
    o = json_tokener_parse_ex(tok, line, (int) len);
    if (!o || json_tokener_get_error(tok) != json_tokener_success ||
        !json_object_is_type(o, json_type_object)) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_PARSE,
                    "request is not a JSON object");
        return NULL;
    }
    if (json_object_object_get_ex(o, "id", &v) &&
        json_object_is_type(v, json_type_int)) {
        *ret_id = json_object_get_int64(v);
    }
    if (!json_object_object_get_ex(o, "version", &v) ||
        !json_object_is_type(v, json_type_int)) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_BAD_REQUEST,
                    "request lacks an integer 'version'");
        return NULL;
    }
    if (json_object_get_int64(v) != RPC_PROTOCOL_VERSION) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_VERSION,
                    "protocol version %" G_GINT64_FORMAT " not supported "
                    "(this umbrad speaks %d)",
                    json_object_get_int64(v), RPC_PROTOCOL_VERSION);
        return NULL;
    }
    if (!json_object_object_get_ex(o, "method", &v) ||
        !json_object_is_type(v, json_type_string)) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_BAD_REQUEST,
                    "request lacks a string 'method'");
        return NULL;
    }
    *ret_method = json_object_get_string(v);
    if (json_object_object_get_ex(o, "params", &params) && params &&
        !json_object_is_type(params, json_type_object)) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_BAD_REQUEST,
                    "'params' is not an object");
        return NULL;
    }
    if (!params) {
        params = json_object_new_object();
        json_object_object_add(o, "params", params);
    }
    *ret_params = params;
    return g_steal_pointer(&o);
}

static char *
reply_line(json_object *o)
{
    const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

    return g_strconcat(s, "\n", NULL);
}

char *
rpc_reply_result(int64_t id, json_object *result)
{
    g_autoptr(json_object) o = json_object_new_object();

    json_object_object_add(o, "version",
                           json_object_new_int(RPC_PROTOCOL_VERSION));
    json_object_object_add(o, "id", json_object_new_int64(id));
    json_object_object_add(o, "result",
                           result ? result : json_object_new_object());
    return reply_line(o);
}

char *
rpc_reply_error(int64_t id, RpcErrorCode code, const char *message)
{
    g_autoptr(json_object) o = json_object_new_object();
    json_object *e = json_object_new_object();

    json_object_object_add(
        e, "code", json_object_new_string(rpc_error_code_to_string(code)));
    json_object_object_add(e, "message",
                           json_object_new_string(message ? message : ""));
    json_object_object_add(o, "version",
                           json_object_new_int(RPC_PROTOCOL_VERSION));
    json_object_object_add(o, "id", json_object_new_int64(id));
    json_object_object_add(o, "error", e);
    return reply_line(o);
}

char *
rpc_reply_event(int64_t id, json_object *event)
{
    g_autoptr(json_object) o = json_object_new_object();

    json_object_object_add(o, "version",
                           json_object_new_int(RPC_PROTOCOL_VERSION));
    json_object_object_add(o, "id", json_object_new_int64(id));
    json_object_object_add(o, "event", event);
    return reply_line(o);
}
