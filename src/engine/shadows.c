/*
 * engine/shadows.c: the shadow manager (see shadows.h and
 * docs/architecture.md, "Shadows").
 */
#include "engine/shadows.h"

#include <math.h>
#include <string.h>

#include "model/json.h"
#include "shadow/fsm.h"
#include "shadow/plan.h"
#include "sys/shadowops.h"
#include "util/autoptr.h"
#include "util/clock.h"

/* clang-format off */
G_DEFINE_QUARK(umbra-shadow-manager-error-quark, shadow_manager_error)
/* clang-format on */

#define UPKEEP_EVERY_S 5 /* idle checks, automatic moves, retries */
#define AUDIT_EVERY_US (300 * G_USEC_PER_SEC) /* reconcile again */
#define FIRST_AUDIT_US (3 * G_USEC_PER_SEC)   /* after start */
#define SETTLE_AFTER_US (15 * G_USEC_PER_SEC) /* after a cutover */
#define JOURNAL_LIMIT 200
#define KA_INTERVAL 5
#define KA_COUNT 3

/* One staged disk. */
typedef struct {
    char *target;  /* "vda" */
    char *format;  /* the frozen file's format */
    char *frozen;  /* on the primary's host: the staged (read-only) file */
    char *overlay; /* on the primary's host: what the primary writes now */
    char *base;    /* on the shadow's host: the staged copy */
    char *path;    /* on the shadow's host: the shadow's own overlay */
    char *golden;  /* the frozen file's own backing file (a golden image
                    * on every host), or NULL */
    char *ppath;   /* on the shadow's host: the primary's overlay-to-be,
                    * made ahead so the cutover need not */
    uint64_t bytes;
} ShadowDisk;

typedef struct {
    char *primary_uuid;
    char *primary_name;
    char *primary_host;    /* where it ran when staged */
    char *name;            /* the shadow domain: PRIMARY~shadow */
    char *host;            /* the shadow's host */
    char *cell;            /* its cell */
    char *mode;            /* "warm" or "cold" */
    char *origin;          /* "operator" or "risk" */
    char *placement;       /* why that host (one line) */
    char *error;           /* the last failure (nullable) */
    char *note;            /* the last remark (nullable) */
    int64_t tag;           /* wall us when staging began; names the overlays */
    double cpus;           /* reserved */
    double mem_kib;        /* reserved */
    uint64_t bytes;        /* staged bytes */
    double stage_s;        /* staging took */
    bool restage;          /* stage again once retired */
    bool pending_cutover;  /* cut over as soon as staged */
    bool settled;          /* promoted, and the settle job is done */
    int failures;          /* cutovers failed in a row */
    int64_t backoff_until; /* no automatic cutover before (wall us) */
    /* The last cutover */
    char *cut_from;      /* the host the primary left */
    char *cut_plan;      /* features and why */
    int64_t cut_started; /* wall us */
    int64_t cut_total_ms;
    int64_t cut_downtime_ms;
    uint64_t cut_memory_bytes;
    uint64_t cut_disk_bytes;
    int cut_iterations;
    bool cut_postcopy;
    int64_t cut_postcopy_at_ms; /* when it switched to post-copy */
    ShadowFsm fsm;
    GPtrArray *disks; /* ShadowDisk* */
    /* Not persisted: */
    char *cut_why;        /* why the pending cutover, if not asked */
    bool alarm;           /* the cutover alarm (shadow_alarm_update()) */
    double alarm_peak;    /* the highest risk since it went on */
    bool busy;            /* a job runs on it */
    int job;              /* its JobKind */
    GCancellable *cancel; /* that job's */
    GCancellable *hurry;  /* STAGE: cuts its warm boot short */
} Shadow;

typedef struct Job Job;

/* What outlives the manager for jobs finishing after it. */
typedef struct {
    gatomicrefcount ref;
    ShadowManager *sm; /* NULL once freed */
} ManagerRef;

struct ShadowManager {
    const UmbraConfig *cfg;
    const SysVirtOps *ops;
    Monitor *m;
    Predictor *pred;
    TsdbStore *store;
    GHashTable *shadows; /* primary UUID -> Shadow* */
    PlacementLedger *ledger;
    ManagerRef *self;
    guint timer;
    guint poke;         /* an upkeep pass queued by shadow_manager_poke() */
    int64_t next_audit; /* wall us */
    bool auditing;      /* a reconcile job runs */
    GHashTable *asked;  /* protected UUID -> int64_t wall us of the last
                         * automatic shadow request */
    guint reactive_timer;
    GHashTable *hot_since; /* host -> int64_t wall us it began running hot
                            * (cutover_policy = reactive) */
};

/* ------------------------------------------------------------------ */
/* Records                                                             */

static void
shadow_disk_free(gpointer p)
{
    ShadowDisk *d = p;

    g_free(d->target);
    g_free(d->format);
    g_free(d->frozen);
    g_free(d->overlay);
    g_free(d->base);
    g_free(d->path);
    g_free(d->ppath);
    g_free(d->golden);
    g_free(d);
}

static void
shadow_free(gpointer p)
{
    Shadow *sh = p;

    if (!sh) {
        return;
    }
    g_free(sh->primary_uuid);
    g_free(sh->primary_name);
    g_free(sh->primary_host);
    g_free(sh->name);
    g_free(sh->host);
    g_free(sh->cell);
    g_free(sh->mode);
    g_free(sh->origin);
    g_free(sh->placement);
    g_free(sh->error);
    g_free(sh->note);
    g_free(sh->cut_from);
    g_free(sh->cut_plan);
    g_free(sh->cut_why);
    g_ptr_array_unref(sh->disks);
    g_clear_object(&sh->cancel);
    g_clear_object(&sh->hurry);
    g_free(sh);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Shadow, shadow_free)

static Shadow *
shadow_new(void)
{
    Shadow *sh = g_new0(Shadow, 1);

    sh->disks = g_ptr_array_new_with_free_func(shadow_disk_free);
    return sh;
}

static void
jstr(json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static json_object *
shadow_to_json(const Shadow *sh, bool runtime)
{
    json_object *o = json_object_new_object();
    json_object *da = json_object_new_array();

    jstr(o, "domain", sh->primary_name);
    jstr(o, "uuid", sh->primary_uuid);
    jstr(o, "primary_host", sh->primary_host);
    jstr(o, "name", sh->name);
    jstr(o, "host", sh->host);
    jstr(o, "cell", sh->cell);
    jstr(o, "state", shadow_state_to_string(sh->fsm.state));
    jstr(o, "before_active", shadow_state_to_string(sh->fsm.before_active));
    jstr(o, "mode", sh->mode);
    jstr(o, "origin", sh->origin);
    jstr(o, "placement", sh->placement);
    jstr(o, "error", sh->error);
    jstr(o, "note", sh->note);
    json_object_object_add(o, "tag", json_object_new_int64(sh->tag));
    json_object_object_add(o, "since", json_object_new_int64(sh->fsm.since));
    json_object_object_add(o, "created",
                           json_object_new_int64(sh->fsm.created));
    json_object_object_add(o, "last_used",
                           json_object_new_int64(sh->fsm.last_used));
    json_object_object_add(o, "cpus", model_json_double(sh->cpus));
    json_object_object_add(o, "mem_kib", model_json_double(sh->mem_kib));
    json_object_object_add(o, "bytes",
                           json_object_new_int64((int64_t) sh->bytes));
    json_object_object_add(o, "stage_seconds", model_json_double(sh->stage_s));
    json_object_object_add(o, "restage", json_object_new_boolean(sh->restage));
    json_object_object_add(o, "pending_cutover",
                           json_object_new_boolean(sh->pending_cutover));
    json_object_object_add(o, "failures", json_object_new_int(sh->failures));
    json_object_object_add(o, "settled", json_object_new_boolean(sh->settled));
    json_object_object_add(o, "backoff_until",
                           json_object_new_int64(sh->backoff_until));
    if (sh->cut_started) {
        json_object *c = json_object_new_object();

        jstr(c, "from", sh->cut_from);
        jstr(c, "plan", sh->cut_plan);
        json_object_object_add(c, "started",
                               json_object_new_int64(sh->cut_started));
        json_object_object_add(c, "total_ms",
                               json_object_new_int64(sh->cut_total_ms));
        /* null: libvirt did not say (after a post-copy) */
        json_object_object_add(c, "downtime_ms",
                               sh->cut_downtime_ms >= 0
                                   ? json_object_new_int64(sh->cut_downtime_ms)
                                   : NULL);
        json_object_object_add(
            c, "memory_bytes",
            json_object_new_int64((int64_t) sh->cut_memory_bytes));
        json_object_object_add(
            c, "disk_bytes",
            json_object_new_int64((int64_t) sh->cut_disk_bytes));
        json_object_object_add(
            c, "bytes_sent",
            json_object_new_int64(
                (int64_t) (sh->cut_memory_bytes + sh->cut_disk_bytes)));
        json_object_object_add(c, "iterations",
                               json_object_new_int(sh->cut_iterations));
        json_object_object_add(c, "postcopy",
                               json_object_new_boolean(sh->cut_postcopy));
        if (sh->cut_postcopy) {
            json_object_object_add(
                c, "postcopy_at_ms",
                json_object_new_int64(sh->cut_postcopy_at_ms));
        }
        json_object_object_add(o, "cutover", c);
    }
    for (guint i = 0; i < sh->disks->len; i++) {
        const ShadowDisk *d = sh->disks->pdata[i];
        json_object *dj = json_object_new_object();

        jstr(dj, "target", d->target);
        jstr(dj, "format", d->format);
        jstr(dj, "frozen", d->frozen);
        jstr(dj, "overlay", d->overlay);
        jstr(dj, "base", d->base);
        jstr(dj, "path", d->path);
        jstr(dj, "primary_path", d->ppath);
        jstr(dj, "golden", d->golden);
        json_object_object_add(dj, "bytes",
                               json_object_new_int64((int64_t) d->bytes));
        json_object_array_add(da, dj);
    }
    json_object_object_add(o, "disks", da);
    if (runtime) {
        json_object_object_add(o, "busy", json_object_new_boolean(sh->busy));
    }
    return o;
}

static char *
gstr(json_object *o, const char *k)
{
    return g_strdup(model_json_get_string(o, k));
}

static Shadow *
shadow_from_json(json_object *o)
{
    g_autoptr(Shadow) sh = shadow_new();
    json_object *da = NULL;
    int st;

    sh->primary_uuid = gstr(o, "uuid");
    sh->primary_name = gstr(o, "domain");
    sh->primary_host = gstr(o, "primary_host");
    sh->name = gstr(o, "name");
    sh->host = gstr(o, "host");
    sh->cell = gstr(o, "cell");
    sh->mode = gstr(o, "mode");
    sh->origin = gstr(o, "origin");
    sh->placement = gstr(o, "placement");
    sh->error = gstr(o, "error");
    sh->note = gstr(o, "note");
    sh->tag = model_json_get_int(o, "tag", 0);
    st = shadow_state_from_string(model_json_get_string(o, "state"));
    if (!sh->primary_uuid || !sh->name || !sh->host || st < 0) {
        return NULL;
    }
    sh->fsm.state = (ShadowState) st;
    st = shadow_state_from_string(model_json_get_string(o, "before_active"));
    sh->fsm.before_active = st >= 0 ? (ShadowState) st : SHADOW_STATE_WARM;
    sh->fsm.since = model_json_get_int(o, "since", 0);
    sh->fsm.created = model_json_get_int(o, "created", 0);
    sh->fsm.last_used = model_json_get_int(o, "last_used", 0);
    sh->cpus = model_json_get_double(o, "cpus");
    sh->mem_kib = model_json_get_double(o, "mem_kib");
    sh->bytes = (uint64_t) model_json_get_int(o, "bytes", 0);
    sh->stage_s = model_json_get_double(o, "stage_seconds");
    if (json_object_object_get_ex(o, "restage", &da)) {
        sh->restage = json_object_get_boolean(da);
    }
    if (json_object_object_get_ex(o, "pending_cutover", &da)) {
        sh->pending_cutover = json_object_get_boolean(da);
    }
    sh->failures = (int) model_json_get_int(o, "failures", 0);
    if (json_object_object_get_ex(o, "settled", &da)) {
        sh->settled = json_object_get_boolean(da);
    }
    sh->backoff_until = model_json_get_int(o, "backoff_until", 0);
    if (json_object_object_get_ex(o, "cutover", &da) &&
        json_object_is_type(da, json_type_object)) {
        sh->cut_from = gstr(da, "from");
        sh->cut_plan = gstr(da, "plan");
        sh->cut_started = model_json_get_int(da, "started", 0);
        sh->cut_total_ms = model_json_get_int(da, "total_ms", 0);
        sh->cut_downtime_ms = model_json_get_int(da, "downtime_ms", -1);
        sh->cut_memory_bytes =
            (uint64_t) model_json_get_int(da, "memory_bytes", 0);
        sh->cut_disk_bytes = (uint64_t) model_json_get_int(da, "disk_bytes", 0);
        sh->cut_iterations = (int) model_json_get_int(da, "iterations", 0);
        sh->cut_postcopy = model_json_get_int(da, "postcopy", 0) != 0;
        sh->cut_postcopy_at_ms = model_json_get_int(da, "postcopy_at_ms", 0);
        if (json_object_object_get_ex(da, "postcopy", &da)) {
            sh->cut_postcopy = json_object_get_boolean(da);
        }
    }
    da = NULL;
    if (json_object_object_get_ex(o, "disks", &da) &&
        json_object_is_type(da, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(da); i++) {
            json_object *dj = json_object_array_get_idx(da, i);
            ShadowDisk *d = g_new0(ShadowDisk, 1);

            d->target = gstr(dj, "target");
            d->format = gstr(dj, "format");
            d->frozen = gstr(dj, "frozen");
            d->overlay = gstr(dj, "overlay");
            d->base = gstr(dj, "base");
            d->path = gstr(dj, "path");
            d->ppath = gstr(dj, "primary_path");
            d->golden = gstr(dj, "golden");
            d->bytes = (uint64_t) model_json_get_int(dj, "bytes", 0);
            if (!d->target) {
                shadow_disk_free(d);
                continue;
            }
            g_ptr_array_add(sh->disks, d);
        }
    }
    return g_steal_pointer(&sh);
}

/* A deep copy for a job's thread. */
static Shadow *
shadow_copy(const Shadow *sh)
{
    g_autoptr(json_object) o = shadow_to_json(sh, false);

    return shadow_from_json(o);
}

/* The volume names of a disk in the target's pool. */
static char *
base_vol_name(const Shadow *sh, const char *target)
{
    return g_strdup_printf("%s.%s.base.qcow2", sh->name, target);
}

static char *
shadow_vol_name(const Shadow *sh, const char *target)
{
    return g_strdup_printf("%s.%s.qcow2", sh->name, target);
}

/* The primary's disk on the shadow's host once it moved there. */
static char *
primary_vol_name(const Shadow *sh, const char *target)
{
    return g_strdup_printf("%s.%s.qcow2", sh->primary_name, target);
}

/* ------------------------------------------------------------------ */
/* Journal                                                             */

/* Journals @sh's current state (reached from @from by @event). */
static void
journal(ShadowManager *sm, Shadow *sh, const char *from, const char *event,
        const char *detail)
{
    g_autoptr(json_object) o = shadow_to_json(sh, false);
    g_autoptr(GError) err = NULL;
    const char *to = shadow_state_to_string(sh->fsm.state);
    g_autofree char *what = g_strdup_printf(
        "%s%s%s%s%s", sh->name, sh->host ? " on " : "",
        sh->host ? sh->host : "", detail ? ": " : "", detail ? detail : "");
    /* A row that is no transition (e.g. "settled") names its event. */
    g_autofree char *type = g_strdup_printf(
        "shadow-%s", g_strcmp0(from, to) == 0 && event ? event : to);

    if (sm->store &&
        !tsdb_store_journal_shadow(
            sm->store, sh->primary_uuid, to,
            json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), from,
            event, detail, util_clock_wall(), &err)) {
        g_warning("shadow journal of %s not stored: %s", sh->name,
                  err->message);
    }
    g_message("shadow %s: %s -> %s (%s)%s%s", sh->name, from ? from : "-", to,
              event ? event : "-", detail ? ": " : "", detail ? detail : "");
    monitor_post_event(sm->m, umbra_event_new(EVENT_SOURCE_DAEMON, sh->host,
                                              sh->primary_name,
                                              sh->primary_uuid, type, what));
}

