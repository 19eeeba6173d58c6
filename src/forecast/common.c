/*
 * forecast/common.c: what every forecasting module shares: the error
 * domain, the model names, FcResult.  Kept apart from the dispatcher so a
 * single model links without the others.
 */
#include "forecast/forecast.h"

#include <math.h>
#include <string.h>

/* clang-format off */
G_DEFINE_QUARK(umbra-forecast-error-quark, fc_error)
/* clang-format on */

static const char *const model_names[] = {
#define X(NAME, STR) STR,
    FC_MODELS(X)
#undef X
};
G_STATIC_ASSERT(G_N_ELEMENTS(model_names) == FC_MODEL_LAST);

const char *
fc_model_to_string(FcModel model)
{
    if ((int) model < 0 || model >= FC_MODEL_LAST) {
        return "unknown";
    }
    return model_names[model];
}

int
fc_model_from_string(const char *str)
{
    for (int i = 0; str && i < FC_MODEL_LAST; i++) {
        if (strcmp(str, model_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

FcResult *
fc_result_new(size_t h)
{
    FcResult *r = g_new0(FcResult, 1);

    r->h = h;
    r->mean = g_new0(double, h);
    r->lo80 = g_new0(double, h);
    r->hi80 = g_new0(double, h);
    r->lo95 = g_new0(double, h);
    r->hi95 = g_new0(double, h);
    r->aicc = NAN;
    r->sigma2 = NAN;
    return r;
}

void
fc_result_free(FcResult *r)
{
    if (!r) {
        return;
    }
    g_free(r->mean);
    g_free(r->lo80);
    g_free(r->hi80);
    g_free(r->lo95);
    g_free(r->hi95);
    g_free(r->method);
    g_free(r);
}
