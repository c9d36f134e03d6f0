/*
 * fake_dns_dmarc - a fake of the dns module (every function of dns.h) for
 * the dmarc tests: a small resolver over an in-memory table.
 *
 * The table holds records (owner, type, TTL, data) and failures (an owner
 * whose every question fails: a timeout, or a SERVFAIL).  dns_query()
 * answers like a recursive resolver seen through libunbound: it follows
 * CNAMEs (not for CNAME questions), reporting the chain in cnames and
 * canonname and the minimum TTL over what it used; NXDOMAIN or NODATA (a
 * name exists if it owns a record or has a name below it) carry the
 * negative TTL; a failure met anywhere is a TEMPFAIL without the chain;
 * more than 16 links is a SERVFAIL.  Names compare without case and
 * final dot.  TXT data is the record text: '|' separates
 * character-strings, longer runs are split at 255 bytes; data "\bad"
 * makes RDATA whose length byte overruns it.  CNAME data is the target.
 * Every name asked is remembered, in order, for the tests to check.
 *
 * The table is filled before queries start and only read while they run.
 * The lead may merge this with the other fakes into tests/unit/fake_dns.c;
 * until then the fake's own functions are declared here and in the test.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "domain.h"
#include "util.h"

/* The fake's own interface (also declared by test_dmarc.c). */
void fake_dns_dmarc_add(struct dns *dns, const char *owner, int type,
                        uint32_t ttl, const char *data);
void fake_dns_dmarc_fail(struct dns *dns, const char *owner, int timeout);
void fake_dns_dmarc_negative_ttl(struct dns *dns, uint32_t ttl);
void fake_dns_dmarc_clear(struct dns *dns);
size_t fake_dns_dmarc_asked(const struct dns *dns, size_t i, char *buf,
                            size_t size);

#define FAKE_DNS_DMARC_MAX_CHASE 16
#define FAKE_DNS_DMARC_MAX_ASKED 32

struct fake_dns_dmarc_entry {
	char *owner;
	int type; /* 0: every question at owner fails */
	uint32_t ttl;
	unsigned char *wire;
	size_t len;
	int timeout; /* failure: a timeout rather than a SERVFAIL */
};

struct dns {
	struct fake_dns_dmarc_entry *e;
	size_t n;
	uint32_t negative_ttl;
	char asked[FAKE_DNS_DMARC_MAX_ASKED][DOMAIN_SIZE + 8];
	size_t nasked;
	struct dns_stats stats;
};

/* fake_dns_dmarc_eq - equal as DNS names */
static int
fake_dns_dmarc_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	la -= la > 0 && a[la - 1] == '.';
	lb -= lb > 0 && b[lb - 1] == '.';
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* fake_dns_dmarc_below - is name strictly below parent? */
static int
fake_dns_dmarc_below(const char *name, const char *parent)
{
	size_t ln = strlen(name), lp = strlen(parent);

	lp -= lp > 0 && parent[lp - 1] == '.';
	ln -= ln > 0 && name[ln - 1] == '.';
	return ln > lp + 1 && name[ln - lp - 1] == '.' &&
	       strncasecmp(name + ln - lp, parent, lp) == 0;
}

/* fake_dns_dmarc_txt_wire - TXT text as character-strings */
static size_t
fake_dns_dmarc_txt_wire(const char *text, unsigned char *out)
{
	size_t n = 0;

	do {
		size_t l = strcspn(text, "|");

		if (l > 255)
			l = 255;
		out[n++] = (unsigned char) l;
		memcpy(out + n, text, l);
		n += l;
		text += l;
		if (*text == '|')
			text++;
	} while (*text != '\0');
	return n;
}

/* fake_dns_dmarc_name_wire - a name as uncompressed wire labels */
static size_t
fake_dns_dmarc_name_wire(const char *name, unsigned char *out)
{
	size_t n = 0;

	while (*name != '\0' && strcmp(name, ".") != 0) {
		size_t l = strcspn(name, ".");

		out[n++] = (unsigned char) l;
		memcpy(out + n, name, l);
		n += l;
		name += l + (name[l] == '.');
	}
	out[n++] = 0;
	return n;
}

