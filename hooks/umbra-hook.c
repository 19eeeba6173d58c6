/*
 * hooks/umbra-hook.c: the libvirt qemu hook, installed as
 * /etc/libvirt/hooks/qemu.d/umbra.
 *
 * libvirt runs it as "umbra DOMAIN OPERATION SUB-OPERATION EXTRA" with
 * the domain XML on stdin, for every lifecycle step (prepare, start,
 * started, stopped, release, migrate, restore, reconnect, attach).  It
 * sends one datagram to umbrad and exits 0.  Rules it keeps, whatever
 * state umbrad is in:
 *
 *  - it never blocks: the datagram is sent with MSG_DONTWAIT; when
 *    umbrad is down (no socket) or frozen (queue full) the message is
 *    appended to a spool file instead, which umbrad drains later; a
 *    1-second alarm ends the process whatever happens;
 *  - it always exits 0, so it can never fail a libvirt operation;
 *  - it writes nothing on stdout, so for "migrate" and "restore" libvirt
 *    keeps the domain XML unchanged;
 *  - it never calls back into libvirt (libvirt hooks.rst: a deadlock is
 *    likely to occur).
 *
 * UMBRA_HOOK_SOCKET and UMBRA_SPOOL_DIR override the paths (tests only;
 * libvirt runs hooks with a clean environment).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "model/json.h"
#include "umbra-config.h"

#define HOOK_XML_MAX (4 * 1024 * 1024)
#define HOOK_STDIN_MS 300

static void
on_alarm(int sig)
{
    _exit(0);
}

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Reads the domain XML from stdin (all of it, so that libvirt's write
 * never sees EPIPE), for at most HOOK_STDIN_MS, and returns the content
 * of its first <uuid> element, or NULL.
 */
static char *
read_uuid(void)
{
    g_autoptr(GString) xml = g_string_new(NULL);
    int64_t deadline = now_ms() + HOOK_STDIN_MS;
    char buf[8192];
    const char *a, *b;
    int flags = fcntl(STDIN_FILENO, F_GETFL);

    if (flags < 0 || isatty(STDIN_FILENO)) {
        return NULL;
    }
    fcntl(STDIN_FILENO, F_SETFL, flags | O_NONBLOCK);
    for (;;) {
        struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
        int64_t left = deadline - now_ms();
        ssize_t n;

        if (left <= 0 || poll(&pfd, 1, (int) left) <= 0) {
            break;
        }
        n = read(STDIN_FILENO, buf, sizeof(buf));
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        if (xml->len < HOOK_XML_MAX) {
            g_string_append_len(xml, buf, n);
        }
    }
    a = strstr(xml->str, "<uuid>");
    if (!a) {
        return NULL;
    }
    a += strlen("<uuid>");
    b = strstr(a, "</uuid>");
    if (!b || b - a > 64) {
        return NULL;
    }
    return g_strndup(a, (gsize) (b - a));
}

static bool
send_datagram(const char *path, const char *msg)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd;
    ssize_t n;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        return false;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return false;
    }
    n = sendto(fd, msg, strlen(msg), MSG_DONTWAIT, (struct sockaddr *) &addr,
               sizeof(addr));
    close(fd);
    return n == (ssize_t) strlen(msg);
}

static void
spool(const char *dir, const char *msg)
{
    g_autofree char *path = g_build_filename(dir, "hook.jsonl", NULL);
    g_autofree char *line = g_strconcat(msg, "\n", NULL);
    int fd;

    mkdir(dir, 0700);
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK,
              0600);
    if (fd < 0) {
        return; /* e.g. disk full: dropping is all we can do */
    }
    /* One write() of less than PIPE_BUF bytes on O_APPEND: lines from
     * concurrent hooks do not interleave. */
    if (write(fd, line, strlen(line)) < 0) {
        /* Nothing more to try without risking delay. */
    }
    close(fd);
}

int
main(int argc, char **argv)
{
    const char *sock = getenv("UMBRA_HOOK_SOCKET");
    const char *spool_dir = getenv("UMBRA_SPOOL_DIR");
    char hostname[256] = "";
    g_autofree char *uuid = NULL;
    g_autofree char *msg = NULL;
    struct timespec ts;

    signal(SIGALRM, on_alarm);
    signal(SIGPIPE, SIG_IGN);
    alarm(1);
    if (!sock || !*sock) {
        sock = UMBRA_RUNDIR "/hook.sock";
    }
    if (!spool_dir || !*spool_dir) {
        spool_dir = UMBRA_SPOOLDIR;
    }
    if (argc < 3) {
        return 0;
    }
    uuid = read_uuid();
    gethostname(hostname, sizeof(hostname) - 1);
    clock_gettime(CLOCK_REALTIME, &ts);
    msg = model_hook_message_build(
        hostname, argv[1], uuid, argv[2], argc > 3 ? argv[3] : NULL,
        argc > 4 ? argv[4] : NULL,
        (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
    if (strlen(msg) > MODEL_HOOK_MSG_MAX || !send_datagram(sock, msg)) {
        spool(spool_dir, msg);
    }
    return 0;
}
