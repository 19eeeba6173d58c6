/*
 * tests/unit/test-domxml.c: the domain XML rewrites behind shadows
 * (sys/domxml.h) on a fixed document shaped like a lab guest's migratable
 * XML.  That libvirt accepts and runs the result is shown by the lab test
 * tests/integration/test-shadow.sh.
 */
#include <string.h>

#include "cutest.h"
#include "sys/domxml.h"

static const char primary_xml[] =
    "<domain type='qemu'>\n"
    "  <name>web1</name>\n"
    "  <uuid>0d3f5f0c-7b2a-4c53-9d7e-1b8f7a1c2e3d</uuid>\n"
    "  <memory unit='KiB'>131072</memory>\n"
    "  <os><type>hvm</type>"
    "<nvram>/var/lib/libvirt/qemu/nvram/web1_VARS.fd</nvram></os>\n"
    "  <metadata><other:x xmlns:other='urn:other'/></metadata>\n"
    "  <devices>\n"
    "    <disk type='file' device='disk'>\n"
    "      <driver name='qemu' type='qcow2' cache='none'/>\n"
    "      <source file='/srv/disks/web1.qcow2' index='2'/>\n"
    "      <backingStore type='file' index='1'>\n"
    "        <format type='qcow2'/>\n"
    "        <source file='/srv/images/base.qcow2'/>\n"
    "      </backingStore>\n"
    "      <target dev='vda' bus='virtio'/>\n"
    "    </disk>\n"
    "    <disk type='file' device='disk'>\n"
    "      <driver name='qemu' type='raw'/>\n"
    "      <source file='/srv/disks/web1-data.img'/>\n"
    "      <target dev='vdb' bus='virtio'/>\n"
    "    </disk>\n"
    "    <disk type='file' device='disk'>\n"
    "      <source file='/srv/disks/shared.img'/>\n"
    "      <target dev='vdc' bus='virtio'/>\n"
    "      <readonly/>\n"
    "    </disk>\n"
    "    <disk type='file' device='cdrom'>\n"
    "      <source file='/srv/iso/tools.iso'/>\n"
    "      <target dev='hdc' bus='ide'/>\n"
    "    </disk>\n"
    "    <interface type='bridge'>\n"
    "      <mac address='52:54:00:4d:64:0a'/>\n"
    "      <source bridge='br0'/>\n"
    "      <target dev='vnet3'/>\n"
    "      <model type='virtio'/>\n"
    "    </interface>\n"
    "    <serial type='file'>\n"
    "      <source path='/var/log/lab/console/web1.log' append='on'/>\n"
    "    </serial>\n"
    "    <console type='file'>\n"
    "      <source path='/var/log/lab/console/web1.log' append='on'/>\n"
    "    </console>\n"
    "    <channel type='file'>\n"
    "      <source path='/var/log/lab/agent.log'/>\n"
    "    </channel>\n"
    "  </devices>\n"
    "</domain>\n";

static void
test_disks(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) disks = sys_domxml_disks(primary_xml, &err);
    const SysDomDisk *d;

    CU_ASSERT_PTR_NOT_NULL_FATAL(disks);
    /* vdc is read-only and hdc a CD-ROM: not staged. */
    CU_ASSERT_EQUAL_FATAL(disks->len, 2);
    d = disks->pdata[0];
    CU_ASSERT_STRING_EQUAL(d->target, "vda");
    CU_ASSERT_STRING_EQUAL(d->path, "/srv/disks/web1.qcow2");
    CU_ASSERT_STRING_EQUAL(d->format, "qcow2");
    CU_ASSERT_STRING_EQUAL(d->backing, "/srv/images/base.qcow2");
    d = disks->pdata[1];
    CU_ASSERT_STRING_EQUAL(d->target, "vdb");
    CU_ASSERT_STRING_EQUAL(d->format, "raw");

    g_clear_pointer(&disks, g_ptr_array_unref);
    disks = sys_domxml_disks("<domain><devices/></domain>", &err);
    CU_ASSERT_PTR_NULL(disks);
    CU_ASSERT_PTR_NOT_NULL(err);
    g_clear_error(&err);
    CU_ASSERT_PTR_NULL(sys_domxml_disks("<domain", &err));
    CU_ASSERT_PTR_NOT_NULL(err);
}

