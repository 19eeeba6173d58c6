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

/* Returns: the disk @target's current source file, or NULL. */
static char *
disk_source(SysVirtConn *c, const char *uuid, const char *target,
            GError **error)
{
    g_autofree char *xml = sys_shadow_domain_xml(c, uuid, false, error);
    g_autoptr(GPtrArray) disks = NULL;

    if (!xml || !(disks = sys_domxml_disks(xml, error))) {
        return NULL;
    }
    for (guint i = 0; i < disks->len; i++) {
        const SysDomDisk *dd = disks->pdata[i];

        if (strcmp(dd->target, target) == 0) {
            return g_strdup(dd->path);
        }
    }
    g_set_error(error, SYS_VIRT_ERROR, SYS_VIRT_ERROR_CALL,
                "domain '%s' has no disk %s", uuid, target);
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

bool
sys_shadow_fold(SysVirtConn *c, const char *uuid, const char *target,
                const char *overlay, GError **error)
{
    g_autoptr(virDomain) d = lookup(c, uuid, error);
    g_autofree char *now = NULL;
    int64_t deadline = g_get_monotonic_time() + FOLD_TIMEOUT_US;

    if (!d) {
        return false;
    }
    now = disk_source(c, uuid, target, error);
    if (!now) {
        return false;
    }
    if (strcmp(now, overlay) != 0) {
        return true;
    }
    if (virDomainBlockCommit(d, target, NULL, NULL, 0,
                             VIR_DOMAIN_BLOCK_COMMIT_ACTIVE |
                                 VIR_DOMAIN_BLOCK_COMMIT_SHALLOW) < 0) {
        return fail(error, SYS_VIRT_ERROR_CALL,
                    "cannot commit %s of '%s' back into its backing file",
                    target, uuid);
    }
    for (;;) {
        virDomainBlockJobInfo info;
        int r = virDomainGetBlockJobInfo(d, target, &info, 0);

        if (r < 0) {
            return fail(error, SYS_VIRT_ERROR_CALL,
                        "lost the block commit of %s of '%s'", target, uuid);
        }
        if (r == 1 && info.end > 0 && info.cur == info.end) {
            break;
        }
        if (g_get_monotonic_time() > deadline) {
            virDomainBlockJobAbort(d, target, 0);
            g_set_error(error, SYS_VIRT_ERROR, SYS_VIRT_ERROR_CALL,
                        "the block commit of %s of '%s' did not converge "
                        "(aborted; the overlay stays)",
                        target, uuid);
            return false;
        }
        g_usleep(100 * 1000);
    }
    if (virDomainBlockJobAbort(d, target, VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT) <
        0) {
        return fail(error, SYS_VIRT_ERROR_CALL,
                    "cannot pivot %s of '%s' back onto its backing file",
                    target, uuid);
    }
    return sys_shadow_delete_volume(c, overlay, error);
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
            d, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
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
