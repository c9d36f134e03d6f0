/*
 * dns_world_test - the dns module against real DNS servers: run inside
 * the test world by tests/e2e/dns.sh, which starts nsd (the zones of
 * tests/world/zones, among them dns-*.test), the recursive unbound that
 * /etc/resolv.conf names, and the black hole that makes slow.test time
 * out.  The script passes what the test needs in the environment:
 *
 *   DNS_TEST_RESOLVER        the world's recursive resolver (address)
 *   DNS_TEST_BLACKHOLE       the black hole's address (port 53)
 *   DNS_TEST_DEAD_FORWARDER  "ADDR@PORT" where nothing listens
 *   DNS_TEST_SLOW_ZONE       a zone delegated to the black hole
 *   DNS_TEST_DIR             a scratch directory (resolv.conf, anchors)
 *   DNS_TEST_FILTER          optional cmocka test filter ("*concurrency*")
 *
 * Zone names are fixed by the zone files: dns-rec.test (records with
 * distinct TTLs), dns-chain.test and dns-hop.test (CNAME chains, loops),
 * dns-fail.test (broken delegations), good.test and prezent.nl (the
 * DKIM delegation of the seed).  Built with ASan+LSan (every path must
 * free everything, dns_close() with queries in flight included) and with
 * TSan for the concurrency case.
 */

#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "dns.h"
#include "domain.h"
#include "util.h"

/* Slack on TTLs: the world's resolver counts them down between tests. */
#define TTL_SLACK 5
/* Slack on deadlines: "TEMPFAIL within deadline + 500 ms". */
#define LATE_MS 500

#define THREADS 64
#define PER_THREAD 50
#define CLOSERS 16
#define SLOW_NAMES 8

/* test_env - a variable the script must set */
static const char *
test_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		fail_msg("%s is not set (run tests/e2e/dns.sh)", name);
	return v;
}

/* test_open - a resolver from the settings inside "resolver: { }" */
static struct dns *
test_open(const char *settings)
{
	char text[2048], why[512];
	struct config *cfg;
	struct dns *dns;

	snprintf(text, sizeof(text), "resolver: { %s };", settings);
	cfg = config_load_string(text, "dns_world_test", why, sizeof(why));
	if (cfg == NULL)
		fail_msg("config: %s", why);
	dns = dns_open(cfg, why, sizeof(why));
	config_release(cfg);
	if (dns == NULL)
		fail_msg("dns_open: %s", why);
	return dns;
}

/* test_open_fails - dns_open() must fail, with why containing want */
static void
test_open_fails(const char *settings, const char *want)
{
	char text[2048], why[512] = "";
	struct config *cfg;
	struct dns *dns;

	snprintf(text, sizeof(text), "resolver: { %s };", settings);
	cfg = config_load_string(text, "dns_world_test", why, sizeof(why));
	if (cfg == NULL)
		fail_msg("config: %s", why);
	dns = dns_open(cfg, why, sizeof(why));
	config_release(cfg);
	if (dns != NULL) {
		dns_close(dns);
		fail_msg("dns_open succeeded with %s", settings);
	}
	print_message("dns_open failed as expected: %s\n", why);
	if (strstr(why, want) == NULL)
		fail_msg("reason '%s' lacks '%s'", why, want);
}

/* test_system - the default: source "system", the world's resolv.conf */
static struct dns *
test_system(void)
{
	return test_open("timeout = \"3s\";");
}

/* test_invariants - what holds for every answer */
static void
test_invariants(const struct dns_answer *a)
{
	assert_non_null(a);
	assert_non_null(a->qname);
	assert_true((a->ncnames > 0) == (a->canonname != NULL));
	if (a->ncnames > 0)
		assert_ptr_equal(a->canonname, a->cnames[a->ncnames - 1]);
	assert_true((a->nrr > 0) == (a->status == DNS_OK));
	assert_true((a->why[0] != '\0') == (a->status == DNS_TEMPFAIL));
	if (a->status == DNS_TEMPFAIL)
		assert_int_equal(a->ttl, 0);
	if (a->security == DNS_BOGUS)
		assert_int_equal(a->status, DNS_TEMPFAIL);
}

/* test_ask - query, print, check the invariants */
static struct dns_answer *
test_ask(struct dns *dns, const char *name, int qtype, int64_t deadline)
{
	struct dns_answer *a = dns_query(dns, name, qtype, deadline);

	print_message("%s/%d: status %d rcode %d ttl %u nrr %zu ncnames %zu "
	              "security %d why '%s'\n",
	              name, qtype, a->status, a->rcode, a->ttl, a->nrr,
	              a->ncnames, a->security, a->why);
	test_invariants(a);
	return a;
}

