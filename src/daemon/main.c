/*
 * daemon/main.c: umbrad, the umbra daemon.
 *
 * Reads the configuration, opens the store, starts one monitor worker
 * per host, and serves the RPC socket and the hook socket on one GLib
 * main loop.  SIGTERM/SIGINT stop it cleanly: workers are asked to stop,
 * what they reported is stored, sockets are removed.
 *
 * Exit codes: 0 clean stop, 1 configuration error, 2 runtime failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/dispatch.h"
#include "daemon/hooksock.h"
#include "umbra-config.h"
#include "util/clock.h"

#define SPOOL_EVERY_S 2
#define MAINTAIN_EVERY_S 300

/* How soon after a new fit the risk is recomputed (fits landing together
 * share one update). */
#define RISK_SOON_MS 250

static bool opt_debug;
static int log_fd = STDERR_FILENO;

static GLogWriterOutput
log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
           gpointer data)
{
    const char *msg = NULL;
    const char *lvl;
    g_autofree char *ts = NULL;
    g_autofree char *line = NULL;

    if ((level & G_LOG_LEVEL_DEBUG) && !opt_debug) {
        return G_LOG_WRITER_HANDLED;
    }
    for (gsize i = 0; i < n_fields; i++) {
        if (strcmp(fields[i].key, "MESSAGE") == 0) {
            msg = fields[i].value;
        }
    }
    if (level & G_LOG_LEVEL_ERROR) {
        lvl = "error";
    } else if (level & G_LOG_LEVEL_CRITICAL) {
        lvl = "critical";
    } else if (level & G_LOG_LEVEL_WARNING) {
        lvl = "warning";
    } else if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO)) {
        lvl = "info";
    } else {
        lvl = "debug";
    }
    ts = util_time_format_wall(util_clock_wall());
    line = g_strdup_printf("%s umbrad[%d]: %s: %s\n", ts, (int) getpid(), lvl,
                           msg ? msg : "");
    if (write(log_fd, line, strlen(line)) < 0) {
        return G_LOG_WRITER_UNHANDLED;
    }
    return G_LOG_WRITER_HANDLED;
}

typedef struct {
    GMainLoop *loop;
    Monitor *m;
    const UmbraConfig *cfg;
} Daemon;

static gboolean
on_quit_signal(gpointer data)
{
    Daemon *d = data;

    g_message("stopping on signal");
    g_main_loop_quit(d->loop);
    return G_SOURCE_REMOVE;
}

static gboolean
on_hup(gpointer data)
{
    g_message("SIGHUP: configuration reload is not supported yet; "
              "restart umbrad to apply changes");
    return G_SOURCE_CONTINUE;
}

static gboolean
on_spool_timer(gpointer data)
{
    Daemon *d = data;
    guint n = monitor_drain_spool(d->m, d->cfg->spool_dir);

    if (n) {
        g_message("took %u spooled hook event(s)", n);
    }
    return G_SOURCE_CONTINUE;
}

static gboolean
on_maintain_timer(gpointer data)
{
    Daemon *d = data;

    monitor_maintain(d->m);
    return G_SOURCE_CONTINUE;
}

/* Who wants every sample: the forecaster and the risk engine. */
typedef struct {
    Forecaster *fc;
    Predictor *pred;
    ShadowManager *shadows; /* also wants the risk events */
    guint risk_soon;        /* a risk update queued by a new fit */
} SampleSinks;

static void
on_sample(const DomSample *s, gpointer data)
{
    SampleSinks *k = data;

    if (k->fc) {
        forecaster_observe(k->fc, s);
    }
    if (k->pred) {
        predictor_observe(k->pred, s);
    }
}

static void
on_risk_event(const UmbraEvent *ev, gpointer data)
{
    SampleSinks *k = data;

    predictor_event(k->pred, ev);
    if (k->shadows) {
        shadow_manager_event(k->shadows, ev);
    }
}