/* fake_dns_dmarc_push - a new zeroed entry */
static struct fake_dns_dmarc_entry *
fake_dns_dmarc_push(struct dns *dns, const char *owner)
{
	struct fake_dns_dmarc_entry *e;

	dns->e = xrealloc(dns->e, (dns->n + 1) * sizeof(*dns->e));
	e = &dns->e[dns->n++];
	memset(e, 0, sizeof(*e));
	e->owner = xstrdup(owner);
	return e;
}

/* fake_dns_dmarc_add - one record */
void
fake_dns_dmarc_add(struct dns *dns, const char *owner, int type, uint32_t ttl,
                   const char *data)
{
	struct fake_dns_dmarc_entry *e = fake_dns_dmarc_push(dns, owner);

	e->type = type;
	e->ttl = ttl;
	e->wire = xmalloc(2 * strlen(data) + 16);
	if (type == DNS_T_TXT && strcmp(data, "\\bad") == 0) {
		e->wire[0] = 200; /* claims 200 bytes, has 3 */
		memcpy(e->wire + 1, "bad", 3);
		e->len = 4;
	} else if (type == DNS_T_TXT) {
		e->len = fake_dns_dmarc_txt_wire(data, e->wire);
	} else if (type == DNS_T_CNAME) {
		e->len = fake_dns_dmarc_name_wire(data, e->wire);
	} else {
		e->len = strlen(data);
		memcpy(e->wire, data, e->len);
	}
}

/* fake_dns_dmarc_fail - every question at owner fails */
void
fake_dns_dmarc_fail(struct dns *dns, const char *owner, int timeout)
{
	fake_dns_dmarc_push(dns, owner)->timeout = timeout;
}

/* fake_dns_dmarc_negative_ttl - TTL of NXDOMAIN and NODATA answers */
void
fake_dns_dmarc_negative_ttl(struct dns *dns, uint32_t ttl)
{
	dns->negative_ttl = ttl;
}

/* fake_dns_dmarc_clear - forget every entry, name asked and counter */
void
fake_dns_dmarc_clear(struct dns *dns)
{
	for (size_t i = 0; i < dns->n; i++) {
		free(dns->e[i].owner);
		free(dns->e[i].wire);
	}
	free(dns->e);
	dns->e = NULL;
	dns->n = 0;
	dns->nasked = 0;
	memset(&dns->stats, 0, sizeof(dns->stats));
}

/* fake_dns_dmarc_asked - the i-th name asked into buf; 0 if none */
size_t
fake_dns_dmarc_asked(const struct dns *dns, size_t i, char *buf, size_t size)
{
	if (i >= dns->nasked)
		return 0;
	return util_strlcpy(buf, dns->asked[i], size);
}

/* dns_open - a fake resolver with an empty table */
struct dns *
dns_open(const struct config *cfg, char *why, size_t whylen)
{
	struct dns *dns = xcalloc(1, sizeof(*dns));

	(void) cfg;
	(void) why;
	(void) whylen;
	dns->negative_ttl = 900;
	return dns;
}

/* dns_close - free the fake */
void
dns_close(struct dns *dns)
{
	if (dns == NULL)
		return;
	fake_dns_dmarc_clear(dns);
	free(dns);
}

/* fake_dns_dmarc_fails - the failure entry at name, if any */
static const struct fake_dns_dmarc_entry *
fake_dns_dmarc_fails(const struct dns *dns, const char *name)
{
	for (size_t i = 0; i < dns->n; i++)
		if (dns->e[i].type == 0 &&
		    fake_dns_dmarc_eq(dns->e[i].owner, name))
			return &dns->e[i];
	return NULL;
}

