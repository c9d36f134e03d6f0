/*
 * sockspec - the milter socket forms an operator may configure.
 */

#include <stdlib.h>
#include <string.h>

#include "sockspec.h"
#include "util.h"

/* sockspec_unix - "unix:/path" or "local:/path" */
static int
sockspec_unix(const char *path, struct sockspec *out, char *why, size_t whylen)
{
	out->kind = SOCKSPEC_UNIX;
	if (path[0] != '/')
		return util_why(why, whylen,
		                "unix socket path '%s' is not absolute", path);
	if (util_strlcpy(out->path, path, sizeof(out->path)) >=
	    sizeof(out->path))
		return util_why(why, whylen,
		                "unix socket path longer than %d bytes",
		                SOCKSPEC_PATH_MAX - 1);
	return 0;
}

/* sockspec_port - a decimal port 1..65535 and nothing else */
static int
sockspec_port(const char *s, size_t len, int *port)
{
	long v = 0;

	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (int) v;
	return 0;
}

/* sockspec_inet - "PORT@HOST" after an inet: or inet6: prefix */
static int
sockspec_inet(const char *rest, enum sockspec_kind kind, struct sockspec *out,
              char *why, size_t whylen)
{
	const char *at = strchr(rest, '@');

	out->kind = kind;
	if (at == NULL)
		return util_why(
		    why, whylen,
		    "inet socket '%s' names no "
		    "address to bind: write PORT@ADDRESS (PORT@0.0.0.0 "
		    "for every address)",
		    rest);
	if (sockspec_port(rest, (size_t) (at - rest), &out->port) < 0)
		return util_why(why, whylen, "bad port '%.*s' (1..65535)",
		                (int) (at - rest), rest);
	if (at[1] == '\0')
		return util_why(why, whylen, "empty address after '@'");
	if (util_strlcpy(out->host, at + 1, sizeof(out->host)) >=
	    sizeof(out->host))
		return util_why(why, whylen, "address too long");
	return 0;
}

/* sockspec_parse - split and validate a socket specification */
int
sockspec_parse(const char *spec, struct sockspec *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	if (strncmp(spec, "unix:", 5) == 0)
		return sockspec_unix(spec + 5, out, why, whylen);
	if (strncmp(spec, "local:", 6) == 0)
		return sockspec_unix(spec + 6, out, why, whylen);
	if (strncmp(spec, "inet:", 5) == 0)
		return sockspec_inet(spec + 5, SOCKSPEC_INET, out, why, whylen);
	if (strncmp(spec, "inet6:", 6) == 0)
		return sockspec_inet(spec + 6, SOCKSPEC_INET6, out, why,
		                     whylen);
	return util_why(why, whylen,
	                "socket '%s' is not unix:/PATH, "
	                "inet:PORT@ADDRESS or inet6:PORT@ADDRESS",
	                spec);
}
