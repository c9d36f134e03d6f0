/*
 * test_config - the settings table: defaults, the reference file, every
 * kind of error with file and line, the dump round trip, snapshots.
 */

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
#include "log.h"
#include "util.h"

/* load - a config from text, asserting success */
static struct config *
load(const char *text)
{
	char why[1024] = "";
	struct config *cfg =
	    config_load_string(text, "t.conf", why, sizeof(why));

	if (cfg == NULL)
		fail_msg("expected to load, got: %s", why);
	return cfg;
}

/* load_error - the error text of a config that must not load */
static void
load_error(const char *text, char *why, size_t whylen)
{
	struct config *cfg = config_load_string(text, "t.conf", why, whylen);

	if (cfg != NULL)
		fail_msg("expected an error for: %s", text);
}

/* source_path - a file of the source tree */
static char *
source_path(const char *rel)
{
	const char *dir = getenv("RELAYGATE_SOURCE_DIR");

	assert_non_null(dir);
	return xasprintf("%s/%s", dir, rel);
}

/* The seed's values are the defaults. */
static void
test_defaults(void **state)
{
	struct config *cfg = load("");

	(void) state;
	assert_string_equal(cfg->socket, "unix:/run/relaygate/relaygate.sock");
	assert_int_equal(cfg->socket_mode, 0660);
	assert_string_equal(cfg->relay_spf_include, "spf.dmrmail.nl");
	assert_string_equal(cfg->dkim_active_selector, "prezent-a");
	assert_int_equal(cfg->dkim_nselectors, 2);
	assert_string_equal(cfg->dkim_selectors[0].name, "prezent-a");
	assert_string_equal(cfg->dkim_selectors[0].target,
	                    "_dkim-a.prezent.nl");
	assert_string_equal(cfg->dkim_selectors[1].name, "prezent-b");
	assert_string_equal(cfg->dkim_selectors[1].target,
	                    "_dkim-b.prezent.nl");
	assert_int_equal(cfg->resolver_source, CONFIG_RESOLVER_SYSTEM);
	assert_int_equal(cfg->resolver_timeout_ms, 3000);
	assert_int_equal(cfg->drain_timeout_ms, 30000);
	assert_int_equal(cfg->log_level, LOG_LEVEL_INFO);
	assert_int_equal(cfg->relay_addresses.n, 0);
	assert_string_equal(cfg->cache_name, "/relaygate");
	assert_int_equal(cfg->cache_capacity, 100000);
	assert_int_equal(cfg->cache_mode, 0640);
	assert_int_equal(cfg->cache_ttl_min_ms, 60000);
	assert_int_equal(cfg->cache_ttl_temp_ms, 30000);
	assert_int_equal(cfg->cache_max_stale_ms, 6 * 3600000);
	for (size_t i = 0; i < config_key_count(); i++)
		assert_false(config_key_in_file(cfg, i));
	config_release(cfg);
}

/*
 * conf/relaygate.conf sets every setting of the table, each to its
 * default; an unknown key in it would not load at all.
 */
static void
test_reference_file(void **state)
{
	char *path = source_path("conf/relaygate.conf");
	char why[1024];
	struct config *cfg = config_load(path, why, sizeof(why));
	FILE *null = fopen("/dev/null", "w");

	(void) state;
	if (cfg == NULL)
		fail_msg("%s", why);
	for (size_t i = 0; i < config_key_count(); i++)
		if (!config_key_in_file(cfg, i))
			fail_msg("conf/relaygate.conf lacks %s",
			         config_key_path(i));
	assert_int_equal(config_dump(cfg, null), 0);
	fclose(null);
	config_release(cfg);
	free(path);
}

struct error_case {
	const char *text;
	const char *expect; /* substring of the error */
};

