#ifndef RELAYGATE_PROBE_MSG_H
#define RELAYGATE_PROBE_MSG_H

/*
 * probe_msg - the sample message of relaygatectl probe: its header
 * fields and body, the milter's header edits applied to it, and its bytes
 * as the relay sends them.
 *
 * MODEL
 *	A message is a list of header fields (name, and value as the MTA
 *	passes it: without the space after the colon, continuation lines
 *	joined by "\n") and a body with CRLF line ends.  probe_msg_sample()
 *	makes the test message of a domain: From and the envelope sender are
 *	the given address, a Date and a unique Message-ID, MIME fields, a
 *	short plain-text body saying what it is.  probe_msg_edit() applies
 *	what the milter asks the MTA to change at the end of a message
 *	(message.h struct message_edits), in milter.c's order and with
 *	the protocol's semantics: incoming status headers removed, the status
 *	header appended, the Subject changed or appended, DKIM-Signature
 *	fields inserted at the top, the first signature first.
 *	probe_msg_text() writes the message as it goes on the wire: every
 *	field "Name: value" with CRLF folds, an empty line, the body.
 *
 * OWNERSHIP
 *	probe_msg_sample() returns a message freed by probe_msg_free() (NULL
 *	is fine); its strings belong to it.  probe_msg_text() returns a
 *	malloc()ed, NUL-terminated text the caller frees.  Arguments are
 *	copied.
 *
 * CONCURRENCY
 *	A message belongs to one thread at a time; no shared state.
 *
 * ERRORS
 *	None: allocation failure is fatal (util.h).
 *
 * SEE ALSO
 *	RFC 5322 sections 2.2 (fields), 3.3 (date), 3.6.4 (Message-ID);
 *	smfi_insheader(3), smfi_chgheader(3), smfi_addheader(3).
 */

#include <stddef.h>
#include <stdint.h>

#include "message.h"

struct probe_msg_field {
	char *name;
	char *value;
};

struct probe_msg {
	struct probe_msg_field *field;
	size_t n;
	char *body; /* CRLF line ends */
	size_t body_len;
};

/*
 * probe_msg_sample - the test message of domain from sender (an address
 * in domain) to "to", dated now (seconds since the epoch).
 */
struct probe_msg *probe_msg_sample(const char *domain, const char *sender,
                                   const char *to, int64_t now);

/* probe_msg_edit - apply the milter's header edits, as the MTA does */
void probe_msg_edit(struct probe_msg *m, const struct message_edits *e);

/*
 * probe_msg_text - the message on the wire (CRLF; lf_only: LF, as
 * sendmail(1) wants its input); *len is its length.
 */
char *probe_msg_text(const struct probe_msg *m, int lf_only, size_t *len);

/* probe_msg_free - release a message; NULL is fine */
void probe_msg_free(struct probe_msg *m);

#endif
