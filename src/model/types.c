/*
 * model/types.c: constructors, copies and destructors of model values,
 * and the enum <-> string tables.
 */
#include "model/types.h"

#include <math.h>
#include <string.h>

static const char *const dom_state_names[] = {
#define X(NAME, STR) STR,
    DOM_STATES(X)
#undef X
};
G_STATIC_ASSERT(G_N_ELEMENTS(dom_state_names) == DOM_STATE_LAST);

static const char *const event_source_names[] = {
#define X(NAME, STR) STR,
    EVENT_SOURCES(X)
#undef X
};
G_STATIC_ASSERT(G_N_ELEMENTS(event_source_names) == EVENT_SOURCE_LAST);

const char *
dom_state_to_string(DomState state)
{
    if ((int) state < 0 || state >= DOM_STATE_LAST) {
        return "unknown";
    }
    return dom_state_names[state];
}

int
dom_state_from_string(const char *str)
{
    for (int i = 0; str && i < DOM_STATE_LAST; i++) {
        if (strcmp(str, dom_state_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

const char *
event_source_to_string(EventSource src)
{
    if ((int) src < 0 || src >= EVENT_SOURCE_LAST) {
        return "unknown";
    }
    return event_source_names[src];
}

int
event_source_from_string(const char *str)
{
    for (int i = 0; str && i < EVENT_SOURCE_LAST; i++) {
        if (strcmp(str, event_source_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

DomRaw *
dom_raw_new(void)
{
    DomRaw *raw = g_new0(DomRaw, 1);

    raw->mem_unused_kib = -1;
    raw->mem_available_kib = -1;
    raw->mem_rss_kib = -1;
    raw->dirty_mbps = NAN;
    return raw;
}

DomRaw *
dom_raw_copy(const DomRaw *raw)
{
    DomRaw *c = g_memdup2(raw, sizeof(*raw));

    c->uuid = g_strdup(raw->uuid);
    c->name = g_strdup(raw->name);
    return c;
}

void
dom_raw_free(DomRaw *raw)
{
    if (!raw) {
        return;
    }
    g_free(raw->uuid);
    g_free(raw->name);
    g_free(raw);
}

DomSample *
dom_sample_new(void)
{
    DomSample *s = g_new0(DomSample, 1);

    s->cpu_pct = NAN;
    s->dirty_mbps = NAN;
    return s;
}

DomSample *
dom_sample_copy(const DomSample *s)
{
    DomSample *c = g_memdup2(s, sizeof(*s));

    c->uuid = g_strdup(s->uuid);
    c->name = g_strdup(s->name);
    c->host = g_strdup(s->host);
    c->cell = g_strdup(s->cell);
    return c;
}

void
dom_sample_free(DomSample *s)
{
    if (!s) {
        return;
    }
    g_free(s->uuid);
    g_free(s->name);
    g_free(s->host);
    g_free(s->cell);
    g_free(s);
}

HostSample *
host_sample_new(void)
{
    HostSample *s = g_new0(HostSample, 1);

    s->cpu_pct = NAN;
    return s;
}

HostSample *
host_sample_copy(const HostSample *s)
{
    HostSample *c = g_memdup2(s, sizeof(*s));

    c->host = g_strdup(s->host);
    c->cell = g_strdup(s->cell);
    return c;
}

void
host_sample_free(HostSample *s)
{
    if (!s) {
        return;
    }
    g_free(s->host);
    g_free(s->cell);
    g_free(s);
}

UmbraEvent *
umbra_event_new(EventSource source, const char *host, const char *domain,
                const char *uuid, const char *type, const char *detail)
{
    UmbraEvent *ev = g_new0(UmbraEvent, 1);

    ev->source = source;
    ev->host = g_strdup(host);
    ev->domain = g_strdup(domain);
    ev->uuid = g_strdup(uuid);
    ev->type = g_strdup(type);
    ev->detail = g_strdup(detail);
    return ev;
}

UmbraEvent *
umbra_event_copy(const UmbraEvent *ev)
{
    UmbraEvent *c = umbra_event_new(ev->source, ev->host, ev->domain, ev->uuid,
                                    ev->type, ev->detail);

    c->id = ev->id;
    c->wall_us = ev->wall_us;
    return c;
}

void
umbra_event_free(UmbraEvent *ev)
{
    if (!ev) {
        return;
    }
    g_free(ev->host);
    g_free(ev->domain);
    g_free(ev->uuid);
    g_free(ev->type);
    g_free(ev->detail);
    g_free(ev);
}

char *
cutover_summary(const CutoverFigures *f)
{
    g_autofree char *how = NULL;

    if (f->postcopy) {
        how = g_strdup_printf("switched to post-copy after %d passes, at "
                              "%.1f s",
                              f->passes, (double) f->postcopy_at_ms / 1000);
    } else if (f->downtime_ms >= 0) {
        how =
            g_strdup_printf("downtime %" G_GINT64_FORMAT " ms", f->downtime_ms);
    } else {
        how = g_strdup("downtime not reported");
    }
    return g_strdup_printf("%s now runs on %s: %.1f MiB memory + %.1f MiB "
                           "disk sent in %" G_GINT64_FORMAT " ms, %s",
                           f->domain ? f->domain : "?", f->host ? f->host : "?",
                           (double) f->memory_bytes / 1048576.0,
                           (double) f->disk_bytes / 1048576.0, f->total_ms,
                           how);
}
