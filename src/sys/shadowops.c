/*
 * sys/shadowops.c: the libvirt calls behind shadows (see shadowops.h).
 */
#include "sys/shadowops.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "sys/virtpriv.h"
#include "util/autoptr.h"

#define COPY_BUF (256 * 1024)
#define FOLD_TIMEOUT_US (300 * G_USEC_PER_SEC)

void
sys_frozen_disk_free(SysFrozenDisk *d)
{
    if (!d) {
        return;
    }
    g_free(d->target);
    g_free(d->frozen);
    g_free(d->overlay);
    g_free(d->format);
    g_free(d);
}

void
sys_shadow_domain_free(SysShadowDomain *d)
{
    if (!d) {
        return;
    }
    g_free(d->name);
    g_free(d->uuid);
    g_free(d->state);
    sys_shadow_meta_clear(&d->meta);
    g_free(d);
}

/* Sets @error as "@fmt...: libvirt's message". */
G_GNUC_PRINTF(3, 4)
static bool
fail(GError **error, SysVirtErrorCode code, const char *fmt, ...)
{
    g_autofree char *what = NULL;
    va_list ap;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    sys_virt_set_error(error, code, what);
    return false;
}

static bool
last_error_is(int code)
{
    virErrorPtr e = virGetLastError();

    return e && e->code == code;
}

static virDomainPtr
lookup(SysVirtConn *c, const char *name_or_uuid, GError **error)
{
    virDomainPtr d = virDomainLookupByUUIDString(c->conn, name_or_uuid);

    if (!d) {
        virResetLastError();
        d = virDomainLookupByName(c->conn, name_or_uuid);
    }
    if (!d) {
        fail(error, SYS_VIRT_ERROR_NO_DOMAIN, "no domain '%s' on %s",
             name_or_uuid, c->uri);
    }
    return d;
}

char *
sys_shadow_domain_xml(SysVirtConn *c, const char *name_or_uuid, bool migratable,
                      GError **error)
{
    g_autoptr(virDomain) d = lookup(c, name_or_uuid, error);
    char *x, *r;

    if (!d) {
        return NULL;
    }
    x = virDomainGetXMLDesc(d, migratable ? VIR_DOMAIN_XML_MIGRATABLE : 0);
    if (!x) {
        fail(error, SYS_VIRT_ERROR_CALL, "cannot read the XML of '%s'",
             name_or_uuid);
        return NULL;
    }
    r = g_strdup(x);
    free(x);
    return r;
}

char *
sys_shadow_overlay_path(const char *path, const char *tag)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    char *dot;

    dot = strstr(base, ".umbra-");
    if (!dot) {
        dot = strrchr(base, '.');
    }
    if (dot && dot != base) {
        *dot = '\0';
    }
    return g_strdup_printf("%s/%s.umbra-%s.qcow2", dir, base, tag);
}

GPtrArray *
sys_shadow_freeze(SysVirtConn *c, const char *uuid, const char *tag,
                  GError **error)
{
    g_autoptr(virDomain) d = lookup(c, uuid, error);
    g_autofree char *xml = NULL;
    g_autofree char *snap_xml = NULL;
    g_autofree char *snap_name = NULL;
    g_autoptr(GPtrArray) disks = NULL;
    g_autoptr(GPtrArray) out = NULL;
    g_autoptr(GHashTable) overlays = NULL;
    virDomainSnapshotPtr snap;

    if (!d) {
        return NULL;
    }
    xml = sys_shadow_domain_xml(c, uuid, false, error);
    if (!xml || !(disks = sys_domxml_disks(xml, error))) {
        return NULL;
    }
    overlays = g_hash_table_new(g_str_hash, g_str_equal);
    out = g_ptr_array_new_with_free_func((GDestroyNotify) sys_frozen_disk_free);
    for (guint i = 0; i < disks->len; i++) {
        const SysDomDisk *dd = disks->pdata[i];
        SysFrozenDisk *f = g_new0(SysFrozenDisk, 1);

        f->target = g_strdup(dd->target);
        f->frozen = g_strdup(dd->path);
        f->format = g_strdup(dd->format);
        f->overlay = sys_shadow_overlay_path(dd->path, tag);
        g_hash_table_insert(overlays, f->target, f->overlay);
        g_ptr_array_add(out, f);
    }
    snap_name = g_strdup_printf("umbra-%s", tag);
    snap_xml = sys_domxml_snapshot_xml(xml, snap_name, overlays, error);
    if (!snap_xml) {
        return NULL;
    }
    snap =
        virDomainSnapshotCreateXML(d, snap_xml,
                                   VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY |
                                       VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC |
                                       VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA);
    if (!snap) {
        fail(error, SYS_VIRT_ERROR_CALL,
             "cannot take the staging snapshot of '%s'", uuid);
        return NULL;
    }
    virDomainSnapshotFree(snap);
    return g_steal_pointer(&out);
}

