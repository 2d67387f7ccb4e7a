/* sobre: the command line. Parses options, loads the config, runs the server until
 * SIGINT or SIGTERM; SIGHUP reloads the config. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "server.h"
#include "tools.h"

static const char usage[] =
    "usage: sobre [-c FILE] [-v]...\n"
    "       sobre --check-config FILE | --default-config | --version | --help\n"
    "       sobre passwd                  (hash a room password for the config)\n"
    "       sobre token [-c FILE] ROOM NAME [participant|listener|moderator] [HOURS]\n"
    "       sobre status [-c FILE] [--names]  (rooms, participants, traffic of the running "
    "server)\n"
    "\n"
    "A video-conferencing server (SFU) for small hosts: audio first, video capped.\n"
    "\n"
    "  -c, --config FILE       run with this config file (default: the embedded one)\n"
    "      --check-config FILE check FILE and exit: 0 if valid, 1 with the error if not\n"
    "      --default-config    print the embedded default config and exit\n"
    "  -v, --verbose           log debug lines too (whatever log.level says)\n"
    "      --version           print the version and exit\n"
    "  -h, --help              print this help and exit\n";

/* Signals are blocked in every thread and taken here, so stopping is ordinary code. */
static void *signal_thread(void *arg)
{
    server_t *srv = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    int sig = 0;
    /* SIGHUP (systemctl reload) reloads the config file; the meeting goes on. */
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
        log_info("received SIGHUP: reloading the configuration");
        server_request_reload(srv);
    }
    log_info("received %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
    server_request_stop(srv);
    return NULL;
}

static int run(const config_t *cfg, const char *config_path)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    char err[CONFIG_ERROR_MAX];
    server_t *srv;
    if (server_new(cfg, config_path, &srv, err, sizeof err) != 0) {
        fprintf(stderr, "sobre: %s\n", err);
        return 1;
    }
    pthread_t sig_thread;
    pthread_create(&sig_thread, NULL, signal_thread, srv);
    int rc = server_run(srv);
    /* server_run also returns when lws fails; make sure the signal thread ends. */
    pthread_kill(sig_thread, SIGTERM);
    pthread_join(sig_thread, NULL);
    server_free(srv);
    log_info("stopped");
    return rc == 0 ? 0 : 1;
}

static int check_config(const char *path)
{
    config_t *cfg;
    char err[CONFIG_ERROR_MAX];
    if (config_load(path, &cfg, err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    config_free(cfg);
    printf("%s: ok\n", path);
    return 0;
}

int main(int argc, char **argv)
{
    enum { OPT_CHECK = 256, OPT_DEFAULT, OPT_VERSION };
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", required_argument, NULL, OPT_CHECK},
        {"default-config", no_argument, NULL, OPT_DEFAULT},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (argc >= 2 && !strcmp(argv[1], "passwd")) return tools_passwd(stdin, stdout, stderr);
    if (argc >= 2 && !strcmp(argv[1], "token"))
        return tools_token(argc - 1, argv + 1, stdout, stderr);
    if (argc >= 2 && !strcmp(argv[1], "status"))
        return tools_status(argc - 1, argv + 1, stdout, stderr);
    const char *config_path = NULL;
    int verbose = 0, opt;
    while ((opt = getopt_long(argc, argv, "c:vh", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case 'v':
            verbose++;
            break;
        case OPT_CHECK:
            return check_config(optarg);
        case OPT_DEFAULT:
            fputs(config_default_json, stdout);
            return 0;
        case OPT_VERSION:
            printf("sobre %s\n", SOBRE_VERSION);
            return 0;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs("try: sobre --help\n", stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sobre: unexpected argument \"%s\"\ntry: sobre --help\n", argv[optind]);
        return 2;
    }
    config_t *cfg;
    char err[CONFIG_ERROR_MAX];
    if (config_path) {
        if (config_load(config_path, &cfg, err) != 0) {
            fprintf(stderr, "sobre: %s\n", err);
            return 1;
        }
    } else {
        cfg = config_default();
    }
    log_set_level(verbose ? LOG_DEBUG : (log_level_t)cfg->log_level);
    int rc = run(cfg, config_path);
    config_free(cfg);
    return rc;
}
