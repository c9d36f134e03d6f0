/*
 * metrics_http - a small single-threaded HTTP/1.1 server for GET /metrics,
 * with a bounded request and a deadline per connection.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics_http.h"
#include "metrics_prom.h"
#include "util.h"

#define METRICS_HTTP_BACKLOG 16
#define METRICS_HTTP_DRAIN_MAX 65536 /* bytes read and dropped at close */

struct metrics_http {
	struct cache *cache;
	int fd;      /* listening socket */
	int wake[2]; /* a pipe: writing ends the thread */
	pthread_t thread;
	int running;
};

/* A connection being served. */
struct metrics_http_conn {
	int fd;
	int64_t deadline; /* monotonic ms */
	char head[METRICS_HTTP_REQUEST_MAX + 1];
	size_t len;
};

/*
 * metrics_http_parse - "IPV4:PORT" or "[IPV6]:PORT", numeric, into a
 * socket address
 */
static int
metrics_http_parse(const char *spec, struct sockaddr_storage *ss,
                   socklen_t *sslen, char *why, size_t whylen)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *) ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *) ss;
	const char *colon = strrchr(spec, ':');
	char host[64], *end;
	size_t hlen = colon ? (size_t) (colon - spec) : 0;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (colon == NULL || hlen == 0 || hlen >= sizeof(host))
		return util_why(why, whylen, "'%s' is not ADDRESS:PORT", spec);
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || port < 1 ||
	    port > 65535)
		return util_why(why, whylen, "'%s': port is not 1..65535",
		                spec);
	if (host[0] == '[' && host[hlen - 1] == ']') {
		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &v6->sin6_addr) != 1)
			return util_why(why, whylen,
			                "'%s': not an IPv6 address", spec);
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t) port);
		*sslen = sizeof(*v6);
		return 0;
	}
	if (inet_pton(AF_INET, host, &v4->sin_addr) != 1)
		return util_why(
		    why, whylen,
		    "'%s': not an IPv4 address (IPv6: [ADDRESS]:PORT)", spec);
	v4->sin_family = AF_INET;
	v4->sin_port = htons((uint16_t) port);
	*sslen = sizeof(*v4);
	return 0;
}

/* metrics_http_check - a valid listen address, or "" */
int
metrics_http_check(const char *spec, char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	socklen_t len;

	return spec[0] == '\0'
	           ? 0
	           : metrics_http_parse(spec, &ss, &len, why, whylen);
}

/* metrics_http_loopback - 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104 */
int
metrics_http_loopback(const char *spec)
{
	static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
	struct sockaddr_storage ss;
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *) &ss;
	const unsigned char *a = v6->sin6_addr.s6_addr;
	socklen_t len;

	if (metrics_http_parse(spec, &ss, &len, NULL, 0) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *) &ss)
		                  ->sin_addr.s_addr) >>
		        24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr) ||
	       (memcmp(a, mapped, sizeof(mapped)) == 0 && a[12] == 127);
}

/* metrics_http_bind - the listening socket */
static int
metrics_http_bind(const char *spec, char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (metrics_http_parse(spec, &ss, &len, why, whylen) != 0)
		return -1;
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return util_why(why, whylen, "metrics.listen %s: socket: %s",
		                spec, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *) &ss, len) != 0 ||
	    listen(fd, METRICS_HTTP_BACKLOG) != 0) {
		util_why(why, whylen, "metrics.listen %s: %s", spec,
		         strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* metrics_http_open - bind and listen */
struct metrics_http *
metrics_http_open(const char *spec, struct cache *c, char *why, size_t whylen)
{
	struct metrics_http *h = xcalloc(1, sizeof(*h));

	h->cache = c;
	h->wake[0] = h->wake[1] = -1;
	if ((h->fd = metrics_http_bind(spec, why, whylen)) < 0 ||
	    pipe2(h->wake, O_CLOEXEC) != 0) {
		if (h->fd >= 0)
			util_why(why, whylen, "pipe: %s", strerror(errno));
		metrics_http_close(h);
		return NULL;
	}
	return h;
}

/* metrics_http_wait - poll one fd until the connection's deadline */
static int
metrics_http_wait(const struct metrics_http_conn *c, short events)
{
	struct pollfd p = {.fd = c->fd, .events = events};
	int64_t left = c->deadline - util_monotonic_ms();
	int rc;

	if (left <= 0)
		return -1;
	do
		rc = poll(&p, 1, (int) left);
	while (rc < 0 && errno == EINTR);
	return rc > 0 ? 0 : -1;
}

/*
 * metrics_http_read_head - read until the blank line that ends the head.
 * Returns 1 with the head, 0 if it does not fit, -1 if the client is gone
 * or too slow.
 */
static int
metrics_http_read_head(struct metrics_http_conn *c)
{
	for (;;) {
		ssize_t n;

		if (strstr(c->head, "\r\n\r\n") != NULL ||
		    strstr(c->head, "\n\n") != NULL)
			return 1;
		if (c->len == METRICS_HTTP_REQUEST_MAX)
			return 0;
		if (metrics_http_wait(c, POLLIN) != 0)
			return -1;
		n = recv(c->fd, c->head + c->len,
		         METRICS_HTTP_REQUEST_MAX - c->len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		c->len += (size_t) n;
		c->head[c->len] = '\0';
		if (memchr(c->head + c->len - (size_t) n, '\0', (size_t) n))
			return 0; /* a NUL in the head: not HTTP */
	}
}

/* metrics_http_send - write all of buf before the deadline */
static int
metrics_http_send(struct metrics_http_conn *c, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
			if (metrics_http_wait(c, POLLOUT) != 0)
				return -1;
			continue;
		}
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t) n;
	}
	return 0;
}

