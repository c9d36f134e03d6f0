/*
 * relaygate - the milter daemon: start-up, reload and orderly stop.
 *
 * Start-up runs in the order daemon.h explains; anything that fails
 * before the milter serves is fatal.  Afterwards nothing is.  libmilter
 * serves in a thread of its own while the main thread waits for signals:
 * SIGUSR1 loads the configuration again and keeps the old one if the new
 * one does not validate; SIGTERM (or SIGHUP, SIGINT) defers new sessions,
 * waits (bounded by daemon.drain_timeout) for the sessions in progress to
 * finish their messages, and only then stops libmilter, which would cut
 * open sessions.
 */

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "milter.h"
#include "paths.h"
#include "util.h"

static const int main_signals[] = {SIGUSR1, SIGTERM, SIGHUP, SIGINT};

struct main_opts {
	const char *conf;
	int foreground;
	int test;
};

/* main_usage - the command line */
static void
main_usage(FILE *out)
{
	fprintf(out,
	        "usage: relaygate [-f] [-n] [-c FILE] [-V]\n"
	        "  -c FILE   configuration file (default %s)\n"
	        "  -f        stay in the foreground (systemd)\n"
	        "  -n        check the configuration and exit: 0 valid, "
	        "1 not\n"
	        "  -V        print the version and exit\n",
	        RELAYGATE_CONF);
}

