/*
 * rpc/client.c: the blocking RPC client that umbractl (and tests) use to
 * talk to umbrad over its unix stream socket (docs/rpc.md).
 *
 * The socket is non-blocking and every wait goes through poll(2) with
 * the time left until the call's deadline, so a stuck daemon costs at
 * most one timeout.  Requests are written with send(MSG_NOSIGNAL) in a
 * loop (partial writes; no SIGPIPE when the daemon has gone).  Replies
 * are read in chunks into one buffer and split at '\n'; bytes after the
 * first newline stay buffered for the next read (follow-mode events can
 * arrive back to back).  The newline search resumes where the previous
 * one stopped, so a reply of N bytes costs O(N) however it is chunked.
 *
 *   call:  [request line] --send--> umbrad --reply line--> buf --split-->
 *          parse --> result | daemon error | RPC_ERROR_IO
 *
 * The expected workload is a handful of calls per command, replies from
 * a few hundred bytes (ping) to a few MiB (domstats with history on a
 * large site), hence the default reply limit of 16 MiB.
 */
#include "rpc/client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/clock.h"

#define CLIENT_READ_CHUNK (64 * 1024)

struct RpcClient {
    char *path;       /* socket path, for messages */
    int fd;           /* connected socket (non-blocking), -1 once closed */
    int timeout_ms;   /* per-call timeout, 0 = none */
    int64_t next_id;  /* id of the next request */
    size_t max_reply; /* the longest reply line accepted, '\n' included */
    GByteArray *buf;  /* received bytes not consumed yet */
    size_t scanned;   /* leading bytes of @buf known to hold no '\n' */
};

/* Closes the connection after an error that leaves it out of step. */
static void
client_close(RpcClient *client)
{
    if (client->fd >= 0) {
        close(client->fd);
        client->fd = -1;
    }
    g_byte_array_set_size(client->buf, 0);
    client->scanned = 0;
}

/* Returns: the deadline @timeout_ms from now, or -1 for none. */
static int64_t
deadline_after(int timeout_ms)
{
    if (timeout_ms < 0) {
        return -1;
    }
    return util_clock_mono() + (int64_t) timeout_ms * 1000;
}

/*
 * Waits until @fd is ready for @events or @deadline passes.
 * Returns: true when ready; false with RPC_ERROR_TIMEOUT or RPC_ERROR_IO.
 */
static bool
wait_fd(int fd, short events, int64_t deadline, GError **error)
{
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = events};
        int wait_ms = -1;
        int n;

        if (deadline >= 0) {
            int64_t left = deadline - util_clock_mono();

            if (left <= 0) {
                wait_ms = 0;
            } else {
                wait_ms = (int) MIN((left + 999) / 1000, G_MAXINT);
            }
        }
        n = poll(&pfd, 1, wait_ms);
        if (n > 0) {
            return true;
        }
        if (n < 0 && errno != EINTR) {
            g_set_error(error, RPC_ERROR, RPC_ERROR_IO, "poll: %s",
                        g_strerror(errno));
            return false;
        }
        if (n == 0 && wait_ms == 0) {
            g_set_error_literal(error, RPC_ERROR, RPC_ERROR_TIMEOUT,
                                "timed out");
            return false;
        }
    }
}

static const char *
connect_hint(int err)
{
    switch (err) {
    case ENOENT:
    case ECONNREFUSED:
        return " (is umbrad running?)";
    case EACCES:
    case EPERM:
        return " (is your user in umbrad's socket_group?)";
    default:
        return "";
    }
}

static void
set_connect_error(GError **error, const char *path, int err)
{
    g_set_error(error, RPC_ERROR, RPC_ERROR_CONNECT,
                "cannot connect to umbrad at %s: %s%s", path, g_strerror(err),
                connect_hint(err));
}

