/*
 * test_log - rendering of logfmt and JSON lines, quoting, truncation, the
 * level filter and optional fields.
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

#include "log.h"
#include "util.h"

struct render_case {
	enum log_format format;
	const char *kv[6];
	size_t npairs;
	const char *expect;
};

/* Quoting and escaping in both formats. */
static void
test_render(void **state)
{
	static const struct render_case cases[] = {
	    {LOG_FORMAT_LOGFMT,
	     {"event", "message", "action", "pass"},
	     2,
	     "level=info event=message action=pass"},
	    {LOG_FORMAT_LOGFMT,
	     {"msg", "two words", "empty", ""},
	     2,
	     "level=info msg=\"two words\" empty=\"\""},
	    {LOG_FORMAT_LOGFMT,
	     {"k", "a=b", "q", "say \"hi\"\\"},
	     2,
	     "level=info k=\"a=b\" q=\"say \\\"hi\\\"\\\\\""},
	    {LOG_FORMAT_LOGFMT,
	     {"k", "line1\nline2\t\x01"},
	     1,
	     "level=info k=\"line1\\nline2\\t\\u0001\""},
	    {LOG_FORMAT_JSON,
	     {"event", "message", "domain", "example.nl"},
	     2,
	     "{\"level\":\"info\",\"event\":\"message\",\"domain\":"
	     "\"example.nl\"}"},
	    {LOG_FORMAT_JSON,
	     {"msg", "a \"b\"\n"},
	     1,
	     "{\"level\":\"info\",\"msg\":\"a \\\"b\\\"\\n\"}"},
	};
	char buf[512];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		log_render(buf, sizeof(buf), cases[i].format, NULL,
		           LOG_LEVEL_INFO, cases[i].kv, cases[i].npairs);
		assert_string_equal(buf, cases[i].expect);
	}
}

/*
 * A line that does not fit is cut but stays well-formed: quoted values
 * are closed, JSON stays an object, and the line says it was cut.
 */
static void
test_truncation(void **state)
{
	char big[600], buf[256];
	const char *kv[4] = {"event", "x", "big", big};
	size_t len;

	(void) state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[10] = ' '; /* forces quoting */
	len = log_render(buf, sizeof(buf), LOG_FORMAT_LOGFMT, NULL,
	                 LOG_LEVEL_WARNING, kv, 2);
	assert_int_equal(len, strlen(buf));
	assert_true(len < sizeof(buf));
	assert_non_null(strstr(buf, "level=warning event=x big=\"aaaa"));
	assert_non_null(strstr(buf, "\" truncated=1"));
	len = log_render(buf, sizeof(buf), LOG_FORMAT_JSON, NULL,
	                 LOG_LEVEL_WARNING, kv, 2);
	assert_true(len < sizeof(buf));
	assert_non_null(strstr(buf, "\",\"truncated\":\"1\"}"));
	assert_int_equal(buf[0], '{');
	assert_int_equal(buf[len - 1], '}');
}

/* capture - run fn with stderr redirected; returns what it wrote */
static char *
capture(void (*fn)(void))
{
	char path[] = "/tmp/rglogXXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	char *text = xcalloc(1, 8192);

	assert_true(fd >= 0);
	dup2(fd, 2);
	fn();
	dup2(saved, 2);
	close(saved);
	assert_true(pread(fd, text, 8191, 0) >= 0);
	close(fd);
	unlink(path);
	return text;
}

/* emit_levels - one line per level, at level notice */
static void
emit_levels(void)
{
	struct log_settings s = {LOG_DEST_STDERR, 0, LOG_LEVEL_NOTICE,
	                         LOG_FORMAT_LOGFMT};

	log_setup(&s);
	log_debug("d %d", 1);
	log_info("i");
	log_notice("n");
	log_warning("w");
	log_error("e");
	log_event(LOG_LEVEL_NOTICE, "ev", "present", "yes", "absent",
	          (const char *) NULL, "after", "kept", (const char *) NULL);
}

/* The level filter; a NULL value leaves its pair out. */
static void
test_levels_and_optional_fields(void **state)
{
	char *text = capture(emit_levels);

	(void) state;
	assert_null(strstr(text, "msg=\"d 1\""));
	assert_null(strstr(text, "msg=i"));
	assert_non_null(strstr(text, " level=notice msg=n\n"));
	assert_non_null(strstr(text, " level=warning msg=w\n"));
	assert_non_null(strstr(text, " level=error msg=e\n"));
	assert_non_null(strstr(text, " level=notice event=ev present=yes "
	                             "after=kept\n"));
	assert_int_equal(strncmp(text, "ts=20", 5), 0);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_levels_and_optional_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
