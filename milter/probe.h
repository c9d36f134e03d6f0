#ifndef RELAYGATE_PROBE_H
#define RELAYGATE_PROBE_H

/*
 * probe - a test message from a domain, signed as the milter would sign
 * it now and judged as a receiver would judge it: step 4 of the
 * onboarding workflow without waiting for a mailbox.
 *
 * MODEL
 *	probe_run() plays both ends of the relay, with the milter's code at
 *	every step:
 *	1. The provider side, as the daemon's periodic check does it
 *	   (dkim_check_provider_run(), runtime_apply_provider()): which of
 *	   our keys the world can verify now and which selector signs.
 *	2. The domain, as the judge checks it on a cache miss (check_domain(),
 *	   verdict_from_check()), fresh from DNS; the cache is neither read
 *	   nor written.
 *	3. The sample message (probe_msg.h) goes through the milter's
 *	   per-message code (message.h) from a client in scope: the same
 *	   decision (policy.h), the same selector, dual signing and header
 *	   edits as relaygate would make, applied as the MTA applies them.
 *	   The decision line the milter would log is logged (level info).
 *	4. The message as the relay would send it is judged by receiver.h.
 *	The parts' statuses: DKIM passes when a signature verifies; SPF when
 *	check_host() passes from every relay address; DMARC, when the domain
 *	publishes a usable policy, when DKIM or SPF aligns with it (without
 *	one it does not count).  A message the relay refuses fails, or is
 *	temporary when DNS trouble made the milter refuse it; an unsigned
 *	message's DKIM is temporary when DNS trouble kept the milter from
 *	signing.  Overall: fail if a part fails, else temporary if a part
 *	is, else pass.
 *
 * OWNERSHIP
 *	The environment is borrowed for the call (probe_run() stores the
 *	provider state in env->rt, as the daemon's check does).  The result
 *	is caller storage (large: allocate it); its message text is
 *	malloc()ed and released with probe_result_clear().
 *
 * CONCURRENCY
 *	One probe at a time per runtime (the provider state is the
 *	runtime's); the modules used are thread-safe.
 *
 * ERRORS
 *	probe_run() returns -1 with a reason for a domain or sender that
 *	cannot be used, or a message that cannot be verified at all; DNS
 *	trouble is a temporary status.  The milter's decision line goes to
 *	the log module, nothing else is logged.
 *
 * SEE ALSO
 *	message.h, receiver.h, dkim_check.h, runtime.h;
 *	doc/relaygatectl-probe.md.
 */

#include <stddef.h>
#include <stdint.h>

#include "dkim_check.h"
#include "message.h"
#include "policy.h"
#include "receiver.h"
#include "runtime.h"
#include "signer.h"
#include "verdict.h"

/* Longest sender or recipient address accepted. */
#define PROBE_ADDR_SIZE 320

/* What a probe works with; borrowed. */
struct probe_env {
	struct dns *dns;
	struct spf_check *spf;
	struct signer *signer; /* signer_open_config() of rt->cfg */
	struct runtime *rt;    /* the configuration and its keys */
};

struct probe_opts {
	const char *sender; /* From and MAIL FROM; NULL: postmaster@DOMAIN */
	const char *to;     /* the To field; NULL: the sender */
};

enum probe_status {
	PROBE_PASS,
	PROBE_FAIL,
	PROBE_TEMPORARY,
	PROBE_NONE, /* does not apply (DMARC without a usable record) */
};

/* What the relay does with the message. */
enum probe_relay {
	PROBE_RELAY_SIGNED,   /* delivered with our signature(s) */
	PROBE_RELAY_UNSIGNED, /* delivered without */
	PROBE_RELAY_REFUSED,  /* 4xx or 5xx */
};

struct probe_result {
	char domain[DOMAIN_SIZE];     /* normalized */
	char sender[PROBE_ADDR_SIZE]; /* From and MAIL FROM */
	char to[PROBE_ADDR_SIZE];

	struct dkim_check_provider *provider; /* step 1 */

	struct verdict verdict; /* step 2 */
	int64_t check_ms;

	enum probe_relay relay;                          /* step 3 */
	char selectors[MESSAGE_SIGNATURES][DOMAIN_SIZE]; /* "" unused */
	char rcode[4];                                   /* refused: "451" */
	char xcode[8];                                   /* refused: "4.7.1" */
	char reply[POLICY_TEXT];        /* refused: the reply text */
	char status_name[64];           /* the status header's name */
	char status_value[POLICY_TEXT]; /* tagged: its value, else "" */
	enum probe_status relay_status;

	struct receiver_result rx; /* step 4 */
	enum probe_status dkim, spf, dmarc;

	enum probe_status status;
	char *message; /* as the relay sends it (CRLF); NULL if refused */
	size_t message_len;
	int64_t duration_ms;
};

/*
 * probe_run - steps 1 to 4 for domain; out is fully written.  -1 (why)
 * if domain is not a domain name, or the sender is not an address in it.
 */
int probe_run(const struct probe_env *env, const char *domain,
              const struct probe_opts *opts, struct probe_result *out,
              char *why, size_t whylen);

/* probe_result_clear - release what a result holds; twice is fine */
void probe_result_clear(struct probe_result *r);

/* probe_status_name - "pass", "fail", "temporary" or "none" */
const char *probe_status_name(enum probe_status status);

/* probe_relay_name - "signed", "unsigned" or "refused" */
const char *probe_relay_name(enum probe_relay relay);

/* probe_exit - the exit status of a status: 0 pass, 1 fail, 2 temporary */
int probe_exit(enum probe_status status);

#endif
