#ifndef RELAYGATE_MESSAGE_H
#define RELAYGATE_MESSAGE_H

/*
 * message - what relaygate knows and decides about one message.
 *
 * MODEL
 *	A message lives from MAIL FROM to the end of the message (or an
 *	abort).  The milter feeds it the envelope sender, every header, the
 *	end of the headers, the body chunks and the end; the message works
 *	out the domains it is judged on (the envelope sender's for SPF, the
 *	From header's for DKIM and DMARC), asks the judge for their verdicts
 *	and the policy for the decision, and says at each step whether to go
 *	on or to refuse:
 *	  MAIL FROM    the envelope domain is judged; a message that would
 *	               be refused whatever its headers say is refused now,
 *	               before its body is sent (policy_envelope());
 *	  end of hdrs  the From domain is judged and the decision made; a
 *	               refused message ends here; a signed one starts its
 *	               signature with the headers seen so far (they are
 *	               kept until then; the body never is);
 *	  body         chunks stream into the signature;
 *	  end          the signature is finished and the header edits are
 *	               handed to the milter: remove incoming copies of the
 *	               status header (no customer can forge it), add the
 *	               status header of a tagged message, prefix the
 *	               Subject, insert DKIM-Signature at the top (two
 *	               with dual signing: dkim.selectors' "also").
 *	Exactly one decision line is logged per message that reaches a
 *	decision (refused early, or at the end); an aborted message logs
 *	nothing.  The module knows nothing of the milter protocol, so it can
 *	be tested without an MTA.
 *
 * OWNERSHIP
 *	message_new() copies what it keeps; the environment (runtime, judge,
 *	signer) is borrowed and must outlive the message (the milter holds
 *	the runtime for the connection).  Strings in struct message_edits
 *	point into the message and live until message_free(), which accepts
 *	NULL.
 *
 * CONCURRENCY
 *	A message belongs to one milter session; sessions run in parallel,
 *	a single message is never used by two threads at once.  Judging may
 *	block for the check deadline (resolver.check_timeout).
 *
 * ERRORS
 *	Malformed input (an unparsable sender or From header) is recorded as
 *	a reason on the message and handled by the policy, never a failure of
 *	the call.  A signing failure refuses the message with a temporary
 *	failure, so it is retried rather than sent unsigned.
 */

#include <stddef.h>

#include "judge.h"
#include "policy.h"
#include "runtime.h"
#include "signer.h"

struct message;

/* What a message works with; borrowed. */
struct message_env {
	struct runtime *rt;
	struct judge *judge;
	struct signer *signer;
};

enum message_step {
	MESSAGE_CONTINUE, /* go on */
	MESSAGE_TEMPFAIL, /* refuse with the 4xx reply */
	MESSAGE_REJECT,   /* refuse with the 5xx reply */
};

/* The SMTP reply of a refused message. */
struct message_reply {
	char rcode[4]; /* "451" */
	char xcode[8]; /* "4.7.1" */
	char text[POLICY_TEXT];
};

/* Signatures a message may carry: its selector's and that one's "also". */
#define MESSAGE_SIGNATURES 2

/* What the milter must change at the end of the message. */
struct message_edits {
	const char *status_name;  /* the status header's name */
	unsigned status_remove;   /* incoming copies to remove (1..n) */
	const char *status_value; /* add this status header; NULL: none */
	const char *subject;      /* the new Subject value; NULL: unchanged */
	int subject_exists;       /* 1: change Subject 1; 0: add one */
	const char *signature[MESSAGE_SIGNATURES]; /* DKIM-Signature values,
	                                              NULL: none */
};

/* message_new - a message from a client, at MAIL FROM */
struct message *message_new(const struct message_env *env,
                            const char *client_addr);

/* message_free - release a message; NULL is fine */
void message_free(struct message *msg);

/*
 * message_envfrom - the MAIL FROM argument ("<alice@example.nl>"), the
 * SASL login ({auth_authen}, NULL or "" if none) and the MTA's queue id
 * if it has one yet ({i}; NULL if not), for the decision line of a
 * refusal here; may refuse.
 */
enum message_step message_envfrom(struct message *msg, const char *arg,
                                  const char *auth, const char *queue_id,
                                  struct message_reply *reply);

/* message_header - one header field; the value as the MTA passes it */
void message_header(struct message *msg, const char *name, const char *value);

/*
 * message_eoh - the end of the headers: the decision.  queue_id (may be
 * NULL) names the message in the decision line if it is refused here.
 */
enum message_step message_eoh(struct message *msg, const char *queue_id,
                              struct message_reply *reply);

/* message_wants_body - does the body matter (is the message signed)? */
int message_wants_body(const struct message *msg);

/* message_body - a body chunk (CRLF line ends) */
void message_body(struct message *msg, const unsigned char *chunk, size_t len);

/*
 * message_eom - the end of the message: finish, log the decision line and
 * fill the header edits (also when it refuses: then none apply).
 */
enum message_step message_eom(struct message *msg, const char *queue_id,
                              struct message_edits *edits,
                              struct message_reply *reply);

/* message_env_domain - the envelope sender domain, "" if none */
const char *message_env_domain(const struct message *msg);

/* message_from_domain - the From header domain, "" if none */
const char *message_from_domain(const struct message *msg);

#endif