/* Moves @sh by @ev and journals it.  Returns: whether @ev was allowed. */
static bool
step(ShadowManager *sm, Shadow *sh, ShadowEvent ev, const char *detail)
{
    ShadowState from = sh->fsm.state;

    if (!shadow_fsm_step(&sh->fsm, ev, util_clock_wall())) {
        g_warning("shadow %s: event %s refused in state %s", sh->name,
                  shadow_event_to_string(ev), shadow_state_to_string(from));
        return false;
    }
    journal(sm, sh, shadow_state_to_string(from), shadow_event_to_string(ev),
            detail);
    if (shadow_state_is_final(sh->fsm.state)) {
        placement_ledger_release(sm->ledger, sh->primary_name);
        sh->pending_cutover = false;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Jobs                                                                */

typedef enum {
    JOB_STAGE,
    JOB_RETIRE,
    JOB_AUDIT,
    JOB_CUTOVER,
    JOB_SETTLE,
} JobKind;

typedef struct {
    char *name;
    char *uri;
} JobHost;

struct Job {
    JobKind kind;
    ManagerRef *ref;
    const SysVirtOps *ops;
    Shadow *sh;    /* a copy (STAGE, RETIRE) */
    char *src_uri; /* the primary's host now (nullable) */
    char *dst_uri; /* the shadow's host */
    char *pool;
    char *pool_path;
    int64_t warm_boot_s;
    GCancellable *cancel;
    /* STAGE */
    GCancellable *hurry; /* cancelled: a cutover is due, end the warm boot */
    double boot_s;       /* how long the warm shadow booted */
    bool boot_cut;       /* ... cut short by hurry */
    /* CUTOVER */
    SysMigrateOpts mopts;
    SysMigrateStats mstats;
    bool restored;      /* after a failure: the shadow is still there */
    bool checked;       /* ... and that was checked */
    bool unsure;        /* after a failure: the domain may have moved */
    bool undo_left;     /* STAGE: failed, and its undo did not finish */
    int64_t started_us; /* AUDIT: when its snapshot of records was taken */
    /* Results */
    bool ok;
    GError *error;
    GString *notes; /* what was noticed on the way */
    double seconds;
    /* AUDIT */
    GPtrArray *hosts;      /* JobHost* */
    GPtrArray *records;    /* Shadow* copies (non-final) */
    GHashTable *seen;      /* primary UUID -> libvirt state of its shadow
                            * (absent: not found on a host reached) */
    GHashTable *unreached; /* host names not reached */
    GHashTable *where;     /* primary UUID -> "src", "dst", "migrating",
                            * "both" or "none" (ACTIVE records) */
    guint orphans;
};

static void
job_host_free(gpointer p)
{
    JobHost *h = p;

    g_free(h->name);
    g_free(h->uri);
    g_free(h);
}

static void
manager_ref_unref(ManagerRef *r)
{
    if (g_atomic_ref_count_dec(&r->ref)) {
        g_free(r);
    }
}

static void
job_free(gpointer p)
{
    Job *j = p;

    manager_ref_unref(j->ref);
    if (j->sh) {
        shadow_free(j->sh);
    }
    g_free(j->src_uri);
    g_free(j->dst_uri);
    g_free(j->pool);
    g_free(j->pool_path);
    g_clear_object(&j->cancel);
    g_clear_object(&j->hurry);
    g_clear_error(&j->error);
    if (j->notes) {
        g_string_free(j->notes, TRUE);
    }
    if (j->hosts) {
        g_ptr_array_unref(j->hosts);
    }
    if (j->records) {
        g_ptr_array_unref(j->records);
    }
    if (j->seen) {
        g_hash_table_unref(j->seen);
    }
    if (j->unreached) {
        g_hash_table_unref(j->unreached);
    }
    if (j->where) {
        g_hash_table_unref(j->where);
    }
    g_free(j);
}

G_GNUC_PRINTF(2, 3)
static void
note(Job *j, const char *fmt, ...)
{
    va_list ap;

    if (j->notes->len) {
        g_string_append(j->notes, "; ");
    }
    va_start(ap, fmt);
    g_string_append_vprintf(j->notes, fmt, ap);
    va_end(ap);
}

static SysVirtConn *
job_open(Job *j, const char *uri, GError **error)
{
    if (!uri) {
        g_set_error(error, SHADOW_MANAGER_ERROR,
                    SHADOW_MANAGER_ERROR_UNREACHABLE,
                    "the host is not in umbrad's configuration");
        return NULL;
    }
    return j->ops->open(uri, KA_INTERVAL, KA_COUNT, error);
}

/*
 * Undoes a staging of @sh, whatever got done: the shadow domain and its
 * volumes on @dst, and the primary's overlays on @src (folded back).
 * @src may be NULL (the primary's host is unknown or down): its
 * overlays then stay, which is harmless, and a note says so.
 */
static bool
undo_staging(Job *j, SysVirtConn *src, SysVirtConn *dst, GError **error)
{
    Shadow *sh = j->sh;
    g_autofree char *tag = g_strdup_printf("%" G_GINT64_FORMAT, sh->tag);
    g_autoptr(GHashTable) targets =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GError) err = NULL;
    GHashTableIter it;
    gpointer k, v;

    for (guint i = 0; i < sh->disks->len; i++) {
        const ShadowDisk *d = sh->disks->pdata[i];

        g_hash_table_replace(targets, g_strdup(d->target),
                             g_strdup(d->overlay));
    }
    if (src) {
        /* The disks that write to an overlay of this staging, even if
         * the record never learnt of them (umbrad died meanwhile). */
        g_autoptr(GPtrArray) disks =
            sys_shadow_domain_disks(src, sh->primary_uuid, NULL);
        g_autofree char *mark = g_strdup_printf(".umbra-%s.", tag);

        for (guint i = 0; disks && i < disks->len; i++) {
            const SysDomDisk *d = disks->pdata[i];

            if (strstr(d->path, mark)) {
                g_hash_table_replace(targets, g_strdup(d->target),
                                     g_strdup(d->path));
            } else if (!g_hash_table_contains(targets, d->target)) {
                g_hash_table_replace(targets, g_strdup(d->target), NULL);
            }
        }
    }
    /* The primary first: its host may be up when the shadow's is not
     * (the staged copies on the shadow's host are files of their own). */
    g_hash_table_iter_init(&it, targets);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        if (!v) {
            continue;
        }
        if (!src) {
            note(j, "%s of %s still writes to %s (its host is not reachable)",
                 (char *) k, sh->primary_name, (char *) v);
            continue;
        }
        if (!sys_shadow_fold(src, sh->primary_uuid, k, v, &err)) {
            /* The primary keeps running on the overlay: note, go on. */
            note(j, "%s of %s not folded back: %s", (char *) k,
                 sh->primary_name, err->message);
            g_clear_error(&err);
        }
    }
    if (!dst) {
        g_set_error(error, SYS_VIRT_ERROR, SYS_VIRT_ERROR_CONNECT,
                    "the shadow's host %s is not reachable", sh->host);
        return false;
    }
    if (!sys_shadow_remove_domain(dst, sh->name, error)) {
        return false;
    }
    g_hash_table_iter_init(&it, targets);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        g_autofree char *bv = base_vol_name(sh, k);
        g_autofree char *svn = shadow_vol_name(sh, k);
        g_autofree char *pvn = primary_vol_name(sh, k);

        if (!sys_shadow_delete_pool_volume(dst, j->pool, svn, error) ||
            !sys_shadow_delete_pool_volume(dst, j->pool, pvn, error) ||
            !sys_shadow_delete_pool_volume(dst, j->pool, bv, error)) {
            return false;
        }
    }
    return true;
}

/* Sleeps @seconds unless cancelled, or less once @hurry (nullable) is
 * cancelled.  Returns: false when cancelled. */
