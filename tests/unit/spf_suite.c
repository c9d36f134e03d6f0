/*
 * spf_suite - the RFC 7208 test suite through spf_check over fake_dns.
 *
 * Reads the suite as spf_suite.py writes it (scenario, zone lines,
 * tests) from standard input, loads each scenario's zone data into the
 * fake DNS and runs every test through spf_check_eval(): client address,
 * MAIL FROM and HELO in, result (and, for fail, the explanation) out,
 * compared with the suite's accepted results.  Every disagreement must be
 * in the allow-list below, with the reason; a disagreement that is not,
 * or an allow-list entry that no longer disagrees, fails the run.
 *
 * Usage: /usr/bin/python3 spf_suite.py SUITE | spf_suite [-v]
 *	-v	print every test, not only the disagreements
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fake_dns.h"
#include "spf_check.h"

/*
 * Known disagreements.  "what" is "result" or "explanation"; "got" is
 * what spf_check answers.  Each one is a limitation we accept, never a
 * bug: bugs are fixed.
 */
static const struct suite_allow {
	const char *test;
	const char *what;
	const char *got;
	const char *reason;
} suite_allow[] = {
    /*
     * libspf2's compiler refuses a CIDR length of 0 (spf_compile.c:
     * "Invalid IPv4/IPv6 CIDR netmask (=0)"; it stores /32 and /128 as 0).
     * spf_check rewrites ip4:X/0, ip6:X/0, a/0 for IPv4 (as exists:) and
     * a /0 of the other address family into forms it compiles; mx/0 and
     * a//0 for an IPv6 client have no equivalent and stay permerror.
     */
    {"a-cidr6-0-ip6", "result", "permerror", "libspf2 refuses a//0"},
    {"a-cidr6-0-nxdomain", "result", "permerror", "libspf2 refuses a//0"},
    {"mx-nxdomain", "result", "permerror", "libspf2 refuses mx/0"},
    {"mx-cidr4-0", "result", "permerror", "libspf2 refuses mx/0"},
    {"mx-cidr6-0-ip6", "result", "permerror", "libspf2 refuses mx//0"},
    {"mx-cidr6-0-nxdomain", "result", "permerror", "libspf2 refuses mx//0"},
    /*
     * Names with ':', '/' or SP are valid in DNS, but dns.h only asks
     * names of letters, digits, '-' and '_' (dns_query() fails others),
     * so spf_check treats them as nonexistent: no match, a void lookup.
     */
    {"a-colon-domain", "result", "neutral", "dns asks no 'foo:bar/baz'"},
    {"a-colon-domain-ip4mapped", "result", "neutral",
     "dns asks no 'foo:bar/baz'"},
    {"mx-colon-domain", "result", "neutral", "dns asks no 'foo:bar/baz'"},
    {"mx-colon-domain-ip4mapped", "result", "neutral",
     "dns asks no 'foo:bar/baz'"},
    {"macro-mania-in-domain", "result", "fail",
     "dns asks no name with SP and '%'"},
    /*
     * A CNAME loop: unbound (and dns.c) answer SERVFAIL, our fake does
     * too, so the A lookup of a ptr name fails and the result is
     * temperror.  RFC 7208 5.5 would skip that name; we keep temperror
     * because DNS trouble must never give a permanent verdict (DESIGN.md).
     */
    {"ptr-cname-loop", "result", "temperror",
     "DNS failure during ptr is temperror, not skipped (5.5)"},
    /*
     * Explanation text only (the result agrees): libspf2's macro
     * expansion writes IPv6 nibbles and %-escapes in lower case, the
     * suite wants upper case (RFC 3986 2.1 recommends upper-case escapes).
     */
    {"v-macro-ip6", "explanation",
     "cafe:babe::1 is queried as "
     "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.e.b.a.b.e.f.a.c.ip6."
     "arpa",
     "libspf2 expands %{IR} of IPv6 in lower case"},
    {"upper-macro", "explanation",
     "http://example.com/why.html?l=~jack%26jill%3dup-a_b3.c",
     "libspf2 writes %-escapes in lower case"},
    {NULL, NULL, NULL, NULL},
};

/* One test line, split. */
struct suite_test {
	char name[128];
	char host[64];
	char from[1024];
	char helo[1024];
	char results[128];
	char explanation[1024];
};

struct suite_tally {
	int run, agree, known, unexpected;
	int exp_checked, exp_agree;
	int used[sizeof(suite_allow) / sizeof(suite_allow[0])];
};

static int suite_verbose;

/* suite_unhex - decode hex ("-" is empty) into out; -1 if malformed */
static int
suite_unhex(const char *hex, char *out, size_t size)
{
	size_t n = 0;

	if (strcmp(hex, "-") == 0) {
		out[0] = '\0';
		return 0;
	}
	for (; hex[0] != '\0' && hex[1] != '\0'; hex += 2) {
		char pair[3] = {hex[0], hex[1], '\0'}, *end;
		unsigned long v = strtoul(pair, &end, 16);

		if (n + 1 >= size || *end != '\0')
			return -1;
		out[n++] = (char) v;
	}
	out[n] = '\0';
	return hex[0] == '\0' ? 0 : -1;
}

/* suite_parse - "T NAME HOST FROM HELO RESULTS EXPLANATION" */
static int
suite_parse(const char *line, struct suite_test *t)
{
	static char from[2048], helo[2048], exp[2048];

	if (sscanf(line, "T %127s %63s %2047s %2047s %127s %2047s", t->name,
	           t->host, from, helo, t->results, exp) != 6)
		return -1;
	return suite_unhex(from, t->from, sizeof(t->from)) < 0 ||
	               suite_unhex(helo, t->helo, sizeof(t->helo)) < 0 ||
	               suite_unhex(exp, t->explanation,
	                           sizeof(t->explanation)) < 0
	           ? -1
	           : 0;
}

