#ifndef RELAYGATE_RELAY_H
#define RELAYGATE_RELAY_H

/*
 * relay - the relay's public addresses, for which customers' SPF is
 * judged.
 *
 * MODEL
 *	relay.addresses names them.  When it is empty (the shipped default:
 *	the seed names only the include), they are what the provider's own
 *	include record authorizes: every ip4: and ip6: term of the TXT record
 *	at relay.spf_include stands for the relay, with the address it is
 *	written with (for a range, that address of the range).  A customer whose
 *SPF includes that record authorizes all of them; one who authorizes the relay
 *otherwise is judged on these addresses.  An include record without ip4:/ip6:
 *terms (only include: or a:, say) cannot be followed: relay.addresses must then
 *be set. The derived list is valid for the record's TTL.
 *
 * OWNERSHIP
 *	Results are written into caller storage; no pointers inside.
 *
 * CONCURRENCY
 *	Thread-safe, no state.
 *
 * ERRORS
 *	-1 with a reason; nothing logged.
 *
 * SEE ALSO
 *	RFC 7208 section 5.6 (ip4, ip6).
 */

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dns.h"
#include "domain.h"

#define RELAY_MAX 8
#define RELAY_ADDR_SIZE 46 /* INET6_ADDRSTRLEN */

struct relay_addrs {
	char addr[RELAY_MAX][RELAY_ADDR_SIZE];
	size_t n;
	int derived;  /* 1: from the include record, 0: configured */
	uint32_t ttl; /* derived: the record's TTL; configured: 0 */
	char source[DOMAIN_SIZE + 64]; /* "relay.addresses", "TXT at ..." */
};

/*
 * relay_addresses - the configured addresses, or those derived from the
 * include record (which needs DNS; deadline as in dns_query()).
 */
int relay_addresses(struct dns *dns, const struct config *cfg,
                    int64_t deadline_ms, struct relay_addrs *out, char *why,
                    size_t whylen);

/*
 * relay_from_record - the addresses an SPF record's ip4:/ip6: terms name
 * (pure: the derivation step, for tests).
 */
int relay_from_record(const char *record, struct relay_addrs *out, char *why,
                      size_t whylen);

#endif