/* test_ttl - the TTL is expected, counted down by at most TTL_SLACK */
static void
test_ttl(const struct dns_answer *a, uint32_t expected)
{
	if (a->ttl > expected || a->ttl + TTL_SLACK < expected)
		fail_msg("%s: TTL %u, expected %u", a->qname, a->ttl, expected);
}

/* test_txt - the text of record i */
static void
test_txt(const struct dns_answer *a, size_t i, const char *want)
{
	char text[4096];

	assert_true(i < a->nrr);
	assert_int_equal(dns_rr_txt(&a->rr[i], text, sizeof(text)),
	                 (long) strlen(want));
	assert_string_equal(text, want);
}

/* test_chain - the CNAME chain is exactly the n names given */
static void
test_chain(const struct dns_answer *a, size_t n, ...)
{
	va_list ap;

	assert_int_equal(a->ncnames, n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(a->cnames[i], va_arg(ap, const char *));
	va_end(ap);
}

/* test_addr - an A or AAAA record as text */
static void
test_addr(const struct dns_rr *rr, int af, char *out, size_t size)
{
	assert_int_equal(rr->len, af == AF_INET ? 4 : 16);
	assert_non_null(inet_ntop(af, rr->data, out, (socklen_t) size));
}

/* test_elapsed - milliseconds since t0 */
static int64_t
test_elapsed(int64_t t0)
{
	return util_monotonic_ms() - t0;
}

/* A, AAAA, TXT and MX with their exact data and TTLs. */
static void
test_records(void **state)
{
	struct dns *dns = test_system();
	struct dns_answer *a;
	char t1[64], t2[64];

	(void) state;
	a = test_ask(dns, "dns-rec.test", DNS_T_A, 0);
	assert_int_equal(a->status, DNS_OK);
	assert_int_equal(a->rcode, 0);
	assert_int_equal(a->security, DNS_UNCHECKED);
	assert_string_equal(a->qname, "dns-rec.test");
	assert_int_equal(a->qtype, DNS_T_A);
	assert_int_equal(a->nrr, 2);
	test_addr(&a->rr[0], AF_INET, t1, sizeof(t1));
	test_addr(&a->rr[1], AF_INET, t2, sizeof(t2));
	assert_true(
	    (strcmp(t1, "192.0.2.49") == 0 && strcmp(t2, "192.0.2.50") == 0) ||
	    (strcmp(t1, "192.0.2.50") == 0 && strcmp(t2, "192.0.2.49") == 0));
	assert_int_equal(a->ncnames, 0);
	test_ttl(a, 120);
	dns_answer_free(a);

	a = test_ask(dns, "dns-rec.test", DNS_T_AAAA, 0);
	assert_int_equal(a->status, DNS_OK);
	assert_int_equal(a->nrr, 1);
	test_addr(&a->rr[0], AF_INET6, t1, sizeof(t1));
	assert_string_equal(t1, "2001:db8::50");
	test_ttl(a, 240);
	dns_answer_free(a);

	a = test_ask(dns, "dns-rec.test", DNS_T_TXT, 0);
	assert_int_equal(a->status, DNS_OK);
	assert_int_equal(a->nrr, 1);
	test_txt(a, 0, "v=spf1 include:spf.dmrmail.nl -all");
	test_ttl(a, 180);
	dns_answer_free(a);
	dns_close(dns);
}

/* MX: preference and exchange; a long TXT; an empty TXT. */
static void
test_records_more(void **state)
{
	struct dns *dns = test_system();
	struct dns_answer *a;
	char name[DOMAIN_SIZE], want[512];

	(void) state;
	a = test_ask(dns, "DNS-Rec.Test.", DNS_T_MX, 0);
	assert_int_equal(a->status, DNS_OK);
	assert_string_equal(a->qname, "dns-rec.test");
	assert_int_equal(a->nrr, 2);
	for (size_t i = 0; i < 2; i++) {
		unsigned pref = a->rr[i].data[0] << 8 | a->rr[i].data[1];

		assert_int_equal(
		    dns_rr_name(&a->rr[i], DNS_T_MX, name, sizeof(name)), 0);
		assert_string_equal(name, pref == 10 ? "mx1.dns-rec.test"
		                                     : "mx2.dns-hop.test");
		assert_true(pref == 10 || pref == 20);
	}
	test_ttl(a, 60);
	dns_answer_free(a);

	a = test_ask(dns, "long.dns-rec.test", DNS_T_TXT, 0);
	assert_int_equal(a->status, DNS_OK);
	memset(want, 'a', 255);
	memset(want + 255, 'b', 45);
	want[300] = '\0';
	test_txt(a, 0, want);
	test_ttl(a, 300);
	dns_answer_free(a);

	a = test_ask(dns, "empty-txt.dns-rec.test", DNS_T_TXT, 0);
	assert_int_equal(a->status, DNS_OK);
	test_txt(a, 0, "");
	dns_answer_free(a);
	dns_close(dns);
}

/*
 * NXDOMAIN and NODATA carry the negative TTL of RFC 2308: the world's
 * SOA has TTL 300 and MINIMUM 300; the name without TXT has an A record
 * with TTL 150, which must not leak into the answer.
 */
static void
test_negative(void **state)
{
	struct dns *dns = test_system();
	struct dns_answer *a;

	(void) state;
	a = test_ask(dns, "nosuch.dns-rec.test", DNS_T_A, 0);
	assert_int_equal(a->status, DNS_NXDOMAIN);
	assert_int_equal(a->rcode, 3);
	assert_int_equal(a->nrr, 0);
	assert_int_equal(a->ncnames, 0);
	test_ttl(a, 300);
	dns_answer_free(a);

	a = test_ask(dns, "only-a.dns-rec.test", DNS_T_TXT, 0);
	assert_int_equal(a->status, DNS_NODATA);
	assert_int_equal(a->rcode, 0);
	test_ttl(a, 300);
	dns_answer_free(a);

	/* .test is resolved, not answered by libunbound's local zone (TTL
	 * 3600 and more): this NXDOMAIN comes from the world's test. zone */
	a = test_ask(dns, "nosuch-at-all.test", DNS_T_A, 0);
	assert_int_equal(a->status, DNS_NXDOMAIN);
	test_ttl(a, 300);
	dns_answer_free(a);
	dns_close(dns);
}

/* The seed's DKIM delegation: a CNAME into the provider's zone. */
static void
test_cname_dkim(void **state)
{
	struct dns *dns = test_system();
	struct dns_answer *a;

	(void) state;
	a = test_ask(dns, "prezent-a._domainkey.good.test", DNS_T_TXT, 0);
	assert_int_equal(a->status, DNS_OK);
	test_chain(a, 1, "_dkim-a.prezent.nl");
	assert_string_equal(a->canonname, "_dkim-a.prezent.nl");
	assert_int_equal(a->nrr, 1);
	test_ttl(a, 300);
	{
		char text[4096];

		assert_true(dns_rr_txt(&a->rr[0], text, sizeof(text)) > 300);
		assert_memory_equal(text, "v=DKIM1; k=rsa; p=", 18);
	}
	dns_answer_free(a);

	/* a CNAME question is not chased: the record is the answer */
	a = test_ask(dns, "prezent-b._domainkey.good.test", DNS_T_CNAME, 0);
	assert_int_equal(a->status, DNS_OK);
	assert_int_equal(a->ncnames, 0);
	{
		char name[DOMAIN_SIZE];

		assert_int_equal(
		    dns_rr_name(&a->rr[0], DNS_T_CNAME, name, sizeof(name)), 0);
		assert_string_equal(name, "_dkim-b.prezent.nl");
	}
	dns_answer_free(a);
	dns_close(dns);
}

/*
 * A chain of three CNAMEs across two zones; the TTL is the minimum over
 * every link and the record (500, 400, 450, 350).
 */
static void
test_cname_chain(void **state)
{
	struct dns *dns = test_system();
	struct dns_answer *a;

	(void) state;
	a = test_ask(dns, "three.dns-chain.test", DNS_T_TXT, 0);
	assert_int_equal(a->status, DNS_OK);
	test_chain(a, 3, "two.dns-chain.test", "one.dns-hop.test",
	           "final.dns-chain.test");
	test_txt(a, 0, "end of the chain");
	test_ttl(a, 350);
	dns_answer_free(a);

	/* the link has the smallest TTL: it is the answer's */
	a = test_ask(dns, "short.dns-chain.test", DNS_T_TXT, 0);
	assert_int_equal(a->status, DNS_OK);
	test_chain(a, 1, "final.dns-chain.test");
	test_ttl(a, 90);
	dns_answer_free(a);

	/* the same chain, a type the end does not have: NODATA, chain kept,
	 * TTL min(links 400.., negative 300) */
	a = test_ask(dns, "three.dns-chain.test", DNS_T_MX, 0);
	assert_int_equal(a->status, DNS_NODATA);
	test_chain(a, 3, "two.dns-chain.test", "one.dns-hop.test",
	           "final.dns-chain.test");
	test_ttl(a, 300);
	dns_answer_free(a);
	dns_close(dns);
}

/* Dangling chains keep the chain, so callers can name the target. */
static void
test_cname_dangling(void **state)
{
	struct dns *dns = test_system();
	struct dns_answer *a;

	(void) state;
	a = test_ask(dns, "dangle.dns-chain.test", DNS_T_TXT, 0);
	assert_int_equal(a->status, DNS_NXDOMAIN);
	test_chain(a, 1, "nowhere.dns-chain.test");
	test_ttl(a, 200); /* the CNAME's 200 under the negative 300 */
	dns_answer_free(a);

	a = test_ask(dns, "dangle-nodata.dns-chain.test", DNS_T_TXT, 0);
	assert_int_equal(a->status, DNS_NODATA);
	test_chain(a, 1, "only-a.dns-rec.test");
	test_ttl(a, 250);
	dns_answer_free(a);
	dns_close(dns);
}

/*
 * A CNAME loop: unbound answers it with a bare SERVFAIL; the module finds
 * the loop with CNAME questions and says so, with the chain ending in
 * the repeated name.
 */
static void
test_cname_loop(void **state)
{
	struct dns *dns = test_system();
	struct dns_answer *a;

	(void) state;
	a = test_ask(dns, "loop-a.dns-chain.test", DNS_T_TXT, 0);
	assert_int_equal(a->status, DNS_TEMPFAIL);
	assert_int_equal(a->rcode, 2);
	assert_non_null(strstr(a->why, "CNAME loop"));
	test_chain(a, 2, "loop-b.dns-chain.test", "loop-a.dns-chain.test");
	dns_answer_free(a);

	a = test_ask(dns, "self.dns-chain.test", DNS_T_A, 0);
	assert_int_equal(a->status, DNS_TEMPFAIL);
	assert_non_null(strstr(a->why, "CNAME loop at self.dns-chain.test"));
	test_chain(a, 1, "self.dns-chain.test");
	dns_answer_free(a);

	/* the DKIM engineer's loop zone, both selectors */
	a = test_ask(dns, "prezent-b._domainkey.dkim-loop.test", DNS_T_TXT, 0);
	assert_int_equal(a->status, DNS_TEMPFAIL);
	assert_non_null(strstr(a->why, "CNAME loop"));
	assert_int_equal(a->ncnames, 2);
	dns_answer_free(a);
	dns_close(dns);
}

/* x.ZONE and y.ZONE for the black-holed zone */
static void
test_slow_name(char *buf, size_t size, const char *label)
{
	snprintf(buf, size, "%s.%s", label, test_env("DNS_TEST_SLOW_ZONE"));
}

/*
 * Real timeouts: the resolver.timeout (1 s) and an earlier deadline of
 * the caller's (700 ms), each within LATE_MS; a deadline already past.
 */
static void
test_timeout(void **state)
{
	struct dns *dns = test_open("timeout = \"1s\";");
	struct dns_answer *a;
	struct dns_stats st;
	char name[DOMAIN_SIZE];
	int64_t t0, ms;

	(void) state;
	test_slow_name(name, sizeof(name), "x");
	t0 = util_monotonic_ms();
	a = test_ask(dns, name, DNS_T_A, 0);
	ms = test_elapsed(t0);
	assert_int_equal(a->status, DNS_TEMPFAIL);
	assert_int_equal(a->rcode, -1);
	assert_non_null(strstr(a->why, "timeout after"));
	assert_true(ms >= 990 && ms <= 1000 + LATE_MS);
	dns_answer_free(a);

	test_slow_name(name, sizeof(name), "y");
	t0 = util_monotonic_ms();
	a = test_ask(dns, name, DNS_T_TXT, t0 + 700);
	ms = test_elapsed(t0);
	assert_int_equal(a->status, DNS_TEMPFAIL);
	assert_non_null(strstr(a->why, "timeout after"));
	assert_true(ms >= 690 && ms <= 700 + LATE_MS);
	dns_answer_free(a);

	a = test_ask(dns, "dns-rec.test", DNS_T_A, util_monotonic_ms() - 1);
	assert_int_equal(a->status, DNS_TEMPFAIL);
	assert_non_null(strstr(a->why, "deadline passed"));
	dns_answer_free(a);

	dns_stats(dns, &st);
	assert_int_equal(st.queries, 3);
	assert_int_equal(st.timeouts, 3);
	assert_int_equal(st.tempfails, 3);
	dns_close(dns);
}

/*
 * Broken delegations.  noaddr: no address for the name server, SERVFAIL
 * at once.  lame: unbound gives NOERROR with nothing at all (no SOA), a
 * "NODATA" that must not be cached (TTL 0).  dead: refused by the kernel,
 * which this unbound keeps probing: a timeout.
 */
static void
test_servfail(void **state)
{
	struct dns *dns = test_open("timeout = \"1s\";");
	struct dns_answer *a;
	int64_t t0;

	(void) state;
	t0 = util_monotonic_ms();
	a = test_ask(dns, "x.noaddr.dns-fail.test", DNS_T_A, 0);
	assert_int_equal(a->status, DNS_TEMPFAIL);
	assert_int_equal(a->rcode, 2);
	assert_string_equal(a->why, "SERVFAIL from the resolver");
	assert_true(test_elapsed(t0) < 900);
	dns_answer_free(a);

	a = test_ask(dns, "x.lame.dns-fail.test", DNS_T_A, 0);
	assert_int_equal(a->status, DNS_NODATA);
	assert_int_equal(a->ttl, 0);
	dns_answer_free(a);

	t0 = util_monotonic_ms();
	a = test_ask(dns, "x.dead.dns-fail.test", DNS_T_A, 0);
	assert_int_equal(a->status, DNS_TEMPFAIL);
	assert_true(test_elapsed(t0) <= 1000 + LATE_MS);
	dns_answer_free(a);
	dns_close(dns);
}

/* Names that are not domains never reach the resolver. */
static void
test_invalid(void **state)
{
	struct dns *dns = test_system();
	struct dns_answer *a;
	struct dns_stats st;

	(void) state;
	a = test_ask(dns, "bad name!.test", DNS_T_A, 0);
	assert_int_equal(a->status, DNS_TEMPFAIL);
	assert_int_equal(a->rcode, -1);
	assert_non_null(strstr(a->why, "invalid name"));
	dns_answer_free(a);
	a = test_ask(dns, "", DNS_T_A, 0);
	assert_int_equal(a->status, DNS_TEMPFAIL);
	dns_answer_free(a);
	a = test_ask(dns, "good.test", 0, 0);
	assert_int_equal(a->status, DNS_TEMPFAIL);
	dns_answer_free(a);
	dns_stats(dns, &st);
	assert_int_equal(st.queries, 3);
	assert_int_equal(st.tempfails, 3);
	assert_int_equal(st.timeouts, 0);
	dns_close(dns);
}

/*
 * The special-use zones libunbound answers itself must go to the
 * resolver: with the black hole as the only forwarder they time out
 * instead of being answered at once.  localhost and the loopback reverse
 * zones stay local.
 */
static void
test_special_use(void **state)
{
	static const char *const forwarded[] = {
	    "x.test",
	    "x.invalid",
	    "x.onion",
	    "x.home.arpa",
	    "x.local",
	    "4.3.2.10.in-addr.arpa",
	    "1.2.0.192.in-addr.arpa", /* TEST-NET-1, an AS112 zone */
	    "1.0.168.192.in-addr.arpa",
	};
	char settings[256];
	struct dns *dns;
	struct dns_answer *a;
	int64_t t0;

	(void) state;
	snprintf(settings, sizeof(settings),
	         "source = \"forwarders\"; forwarders = [\"%s\"]; "
	         "timeout = \"300ms\";",
	         test_env("DNS_TEST_BLACKHOLE"));
	dns = test_open(settings);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) {
		int qtype =
		    strstr(forwarded[i], ".arpa") != NULL ? DNS_T_PTR : DNS_T_A;

		t0 = util_monotonic_ms();
		a = test_ask(dns, forwarded[i], qtype, 0);
		assert_int_equal(a->status, DNS_TEMPFAIL);
		assert_true(test_elapsed(t0) <= 300 + LATE_MS);
		dns_answer_free(a);
	}
	a = test_ask(dns, "localhost", DNS_T_A, 0);
	assert_int_equal(a->status, DNS_OK);
	assert_memory_equal(a->rr[0].data, "\x7f\x00\x00\x01", 4);
	dns_answer_free(a);
	a = test_ask(dns, "1.0.0.127.in-addr.arpa", DNS_T_PTR, 0);
	assert_int_equal(a->status, DNS_OK);
	dns_answer_free(a);
	dns_close(dns);
}