/* metrics_http_reply - status line, headers, and the body unless HEAD */
static void
metrics_http_reply(struct metrics_http_conn *c, const char *status,
                   const char *type, const char *body, size_t len, int head)
{
	char hdr[512];
	int n = snprintf(hdr, sizeof(hdr),
	                 "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
	                 "Content-Length: %zu\r\n%sConnection: close\r\n\r\n",
	                 status, type, len,
	                 strncmp(status, "405", 3) == 0 ? "Allow: GET, HEAD\r\n"
	                                                : "");

	if (metrics_http_send(c, hdr, (size_t) n) == 0 && !head)
		metrics_http_send(c, body, len);
}

/* metrics_http_error - a short plain-text error */
static void
metrics_http_error(struct metrics_http_conn *c, const char *status)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%s\n", status);

	metrics_http_reply(c, status, "text/plain; charset=utf-8", body,
	                   (size_t) n, 0);
}

/* metrics_http_metrics - the metrics page */
static void
metrics_http_metrics(struct metrics_http *h, struct metrics_http_conn *c,
                     int head)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);

	if (f == NULL) {
		metrics_http_error(c, "503 Service Unavailable");
		return;
	}
	metrics_prom_write(h->cache, f);
	if (fclose(f) != 0)
		metrics_http_error(c, "503 Service Unavailable");
	else
		metrics_http_reply(c, "200 OK", METRICS_PROM_CONTENT_TYPE, body,
		                   len, head);
	free(body);
}

/*
 * metrics_http_route - answer a complete request head: its first line
 * must be "METHOD TARGET HTTP/1.x".
 */
static void
metrics_http_route(struct metrics_http *h, struct metrics_http_conn *c)
{
	char method[16], target[256], version[16];
	size_t plen;

	if (sscanf(c->head, "%15s %255s %15s", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) != 0) {
		metrics_http_error(c, "400 Bad Request");
		return;
	}
	plen = strcspn(target, "?");
	if (plen != strlen("/metrics") || strncmp(target, "/metrics", plen))
		metrics_http_error(c, "404 Not Found");
	else if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		metrics_http_metrics(h, c, method[0] == 'H');
	else
		metrics_http_error(c, "405 Method Not Allowed");
}

/*
 * metrics_http_linger - end our side and read what the client still
 * sends (bounded, until the deadline) before closing: closing with unread
 * input makes the kernel reset the connection, and the client may lose
 * the answer (to an oversized request, say).
 */
static void
metrics_http_linger(struct metrics_http_conn *c)
{
	size_t total = 0;

	shutdown(c->fd, SHUT_WR);
	while (total < METRICS_HTTP_DRAIN_MAX) {
		ssize_t n = recv(c->fd, c->head, METRICS_HTTP_REQUEST_MAX, 0);

		if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
			if (metrics_http_wait(c, POLLIN) != 0)
				return;
			continue;
		}
		if (n <= 0)
			return;
		total += (size_t) n;
	}
}

/* metrics_http_serve - one connection, bounded in size and time */
static void
metrics_http_serve(struct metrics_http *h, int fd)
{
	struct metrics_http_conn *c = xcalloc(1, sizeof(*c));
	int rc;

	c->fd = fd;
	c->deadline = util_monotonic_ms() + METRICS_HTTP_TIMEOUT_MS;
	rc = metrics_http_read_head(c);
	if (rc == 0)
		metrics_http_error(c, "431 Request Header Fields Too Large");
	else if (rc > 0)
		metrics_http_route(h, c);
	if (rc >= 0)
		metrics_http_linger(c);
	free(c);
}

/* metrics_http_main - the listener thread: accept, serve, repeat */
static void *
metrics_http_main(void *arg)
{
	struct metrics_http *h = arg;
	struct pollfd p[2] = {{.fd = h->fd, .events = POLLIN},
	                      {.fd = h->wake[0], .events = POLLIN}};

	for (;;) {
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents != 0)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		metrics_http_serve(h, fd);
		close(fd);
	}
	return NULL;
}

/* metrics_http_start - the thread */
int
metrics_http_start(struct metrics_http *h, char *why, size_t whylen)
{
	int rc = pthread_create(&h->thread, NULL, metrics_http_main, h);

	if (rc != 0)
		return util_why(why, whylen, "metrics listener thread: %s",
		                strerror(rc));
	h->running = 1;
	return 0;
}

/* metrics_http_close - wake the thread, join it, close everything */
void
metrics_http_close(struct metrics_http *h)
{
	if (h == NULL)
		return;
	if (h->running) {
		if (write(h->wake[1], "x", 1) != 1) {
			/* a pipe with room for a byte: cannot fail */
		}
		pthread_join(h->thread, NULL);
	}
	for (int i = 0; i < 2; i++)
		if (h->wake[i] >= 0)
			close(h->wake[i]);
	if (h->fd >= 0)
		close(h->fd);
	free(h);
}
