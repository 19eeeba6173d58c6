/*
 * tests/unit/test-model.c: JSON codecs and the hook message format.
 */
#include <math.h>
#include <string.h>

#include "cutest.h"
#include "model/json.h"

static void
test_sample_json_nan_is_null(void)
{
    g_autoptr(DomSample) s = dom_sample_new();
    g_autoptr(json_object) o = NULL;
    json_object *v = NULL;

    s->name = g_strdup("web1");
    s->uuid = g_strdup("5b5fb0e4-7a54-4a0e-9cfe-3b8b1a2d9d11");
    s->state = DOM_STATE_RUNNING;
    s->net_rx_bps = 1234.5678;
    o = dom_sample_to_json(s);
    CU_ASSERT_TRUE(json_object_object_get_ex(o, "cpu_pct", &v));
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT_STRING_EQUAL(model_json_get_string(o, "state"), "running");
    CU_ASSERT_DOUBLE_EQUAL(model_json_get_double(o, "net_rx_bps"), 1234.568,
                           1e-9);
    CU_ASSERT_TRUE(isnan(model_json_get_double(o, "cpu_pct")));
}

static void
test_hook_roundtrip(void)
{
    g_autofree char *msg = model_hook_message_build(
        "umbra-h1", "web1", "5b5fb0e4-7a54-4a0e-9cfe-3b8b1a2d9d11", "migrate",
        "begin", "-", 42);
    g_autofree char *host = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(UmbraEvent) ev =
        model_hook_message_parse(msg, strlen(msg), &host, &err);

    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    CU_ASSERT_STRING_EQUAL(host, "umbra-h1");
    CU_ASSERT_STRING_EQUAL(ev->domain, "web1");
    CU_ASSERT_STRING_EQUAL(ev->type, "migrate/begin");
    CU_ASSERT_PTR_NULL(ev->detail);
    CU_ASSERT_EQUAL(ev->wall_us, 42);
    CU_ASSERT_EQUAL(ev->source, EVENT_SOURCE_HOOK);
    CU_ASSERT_STRING_EQUAL(ev->uuid, "5b5fb0e4-7a54-4a0e-9cfe-3b8b1a2d9d11");
}

static void
test_hook_bad(void)
{
    static const char *bad[] = {
        "",
        "{",
        "[]",
        "null",
        "{\"v\":2,\"hostname\":\"h\",\"domain\":\"d\","
        "\"op\":\"start\"}",
        "{\"v\":1,\"domain\":\"d\",\"op\":\"start\"}",
        "{\"v\":1,\"hostname\":\"h\",\"domain\":\"\",\"op\":\"start\"}",
        "{\"v\":1,\"hostname\":5,\"domain\":\"d\",\"op\":\"start\"}",
    };
    g_autofree char *huge = g_strnfill(MODEL_HOOK_MSG_MAX + 10, 'x');
    g_autoptr(GError) err = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) e = NULL;

        CU_ASSERT_PTR_NULL(
            model_hook_message_parse(bad[i], strlen(bad[i]), NULL, &e));
        CU_ASSERT_PTR_NOT_NULL(e);
    }
    CU_ASSERT_PTR_NULL(
        model_hook_message_parse(huge, strlen(huge), NULL, &err));
    CU_ASSERT_EQUAL(err->code, MODEL_ERROR_TOO_LARGE);
}

static void
test_hook_bad_uuid_dropped(void)
{
    const char *msg = "{\"v\":1,\"hostname\":\"h\",\"domain\":\"d\","
                      "\"op\":\"started\",\"sub\":\"begin\",\"extra\":\"x\","
                      "\"uuid\":\"not-a-uuid\"}";
    g_autoptr(UmbraEvent) ev =
        model_hook_message_parse(msg, strlen(msg), NULL, NULL);

    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    CU_ASSERT_PTR_NULL(ev->uuid);
    CU_ASSERT_STRING_EQUAL(ev->detail, "extra=x");
}

static void
test_enum_tables(void)
{
    for (int i = 0; i < DOM_STATE_LAST; i++) {
        CU_ASSERT_EQUAL(dom_state_from_string(dom_state_to_string(i)), i);
    }
    for (int i = 0; i < EVENT_SOURCE_LAST; i++) {
        CU_ASSERT_EQUAL(event_source_from_string(event_source_to_string(i)), i);
    }
    CU_ASSERT_STRING_EQUAL(dom_state_to_string(99), "unknown");
    CU_ASSERT_EQUAL(dom_state_from_string("bogus"), -1);
}

/* The one line of a cutover: downtime, post-copy, or neither known. */
static void
test_cutover_summary(void)
{
    CutoverFigures f = {
        .domain = "web1",
        .host = "umbra-h3",
        .memory_bytes = 90 * 1048576 + 419430,
        .disk_bytes = 104858,
        .total_ms = 1200,
        .downtime_ms = 164,
    };
    g_autofree char *a = cutover_summary(&f);
    g_autofree char *b = NULL;
    g_autofree char *c = NULL;

    CU_ASSERT_STRING_EQUAL(a, "web1 now runs on umbra-h3: 90.4 MiB memory + "
                              "0.1 MiB disk sent in 1200 ms, downtime 164 ms");
    f.downtime_ms = -1;
    b = cutover_summary(&f);
    CU_ASSERT_PTR_NOT_NULL(strstr(b, "ms, downtime not reported"));
    f.postcopy = true;
    f.passes = 6;
    f.postcopy_at_ms = 44012;
    c = cutover_summary(&f);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(c, "ms, switched to post-copy after 6 passes, at 44.0 s"));
}

static const CutestCase cases[] = {
    {"sample-json-nan-is-null", test_sample_json_nan_is_null},
    {"cutover-summary", test_cutover_summary},
    {"hook-roundtrip", test_hook_roundtrip},
    {"hook-bad", test_hook_bad},
    {"hook-bad-uuid-dropped", test_hook_bad_uuid_dropped},
    {"enum-tables", test_enum_tables},
};

CUTEST_MAIN("model", cases)