/* source "forwarders": the world's resolver, and a port where nothing
 * listens (a timeout, never a hang) */
static void
test_forwarders(void **state)
{
	char settings[256];
	struct dns *dns;
	struct dns_answer *a;
	int64_t t0;

	(void) state;
	snprintf(settings, sizeof(settings),
	         "source = \"forwarders\"; forwarders = [\"%s@53\"];",
	         test_env("DNS_TEST_RESOLVER"));
	dns = test_open(settings);
	a = test_ask(dns, "good.test", DNS_T_TXT, 0);
	assert_int_equal(a->status, DNS_OK);
	test_txt(a, 0, "v=spf1 +mx +a include:spf.dmrmail.nl -all");
	dns_answer_free(a);
	dns_close(dns);

	snprintf(settings, sizeof(settings),
	         "source = \"forwarders\"; forwarders = [\"%s\"]; "
	         "timeout = \"1s\";",
	         test_env("DNS_TEST_DEAD_FORWARDER"));
	dns = test_open(settings);
	for (int i = 0; i < 2; i++) {
		t0 = util_monotonic_ms();
		a = test_ask(dns, i == 0 ? "good.test" : "bare.test", DNS_T_TXT,
		             0);
		assert_int_equal(a->status, DNS_TEMPFAIL);
		assert_true(test_elapsed(t0) <= 1000 + LATE_MS);
		dns_answer_free(a);
	}
	dns_close(dns);
}

