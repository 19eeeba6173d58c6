/*
 * tests/fuzz/fuzz-hook.c: hook messages as umbrad receives them.
 */
#include <stdint.h>

#include "model/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GError *err = NULL;
    char *host = NULL;
    UmbraEvent *ev =
        model_hook_message_parse((const char *) data, size, &host, &err);

    if (ev) {
        g_assert(host && ev->domain && ev->type);
        json_object_put(umbra_event_to_json(ev));
    } else {
        g_assert(err && !host);
    }
    umbra_event_free(ev);
    g_free(host);
    g_clear_error(&err);
    return 0;
}
