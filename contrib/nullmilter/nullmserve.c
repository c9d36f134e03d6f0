/*
 * nullmserve - the least a signing milter can do on relaygate's own milter
 * protocol engine (milter/mserve.c), for the benchmark's floor
 * (contrib/bench.sh): the protocol steps and macros relaygate negotiates,
 * and at the end of each message one inserted header field of a
 * DKIM signature's size; no checks, no hashing, no signature.  Between it
 * and relaygate lies relaygate's own work; between it and nullmilter, the
 * two engines and two replies (nullmilter answers connect and the end of
 * the headers).
 *
 * Usage: nullmserve unix:/path | inet:port@address
 */

#include <stdio.h>

#include "floor.h"
#include "mserve.h"
#include "negotiation.h"
#include "null_field.h"

static enum mserve_status
null_eom(struct mserve_session *s)
{
	return mserve_insheader(s, 0, null_name, null_value) < 0
	           ? MSERVE_TEMPFAIL
	           : MSERVE_CONTINUE;
}

/* What relaygate negotiates (negotiation.h) */
static const struct mserve_ops null_ops = {
    .actions = MPROTO_F_ADDHDRS | MPROTO_F_SETSYMLIST,
    .steps = NEGOTIATION_STEPS,
    .macros = NEGOTIATION_MACROS,
    .eom = null_eom,
};

int
main(int argc, char **argv)
{
	int fd, tcp;

	if (argc != 2) {
		fprintf(stderr, "usage: nullmserve unix:/path | "
		                "inet:port@address\n");
		return 2;
	}
	if ((fd = floor_listen("nullmserve", argv[1], &tcp)) < 0)
		return 1;
	return mserve_run(mserve_new(fd, tcp, &null_ops)) == 0 ? 0 : 1;
}
