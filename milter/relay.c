/*
 * relay - the relay's public addresses, configured or derived.
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "relay.h"
#include "spf_record.h"
#include "util.h"

/* relay_add - one address, unless already there or the list is full */
static void
relay_add(struct relay_addrs *out, const char *addr)
{
	for (size_t i = 0; i < out->n; i++)
		if (strcmp(out->addr[i], addr) == 0)
			return;
	if (out->n < RELAY_MAX)
		util_strlcpy(out->addr[out->n++], addr, RELAY_ADDR_SIZE);
}

/* relay_from_record - the ip4:/ip6: terms of one SPF record */
int
relay_from_record(const char *record, struct relay_addrs *out, char *why,
                  size_t whylen)
{
	struct spf_record rec;
	char text[RELAY_ADDR_SIZE], reason[256];

	if (spf_record_parse(record, strlen(record), &rec, reason,
	                     sizeof(reason)) != SPF_RECORD_OK)
		return util_why(why, whylen, "%s", reason);
	for (int i = 0; i < rec.nterms; i++) {
		const struct spf_term *t = &rec.term[i];

		if (t->qualifier != '+' ||
		    (t->type != SPF_TERM_IP4 && t->type != SPF_TERM_IP6))
			continue;
		if (inet_ntop(t->type == SPF_TERM_IP4 ? AF_INET : AF_INET6,
		              t->addr, text, sizeof(text)) != NULL)
			relay_add(out, text);
	}
	if (out->n == 0)
		return util_why(why, whylen, "it has no ip4: or ip6: term");
	return 0;
}

/* relay_spf_txt - the one v=spf1 TXT record of an answer */
static int
relay_spf_txt(const struct dns_answer *a, char *buf, size_t size, char *why,
              size_t whylen)
{
	int found = 0;
	char text[SPF_RECORD_MAX_LEN + 1];

	for (size_t i = 0; i < a->nrr; i++) {
		if (dns_rr_txt(&a->rr[i], text, sizeof(text)) < 0 ||
		    strncasecmp(text, "v=spf1", 6) != 0 ||
		    (text[6] != ' ' && text[6] != '\0'))
			continue;
		if (found++)
			return util_why(why, whylen, "it has two SPF records");
		util_strlcpy(buf, text, size);
	}
	return found ? 0 : util_why(why, whylen, "it holds no SPF record");
}

/* relay_derive - ask DNS for the include record and read it */
static int
relay_derive(struct dns *dns, const struct config *cfg, int64_t deadline_ms,
             struct relay_addrs *out, char *why, size_t whylen)
{
	struct dns_answer *a =
	    dns_query(dns, cfg->relay_spf_include, DNS_T_TXT, deadline_ms);
	char record[SPF_RECORD_MAX_LEN + 1], reason[300];
	int rc = -1;

	if (a->status == DNS_TEMPFAIL)
		util_why(reason, sizeof(reason), "%s", a->why);
	else if (a->status != DNS_OK)
		util_why(reason, sizeof(reason), "%s",
		         a->status == DNS_NXDOMAIN ? "no such name"
		                                   : "no TXT record");
	else if (relay_spf_txt(a, record, sizeof(record), reason,
	                       sizeof(reason)) == 0 &&
	         relay_from_record(record, out, reason, sizeof(reason)) == 0)
		rc = 0;
	out->ttl = a->ttl;
	dns_answer_free(a);
	if (rc < 0)
		return util_why(
		    why, whylen,
		    "relay.addresses is empty and the "
		    "addresses cannot be taken from TXT at %s: %s; set "
		    "relay.addresses",
		    cfg->relay_spf_include, reason);
	return 0;
}

/* relay_addresses - configured, else derived */
int
relay_addresses(struct dns *dns, const struct config *cfg, int64_t deadline_ms,
                struct relay_addrs *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	if (cfg->relay_addresses.n > 0) {
		for (size_t i = 0; i < cfg->relay_addresses.n; i++)
			relay_add(out, cfg->relay_addresses.v[i]);
		util_strlcpy(out->source, "relay.addresses",
		             sizeof(out->source));
		return 0;
	}
	out->derived = 1;
	snprintf(out->source, sizeof(out->source), "TXT at %s",
	         cfg->relay_spf_include);
	return relay_derive(dns, cfg, deadline_ms, out, why, whylen);
}