/* Every kind of mistake names file, line and key. */
static void
test_errors(void **state)
{
	static const struct error_case cases[] = {
	    {"daemon: { sockett = \"unix:/x\"; };",
	     "t.conf:1: daemon.sockett: unknown setting (did you mean "
	     "daemon.socket?)"},
	    {"\n\ndeamon: { socket = \"unix:/x\"; };",
	     "t.conf:3: deamon: unknown setting"},
	    {"daemon = 5;", "t.conf:1: daemon: expected a group"},
	    {"log: {\n level = \"verbose\"; };",
	     "t.conf:2: log.level: \"verbose\" is not one of: error, "
	     "warning, notice, info, debug"},
	    {"log: { level = 3; };", "log.level: expected a string"},
	    {"daemon: { socket = 8891; };", "daemon.socket: expected a string"},
	    {"daemon: { socket = \"inet:8891\"; };",
	     "names no address to bind"},
	    {"daemon: { socket = \"unix:relative.sock\"; };",
	     "is not absolute"},
	    {"daemon: { socket = \"tcp:1@x\"; };", "is not unix:/PATH"},
	    {"daemon: { socket_mode = \"0999\"; };", "bad octal mode"},
	    {"daemon: { socket_mode = 660; };", "expected an octal string"},
	    {"daemon: { drain_timeout = \"5x\"; };", "bad duration \"5x\""},
	    {"daemon: { drain_timeout = \"2h\"; };",
	     "daemon.drain_timeout: \"2h\" is out of range"},
	    {"daemon: { drain_timeout = -1; };", "is out of range"},
	    {"resolver: { timeout = \"50ms\"; };", "is out of range"},
	    {"resolver: { forwarders = [ \"127.0.0.1@0\" ]; };", "bad port"},
	    {"resolver: { forwarders = [ \"dns.example\" ]; };",
	     "is not an IPv4 or IPv6 address"},
	    {"resolver: { forwarders = [ 1 ]; };", "item 1 is not a string"},
	    {"resolver: { forwarders = \"127.0.0.1\"; };",
	     "expected a list of strings"},
	    {"resolver: { source = \"forwarders\"; };",
	     "no forwarders are listed"},
	    {"relay: { addresses = [ \"192.0.2.1/24\" ]; };",
	     "is not an IPv4 or IPv6 address"},
	    {"relay: { addresses = [ \"127.0.0.2\" ]; };",
	     "relay.addresses: 127.0.0.2 is a loopback or unspecified"},
	    {"relay: { addresses = [ \"192.0.2.25\", \"::1\" ]; };",
	     "::1 is a loopback or unspecified"},
	    {"relay: { addresses = [ \"::ffff:127.0.0.1\" ]; };",
	     "is a loopback or unspecified"},
	    {"relay: { addresses = [ \"0.0.0.0\" ]; };",
	     "is a loopback or unspecified"},
	    {"relay: { spf_include = \"spf..example\"; };",
	     "relay.spf_include: empty label"},
	    {"dkim: { active_selector = \"prezent-c\"; };",
	     "dkim.active_selector: 'prezent-c' is not one of"},
	    {"dkim: { selectors = ( { name = \"a\"; target = \"t.example\"; "
	     "} ); active_selector = \"a\"; };",
	     "dkim.selectors.[0]: missing 'key'"},
	    {"dkim: { selectors = ( { name = \"a\"; target = \"t.example\"; "
	     "key = \"/k\"; colour = \"red\"; } ); };",
	     "dkim.selectors.[0]: unknown setting 'colour'"},
	    {"dkim: { selectors = ( { name = \"a\"; target = \"t.example\"; "
	     "key = \"/k\"; }, { name = \"A\"; target = \"u.example\"; "
	     "key = \"/l\"; } ); active_selector = \"a\"; };",
	     "selector 'A' is listed twice"},
	    {"dkim: { selectors = ( ); };",
	     "at least one selector is required"},
	    {"dkim: { selectors = ( \"a\" ); };",
	     "dkim.selectors.[0]: expected a group"},
	    {"daemon: { socket = ; };", "t.conf:1: syntax error"},
	    {"scope: { networks = [ \"10.0.0.0/33\" ]; };",
	     "is not a network like"},
	    {"scope: { networks = [ \"2001:db8::/129\" ]; };",
	     "is not a network like"},
	    {"scope: { outside = \"sign\"; };", "is not one of: pass, policy"},
	    {"policy: { temporary = \"reject\"; };",
	     "\"reject\" is not one of: tag, defer, monitor"},
	    {"policy: { multiple_from = \"defer\"; };",
	     "is not one of: tag, reject, monitor"},
	    {"policy: { enforce_from = \"2027-13-01\"; };",
	     "is not a date like"},
	    {"policy: { status_header = \"X Bad\"; };",
	     "is not a header field name"},
	    {"policy: { overrides = ( { domain = \"*.-x.nl\"; action = "
	     "\"tag\"; } ); };",
	     "policy.overrides.[0].domain"},
	    {"policy: { overrides = ( { domain = \"x.nl\"; } ); };",
	     "missing 'action'"},
	    {"policy: { overrides = ( { domain = \"x.nl\"; action = "
	     "\"sign\"; } ); };",
	     "is not one of: tag, defer, reject, monitor, exempt"},
	    {"daemon: { socket = \"unix:/x\"; socket = \"unix:/y\"; };",
	     "duplicate setting name"},
	    {"cache: { name = \"relaygate\"; };",
	     "cache.name: 'relaygate' is not a shared-memory name"},
	    {"cache: { name = \"/a/b\"; };", "is not a shared-memory name"},
	    {"cache: { capacity = 8; };", "cache.capacity: 8 is out of range"},
	    {"cache: { mode = \"0640x\"; };", "bad octal mode"},
	    {"cache: {\n ttl_min = \"10m\"; };",
	     "t.conf:2: cache.ttl_min: longer than cache.ttl_max or "
	     "cache.ttl_bad_max"},
	    {"cache: { ttl_temp = 0; };", "cache.ttl_temp: 0 is out of range"},
	};
	char why[1024];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why[0] = '\0';
		load_error(cases[i].text, why, sizeof(why));
		if (strstr(why, cases[i].expect) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, why,
			         cases[i].expect);
	}
}

