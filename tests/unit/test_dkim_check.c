/*
 * test_dkim_check - selector delegation and key publication against a
 * fake resolver (fake_dns_dkim.c): every customer-side state for both
 * selectors, CNAME chains and loops, TTLs, warnings, the provider-side
 * states, the signing-selector decision for every combination, the
 * domain summary, and concurrent checks.  Keys are made with
 * keys_generate() in a temporary directory.
 */

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
#include "dkim_check.h"
#include "dns.h"
#include "keys.h"
#include "util.h"

/* The fake's own interface (defined in fake_dns_dkim.c). */
void fake_dns_dkim_add(struct dns *dns, const char *owner, int type,
                       uint32_t ttl, const char *data);
void fake_dns_dkim_fail(struct dns *dns, const char *owner, int rcode,
                        const char *why);
void fake_dns_dkim_bogus(struct dns *dns, const char *owner);
void fake_dns_dkim_negative_ttl(struct dns *dns, uint32_t ttl);
void fake_dns_dkim_diagnose(struct dns *dns, int mode);
void fake_dns_dkim_clear(struct dns *dns);
unsigned long fake_dns_dkim_count(const struct dns *dns, int qtype);

#define SA "prezent-a._domainkey.example.nl"
#define SB "prezent-b._domainkey.example.nl"
#define TA "_dkim-a.prezent.nl"
#define TB "_dkim-b.prezent.nl"
#define TXT DNS_T_TXT
#define CNAME DNS_T_CNAME
#define A DNS_T_A

/* A fake failure of rcode BOGUS is a DNSSEC-bogus answer. */
#define BOGUS (-2)
#define TIMEOUT (-1)
#define SERVFAIL 2

/* Records, failures and the end of a list, all fields given. */
#define R(owner, type, ttl, data)                                              \
	{                                                                      \
		owner, type, ttl, data, 0                                      \
	}
#define FAIL(owner, why, rcode)                                                \
	{                                                                      \
		owner, 0, 0, why, rcode                                        \
	}
#define END                                                                    \
	{                                                                      \
		NULL, 0, 0, NULL, 0                                            \
	}

/* The negative TTL every case's fake answers with. */
#define NEG_TTL 900

/* Keys: a and b are ours, f a foreign one, e our Ed25519 key. */
static char test_dir[64];
static struct keys_key *key_a, *key_b, *key_f, *key_e;
static char rec_pkcs1[2048];   /* key a's record with a PKCS#1 p= */
static char rec_testing[2048]; /* key a's record with t=y */
static char rec_split[2048];   /* key b's record in 4 strings ('|') */
static struct config *cfg, *cfg_ed;
static struct dns *dns;

/* One record or failure in a case's DNS. */
struct fake_rec {
	const char *owner;
	int type; /* 0: a failure of rcode (TIMEOUT, SERVFAIL, BOGUS) */
	uint32_t ttl;
	const char *data; /* failure: why */
	int rcode;
};

/* One customer-side case. */
struct sel_case {
	const char *what;
	const char *domain; /* NULL: example.nl */
	size_t sel;         /* 0: prezent-a, 1: prezent-b */
	struct fake_rec dns[12];
	enum dkim_check_state state;
	enum dkim_check_fix fix;
	int usable;
	unsigned warn;
	uint32_t ttl;
	const char *chain[10]; /* expected chain, NULL-terminated */
	const char *fp;        /* "@FP_A@" etc., NULL: none */
	const char *reason;    /* exact, tokens expanded */
	const char *found;     /* a substring of found */
	long cname_queries;    /* CNAME questions asked; -1: any */
	int diagnose;          /* how the fake reports loops (0, 1, 2) */
};

/* expand - replace the tokens @A@ @B@ @F@ @E@ @P1@ @AT@ @FP_x@ */
static char *
expand(const char *in)
{
	const struct {
		const char *tok;
		const char *val;
	} t[] = {
	    {"@A@", keys_record(key_a)},
	    {"@B@", keys_record(key_b)},
	    {"@F@", keys_record(key_f)},
	    {"@E@", keys_record(key_e)},
	    {"@P1@", rec_pkcs1},
	    {"@AT@", rec_testing},
	    {"@BS@", rec_split},
	    {"@FP_A@", keys_fingerprint(key_a)},
	    {"@FP_B@", keys_fingerprint(key_b)},
	    {"@FP_F@", keys_fingerprint(key_f)},
	    {"@FP_E@", keys_fingerprint(key_e)},
	};
	char *s = xstrdup(in);

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *p;

		while ((p = strstr(s, t[i].tok)) != NULL) {
			char *n = xasprintf("%.*s%s%s", (int) (p - s), s,
			                    t[i].val, p + strlen(t[i].tok));

			free(s);
			s = n;
		}
	}
	return s;
}

/* load_dns - a fresh fake with the given records and failures */
static void
load_dns(const struct fake_rec *recs)
{
	fake_dns_dkim_clear(dns);
	fake_dns_dkim_negative_ttl(dns, NEG_TTL);
	for (const struct fake_rec *r = recs; r->owner != NULL; r++) {
		char *data = expand(r->data);

		if (r->type == 0 && r->rcode == BOGUS)
			fake_dns_dkim_bogus(dns, r->owner);
		else if (r->type == 0)
			fake_dns_dkim_fail(dns, r->owner, r->rcode, data);
		else
			fake_dns_dkim_add(dns, r->owner, r->type, r->ttl, data);
		free(data);
	}
}

/* capture - first line of a shell command's output */
static void
capture(char *out, size_t size, const char *cmd)
{
	FILE *f = popen(cmd, "r");

	assert_non_null(f);
	if (fgets(out, (int) size, f) == NULL)
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	assert_int_equal(pclose(f), 0);
}

/* make_key - keys_generate in the test directory */
static struct keys_key *
make_key(const char *name, enum keys_alg alg)
{
	struct keys_gen gen = {
	    .alg = alg, .bits = 2048, .owner = (uid_t) -1, .group = (gid_t) -1};
	char why[512], *path = xasprintf("%s/%s.pem", test_dir, name);
	struct keys_key *k = keys_generate(path, &gen, why, sizeof(why));

	if (k == NULL)
		fail_msg("keys_generate %s: %s", path, why);
	free(path);
	return k;
}

/* make_config - a configuration with our selectors */
static struct config *
make_config(const char *active, const char *extra)
{
	char why[1024];
	char *text = xasprintf("dkim: { active_selector = \"%s\"; selectors = ("
	                       "{ name = \"prezent-a\"; target = \"" TA
	                       "\"; key = \"%s/a.pem\"; },"
	                       "{ name = \"prezent-b\"; target = \"" TB
	                       "\"; key = \"%s/b.pem\"; }"
	                       "%s ); };",
	                       active, test_dir, test_dir, extra);
	struct config *c =
	    config_load_string(text, "test.conf", why, sizeof(why));

	if (c == NULL)
		fail_msg("config: %s", why);
	free(text);
	return c;
}

/* derived_records - key a's record as PKCS#1 and with t=y */
static void
derived_records(void)
{
	char cmd[512], b64[1600];

	snprintf(cmd, sizeof(cmd),
	         "openssl pkey -in %s/a.pem -pubout -outform DER | "
	         "openssl rsa -pubin -inform DER -RSAPublicKey_out "
	         "-outform DER 2>/dev/null | base64 -w0",
	         test_dir);
	capture(b64, sizeof(b64), cmd);
	assert_true(strlen(b64) > 300);
	snprintf(rec_pkcs1, sizeof(rec_pkcs1), "v=DKIM1; k=rsa; p=%s", b64);
	snprintf(rec_testing, sizeof(rec_testing), "v=DKIM1; t=y; %s",
	         keys_record(key_a) + strlen("v=DKIM1; "));
	/* Split after the tags, inside p=, and (by the fake) at 255. */
	snprintf(rec_split, sizeof(rec_split), "%.16s|%.40s|%s",
	         keys_record(key_b), keys_record(key_b) + 16,
	         keys_record(key_b) + 56);
}

