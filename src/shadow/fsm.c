/*
 * shadow/fsm.c: the shadow lifecycle state machine (fsm.h).
 */
#include "shadow/fsm.h"

#include <string.h>

static const char *const state_names[] = {
#define X(NAME, STR) STR,
    SHADOW_STATES(X)
#undef X
};
G_STATIC_ASSERT(G_N_ELEMENTS(state_names) == SHADOW_STATE_LAST);

static const char *const event_names[] = {
#define X(NAME, STR) STR,
    SHADOW_EVENTS(X)
#undef X
};
G_STATIC_ASSERT(G_N_ELEMENTS(event_names) == SHADOW_EVENT_LAST);

const char *
shadow_state_to_string(ShadowState s)
{
    return (int) s >= 0 && s < SHADOW_STATE_LAST ? state_names[s] : "unknown";
}

int
shadow_state_from_string(const char *str)
{
    for (int i = 0; str && i < SHADOW_STATE_LAST; i++) {
        if (strcmp(str, state_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

const char *
shadow_event_to_string(ShadowEvent e)
{
    return (int) e >= 0 && e < SHADOW_EVENT_LAST ? event_names[e] : "unknown";
}

int
shadow_event_from_string(const char *str)
{
    for (int i = 0; str && i < SHADOW_EVENT_LAST; i++) {
        if (strcmp(str, event_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

bool
shadow_state_is_final(ShadowState s)
{
    return s == SHADOW_STATE_PROMOTED || s == SHADOW_STATE_RETIRED;
}

void
shadow_fsm_init(ShadowFsm *f, int64_t now)
{
    memset(f, 0, sizeof(*f));
    f->state = SHADOW_STATE_STAGING;
    f->before_active = SHADOW_STATE_WARM;
    f->since = f->created = f->last_used = now;
}

/* Returns: the state @ev leads to from @f's, or -1 when not allowed. */
static int
next_state(const ShadowFsm *f, ShadowEvent ev)
{
    switch (f->state) {
    case SHADOW_STATE_STAGING:
        switch (ev) {
        case SHADOW_EVENT_STAGED_WARM:
            return SHADOW_STATE_WARM;
        case SHADOW_EVENT_STAGED_COLD:
            return SHADOW_STATE_COLD;
        case SHADOW_EVENT_STAGE_FAILED:
        case SHADOW_EVENT_RETIRE:
            return SHADOW_STATE_RETIRING;
        default:
            return -1;
        }
    case SHADOW_STATE_WARM:
    case SHADOW_STATE_COLD:
        switch (ev) {
        case SHADOW_EVENT_ACTIVATE:
            return SHADOW_STATE_ACTIVE;
        case SHADOW_EVENT_RETIRE:
            return SHADOW_STATE_RETIRING;
        default:
            return -1;
        }
    case SHADOW_STATE_ACTIVE:
        switch (ev) {
        case SHADOW_EVENT_CUTOVER_DONE:
            return SHADOW_STATE_PROMOTED;
        case SHADOW_EVENT_CUTOVER_FAILED:
            return f->before_active;
        default:
            return -1;
        }
    case SHADOW_STATE_RETIRING:
        return ev == SHADOW_EVENT_CLEANED ? SHADOW_STATE_RETIRED : -1;
    case SHADOW_STATE_PROMOTED:
    case SHADOW_STATE_RETIRED:
    case SHADOW_STATE_LAST:
        return -1;
    }
    return -1;
}

bool
shadow_fsm_step(ShadowFsm *f, ShadowEvent ev, int64_t now)
{
    int next;

    if ((int) ev < 0 || ev >= SHADOW_EVENT_LAST) {
        return false;
    }
    next = next_state(f, ev);
    if (next < 0) {
        return false;
    }
    if (ev == SHADOW_EVENT_ACTIVATE) {
        f->before_active = f->state;
    }
    if (next == SHADOW_STATE_WARM || next == SHADOW_STATE_COLD) {
        f->last_used = now;
    }
    f->state = (ShadowState) next;
    f->since = now;
    return true;
}

bool
shadow_fsm_idle(const ShadowFsm *f, int64_t now, int64_t idle_us)
{
    return (f->state == SHADOW_STATE_WARM || f->state == SHADOW_STATE_COLD) &&
           now - f->last_used >= idle_us;
}

void
shadow_fsm_touch(ShadowFsm *f, int64_t now)
{
    if (now > f->last_used) {
        f->last_used = now;
    }
}
