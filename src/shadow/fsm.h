/*
 * shadow/fsm.h: the shadow lifecycle as an explicit state machine
 * (../shared/STYLE.md section 6).
 *
 *                 staged(warm)                   activate
 *   STAGING ─────────────────────► WARM ───────────────────► ACTIVE
 *      │    staged(cold)            │ ▲                        │ │
 *      ├────────────────► COLD ─────┼─┼──── activate ──────────┘ │
 *      │                    │       │ └──── cutover-failed ──────┤
 *      │ stage-failed       │ retire│ (idle, risk gone,          │ cutover-done
 *      ▼                    ▼       ▼  operator, orphan)         ▼
 *   RETIRING ◄──────────────┴───────┘                        PROMOTED
 *      │ cleaned
 *      ▼
 *   RETIRED
 *
 * STAGING: the disk copy and the definition on the target are being made.
 * WARM: defined, booted then paused (no CPU used); COLD: staged, not
 * started.  ACTIVE: a cutover onto it is running.  PROMOTED: the primary
 * now runs on the shadow's host (the shadow's reservation became its
 * slot); terminal.  RETIRING: its domain and disk are being removed;
 * RETIRED: terminal.  A failed cutover returns the shadow to where it was
 * (the primary keeps running at home).
 *
 * shadow_fsm_step() is the one transition function: pure, given @now, it
 * returns the next state or refuses the event (the state is unchanged).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* clang-format off */
#define SHADOW_STATES(X)         \
    X(STAGING, "staging")        \
    X(WARM, "warm")              \
    X(COLD, "cold")              \
    X(ACTIVE, "active")          \
    X(PROMOTED, "promoted")      \
    X(RETIRING, "retiring")      \
    X(RETIRED, "retired")

#define SHADOW_EVENTS(X)                     \
    X(STAGED_WARM, "staged-warm")            \
    X(STAGED_COLD, "staged-cold")            \
    X(STAGE_FAILED, "stage-failed")          \
    X(ACTIVATE, "activate")                  \
    X(CUTOVER_DONE, "cutover-done")          \
    X(CUTOVER_FAILED, "cutover-failed")      \
    X(RETIRE, "retire")                      \
    X(CLEANED, "cleaned")

typedef enum {
#define X(NAME, STR) SHADOW_STATE_##NAME,
    SHADOW_STATES(X)
#undef X
    SHADOW_STATE_LAST
} ShadowState;

typedef enum {
#define X(NAME, STR) SHADOW_EVENT_##NAME,
    SHADOW_EVENTS(X)
#undef X
    SHADOW_EVENT_LAST
} ShadowEvent;
/* clang-format on */

const char *shadow_state_to_string(ShadowState s);
int shadow_state_from_string(const char *str);
const char *shadow_event_to_string(ShadowEvent e);
int shadow_event_from_string(const char *str);

/* Returns: true for PROMOTED and RETIRED. */
bool shadow_state_is_final(ShadowState s);

/* The machine's memory: the state, where a cutover started from, and
 * when things happened (wall us). */
typedef struct {
    ShadowState state;
    ShadowState before_active; /* WARM or COLD while ACTIVE */
    int64_t since;             /* entered the state */
    int64_t created;           /* entered STAGING */
    int64_t last_used;         /* last time it was needed (risk high) */
} ShadowFsm;

void shadow_fsm_init(ShadowFsm *f, int64_t now);

/*
 * shadow_fsm_step:
 * @ev: what happened
 * @now: wall us
 *
 * Returns: true and moves @f when @ev is allowed in its state; false,
 * @f unchanged, otherwise.
 */
bool shadow_fsm_step(ShadowFsm *f, ShadowEvent ev, int64_t now);

/*
 * shadow_fsm_idle:
 * @idle_us: how long a WARM or COLD shadow may go unneeded
 *
 * Returns: true when @f is WARM or COLD and has not been needed
 * (shadow_fsm_touch()) for @idle_us: time to retire it.
 */
bool shadow_fsm_idle(const ShadowFsm *f, int64_t now, int64_t idle_us);

/* Records that the shadow is still needed at @now. */
void shadow_fsm_touch(ShadowFsm *f, int64_t now);