static bool
wait_cancellable(GCancellable *c, GCancellable *hurry, int64_t seconds,
                 GError **error)
{
    int64_t end = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;

    while (g_get_monotonic_time() < end) {
        if (g_cancellable_set_error_if_cancelled(c, error)) {
            return false;
        }
        if (hurry && g_cancellable_is_cancelled(hurry)) {
            break;
        }
        g_usleep(100 * 1000);
    }
    return true;
}

/*
 * The primary's writable disks, ready to be frozen: overlays an earlier
 * staging left (their fold failed then) are folded back first, or the
 * copy would stand on a host-local file; a disk still standing on a
 * staged copy (its cutover's block pull not over) is refused.
 */
static GPtrArray *
stageable_disks(Job *j, SysVirtConn *src, GError **error)
{
    const char *uuid = j->sh->primary_uuid;
    g_autofree char *pool_dir = g_strdup_printf(
        "%s%s", j->pool_path, g_str_has_suffix(j->pool_path, "/") ? "" : "/");
    g_autoptr(GPtrArray) disks = sys_shadow_domain_disks(src, uuid, error);
    bool folded = false;

    for (guint i = 0; disks && i < disks->len; i++) {
        const SysDomDisk *ld = disks->pdata[i];

        if (!strstr(ld->path, ".umbra-")) {
            continue;
        }
        if (!sys_shadow_fold(src, uuid, ld->target, ld->path, error)) {
            g_prefix_error(error,
                           "%s still writes to %s, left by an earlier "
                           "staging: ",
                           ld->target, ld->path);
            return NULL;
        }
        note(j, "folded back %s, left by an earlier staging", ld->path);
        folded = true;
    }
    if (folded) {
        g_ptr_array_unref(disks);
        disks = sys_shadow_domain_disks(src, uuid, error);
    }
    for (guint i = 0; disks && i < disks->len; i++) {
        const SysDomDisk *ld = disks->pdata[i];

        /* A staged copy's header names its backing file by path: one
         * local to the primary's host would not be on the target. */
        if (ld->backing && g_str_has_prefix(ld->backing, pool_dir)) {
            g_set_error(error, SHADOW_MANAGER_ERROR,
                        SHADOW_MANAGER_ERROR_INVALID,
                        "disk %s of '%s' still stands on %s, local to its "
                        "host; try again once its cutover's block pull is "
                        "over",
                        ld->target, j->sh->primary_name, ld->backing);
            return NULL;
        }
    }
    return g_steal_pointer(&disks);
}

static bool
stage(Job *j, SysVirtConn *src, SysVirtConn *dst, GError **error)
{
    Shadow *sh = j->sh;
    g_autofree char *tag = g_strdup_printf("%" G_GINT64_FORMAT, sh->tag);
    g_autofree char *xml = NULL;
    g_autofree char *sxml = NULL;
    g_autoptr(GPtrArray) frozen = NULL;
    g_autoptr(GPtrArray) live_disks = NULL;
    g_autoptr(GHashTable) paths = g_hash_table_new(g_str_hash, g_str_equal);
    SysShadowSpec spec = {0};
    bool warm = g_strcmp0(sh->mode, "warm") == 0;

    xml = sys_shadow_domain_xml(src, sh->primary_uuid, true, error);
    if (!xml || !sys_shadow_pool_ensure(dst, j->pool, j->pool_path, error)) {
        return false;
    }
    if (g_cancellable_set_error_if_cancelled(j->cancel, error)) {
        return false;
    }
    live_disks = stageable_disks(j, src, error);
    if (!live_disks) {
        return false;
    }
    frozen = sys_shadow_freeze(src, sh->primary_uuid, tag, error);
    if (!frozen) {
        return false;
    }
    g_ptr_array_set_size(sh->disks, 0);
    for (guint i = 0; i < frozen->len; i++) {
        const SysFrozenDisk *f = frozen->pdata[i];
        ShadowDisk *d = g_new0(ShadowDisk, 1);

        d->target = g_strdup(f->target);
        d->format = g_strdup(f->format);
        d->frozen = g_strdup(f->frozen);
        d->overlay = g_strdup(f->overlay);
        for (guint k = 0; k < live_disks->len; k++) {
            const SysDomDisk *ld = live_disks->pdata[k];

            if (strcmp(ld->target, f->target) == 0) {
                d->golden = g_strdup(ld->backing);
            }
        }
        g_ptr_array_add(sh->disks, d);
    }
    /* Disks in the domain's order: the boot disk, the critical one,
     * first. */
    for (guint i = 0; i < sh->disks->len; i++) {
        ShadowDisk *d = sh->disks->pdata[i];
        g_autofree char *bv = base_vol_name(sh, d->target);
        g_autofree char *svn = shadow_vol_name(sh, d->target);

        if (!sys_shadow_copy_volume(src, d->frozen, dst, j->pool, bv, j->cancel,
                                    &d->base, &d->bytes, error)) {
            return false;
        }
        sh->bytes += d->bytes;
        d->path =
            sys_shadow_overlay(dst, j->pool, svn, d->base, d->format, error);
        if (!d->path) {
            return false;
        }
        {
            g_autofree char *pvn = primary_vol_name(sh, d->target);

            d->ppath = sys_shadow_overlay(dst, j->pool, pvn, d->base, d->format,
                                          error);
            if (!d->ppath) {
                return false;
            }
        }
        g_hash_table_insert(paths, d->target, d->path);
    }
    spec.name = sh->name;
    spec.meta.primary_uuid = sh->primary_uuid;
    spec.meta.primary_name = sh->primary_name;
    spec.meta.primary_host = sh->primary_host;
    spec.meta.created_us = sh->tag;
    spec.disk_paths = paths;
    spec.link_down = true;
    sxml = sys_domxml_make_shadow(xml, &spec, error);
    if (!sxml || !sys_shadow_define(dst, sxml, warm, error)) {
        return false;
    }
    if (warm) {
        /* Booted, then paused: it holds its memory, uses no CPU.  A
         * cutover (a live migration of the primary) does not run the
         * shadow, so one that is due ends the boot at once. */
        int64_t b0 = g_get_monotonic_time();

        if (!wait_cancellable(j->cancel, j->hurry, j->warm_boot_s, error)) {
            return false;
        }
        j->boot_s = (double) (g_get_monotonic_time() - b0) / G_USEC_PER_SEC;
        j->boot_cut =
            g_cancellable_is_cancelled(j->hurry) && j->boot_s < j->warm_boot_s;
        if (!sys_shadow_suspend(dst, sh->name, error)) {
            return false;
        }
    }
    return true;
}

static void
job_stage_thread(Job *j)
{
    g_autoptr(GError) err = NULL;
    SysVirtConn *src = job_open(j, j->src_uri, &err);
    SysVirtConn *dst = src ? job_open(j, j->dst_uri, &err) : NULL;
    int64_t t0 = g_get_monotonic_time();

    if (!src) {
        g_prefix_error(&err, "the primary's host: ");
    } else if (!dst) {
        g_prefix_error(&err, "the shadow's host %s: ", j->sh->host);
    } else if (stage(j, src, dst, &err)) {
        j->ok = true;
    } else {
        g_autoptr(GError) uerr = NULL;

        if (!undo_staging(j, src, dst, &uerr)) {
            note(j, "undo incomplete: %s", uerr->message);
            j->undo_left = true;
        }
    }
    j->seconds = (double) (g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
    if (!j->ok) {
        j->error = g_steal_pointer(&err);
    }
    j->ops->close(src);
    j->ops->close(dst);
}

static void
job_retire_thread(Job *j)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GError) serr = NULL;
    SysVirtConn *src = job_open(j, j->src_uri, &serr);
    SysVirtConn *dst = job_open(j, j->dst_uri, &err);

    if (j->src_uri && !src) {
        note(j, "the primary's host: %s", serr->message);
    }
    if (!dst) {
        g_prefix_error(&err, "the shadow's host %s: ", j->sh->host);
        /* The primary's side at least: its disks folded back. */
        (void) undo_staging(j, src, NULL, NULL);
    } else {
        j->ok = undo_staging(j, src, dst, &err);
    }
    if (!j->ok) {
        j->error = g_steal_pointer(&err);
    }
    j->ops->close(src);
    j->ops->close(dst);
}

static bool
cutover(Job *j, SysVirtConn *src, SysVirtConn *dst, GError **error)
{
    Shadow *sh = j->sh;
    g_autofree char *xml = NULL;
    g_autofree char *dest_xml = NULL;
    g_autofree char *still = NULL;
    g_autoptr(GHashTable) paths =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    g_autoptr(GPtrArray) targets = g_ptr_array_new();
    g_autoptr(GError) err = NULL;
    int64_t t0 = g_get_monotonic_time();

    /* The paused shadow stays until the primary runs on its host (the
     * settling removes it): its domain is not on the critical path, and
     * a failed cutover finds it still there. */
    xml = sys_shadow_domain_xml(src, sh->primary_uuid, true, error);
    if (!xml) {
        return false;
    }
    for (guint i = 0; i < sh->disks->len; i++) {
        ShadowDisk *d = sh->disks->pdata[i];
        g_autofree char *pvn = primary_vol_name(sh, d->target);
        char *path;

        /* Made at staging; its own shadow's overlay goes at settling. */
        path = d->ppath ? g_strdup(d->ppath)
                        : sys_shadow_overlay(dst, j->pool, pvn, d->base,
                                             d->format, error);
        if (!path) {
            goto restore;
        }
        g_hash_table_insert(paths, d->target, path);
        g_ptr_array_add(targets, d->target);
    }
    g_ptr_array_add(targets, NULL);
    dest_xml = sys_domxml_set_disks(xml, paths, error);
    note(j, "prepared in %" G_GINT64_FORMAT " ms",
         (g_get_monotonic_time() - t0) / 1000);
    if (!dest_xml ||
        !sys_shadow_migrate(src, dst, sh->primary_uuid, j->dst_uri, dest_xml,
                            (const char *const *) targets->pdata, &j->mopts,
                            j->cancel, &j->mstats, error)) {
        goto restore;
    }
    note(j, "migrated in %" G_GINT64_FORMAT " ms",
         (g_get_monotonic_time() - t0) / 1000);
    return true;

restore:
    /* Where is the domain?  A failed call does not always leave it at
     * home: after a switch to post-copy its state is on the target, and a
     * peer-to-peer migration goes on if our connection broke. */
    {
        g_autofree char *at_dst =
            sys_shadow_domain_state(dst, sh->primary_uuid, NULL);

        if (at_dst || j->mstats.postcopy_used ||
            sys_shadow_job_active(src, sh->primary_uuid)) {
            j->unsure = true;
            note(j, "%s may be on %s (%s): left for the audit",
                 sh->primary_name, sh->host,
                 at_dst ? at_dst : "post-copy, or a job still runs");
            return false;
        }
    }
    /* The primary's overlays-to-be may hold part of a storage copy: make
     * them afresh for the next attempt. */
    for (guint i = 0; i < sh->disks->len; i++) {
        ShadowDisk *d = sh->disks->pdata[i];
        g_autofree char *pvn = primary_vol_name(sh, d->target);
        g_autofree char *p =
            sys_shadow_overlay(dst, j->pool, pvn, d->base, d->format, NULL);

        if (!p) {
            sys_shadow_delete_pool_volume(dst, j->pool, pvn, NULL);
            g_clear_pointer(&d->ppath, g_free);
        }
    }
    still = sys_shadow_domain_state(dst, sh->name, &err);
    j->restored = still != NULL;
    j->checked = true;
    if (!j->restored) {
        note(j, "the shadow's domain is gone: %s", err->message);
    }
    return false;
}

/*
 * After a cutover the primary's disks stand on the staged copies, local
 * to its new host: pull their data up so that they stand on the golden
 * images alone (which every host has), and let the staged copies go.
 * The workload has moved already; this is housekeeping.
 */
