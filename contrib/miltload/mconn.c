/*
 * mconn - one connection to a milter socket.
 */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mconn.h"
#include "util.h"

#define MCONN_READ_CHUNK 65536

struct mconn {
	int fd;
	int timeout_ms;
	struct mproto_buf out;
	struct mproto_buf in;
	size_t consumed; /* bytes of "in" handed out by the last read */
};

/* mconn_why - format a reason; returns "status" */
static enum mconn_status __attribute__((format(printf, 4, 5)))
mconn_why(enum mconn_status status, char *why, size_t whylen, const char *fmt,
          ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return status;
}

/* mconn_copy - bounded copy; -1 if it does not fit or is empty */
static int
mconn_copy(char *dst, size_t size, const char *src, size_t n)
{
	if (n == 0 || n >= size)
		return -1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

/* mconn_parse_inet - "PORT@HOST" or "HOST:PORT"; brackets are dropped */
static int
mconn_parse_inet(const char *rest, struct mconn_addr *a, char *why,
                 size_t whylen)
{
	const char *at = strchr(rest, '@'), *colon = strrchr(rest, ':');
	const char *host, *port;
	size_t hlen, plen;

	if (at != NULL) {
		port = rest, plen = (size_t) (at - rest);
		host = at + 1, hlen = strlen(host);
	} else if (colon != NULL) {
		host = rest, hlen = (size_t) (colon - rest);
		port = colon + 1, plen = strlen(port);
	} else {
		return util_why(why, whylen, "'%s': no PORT@HOST", rest);
	}
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']')
		host++, hlen -= 2;
	if (plen == 0 || strspn(port, "0123456789") < plen ||
	    mconn_copy(a->port, sizeof(a->port), port, plen) < 0 ||
	    atoi(a->port) < 1 || atoi(a->port) > 65535)
		return util_why(why, whylen, "'%s': bad port", rest);
	if (mconn_copy(a->host, sizeof(a->host), host, hlen) < 0)
		return util_why(why, whylen, "'%s': bad host", rest);
	return 0;
}

/* mconn_addr_parse - parse a socket specification; -1 with a reason */
int
mconn_addr_parse(const char *spec, struct mconn_addr *a, char *why,
                 size_t whylen)
{
	const char *rest;

	memset(a, 0, sizeof(*a));
	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		rest = strchr(spec, ':') + 1;
		a->family = MCONN_UNIX;
		if (mconn_copy(a->path, sizeof(a->path), rest, strlen(rest)) <
		    0)
			return util_why(why, whylen, "'%s': bad socket path",
			                spec);
		return 0;
	}
	if (strncmp(spec, "inet:", 5) == 0) {
		a->family = MCONN_INET;
		return mconn_parse_inet(spec + 5, a, why, whylen);
	}
	if (strncmp(spec, "inet6:", 6) == 0) {
		a->family = MCONN_INET6;
		return mconn_parse_inet(spec + 6, a, why, whylen);
	}
	return util_why(why, whylen,
	                "'%s': not unix:/PATH, inet:PORT@HOST or "
	                "inet6:PORT@HOST",
	                spec);
}

/* mconn_wait - poll fd for events until deadline; 1 ready, 0 timeout */
static int
mconn_wait(int fd, short events, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	int64_t left;
	int rc;

	for (;;) {
		left = deadline - util_monotonic_ms();
		if (left < 0)
			left = 0;
		rc = poll(&p, 1, (int) left);
		if (rc >= 0 || errno != EINTR)
			return rc > 0 ? 1 : rc;
	}
}

/* mconn_connect_fd - non-blocking connect bounded by timeout_ms */
static int
mconn_connect_fd(int fd, const struct sockaddr *sa, socklen_t len,
                 int timeout_ms)
{
	int err = 0;
	socklen_t elen = sizeof(err);

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (connect(fd, sa, len) < 0) {
		if (errno != EINPROGRESS && errno != EAGAIN)
			return -1;
		if (mconn_wait(fd, POLLOUT, util_monotonic_ms() + timeout_ms) <=
		    0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 ||
		    err != 0) {
			errno = err ? err : errno;
			return -1;
		}
	}
	return 0;
}