RpcClient *
rpc_client_connect(const char *path, int timeout_ms, GError **error)
{
    g_autoptr(RpcClient) client = NULL;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int64_t deadline;

    g_return_val_if_fail(path != NULL, NULL);

    if (strlen(path) >= sizeof(addr.sun_path)) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_CONNECT,
                    "cannot connect to umbrad at %s: socket path longer "
                    "than %zu bytes",
                    path, sizeof(addr.sun_path) - 1);
        return NULL;
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);

    client = g_new0(RpcClient, 1);
    client->fd = -1;
    client->path = g_strdup(path);
    client->timeout_ms = MAX(timeout_ms, 0);
    client->next_id = 1;
    client->max_reply = RPC_CLIENT_MAX_REPLY;
    client->buf = g_byte_array_new();
    client->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (client->fd < 0) {
        set_connect_error(error, path, errno);
        return NULL;
    }

    deadline = deadline_after(client->timeout_ms ? client->timeout_ms : -1);
    for (;;) {
        int err;
        socklen_t errlen = sizeof(err);

        if (connect(client->fd, (struct sockaddr *) &addr, sizeof(addr)) == 0) {
            break;
        }
        err = errno;
        if (err == EINTR) {
            continue;
        }
        if (err == EAGAIN) {
            /* The listen backlog is full: umbrad is alive but busy. */
            if (deadline >= 0 && util_clock_mono() >= deadline) {
                g_set_error(error, RPC_ERROR, RPC_ERROR_TIMEOUT,
                            "cannot connect to umbrad at %s: its listen "
                            "queue stayed full for %d ms",
                            path, client->timeout_ms);
                return NULL;
            }
            poll(NULL, 0, 10);
            continue;
        }
        if (err != EINPROGRESS) {
            set_connect_error(error, path, err);
            return NULL;
        }
        if (!wait_fd(client->fd, POLLOUT, deadline, NULL)) {
            g_set_error(error, RPC_ERROR, RPC_ERROR_TIMEOUT,
                        "cannot connect to umbrad at %s: no answer within "
                        "%d ms",
                        path, client->timeout_ms);
            return NULL;
        }
        if (getsockopt(client->fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0) {
            err = errno;
        }
        if (err != 0) {
            set_connect_error(error, path, err);
            return NULL;
        }
        break;
    }
    return g_steal_pointer(&client);
}

/* Writes all of @data before @deadline.  Returns: false with @error set. */
static bool
client_write_all(RpcClient *client, const char *data, size_t len,
                 int64_t deadline, GError **error)
{
    size_t off = 0;

    while (off < len) {
        ssize_t n = send(client->fd, data + off, len - off, MSG_NOSIGNAL);

        if (n >= 0) {
            off += (size_t) n;
            continue;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!wait_fd(client->fd, POLLOUT, deadline, error)) {
                return false;
            }
            continue;
        }
        if (errno == EPIPE || errno == ECONNRESET) {
            g_set_error_literal(error, RPC_ERROR, RPC_ERROR_IO,
                                "umbrad closed the connection");
        } else {
            g_set_error(error, RPC_ERROR, RPC_ERROR_IO,
                        "cannot send to umbrad: %s", g_strerror(errno));
        }
        return false;
    }
    return true;
}

/*
 * Reads one line (without its '\n') before @deadline.
 * Returns: (transfer full) the line, NUL-terminated, with its length in
 * @ret_len; or NULL with @error set (RPC_ERROR_TIMEOUT leaves a partial
 * line buffered).
 */
static char *
client_read_line(RpcClient *client, int64_t deadline, size_t *ret_len,
                 GError **error)
{
    for (;;) {
        guint8 *nl = NULL;
        guint old_len;
        ssize_t n;

        if (client->scanned < client->buf->len) {
            nl = memchr(client->buf->data + client->scanned, '\n',
                        client->buf->len - client->scanned);
        }
        if (nl) {
            size_t len = (size_t) (nl - client->buf->data);
            char *line;

            if (len + 1 > client->max_reply) {
                g_set_error(error, RPC_ERROR, RPC_ERROR_TOO_LARGE,
                            "reply from umbrad is larger than %zu bytes",
                            client->max_reply);
                return NULL;
            }
            line = g_malloc(len + 1);
            memcpy(line, client->buf->data, len);
            line[len] = '\0';
            g_byte_array_remove_range(client->buf, 0, (guint) len + 1);
            client->scanned = 0;
            *ret_len = len;
            return line;
        }
        client->scanned = client->buf->len;
        if (client->buf->len >= client->max_reply) {
            g_set_error(error, RPC_ERROR, RPC_ERROR_TOO_LARGE,
                        "reply from umbrad is larger than %zu bytes",
                        client->max_reply);
            return NULL;
        }

        old_len = client->buf->len;
        g_byte_array_set_size(client->buf, old_len + CLIENT_READ_CHUNK);
        n = recv(client->fd, client->buf->data + old_len, CLIENT_READ_CHUNK, 0);
        g_byte_array_set_size(client->buf, old_len + (n > 0 ? (guint) n : 0));
        if (n > 0) {
            continue;
        }
        if (n == 0) {
            if (client->buf->len > 0) {
                g_set_error(error, RPC_ERROR, RPC_ERROR_IO,
                            "umbrad closed the connection in the middle of "
                            "a reply (after %u bytes)",
                            client->buf->len);
            } else {
                g_set_error_literal(error, RPC_ERROR, RPC_ERROR_IO,
                                    "umbrad closed the connection");
            }
            return NULL;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!wait_fd(client->fd, POLLIN, deadline, error)) {
                return NULL;
            }
            continue;
        }
        if (errno == ECONNRESET) {
            g_set_error_literal(error, RPC_ERROR, RPC_ERROR_IO,
                                "umbrad closed the connection (reset)");
            return NULL;
        }
        g_set_error(error, RPC_ERROR, RPC_ERROR_IO,
                    "cannot read from umbrad: %s", g_strerror(errno));
        return NULL;
    }
}