/* fake_dns_dmarc_exists - does name own a record or have one below? */
static int
fake_dns_dmarc_exists(const struct dns *dns, const char *name)
{
	for (size_t i = 0; i < dns->n; i++)
		if (dns->e[i].type != 0 &&
		    (fake_dns_dmarc_eq(dns->e[i].owner, name) ||
		     fake_dns_dmarc_below(dns->e[i].owner, name)))
			return 1;
	return 0;
}

/* fake_dns_dmarc_tempfail - turn ans into a TEMPFAIL answer */
static void
fake_dns_dmarc_tempfail(struct dns *dns, struct dns_answer *ans, int timeout,
                        const char *why)
{
	for (size_t i = 0; i < ans->ncnames; i++)
		free(ans->cnames[i]);
	free(ans->cnames);
	ans->cnames = NULL;
	ans->ncnames = 0;
	free(ans->canonname);
	ans->canonname = NULL;
	ans->status = DNS_TEMPFAIL;
	ans->rcode = timeout ? -1 : 2;
	ans->ttl = 0;
	util_strlcpy(ans->why, why, sizeof(ans->why));
	dns->stats.tempfails++;
	dns->stats.timeouts += timeout != 0;
}

/* fake_dns_dmarc_records - the records of qtype at name into ans; count */
static size_t
fake_dns_dmarc_records(const struct dns *dns, const char *name, int qtype,
                       struct dns_answer *ans)
{
	for (size_t i = 0; i < dns->n; i++) {
		const struct fake_dns_dmarc_entry *e = &dns->e[i];
		unsigned char *copy;

		if (e->type != qtype || !fake_dns_dmarc_eq(e->owner, name))
			continue;
		ans->rr = xrealloc(ans->rr, (ans->nrr + 1) * sizeof(*ans->rr));
		copy = xmalloc(e->len);
		memcpy(copy, e->wire, e->len);
		ans->rr[ans->nrr].data = copy;
		ans->rr[ans->nrr++].len = e->len;
		if (e->ttl < ans->ttl)
			ans->ttl = e->ttl;
	}
	return ans->nrr;
}

/* fake_dns_dmarc_cname - the CNAME at name: its entry, or NULL */
static const struct fake_dns_dmarc_entry *
fake_dns_dmarc_cname(const struct dns *dns, const char *name)
{
	for (size_t i = 0; i < dns->n; i++)
		if (dns->e[i].type == DNS_T_CNAME &&
		    fake_dns_dmarc_eq(dns->e[i].owner, name))
			return &dns->e[i];
	return NULL;
}

/* fake_dns_dmarc_follow - add a CNAME link to ans; its target name */
static const char *
fake_dns_dmarc_follow(struct dns_answer *ans,
                      const struct fake_dns_dmarc_entry *c)
{
	char target[DOMAIN_SIZE];
	struct dns_rr rr = {c->wire, c->len};

	if (dns_rr_name(&rr, DNS_T_CNAME, target, sizeof(target)) < 0)
		target[0] = '\0';
	ans->cnames =
	    xrealloc(ans->cnames, (ans->ncnames + 1) * sizeof(*ans->cnames));
	ans->cnames[ans->ncnames++] = xstrdup(target);
	free(ans->canonname);
	ans->canonname = xstrdup(target);
	if (c->ttl < ans->ttl)
		ans->ttl = c->ttl;
	return ans->canonname;
}