GPtrArray *
sys_shadow_domain_disks(SysVirtConn *c, const char *name_or_uuid,
                        GError **error)
{
    g_autofree char *xml = sys_shadow_domain_xml(c, name_or_uuid, false, error);

    return xml ? sys_domxml_disks(xml, error) : NULL;
}

/* Returns: (transfer full) the disk @target of @uuid as it is now, or
 * NULL with @error. */
static SysDomDisk *
find_disk(SysVirtConn *c, const char *uuid, const char *target, GError **error)
{
    g_autoptr(GPtrArray) disks = sys_shadow_domain_disks(c, uuid, error);

    for (guint i = 0; disks && i < disks->len; i++) {
        const SysDomDisk *dd = disks->pdata[i];

        if (strcmp(dd->target, target) == 0) {
            return g_ptr_array_steal_index(disks, i);
        }
    }
    if (disks) {
        g_set_error(error, SYS_VIRT_ERROR, SYS_VIRT_ERROR_CALL,
                    "domain '%s' has no disk %s", uuid, target);
    }
    return NULL;
}

/*
 * Finds the volume at @path, making libvirt see it if need be: refreshes
 * the active pools, then starts a transient directory pool on its
 * directory.
 */
static virStorageVolPtr
vol_by_path(SysVirtConn *c, const char *path, GError **error)
{
    virStorageVolPtr v = virStorageVolLookupByPath(c->conn, path);
    virStoragePoolPtr *pools = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *edir = NULL;
    int n;

    if (v) {
        return v;
    }
    virResetLastError();
    n = virConnectListAllStoragePools(c->conn, &pools,
                                      VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE);
    for (int i = 0; i < n; i++) {
        virStoragePoolRefresh(pools[i], 0);
        virStoragePoolFree(pools[i]);
    }
    free(pools);
    virResetLastError();
    v = virStorageVolLookupByPath(c->conn, path);
    if (v) {
        return v;
    }
    virResetLastError();
    dir = g_path_get_dirname(path);
    edir = g_markup_escape_text(dir, -1);
    xml = g_strdup_printf("<pool type='dir'><name>umbra-dir-%08x</name>"
                          "<target><path>%s</path></target></pool>",
                          g_str_hash(dir), edir);
    {
        g_autoptr(virStoragePool) p = virStoragePoolCreateXML(c->conn, xml, 0);

        if (!p) {
            /* Another job may have made it meanwhile. */
            virResetLastError();
            v = virStorageVolLookupByPath(c->conn, path);
            if (v) {
                return v;
            }
            fail(error, SYS_VIRT_ERROR_CALL,
                 "cannot see %s on %s (no storage pool holds it)", path,
                 c->uri);
            return NULL;
        }
    }
    v = virStorageVolLookupByPath(c->conn, path);
    if (!v) {
        fail(error, SYS_VIRT_ERROR_CALL, "no volume %s on %s", path, c->uri);
    }
    return v;
}

bool
sys_shadow_delete_volume(SysVirtConn *c, const char *path, GError **error)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(virStorageVol) v = NULL;

    if (!path || !*path) {
        return true;
    }
    v = vol_by_path(c, path, &err);
    if (!v) {
        /* Gone already (or never made). */
        return true;
    }
    if (virStorageVolDelete(v, 0) < 0) {
        return fail(error, SYS_VIRT_ERROR_CALL, "cannot delete %s on %s", path,
                    c->uri);
    }
    return true;
}

bool
sys_shadow_delete_pool_volume(SysVirtConn *c, const char *pool,
                              const char *name, GError **error)
{
    g_autoptr(virStoragePool) p = virStoragePoolLookupByName(c->conn, pool);
    g_autoptr(virStorageVol) v = NULL;

    if (!p) {
        virResetLastError();
        return true;
    }
    virStoragePoolRefresh(p, 0);
    v = virStorageVolLookupByName(p, name);
    if (!v) {
        virResetLastError();
        return true;
    }
    if (virStorageVolDelete(v, 0) < 0) {
        return fail(error, SYS_VIRT_ERROR_CALL, "cannot delete %s/%s on %s",
                    pool, name, c->uri);
    }
    return true;
}

/*
 * Waits for the block job on @target: until it is ready to pivot
 * (@until_ready, an active commit) or until it is over (a pull).
 * Returns: false with @error when it ended early (a commit that
 * vanished), got lost, or outlasted FOLD_TIMEOUT_US (then aborted).
 */