/* A missing file and an error inside an @include name the right file. */
static void
test_file_errors(void **state)
{
	char dir[] = "/tmp/rgcfgXXXXXX";
	char why[1024];
	char *main_path, *inc_path;
	FILE *f;

	(void) state;
	assert_null(
	    config_load("/nonexistent/relaygate.conf", why, sizeof(why)));
	assert_string_equal(why, "/nonexistent/relaygate.conf: cannot open: "
	                         "No such file or directory");
	assert_non_null(mkdtemp(dir));
	main_path = xasprintf("%s/main.conf", dir);
	inc_path = xasprintf("%s/log.conf", dir);
	f = fopen(main_path, "w");
	fputs("@include \"log.conf\"\n", f);
	fclose(f);
	f = fopen(inc_path, "w");
	fputs("log: {\n\n  format = \"xml\";\n};\n", f);
	fclose(f);
	assert_null(config_load(main_path, why, sizeof(why)));
	if (strstr(why, "log.conf:3: log.format") == NULL)
		fail_msg("got: %s", why);
	unlink(inc_path);
	unlink(main_path);
	rmdir(dir);
	free(main_path);
	free(inc_path);
}

/* Durations in every accepted form, stored in milliseconds. */
static void
test_durations(void **state)
{
	static const struct {
		const char *text;
		int64_t ms;
	} cases[] = {
	    {"\"250ms\"", 250},   {"\"5s\"", 5000},    {"5", 5000},
	    {"\"1m30s\"", 90000}, {"\"1h\"", 3600000}, {"\"0s\"", 0},
	    {"\"1500ms\"", 1500}, {"\"7\"", 7000},
	};
	char text[128];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg;

		snprintf(text, sizeof(text), "daemon: { drain_timeout = %s; };",
		         cases[i].text);
		cfg = load(text);
		assert_int_equal(cfg->drain_timeout_ms, cases[i].ms);
		config_release(cfg);
	}
}

/*
 * The dump is valid configuration: loading it gives the same values, so
 * dumping again gives the same text; only non-defaults are marked.
 */
static void
test_dump_round_trip(void **state)
{
	const char *text =
	    "daemon: { socket = \"inet:8891@127.0.0.1\"; user = \"\"; "
	    "drain_timeout = \"59m1s\"; };\n"
	    "log: { format = \"JSON\"; facility = \"local3\"; };\n"
	    "relay: { addresses = [ \"192.0.2.25\", \"2001:db8::25\" ]; };\n"
	    "dkim: { active_selector = \"prezent-b\"; };\n";
	struct config *cfg = load(text), *again;
	char *dump1 = NULL, *dump2 = NULL;
	size_t len1 = 0, len2 = 0;
	FILE *out;
	char why[1024];

	(void) state;
	out = open_memstream(&dump1, &len1);
	assert_int_equal(config_dump(cfg, out), 7);
	fclose(out);
	assert_non_null(strstr(dump1, "\t# default: \"prezent-a\"\n"
	                              "\tactive_selector = \"prezent-b\";\n"));
	assert_non_null(strstr(dump1, "drain_timeout = \"59m1s\";"));
	assert_non_null(strstr(dump1, "format = \"json\";"));
	again = config_load_string(dump1, "dump", why, sizeof(why));
	if (again == NULL)
		fail_msg("dump does not load: %s", why);
	out = open_memstream(&dump2, &len2);
	assert_int_equal(config_dump(again, out), 7);
	fclose(out);
	/* Only the first line (the file name) differs. */
	assert_string_equal(strchr(dump1, '\n'), strchr(dump2, '\n'));
	free(dump1);
	free(dump2);
	config_release(again);
	config_release(cfg);
}

