/*
 * probe_msg - the sample message and the milter's edits applied to it.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "probe_msg.h"
#include "util.h"

/* probe_msg_insert - a field at index i (i == n: appended) */
static void
probe_msg_insert(struct probe_msg *m, size_t i, const char *name,
                 const char *value)
{
	m->field = xrealloc(m->field, (m->n + 1) * sizeof(*m->field));
	memmove(&m->field[i + 1], &m->field[i], (m->n - i) * sizeof(*m->field));
	m->field[i].name = xstrdup(name);
	m->field[i].value = xstrdup(value);
	m->n++;
}

/* probe_msg_remove - drop field i */
static void
probe_msg_remove(struct probe_msg *m, size_t i)
{
	free(m->field[i].name);
	free(m->field[i].value);
	memmove(&m->field[i], &m->field[i + 1],
	        (m->n - i - 1) * sizeof(*m->field));
	m->n--;
}

/* probe_msg_find - the index of the nth (1-based) field name; n: none */
static size_t
probe_msg_find(const struct probe_msg *m, const char *name, unsigned nth)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcasecmp(m->field[i].name, name) == 0 && --nth == 0)
			return i;
	return m->n;
}

/* probe_msg_date - an RFC 5322 date in UTC */
static void
probe_msg_date(int64_t now, char *buf, size_t size)
{
	time_t t = (time_t) now;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		util_strlcpy(buf, "Thu, 01 Jan 1970 00:00:00 +0000", size);
}

/* probe_msg_body - the body text, CRLF */
static void
probe_msg_body(struct probe_msg *m, const char *domain)
{
	m->body = xasprintf(
	    "This is a test message made by \"relaygatectl probe %s\".\r\n"
	    "\r\n"
	    "It was signed the way the relay signs mail from %s,\r\n"
	    "and checked the way receivers check it: the DKIM signature\r\n"
	    "through the domain's selector CNAME, SPF for the relay's\r\n"
	    "addresses, and DMARC.\r\n"
	    "\r\n"
	    "No reply is needed.\r\n",
	    domain, domain);
	m->body_len = strlen(m->body);
}

/* probe_msg_sample - the test message */
struct probe_msg *
probe_msg_sample(const char *domain, const char *sender, const char *to,
                 int64_t now)
{
	struct probe_msg *m = xcalloc(1, sizeof(*m));
	char date[64], *v;

	probe_msg_date(now, date, sizeof(date));
	v = xasprintf("relaygate probe <%s>", sender);
	probe_msg_insert(m, m->n, "From", v);
	free(v);
	probe_msg_insert(m, m->n, "To", to);
	v = xasprintf("relaygate probe for %s", domain);
	probe_msg_insert(m, m->n, "Subject", v);
	free(v);
	probe_msg_insert(m, m->n, "Date", date);
	v = xasprintf("<probe.%lld.%ld.%lld@%s>", (long long) now,
	              (long) getpid(), (long long) util_monotonic_ms(), domain);
	probe_msg_insert(m, m->n, "Message-ID", v);
	free(v);
	probe_msg_insert(m, m->n, "MIME-Version", "1.0");
	probe_msg_insert(m, m->n, "Content-Type",
	                 "text/plain; charset=us-ascii");
	probe_msg_insert(m, m->n, "Content-Transfer-Encoding", "7bit");
	probe_msg_body(m, domain);
	return m;
}

/*
 * probe_msg_edit - milter.c's order: remove the status headers (last
 * first, as smfi_chgheader indexes count), add the status header, change
 * or add the Subject, insert the signatures at the top.
 */
void
probe_msg_edit(struct probe_msg *m, const struct message_edits *e)
{
	size_t i;

	for (unsigned k = e->status_remove; k > 0; k--)
		if ((i = probe_msg_find(m, e->status_name, k)) < m->n)
			probe_msg_remove(m, i);
	if (e->status_value != NULL)
		probe_msg_insert(m, m->n, e->status_name, e->status_value);
	if (e->subject != NULL && e->subject_exists &&
	    (i = probe_msg_find(m, "Subject", 1)) < m->n) {
		free(m->field[i].value);
		m->field[i].value = xstrdup(e->subject);
	} else if (e->subject != NULL) {
		probe_msg_insert(m, m->n, "Subject", e->subject);
	}
	for (size_t s = MESSAGE_SIGNATURES; s-- > 0;)
		if (e->signature[s] != NULL)
			probe_msg_insert(m, 0, "DKIM-Signature",
			                 e->signature[s]);
}

/* probe_msg_put - text with every line end written as eol */
static void
probe_msg_put(FILE *f, const char *text, size_t len, const char *eol)
{
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
			continue;
		if (text[i] == '\n')
			fputs(eol, f);
		else
			fputc(text[i], f);
	}
}

/* probe_msg_text - the bytes on the wire */
char *
probe_msg_text(const struct probe_msg *m, int lf_only, size_t *len)
{
	const char *eol = lf_only ? "\n" : "\r\n";
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (f == NULL)
		panic("open_memstream failed");
	for (size_t i = 0; i < m->n; i++) {
		fprintf(f, "%s:%s", m->field[i].name,
		        m->field[i].value[0] == ' ' ||
		                m->field[i].value[0] == '\t'
		            ? ""
		            : " ");
		probe_msg_put(f, m->field[i].value, strlen(m->field[i].value),
		              eol);
		fputs(eol, f);
	}
	fputs(eol, f);
	probe_msg_put(f, m->body, m->body_len, eol);
	fclose(f);
	return text;
}

/* probe_msg_free - release a message */
void
probe_msg_free(struct probe_msg *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->field[i].name);
		free(m->field[i].value);
	}
	free(m->field);
	free(m->body);
	free(m);
}
