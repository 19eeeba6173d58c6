/*
 * sys/domxml.c: domain XML rewrites for shadows (see domxml.h).
 */
#include "sys/domxml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <string.h>

#include "sys/virt.h"
#include "util/autoptr.h"

void
sys_dom_disk_free(SysDomDisk *d)
{
    if (!d) {
        return;
    }
    g_free(d->target);
    g_free(d->path);
    g_free(d->format);
    g_free(d->backing);
    g_free(d);
}

void
sys_shadow_meta_clear(SysShadowMeta *m)
{
    g_clear_pointer(&m->primary_uuid, g_free);
    g_clear_pointer(&m->primary_name, g_free);
    g_clear_pointer(&m->primary_host, g_free);
    m->created_us = 0;
}

static xmlDoc *
parse(const char *xml, GError **error)
{
    xmlDoc *doc;

    if (!xml) {
        g_set_error(error, SYS_VIRT_ERROR, SYS_VIRT_ERROR_CALL,
                    "no domain XML");
        return NULL;
    }
    doc = xmlReadMemory(xml, (int) strlen(xml), "domain.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING);
    if (!doc || !xmlDocGetRootElement(doc)) {
        g_set_error(error, SYS_VIRT_ERROR, SYS_VIRT_ERROR_CALL,
                    "domain XML does not parse");
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

/* Returns: the nodes matching @expr under the root (NULL: none). */
static xmlXPathObject *
find(xmlDoc *doc, xmlNode *at, const char *expr)
{
    g_autoptr(xmlXPathContext) ctx = xmlXPathNewContext(doc);
    xmlXPathObject *o;

    if (!ctx) {
        return NULL;
    }
    ctx->node = at ? at : xmlDocGetRootElement(doc);
    xmlXPathRegisterNs(ctx, BAD_CAST SYS_SHADOW_NS_PREFIX,
                       BAD_CAST SYS_SHADOW_NS);
    o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    if (o && (!o->nodesetval || o->nodesetval->nodeNr == 0)) {
        xmlXPathFreeObject(o);
        return NULL;
    }
    return o;
}

static xmlNode *
find_one(xmlDoc *doc, xmlNode *at, const char *expr)
{
    g_autoptr(xmlXPathObject) o = find(doc, at, expr);

    return o ? o->nodesetval->nodeTab[0] : NULL;
}

static char *
prop(xmlNode *n, const char *name)
{
    xmlChar *v = n ? xmlGetProp(n, BAD_CAST name) : NULL;
    char *r = v ? g_strdup((const char *) v) : NULL;

    xmlFree(v);
    return r;
}

static char *
dump(xmlDoc *doc)
{
    xmlChar *buf = NULL;
    int len = 0;
    char *r;

    xmlDocDumpFormatMemory(doc, &buf, &len, 0);
    r = g_strndup((const char *) buf, (gsize) len);
    xmlFree(buf);
    return r;
}

/* The writable file disks, as nodes. */
static xmlXPathObject *
find_disks(xmlDoc *doc)
{
    return find(doc, NULL,
                "/domain/devices/disk[@type='file' and @device='disk'"
                " and not(readonly) and not(shareable)]");
}

GPtrArray *
sys_domxml_disks(const char *xml, GError **error)
{
    g_autoptr(xmlDoc) doc = parse(xml, error);
    g_autoptr(xmlXPathObject) o = NULL;
    g_autoptr(GPtrArray) out = NULL;

    if (!doc) {
        return NULL;
    }
    o = find_disks(doc);
    out = g_ptr_array_new_with_free_func((GDestroyNotify) sys_dom_disk_free);
    for (int i = 0; o && i < o->nodesetval->nodeNr; i++) {
        xmlNode *d = o->nodesetval->nodeTab[i];
        g_autoptr(SysDomDisk) disk = g_new0(SysDomDisk, 1);

        disk->target = prop(find_one(doc, d, "target"), "dev");
        disk->path = prop(find_one(doc, d, "source"), "file");
        disk->format = prop(find_one(doc, d, "driver"), "type");
        disk->backing = prop(find_one(doc, d, "backingStore/source"), "file");
        if (!disk->format) {
            disk->format = g_strdup("raw");
        }
        if (disk->target && disk->path) {
            g_ptr_array_add(out, g_steal_pointer(&disk));
        }
    }
    if (out->len == 0) {
        g_set_error(error, SYS_VIRT_ERROR, SYS_VIRT_ERROR_CALL,
                    "the domain has no writable file-backed disk to stage");
        return NULL;
    }
    return g_steal_pointer(&out);
}

static void
remove_all(xmlDoc *doc, xmlNode *at, const char *expr)
{
    g_autoptr(xmlXPathObject) o = find(doc, at, expr);

    for (int i = 0; o && i < o->nodesetval->nodeNr; i++) {
        xmlNode *n = o->nodesetval->nodeTab[i];

        o->nodesetval->nodeTab[i] = NULL;
        xmlUnlinkNode(n);
        xmlFreeNode(n);
    }
}

/* Points every disk named in @paths at its new file; fails when one of
 * @paths is not a disk of @doc. */
static bool
set_disks(xmlDoc *doc, GHashTable *paths, GError **error)
{
    g_autoptr(xmlXPathObject) o = find_disks(doc);
    guint done = 0;

    for (int i = 0; o && i < o->nodesetval->nodeNr; i++) {
        xmlNode *d = o->nodesetval->nodeTab[i];
        g_autofree char *target = prop(find_one(doc, d, "target"), "dev");
        const char *path = target ? g_hash_table_lookup(paths, target) : NULL;
        xmlNode *src, *drv;

        if (!path) {
            continue;
        }
        src = find_one(doc, d, "source");
        if (!src) {
            src = xmlNewChild(d, NULL, BAD_CAST "source", NULL);
        }
        /* Drops index= and the like with the old node's attributes. */
        while (src->properties) {
            xmlRemoveProp(src->properties);
        }
        xmlSetProp(src, BAD_CAST "file", BAD_CAST path);
        remove_all(doc, d, "backingStore");
        /* umbra's overlays are qcow2, whatever the disk was. */
        drv = find_one(doc, d, "driver");
        if (!drv) {
            drv = xmlNewChild(d, NULL, BAD_CAST "driver", NULL);
            xmlSetProp(drv, BAD_CAST "name", BAD_CAST "qemu");
        }
        xmlSetProp(drv, BAD_CAST "type", BAD_CAST "qcow2");
        done++;
    }
    if (done != g_hash_table_size(paths)) {
        g_set_error(error, SYS_VIRT_ERROR, SYS_VIRT_ERROR_CALL,
                    "the domain XML lacks %u of the disks to rewrite",
                    g_hash_table_size(paths) - done);
        return false;
    }
    return true;
}

char *
sys_domxml_set_disks(const char *xml, GHashTable *disk_paths, GError **error)
{
    g_autoptr(xmlDoc) doc = parse(xml, error);

    if (!doc || !set_disks(doc, disk_paths, error)) {
        return NULL;
    }
    return dump(doc);
}

static void
set_text(xmlDoc *doc, const char *elem, const char *text)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    g_autofree char *expr = g_strdup_printf("/domain/%s", elem);
    xmlNode *n = find_one(doc, NULL, expr);

    if (!n) {
        n = xmlNewChild(root, NULL, BAD_CAST elem, NULL);
    }
    xmlNodeSetContent(n, NULL);
    xmlNodeAddContent(n, BAD_CAST text);
}

/* A locally administered unicast MAC in QEMU's 52:54:00 range. */
static char *
new_mac(void)
{
    return g_strdup_printf(
        "52:54:00:%02x:%02x:%02x", g_random_int_range(0, 256),
        g_random_int_range(0, 256), g_random_int_range(0, 256));
}

static void
rewrite_interfaces(xmlDoc *doc, bool link_down)
{
    g_autoptr(xmlXPathObject) o = find(doc, NULL, "/domain/devices/interface");

    for (int i = 0; o && i < o->nodesetval->nodeNr; i++) {
        xmlNode *ifc = o->nodesetval->nodeTab[i];
        xmlNode *mac = find_one(doc, ifc, "mac");
        g_autofree char *addr = new_mac();

        if (!mac) {
            mac = xmlNewChild(ifc, NULL, BAD_CAST "mac", NULL);
        }
        xmlSetProp(mac, BAD_CAST "address", BAD_CAST addr);
        remove_all(doc, ifc, "target");
        if (link_down) {
            xmlNode *link = find_one(doc, ifc, "link");

            if (!link) {
                link = xmlNewChild(ifc, NULL, BAD_CAST "link", NULL);
            }
            xmlSetProp(link, BAD_CAST "state", BAD_CAST "down");
        }
    }
}

/* The shadow's own name for a file of its primary's: the primary's name
 * in the file name becomes the shadow's, or ".shadow" is appended. */
static char *
own_path(const char *path, const char *primary, const char *shadow)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *nbase = NULL;
    const char *hit = primary ? strstr(base, primary) : NULL;

    if (hit) {
        nbase = g_strdup_printf("%.*s%s%s", (int) (hit - base), base, shadow,
                                hit + strlen(primary));
    } else {
        nbase = g_strdup_printf("%s.shadow", base);
    }
    return g_build_filename(dir, nbase, NULL);
}

/* A UEFI guest's variable store: the shadow gets its own (libvirt makes
 * it from the template when missing). */
static void
rewrite_nvram(xmlDoc *doc, const char *primary, const char *shadow)
{
    xmlNode *n = find_one(doc, NULL, "/domain/os/nvram");
    xmlChar *path = n ? xmlNodeGetContent(n) : NULL;

    if (path && *path) {
        g_autofree char *np = own_path((const char *) path, primary, shadow);

        xmlNodeSetContent(n, NULL);
        xmlNodeAddContent(n, BAD_CAST np);
    }
    xmlFree(path);
}

/* Moves file-backed chardevs (serial logs) to files of the shadow's own
 * (own_path()). */
static void
rewrite_chardevs(xmlDoc *doc, const char *primary, const char *shadow)
{
    g_autoptr(xmlXPathObject) o =
        find(doc, NULL, "/domain/devices/*[@type='file']/source[@path]");

    for (int i = 0; o && i < o->nodesetval->nodeNr; i++) {
        xmlNode *src = o->nodesetval->nodeTab[i];
        g_autofree char *path = prop(src, "path");
        g_autofree char *npath = own_path(path, primary, shadow);

        xmlSetProp(src, BAD_CAST "path", BAD_CAST npath);
    }
}

char *
sys_domxml_meta_element(const SysShadowMeta *m)
{
    g_autofree char *u = g_markup_escape_text(m->primary_uuid ?: "", -1);
    g_autofree char *n = g_markup_escape_text(m->primary_name ?: "", -1);
    g_autofree char *h = g_markup_escape_text(m->primary_host ?: "", -1);

    return g_strdup_printf(
        "<" SYS_SHADOW_NS_PREFIX ":shadow xmlns:" SYS_SHADOW_NS_PREFIX
        "=\"" SYS_SHADOW_NS "\""
        " primary-uuid=\"%s\" primary-name=\"%s\""
        " primary-host=\"%s\" created=\"%" G_GINT64_FORMAT "\"/>",
        u, n, h, m->created_us);
}

static void
add_meta(xmlDoc *doc, const SysShadowMeta *m)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    xmlNode *md = find_one(doc, NULL, "/domain/metadata");
    xmlNode *el;
    xmlNs *ns;
    char buf[32];

    if (!md) {
        md = xmlNewChild(root, NULL, BAD_CAST "metadata", NULL);
    }
    remove_all(doc, md, SYS_SHADOW_NS_PREFIX ":shadow");
    el = xmlNewChild(md, NULL, BAD_CAST "shadow", NULL);
    ns = xmlNewNs(el, BAD_CAST SYS_SHADOW_NS, BAD_CAST SYS_SHADOW_NS_PREFIX);
    xmlSetNs(el, ns);
    xmlSetProp(el, BAD_CAST "primary-uuid", BAD_CAST(m->primary_uuid ?: ""));
    xmlSetProp(el, BAD_CAST "primary-name", BAD_CAST(m->primary_name ?: ""));
    xmlSetProp(el, BAD_CAST "primary-host", BAD_CAST(m->primary_host ?: ""));
    g_snprintf(buf, sizeof(buf), "%" G_GINT64_FORMAT, m->created_us);
    xmlSetProp(el, BAD_CAST "created", BAD_CAST buf);
}