/* A snapshot held by a session survives publishing a new one. */
static void
test_snapshots(void **state)
{
	struct config *a = load("log: { level = \"debug\"; };");
	struct config *b = load("log: { level = \"error\"; };");
	struct config *held;

	(void) state;
	config_publish(a);
	held = config_acquire();
	assert_ptr_equal(held, a);
	config_publish(b);
	assert_int_equal(held->log_level, LOG_LEVEL_DEBUG);
	config_release(held);
	held = config_acquire();
	assert_ptr_equal(held, b);
	config_release(held);
	config_publish(NULL);
	assert_null(config_acquire());
}

/* Restart-only settings are reported; others are not. */
static void
test_restart_changes(void **state)
{
	struct config *a = load("");
	struct config *b = load("daemon: { socket = \"unix:/tmp/x.sock\"; "
	                        "user = \"nobody\"; }; log: { level = "
	                        "\"debug\"; };");
	char buf[256];

	(void) state;
	assert_int_equal(config_restart_changes(a, a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(config_restart_changes(a, b, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "daemon.socket,daemon.user");
	config_release(a);
	config_release(b);
}

/* Dates are UTC midnights; "" and nonsense are 0. */
static void
test_dates(void **state)
{
	(void) state;
	assert_int_equal(config_date("1970-01-02"), 86400);
	assert_int_equal(config_date("2027-01-31"), 1801353600);
	assert_int_equal(config_date(""), 0);
	assert_int_equal(config_date("2027-1-31x"), 0);
	assert_int_equal(config_date("31-01-2027"), 0);
}

/* An exact override wins over "*.", the closest "*." over a farther
 * one; an expired override no longer applies. */
static void
test_overrides(void **state)
{
	struct config *cfg =
	    load("policy: { overrides = ( "
	         "{ domain = \"*.example.nl\"; action = \"monitor\"; }, "
	         "{ domain = \"*.shop.example.nl\"; action = \"exempt\"; }, "
	         "{ domain = \"example.nl\"; action = \"reject\"; }, "
	         "{ domain = \"old.nl\"; action = \"tag\"; "
	         "expires = \"2020-01-01\"; } ); };");
	const struct config_override *o;
	int64_t now = config_date("2026-11-22");

	(void) state;
	o = config_override_find(cfg, "example.nl", now);
	assert_non_null(o);
	assert_int_equal(o->action, CONFIG_ACTION_REJECT);
	o = config_override_find(cfg, "mail.example.nl", now);
	assert_non_null(o);
	assert_int_equal(o->action, CONFIG_ACTION_MONITOR);
	o = config_override_find(cfg, "a.shop.example.nl", now);
	assert_non_null(o);
	assert_int_equal(o->action, CONFIG_ACTION_EXEMPT);
	assert_null(config_override_find(cfg, "notexample.nl", now));
	assert_null(config_override_find(cfg, "old.nl", now));
	assert_non_null(
	    config_override_find(cfg, "old.nl", config_date("2019-12-31")));
	assert_string_equal(config_action_name(o->action), "exempt");
	config_release(cfg);
}

/* The overrides file: entries count like configured ones; a bad line is
 * an error naming file and line; the dump does not show file entries. */
static void
test_overrides_file(void **state)
{
	char path[] = "/tmp/rgovrXXXXXX", why[512], text[256];
	int fd = mkstemp(path);
	struct config *cfg;
	FILE *f = fdopen(fd, "w");
	char *dump = NULL;
	size_t len = 0;
	FILE *out;

	(void) state;
	fputs("# customers on notice\n\nlate.nl defer 2099-01-01\n"
	      "*.lab.nl   exempt   # the lab\n",
	      f);
	fclose(f);
	snprintf(text, sizeof(text), "policy: { overrides_file = \"%s\"; };",
	         path);
	cfg = load(text);
	assert_non_null(config_override_find(cfg, "x.lab.nl", 0));
	assert_int_equal(config_override_find(cfg, "late.nl", 0)->action,
	                 CONFIG_ACTION_DEFER);
	out = open_memstream(&dump, &len);
	config_dump(cfg, out);
	fclose(out);
	assert_null(strstr(dump, "late.nl"));
	free(dump);
	config_release(cfg);
	f = fopen(path, "a");
	fputs("bad.nl sign\n", f);
	fclose(f);
	assert_null(config_load_string(text, "t.conf", why, sizeof(why)));
	snprintf(text, sizeof(text), "%s:5: 'sign' is not tag", path);
	if (strstr(why, text) == NULL)
		fail_msg("got: %s", why);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_reference_file),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_file_errors),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_dump_round_trip),
	    cmocka_unit_test(test_snapshots),
	    cmocka_unit_test(test_restart_changes),
	    cmocka_unit_test(test_dates),
	    cmocka_unit_test(test_overrides),
	    cmocka_unit_test(test_overrides_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