static int
setup(void **state)
{
	char why[128];

	(void) state;
	snprintf(test_dir, sizeof(test_dir), "/tmp/test_dkim_check.XXXXXX");
	if (mkdtemp(test_dir) == NULL)
		return -1;
	key_a = make_key("a", KEYS_ALG_RSA);
	key_b = make_key("b", KEYS_ALG_RSA);
	key_f = make_key("f", KEYS_ALG_RSA);
	key_e = make_key("e", KEYS_ALG_ED25519);
	derived_records();
	cfg = make_config("prezent-a", "");
	cfg_ed = make_config("prezent-e",
	                     ", { name = \"prezent-e\"; target = "
	                     "\"_dkim-e.prezent.nl\"; key = \"/k/e.pem\"; }");
	dns = dns_open(cfg, why, sizeof(why));
	return dns == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void) state;
	dns_close(dns);
	config_release(cfg);
	config_release(cfg_ed);
	keys_free(key_a);
	keys_free(key_b);
	keys_free(key_f);
	keys_free(key_e);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", test_dir);
	return system(cmd);
}

/* our_key - the key of configured selector i */
static const struct keys_key *
our_key(size_t i)
{
	return i == 0 ? key_a : key_b;
}

/* check_chain - the result's chain is exactly want */
static void
check_chain(const struct sel_case *c, const struct dkim_check_result *r)
{
	size_t n = 0;

	while (c->chain[n] != NULL)
		n++;
	if (r->nchain != n)
		fail_msg("%s: chain of %zu links, expected %zu", c->what,
		         r->nchain, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(r->chain[i], c->chain[i]);
}

/* check_texts - reason (exact), found (substring), fingerprint */
static void
check_texts(const struct sel_case *c, const struct dkim_check_result *r)
{
	char *reason = expand(c->reason), *found = expand(c->found);
	char *fp = expand(c->fp != NULL ? c->fp : "");

	if (strcmp(r->reason, reason) != 0)
		fail_msg("%s: reason\n  got:  %s\n  want: %s", c->what,
		         r->reason, reason);
	if (strstr(r->found, found) == NULL)
		fail_msg("%s: found\n  got:  %s\n  want: ...%s...", c->what,
		         r->found, found);
	if (strcmp(r->fingerprint, fp) != 0)
		fail_msg("%s: fingerprint '%s', expected '%s'", c->what,
		         r->fingerprint, fp);
	free(reason);
	free(found);
	free(fp);
}

/* run_sel_case - one row of the customer-side table */
static void
run_sel_case(void **state)
{
	const struct sel_case *c = *state;
	const struct config_selector *sel = &cfg->dkim_selectors[c->sel];
	struct dkim_check_result r;
	int rc;

	load_dns(c->dns);
	fake_dns_dkim_diagnose(dns, c->diagnose);
	rc = dkim_check_selector(dns, c->domain ? c->domain : "example.nl", sel,
	                         our_key(c->sel), 0, &r);
	assert_int_equal(rc, 0);
	if (getenv("TEST_VERBOSE") != NULL)
		printf("  reason:   %s\n  found:    %s\n  expected: %s\n",
		       r.reason, r.found, r.expected);
	if (r.state != c->state)
		fail_msg("%s: state %s, expected %s (%s)", c->what,
		         dkim_check_state_name(r.state),
		         dkim_check_state_name(c->state), r.reason);
	assert_string_equal(dkim_check_fix_name(r.fix),
	                    dkim_check_fix_name(c->fix));
	assert_int_equal(r.usable, c->usable);
	assert_int_equal(r.warn, c->warn);
	assert_int_equal(r.ttl, c->ttl);
	assert_string_equal(r.selector, sel->name);
	assert_string_equal(r.target, sel->target);
	check_chain(c, &r);
	check_texts(c, &r);
	if (c->cname_queries >= 0)
		assert_int_equal(fake_dns_dkim_count(dns, CNAME),
		                 c->cname_queries);
	assert_int_equal(fake_dns_dkim_count(dns, TXT), 1);
}

/* Customer side: every state, both selectors. */
static const struct sel_case sel_cases[] = {
    {.what = "delegated a: CNAME to the target, our key",
     .dns = {R(SA, CNAME, 3600, TA "."), R(TA, TXT, 300, "@A@")},
     .state = DKIM_CHECK_DELEGATED,
     .fix = DKIM_CHECK_FIX_NONE,
     .usable = 1,
     .ttl = 300,
     .chain = {TA},
     .fp = "@FP_A@",
     .reason = "dkim=delegated (" SA " -> " TA ")",
     .found = "CNAME chain " SA " -> " TA "; " TA " has our key @FP_A@",
     .cname_queries = 0},
    {.what = "delegated b: CNAME to the target, our key",
     .sel = 1,
     .dns = {R(SB, CNAME, 120, TB "."), R(TB, TXT, 300, "@B@")},
     .state = DKIM_CHECK_DELEGATED,
     .fix = DKIM_CHECK_FIX_NONE,
     .usable = 1,
     .ttl = 120,
     .chain = {TB},
     .fp = "@FP_B@",
     .reason = "dkim=delegated (" SB " -> " TB ")",
     .found = TB " has our key @FP_B@",
     .cname_queries = 0},
    {.what = "delegated through a name of the customer's (2 links)",
     .dns = {R(SA, CNAME, 3600, "dkim-a.keys.example.nl."),
             R("dkim-a.keys.example.nl", CNAME, 60, TA "."),
             R(TA, TXT, 300, "@A@")},
     .state = DKIM_CHECK_DELEGATED,
     .fix = DKIM_CHECK_FIX_NONE,
     .usable = 1,
     .ttl = 60,
     .chain = {"dkim-a.keys.example.nl", TA},
     .fp = "@FP_A@",
     .reason = "dkim=delegated (" SA " -> dkim-a.keys.example.nl -> " TA ")",
     .found = "has our key",
     .cname_queries = 0},
    {.what = "delegated: target written in capitals",
     .dns = {R(SA, CNAME, 3600, "_DKIM-A.Prezent.NL."), R(TA, TXT, 300, "@A@")},
     .state = DKIM_CHECK_DELEGATED,
     .fix = DKIM_CHECK_FIX_NONE,
     .usable = 1,
     .ttl = 300,
     .chain = {TA},
     .fp = "@FP_A@",
     .reason = "dkim=delegated (" SA " -> " TA ")",
     .found = "our key",
     .cname_queries = 0},
    {.what = "delegated: the provider's target is itself a CNAME",
     .dns = {R(SA, CNAME, 3600, TA "."),
             R(TA, CNAME, 3600, "a.keys.prezent.net."),
             R("a.keys.prezent.net", TXT, 200, "@A@")},
     .state = DKIM_CHECK_DELEGATED,
     .fix = DKIM_CHECK_FIX_NONE,
     .usable = 1,
     .ttl = 200,
     .chain = {TA, "a.keys.prezent.net"},
     .fp = "@FP_A@",
     .reason = "dkim=delegated (" SA " -> " TA " -> a.keys.prezent.net)",
     .found = "a.keys.prezent.net has our key",
     .cname_queries = 0},
    {.what = "delegated, but the target publishes PKCS#1 (warning)",
     .dns = {R(SA, CNAME, 3600, TA "."), R(TA, TXT, 300, "@P1@")},
     .state = DKIM_CHECK_DELEGATED,
     .fix = DKIM_CHECK_FIX_PROVIDER,
     .usable = 1,
     .warn = DKIM_CHECK_WARN_PKCS1,
     .ttl = 300,
     .chain = {TA},
     .fp = "@FP_A@",
     .reason = "dkim=delegated (" SA " -> " TA ")",
     .found = "warning: p= is a bare PKCS#1 RSAPublicKey",
     .cname_queries = 0},
    {.what = "delegated, but the target has t=y (warning)",
     .dns = {R(SA, CNAME, 3600, TA "."), R(TA, TXT, 300, "@AT@")},
     .state = DKIM_CHECK_DELEGATED,
     .fix = DKIM_CHECK_FIX_PROVIDER,
     .usable = 1,
     .warn = DKIM_CHECK_WARN_TESTING,
     .ttl = 300,
     .chain = {TA},
     .fp = "@FP_A@",
     .reason = "dkim=delegated (" SA " -> " TA ")",
     .found = "warning: t=y (testing)",
     .cname_queries = 0},
    {.what = "delegated: an IDN domain in U-labels",
     .domain = "b\xc3\xbc"
               "cher.example",
     .dns = {R("prezent-a._domainkey.xn--bcher-kva.example", CNAME, 3600,
               TA "."),
             R(TA, TXT, 300, "@A@")},
     .state = DKIM_CHECK_DELEGATED,
     .fix = DKIM_CHECK_FIX_NONE,
     .usable = 1,
     .ttl = 300,
     .chain = {TA},
     .fp = "@FP_A@",
     .reason = "dkim=delegated (prezent-a._domainkey.xn--bcher-kva.example"
               " -> " TA ")",
     .found = "our key",
     .cname_queries = 0},
    {.what = "delegated: domain in capitals with a final dot",
     .domain = "Example.NL.",
     .dns = {R(SA, CNAME, 3600, TA "."), R(TA, TXT, 300, "@A@")},
     .state = DKIM_CHECK_DELEGATED,
     .fix = DKIM_CHECK_FIX_NONE,
     .usable = 1,
     .ttl = 300,
     .chain = {TA},
     .fp = "@FP_A@",
     .reason = "dkim=delegated (" SA " -> " TA ")",
     .found = "our key",
     .cname_queries = 0},
    {.what = "delegated_target_missing: target NXDOMAIN (provider)",
     .dns = {R(SA, CNAME, 3600, TA ".")},
     .state = DKIM_CHECK_TARGET_MISSING,
     .fix = DKIM_CHECK_FIX_PROVIDER,
     .ttl = NEG_TTL,
     .chain = {TA},
     .reason = "dkim=delegated_target_missing (" TA ": NXDOMAIN)",
     .found = "CNAME chain " SA " -> " TA "; " TA " does not exist (NXDOMAIN)",
     .cname_queries = 0},
    {.what = "delegated_target_missing b: target NODATA",
     .sel = 1,
     .dns = {R(SB, CNAME, 600, TB "."), R(TB, A, 300, "x")},
     .state = DKIM_CHECK_TARGET_MISSING,
     .fix = DKIM_CHECK_FIX_PROVIDER,
     .ttl = 600,
     .chain = {TB},
     .reason = "dkim=delegated_target_missing (" TB ": NODATA)",
     .found = TB " has no TXT record (NODATA)",
     .cname_queries = 0},
    {.what = "copied a: TXT with our key, no CNAME (warning)",
     .dns = {R(SA, TXT, 3600, "@A@")},
     .state = DKIM_CHECK_COPIED,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .usable = 1,
     .ttl = 3600,
     .fp = "@FP_A@",
     .reason = "dkim=copied (" SA ": a copy of the key, not a CNAME to " TA ")",
     .found = "no CNAME; " SA " has our key @FP_A@",
     .cname_queries = 0},
    {.what = "copied b: the key in several character-strings",
     .sel = 1,
     .dns = {R(SB, TXT, 60, "@BS@")},
     .state = DKIM_CHECK_COPIED,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .usable = 1,
     .ttl = 60,
     .fp = "@FP_B@",
     .reason = "dkim=copied (" SB ": a copy of the key, not a CNAME to " TB ")",
     .found = "our key @FP_B@",
     .cname_queries = 0},
    {.what = "copied a: PKCS#1 copy (warning)",
     .dns = {R(SA, TXT, 3600, "@P1@")},
     .state = DKIM_CHECK_COPIED,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .usable = 1,
     .warn = DKIM_CHECK_WARN_PKCS1,
     .ttl = 3600,
     .fp = "@FP_A@",
     .reason = "dkim=copied (" SA ": a copy of the key, not a CNAME to " TA ")",
     .found = "bare PKCS#1",
     .cname_queries = 0},
    {.what = "wrong_target a: CNAME to selector b's target",
     .dns = {R(SA, CNAME, 3600, TB "."), R(TB, TXT, 300, "@B@")},
     .state = DKIM_CHECK_WRONG_TARGET,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = 300,
     .chain = {TB},
     .fp = "@FP_B@",
     .reason = "dkim=wrong_target (" SA " -> " TB ", not " TA ")",
     .found = TB " has a key that is not ours: p= holds another RSA key "
                 "(2048 bits, @FP_B@)",
     .cname_queries = 0},
    {.what = "wrong_target b: CNAME elsewhere, holding our key",
     .sel = 1,
     .dns = {R(SB, CNAME, 3600, "dkim.oldhost.example.nl."),
             R("dkim.oldhost.example.nl", TXT, 300, "@B@")},
     .state = DKIM_CHECK_WRONG_TARGET,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .usable = 1,
     .ttl = 300,
     .chain = {"dkim.oldhost.example.nl"},
     .fp = "@FP_B@",
     .reason =
         "dkim=wrong_target (" SB " -> dkim.oldhost.example.nl, not " TB ")",
     .found = "our key @FP_B@ (verifies until the next key rotation)",
     .cname_queries = 0},
    {.what = "wrong_target a: CNAME elsewhere, revoked there",
     .dns = {R(SA, CNAME, 3600, "old.example.nl."),
             R("old.example.nl", TXT, 300, "v=DKIM1; p=")},
     .state = DKIM_CHECK_WRONG_TARGET,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = 300,
     .chain = {"old.example.nl"},
     .reason = "dkim=wrong_target (" SA " -> old.example.nl, not " TA ")",
     .found = "old.example.nl has a revoked key (empty p=)",
     .cname_queries = 0},
    {.what = "key_mismatch a: TXT with a foreign key (customer)",
     .dns = {R(SA, TXT, 3600, "@F@")},
     .state = DKIM_CHECK_KEY_MISMATCH,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = 3600,
     .fp = "@FP_F@",
     .reason = "dkim=key_mismatch (" SA ": @FP_F@)",
     .found = "no CNAME; " SA " has a key that is not ours",
     .cname_queries = 0},
    {.what = "key_mismatch b: TXT with selector a's key",
     .sel = 1,
     .dns = {R(SB, TXT, 3600, "@A@")},
     .state = DKIM_CHECK_KEY_MISMATCH,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = 3600,
     .fp = "@FP_A@",
     .reason = "dkim=key_mismatch (" SB ": @FP_A@)",
     .found = "@FP_A@",
     .cname_queries = 0},
    {.what = "key_mismatch a: the target has another key (provider)",
     .dns = {R(SA, CNAME, 3600, TA "."), R(TA, TXT, 300, "@F@")},
     .state = DKIM_CHECK_KEY_MISMATCH,
     .fix = DKIM_CHECK_FIX_PROVIDER,
     .ttl = 300,
     .chain = {TA},
     .fp = "@FP_F@",
     .reason = "dkim=key_mismatch (" TA ": @FP_F@)",
     .found = TA " has a key that is not ours",
     .cname_queries = 0},
    {.what = "key_mismatch a: an Ed25519 key where ours is RSA",
     .dns = {R(SA, TXT, 3600, "@E@")},
     .state = DKIM_CHECK_KEY_MISMATCH,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = 3600,
     .reason = "dkim=key_mismatch (" SA ")",
     .found = "p= holds an Ed25519 key; ours is RSA",
     .cname_queries = 0},
    {.what = "missing a: NXDOMAIN",
     .dns = {R("example.nl", TXT, 300, "v=spf1 -all")},
     .state = DKIM_CHECK_MISSING,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = NEG_TTL,
     .reason = "dkim=missing (" SA ")",
     .found = SA " does not exist (NXDOMAIN)",
     .cname_queries = 0},
    {.what = "missing b: NODATA (a record of another type)",
     .sel = 1,
     .dns = {R(SB, A, 300, "x")},
     .state = DKIM_CHECK_MISSING,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = NEG_TTL,
     .reason = "dkim=missing (" SB ")",
     .found = SB " has no TXT record (NODATA)",
     .cname_queries = 0},
    {.what = "missing a: NODATA (empty non-terminal)",
     .dns = {R("x." SA, TXT, 300, "v=DKIM1; p=")},
     .state = DKIM_CHECK_MISSING,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = NEG_TTL,
     .reason = "dkim=missing (" SA ")",
     .found = "NODATA",
     .cname_queries = 0},
    {.what = "dangling a: CNAME to a name that does not exist",
     .dns = {R(SA, CNAME, 60, "_dkim-x.prezent.nl.")},
     .state = DKIM_CHECK_DANGLING,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = 60,
     .chain = {"_dkim-x.prezent.nl"},
     .reason = "dkim=dangling (" SA " -> _dkim-x.prezent.nl: NXDOMAIN)",
     .found = "_dkim-x.prezent.nl does not exist (NXDOMAIN)",
     .cname_queries = 0},
    {.what = "dangling b: CNAME to a name without TXT (NODATA)",
     .sel = 1,
     .dns = {R(SB, CNAME, 3600, "prezent.nl."), R("prezent.nl", A, 300, "x")},
     .state = DKIM_CHECK_DANGLING,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = NEG_TTL,
     .chain = {"prezent.nl"},
     .reason = "dkim=dangling (" SB " -> prezent.nl: NODATA)",
     .found = "prezent.nl has no TXT record (NODATA)",
     .cname_queries = 0},
    {.what = "dangling a: two links, then NXDOMAIN",
     .dns = {R(SA, CNAME, 3600, "k.example.nl."),
             R("k.example.nl", CNAME, 3600, "gone.example.org.")},
     .state = DKIM_CHECK_DANGLING,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = NEG_TTL,
     .chain = {"k.example.nl", "gone.example.org"},
     .reason =
         "dkim=dangling (" SA " -> k.example.nl -> gone.example.org: NXDOMAIN)",
     .found = "CNAME chain " SA " -> k.example.nl -> gone.example.org",
     .cname_queries = 0},
    {.what = "cname_loop a: the two selectors point at each other",
     .dns = {R(SA, CNAME, 600, SB "."), R(SB, CNAME, 500, SA ".")},
     .state = DKIM_CHECK_CNAME_LOOP,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = 500,
     .chain = {SB, SA},
     .reason = "dkim=cname_loop (" SA " -> " SB " -> " SA ")",
     .found = "CNAME loop: " SA " -> " SB " -> " SA,
     .cname_queries = 2},
    {.what = "cname_loop b: the two selectors point at each other",
     .sel = 1,
     .dns = {R(SA, CNAME, 600, SB "."), R(SB, CNAME, 500, SA ".")},
     .state = DKIM_CHECK_CNAME_LOOP,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = 500,
     .chain = {SA, SB},
     .reason = "dkim=cname_loop (" SB " -> " SA " -> " SB ")",
     .found = "CNAME loop",
     .cname_queries = 2},
    {.what = "cname_loop b: a loop the dns module diagnosed",
     .sel = 1,
     .dns = {R(SA, CNAME, 600, SB "."), R(SB, CNAME, 500, SA ".")},
     .state = DKIM_CHECK_CNAME_LOOP,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = 0,
     .chain = {SA, SB},
     .reason = "dkim=cname_loop (" SB " -> " SA " -> " SB ")",
     .found = "CNAME loop: " SB " -> " SA " -> " SB,
     .cname_queries = 0,
     .diagnose = 1},
    {.what = "cname_loop b: SERVFAIL with part of the chain (cached)",
     .sel = 1,
     .dns = {R(SA, CNAME, 600, SB "."), R(SB, CNAME, 500, SA ".")},
     .state = DKIM_CHECK_CNAME_LOOP,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = 500,
     .chain = {SA, SB},
     .reason = "dkim=cname_loop (" SB " -> " SA " -> " SB ")",
     .found = "CNAME loop: " SB " -> " SA " -> " SB,
     .cname_queries = 2,
     .diagnose = 2},
    {.what = "cname_loop a: a CNAME to itself",
     .dns = {R(SA, CNAME, 600, SA ".")},
     .state = DKIM_CHECK_CNAME_LOOP,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = 600,
     .chain = {SA},
     .reason = "dkim=cname_loop (" SA " -> " SA ")",
     .found = "CNAME loop",
     .cname_queries = 1},
    {.what = "cname_loop a: a loop behind the target (provider)",
     .dns = {R(SA, CNAME, 600, TA "."), R(TA, CNAME, 600, "k.prezent.nl."),
             R("k.prezent.nl", CNAME, 600, TA ".")},
     .state = DKIM_CHECK_CNAME_LOOP,
     .fix = DKIM_CHECK_FIX_PROVIDER,
     .ttl = 600,
     .chain = {TA, "k.prezent.nl", TA},
     .reason = "dkim=cname_loop (" SA " -> " TA " -> k.prezent.nl -> " TA ")",
     .found = "CNAME loop",
     .cname_queries = 3},
    {.what = "cname_loop a: a chain of 10 links (more than 8)",
     .dns = {R(SA, CNAME, 600, "l1.example.nl."),
             R("l1.example.nl", CNAME, 600, "l2.example.nl."),
             R("l2.example.nl", CNAME, 600, "l3.example.nl."),
             R("l3.example.nl", CNAME, 600, "l4.example.nl."),
             R("l4.example.nl", CNAME, 600, "l5.example.nl."),
             R("l5.example.nl", CNAME, 600, "l6.example.nl."),
             R("l6.example.nl", CNAME, 600, "l7.example.nl."),
             R("l7.example.nl", CNAME, 600, "l8.example.nl."),
             R("l8.example.nl", CNAME, 600, "l9.example.nl."),
             R("l9.example.nl", CNAME, 60, "l10.example.nl."),
             R("l10.example.nl", TXT, 60, "@A@")},
     .state = DKIM_CHECK_CNAME_LOOP,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = 60,
     .chain = {"l1.example.nl", "l2.example.nl", "l3.example.nl",
               "l4.example.nl", "l5.example.nl", "l6.example.nl",
               "l7.example.nl", "l8.example.nl"},
     .reason = "dkim=cname_loop (" SA " -> l1.example.nl -> l2.example.nl "
               "-> l3.example.nl -> l4.example.nl -> l5.example.nl -> "
               "l6.example.nl -> l7.example.nl -> l8.example.nl)",
     .found = "CNAME chain without end: " SA " -> l1.example.nl",
     .cname_queries = 0},
    {.what = "revoked a: empty p= at the selector name (customer)",
     .dns = {R(SA, TXT, 3600, "v=DKIM1; p=")},
     .state = DKIM_CHECK_REVOKED,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = 3600,
     .reason = "dkim=revoked (" SA ")",
     .found = "a revoked key (empty p=)",
     .cname_queries = 0},
    {.what = "revoked b: empty p= at the target (provider)",
     .sel = 1,
     .dns = {R(SB, CNAME, 3600, TB "."),
             R(TB, TXT, 3600, "v=DKIM1; k=rsa; p=")},
     .state = DKIM_CHECK_REVOKED,
     .fix = DKIM_CHECK_FIX_PROVIDER,
     .ttl = 3600,
     .chain = {TB},
     .reason = "dkim=revoked (" TB ")",
     .found = TB " has a revoked key",
     .cname_queries = 0},
    {.what = "malformed a: bad base64",
     .dns = {R(SA, TXT, 3600, "v=DKIM1; k=rsa; p=MIIB!!!!")},
     .state = DKIM_CHECK_MALFORMED,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = 3600,
     .reason = "dkim=malformed (" SA ": p=: invalid base64 character '!')",
     .found = "no usable key record: p=: invalid base64",
     .cname_queries = 0},
    {.what = "malformed b: no p= tag",
     .sel = 1,
     .dns = {R(SB, TXT, 3600, "v=DKIM1; k=rsa")},
     .state = DKIM_CHECK_MALFORMED,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = 3600,
     .reason = "dkim=malformed (" SB ": no p= tag (the public key))",
     .found = "no p= tag",
     .cname_queries = 0},
    {.what = "malformed a: p= decodes, but is no key",
     .dns = {R(SA, TXT, 3600, "v=DKIM1; p=AAAA")},
     .state = DKIM_CHECK_MALFORMED,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = 3600,
     .reason = "dkim=malformed (" SA ": p= (3 bytes) is neither a "
               "SubjectPublicKeyInfo nor a PKCS#1 RSAPublicKey)",
     .found = "p= (3 bytes)",
     .cname_queries = 0},
    {.what = "malformed a: two TXT records (ours and a foreign one)",
     .dns = {R(SA, TXT, 3600, "@A@"), R(SA, TXT, 3600, "@F@")},
     .state = DKIM_CHECK_MALFORMED,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = 3600,
     .reason =
         "dkim=malformed (" SA ": 2 TXT records; receivers need exactly one)",
     .found = "2 TXT records",
     .cname_queries = 0},
    {.what = "malformed b: two TXT records, both our key",
     .sel = 1,
     .dns = {R(SB, TXT, 3600, "@B@"), R(SB, TXT, 3600, "@B@| ")},
     .state = DKIM_CHECK_MALFORMED,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = 3600,
     .reason =
         "dkim=malformed (" SB ": 2 TXT records; receivers need exactly one)",
     .found = "2 TXT records",
     .cname_queries = 0},
    {.what = "malformed a: two TXT records at the target (provider)",
     .dns = {R(SA, CNAME, 3600, TA "."), R(TA, TXT, 300, "@A@"),
             R(TA, TXT, 300, "@B@")},
     .state = DKIM_CHECK_MALFORMED,
     .fix = DKIM_CHECK_FIX_PROVIDER,
     .ttl = 300,
     .chain = {TA},
     .reason =
         "dkim=malformed (" TA ": 2 TXT records; receivers need exactly one)",
     .found = TA " has no usable key record",
     .cname_queries = 0},
    {.what = "malformed a: TXT RDATA that is not text",
     .dns = {R(SA, TXT, 3600, "\\bad")},
     .state = DKIM_CHECK_MALFORMED,
     .fix = DKIM_CHECK_FIX_CUSTOMER,
     .ttl = 3600,
     .reason = "dkim=malformed (" SA
               ": the TXT record is not text of at most 4095 bytes)",
     .found = "not text",
     .cname_queries = 0},
    {.what = "temperror a: timeout (no second question)",
     .dns = {FAIL(SA, "timeout after 2000 ms", TIMEOUT)},
     .state = DKIM_CHECK_TEMPERROR,
     .fix = DKIM_CHECK_FIX_RETRY,
     .ttl = 0,
     .reason = "dkim=temperror (" SA ": timeout after 2000 ms)",
     .found = "DNS failure: timeout after 2000 ms",
     .cname_queries = 0},
    {.what = "temperror b: CNAME into a zone that times out",
     .sel = 1,
     .dns = {R(SB, CNAME, 3600, "prezent-b.slow.test."),
             FAIL("prezent-b.slow.test", "timeout after 2000 ms", TIMEOUT)},
     .state = DKIM_CHECK_TEMPERROR,
     .fix = DKIM_CHECK_FIX_RETRY,
     .ttl = 0,
     .reason = "dkim=temperror (" SB ": timeout after 2000 ms)",
     .found = "DNS failure",
     .cname_queries = 0},
    {.what = "temperror a: SERVFAIL, not a loop (one CNAME question)",
     .dns = {FAIL(SA, "SERVFAIL", SERVFAIL)},
     .state = DKIM_CHECK_TEMPERROR,
     .fix = DKIM_CHECK_FIX_RETRY,
     .ttl = 0,
     .reason = "dkim=temperror (" SA ": SERVFAIL)",
     .found = "DNS failure: SERVFAIL",
     .cname_queries = 1},
    {.what = "temperror a: SERVFAIL at the end of a chain",
     .dns = {R(SA, CNAME, 3600, "k.broken.example."),
             FAIL("k.broken.example", "SERVFAIL", SERVFAIL)},
     .state = DKIM_CHECK_TEMPERROR,
     .fix = DKIM_CHECK_FIX_RETRY,
     .ttl = 0,
     .chain = {"k.broken.example"},
     .reason = "dkim=temperror (" SA ": SERVFAIL)",
     .found = "CNAME chain " SA " -> k.broken.example, then DNS failure: "
              "SERVFAIL",
     .cname_queries = 2},
    {.what = "temperror a: bogus answer (not walked as a loop)",
     .dns = {FAIL(SA, "", BOGUS)},
     .state = DKIM_CHECK_TEMPERROR,
     .fix = DKIM_CHECK_FIX_RETRY,
     .ttl = 0,
     .reason = "dkim=temperror (" SA ": DNSSEC validation failed (bogus))",
     .found = "bogus",
     .cname_queries = 0},
};

#define N_SEL_CASES (sizeof(sel_cases) / sizeof(sel_cases[0]))

/* test_invalid_domain - refused, reported as missing with the reason */
static void
test_invalid_domain(void **state)
{
	struct dkim_check_result r;

	(void) state;
	load_dns((const struct fake_rec[]){END});
	assert_int_equal(dkim_check_selector(dns, "exa mple.nl",
	                                     &cfg->dkim_selectors[0], key_a, 0,
	                                     &r),
	                 -1);
	assert_int_equal(r.state, DKIM_CHECK_MISSING);
	assert_non_null(strstr(r.reason, "invalid name"));
	assert_int_equal(fake_dns_dkim_count(dns, 0), 0);
	assert_int_equal(
	    dkim_check_selector(dns, "", &cfg->dkim_selectors[0], key_a, 0, &r),
	    -1);
}

/* test_names - every enum value has its code */
static void
test_names(void **state)
{
	(void) state;
	assert_string_equal(dkim_check_state_name(DKIM_CHECK_TARGET_MISSING),
	                    "delegated_target_missing");
	assert_string_equal(dkim_check_state_name(DKIM_CHECK_TEMPERROR),
	                    "temperror");
	for (int s = DKIM_CHECK_DELEGATED; s <= DKIM_CHECK_TEMPERROR; s++)
		assert_non_null(dkim_check_state_name(s));
	for (int s = DKIM_CHECK_PUB_PUBLISHED; s <= DKIM_CHECK_PUB_TEMPERROR;
	     s++)
		assert_non_null(dkim_check_pub_state_name(s));
	for (int s = DKIM_CHECK_SIGN_ACTIVE; s <= DKIM_CHECK_SIGN_NONE; s++)
		assert_non_null(dkim_check_sign_name(s));
	for (int s = DKIM_CHECK_OK; s <= DKIM_CHECK_TEMPORARY; s++)
		assert_non_null(dkim_check_overall_name(s));
	for (int s = DKIM_CHECK_FIX_NONE; s <= DKIM_CHECK_FIX_RETRY; s++)
		assert_non_null(dkim_check_fix_name(s));
}

/* fake_result - a customer-side result with only what summaries read */
static void
fake_result(struct dkim_check_result *r, const char *sel,
            enum dkim_check_state state, uint32_t ttl)
{
	memset(r, 0, sizeof(*r));
	r->state = state;
	r->ttl = ttl;
	r->usable = state == DKIM_CHECK_DELEGATED || state == DKIM_CHECK_COPIED;
	util_strlcpy(r->selector, sel, sizeof(r->selector));
}

/* One summary case: the states of a and b, the signing selector. */
struct sum_case {
	enum dkim_check_state a, b;
	const char *signing;
	enum dkim_check_overall overall;
	int ready, usable, temporary;
	const char *reason;
};

/* The summaries of some combinations. */
static const struct sum_case sum_cases[] = {
    {DKIM_CHECK_DELEGATED, DKIM_CHECK_DELEGATED, NULL, DKIM_CHECK_OK, 1, 1, 0,
     "dkim=ok (prezent-a delegated, prezent-b delegated; signing "
     "with prezent-a)"},
    {DKIM_CHECK_DELEGATED, DKIM_CHECK_MISSING, NULL, DKIM_CHECK_WARN, 0, 1, 0,
     "dkim=warn (prezent-a delegated, prezent-b missing; signing "
     "with prezent-a)"},
    {DKIM_CHECK_COPIED, DKIM_CHECK_COPIED, NULL, DKIM_CHECK_WARN, 0, 1, 0,
     NULL},
    {DKIM_CHECK_MISSING, DKIM_CHECK_DELEGATED, NULL, DKIM_CHECK_FAIL, 0, 0, 0,
     "dkim=fail (prezent-a missing, prezent-b delegated; signing "
     "with prezent-a)"},
    {DKIM_CHECK_MISSING, DKIM_CHECK_DELEGATED, "prezent-b", DKIM_CHECK_WARN, 0,
     1, 0,
     "dkim=warn (prezent-a missing, prezent-b delegated; signing "
     "with prezent-b)"},
    {DKIM_CHECK_TEMPERROR, DKIM_CHECK_DELEGATED, NULL, DKIM_CHECK_TEMPORARY, 0,
     0, 1, NULL},
    {DKIM_CHECK_DELEGATED, DKIM_CHECK_TEMPERROR, NULL, DKIM_CHECK_WARN, 0, 1, 1,
     NULL},
    {DKIM_CHECK_TARGET_MISSING, DKIM_CHECK_DELEGATED, NULL, DKIM_CHECK_FAIL, 0,
     0, 0, NULL},
    {DKIM_CHECK_DELEGATED, DKIM_CHECK_DELEGATED, "no-such", DKIM_CHECK_OK, 1, 1,
     0, NULL},
};

/* test_summary - the domain's combined state */
static void
test_summary(void **state)
{
	struct dkim_check_result res[2];
	struct dkim_check_summary d;

	(void) state;
	for (size_t i = 0; i < sizeof(sum_cases) / sizeof(sum_cases[0]); i++) {
		const struct sum_case *c = &sum_cases[i];

		fake_result(&res[0], "prezent-a", c->a, 600);
		fake_result(&res[1], "prezent-b", c->b, 300);
		dkim_check_summarize(cfg, res, c->signing, &d);
		if (d.overall != c->overall)
			fail_msg("summary %zu: %s, expected %s (%s)", i,
			         dkim_check_overall_name(d.overall),
			         dkim_check_overall_name(c->overall), d.reason);
		assert_int_equal(d.rotation_ready, c->ready);
		assert_int_equal(d.signing_usable, c->usable);
		assert_int_equal(d.temporary, c->temporary);
		assert_int_equal(d.nselectors, 2);
		assert_int_equal(d.ttl, 300);
		if (c->reason != NULL)
			assert_string_equal(d.reason, c->reason);
	}
}

/* test_domain - both selectors through dkim_check_domain() */
static void
test_domain(void **state)
{
	const struct keys_key *keys[] = {key_a, key_b};
	struct dkim_check_result res[2];
	struct dkim_check_summary d;

	(void) state;
	load_dns((const struct fake_rec[]){
	    R(SA, CNAME, 3600, TA "."), R(TA, TXT, 300, "@A@"),
	    R(SB, CNAME, 3600, TB "."), R(TB, TXT, 200, "@B@"), END});
	assert_int_equal(
	    dkim_check_domain(dns, cfg, keys, "example.nl", 0, res, &d), 0);
	assert_int_equal(d.overall, DKIM_CHECK_OK);
	assert_int_equal(d.ndelegated, 2);
	assert_int_equal(d.ttl, 200);
	assert_int_equal(res[1].state, DKIM_CHECK_DELEGATED);
	assert_string_equal(res[0].expected, SA " CNAME " TA ".");
	assert_string_equal(res[1].expected, SB " CNAME " TB ".");
	assert_int_equal(
	    dkim_check_domain(dns, cfg, keys, "bad..nl", 0, res, &d), -1);
	assert_int_equal(d.overall, DKIM_CHECK_FAIL);
}

/* The shared state of the concurrency test. */
struct worker {
	size_t sel;
	int rounds;
	int wrong;
};

/* worker_run - check one selector many times */
static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct dkim_check_result r;

	for (int i = 0; i < w->rounds; i++) {
		dkim_check_selector(dns, "example.nl",
		                    &cfg->dkim_selectors[w->sel],
		                    our_key(w->sel), 0, &r);
		if (r.state != DKIM_CHECK_DELEGATED || r.nchain != 1 ||
		    strcmp(r.chain[0], w->sel == 0 ? TA : TB) != 0)
			w->wrong++;
	}
	return NULL;
}

