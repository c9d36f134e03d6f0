/*
 * fuzz_spf_dns - libFuzzer harness for the path DNS answer -> our libspf2
 * DNS layer -> libspf2, through spf_check over tests/unit/fake_dns.
 *
 * Input: records, one per line ('\n'-separated, at most 16).  The first
 * byte of a line picks the owner (bits 0-2: d.test, a.d.test, b.d.test,
 * c.d.test, e.d.test, m.d.test, and the reverse names of the two relay
 * addresses), the type (bits 3-5: 0-2 TXT, 3 A, 4 AAAA, 5 MX, 6 PTR,
 * 7 SERVFAIL for every type at the owner) and the TTL (bits 6-7: 60, 300,
 * 3600, 86400); the rest is the data: TXT bytes as they are (cut into
 * 255-byte strings), the first 4 or 16 bytes of an address (the relay's
 * address if shorter), a name for MX and PTR.  Then the SPF verdict of
 * d.test for 192.0.2.25 and 2001:db8::25.
 *
 * Besides "no crash, no leak, no abort" (libspf2 aborts on a NULL
 * answer or an internal assertion; our error handler must bring those
 * back) it checks: result and reason in range; a printable one-line
 * summary "spf=RESULT (...)"; the limits hold (at most 11 terms counted,
 * the 11th refused, at most 3 voids, and a limit's permerror only with
 * its count); the queries per evaluation stay under the most the limits
 * allow; a top-level record reported present is one our grammar accepts;
 * temperror only with a DNS reason (SERVFAIL here) or an internal one.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fake_dns.h"
#include "spf_check.h"
#include "spf_record.h"

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "invariant broken: %s (%s:%d)\n",      \
			        #cond, __FILE__, __LINE__);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* Queries one evaluation may send: the record, 10 terms of which each
 * may look up 10 MX or PTR targets, %{p} (1 + 10) and 2 explanations. */
#define FUZZ_MAX_QUERIES (1 + 10 * 11 + 11 + 2)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_owners[] = {
    "d.test",
    "a.d.test",
    "b.d.test",
    "c.d.test",
    "e.d.test",
    "m.d.test",
    "25.2.0.192.in-addr.arpa",
    ("5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
     "ip6.arpa"),
};

static const uint32_t fuzz_ttls[] = {60, 300, 3600, 86400};

static struct config *fuzz_cfg;
static struct spf_check *fuzz_sc;
static struct spf_check_verdict fuzz_verdict;
static struct spf_record fuzz_rec;

/* LLVMFuzzerInitialize - one SPF server for the whole run */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char why[512];

	(void) argc;
	(void) argv;
	fuzz_cfg = config_load_string(
	    "relay: { addresses = [ \"192.0.2.25\", \"2001:db8::25\" ]; "
	    "spf_include = \"a.d.test\"; };",
	    "fuzz", why, sizeof(why));
	FUZZ_CHECK(fuzz_cfg != NULL);
	fuzz_sc = spf_check_open(fuzz_cfg, dns_open(fuzz_cfg, why, sizeof(why)),
	                         why, sizeof(why));
	FUZZ_CHECK(fuzz_sc != NULL);
	return 0;
}

/* fuzz_wire_name - text as an RFC 1035 name (labels cut at 63 bytes) */
static size_t
fuzz_wire_name(const uint8_t *s, size_t len, uint8_t *out)
{
	size_t n = 0, i = 0;

	if (len > 200)
		len = 200;
	while (i < len) {
		size_t start = i, l;

		while (i < len && s[i] != '.')
			i++;
		l = i - start > 63 ? 63 : i - start;
		if (l > 0) {
			out[n++] = (uint8_t) l;
			memcpy(out + n, s + start, l);
			n += l;
		}
		i++;
	}
	out[n++] = 0;
	return n;
}