/*
 * Parses one reply line and checks its envelope.
 * Returns: (transfer full) the reply object, or NULL with RPC_ERROR_IO
 * or RPC_ERROR_VERSION.
 */
static json_object *
reply_parse(const char *line, size_t len, GError **error)
{
    g_autoptr(json_tokener) tok = json_tokener_new();
    g_autoptr(json_object) o = NULL;
    json_object *v = NULL;
    size_t off;

    if (len > G_MAXINT) {
        g_set_error_literal(error, RPC_ERROR, RPC_ERROR_IO,
                            "malformed reply from umbrad: too long");
        return NULL;
    }
    o = json_tokener_parse_ex(tok, line, (int) len);
    if (!o || json_tokener_get_error(tok) != json_tokener_success) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_IO,
                    "malformed reply from umbrad: %s",
                    o ? "trailing data"
                      : json_tokener_error_desc(json_tokener_get_error(tok)));
        return NULL;
    }
    for (off = json_tokener_get_parse_end(tok); off < len; off++) {
        if (!g_ascii_isspace(line[off])) {
            g_set_error_literal(error, RPC_ERROR, RPC_ERROR_IO,
                                "malformed reply from umbrad: trailing data");
            return NULL;
        }
    }
    if (!json_object_is_type(o, json_type_object)) {
        g_set_error_literal(error, RPC_ERROR, RPC_ERROR_IO,
                            "malformed reply from umbrad: not an object");
        return NULL;
    }
    if (!json_object_object_get_ex(o, "version", &v) ||
        !json_object_is_type(v, json_type_int)) {
        g_set_error_literal(error, RPC_ERROR, RPC_ERROR_IO,
                            "malformed reply from umbrad: no 'version'");
        return NULL;
    }
    if (json_object_get_int64(v) != RPC_PROTOCOL_VERSION) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_VERSION,
                    "umbrad replied with protocol version %" G_GINT64_FORMAT
                    "; this client speaks version %d",
                    json_object_get_int64(v), RPC_PROTOCOL_VERSION);
        return NULL;
    }
    return g_steal_pointer(&o);
}

/*
 * If @reply carries an error, sets @error from it.
 * Returns: true when @reply is an error reply.
 */
static bool
reply_take_error(json_object *reply, GError **error)
{
    json_object *e = NULL;
    json_object *v = NULL;
    const char *code = NULL;
    const char *message = NULL;

    if (!json_object_object_get_ex(reply, "error", &e) || !e) {
        return false;
    }
    if (json_object_is_type(e, json_type_object)) {
        if (json_object_object_get_ex(e, "code", &v) &&
            json_object_is_type(v, json_type_string)) {
            code = json_object_get_string(v);
        }
        if (json_object_object_get_ex(e, "message", &v) &&
            json_object_is_type(v, json_type_string)) {
            message = json_object_get_string(v);
        }
    }
    g_set_error_literal(error, RPC_ERROR, rpc_error_code_from_string(code),
                        message && *message ? message
                        : code              ? code
                               : "umbrad reported an unspecified error");
    return true;
}