/* test_concurrent - both selectors checked at once, many times */
static void
test_concurrent(void **state)
{
	struct worker w[4] = {
	    {0, 200, 0}, {1, 200, 0}, {0, 200, 0}, {1, 200, 0}};
	pthread_t t[4];

	(void) state;
	load_dns((const struct fake_rec[]){
	    R(SA, CNAME, 3600, TA "."), R(TA, TXT, 300, "@A@"),
	    R(SB, CNAME, 3600, TB "."), R(TB, TXT, 300, "@B@"), END});
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]),
		                 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].wrong, 0);
	}
	assert_int_equal(fake_dns_dkim_count(dns, TXT), 800);
}

/* One provider-side case. */
struct pub_case {
	const char *what;
	struct config **cfgp;
	size_t sel;
	struct fake_rec dns[4];
	enum dkim_check_pub_state state;
	unsigned warn;
	uint32_t ttl;
	const char *fp;
	const char *reason;
	const char *found;
};

static const struct pub_case pub_cases[] = {
    {"published a",
     &cfg,
     0,
     {R(TA, TXT, 300, "@A@")},
     DKIM_CHECK_PUB_PUBLISHED,
     0,
     300,
     "@FP_A@",
     "dkim_key=published (" TA ")",
     "our key @FP_A@"},
    {"published b",
     &cfg,
     1,
     {R(TB, TXT, 30, "@B@")},
     DKIM_CHECK_PUB_PUBLISHED,
     0,
     30,
     "@FP_B@",
     "dkim_key=published (" TB ")",
     "our key @FP_B@"},
    {"published a behind the provider's own CNAME",
     &cfg,
     0,
     {R(TA, CNAME, 600, "k.prezent.net."), R("k.prezent.net", TXT, 400, "@A@")},
     DKIM_CHECK_PUB_PUBLISHED,
     0,
     400,
     "@FP_A@",
     "dkim_key=published (" TA ")",
     "our key"},
    {"published a as PKCS#1 (warning)",
     &cfg,
     0,
     {R(TA, TXT, 300, "@P1@")},
     DKIM_CHECK_PUB_PUBLISHED,
     DKIM_CHECK_WARN_PKCS1,
     300,
     "@FP_A@",
     "dkim_key=published (" TA ")",
     "bare PKCS#1"},
    {"not published a: NXDOMAIN",
     &cfg,
     0,
     {R("prezent.nl", A, 300, "x")},
     DKIM_CHECK_PUB_NOT_PUBLISHED,
     0,
     NEG_TTL,
     NULL,
     "dkim_key=not_published (" TA ": NXDOMAIN)",
     TA " does not exist (NXDOMAIN)"},
    {"not published b: NODATA",
     &cfg,
     1,
     {R(TB, A, 300, "x")},
     DKIM_CHECK_PUB_NOT_PUBLISHED,
     0,
     NEG_TTL,
     NULL,
     "dkim_key=not_published (" TB ": NODATA)",
     "NODATA"},
    {"not published a: revoked",
     &cfg,
     0,
     {R(TA, TXT, 300, "v=DKIM1; p=")},
     DKIM_CHECK_PUB_NOT_PUBLISHED,
     0,
     300,
     NULL,
     "dkim_key=not_published (" TA ": revoked (empty p=))",
     "a revoked key"},
    {"other key a: selector b's key",
     &cfg,
     0,
     {R(TA, TXT, 300, "@B@")},
     DKIM_CHECK_PUB_OTHER_KEY,
     0,
     300,
     "@FP_B@",
     "dkim_key=other_key (" TA ": @FP_B@)",
     "a key that is not ours"},
    {"other key b: a foreign key",
     &cfg,
     1,
     {R(TB, TXT, 300, "@F@")},
     DKIM_CHECK_PUB_OTHER_KEY,
     0,
     300,
     "@FP_F@",
     "dkim_key=other_key (" TB ": @FP_F@)",
     "@FP_F@"},
    {"malformed a: bad base64",
     &cfg,
     0,
     {R(TA, TXT, 300, "v=DKIM1; p=!")},
     DKIM_CHECK_PUB_MALFORMED,
     0,
     300,
     NULL,
     "dkim_key=malformed (" TA ": p=: invalid base64 character '!')",
     "no usable key record"},
    {"malformed b: two records",
     &cfg,
     1,
     {R(TB, TXT, 300, "@B@"), R(TB, TXT, 300, "@A@")},
     DKIM_CHECK_PUB_MALFORMED,
     0,
     300,
     NULL,
     "dkim_key=malformed (" TB ": 2 TXT records; receivers need exactly one)",
     "2 TXT records"},
    {"temperror a: timeout",
     &cfg,
     0,
     {FAIL(TA, "timeout after 2000 ms", TIMEOUT)},
     DKIM_CHECK_PUB_TEMPERROR,
     0,
     0,
     NULL,
     "dkim_key=temperror (" TA ": timeout after 2000 ms)",
     "DNS failure: timeout after 2000 ms"},
    {"temperror b: SERVFAIL",
     &cfg,
     1,
     {FAIL(TB, "SERVFAIL", SERVFAIL)},
     DKIM_CHECK_PUB_TEMPERROR,
     0,
     0,
     NULL,
     "dkim_key=temperror (" TB ": SERVFAIL)",
     "SERVFAIL"},
    {"published e: raw Ed25519 key",
     &cfg_ed,
     2,
     {R("_dkim-e.prezent.nl", TXT, 300, "@E@")},
     DKIM_CHECK_PUB_PUBLISHED,
     0,
     300,
     "@FP_E@",
     "dkim_key=published (_dkim-e.prezent.nl)",
     "our key @FP_E@"},
    {"malformed e: Ed25519 as SubjectPublicKeyInfo",
     &cfg_ed,
     2,
     {R("_dkim-e.prezent.nl", TXT, 300,
        "v=DKIM1; k=ed25519; p=MCowBQYDK2VwAyEA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")},
     DKIM_CHECK_PUB_MALFORMED,
     0,
     300,
     NULL,
     "dkim_key=malformed (_dkim-e.prezent.nl: p= has 44 bytes; an "
     "Ed25519 key has 32)",
     "44 bytes"},
    {"other key e: an RSA key at an Ed25519 selector",
     &cfg_ed,
     2,
     {R("_dkim-e.prezent.nl", TXT, 300, "@A@")},
     DKIM_CHECK_PUB_OTHER_KEY,
     0,
     300,
     NULL,
     "dkim_key=other_key (_dkim-e.prezent.nl)",
     "p= holds an RSA key; ours is Ed25519"},
};