static void
job_settle_thread(Job *j)
{
    g_autoptr(GError) err = NULL;
    SysVirtConn *dst = job_open(j, j->dst_uri, &err);
    Shadow *sh = j->sh;

    if (!dst) {
        j->error = g_steal_pointer(&err);
        return;
    }
    j->ok = true;
    for (guint i = 0; i < sh->disks->len; i++) {
        ShadowDisk *d = sh->disks->pdata[i];
        g_autofree char *bv = base_vol_name(sh, d->target);
        g_autofree char *svn = shadow_vol_name(sh, d->target);
        SysVirtConn *src = job_open(j, j->src_uri, NULL);

        /* The shadow (domain and overlay), and the primary's staging
         * overlays on the host it left (the frozen files stay, the
         * operator's). */
        if (i == 0 && !sys_shadow_remove_domain(dst, sh->name, &err)) {
            note(j, "%s not removed: %s", sh->name, err->message);
            g_clear_error(&err);
        }
        sys_shadow_delete_pool_volume(dst, j->pool, svn, NULL);
        if (!src || !sys_shadow_delete_volume(src, d->overlay, &err)) {
            note(j, "%s not removed from %s%s%s", d->overlay, sh->cut_from,
                 err ? ": " : "", err ? err->message : "");
            g_clear_error(&err);
        }
        j->ops->close(src);

        if (!sys_shadow_pull(dst, sh->primary_uuid, d->target, d->golden,
                             &err) ||
            !sys_shadow_delete_pool_volume(dst, j->pool, bv, &err)) {
            note(j, "%s still stands on its staged copy: %s", d->target,
                 err->message);
            g_clear_error(&err);
            j->ok = false;
        }
    }
    j->ops->close(dst);
}

static void
job_cutover_thread(Job *j)
{
    g_autoptr(GError) err = NULL;
    SysVirtConn *src = job_open(j, j->src_uri, &err);
    SysVirtConn *dst = src ? job_open(j, j->dst_uri, &err) : NULL;

    if (!src) {
        g_prefix_error(&err, "the primary's host: ");
    } else if (!dst) {
        g_prefix_error(&err, "the shadow's host %s: ", j->sh->host);
    } else {
        j->ok = cutover(j, src, dst, &err);
    }
    if (!j->ok) {
        j->error = g_steal_pointer(&err);
    }
    j->ops->close(src);
    j->ops->close(dst);
}

/* Whether a non-final record owns @d on @host. */
static const Shadow *
owner_of(Job *j, const char *host, const SysShadowDomain *d)
{
    for (guint i = 0; i < j->records->len; i++) {
        const Shadow *sh = j->records->pdata[i];

        if (g_strcmp0(sh->host, host) == 0 &&
            g_strcmp0(sh->name, d->name) == 0 &&
            g_ascii_strcasecmp(sh->primary_uuid, d->meta.primary_uuid) == 0) {
            return sh;
        }
    }
    return NULL;
}

/* Folds back the primary's overlays of an orphan's staging (named after
 * its created tag), wherever the primary runs now. */
static void
fold_orphan_overlays(Job *j, const SysShadowDomain *d)
{
    g_autofree char *mark =
        g_strdup_printf(".umbra-%" G_GINT64_FORMAT ".", d->meta.created_us);

    for (guint i = 0; i < j->hosts->len; i++) {
        const JobHost *h = j->hosts->pdata[i];
        g_autoptr(GError) err = NULL;
        SysVirtConn *c = job_open(j, h->uri, NULL);
        g_autoptr(GPtrArray) disks =
            c ? sys_shadow_domain_disks(c, d->meta.primary_uuid, NULL) : NULL;

        for (guint k = 0; disks && k < disks->len; k++) {
            const SysDomDisk *dd = disks->pdata[k];

            if (strstr(dd->path, mark) &&
                !sys_shadow_fold(c, d->meta.primary_uuid, dd->target, dd->path,
                                 &err)) {
                note(j, "%s of %s not folded back: %s", dd->target,
                     d->meta.primary_name, err->message);
                g_clear_error(&err);
            }
        }
        j->ops->close(c);
        if (disks) {
            break;
        }
    }
}

/* Removes an orphan shadow domain and the volumes its disks use. */
static void
remove_orphan(Job *j, SysVirtConn *c, const char *host,
              const SysShadowDomain *d)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) disks = sys_shadow_domain_disks(c, d->name, NULL);

    if (!sys_shadow_remove_domain(c, d->name, &err)) {
        note(j, "orphan %s on %s not removed: %s", d->name, host, err->message);
        return;
    }
    for (guint i = 0; disks && i < disks->len; i++) {
        const SysDomDisk *dd = disks->pdata[i];
        g_autofree char *base = NULL;

        /* POOL/NAME.vda.qcow2 over POOL/NAME.vda.base.qcow2 */
        if (g_str_has_suffix(dd->path, ".qcow2") && strstr(dd->path, d->name)) {
            base = g_strdup_printf("%.*s.base.qcow2",
                                   (int) strlen(dd->path) - 6, dd->path);
            sys_shadow_delete_volume(c, dd->path, NULL);
            sys_shadow_delete_volume(c, base, NULL);
        }
    }
    j->orphans++;
    note(j, "removed orphan %s on %s (primary %s)", d->name, host,
         d->meta.primary_name);
    fold_orphan_overlays(j, d);
}

/* Whether @uuid runs (or is paused) on host @name. */
static bool
runs_on(Job *j, const char *name, const char *uuid, bool *ret_job)
{
    for (guint i = 0; i < j->hosts->len; i++) {
        const JobHost *h = j->hosts->pdata[i];
        SysVirtConn *c;
        g_autofree char *st = NULL;

        if (g_strcmp0(h->name, name) != 0) {
            continue;
        }
        c = job_open(j, h->uri, NULL);
        st = c ? sys_shadow_domain_state(c, uuid, NULL) : NULL;
        if (ret_job) {
            *ret_job = c && sys_shadow_job_active(c, uuid);
        }
        j->ops->close(c);
        return st && (strcmp(st, "running") == 0 || strcmp(st, "paused") == 0);
    }
    return false;
}

/* Where the primary of an ACTIVE record is. */
static void
locate_active(Job *j, const Shadow *sh)
{
    bool migrating = false;
    bool at_src = runs_on(j, sh->cut_from ? sh->cut_from : sh->primary_host,
                          sh->primary_uuid, &migrating);
    bool at_dst = runs_on(j, sh->host, sh->primary_uuid, NULL);
    const char *w = migrating          ? "migrating"
                    : at_src && at_dst ? "both"
                    : at_dst           ? "dst"
                    : at_src           ? "src"
                                       : "none";

    g_hash_table_replace(j->where, g_strdup(sh->primary_uuid), g_strdup(w));
}

static void
job_audit_thread(Job *j)
{
    for (guint i = 0; i < j->records->len; i++) {
        const Shadow *sh = j->records->pdata[i];

        if (sh->fsm.state == SHADOW_STATE_ACTIVE && !sh->busy) {
            locate_active(j, sh);
        }
    }
    for (guint i = 0; i < j->hosts->len; i++) {
        const JobHost *h = j->hosts->pdata[i];
        g_autoptr(GError) err = NULL;
        SysVirtConn *c = job_open(j, h->uri, &err);
        g_autoptr(GPtrArray) list = c ? sys_shadow_list(c, &err) : NULL;

        if (!list) {
            g_hash_table_add(j->unreached, g_strdup(h->name));
            j->ops->close(c);
            continue;
        }
        for (guint k = 0; k < list->len; k++) {
            const SysShadowDomain *d = list->pdata[k];
            const Shadow *sh = owner_of(j, h->name, d);

            if (!sh && d->meta.created_us >= j->started_us) {
                /* Made by a staging younger than this audit's view. */
                continue;
            }
            if (sh) {
                g_hash_table_replace(j->seen, g_strdup(sh->primary_uuid),
                                     g_strdup(d->state));
            } else {
                remove_orphan(j, c, h->name, d);
            }
        }
        j->ops->close(c);
    }
    j->ok = true;
}

static void
job_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    Job *j = data;

    switch (j->kind) {
    case JOB_STAGE:
        job_stage_thread(j);
        break;
    case JOB_RETIRE:
        job_retire_thread(j);
        break;
    case JOB_AUDIT:
        job_audit_thread(j);
        break;
    case JOB_CUTOVER:
        job_cutover_thread(j);
        break;
    case JOB_SETTLE:
        job_settle_thread(j);
        break;
    }
    g_task_return_boolean(task, TRUE);
}

static void job_done(GObject *source, GAsyncResult *res, gpointer data);

static Job *
job_new(ShadowManager *sm, JobKind kind)
{
    Job *j = g_new0(Job, 1);

    j->kind = kind;
    j->ref = sm->self;
    g_atomic_ref_count_inc(&sm->self->ref);
    j->ops = sm->ops;
    j->pool = g_strdup(sm->cfg->shadow_pool);
    j->pool_path = g_strdup(sm->cfg->shadow_pool_path);
    j->warm_boot_s = sm->cfg->shadow_warm_boot_s;
    j->notes = g_string_new(NULL);
    return j;
}

static void
job_run(Job *j)
{
    GTask *task = g_task_new(NULL, NULL, job_done, j);

    /* job_done() frees it, or nobody if the loop stops first. */
    g_task_set_task_data(task, j, NULL);
    g_task_run_in_thread(task, job_thread);
    g_object_unref(task);
}

/* Returns: (transfer none) the URI of host @name, or NULL. */
static const char *
host_uri(ShadowManager *sm, const char *name)
{
    const ConfigHost *h = umbra_config_find_host(sm->cfg, name);

    return h ? h->uri : NULL;
}

/* Where @sh's primary runs now (its host name), or NULL. */
static char *
primary_host_now(ShadowManager *sm, const Shadow *sh)
{
    g_autoptr(DomSample) s = monitor_find_domain(sm->m, sh->primary_uuid, NULL);

    return s && s->host ? g_strdup(s->host) : NULL;
}

static void
start_job_with(ShadowManager *sm, Shadow *sh, JobKind kind,
               const SysMigrateOpts *mopts)
{
    Job *j = job_new(sm, kind);
    g_autofree char *ph = primary_host_now(sm, sh);

    j->sh = shadow_copy(sh);
    j->src_uri = g_strdup(host_uri(sm, kind == JOB_SETTLE ? sh->cut_from
                                       : ph               ? ph
                                                          : sh->primary_host));
    j->dst_uri = g_strdup(host_uri(sm, sh->host));
    g_clear_object(&sh->cancel);
    sh->cancel = g_cancellable_new();
    j->cancel = g_object_ref(sh->cancel);
    g_clear_object(&sh->hurry);
    if (kind == JOB_STAGE) {
        sh->hurry = g_cancellable_new();
        j->hurry = g_object_ref(sh->hurry);
    }
    sh->busy = true;
    sh->job = kind;
    if (mopts) {
        j->mopts = *mopts;
    }
    job_run(j);
}

static void
start_job(ShadowManager *sm, Shadow *sh, JobKind kind)
{
    start_job_with(sm, sh, kind, NULL);
}

static void start_staging(ShadowManager *sm, Shadow *sh, const char *why);
static json_object *create(ShadowManager *sm, const char *dom,
                           const char *only_cell, const char *mode,
                           const char *origin, GError **error);

/* Whether @sh's domain has moved onto it and its record still owns the
 * staged copies under it (the settle job has not finished). */
static bool
settling(const Shadow *sh)
{
    return sh->fsm.state == SHADOW_STATE_PROMOTED && !sh->settled;
}

/* Whether @sh is ready for a cutover: warm or cold, no job on it. */
static bool
ready(const Shadow *sh)
{
    return !sh->busy && (sh->fsm.state == SHADOW_STATE_WARM ||
                         sh->fsm.state == SHADOW_STATE_COLD);
}

/* The record after its retirement: a new staging when asked for. */
static void
retired(ShadowManager *sm, Shadow *sh)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *uuid = NULL;
    g_autofree char *mode = NULL;
    g_autofree char *origin = NULL;
    json_object *o;

    if (!sh->restage) {
        return;
    }
    /* create() replaces (frees) @sh: copy what it needs first. */
    uuid = g_strdup(sh->primary_uuid);
    mode = g_strdup(sh->mode);
    origin = g_strdup(sh->origin);
    o = create(sm, uuid, NULL, mode, origin, &err);
    if (!o) {
        g_warning("shadow of %s not staged again: %s", uuid, err->message);
        return;
    }
    json_object_put(o);
}

/* When an automatic cutover may be tried again after @failures failed
 * ones: 60 s, doubling, at most an hour. */
