#ifndef MILTLOAD_MCONN_H
#define MILTLOAD_MCONN_H

/*
 * mconn - one connection to a milter socket: address parsing, connect,
 * buffered packet output and packet input with a deadline.
 *
 * MODEL
 *	Socket addresses use relaygate's (and libmilter's) syntax:
 *	"unix:/path" (or "local:/path"), "inet:PORT@HOST", "inet6:PORT@HOST";
 *	Postfix's "inet:HOST:PORT" is accepted too.  TCP sockets get
 *	TCP_NODELAY unless asked not to: without it every small write after
 *	an unanswered one (the macros Postfix sends without a reply) waits
 *	for the peer's delayed ACK, about 40 ms (test-world.md section 10).
 *	Output is buffered: packets are appended with mconn_out() and the
 *	buffer is written, in one write when it fits, by mconn_flush() or
 *	before the next read, as Postfix's VSTREAM does.  Input is read in
 *	large chunks and split into packets.
 *
 * OWNERSHIP
 *	mconn_open() returns a connection freed by mconn_close().  A packet
 *	returned by mconn_read() points into the connection's input buffer
 *	and is valid until the next mconn_read() or mconn_close().
 *
 * CONCURRENCY
 *	A connection belongs to one thread at a time.  mconn_addr_parse() is
 *	pure.
 *
 * ERRORS
 *	Functions return an enum mconn_status and fill "why"; nothing is
 *	printed.  SIGPIPE is avoided (MSG_NOSIGNAL).
 */

#include <stddef.h>

#include "mproto.h"

enum mconn_status {
	MCONN_OK = 0,
	MCONN_CONNECT, /* could not connect */
	MCONN_TIMEOUT, /* no complete reply before the deadline */
	MCONN_CLOSED,  /* the milter closed the connection */
	MCONN_IOERR,   /* read or write failed */
	MCONN_PROTOCOL /* impossible packet, or one out of place */
};

enum mconn_family { MCONN_UNIX, MCONN_INET, MCONN_INET6 };

/* A parsed socket address. */
struct mconn_addr {
	enum mconn_family family;
	char path[108]; /* unix */
	char host[256]; /* inet: address or name */
	char port[8];   /* inet: decimal port */
};

struct mconn;

/* mconn_addr_parse - parse a socket specification; -1 with a reason */
int mconn_addr_parse(const char *spec, struct mconn_addr *a, char *why,
                     size_t whylen);

/*
 * mconn_open - connect (blocking, bounded by timeout_ms); replies must
 * then arrive within timeout_ms of each read.  NULL with a reason.
 */
struct mconn *mconn_open(const struct mconn_addr *a, int timeout_ms,
                         int nodelay, char *why, size_t whylen);

/* mconn_out - the output buffer, to append packets with mproto_put_*() */
struct mproto_buf *mconn_out(struct mconn *c);

/* mconn_flush - write everything buffered */
enum mconn_status mconn_flush(struct mconn *c, char *why, size_t whylen);

/*
 * mconn_read - flush, then wait for the next complete packet (at most
 * the connection's timeout) and return it in *pkt.
 */
enum mconn_status mconn_read(struct mconn *c, struct mproto_packet *pkt,
                             char *why, size_t whylen);

/* mconn_close - close the socket without a word; NULL is fine */
void mconn_close(struct mconn *c);

/* mconn_status_name - "timeout", "closed", ... */
const char *mconn_status_name(enum mconn_status s);

#endif
