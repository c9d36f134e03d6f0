#ifndef RELAYGATE_MESSAGE_H
#define RELAYGATE_MESSAGE_H

/*
 * message - what relaygate knows and decides about one message.
 *
 * MODEL
 *	A message lives from MAIL FROM to the end of the message (or an
 *	abort).  The milter feeds it the envelope sender, every header and
 *	the end of the message; the message works out the domains it is
 *	judged on (the envelope sender's for SPF, the From header's for DKIM
 *	and DMARC) and, at the end, the decision and the one log line that
 *	records it.  It knows nothing of libmilter, so it can be tested
 *	without an MTA.  In this release every decision is "pass": the
 *	message is delivered unchanged.
 *
 * OWNERSHIP
 *	message_new() copies what it keeps; the configuration snapshot is
 *	borrowed and must outlive the message (the milter holds it for the
 *	connection).  message_free() accepts NULL.
 *
 * CONCURRENCY
 *	A message belongs to one milter session; sessions run in parallel,
 *	a single message is never used by two threads at once.
 *
 * ERRORS
 *	Malformed input (an unparsable sender or From header) is recorded as
 *	a reason on the message, never a failure of the call.
 */

#include "config.h"
#include "domain.h"

struct message;

enum message_action {
	MESSAGE_PASS, /* deliver unchanged */
};

/* message_new - a message from the client with this address */
struct message *message_new(const struct config *cfg, const char *client_addr);

/* message_free - release a message; NULL is fine */
void message_free(struct message *msg);

/* message_envfrom - the MAIL FROM argument, e.g. "<alice@example.nl>" */
void message_envfrom(struct message *msg, const char *arg);

/* message_header - one header field; the value as the MTA passes it */
void message_header(struct message *msg, const char *name, const char *value);

/*
 * message_eom - the end of the message: decide, log the decision line
 * (with the MTA's queue id, which may be NULL) and return the action.
 */
enum message_action message_eom(struct message *msg, const char *queue_id);

/* message_env_domain - the envelope sender domain, "" if none */
const char *message_env_domain(const struct message *msg);

/* message_from_domain - the From header domain, "" if none */
const char *message_from_domain(const struct message *msg);

#endif
