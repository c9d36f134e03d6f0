/*
 * spf_check - relay authorization by SPF: libspf2 behind our DNS layer.
 *
 * libspf2 reaches the outside world through three hooks of one
 * SPF_dns_server_t: get_spf (fetch and compile the SPF record of the
 * current domain), get_exp (fetch and expand an explanation) and lookup
 * (A, AAAA, MX, PTR for mechanisms and macros).  All three find the
 * evaluation they serve through the thread-local spf_check_current, count
 * what RFC 7208 4.6.4 limits, and record why things went wrong, so that
 * the mapping at the end can name the cause.
 *
 * Traps of libspf2 1.2.10 (Debian 12) this file works around:
 * - For a/mx/ptr/exists lookups the interpreter tests only TRY_AGAIN
 *   (temperror, evaluation stops at every depth); HOST_NOT_FOUND, NO_DATA
 *   and NO_RECOVERY all mean "no match, next term".  No herrno makes a
 *   mechanism lookup a permerror, so once a limit is exceeded the layer
 *   answers TRY_AGAIN without sending anything (the evaluation stops at
 *   once) and the mapping reports permerror with the reason.  Record
 *   fetches can say it directly: get_spf returns SPF_E_BIG_DNS, which
 *   include/redirect turn into permerror.
 * - A NULL answer from the layer, or any internal assertion, reaches
 *   SPF_errorx(), which calls the error handler and then abort()s.  The
 *   handler therefore never returns: it longjmp()s back into the
 *   evaluation (see spf_check_on_error).
 * - The top-level TRY_AGAIN and a record that fails to compile both come
 *   back as SPF_RESULT_INVALID; the layer knows which happened.
 * - SPF_server_get_record() only recognizes "v=spf1 " with a space; the
 *   interpreter follows redirect= where it stands; the compiler refuses
 *   some RFC-valid records (unknown modifiers with '.', CIDR /0, "R" in
 *   macros): records reach it rewritten (spf_check_rewrite).
 * - The explanation compiler ends a string at SP (spf_check_spaces).
 * - Macro expansions longer than 253 bytes are not cut (spf_check_name);
 *   more than 10 PTR names are a permerror (spf_check_fill).
 */

#include <netinet/in.h>
#include <stddef.h>

#include <spf2/spf.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "spf_check.h"
#include "util.h"

/*
 * Our default explanation: libspf2 compiles it once at start-up, and an
 * explanation equal to it means "none".  No macros, so no expansion.
 */
#define SPF_CHECK_NO_EXP "-"

#define SPF_CHECK_PENDING 10    /* MX and PTR targets libspf2 looks up */
#define SPF_CHECK_TARGETS 16    /* include/redirect names remembered */
#define SPF_CHECK_EXP_FETCHES 2 /* distinct exp= names per evaluation */
#define SPF_CHECK_NOTE 200      /* reasons inside the context */

struct spf_check {
	struct dns *dns;
	SPF_dns_server_t *layer;
	SPF_server_t *server;
	atomic_ulong evaluations;
	atomic_ulong aborts;
};

/* What a query is in RFC 7208 4.6.4 terms. */
enum spf_check_kind {
	SPF_CHECK_Q_TERM, /* a term's own query: counted, may be void */
	SPF_CHECK_Q_SUB,  /* the address lookup of an MX or PTR target */
	SPF_CHECK_Q_FREE, /* exp= and %{p}: outside the limits */
};

/* An answer as the layer uses it: from dns_query() or made up here. */
struct spf_check_reply {
	enum dns_status status;
	struct dns_answer *answer;    /* NULL when made up */
	enum spf_check_reason reason; /* of a TEMPFAIL: DNS or DEADLINE */
	char why[160];
};

/* A first cause: a reason code and its text. */
struct spf_check_note {
	int set;
	enum spf_check_reason reason;
	char why[SPF_CHECK_NOTE];
};

/* The state of one evaluation, reachable from the layer. */
struct spf_check_ctx {
	struct spf_check *sc;
	int family; /* the client's: AF_INET or AF_INET6 */
	struct spf_check_eval *out;
	int64_t deadline;
	SPF_request_t *rq;
	SPF_response_t *rp;
	SPF_errcode_t err; /* SPF_request_query_mailfrom()'s return */
	jmp_buf env;
	int armed;
	char abort_msg[160];

	int terms, voids, queries, records;
	uint32_t ttl;
	int ttl_known;
	int in_exp;  /* lookups for an explanation: not counted */
	int has_ptr; /* a record in play has a ptr mechanism */
	int mx_over; /* an mx answer had more than 10 records */
	char pending[SPF_CHECK_PENDING][DOMAIN_SIZE];
	int npending, ipending;
	struct {
		char kind; /* 'i' include, 'r' redirect */
		char name[DOMAIN_SIZE];
	} target[SPF_CHECK_TARGETS];
	int ntargets;

	struct spf_check_note stop;     /* a limit: nothing more is sent */
	struct spf_check_note tempfail; /* the first DNS failure */
	struct spf_check_note top;      /* the top-level record's problem */
	struct spf_check_note fault;    /* the first include/redirect one */

	char exp_name[DOMAIN_SIZE];
	char exp_text[SPF_RECORD_MAX_ARG + 1];
	int exp_state; /* 1: exp_text is valid; -1: ignored */
	int exp_fetches;
};

static _Thread_local struct spf_check_ctx *spf_check_current;

static SPF_dns_rr_t *spf_check_lookup(SPF_dns_server_t *layer,
                                      const char *domain, ns_type type,
                                      int should_cache);
static SPF_errcode_t spf_check_get_spf(SPF_server_t *server, SPF_request_t *rq,
                                       SPF_response_t *rp,
                                       SPF_record_t **recordp);
static SPF_errcode_t spf_check_get_exp(SPF_server_t *server, const char *domain,
                                       char **bufp, size_t *buflenp);

/* spf_check_printable - replace what a header line must not carry */
static void
spf_check_printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char) *s < 0x20 || (unsigned char) *s > 0x7e)
			*s = '?';
}

/* spf_check_set - record a first cause; later ones are ignored */
__attribute__((format(printf, 3, 4))) static void
spf_check_set(struct spf_check_note *note, enum spf_check_reason reason,
              const char *fmt, ...)
{
	va_list ap;

	if (note->set)
		return;
	note->set = 1;
	note->reason = reason;
	va_start(ap, fmt);
	vsnprintf(note->why, sizeof(note->why), fmt, ap);
	va_end(ap);
	spf_check_printable(note->why);
}

/* spf_check_type_name - the mnemonic of an RR type we ask for */
static const char *
spf_check_type_name(int qtype)
{
	switch (qtype) {
	case DNS_T_A:
		return "A";
	case DNS_T_AAAA:
		return "AAAA";
	case DNS_T_MX:
		return "MX";
	case DNS_T_PTR:
		return "PTR";
	case DNS_T_TXT:
		return "TXT";
	default:
		return "?";
	}
}

/*
 * spf_check_on_error - libspf2's error handler.  SPF_errorx() abort()s
 * when a handler returns, so this one never does: inside an evaluation it
 * jumps back to spf_check_run(), outside one it panics.
 */
__attribute__((noreturn)) static void
spf_check_on_error(const char *file, int line, const char *msg)
{
	struct spf_check_ctx *ctx = spf_check_current;

	if (ctx == NULL || !ctx->armed)
		panic("libspf2 %s:%d: %s", file != NULL ? file : "?", line,
		      msg != NULL ? msg : "");
	snprintf(ctx->abort_msg, sizeof(ctx->abort_msg), "%s",
	         msg != NULL ? msg : "");
	spf_check_printable(ctx->abort_msg);
	ctx->armed = 0;
	longjmp(ctx->env, 1);
}

/* spf_check_loopback - why libspf2 would not evaluate this address */
static int
spf_check_loopback(const char *ip, char *why, size_t whylen)
{
	return util_why(why, whylen,
	                "address %s is loopback: libspf2 passes loopback "
	                "clients unconditionally",
	                ip);
}

/*
 * spf_check_address - parse a relay or client address into addr (4 or 16
 * bytes).  An IPv4-mapped IPv6 address is IPv4 (RFC 7208 5).  Loopback
 * (which libspf2 passes without looking) and unspecified addresses are
 * refused.  Returns the address family or -1 with why.
 */