#define N_PUB_CASES (sizeof(pub_cases) / sizeof(pub_cases[0]))

/* pub_key - our key of selector i of a case's configuration */
static const struct keys_key *
pub_key(const struct pub_case *c)
{
	return c->sel == 2 ? key_e : our_key(c->sel);
}

/* run_pub_case - one row of the provider-side table */
static void
run_pub_case(void **state)
{
	const struct pub_case *c = *state;
	const struct config *conf = *c->cfgp;
	struct dkim_check_published p;
	char *reason, *fp, *found;

	load_dns(c->dns);
	dkim_check_provider(dns, &conf->dkim_selectors[c->sel], pub_key(c), 0,
	                    &p);
	if (getenv("TEST_VERBOSE") != NULL)
		printf("  reason: %s\n  found:  %s\n", p.reason, p.found);
	reason = expand(c->reason);
	fp = expand(c->fp != NULL ? c->fp : "");
	found = expand(c->found);
	if (p.state != c->state || strcmp(p.reason, reason) != 0)
		fail_msg("%s: %s\n  got:  %s\n  want: %s", c->what,
		         dkim_check_pub_state_name(p.state), p.reason, reason);
	assert_int_equal(p.warn, c->warn);
	assert_int_equal(p.ttl, c->ttl);
	assert_string_equal(p.fingerprint, fp);
	if (strstr(p.found, found) == NULL)
		fail_msg("%s: found '%s' lacks '%s'", c->what, p.found, found);
	assert_string_equal(p.selector, conf->dkim_selectors[c->sel].name);
	free(reason);
	free(fp);
	free(found);
}

