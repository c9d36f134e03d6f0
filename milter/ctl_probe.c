/*
 * ctl_probe - relaygatectl "probe": run probe.h, write the result, and
 * with --send hand the signed message to sendmail(1).
 *
 * The message submitted is exactly the one verified.  If the local MTA
 * runs relaygate on locally submitted mail too (Postfix
 * non_smtpd_milters), the milter judges it like any other message and
 * adds its own signature: two valid signatures with the same d= and s=,
 * which receivers accept (RFC 6376 section 4: any passing signature
 * will do).  The milter is not taught to skip "already signed"
 * messages: a copied DKIM-Signature field would then get unsigned mail
 * through.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_env.h"
#include "ctl_probe.h"
#include "log.h"
#include "probe.h"
#include "probe_render.h"
#include "util.h"

#define CTL_PROBE_SENDMAIL "/usr/sbin/sendmail"

/* Options of "probe". */
struct ctl_probe_opts {
	const char *domain;
	int json;
	int verbose;
	const char *resolver;
	const char *from;
	const char *send;
	const char *sendmail;
	const char *save;
};

/* ctl_probe_usage - the synopsis; returns 2 */
static int
ctl_probe_usage(void)
{
	fprintf(stderr,
	        "usage: relaygatectl probe DOMAIN [--json] [--from ADDRESS] "
	        "[--send ADDRESS [--sendmail PATH]] [--save FILE] "
	        "[--resolver ADDR[@PORT]] [-v]\n");
	return 2;
}