/* test_write - a file in the scratch directory; returns its path */
static void
test_write(char *path, size_t size, const char *name, const char *text)
{
	FILE *f;

	snprintf(path, size, "%s/%s", test_env("DNS_TEST_DIR"), name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* source "system": a resolv.conf of our own, and broken ones */
static void
test_resolv_conf(void **state)
{
	char path[512], settings[1024], text[512];
	struct dns *dns;
	struct dns_answer *a;

	(void) state;
	snprintf(text, sizeof(text),
	         "# written by dns_world_test\n; a comment\n"
	         "search example.org\noptions timeout:1 attempts:1\n"
	         "  nameserver\t%s  # the world's resolver\n",
	         test_env("DNS_TEST_RESOLVER"));
	test_write(path, sizeof(path), "resolv-ok.conf", text);
	snprintf(settings, sizeof(settings), "resolv_conf = \"%s\";", path);
	dns = test_open(settings);
	a = test_ask(dns, "bare.test", DNS_T_A, 0);
	assert_int_equal(a->status, DNS_OK);
	dns_answer_free(a);
	dns_close(dns);

	test_write(path, sizeof(path), "resolv-none.conf",
	           "search example.org\n# nameserver 127.0.0.1\n");
	snprintf(settings, sizeof(settings), "resolv_conf = \"%s\";", path);
	test_open_fails(settings, "names no nameserver");

	test_write(path, sizeof(path), "resolv-bad.conf",
	           "nameserver 127.0.0.1\nnameserver 300.1.1.1\n");
	snprintf(settings, sizeof(settings), "resolv_conf = \"%s\";", path);
	test_open_fails(settings, "resolv-bad.conf:2: bad nameserver");

	snprintf(settings, sizeof(settings), "resolv_conf = \"%s/none\";",
	         test_env("DNS_TEST_DIR"));
	test_open_fails(settings, "No such file");
}

/*
 * DNSSEC.  The world's root is unsigned.  With the real root's DS as
 * trust anchor, a name under nl. is bogus (TEMPFAIL with the reason),
 * while .test (special-use, not in the signed root) is insecure.  An
 * anchor for a zone that does not exist makes its names bogus.
 */
static void
test_dnssec(void **state)
{
	char path[512], settings[1024];
	struct dns *dns;
	struct dns_answer *a;

	(void) state;
	test_write(path, sizeof(path), "root.ds",
	           ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E8804"
	           "09BBC683457104237C7F8EC8D\n");
	snprintf(settings, sizeof(settings), "trust_anchor = \"%s\";", path);
	dns = test_open(settings);
	a = test_ask(dns, "_dkim-a.prezent.nl", DNS_T_TXT, 0);
	assert_int_equal(a->status, DNS_TEMPFAIL);
	assert_int_equal(a->security, DNS_BOGUS);
	assert_memory_equal(a->why, "DNSSEC bogus: ", 14);
	dns_answer_free(a);
	a = test_ask(dns, "good.test", DNS_T_TXT, 0);
	assert_int_equal(a->status, DNS_OK);
	assert_int_equal(a->security, DNS_INSECURE);
	dns_answer_free(a);
	dns_close(dns);

	test_write(path, sizeof(path), "island.ds",
	           "dns-island.test. IN DS 12345 8 2 49AAC11D7B6F6446702E54A16"
	           "07371607A1A41855200FD2CE1CDDE32F24E8FB5\n");
	snprintf(settings, sizeof(settings), "trust_anchor = \"%s\";", path);
	dns = test_open(settings);
	a = test_ask(dns, "www.dns-island.test", DNS_T_A, 0);
	assert_int_equal(a->security, DNS_BOGUS);
	dns_answer_free(a);
	a = test_ask(dns, "nosuch.dns-rec.test", DNS_T_A, 0);
	assert_int_equal(a->status, DNS_NXDOMAIN);
	assert_int_equal(a->security, DNS_INSECURE);
	dns_answer_free(a);
	dns_close(dns);

	test_write(path, sizeof(path), "garbage.ds", "not a trust anchor\n");
	snprintf(settings, sizeof(settings), "trust_anchor = \"%s\";", path);
	test_open_fails(settings, "trust_anchor");
}

/* One thread of the concurrency case. */
struct test_worker {
	pthread_t tid;
	struct dns *dns;
	int id;
	pthread_barrier_t *start;
	unsigned long slow;
	unsigned long timeouts;
	int errors;
	char first[256];
};

/* test_worker_fail - note a wrong answer (cmocka is not thread-safe) */
static void
test_worker_fail(struct test_worker *w, const struct dns_answer *a,
                 const char *what)
{
	if (w->errors++ == 0)
		snprintf(w->first, sizeof(w->first),
		         "%s/%d: %s (status %d, why '%s')", a->qname, a->qtype,
		         what, a->status, a->why);
}

/* test_worker_one - one query of kind k; checks its answer */
static void
test_worker_one(struct test_worker *w, int j)
{
	char name[DOMAIN_SIZE], text[128];
	int k = (w->id + j) % 10,
	    qtype = k >= 2 && k <= 4 ? DNS_T_TXT : DNS_T_A;
	int64_t t0 = util_monotonic_ms(), deadline = 0;
	struct dns_answer *a;

	if (k <= 1)
		snprintf(name, sizeof(name), "dns-rec.test");
	else if (k <= 3)
		snprintf(name, sizeof(name), "three.dns-chain.test");
	else if (k == 4)
		snprintf(name, sizeof(name), "prezent-a._domainkey.good.test");
	else if (k == 5)
		snprintf(name, sizeof(name), "mx1.dns-rec.test");
	else if (k <= 7)
		snprintf(name, sizeof(name), "n%d-%d.dns-rec.test", w->id, j);
	else
		snprintf(name, sizeof(name), "t%d.%s", (w->id + j) % SLOW_NAMES,
		         getenv("DNS_TEST_SLOW_ZONE"));
	if (k >= 8) {
		deadline = t0 + 400;
		w->slow++;
	}
	a = dns_query(w->dns, name, qtype, deadline);
	if (k >= 8 && strstr(a->why, "timeout") != NULL)
		w->timeouts++;
	if (k >= 8 && (a->status != DNS_TEMPFAIL ||
	               util_monotonic_ms() - t0 > 400 + LATE_MS))
		test_worker_fail(w, a, "expected TEMPFAIL in time");
	else if (k >= 6 && k <= 7 && a->status != DNS_NXDOMAIN)
		test_worker_fail(w, a, "expected NXDOMAIN");
	else if (k <= 5 && a->status != DNS_OK)
		test_worker_fail(w, a, "expected OK");
	else if (k <= 1 && a->nrr != 2)
		test_worker_fail(w, a, "expected 2 addresses");
	else if (k >= 2 && k <= 3 &&
	         (a->ncnames != 3 ||
	          dns_rr_txt(&a->rr[0], text, sizeof(text)) != 16))
		test_worker_fail(w, a, "expected the chain and its text");
	else if (k == 4 && (a->ncnames != 1 ||
	                    strcmp(a->canonname, "_dkim-a.prezent.nl") != 0))
		test_worker_fail(w, a, "expected the DKIM target");
	dns_answer_free(a);
}

/* test_worker_run - PER_THREAD queries after a common start */
static void *
test_worker_run(void *arg)
{
	struct test_worker *w = arg;

	pthread_barrier_wait(w->start);
	for (int j = 0; j < PER_THREAD; j++)
		test_worker_one(w, j);
	return NULL;
}

/*
 * 64 threads x 50 queries at once, mixed: OK (plain, chains), NXDOMAIN
 * (fresh names: real questions to the resolver all along), and names in
 * the black hole with a 400 ms deadline, which must come back TEMPFAIL in
 * time: by timeout, or by SERVFAIL once libunbound has given up on such a
 * name (it then caches the failure).  Timeouts must not disturb the
 * others, and the counters must add up.  SLOW_NAMES distinct black-holed
 * names: with a fresh one for each of the 640 questions, the world's
 * unbound itself starts dropping questions (its "requestlist exceeded"
 * counter), which is beyond this module.
 */
static void
test_concurrency(void **state)
{
	struct dns *dns = test_system();
	static struct test_worker w[THREADS];
	pthread_barrier_t start;
	struct dns_stats st;
	unsigned long slow = 0, timeouts = 0;
	int64_t t0;

	(void) state;
	(void) test_env("DNS_TEST_SLOW_ZONE");
	pthread_barrier_init(&start, NULL, THREADS + 1);
	for (int i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].dns = dns;
		w[i].id = i;
		w[i].start = &start;
		assert_int_equal(
		    pthread_create(&w[i].tid, NULL, test_worker_run, &w[i]), 0);
	}
	pthread_barrier_wait(&start);
	t0 = util_monotonic_ms();
	for (int i = 0; i < THREADS; i++) {
		pthread_join(w[i].tid, NULL);
		slow += w[i].slow;
		timeouts += w[i].timeouts;
		if (w[i].errors > 0)
			print_message("thread %d: %d wrong, first: %s\n", i,
			              w[i].errors, w[i].first);
	}
	print_message("%d queries in %lld ms, %lu black-holed, %lu timeouts\n",
	              THREADS * PER_THREAD, (long long) test_elapsed(t0), slow,
	              timeouts);
	pthread_barrier_destroy(&start);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(w[i].errors, 0);
	dns_stats(dns, &st);
	assert_int_equal(st.queries, THREADS * PER_THREAD);
	assert_int_equal(st.timeouts, timeouts);
	assert_int_equal(st.tempfails, slow);
	dns_close(dns);
}

/* One query that dns_close() interrupts. */
struct test_closer {
	pthread_t tid;
	struct dns *dns;
	int id;
	int64_t ms;
	enum dns_status status;
	char why[160];
};

/* test_closer_run - wait in the black hole until dns_close() */
static void *
test_closer_run(void *arg)
{
	struct test_closer *c = arg;
	char name[DOMAIN_SIZE];
	int64_t t0 = util_monotonic_ms();
	struct dns_answer *a;

	snprintf(name, sizeof(name), "c%d.%s", c->id,
	         getenv("DNS_TEST_SLOW_ZONE"));
	a = dns_query(c->dns, name, DNS_T_TXT, 0);
	c->ms = util_monotonic_ms() - t0;
	c->status = a->status;
	snprintf(c->why, sizeof(c->why), "%s", a->why);
	dns_answer_free(a);
	return NULL;
}

/*
 * dns_close() while queries wait (and after others timed out, whose
 * libunbound queries are still running): the waiters get "resolver
 * closed" at once; nothing leaks (LSan) and nothing races (TSan).
 */
static void
test_close_in_flight(void **state)
{
	struct dns *dns = test_open("timeout = \"30s\";");
	static struct test_closer c[CLOSERS];
	struct dns_answer *a;
	struct dns_stats st;
	char name[DOMAIN_SIZE];
	int64_t t0;

	(void) state;
	test_slow_name(name, sizeof(name), "abandoned");
	a = test_ask(dns, name, DNS_T_A, util_monotonic_ms() + 200);
	assert_int_equal(a->status, DNS_TEMPFAIL);
	dns_answer_free(a);
	for (int i = 0; i < CLOSERS; i++) {
		c[i].dns = dns;
		c[i].id = i;
		assert_int_equal(
		    pthread_create(&c[i].tid, NULL, test_closer_run, &c[i]), 0);
	}
	t0 = util_monotonic_ms();
	do {
		dns_stats(dns, &st);
		usleep(10000);
	} while (st.queries < CLOSERS + 1 && test_elapsed(t0) < 10000);
	assert_int_equal(st.queries, CLOSERS + 1);
	usleep(300000); /* let every thread reach its wait */
	t0 = util_monotonic_ms();
	dns_close(dns);
	print_message("dns_close took %lld ms\n", (long long) test_elapsed(t0));
	assert_true(test_elapsed(t0) < 2000);
	for (int i = 0; i < CLOSERS; i++) {
		pthread_join(c[i].tid, NULL);
		assert_int_equal(c[i].status, DNS_TEMPFAIL);
		assert_string_equal(c[i].why, "resolver closed");
		assert_true(c[i].ms < 5000);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_records),
	    cmocka_unit_test(test_records_more),
	    cmocka_unit_test(test_negative),
	    cmocka_unit_test(test_cname_dkim),
	    cmocka_unit_test(test_cname_chain),
	    cmocka_unit_test(test_cname_dangling),
	    cmocka_unit_test(test_cname_loop),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_servfail),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_special_use),
	    cmocka_unit_test(test_forwarders),
	    cmocka_unit_test(test_resolv_conf),
	    cmocka_unit_test(test_dnssec),
	    cmocka_unit_test(test_concurrency),
	    cmocka_unit_test(test_close_in_flight),
	};
	const char *filter = getenv("DNS_TEST_FILTER");

	if (filter != NULL && *filter != '\0')
		cmocka_set_test_filter(filter);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
