/*
 * test_metrics - counting into the segment's metrics area from two handles
 * (two processes), the Prometheus text made of it (exact samples, the
 * histogram cumulative and consistent, HELP and TYPE before each family),
 * nothing counted through a read-only handle or a NULL one, and the
 * listener's address grammar with its loopback rule.
 */

#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"
#include "metrics_http.h"
#include "metrics_prom.h"
#include "policy.h"
#include "util.h"
#include "verdict.h"

#define T0 1700000000

struct fixture {
	char name[64];
	struct cache *c;
};

static int
setup(void **state)
{
	static int n;
	struct fixture *fx = xcalloc(1, sizeof(*fx));
	char why[256];

	snprintf(fx->name, sizeof(fx->name), "/rg-test-metrics-%d-%d",
	         (int) getpid(), n++);
	fx->c = cache_open(fx->name, 64, 0600, (gid_t) -1, 0, why, sizeof(why));
	if (fx->c == NULL) {
		fprintf(stderr, "setup: %s\n", why);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	cache_close(fx->c);
	shm_unlink(fx->name);
	free(fx);
	return 0;
}

/* render - the Prometheus text of the segment */
static char *
render(struct cache *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	metrics_prom_write(c, f);
	assert_int_equal(fclose(f), 0);
	return text;
}

/* has_line - does text hold exactly this line? */
static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

/* expect_line - fail with the text when a line is missing */
static void
expect_line(const char *text, const char *line)
{
	if (!has_line(text, line))
		fail_msg("no line \"%s\" in:\n%s", line, text);
}

/* put - a verdict of this state for domain */
static void
put(struct cache *c, const char *domain, int state)
{
	struct verdict v;
	unsigned char buf[VERDICT_ENCODED_MAX];
	struct cache_verdict cv = {buf,        0,   (unsigned) state,
	                           CACHE_GOOD, 100, 0};

	memset(&v, 0, sizeof(v));
	v.version = VERDICT_VERSION;
	v.state = (uint8_t) state;
	cv.len = verdict_encode(&v, buf);
	assert_int_equal(cache_put(c, domain, &cv, T0, NULL), 0);
}

/* Counted values come out as samples, from every handle, summed. */
static void
test_counted_samples(void **state)
{
	struct fixture *fx = *state;
	struct cache *other =
	    cache_open(fx->name, 0, 0, (gid_t) -1, CACHE_ATTACH, NULL, 0);
	struct metrics *a = metrics_open(fx->c), *b = metrics_open(other);
	char *text;

	metrics_message(a, POLICY_SIGN);
	metrics_message(b, POLICY_SIGN);
	metrics_message(b, POLICY_DEFER);
	metrics_message(b, 99); /* ignored */
	metrics_check(a, VERDICT_PARTIAL);
	metrics_check(NULL, VERDICT_PARTIAL); /* nowhere */
	metrics_dns(a, METRICS_DNS_OK, 0, 700);
	metrics_dns(b, METRICS_DNS_NXDOMAIN, 0, 3000);
	metrics_dns(a, METRICS_DNS_TEMPFAIL, 1, 20000000);
	put(fx->c, "a.test", VERDICT_CONFIGURED);
	put(fx->c, "b.test", VERDICT_UNCONFIGURED);
	cache_count(fx->c, "h.test", 1, T0); /* history only */
	cache_get(fx->c, "a.test", T0, NULL);
	cache_get(fx->c, "zz.test", T0, NULL);
	text = render(fx->c);
	expect_line(text, "relaygate_messages_total{action=\"sign\"} 2");
	expect_line(text, "relaygate_messages_total{action=\"defer\"} 1");
	expect_line(text, "relaygate_messages_total{action=\"reject\"} 0");
	expect_line(text, "relaygate_checks_total{result=\"partial\"} 1");
	expect_line(text, "relaygate_dns_queries_total{outcome=\"ok\"} 1");
	expect_line(text,
	            "relaygate_dns_queries_total{outcome=\"nxdomain\"} 1");
	expect_line(text,
	            "relaygate_dns_queries_total{outcome=\"tempfail\"} 1");
	expect_line(text, "relaygate_dns_timeouts_total 1");
	expect_line(text, "relaygate_dns_query_duration_seconds_bucket"
	                  "{le=\"0.000500\"} 0");
	expect_line(text, "relaygate_dns_query_duration_seconds_bucket"
	                  "{le=\"0.001000\"} 1");
	expect_line(text, "relaygate_dns_query_duration_seconds_bucket"
	                  "{le=\"0.002500\"} 1");
	expect_line(text, "relaygate_dns_query_duration_seconds_bucket"
	                  "{le=\"0.005000\"} 2");
	expect_line(text, "relaygate_dns_query_duration_seconds_bucket"
	                  "{le=\"10.000000\"} 2");
	expect_line(text, "relaygate_dns_query_duration_seconds_bucket"
	                  "{le=\"+Inf\"} 3");
	expect_line(text, "relaygate_dns_query_duration_seconds_sum 20.003700");
	expect_line(text, "relaygate_dns_query_duration_seconds_count 3");
	expect_line(text, "relaygate_cache_lookups_total{result=\"hit\"} 1");
	expect_line(text, "relaygate_cache_lookups_total{result=\"miss\"} 1");
	expect_line(text, "relaygate_cache_entries 3");
	expect_line(text, "relaygate_cache_capacity 64");
	expect_line(text, "relaygate_domains{state=\"configured\"} 1");
	expect_line(text, "relaygate_domains{state=\"unconfigured\"} 1");
	expect_line(text, "relaygate_domains{state=\"partial\"} 0");
	expect_line(text, "relaygate_domains{state=\"none\"} 1");
	free(text);
	metrics_close(a);
	metrics_close(b);
	cache_close(other);
}

/* A read-only handle (relaygatectl) reads, and counts nothing. */
static void
test_readonly_counts_nothing(void **state)
{
	struct fixture *fx = *state;
	struct cache *ro =
	    cache_open(fx->name, 0, 0, (gid_t) -1, CACHE_READONLY, NULL, 0);
	struct metrics *m = metrics_open(ro);
	struct metrics_values v;

	metrics_message(m, POLICY_TAG);
	metrics_dns(m, METRICS_DNS_OK, 0, 10);
	metrics_read(ro, &v);
	assert_int_equal(v.messages[POLICY_TAG], 0);
	assert_int_equal(v.dns[METRICS_DNS_OK], 0);
	metrics_close(m);
	cache_close(ro);
}

/*
 * The shape of the text: every family announced by HELP then TYPE, each
 * sample line "name{labels} value" of an announced family.
 */
static void
test_text_shape(void **state)
{
	struct fixture *fx = *state;
	char *text = render(fx->c), *save = NULL, *family = NULL;
	regex_t sample;
	int samples = 0;

	assert_int_equal(regcomp(&sample,
	                         "^([a-z_]+)(\\{[a-z]+=\"[^\"]*\"\\})? "
	                         "[0-9]+(\\.[0-9]+)?$",
	                         REG_EXTENDED),
	                 0);
	assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	for (char *l = strtok_r(text, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		regmatch_t m[2];

		if (strncmp(l, "# HELP ", 7) == 0) {
			free(family);
			family = xstrndup(l + 7, strcspn(l + 7, " "));
			continue;
		}
		if (strncmp(l, "# TYPE ", 7) == 0) {
			assert_non_null(family);
			assert_int_equal(strncmp(l + 7, family, strlen(family)),
			                 0);
			continue;
		}
		if (regexec(&sample, l, 2, m, 0) != 0)
			fail_msg("not a sample line: %s", l);
		assert_non_null(family);
		assert_int_equal(strncmp(l, family, strlen(family)), 0);
		samples++;
	}
	assert_true(samples > 30);
	free(family);
	regfree(&sample);
	free(text);
}

/* metrics.listen: numeric address and port; loopback or not. */
static void
test_listen_addresses(void **state)
{
	static const struct {
		const char *spec;
		int valid, loopback;
	} cases[] = {
	    {"127.0.0.1:9787", 1, 1},
	    {"127.1.2.3:1", 1, 1},
	    {"[::1]:9787", 1, 1},
	    {"[::ffff:127.0.0.1]:9787", 1, 1},
	    {"192.0.2.1:9787", 1, 0},
	    {"0.0.0.0:9787", 1, 0},
	    {"[::]:9787", 1, 0},
	    {"[2001:db8::1]:80", 1, 0},
	    {"", 1, 0},
	    {"127.0.0.1", 0, 0},
	    {"127.0.0.1:", 0, 0},
	    {"127.0.0.1:0", 0, 0},
	    {"127.0.0.1:65536", 0, 0},
	    {"127.0.0.1:97x", 0, 0},
	    {"localhost:9787", 0, 0},
	    {"::1:9787", 0, 0},
	    {"[::1:9787", 0, 0},
	    {":9787", 0, 0},
	};
	char why[256];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = metrics_http_check(cases[i].spec, why, sizeof(why));

		if ((rc == 0) != cases[i].valid)
			fail_msg("%s: valid %d, expected %d (%s)",
			         cases[i].spec, rc == 0, cases[i].valid, why);
		assert_int_equal(metrics_http_loopback(cases[i].spec),
		                 cases[i].loopback);
	}
}

/* The loopback rule is the configuration's: metrics.allow_remote. */
static void
test_listen_config(void **state)
{
	static const char sel[] =
	    "dkim: { selectors = ( { name = \"sa\"; target = \"_a.p.test\";\n"
	    "  key = \"/k/a.pem\"; } ); active_selector = \"sa\"; };\n";
	char text[1024], why[512];
	struct config *cfg;

	(void) state;
	snprintf(text, sizeof(text),
	         "%smetrics: { listen = \"192.0.2.1:9787\"; };\n", sel);
	assert_null(config_load_string(text, "t.conf", why, sizeof(why)));
	assert_non_null(strstr(why, "metrics.listen"));
	assert_non_null(strstr(why, "metrics.allow_remote"));
	snprintf(text, sizeof(text),
	         "%smetrics: { listen = \"192.0.2.1:9787\"; "
	         "allow_remote = true; };\n",
	         sel);
	cfg = config_load_string(text, "t.conf", why, sizeof(why));
	assert_non_null(cfg);
	config_release(cfg);
	snprintf(text, sizeof(text), "%smetrics: { listen = \"[::1]:80\"; };\n",
	         sel);
	cfg = config_load_string(text, "t.conf", why, sizeof(why));
	assert_non_null(cfg);
	assert_string_equal(cfg->metrics_listen, "[::1]:80");
	config_release(cfg);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_counted_samples),
	    T(test_readonly_counts_nothing),
	    T(test_text_shape),
	    cmocka_unit_test(test_listen_addresses),
	    cmocka_unit_test(test_listen_config),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
