/*
 * fake_dns_dkim - a fake of the dns module (every function of dns.h) for
 * the dkim_check tests: a small resolver over an in-memory table.
 *
 * The table holds records (owner, type, TTL, data) and failures (an owner
 * whose every question fails, as a timeout or a SERVFAIL, optionally
 * bogus).  dns_query() resolves like a recursive resolver seen through
 * libunbound: it chases CNAMEs (not for CNAME questions) and reports the
 * chain in cnames/canonname, with the minimum TTL over what it used;
 * NXDOMAIN or NODATA (a name exists if it owns a record or has a name
 * below it) carry the chain too and the negative TTL; a CNAME loop, or a
 * chain of more than 16 links, is a bare SERVFAIL, and a failure met
 * anywhere on the way hides the chain, as unbound does.
 * fake_dns_dkim_diagnose() changes how a loop comes back: 1 as
 * milter/dns.c reports one it found (TEMPFAIL, SERVFAIL, the chain ending
 * with the repeated name); 2 as unbound does once it has the CNAMEs
 * cached (SERVFAIL with the chain up to the repeat).
 * TXT data is the record text: '|' separates character-strings, longer
 * runs are split at 255 bytes; data starting "\bad" makes RDATA whose
 * length byte overruns it.  CNAME data is the target name.
 *
 * The table is filled before queries start and only read while they run,
 * so queries may come from any number of threads; the counters are
 * atomic.  The lead may merge this into tests/unit/fake_dns.[ch]; until
 * then the fake's own functions are declared here and in the test.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "domain.h"
#include "util.h"

/* The fake's own interface (also declared by test_dkim_check.c). */
void fake_dns_dkim_add(struct dns *dns, const char *owner, int type,
                       uint32_t ttl, const char *data);
void fake_dns_dkim_fail(struct dns *dns, const char *owner, int rcode,
                        const char *why);
void fake_dns_dkim_bogus(struct dns *dns, const char *owner);
void fake_dns_dkim_negative_ttl(struct dns *dns, uint32_t ttl);
void fake_dns_dkim_diagnose(struct dns *dns, int mode);
void fake_dns_dkim_clear(struct dns *dns);
unsigned long fake_dns_dkim_count(const struct dns *dns, int qtype);

/* Links chased before giving up, as a resolver's restart limit. */
#define FAKE_DNS_MAX_CHASE 16

#define FAKE_DNS_NTYPES 256

struct fake_dns_entry {
	char *owner;
	int type; /* 0 for a failure */
	uint32_t ttl;
	unsigned char *wire;
	size_t len;
	int rcode; /* failure: -1 timeout, else the RCODE */
	int bogus;
	char why[160];
};

struct dns {
	struct fake_dns_entry *e;
	size_t n;
	uint32_t negative_ttl;
	int diagnose; /* loops: 0 bare, 1 diagnosed, 2 partial chain */
	unsigned long queries;
	unsigned long timeouts;
	unsigned long tempfails;
	unsigned long by_type[FAKE_DNS_NTYPES];
};

/* fake_dns_eq - equal as DNS names: case and a final dot ignored */
static int
fake_dns_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* fake_dns_below - is name strictly below parent? */
static int
fake_dns_below(const char *name, const char *parent)
{
	size_t ln = strlen(name), lp = strlen(parent);

	if (lp > 0 && parent[lp - 1] == '.')
		lp--;
	if (ln > 0 && name[ln - 1] == '.')
		ln--;
	return ln > lp + 1 && name[ln - lp - 1] == '.' &&
	       strncasecmp(name + ln - lp, parent, lp) == 0;
}

/* fake_dns_name_wire - a name as uncompressed wire labels */
static size_t
fake_dns_name_wire(const char *name, unsigned char *out)
{
	size_t n = 0;

	while (*name != '\0') {
		size_t l = strcspn(name, ".");

		out[n++] = (unsigned char) l;
		memcpy(out + n, name, l);
		n += l;
		name += l;
		if (*name == '.')
			name++;
	}
	out[n++] = 0;
	return n;
}

/* fake_dns_txt_wire - TXT text as character-strings ('|' separates) */
static size_t
fake_dns_txt_wire(const char *text, unsigned char *out)
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