static bool
wait_block_job(virDomainPtr d, const char *uuid, const char *target,
               const char *what, bool until_ready, GError **error)
{
    int64_t deadline = g_get_monotonic_time() + FOLD_TIMEOUT_US;

    for (;;) {
        virDomainBlockJobInfo info;
        int r = virDomainGetBlockJobInfo(d, target, &info, 0);

        if (r < 0) {
            return fail(error, SYS_VIRT_ERROR_CALL,
                        "lost the block %s of %s of '%s'", what, target, uuid);
        }
        if (r == 0) {
            if (until_ready) {
                g_set_error(error, SYS_VIRT_ERROR, SYS_VIRT_ERROR_CALL,
                            "the block %s of %s of '%s' ended before it was "
                            "ready (it failed)",
                            what, target, uuid);
                return false;
            }
            return true;
        }
        if (until_ready && info.end > 0 && info.cur == info.end) {
            return true;
        }
        if (g_get_monotonic_time() > deadline) {
            virDomainBlockJobAbort(d, target, 0);
            virResetLastError();
            g_set_error(error, SYS_VIRT_ERROR, SYS_VIRT_ERROR_CALL,
                        "the block %s of %s of '%s' took too long (aborted)",
                        what, target, uuid);
            return false;
        }
        g_usleep(100 * 1000);
    }
}

/* Whether an active commit runs on @target of @d. */
static bool
commit_running(virDomainPtr d, const char *target)
{
    virDomainBlockJobInfo info;
    int r = virDomainGetBlockJobInfo(d, target, &info, 0);

    virResetLastError();
    return r == 1 && info.type == VIR_DOMAIN_BLOCK_JOB_TYPE_ACTIVE_COMMIT;
}

/*
 * Pivots @target of @d onto the commit's base. QEMU may call the job
 * ready (query-block-jobs) before libvirtd has handled its READY event;
 * libvirtd then refuses the pivot ("not ready for pivot yet",
 * VIR_ERR_BLOCK_COPY_ACTIVE), so the pivot is retried until
 * FOLD_TIMEOUT_US. Any other error ends it.
 */
static bool
pivot(virDomainPtr d, const char *uuid, const char *target, GError **error)
{
    int64_t deadline = g_get_monotonic_time() + FOLD_TIMEOUT_US;

    while (virDomainBlockJobAbort(d, target, VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT) <
           0) {
        if (virGetLastErrorCode() != VIR_ERR_BLOCK_COPY_ACTIVE ||
            g_get_monotonic_time() > deadline) {
            return fail(error, SYS_VIRT_ERROR_CALL,
                        "cannot pivot %s of '%s' back onto its backing file",
                        target, uuid);
        }
        virResetLastError();
        g_usleep(100 * 1000);
    }
    return true;
}

static bool
commit_and_pivot(virDomainPtr d, const char *uuid, const char *target,
                 GError **error)
{
    /* A commit left running by an earlier fold that failed to pivot
     * is taken over, not started again (libvirt refuses a second job:
     * "already in active block job"). */
    if (!commit_running(d, target) &&
        virDomainBlockCommit(d, target, NULL, NULL, 0,
                             VIR_DOMAIN_BLOCK_COMMIT_ACTIVE |
                                 VIR_DOMAIN_BLOCK_COMMIT_SHALLOW) < 0) {
        return fail(error, SYS_VIRT_ERROR_CALL,
                    "cannot commit %s of '%s' back into its backing file",
                    target, uuid);
    }
    return wait_block_job(d, uuid, target, "commit", true, error) &&
           pivot(d, uuid, target, error);
}

bool
sys_shadow_fold(SysVirtConn *c, const char *uuid, const char *target,
                const char *overlay, GError **error)
{
    g_autoptr(virDomain) d = lookup(c, uuid, error);
    g_autoptr(SysDomDisk) now = NULL;
    bool ok;

    if (!d) {
        return false;
    }
    now = find_disk(c, uuid, target, error);
    if (!now) {
        return false;
    }
    if (strcmp(now->path, overlay) != 0) {
        return true;
    }
    /* No block stats of this host while the job runs (virtpriv.h). */
    sys_virt_hold_block_stats(c->uri);
    ok = commit_and_pivot(d, uuid, target, error);
    sys_virt_release_block_stats(c->uri);
    return ok && sys_shadow_delete_volume(c, overlay, error);
}