char *
sys_domxml_make_shadow(const char *xml, const SysShadowSpec *spec,
                       GError **error)
{
    g_autoptr(xmlDoc) doc = parse(xml, error);

    if (!doc) {
        return NULL;
    }
    if (!spec->name || !*spec->name) {
        g_set_error(error, SYS_VIRT_ERROR, SYS_VIRT_ERROR_CALL,
                    "a shadow needs a name");
        return NULL;
    }
    set_text(doc, "name", spec->name);
    remove_all(doc, NULL, "/domain/uuid");
    if (spec->disk_paths && !set_disks(doc, spec->disk_paths, error)) {
        return NULL;
    }
    rewrite_interfaces(doc, spec->link_down);
    rewrite_chardevs(doc, spec->meta.primary_name, spec->name);
    rewrite_nvram(doc, spec->meta.primary_name, spec->name);
    add_meta(doc, &spec->meta);
    return dump(doc);
}

bool
sys_domxml_shadow_meta(const char *xml, SysShadowMeta *ret)
{
    g_autoptr(xmlDoc) doc = parse(xml, NULL);
    g_autoptr(xmlXPathObject) o = NULL;
    xmlNode *el;
    g_autofree char *created = NULL;

    memset(ret, 0, sizeof(*ret));
    if (!doc) {
        return false;
    }
    /* virDomainGetMetadata() gives the element without its namespace. */
    o = find(doc, NULL, "//" SYS_SHADOW_NS_PREFIX ":shadow | /shadow");
    if (!o) {
        return false;
    }
    el = o->nodesetval->nodeTab[0];
    ret->primary_uuid = prop(el, "primary-uuid");
    ret->primary_name = prop(el, "primary-name");
    ret->primary_host = prop(el, "primary-host");
    created = prop(el, "created");
    ret->created_us = created ? g_ascii_strtoll(created, NULL, 10) : 0;
    if (!ret->primary_uuid || !*ret->primary_uuid) {
        sys_shadow_meta_clear(ret);
        return false;
    }
    return true;
}

