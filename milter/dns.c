/*
 * dns - the resolver: one libunbound context in threaded async mode, one
 * pump thread, a deadline per query, answers classified once.
 *
 * A query's life: dns_query() registers a struct dns_pending, hands it to
 * ub_resolve_async() and waits on the pending's condition variable.  The
 * pump thread polls ub_fd() and runs ub_process(), which calls
 * dns_callback() with the result; the callback stores it and signals the
 * waiter.  A waiter whose deadline passes marks the pending abandoned and
 * calls ub_cancel().  libunbound (threaded mode) then either suppresses
 * the callback (UB_NOERROR: the waiter frees the pending) or is delivering
 * it right now (UB_NOID: the callback sees "abandoned" and frees the
 * result and the pending).  One mutex (dns->lock) guards every pending's
 * state, the list of waiters and the count of callers.
 *
 * The answer is read from libunbound's answer packet, not only from its
 * summary: the CNAME chain in order (libunbound gives only its end), the
 * minimum TTL over the chain and the records, the negative TTL from the
 * SOA.  The records themselves are libunbound's uncompressed RDATA.  A
 * CNAME loop reaches us as a bare SERVFAIL, so a SERVFAIL is followed up
 * with CNAME questions that name the loop (dns_diagnose).
 */

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unbound.h>

#include "dns.h"
#include "domain.h"
#include "metrics.h"
#include "util.h"

#define DNS_CLASS_IN 1
#define DNS_T_NS 2
#define DNS_T_SOA 6
#define DNS_RCODE_NOERROR 0
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3
#define DNS_RCODE_REFUSED 5

#define DNS_WIRE_MAX 255        /* a name on the wire (RFC 1035 2.3.4) */
#define DNS_HEADER_LEN 12       /* RFC 1035 4.1.1 */
#define DNS_PTR_HOPS 64         /* compression pointers followed per name */
#define DNS_CHAIN_MAX 16        /* more CNAMEs than unbound ever follows */
#define DNS_TTL_MAX 0x7fffffffU /* larger TTLs count as 0 (RFC 2181 8) */
#define DNS_PUMP_POLL_MS 100
#define DNS_WARMUP_MS 5000
#define DNS_OUTGOING_PORTS "256" /* see dns_options() */
#define DNS_MIN_RTT_MS "1000"    /* see dns_options() */

/*
 * Zones libunbound 1.17 answers itself by default, to be resolved like
 * any other name: RFC 6761 (test., invalid.), RFC 7686 (onion.), RFC 8375
 * (home.arpa.).  "unblock-lan-zones" removes the AS112 reverse zones (RFC
 * 6303: RFC 1918, link-local, documentation prefixes, ...).  localhost.
 * and the loopback reverse zones stay local.  local. (RFC 6762),
 * resolver.arpa. (RFC 9462) and service.arpa. are not local in 1.17 but
 * may be in later releases; removing a zone that is not there is a no-op.
 */
static const char *const dns_special_zones[] = {
    "test.",  "invalid.",       "onion.",        "home.arpa.",
    "local.", "resolver.arpa.", "service.arpa.", NULL};

enum dns_pending_state {
	DNS_PENDING_WAITING,
	DNS_PENDING_DONE,
	DNS_PENDING_ABANDONED,
};

/* One query between ub_resolve_async() and its answer or deadline. */
struct dns_pending {
	struct dns *dns;
	pthread_cond_t cond;
	enum dns_pending_state state;
	int err;
	struct ub_result *result;
	struct dns_pending *prev, *next; /* dns->waiters */
};

struct dns {
	struct ub_ctx *ctx;
	int validating; /* a trust anchor is configured */
	int64_t timeout_ms;
	pthread_t pump;
	int pump_running;
	atomic_int stop;
	atomic_int pump_err; /* ub_process() failure, 0 while fine */
	pthread_mutex_t lock;
	pthread_cond_t idle;         /* callers dropped to 0 */
	struct dns_pending *waiters; /* under lock */
	unsigned callers;            /* threads inside dns_query(), lock */
	int closing;                 /* under lock */
	atomic_ulong queries;
	atomic_ulong timeouts;
	atomic_ulong tempfails;
	struct metrics *metrics; /* NULL: not counted there */
};

/* How waiting for a query ended. */
struct dns_outcome {
	int answered; /* the callback ran: err and result are set */
	int err;
	struct ub_result *result; /* the caller's to free; NULL if err */
	int closed;               /* dns_close() began */
	int64_t waited;           /* milliseconds */
};

/* What an answer packet says, before the answer is allocated. */
struct dns_parsed {
	char chain[DNS_CHAIN_MAX][DOMAIN_SIZE];
	size_t nchain;
	unsigned char end[DNS_WIRE_MAX]; /* owner of the records (wire) */
	size_t end_len;
	size_t nrecords;  /* records of qtype at end */
	uint32_t ttl;     /* min over chain and records */
	int have_soa;     /* an SOA in the authority section */
	int have_ns;      /* NS records there (a referral, if no SOA) */
	uint32_t neg_ttl; /* min(SOA TTL, SOA MINIMUM) */
	int loop;         /* the chain came back to a name */
	char why[128];    /* malformed packet, CNAME loop */
};

/* One resource record of a packet. */
struct dns_pkt_rr {
	unsigned char owner[DNS_WIRE_MAX];
	size_t owner_len;
	unsigned type;
	unsigned class;
	uint32_t ttl;
	size_t rdata; /* offset in the packet */
	size_t rdlen;
};

struct dns_pkt {
	const unsigned char *p;
	size_t len;
};

/* ------------------------------------------------------------------ */
/* Names on the wire                                                    */
/* ------------------------------------------------------------------ */

/* dns_lower - ASCII lowercase of one byte (labels are not text) */
static unsigned char
dns_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char) (c + 32) : c;
}

/*
 * dns_wire_len - the length of the uncompressed name at p (at most len
 * bytes), or -1: a label past the end, a compression pointer or an
 * extended label type, more than 255 bytes.
 */
static int
dns_wire_len(const unsigned char *p, size_t len, size_t *out)
{
	size_t i = 0;

	for (;;) {
		unsigned c;

		if (i >= len)
			return -1;
		c = p[i];
		if ((c & 0xc0) != 0)
			return -1;
		if (c > len - i - 1 || i + 1 + c > DNS_WIRE_MAX)
			return -1;
		i += 1 + c;
		if (c == 0)
			break;
	}
	*out = i;
	return 0;
}