bool
sys_shadow_pool_ensure(SysVirtConn *c, const char *pool, const char *path,
                       GError **error)
{
    g_autoptr(virStoragePool) p = virStoragePoolLookupByName(c->conn, pool);
    int active;

    if (!p) {
        g_autofree char *epath = g_markup_escape_text(path, -1);
        g_autofree char *xml =
            g_strdup_printf("<pool type='dir'><name>%s</name>"
                            "<target><path>%s</path></target></pool>",
                            pool, epath);

        virResetLastError();
        p = virStoragePoolDefineXML(c->conn, xml, 0);
        if (!p) {
            return fail(error, SYS_VIRT_ERROR_CALL,
                        "cannot define storage pool %s on %s", pool, c->uri);
        }
        if (virStoragePoolBuild(p, 0) < 0) {
            return fail(error, SYS_VIRT_ERROR_CALL,
                        "cannot build storage pool %s (%s) on %s", pool, path,
                        c->uri);
        }
        virStoragePoolSetAutostart(p, 1);
    }
    active = virStoragePoolIsActive(p);
    if (active == 0 && virStoragePoolCreate(p, 0) < 0) {
        return fail(error, SYS_VIRT_ERROR_CALL,
                    "cannot start storage pool %s on %s", pool, c->uri);
    }
    virResetLastError();
    return true;
}

static bool
send_all(virStreamPtr st, const char *buf, size_t len)
{
    while (len > 0) {
        int n = virStreamSend(st, buf, len);

        if (n < 0) {
            return false;
        }
        buf += n;
        len -= (size_t) n;
    }
    return true;
}

/* Streams @from into @to, holes kept.  Returns: bytes of data, -1. */
static int64_t
pump(virStreamPtr from, virStreamPtr to, GCancellable *cancel, GError **error)
{
    g_autofree char *buf = g_malloc(COPY_BUF);
    int64_t bytes = 0;

    for (;;) {
        int n = virStreamRecvFlags(from, buf, COPY_BUF,
                                   VIR_STREAM_RECV_STOP_AT_HOLE);

        if (n == 0) {
            return bytes;
        }
        if (n == -3) {
            long long hole = 0;

            if (virStreamRecvHole(from, &hole, 0) < 0 ||
                virStreamSendHole(to, hole, 0) < 0) {
                fail(error, SYS_VIRT_ERROR_CALL, "copying a hole");
                return -1;
            }
            continue;
        }
        if (n < 0) {
            fail(error, SYS_VIRT_ERROR_CALL, "reading the source volume");
            return -1;
        }
        if (!send_all(to, buf, (size_t) n)) {
            fail(error, SYS_VIRT_ERROR_CALL, "writing the target volume");
            return -1;
        }
        bytes += n;
        if (g_cancellable_set_error_if_cancelled(cancel, error)) {
            return -1;
        }
    }
}

bool
sys_shadow_copy_volume(SysVirtConn *src, const char *src_path, SysVirtConn *dst,
                       const char *pool, const char *name, GCancellable *cancel,
                       char **ret_path, uint64_t *ret_bytes, GError **error)
{
    g_autoptr(virStorageVol) sv = vol_by_path(src, src_path, error);
    g_autoptr(virStoragePool) dp = NULL;
    g_autoptr(virStorageVol) dv = NULL;
    g_autoptr(virStream) down = NULL;
    g_autoptr(virStream) up = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *ename = NULL;
    virStorageVolInfo info;
    int64_t bytes;
    char *path;

    if (!sv) {
        return false;
    }
    if (virStorageVolGetInfoFlags(sv, &info, VIR_STORAGE_VOL_GET_PHYSICAL) <
        0) {
        return fail(error, SYS_VIRT_ERROR_CALL, "cannot size %s on %s",
                    src_path, src->uri);
    }
    if (!sys_shadow_delete_pool_volume(dst, pool, name, error)) {
        return false;
    }
    dp = virStoragePoolLookupByName(dst->conn, pool);
    if (!dp) {
        return fail(error, SYS_VIRT_ERROR_CALL, "no storage pool %s on %s",
                    pool, dst->uri);
    }
    ename = g_markup_escape_text(name, -1);
    xml = g_strdup_printf("<volume><name>%s</name>"
                          "<capacity unit='bytes'>%llu</capacity>"
                          "<allocation unit='bytes'>0</allocation>"
                          "<target><format type='raw'/></target></volume>",
                          ename, info.allocation);
    dv = virStorageVolCreateXML(dp, xml, 0);
    if (!dv) {
        return fail(error, SYS_VIRT_ERROR_CALL, "cannot create %s/%s on %s",
                    pool, name, dst->uri);
    }
    down = virStreamNew(src->conn, 0);
    up = virStreamNew(dst->conn, 0);
    if (!down || !up ||
        virStorageVolDownload(sv, down, 0, 0,
                              VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM) < 0 ||
        virStorageVolUpload(dv, up, 0, 0,
                            VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM) < 0) {
        fail(error, SYS_VIRT_ERROR_CALL, "cannot stream %s (%s) to %s",
             src_path, src->uri, dst->uri);
        goto error;
    }
    bytes = pump(down, up, cancel, error);
    if (bytes < 0) {
        goto error;
    }
    if (virStreamFinish(down) < 0 || virStreamFinish(up) < 0) {
        fail(error, SYS_VIRT_ERROR_CALL, "finishing the copy of %s", src_path);
        goto error;
    }
    virStoragePoolRefresh(dp, 0);
    virResetLastError();
    path = virStorageVolGetPath(dv);
    if (!path) {
        fail(error, SYS_VIRT_ERROR_CALL, "no path for %s/%s", pool, name);
        goto error;
    }
    *ret_path = g_strdup(path);
    free(path);
    *ret_bytes = (uint64_t) bytes;
    return true;

error:
    if (down) {
        virStreamAbort(down);
    }
    if (up) {
        virStreamAbort(up);
    }
    virStorageVolDelete(dv, 0);
    virResetLastError();
    return false;
}

