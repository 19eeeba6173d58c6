/*
 * tests/unit/test-hook.c: the real umbra-hook binary, run the way libvirt
 * runs it (argv + domain XML on stdin), against a listening datagram
 * socket, a missing one (umbrad down) and one nobody reads (umbrad
 * frozen).  It must exit 0, print nothing, and return fast every time.
 */
#include <fcntl.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cutest.h"
#include "model/json.h"

#define XML                                                                    \
    "<domain type='qemu'><name>web1</name>"                                    \
    "<uuid>5b5fb0e4-7a54-4a0e-9cfe-3b8b1a2d9d11</uuid></domain>\n"

typedef struct {
    int status;
    double seconds;
    char *out;
} HookRun;

static void
run_hook(const char *sock, const char *spool, const char *op, bool keep_stdin,
         HookRun *ret)
{
    const char *bin = g_getenv("UMBRA_HOOK_BIN");
    g_autofree char *env_sock = g_strdup_printf("UMBRA_HOOK_SOCKET=%s", sock);
    g_autofree char *env_spool = g_strdup_printf("UMBRA_SPOOL_DIR=%s", spool);
    char *argv[] = {(char *) bin, "web1", (char *) op, "begin", "-", NULL};
    char *envp[] = {env_sock, env_spool, NULL};
    int in_fd, out_fd;
    GPid pid;
    gint64 t0 = g_get_monotonic_time();
    char buf[4096];
    ssize_t n;
    GString *out = g_string_new(NULL);

    g_assert(bin);
    g_assert(g_spawn_async_with_pipes(NULL, argv, envp,
                                      G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                      &pid, &in_fd, &out_fd, NULL, NULL));
    if (write(in_fd, XML, strlen(XML)) < 0) {
        CU_FAIL("cannot write XML");
    }
    if (!keep_stdin) {
        close(in_fd);
    }
    while ((n = read(out_fd, buf, sizeof(buf))) > 0) {
        g_string_append_len(out, buf, n);
    }
    waitpid(pid, &ret->status, 0);
    ret->seconds = (double) (g_get_monotonic_time() - t0) / 1e6;
    ret->out = g_string_free(out, FALSE);
    close(out_fd);
    if (keep_stdin) {
        close(in_fd);
    }
}

static GSocket *
bind_dgram(const char *path)
{
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    GSocket *s = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM,
                              G_SOCKET_PROTOCOL_DEFAULT, NULL);

    g_assert(g_socket_bind(s, addr, FALSE, NULL));
    g_socket_set_blocking(s, FALSE);
    return s;
}

static void
test_delivered(void)
{
    g_autofree char *dir = cutest_tmpdir();
    g_autofree char *sock = g_build_filename(dir, "hook.sock", NULL);
    g_autoptr(GSocket) s = bind_dgram(sock);
    HookRun r = {0};
    char buf[MODEL_HOOK_MSG_MAX];
    gssize n;
    g_autoptr(UmbraEvent) ev = NULL;
    g_autofree char *host = NULL;

    run_hook(sock, dir, "migrate", false, &r);
    CU_ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
    CU_ASSERT_STRING_EQUAL(r.out, ""); /* XML left unaltered */
    CU_ASSERT_TRUE(r.seconds < 0.5);
    n = g_socket_receive(s, buf, sizeof(buf), NULL, NULL);
    CU_ASSERT_TRUE_FATAL(n > 0);
    ev = model_hook_message_parse(buf, (size_t) n, &host, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    CU_ASSERT_STRING_EQUAL(ev->type, "migrate/begin");
    CU_ASSERT_STRING_EQUAL(ev->uuid, "5b5fb0e4-7a54-4a0e-9cfe-3b8b1a2d9d11");
    g_free(r.out);
    cutest_rmdir(dir);
}

static void
test_daemon_down_spools(void)
{
    g_autofree char *dir = cutest_tmpdir();
    g_autofree char *sock = g_build_filename(dir, "absent.sock", NULL);
    g_autofree char *spool = g_build_filename(dir, "hook.jsonl", NULL);
    g_autofree char *text = NULL;
    HookRun r = {0};

    run_hook(sock, dir, "start", false, &r);
    CU_ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
    CU_ASSERT_TRUE(r.seconds < 0.5);
    CU_ASSERT_TRUE(g_file_get_contents(spool, &text, NULL, NULL));
    CU_ASSERT_PTR_NOT_NULL(text && strstr(text, "\"op\":\"start\""));
    g_free(r.out);
    cutest_rmdir(dir);
}

static void
test_daemon_frozen(void)
{
    g_autofree char *dir = cutest_tmpdir();
    g_autofree char *sock = g_build_filename(dir, "hook.sock", NULL);
    g_autofree char *spool = g_build_filename(dir, "hook.jsonl", NULL);
    g_autoptr(GSocket) s = bind_dgram(sock);
    g_autoptr(GSocket) filler =
        g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM,
                     G_SOCKET_PROTOCOL_DEFAULT, NULL);
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(sock);
    char junk[2048] = {0};
    double worst = 0;

    /* Nobody reads: fill the receive queue as a frozen umbrad would. */
    g_socket_set_blocking(filler, FALSE);
    while (g_socket_send_to(filler, addr, junk, sizeof(junk), NULL, NULL) > 0) {
    }
    for (int i = 0; i < 5; i++) {
        HookRun r = {0};

        run_hook(sock, dir, "stopped", false, &r);
        CU_ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
        worst = MAX(worst, r.seconds);
        g_free(r.out);
    }
    CU_ASSERT_TRUE(worst < 0.5);
    CU_ASSERT_TRUE(g_file_test(spool, G_FILE_TEST_EXISTS));
    cutest_rmdir(dir);
}

static void
test_stdin_never_closed(void)
{
    g_autofree char *dir = cutest_tmpdir();
    g_autofree char *sock = g_build_filename(dir, "absent.sock", NULL);
    HookRun r = {0};

    run_hook(sock, dir, "prepare", true, &r);
    CU_ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
    CU_ASSERT_TRUE(r.seconds < 1.2);
    g_free(r.out);
    cutest_rmdir(dir);
}

static const CutestCase cases[] = {
    {"delivered", test_delivered},
    {"daemon-down-spools", test_daemon_down_spools},
    {"daemon-frozen", test_daemon_frozen},
    {"stdin-never-closed", test_stdin_never_closed},
};

CUTEST_MAIN("hook", cases)