json_object *
rpc_client_call(RpcClient *client, const char *method, json_object *params,
                GError **error)
{
    g_autoptr(json_object) request = NULL;
    g_autoptr(json_object) reply = NULL;
    g_autoptr(GError) local_error = NULL;
    g_autofree char *line = NULL;
    g_autofree char *reply_line = NULL;
    json_object *result = NULL;
    json_object *v = NULL;
    const char *text;
    size_t text_len;
    size_t reply_len = 0;
    int64_t id;
    int64_t deadline;

    g_return_val_if_fail(client != NULL && method != NULL, NULL);

    id = client->next_id++;
    request = rpc_request_new(id, method, params);
    if (client->fd < 0) {
        g_set_error_literal(error, RPC_ERROR, RPC_ERROR_IO,
                            "not connected to umbrad (the connection was "
                            "closed after an earlier error)");
        return NULL;
    }
    text = json_object_to_json_string_ext(
        request, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    text_len = strlen(text);
    if (text_len > RPC_MAX_MESSAGE) {
        g_set_error(error, RPC_ERROR, RPC_ERROR_TOO_LARGE,
                    "request '%s' of %zu bytes exceeds the limit of %d bytes",
                    method, text_len, RPC_MAX_MESSAGE);
        return NULL;
    }
    line = g_strconcat(text, "\n", NULL);

    deadline = deadline_after(client->timeout_ms ? client->timeout_ms : -1);
    if (!client_write_all(client, line, text_len + 1, deadline, &local_error) ||
        !(reply_line =
              client_read_line(client, deadline, &reply_len, &local_error)) ||
        !(reply = reply_parse(reply_line, reply_len, &local_error))) {
        client_close(client);
        if (g_error_matches(local_error, RPC_ERROR, RPC_ERROR_TIMEOUT)) {
            g_set_error(error, RPC_ERROR, RPC_ERROR_TIMEOUT,
                        "umbrad did not answer '%s' within %d ms", method,
                        client->timeout_ms);
            return NULL;
        }
        g_propagate_error(error, g_steal_pointer(&local_error));
        return NULL;
    }

    if (json_object_object_get_ex(reply, "id", &v) && v &&
        (!json_object_is_type(v, json_type_int) ||
         json_object_get_int64(v) != id)) {
        client_close(client);
        g_set_error(error, RPC_ERROR, RPC_ERROR_IO,
                    "malformed reply from umbrad: id %s does not match "
                    "request id %" G_GINT64_FORMAT,
                    json_object_to_json_string(v), id);
        return NULL;
    }
    if (reply_take_error(reply, error)) {
        return NULL;
    }
    if (!json_object_object_get_ex(reply, "result", &result) || !result ||
        !json_object_is_type(result, json_type_object)) {
        client_close(client);
        g_set_error(error, RPC_ERROR, RPC_ERROR_IO,
                    "malformed reply from umbrad: no 'result' object in the "
                    "reply to '%s'",
                    method);
        return NULL;
    }
    return json_object_get(result);
}

json_object *
rpc_client_read_event(RpcClient *client, int timeout_ms, GError **error)
{
    g_autoptr(json_object) reply = NULL;
    g_autoptr(GError) local_error = NULL;
    g_autofree char *line = NULL;
    json_object *event = NULL;
    size_t len = 0;

    g_return_val_if_fail(client != NULL, NULL);

    if (client->fd < 0) {
        g_set_error_literal(error, RPC_ERROR, RPC_ERROR_IO,
                            "not connected to umbrad (the connection was "
                            "closed after an earlier error)");
        return NULL;
    }
    line = client_read_line(client, deadline_after(timeout_ms), &len,
                            &local_error);
    if (!line) {
        if (g_error_matches(local_error, RPC_ERROR, RPC_ERROR_TIMEOUT)) {
            g_set_error(error, RPC_ERROR, RPC_ERROR_TIMEOUT,
                        "no event within %d ms", timeout_ms);
            return NULL;
        }
        client_close(client);
        g_propagate_error(error, g_steal_pointer(&local_error));
        return NULL;
    }
    reply = reply_parse(line, len, error);
    if (!reply) {
        client_close(client);
        return NULL;
    }
    if (reply_take_error(reply, error)) {
        return NULL;
    }
    if (!json_object_object_get_ex(reply, "event", &event) || !event ||
        !json_object_is_type(event, json_type_object)) {
        client_close(client);
        g_set_error_literal(error, RPC_ERROR, RPC_ERROR_IO,
                            "malformed reply from umbrad: expected an "
                            "'event' line");
        return NULL;
    }
    return json_object_get(event);
}

void
rpc_client_set_max_reply(RpcClient *client, size_t max_bytes)
{
    client->max_reply = MAX(max_bytes, 2);
}

const char *
rpc_client_get_path(const RpcClient *client)
{
    return client->path;
}

bool
rpc_client_is_connected(const RpcClient *client)
{
    return client->fd >= 0;
}

void
rpc_client_free(RpcClient *client)
{
    if (!client) {
        return;
    }
    if (client->fd >= 0) {
        close(client->fd);
    }
    if (client->buf) {
        g_byte_array_unref(client->buf);
    }
    g_free(client->path);
    g_free(client);
}