char *
sys_shadow_overlay(SysVirtConn *c, const char *pool, const char *name,
                   const char *backing, const char *backing_fmt, GError **error)
{
    g_autoptr(virStorageVol) bv = vol_by_path(c, backing, error);
    g_autoptr(virStoragePool) p = NULL;
    g_autoptr(virStorageVol) v = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *ename = NULL;
    g_autofree char *eback = NULL;
    virStorageVolInfo info;
    char *path, *r;

    if (!bv) {
        return NULL;
    }
    if (virStorageVolGetInfo(bv, &info) < 0) {
        fail(error, SYS_VIRT_ERROR_CALL, "cannot size %s on %s", backing,
             c->uri);
        return NULL;
    }
    if (!sys_shadow_delete_pool_volume(c, pool, name, error)) {
        return NULL;
    }
    p = virStoragePoolLookupByName(c->conn, pool);
    if (!p) {
        fail(error, SYS_VIRT_ERROR_CALL, "no storage pool %s on %s", pool,
             c->uri);
        return NULL;
    }
    ename = g_markup_escape_text(name, -1);
    eback = g_markup_escape_text(backing, -1);
    xml = g_strdup_printf("<volume><name>%s</name>"
                          "<capacity unit='bytes'>%llu</capacity>"
                          "<target><format type='qcow2'/></target>"
                          "<backingStore><path>%s</path>"
                          "<format type='%s'/></backingStore></volume>",
                          ename, info.capacity, eback, backing_fmt);
    v = virStorageVolCreateXML(p, xml, 0);
    if (!v) {
        fail(error, SYS_VIRT_ERROR_CALL, "cannot create overlay %s/%s on %s",
             pool, name, c->uri);
        return NULL;
    }
    path = virStorageVolGetPath(v);
    if (!path) {
        fail(error, SYS_VIRT_ERROR_CALL, "no path for %s/%s", pool, name);
        return NULL;
    }
    r = g_strdup(path);
    free(path);
    return r;
}

bool
sys_shadow_define(SysVirtConn *c, const char *xml, bool start, GError **error)
{
    g_autoptr(virDomain) d = virDomainDefineXML(c->conn, xml);

    if (!d) {
        return fail(error, SYS_VIRT_ERROR_CALL,
                    "cannot define the shadow on %s", c->uri);
    }
    if (start && virDomainCreate(d) < 0) {
        return fail(error, SYS_VIRT_ERROR_CALL, "cannot start the shadow on %s",
                    c->uri);
    }
    return true;
}

bool
sys_shadow_suspend(SysVirtConn *c, const char *name, GError **error)
{
    g_autoptr(virDomain) d = lookup(c, name, error);

    if (!d) {
        return false;
    }
    if (virDomainSuspend(d) < 0) {
        return fail(error, SYS_VIRT_ERROR_CALL, "cannot pause '%s' on %s", name,
                    c->uri);
    }
    return true;
}

bool
sys_shadow_remove_domain(SysVirtConn *c, const char *name, GError **error)
{
    g_autoptr(virDomain) d = virDomainLookupByName(c->conn, name);

    if (!d) {
        bool gone = last_error_is(VIR_ERR_NO_DOMAIN);

        if (gone) {
            virResetLastError();
            return true;
        }
        return fail(error, SYS_VIRT_ERROR_CALL, "cannot look up '%s' on %s",
                    name, c->uri);
    }
    if (virDomainIsActive(d) == 1 && virDomainDestroy(d) < 0) {
        return fail(error, SYS_VIRT_ERROR_CALL, "cannot stop '%s' on %s", name,
                    c->uri);
    }
    if (virDomainIsPersistent(d) == 1 &&
        virDomainUndefineFlags(
            d, VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                   VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                   VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA) < 0) {
        return fail(error, SYS_VIRT_ERROR_CALL, "cannot undefine '%s' on %s",
                    name, c->uri);
    }
    virResetLastError();
    return true;
}