/* fake_dns_push - a new zeroed entry */
static struct fake_dns_entry *
fake_dns_push(struct dns *dns, const char *owner)
{
	struct fake_dns_entry *e;

	dns->e = xrealloc(dns->e, (dns->n + 1) * sizeof(*dns->e));
	e = &dns->e[dns->n++];
	memset(e, 0, sizeof(*e));
	e->owner = xstrdup(owner);
	return e;
}

/* fake_dns_dkim_add - one record */
void
fake_dns_dkim_add(struct dns *dns, const char *owner, int type, uint32_t ttl,
                  const char *data)
{
	struct fake_dns_entry *e = fake_dns_push(dns, owner);
	size_t cap = 2 * strlen(data) + 16;

	e->type = type;
	e->ttl = ttl;
	e->wire = xmalloc(cap);
	if (type == DNS_T_TXT && strncmp(data, "\\bad", 4) == 0) {
		e->wire[0] = 200; /* claims 200 bytes, has 3 */
		memcpy(e->wire + 1, "bad", 3);
		e->len = 4;
	} else if (type == DNS_T_TXT) {
		e->len = fake_dns_txt_wire(data, e->wire);
	} else if (type == DNS_T_CNAME || type == DNS_T_PTR) {
		e->len = fake_dns_name_wire(data, e->wire);
	} else {
		e->len = strlen(data);
		memcpy(e->wire, data, e->len);
	}
}

/* fake_dns_dkim_fail - every question at owner fails */
void
fake_dns_dkim_fail(struct dns *dns, const char *owner, int rcode,
                   const char *why)
{
	struct fake_dns_entry *e = fake_dns_push(dns, owner);

	e->rcode = rcode;
	util_strlcpy(e->why, why, sizeof(e->why));
}

/* fake_dns_dkim_bogus - every question at owner is DNSSEC-bogus */
void
fake_dns_dkim_bogus(struct dns *dns, const char *owner)
{
	struct fake_dns_entry *e = fake_dns_push(dns, owner);

	e->rcode = 2;
	e->bogus = 1;
	util_strlcpy(e->why, "DNSSEC validation failed (bogus)",
	             sizeof(e->why));
}

/* fake_dns_dkim_negative_ttl - TTL of NXDOMAIN and NODATA answers */
void
fake_dns_dkim_negative_ttl(struct dns *dns, uint32_t ttl)
{
	dns->negative_ttl = ttl;
}

/* fake_dns_dkim_diagnose - how loops are reported (see the top) */
void
fake_dns_dkim_diagnose(struct dns *dns, int mode)
{
	dns->diagnose = mode;
}

/* fake_dns_dkim_clear - forget every entry and counter */
void
fake_dns_dkim_clear(struct dns *dns)
{
	for (size_t i = 0; i < dns->n; i++) {
		free(dns->e[i].owner);
		free(dns->e[i].wire);
	}
	free(dns->e);
	dns->e = NULL;
	dns->n = 0;
	dns->queries = dns->timeouts = dns->tempfails = 0;
	memset(dns->by_type, 0, sizeof(dns->by_type));
}

/* fake_dns_dkim_count - questions of a type so far (0: all) */
unsigned long
fake_dns_dkim_count(const struct dns *dns, int qtype)
{
	if (qtype == 0)
		return __atomic_load_n(&dns->queries, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&dns->by_type[qtype % FAKE_DNS_NTYPES],
	                       __ATOMIC_SEQ_CST);
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
	fake_dns_dkim_clear(dns);
	free(dns);
}

/* fake_dns_failure - the failure entry of a name, or NULL */
static const struct fake_dns_entry *
fake_dns_failure(const struct dns *dns, const char *name)
{
	for (size_t i = 0; i < dns->n; i++)
		if (dns->e[i].type == 0 && fake_dns_eq(dns->e[i].owner, name))
			return &dns->e[i];
	return NULL;
}

/* fake_dns_exists - does the name own a record or have names below? */
static int
fake_dns_exists(const struct dns *dns, const char *name)
{
	for (size_t i = 0; i < dns->n; i++)
		if (dns->e[i].type != 0 &&
		    (fake_dns_eq(dns->e[i].owner, name) ||
		     fake_dns_below(dns->e[i].owner, name)))
			return 1;
	return 0;
}