/* fuzz_record - one line of input as a record of the fake DNS */
static void
fuzz_record(const uint8_t *line, size_t len)
{
	static const uint8_t a4[4] = {192, 0, 2, 25};
	static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	                               0,    0,    0,    0,    0, 0, 0, 0x25};
	uint8_t rdata[512];
	const char *owner;
	uint32_t ttl;
	int type;

	if (len == 0)
		return;
	owner = fuzz_owners[line[0] & 7];
	type = (line[0] >> 3) & 7;
	ttl = fuzz_ttls[line[0] >> 6];
	line++;
	len--;
	if (type <= 2) {
		fake_dns_add_txt(owner, ttl, line, len);
	} else if (type == 3) {
		fake_dns_add(owner, DNS_T_A, ttl, len >= 4 ? line : a4, 4);
	} else if (type == 4) {
		fake_dns_add(owner, DNS_T_AAAA, ttl, len >= 16 ? line : a6, 16);
	} else if (type == 5) {
		rdata[0] = 0;
		rdata[1] = 10;
		fake_dns_add(owner, DNS_T_MX, ttl, rdata,
		             2 + fuzz_wire_name(line, len, rdata + 2));
	} else if (type == 6) {
		fake_dns_add(owner, DNS_T_PTR, ttl, rdata,
		             fuzz_wire_name(line, len, rdata));
	} else {
		char text[128];

		snprintf(text, sizeof(text), "%s TEMPFAIL\n", owner);
		FUZZ_CHECK(fake_dns_load(text, NULL, 0) == 0);
	}
}

/* fuzz_printable - printable ASCII only */
static int
fuzz_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char) *s < 0x20 || (unsigned char) *s > 0x7e)
			return 0;
	return 1;
}

/* fuzz_addr - what must hold for one address's evaluation */
static void
fuzz_addr(const struct spf_check_addr *a)
{
	FUZZ_CHECK(a->result >= SPF_CHECK_PASS &&
	           a->result <= SPF_CHECK_TEMPERROR);
	FUZZ_CHECK(a->reason >= SPF_CHECK_R_MATCH &&
	           a->reason <= SPF_CHECK_R_INTERNAL);
	FUZZ_CHECK(fuzz_printable(a->why));
	FUZZ_CHECK(a->lookups >= 0 && a->lookups <= SPF_CHECK_MAX_TERMS + 1);
	FUZZ_CHECK(a->voids >= 0 && a->voids <= SPF_CHECK_MAX_VOIDS + 1);
	FUZZ_CHECK((a->reason == SPF_CHECK_R_LOOKUP_LIMIT &&
	            a->lookups > SPF_CHECK_MAX_TERMS) ==
	           (a->lookups > SPF_CHECK_MAX_TERMS));
	FUZZ_CHECK((a->reason == SPF_CHECK_R_VOID_LIMIT) ==
	           (a->voids > SPF_CHECK_MAX_VOIDS));
	if (a->result == SPF_CHECK_TEMPERROR)
		FUZZ_CHECK(a->reason == SPF_CHECK_R_DNS ||
		           a->reason == SPF_CHECK_R_INTERNAL);
	if (a->reason == SPF_CHECK_R_DNS)
		FUZZ_CHECK(strstr(a->why, "SERVFAIL on ") != NULL);
}

/* fuzz_verdict_ok - what must hold for the verdict */
static void
fuzz_verdict_ok(const struct spf_check_verdict *v)
{
	char prefix[32];

	FUZZ_CHECK(v->naddrs == 2);
	FUZZ_CHECK(strcmp(v->domain, "d.test") == 0);
	snprintf(prefix, sizeof(prefix), "spf=%s (",
	         spf_check_result_name(v->result));
	FUZZ_CHECK(strncmp(v->summary, prefix, strlen(prefix)) == 0);
	FUZZ_CHECK(fuzz_printable(v->summary));
	FUZZ_CHECK(v->result == (v->addr[0].result > v->addr[1].result
	                             ? v->addr[0].result
	                             : v->addr[1].result));
	for (size_t i = 0; i < v->naddrs; i++)
		fuzz_addr(&v->addr[i]);
	FUZZ_CHECK(!v->ttl_known || v->ttl <= 86400);
	FUZZ_CHECK(!v->has_include ||
	           v->record_status == SPF_CHECK_REC_PRESENT);
	if (v->record_status == SPF_CHECK_REC_PRESENT)
		FUZZ_CHECK(spf_record_parse(v->record, strlen(v->record),
		                            &fuzz_rec, NULL,
		                            0) == SPF_RECORD_OK);
	FUZZ_CHECK(fake_dns_query_count() <= (size_t) 2 * FUZZ_MAX_QUERIES);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *end = data + size;
	int lines = 0;

	fake_dns_reset();
	while (data < end && lines++ < 16) {
		const uint8_t *nl = memchr(data, '\n', (size_t) (end - data));
		size_t len =
		    nl != NULL ? (size_t) (nl - data) : (size_t) (end - data);

		fuzz_record(data, len);
		data += len + (nl != NULL);
	}
	FUZZ_CHECK(spf_check_domain(fuzz_sc, fuzz_cfg, "d.test", 0,
	                            &fuzz_verdict) == 0);
	fuzz_verdict_ok(&fuzz_verdict);
	return 0;
}
