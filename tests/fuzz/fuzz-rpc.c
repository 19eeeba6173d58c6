/*
 * tests/fuzz/fuzz-rpc.c: RPC request parsing and the error reply built
 * from whatever it finds (what umbrad does with every line a client
 * sends).
 */
#include <stdint.h>
#include <string.h>

#include "rpc/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GError *err = NULL;
    int64_t id = 0;
    const char *method = NULL;
    json_object *params = NULL;
    json_object *req = rpc_request_parse((const char *) data, size, &id,
                                         &method, &params, &err);
    char *reply;

    if (req) {
        g_assert(method && params);
        reply = rpc_reply_result(id, json_object_get(params));
        json_object_put(req);
    } else {
        g_assert(err);
        reply = rpc_reply_error(id, (RpcErrorCode) err->code, err->message);
        g_clear_error(&err);
    }
    g_assert(reply[strlen(reply) - 1] == '\n');
    g_free(reply);
    return 0;
}