char *
sys_domxml_snapshot_xml(const char *xml, const char *name, GHashTable *overlays,
                        GError **error)
{
    g_autoptr(xmlDoc) doc = parse(xml, error);
    g_autoptr(xmlXPathObject) o = NULL;
    g_autoptr(GString) out = NULL;
    g_autofree char *ename = NULL;
    guint done = 0;

    if (!doc) {
        return NULL;
    }
    ename = g_markup_escape_text(name, -1);
    out = g_string_new(NULL);
    g_string_append_printf(out,
                           "<domainsnapshot>\n  <name>%s</name>\n"
                           "  <description>umbra: shadow staging point"
                           "</description>\n  <disks>\n",
                           ename);
    o = find(doc, NULL, "/domain/devices/disk");
    for (int i = 0; o && i < o->nodesetval->nodeNr; i++) {
        xmlNode *d = o->nodesetval->nodeTab[i];
        g_autofree char *target = prop(find_one(doc, d, "target"), "dev");
        const char *file =
            target ? g_hash_table_lookup(overlays, target) : NULL;
        g_autofree char *et = NULL;
        g_autofree char *ef = NULL;

        if (!target) {
            continue;
        }
        et = g_markup_escape_text(target, -1);
        if (!file) {
            g_string_append_printf(out, "    <disk name='%s' snapshot='no'/>\n",
                                   et);
            continue;
        }
        ef = g_markup_escape_text(file, -1);
        g_string_append_printf(out,
                               "    <disk name='%s' snapshot='external'>\n"
                               "      <driver type='qcow2'/>\n"
                               "      <source file='%s'/>\n"
                               "    </disk>\n",
                               et, ef);
        done++;
    }
    if (done != g_hash_table_size(overlays)) {
        g_set_error(error, SYS_VIRT_ERROR, SYS_VIRT_ERROR_CALL,
                    "the domain XML lacks %u of the disks to snapshot",
                    g_hash_table_size(overlays) - done);
        return NULL;
    }
    g_string_append(out, "  </disks>\n</domainsnapshot>\n");
    return g_string_free(g_steal_pointer(&out), FALSE);
}
