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

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "listener.h"
#include "mserve.h"
#include "null_field.h"
#include "sockspec.h"

static enum mserve_status
null_eom(struct mserve_session *s)
{
	return mserve_insheader(s, 0, null_name, null_value) < 0
	           ? MSERVE_TEMPFAIL
	           : MSERVE_CONTINUE;
}

/*
 * What relaygate negotiates (milter_ops in milter/milter.c): the same
 * skipped and unanswered steps and the same macro lists, so that Postfix
 * does the same work for both and the difference is relaygate's own.
 */
static const struct mserve_ops null_ops = {
    .actions = MPROTO_F_ADDHDRS | MPROTO_F_SETSYMLIST,
    .steps = MPROTO_P_NOHELO | MPROTO_P_NORCPT | MPROTO_P_NODATA |
             MPROTO_P_NOUNKNOWN | MPROTO_P_NR_CONN | MPROTO_P_NR_HDR |
             MPROTO_P_NR_EOH | MPROTO_P_NR_BODY,
    .macros = {[MPROTO_M_ENVFROM] = "i {auth_authen} {auth_type}",
               [MPROTO_M_EOH] = "i",
               [MPROTO_M_EOM] = "i"},
    .eom = null_eom,
};

int
main(int argc, char **argv)
{
	struct sockspec spec;
	char why[256];
	int fd, tcp;

	if (argc != 2) {
		fprintf(stderr, "usage: nullmserve unix:/path | "
		                "inet:port@address\n");
		return 2;
	}
	if (sockspec_parse(argv[1], &spec, why, sizeof(why)) < 0 ||
	    (fd = listener_open(&spec, why, sizeof(why))) < 0) {
		fprintf(stderr, "nullmserve: %s: %s\n", argv[1], why);
		return 1;
	}
	tcp = spec.kind != SOCKSPEC_UNIX;
	if (!tcp && chmod(spec.path, 0666) < 0) {
		fprintf(stderr, "nullmserve: chmod %s: %s\n", spec.path,
		        strerror(errno));
		return 1;
	}
	return mserve_run(mserve_new(fd, tcp, &null_ops)) == 0 ? 0 : 1;
}