static int64_t
backoff_after(int failures)
{
    return util_clock_wall() +
           MIN((int64_t) 60 << MIN(MAX(failures, 1) - 1, 6), 3600) *
               G_USEC_PER_SEC;
}

/* Moves the primary of @sh (WARM or COLD, idle) onto it. */
static void
start_cutover(ShadowManager *sm, Shadow *sh, const char *why)
{
    g_autoptr(DomSample) s = monitor_find_domain(sm->m, sh->primary_uuid, NULL);
    double mem_mib = s ? (double) s->mem_max_kib / 1024 : sh->mem_kib / 1024;
    double dirty = s ? s->dirty_mbps : NAN;
    ShadowMigrationPlan plan;
    g_autofree char *detail = NULL;
    g_autofree char *estimate = NULL;
    SysMigrateOpts opts = {0};

    /* The incremental disk layer is not known ahead: memory only. */
    shadow_migration_plan(mem_mib, dirty, 0, sm->cfg->link_mibps, &plan);
    g_free(sh->cut_plan);
    if (isfinite(plan.seconds)) {
        estimate = g_strdup_printf("about %.0f s", plan.seconds);
    } else {
        estimate = g_strdup("no end in pre-copy alone");
    }
    sh->cut_plan = g_strdup_printf(
        "%s%s%s%s%s (%s; dirty %.1f MiB/s, %s)",
        plan.auto_converge ? "auto-converge " : "",
        plan.xbzrle ? "xbzrle " : "", plan.multifd ? "multifd " : "",
        plan.postcopy ? "postcopy-allowed " : "", "pre-copy", plan.why,
        isfinite(dirty) ? dirty : 0.0, estimate);
    g_free(sh->cut_from);
    sh->cut_from =
        s && s->host ? g_strdup(s->host) : g_strdup(sh->primary_host);
    sh->cut_started = util_clock_wall();
    sh->cut_total_ms = 0;
    sh->cut_downtime_ms = -1; /* unknown until libvirt says */
    sh->cut_memory_bytes = sh->cut_disk_bytes = 0;
    sh->cut_iterations = 0;
    sh->cut_postcopy = false;
    sh->cut_postcopy_at_ms = 0;
    sh->pending_cutover = false;
    detail =
        g_strdup_printf("%s: migrating %s from %s: %s", why ? why : "cutover",
                        sh->primary_name, sh->cut_from, sh->cut_plan);
    if (!step(sm, sh, SHADOW_EVENT_ACTIVATE, detail)) {
        return;
    }
    opts.auto_converge = plan.auto_converge;
    opts.xbzrle = plan.xbzrle;
    opts.multifd = plan.multifd;
    opts.postcopy = plan.postcopy;
    opts.timeout_s = sm->cfg->migration_timeout_s;
    opts.bandwidth_mib = (uint64_t) sm->cfg->migration_bandwidth;
    start_job_with(sm, sh, JOB_CUTOVER, &opts);
}

static void
cutover_done(ShadowManager *sm, Shadow *sh, Job *j)
{
    g_autofree char *detail = NULL;

    g_clear_pointer(&sh->note, g_free);
    if (j->notes->len) {
        sh->note = g_strdup(j->notes->str);
        g_message("cutover of %s: %s", sh->primary_name, sh->note);
    }
    sh->cut_total_ms = j->mstats.total_ms;
    sh->cut_downtime_ms = j->mstats.downtime_ms;
    sh->cut_memory_bytes = j->mstats.memory_bytes;
    sh->cut_disk_bytes = j->mstats.disk_bytes;
    sh->cut_iterations = j->mstats.iterations;
    sh->cut_postcopy = j->mstats.postcopy_used;
    sh->cut_postcopy_at_ms = j->mstats.postcopy_at_ms;
    /* The job may have made the primary's overlays-to-be afresh. */
    for (guint i = 0; i < sh->disks->len && i < j->sh->disks->len; i++) {
        ShadowDisk *d = sh->disks->pdata[i];
        const ShadowDisk *jd = j->sh->disks->pdata[i];

        g_free(d->ppath);
        d->ppath = g_strdup(jd->ppath);
    }
    if (!j->ok && j->unsure) {
        g_free(sh->error);
        sh->error = g_strdup(j->error ? j->error->message : "unknown error");
        detail = g_strdup_printf("the migration call failed (%s) but %s",
                                 sh->error, sh->note ? sh->note : "");
        journal(sm, sh, "active", "cutover-unsure", detail);
        sm->next_audit = util_clock_wall() + 5 * G_USEC_PER_SEC;
        return;
    }
    if (j->ok) {
        sh->failures = 0;
        sh->backoff_until = 0;
        g_clear_pointer(&sh->error, g_free);
        detail = cutover_summary(&(CutoverFigures){
            .domain = sh->primary_name,
            .host = sh->host,
            .memory_bytes = sh->cut_memory_bytes,
            .disk_bytes = sh->cut_disk_bytes,
            .total_ms = sh->cut_total_ms,
            .downtime_ms = sh->cut_downtime_ms,
            .postcopy = sh->cut_postcopy,
            .passes = sh->cut_iterations,
            .postcopy_at_ms = sh->cut_postcopy_at_ms,
        });
        step(sm, sh, SHADOW_EVENT_CUTOVER_DONE, detail);
        /* The upkeep settles it once the target has finished with the
         * incoming migration: QEMU 7.2 was seen to crash (segfault) when
         * a block pull began two seconds after an incoming storage
         * migration ended. */
        sh->backoff_until = util_clock_wall() + SETTLE_AFTER_US;
        return;
    }
    sh->failures++;
    sh->backoff_until = backoff_after(sh->failures);
    g_free(sh->error);
    sh->error = g_strdup(j->error ? j->error->message : "unknown error");
    detail = g_strdup_printf(
        "%s stays on %s: %s%s", sh->primary_name, sh->cut_from, sh->error,
        j->checked && !j->restored ? " (the shadow is gone: it will be staged "
                                     "again)"
                                   : "");
    step(sm, sh, SHADOW_EVENT_CUTOVER_FAILED, detail);
}

static void
stage_done(ShadowManager *sm, Shadow *sh, Job *j)
{
    g_autofree char *detail = NULL;
    g_autofree char *boot = NULL;

    g_ptr_array_unref(sh->disks);
    sh->disks = g_ptr_array_ref(j->sh->disks);
    g_clear_pointer(&sh->note, g_free);
    if (j->notes->len) {
        sh->note = g_strdup(j->notes->str);
    }
    if (j->ok) {
        sh->bytes = j->sh->bytes;
        sh->stage_s = j->seconds;
        g_clear_pointer(&sh->error, g_free);
        if (j->boot_cut) {
            boot = g_strdup_printf("; its warm boot cut short after %.1f s: "
                                   "a cutover is due",
                                   j->boot_s);
        }
        detail = g_strdup_printf("%u disk(s), %.1f MiB copied in %.1f s%s",
                                 sh->disks->len,
                                 (double) sh->bytes / (1024.0 * 1024.0),
                                 j->seconds, boot ? boot : "");
        step(sm, sh,
             g_strcmp0(sh->mode, "warm") == 0 ? SHADOW_EVENT_STAGED_WARM
                                              : SHADOW_EVENT_STAGED_COLD,
             detail);
        if (g_cancellable_is_cancelled(sh->cancel)) {
            /* A retire came after the job's last look at it. */
            if (step(sm, sh, SHADOW_EVENT_RETIRE, "operator, while staging")) {
                start_job(sm, sh, JOB_RETIRE);
            }
        } else if (sh->pending_cutover) {
            g_autofree char *why = g_steal_pointer(&sh->cut_why);

            start_cutover(sm, sh,
                          why ? why : "cutover asked for while staging");
        }
        return;
    }
    g_free(sh->error);
    sh->error = g_strdup(j->error ? j->error->message : "unknown error");
    step(sm, sh, SHADOW_EVENT_STAGE_FAILED, sh->error);
    if (j->undo_left) {
        /* Something is left (the shadow's host went away while it was
         * staged): RETIRING, and the upkeep retires it again until it is
         * clean. */
        return;
    }
    /* The job undid its work: nothing is left. */
    step(sm, sh, SHADOW_EVENT_CLEANED, sh->note);
}

static void
retire_done(ShadowManager *sm, Shadow *sh, Job *j)
{
    if (!j->ok) {
        /* Stays RETIRING; the upkeep tries again (every 5 s: warned once
         * per new error).  The note says why; the error stays what made
         * it retire (e.g. a failed staging). */
        g_autofree char *why =
            g_strdup_printf("not cleaned yet (umbrad tries again): %s%s%s",
                            j->error ? j->error->message : "unknown error",
                            j->notes->len ? "; " : "", j->notes->str);

        if (g_strcmp0(sh->note, why) != 0) {
            g_warning("shadow %s %s", sh->name, why);
            g_free(sh->note);
            sh->note = g_steal_pointer(&why);
        }
        return;
    }
    g_clear_pointer(&sh->note, g_free);
    if (j->notes->len) {
        sh->note = g_strdup(j->notes->str);
    }
    step(sm, sh, SHADOW_EVENT_CLEANED, sh->note);
    retired(sm, sh);
}

static void audit_done(ShadowManager *sm, Job *j);

static void
job_done(GObject *source, GAsyncResult *res, gpointer data)
{
    Job *j = data;
    ShadowManager *sm = j->ref->sm;
    Shadow *sh = NULL;

    if (!sm) {
        job_free(j);
        return;
    }
    if (j->kind == JOB_AUDIT) {
        audit_done(sm, j);
        job_free(j);
        return;
    }
    sh = g_hash_table_lookup(sm->shadows, j->sh->primary_uuid);
    if (!sh || sh->tag != j->sh->tag) {
        job_free(j);
        return;
    }
    sh->busy = false;
    if (j->kind == JOB_STAGE) {
        stage_done(sm, sh, j);
        /* A shadow just ready: the automatic cutover need not wait for
         * the next upkeep. */
        shadow_manager_poke(sm);
    } else if (j->kind == JOB_CUTOVER) {
        cutover_done(sm, sh, j);
    } else if (j->kind == JOB_SETTLE) {
        g_free(sh->note);
        sh->settled = j->ok;
        if (!j->ok) {
            /* The upkeep tries again later. */
            sh->backoff_until = util_clock_wall() + 300 * G_USEC_PER_SEC;
        }
        sh->note = g_strdup(
            j->ok      ? "its disks stand on the golden images alone; staged "
                         "copies removed"
            : j->error ? j->error->message
                       : j->notes->str);
        journal(sm, sh, shadow_state_to_string(sh->fsm.state),
                j->ok ? "settled" : "settle-failed", sh->note);
    } else {
        retire_done(sm, sh, j);
    }
    job_free(j);
}

/* ------------------------------------------------------------------ */
/* Reconciliation                                                      */

static void
start_audit(ShadowManager *sm)
{
    Job *j;
    GHashTableIter it;
    gpointer v;

    if (sm->auditing) {
        return;
    }
    j = job_new(sm, JOB_AUDIT);
    j->hosts = g_ptr_array_new_with_free_func(job_host_free);
    j->records = g_ptr_array_new_with_free_func(shadow_free);
    j->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    j->unreached = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    j->where = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (guint i = 0; i < sm->cfg->hosts->len; i++) {
        const ConfigHost *h = sm->cfg->hosts->pdata[i];
        JobHost *jh = g_new0(JobHost, 1);

        jh->name = g_strdup(h->name);
        jh->uri = g_strdup(h->uri);
        g_ptr_array_add(j->hosts, jh);
    }
    g_hash_table_iter_init(&it, sm->shadows);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const Shadow *sh = v;

        /* Busy ones too, so that what their jobs make is not an orphan;
         * promoted ones until settled (their shadow domain is still
         * there, and its staged copy under the primary). */
        if (!shadow_state_is_final(sh->fsm.state) || settling(sh)) {
            Shadow *c = shadow_copy(sh);

            c->busy = sh->busy;
            g_ptr_array_add(j->records, c);
        }
    }
    sm->auditing = true;
    j->started_us = util_clock_wall();
    job_run(j);
}

