/*
 * relaygate - the milter daemon: start-up, reload and orderly stop.
 *
 * Start-up runs in the order daemon.h explains; anything that fails
 * before the milter serves is fatal.  Afterwards nothing is.  The milter
 * serves in a thread of its own while the main thread waits for signals:
 * SIGUSR1 loads the configuration again and keeps the old one if the new
 * one does not validate; SIGTERM (or SIGHUP, SIGINT) defers new sessions,
 * waits (bounded by daemon.drain_timeout) for the sessions in progress to
 * finish their messages, and only then stops the milter, which cuts the
 * sessions still open.
 */

#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "cache.h"
#include "config.h"
#include "daemon.h"
#include "dkim_check.h"
#include "dns.h"
#include "judge.h"
#include "log.h"
#include "memory.h"
#include "metrics.h"
#include "metrics_http.h"
#include "milter.h"
#include "paths.h"
#include "runtime.h"
#include "signer.h"
#include "snapshot.h"
#include "spf_check.h"
#include "util.h"

static const int main_signals[] = {SIGUSR1, SIGTERM, SIGHUP, SIGINT};

struct main_opts {
	const char *conf;
	int foreground;
	int test;
};

/* What the daemon opens once and every message uses. */
struct main_env {
	struct dns *dns;
	struct spf_check *spf;
	struct judge *judge;
	struct signer *signer;
	struct cache *cache;
	struct metrics *metrics;   /* counting into the cache segment */
	struct metrics_http *http; /* metrics.listen; NULL: off */
	char provider_text[1024];  /* the last provider state logged */
	int64_t provider_due;      /* monotonic ms of the next check */
	char *state_file;          /* cache.state_file; NULL: none */
	int64_t snapshot_due;      /* monotonic ms of the next snapshot */
	int cache_retired;         /* logged that the segment was replaced */
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
	/* The long forms people type first. */
	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		argv[1] = (char *) "-h";
	else if (argc > 1 && strcmp(argv[1], "--version") == 0)
		argv[1] = (char *) "-V";
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
 * main_provider_check - which selectors' keys the world can verify now,
 * stored in the runtime.  A change is logged: loudly when the active
 * selector cannot sign.
 */
static void
main_provider_check(struct main_env *env, struct runtime *rt)
{
	const struct config *cfg = rt->cfg;
	struct dkim_check_provider *p;
	char text[1024] = "";

	p = dkim_check_provider_run(env->dns, cfg, rt->keys,
	                            util_monotonic_ms() +
	                                cfg->resolver_check_timeout_ms);
	runtime_apply_provider(rt, p);
	for (size_t i = 0; i < p->n; i++)
		util_catf(text, sizeof(text), "%s%s:%s", i ? "," : "",
		          p->pub[i].selector,
		          dkim_check_pub_state_name(p->pub[i].state));
	util_catf(text, sizeof(text), " %s", p->signing.reason);
	if (strcmp(text, env->provider_text) != 0) {
		log_event(
		    p->signing.how == DKIM_CHECK_SIGN_ACTIVE ? LOG_LEVEL_NOTICE
		                                             : LOG_LEVEL_ERROR,
		    "provider_keys", "signing",
		    dkim_check_sign_name(p->signing.how), "selector",
		    p->signing.selector, "keys", text, (const char *) NULL);
		util_strlcpy(env->provider_text, text,
		             sizeof(env->provider_text));
	}
	env->provider_due =
	    util_monotonic_ms() + cfg->dkim_provider_interval_ms;
	dkim_check_provider_free(p);
}

/*
 * main_reload - SIGUSR1: validate the file and the keys again, check the
 * provider side, then swap.  Anything that does not validate is reported
 * and the running configuration stays.
 */
static void
main_reload(struct main_env *env, const char *path)
{
	struct runtime *old = runtime_acquire();
	struct runtime *rt;
	struct config *new;
	char why[1024], restart[512];

	if ((new = config_load(path, why, sizeof(why))) == NULL ||
	    (rt = runtime_build(new, old, why, sizeof(why))) == NULL) {
		log_event(LOG_LEVEL_ERROR, "reload", "status", "failed",
		          "config", path, "reason", why, "kept",
		          "the running configuration", (const char *) NULL);
		runtime_release(old);
		return;
	}
	if (config_restart_changes(old->cfg, new, restart, sizeof(restart)) > 0)
		log_event(LOG_LEVEL_WARNING, "reload", "status",
		          "restart_needed", "settings", restart, "note",
		          "these settings keep their old values until restart",
		          (const char *) NULL);
	main_log_setup(new);
	env->provider_text[0] = '\0';
	main_provider_check(env, rt);
	runtime_publish(rt);
	runtime_release(old);
	log_event(LOG_LEVEL_NOTICE, "reload", "status", "ok", "config", path,
	          (const char *) NULL);
}

/* main_cache_gid - the segment's group: cache.group, else daemon.group */
static gid_t
main_cache_gid(const struct config *cfg)
{
	const char *name = cfg->cache_group[0] ? cfg->cache_group : cfg->group;
	struct group *gr;

	if (name[0] == '\0')
		return (gid_t) -1;
	if ((gr = getgrnam(name)) == NULL)
		fatal("cache.group: no group '%s'", name);
	return gr->gr_gid;
}

/*
 * main_snapshot_load - merge the state file into the table; a file that
 * cannot be used is reported and ignored.
 */
static void
main_snapshot_load(struct main_env *env)
{
	struct snapshot_info info;
	char why[1024], n[32];

	if (env->state_file == NULL)
		return;
	if (snapshot_load(env->cache, env->state_file, &info, why,
	                  sizeof(why)) != 0) {
		log_event(LOG_LEVEL_WARNING, "state_file", "status", "ignored",
		          "path", env->state_file, "reason", why,
		          (const char *) NULL);
		return;
	}
	snprintf(n, sizeof(n), "%zu", info.records);
	log_event(LOG_LEVEL_INFO, "state_file", "status",
	          info.absent ? "absent" : "loaded", "path", env->state_file,
	          "records", n, (const char *) NULL);
}

/* main_snapshot_save - write the state file; a failure is reported */
static void
main_snapshot_save(struct main_env *env, enum log_level level)
{
	struct snapshot_info info;
	char why[1024], n[32];

	if (env->state_file == NULL)
		return;
	if (snapshot_save(env->cache, env->state_file, util_realtime_s(), &info,
	                  why, sizeof(why)) != 0) {
		log_event(LOG_LEVEL_WARNING, "state_file", "status",
		          "not_saved", "reason", why, (const char *) NULL);
		return;
	}
	snprintf(n, sizeof(n), "%zu", info.records);
	log_event(level, "state_file", "status", "saved", "path",
	          env->state_file, "records", n, (const char *) NULL);
}

/*
 * main_cache_open - the shared verdict table and the state file, before
 * privileges are dropped: the segment is created (or re-attached) by the
 * root-started daemon, whose mapping stays writable afterwards.  A table
 * that cannot be opened is fatal.
 */
static void
main_cache_open(struct main_env *env, const struct config *cfg)
{
	static const char *const origins[] = {
	    [CACHE_ATTACHED] = "attached",
	    [CACHE_CREATED] = "created",
	    [CACHE_RECREATED] = "recreated",
	};
	struct cache_stats st;
	char why[1024] = "", n[32], cap[32];

	env->cache = cache_open(cfg->cache_name, (size_t) cfg->cache_capacity,
	                        (mode_t) cfg->cache_mode, main_cache_gid(cfg),
	                        0, why, sizeof(why));
	if (env->cache == NULL)
		fatal("shared-memory cache: %s", why);
	cache_stats(env->cache, &st);
	snprintf(n, sizeof(n), "%zu", st.entries);
	snprintf(cap, sizeof(cap), "%zu", st.capacity);
	log_event(
	    cache_origin(env->cache) == CACHE_RECREATED ? LOG_LEVEL_WARNING
	                                                : LOG_LEVEL_NOTICE,
	    "cache", "segment", cfg->cache_name, "origin",
	    origins[cache_origin(env->cache)], "entries", n, "capacity", cap,
	    why[0] ? "reason" : (const char *) NULL, why, (const char *) NULL);
	if (cfg->cache_state_file[0] != '\0')
		env->state_file = xstrdup(cfg->cache_state_file);
	env->snapshot_due =
	    util_monotonic_ms() + cfg->cache_snapshot_interval_ms;
	main_snapshot_load(env);
	env->metrics = metrics_open(env->cache);
}

/*
 * main_metrics_listen - bind the metrics listener (metrics.listen) while
 * still root, so that any port works; it serves from main_open() on.
 */
static void
main_metrics_listen(struct main_env *env, const struct config *cfg)
{
	char why[1024];

	if (cfg->metrics_listen[0] == '\0')
		return;
	env->http = metrics_http_open(cfg->metrics_listen, env->cache, why,
	                              sizeof(why));
	if (env->http == NULL)
		fatal("%s", why);
}

/* main_judge_acquire - a background refresh checks with the current runtime */
static int
main_judge_acquire(struct judge_env *je, void *arg)
{
	struct runtime *rt = runtime_acquire();

	(void) arg;
	if (rt == NULL)
		return -1;
	je->cfg = rt->cfg;
	je->keys = rt->keys;
	je->pin = rt;
	return 0;
}

/* main_judge_release - give that runtime back */
static void
main_judge_release(struct judge_env *je, void *arg)
{
	(void) arg;
	runtime_release(je->pin);
}

/*
 * main_open - the resolver, the SPF evaluator, the signer and the judge,
 * and the first provider-side check; any failure is fatal.
 */
static void
main_open(struct main_env *env, struct runtime *rt)
{
	char why[1024];

	if ((env->dns = dns_open(rt->cfg, why, sizeof(why))) == NULL ||
	    (env->spf = spf_check_open(rt->cfg, env->dns, why, sizeof(why))) ==
	        NULL ||
	    (env->signer = signer_open_config(rt->cfg, why, sizeof(why))) ==
	        NULL)
		fatal("%s", why);
	dns_set_metrics(env->dns, env->metrics);
	env->judge = judge_open(env->dns, env->spf, env->cache);
	judge_set_env(env->judge, main_judge_acquire, main_judge_release, NULL);
	judge_set_metrics(env->judge, env->metrics);
	judge_set_events(env->judge, alert_log, NULL);
	if (env->http != NULL) {
		if (metrics_http_start(env->http, why, sizeof(why)) != 0)
			fatal("%s", why);
		log_event(LOG_LEVEL_NOTICE, "metrics", "listen",
		          rt->cfg->metrics_listen, "path", "/metrics",
		          (const char *) NULL);
	}
	milter_setup(env->judge, env->signer);
	main_provider_check(env, rt);
}

/*
 * main_close - release what main_open() opened, after serving; the state
 * file is written once the judge's background refreshes are done, and
 * the segment unmapped last, as the resolver and the metrics count into
 * it.
 */
static void
main_close(struct main_env *env)
{
	metrics_http_close(env->http);
	judge_close(env->judge);
	main_snapshot_save(env, LOG_LEVEL_NOTICE);
	free(env->state_file);
	signer_close(env->signer);
	spf_check_close(env->spf);
	dns_close(env->dns);
	metrics_close(env->metrics);
	cache_close(env->cache);
}

/*
 * main_start - everything before serving; any failure is fatal.  Keys are
 * read and the socket opened as root, then privileges are dropped, then
 * the threads start (the resolver's pump among them).
 */
static struct runtime *
main_start(const struct main_opts *opts, struct config *cfg,
           struct main_env *env)
{
	struct runtime *rt;
	char why[1024];

