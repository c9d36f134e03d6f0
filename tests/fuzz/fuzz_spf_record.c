/*
 * fuzz_spf_record - libFuzzer harness for spf_record.
 *
 * Besides "no crash and no sanitizer report" it checks the contract:
 * the status agrees with the version rule; a reason is printable ASCII;
 * an accepted record is printable ASCII within the limits, its terms lie
 * inside the input in order, do not overlap, are separated by SP only and
 * cover every other byte, and each term's fields fit its type; every
 * argument stays within the per-term limits that fence libspf2; the
 * re-serialised record parses to the same term list and is a fixed point;
 * inserting our include keeps it valid.  Inputs that are not SPF are tried
 * again behind "v=spf1 " so that the time goes into the term grammar.
 */

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spf_record.h"

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "invariant broken: %s (%s:%d)\n",      \
			        #cond, __FILE__, __LINE__);                    \
			abort();                                               \
		}                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct spf_record fuzz_rec, fuzz_again, fuzz_more;
static char fuzz_out[2 * SPF_RECORD_MAX_LEN], fuzz_out2[2 * SPF_RECORD_MAX_LEN];

/* fuzz_version - the version rule, independently (RFC 7208 4.5) */
static int
fuzz_version(const char *s, size_t len)
{
	static const char v[] = "v=spf1";

	if (len < 6)
		return 0;
	for (size_t i = 0; i < 6; i++)
		if ((s[i] | (s[i] >= 'A' && s[i] <= 'Z' ? 0x20 : 0)) != v[i])
			return 0;
	return len == 6 || s[6] == ' ';
}

/* fuzz_printable - only printable ASCII and SP in n bytes? */
static int
fuzz_printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e)
			return 0;
	return 1;
}

/* fuzz_macros - macro-expands in an argument: each '%' starts one */
static int
fuzz_macros(const char *s, size_t n)
{
	int count = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%')
			continue;
		count++;
		FUZZ_CHECK(i + 1 < n);
		if (s[i + 1] == '{') {
			const char *end = memchr(s + i, '}', n - i);

			FUZZ_CHECK(end != NULL);
			i = (size_t) (end - s);
		} else {
			FUZZ_CHECK(strchr("%_-", s[i + 1]) != NULL);
			i++;
		}
	}
	return count;
}

/*
 * fuzz_domain_end - an accepted domain-spec ends in a macro-expand or in
 * "." toplabel ["."], written independently of the parser.
 */
static int
fuzz_domain_end(const char *s, size_t n)
{
	size_t tail = 0, end, dot;
	int digits_only = 1, hyphen = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%')
			continue;
		i += s[i + 1] == '{'
		         ? (size_t) ((const char *) memchr(s + i, '}', n - i) -
		                     (s + i))
		         : 1;
		tail = i + 1;
	}
	if (tail == n)
		return 1;
	end = s[n - 1] == '.' ? n - 1 : n;
	dot = end;
	while (dot > tail && s[dot - 1] != '.')
		dot--;
	if (dot == tail || dot == end || s[dot] == '-' || s[end - 1] == '-')
		return 0;
	for (size_t i = dot; i < end; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			return 0;
		if (!(c >= '0' && c <= '9') && c != '-')
			digits_only = 0;
		hyphen |= c == '-';
	}
	/* "1-2" is a toplabel (its second ABNF alternative), "12" is not */
	return hyphen || !digits_only;
}

