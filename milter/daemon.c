/*
 * daemon - signal masks, detaching, the pid file, dropping privileges.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "util.h"

/* daemon_block_signals - block the signals the main thread waits for */
void
daemon_block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* daemon_stdio_null - point stdin, stdout and stderr at /dev/null */
static int
daemon_stdio_null(char *why, size_t whylen)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return util_why(why, whylen, "/dev/null: %s", strerror(errno));
	for (int i = 0; i < 3; i++)
		if (fd != i && dup2(fd, i) < 0)
			return util_why(why, whylen, "dup2: %s",
			                strerror(errno));
	if (fd > 2)
		close(fd);
	return 0;
}

/* daemon_detach - classic double fork */
int
daemon_detach(char *why, size_t whylen)
{
	pid_t pid;

	for (int i = 0; i < 2; i++) {
		if ((pid = fork()) < 0)
			return util_why(why, whylen, "fork: %s",
			                strerror(errno));
		if (pid > 0)
			_exit(0);
		if (i == 0 && setsid() < 0)
			return util_why(why, whylen, "setsid: %s",
			                strerror(errno));
	}
	if (chdir("/") < 0)
		return util_why(why, whylen, "chdir /: %s", strerror(errno));
	return daemon_stdio_null(why, whylen);
}

/* daemon_pidfile_write - our pid, one line */
int
daemon_pidfile_write(const char *path, char *why, size_t whylen)
{
	char line[32];
	int fd, len;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return util_why(why, whylen, "pid file %s: %s", path,
		                strerror(errno));
	len = snprintf(line, sizeof(line), "%ld\n", (long) getpid());
	if (write(fd, line, (size_t) len) != len) {
		close(fd);
		return util_why(why, whylen, "pid file %s: write failed", path);
	}
	return close(fd) < 0 ? util_why(why, whylen, "pid file %s: %s", path,
	                                strerror(errno))
	                     : 0;
}

/* daemon_pidfile_remove - best effort */
void
daemon_pidfile_remove(const char *path)
{
	if (path[0] != '\0')
		(void) unlink(path);
}

/* daemon_target_gid - the group to run as */
static int
daemon_target_gid(const struct passwd *pw, const char *group, gid_t *gid,
                  char *why, size_t whylen)
{
	struct group *gr;

	if (group[0] == '\0') {
		*gid = pw->pw_gid;
		return 0;
	}
	if ((gr = getgrnam(group)) == NULL)
		return util_why(why, whylen, "daemon.group: no group '%s'",
		                group);
	*gid = gr->gr_gid;
	return 0;
}

/* daemon_drop_privileges - become the configured user */
int
daemon_drop_privileges(const char *user, const char *group, char *why,
                       size_t whylen)
{
	struct passwd *pw;
	gid_t gid = 0;

	if (user[0] == '\0')
		return 0;
	if ((pw = getpwnam(user)) == NULL)
		return util_why(why, whylen, "daemon.user: no user '%s'", user);
	if (geteuid() != 0) {
		if (geteuid() == pw->pw_uid)
			return 0;
		return util_why(why, whylen,
		                "daemon.user is '%s' but "
		                "relaygate runs unprivileged as uid %ld",
		                user, (long) geteuid());
	}
	if (daemon_target_gid(pw, group, &gid, why, whylen) < 0)
		return -1;
	if (initgroups(user, gid) < 0 || setgid(gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		return util_why(why, whylen, "cannot become %s: %s", user,
		                strerror(errno));
	if (pw->pw_uid != 0 && setuid(0) == 0)
		return util_why(why, whylen, "privileges were not dropped");
	return 0;
}

/* daemon_wait_signal - synchronous wait for one of a few signals */
int
daemon_wait_signal(const int *sigs, int nsigs, int64_t timeout_ms)
{
	struct timespec ts = {.tv_sec = (time_t) (timeout_ms / 1000),
	                      .tv_nsec = (long) (timeout_ms % 1000) * 1000000};
	sigset_t set;
	int sig;

	sigemptyset(&set);
	for (int i = 0; i < nsigs; i++)
		sigaddset(&set, sigs[i]);
	do {
		sig = timeout_ms < 0 ? sigwaitinfo(&set, NULL)
		                     : sigtimedwait(&set, NULL, &ts);
	} while (sig < 0 && errno == EINTR);
	return sig < 0 ? 0 : sig;
}
