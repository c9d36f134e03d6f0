#ifndef NULLMILTER_FLOOR_H
#define NULLMILTER_FLOOR_H

/*
 * floor - what the floor milters on relaygate's engine (nullmserve.c,
 * signmserve.c) share: the negotiation relaygate makes, and their socket.
 *
 * FLOOR_STEPS and FLOOR_MACROS are milter_ops' steps and macro lists in
 * milter/milter.c, the same skipped and unanswered steps and the same
 * macros, so that Postfix does the same work for a floor as for
 * relaygate and the difference between them is relaygate's own.  Kept by
 * hand beside that table: the floors do not link relaygate's core.
 */

#include "mproto.h"

#define FLOOR_STEPS                                                            \
	(MPROTO_P_NOHELO | MPROTO_P_NORCPT | MPROTO_P_NODATA |                 \
	 MPROTO_P_NOUNKNOWN | MPROTO_P_NR_CONN | MPROTO_P_NR_HDR |             \
	 MPROTO_P_NR_EOH | MPROTO_P_NR_BODY)

#define FLOOR_MACROS                                                           \
	{                                                                      \
		[MPROTO_M_ENVFROM] = "i {auth_authen} {auth_type}",            \
		[MPROTO_M_EOH] = "i", [MPROTO_M_EOM] = "i"                     \
	}

/*
 * floor_listen - listen on arg ("unix:/path", made world-writable, or
 * "inet:port@address"); the socket, with *tcp set, or -1 after a line on
 * stderr that starts with prog.
 */
int floor_listen(const char *prog, const char *arg, int *tcp);

#endif