/* fuzz_term - the fields of one accepted term fit its type */
static void
fuzz_term(const char *s, const struct spf_term *t)
{
	int mech = t->type <= SPF_TERM_EXISTS;
	int needs_arg = t->type == SPF_TERM_INCLUDE ||
	                t->type == SPF_TERM_EXISTS || t->type == SPF_TERM_IP4 ||
	                t->type == SPF_TERM_IP6 ||
	                t->type == SPF_TERM_REDIRECT || t->type == SPF_TERM_EXP;
	unsigned char addr[16];

	FUZZ_CHECK(t->len > 0);
	FUZZ_CHECK(mech ? strchr("+-~?", t->qualifier) != NULL &&
	                      t->qualifier != 0
	                : t->qualifier == 0);
	FUZZ_CHECK(!needs_arg || t->arg_len > 0);
	FUZZ_CHECK(t->type != SPF_TERM_ALL || t->arg_len == 0);
	if (t->arg_len > 0 || t->type >= SPF_TERM_REDIRECT)
		FUZZ_CHECK(t->arg_off > t->off &&
		           t->arg_off + t->arg_len <= t->off + t->len);
	FUZZ_CHECK(t->arg_len <= SPF_RECORD_MAX_ARG);
	FUZZ_CHECK(fuzz_macros(s + t->arg_off, t->arg_len) <=
	           SPF_RECORD_MAX_MACROS);
	if (t->type >= SPF_TERM_REDIRECT)
		FUZZ_CHECK(s[t->arg_off - 1] == '=');
	if (t->arg_len > 0 && t->type != SPF_TERM_IP4 &&
	    t->type != SPF_TERM_IP6 && t->type != SPF_TERM_UNKNOWN_MOD)
		FUZZ_CHECK(fuzz_domain_end(s + t->arg_off, t->arg_len));
	FUZZ_CHECK(t->cidr4 >= -1 && t->cidr4 <= 32);
	FUZZ_CHECK(t->cidr6 >= -1 && t->cidr6 <= 128);
	if (t->type != SPF_TERM_A && t->type != SPF_TERM_MX)
		FUZZ_CHECK((t->type == SPF_TERM_IP4 || t->cidr4 == -1) &&
		           (t->type == SPF_TERM_IP6 || t->cidr6 == -1));
	if (t->type == SPF_TERM_IP4) {
		char buf[64];

		memcpy(buf, s + t->arg_off, t->arg_len);
		buf[t->arg_len] = '\0';
		FUZZ_CHECK(inet_pton(AF_INET, buf, addr) == 1);
		FUZZ_CHECK(memcmp(addr, t->addr, 4) == 0);
	}
}

/* fuzz_layout - terms in order, inside the input, SP between, nothing else */
static void
fuzz_layout(const char *s, size_t len, const struct spf_record *r)
{
	size_t pos = 6;
	int dns = 0, all = -1, redirect = -1, exp = -1;

	FUZZ_CHECK(len <= SPF_RECORD_MAX_LEN && fuzz_printable(s, len));
	FUZZ_CHECK(r->nterms >= 0 && r->nterms <= SPF_RECORD_MAX_TERMS);
	for (int i = 0; i < r->nterms; i++) {
		const struct spf_term *t = &r->term[i];

		FUZZ_CHECK(t->off >= pos && t->off + t->len <= len);
		for (; pos < t->off; pos++)
			FUZZ_CHECK(s[pos] == ' ');
		FUZZ_CHECK(t->off > 6 && s[t->off - 1] == ' ');
		FUZZ_CHECK(memchr(s + t->off, ' ', t->len) == NULL);
		fuzz_term(s, t);
		pos = t->off + t->len;
		dns += t->type == SPF_TERM_INCLUDE || t->type == SPF_TERM_A ||
		       t->type == SPF_TERM_MX || t->type == SPF_TERM_PTR ||
		       t->type == SPF_TERM_EXISTS ||
		       t->type == SPF_TERM_REDIRECT;
		if (t->type == SPF_TERM_ALL && all < 0)
			all = i;
		if (t->type == SPF_TERM_REDIRECT) {
			FUZZ_CHECK(redirect < 0);
			redirect = i;
		}
		if (t->type == SPF_TERM_EXP) {
			FUZZ_CHECK(exp < 0);
			exp = i;
		}
	}
	for (; pos < len; pos++)
		FUZZ_CHECK(s[pos] == ' ');
	FUZZ_CHECK(dns == r->dns_terms && all == r->all &&
	           redirect == r->redirect && exp == r->exp);
}