/* Acts on what the audit saw, for each record it looked at. */
static void
audit_done(ShadowManager *sm, Job *j)
{
    sm->auditing = false;
    sm->next_audit = util_clock_wall() + AUDIT_EVERY_US;
    if (j->notes->len) {
        g_message("shadow audit: %s", j->notes->str);
    }
    for (guint i = 0; i < j->records->len; i++) {
        const Shadow *seen = j->records->pdata[i];
        Shadow *sh = g_hash_table_lookup(sm->shadows, seen->primary_uuid);
        const char *state;

        if (!sh || sh->busy || sh->tag != seen->tag ||
            sh->fsm.state != seen->fsm.state ||
            g_hash_table_contains(j->unreached, sh->host)) {
            continue;
        }
        state = g_hash_table_lookup(j->seen, sh->primary_uuid);
        switch (sh->fsm.state) {
        case SHADOW_STATE_STAGING:
            /* No job runs on it: its staging was cut short. */
            sh->restage = true;
            step(sm, sh, SHADOW_EVENT_STAGE_FAILED,
                 "staging interrupted (umbrad stopped); undoing it and "
                 "staging again");
            start_job(sm, sh, JOB_RETIRE);
            break;
        case SHADOW_STATE_WARM:
        case SHADOW_STATE_COLD:
            if (!state) {
                sh->restage = true;
                step(sm, sh, SHADOW_EVENT_RETIRE,
                     "its domain is missing from its host; staging again");
                start_job(sm, sh, JOB_RETIRE);
            }
            break;
        case SHADOW_STATE_ACTIVE: {
            /* A cutover cut short: the migration is peer-to-peer, so it
             * went on without umbrad; see where it ended. */
            const char *w = g_hash_table_lookup(j->where, sh->primary_uuid);

            if (g_strcmp0(w, "dst") == 0) {
                sh->failures = 0;
                if (step(sm, sh, SHADOW_EVENT_CUTOVER_DONE,
                         "the migration completed while umbrad was not "
                         "watching")) {
                    start_job(sm, sh, JOB_SETTLE);
                }
            } else if (g_strcmp0(w, "src") == 0) {
                /* The target overlays may hold part of a storage copy:
                 * the next cutover makes them afresh. */
                for (guint k = 0; k < sh->disks->len; k++) {
                    ShadowDisk *d = sh->disks->pdata[k];

                    g_clear_pointer(&d->ppath, g_free);
                }
                sh->failures++;
                sh->backoff_until = backoff_after(sh->failures);
                step(sm, sh, SHADOW_EVENT_CUTOVER_FAILED,
                     "the migration did not complete while umbrad was down; "
                     "the primary runs at home");
            } else if (g_strcmp0(w, "migrating") == 0) {
                /* Look again soon. */
                sm->next_audit = util_clock_wall() + 5 * G_USEC_PER_SEC;
            } else if (w) {
                g_warning("shadow %s: its primary is on %s (after a cutover "
                          "cut short); left for the operator",
                          sh->name, w);
            }
            break;
        }
        case SHADOW_STATE_RETIRING:
            start_job(sm, sh, JOB_RETIRE);
            break;
        default:
            break;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Upkeep                                                              */

/* The trouble probability of @uuid within @horizon ("15m", "1h": the
 * larger of its failure and its host's contention), the threshold and
 * the expected time of trouble, from the risk engine.  Returns: false when it
 * has none yet, or none computed since the domain came to @host (the
 * risk of the host it left says nothing of where it is now). */
static bool
trouble_of(ShadowManager *sm, const char *uuid, const char *host,
           const char *horizon, double *ret_p, double *ret_thr, double *ret_t)
{
    g_autoptr(json_object) r =
        sm->pred ? predictor_risk_json(sm->pred, uuid, NULL, NULL, NULL) : NULL;
    json_object *ds = NULL, *d, *f = NULL, *c = NULL;
    double pf, pc;

    if (!r || !json_object_object_get_ex(r, "domains", &ds) ||
        json_object_array_length(ds) < 1) {
        return false;
    }
    d = json_object_array_get_idx(ds, 0);
    if (host && g_strcmp0(model_json_get_string(d, "risk_host"), host) != 0) {
        return false;
    }
    json_object_object_get_ex(d, "failure", &f);
    json_object_object_get_ex(d, "contention_p", &c);
    pf = model_json_get_double(f, horizon);
    pc = model_json_get_double(c, horizon);
    *ret_p = isfinite(pf) && isfinite(pc) ? MAX(pf, pc)
             : isfinite(pf)               ? pf
                                          : pc;
    *ret_thr = model_json_get_double(d, "threshold");
    *ret_t = model_json_get_double(d, "t_trouble_s");
    return isfinite(*ret_p) && isfinite(*ret_thr);
}

/* Updates @sh's cutover alarm from its risk now, @p against @thr
 * (shadow/plan.h shadow_alarm_update()); from staging on, so that a risk
 * that crossed the threshold while the shadow was being staged still
 * counts once it is ready.  Not persisted: after a restart the alarm
 * waits for the threshold again. */
static void
update_alarm(Shadow *sh, double p, double thr)
{
    bool was = sh->alarm;

    sh->alarm = shadow_alarm_update(sh->alarm, p, thr);
    if (sh->alarm && (!was || p > sh->alarm_peak)) {
        sh->alarm_peak = p;
    }
}

/* shadow_cutover_due() for @sh, whose domain @s has @p, @thr, @t as
 * trouble_of() within 15 min; @plan gets the migration's plan. */
static ShadowCutoverDecision
cutover_decision(ShadowManager *sm, const Shadow *sh, const DomSample *s,
                 double p, double thr, double t, int64_t now,
                 ShadowMigrationPlan *plan)
{
    shadow_migration_plan((double) s->mem_max_kib / 1024, s->dirty_mbps, 0,
                          sm->cfg->link_mibps, plan);
    return shadow_cutover_due(sh->alarm, p, thr, t, plan->seconds, now,
                              sh->backoff_until);
}

/* Ends the warm boot of @sh's staging, if one runs: a cutover is due. */
static void
hurry(Shadow *sh)
{
    if (sh->hurry && sh->fsm.state == SHADOW_STATE_STAGING) {
        g_cancellable_cancel(sh->hurry);
    }
}

/* The automatic cutover (shadow/plan.h shadow_cutover_due()) of @sh,
 * whose domain @s has @p, @thr, @t as trouble_of() within 15 min. */
static void
maybe_cutover(ShadowManager *sm, Shadow *sh, const DomSample *s, double p,
              double thr, double t, int64_t now)
{
    ShadowMigrationPlan plan;
    g_autofree char *why = NULL;
    g_autofree char *risk = NULL;

    if (p >= SHADOW_ALARM_OFF * thr) {
        /* Still needed: not idle. */
        shadow_fsm_touch(&sh->fsm, now);
    }
    if (p >= thr || !sh->alarm) {
        risk =
            g_strdup_printf("risk %.2f within 15 min (threshold %.2f)", p, thr);
    } else {
        risk = g_strdup_printf("risk %.2f within 15 min, alarm on since it "
                               "reached %.2f (threshold %.2f, off below %.2f)",
                               p, sh->alarm_peak, thr, SHADOW_ALARM_OFF * thr);
    }
    switch (cutover_decision(sm, sh, s, p, thr, t, now, &plan)) {
    case SHADOW_CUTOVER_GO:
        if (isfinite(t)) {
            why = g_strdup_printf("%s, trouble expected in %.0f s", risk, t);
        } else {
            why = g_strdup(risk);
        }
        start_cutover(sm, sh, why);
        break;
    case SHADOW_CUTOVER_LATE:
        /* Still the best move; say that it comes late. */
        why = g_strdup_printf("%s, late: trouble expected in %.0f s, the "
                              "migration takes about %.0f s",
                              risk, t, plan.seconds);
        start_cutover(sm, sh, why);
        break;
    case SHADOW_CUTOVER_WAIT:
    case SHADOW_CUTOVER_BACKOFF:
        break;
    }
}

/*
 * The protected domains (shadow_protect): one whose trouble within the
 * hour (its failure, or its host's contention) reaches the threshold
 * gets a shadow, so that it is ready when the cutover rule fires.
 */
static void
protect(ShadowManager *sm, int64_t now)
{
    for (char **n = sm->cfg->shadow_protect; n && *n; n++) {
        g_autoptr(DomSample) s = monitor_find_domain(sm->m, *n, NULL);
        g_autoptr(GError) err = NULL;
        Shadow *sh;
        double p, thr, t;
        int64_t *last;
        json_object *o;

        if (!s || s->state != DOM_STATE_RUNNING) {
            continue;
        }
        sh = g_hash_table_lookup(sm->shadows, s->uuid);
        if ((sh && (!shadow_state_is_final(sh->fsm.state) || settling(sh))) ||
            !trouble_of(sm, s->uuid, s->host, "1h", &p, &thr, &t) || p < thr) {
            continue;
        }
        /* After a refusal (no room), ask again a minute later. */
        last = g_hash_table_lookup(sm->asked, s->uuid);
        if (last && now - *last < 60 * G_USEC_PER_SEC) {
            continue;
        }
        if (!last) {
            last = g_new0(int64_t, 1);
            g_hash_table_insert(sm->asked, g_strdup(s->uuid), last);
        }
        *last = now;
        o = create(sm, s->uuid, NULL, NULL, "risk", &err);
        if (!o) {
            g_autofree char *detail = g_strdup_printf(
                "trouble p=%.2f within 1 h, no shadow: %s", p, err->message);

            monitor_post_event(sm->m,
                               umbra_event_new(EVENT_SOURCE_DAEMON, s->host,
                                               s->name, s->uuid,
                                               "shadow-create-failed", detail));
            continue;
        }
        json_object_put(o);
    }
}

/* Whether domain @name is protected (shadow_protect). */
static bool
is_protected(ShadowManager *sm, const char *name)
{
    return sm->cfg->shadow_protect &&
           g_strv_contains((const char *const *) sm->cfg->shadow_protect, name);
}

/* The CPUs @s uses now (cpu_pct is a percentage of its vCPUs). */
static double
dom_cpus(const DomSample *s)
{
    return isfinite(s->cpu_pct) ? s->cpu_pct / 100 * (s->vcpus ? s->vcpus : 1)
                                : 0;
}

/*
 * The domain a hot host sheds under cutover_policy = reactive: a protected
 * one first, else the busiest; never one whose shadow is under way (a
 * ready shadow, warm or cold, is used).
 * Returns: (transfer none) a sample of @doms, or NULL.
 */
static const DomSample *
reactive_pick(ShadowManager *sm, GPtrArray *doms)
{
    const DomSample *best = NULL;
    double best_cpus = -1;
    bool best_prot = false;

    for (guint i = 0; i < doms->len; i++) {
        const DomSample *s = doms->pdata[i];
        Shadow *sh = g_hash_table_lookup(sm->shadows, s->uuid);
        double cpus = dom_cpus(s);
        bool prot = is_protected(sm, s->name);

        /* A shadow under way (staging, moving, retiring) rules it out; a
         * ready one (warm, cold) is what the move will use. */
        if (s->state != DOM_STATE_RUNNING ||
            (sh && !shadow_state_is_final(sh->fsm.state) && !ready(sh))) {
            continue;
        }
        if (!best || (prot && !best_prot) ||
            (prot == best_prot && cpus > best_cpus)) {
            best = s;
            best_cpus = cpus;
            best_prot = prot;
        }
    }
    return best;
}

/*
 * cutover_policy = reactive: the rule of an operator without forecasts,
 * kept as umbra's baseline.  A host whose domains use more than
 * reactive_cpu % of its CPUs ([host:NAME] cpus, else libvirt's count) at
 * every look for reactive_for gets one domain moved off it.  Nothing is
 * staged ahead, so the move stages a cold shadow (a full copy of the
 * disks) and cuts over as soon as it is ready.  One move per host at a
 * time; the count starts again afterwards.
 */
static gboolean
on_reactive(gpointer data)
{
    ShadowManager *sm = data;
    int64_t now = util_clock_wall();
    g_autoptr(GPtrArray) hosts = monitor_list_hosts(sm->m);

    for (guint i = 0; sm->cfg->shadow_auto && i < hosts->len; i++) {
        const MonitorHost *h = hosts->pdata[i];
        g_autoptr(GPtrArray) doms = NULL;
        g_autoptr(GError) err = NULL;
        g_autofree char *why = NULL;
        const DomSample *pick;
        double cap, used = 0;
        bool moving = false;
        int64_t *since;
        json_object *o;
        Shadow *sh;

        cap = umbra_config_host_cpus(sm->cfg, h->name,
                                     h->latest ? h->latest->ncpus : 0);
        if (h->state != HOST_STATE_CONNECTED || cap <= 0 ||
            !(doms = monitor_list_domains(sm->m, h->name, NULL, false, NULL))) {
            g_hash_table_remove(sm->hot_since, h->name);
            continue;
        }
        for (guint k = 0; k < doms->len; k++) {
            const DomSample *s = doms->pdata[k];

            sh = g_hash_table_lookup(sm->shadows, s->uuid);
            moving |= sh && (sh->busy || sh->pending_cutover);
            if (s->state == DOM_STATE_RUNNING) {
                used += dom_cpus(s);
            }
        }
        if (moving || used < cap * sm->cfg->reactive_cpu / 100) {
            g_hash_table_remove(sm->hot_since, h->name);
            continue;
        }
        if (!(since = g_hash_table_lookup(sm->hot_since, h->name))) {
            since = g_new(int64_t, 1);
            *since = now;
            g_hash_table_insert(sm->hot_since, g_strdup(h->name), since);
        }
        if (now - *since < sm->cfg->reactive_for_s * G_USEC_PER_SEC ||
            !(pick = reactive_pick(sm, doms))) {
            continue;
        }
        why = g_strdup_printf("reactive: host %s above %.0f%% of its %g CPUs "
                              "for %" G_GINT64_FORMAT " s (%.2f used)",
                              h->name, sm->cfg->reactive_cpu, cap,
                              (now - *since) / G_USEC_PER_SEC, used);
        g_hash_table_remove(sm->hot_since, h->name);
        sh = g_hash_table_lookup(sm->shadows, pick->uuid);
        if (sh && ready(sh)) {
            /* A shadow is ready (made by hand, or kept after a failed
             * cutover): onto it, unless a failure's back-off runs (the
             * rule fires again after another reactive_for). */
            if (now >= sh->backoff_until) {
                start_cutover(sm, sh, why);
            }
            continue;
        }
        o = create(sm, pick->uuid, NULL, "cold", "reactive", &err);
        if (!o) {
            g_autofree char *detail =
                g_strdup_printf("%s; no move: %s", why, err->message);

            monitor_post_event(sm->m,
                               umbra_event_new(EVENT_SOURCE_DAEMON, h->name,
                                               pick->name, pick->uuid,
                                               "shadow-create-failed", detail));
            continue;
        }
        json_object_put(o);
        sh = g_hash_table_lookup(sm->shadows, pick->uuid);
        if (sh && sh->fsm.state == SHADOW_STATE_STAGING) {
            sh->pending_cutover = true;
            g_free(sh->cut_why);
            sh->cut_why = g_steal_pointer(&why);
            hurry(sh);
        }
    }
    return G_SOURCE_CONTINUE;
}

static gboolean
on_upkeep(gpointer data)
{
    ShadowManager *sm = data;
    int64_t now = util_clock_wall();
    GHashTableIter it;
    gpointer v;

    g_hash_table_iter_init(&it, sm->shadows);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        Shadow *sh = v;
        g_autoptr(DomSample) s = NULL;
        double p, thr, t;
        bool risk = false;

        /* Its domain's trouble within 15 min, read once for the alarm
         * and the automatic cutover. */
        if (sm->cfg->shadow_auto && !sm->cfg->reactive &&
            (sh->fsm.state == SHADOW_STATE_STAGING ||
             sh->fsm.state == SHADOW_STATE_WARM ||
             sh->fsm.state == SHADOW_STATE_COLD) &&
            (s = monitor_find_domain(sm->m, sh->primary_uuid, NULL)) &&
            trouble_of(sm, sh->primary_uuid, s->host, "15m", &p, &thr, &t)) {
            risk = true;
            update_alarm(sh, p, thr);
        }
        if (risk && sh->fsm.state == SHADOW_STATE_STAGING) {
            ShadowMigrationPlan plan;
            ShadowCutoverDecision d =
                cutover_decision(sm, sh, s, p, thr, t, now, &plan);

            /* It is cut over once staged (the readiness asks the risk
             * again): no use booting it for longer. */
            if (d == SHADOW_CUTOVER_GO || d == SHADOW_CUTOVER_LATE) {
                hurry(sh);
            }
        }
        if (sh->busy) {
            continue;
        }
        if (settling(sh) && now >= sh->backoff_until &&
            host_uri(sm, sh->host)) {
            start_job(sm, sh, JOB_SETTLE);
            continue;
        }
        if (sh->fsm.state == SHADOW_STATE_RETIRING && !host_uri(sm, sh->host)) {
            g_autofree char *why = g_strdup_printf(
                "host %s is no longer in the configuration: its shadow "
                "domain and volumes, if any, stay there",
                sh->host);

            step(sm, sh, SHADOW_EVENT_CLEANED, why);
            continue;
        }
        if (risk && ready(sh)) {
            maybe_cutover(sm, sh, s, p, thr, t, now);
            if (sh->busy) {
                continue;
            }
        }
        if (shadow_fsm_idle(&sh->fsm, now,
                            sm->cfg->shadow_idle_s * G_USEC_PER_SEC)) {
            g_autofree char *why = g_strdup_printf(
                "idle for %" G_GINT64_FORMAT " s", sm->cfg->shadow_idle_s);

            sh->restage = false;
            if (step(sm, sh, SHADOW_EVENT_RETIRE, why)) {
                start_job(sm, sh, JOB_RETIRE);
            }
        } else if (sh->fsm.state == SHADOW_STATE_RETIRING) {
            /* A retirement that failed earlier: again. */
            start_job(sm, sh, JOB_RETIRE);
        }
    }
    if (sm->cfg->shadow_auto && !sm->cfg->reactive) {
        protect(sm, now);
    }
    if (now >= sm->next_audit) {
        start_audit(sm);
    }
    return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------------ */
/* Public                                                              */

ShadowManager *
shadow_manager_new(const UmbraConfig *cfg, const SysVirtOps *ops, Monitor *m,
                   Predictor *pred, TsdbStore *store)
{
    ShadowManager *sm = g_new0(ShadowManager, 1);
    g_autoptr(GPtrArray) bodies = NULL;
    g_autoptr(GError) err = NULL;

    sm->cfg = cfg;
    sm->ops = ops;
    sm->m = m;
    sm->pred = pred;
    sm->store = store;
    sm->shadows =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, shadow_free);
    sm->ledger = placement_ledger_new();
    sm->asked = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    sm->hot_since =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    sm->self = g_new0(ManagerRef, 1);
    g_atomic_ref_count_init(&sm->self->ref);
    sm->self->sm = sm;
    bodies = store ? tsdb_store_shadows(store, &err) : NULL;
    if (store && !bodies) {
        g_warning("shadow records not read: %s", err->message);
    }
    for (guint i = 0; bodies && i < bodies->len; i++) {
        g_autoptr(json_object) o = json_tokener_parse(bodies->pdata[i]);
        Shadow *sh = o ? shadow_from_json(o) : NULL;

        if (!sh) {
            g_warning("a shadow record does not parse; ignored");
            continue;
        }
        if (!shadow_state_is_final(sh->fsm.state) &&
            !placement_ledger_reserve(sm->ledger, sh->host, sh->primary_name,
                                      isfinite(sh->cpus) ? sh->cpus : 0,
                                      isfinite(sh->mem_kib) ? sh->mem_kib : 0,
                                      &err)) {
            g_warning("reservation of %s not restored: %s", sh->name,
                      err->message);
            g_clear_error(&err);
        }
        g_hash_table_replace(sm->shadows, g_strdup(sh->primary_uuid), sh);
    }
    return sm;
}

static gboolean
on_poke(gpointer data)
{
    ShadowManager *sm = data;

    sm->poke = 0;
    on_upkeep(sm);
    return G_SOURCE_REMOVE;
}

void
shadow_manager_poke(ShadowManager *sm)
{
    /* Only once started: the upkeep acts on reconciled records. */
    if (sm && sm->timer && !sm->poke) {
        sm->poke = g_idle_add(on_poke, sm);
    }
}

void
shadow_manager_start(ShadowManager *sm)
{
    sm->next_audit = util_clock_wall() + FIRST_AUDIT_US;
    sm->timer = g_timeout_add_seconds(UPKEEP_EVERY_S, on_upkeep, sm);
    if (sm->cfg->reactive) {
        /* Looks as often as samples come. */
        sm->reactive_timer = g_timeout_add_seconds(
            (guint) MAX(sm->cfg->interval_s, 1), on_reactive, sm);
    }
}

void
shadow_manager_free(ShadowManager *sm)
{
    GHashTableIter it;
    gpointer v;

    if (!sm) {
        return;
    }
    if (sm->timer) {
        g_source_remove(sm->timer);
    }
    if (sm->poke) {
        g_source_remove(sm->poke);
    }
    if (sm->reactive_timer) {
        g_source_remove(sm->reactive_timer);
    }
    g_hash_table_iter_init(&it, sm->shadows);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        Shadow *sh = v;

        /* A cutover goes on peer to peer; the next start settles it. */
        if (sh->cancel && !(sh->busy && sh->job == JOB_CUTOVER)) {
            g_cancellable_cancel(sh->cancel);
        }
    }
    sm->self->sm = NULL;
    manager_ref_unref(sm->self);
    g_hash_table_unref(sm->shadows);
    g_hash_table_unref(sm->asked);
    g_hash_table_unref(sm->hot_since);
    placement_ledger_free(sm->ledger);
    g_free(sm);
}

const PlacementLedger *
shadow_manager_ledger(ShadowManager *sm)
{
    return sm ? sm->ledger : NULL;
}

/* The live record of @dom (name or UUID), final ones included. */
static Shadow *
find(ShadowManager *sm, const char *dom)
{
    GHashTableIter it;
    gpointer v;

    if (!dom) {
        return NULL;
    }
    g_hash_table_iter_init(&it, sm->shadows);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        Shadow *sh = v;

        if (g_ascii_strcasecmp(sh->primary_uuid, dom) == 0 ||
            g_strcmp0(sh->primary_name, dom) == 0 ||
            g_strcmp0(sh->name, dom) == 0) {
            return sh;
        }
    }
    return NULL;
}