static const char *
state_name(int st)
{
    switch (st) {
    case VIR_DOMAIN_RUNNING:
        return "running";
    case VIR_DOMAIN_BLOCKED:
        return "blocked";
    case VIR_DOMAIN_PAUSED:
        return "paused";
    case VIR_DOMAIN_SHUTDOWN:
        return "shutting down";
    case VIR_DOMAIN_SHUTOFF:
        return "shut off";
    case VIR_DOMAIN_CRASHED:
        return "crashed";
    case VIR_DOMAIN_PMSUSPENDED:
        return "pmsuspended";
    default:
        return "unknown";
    }
}

char *
sys_shadow_domain_state(SysVirtConn *c, const char *name_or_uuid,
                        GError **error)
{
    g_autoptr(virDomain) d = lookup(c, name_or_uuid, error);
    int st = 0, reason = 0;

    if (!d) {
        return NULL;
    }
    if (virDomainGetState(d, &st, &reason, 0) < 0) {
        fail(error, SYS_VIRT_ERROR_CALL, "cannot read the state of '%s'",
             name_or_uuid);
        return NULL;
    }
    return g_strdup(state_name(st));
}

GPtrArray *
sys_shadow_list(SysVirtConn *c, GError **error)
{
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify) sys_shadow_domain_free);
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(c->conn, &doms, 0);

    if (n < 0) {
        fail(error, SYS_VIRT_ERROR_CALL, "cannot list the domains of %s",
             c->uri);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        char *md = virDomainGetMetadata(doms[i], VIR_DOMAIN_METADATA_ELEMENT,
                                        SYS_SHADOW_NS, 0);
        char uuid[VIR_UUID_STRING_BUFLEN];
        int st = 0, reason = 0;

        if (md) {
            SysShadowDomain *sd = g_new0(SysShadowDomain, 1);

            if (sys_domxml_shadow_meta(md, &sd->meta)) {
                sd->name = g_strdup(virDomainGetName(doms[i]));
                if (virDomainGetUUIDString(doms[i], uuid) == 0) {
                    sd->uuid = g_strdup(uuid);
                }
                virDomainGetState(doms[i], &st, &reason, 0);
                sd->state = g_strdup(state_name(st));
                g_ptr_array_add(out, sd);
            } else {
                sys_shadow_domain_free(sd);
            }
            free(md);
        }
        virResetLastError();
        virDomainFree(doms[i]);
    }
    free(doms);
    return g_steal_pointer(&out);
}

char *
sys_shadow_uri_host(const char *uri)
{
    g_autoptr(GUri) u = uri ? g_uri_parse(uri, G_URI_FLAGS_NONE, NULL) : NULL;
    const char *h = u ? g_uri_get_host(u) : NULL;

    return h && *h ? g_strdup(h) : NULL;
}

typedef struct {
    virDomainPtr dom;
    const char *dst_uri;
    virTypedParameterPtr params;
    int nparams;
    unsigned flags;
    int rc;
    char *err; /* libvirt's message on failure */
    gint done; /* set when the call returned */
} MigrateRun;

static gpointer
migrate_thread(gpointer data)
{
    MigrateRun *r = data;

    r->rc = virDomainMigrateToURI3(r->dom, r->dst_uri, r->params,
                                   (unsigned) r->nparams, r->flags);
    if (r->rc < 0) {
        virErrorPtr e = virGetLastError();

        r->err = g_strdup(e && e->message ? e->message : "unknown error");
        virResetLastError();
    }
    g_atomic_int_set(&r->done, 1);
    return NULL;
}

static uint64_t
param_ull(virTypedParameterPtr p, int n, const char *name)
{
    unsigned long long v = 0;

    virTypedParamsGetULLong(p, n, name, &v);
    return v;
}

/* Fills @ret from the completed job on the target. */
static void
completed_stats(SysVirtConn *dst, const char *uuid, SysMigrateStats *ret)
{
    g_autoptr(virDomain) d = virDomainLookupByUUIDString(dst->conn, uuid);
    virTypedParameterPtr p = NULL;
    int n = 0, type = 0;

    if (!d || virDomainGetJobStats(d, &type, &p, &n,
                                   VIR_DOMAIN_JOB_STATS_COMPLETED) < 0) {
        virResetLastError();
        return;
    }
    if (param_ull(p, n, VIR_DOMAIN_JOB_TIME_ELAPSED)) {
        ret->total_ms = (int64_t) param_ull(p, n, VIR_DOMAIN_JOB_TIME_ELAPSED);
    }
    {
        unsigned long long dt = 0;

        ret->downtime_ms =
            virTypedParamsGetULLong(p, n, VIR_DOMAIN_JOB_DOWNTIME, &dt) == 1
                ? (int64_t) dt
                : -1;
    }
    if (param_ull(p, n, VIR_DOMAIN_JOB_MEMORY_PROCESSED)) {
        ret->memory_bytes = param_ull(p, n, VIR_DOMAIN_JOB_MEMORY_PROCESSED);
    }
    if (param_ull(p, n, VIR_DOMAIN_JOB_DISK_PROCESSED)) {
        ret->disk_bytes = param_ull(p, n, VIR_DOMAIN_JOB_DISK_PROCESSED);
    }
    /* After a switch to post-copy QEMU syncs its dirty bitmap once more:
     * the passes stay those counted before the switch. */
    if (!ret->postcopy_used &&
        param_ull(p, n, VIR_DOMAIN_JOB_MEMORY_ITERATION)) {
        ret->iterations =
            (int) param_ull(p, n, VIR_DOMAIN_JOB_MEMORY_ITERATION);
    }
    virTypedParamsFree(p, n);
}