/* fake_pub - a provider-side state with only what the decision reads */
static void
fake_pub(struct dkim_check_published *p, const char *sel,
         enum dkim_check_pub_state state)
{
	memset(p, 0, sizeof(*p));
	p->state = state;
	util_strlcpy(p->selector, sel, sizeof(p->selector));
	snprintf(p->target, sizeof(p->target), "_dkim-%s.prezent.nl",
	         sel + strlen(sel) - 1);
	snprintf(p->reason, sizeof(p->reason), "dkim_key=%s (%s)",
	         dkim_check_pub_state_name(state), p->target);
}

#define PUB DKIM_CHECK_PUB_PUBLISHED
#define NOT DKIM_CHECK_PUB_NOT_PUBLISHED
#define OTH DKIM_CHECK_PUB_OTHER_KEY
#define MAL DKIM_CHECK_PUB_MALFORMED
#define TMP DKIM_CHECK_PUB_TEMPERROR
#define S_ACT DKIM_CHECK_SIGN_ACTIVE
#define S_FB DKIM_CHECK_SIGN_FALLBACK
#define S_UNV DKIM_CHECK_SIGN_UNVERIFIED
#define S_NONE DKIM_CHECK_SIGN_NONE

/* One decision case: the active selector's state, the other's. */
struct sign_case {
	enum dkim_check_pub_state active, other;
	enum dkim_check_sign how;
	int signs_active; /* 1: the active selector; 0: the other; -1: none */
};

