#ifndef RELAYGATE_SOCKSPEC_H
#define RELAYGATE_SOCKSPEC_H

/*
 * sockspec - the milter socket forms an operator may configure.
 *
 * MODEL
 *	The forms of libmilter's milters: "unix:/path" (also "local:/path"),
 *	"inet:PORT@HOST" and "inet6:PORT@HOST"; but where libmilter binds
 *	every address when "@HOST" is missing, relaygate accepts only the
 *	explicit forms: a unix socket path must be absolute, an inet socket
 *	must name the address to bind ("inet:8891@127.0.0.1",
 *	"inet6:8891@[::1]"; a host name is resolved once, by listener.c).
 *	Binding all addresses needs "@0.0.0.0" or "@[::]" written out.
 *
 * OWNERSHIP
 *	sockspec_parse() fills a caller-owned struct; its strings are copies
 *	inside the struct.
 *
 * CONCURRENCY
 *	Pure; thread-safe.
 *
 * ERRORS
 *	-1 with a reason in "why"; nothing is logged.
 */

#include <stddef.h>

#define SOCKSPEC_PATH_MAX 108 /* sun_path of struct sockaddr_un */

enum sockspec_kind {
	SOCKSPEC_UNIX,
	SOCKSPEC_INET,
	SOCKSPEC_INET6,
};

struct sockspec {
	enum sockspec_kind kind;
	char path[SOCKSPEC_PATH_MAX]; /* unix: the socket file */
	char host[256];               /* inet: the address or host name */
	int port;                     /* inet: 1..65535 */
};

/* sockspec_parse - split and validate a socket specification */
int sockspec_parse(const char *spec, struct sockspec *out, char *why,
                   size_t whylen);

#endif