bool
sys_shadow_migrate(SysVirtConn *src, SysVirtConn *dst, const char *uuid,
                   const char *dst_uri, const char *dest_xml,
                   const char *const *disks, const SysMigrateOpts *opts,
                   GCancellable *cancel, SysMigrateStats *ret, GError **error)
{
    g_autoptr(virDomain) d = lookup(src, uuid, error);
    g_autofree char *host = sys_shadow_uri_host(dst_uri);
    g_autofree char *muri = NULL;
    MigrateRun run = {0};
    int maxp = 0;
    GThread *th;
    int64_t t0 = g_get_monotonic_time();
    int64_t deadline;
    bool aborted = false, cancelled = false;
    int last_iter = 0;
    int64_t iter_since = t0;

    memset(ret, 0, sizeof(*ret));
    ret->downtime_ms = -1; /* until libvirt says */
    if (!d) {
        return false;
    }
    run.dom = d;
    run.dst_uri = dst_uri;
    run.flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER |
                VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE |
                VIR_MIGRATE_ABORT_ON_ERROR;
    if (host) {
        muri = g_strdup_printf("tcp://%s", host);
        virTypedParamsAddString(&run.params, &run.nparams, &maxp,
                                VIR_MIGRATE_PARAM_URI, muri);
    }
    if (dest_xml) {
        virTypedParamsAddString(&run.params, &run.nparams, &maxp,
                                VIR_MIGRATE_PARAM_DEST_XML, dest_xml);
        virTypedParamsAddString(&run.params, &run.nparams, &maxp,
                                VIR_MIGRATE_PARAM_PERSIST_XML, dest_xml);
    }
    if (disks && disks[0]) {
        run.flags |= VIR_MIGRATE_NON_SHARED_INC;
        for (size_t i = 0; disks[i]; i++) {
            virTypedParamsAddString(&run.params, &run.nparams, &maxp,
                                    VIR_MIGRATE_PARAM_MIGRATE_DISKS, disks[i]);
        }
        if (muri) {
            virTypedParamsAddString(&run.params, &run.nparams, &maxp,
                                    VIR_MIGRATE_PARAM_DISKS_URI, muri);
        }
    }
    if (opts->auto_converge) {
        run.flags |= VIR_MIGRATE_AUTO_CONVERGE;
    }
    if (opts->xbzrle) {
        run.flags |= VIR_MIGRATE_COMPRESSED;
        virTypedParamsAddString(&run.params, &run.nparams, &maxp,
                                VIR_MIGRATE_PARAM_COMPRESSION, "xbzrle");
    }
    if (opts->multifd > 0) {
        run.flags |= VIR_MIGRATE_PARALLEL;
        virTypedParamsAddInt(&run.params, &run.nparams, &maxp,
                             VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS,
                             opts->multifd);
    }
    if (opts->postcopy) {
        run.flags |= VIR_MIGRATE_POSTCOPY;
    }
    if (opts->bandwidth_mib) {
        virTypedParamsAddULLong(&run.params, &run.nparams, &maxp,
                                VIR_MIGRATE_PARAM_BANDWIDTH,
                                opts->bandwidth_mib);
    }
    deadline =
        t0 + (opts->timeout_s > 0 ? opts->timeout_s : 600) * G_USEC_PER_SEC;
    /* The disks cross as NBD mirror jobs, which end with the migration:
     * no block stats of either host meanwhile (virtpriv.h). */
    sys_virt_hold_block_stats(src->uri);
    sys_virt_hold_block_stats(dst->uri);
    th = g_thread_new("migrate", migrate_thread, &run);
    /* Watch the job: progress for the stats, the timeout, cancellation,
     * and the switch to post-copy when pre-copy stops converging. */
    while (!g_atomic_int_get(&run.done)) {
        g_usleep(200 * 1000);
        {
            virTypedParameterPtr p = NULL;
            int n = 0, type = 0;

            if (virDomainGetJobStats(d, &type, &p, &n, 0) == 0) {
                int iter =
                    (int) param_ull(p, n, VIR_DOMAIN_JOB_MEMORY_ITERATION);
                uint64_t db = param_ull(p, n, VIR_DOMAIN_JOB_DISK_PROCESSED);
                uint64_t mb = param_ull(p, n, VIR_DOMAIN_JOB_MEMORY_PROCESSED);

                if (db > ret->disk_bytes) {
                    ret->disk_bytes = db;
                }
                if (mb > ret->memory_bytes) {
                    ret->memory_bytes = mb;
                }
                if (iter != last_iter) {
                    last_iter = iter;
                    iter_since = g_get_monotonic_time();
                }
                if (iter > ret->iterations && !ret->postcopy_used) {
                    ret->iterations = iter;
                }
                virTypedParamsFree(p, n);
            }
            virResetLastError();
        }
        if (!cancelled && g_cancellable_is_cancelled(cancel)) {
            cancelled = true;
            virDomainAbortJob(d);
            virResetLastError();
        } else if (!aborted && g_get_monotonic_time() > deadline) {
            aborted = true;
            virDomainAbortJob(d);
            virResetLastError();
        } else if (opts->postcopy && !ret->postcopy_used && last_iter >= 5 &&
                   g_get_monotonic_time() - iter_since < G_USEC_PER_SEC) {
            /* Five passes and still dirtying: finish in post-copy. */
            if (virDomainMigrateStartPostCopy(d, 0) == 0) {
                ret->postcopy_used = true;
                ret->postcopy_at_ms = (g_get_monotonic_time() - t0) / 1000;
            }
            virResetLastError();
        }
    }
    g_thread_join(th);
    sys_virt_release_block_stats(src->uri);
    sys_virt_release_block_stats(dst->uri);
    virTypedParamsFree(run.params, run.nparams);
    ret->total_ms = (g_get_monotonic_time() - t0) / 1000;
    if (run.rc < 0) {
        g_set_error(error, SYS_VIRT_ERROR, SYS_VIRT_ERROR_CALL,
                    "migration of '%s' to %s %s: %s", uuid, dst_uri,
                    aborted     ? "timed out (abort asked)"
                    : cancelled ? "was cancelled"
                                : "failed",
                    run.err);
        g_free(run.err);
        return false;
    }
    completed_stats(dst, uuid, ret);
    return true;
}