/* Every combination of the active and the other selector's state. */
static const struct sign_case sign_cases[] = {
    {PUB, PUB, S_ACT, 1},   {PUB, NOT, S_ACT, 1},   {PUB, OTH, S_ACT, 1},
    {PUB, MAL, S_ACT, 1},   {PUB, TMP, S_ACT, 1},   {NOT, PUB, S_FB, 0},
    {NOT, NOT, S_NONE, -1}, {NOT, OTH, S_NONE, -1}, {NOT, MAL, S_NONE, -1},
    {NOT, TMP, S_NONE, -1}, {OTH, PUB, S_FB, 0},    {OTH, NOT, S_NONE, -1},
    {OTH, OTH, S_NONE, -1}, {OTH, MAL, S_NONE, -1}, {OTH, TMP, S_NONE, -1},
    {MAL, PUB, S_FB, 0},    {MAL, NOT, S_NONE, -1}, {MAL, OTH, S_NONE, -1},
    {MAL, MAL, S_NONE, -1}, {MAL, TMP, S_NONE, -1}, {TMP, PUB, S_FB, 0},
    {TMP, NOT, S_UNV, 1},   {TMP, OTH, S_UNV, 1},   {TMP, MAL, S_UNV, 1},
    {TMP, TMP, S_UNV, 1},
};