json_object *
shadow_manager_list_json(ShadowManager *sm)
{
    json_object *o = json_object_new_object();
    json_object *a = json_object_new_array();
    g_autoptr(GList) keys = g_hash_table_get_keys(sm->shadows);

    keys = g_list_sort(keys, (GCompareFunc) strcmp);
    for (GList *l = keys; l; l = l->next) {
        const Shadow *sh = g_hash_table_lookup(sm->shadows, l->data);

        if (!shadow_state_is_final(sh->fsm.state)) {
            json_object_array_add(a, shadow_to_json(sh, true));
        }
    }
    json_object_object_add(o, "shadows", a);
    return o;
}

json_object *
shadow_manager_info_json(ShadowManager *sm, const char *dom, GError **error)
{
    Shadow *sh = find(sm, dom);
    g_autoptr(GPtrArray) steps = NULL;
    g_autoptr(GError) err = NULL;
    json_object *o, *ja;

    if (!sh) {
        g_set_error(error, SHADOW_MANAGER_ERROR, SHADOW_MANAGER_ERROR_NO_SHADOW,
                    "domain '%s' has no shadow", dom);
        return NULL;
    }
    o = shadow_to_json(sh, true);
    ja = json_object_new_array();
    steps = sm->store ? tsdb_store_shadow_journal(sm->store, sh->primary_uuid,
                                                  JOURNAL_LIMIT, &err)
                      : NULL;
    for (guint i = 0; steps && i < steps->len; i++) {
        const TsdbShadowStep *st = steps->pdata[i];
        json_object *sj = json_object_new_object();

        json_object_object_add(sj, "time", json_object_new_int64(st->wall_us));
        jstr(sj, "from", st->from_state);
        jstr(sj, "to", st->to_state);
        jstr(sj, "event", st->event);
        jstr(sj, "detail", st->detail);
        json_object_array_add(ja, sj);
    }
    json_object_object_add(o, "journal", ja);
    return o;
}

