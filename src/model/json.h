/*
 * model/json.h: json-c encoding of model values, the wire format of the
 * RPC (docs/rpc.md) and of the libvirt hook's messages.
 *
 * NaN (an unknown rate) is encoded as JSON null.
 */
#pragma once

#include <json-c/json.h>

#include "model/types.h"
#include "util/autoptr.h"

#define MODEL_ERROR (model_error_quark())
GQuark model_error_quark(void);

typedef enum {
    MODEL_ERROR_PARSE,     /* not JSON, or not an object */
    MODEL_ERROR_INVALID,   /* a field is missing or of the wrong type */
    MODEL_ERROR_TOO_LARGE, /* a message exceeds the size limit */
    MODEL_ERROR_LAST
} ModelErrorCode;

/* Hook messages larger than this are refused (bytes). */
#define MODEL_HOOK_MSG_MAX 4096

/* Returns: (transfer full) a JSON object for @s. */
json_object *dom_sample_to_json(const DomSample *s);
/* Returns: (transfer full) a JSON object for @s. */
json_object *host_sample_to_json(const HostSample *s);
/* Returns: (transfer full) a JSON object for @ev. */
json_object *umbra_event_to_json(const UmbraEvent *ev);

/* Returns: a double from a JSON number, NaN for null or a missing key. */
double model_json_get_double(json_object *obj, const char *key);
/* Returns: the string at @key, or NULL (borrowed from @obj). */
const char *model_json_get_string(json_object *obj, const char *key);
/* Returns: the integer at @key, or @def. */
int64_t model_json_get_int(json_object *obj, const char *key, int64_t def);

/* Returns: (transfer full) a new JSON number, or null for NaN/inf. */
json_object *model_json_double(double v);

/*
 * model_hook_message_build:
 * @hostname: hostname of the hypervisor the hook runs on
 * @domain: domain name (argv[1] of the hook)
 * @uuid: domain UUID from the XML on stdin, may be NULL
 * @op: operation (argv[2]), @sub: sub-operation (argv[3]),
 * @extra: extra argument (argv[4]), each may be NULL
 * @wall_us: when the hook ran
 *
 * Returns: (transfer full) the one-line JSON message the hook sends.
 */
char *model_hook_message_build(const char *hostname, const char *domain,
                               const char *uuid, const char *op,
                               const char *sub, const char *extra,
                               int64_t wall_us);

/*
 * model_hook_message_parse:
 * @buf: the message bytes (need not be NUL-terminated)
 * @len: their length
 * @ret_hostname: (out) (transfer full) the hypervisor's hostname
 * @error: set on failure
 *
 * Returns: (transfer full) an event of source "hook" whose type is
 * "OP/SUB" (e.g. "migrate/begin"), or NULL with @error set.
 */
UmbraEvent *model_hook_message_parse(const char *buf, size_t len,
                                     char **ret_hostname, GError **error);
