/*
 * rpc/server.c: GIO-based RPC listener (see server.h).
 *
 * Reads are 4 KiB chunks appended to a per-client buffer; complete lines
 * are dispatched in order.  A line longer than RPC_MAX_MESSAGE gets a
 * "too-large" error and the client is closed (we cannot resynchronise).
 * Writes go through a queue drained by one async write at a time.
 */
#include "rpc/server.h"

#include <errno.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct RpcServer {
    char *path;              /* socket path */
    GSocketService *service; /* the listener */
    RpcHandlerFunc handler;
    RpcClientGoneFunc gone;
    gpointer data;
    GList *clients; /* RpcServerClient* */
};

struct RpcServerClient {
    gint ref;          /* one for the list, one per pending op */
    RpcServer *server; /* NULL once the server is gone */
    GSocketConnection *conn;
    GCancellable *cancel;
    GString *inbuf; /* bytes read, not yet a full line */
    char readbuf[4096];
    GQueue outq;     /* char* lines to write */
    gsize out_bytes; /* bytes queued */
    bool writing;    /* a write is in flight */
    bool closing;    /* close once the queue is drained */
    bool closed;
};

static void client_read_more(RpcServerClient *c);
static void client_write_next(RpcServerClient *c);

static RpcServerClient *
client_ref(RpcServerClient *c)
{
    g_atomic_int_inc(&c->ref);
    return c;
}

static void
client_unref(RpcServerClient *c)
{
    if (!g_atomic_int_dec_and_test(&c->ref)) {
        return;
    }
    g_queue_clear_full(&c->outq, g_free);
    g_string_free(c->inbuf, TRUE);
    g_object_unref(c->cancel);
    g_object_unref(c->conn);
    g_free(c);
}

static void
client_close(RpcServerClient *c)
{
    RpcServer *s = c->server;

    if (c->closed) {
        return;
    }
    c->closed = true;
    g_cancellable_cancel(c->cancel);
    g_io_stream_close(G_IO_STREAM(c->conn), NULL, NULL);
    if (s) {
        if (s->gone) {
            s->gone(c, s->data);
        }
        s->clients = g_list_remove(s->clients, c);
        c->server = NULL;
        client_unref(c); /* the list's reference */
    }
}

void
rpc_server_client_send(RpcServerClient *c, const char *line)
{
    if (c->closed) {
        return;
    }
    c->out_bytes += strlen(line);
    g_queue_push_tail(&c->outq, g_strdup(line));
    if (c->out_bytes > RPC_SERVER_MAX_QUEUE) {
        g_debug("rpc: dropping a client that does not read (%zu bytes "
                "queued)",
                c->out_bytes);
        client_close(c);
        return;
    }
    client_write_next(c);
}

static void
client_write_done(GObject *src, GAsyncResult *res, gpointer data)
{
    RpcServerClient *c = data;
    g_autoptr(GError) err = NULL;

    c->writing = false;
    if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(src), res, NULL,
                                          &err)) {
        client_close(c);
    } else {
        g_free(g_queue_pop_head(&c->outq));
        client_write_next(c);
    }
    client_unref(c);
}

static void
client_write_next(RpcServerClient *c)
{
    const char *line;

    if (c->writing || c->closed) {
        return;
    }
    line = g_queue_peek_head(&c->outq);
    if (!line) {
        if (c->closing) {
            client_close(c);
        }
        return;
    }
    c->out_bytes -= strlen(line);
    c->writing = true;
    g_output_stream_write_all_async(
        g_io_stream_get_output_stream(G_IO_STREAM(c->conn)), line, strlen(line),
        G_PRIORITY_DEFAULT, c->cancel, client_write_done, client_ref(c));
}

static void
client_dispatch(RpcServerClient *c, const char *line, size_t len)
{
    RpcServer *s = c->server;
    g_autoptr(GError) err = NULL;
    g_autoptr(json_object) req = NULL;
    g_autofree char *reply = NULL;
    const char *method = NULL;
    json_object *params = NULL;
    json_object *result;
    int64_t id = 0;

    req = rpc_request_parse(line, len, &id, &method, &params, &err);
    if (!req) {
        reply = rpc_reply_error(id, (RpcErrorCode) err->code, err->message);
        rpc_server_client_send(c, reply);
        return;
    }
    result = s->handler(c, id, method, params, s->data, &err);
    if (!result && err) {
        reply =
            rpc_reply_error(id,
                            err->domain == RPC_ERROR ? (RpcErrorCode) err->code
                                                     : RPC_ERROR_INTERNAL,
                            err->message);
    } else {
        reply = rpc_reply_result(id, result);
    }
    rpc_server_client_send(c, reply);
}