/* check_decision - one combination with a given active selector */
static void
check_decision(const struct config *c, size_t act, const struct sign_case *s)
{
	struct dkim_check_published pub[2];
	struct dkim_check_signing d;
	size_t other = 1 - act;

	fake_pub(&pub[act], c->dkim_selectors[act].name, s->active);
	fake_pub(&pub[other], c->dkim_selectors[other].name, s->other);
	dkim_check_signing(c, pub, &d);
	if (d.how != s->how)
		fail_msg("active %s, other %s: %s, expected %s (%s)",
		         dkim_check_pub_state_name(s->active),
		         dkim_check_pub_state_name(s->other),
		         dkim_check_sign_name(d.how),
		         dkim_check_sign_name(s->how), d.reason);
	if (s->signs_active < 0) {
		assert_string_equal(d.selector, "");
		return;
	}
	assert_int_equal(d.index, s->signs_active ? act : other);
	assert_string_equal(d.selector, c->dkim_selectors[d.index].name);
}

/* test_signing_table - all 25 combinations, with a and with b active */
static void
test_signing_table(void **state)
{
	struct config *with_b = make_config("prezent-b", "");

	(void) state;
	for (size_t i = 0; i < sizeof(sign_cases) / sizeof(sign_cases[0]);
	     i++) {
		check_decision(cfg, 0, &sign_cases[i]);
		check_decision(with_b, 1, &sign_cases[i]);
	}
	config_release(with_b);
}