static int
spf_check_address(const char *ip, unsigned char addr[16], char *why,
                  size_t whylen)
{
	if (ip != NULL && inet_pton(AF_INET, ip, addr) != 1) {
		if (inet_pton(AF_INET6, ip, addr) != 1)
			return util_why(why, whylen,
			                "'%s' is not an IP address", ip);
		if (!IN6_IS_ADDR_V4MAPPED((struct in6_addr *) addr)) {
			if (IN6_IS_ADDR_LOOPBACK((struct in6_addr *) addr))
				return spf_check_loopback(ip, why, whylen);
			if (IN6_IS_ADDR_UNSPECIFIED((struct in6_addr *) addr))
				return util_why(why, whylen,
				                "address %s is unspecified",
				                ip);
			return AF_INET6;
		}
		memmove(addr, addr + 12, 4);
	}
	if (ip == NULL)
		return util_why(why, whylen, "no IP address");
	if (addr[0] == 127)
		return spf_check_loopback(ip, why, whylen);
	if (memcmp(addr, "\0\0\0\0", 4) == 0)
		return util_why(why, whylen, "address %s is unspecified", ip);
	return AF_INET;
}

/* spf_check_validate - the relay addresses a verdict can be built for */
int
spf_check_validate(const struct config *cfg, char *why, size_t whylen)
{
	unsigned char addr[16];
	char sub[160];

	if (cfg->relay_addresses.n == 0)
		return util_why(why, whylen, "relay.addresses is empty");
	if (cfg->relay_addresses.n > SPF_CHECK_MAX_ADDRS)
		return util_why(why, whylen,
		                "relay.addresses has %zu addresses, at most %d",
		                cfg->relay_addresses.n, SPF_CHECK_MAX_ADDRS);
	for (size_t i = 0; i < cfg->relay_addresses.n; i++)
		if (spf_check_address(cfg->relay_addresses.v[i], addr, sub,
		                      sizeof(sub)) < 0)
			return util_why(why, whylen, "relay.addresses: %s",
			                sub);
	return 0;
}

/*
 * spf_check_new_server - create the SPF server over our layer and set our
 * default explanation, with libspf2's error handler armed to come back
 * here.  Returns 0 or -1 with why.
 */
static int
spf_check_new_server(struct spf_check *sc, char *why, size_t whylen)
{
	struct spf_check_ctx *ctx = xcalloc(1, sizeof(*ctx));
	int rc = -1;

	spf_check_current = ctx;
	if (setjmp(ctx->env) != 0) {
		util_why(why, whylen, "libspf2: %s", ctx->abort_msg);
		goto out;
	}
	ctx->armed = 1;
	sc->server = SPF_server_new_dns(sc->layer, 0);
	if (sc->server == NULL) {
		util_why(why, whylen, "libspf2: cannot create the SPF server");
		goto out;
	}
	if (SPF_server_set_explanation(sc->server, SPF_CHECK_NO_EXP,
	                               &ctx->rp) != SPF_E_SUCCESS) {
		util_why(why, whylen, "libspf2: cannot set the explanation");
		goto out;
	}
	rc = 0;
out:
	ctx->armed = 0;
	spf_check_current = NULL;
	if (ctx->rp != NULL) /* in ctx, not a local: it outlives longjmp */
		SPF_response_free(ctx->rp);
	free(ctx);
	return rc;
}

/* spf_check_open - log handlers, our DNS layer, the shared server */
struct spf_check *
spf_check_open(const struct config *cfg, struct dns *dns, char *why,
               size_t whylen)
{
	struct spf_check *sc;

	/* No configured addresses is fine: relay.c derives them. */
	if (cfg->relay_addresses.n > 0 &&
	    spf_check_validate(cfg, why, whylen) < 0)
		return NULL;
	/* Process globals: nothing printed, nothing aborts (see above). */
	SPF_error_handler = spf_check_on_error;
	SPF_warning_handler = NULL;
	SPF_info_handler = NULL;
	SPF_debug_handler = NULL;

	sc = xcalloc(1, sizeof(*sc));
	sc->dns = dns;
	sc->layer = xcalloc(1, sizeof(*sc->layer));
	sc->layer->destroy = NULL; /* ours: freed by spf_check_close() */
	sc->layer->lookup = spf_check_lookup;
	sc->layer->get_spf = spf_check_get_spf;
	sc->layer->get_exp = spf_check_get_exp;
	sc->layer->name = "relaygate";
	sc->layer->hook = sc;
	if (spf_check_new_server(sc, why, whylen) < 0) {
		spf_check_close(sc);
		return NULL;
	}
	return sc;
}

/* spf_check_close - free the server, then our layer */
void
spf_check_close(struct spf_check *sc)
{
	if (sc == NULL)
		return;
	/* SPF_server_free() leaves a layer without a destroy function */
	if (sc->server != NULL)
		SPF_server_free(sc->server);
	free(sc->layer);
	free(sc);
}

/* spf_check_stats - counters since spf_check_open() */
void
spf_check_stats(const struct spf_check *sc, struct spf_check_stats *out)
{
	out->evaluations = atomic_load(&sc->evaluations);
	out->aborts = atomic_load(&sc->aborts);
}

/*
 * spf_check_name - a name libspf2 asks for, normalized, or -1 if it is
 * not one we can ask: non-ASCII (libspf2 would send raw bytes; we do not
 * convert them to A-labels) or not a valid domain name.  A name longer
 * than 253 bytes loses labels on the left until it fits (RFC 7208 7.3).
 */
static int
spf_check_name(const char *name, char *out, char *why, size_t whylen)
{
	size_t n = strlen(name);

	/* RFC 7208 7.3: cut labels on the left (libspf2 does not) */
	while (n > DOMAIN_MAX && strchr(name, '.') != NULL) {
		n -= (size_t) (strchr(name, '.') + 1 - name);
		name = strchr(name, '.') + 1;
	}
	for (const char *p = name; *p != '\0'; p++)
		if ((unsigned char) *p < 0x21 || (unsigned char) *p > 0x7e)
			return util_why(why, whylen,
			                "not a valid domain name (byte 0x%02x)",
			                (unsigned char) *p);
	return domain_normalize(name, out, DOMAIN_SIZE, why, whylen);
}

/* spf_check_note_ttl - the verdict lasts no longer than this answer */
static void
spf_check_note_ttl(struct spf_check_ctx *ctx, const struct dns_answer *answer)
{
	if (answer == NULL || ctx->in_exp)
		return;
	if (!ctx->ttl_known || answer->ttl < ctx->ttl)
		ctx->ttl = answer->ttl;
	ctx->ttl_known = 1;
}

/*
 * spf_check_ask - one question, within the evaluation's deadline.  Names
 * we cannot ask are NXDOMAIN without a query; a deadline already past is
 * TEMPFAIL without one.
 */
static void
spf_check_ask(struct spf_check_ctx *ctx, const char *name, int qtype,
              struct spf_check_reply *reply)
{
	char norm[DOMAIN_SIZE];

	memset(reply, 0, sizeof(*reply));
	reply->reason = SPF_CHECK_R_DNS;
	if (spf_check_name(name, norm, reply->why, sizeof(reply->why)) < 0) {
		reply->status = DNS_NXDOMAIN;
		return;
	}
	if (ctx->deadline > 0 && util_monotonic_ms() >= ctx->deadline) {
		reply->status = DNS_TEMPFAIL;
		reply->reason = SPF_CHECK_R_DEADLINE;
		util_strlcpy(reply->why, "deadline exceeded",
		             sizeof(reply->why));
		return;
	}
	ctx->queries++;
	reply->answer = dns_query(ctx->sc->dns, norm, qtype, ctx->deadline);
	reply->status = reply->answer->status;
	if (reply->status == DNS_TEMPFAIL)
		util_strlcpy(reply->why,
		             reply->answer->why[0] != '\0'
		                 ? reply->answer->why
		                 : "temporary failure",
		             sizeof(reply->why));
}

/* spf_check_note_tempfail - remember the first DNS failure and where */
static void
spf_check_note_tempfail(struct spf_check_ctx *ctx, const char *name, int qtype,
                        const struct spf_check_reply *reply)
{
	if (ctx->in_exp)
		return;
	spf_check_set(&ctx->tempfail, reply->reason, "%s on %s %s", reply->why,
	              name, spf_check_type_name(qtype));
}