static void
test_make_shadow(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GHashTable) paths = g_hash_table_new(g_str_hash, g_str_equal);
    SysShadowSpec spec = {
        .name = "web1~shadow",
        .meta = {.primary_uuid =
                     (char *) "0d3f5f0c-7b2a-4c53-9d7e-1b8f7a1c2e3d",
                 .primary_name = (char *) "web1",
                 .primary_host = (char *) "h1",
                 .created_us = 1700000000123456},
        .disk_paths = paths,
        .link_down = true,
    };
    g_autofree char *x = NULL;
    g_autoptr(GPtrArray) disks = NULL;
    SysShadowMeta m = {0};

    g_hash_table_insert(paths, (char *) "vda", (char *) "/pool/web1~vda.qcow2");
    g_hash_table_insert(paths, (char *) "vdb", (char *) "/pool/web1~vdb.qcow2");
    x = sys_domxml_make_shadow(primary_xml, &spec, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    CU_ASSERT_PTR_NOT_NULL(strstr(x, "<name>web1~shadow</name>"));
    CU_ASSERT_PTR_NULL(strstr(x, "<uuid>"));
    CU_ASSERT_PTR_NULL(strstr(x, "52:54:00:4d:64:0a"));
    CU_ASSERT_PTR_NOT_NULL(strstr(x, "<mac address=\"52:54:00:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(x, "<link state=\"down\"/>"));
    CU_ASSERT_PTR_NULL(strstr(x, "vnet3"));
    CU_ASSERT_PTR_NULL(strstr(x, "backingStore"));
    CU_ASSERT_PTR_NULL(strstr(x, "index="));
    CU_ASSERT_PTR_NOT_NULL(strstr(x, "/var/log/lab/console/web1~shadow.log"));
    CU_ASSERT_PTR_NULL(strstr(x, "console/web1.log"));
    CU_ASSERT_PTR_NOT_NULL(strstr(x, "/var/log/lab/agent.log.shadow"));
    /* Someone else's metadata is kept. */
    CU_ASSERT_PTR_NOT_NULL(strstr(x, "urn:other"));

    disks = sys_domxml_disks(x, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(disks);
    CU_ASSERT_STRING_EQUAL(((SysDomDisk *) disks->pdata[0])->path,
                           "/pool/web1~vda.qcow2");
    /* The raw disk's overlay is declared qcow2. */
    CU_ASSERT_STRING_EQUAL(((SysDomDisk *) disks->pdata[1])->path,
                           "/pool/web1~vdb.qcow2");
    CU_ASSERT_STRING_EQUAL(((SysDomDisk *) disks->pdata[1])->format, "qcow2");
    /* Its own UEFI variable store. */
    CU_ASSERT_PTR_NOT_NULL(
        strstr(x, "/var/lib/libvirt/qemu/nvram/web1~shadow_VARS.fd"));

    CU_ASSERT_TRUE_FATAL(sys_domxml_shadow_meta(x, &m));
    CU_ASSERT_STRING_EQUAL(m.primary_uuid,
                           "0d3f5f0c-7b2a-4c53-9d7e-1b8f7a1c2e3d");
    CU_ASSERT_STRING_EQUAL(m.primary_name, "web1");
    CU_ASSERT_STRING_EQUAL(m.primary_host, "h1");
    CU_ASSERT_EQUAL(m.created_us, 1700000000123456);
    sys_shadow_meta_clear(&m);
    CU_ASSERT_FALSE(sys_domxml_shadow_meta(primary_xml, &m));

    /* A disk the domain does not have is an error. */
    g_hash_table_insert(paths, (char *) "vdz", (char *) "/pool/x.qcow2");
    g_clear_pointer(&x, g_free);
    x = sys_domxml_make_shadow(primary_xml, &spec, &err);
    CU_ASSERT_PTR_NULL(x);
    CU_ASSERT_PTR_NOT_NULL(err);
}

static void
test_meta_element(void)
{
    SysShadowMeta in = {.primary_uuid = (char *) "u-1",
                        .primary_name = (char *) "a<b",
                        .primary_host = (char *) "h2",
                        .created_us = 42};
    g_autofree char *el = sys_domxml_meta_element(&in);
    SysShadowMeta out = {0};

    CU_ASSERT_TRUE_FATAL(sys_domxml_shadow_meta(el, &out));
    CU_ASSERT_STRING_EQUAL(out.primary_uuid, "u-1");
    CU_ASSERT_STRING_EQUAL(out.primary_name, "a<b");
    CU_ASSERT_EQUAL(out.created_us, 42);
    sys_shadow_meta_clear(&out);
    /* As virDomainGetMetadata() returns it: without the namespace. */
    CU_ASSERT_TRUE_FATAL(sys_domxml_shadow_meta(
        "<shadow primary-uuid=\"u-2\" primary-name=\"x\" "
        "primary-host=\"h\" created=\"7\"/>",
        &out));
    CU_ASSERT_STRING_EQUAL(out.primary_uuid, "u-2");
    CU_ASSERT_EQUAL(out.created_us, 7);
    sys_shadow_meta_clear(&out);
    CU_ASSERT_FALSE(
        sys_domxml_shadow_meta("<other primary-uuid=\"u\"/>", &out));
}

static void
test_snapshot_xml(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GHashTable) ov = g_hash_table_new(g_str_hash, g_str_equal);
    g_autofree char *x = NULL;

    g_hash_table_insert(ov, (char *) "vda",
                        (char *) "/srv/disks/a.umbra-1.qcow2");
    g_hash_table_insert(ov, (char *) "vdb",
                        (char *) "/srv/disks/b.umbra-1.qcow2");
    x = sys_domxml_snapshot_xml(primary_xml, "umbra-1", ov, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    CU_ASSERT_PTR_NOT_NULL(strstr(x, "<name>umbra-1</name>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(x, "<disk name='vda' snapshot='external'>"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(x, "<source file='/srv/disks/b.umbra-1.qcow2'/>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(x, "<disk name='vdc' snapshot='no'/>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(x, "<disk name='hdc' snapshot='no'/>"));
}

static const CutestCase cases[] = {
    {"writable file disks", test_disks},
    {"shadow definition", test_make_shadow},
    {"metadata element", test_meta_element},
    {"staging snapshot", test_snapshot_xml},
};

CUTEST_MAIN("domxml", cases)