/* fuzz_same - two parses list the same terms (text compared, not offsets) */
static void
fuzz_same(const char *a, const struct spf_record *ra, const char *b,
          const struct spf_record *rb)
{
	FUZZ_CHECK(ra->nterms == rb->nterms && ra->dns_terms == rb->dns_terms);
	FUZZ_CHECK(ra->all == rb->all && ra->redirect == rb->redirect &&
	           ra->exp == rb->exp);
	for (int i = 0; i < ra->nterms; i++) {
		const struct spf_term *x = &ra->term[i], *y = &rb->term[i];

		FUZZ_CHECK(x->type == y->type && x->qualifier == y->qualifier);
		FUZZ_CHECK(x->len == y->len &&
		           memcmp(a + x->off, b + y->off, x->len) == 0);
		FUZZ_CHECK(x->arg_len == y->arg_len);
		FUZZ_CHECK((x->arg_off == 0 && y->arg_off == 0) ||
		           x->arg_off - x->off == y->arg_off - y->off);
		FUZZ_CHECK(x->cidr4 == y->cidr4 && x->cidr6 == y->cidr6);
		FUZZ_CHECK(memcmp(x->addr, y->addr, sizeof(x->addr)) == 0);
	}
}

/* fuzz_reformat - re-serialise, parse again, and insert our include */
static void
fuzz_reformat(const char *s, const struct spf_record *r)
{
	char why[256];
	int n = spf_record_format(r, s, -1, NULL, fuzz_out, sizeof(fuzz_out));
	int at = r->all >= 0 ? r->all : r->nterms, m;

	FUZZ_CHECK(n >= 6);
	FUZZ_CHECK(spf_record_parse(fuzz_out, (size_t) n, &fuzz_again, why,
	                            sizeof(why)) == SPF_RECORD_OK);
	fuzz_same(s, r, fuzz_out, &fuzz_again);
	FUZZ_CHECK(spf_record_format(&fuzz_again, fuzz_out, -1, NULL, fuzz_out2,
	                             sizeof(fuzz_out2)) == n);
	FUZZ_CHECK(memcmp(fuzz_out, fuzz_out2, (size_t) n + 1) == 0);
	m = spf_record_format(r, s, at, "include:spf.dmrmail.nl", fuzz_out2,
	                      sizeof(fuzz_out2));
	FUZZ_CHECK(m == n + 23);
	if (r->nterms == SPF_RECORD_MAX_TERMS || m > SPF_RECORD_MAX_LEN)
		return;
	FUZZ_CHECK(spf_record_parse(fuzz_out2, (size_t) m, &fuzz_more, why,
	                            sizeof(why)) == SPF_RECORD_OK);
	FUZZ_CHECK(fuzz_more.nterms == r->nterms + 1 &&
	           fuzz_more.dns_terms == r->dns_terms + 1);
	FUZZ_CHECK(spf_record_find(&fuzz_more, fuzz_out2, SPF_TERM_INCLUDE,
	                           "SPF.dmrmail.nl.") <= at);
	FUZZ_CHECK(fuzz_more.term[at].type == SPF_TERM_INCLUDE);
}

/* fuzz_one - parse one input and check everything that must hold */
static int
fuzz_one(const char *s, size_t len)
{
	char why[256];
	int rc;

	memset(why, 'X', sizeof(why));
	rc = spf_record_parse(s, len, &fuzz_rec, why, sizeof(why));
	FUZZ_CHECK(memchr(why, '\0', sizeof(why)) != NULL);
	FUZZ_CHECK(fuzz_printable(why, strlen(why)));
	FUZZ_CHECK((rc == SPF_RECORD_NOT_SPF) == !fuzz_version(s, len));
	if (rc == SPF_RECORD_OK) {
		FUZZ_CHECK(why[0] == '\0');
		fuzz_layout(s, len, &fuzz_rec);
		fuzz_reformat(s, &fuzz_rec);
	} else {
		FUZZ_CHECK(rc == SPF_RECORD_NOT_SPF ||
		           rc == SPF_RECORD_INVALID);
		FUZZ_CHECK(why[0] != '\0');
	}
	if (spf_record_explain_check(s, len, why, sizeof(why)) == 0)
		FUZZ_CHECK(len <= SPF_RECORD_MAX_ARG && fuzz_printable(s, len));
	FUZZ_CHECK(fuzz_printable(why, strlen(why)));
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[8192];
	const char *s = (const char *) data;

	if (fuzz_one(s, size) != SPF_RECORD_NOT_SPF || size > sizeof(buf) - 7)
		return 0;
	memcpy(buf, "v=spf1 ", 8); /* the NUL is overwritten or unused */
	memcpy(buf + 7, data, size);
	fuzz_one(buf, size + 7);
	return 0;
}
