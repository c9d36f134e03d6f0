#ifndef RELAYGATE_DECISION_H
#define RELAYGATE_DECISION_H

/*
 * decision - the one log line per message that records what relaygate
 * decided and why.
 *
 * MODEL
 *	Operators alert on these lines and customers' questions are answered
 *	from them, so each names the message (Postfix's queue id), the
 *	client and whether it was in scope, both domains the message was
 *	judged on with what DNS says of each (SPF of the envelope domain,
 *	every selector of the From domain, DMARC and whether this message
 *	aligns at receivers), the action and the selector signed with, the
 *	reason, where the verdicts came from (cache hit, fresh check, ...)
 *	and how long the checks took.  The format (logfmt or JSON) is the
 *	log module's.
 *
 * OWNERSHIP
 *	Everything in struct decision_facts is borrowed for the call.
 *
 * CONCURRENCY
 *	Thread-safe (log.h).
 *
 * ERRORS
 *	None.
 */

#include "config.h"
#include "judge.h"
#include "policy.h"

struct decision_facts {
	const struct config *cfg;
	const char *queue_id; /* NULL before Postfix assigned one */
	const char *client;
	int in_scope;
	const char *env_domain;         /* "" if none */
	const char *env_note;           /* why, or "" */
	const struct judge_result *env; /* NULL if not judged */
	const char *from_domain;
	const char *from_note;
	const struct judge_result *from;
	const struct policy_decision *d;
	int also; /* a second selector signed with (dual signing), or -1 */
	const char *failure; /* a signing failure, or "" */
};

/* decision_log - write the decision line at level info */
void decision_log(const struct decision_facts *f);

#endif