/* ctl_probe_parse - the options; argv[-1] is the command's name */
static int
ctl_probe_parse(int argc, char **argv, struct ctl_probe_opts *o)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'J'},
	    {"resolver", required_argument, NULL, 'r'},
	    {"from", required_argument, NULL, 'F'},
	    {"send", required_argument, NULL, 's'},
	    {"sendmail", required_argument, NULL, 'S'},
	    {"save", required_argument, NULL, 'w'},
	    {"verbose", no_argument, NULL, 'v'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->sendmail = CTL_PROBE_SENDMAIL;
	optind = 0;
	while ((c = getopt_long(argc + 1, argv - 1, "v", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'J':
			o->json = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'r':
			o->resolver = optarg;
			break;
		case 'F':
			o->from = optarg;
			break;
		case 's':
			o->send = optarg;
			break;
		case 'S':
			o->sendmail = optarg;
			break;
		case 'w':
			o->save = optarg;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc)
		return -1;
	o->domain = argv[optind - 1];
	return 0;
}

/*
 * ctl_probe_log - the milter's decision line (level info) on stderr with
 * -v only; warnings and errors always.
 */
static void
ctl_probe_log(const struct ctl_probe_opts *o)
{
	struct log_settings s = {
	    .destination = LOG_DEST_STDERR,
	    .level = o->verbose ? LOG_LEVEL_INFO : LOG_LEVEL_WARNING,
	    .format = LOG_FORMAT_LOGFMT,
	};

	log_setup(&s);
}

/* ctl_probe_write - text to fd with CRLF made LF; -1 on a write error */
static int
ctl_probe_write(int fd, const char *text, size_t len)
{
	char *lf = xmalloc(len + 1);
	size_t n = 0, off = 0;
	ssize_t w;
	int rc = 0;

	for (size_t i = 0; i < len; i++)
		if (!(text[i] == '\r' && i + 1 < len && text[i + 1] == '\n'))
			lf[n++] = text[i];
	while (off < n && rc == 0) {
		if ((w = write(fd, lf + off, n - off)) > 0)
			off += (size_t) w;
		else if (w == 0 || errno != EINTR)
			rc = -1;
	}
	free(lf);
	return rc;
}

/*
 * ctl_probe_exec - the child: the message on stdin, our stderr as its
 * stdout (ours may be JSON).  Between fork and exec of a process with
 * threads only async-signal-safe calls: no stdio.
 */
static void
ctl_probe_exec(int in, const char *sendmail, const char *sender, const char *to)
{
	static const char msg[] = "relaygatectl: cannot run sendmail\n";

	if (dup2(in, STDIN_FILENO) >= 0 &&
	    dup2(STDERR_FILENO, STDOUT_FILENO) >= 0)
		execl(sendmail, sendmail, "-i", "-f", sender, "--", to,
		      (char *) NULL);
	(void) !write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(127);
}

/*
 * ctl_probe_send - "sendmail -i -f SENDER -- TO" with the message on its
 * standard input (LF line ends, as sendmail wants them); 0 if sendmail
 * took it.
 */
static int
ctl_probe_send(const char *sendmail, const char *sender, const char *to,
               const struct probe_result *r, char *why, size_t whylen)
{
	int fds[2], st = 0, wrote;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return util_why(why, whylen, "pipe: %s", strerror(errno));
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return util_why(why, whylen, "fork: %s", strerror(errno));
	}
	if (pid == 0)
		ctl_probe_exec(fds[0], sendmail, sender, to);
	close(fds[0]);
	wrote = ctl_probe_write(fds[1], r->message, r->message_len);
	close(fds[1]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && wrote == 0)
		return 0;
	if (WIFSIGNALED(st))
		return util_why(why, whylen, "%s: killed by signal %d",
		                sendmail, WTERMSIG(st));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return util_why(why, whylen, "%s could not be run", sendmail);
	return util_why(why, whylen, "%s: exit status %d%s", sendmail,
	                WIFEXITED(st) ? WEXITSTATUS(st) : -1,
	                wrote < 0 ? ", the message was not read whole" : "");
}

/* ctl_probe_save - the message as the relay sends it, to a file */
static int
ctl_probe_save(const char *path, const struct probe_result *r)
{
	FILE *f = fopen(path, "we");

	if (f == NULL ||
	    fwrite(r->message, 1, r->message_len, f) != r->message_len) {
		fprintf(stderr, "relaygatectl: %s: %s\n", path,
		        strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "relaygatectl: %s: %s\n", path,
		        strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * ctl_probe_deliver - --save and --send; a failure makes a passing
 * probe's exit status 2.  A refused message is neither saved nor sent:
 * the relay would not pass it on.
 */
static int
ctl_probe_deliver(const struct ctl_probe_opts *o, const struct probe_result *r,
                  struct probe_render_sent *sent, char *why, size_t whylen,
                  int status)
{
	int failed = 0;

	if (o->save != NULL && r->relay != PROBE_RELAY_REFUSED)
		failed |= ctl_probe_save(o->save, r) < 0;
	if (o->send == NULL)
		return failed && status == 0 ? 2 : status;
	*sent = (struct probe_render_sent){
	    .to = o->send, .sendmail = o->sendmail, .ok = 0, .why = why};
	if (r->relay == PROBE_RELAY_REFUSED)
		util_strlcpy(why, "not sent: the relay would refuse it",
		             whylen);
	else
		sent->ok = ctl_probe_send(o->sendmail, r->sender, o->send, r,
		                          why, whylen) == 0;
	failed |= !sent->ok;
	return failed && status == 0 ? 2 : status;
}

/*
 * ctl_probe_runtime - the configuration with its keys, as the daemon
 * builds it; the reference taken is the runtime's (config_ref() only
 * counts, so the const configuration is not changed).
 */
static struct runtime *
ctl_probe_runtime(const struct config *cfg)
{
	char why[1024];
	struct runtime *rt = runtime_build(config_ref((struct config *) cfg),
	                                   NULL, why, sizeof(why));

	if (rt == NULL)
		fprintf(stderr, "relaygatectl: %s\n", why);
	return rt;
}

/* ctl_probe_run - probe, deliver, write; the exit status */
static int
ctl_probe_run(const struct ctl_probe_opts *o, const struct probe_env *pe,
              const struct config *cfg)
{
	struct probe_result *r = xcalloc(1, sizeof(*r));
	struct probe_opts po = {.sender = o->from, .to = o->send};
	struct probe_render_sent sent;
	char why[1024];
	int status = 2;

	if (probe_run(pe, o->domain, &po, r, why, sizeof(why)) < 0) {
		fprintf(stderr, "relaygatectl: %s: %s\n", o->domain, why);
	} else {
		status = ctl_probe_deliver(o, r, &sent, why, sizeof(why),
		                           probe_exit(r->status));
		probe_render(stdout, o->json, cfg, r,
		             o->send != NULL ? &sent : NULL, status);
	}
	probe_result_clear(r);
	free(r);
	return status;
}

/* ctl_probe - "probe DOMAIN [options]" */
int
ctl_probe(const struct config *cfg, int argc, char **argv)
{
	struct ctl_probe_opts o;
	struct probe_env pe = {0};
	struct ctl_env e;
	char why[1024];
	int status = 2;

	if (ctl_probe_parse(argc, argv, &o) < 0)
		return ctl_probe_usage();
	ctl_probe_log(&o);
	signal(SIGPIPE, SIG_IGN); /* sendmail may exit before reading all */
	if (ctl_env_open(cfg, o.resolver, CHECK_SPF, &e) < 0)
		return 2;
	pe = (struct probe_env){.dns = e.dns, .spf = e.spf};
	if ((pe.rt = ctl_probe_runtime(cfg)) != NULL &&
	    (pe.signer = signer_open_config(cfg, why, sizeof(why))) == NULL)
		fprintf(stderr, "relaygatectl: %s\n", why);
	if (pe.rt != NULL && pe.signer != NULL)
		status = ctl_probe_run(&o, &pe, cfg);
	signer_close(pe.signer);
	runtime_release(pe.rt);
	ctl_env_close(&e);
	return status;
}