/* fake_dns_find - the first record of name and type, from index from */
static const struct fake_dns_entry *
fake_dns_find(const struct dns *dns, const char *name, int type, size_t *from)
{
	for (size_t i = *from; i < dns->n; i++)
		if (dns->e[i].type == type &&
		    fake_dns_eq(dns->e[i].owner, name)) {
			*from = i + 1;
			return &dns->e[i];
		}
	return NULL;
}

/* fake_dns_records - the RRset of name and type into the answer */
static int
fake_dns_records(const struct dns *dns, const char *name, struct dns_answer *a)
{
	const struct fake_dns_entry *e;
	size_t from = 0;

	while ((e = fake_dns_find(dns, name, a->qtype, &from)) != NULL) {
		a->rr = xrealloc(a->rr, (a->nrr + 1) * sizeof(*a->rr));
		a->rr[a->nrr].data = e->wire;
		a->rr[a->nrr].len = e->len;
		a->nrr++;
		if (e->ttl < a->ttl)
			a->ttl = e->ttl;
	}
	return a->nrr > 0;
}

/* fake_dns_tempfail - a failure: the chain is lost, as with unbound */
static void
fake_dns_tempfail(struct dns_answer *a, int rcode, int bogus, const char *why)
{
	for (size_t i = 0; i < a->ncnames; i++)
		free(a->cnames[i]);
	a->ncnames = 0;
	free(a->canonname);
	a->canonname = NULL;
	a->status = DNS_TEMPFAIL;
	a->rcode = rcode;
	a->ttl = 0;
	a->security = bogus ? DNS_BOGUS : DNS_UNCHECKED;
	util_strlcpy(a->why, why, sizeof(a->why));
}

/*
 * fake_dns_link - follow a CNAME at *cur: 1 if followed, 0 if none, -1
 * if malformed, -2 if it loops (the repeated name appended).
 */
static int
fake_dns_link(const struct dns *dns, struct dns_answer *a, char **cur)
{
	const struct fake_dns_entry *e;
	size_t from = 0;
	char next[DOMAIN_SIZE];
	int seen;

	if (a->qtype == DNS_T_CNAME ||
	    (e = fake_dns_find(dns, *cur, DNS_T_CNAME, &from)) == NULL)
		return 0;
	if (dns_rr_name(&(struct dns_rr){e->wire, e->len}, DNS_T_CNAME, next,
	                sizeof(next)) < 0)
		return -1;
	seen = fake_dns_eq(next, a->qname);
	for (size_t i = 0; i < a->ncnames; i++)
		seen |= fake_dns_eq(next, a->cnames[i]);
	a->cnames = xrealloc(a->cnames, (a->ncnames + 1) * sizeof(char *));
	a->cnames[a->ncnames++] = xstrdup(next);
	if (e->ttl < a->ttl)
		a->ttl = e->ttl;
	*cur = a->cnames[a->ncnames - 1];
	return seen ? -2 : 1;
}

/* fake_dns_loop - a loop, reported bare or with its chain */
static void
fake_dns_loop(const struct dns *dns, struct dns_answer *a)
{
	char why[160];

	if (dns->diagnose == 0) {
		fake_dns_tempfail(a, 2, 0, "SERVFAIL");
		return;
	}
	snprintf(why, sizeof(why), "CNAME loop at %s",
	         a->cnames[a->ncnames - 1]);
	if (dns->diagnose == 2) {
		free(a->cnames[--a->ncnames]);
		util_strlcpy(why, "SERVFAIL", sizeof(why));
	}
	a->status = DNS_TEMPFAIL;
	a->rcode = 2;
	a->ttl = 0;
	util_strlcpy(a->why, why, sizeof(a->why));
	a->canonname = xstrdup(a->cnames[a->ncnames - 1]);
}

