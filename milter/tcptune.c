/*
 * tcptune - the TCP options of relaygate's milter sockets.
 */

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcptune.h"

/* The highest descriptor tcptune_listener() looks at. */
#define TCPTUNE_FD_MAX 65536

/* The start of libmilter's struct smfi_str (see tcptune.h). */
struct tcptune_ctx_head {
	pthread_t id;
	int sd;
};

/*
 * tcptune_port - the local port of fd if it is a TCP socket that listens
 * (listening != 0) or does not; -1 otherwise.
 */
static int
tcptune_port(int fd, int listening)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss), olen = sizeof(int);
	int acc = 0, proto = 0;

	if (fd < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &olen) < 0 ||
	    !acc != !listening ||
	    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &olen) < 0 ||
	    proto != IPPROTO_TCP ||
	    getsockname(fd, (struct sockaddr *) &ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *) &ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *) &ss)->sin6_port);
	return -1;
}

/* tcptune_listener - find our listening socket among the descriptors */
int
tcptune_listener(int port)
{
	long max = sysconf(_SC_OPEN_MAX);
	int on = 1;

	if (max < 0 || max > TCPTUNE_FD_MAX)
		max = TCPTUNE_FD_MAX;
	for (int fd = 0; fd < (int) max; fd++)
		if (tcptune_port(fd, 1) == port)
			return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
			                  sizeof(on));
	return -1;
}

/* tcptune_session_fd - the session's socket, checked */
int
tcptune_session_fd(const void *ctx, int port)
{
	const struct tcptune_ctx_head *h = ctx;

	return tcptune_port(h->sd, 0) == port ? h->sd : -1;
}

/* tcptune_quickack - TCP_QUICKACK sends an ACK that is due at once */
void
tcptune_quickack(int fd)
{
	int on = 1;

	if (fd >= 0)
		(void) setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &on,
		                  sizeof(on));
}
