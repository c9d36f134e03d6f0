/*
 * tcptune - the TCP options of relaygate's milter sessions.
 */

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "tcptune.h"

/* tcptune_nodelay - send small replies at once */
int
tcptune_nodelay(int fd)
{
	int on = 1;

	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
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
