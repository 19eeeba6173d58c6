/*
 * sys/shadowops.h: the libvirt calls behind shadows and cutover.
 *
 * Each call is blocking and uses the connection(s) it is given; the
 * engine runs them in worker threads, one connection per thread.
 * Errors come back as GError in SYS_VIRT_ERROR.
 *
 * Staging a shadow of domain D (docs/architecture.md, "Shadows"):
 *   1. sys_shadow_freeze(): an atomic external disk-only snapshot of D's
 *      writable disks (no snapshot metadata).  Each disk's current file
 *      becomes a read-only backing file that nothing writes any more (a
 *      consistent copy point, all disks at the same instant); D goes on
 *      writing to a new overlay beside it.
 *   2. sys_shadow_copy_volume(): the frozen file is streamed from D's
 *      host to a volume of the target host's pool (virStorageVolDownload
 *      into virStorageVolUpload, holes kept).  Its own backing files (a
 *      golden image) must already be on the target at the same path.
 *   3. sys_shadow_overlay(): the shadow's writable overlay over the staged
 *      copy, so that booting the shadow never changes what was staged.
 *   4. sys_shadow_define(): the shadow's domain (sys/domxml.h), started
 *      and later paused when warm.
 * Undoing: sys_shadow_remove_domain(), sys_shadow_delete_volume() and
 * sys_shadow_fold(), which commits D's overlay back into the frozen file
 * and pivots, so D's chain is what it was before staging.
 */
#pragma once

#include <gio/gio.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "sys/domxml.h"
#include "sys/virt.h"

/* The primary's domain XML; @migratable: VIR_DOMAIN_XML_MIGRATABLE. */
char *sys_shadow_domain_xml(SysVirtConn *c, const char *name_or_uuid,
                            bool migratable, GError **error);

/* Returns: (transfer full) SysDomDisk* of the writable file disks of
 * domain @name_or_uuid as they are now (sys_domxml_disks()), or NULL
 * with @error. */
GPtrArray *sys_shadow_domain_disks(SysVirtConn *c, const char *name_or_uuid,
                                   GError **error);

/* One disk frozen by sys_shadow_freeze(). */
typedef struct {
    char *target;  /* "vda" */
    char *frozen;  /* the file that became read-only (what is staged) */
    char *overlay; /* the new file the domain writes to */
    char *format;  /* the frozen file's format */
} SysFrozenDisk;

void sys_frozen_disk_free(SysFrozenDisk *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SysFrozenDisk, sys_frozen_disk_free)

/*
 * sys_shadow_overlay_path:
 * @path: a disk's current file
 * @tag: the staging's tag
 *
 * Returns: (transfer full) where sys_shadow_freeze() puts that disk's
 * new overlay: beside @path, "STEM.umbra-TAG.qcow2" (an earlier
 * ".umbra-*" suffix of STEM is dropped first).
 */
char *sys_shadow_overlay_path(const char *path, const char *tag);

/*
 * sys_shadow_freeze:
 * @tag: names the overlays (sys_shadow_overlay_path())
 *
 * Returns: (transfer full) SysFrozenDisk* for every writable file disk of
 * the running domain, or NULL with @error (nothing changed then: the
 * snapshot is atomic).
 */
GPtrArray *sys_shadow_freeze(SysVirtConn *c, const char *uuid, const char *tag,
                             GError **error);

/*
 * sys_shadow_fold:
 * @target: the disk
 * @overlay: the file the disk writes to now (checked)
 *
 * Commits @overlay into its backing file and pivots the disk back onto
 * it (an active block commit), then deletes @overlay.  Does nothing and
 * succeeds when the disk no longer writes to @overlay.
 */
bool sys_shadow_fold(SysVirtConn *c, const char *uuid, const char *target,
                     const char *overlay, GError **error);

/* Makes sure the directory pool @pool (at @path) exists, is active and
 * autostarts on the host of @c. */
bool sys_shadow_pool_ensure(SysVirtConn *c, const char *pool, const char *path,
                            GError **error);

/*
 * sys_shadow_copy_volume:
 * @src: connection to the host holding @src_path
 * @dst, @pool, @name: where the copy goes (replaced if it exists)
 * @cancel: (nullable) aborts the copy
 * @ret_path: (out) the copy's path on the target
 * @ret_bytes: (out) bytes that crossed (holes excluded)
 */
bool sys_shadow_copy_volume(SysVirtConn *src, const char *src_path,
                            SysVirtConn *dst, const char *pool,
                            const char *name, GCancellable *cancel,
                            char **ret_path, uint64_t *ret_bytes,
                            GError **error);

/* Creates the qcow2 volume @name in @pool over @backing (format
 * @backing_fmt), as large as @backing.  Returns: its path, or NULL. */
