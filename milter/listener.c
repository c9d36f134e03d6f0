/*
 * listener - open the listening socket of a milter socket specification.
 */

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listener.h"
#include "util.h"

/* listener_unix - a unix socket, mode 0600 from the start */
static int
listener_unix(const struct sockspec *spec, char *why, size_t whylen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	mode_t old_umask;
	int fd, rc;

	util_strlcpy(sun.sun_path, spec->path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return util_why(why, whylen, "socket: %s", strerror(errno));
	if (unlink(spec->path) < 0 && errno != ENOENT) {
		close(fd);
		return util_why(why, whylen, "cannot remove %s: %s", spec->path,
		                strerror(errno));
	}
	old_umask = umask(0177);
	rc = bind(fd, (struct sockaddr *) &sun, sizeof(sun));
	umask(old_umask);
	if (rc < 0 || listen(fd, SOMAXCONN) < 0) {
		util_why(why, whylen, "cannot listen on %s: %s", spec->path,
		         strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* listener_bind - bind and listen on one resolved address */
static int
listener_bind(const struct addrinfo *ai, char *why, size_t whylen)
{
	int fd, on = 1;

	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return util_why(why, whylen, "socket: %s", strerror(errno));
	(void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ai->ai_family == AF_INET6)
		(void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		                  sizeof(on));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		util_why(why, whylen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* listener_inet - an inet or inet6 socket on the address named */
static int
listener_inet(const struct sockspec *spec, char *why, size_t whylen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
	                *ai = NULL;
	char host[sizeof(spec->host)], port[8], err[128];
	int fd, rc;

	hints.ai_family = spec->kind == SOCKSPEC_INET6 ? AF_INET6 : AF_INET;
	util_strlcpy(host, spec->host + (spec->host[0] == '['), sizeof(host));
	host[strcspn(host, "]")] = '\0';
	snprintf(port, sizeof(port), "%d", spec->port);
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0)
		return util_why(why, whylen, "cannot resolve %s: %s", host,
		                gai_strerror(rc));
	fd = listener_bind(ai, err, sizeof(err));
	freeaddrinfo(ai);
	if (fd < 0)
		return util_why(why, whylen,
		                "cannot listen on port %d of %s: %s",
		                spec->port, host, err);
	return fd;
}

/* listener_open - bind and listen */
int
listener_open(const struct sockspec *spec, char *why, size_t whylen)
{
	return spec->kind == SOCKSPEC_UNIX ? listener_unix(spec, why, whylen)
	                                   : listener_inet(spec, why, whylen);
}