/* The risk now, and the shadows told at once (automatic moves). */
static void
risk_update(SampleSinks *k)
{
    if (!k->pred) {
        return; /* stopping */
    }
    predictor_tick(k->pred, util_clock_wall());
    if (k->shadows) {
        shadow_manager_poke(k->shadows);
    }
}

static gboolean
on_risk_timer(gpointer data)
{
    risk_update(data);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_risk_soon(gpointer data)
{
    SampleSinks *k = data;

    k->risk_soon = 0;
    risk_update(k);
    return G_SOURCE_REMOVE;
}

/* A new fit changes the forecasts the risk rests on: the risk is
 * recomputed shortly (fits landing together share one update) rather than
 * at the next risk_interval. */
static void
on_fit(const char *uuid, gpointer data)
{
    SampleSinks *k = data;

    if (k->pred && !k->risk_soon) {
        k->risk_soon = g_timeout_add(RISK_SOON_MS, on_risk_soon, k);
    }
}

static gboolean
on_forecast_timer(gpointer data)
{
    forecaster_tick(data, util_clock_wall());
    return G_SOURCE_CONTINUE;
}

static bool
write_pidfile(const char *path, GError **error)
{
    g_autofree char *pid = g_strdup_printf("%d\n", (int) getpid());

    return g_file_set_contents(path, pid, -1, error);
}

/*
 * Daemonizing happens before umbrad creates any thread or socket (a fork
 * keeps only the calling thread).  The parent waits on a pipe until the
 * daemon says it is serving ("0") or has failed ("<exit code>"), so that
 * start-up errors still reach the terminal and the exit status.
 */
static int ready_fd = -1;

static bool
daemonize_begin(void)
{
    int fds[2];
    pid_t pid;

    if (pipe2(fds, O_CLOEXEC) < 0) {
        return false;
    }
    pid = fork();
    if (pid < 0) {
        return false;
    }
    if (pid > 0) {
        char buf[16] = "";
        ssize_t n;

        close(fds[1]);
        n = read(fds[0], buf, sizeof(buf) - 1);
        _exit(n > 0 ? atoi(buf) : 2);
    }
    close(fds[0]);
    if (setsid() < 0) {
        return false;
    }
    pid = fork();
    if (pid < 0) {
        return false;
    }
    if (pid > 0) {
        _exit(0);
    }
    ready_fd = fds[1];
    return chdir("/") == 0;
}

/* Tells a waiting parent how start-up ended; on success detaches stdio. */
static void
daemonize_end(int code)
{
    char buf[16];
    int null;

    if (ready_fd < 0) {
        return;
    }
    g_snprintf(buf, sizeof(buf), "%d\n", code);
    if (write(ready_fd, buf, strlen(buf)) < 0) {
        /* The parent is gone: nothing to tell. */
    }
    close(ready_fd);
    ready_fd = -1;
    if (code == 0 && (null = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        if (log_fd != STDERR_FILENO) {
            dup2(null, STDERR_FILENO);
        }
        close(null);
    }
}

/* Start-up failure: message on stderr, exit code to the parent. */
static int startup_fail(int code, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static int
startup_fail(int code, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "umbrad: %s\n", msg);
    daemonize_end(code);
    return code;
}

int
main(int argc, char **argv)
{
    g_autofree char *config_path = NULL;
    g_autofree char *pid_file = NULL;
    g_autofree char *log_file = NULL;
    gboolean opt_daemon = FALSE, opt_foreground = FALSE;
    gboolean opt_version = FALSE, opt_check = FALSE;
    gboolean opt_debug_flag = FALSE;
    GOptionEntry entries[] = {
        {"config", 'f', 0, G_OPTION_ARG_FILENAME, &config_path,
         "Configuration file (default " UMBRA_CONF_DEFAULT ")", "FILE"},
        {"daemon", 'd', 0, G_OPTION_ARG_NONE, &opt_daemon,
         "Detach and run in the background", NULL},
        {"foreground", 0, 0, G_OPTION_ARG_NONE, &opt_foreground,
         "Stay in the foreground (the default)", NULL},
        {"pid-file", 'p', 0, G_OPTION_ARG_FILENAME, &pid_file,
         "Write the daemon's PID to FILE", "FILE"},
        {"log-file", 'l', 0, G_OPTION_ARG_FILENAME, &log_file,
         "Append log messages to FILE instead of stderr", "FILE"},
        {"debug", 0, 0, G_OPTION_ARG_NONE, &opt_debug_flag,
         "Log debug messages", NULL},
        {"check-config", 0, 0, G_OPTION_ARG_NONE, &opt_check,
         "Check the configuration and exit", NULL},
        {"version", 'V', 0, G_OPTION_ARG_NONE, &opt_version,
         "Print the version and exit", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("- the umbra virtualization-layer manager daemon");
    g_autoptr(GError) err = NULL;
    g_autoptr(UmbraConfig) cfg = NULL;
    g_autoptr(TsdbStore) store = NULL;
    g_autoptr(Monitor) m = NULL;
    g_autoptr(Dispatch) disp = NULL;
    Forecaster *fc = NULL;
    guint risk_timer = 0;
    SampleSinks sinks = {0};
    Predictor *pred = NULL;
    ShadowManager *shadows = NULL;
    guint risk_sub = 0;
    g_autoptr(RpcServer) server = NULL;
    g_autoptr(HookSock) hook = NULL;
    g_autofree char *store_dir = NULL;
    Daemon d = {0};

    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_summary(ctx, "Watches the domains of every "
                                      "configured libvirt host and serves "
                                      "umbractl.");
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "umbrad: %s\n", err->message);
        fprintf(stderr, "Try 'umbrad --help'.\n");
        return 1;
    }
    if (opt_version) {
        printf("umbrad %s\n", UMBRA_VERSION);
        return 0;
    }
    opt_debug = opt_debug_flag;
    if (!config_path) {
        config_path = g_strdup(UMBRA_CONF_DEFAULT);
    }
    cfg = umbra_config_load(config_path, &err);
    if (!cfg) {
        fprintf(stderr, "umbrad: %s\n", err->message);
        return 1;
    }
    if (opt_check) {
        printf("%s: OK (%u host(s) in %u cell(s), interval %" G_GINT64_FORMAT
               " s)\n",
               config_path, cfg->hosts->len, cfg->cells->len, cfg->interval_s);
        return 0;
    }
    if (opt_daemon && !daemonize_begin()) {
        fprintf(stderr, "umbrad: cannot daemonize: %s\n", g_strerror(errno));
        return 2;
    }
    if (log_file) {
        log_fd =
            open(log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (log_fd < 0) {
            return startup_fail(2, "cannot open log file %s: %s", log_file,
                                g_strerror(errno));
        }
    }
    g_log_set_writer_func(log_writer, NULL, NULL);

    store_dir = g_path_get_dirname(cfg->store_path);
    if (g_mkdir_with_parents(store_dir, 0750) < 0) {
        return startup_fail(2, "cannot create %s: %s", store_dir,
                            g_strerror(errno));
    }
    g_mkdir_with_parents(cfg->spool_dir, 0700);
    store = tsdb_store_open(cfg->store_path, &err);
    if (!store) {
        return startup_fail(2, "%s", err->message);
    }

    /* The main thread owns the default main context from before any
     * other thread runs to the end: libvirt's event thread iterates that
     * context too, and would otherwise run umbrad's handlers (monitor
     * results, RPC, timers) beside the main thread whenever the main loop
     * is not running (start-up, shutdown).  While it runs, the main loop
     * dispatches libvirt's handles as well. */
    if (!g_main_context_acquire(NULL)) {
        return startup_fail(2, "cannot own the main context");
    }
    sys_virt_init();
    m = monitor_new(cfg, &sys_virt_libvirt_ops, store);
    if (strcmp(cfg->forecast_model, "off") != 0) {
        fc =
            forecaster_new(store, cfg->forecast_refit_s, cfg->forecast_step_s,
                           (FcModel) fc_model_from_string(cfg->forecast_model));
    }
    sinks.fc = fc;
    if (cfg->risk) {
        pred = predictor_new(cfg, m, fc, store);
        sinks.pred = pred;
        risk_sub = monitor_subscribe(m, on_risk_event, &sinks);
    }
    monitor_set_sample_func(m, on_sample, &sinks);
    disp = dispatch_new(m, cfg, fc);
    dispatch_set_predictor(disp, pred);
    if (pred) {
        shadows =
            shadow_manager_new(cfg, &sys_virt_libvirt_ops, m, pred, store);
        sinks.shadows = shadows;
        dispatch_set_shadows(disp, shadows);
    }
    server = rpc_server_new(cfg->socket_path, cfg->socket_group,
                            dispatch_handle, dispatch_client_gone, disp, &err);
    if (!server) {
        return startup_fail(2, "%s", err->message);
    }
    hook = hooksock_new(cfg->hook_socket_path, m, &err);
    if (!hook) {
        return startup_fail(2, "%s", err->message);
    }
    if (pid_file && !write_pidfile(pid_file, &err)) {
        g_warning("cannot write pid file: %s", err->message);
        g_clear_error(&err);
    }
    daemonize_end(0);

    d.loop = g_main_loop_new(NULL, FALSE);
    d.m = m;
    d.cfg = cfg;
    g_unix_signal_add(SIGTERM, on_quit_signal, &d);
    g_unix_signal_add(SIGINT, on_quit_signal, &d);
    g_unix_signal_add(SIGHUP, on_hup, &d);
    g_timeout_add_seconds(SPOOL_EVERY_S, on_spool_timer, &d);
    g_timeout_add_seconds(MAINTAIN_EVERY_S, on_maintain_timer, &d);
    if (fc) {
        g_timeout_add_seconds((guint) forecaster_tick_interval(fc),
                              on_forecast_timer, fc);
    }
    if (pred) {
        risk_timer = g_timeout_add_seconds((guint) cfg->risk_interval_s,
                                           on_risk_timer, &sinks);
        if (fc) {
            forecaster_set_fit_func(fc, on_fit, &sinks);
        }
    }

    monitor_post_event(m, umbra_event_new(EVENT_SOURCE_DAEMON, NULL, NULL, NULL,
                                          "daemon-start", UMBRA_VERSION));
    g_message("umbrad %s started: %u host(s), interval %" G_GINT64_FORMAT
              " s, store %s, socket %s",
              UMBRA_VERSION, cfg->hosts->len, cfg->interval_s, cfg->store_path,
              cfg->socket_path);
    monitor_start(m);
    monitor_maintain(m);
    if (shadows) {
        shadow_manager_start(shadows);
    }
    g_main_loop_run(d.loop);

    /* Before the monitor stops: running jobs are cancelled, and their
     * late results are dropped. */
    dispatch_set_shadows(disp, NULL);
    sinks.shadows = NULL;
    g_clear_pointer(&shadows, shadow_manager_free);

    monitor_stop(m, 3000);
    monitor_post_event(m, umbra_event_new(EVENT_SOURCE_DAEMON, NULL, NULL, NULL,
                                          "daemon-stop", NULL));
    monitor_maintain(m);
    g_clear_pointer(&hook, hooksock_free);
    g_clear_pointer(&server, rpc_server_free);
    g_clear_pointer(&disp, dispatch_free);
    monitor_set_sample_func(m, NULL, NULL);
    if (pred) {
        monitor_unsubscribe(m, risk_sub);
    }
    if (fc) {
        forecaster_set_fit_func(fc, NULL, NULL);
    }
    if (sinks.risk_soon) {
        g_source_remove(sinks.risk_soon);
        sinks.risk_soon = 0;
    }
    if (risk_timer) {
        g_source_remove(risk_timer);
    }
    /* forecaster_free() below still runs the main context. */
    sinks.pred = NULL;
    g_clear_pointer(&pred, predictor_free);
    g_clear_pointer(&fc, forecaster_free);
    if (pid_file) {
        unlink(pid_file);
    }
    g_main_loop_unref(d.loop);
    g_main_context_release(NULL);
    g_message("umbrad stopped");
    return 0;
}