char *sys_shadow_overlay(SysVirtConn *c, const char *pool, const char *name,
                         const char *backing, const char *backing_fmt,
                         GError **error);

/* Deletes the volume at @path; succeeds when there is none. */
bool sys_shadow_delete_volume(SysVirtConn *c, const char *path, GError **error);

/* Deletes the volume @name of @pool; succeeds when there is none. */
bool sys_shadow_delete_pool_volume(SysVirtConn *c, const char *pool,
                                   const char *name, GError **error);

/* Defines @xml persistently; starts it when @start. */
bool sys_shadow_define(SysVirtConn *c, const char *xml, bool start,
                       GError **error);

/* Pauses domain @name. */
bool sys_shadow_suspend(SysVirtConn *c, const char *name, GError **error);

/* Destroys (if running) and undefines domain @name; succeeds when there
 * is none. */
bool sys_shadow_remove_domain(SysVirtConn *c, const char *name, GError **error);

/* A domain carrying umbra's shadow metadata. */
typedef struct {
    char *name;
    char *uuid;
    char *state; /* "running", "paused", "shut off", ... */
    SysShadowMeta meta;
} SysShadowDomain;

void sys_shadow_domain_free(SysShadowDomain *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SysShadowDomain, sys_shadow_domain_free)

/* Returns: (transfer full) SysShadowDomain* of every domain of @c's host
 * with shadow metadata, or NULL with @error. */
GPtrArray *sys_shadow_list(SysVirtConn *c, GError **error);

/* Returns: (transfer full) the state of domain @name_or_uuid as text
 * ("running", "paused", "shut off", ...), or NULL with @error (code
 * SYS_VIRT_ERROR_NO_DOMAIN when there is none). */
char *sys_shadow_domain_state(SysVirtConn *c, const char *name_or_uuid,
                              GError **error);

/* How to migrate (chosen by the engine from the dirty rate). */
typedef struct {
    bool auto_converge;     /* VIR_MIGRATE_AUTO_CONVERGE */
    bool xbzrle;            /* VIR_MIGRATE_COMPRESSED, xbzrle */
    int multifd;            /* VIR_MIGRATE_PARALLEL with this many channels
                             * (0: off) */
    bool postcopy;          /* allowed; switched to when the pre-copy stalls */
    int64_t timeout_s;      /* abort (the domain stays at home) after */
    uint64_t bandwidth_mib; /* cap, MiB/s (0: none) */
} SysMigrateOpts;

/* What a migration cost. */
typedef struct {
    int64_t total_ms;       /* the whole job */
    int64_t downtime_ms;    /* the guest's pause; -1: libvirt did not say
                             * (it does not after a post-copy) */
    uint64_t memory_bytes;  /* memory sent */
    uint64_t disk_bytes;    /* storage sent (the incremental layer) */
    int iterations;         /* pre-copy passes */
    bool postcopy_used;     /* it had to switch to post-copy */
    int64_t postcopy_at_ms; /* when it switched (from the start) */
} SysMigrateStats;

/*
 * sys_shadow_migrate:
 * @src: the domain's host; @dst: the target host (for the stats)
 * @dst_uri: the target's libvirt URI (the source's libvirtd connects to
 *     it: peer-to-peer, so the migration does not depend on umbrad
 *     staying up)
 * @dest_xml: the domain as it will be on the target (its disks on the
 *     target's pre-created overlays)
 * @disks: (nullable) NULL-ended targets to copy incrementally (their
 *     top layer only: VIR_MIGRATE_NON_SHARED_INC); NULL = shared storage
 * @cancel: (nullable) aborts the job
 *
 * Live-migrates @uuid, persistently, undefining it on @src once done.
 * On failure libvirt leaves the domain running on @src.
 */
bool sys_shadow_migrate(SysVirtConn *src, SysVirtConn *dst, const char *uuid,
                        const char *dst_uri, const char *dest_xml,
                        const char *const *disks, const SysMigrateOpts *opts,
                        GCancellable *cancel, SysMigrateStats *ret,
                        GError **error);

/* The host part of a libvirt URI ("qemu+tcp://10.0.0.3/system" ->
 * "10.0.0.3"), or NULL for a local URI. */
char *sys_shadow_uri_host(const char *uri);

/* Returns: whether domain @uuid on @c's host has a job running (e.g. an
 * outgoing migration); false when it has none or is not there. */
bool sys_shadow_job_active(SysVirtConn *c, const char *uuid);

/*
 * sys_shadow_pull:
 * @target: a disk of the running domain @uuid
 * @base: (nullable) keep this backing file; NULL: pull everything
 *
 * Pulls the data of the backing files above @base into the disk's top
 * layer (virDomainBlockRebase) and waits for it, so that the top layer
 * then stands on @base alone.
 */
bool sys_shadow_pull(SysVirtConn *c, const char *uuid, const char *target,
                     const char *base, GError **error);