/* shadow_manager_create() for @origin ("operator" or "risk"). */
static json_object *
create(ShadowManager *sm, const char *dom, const char *only_cell,
       const char *mode, const char *origin, GError **error)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(DomSample) s = monitor_find_domain(sm->m, dom, &err);
    g_autoptr(json_object) pl = NULL;
    g_autoptr(Shadow) sh = NULL;
    const char *chosen, *why;
    json_object *cands = NULL;
    Shadow *old;

    if (mode && strcmp(mode, "warm") != 0 && strcmp(mode, "cold") != 0) {
        g_set_error(error, SHADOW_MANAGER_ERROR, SHADOW_MANAGER_ERROR_INVALID,
                    "mode '%s' is not warm or cold", mode);
        return NULL;
    }
    if (!s) {
        g_set_error(error, SHADOW_MANAGER_ERROR,
                    SHADOW_MANAGER_ERROR_UNKNOWN_DOMAIN, "%s", err->message);
        return NULL;
    }
    if (!sm->pred) {
        g_set_error(error, SHADOW_MANAGER_ERROR, SHADOW_MANAGER_ERROR_INVALID,
                    "shadows need the risk engine (risk = on) for placement");
        return NULL;
    }
    old = g_hash_table_lookup(sm->shadows, s->uuid);
    if (old && !shadow_state_is_final(old->fsm.state)) {
        g_set_error(error, SHADOW_MANAGER_ERROR, SHADOW_MANAGER_ERROR_EXISTS,
                    "domain '%s' already has a shadow: %s on %s (%s)", s->name,
                    old->name, old->host,
                    shadow_state_to_string(old->fsm.state));
        return NULL;
    }
    if (old && settling(old)) {
        /* Its record owns the staged copies until they are folded. */
        g_set_error(error, SHADOW_MANAGER_ERROR, SHADOW_MANAGER_ERROR_BUSY,
                    "domain '%s' moved onto %s and its disks are still being "
                    "settled there; try again shortly",
                    s->name, old->host);
        return NULL;
    }
    pl = predictor_place_json(sm->pred, s->uuid, NULL, only_cell, sm->ledger,
                              &err);
    if (!pl) {
        g_set_error(error, SHADOW_MANAGER_ERROR,
                    g_error_matches(err, PREDICTOR_ERROR,
                                    PREDICTOR_ERROR_UNKNOWN_DOMAIN)
                        ? SHADOW_MANAGER_ERROR_UNKNOWN_DOMAIN
                        : SHADOW_MANAGER_ERROR_INVALID,
                    "%s", err->message);
        return NULL;
    }
    chosen = model_json_get_string(pl, "chosen");
    why = model_json_get_string(pl, "reason");
    if (!chosen) {
        /* @why: "no host can take a shadow of ... under the preferred
         * cell rule"; then each candidate's reason. */
        g_autoptr(GString) reasons = g_string_new(NULL);

        if (json_object_object_get_ex(pl, "candidates", &cands)) {
            for (size_t i = 0; i < json_object_array_length(cands); i++) {
                json_object *c = json_object_array_get_idx(cands, i);

                if (only_cell && g_strcmp0(model_json_get_string(c, "cell"),
                                           only_cell) != 0) {
                    continue;
                }
                g_string_append_printf(reasons, "; %s: %s",
                                       model_json_get_string(c, "host"),
                                       model_json_get_string(c, "reason"));
            }
        }
        g_set_error(error, SHADOW_MANAGER_ERROR,
                    SHADOW_MANAGER_ERROR_NO_CAPACITY, "%s%s%s%s",
                    why ? why : "no host can take a shadow",
                    only_cell ? " in cell " : "", only_cell ? only_cell : "",
                    reasons->str);
        return NULL;
    }
    sh = shadow_new();
    sh->primary_uuid = g_ascii_strdown(s->uuid, -1);
    sh->primary_name = g_strdup(s->name);
    sh->primary_host = g_strdup(s->host);
    sh->name = g_strdup_printf("%s~shadow", s->name);
    sh->host = g_strdup(chosen);
    sh->mode = g_strdup(mode ? mode : sm->cfg->shadow_mode);
    sh->origin = g_strdup(origin);
    sh->placement = g_strdup(why);
    sh->cpus = s->vcpus ? s->vcpus : 1;
    sh->mem_kib = (double) s->mem_max_kib;
    if (json_object_object_get_ex(pl, "candidates", &cands)) {
        for (size_t i = 0; i < json_object_array_length(cands); i++) {
            json_object *c = json_object_array_get_idx(cands, i);

            if (g_strcmp0(model_json_get_string(c, "host"), chosen) == 0) {
                sh->cell = g_strdup(model_json_get_string(c, "cell"));
            }
        }
    }
    if (!host_uri(sm, sh->host) || !host_uri(sm, sh->primary_host)) {
        g_set_error(error, SHADOW_MANAGER_ERROR, SHADOW_MANAGER_ERROR_INVALID,
                    "host %s is not in the configuration", sh->host);
        return NULL;
    }
    if (!placement_ledger_reserve(sm->ledger, sh->host, sh->primary_name,
                                  sh->cpus, sh->mem_kib, &err)) {
        g_set_error(error, SHADOW_MANAGER_ERROR,
                    SHADOW_MANAGER_ERROR_NO_CAPACITY, "%s", err->message);
        return NULL;
    }
    shadow_fsm_init(&sh->fsm, util_clock_wall());
    sh->tag = sh->fsm.created;
    old = g_steal_pointer(&sh);
    g_hash_table_replace(sm->shadows, g_strdup(old->primary_uuid), old);
    start_staging(sm, old, why);
    return shadow_to_json(old, true);
}

static void
start_staging(ShadowManager *sm, Shadow *sh, const char *why)
{
    g_autofree char *detail =
        g_strdup_printf("%s shadow from %s: %s", sh->mode, sh->primary_host,
                        why ? why : "placed");

    journal(sm, sh, NULL, "create", detail);
    start_job(sm, sh, JOB_STAGE);
}

json_object *
shadow_manager_retire(ShadowManager *sm, const char *dom, GError **error)
{
    Shadow *sh = find(sm, dom);

    if (!sh || shadow_state_is_final(sh->fsm.state)) {
        g_set_error(error, SHADOW_MANAGER_ERROR, SHADOW_MANAGER_ERROR_NO_SHADOW,
                    "domain '%s' has no shadow to retire", dom);
        return NULL;
    }
    sh->restage = false;
    if (sh->busy) {
        if (sh->fsm.state == SHADOW_STATE_STAGING && sh->cancel) {
            /* The staging job stops, undoes its work and retires it. */
            g_cancellable_cancel(sh->cancel);
            return shadow_to_json(sh, true);
        }
        g_set_error(error, SHADOW_MANAGER_ERROR, SHADOW_MANAGER_ERROR_BUSY,
                    "the shadow of '%s' is busy (%s); try again", dom,
                    shadow_state_to_string(sh->fsm.state));
        return NULL;
    }
    if (sh->fsm.state != SHADOW_STATE_RETIRING &&
        !step(sm, sh, SHADOW_EVENT_RETIRE, "operator")) {
        g_set_error(error, SHADOW_MANAGER_ERROR, SHADOW_MANAGER_ERROR_BUSY,
                    "the shadow of '%s' cannot be retired while %s", dom,
                    shadow_state_to_string(sh->fsm.state));
        return NULL;
    }
    start_job(sm, sh, JOB_RETIRE);
    return shadow_to_json(sh, true);
}

typedef struct {
    ManagerRef *ref;
    UmbraEvent *ev;
} Deferred;

static void handle_event(ShadowManager *sm, const UmbraEvent *ev);

static gboolean
on_deferred(gpointer data)
{
    Deferred *df = data;

    if (df->ref->sm) {
        handle_event(df->ref->sm, df->ev);
    }
    manager_ref_unref(df->ref);
    umbra_event_free(df->ev);
    g_free(df);
    return G_SOURCE_REMOVE;
}

void
shadow_manager_event(ShadowManager *sm, const UmbraEvent *ev)
{
    Deferred *df;

    if (!sm->cfg->shadow_auto || ev->source != EVENT_SOURCE_DAEMON ||
        !ev->uuid || !ev->type ||
        (strcmp(ev->type, "risk-alert") != 0 &&
         strcmp(ev->type, "risk-clear") != 0)) {
        return;
    }
    /* Out of the risk engine's tick that posted it. */
    df = g_new0(Deferred, 1);
    df->ref = sm->self;
    g_atomic_ref_count_inc(&sm->self->ref);
    df->ev = umbra_event_new(ev->source, ev->host, ev->domain, ev->uuid,
                             ev->type, ev->detail);
    g_idle_add(on_deferred, df);
}

static void
handle_event(ShadowManager *sm, const UmbraEvent *ev)
{
    Shadow *sh = find(sm, ev->uuid);

    if (strcmp(ev->type, "risk-alert") == 0 && sm->cfg->shadow_auto &&
        !sm->cfg->reactive) {
        g_autoptr(GError) err = NULL;
        json_object *o;

        if (sh && !shadow_state_is_final(sh->fsm.state)) {
            shadow_fsm_touch(&sh->fsm, util_clock_wall());
            return;
        }
        o = create(sm, ev->uuid, NULL, NULL, "risk", &err);
        if (!o) {
            g_autofree char *detail = g_strdup_printf(
                "no shadow for the risk alert: %s", err->message);

            monitor_post_event(sm->m,
                               umbra_event_new(EVENT_SOURCE_DAEMON, ev->host,
                                               ev->domain, ev->uuid,
                                               "shadow-create-failed", detail));
            return;
        }
        json_object_put(o);
    } else if (strcmp(ev->type, "risk-clear") == 0 && sh && ready(sh) &&
               g_strcmp0(sh->origin, "risk") == 0) {
        sh->restage = false;
        if (step(sm, sh, SHADOW_EVENT_RETIRE, "risk subsided")) {
            start_job(sm, sh, JOB_RETIRE);
        }
    }
}

json_object *
shadow_manager_cutover(ShadowManager *sm, const char *dom, bool now,
                       GError **error)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(DomSample) s = monitor_find_domain(sm->m, dom, &err);
    Shadow *sh;

    if (!s || !s->host || s->state != DOM_STATE_RUNNING) {
        g_set_error(error, SHADOW_MANAGER_ERROR,
                    SHADOW_MANAGER_ERROR_UNKNOWN_DOMAIN, "%s",
                    s ? "the domain is not running on a known host"
                      : err->message);
        return NULL;
    }
    sh = g_hash_table_lookup(sm->shadows, s->uuid);
    if (sh && ready(sh)) {
        start_cutover(sm, sh, "operator");
        return shadow_to_json(sh, true);
    }
    if (now) {
        g_set_error(error, SHADOW_MANAGER_ERROR, SHADOW_MANAGER_ERROR_BUSY,
                    "'%s' has no shadow ready (%s); without --now the "
                    "cutover waits for one",
                    s->name,
                    sh && !shadow_state_is_final(sh->fsm.state)
                        ? shadow_state_to_string(sh->fsm.state)
                        : "none");
        return NULL;
    }
    if (!sh || shadow_state_is_final(sh->fsm.state)) {
        json_object *o = shadow_manager_create(sm, s->uuid, NULL, NULL, error);

        if (!o) {
            return NULL;
        }
        json_object_put(o);
        sh = g_hash_table_lookup(sm->shadows, s->uuid);
    }
    if (sh->fsm.state != SHADOW_STATE_STAGING) {
        g_set_error(error, SHADOW_MANAGER_ERROR, SHADOW_MANAGER_ERROR_BUSY,
                    sh->fsm.state == SHADOW_STATE_ACTIVE
                        ? "a cutover of '%s' is already running (%s)"
                        : "the shadow of '%s' is %s; try again",
                    s->name, shadow_state_to_string(sh->fsm.state));
        return NULL;
    }
    sh->pending_cutover = true;
    hurry(sh);
    return shadow_to_json(sh, true);
}

json_object *
shadow_manager_create(ShadowManager *sm, const char *dom, const char *only_cell,
                      const char *mode, GError **error)
{
    return create(sm, dom, only_cell, mode, "operator", error);
}