/* suite_accepts - is result one of the comma-separated results? */
static int
suite_accepts(const char *results, const char *result)
{
	size_t n = strlen(result);

	for (const char *p = results; p != NULL; p = strchr(p, ',')) {
		p += *p == ',';
		if (strncmp(p, result, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

/*
 * suite_disagree - count a disagreement as known (allow-listed) or not,
 * and say so.
 */
static void
suite_disagree(struct suite_tally *tally, const struct suite_test *t,
               const char *what, const char *want, const char *got,
               const struct spf_check_eval *e)
{
	for (size_t i = 0; suite_allow[i].test != NULL; i++)
		if (strcmp(suite_allow[i].test, t->name) == 0 &&
		    strcmp(suite_allow[i].what, what) == 0 &&
		    strcmp(suite_allow[i].got, got) == 0) {
			tally->known++;
			tally->used[i]++;
			printf("known    %-32s %s: want %s, got %s (%s)\n",
			       t->name, what, want, got, suite_allow[i].reason);
			return;
		}
	tally->unexpected++;
	printf("DISAGREE %-32s %s: want %s, got %s (%s: %s)\n", t->name, what,
	       want, got, spf_check_reason_name(e->reason), e->why);
}

/* suite_explanation - compare the explanation of a fail, if given */
static void
suite_explanation(struct suite_tally *tally, const struct suite_test *t,
                  const struct spf_check_eval *e)
{
	const char *want = t->explanation;

	if (want[0] == '\0' || e->result != SPF_CHECK_FAIL)
		return;
	tally->exp_checked++;
	if (strcmp(want, "DEFAULT") == 0 ? e->explanation[0] == '\0'
	                                 : strcmp(want, e->explanation) == 0) {
		tally->exp_agree++;
		return;
	}
	suite_disagree(tally, t, "explanation", want,
	               e->explanation[0] != '\0' ? e->explanation : "DEFAULT",
	               e);
}

/* suite_run - one test */
static void
suite_run(struct spf_check *sc, struct suite_tally *tally, const char *line)
{
	static struct spf_check_eval e;
	struct suite_test t;
	const char *got;

	if (suite_parse(line, &t) < 0) {
		fprintf(stderr, "spf_suite: bad test line: %s\n", line);
		exit(2);
	}
	tally->run++;
	if (spf_check_eval(sc, t.host, t.from, t.helo, 0, &e) < 0) {
		suite_disagree(tally, &t, "result", t.results, "refused", &e);
		return;
	}
	got = spf_check_result_name(e.result);
	if (suite_verbose)
		printf("test     %-32s want %s, got %s (%s: %s)\n", t.name,
		       t.results, got, spf_check_reason_name(e.reason), e.why);
	if (!suite_accepts(t.results, got)) {
		suite_disagree(tally, &t, "result", t.results, got, &e);
		return;
	}
	tally->agree++;
	suite_explanation(tally, &t, &e);
}

/* suite_line - one input line; returns the count of an "E" line, or -1 */
static int
suite_line(struct spf_check *sc, struct suite_tally *tally, char *line)
{
	char why[256];

	line[strcspn(line, "\n")] = '\0';
	switch (line[0]) {
	case 'S':
		fake_dns_reset();
		fake_dns_set_timeout(1); /* TIMEOUT: answer at once */
		printf("scenario %s\n", line + 2);
		return -1;
	case 'Z':
		if (fake_dns_load(line + 2, why, sizeof(why)) < 0) {
			fprintf(stderr, "spf_suite: %s: %s\n", line, why);
			exit(2);
		}
		return -1;
	case 'T':
		suite_run(sc, tally, line);
		return -1;
	case 'E':
		return (int) strtol(line + 2, NULL, 10);
	default:
		fprintf(stderr, "spf_suite: bad line: %s\n", line);
		exit(2);
	}
}

/* suite_report - the numbers, and the allow-list entries not used */
static int
suite_report(const struct suite_tally *tally, int expected)
{
	int stale = 0;

	for (size_t i = 0; suite_allow[i].test != NULL; i++)
		if (tally->used[i] == 0) {
			stale++;
			printf("STALE    %-32s %s %s: allow-listed, but agrees "
			       "now: remove the entry\n",
			       suite_allow[i].test, suite_allow[i].what,
			       suite_allow[i].got);
		}
	printf("RFC 7208 suite: passed %d/%d; disagreements allow-listed %d, "
	       "unexpected %d; explanations passed %d/%d\n",
	       tally->agree, tally->run, tally->known, tally->unexpected,
	       tally->exp_agree, tally->exp_checked);
	if (expected != tally->run) {
		printf("input ended after %d of %d tests\n", tally->run,
		       expected);
		return 1;
	}
	return tally->unexpected > 0 || stale > 0;
}

int
main(int argc, char **argv)
{
	static struct suite_tally tally;
	static char line[1 << 16];
	struct spf_check *sc;
	struct config *cfg;
	char why[512];
	int expected = -1;

	suite_verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
	cfg = config_load_string("relay: { addresses = [ \"192.0.2.25\" ]; };",
	                         "suite", why, sizeof(why));
	if (cfg == NULL ||
	    (sc = spf_check_open(cfg, dns_open(cfg, why, sizeof(why)), why,
	                         sizeof(why))) == NULL) {
		fprintf(stderr, "spf_suite: %s\n", why);
		return 2;
	}
	while (expected < 0 && fgets(line, sizeof(line), stdin) != NULL)
		expected = suite_line(sc, &tally, line);
	spf_check_close(sc);
	config_release(cfg);
	fake_dns_reset();
	return suite_report(&tally, expected);
}