/* test_signing_reasons - the reason texts of the four outcomes */
static void
test_signing_reasons(void **state)
{
	struct dkim_check_published pub[2];
	struct dkim_check_signing d;

	(void) state;
	fake_pub(&pub[0], "prezent-a", PUB);
	fake_pub(&pub[1], "prezent-b", NOT);
	dkim_check_signing(cfg, pub, &d);
	assert_string_equal(d.reason, "dkim_sign=active (prezent-a: key "
	                              "published at _dkim-a.prezent.nl)");
	fake_pub(&pub[0], "prezent-a", NOT);
	fake_pub(&pub[1], "prezent-b", PUB);
	dkim_check_signing(cfg, pub, &d);
	assert_string_equal(d.reason,
	                    "dkim_sign=fallback (prezent-b instead of the "
	                    "active prezent-a: dkim_key=not_published "
	                    "(_dkim-a.prezent.nl))");
	fake_pub(&pub[0], "prezent-a", TMP);
	fake_pub(&pub[1], "prezent-b", OTH);
	dkim_check_signing(cfg, pub, &d);
	assert_string_equal(d.reason,
	                    "dkim_sign=unverified (prezent-a, not checked: "
	                    "dkim_key=temperror (_dkim-a.prezent.nl))");
	fake_pub(&pub[0], "prezent-a", MAL);
	fake_pub(&pub[1], "prezent-b", OTH);
	dkim_check_signing(cfg, pub, &d);
	assert_string_equal(d.reason,
	                    "dkim_sign=none (no selector's key is published: "
	                    "prezent-a malformed, prezent-b other_key)");
}

/* test_signing_three - fallback is the first published, config order */
static void
test_signing_three(void **state)
{
	struct dkim_check_published pub[3];
	struct dkim_check_signing d;

	(void) state;
	fake_pub(&pub[0], "prezent-a", NOT);
	fake_pub(&pub[1], "prezent-b", PUB);
	fake_pub(&pub[2], "prezent-e", NOT);
	dkim_check_signing(cfg_ed, pub, &d); /* active: prezent-e */
	assert_int_equal(d.how, S_FB);
	assert_string_equal(d.selector, "prezent-b");
	fake_pub(&pub[0], "prezent-a", PUB);
	dkim_check_signing(cfg_ed, pub, &d);
	assert_int_equal(d.how, S_FB);
	assert_int_equal(d.index, 0);
	fake_pub(&pub[2], "prezent-e", PUB);
	dkim_check_signing(cfg_ed, pub, &d);
	assert_int_equal(d.how, S_ACT);
	assert_int_equal(d.index, 2);
}

/* test_provider_run - the checks and the decision in one call */
static void
test_provider_run(void **state)
{
	const struct keys_key *keys[] = {key_a, key_b};
	struct dkim_check_provider *p;

	(void) state;
	load_dns((const struct fake_rec[]){R(TA, TXT, 300, "@A@"),
	                                   R(TB, TXT, 300, "@B@"), END});
	p = dkim_check_provider_run(dns, cfg, keys, 0);
	assert_int_equal(p->n, 2);
	assert_int_equal(p->pub[0].state, PUB);
	assert_int_equal(p->pub[1].state, PUB);
	assert_int_equal(p->signing.how, S_ACT);
	assert_string_equal(p->signing.selector, "prezent-a");
	dkim_check_provider_free(p);
	load_dns((const struct fake_rec[]){R(TA, TXT, 300, "@B@"),
	                                   R(TB, TXT, 300, "@B@"), END});
	p = dkim_check_provider_run(dns, cfg, keys, 0);
	assert_int_equal(p->pub[0].state, OTH);
	assert_int_equal(p->signing.how, S_FB);
	assert_string_equal(p->signing.selector, "prezent-b");
	dkim_check_provider_free(p);
	dkim_check_provider_free(NULL);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
	    cmocka_unit_test(test_invalid_domain),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_summary),
	    cmocka_unit_test(test_domain),
	    cmocka_unit_test(test_concurrent),
	    cmocka_unit_test(test_signing_table),
	    cmocka_unit_test(test_signing_reasons),
	    cmocka_unit_test(test_signing_three),
	    cmocka_unit_test(test_provider_run),
	};
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]), n = 0;
	struct CMUnitTest *tests =
	    xcalloc(N_SEL_CASES + N_PUB_CASES + nfixed, sizeof(*tests));
	int rc;

	for (size_t i = 0; i < N_SEL_CASES; i++, n++) {
		tests[n].name = sel_cases[i].what;
		tests[n].test_func = run_sel_case;
		tests[n].initial_state = (void *) &sel_cases[i];
	}
	for (size_t i = 0; i < N_PUB_CASES; i++, n++) {
		tests[n].name = pub_cases[i].what;
		tests[n].test_func = run_pub_case;
		tests[n].initial_state = (void *) &pub_cases[i];
	}
	for (size_t i = 0; i < nfixed; i++)
		tests[n++] = fixed[i];
	rc = _cmocka_run_group_tests("dkim_check", tests, n, setup, teardown);
	free(tests);
	return rc;
}