/* dns_text_byte - one label byte in presentation form; returns length */
static size_t
dns_text_byte(unsigned char c, char out[5])
{
	c = dns_lower(c);
	if (c == '.' || c == '\\') {
		out[0] = '\\';
		out[1] = (char) c;
		return 2;
	}
	if (c > 0x20 && c < 0x7f) {
		out[0] = (char) c;
		return 1;
	}
	snprintf(out, 5, "\\%03u", (unsigned) c);
	return 4;
}

/*
 * dns_wire_text - a valid uncompressed wire name as lowercase text
 * without trailing dot (the root is ""), special bytes escaped as in zone
 * files (RFC 1035 5.1).  -1 if it does not fit in size.
 */
static int
dns_wire_text(const unsigned char *w, char *buf, size_t size)
{
	size_t out = 0;

	if (size == 0)
		return -1;
	for (size_t i = 0; w[i] != 0; i += 1 + w[i]) {
		if (i > 0) {
			if (out + 1 >= size)
				goto toolong;
			buf[out++] = '.';
		}
		for (size_t j = 1; j <= w[i]; j++) {
			char t[5];
			size_t n = dns_text_byte(w[i + j], t);

			if (out + n >= size)
				goto toolong;
			memcpy(buf + out, t, n);
			out += n;
		}
	}
	buf[out] = '\0';
	return 0;
toolong:
	buf[0] = '\0';
	return -1;
}

