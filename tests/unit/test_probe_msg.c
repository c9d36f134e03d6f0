/*
 * test_probe_msg - the sample message of relaygatectl probe and the
 * milter's header edits applied to it as the MTA applies them (milter.c's
 * order, libmilter's indexes): incoming status headers removed, the
 * status header appended, the Subject changed or added, signatures on
 * top with the first one first; and the text on the wire, CRLF or LF.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probe_msg.h"

#define STATUS "X-Relaygate-Status"

/* The fields of a message as "Name: value" lines, LF, in buf. */
static const char *
fields(const struct probe_msg *m, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < m->n; i++)
		n += (size_t) snprintf(buf + n, size - n, "%s: %s\n",
		                       m->field[i].name, m->field[i].value);
	return buf;
}

/* The sample: the fields in order, the body CRLF, the sender in From. */
static void
test_sample(void **state)
{
	struct probe_msg *m =
	    probe_msg_sample("example.nl", "info@example.nl", "a@b.test", 0);
	char buf[2048];

	(void) state;
	fields(m, buf, sizeof(buf));
	assert_non_null(strstr(buf, "From: relaygate probe <info@example.nl>\n"
	                            "To: a@b.test\n"
	                            "Subject: relaygate probe for example.nl\n"
	                            "Date: Thu, 01 Jan 1970 00:00:00 +0000\n"
	                            "Message-ID: <probe.0."));
	assert_non_null(strstr(buf, "@example.nl>\nMIME-Version: 1.0\n"));
	assert_int_equal(m->body_len, strlen(m->body));
	assert_non_null(strstr(m->body, "relaygatectl probe example.nl"));
	for (size_t i = 0; i < m->body_len; i++)
		if (m->body[i] == '\n')
			assert_true(i > 0 && m->body[i - 1] == '\r');
	probe_msg_free(m);
}

/*
 * Every edit: two incoming status headers removed, one appended, the
 * Subject changed in place, two signatures on top, the first first.
 */
static void
test_edits(void **state)
{
	struct probe_msg *m = probe_msg_sample("e.nl", "p@e.nl", "p@e.nl", 0);
	struct message_edits e = {
	    .status_name = STATUS,
	    .status_remove = 2,
	    .status_value = "partial; dkim=missing",
	    .subject = "[DKIM] relaygate probe for e.nl",
	    .subject_exists = 1,
	    .signature = {"v=1; s=prezent-a", "v=1; s=prezent-ea"},
	};
	char buf[4096];

	(void) state;
	/* two forged copies arrive with the message */
	m->field = realloc(m->field, (m->n + 2) * sizeof(*m->field));
	m->field[m->n].name = strdup("x-relaygate-status");
	m->field[m->n++].value = strdup("configured; forged");
	m->field[m->n].name = strdup(STATUS);
	m->field[m->n++].value = strdup("configured; forged too");
	probe_msg_edit(m, &e);
	fields(m, buf, sizeof(buf));
	assert_null(strstr(buf, "forged"));
	assert_true(strncmp(buf,
	                    "DKIM-Signature: v=1; s=prezent-a\n"
	                    "DKIM-Signature: v=1; s=prezent-ea\n"
	                    "From: ",
	                    strlen("DKIM-Signature: v=1; s=prezent-a\n"
	                           "DKIM-Signature: v=1; s=prezent-ea\n"
	                           "From: ")) == 0);
	assert_non_null(strstr(buf, "\nSubject: [DKIM] relaygate probe for "
	                            "e.nl\nDate: "));
	assert_non_null(
	    strstr(buf, "7bit\n" STATUS ": partial; dkim=missing\n"));
	probe_msg_free(m);
}

/* A Subject that was not there is appended; no edits change nothing. */
static void
test_subject_added(void **state)
{
	struct probe_msg *m = probe_msg_sample("e.nl", "p@e.nl", "p@e.nl", 0);
	struct message_edits none = {.status_name = STATUS};
	struct message_edits e = {.status_name = STATUS,
	                          .subject = "[SPF] (no subject)"};
	char before[2048], after[2048];
	size_t n;

	(void) state;
	fields(m, before, sizeof(before));
	probe_msg_edit(m, &none);
	assert_string_equal(fields(m, after, sizeof(after)), before);
	for (n = 0; strcmp(m->field[n].name, "Subject") != 0; n++)
		;
	free(m->field[n].name);
	free(m->field[n].value);
	memmove(&m->field[n], &m->field[n + 1],
	        (m->n - n - 1) * sizeof(*m->field));
	m->n--;
	probe_msg_edit(m, &e);
	assert_string_equal(m->field[m->n - 1].name, "Subject");
	assert_string_equal(m->field[m->n - 1].value, "[SPF] (no subject)");
	probe_msg_free(m);
}

/* On the wire: "Name: value", folds and line ends as asked. */
static void
test_text(void **state)
{
	static const char top[] =
	    "DKIM-Signature: v=1; a=rsa-sha256;\r\n\tb=abc\r\n"
	    "From: relaygate probe <p@e.nl>\r\n";
	struct probe_msg *m = probe_msg_sample("e.nl", "p@e.nl", "p@e.nl", 0);
	struct message_edits e = {.status_name = STATUS,
	                          .signature = {"v=1; a=rsa-sha256;\n\tb=abc"}};
	size_t clen, llen, crs = 0;
	char *crlf, *lf;

	(void) state;
	probe_msg_edit(m, &e);
	crlf = probe_msg_text(m, 0, &clen);
	lf = probe_msg_text(m, 1, &llen);
	assert_int_equal(clen, strlen(crlf));
	assert_memory_equal(crlf, top, sizeof(top) - 1);
	assert_non_null(strstr(crlf, "7bit\r\n\r\nThis is a test message"));
	assert_null(strchr(lf, '\r'));
	for (size_t i = 0; i < clen; i++)
		crs += crlf[i] == '\r';
	assert_int_equal(clen - crs, llen); /* every CRLF became one LF */
	free(crlf);
	free(lf);
	probe_msg_free(m);
	probe_msg_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sample),
	    cmocka_unit_test(test_edits),
	    cmocka_unit_test(test_subject_added),
	    cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