	daemon_block_signals();
	if (!opts->foreground && daemon_detach(why, sizeof(why)) < 0)
		fatal("%s", why);
	main_log_setup(cfg);
	if ((rt = runtime_build(cfg, NULL, why, sizeof(why))) == NULL)
		fatal("%s", why);
	if (milter_listen(rt->cfg, why, sizeof(why)) < 0)
		fatal("%s", why);
	if (rt->cfg->pid_file[0] != '\0' &&
	    daemon_pidfile_write(rt->cfg->pid_file, why, sizeof(why)) < 0)
		fatal("%s", why);
	main_cache_open(env, rt->cfg);
	main_metrics_listen(env, rt->cfg);
	if (daemon_drop_privileges(rt->cfg->user, rt->cfg->group, why,
	                           sizeof(why)) < 0)
		fatal("%s", why);
	main_open(env, rt);
	return rt;
}

static int main_milter_rc = -1; /* milter_run()'s result */
static int main_milter_done;    /* atomic: the milter's loop ended */

/*
 * main_milter_thread - the milter's loop.  Should it end on its own (a
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

/*
 * main_housekeeping - the periodic work of the main thread; returns how
 * long it may sleep.
 */
static int64_t
main_housekeeping(struct main_env *env)
{
	int64_t now = util_monotonic_ms(), next;
	struct runtime *rt = runtime_acquire();

	if (rt != NULL && now >= env->provider_due)
		main_provider_check(env, rt);
	if (rt != NULL && env->state_file != NULL && now >= env->snapshot_due) {
		main_snapshot_save(env, LOG_LEVEL_DEBUG);
		env->snapshot_due =
		    util_monotonic_ms() + rt->cfg->cache_snapshot_interval_ms;
	}
	runtime_release(rt);
	if (!env->cache_retired && cache_retired(env->cache)) {
		env->cache_retired = 1;
		log_event(LOG_LEVEL_ERROR, "cache", "status", "retired", "note",
		          "another process re-created the segment (other "
		          "capacity?); restart relaygate to share it again",
		          (const char *) NULL);
	}
	next = env->provider_due;
	if (env->state_file != NULL && env->snapshot_due < next)
		next = env->snapshot_due;
	return next - util_monotonic_ms();
}

/*
 * main_serve - reload on SIGUSR1 and do the periodic work until a stop
 * signal arrives.
 */
static void
main_serve(struct main_env *env, const char *conf)
{
	int64_t sleep_ms = main_housekeeping(env);
	int sig;

	for (;;) {
		sig = daemon_wait_signal(main_signals, 4,
		                         sleep_ms > 0 ? sleep_ms : 0);
		if (sig == SIGUSR1)
			main_reload(env, conf);
		else if (sig != 0)
			break;
		sleep_ms = main_housekeeping(env);
	}
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

/* main_stop - drain, stop the milter, report, clean up */
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
	milter_close_socket();
	daemon_pidfile_remove(pid_file);
	config_release(cfg);
}

int
main(int argc, char **argv)
{
	struct main_opts opts = {0};
	struct main_env env = {0};
	struct runtime *rt;
	struct config *cfg;
	pthread_t milter_thread;
	char why[1024];
	char *pid_file;
	int err;

	main_args(argc, argv, &opts);
	memory_setup();
	if ((cfg = config_load(opts.conf, why, sizeof(why))) == NULL) {
		fprintf(stderr, "relaygate: %s\n", why);
		return 1;
	}
	if (opts.test) {
		printf("relaygate: %s: configuration OK\n", opts.conf);
		config_release(cfg);
		return 0;
	}
	rt = main_start(&opts, cfg, &env);
	pid_file = xstrdup(rt->cfg->pid_file);
	log_event(LOG_LEVEL_NOTICE, "start", "version",
	          RELAYGATE_VERSION_STRING, "config", opts.conf, "socket",
	          rt->cfg->socket, (const char *) NULL);
	runtime_publish(rt);
	if ((err = pthread_create(&milter_thread, NULL, main_milter_thread,
	                          NULL)) != 0)
		fatal("pthread_create: %s", strerror(err));
	main_serve(&env, opts.conf);
	main_stop(milter_thread, pid_file);
	main_close(&env);
	free(pid_file);
	return main_milter_rc == 0 ? 0 : 1;
}