/*
 * spf_check_count - count a term's query against the limit of 10.  -1 if
 * it must not be sent: a limit was already exceeded, or this is the
 * 11th term.
 */
static int
spf_check_count(struct spf_check_ctx *ctx, enum spf_check_kind kind,
                const char *name, int qtype)
{
	if (ctx->stop.set)
		return -1;
	if (kind != SPF_CHECK_Q_TERM)
		return 0;
	if (++ctx->terms <= SPF_CHECK_MAX_TERMS)
		return 0;
	spf_check_set(&ctx->stop, SPF_CHECK_R_LOOKUP_LIMIT,
	              "%d DNS lookups, limit %d (not sent: %s %s)", ctx->terms,
	              SPF_CHECK_MAX_TERMS, name, spf_check_type_name(qtype));
	return -1;
}

/*
 * spf_check_void - count a term's NXDOMAIN or NODATA answer.  -1 if that
 * exceeds the limit of 2: the evaluation must stop.
 */
static int
spf_check_void(struct spf_check_ctx *ctx, enum spf_check_kind kind,
               const char *name, int qtype)
{
	if (kind != SPF_CHECK_Q_TERM || ++ctx->voids <= SPF_CHECK_MAX_VOIDS)
		return 0;
	spf_check_set(&ctx->stop, SPF_CHECK_R_VOID_LIMIT,
	              "%d void lookups, limit %d (the last: %s %s)", ctx->voids,
	              SPF_CHECK_MAX_VOIDS, name, spf_check_type_name(qtype));
	return -1;
}

/*
 * spf_check_same - does the name libspf2 asks equal a remembered target
 * (lowercase, no trailing dot)?
 */
static int
spf_check_same(const char *asked, const char *target)
{
	size_t n = strlen(asked);

	if (n > 0 && asked[n - 1] == '.')
		n--;
	return strlen(target) == n && strncasecmp(asked, target, n) == 0;
}

/*
 * spf_check_kind - what a lookup is.  An address lookup of the next
 * target of the last MX or PTR answer is part of that term; a PTR query
 * is a ptr term only if a record in play has a ptr mechanism (otherwise
 * it is the %{p} macro's, inside a term that counts already).
 */
static enum spf_check_kind
spf_check_kind(struct spf_check_ctx *ctx, const char *name, int qtype)
{
	if (ctx->in_exp)
		return SPF_CHECK_Q_FREE;
	if ((qtype == DNS_T_A || qtype == DNS_T_AAAA) &&
	    ctx->ipending < ctx->npending &&
	    spf_check_same(name, ctx->pending[ctx->ipending])) {
		ctx->ipending++;
		return SPF_CHECK_Q_SUB;
	}
	ctx->npending = ctx->ipending = 0;
	switch (qtype) {
	case DNS_T_A:
	case DNS_T_AAAA:
	case DNS_T_MX:
		return SPF_CHECK_Q_TERM;
	case DNS_T_PTR:
		return ctx->has_ptr ? SPF_CHECK_Q_TERM : SPF_CHECK_Q_FREE;
	default:
		return SPF_CHECK_Q_FREE;
	}
}

/* spf_check_rr - an answer for libspf2, never NULL */
static SPF_dns_rr_t *
spf_check_rr(SPF_dns_server_t *layer, const char *domain, int qtype,
             uint32_t ttl, int herrno)
{
	SPF_dns_rr_t *rr = SPF_dns_rr_new_init(
	    layer, domain, (ns_type) qtype,
	    ttl > 86400 * 7 ? 86400 * 7 : (int) ttl, herrno);

	if (rr == NULL)
		panic("out of memory in libspf2's SPF_dns_rr_new_init");
	return rr;
}

/* spf_check_rr_slot - room for record i of size bytes in rr */
static SPF_dns_rr_data_t *
spf_check_rr_slot(SPF_dns_rr_t *rr, int i, size_t size)
{
	if (SPF_dns_rr_buf_realloc(rr, i, size) != SPF_E_SUCCESS)
		panic("out of memory in libspf2's SPF_dns_rr_buf_realloc");
	return rr->rr[i];
}

/*
 * spf_check_fill_one - copy record i of answer into rr slot n; MX and PTR
 * targets are remembered as the addresses libspf2 will look up next.
 * Returns 1 if a record was added, 0 if it was malformed.
 */
static int
spf_check_fill_one(struct spf_check_ctx *ctx, SPF_dns_rr_t *rr, int n,
                   const struct dns_answer *answer, size_t i)
{
	const struct dns_rr *r = &answer->rr[i];
	char name[DOMAIN_SIZE];

	switch (answer->qtype) {
	case DNS_T_A:
		if (r->len != 4)
			return 0;
		memcpy(&spf_check_rr_slot(rr, n, 4)->a, r->data, 4);
		return 1;
	case DNS_T_AAAA:
		if (r->len != 16)
			return 0;
		memcpy(&spf_check_rr_slot(rr, n, 16)->aaaa, r->data, 16);
		return 1;
	case DNS_T_MX:
	case DNS_T_PTR:
		if (dns_rr_name(r, answer->qtype, name, sizeof(name)) < 0)
			return 0;
		util_lower(name);
		strcpy(spf_check_rr_slot(rr, n, strlen(name) + 1)->ptr, name);
		if (ctx->npending < SPF_CHECK_PENDING)
			strcpy(ctx->pending[ctx->npending++], name);
		return 1;
	default:
		return 0;
	}
}

/*
 * spf_check_fill - the records of an OK answer.  PTR answers are cut to
 * 10 names (4.6.4: the rest are ignored; libspf2 would permerror).
 */
static int
spf_check_fill(struct spf_check_ctx *ctx, SPF_dns_rr_t *rr,
               const struct dns_answer *answer)
{
	size_t max = answer->nrr;
	int n = 0;

	if (answer->qtype == DNS_T_MX || answer->qtype == DNS_T_PTR)
		ctx->npending = ctx->ipending = 0;
	if (answer->qtype == DNS_T_PTR && max > SPF_CHECK_PENDING)
		max = SPF_CHECK_PENDING;
	if (answer->qtype == DNS_T_MX && answer->nrr > SPF_CHECK_PENDING)
		ctx->mx_over = 1;
	for (size_t i = 0; i < max; i++)
		n += spf_check_fill_one(ctx, rr, n, answer, i);
	rr->num_rr = n;
	return n;
}

/*
 * spf_check_txt - the character-strings of a TXT record joined (RFC 7208
 * 3.3) into fresh memory, NUL bytes kept so that the grammar check
 * reports them.  Returns the length, or -1 if the record is malformed.
 */
static long
spf_check_txt(const struct dns_rr *r, char **out)
{
	char *buf = xmalloc(r->len + 1);
	size_t n = 0;

	for (size_t i = 0; i < r->len;) {
		size_t len = r->data[i++];

		if (len > r->len - i) {
			free(buf);
			return -1;
		}
		memcpy(buf + n, r->data + i, len);
		n += len;
		i += len;
	}
	buf[n] = '\0';
	*out = buf;
	return (long) n;
}

/* spf_check_is_spf - "v=spf1" in any case, then SP or the end (4.5) */
static int
spf_check_is_spf(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 &&
	       (len == 6 || txt[6] == ' ');
}

/*
 * spf_check_txt_fence - should this TXT record reach libspf2?  SPF records
 * only if our grammar accepts them, anything else only if it is a valid
 * explanation string (6.2).  Used where libspf2 sees raw TXT answers.
 */
static int
spf_check_txt_fence(const char *txt, size_t len)
{
	struct spf_record *rec;
	int ok;

	if (!spf_check_is_spf(txt, len))
		return spf_record_explain_check(txt, len, NULL, 0) == 0;
	rec = xmalloc(sizeof(*rec));
	ok = spf_record_parse(txt, len, rec, NULL, 0) == SPF_RECORD_OK;
	free(rec);
	return ok;
}

/*
 * spf_check_fill_txt - a TXT answer through lookup().  libspf2 1.2.10
 * never asks (records come through get_spf, explanations through
 * get_exp), but should it, only fenced records reach it.
 */