bool
sys_shadow_job_active(SysVirtConn *c, const char *uuid)
{
    g_autoptr(virDomain) d = virDomainLookupByUUIDString(c->conn, uuid);
    virDomainJobInfo info;
    bool active;

    if (!d) {
        virResetLastError();
        return false;
    }
    active =
        virDomainGetJobInfo(d, &info) == 0 && info.type != VIR_DOMAIN_JOB_NONE;
    virResetLastError();
    return active;
}

bool
sys_shadow_pull(SysVirtConn *c, const char *uuid, const char *target,
                const char *base, GError **error)
{
    g_autoptr(virDomain) d = lookup(c, uuid, error);
    g_autoptr(SysDomDisk) dd = NULL;
    bool ok;

    if (!d) {
        return false;
    }
    /* No block stats of this host while the job runs (virtpriv.h). */
    sys_virt_hold_block_stats(c->uri);
    if (virDomainBlockRebase(d, target, base, 0, 0) < 0) {
        sys_virt_release_block_stats(c->uri);
        return fail(error, SYS_VIRT_ERROR_CALL,
                    "cannot pull the backing data of %s of '%s'", target, uuid);
    }
    ok = wait_block_job(d, uuid, target, "pull", false, error);
    sys_virt_release_block_stats(c->uri);
    if (!ok) {
        return false;
    }
    if (virDomainIsActive(d) != 1) {
        /* The job ended with the domain (QEMU 7.2 once crashed at a
         * pull's end); its inactive definition tells nothing of it. */
        virResetLastError();
        g_set_error(error, SYS_VIRT_ERROR, SYS_VIRT_ERROR_CALL,
                    "'%s' stopped while the block pull of %s ran (see its "
                    "QEMU log on %s)",
                    uuid, target, c->uri);
        return false;
    }
    /* A pull that failed also ends without a job: check the chain. */
    dd = find_disk(c, uuid, target, error);
    if (!dd) {
        return false;
    }
    if (g_strcmp0(dd->backing, base) != 0) {
        g_set_error(error, SYS_VIRT_ERROR, SYS_VIRT_ERROR_CALL,
                    "the block pull of %s of '%s' did not complete: it still "
                    "stands on %s",
                    target, uuid, dd->backing ? dd->backing : "?");
        return false;
    }
    return true;
}