/* mconn_open_unix - a connected unix-domain socket, or -1 */
static int
mconn_open_unix(const struct mconn_addr *a, int timeout_ms)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memcpy(sun.sun_path, a->path, strlen(a->path) + 1);
	if (mconn_connect_fd(fd, (struct sockaddr *) &sun, sizeof(sun),
	                     timeout_ms) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* mconn_open_inet - a connected TCP socket, or -1 */
static int
mconn_open_inet(const struct mconn_addr *a, int timeout_ms, int nodelay)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	int fd = -1, one = 1, e;

	hints.ai_family = a->family == MCONN_INET6 ? AF_INET6 : AF_INET;
	if ((e = getaddrinfo(a->host, a->port, &hints, &res)) != 0) {
		errno = EHOSTUNREACH;
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && mconn_connect_fd(fd, res->ai_addr, res->ai_addrlen,
	                                timeout_ms) < 0) {
		e = errno;
		close(fd);
		fd = -1;
		errno = e;
	}
	freeaddrinfo(res);
	if (fd >= 0 && nodelay)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* mconn_open - connect, bounded by timeout_ms; NULL with a reason */
struct mconn *
mconn_open(const struct mconn_addr *a, int timeout_ms, int nodelay, char *why,
           size_t whylen)
{
	struct mconn *c;
	int fd;

	if (a->family == MCONN_UNIX)
		fd = mconn_open_unix(a, timeout_ms);
	else
		fd = mconn_open_inet(a, timeout_ms, nodelay);
	if (fd < 0) {
		mconn_why(MCONN_CONNECT, why, whylen, "connect to %s%s%s: %s",
		          a->family == MCONN_UNIX ? a->path : a->host,
		          a->family == MCONN_UNIX ? "" : " port ",
		          a->family == MCONN_UNIX ? "" : a->port,
		          strerror(errno));
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->timeout_ms = timeout_ms;
	mproto_buf_init(&c->out);
	mproto_buf_init(&c->in);
	return c;
}

/* mconn_out - the output buffer */
struct mproto_buf *
mconn_out(struct mconn *c)
{
	return &c->out;
}

/* mconn_flush - write everything buffered */
enum mconn_status
mconn_flush(struct mconn *c, char *why, size_t whylen)
{
	int64_t deadline = util_monotonic_ms() + c->timeout_ms;
	size_t done = 0;
	ssize_t n;

	while (done < c->out.len) {
		n = send(c->fd, c->out.data + done, c->out.len - done,
		         MSG_NOSIGNAL);
		if (n > 0) {
			done += (size_t) n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return mconn_why(
			    errno == EPIPE ? MCONN_CLOSED : MCONN_IOERR, why,
			    whylen, "write: %s", strerror(errno));
		if (mconn_wait(c->fd, POLLOUT, deadline) <= 0)
			return mconn_why(MCONN_TIMEOUT, why, whylen,
			                 "write timed out");
	}
	c->out.len = 0;
	return MCONN_OK;
}

/* mconn_fill - read what is there (waiting until the deadline) */
static enum mconn_status
mconn_fill(struct mconn *c, int64_t deadline, char *why, size_t whylen)
{
	ssize_t n;

	for (;;) {
		n = recv(c->fd, mproto_buf_reserve(&c->in, MCONN_READ_CHUNK),
		         MCONN_READ_CHUNK, 0);
		if (n > 0) {
			c->in.len += (size_t) n;
			return MCONN_OK;
		}
		if (n == 0)
			return mconn_why(MCONN_CLOSED, why, whylen,
			                 "the milter closed the connection");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return mconn_why(
			    errno == ECONNRESET ? MCONN_CLOSED : MCONN_IOERR,
			    why, whylen, "read: %s", strerror(errno));
		if (mconn_wait(c->fd, POLLIN, deadline) <= 0)
			return mconn_why(MCONN_TIMEOUT, why, whylen,
			                 "no reply within %d ms",
			                 c->timeout_ms);
	}
}

/* mconn_read - flush, then wait for the next complete packet */
enum mconn_status
mconn_read(struct mconn *c, struct mproto_packet *pkt, char *why, size_t whylen)
{
	enum mconn_status st;
	int64_t deadline;
	size_t used;
	int rc;

	if ((st = mconn_flush(c, why, whylen)) != MCONN_OK)
		return st;
	mproto_buf_consume(&c->in, c->consumed);
	c->consumed = 0;
	deadline = util_monotonic_ms() + c->timeout_ms;
	for (;;) {
		rc = mproto_split(c->in.data, c->in.len, MPROTO_MAX_PACKET, pkt,
		                  &used, why, whylen);
		if (rc < 0)
			return MCONN_PROTOCOL;
		if (rc > 0) {
			c->consumed = used;
			return MCONN_OK;
		}
		if ((st = mconn_fill(c, deadline, why, whylen)) != MCONN_OK)
			return st;
	}
}

/* mconn_close - close the socket without a word; NULL is fine */
void
mconn_close(struct mconn *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	mproto_buf_free(&c->out);
	mproto_buf_free(&c->in);
	free(c);
}

/* mconn_status_name - "timeout", "closed", ... */
const char *
mconn_status_name(enum mconn_status s)
{
	switch (s) {
	case MCONN_OK:
		return "ok";
	case MCONN_CONNECT:
		return "connect";
	case MCONN_TIMEOUT:
		return "timeout";
	case MCONN_CLOSED:
		return "closed";
	case MCONN_IOERR:
		return "ioerror";
	case MCONN_PROTOCOL:
		return "protocol";
	}
	return "?";
}