static int
spf_check_fill_txt(SPF_dns_rr_t *rr, const struct dns_answer *answer)
{
	int n = 0;

	for (size_t i = 0; i < answer->nrr; i++) {
		char *txt;
		long len = spf_check_txt(&answer->rr[i], &txt);

		if (len < 0)
			continue;
		if ((size_t) len == strlen(txt) &&
		    spf_check_txt_fence(txt, (size_t) len)) {
			strcpy(spf_check_rr_slot(rr, n, (size_t) len + 1)->txt,
			       txt);
			n++;
		}
		free(txt);
	}
	rr->num_rr = n;
	return n;
}

/*
 * spf_check_answer - turn a reply into libspf2's form: TEMPFAIL is
 * TRY_AGAIN, and so is the void answer that exceeds the limit (the
 * evaluation stops there); an OK answer without usable records is NODATA.
 */
static SPF_dns_rr_t *
spf_check_answer(struct spf_check_ctx *ctx, SPF_dns_server_t *layer,
                 const char *domain, int qtype, enum spf_check_kind kind,
                 const struct spf_check_reply *reply)
{
	uint32_t ttl = reply->answer != NULL ? reply->answer->ttl : 0;
	SPF_dns_rr_t *rr;
	int n;

	if (reply->status == DNS_TEMPFAIL) {
		spf_check_note_tempfail(ctx, domain, qtype, reply);
		return spf_check_rr(layer, domain, qtype, 0, TRY_AGAIN);
	}
	spf_check_note_ttl(ctx, reply->answer);
	if (reply->status == DNS_OK && reply->answer != NULL) {
		rr = spf_check_rr(layer, domain, qtype, ttl, NETDB_SUCCESS);
		n = qtype == DNS_T_TXT ? spf_check_fill_txt(rr, reply->answer)
		                       : spf_check_fill(ctx, rr, reply->answer);
		if (n > 0)
			return rr;
		SPF_dns_rr_free(rr);
	}
	if (spf_check_void(ctx, kind, domain, qtype) < 0)
		return spf_check_rr(layer, domain, qtype, 0, TRY_AGAIN);
	return spf_check_rr(layer, domain, qtype, ttl,
	                    reply->status == DNS_NXDOMAIN ? HOST_NOT_FOUND
	                                                  : NO_DATA);
}

/*
 * spf_check_lookup - libspf2's questions for mechanisms and macros: count
 * them, ask within the deadline, answer TRY_AGAIN without asking once a
 * limit is exceeded.  Never NULL (libspf2 aborts on NULL).
 */
static SPF_dns_rr_t *
spf_check_lookup(SPF_dns_server_t *layer, const char *domain, ns_type type,
                 int should_cache)
{
	struct spf_check_ctx *ctx = spf_check_current;
	struct spf_check_reply reply;
	enum spf_check_kind kind;
	SPF_dns_rr_t *rr;
	int qtype = (int) type;

	(void) should_cache;
	if (domain == NULL)
		domain = "";
	if (ctx == NULL)
		return spf_check_rr(layer, domain, qtype, 0, TRY_AGAIN);
	kind = spf_check_kind(ctx, domain, qtype);
	if (spf_check_count(ctx, kind, domain, qtype) < 0)
		return spf_check_rr(layer, domain, qtype, 0, TRY_AGAIN);
	spf_check_ask(ctx, domain, qtype, &reply);
	rr = spf_check_answer(ctx, layer, domain, qtype, kind, &reply);
	dns_answer_free(reply.answer);
	return rr;
}

/* spf_check_error - note err in libspf2's response and return it */
static SPF_errcode_t
spf_check_error(SPF_response_t *rp, SPF_errcode_t err)
{
	if (err != SPF_E_SUCCESS)
		SPF_response_add_error(rp, err, "%s", SPF_strerror(err));
	return err;
}

/* spf_check_label - "include:NAME" or "redirect=NAME", as a record said */
static void
spf_check_label(const struct spf_check_ctx *ctx, const char *name, char *buf,
                size_t size)
{
	for (int i = 0; i < ctx->ntargets; i++)
		if (spf_check_same(name, ctx->target[i].name)) {
			snprintf(buf, size, "%s%s",
			         ctx->target[i].kind == 'i' ? "include:"
			                                    : "redirect=",
			         ctx->target[i].name);
			return;
		}
	snprintf(buf, size, "%s", name);
}

/*
 * spf_check_refused - the record of the current domain is unusable: at
 * the top that is the domain's record status, below it the fault that
 * ends the evaluation (include and redirect turn it into permerror).
 */
static void
spf_check_refused(struct spf_check_ctx *ctx, int top, const char *name,
                  enum spf_check_reason reason, const char *why)
{
	char label[DOMAIN_SIZE + 16];

	if (top) {
		spf_check_set(&ctx->top, reason, "%s", why);
		return;
	}
	spf_check_label(ctx, name, label, sizeof(label));
	spf_check_set(&ctx->fault, reason, "%s: %s", label, why);
}

/* spf_check_no_record - none at the top, permerror below (5.2, 6.1) */
static SPF_errcode_t
spf_check_no_record(struct spf_check_ctx *ctx, int top, const char *name,
                    enum spf_check_reason reason, const char *why)
{
	if (top) {
		ctx->out->record_status = SPF_CHECK_REC_ABSENT;
		spf_check_refused(ctx, top, name, reason, why);
	} else
		spf_check_refused(ctx, top, name, SPF_CHECK_R_TARGET_NONE, why);
	return SPF_E_NOT_SPF;
}