/* fake_dns_resolve - the resolution loop (see the top of the file) */
static void
fake_dns_resolve(const struct dns *dns, struct dns_answer *a)
{
	char *cur = a->qname;

	for (int hop = 0; hop <= FAKE_DNS_MAX_CHASE; hop++) {
		const struct fake_dns_entry *f;
		int link;

		if ((f = fake_dns_failure(dns, cur)) != NULL) {
			fake_dns_tempfail(a, f->rcode, f->bogus, f->why);
			return;
		}
		if (fake_dns_records(dns, cur, a)) {
			a->status = DNS_OK;
			a->rcode = 0;
			break;
		}
		if ((link = fake_dns_link(dns, a, &cur)) == -2) {
			fake_dns_loop(dns, a);
			return;
		}
		if (link < 0) {
			fake_dns_tempfail(a, 2, 0, "SERVFAIL");
			return;
		}
		if (link > 0)
			continue;
		a->status =
		    fake_dns_exists(dns, cur) ? DNS_NODATA : DNS_NXDOMAIN;
		a->rcode = a->status == DNS_NXDOMAIN ? 3 : 0;
		if (dns->negative_ttl < a->ttl)
			a->ttl = dns->negative_ttl;
		break;
	}
	if (a->status == DNS_TEMPFAIL) {
		fake_dns_tempfail(a, 2, 0, "SERVFAIL");
		return;
	}
	if (a->ncnames > 0)
		a->canonname = xstrdup(a->cnames[a->ncnames - 1]);
}

/* dns_query - answer from the table */
struct dns_answer *
dns_query(struct dns *dns, const char *name, int qtype, int64_t deadline_ms)
{
	struct dns_answer *a = xcalloc(1, sizeof(*a));

	(void) deadline_ms;
	__atomic_fetch_add(&dns->queries, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&dns->by_type[qtype % FAKE_DNS_NTYPES], 1,
	                   __ATOMIC_SEQ_CST);
	a->qname = xstrdup(name);
	util_lower(a->qname);
	if (strlen(a->qname) > 1 && a->qname[strlen(a->qname) - 1] == '.')
		a->qname[strlen(a->qname) - 1] = '\0';
	a->qtype = qtype;
	a->ttl = UINT32_MAX;
	a->status = DNS_TEMPFAIL; /* until resolved */
	a->rcode = -1;
	fake_dns_resolve(dns, a);
	if (a->status == DNS_TEMPFAIL) {
		__atomic_fetch_add(&dns->tempfails, 1, __ATOMIC_SEQ_CST);
		if (a->rcode == -1)
			__atomic_fetch_add(&dns->timeouts, 1, __ATOMIC_SEQ_CST);
	}
	return a;
}

/* dns_answer_free - the answer and what it owns (not the table's data) */
void
dns_answer_free(struct dns_answer *answer)
{
	if (answer == NULL)
		return;
	for (size_t i = 0; i < answer->ncnames; i++)
		free(answer->cnames[i]);
	free(answer->cnames);
	free(answer->canonname);
	free(answer->qname);
	free(answer->rr);
	free(answer);
}

/* dns_rr_txt - join the character-strings of a TXT record */
long
dns_rr_txt(const struct dns_rr *rr, char *buf, size_t size)
{
	size_t i = 0, n = 0;

	if (size == 0)
		return -1;
	buf[0] = '\0';
	while (i < rr->len) {
		size_t l = rr->data[i++];

		if (i + l > rr->len || n + l >= size ||
		    memchr(rr->data + i, '\0', l) != NULL) {
			buf[0] = '\0';
			return -1;
		}
		memcpy(buf + n, rr->data + i, l);
		n += l;
		i += l;
	}
	buf[n] = '\0';
	return (long) n;
}

/* dns_rr_name - the name in a CNAME, PTR or MX record, as text */
int
dns_rr_name(const struct dns_rr *rr, int qtype, char *buf, size_t size)
{
	size_t i = qtype == DNS_T_MX ? 2 : 0, n = 0;

	if (size == 0 || i >= rr->len)
		return -1;
	while (i < rr->len && rr->data[i] != 0) {
		size_t l = rr->data[i++];

		if (l > 63 || i + l > rr->len || n + l + 1 >= size)
			return -1;
		if (n > 0)
			buf[n++] = '.';
		memcpy(buf + n, rr->data + i, l);
		n += l;
		i += l;
	}
	if (i >= rr->len)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* dns_stats - the fake's counters */
void
dns_stats(const struct dns *dns, struct dns_stats *out)
{
	out->queries = __atomic_load_n(&dns->queries, __ATOMIC_SEQ_CST);
	out->timeouts = __atomic_load_n(&dns->timeouts, __ATOMIC_SEQ_CST);
	out->tempfails = __atomic_load_n(&dns->tempfails, __ATOMIC_SEQ_CST);
}
