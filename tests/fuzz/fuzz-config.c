/*
 * tests/fuzz/fuzz-config.c: umbra.conf parser.
 */
#include <stdint.h>

#include "model/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GError *err = NULL;
    UmbraConfig *cfg =
        umbra_config_parse("fuzz.conf", (const char *) data, size, &err);

    g_assert((cfg == NULL) == (err != NULL));
    umbra_config_free(cfg);
    g_clear_error(&err);
    return 0;
}