/* fake_dns_dmarc_resolve - chase name to records, a negative or failure */
static void
fake_dns_dmarc_resolve(struct dns *dns, struct dns_answer *ans)
{
	const char *cur = ans->qname;
	const struct fake_dns_dmarc_entry *e;

	for (int hop = 0; hop <= FAKE_DNS_DMARC_MAX_CHASE; hop++) {
		if ((e = fake_dns_dmarc_fails(dns, cur)) != NULL) {
			fake_dns_dmarc_tempfail(
			    dns, ans, e->timeout,
			    e->timeout ? "timeout after 3000 ms" : "SERVFAIL");
			return;
		}
		if (fake_dns_dmarc_records(dns, cur, ans->qtype, ans) > 0) {
			ans->status = DNS_OK;
			return;
		}
		if (ans->qtype == DNS_T_CNAME ||
		    (e = fake_dns_dmarc_cname(dns, cur)) == NULL)
			break;
		cur = fake_dns_dmarc_follow(ans, e);
	}
	if (ans->ncnames > FAKE_DNS_DMARC_MAX_CHASE) {
		fake_dns_dmarc_tempfail(dns, ans, 0, "SERVFAIL");
		return;
	}
	ans->status =
	    fake_dns_dmarc_exists(dns, cur) ? DNS_NODATA : DNS_NXDOMAIN;
	ans->rcode = ans->status == DNS_NXDOMAIN ? 3 : 0;
	if (dns->negative_ttl < ans->ttl)
		ans->ttl = dns->negative_ttl;
}

/* dns_query - answer from the table */
struct dns_answer *
dns_query(struct dns *dns, const char *name, int qtype, int64_t deadline_ms)
{
	struct dns_answer *ans = xcalloc(1, sizeof(*ans));
	char norm[DOMAIN_SIZE], why[128];

	(void) deadline_ms;
	dns->stats.queries++;
	if (dns->nasked < FAKE_DNS_DMARC_MAX_ASKED)
		util_strlcpy(dns->asked[dns->nasked++], name,
		             sizeof(dns->asked[0]));
	ans->qtype = qtype;
	ans->ttl = UINT32_MAX;
	if (domain_normalize(name, norm, sizeof(norm), why, sizeof(why)) < 0) {
		ans->qname = xstrdup(name);
		fake_dns_dmarc_tempfail(dns, ans, 0, why);
		return ans;
	}
	ans->qname = xstrdup(norm);
	fake_dns_dmarc_resolve(dns, ans);
	return ans;
}

/* dns_answer_free - free an answer */
void
dns_answer_free(struct dns_answer *answer)
{
	if (answer == NULL)
		return;
	for (size_t i = 0; i < answer->nrr; i++)
		free((void *) answer->rr[i].data);
	free(answer->rr);
	for (size_t i = 0; i < answer->ncnames; i++)
		free(answer->cnames[i]);
	free(answer->cnames);
	free(answer->canonname);
	free(answer->qname);
	free(answer);
}

/* dns_rr_txt - join a TXT record's character-strings */
long
dns_rr_txt(const struct dns_rr *rr, char *buf, size_t size)
{
	size_t pos = 0, out = 0;

	if (size == 0)
		return -1;
	buf[0] = '\0';
	while (pos < rr->len) {
		size_t l = rr->data[pos++];

		if (l > rr->len - pos || out + l >= size ||
		    memchr(rr->data + pos, '\0', l) != NULL) {
			buf[0] = '\0';
			return -1;
		}
		memcpy(buf + out, rr->data + pos, l);
		out += l;
		pos += l;
	}
	buf[out] = '\0';
	return (long) out;
}

/* dns_rr_name - the name in a CNAME, PTR or MX record, lowercase ("" for
 * the root); unlike dns.c it does not escape '.', '\\' or odd bytes */
int
dns_rr_name(const struct dns_rr *rr, int qtype, char *buf, size_t size)
{
	size_t pos = qtype == DNS_T_MX ? 2 : 0, out = 0;

	while (pos < rr->len && rr->data[pos] != 0) {
		size_t l = rr->data[pos++];

		if (l > 63 || l > rr->len - pos || out + l + 2 > size)
			return -1;
		if (out > 0)
			buf[out++] = '.';
		for (size_t i = 0; i < l; i++) {
			char c = (char) rr->data[pos + i];

			buf[out++] = (char) (c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		pos += l;
	}
	if (pos >= rr->len)
		return -1;
	buf[out] = '\0';
	return 0;
}

/* dns_stats - the counters */
void
dns_stats(const struct dns *dns, struct dns_stats *out)
{
	*out = dns->stats;
}
