/*
 * tests/fuzz/fuzz-risk-model.c: the failure model's persisted JSON
 * (risk_model_from_json), read back from the store at every start.
 */
#include <stdint.h>
#include <string.h>

#include "risk/failure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = g_strndup((const char *) data, size);
    GError *err = NULL;
    RiskModel *m = risk_model_from_json(text, &err);

    g_assert((m == NULL) == (err != NULL));
    if (m) {
        double x[RISK_FEAT_LAST] = {0};
        double p = risk_model_predict(m, x, NULL);
        g_autofree char *again = risk_model_to_json(m);

        g_assert(p > 0 && p < 1);
        g_assert(again != NULL);
    }
    risk_model_free(m);
    g_clear_error(&err);
    return 0;
}