/* main_args - parse the command line or exit */
static void
main_args(int argc, char **argv, struct main_opts *opts)
{
	int c;

	opts->conf = RELAYGATE_CONF;
	while ((c = getopt(argc, argv, "c:fnhV")) != -1) {
		switch (c) {
		case 'c':
			opts->conf = optarg;
			break;
		case 'f':
			opts->foreground = 1;
			break;
		case 'n':
			opts->test = 1;
			break;
		case 'V':
			printf("relaygate %s\n", RELAYGATE_VERSION_STRING);
			exit(0);
		case 'h':
			main_usage(stdout);
			exit(0);
		default:
			main_usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		main_usage(stderr);
		exit(2);
	}
}

/* main_log_setup - apply the log part of a configuration */
static void
main_log_setup(const struct config *cfg)
{
	struct log_settings s = {
	    .destination = (enum log_destination) cfg->log_destination,
	    .facility = cfg->log_facility,
	    .level = (enum log_level) cfg->log_level,
	    .format = (enum log_format) cfg->log_format,
	};

	log_setup(&s);
}

/*
 * main_reload - SIGUSR1: validate the file again, then swap.  A file that
 * does not validate is reported and the running configuration stays.
 */
static void
main_reload(const char *path)
{
	struct config *old = config_acquire();
	struct config *new;
	char why[1024], restart[512];

	if ((new = config_load(path, why, sizeof(why))) == NULL) {
		log_event(LOG_LEVEL_ERROR, "reload", "status", "failed",
		          "config", path, "reason", why, "kept",
		          "the running configuration", (const char *) NULL);
		config_release(old);
		return;
	}
	if (config_restart_changes(old, new, restart, sizeof(restart)) > 0)
		log_event(LOG_LEVEL_WARNING, "reload", "status",
		          "restart_needed", "settings", restart, "note",
		          "these settings keep their old values until restart",
		          (const char *) NULL);
	main_log_setup(new);
	config_publish(new);
	config_release(old);
	log_event(LOG_LEVEL_NOTICE, "reload", "status", "ok", "config", path,
	          (const char *) NULL);
}

/* main_start - everything before serving; any failure is fatal */
static void
main_start(const struct main_opts *opts, struct config *cfg)
{
	char why[1024];

	daemon_block_signals();
	if (!opts->foreground && daemon_detach(why, sizeof(why)) < 0)
		fatal("%s", why);
	main_log_setup(cfg);
	if (milter_listen(cfg, why, sizeof(why)) < 0)
		fatal("%s", why);
	if (cfg->pid_file[0] != '\0' &&
	    daemon_pidfile_write(cfg->pid_file, why, sizeof(why)) < 0)
		fatal("%s", why);
	if (daemon_drop_privileges(cfg->user, cfg->group, why, sizeof(why)) < 0)
		fatal("%s", why);
}

static int main_milter_rc = -1; /* milter_run()'s result */
static int main_milter_done;    /* atomic: libmilter's loop ended */

/*
 * main_milter_thread - libmilter's loop.  Should it end on its own (a
 * listener failure), the main thread is woken to stop the daemon.
 */
static void *
main_milter_thread(void *arg)
{
	(void) arg;
	main_milter_rc = milter_run();
	__atomic_store_n(&main_milter_done, 1, __ATOMIC_RELEASE);
	kill(getpid(), SIGTERM);
	return NULL;
}

/* main_serve - reload on SIGUSR1 until a stop signal arrives */
static void
main_serve(const char *conf)
{
	int sig;

	while ((sig = daemon_wait_signal(main_signals, 4, -1)) == SIGUSR1)
		main_reload(conf);
	log_event(LOG_LEVEL_NOTICE, "signal", "signal", sigabbrev_np(sig),
	          (const char *) NULL);
}

/*
 * main_drain - defer new sessions and wait, bounded, for the open ones to
 * end.  A second stop signal cuts the wait short.  Returns the sessions
 * still open.
 */
static long
main_drain(int64_t timeout_ms)
{
	int64_t deadline = util_monotonic_ms() + timeout_ms;
	struct milter_counts c;
	int sig;

	milter_refuse_new();
	for (;;) {
		milter_counts(&c);
		if (c.sessions == 0 || util_monotonic_ms() >= deadline ||
		    __atomic_load_n(&main_milter_done, __ATOMIC_ACQUIRE))
			return c.sessions;
		sig = daemon_wait_signal(main_signals, 4, 100);
		if (sig != 0 && sig != SIGUSR1) {
			log_event(LOG_LEVEL_WARNING, "stopping", "forced_by",
			          sigabbrev_np(sig), (const char *) NULL);
			return c.sessions;
		}
	}
}

/* main_stop - drain, stop libmilter, report, clean up */
static void
main_stop(pthread_t milter_thread, const char *pid_file)
{
	struct config *cfg = config_acquire();
	struct milter_counts counts;
	char timeout[32], left[32], done[32], alive[32];

	snprintf(timeout, sizeof(timeout), "%lld",
	         (long long) cfg->drain_timeout_ms);
	log_event(LOG_LEVEL_NOTICE, "stopping", "drain_timeout_ms", timeout,
	          (const char *) NULL);
	snprintf(left, sizeof(left), "%ld", main_drain(cfg->drain_timeout_ms));
	milter_stop();
	pthread_join(milter_thread, NULL);
	milter_counts(&counts);
	snprintf(done, sizeof(done), "%ld", counts.completed);
	snprintf(alive, sizeof(alive), "%ld", counts.messages);
	log_event(LOG_LEVEL_NOTICE, "stop", "sessions_cut", left, "messages",
	          done, "contexts_alive", alive, (const char *) NULL);
	milter_unlink_socket();
	daemon_pidfile_remove(pid_file);
	config_release(cfg);
}

int
main(int argc, char **argv)
{
	struct main_opts opts = {0};
	struct config *cfg;
	pthread_t milter_thread;
	char why[1024];
	char *pid_file;
	int err;

	main_args(argc, argv, &opts);
	if ((cfg = config_load(opts.conf, why, sizeof(why))) == NULL) {
		fprintf(stderr, "relaygate: %s\n", why);
		return 1;
	}
	if (opts.test) {
		printf("relaygate: %s: configuration OK\n", opts.conf);
		config_release(cfg);
		return 0;
	}
	main_start(&opts, cfg);
	pid_file = xstrdup(cfg->pid_file);
	log_event(LOG_LEVEL_NOTICE, "start", "version",
	          RELAYGATE_VERSION_STRING, "config", opts.conf, "socket",
	          cfg->socket, (const char *) NULL);
	config_publish(cfg);
	if ((err = pthread_create(&milter_thread, NULL, main_milter_thread,
	                          NULL)) != 0)
		fatal("pthread_create: %s", strerror(err));
	main_serve(opts.conf);
	main_stop(milter_thread, pid_file);
	free(pid_file);
	return main_milter_rc == 0 ? 0 : 1;
}
