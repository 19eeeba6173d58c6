/*
 * daemon/hooksock.c: receive hook datagrams on the main loop.
 */
#include "daemon/hooksock.h"

#include <errno.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/json.h"

struct HookSock {
    char *path;
    GSocket *sock;
    GSource *source;
    Monitor *m;
};

static gboolean
on_readable(GSocket *sock, GIOCondition cond, gpointer data)
{
    HookSock *hs = data;
    char buf[MODEL_HOOK_MSG_MAX + 1];

    for (int i = 0; i < 256; i++) {
        g_autoptr(GError) err = NULL;
        gssize n = g_socket_receive(sock, buf, sizeof(buf), NULL, &err);

        if (n < 0) {
            break;
        }
        if (!monitor_hook_message(hs->m, buf, (size_t) n, &err)) {
            g_debug("ignoring a bad hook message: %s", err->message);
        }
    }
    return G_SOURCE_CONTINUE;
}

HookSock *
hooksock_new(const char *path, Monitor *m, GError **error)
{
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    g_autofree char *dir = g_path_get_dirname(path);
    HookSock *hs = g_new0(HookSock, 1);
    mode_t old_mask;
    bool ok;

    g_mkdir_with_parents(dir, 0755);
    hs->path = g_strdup(path);
    hs->m = m;
    hs->sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM,
                            G_SOCKET_PROTOCOL_DEFAULT, error);
    if (!hs->sock) {
        hooksock_free(hs);
        return NULL;
    }
    g_socket_set_blocking(hs->sock, FALSE);
    unlink(path);
    old_mask = umask(0177);
    ok = g_socket_bind(hs->sock, addr, FALSE, error);
    umask(old_mask);
    if (!ok) {
        g_prefix_error(error, "cannot bind %s: ", path);
        hooksock_free(hs);
        return NULL;
    }
    hs->source = g_socket_create_source(hs->sock, G_IO_IN, NULL);
    g_source_set_callback(hs->source,
                          (GSourceFunc) (void (*)(void)) on_readable, hs, NULL);
    g_source_attach(hs->source, NULL);
    return hs;
}

void
hooksock_free(HookSock *hs)
{
    if (!hs) {
        return;
    }
    if (hs->source) {
        g_source_destroy(hs->source);
        g_source_unref(hs->source);
    }
    if (hs->sock) {
        g_socket_close(hs->sock, NULL);
        g_object_unref(hs->sock);
        unlink(hs->path);
    }
    g_free(hs->path);
    g_free(hs);
}
