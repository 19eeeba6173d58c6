/*
 * sys/domxml.h: the rewrites of libvirt domain XML that shadows need.
 *
 * Pure functions over XML text (libxml2, as libvirt itself uses): no
 * connection, so the unit tests check them on fixed documents.
 *
 * A shadow is defined from its primary's migratable XML with
 * sys_domxml_make_shadow(): a new name, no UUID (libvirt makes one), new
 * MAC addresses with the links down (a booted shadow must never answer
 * for its primary's addresses), its disks pointed at the staged copies,
 * file chardevs (serial logs) moved to their own file, and an
 * <umbra:shadow> element in <metadata> tying it to its primary.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* The namespace of umbra's domain metadata. */
#define SYS_SHADOW_NS "https://umbra.invalid/xmlns/shadow/1"
#define SYS_SHADOW_NS_PREFIX "umbra"

/* One writable file-backed disk of a domain. */
typedef struct {
    char *target;  /* e.g. "vda" */
    char *path;    /* its source file */
    char *format;  /* driver type ("raw" when the XML does not say) */
    char *backing; /* its backing file, when the XML shows one */
} SysDomDisk;

void sys_dom_disk_free(SysDomDisk *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SysDomDisk, sys_dom_disk_free)

/*
 * sys_domxml_disks:
 *
 * Returns: (transfer full) SysDomDisk* of every <disk type='file'
 * device='disk'> that is neither read-only nor shareable, in document
 * order; NULL with @error when @xml does not parse or has none.
 */
GPtrArray *sys_domxml_disks(const char *xml, GError **error);

/* What ties a shadow to its primary (<umbra:shadow .../>). */
typedef struct {
    char *primary_uuid;
    char *primary_name;
    char *primary_host;
    int64_t created_us; /* when its staging began (the record's key) */
} SysShadowMeta;

void sys_shadow_meta_clear(SysShadowMeta *m);

typedef struct {
    const char *name;       /* the shadow's domain name */
    SysShadowMeta meta;     /* its metadata */
    GHashTable *disk_paths; /* disk target -> new source file */
    bool link_down;         /* set every interface's link down */
} SysShadowSpec;

/*
 * sys_domxml_make_shadow:
 * @xml: the primary's (migratable) domain XML
 *
 * Returns: (transfer full) the shadow's domain XML, or NULL with @error
 * (bad XML, a disk of @spec->disk_paths missing from @xml).
 */
char *sys_domxml_make_shadow(const char *xml, const SysShadowSpec *spec,
                             GError **error);

/*
 * sys_domxml_set_disks:
 *
 * Returns: (transfer full) @xml with the source file of each disk named in
 * @disk_paths (target -> path) replaced and its <backingStore> dropped
 * (libvirt probes the chain of the new file), or NULL with @error.
 */
char *sys_domxml_set_disks(const char *xml, GHashTable *disk_paths,
                           GError **error);

/*
 * sys_domxml_shadow_meta:
 * @xml: a domain's XML, or just the <umbra:shadow> element
 *
 * Returns: whether @xml carries umbra's shadow metadata; fills @ret.
 */
bool sys_domxml_shadow_meta(const char *xml, SysShadowMeta *ret);

/* The metadata element itself, for virDomainSetMetadata() and tests. */
char *sys_domxml_meta_element(const SysShadowMeta *m);

/*
 * sys_domxml_snapshot_xml:
 * @xml: the domain's XML
 * @name: the snapshot's name
 * @overlays: disk target -> the external overlay file to create
 *
 * Returns: (transfer full) a <domainsnapshot> for a disk-only snapshot
 * with an external overlay for each disk of @overlays and snapshot='no'
 * for every other disk of @xml; NULL with @error.
 */
char *sys_domxml_snapshot_xml(const char *xml, const char *name,
                              GHashTable *overlays, GError **error);
