#ifndef RELAYGATE_CHECK_H
#define RELAYGATE_CHECK_H

/*
 * check - everything relaygate finds out about one domain, at once.
 *
 * MODEL
 *	A check of domain D asks, concurrently and under one deadline: D's
 *	SPF for each of the relay's addresses (spf_check), the delegation of
 *	each DKIM selector (dkim_check) and D's DMARC record (dmarc).  Each
 *	part runs in a thread of its own, so a cold check costs about the
 *	longest chain of DNS round trips, not their sum.  The result keeps
 *	every part's full result; the verdict module condenses it.  The
 *	milter (on a cache miss) and relaygatectl run the same code.
 *
 * OWNERSHIP
 *	struct check_env is the caller's and is borrowed for the call: the
 *	resolver, the SPF evaluator, a configuration snapshot and the keys
 *	of its selectors (keys[i] for cfg->dkim_selectors[i]; NULL if not
 *	loaded: that selector's check then cannot recognize our key).
 *	Results go to caller storage (struct check_result is large: allocate
 *	it) and hold no pointers.
 *
 * CONCURRENCY
 *	Thread-safe; starts and joins its own threads within the call.
 *
 * ERRORS
 *	Results, never errors: DNS trouble is temperror in each part, and a
 *	part that could not run says why.  Nothing is logged.
 *
 * SEE ALSO
 *	spf_check.h, dkim_check.h, dmarc.h, relay.h.
 */

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dkim_check.h"
#include "dmarc.h"
#include "dns.h"
#include "keys.h"
#include "relay.h"
#include "spf_check.h"

#define CHECK_MAX_SELECTORS CONFIG_MAX_SELECTORS

struct check_env {
	struct dns *dns;
	struct spf_check *spf;
	const struct config *cfg;
	const struct keys_key *const *keys;
};

/* Which parts to run. */
#define CHECK_SPF 0x01
#define CHECK_DKIM 0x02
#define CHECK_DMARC 0x04
#define CHECK_ALL (CHECK_SPF | CHECK_DKIM | CHECK_DMARC)

struct check_result {
	char domain[DOMAIN_SIZE]; /* normalized */
	unsigned parts;           /* CHECK_* that ran */
	struct relay_addrs relay;
	int relay_ok; /* 0: the addresses are unknown, spf says why */
	struct spf_check_verdict spf;
	struct dkim_check_result dkim[CHECK_MAX_SELECTORS];
	size_t ndkim;
	struct dkim_check_summary dkim_summary;
	struct dmarc_result dmarc;
	int64_t duration_ms;
};

/*
 * check_domain - run the parts of a check of domain; returns -1 (with
 * out->spf.summary saying why) only if domain is not a valid name.
 */
int check_domain(const struct check_env *env, const char *domain,
                 unsigned parts, int64_t deadline_ms, struct check_result *out);

#endif
