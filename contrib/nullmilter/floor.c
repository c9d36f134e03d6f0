/*
 * floor - the socket of the floor milters on relaygate's engine.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "floor.h"
#include "listener.h"
#include "sockspec.h"

int
floor_listen(const char *prog, const char *arg, int *tcp)
{
	struct sockspec spec;
	char why[256];
	int fd;

	if (sockspec_parse(arg, &spec, why, sizeof(why)) < 0 ||
	    (fd = listener_open(&spec, why, sizeof(why))) < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, arg, why);
		return -1;
	}
	*tcp = spec.kind != SOCKSPEC_UNIX;
	if (!*tcp && chmod(spec.path, 0666) < 0) {
		fprintf(stderr, "%s: chmod %s: %s\n", prog, spec.path,
		        strerror(errno));
		return -1;
	}
	return fd;
}
