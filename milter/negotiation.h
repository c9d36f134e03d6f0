#ifndef RELAYGATE_NEGOTIATION_H
#define RELAYGATE_NEGOTIATION_H

/*
 * negotiation - what relaygate asks of the MTA when a milter session
 * opens, besides its actions: the steps it skips and leaves unanswered,
 * and the macros it wants.
 *
 * MODEL
 *	NEGOTIATION_STEPS: HELO, RCPT TO, DATA and unknown commands are
 *	skipped (never looked at); connect, header fields, the end of the
 *	headers and body chunks are left unanswered, so that the MTA
 *	streams them without waiting (milter.c says why that is safe).
 *	NEGOTIATION_MACROS: the queue id at MAIL FROM, the end of the
 *	headers and the end of the message, and the SMTP AUTH identity at
 *	MAIL FROM; an initializer for mserve_ops.macros.
 *	milter.c negotiates with both; so do the benchmark's floor milters
 *	(contrib/nullmilter), so that Postfix does the same work for them as
 *	for relaygate and the difference is relaygate's own.
 *
 * SEE ALSO
 *	mserve.h (struct mserve_ops); mproto.h (the flags).
 */

#include "mproto.h"

#define NEGOTIATION_STEPS                                                      \
	(MPROTO_P_NOHELO | MPROTO_P_NORCPT | MPROTO_P_NODATA |                 \
	 MPROTO_P_NOUNKNOWN | MPROTO_P_NR_CONN | MPROTO_P_NR_HDR |             \
	 MPROTO_P_NR_EOH | MPROTO_P_NR_BODY)

#define NEGOTIATION_MACROS                                                     \
	{                                                                      \
		[MPROTO_M_ENVFROM] = "i {auth_authen} {auth_type}",            \
		[MPROTO_M_EOH] = "i", [MPROTO_M_EOM] = "i"                     \
	}

#endif