/* dns_wire_eq - are two wire names equal, ignoring ASCII case? */
static int
dns_wire_eq(const unsigned char *a, size_t alen, const unsigned char *b,
            size_t blen)
{
	if (alen != blen)
		return 0;
	for (size_t i = 0; i < alen; i++)
		if (dns_lower(a[i]) != dns_lower(b[i]))
			return 0;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Record data: pure, fuzzed                                            */
/* ------------------------------------------------------------------ */

/* dns_rr_txt - join a TXT record's character-strings */
long
dns_rr_txt(const struct dns_rr *rr, char *buf, size_t size)
{
	size_t in = 0, out = 0;

	if (size == 0)
		return -1;
	buf[0] = '\0';
	if (rr == NULL || rr->data == NULL || rr->len == 0)
		return -1;
	while (in < rr->len) {
		size_t n = rr->data[in++];

		if (n > rr->len - in || n >= size - out ||
		    memchr(rr->data + in, '\0', n) != NULL) {
			buf[0] = '\0';
			return -1;
		}
		memcpy(buf + out, rr->data + in, n);
		out += n;
		in += n;
	}
	buf[out] = '\0';
	return (long) out;
}

/* dns_rr_name - the name in a CNAME, PTR or MX record as text */
int
dns_rr_name(const struct dns_rr *rr, int qtype, char *buf, size_t size)
{
	size_t skip, n;

	if (size > 0)
		buf[0] = '\0';
	if (rr == NULL || rr->data == NULL)
		return -1;
	switch (qtype) {
	case DNS_T_CNAME:
	case DNS_T_PTR:
		skip = 0;
		break;
	case DNS_T_MX:
		skip = 2; /* the preference */
		break;
	default:
		return -1;
	}
	if (rr->len < skip ||
	    dns_wire_len(rr->data + skip, rr->len - skip, &n) != 0 ||
	    n != rr->len - skip)
		return -1;
	return dns_wire_text(rr->data + skip, buf, size);
}

/* ------------------------------------------------------------------ */
/* Answer packets (RFC 1035 4.1): compressed names allowed              */
/* ------------------------------------------------------------------ */

/* dns_get16 - a 16-bit field */
static unsigned
dns_get16(const unsigned char *p)
{
	return (unsigned) p[0] << 8 | p[1];
}

/* dns_get32 - a 32-bit field */
static uint32_t
dns_get32(const unsigned char *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 |
	       (uint32_t) p[2] << 8 | p[3];
}

/*
 * dns_pkt_name - the (possibly compressed) name at *off, uncompressed into
 * out; *off moves past it.  Pointers must point backwards and are counted,
 * so a malicious packet cannot loop.
 */
static int
dns_pkt_name(const struct dns_pkt *pkt, size_t *off, unsigned char *out,
             size_t *outlen)
{
	size_t pos = *off, n = 0, after = 0;
	unsigned hops = 0;

	for (;;) {
		unsigned c;

		if (pos >= pkt->len)
			return -1;
		c = pkt->p[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t to;

			if (pos + 1 >= pkt->len || ++hops > DNS_PTR_HOPS)
				return -1;
			to = (size_t) (c & 0x3f) << 8 | pkt->p[pos + 1];
			if (after == 0)
				after = pos + 2;
			if (to >= pos)
				return -1;
			pos = to;
			continue;
		}
		if ((c & 0xc0) != 0 || c > pkt->len - pos - 1 ||
		    n + 1 + c > DNS_WIRE_MAX)
			return -1;
		memcpy(out + n, pkt->p + pos, 1 + c);
		n += 1 + c;
		pos += 1 + c;
		if (c == 0)
			break;
	}
	*off = after != 0 ? after : pos;
	*outlen = n;
	return 0;
}

/* dns_pkt_rr - the resource record at *off; *off moves past it */
static int
dns_pkt_rr(const struct dns_pkt *pkt, size_t *off, struct dns_pkt_rr *rr)
{
	const unsigned char *f;

	if (dns_pkt_name(pkt, off, rr->owner, &rr->owner_len) != 0 ||
	    pkt->len - *off < 10)
		return -1;
	f = pkt->p + *off;
	rr->type = dns_get16(f);
	rr->class = dns_get16(f + 2);
	rr->ttl = dns_get32(f + 4);
	if (rr->ttl > DNS_TTL_MAX)
		rr->ttl = 0;
	rr->rdlen = dns_get16(f + 8);
	rr->rdata = *off + 10;
	if (rr->rdlen > pkt->len - rr->rdata)
		return -1;
	*off = rr->rdata + rr->rdlen;
	return 0;
}

/* dns_ttl_min - fold one TTL into a minimum */
static void
dns_ttl_min(uint32_t *ttl, uint32_t v)
{
	if (v < *ttl)
		*ttl = v;
}

/*
 * dns_parse_why - record why a packet cannot be used; returns -1.  The
 * first reason wins.
 */
static int dns_parse_why(struct dns_parsed *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int
dns_parse_why(struct dns_parsed *ps, const char *fmt, ...)
{
	va_list ap;

	if (ps->why[0] != '\0')
		return -1;
	va_start(ap, fmt);
	vsnprintf(ps->why, sizeof(ps->why), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * dns_parse_question - check the header and the question (the name we
 * asked, qtype, IN); leaves the chain's start in ps->end and the offset
 * of the answer section in *off.
 */
static int
dns_parse_question(const struct dns_pkt *pkt, const char *qname, int qtype,
                   struct dns_parsed *ps, size_t *off)
{
	char text[DOMAIN_SIZE];

	if (pkt->len < DNS_HEADER_LEN)
		return dns_parse_why(ps, "answer packet of %zu bytes",
		                     pkt->len);
	if ((pkt->p[2] & 0x80) == 0 || dns_get16(pkt->p + 4) != 1)
		return dns_parse_why(ps, "not a response to one question");
	*off = DNS_HEADER_LEN;
	if (dns_pkt_name(pkt, off, ps->end, &ps->end_len) != 0 ||
	    pkt->len - *off < 4)
		return dns_parse_why(ps, "bad question section");
	if (dns_get16(pkt->p + *off) != (unsigned) qtype ||
	    dns_get16(pkt->p + *off + 2) != DNS_CLASS_IN ||
	    dns_wire_text(ps->end, text, sizeof(text)) != 0 ||
	    strcmp(text, qname) != 0)
		return dns_parse_why(ps, "answer to another question");
	*off += 4;
	return 0;
}

/* dns_chain_seen - is this name the query name or already in the chain? */
static int
dns_chain_seen(const struct dns_parsed *ps, const char *qname, const char *name)
{
	if (strcmp(name, qname) == 0)
		return 1;
	for (size_t i = 0; i < ps->nchain; i++)
		if (strcmp(ps->chain[i], name) == 0)
			return 1;
	return 0;
}

/*
 * dns_chain_step - find the CNAME owned by ps->end among the ancount
 * records at off and follow it.  Returns 1 if followed, 0 if there is
 * none, -1 (with a reason) on a loop, an overlong chain or bad data.
 */
static int
dns_chain_step(const struct dns_pkt *pkt, size_t off, unsigned ancount,
               const char *qname, struct dns_parsed *ps)
{
	struct dns_pkt_rr rr;
	unsigned char target[DNS_WIRE_MAX];
	size_t tlen, roff;
	char text[DOMAIN_SIZE];

	for (unsigned i = 0; i < ancount; i++) {
		if (dns_pkt_rr(pkt, &off, &rr) != 0)
			return dns_parse_why(ps, "bad answer section");
		if (rr.type != DNS_T_CNAME || rr.class != DNS_CLASS_IN ||
		    !dns_wire_eq(rr.owner, rr.owner_len, ps->end, ps->end_len))
			continue;
		roff = rr.rdata;
		if (dns_pkt_name(pkt, &roff, target, &tlen) != 0 ||
		    roff != rr.rdata + rr.rdlen ||
		    dns_wire_text(target, text, sizeof(text)) != 0)
			return dns_parse_why(ps, "bad CNAME record");
		if (ps->nchain == DNS_CHAIN_MAX)
			return dns_parse_why(ps, "CNAME chain longer than %d",
			                     DNS_CHAIN_MAX);
		ps->loop = dns_chain_seen(ps, qname, text);
		util_strlcpy(ps->chain[ps->nchain++], text, DOMAIN_SIZE);
		if (ps->loop)
			return dns_parse_why(ps, "CNAME loop at %s", text);
		memcpy(ps->end, target, tlen);
		ps->end_len = tlen;
		dns_ttl_min(&ps->ttl, rr.ttl);
		return 1;
	}
	return 0;
}

/* dns_parse_records - count the qtype records owned by the chain's end */
static int
dns_parse_records(const struct dns_pkt *pkt, size_t *off, unsigned ancount,
                  int qtype, struct dns_parsed *ps)
{
	struct dns_pkt_rr rr;

	for (unsigned i = 0; i < ancount; i++) {
		if (dns_pkt_rr(pkt, off, &rr) != 0)
			return dns_parse_why(ps, "bad answer section");
		if (rr.type != (unsigned) qtype || rr.class != DNS_CLASS_IN ||
		    !dns_wire_eq(rr.owner, rr.owner_len, ps->end, ps->end_len))
			continue;
		ps->nrecords++;
		dns_ttl_min(&ps->ttl, rr.ttl);
	}
	return 0;
}

/*
 * dns_parse_soa - the negative TTL of RFC 2308 section 5 from the SOA in
 * the authority section: min(SOA TTL, SOA MINIMUM).
 */
static int
dns_parse_soa(const struct dns_pkt *pkt, size_t *off, unsigned nscount,
              struct dns_parsed *ps)
{
	struct dns_pkt_rr rr;
	uint32_t minimum;

	for (unsigned i = 0; i < nscount; i++) {
		if (dns_pkt_rr(pkt, off, &rr) != 0)
			return dns_parse_why(ps, "bad authority section");
		if (rr.type == DNS_T_NS)
			ps->have_ns = 1;
		if (rr.type != DNS_T_SOA || ps->have_soa)
			continue;
		/* two names of at least one byte, then five 32-bit fields */
		if (rr.rdlen < 22)
			return dns_parse_why(ps, "bad SOA record");
		minimum = dns_get32(pkt->p + rr.rdata + rr.rdlen - 4);
		if (minimum > DNS_TTL_MAX)
			minimum = 0;
		ps->have_soa = 1;
		ps->neg_ttl = rr.ttl < minimum ? rr.ttl : minimum;
	}
	return 0;
}

/*
 * dns_parse - walk an answer packet: the CNAME chain from the question
 * name, the records of qtype at its end, the SOA.  A CNAME query has no
 * chain: the CNAME is the record asked for.
 */
static int
dns_parse(const struct dns_pkt *pkt, const char *qname, int qtype,
          struct dns_parsed *ps)
{
	size_t off;
	unsigned ancount, nscount;
	int r;

	memset(ps, 0, sizeof(*ps));
	ps->ttl = UINT32_MAX;
	if (dns_parse_question(pkt, qname, qtype, ps, &off) != 0)
		return -1;
	ancount = dns_get16(pkt->p + 6);
	nscount = dns_get16(pkt->p + 8);
	if (qtype != DNS_T_CNAME) {
		while ((r = dns_chain_step(pkt, off, ancount, qname, ps)) == 1)
			continue;
		if (r < 0)
			return -1;
	}
	if (dns_parse_records(pkt, &off, ancount, qtype, ps) != 0 ||
	    dns_parse_soa(pkt, &off, nscount, ps) != 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Answers                                                              */
/* ------------------------------------------------------------------ */

/* dns_answer_take - take n bytes from an answer's single block */
static void *
dns_answer_take(unsigned char **cursor, size_t n)
{
	void *p = *cursor;

	*cursor += n;
	return p;
}

/*
 * dns_answer_new - an answer in one allocation: the struct, the record
 * array, the chain's pointer array, then the bytes (rdata, names).  data
 * and len are libunbound's NULL-terminated record list (or NULL).
 */
static struct dns_answer *
dns_answer_new(const char *qname, int qtype, const struct dns_parsed *ps,
               char *const *data, const int *len)
{
	size_t nrr = 0, nch = ps != NULL ? ps->nchain : 0;
	size_t size = sizeof(struct dns_answer) + strlen(qname) + 1;
	struct dns_answer *a;
	unsigned char *cur;

	for (; data != NULL && len != NULL && data[nrr] != NULL; nrr++)
		size += sizeof(struct dns_rr) + (size_t) len[nrr];
	for (size_t i = 0; i < nch; i++)
		size += sizeof(char *) + strlen(ps->chain[i]) + 1;
	a = xcalloc(1, size);
	cur = (unsigned char *) (a + 1);
	a->rr = dns_answer_take(&cur, nrr * sizeof(struct dns_rr));
	a->cnames = dns_answer_take(&cur, nch * sizeof(char *));
	for (size_t i = 0; data != NULL && len != NULL && i < nrr; i++) {
		a->rr[i].len = (size_t) len[i];
		a->rr[i].data = dns_answer_take(&cur, a->rr[i].len);
		memcpy(cur - a->rr[i].len, data[i], a->rr[i].len);
	}
	a->nrr = nrr;
	for (size_t i = 0; i < nch; i++) {
		a->cnames[i] = dns_answer_take(&cur, strlen(ps->chain[i]) + 1);
		strcpy(a->cnames[i], ps->chain[i]);
	}
	a->ncnames = nch;
	a->canonname = nch > 0 ? a->cnames[nch - 1] : NULL;
	a->qname = (char *) cur;
	strcpy(a->qname, qname);
	if (nrr == 0)
		a->rr = NULL;
	if (nch == 0)
		a->cnames = NULL;
	a->qtype = qtype;
	a->rcode = -1;
	return a;
}

/* dns_answer_fail - make an answer a TEMPFAIL with a reason */
static struct dns_answer *dns_answer_fail(struct dns_answer *a, const char *fmt,
                                          ...)
    __attribute__((format(printf, 2, 3)));
static struct dns_answer *
dns_answer_fail(struct dns_answer *a, const char *fmt, ...)
{
	va_list ap;

	a->status = DNS_TEMPFAIL;
	a->ttl = 0;
	a->nrr = 0; /* records of a bogus answer are not to be used */
	a->rr = NULL;
	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
	return a;
}

/* dns_answer_free - free an answer; NULL is fine */
void
dns_answer_free(struct dns_answer *answer)
{
	free(answer);
}

/* dns_count - the length of libunbound's NULL-terminated record list */
static size_t
dns_count(char *const *data)
{
	size_t n = 0;

	while (data != NULL && data[n] != NULL)
		n++;
	return n;
}

/*
 * dns_classify_found - a NOERROR or NXDOMAIN answer whose packet parsed:
 * OK, NODATA or NXDOMAIN with its TTL, or TEMPFAIL if libunbound and the
 * packet disagree.
 */
static void
dns_classify_found(struct dns_answer *a, const struct ub_result *r,
                   const struct dns_parsed *ps)
{
	size_t n = r->havedata ? dns_count(r->data) : 0;
	uint32_t neg = ps->have_soa ? ps->neg_ttl : 0;

	if (r->rcode == DNS_RCODE_NXDOMAIN) {
		a->status = DNS_NXDOMAIN;
	} else if (n > 0 && n == ps->nrecords) {
		a->status = DNS_OK;
		a->ttl = ps->ttl;
		return;
	} else if (n == 0 && ps->nrecords == 0 && ps->have_ns &&
	           !ps->have_soa) {
		dns_answer_fail(a, "a referral instead of an answer (is the "
		                   "resolver recursive?)");
		return;
	} else if (n == 0 && ps->nrecords == 0) {
		a->status = DNS_NODATA;
	} else {
		dns_answer_fail(a,
		                "inconsistent answer: %zu records in the "
		                "packet, %zu from libunbound",
		                ps->nrecords, n);
		return;
	}
	/* RFC 2308 5: no SOA, no negative caching */
	a->ttl = neg < ps->ttl ? neg : ps->ttl;
}

/* dns_rcode_why - a failure RCODE as a reason a human can act on */
static void
dns_rcode_why(struct dns_answer *a, int rcode)
{
	switch (rcode) {
	case DNS_RCODE_SERVFAIL:
		dns_answer_fail(a, "SERVFAIL from the resolver");
		break;
	case DNS_RCODE_REFUSED:
		dns_answer_fail(a, "REFUSED by the resolver");
		break;
	default:
		dns_answer_fail(a, "RCODE %d from the resolver", rcode);
		break;
	}
}

/* dns_security - the DNSSEC verdict of a result */
static enum dns_security
dns_security(const struct dns *dns, const struct ub_result *r)
{
	if (!dns->validating)
		return DNS_UNCHECKED;
	if (r->bogus)
		return DNS_BOGUS;
	return r->secure ? DNS_SECURE : DNS_INSECURE;
}

/*
 * dns_classify - turn libunbound's result into an answer.  The packet is
 * parsed even for a failure RCODE, so that a CNAME loop is named.
 */
static struct dns_answer *
dns_classify(const struct dns *dns, const char *qname, int qtype,
             const struct ub_result *r)
{
	struct dns_parsed ps;
	struct dns_pkt pkt = {r->answer_packet, 0};
	struct dns_answer *a;
	int parsed;

	pkt.len = r->answer_packet != NULL && r->answer_len > 0
	              ? (size_t) r->answer_len
	              : 0;
	parsed = dns_parse(&pkt, qname, qtype, &ps);
	/* the chain is kept as far as it was read */
	if (parsed == 0 && r->rcode == DNS_RCODE_NOERROR)
		a = dns_answer_new(qname, qtype, &ps, r->data, r->len);
	else
		a = dns_answer_new(qname, qtype, &ps, NULL, NULL);
	a->rcode = r->rcode;
	a->security = dns_security(dns, r);
	if (a->security == DNS_BOGUS)
		return dns_answer_fail(
		    a, "DNSSEC bogus: %s",
		    r->why_bogus != NULL ? r->why_bogus : "no reason given");
	if (ps.loop)
		return dns_answer_fail(a, "%s", ps.why);
	if (r->rcode != DNS_RCODE_NOERROR && r->rcode != DNS_RCODE_NXDOMAIN) {
		dns_rcode_why(a, r->rcode);
		return a;
	}
	if (parsed != 0)
		return dns_answer_fail(a, "malformed answer: %s", ps.why);
	dns_classify_found(a, r, &ps);
	return a;
}

/* ------------------------------------------------------------------ */
/* Queries                                                              */
/* ------------------------------------------------------------------ */

/* dns_callback - libunbound's answer, in the pump thread */
static void
dns_callback(void *arg, int err, struct ub_result *result)
{
	struct dns_pending *p = arg;
	struct dns *dns = p->dns;

	pthread_mutex_lock(&dns->lock);
	if (p->state == DNS_PENDING_ABANDONED) {
		/* the waiter left and its ub_cancel() came too late */
		pthread_mutex_unlock(&dns->lock);
		ub_resolve_free(result);
		pthread_cond_destroy(&p->cond);
		free(p);
		return;
	}
	p->state = DNS_PENDING_DONE;
	p->err = err;
	p->result = result;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&dns->lock);
}

/* dns_pending_new - a waiting query, or NULL once dns_close() began */
static struct dns_pending *
dns_pending_new(struct dns *dns)
{
	struct dns_pending *p = xcalloc(1, sizeof(*p));
	pthread_condattr_t attr;

	p->dns = dns;
	p->state = DNS_PENDING_WAITING;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_lock(&dns->lock);
	if (dns->closing) {
		pthread_mutex_unlock(&dns->lock);
		pthread_cond_destroy(&p->cond);
		free(p);
		return NULL;
	}
	p->next = dns->waiters;
	if (p->next != NULL)
		p->next->prev = p;
	dns->waiters = p;
	pthread_mutex_unlock(&dns->lock);
	return p;
}

/* dns_pending_unlink - take p off the waiters' list (lock held) */
static void
dns_pending_unlink(struct dns *dns, struct dns_pending *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		dns->waiters = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
}

/*
 * dns_caller_enter - a thread enters dns_query(); 0 once dns_close()
 * began.  dns_close() frees nothing while a caller is inside.
 */
static int
dns_caller_enter(struct dns *dns)
{
	int ok;

	pthread_mutex_lock(&dns->lock);
	ok = !dns->closing;
	if (ok)
		dns->callers++;
	pthread_mutex_unlock(&dns->lock);
	return ok;
}

/* dns_caller_done - a thread leaves dns_query(); wakes dns_close() */
static void
dns_caller_done(struct dns *dns)
{
	pthread_mutex_lock(&dns->lock);
	if (--dns->callers == 0)
		pthread_cond_broadcast(&dns->idle);
	pthread_mutex_unlock(&dns->lock);
}

/* dns_timespec - a CLOCK_MONOTONIC millisecond time as a timespec */
static struct timespec
dns_timespec(int64_t ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t) (ms / 1000);
	ts.tv_nsec = (long) (ms % 1000) * 1000000L;
	return ts;
}

/*
 * dns_wait - wait for p's answer until deadline (or dns_close()).  If the
 * callback ran, out->answered is set with its err and result (the caller
 * frees it; NULL when err is set).  Otherwise the waiter gave up: p then
 * belongs to the callback that is running, or is freed here.
 */
static void
dns_wait(struct dns *dns, struct dns_pending *p, int id, int64_t deadline,
         struct dns_outcome *out)
{
	struct timespec ts = dns_timespec(deadline);

	pthread_mutex_lock(&dns->lock);
	while (p->state == DNS_PENDING_WAITING && !dns->closing)
		if (pthread_cond_timedwait(&p->cond, &dns->lock, &ts) != 0)
			break;
	dns_pending_unlink(dns, p);
	out->closed = dns->closing;
	if (p->state == DNS_PENDING_DONE) {
		pthread_mutex_unlock(&dns->lock);
		out->answered = 1;
		out->result = p->result;
		out->err = p->err;
		pthread_cond_destroy(&p->cond);
		free(p);
		return;
	}
	p->state = DNS_PENDING_ABANDONED;
	pthread_mutex_unlock(&dns->lock);
	/* UB_NOERROR: the callback will never run; UB_NOID: it is running */
	if (ub_cancel(dns->ctx, id) == UB_NOERROR) {
		pthread_cond_destroy(&p->cond);
		free(p);
	}
}

/* dns_answer_plain - an answer without records or chain */
static struct dns_answer *
dns_answer_plain(const char *qname, int qtype)
{
	return dns_answer_new(qname, qtype, NULL, NULL, NULL);
}

/*
 * dns_answered - the answer for a query whose wait ended (see dns_wait);
 * *timedout is set if it ended at the deadline.
 */
static struct dns_answer *
dns_answered(const struct dns *dns, const char *qname, int qtype,
             const struct dns_outcome *out, int *timedout)
{
	struct dns_answer *a;

	if (!out->answered && !out->closed) {
		*timedout = 1;
		return dns_answer_fail(dns_answer_plain(qname, qtype),
		                       "timeout after %lld ms",
		                       (long long) out->waited);
	}
	if (!out->answered)
		return dns_answer_fail(dns_answer_plain(qname, qtype),
		                       "resolver closed");
	if (out->err != 0 || out->result == NULL)
		a = dns_answer_fail(dns_answer_plain(qname, qtype),
		                    "resolver error: %s",
		                    ub_strerror(out->err));
	else
		a = dns_classify(dns, qname, qtype, out->result);
	ub_resolve_free(out->result);
	return a;
}

/*
 * dns_ask - send a normalized name to libunbound and wait, until the
 * absolute deadline, for the classified answer.
 */
static struct dns_answer *
dns_ask(struct dns *dns, const char *qname, int qtype, int64_t deadline,
        int *timedout)
{
	int64_t start = util_monotonic_ms();
	struct dns_outcome out = {0};
	struct dns_pending *p;
	int id = 0, rc;

	if ((rc = atomic_load(&dns->pump_err)) != 0)
		return dns_answer_fail(dns_answer_plain(qname, qtype),
		                       "resolver thread failed: %s",
		                       ub_strerror(rc));
	if (deadline <= start) {
		*timedout = 1;
		return dns_answer_fail(dns_answer_plain(qname, qtype),
		                       "timeout: the deadline passed before "
		                       "the query was sent");
	}
	if ((p = dns_pending_new(dns)) == NULL)
		return dns_answer_fail(dns_answer_plain(qname, qtype),
		                       "resolver closed");
	rc = ub_resolve_async(dns->ctx, qname, qtype, DNS_CLASS_IN, p,
	                      dns_callback, &id);
	if (rc != UB_NOERROR) {
		pthread_mutex_lock(&dns->lock);
		dns_pending_unlink(dns, p);
		pthread_mutex_unlock(&dns->lock);
		pthread_cond_destroy(&p->cond);
		free(p);
		return dns_answer_fail(dns_answer_plain(qname, qtype),
		                       "cannot send the query: %s",
		                       ub_strerror(rc));
	}
	dns_wait(dns, p, id, deadline, &out);
	out.waited = util_monotonic_ms() - start;
	return dns_answered(dns, qname, qtype, &out, timedout);
}

/*
 * dns_loop_probe - follow qname's CNAME chain one CNAME question at a
 * time until the deadline.  Returns 1 if a name comes back (a loop; the
 * chain, ending with the repeated name, is in ps), else 0.
 */
static int
dns_loop_probe(struct dns *dns, const char *qname, int64_t deadline,
               struct dns_parsed *ps)
{
	char cur[DOMAIN_SIZE], next[DOMAIN_SIZE];
	int ignored = 0, ok, seen;

	memset(ps, 0, sizeof(*ps));
	util_strlcpy(cur, qname, sizeof(cur));
	while (ps->nchain < DNS_CHAIN_MAX) {
		struct dns_answer *a =
		    dns_ask(dns, cur, DNS_T_CNAME, deadline, &ignored);

		ok = a->status == DNS_OK && a->nrr == 1 &&
		     dns_rr_name(&a->rr[0], DNS_T_CNAME, next, sizeof(next)) ==
		         0 &&
		     next[0] != '\0';
		dns_answer_free(a);
		if (!ok)
			return 0;
		seen = dns_chain_seen(ps, qname, next);
		util_strlcpy(ps->chain[ps->nchain++], next, DOMAIN_SIZE);
		if (seen)
			return 1;
		util_strlcpy(cur, next, sizeof(cur));
	}
	return 0;
}

/*
 * dns_diagnose - unbound answers a CNAME loop with a bare SERVFAIL, the
 * same as resolver trouble.  A loop is the zone owner's error and must be
 * reported as one, so a SERVFAIL (not bogus) for any type but CNAME is
 * looked into with CNAME questions, within the same deadline.
 */
static struct dns_answer *
dns_diagnose(struct dns *dns, struct dns_answer *a, int64_t deadline)
{
	struct dns_parsed ps;
	struct dns_answer *loop;

	if (a->status != DNS_TEMPFAIL || a->rcode != DNS_RCODE_SERVFAIL ||
	    a->security == DNS_BOGUS || a->qtype == DNS_T_CNAME ||
	    a->ncnames > 0 || !dns_loop_probe(dns, a->qname, deadline, &ps))
		return a;
	loop = dns_answer_new(a->qname, a->qtype, &ps, NULL, NULL);
	loop->rcode = a->rcode;
	loop->security = a->security;
	dns_answer_fail(loop, "CNAME loop at %s", loop->canonname);
	dns_answer_free(a);
	return loop;
}

/* dns_monotonic_us - CLOCK_MONOTONIC in microseconds, for latency */
static int64_t
dns_monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* dns_measure - count a resolved query into the metrics */
static void
dns_measure(struct dns *dns, const struct dns_answer *a, int timedout,
            int64_t usec)
{
	static const enum metrics_dns outcome[] = {
	    [DNS_OK] = METRICS_DNS_OK,
	    [DNS_NXDOMAIN] = METRICS_DNS_NXDOMAIN,
	    [DNS_NODATA] = METRICS_DNS_NODATA,
	    [DNS_TEMPFAIL] = METRICS_DNS_TEMPFAIL,
	};

	if (dns->metrics != NULL)
		metrics_dns(dns->metrics, outcome[a->status], timedout, usec);
}

/*
 * dns_resolve - a valid, normalized name: ask, diagnose a SERVFAIL, count.
 * Runs inside dns_caller_enter()/dns_caller_done().
 */
static struct dns_answer *
dns_resolve(struct dns *dns, const char *qname, int qtype, int64_t deadline_ms)
{
	int64_t now = util_monotonic_ms(), deadline = now + dns->timeout_ms;
	int64_t start = dns_monotonic_us();
	int timedout = 0;
	struct dns_answer *a;

	if (deadline_ms > 0 && deadline_ms < deadline)
		deadline = deadline_ms;
	a = dns_ask(dns, qname, qtype, deadline, &timedout);
	a = dns_diagnose(dns, a, deadline);
	if (timedout)
		atomic_fetch_add(&dns->timeouts, 1);
	dns_measure(dns, a, timedout, dns_monotonic_us() - start);
	return a;
}

/* dns_query - ask name/type, wait at most until the deadline */
struct dns_answer *
dns_query(struct dns *dns, const char *name, int qtype, int64_t deadline_ms)
{
	char qname[DOMAIN_SIZE], why[128];
	struct dns_answer *a;

	if (name == NULL)
		name = "";
	if (!dns_caller_enter(dns))
		return dns_answer_fail(dns_answer_plain(name, qtype),
		                       "resolver closed");
	atomic_fetch_add(&dns->queries, 1);
	if (qtype <= 0 || qtype > 65535)
		a = dns_answer_fail(dns_answer_plain(name, qtype),
		                    "bad query type %d", qtype);
	else if (domain_normalize(name, qname, sizeof(qname), why,
	                          sizeof(why)) != 0)
		a = dns_answer_fail(dns_answer_plain(name, qtype),
		                    "invalid name: %s", why);
	else
		a = dns_resolve(dns, qname, qtype, deadline_ms);
	if (a->status == DNS_TEMPFAIL)
		atomic_fetch_add(&dns->tempfails, 1);
	dns_caller_done(dns);
	return a;
}

/* dns_set_metrics - where queries are counted from now on */
void
dns_set_metrics(struct dns *dns, struct metrics *m)
{
	dns->metrics = m;
}

/* dns_stats - the counters */
void
dns_stats(const struct dns *dns, struct dns_stats *out)
{
	out->queries = atomic_load(&dns->queries);
	out->timeouts = atomic_load(&dns->timeouts);
	out->tempfails = atomic_load(&dns->tempfails);
}

/* ------------------------------------------------------------------ */
/* The resolver's life                                                  */
/* ------------------------------------------------------------------ */

/* dns_pump - the pump thread: deliver libunbound's answers */
static void *
dns_pump(void *arg)
{
	struct dns *dns = arg;
	struct pollfd pfd = {.fd = ub_fd(dns->ctx), .events = POLLIN};
	int r;

	pthread_setname_np(pthread_self(), "relaygate-dns");
	while (!atomic_load(&dns->stop)) {
		if (poll(&pfd, 1, DNS_PUMP_POLL_MS) <= 0)
			continue;
		/* a failure means libunbound's worker is gone: stop */
		if ((r = ub_process(dns->ctx)) != UB_NOERROR) {
			atomic_store(&dns->pump_err, r);
			break;
		}
	}
	return NULL;
}

/* dns_new - an unopened resolver with the settings of cfg */
static struct dns *
dns_new(const struct config *cfg)
{
	struct dns *dns = xcalloc(1, sizeof(*dns));

	pthread_mutex_init(&dns->lock, NULL);
	pthread_cond_init(&dns->idle, NULL);
	dns->timeout_ms = cfg->resolver_timeout_ms;
	dns->validating = cfg->resolver_trust_anchor != NULL &&
	                  cfg->resolver_trust_anchor[0] != '\0';
	atomic_init(&dns->stop, 0);
	atomic_init(&dns->pump_err, 0);
	atomic_init(&dns->queries, 0);
	atomic_init(&dns->timeouts, 0);
	atomic_init(&dns->tempfails, 0);
	return dns;
}

/* dns_free - stop the pump, delete the context, free; no callers left */
static void
dns_free(struct dns *dns)
{
	if (dns->pump_running) {
		atomic_store(&dns->stop, 1);
		pthread_join(dns->pump, NULL);
	}
	/* kills libunbound's worker; queries it still holds are freed
	 * without callbacks, and none of them points at a live pending */
	ub_ctx_delete(dns->ctx);
	pthread_cond_destroy(&dns->idle);
	pthread_mutex_destroy(&dns->lock);
	free(dns);
}

/* dns_close - wake every waiter, wait until no caller is inside, free */
void
dns_close(struct dns *dns)
{
	if (dns == NULL)
		return;
	pthread_mutex_lock(&dns->lock);
	dns->closing = 1;
	for (struct dns_pending *p = dns->waiters; p != NULL; p = p->next)
		pthread_cond_signal(&p->cond);
	while (dns->callers > 0)
		pthread_cond_wait(&dns->idle, &dns->lock);
	pthread_mutex_unlock(&dns->lock);
	dns_free(dns);
}

/* dns_forwarders - source "forwarders": every configured entry */
static int
dns_forwarders(struct dns *dns, const struct config_strlist *fwd, char *why,
               size_t whylen)
{
	int r;

	for (size_t i = 0; i < fwd->n; i++)
		if ((r = ub_ctx_set_fwd(dns->ctx, fwd->v[i])) != UB_NOERROR)
			return util_why(
			    why, whylen,
			    "resolver.forwarders: cannot use '%s': %s",
			    fwd->v[i], ub_strerror(r));
	return 0;
}

/*
 * dns_resolv_line - one resolv.conf line: 1 if it named a nameserver
 * (now a forwarder), 0 if it is another line, -1 with a reason.
 */
static int
dns_resolv_line(struct dns *dns, char *line, char *why, size_t whylen)
{
	char *save = NULL, *kw, *addr;
	int r;

	kw = strtok_r(line, " \t\r\n", &save);
	if (kw == NULL || strcmp(kw, "nameserver") != 0)
		return 0;
	addr = strtok_r(NULL, " \t\r\n#;", &save);
	if (addr == NULL)
		return util_why(why, whylen, "nameserver without an address");
	if ((r = ub_ctx_set_fwd(dns->ctx, addr)) != UB_NOERROR)
		return util_why(why, whylen, "bad nameserver '%s': %s", addr,
		                ub_strerror(r));
	return 1;
}

/*
 * dns_resolv_conf - source "system": the nameservers of resolv.conf.  We
 * read it ourselves: ub_ctx_resolvconf() silently forwards to 127.0.0.1
 * when the file names no nameserver, and that must be an error here.
 */
static int
dns_resolv_conf(struct dns *dns, const char *path, char *why, size_t whylen)
{
	FILE *f = fopen(path, "re");
	char line[1024], reason[128], ebuf[128];
	int lineno = 0, n = 0, r = 0;

	if (f == NULL)
		return util_why(why, whylen, "resolver.resolv_conf: %s: %s",
		                path, strerror_r(errno, ebuf, sizeof(ebuf)));
	while (r >= 0 && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if ((r = dns_resolv_line(dns, line, reason, sizeof(reason))) >
		    0)
			n++;
	}
	fclose(f);
	if (r < 0)
		return util_why(why, whylen, "resolver.resolv_conf: %s:%d: %s",
		                path, lineno, reason);
	if (n == 0)
		return util_why(why, whylen,
		                "resolver.resolv_conf: %s names no nameserver "
		                "(resolver.source is \"system\")",
		                path);
	return 0;
}

/*
 * dns_options - options for a stub behind a recursive resolver.
 *  - The AS112 reverse zones go to the resolver (unblock-lan-zones).
 *  - A query we gave up on keeps an outgoing port while libunbound
 *    retries it (12-17 s against a silent server); libunbound's default
 *    of 16 ports let a few black-holed names starve every other question
 *    (outgoing-range: sockets, hence descriptors).
 *  - The resolver needs time to recurse.  With libunbound's 50 ms floor
 *    on the retransmit timeout, questions for black-holed names piled up
 *    timeouts against the resolver itself, until libunbound took it for
 *    down and failed healthy questions of the same type with SERVFAIL
 *    (infra-cache-min-rtt, as unbound.conf(5) advises for forwarders).
 *  - With validation, names the global DNS cannot prove (private reverse
 *    zones, special-use zones the resolver answers itself) are insecure
 *    rather than bogus.
 */
static int
dns_options(struct dns *dns, char *why, size_t whylen)
{
	int r = ub_ctx_set_option(dns->ctx, "unblock-lan-zones:", "yes");

	if (r == UB_NOERROR)
		r = ub_ctx_set_option(dns->ctx,
		                      "outgoing-range:", DNS_OUTGOING_PORTS);
	if (r == UB_NOERROR)
		r = ub_ctx_set_option(dns->ctx,
		                      "infra-cache-min-rtt:", DNS_MIN_RTT_MS);
	if (r == UB_NOERROR && dns->validating)
		r = ub_ctx_set_option(dns->ctx, "insecure-lan-zones:", "yes");
	for (size_t i = 0;
	     r == UB_NOERROR && dns->validating && dns_special_zones[i] != NULL;
	     i++)
		r = ub_ctx_set_option(dns->ctx,
		                      "domain-insecure:", dns_special_zones[i]);
	if (r != UB_NOERROR)
		return util_why(why, whylen, "libunbound option: %s",
		                ub_strerror(r));
	return 0;
}

/*
 * dns_finalize - drop the special-use local zones.  The first
 * ub_ctx_zone_remove() finalizes the context: that is where a bad trust
 * anchor file shows up.  (set_option "local-zone: ... nodefault" does
 * not work in 1.17.1.)
 */
static int
dns_finalize(struct dns *dns, const struct config *cfg, char *why,
             size_t whylen)
{
	int r;

	for (size_t i = 0; dns_special_zones[i] != NULL; i++) {
		r = ub_ctx_zone_remove(dns->ctx, dns_special_zones[i]);
		if (r == UB_NOERROR)
			continue;
		if (dns->validating)
			return util_why(
			    why, whylen,
			    "cannot start the resolver (is "
			    "resolver.trust_anchor %s a trust anchor "
			    "file?): %s",
			    cfg->resolver_trust_anchor, ub_strerror(r));
		return util_why(why, whylen, "cannot start the resolver: %s",
		                ub_strerror(r));
	}
	return 0;
}

/* dns_setup - configure the context completely and finalize it */
static int
dns_setup(struct dns *dns, const struct config *cfg, char *why, size_t whylen)
{
	char ebuf[128];
	int r;

	if ((dns->ctx = ub_ctx_create()) == NULL)
		return util_why(why, whylen,
		                "cannot create a libunbound "
		                "context");
	/* before anything else: after finalization it silently stays in
	 * fork mode */
	if ((r = ub_ctx_async(dns->ctx, 1)) != UB_NOERROR)
		return util_why(why, whylen, "libunbound without threads: %s",
		                ub_strerror(r));
	ub_ctx_debugout(dns->ctx, NULL);
	if (cfg->resolver_source == CONFIG_RESOLVER_FORWARDERS)
		r = dns_forwarders(dns, &cfg->resolver_forwarders, why, whylen);
	else
		r = dns_resolv_conf(dns, cfg->resolver_resolv_conf, why,
		                    whylen);
	if (r != 0 || dns_options(dns, why, whylen) != 0)
		return -1;
	if (dns->validating) {
		FILE *f = fopen(cfg->resolver_trust_anchor, "re");

		if (f == NULL)
			return util_why(why, whylen,
			                "resolver.trust_anchor: %s: %s",
			                cfg->resolver_trust_anchor,
			                strerror_r(errno, ebuf, sizeof(ebuf)));
		fclose(f);
		r = ub_ctx_add_ta_file(dns->ctx, cfg->resolver_trust_anchor);
		if (r != UB_NOERROR)
			return util_why(why, whylen,
			                "resolver.trust_anchor: %s",
			                ub_strerror(r));
	}
	return dns_finalize(dns, cfg, why, whylen);
}

/*
 * dns_start - start the pump and libunbound's worker thread with every
 * signal blocked (both inherit the mask), and prove the path works with
 * a question libunbound answers locally.
 */
static int
dns_start(struct dns *dns, char *why, size_t whylen)
{
	sigset_t all, old;
	struct dns_answer *a;
	char ebuf[128];
	int r, ok;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&dns->pump, NULL, dns_pump, dns);
	dns->pump_running = r == 0;
	a = r == 0 ? dns_query(dns, "localhost", DNS_T_A,
	                       util_monotonic_ms() + DNS_WARMUP_MS)
	           : NULL;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return util_why(why, whylen, "cannot start the DNS thread: %s",
		                strerror_r(r, ebuf, sizeof(ebuf)));
	ok = a->status == DNS_OK;
	if (!ok)
		util_why(why, whylen, "resolver self-test (localhost A): %s",
		         a->why);
	dns_answer_free(a);
	atomic_store(&dns->queries, 0);
	return ok ? 0 : -1;
}

/* dns_open - the resolver of the resolver.* settings */
struct dns *
dns_open(const struct config *cfg, char *why, size_t whylen)
{
	struct dns *dns = dns_new(cfg);

	if (dns_setup(dns, cfg, why, whylen) != 0 ||
	    dns_start(dns, why, whylen) != 0) {
		dns_free(dns);
		return NULL;
	}
	return dns;
}