static void
client_read_done(GObject *src, GAsyncResult *res, gpointer data)
{
    RpcServerClient *c = data;
    g_autoptr(GError) err = NULL;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(src), res, &err);
    char *nl;

    if (n <= 0 || c->closed || !c->server) {
        if (!c->closed) {
            /* EOF: answer what was asked, then close. */
            c->closing = true;
            client_write_next(c);
        }
        client_unref(c);
        return;
    }
    g_string_append_len(c->inbuf, c->readbuf, n);
    while (!c->closed && (nl = memchr(c->inbuf->str, '\n', c->inbuf->len))) {
        size_t len = (size_t) (nl - c->inbuf->str);

        if (len > 0) {
            client_dispatch(c, c->inbuf->str, len);
        }
        g_string_erase(c->inbuf, 0, (gssize) len + 1);
    }
    if (!c->closed && c->inbuf->len > RPC_MAX_MESSAGE) {
        g_autofree char *reply =
            rpc_reply_error(0, RPC_ERROR_TOO_LARGE,
                            "request exceeds 65536 bytes without a newline");

        rpc_server_client_send(c, reply);
        c->closing = true;
        client_write_next(c);
        client_unref(c);
        return;
    }
    client_read_more(c);
    client_unref(c);
}

static void
client_read_more(RpcServerClient *c)
{
    if (c->closed || c->closing) {
        return;
    }
    g_input_stream_read_async(
        g_io_stream_get_input_stream(G_IO_STREAM(c->conn)), c->readbuf,
        sizeof(c->readbuf), G_PRIORITY_DEFAULT, c->cancel, client_read_done,
        client_ref(c));
}

static gboolean
on_incoming(GSocketService *service, GSocketConnection *conn, GObject *source,
            gpointer data)
{
    RpcServer *s = data;
    RpcServerClient *c = g_new0(RpcServerClient, 1);

    c->ref = 1;
    c->server = s;
    c->conn = g_object_ref(conn);
    c->cancel = g_cancellable_new();
    c->inbuf = g_string_new(NULL);
    g_queue_init(&c->outq);
    s->clients = g_list_prepend(s->clients, c);
    client_read_more(c);
    return TRUE;
}

/* Returns: true if something answers on @path (another daemon). */
static bool
socket_in_use(const char *path)
{
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    g_autoptr(GSocketConnection) conn =
        g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr), NULL, NULL);

    return conn != NULL;
}

RpcServer *
rpc_server_new(const char *path, const char *group, RpcHandlerFunc handler,
               RpcClientGoneFunc gone, gpointer data, GError **error)
{
    g_autoptr(GSocketAddress) addr = NULL;
    g_autofree char *dir = g_path_get_dirname(path);
    RpcServer *s;
    struct group *gr = group ? getgrnam(group) : NULL;
    mode_t old_mask;
    bool ok;

    if (g_mkdir_with_parents(dir, 0755) < 0) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_IO, "cannot create %s: %s", dir,
                    g_strerror(errno));
        return NULL;
    }
    if (g_file_test(path, G_FILE_TEST_EXISTS)) {
        if (socket_in_use(path)) {
            g_set_error(error, RPC_ERROR, RPC_ERROR_IO,
                        "%s is in use: is another umbrad running?", path);
            return NULL;
        }
        unlink(path);
    }
    s = g_new0(RpcServer, 1);
    s->path = g_strdup(path);
    s->handler = handler;
    s->gone = gone;
    s->data = data;
    s->service = g_socket_service_new();
    addr = g_unix_socket_address_new(path);
    old_mask = umask(0177);
    ok = g_socket_listener_add_address(
        G_SOCKET_LISTENER(s->service), addr, G_SOCKET_TYPE_STREAM,
        G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL, error);
    umask(old_mask);
    if (!ok) {
        g_prefix_error(error, "cannot listen on %s: ", path);
        g_object_unref(s->service);
        g_free(s->path);
        g_free(s);
        return NULL;
    }
    if (gr && chown(path, 0, gr->gr_gid) == 0) {
        chmod(path, 0660);
    } else {
        chmod(path, 0600);
    }
    g_signal_connect(s->service, "incoming", G_CALLBACK(on_incoming), s);
    g_socket_service_start(s->service);
    return s;
}

void
rpc_server_free(RpcServer *s)
{
    if (!s) {
        return;
    }
    while (s->clients) {
        client_close(s->clients->data);
    }
    g_socket_service_stop(s->service);
    g_socket_listener_close(G_SOCKET_LISTENER(s->service));
    g_object_unref(s->service);
    unlink(s->path);
    g_free(s->path);
    g_free(s);
}

guint
rpc_server_n_clients(RpcServer *s)
{
    return g_list_length(s->clients);
}