/* spf_check_keep_record - the top-level record's text, for the verdict */
static void
spf_check_keep_record(struct spf_check_ctx *ctx, const char *txt, size_t len)
{
	char *record = ctx->out->record;

	if (len > SPF_RECORD_MAX_LEN)
		len = SPF_RECORD_MAX_LEN;
	memcpy(record, txt, len);
	record[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if ((unsigned char) record[i] < 0x20 ||
		    (unsigned char) record[i] > 0x7e)
			record[i] = '?';
}

/* spf_check_multiple - two or more v=spf1 records: permerror (4.5) */
static SPF_errcode_t
spf_check_multiple(struct spf_check_ctx *ctx, int top, const char *name,
                   int nspf, const char *txt, size_t len)
{
	char why[SPF_CHECK_NOTE];

	snprintf(why, sizeof(why), "%d SPF records at %s", nspf, name);
	if (top) {
		ctx->out->record_status = SPF_CHECK_REC_MULTIPLE;
		spf_check_keep_record(ctx, txt, len);
	}
	spf_check_refused(ctx, top, name, SPF_CHECK_R_MULTIPLE, why);
	return SPF_E_MULTIPLE_RECORDS;
}

/*
 * spf_check_learn - what the layer must know of an accepted record: a ptr
 * mechanism makes PTR queries terms; include and redirect targets label
 * reasons.
 */
static void
spf_check_learn(struct spf_check_ctx *ctx, const struct spf_record *rec,
                const char *txt)
{
	if (spf_record_find(rec, txt, SPF_TERM_PTR, NULL) >= 0)
		ctx->has_ptr = 1;
	for (int i = 0; i < rec->nterms; i++) {
		const struct spf_term *t = &rec->term[i];
		size_t len = t->arg_len;

		if ((t->type != SPF_TERM_INCLUDE &&
		     t->type != SPF_TERM_REDIRECT) ||
		    ctx->ntargets == SPF_CHECK_TARGETS || len >= DOMAIN_SIZE ||
		    memchr(txt + t->arg_off, '%', len) != NULL)
			continue;
		if (len > 0 && txt[t->arg_off + len - 1] == '.')
			len--;
		ctx->target[ctx->ntargets].kind =
		    t->type == SPF_TERM_INCLUDE ? 'i' : 'r';
		memcpy(ctx->target[ctx->ntargets].name, txt + t->arg_off, len);
		ctx->target[ctx->ntargets].name[len] = '\0';
		util_lower(ctx->target[ctx->ntargets++].name);
	}
}

/* spf_check_last_message - libspf2's last message in rp, or its text */
static const char *
spf_check_last_message(SPF_response_t *rp, SPF_errcode_t err)
{
	int n = SPF_response_messages(rp);

	if (n > 0 && SPF_error_message(SPF_response_message(rp, n - 1)))
		return SPF_error_message(SPF_response_message(rp, n - 1));
	return SPF_strerror(err);
}

/*
 * spf_check_macro_case - lower-case the "R" transformer inside macros:
 * RFC 7208 7.1 allows it (ABNF is case-insensitive), libspf2 only knows
 * "r" and calls "R" an invalid delimiter.  s passed our grammar: every
 * "%{" is closed, and "%%", "%_", "%-" are two-byte escapes.
 */
static void
spf_check_macro_case(char *s)
{
	for (; *s != '\0'; s++) {
		if (s[0] != '%' || s[1] == '\0')
			continue;
		if (s[1] != '{' || s[2] == '\0') {
			s++;
			continue;
		}
		for (s += 3; *s != '\0' && *s != '}'; s++)
			if (*s == 'R')
				*s = 'r';
		if (*s == '\0')
			return;
	}
}

/*
 * spf_check_zero - a term with a CIDR length of 0 (RFC 7208 5.6 allows
 * it, libspf2 refuses it) in forms libspf2 compiles, for a client of this
 * family: ip4:X/0 is ip4:0.0.0.0/1 ip4:128.0.0.0/1 (ip6 likewise); an a
 * or mx loses the length of the other family, which does not apply; "a/0"
 * for an IPv4 client matches when the name has any A record, which is
 * what exists: does.  Writes at most the term's length + 32 bytes;
 * returns how many, or 0 to keep the term as it is (mx/0, and a//0 for an IPv6
 * client, stay and are refused by libspf2).
 */
static size_t
spf_check_zero(const struct spf_term *t, const char *txt, int family, char *out)
{
	int own = family == AF_INET ? t->cidr4 : t->cidr6;
	int other = family == AF_INET ? t->cidr6 : t->cidr4;
	const char *arg = t->arg_len > 0 ? txt + t->arg_off : "%{d}";
	int alen = t->arg_len > 0 ? t->arg_len : 4, n;
	char q = t->qualifier;

	if (t->type == SPF_TERM_IP4 && t->cidr4 == 0)
		return (size_t) sprintf(
		    out, "%cip4:0.0.0.0/1 %cip4:128.0.0.0/1", q, q);
	if (t->type == SPF_TERM_IP6 && t->cidr6 == 0)
		return (size_t) sprintf(out, "%cip6:::/1 %cip6:8000::/1", q, q);
	if (t->type == SPF_TERM_A && own == 0 && family == AF_INET)
		return (size_t) sprintf(out, "%cexists:%.*s", q, alen, arg);
	if ((t->type != SPF_TERM_A && t->type != SPF_TERM_MX) || other != 0 ||
	    own == 0)
		return 0;
	n = sprintf(out, "%c%s%s%.*s", q, t->type == SPF_TERM_A ? "a" : "mx",
	            t->arg_len > 0 ? ":" : "", (int) t->arg_len,
	            txt + t->arg_off);
	if (own > 0)
		n += sprintf(out + n, family == AF_INET ? "/%d" : "//%d", own);
	return (size_t) n;
}

/*
 * spf_check_rewrite - the record as libspf2 gets it: "v=spf1 " (libspf2
 * only knows the version in lower case and followed by SP), the
 * mechanisms in their order, then exp= and redirect=.  RFC 7208 6:
 * modifiers act after the mechanisms wherever they stand (libspf2 would
 * follow a redirect= where it stands, before a later "all"), and unknown
 * modifiers are ignored (libspf2 refuses RFC-valid names such as
 * "moo.cow-far_out"), so they are left out.  Terms with a CIDR length of
 * 0 and macros with "R" are rewritten (spf_check_zero,
 * spf_check_macro_case) unless the record is so long that splitting
 * terms would pass 128 of them.
 */
static char *
spf_check_rewrite(const struct spf_record *rec, const char *txt, size_t len,
                  int family)
{
	char *out = xmalloc(len + 32 * (size_t) rec->nterms + 8);
	size_t n = 7, z;
	int splits = 0;

	for (int i = 0; i < rec->nterms; i++)
		splits += (rec->term[i].type == SPF_TERM_IP4 &&
		           rec->term[i].cidr4 == 0) ||
		          (rec->term[i].type == SPF_TERM_IP6 &&
		           rec->term[i].cidr6 == 0);
	if (rec->nterms + splits > SPF_RECORD_MAX_TERMS)
		family = 0; /* libspf2 counts mechanisms in a byte */
	memcpy(out, "v=spf1 ", n);
	for (int pass = 0; pass < 3; pass++)
		for (int i = 0; i < rec->nterms; i++) {
			const struct spf_term *t = &rec->term[i];

			if (pass == 0   ? t->qualifier == 0
			    : pass == 1 ? t->type != SPF_TERM_EXP
			                : t->type != SPF_TERM_REDIRECT)
				continue;
			z = family != 0
			        ? spf_check_zero(t, txt, family, out + n)
			        : 0;
			if (z == 0)
				memcpy(out + n, txt + t->off, z = t->len);
			n += z;
			out[n++] = ' ';
		}
	out[n] = '\0';
	spf_check_macro_case(out);
	return out;
}

/*
 * spf_check_compile - compile a record our grammar accepted, as
 * spf_check_rewrite() puts it.  A failure is libspf2 refusing valid
 * syntax.
 */
static SPF_errcode_t
spf_check_compile(struct spf_check_ctx *ctx, SPF_server_t *server,
                  SPF_response_t *rp, SPF_record_t **recordp, int top,
                  const char *name, const struct spf_record *rec,
                  const char *txt, size_t len)
{
	char *copy = spf_check_rewrite(rec, txt, len, ctx->family),
	     why[SPF_CHECK_NOTE];
	SPF_errcode_t err;

	err = SPF_record_compile(server, rp, recordp, copy);
	free(copy);
	if (err == SPF_E_SUCCESS)
		return err;
	if (*recordp != NULL)
		SPF_record_free(*recordp);
	*recordp = NULL;
	snprintf(why, sizeof(why),
	         "libspf2 cannot compile this RFC 7208 record: %s",
	         spf_check_last_message(rp, err));
	if (top)
		ctx->out->record_status = SPF_CHECK_REC_UNSUPPORTED;
	spf_check_refused(ctx, top, name, SPF_CHECK_R_UNSUPPORTED, why);
	return err;
}

/*
 * spf_check_accept - the one SPF record of the current domain: our
 * grammar first (the fence), then libspf2's compiler.
 */
static SPF_errcode_t
spf_check_accept(struct spf_check_ctx *ctx, SPF_server_t *server,
                 SPF_response_t *rp, SPF_record_t **recordp, int top,
                 const char *name, const char *txt, size_t len)
{
	struct spf_record *rec = xmalloc(sizeof(*rec));
	char why[SPF_CHECK_NOTE];
	SPF_errcode_t err;

	if (top)
		spf_check_keep_record(ctx, txt, len);
	if (spf_record_parse(txt, len, rec, why, sizeof(why)) !=
	    SPF_RECORD_OK) {
		free(rec);
		if (top)
			ctx->out->record_status = SPF_CHECK_REC_INVALID;
		spf_check_refused(ctx, top, name, SPF_CHECK_R_SYNTAX, why);
		return SPF_E_SYNTAX;
	}
	spf_check_learn(ctx, rec, txt);
	if (top)
		ctx->out->record_status = SPF_CHECK_REC_PRESENT;
	err = spf_check_compile(ctx, server, rp, recordp, top, name, rec, txt,
	                        len);
	free(rec);
	return err;
}

/* spf_check_select - record selection in a TXT answer (RFC 7208 4.5) */
static SPF_errcode_t
spf_check_select(struct spf_check_ctx *ctx, SPF_server_t *server,
                 SPF_response_t *rp, SPF_record_t **recordp, int top,
                 const char *name, const struct dns_answer *answer)
{
	char *txt = NULL, *one;
	long len = 0, n;
	int nspf = 0;
	SPF_errcode_t err;

	for (size_t i = 0; i < answer->nrr; i++) {
		if ((n = spf_check_txt(&answer->rr[i], &one)) < 0)
			continue;
		if (!spf_check_is_spf(one, (size_t) n) || nspf++ > 0) {
			free(one);
			continue;
		}
		txt = one;
		len = n;
	}
	if (nspf == 0)
		return spf_check_no_record(
		    ctx, top, name, SPF_CHECK_R_NO_RECORD, "no SPF record");
	if (nspf > 1)
		err =
		    spf_check_multiple(ctx, top, name, nspf, txt, (size_t) len);
	else
		err = spf_check_accept(ctx, server, rp, recordp, top, name, txt,
		                       (size_t) len);
	free(txt);
	return err;
}

/* spf_check_void_record - an NXDOMAIN or NODATA answer to a record fetch */
static SPF_errcode_t
spf_check_void_record(struct spf_check_ctx *ctx, int top, const char *name,
                      const struct spf_check_reply *reply)
{
	spf_check_note_ttl(ctx, reply->answer);
	if (!top && spf_check_void(ctx, SPF_CHECK_Q_TERM, name, DNS_T_TXT) < 0)
		return SPF_E_BIG_DNS;
	if (reply->answer == NULL) /* a name we cannot ask */
		return spf_check_no_record(ctx, top, name,
		                           SPF_CHECK_R_BAD_DOMAIN, reply->why);
	if (reply->status == DNS_NXDOMAIN)
		return spf_check_no_record(ctx, top, name,
		                           SPF_CHECK_R_NO_DOMAIN,
		                           "the domain does not exist");
	return spf_check_no_record(ctx, top, name, SPF_CHECK_R_NO_RECORD,
	                           "no SPF record");
}

/*
 * spf_check_fetch - ask for the current domain's TXT and hand over its
 * record.  A void answer below the top counts against the void limit.
 */
static SPF_errcode_t
spf_check_fetch(struct spf_check_ctx *ctx, SPF_server_t *server,
                SPF_response_t *rp, SPF_record_t **recordp, int top,
                const char *name)
{
	struct spf_check_reply reply;
	SPF_errcode_t err;

	spf_check_ask(ctx, name, DNS_T_TXT, &reply);
	if (reply.status == DNS_TEMPFAIL) {
		spf_check_note_tempfail(ctx, name, DNS_T_TXT, &reply);
		err = SPF_E_DNS_ERROR;
	} else if (reply.status == DNS_OK) {
		spf_check_note_ttl(ctx, reply.answer);
		err = spf_check_select(ctx, server, rp, recordp, top, name,
		                       reply.answer);
	} else
		err = spf_check_void_record(ctx, top, name, &reply);
	dns_answer_free(reply.answer);
	return err;
}

/*
 * spf_check_get_spf - libspf2's record fetch (SPF_server_get_record calls
 * it instead of its own lookup and compile).  The first call of an
 * evaluation is the top-level record; every later one is an include or
 * redirect, a term of its own.  Errors: SPF_E_DNS_ERROR becomes
 * temperror, anything else permerror below the top.
 */
static SPF_errcode_t
spf_check_get_spf(SPF_server_t *server, SPF_request_t *rq, SPF_response_t *rp,
                  SPF_record_t **recordp)
{
	struct spf_check_ctx *ctx = spf_check_current;
	const char *name = rq->cur_dom != NULL ? rq->cur_dom : "";
	int top;

	*recordp = NULL;
	if (ctx == NULL)
		return spf_check_error(rp, SPF_E_DNS_ERROR);
	top = ctx->records++ == 0;
	ctx->npending = ctx->ipending = 0;
	if (top && strchr(name, '.') == NULL)
		return spf_check_error(
		    rp,
		    spf_check_no_record(ctx, top, name, SPF_CHECK_R_BAD_DOMAIN,
		                        "not a multi-label domain name"));
	if (!top && spf_check_count(ctx, SPF_CHECK_Q_TERM, name, DNS_T_TXT) < 0)
		return spf_check_error(rp, SPF_E_BIG_DNS);
	return spf_check_error(
	    rp, spf_check_fetch(ctx, server, rp, recordp, top, name));
}

/* spf_check_put - text as libspf2's result buffer (malloc'ed, grown) */
static void
spf_check_put(char **bufp, size_t *buflenp, const char *text)
{
	size_t n = strlen(text) + 1;

	if (*bufp == NULL || *buflenp < n) {
		*bufp = xrealloc(*bufp, n);
		*buflenp = n;
	}
	memcpy(*bufp, text, n);
}

/* spf_check_exp_check - keep a fetched explanation if it is valid (6.2) */
static void
spf_check_exp_check(struct spf_check_ctx *ctx, const struct dns_answer *answer)
{
	char *txt;
	long len;

	if (answer->nrr != 1 || (len = spf_check_txt(&answer->rr[0], &txt)) < 0)
		return;
	if ((size_t) len == strlen(txt) &&
	    (size_t) len < sizeof(ctx->exp_text) &&
	    spf_record_explain_check(txt, (size_t) len, NULL, 0) == 0) {
		memcpy(ctx->exp_text, txt, (size_t) len + 1);
		ctx->exp_state = 1;
	}
	free(txt);
}

/*
 * spf_check_exp_text - the explanation string exp= names, or NULL to use
 * the default: DNS trouble, no or several TXT records, or a string our
 * check refuses (6.2).  The query is outside the limits and the TTL.
 * libspf2 asks again for every include that does not match, so the last
 * name is remembered, and only a few names are fetched per evaluation.
 */
static const char *
spf_check_exp_text(struct spf_check_ctx *ctx, const char *domain)
{
	struct spf_check_reply reply;

	if (ctx->stop.set)
		return NULL;
	if (ctx->exp_state != 0 && spf_check_same(domain, ctx->exp_name))
		return ctx->exp_state > 0 ? ctx->exp_text : NULL;
	if (ctx->exp_fetches >= SPF_CHECK_EXP_FETCHES)
		return NULL;
	ctx->exp_fetches++;
	ctx->exp_state = -1;
	util_strlcpy(ctx->exp_name, domain, sizeof(ctx->exp_name));
	util_lower(ctx->exp_name);
	ctx->in_exp = 1;
	spf_check_ask(ctx, domain, DNS_T_TXT, &reply);
	ctx->in_exp = 0;
	if (reply.status == DNS_OK)
		spf_check_exp_check(ctx, reply.answer);
	dns_answer_free(reply.answer);
	return ctx->exp_state > 0 ? ctx->exp_text : NULL;
}

/*
 * spf_check_spaces - an explanation with each SP written "%_" (RFC 7208
 * 7.1: the same text).  libspf2's macro compiler takes SP for the end of
 * a term: it would turn " x" into "%x" and " {d}" into a macro.  "R"
 * becomes "r" in macros as in records.  out has room for twice
 * SPF_RECORD_MAX_ARG bytes, the most a checked explanation can become.
 */
static void
spf_check_spaces(const char *text, char *out)
{
	char *start = out;

	for (; *text != '\0'; text++)
		if (*text == ' ') {
			*out++ = '%';
			*out++ = '_';
		} else
			*out++ = *text;
	*out = '\0';
	spf_check_macro_case(start);
}

/*
 * spf_check_expand - compile and expand a checked explanation string with
 * libspf2's macro engine; -1 if it fails.  Lookups for %{p} inside are
 * outside the limits.
 */
static int
spf_check_expand(struct spf_check_ctx *ctx, SPF_server_t *server,
                 const char *text, char **bufp, size_t *buflenp)
{
	SPF_response_t *scratch = SPF_response_new(ctx->rq);
	char source[2 * SPF_RECORD_MAX_ARG + 1];
	SPF_macro_t *macro = NULL;
	SPF_errcode_t err;

	if (scratch == NULL)
		panic("out of memory in libspf2's SPF_response_new");
	spf_check_spaces(text, source);
	ctx->in_exp = 1;
	err = SPF_record_compile_macro(server, scratch, &macro, source);
	if (err == SPF_E_SUCCESS && macro != NULL)
		/* the macro's data follows its header (spf_record.h) */
		err = SPF_record_expand_data(
		    server, ctx->rq, scratch,
		    (SPF_data_t *) (void *) ((char *) macro + sizeof(*macro)),
		    macro->macro_len, bufp, buflenp);
	ctx->in_exp = 0;
	if (macro != NULL)
		SPF_macro_free(macro);
	SPF_response_free(scratch);
	return err == SPF_E_SUCCESS && *bufp != NULL ? 0 : -1;
}

/*
 * spf_check_get_exp - libspf2's explanation fetch for exp=<domain>
 * (SPF_request_get_exp returns what this writes, unexpanded).
 */
static SPF_errcode_t
spf_check_get_exp(SPF_server_t *server, const char *domain, char **bufp,
                  size_t *buflenp)
{
	struct spf_check_ctx *ctx = spf_check_current;
	const char *text = ctx != NULL && domain != NULL
	                       ? spf_check_exp_text(ctx, domain)
	                       : NULL;

	if (text == NULL ||
	    spf_check_expand(ctx, server, text, bufp, buflenp) < 0)
		spf_check_put(bufp, buflenp, SPF_CHECK_NO_EXP);
	return SPF_E_SUCCESS;
}

/*
 * spf_check_run - the evaluation proper.  Returns -1 if libspf2 hit an
 * internal error (its error handler jumps back here).
 */
static int
spf_check_run(struct spf_check_ctx *ctx)
{
	if (setjmp(ctx->env) != 0)
		return -1;
	ctx->armed = 1;
	ctx->err = SPF_request_query_mailfrom(ctx->rq, &ctx->rp);
	ctx->armed = 0;
	return 0;
}

/* spf_check_request - libspf2's request for one evaluation */
static SPF_request_t *
spf_check_request(struct spf_check *sc, int family, const unsigned char *addr,
                  const char *mailfrom, const char *helo)
{
	SPF_request_t *rq = SPF_request_new(sc->server);
	struct in6_addr a6;
	struct in_addr a4;

	if (rq == NULL)
		panic("out of memory in libspf2's SPF_request_new");
	if (family == AF_INET) {
		memcpy(&a4, addr, sizeof(a4));
		SPF_request_set_ipv4(rq, a4);
	} else {
		memcpy(&a6, addr, sizeof(a6));
		SPF_request_set_ipv6(rq, a6);
	}
	if (helo != NULL && *helo != '\0')
		SPF_request_set_helo_dom(rq, helo);
	SPF_request_set_env_from(rq, mailfrom != NULL ? mailfrom : "");
	return rq;
}

/* spf_check_put_result - the result, its reason and text */
static void
spf_check_put_result(struct spf_check_eval *out, enum spf_check_result result,
                     enum spf_check_reason reason, const char *why)
{
	out->result = result;
	out->reason = reason;
	util_strlcpy(out->why, why, sizeof(out->why));
}

/* spf_check_from_note - the result with a remembered cause */
static void
spf_check_from_note(struct spf_check_eval *out, enum spf_check_result result,
                    const struct spf_check_note *note)
{
	spf_check_put_result(out, result, note->reason, note->why);
}

/* spf_check_map_temp - libspf2 said temperror (or invalid, DNS error) */
static void
spf_check_map_temp(struct spf_check_ctx *ctx, SPF_errcode_t code)
{
	char why[SPF_CHECK_WHY_SIZE];

	if (ctx->tempfail.set) {
		spf_check_from_note(ctx->out, SPF_CHECK_TEMPERROR,
		                    &ctx->tempfail);
		return;
	}
	snprintf(why, sizeof(why), "libspf2: %s", SPF_strerror(code));
	spf_check_put_result(ctx->out, SPF_CHECK_TEMPERROR,
	                     SPF_CHECK_R_INTERNAL, why);
}

/* spf_check_map_perm - libspf2 said permerror, or invalid */
static void
spf_check_map_perm(struct spf_check_ctx *ctx, SPF_result_t result)
{
	SPF_errcode_t code = result == SPF_RESULT_INVALID
	                         ? ctx->err
	                         : SPF_response_errcode(ctx->rp);
	struct spf_check_eval *out = ctx->out;
	char why[SPF_CHECK_WHY_SIZE];

	if (result == SPF_RESULT_INVALID && code == SPF_E_DNS_ERROR)
		spf_check_map_temp(ctx, code);
	else if (ctx->fault.set)
		spf_check_from_note(out, SPF_CHECK_PERMERROR, &ctx->fault);
	else if (code == SPF_E_BIG_DNS && ctx->mx_over)
		spf_check_put_result(out, SPF_CHECK_PERMERROR,
		                     SPF_CHECK_R_MX_LIMIT,
		                     "an mx mechanism found more than 10 MX "
		                     "records");
	else if (code == SPF_E_BIG_DNS)
		spf_check_put_result(out, SPF_CHECK_PERMERROR,
		                     SPF_CHECK_R_LOOKUP_LIMIT,
		                     "more than 10 DNS lookups in one record");
	else if (code == SPF_E_RECURSIVE)
		spf_check_put_result(out, SPF_CHECK_PERMERROR, SPF_CHECK_R_LOOP,
		                     "include or redirect loop");
	else {
		snprintf(why, sizeof(why), "libspf2: %s", SPF_strerror(code));
		spf_check_put_result(out, SPF_CHECK_PERMERROR,
		                     SPF_CHECK_R_PERMERROR, why);
	}
}

/* spf_check_map_libspf2 - map libspf2's result for a present record */
static void
spf_check_map_libspf2(struct spf_check_ctx *ctx)
{
	struct spf_check_eval *out = ctx->out;
	SPF_result_t result =
	    ctx->rp != NULL ? SPF_response_result(ctx->rp) : SPF_RESULT_INVALID;

	switch (result) {
	case SPF_RESULT_PASS:
		spf_check_put_result(out, SPF_CHECK_PASS, SPF_CHECK_R_MATCH,
		                     "a '+' term matched");
		break;
	case SPF_RESULT_FAIL:
		spf_check_put_result(out, SPF_CHECK_FAIL, SPF_CHECK_R_MATCH,
		                     "a '-' term matched");
		break;
	case SPF_RESULT_SOFTFAIL:
		spf_check_put_result(out, SPF_CHECK_SOFTFAIL, SPF_CHECK_R_MATCH,
		                     "a '~' term matched");
		break;
	case SPF_RESULT_NEUTRAL:
		if (SPF_response_reason(ctx->rp) == SPF_REASON_DEFAULT)
			spf_check_put_result(out, SPF_CHECK_NEUTRAL,
			                     SPF_CHECK_R_DEFAULT,
			                     "no term matched");
		else
			spf_check_put_result(out, SPF_CHECK_NEUTRAL,
			                     SPF_CHECK_R_MATCH,
			                     "a '?' term matched");
		break;
	case SPF_RESULT_NONE:
		spf_check_put_result(out, SPF_CHECK_NONE, SPF_CHECK_R_NO_RECORD,
		                     "no SPF record");
		break;
	case SPF_RESULT_TEMPERROR:
		spf_check_map_temp(ctx, SPF_response_errcode(ctx->rp));
		break;
	default:
		spf_check_map_perm(ctx, result);
	}
}

/*
 * spf_check_map - the result, from what the layer saw first and from
 * libspf2 for the rest.  A limit or an internal error overrides libspf2
 * (the layer made it stop); the top-level record's status decides none
 * and its permerrors (libspf2 says "invalid" for those).
 */
static void
spf_check_map(struct spf_check_ctx *ctx, int aborted)
{
	struct spf_check_eval *out = ctx->out;
	char why[SPF_CHECK_WHY_SIZE];

	if (aborted) {
		snprintf(why, sizeof(why), "libspf2 internal error: %s",
		         ctx->abort_msg);
		spf_check_put_result(out, SPF_CHECK_TEMPERROR,
		                     SPF_CHECK_R_INTERNAL, why);
	} else if (ctx->stop.set)
		spf_check_from_note(out, SPF_CHECK_PERMERROR, &ctx->stop);
	else if (out->record_status == SPF_CHECK_REC_PRESENT)
		spf_check_map_libspf2(ctx);
	else if (out->record_status == SPF_CHECK_REC_ABSENT)
		spf_check_from_note(out, SPF_CHECK_NONE, &ctx->top);
	else if (out->record_status != SPF_CHECK_REC_UNKNOWN)
		spf_check_from_note(out, SPF_CHECK_PERMERROR, &ctx->top);
	else if (ctx->tempfail.set)
		spf_check_from_note(out, SPF_CHECK_TEMPERROR, &ctx->tempfail);
	else
		spf_check_put_result(out, SPF_CHECK_TEMPERROR,
		                     SPF_CHECK_R_INTERNAL,
		                     "libspf2 fetched no record");
}

/* spf_check_finish - counters, TTL and the explanation of a fail */
static void
spf_check_finish(struct spf_check_ctx *ctx, int aborted)
{
	struct spf_check_eval *out = ctx->out;
	const char *exp;

	out->lookups = ctx->terms;
	out->voids = ctx->voids;
	out->queries = ctx->queries;
	out->ttl = ctx->ttl_known ? ctx->ttl : 0;
	out->ttl_known = ctx->ttl_known;
	if (!aborted && out->result == SPF_CHECK_FAIL && ctx->rp != NULL) {
		exp = SPF_response_get_explanation(ctx->rp);
		if (exp != NULL && strcmp(exp, SPF_CHECK_NO_EXP) != 0)
			util_strlcpy(out->explanation, exp,
			             sizeof(out->explanation));
	}
	spf_check_printable(out->why);
	spf_check_printable(out->explanation);
}

/* spf_check_eval - one check_host() over our layer */
int
spf_check_eval(struct spf_check *sc, const char *ip, const char *mailfrom,
               const char *helo, int64_t deadline_ms,
               struct spf_check_eval *out)
{
	struct spf_check_ctx *ctx;
	unsigned char addr[16];
	int family, aborted;

	memset(out, 0, sizeof(*out));
	family = spf_check_address(ip, addr, out->why, sizeof(out->why));
	if (family < 0)
		return -1;
	atomic_fetch_add(&sc->evaluations, 1);
	ctx = xcalloc(1, sizeof(*ctx));
	ctx->sc = sc;
	ctx->family = family;
	ctx->out = out;
	ctx->deadline = deadline_ms;
	ctx->rq = spf_check_request(sc, family, addr, mailfrom, helo);
	spf_check_current = ctx;
	aborted = spf_check_run(ctx);
	spf_check_current = NULL;
	if (aborted)
		atomic_fetch_add(&sc->aborts, 1);
	spf_check_map(ctx, aborted);
	spf_check_finish(ctx, aborted);
	if (ctx->rp != NULL)
		SPF_response_free(ctx->rp);
	SPF_request_free(ctx->rq);
	free(ctx);
	return 0;
}

/* spf_check_has_include - does a valid record name our include itself? */
static int
spf_check_has_include(const char *record, const char *include)
{
	struct spf_record *rec;
	int found = 0;

	if (include == NULL || *include == '\0')
		return 0;
	rec = xmalloc(sizeof(*rec));
	if (spf_record_parse(record, strlen(record), rec, NULL, 0) ==
	    SPF_RECORD_OK)
		found = spf_record_find(rec, record, SPF_TERM_INCLUDE,
		                        include) >= 0;
	free(rec);
	return found;
}

/* spf_check_summary - the one line for a status header */
static void
spf_check_summary(struct spf_check_verdict *out, const char *include,
                  const char *why, const char *addr)
{
	const char *name = spf_check_result_name(out->result);
	size_t size = sizeof(out->summary);

	if (include == NULL)
		include = "";
	switch (out->result) {
	case SPF_CHECK_PASS:
		snprintf(out->summary, size,
		         out->has_include
		             ? "spf=pass (include:%s)"
		             : "spf=pass (relay authorized without include:%s)",
		         include);
		break;
	case SPF_CHECK_NEUTRAL:
	case SPF_CHECK_SOFTFAIL:
	case SPF_CHECK_FAIL:
		if (!out->has_include)
			snprintf(out->summary, size,
			         "spf=%s (include:%s missing)", name, include);
		else
			snprintf(
			    out->summary, size,
			    "spf=%s (include:%s present, %s not authorized)",
			    name, include, addr);
		break;
	default:
		snprintf(out->summary, size, "spf=%s (%.*s)", name,
		         (int) size - 20, why);
	}
	spf_check_printable(out->summary);
}

/* spf_check_combine - a verdict from one evaluation per relay address */
void
spf_check_combine(const char *domain, const char *include,
                  const char *const *addrs, const struct spf_check_eval *evals,
                  size_t n, struct spf_check_verdict *out)
{
	size_t worst = 0;

	memset(out, 0, sizeof(*out));
	util_strlcpy(out->domain, domain, sizeof(out->domain));
	spf_check_printable(out->domain);
	out->naddrs = n > SPF_CHECK_MAX_ADDRS ? SPF_CHECK_MAX_ADDRS : n;
	for (size_t i = 0; i < out->naddrs; i++) {
		const struct spf_check_eval *e = &evals[i];
		struct spf_check_addr *a = &out->addr[i];

		util_strlcpy(a->address, addrs[i], sizeof(a->address));
		a->result = e->result;
		a->reason = e->reason;
		util_strlcpy(a->why, e->why, sizeof(a->why));
		a->lookups = e->lookups;
		a->voids = e->voids;
		if (e->result > evals[worst].result)
			worst = i;
		out->lookups =
		    e->lookups > out->lookups ? e->lookups : out->lookups;
		out->voids = e->voids > out->voids ? e->voids : out->voids;
		if (e->ttl_known && (!out->ttl_known || e->ttl < out->ttl))
			out->ttl = e->ttl;
		out->ttl_known |= e->ttl_known;
		if (out->record_status == SPF_CHECK_REC_UNKNOWN &&
		    e->record_status != SPF_CHECK_REC_UNKNOWN) {
			out->record_status = e->record_status;
			memcpy(out->record, e->record, sizeof(out->record));
		}
	}
	if (out->naddrs == 0) {
		out->result = SPF_CHECK_TEMPERROR;
		out->reason = SPF_CHECK_R_INTERNAL;
		util_strlcpy(out->summary, "spf=temperror (no relay address)",
		             sizeof(out->summary));
		return;
	}
	out->result = evals[worst].result;
	out->reason = evals[worst].reason;
	out->has_include = out->record_status == SPF_CHECK_REC_PRESENT &&
	                   spf_check_has_include(out->record, include);
	out->authorized_other =
	    out->result == SPF_CHECK_PASS && !out->has_include;
	spf_check_summary(out, include, evals[worst].why, addrs[worst]);
}

/*
 * spf_check_domain - every relay address in turn against domain.  A name
 * that is not a multi-label domain is none for all without a query (4.3).
 */
int
spf_check_domain(struct spf_check *sc, const struct config *cfg,
                 const char *domain, int64_t deadline_ms,
                 struct spf_check_verdict *out)
{
	const struct config_strlist *addrs = &cfg->relay_addresses;
	char norm[DOMAIN_SIZE], from[DOMAIN_SIZE + 16], why[160];
	struct spf_check_eval *evals;
	int bad;

	memset(out, 0, sizeof(*out));
	if (spf_check_validate(cfg, out->summary, sizeof(out->summary)) < 0)
		return -1;
	evals = xcalloc(addrs->n, sizeof(*evals));
	bad = spf_check_name(domain != NULL ? domain : "", norm, why,
	                     sizeof(why)) < 0;
	if (!bad && strchr(norm, '.') == NULL)
		bad = util_why(why, sizeof(why),
		               "not a multi-label domain name") < 0;
	snprintf(from, sizeof(from), "postmaster@%s", norm);
	for (size_t i = 0; i < addrs->n; i++) {
		if (!bad) {
			spf_check_eval(sc, addrs->v[i], from, norm, deadline_ms,
			               &evals[i]);
			continue;
		}
		evals[i].result = SPF_CHECK_NONE;
		evals[i].reason = SPF_CHECK_R_BAD_DOMAIN;
		util_strlcpy(evals[i].why, why, sizeof(evals[i].why));
	}
	spf_check_combine(bad ? (domain != NULL ? domain : "") : norm,
	                  cfg->relay_spf_include,
	                  (const char *const *) addrs->v, evals, addrs->n, out);
	free(evals);
	return 0;
}

/* spf_check_result_name - RFC 7208 2.6 names */
const char *
spf_check_result_name(enum spf_check_result result)
{
	static const char *const names[] = {
	    "pass", "none",      "neutral",   "softfail",
	    "fail", "permerror", "temperror",
	};

	if ((size_t) result >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[result];
}

/* spf_check_reason_name - short names of reason codes, for log lines */
const char *
spf_check_reason_name(enum spf_check_reason reason)
{
	static const char *const names[] = {
	    "match",       "default",      "no-record",  "no-domain",
	    "bad-domain",  "multiple",     "syntax",     "unsupported",
	    "target-none", "lookup-limit", "void-limit", "mx-limit",
	    "loop",        "permerror",    "dns",        "deadline",
	    "internal",
	};

	if ((size_t) reason >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[reason];
}
