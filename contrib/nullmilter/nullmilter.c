/*
 * nullmilter - the least a signing milter can do with libmilter, for the
 * benchmark's floor (contrib/bench.sh): the protocol steps relaygate
 * negotiates, and at the end of each message one inserted header field of
 * a DKIM signature's size; no checks, no hashing, no signature.  The
 * difference between Postfix with this milter and Postfix without one is
 * what Postfix and libmilter cost.  nullmserve.c is the same milter on
 * relaygate's own protocol engine.
 *
 * Usage: nullmilter unix:/path
 *
 * A unix socket only: over TCP, Postfix's Nagle and our delayed ACKs would
 * stall it, which relaygate's tcptune avoids and this floor does not.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libmilter/mfapi.h>

#include "null_field.h"

static sfsistat
null_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
               unsigned long f2, unsigned long f3, unsigned long *pf0,
               unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long steps = SMFIP_NOHELO | SMFIP_NORCPT | SMFIP_NODATA |
	                      SMFIP_NOUNKNOWN | SMFIP_NR_HDR | SMFIP_NR_BODY;

	(void) ctx;
	(void) f2;
	(void) f3;
	*pf0 = f0 & SMFIF_ADDHDRS;
	*pf1 = f1 & steps;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
null_header(SMFICTX *ctx, char *name, char *value)
{
	(void) ctx;
	(void) name;
	(void) value;
	return SMFIS_NOREPLY;
}

static sfsistat
null_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void) ctx;
	(void) chunk;
	(void) len;
	return SMFIS_NOREPLY;
}

static sfsistat
null_eom(SMFICTX *ctx)
{
	if (smfi_insheader(ctx, 0, (char *) null_name, (char *) null_value) !=
	    MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	return SMFIS_CONTINUE;
}

static struct smfiDesc null_desc = {
    .xxfi_name = (char *) "nullmilter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS,
    .xxfi_header = null_header,
    .xxfi_body = null_body,
    .xxfi_eom = null_eom,
    .xxfi_negotiate = null_negotiate,
};

int
main(int argc, char **argv)
{
	if (argc != 2 || strncmp(argv[1], "unix:", 5) != 0) {
		fprintf(stderr, "usage: nullmilter unix:/path\n");
		return 2;
	}
	umask(0);
	if (smfi_register(null_desc) != MI_SUCCESS ||
	    smfi_setconn(argv[1]) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: cannot listen on %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
